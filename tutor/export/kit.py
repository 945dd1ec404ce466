"""What every kit ships and runs: tutor's own source (so the engine can ``pip install``
it), the lessons it grades with, a manifest of the exercises and checks it grades (a
fixed list, whatever a submission holds), and the grading step the engines share.

The grading step runs inside the engine, in the kit's own Python: it grades the hand-in
as a class of one with ``tutor grade --batch`` in a child process (``python -I``: nothing
in the hand-in's folder or the environment can stand in for tutor), which finds each
exercise's file the way an LMS delivers it, and reads the student's JSON report back.
Each engine turns the :class:`Outcome` of every check of the manifest into its own
format; a hidden check's outcome carries only whether it passed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TypedDict, cast

import tutor
from tutor.lessons import Exercise, LessonSet
from tutor.textsafe import for_log, for_terminal

SOURCE_ROOT = Path(tutor.__file__).resolve().parent.parent
#: The torch the kits install: the version this tutor runs with here (the project tests
#: 2.13.0), its CPU build (grading needs no GPU).
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def _torch_version() -> str:
    try:
        return metadata.version("torch").split("+")[0]  # "2.13.0+cu126": the CPU build of 2.13.0
    except metadata.PackageNotFoundError:
        return "2.13.0"


TORCH_VERSION = _torch_version()
#: What a student sees of a hidden check that failed, anywhere, before or after grading.
HIDDEN_FAILED = "hidden check failed"
NOT_HANDED_IN = "not handed in"
#: A hand-in file larger than this is not read (an exercise's answer is a few KB).
MAX_FILE_BYTES = 1_000_000


class ManifestCheck(TypedDict):
    name: str
    points: float
    hidden: bool


class ManifestExercise(TypedDict):
    id: str
    lesson: str
    file: str
    title: str
    checks: list[ManifestCheck]


class Manifest(TypedDict):
    """The kit's fixed list: every exercise it grades and every check of each, in order."""

    version: int
    exercises: list[ManifestExercise]


def manifest(exercises: Sequence[Exercise]) -> Manifest:
    """The kit's list of ``exercises``, each with the file name it is handed in as."""
    return Manifest(version=1, exercises=[
        ManifestExercise(id=e.id, lesson=e.lesson_id, file=f"{e.short_id}.py", title=e.title,
                         checks=[ManifestCheck(name=c.name, points=c.points, hidden=c.hidden) for c in e.checks])
        for e in exercises])


def write_manifest(exercises: Sequence[Exercise], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest(exercises), indent=1) + "\n", encoding="utf-8")


def read_manifest(path: Path) -> Manifest:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), list):
        raise ValueError(f"{path}: not a tutor kit manifest")
    return cast(Manifest, data)  # written by write_manifest, shipped with the kit


#: The constraints file each kit installs tutor with (``pip install -c``).
CONSTRAINTS = "constraints.txt"
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def pinned_versions(root: str = "tutor") -> dict[str, str]:
    """The installed version of every package tutor needs at run time, its dependencies'
    dependencies included (torch aside: the kits pin its CPU build themselves), so that
    an engine's image grades with what this tutor was tested with. Markers other than
    extras are kept (a package one platform needs is pinned for all)."""
    found: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for requirement in dist.requires or []:
            spec, _, marker = requirement.partition(";")
            wanted = re.findall(r"extra\s*==\s*[\"']([^\"']+)[\"']", marker)
            if wanted and not set(wanted) & extras:
                continue
            match = _REQUIREMENT.match(spec)
            if match is None:
                continue
            dep = match.group(1)
            key = re.sub(r"[-_.]+", "-", dep).lower()
            dep_extras = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
            if key == "torch" or (key in found and not dep_extras):
                continue
            try:
                found[key] = metadata.version(dep)
            except metadata.PackageNotFoundError:
                continue
            todo.append((dep, dep_extras))
    return dict(sorted(found.items()))


def write_constraints(path: Path) -> None:
    lines = [f"{name}=={version}" for name, version in pinned_versions().items()]
    path.write_text("# The versions this tutor was exported with (pip install -c).\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")


