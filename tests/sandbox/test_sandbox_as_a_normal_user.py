"""A normal user's sandbox, tested even where the suite runs as root (as CI does).

Most learners are not root. Their forker lives in a user namespace of its own and forks
each run from an inner forker, pid 1 of a pid namespace that user namespace owns; each
run then nests a user namespace of its own. Run as root, this test starts a process
that moves into a private mount namespace where the interpreter is reachable by any
uid (``/root`` is often mode 700), drops to an unused uid and drives a sandbox from
there; run as a normal user, the process drives it as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_sandbox_isolation_report import CLAIMS, PROBE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
UID = 54321  # no account on a usual machine; the sandbox's own uids start far above

# argv: the probe's code, the uid to become ("" to stay), a home directory for it, and
# "pidns" to start in a pid namespace whose /proc is still the machine's (root only).
AS_A_NORMAL_USER = r'''
import json, os, signal, sys, threading, time
from pathlib import Path

probe, uid, home, where = sys.argv[1:5]


def reachable_by_anyone(needed):
    """Cover each directory on the way to (or at) ``needed`` that only root may search
    (``/root``, a checkout made by ``mktemp -d``) with a tmpfs anyone may search,
    holding each of its entries bound from the original (private mounts only)."""
    from tutor.sandbox import isolation

    isolation.unshare(isolation.CLONE_NEWNS)
    isolation.make_mounts_private()
    closed = {d for path in needed for d in (*path.parents, path)
              if d != Path("/") and d.is_dir() and not d.stat().st_mode & 0o001}
    for directory in sorted(closed, key=lambda d: len(d.parts)):  # outer ones first
        entries = [directory / name for name in os.listdir(directory)]
        links = {entry: os.readlink(entry) for entry in entries if entry.is_symlink()}
        fds = {entry: os.open(entry, os.O_PATH) for entry in entries if entry not in links}
        isolation.mount("tmpfs", str(directory), "tmpfs", 0, "mode=755")
        for entry, target in links.items():
            entry.symlink_to(target)
        for entry, fd in fds.items():
            source = f"/proc/self/fd/{fd}"
            entry.mkdir() if os.path.isdir(source) else entry.touch()
            isolation.mount(source, str(entry), None, isolation.MS_BIND | isolation.MS_REC)
    os.chdir(os.getcwd())  # into the cover, if it went over the working directory


if uid:
    needed = {Path(p).resolve() for p in (sys.executable, sys.prefix, sys.base_prefix, os.getcwd())}
    reachable_by_anyone(needed)
    if where == "pidns":
        # As `unshare --pid --fork` without --mount-proc: /proc numbers every process
        # otherwise than the server does.
        from tutor.sandbox import isolation
        isolation.unshare(isolation.CLONE_NEWPID)
        if (child := os.fork()) != 0:
            os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    os.setgroups([])
    os.setresgid(int(uid), int(uid), int(uid))
    os.setresuid(int(uid), int(uid), int(uid))
    if not all(os.access(p, os.R_OK | os.X_OK) for p in needed):
        print(json.dumps({"skip": "the interpreter is out of reach of another uid here"}))
        sys.exit(0)
os.environ["HOME"] = home
import subprocess
TRY_USERNS = "import ctypes, sys\nsys.exit(ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0)"
if subprocess.run([sys.executable, "-c", TRY_USERNS], check=False).returncode != 0:
    print(json.dumps({"skip": "this kernel refuses a normal user a user namespace"}))
    sys.exit(0)

from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient

NAMESPACES = "import os\nprint(os.getpid(), os.getppid(), os.readlink('/proc/self/ns/user'))"
found = {}
with SandboxClient(device="cpu", hide_paths=[Path("lessons").resolve()]) as sandbox:
    result = sandbox.run(RunRequest(code=probe, inspect=False))
    found["probe"] = {"status": result.status, "isolation": result.isolation,
                      "facts": json.loads(result.stdout) if result.status == "ok" else result.error.message}
    found["runs"] = [sandbox.run(RunRequest(code=NAMESPACES, inspect=False)).stdout.split() for _ in range(2)]
    # /proc tells about the server only where it numbers processes as we do.
    proc_is_ours = where != "pidns"
    if proc_is_ours:
        found["server_userns"] = os.readlink(f"/proc/{sandbox.server_pid}/ns/user")
    started = time.monotonic()
    found["timeout"] = sandbox.run(RunRequest(code="import time\ntime.sleep(30)", timeout=1, inspect=False)).status
    found["timeout_s"] = time.monotonic() - started
    found["after_timeout"] = sandbox.run(RunRequest(code="print(2 + 2)", inspect=False)).stdout

    # A run in flight when the server is killed dies with it.
    if not proc_is_ours:
        print(json.dumps(found))
        sys.exit(0)
    forker = sandbox.forker_pid
    children = Path(f"/proc/{forker}/task/{forker}/children")
    earlier = set(children.read_text().split())  # a run that has answered may still be exiting
    waiting = threading.Thread(target=sandbox.run, args=(RunRequest(code="import time\ntime.sleep(60)", timeout=90),),
                               daemon=True)
    waiting.start()
    deadline = time.monotonic() + 10
    while not (new := set(children.read_text().split()) - earlier):
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.01)
    run_pid = int(new.pop())
    os.kill(sandbox.server_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    def alive(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
        except OSError:
            return False
    # Both, each in its own time: the forker dies after its own parent, the run after it.
    while (alive(run_pid) or alive(forker)) and time.monotonic() < deadline:
        time.sleep(0.01)
    found["run_outlived_server"] = alive(run_pid)
    found["forker_outlived_server"] = alive(forker)
print(json.dumps(found))
'''


def _as_a_normal_user(home: Path, where: str) -> dict:
    uid = ""
    if os.geteuid() == 0:
        uid = str(UID)
        os.chown(home, UID, UID)
    elif where == "pidns":
        pytest.skip("only root can start a pid namespace without a user namespace")
    done = subprocess.run([sys.executable, "-c", AS_A_NORMAL_USER, PROBE, uid, str(home), where],
                          capture_output=True, text=True, timeout=180, check=False, cwd=REPO,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _as_a_normal_user(tmp_path_factory.mktemp("normal-user-home"), "as it is")


def test_a_normal_users_run_gets_every_layer_but_a_uid_and_each_holds(found: dict) -> None:
    probe = found["probe"]
    assert probe["status"] == "ok", probe["facts"]
    assert set(probe["isolation"]) == {"tmpdir", "userns", "pidns", "fs-view", "netns", "mountns", "ipcns",
                                       "private-proc", "private-scratch", "hidden-paths", "rlimits", "nproc",
                                       "no_new_privs", "seccomp"}
    false_claims = [name for name in probe["isolation"] if name in CLAIMS and not CLAIMS[name](probe["facts"])]
    assert false_claims == [], probe["facts"]


def test_each_run_is_pid_1_in_a_user_namespace_of_its_own(found: dict) -> None:
    (pid1, parent1, userns1), (pid2, parent2, userns2) = found["runs"]
    assert (pid1, parent1, pid2, parent2) == ("1", "0", "1", "0")
    # Not the server's, and not one runs share: capabilities there would reach the
    # forker's filesystem view, and RLIMIT_NPROC would count every run together.
    assert len({userns1, userns2, found["server_userns"]}) == 3


def test_a_run_past_its_time_is_ended_and_the_server_goes_on(found: dict) -> None:
    """The server kills the run by the number it knows it by: a wrong one (a pid
    namespace's numbers) would leave it sleeping its 30 s, and kill someone else."""
    assert found["timeout"] == "timeout"
    assert found["timeout_s"] < 10
    assert found["after_timeout"] == "4\n"


def test_a_run_in_flight_dies_with_the_server(found: dict) -> None:
    assert found["run_outlived_server"] is False
    assert found["forker_outlived_server"] is False


def test_where_proc_numbers_processes_otherwise_runs_are_still_ended_on_time(tmp_path: Path) -> None:
    """Started as `unshare --pid --fork` without --mount-proc would: /proc, where the
    inner forker looks up each run's number for the server, is not the server's."""
    found = _as_a_normal_user(tmp_path, "pidns")
    assert found["probe"]["status"] == "ok", found["probe"]["facts"]
    assert {"userns", "pidns", "private-proc"} <= set(found["probe"]["isolation"])
    test_a_run_past_its_time_is_ended_and_the_server_goes_on(found)
