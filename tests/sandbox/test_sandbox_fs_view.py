"""A run sees the machine through a filesystem view by allowlist: the interpreter and its
packages, the tutor package, system libraries, its own working directory; nothing else,
whatever its path or permissions. Hiding no longer depends on listing every copy."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import assert_recovered

from tutor.sandbox import fsview
from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"

# Tries every way to a file and says what it found, as JSON.
READ = '''
import json, os
found = {}
for path in PATHS:
    try:
        if os.path.isdir(path):
            found[path] = sorted(os.listdir(path))
        else:
            found[path] = open(path).read()[:200]
    except OSError as exc:
        found[path] = type(exc).__name__
print(json.dumps(found))
'''


def read_from_a_run(sandbox: SandboxClient, paths: list[str]) -> dict[str, object]:
    result = sandbox.run(RunRequest(code=f"PATHS = {paths!r}\n" + READ, inspect=False))
    assert result.status == "ok", result.error
    return json.loads(result.stdout)


@pytest.fixture
def course_copies() -> Iterator[Path]:
    """Copies of the lessons at paths nobody listed: one plain, one under a mode-700
    directory, made after the server started."""
    top = Path(f"/tmp/xyz-{secrets.token_hex(4)}")
    (top / "private").mkdir(parents=True)
    shutil.copytree(LESSONS, top / "lessons")
    shutil.copytree(LESSONS, top / "private" / "lessons")
    (top / "secret.md").write_text("SECRET reference solution\n")
    (top / "private" / "secret.md").write_text("SECRET reference solution\n")
    (top / "private").chmod(0o700)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_runs_live_in_the_view(sandbox: SandboxClient) -> None:
    sandbox.wait_ready()
    assert sandbox.fs_view
    result = sandbox.run(RunRequest(code="print(1)", inspect=False))
    assert "fs-view" in result.isolation


def test_a_copy_of_the_course_at_an_unlisted_path_is_unreadable(sandbox: SandboxClient, course_copies: Path) -> None:
    lesson = next(LESSONS.glob("*.md")).name
    paths = [str(course_copies / "secret.md"), str(course_copies / "private" / "secret.md"),
             str(course_copies / "lessons" / lesson), str(course_copies / "private" / "lessons" / lesson),
             str(course_copies), str(course_copies.parent)]
    found = read_from_a_run(sandbox, paths)
    assert all(found[p] == "FileNotFoundError" for p in paths[:5]), found
    assert course_copies.name not in found[str(course_copies.parent)]  # /tmp holds the work root only
    assert_recovered(sandbox)


def test_the_checkout_around_the_package_is_not_there(sandbox: SandboxClient) -> None:
    """The tutor package is lent alone: not its checkout's lessons, tests, git history."""
    paths = [str(REPO), str(LESSONS), str(REPO / ".git"), str(REPO / "tests"), str(REPO / "pyproject.toml"),
             str(REPO / "tutor")]
    found = read_from_a_run(sandbox, paths)
    assert set(found[str(REPO)]) <= {"tutor", ".venv"}, found
    assert all(found[p] == "FileNotFoundError" for p in paths[1:5]), found
    assert "sandbox" in found[str(REPO / "tutor")]


def test_lessons_nobody_asked_to_hide_are_not_there_either(course_copies: Path) -> None:
    """`tutor grade --lessons COPY` once hid only the given set: the shipped lessons stayed
    readable. With the view, a server that hides nothing still shows none of them."""
    with SandboxClient(device="cpu") as sandbox:
        found = read_from_a_run(sandbox, [str(LESSONS), str(course_copies / "lessons")])
    assert set(found.values()) == {"FileNotFoundError"}, found


def test_nothing_of_the_machine_beyond_the_allowlist(sandbox: SandboxClient) -> None:
    sandbox.wait_ready()
    assert sandbox.workroot is not None
    package = REPO / "tutor"
    allowed = {p.parts[1] for p in fsview.allowlist(package, sandbox.workroot)} | {"dev", "proc", "sys", "tmp"}
    found = read_from_a_run(sandbox, ["/", "/etc", "/dev", "/home", "/root", "/var", "/etc/shadow", "/../../etc/shadow"])
    assert set(found["/"]) <= allowed, found["/"]
    assert set(found["/etc"]) <= {Path(p).name for p in fsview.ETC_FILES}, found["/etc"]
    assert {"null", "zero", "urandom", "shm"} <= set(found["/dev"])
    for absent in ("/home", "/var", "/etc/shadow", "/../../etc/shadow"):
        assert found[absent] == "FileNotFoundError", (absent, found[absent])
    if isinstance(found["/root"], list):  # only the path down to the interpreter, if it lives there
        assert all((Path("/root") / name).is_dir() for name in found["/root"])