_DATA_FILES = re.compile(r"^\[tool\.setuptools\.data-files\]\n.*?(?=^\[|\Z)", re.MULTILINE | re.DOTALL)


def kit_pyproject(text: str) -> str:
    """tutor's ``pyproject.toml`` for a kit: without its data files (the shipped lessons
    and their translations), which a kit never installs: it grades with the lessons it
    carries, and an engine's image holds no other lesson set, solutions and all."""
    out = _DATA_FILES.sub("", text)
    if "data-files" in tomllib.loads(out).get("tool", {}).get("setuptools", {}):
        raise ValueError("pyproject.toml: the data files could not be left out of the kit")
    return out


def copy_tutor_source(target: Path) -> None:
    """tutor's package and build files, without caches and without the shipped lessons,
    into ``target``, with the constraints file that pins what it installs."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "pyproject.toml").write_text(kit_pyproject((SOURCE_ROOT / "pyproject.toml").read_text(encoding="utf-8")),
                                           encoding="utf-8")
    shutil.copy2(SOURCE_ROOT / "README.md", target / "README.md")
    write_constraints(target / CONSTRAINTS)
    shutil.copytree(SOURCE_ROOT / "tutor", target / "tutor", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def lessons_of(lessons: LessonSet, exercises: Sequence[Exercise]) -> list[Path]:
    """The lesson files that hold ``exercises``, in the course's order."""
    wanted = {e.lesson_id for e in exercises}
    return [lesson.path for lesson in lessons.lessons if lesson.id in wanted]


def copy_lessons(lessons: LessonSet, target: Path, exercises: Sequence[Exercise] | None = None) -> None:
    """The lesson files (as the instructor wrote them, hidden checks and all) of
    ``exercises`` (default: all) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in lessons_of(lessons, exercises if exercises is not None else lessons.exercises()):
        shutil.copy2(path, target / path.name)


def write_script(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


# --- the grading step, run inside the engine ---------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One check of the manifest for one hand-in, as a student may see it."""

    exercise: str
    check: str
    hidden: bool
    points: float
    score: float
    passed: bool
    #: What the student reads: a hidden check's says only whether it passed.
    message: str


@dataclass(frozen=True)
class Graded:
    outcomes: list[Outcome]
    #: A note for the whole hand-in (tutor could not grade it), else "".
    problem: str = ""
    #: tutor's own output and every check's verdict in full (hidden ones too): for the
    #: instructor's log only, never for the student.
    log: str = ""


def _place(handin: Path, target: Path, upload: str | None, exercises: Sequence[ManifestExercise]) -> None:
    """The hand-in as one student's folder at ``target``: a copy of its tree (links stay
    links, which grading never follows), or, for an engine that takes one file per
    question (``upload``), that file where its exercise's file goes."""
    if upload is None:
        if handin.is_dir() and not handin.is_symlink():
            shutil.copytree(handin, target, symlinks=True)
        else:
            target.mkdir(parents=True)
        return
    target.mkdir(parents=True)
    source = handin / upload
    if source.is_file() and not source.is_symlink():
        with open(source, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) <= MAX_FILE_BYTES:
            for exercise in exercises:
                (target / exercise["lesson"]).mkdir(exist_ok=True)
                (target / exercise["lesson"] / exercise["file"]).write_bytes(data)


