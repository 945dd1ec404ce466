"""The front never imports torch: the lesson list must not wait for it, and `tutor list`
answers at once. Every module the CLI or the TUI loads in the front process is listed."""

from __future__ import annotations

import subprocess
import sys

import pytest

FRONT_MODULES = [
    "tutor.cli",
    "tutor.commands.check_lessons",
    "tutor.authoring.lesson_watch",
    "tutor.commands.new",
    "tutor.commands.grade",
    "tutor.commands.list_lessons",
    "tutor.commands.run",
    "tutor.commands.watch",
    "tutor.commands.workspace",
    "tutor.core",
    "tutor.batch",
    "tutor.commands.batch",
    "tutor.commands.export",
    "tutor.export.lessons",
    "tutor.export.gradescope",
    "tutor.export.prairielearn",
    "tutor.export.github_actions",
    "tutor.checks",
    "tutor.checks.wire",
    "tutor.present",
    "tutor.explain",
    "tutor.lessons",
    "tutor.authoring.scaffold",
    "tutor.workspace",
    "tutor.grading.grade",
    "tutor.authoring.lesson_check",
    "tutor.grading.results",
    "tutor.grading.formats",
    "tutor.grading.rules",
    "tutor.sandbox.api",
    "tutor.sandbox.client",
    "tutor.sandbox.protocol",
    "tutor.app",
    "tutor.app.app",
    "tutor.app.launch",
    "tutor.app.driver",
    "tutor.app.screens.lesson_list",
    "tutor.app.screens.lesson",
    "tutor.app.screens.exercise",
    "tutor.app.screens.dialogs",
]


@pytest.mark.parametrize("module", FRONT_MODULES)
def test_importing_the_front_does_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
