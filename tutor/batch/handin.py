"""A student's hand-in, found the way an LMS delivers it and read without trusting it.

A student is their folder and nothing else. The folder is walked through directory file
descriptors opened with ``O_NOFOLLOW``: no symbolic link is followed (not the student's
folder, not a lesson folder, not a file), so no student is ever scored on another's
files. Every file is opened ``O_NONBLOCK`` and must be a regular file by ``fstat`` (a FIFO
or a device never blocks or floods a read), and every read is bounded.

Where the exercise's file is: ``LESSON/EXERCISE.py`` as ``tutor init`` writes it, or
``EXERCISE.py`` flat in the folder (a drag-and-drop upload), or either one or two folders
further down (a zip extracted with its own top folder), or inside a ``.zip`` in the
folder, which is read in memory and never extracted (no member path can escape, links
are refused, members and sizes are bounded). ``__MACOSX`` and dot folders are skipped.

A file is decoded as Python decodes source: a UTF-8 BOM and a PEP 263 coding line are
honoured. A file that is still the exercise's starter (whitespace and BOM aside) is
"not started".
"""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import os
import stat
import tokenize
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tutor.lessons import Exercise
from tutor.workspace.files import MAX_SOLUTION_BYTES
from tutor.workspace.starters import starter_text

#: How far below the student's folder a file is looked for: ``LESSON/EXERCISE.py`` two
#: folders down (``Archive/hw1/LESSON/EXERCISE.py``).
MAX_DEPTH = 3
#: Entries looked at in one student's folder at most (a folder of a million files is a
#: student's problem, not the class's).
MAX_ENTRIES = 5000
#: A zip in a student's folder larger than this is not opened.
MAX_ZIP_BYTES = 32 * 1024 * 1024
#: A zip with more members than this is not read.
MAX_ZIP_MEMBERS = 2000
#: All the files read for one student, together, at most.
MAX_HANDIN_BYTES = 16 * 1024 * 1024
#: Folders that are never a student's work: macOS's resource forks in zips.
JUNK_FOLDERS = frozenset({"__MACOSX", "__pycache__"})

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


class NotAFolder(Exception):
    """The student's folder is not a folder of its own (a link, a file, gone)."""


@dataclass(frozen=True)
class Found:
    """One exercise's file in a hand-in: its text, or why it cannot be graded."""

    #: Where it was found, relative to the student's folder (``hw.zip/grading/x.py``).
    where: str = ""
    source: str | None = None
    problem: str = ""
    #: No file at all for this exercise.
    missing: bool = False
    #: Still the exercise's starter: not started, nothing to grade.
    unchanged: bool = False
    #: The bytes read (for the hand-in's hash), or the problem's text.
    digest: str = ""


@dataclass
class HandIn:
    """Every exercise's file of one student, found and read."""

    files: dict[str, Found] = field(default_factory=dict)
    #: Newest modification time of the files found (seconds since the epoch), for late penalties.
    newest_mtime: float | None = None
    #: Links found where a lesson folder or a solution file would be, not followed.
    links: list[str] = field(default_factory=list)

    def digest(self) -> str:
        """A hash of what was handed in, exercise by exercise: a resubmission changes it."""
        h = hashlib.sha256()
        for exercise_id in sorted(self.files):
            found = self.files[exercise_id]
            h.update(f"{exercise_id}\0{found.where}\0{found.digest}\n".encode("utf-8", "backslashreplace"))
        return h.hexdigest()

    @property
    def empty(self) -> bool:
        return all(f.missing for f in self.files.values())


@dataclass
class _Candidate:
    """A file whose name is one an exercise looks for."""

    parts: tuple[str, ...]
    raw: bytes | None
    problem: str = ""
    mtime: float | None = None

    @property
    def where(self) -> str:
        return "/".join(self.parts)


