"""``tutor run`` as a user types it: output, JSON contract, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def tutor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tutor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "good.py").write_text(
        "w = nn.Parameter(torch.ones(2))\nopt = torch.optim.SGD([w], lr=1e-3)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)\n"
        "for _ in range(6):\n    opt.step()\n    sched.step()\nprint('trained')\n"
    )
    (tmp_path / "bad.py").write_text("x = 1\nraise ValueError('nope')\n")
    (tmp_path / "latin1.py").write_bytes(b"print('caf\xe9')\n")
    return tmp_path


def test_json_mode_prints_one_contract_object_per_file_and_exits_1_on_failure(files: Path) -> None:
    done = tutor("run", "--json", "--device", "cpu", "good.py", "bad.py", "latin1.py", cwd=files)
    assert done.returncode == 1, done.stderr
    good, bad, latin1 = (json.loads(line) for line in done.stdout.splitlines())
    assert good["file"] == "good.py" and good["status"] == "ok" and good["stdout"] == "trained\n"
    assert set(good) >= {"error", "duration_ms", "device", "isolation", "resources", "variables", "modules",
                         "optimizers", "schedules"}
    assert [lrs[0] for _, lrs in good["schedules"][0]["steps"]] == [1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4]
    assert bad["status"] == "error" and bad["error"]["type"] == "ValueError" and bad["error"]["line"] == 2
    assert latin1["status"] == "error" and "not valid UTF-8" in latin1["error"]["message"]


def test_human_mode_shows_output_and_the_lr_table(files: Path) -> None:
    done = tutor("run", "good.py", cwd=files)
    assert done.returncode == 0, done.stderr
    assert "trained" in done.stdout and "lr schedule: sched" in done.stdout and "0.00025" in done.stdout


def test_a_missing_file_is_bad_usage(files: Path) -> None:
    done = tutor("run", "good.py", "absent.py", cwd=files)
    assert done.returncode == 2
    assert done.stderr.strip() == "tutor: absent.py: no such file"
    assert "Traceback" not in done.stderr
