"""Warnings that name files as the learner knows them, not where they lie on this disk.

A run's code is compiled under its path on the front's disk (the workspace, or the
lessons' folder), and a warning printed by Python names that path:
``/home/ann/tutor-workspace/autograd/derivatives.py:3: UserWarning: ...``. Printed in
the sandbox, it is the lesson and the file (``autograd/derivatives.py:3``); a warning
from inside an installed package names the file inside the package
(``torch/nn/functional.py``). Installed in the server before it forks, so every child
prints warnings this way.
"""

from __future__ import annotations

import linecache
import os
import sysconfig
import warnings
from pathlib import PurePath

_PACKAGE_DIRS = ("site-packages", "dist-packages")


def short_path(filename: str) -> str:
    """``filename`` without the folders of this machine: a package's file from its
    package, the standard library's from the library, anything else as its parent
    folder (the lesson) and its name. Names that are not paths (``<snippet>``) and
    relative paths are kept."""
    if not os.path.isabs(filename):
        return filename
    parts = PurePath(filename).parts
    inside = [i for i, part in enumerate(parts) if part in _PACKAGE_DIRS]
    if inside:
        return "/".join(parts[inside[-1] + 1:])
    stdlib = sysconfig.get_paths().get("stdlib")
    if stdlib and filename.startswith(stdlib.rstrip(os.sep) + os.sep):
        return os.path.relpath(filename, stdlib)
    return "/".join(parts[-2:])


_format = warnings.formatwarning


def formatwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  line: str | None = None) -> str:
    """:func:`warnings.formatwarning` with :func:`short_path` for the file; the source
    line is still looked up under the real name (the learner's code is in linecache)."""
    if line is None:
        line = linecache.getline(filename, lineno)
    return _format(message, category, short_path(filename), lineno, line)


def install() -> None:
    warnings.formatwarning = formatwarning
