"""What tells that a file changed, for everything that watches one: the exercise
screen and `tutor watch` (a learner's solution, progress), `check-lessons --watch`
(lesson files)."""

from __future__ import annotations

import stat
from pathlib import Path

#: Inode, mtime (ns), size and device of a regular file.
FileStamp = tuple[int, int, int, int]


def file_stamp(path: Path) -> FileStamp | None:
    """What changes when any editor saves the file: an in-place write changes the
    mtime (and usually the size); an atomic rename-on-save (vim, VS Code, tutor
    itself) puts a new inode there, even within one mtime tick and at the same size.
    None when there is no regular file to read there."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size, st.st_dev