def grade_handin(lessons: Path, plan_path: Path, handin: Path, *, upload: str | None = None,
                 timeout: float = 1800) -> Graded:
    """Grade ``handin`` (a folder as the engine delivers it) with the lessons in
    ``lessons`` and return every check of the manifest at ``plan_path``, in order.

    The hand-in is graded as a class of one by ``tutor grade --batch`` in a child process
    (``python -I``, from a folder of its own): each exercise's file is found flat, in its
    lesson's folder, a folder or two down or in a zip; a BOM and a coding line are read as
    Python reads them; an unchanged starter is "not started"; no link is followed. A
    failure of tutor is every check's 0 with the reason, never an exception."""
    plan = read_manifest(plan_path)
    exercises = plan["exercises"]
    report: object = None
    log = ""
    with tempfile.TemporaryDirectory(prefix="tutor-kit-") as tmp:
        work = Path(tmp)
        _place(handin, work / "class" / "handin", upload, exercises)
        command = [sys.executable, "-I", "-m", "tutor", "grade", *[e["id"] for e in exercises],
                   "--batch", str(work / "class"), "--lessons", str(lessons), "--device", "cpu",
                   "--gradebook", str(work / "gradebook.json")]
        try:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, errors="replace",
                                  timeout=timeout, stdin=subprocess.DEVNULL)
            log = done.stdout + done.stderr
            path = work / "class-reports" / "handin.json"
            report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            log += f"\n{type(exc).__name__}: {exc}"
    reports = _reports_by_id(report)
    problem = "" if reports else "tutor could not grade this submission; the instructor's log says why"
    log += "".join(_verdicts(e["id"], reports.get(e["id"])) for e in exercises)
    return Graded([o for e in exercises for o in outcomes(e, reports.get(e["id"]), problem)], problem, log)


def _verdicts(exercise: str, report: dict[str, object] | None) -> str:
    """Every check's verdict of one exercise in full, for the instructor's log."""
    if report is None:
        return f"{exercise}: no report\n"
    lines = [f"{exercise}: {report.get('status')}: {report.get('message', '')}"]
    checks = report.get("checks")
    for check in checks if isinstance(checks, list) else []:
        if isinstance(check, dict) and check.get("status") != "pass":
            lines.append(f"  {check.get('name')}{' (hidden)' if check.get('hidden') else ''}: {check.get('status')}: "
                         f"{check.get('message', '')}")
    return for_log("\n".join(lines)) + "\n"


def _reports_by_id(report: object) -> dict[str, dict[str, object]]:
    exercises = report.get("exercises") if isinstance(report, dict) else None
    if not isinstance(exercises, list):
        return {}
    return {e["id"]: e for e in exercises if isinstance(e, dict) and isinstance(e.get("id"), str)}


#: How ``tutor grade`` says an exercise's file is missing.
_MISSING = "no solution file"


def outcomes(exercise: ManifestExercise, report: dict[str, object] | None, problem: str = "") -> list[Outcome]:
    """Every check of ``exercise`` in the manifest's order, from its part of a ``tutor
    grade --json`` report (``None``: no report); a hidden check says only whether it
    passed; text from the hand-in is made safe (``tutor.textsafe``)."""
    checks = report.get("checks") if report else None
    by_name = {c.get("name"): c for c in checks if isinstance(c, dict)} if isinstance(checks, list) else {}
    rules = by_name.get("rules")
    broken = isinstance(rules, dict) and rules.get("status") != "pass"
    message = report.get("message") if report else None
    said = message if isinstance(message, str) and message else "could not be graded"
    why = problem or (f"{NOT_HANDED_IN}: {said}" if said.startswith(_MISSING) else said)
    out = []
    for check in exercise["checks"]:
        result = by_name.get(check["name"])
        passed = isinstance(result, dict) and result.get("status") == "pass" and not broken
        if check["hidden"]:
            text = "hidden check passed" if passed else HIDDEN_FAILED if isinstance(result, dict) \
                else f"hidden check not run: {why}"
        elif passed:
            text = "passed"
        elif broken and isinstance(rules, dict):
            text = f"scores nothing: this answer breaks the exercise's rules: {rules.get('message', '')}"
        elif isinstance(result, dict):
            text = _visible_failure(result)
        else:
            text = why
        out.append(Outcome(exercise["id"], check["name"], check["hidden"], check["points"],
                           check["points"] if passed else 0.0, passed, for_terminal(text)))
    return out


def _visible_failure(result: dict[str, object]) -> str:
    lines = [str(result.get("message") or result.get("status") or "failed")]
    expected, got = result.get("expected"), result.get("got")
    if expected or got:
        lines += [f"expected: {expected}", f"got: {got}"]
    if isinstance(result.get("seed"), int):
        lines.append(f"seed: {result['seed']}")
    return "\n".join(lines)