class _Reader:
    """Bounded, link-free reads below one directory file descriptor."""

    def __init__(self, wanted: set[str], folders: set[str]) -> None:
        self.wanted = wanted
        #: Names of the lessons' folders: a link in their place is worth saying.
        self.folders = folders
        self.read_bytes = 0
        self.entries = 0
        self.links: list[str] = []
        self.zips: list[tuple[tuple[str, ...], bytes, float | None]] = []

    def walk(self, fd: int, parts: tuple[str, ...]) -> Iterator[_Candidate]:
        with os.scandir(fd) as entries:
            # At most what is left of the entries to look at, read before any is sorted.
            listing = sorted(itertools.islice(entries, max(0, MAX_ENTRIES - self.entries)), key=lambda e: e.name)
        self.entries += len(listing)
        for entry in listing:
            name = entry.name
            here = (*parts, name)
            if name.startswith(".") or name in JUNK_FOLDERS:
                continue
            if entry.is_symlink():
                if name in self.wanted or name in self.folders:
                    self.links.append("/".join(here))
                if name in self.wanted:
                    yield _Candidate(here, None, f"{'/'.join(here)} is a symbolic link (links are not followed)")
                continue
            if entry.is_dir(follow_symlinks=False):
                if len(here) <= MAX_DEPTH:
                    yield from self._subfolder(fd, name, here)
            elif name in self.wanted:
                yield self._file(fd, name, here)
            elif name.lower().endswith(".zip") and len(here) <= 2:
                zipped = self._file(fd, name, here, zipped=True)
                if zipped.raw is not None:
                    self.zips.append((here, zipped.raw, zipped.mtime))

    def _subfolder(self, fd: int, name: str, here: tuple[str, ...]) -> Iterator[_Candidate]:
        try:
            sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            return  # swapped for a link or gone since the listing: not the student's folder
        try:
            yield from self.walk(sub, here)
        finally:
            os.close(sub)

    def _file(self, fd: int, name: str, here: tuple[str, ...], zipped: bool = False) -> _Candidate:
        """A regular file's bytes, bounded: a solution by its own limit and what is left
        of the hand-in's, a zip by :data:`MAX_ZIP_BYTES` (only the members it yields count)."""
        where = "/".join(here)
        try:
            handle = os.open(name, _FILE_FLAGS, dir_fd=fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return _Candidate(here, None, f"{where} is a symbolic link (links are not followed)")
            return _Candidate(here, None, f"{where}: cannot read ({exc.strerror or exc})")
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                return _Candidate(here, None, f"{where} is not a regular file")
            budget = MAX_ZIP_BYTES if zipped else min(MAX_SOLUTION_BYTES, MAX_HANDIN_BYTES - self.read_bytes)
            chunks, size = [], 0
            while size <= budget:
                chunk = os.read(handle, min(1 << 20, budget + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > budget:
                return _Candidate(here, None, f"{where} is larger than {budget // 1024} KB")
            self.read_bytes += 0 if zipped else size
            return _Candidate(here, b"".join(chunks), mtime=info.st_mtime)
        except OSError as exc:
            return _Candidate(here, None, f"{where}: cannot read ({exc.strerror or exc})")
        finally:
            os.close(handle)

    def unzip(self) -> Iterator[_Candidate]:
        """The wanted members of every zip found, read in memory, never written out."""
        for parts, raw, mtime in self.zips:
            try:
                archive = zipfile.ZipFile(io.BytesIO(raw))
            except (zipfile.BadZipFile, OSError, ValueError):
                continue
            with archive:
                members = archive.infolist()
                if len(members) > MAX_ZIP_MEMBERS:
                    continue
                for info in sorted(members, key=lambda i: i.filename):
                    candidate = self._member(archive, info, parts)
                    if candidate is not None:
                        # When the zip was handed in, not the date its maker wrote inside.
                        candidate.mtime = mtime
                        yield candidate

    def _member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, parts: tuple[str, ...]) -> _Candidate | None:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        names = [p for p in path.parts if p not in ("", ".")]
        if (info.is_dir() or not names or names[-1] not in self.wanted or path.is_absolute() or ".." in names
                or any(n.startswith(".") or n in JUNK_FOLDERS for n in names) or len(names) > MAX_DEPTH + 1):
            return None
        here = (*parts, *names)
        where = "/".join(here)
        if stat.S_ISLNK(info.external_attr >> 16):
            return _Candidate(here, None, f"{where} is a symbolic link (links are not followed)")
        budget = min(MAX_SOLUTION_BYTES, MAX_HANDIN_BYTES - self.read_bytes)
        if info.file_size > budget:
            return _Candidate(here, None, f"{where} is larger than {budget // 1024} KB")
        try:
            with archive.open(info) as member:
                raw = member.read(budget + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, ValueError, EOFError) as exc:
            return _Candidate(here, None, f"{where}: cannot read from the zip ({exc})")
        if len(raw) > budget:
            return _Candidate(here, None, f"{where} is larger than {budget // 1024} KB")
        self.read_bytes += len(raw)
        return _Candidate(here, raw)


def open_student(folder: Path) -> int:
    """A file descriptor of the student's own folder; :class:`NotAFolder` if it is a link
    (scored 0: it would be someone else's work) or no folder."""
    try:
        return os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and folder.is_symlink():
            raise NotAFolder("the student's folder is a symbolic link; only a folder of the student's own is graded") from None
        raise NotAFolder(f"the student's folder cannot be read ({exc.strerror or exc})") from None


def read_handin(folder: Path, exercises: list[Exercise]) -> HandIn:
    """Find and read each exercise's file of the student in ``folder``."""
    wanted = {f"{e.short_id}.py" for e in exercises}
    fd = open_student(folder)
    reader = _Reader(wanted, {e.lesson_id for e in exercises})
    try:
        candidates = list(reader.walk(fd, ()))
    finally:
        os.close(fd)
    unfound = wanted - {c.parts[-1] for c in candidates if c.raw is not None}
    if unfound and reader.zips:  # a zip counts for what the folder itself lacks
        candidates += [c for c in reader.unzip() if c.parts[-1] in unfound]
    handin = HandIn(links=reader.links)
    for exercise in exercises:
        found = _pick(exercise, [c for c in candidates if c.parts[-1] == f"{exercise.short_id}.py"], exercises)
        if found is None:
            note = f" (links are not followed: {', '.join(reader.links)})" if reader.links else ""
            handin.files[exercise.id] = Found(problem=f"no solution file ({exercise.short_id}.py){note}", missing=True)
            continue
        handin.files[exercise.id] = _decode(exercise, found)
        if found.mtime is not None and found.raw is not None:
            handin.newest_mtime = max(handin.newest_mtime or found.mtime, found.mtime)
    return handin


def _pick(exercise: Exercise, candidates: list[_Candidate], exercises: list[Exercise]) -> _Candidate | None:
    """The file that is this exercise's: in a folder named after its lesson first, then
    the shallowest; a name two lessons share counts only in its lesson's folder."""
    if not candidates:
        return None
    in_lesson = [c for c in candidates if len(c.parts) > 1 and c.parts[-2] == exercise.lesson_id]
    shared = sum(e.short_id == exercise.short_id for e in exercises) > 1
    pool = in_lesson or ([] if shared else candidates)
    if not pool:
        return None
    readable = [c for c in pool if c.raw is not None] or pool
    return min(readable, key=lambda c: (len(c.parts), c.parts))


def _decode(exercise: Exercise, candidate: _Candidate) -> Found:
    where = candidate.where
    if candidate.raw is None:
        return Found(where=where, problem=candidate.problem, digest=candidate.problem)
    raw = candidate.raw
    digest = hashlib.sha256(raw).hexdigest()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        return Found(where=where, problem=f"{where}: {exc.msg if hasattr(exc, 'msg') else exc}", digest=digest)
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        start = f" (byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
        return Found(where=where, problem=f"{where} is not {encoding} text{start}", digest=digest)
    text = text.removeprefix("\ufeff")
    if is_starter(exercise, text):
        return Found(where=where, source=text, unchanged=True, digest=digest,
                     problem=f"not started: {where} is still the starter")
    return Found(where=where, source=text, digest=digest)


def _normal(text: str) -> list[str]:
    """A file's lines with what an editor changes on its own taken out (the BOM, line
    endings, trailing spaces, blank lines) and its comments: a starter's comments are
    translated (``--lang``), so the same untouched starter reads in either language."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        tokens = []  # not Python: compared line by line, comments and all
    if tokens:
        lines = text.split("\n")
        for token in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
        text = "\n".join(lines)
    return [line.rstrip() for line in text.split("\n") if line.strip()]


def is_starter(exercise: Exercise, text: str) -> bool:
    """Whether ``text`` is still the exercise's starter: the file ``tutor init`` writes, or
    the lesson's starter code alone."""
    mine = _normal(text)
    return bool(mine) and mine in (_normal(starter_text(exercise)), _normal(exercise.starter))