def test_runs_still_import_and_work(sandbox: SandboxClient) -> None:
    code = (
        "import fractions, statistics, zipfile, sqlite3, decimal, ctypes, subprocess, sys\n"
        "import numpy as np\n"
        "x = torch.randn(4, 3, requires_grad=True)\n"
        "(x @ torch.ones(3, 2)).sum().backward()\n"
        "print(x.grad.shape, np.arange(3).sum(), statistics.mean([1, 2, 3]))\n"
        "print(subprocess.run(['true']).returncode)\n"
        "open('out.txt', 'w').write('kept in the working directory')\n"
        "print(open('out.txt').read())\n"
        "print(open('/dev/urandom', 'rb').read(4).__len__(), open('/dev/null', 'w').write('x'))\n"
    )
    result = sandbox.run(RunRequest(code=code, inspect=False))
    assert result.status == "ok", result.error
    assert result.stdout.splitlines() == ["torch.Size([4, 3]) 3 2", "0", "kept in the working directory", "4 1"]
    task = sandbox.run(RunRequest(code="y = 1", task="tutor.sandbox.tasks:echo", params={"filename": "t.py"}))
    assert task.status == "ok" and task.data["names"] == ["y"], task.error
    assert_recovered(sandbox)


@pytest.mark.skipif(os.geteuid() != 0, reason="a normal user's run has capabilities inside its own user namespace")
def test_a_root_servers_run_holds_no_capability(sandbox: SandboxClient) -> None:
    code = ("fields = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
            "print(*(int(fields[k], 16) for k in ('CapInh', 'CapPrm', 'CapEff', 'CapAmb')))\n")
    result = sandbox.run(RunRequest(code=code, inspect=False))
    assert result.status == "ok", result.error
    assert result.stdout == "0 0 0 0\n"


def test_the_view_cannot_be_left(sandbox: SandboxClient) -> None:
    """No path leads back to the host's root: it is detached. A root server's run may
    not chroot at all; a normal user's run may, inside its user namespace, and the
    classic escape (chroot below the working directory, climb, chroot there) lands on
    the view's own root."""
    code = (
        "import os\n"
        "top = sorted(os.listdir('/'))\n"
        "print(sorted(os.listdir('/proc/1/root/')) == top)\n"
        "os.chdir('/')\ntry:\n    os.chroot('/tmp')\nexcept OSError as exc:\n    print(type(exc).__name__)\n"
        "else:\n    for _ in range(30):\n        os.chdir('..')\n    os.chroot('.')\n"
        "    print('escaped to the view', sorted(os.listdir('/')) == top)\n"
    )
    result = sandbox.run(RunRequest(code=code, inspect=False))
    assert result.status == "ok", result.error
    lines = result.stdout.splitlines()
    assert lines[0] == "True"  # pid 1 of the run's namespace is the run: its root is the view
    assert lines[1] == ("PermissionError" if os.geteuid() == 0 else "escaped to the view True")


def test_the_allowlist_never_lends_a_directory_holding_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHONPATH puts the checkout (and could put its parent, or /) on sys.path: those
    hold the lessons. An installed package's site-packages is lent whole."""
    import sysconfig

    monkeypatch.setattr("sys.path", [*__import__("sys").path, str(REPO), str(REPO.parent), "/", "/tmp"])
    lent = fsview.python_paths(REPO / "tutor")
    assert REPO / "tutor" in lent
    assert not any(path == REPO or REPO.is_relative_to(path) for path in lent), lent
    assert Path("/tmp") not in lent  # outside the installation: may hold anything
    site_packages = Path(sysconfig.get_paths()["purelib"])
    assert site_packages in fsview.python_paths(site_packages / "tutor")
