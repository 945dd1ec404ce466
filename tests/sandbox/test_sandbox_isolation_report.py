"""What a run's ``isolation`` list claims is really in force, as root and as a normal
user; and where the kernel refuses namespaces, runs still run and claim less."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.isolation import SANDBOX_UID_BASE, Limits

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LESSON = REPO / "lessons" / "01-tensor-attributes.md"

# Looks at each layer from the inside and prints what it found, as JSON.
PROBE = f'''
import errno, json, os, resource, socket
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return line.split()[1]
try:
    open("/tmp/tutor-probe-{os.getpid()}", "w").close()
    tmp_error = None
except OSError as exc:
    tmp_error = errno.errorcode[exc.errno]
try:
    lessons = os.listdir({str(LESSON.parent)!r})
except OSError:
    lessons = []
try:
    repo = os.listdir({str(REPO)!r})
except OSError:
    repo = []
print(json.dumps({{
    "pid": os.getpid(),
    "procs": sorted(p for p in os.listdir("/proc") if p.isdigit()),
    "interfaces": sorted(name for _, name in socket.if_nameindex()),
    "uid": os.getuid(),
    "uid_map": open("/proc/self/uid_map").read().split(),
    "lessons": lessons,
    "tmp_error": tmp_error,
    "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
    "no_new_privs": status("NoNewPrivs"),
    "seccomp": status("Seccomp"),
    "cap_eff": status("CapEff"),
    "repo": repo,
}}))
'''

# What each reported layer means, checked against the probe's findings.
CLAIMS = {
    "userns": lambda f: f["uid_map"] != ["0", "0", "4294967295"],
    "pidns": lambda f: f["pid"] == 1,
    "private-proc": lambda f: f["procs"] == [str(f["pid"])],
    "netns": lambda f: set(f["interfaces"]) <= {"lo"},
    "hidden-paths": lambda f: f["lessons"] == [],
    "hidden-by-permissions": lambda f: f["lessons"] == [],
    "private-scratch": lambda f: f["tmp_error"] == "EROFS",
    "rlimits": lambda f: f["fsize"] == Limits.file_size,
    "nproc": lambda f: f["nproc"] == Limits.processes,
    "uid": lambda f: f["uid"] >= SANDBOX_UID_BASE,
    "no_new_privs": lambda f: f["no_new_privs"] == "1",
    "seccomp": lambda f: f["seccomp"] == "2",
    # Of the checkout only the tutor package (and a virtualenv inside it) is there, and a
    # root server's run holds no capability that reads past permissions.
    "fs-view": lambda f: set(f["repo"]) <= {"tutor", ".venv"} and (f["uid"] < SANDBOX_UID_BASE or int(f["cap_eff"], 16) == 0),
}


def user_namespaces_allowed() -> bool:
    code = "import ctypes, sys\nsys.exit(ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0)\n"
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def expected_layers() -> set[str]:
    """Everything this machine should grant a run: all of it to root; to a normal user
    the same through a user namespace, except a uid of its own per run."""
    shared = {"tmpdir", "pidns", "netns", "mountns", "ipcns", "private-proc", "hidden-paths", "private-scratch",
              "rlimits", "nproc", "no_new_privs", "seccomp", "fs-view"}
    if os.geteuid() == 0:
        return shared | {"uid"}
    if user_namespaces_allowed():
        return shared | {"userns"}
    return {"tmpdir", "rlimits", "no_new_privs", "seccomp"}


def test_every_layer_a_run_reports_is_really_in_force(sandbox: SandboxClient) -> None:
    result = sandbox.run(RunRequest(code=PROBE, inspect=False))
    assert result.status == "ok", result.error
    found = json.loads(result.stdout)
    assert set(result.isolation) == expected_layers(), result.isolation
    false_claims = [name for name in result.isolation if name in CLAIMS and not CLAIMS[name](found)]
    assert false_claims == [], found


def test_a_hidden_lesson_cannot_be_read_through_another_process_s_root(sandbox: SandboxClient) -> None:
    """A normal user's run shares its uid with the front and the server: /proc/<pid>/root
    of either would show the files as they see them, uncovered."""
    targets = [f"/proc/{pid}/root{LESSON}" for pid in (os.getpid(), sandbox.server_pid, sandbox.forker_pid)]
    code = (
        f"for path in {targets!r}:\n"
        "    try:\n        print(open(path).read()[:40])\n    except OSError as exc:\n        print(type(exc).__name__)\n"
    )
    result = sandbox.run(RunRequest(code=code, inspect=False))
    assert result.status == "ok", result.error
    assert "tensor" not in result.stdout.lower()
    assert len(result.stdout.splitlines()) == 3  # each path was tried and refused


# Starts a sandbox in a process where the kernel refuses unshare(), as a locked-down
# container would, and runs one snippet in it.
WITHOUT_NAMESPACES = f'''
import errno, json
import pyseccomp as sc
refuse = sc.SyscallFilter(sc.ALLOW)
refuse.add_rule(sc.ERRNO(errno.EPERM), "unshare")
refuse.load()
from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient
with SandboxClient(hide_paths=[{str(LESSON.parent)!r}], device="cpu") as sandbox:
    result = sandbox.run(RunRequest(code="import os\\nprint(2 + 2, os.getpid() == 1)", inspect=False))
print(json.dumps({{"status": result.status, "stdout": result.stdout, "isolation": result.isolation,
                  "error": result.error and result.error.message}}))
'''


def test_where_the_kernel_refuses_namespaces_runs_still_run_and_report_less() -> None:
    pytest.importorskip("pyseccomp")
    done = subprocess.run([sys.executable, "-c", WITHOUT_NAMESPACES], capture_output=True, text=True,
                          timeout=120, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "ok", result["error"]
    assert result["stdout"] == "4 False\n"  # ran, and not as pid 1 of a namespace
    layers = set(result["isolation"])
    assert layers.isdisjoint({"userns", "pidns", "netns", "mountns", "ipcns", "private-proc", "hidden-paths",
                              "private-scratch", "fs-view"})
    assert {"tmpdir", "rlimits", "no_new_privs", "seccomp"} <= layers
    assert ("uid" in layers) == (os.geteuid() == 0)


def test_a_child_loads_the_filter_its_forker_compiled_and_it_still_denies(sandbox):
    """The forker compiles the seccomp filter once; each child loads the program (2 ms
    less a run) and is refused network sockets and new namespaces as before."""
    from tutor.sandbox.api import RunRequest

    code = """
import ctypes, errno, socket
from tutor.sandbox import isolation
print(len(isolation._compiled) >= 1)
try:
    socket.socket()
    print("allowed")
except OSError as exc:
    print(errno.errorcode[exc.errno])
libc = ctypes.CDLL(None, use_errno=True)
print("allowed" if libc.unshare(0x10000000) == 0 else errno.errorcode[ctypes.get_errno()])
"""
    result = sandbox.run(RunRequest(code=code, timeout=30))
    assert result.ok, result.error
    assert result.stdout.split() == ["True", "EPERM", "EPERM"]


# Starts a sandbox the way Docker starts a grader: root, the kernel refusing unshare()
# (its seccomp profile), and no CAP_DAC_READ_SEARCH (not in its capability set). The
# lessons folder ``{lessons}`` is private to root: with no mount to cover it, its
# permissions are what hide it.
LIKE_DOCKER = '''
import ctypes, errno, json, os, sys
import pyseccomp as sc
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(24, 2, 0, 0, 0) == 0  # PR_CAPBSET_DROP CAP_DAC_READ_SEARCH
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
assert libc.capget(ctypes.byref(header), data) == 0
for field in ("effective", "permitted", "inheritable"):
    setattr(data[0], field, getattr(data[0], field) & ~(1 << 2))
assert libc.capset(ctypes.byref(header), data) == 0
refuse = sc.SyscallFilter(sc.ALLOW)
refuse.add_rule(sc.ERRNO(errno.EPERM), "unshare")
refuse.load()
from tutor.sandbox.api import RunRequest
from tutor.sandbox.client import SandboxClient
lessons = sys.argv[1]
code = f"import os\\ntry:\\n    print(os.listdir({lessons!r}))\\nexcept OSError as exc:\\n    print(type(exc).__name__)"
with SandboxClient(hide_paths=[lessons], device="cpu") as sandbox:
    result = sandbox.run(RunRequest(code=code, inspect=False))
print(json.dumps({"status": result.status, "stdout": result.stdout, "isolation": result.isolation,
                  "error": result.error and result.error.message}))
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="a container's grader runs as root")
@pytest.mark.parametrize("private", [True, False], ids=["lessons-private", "lessons-open"])
def test_as_docker_runs_a_grader_runs_run_and_the_lessons_hide_by_permissions(private: bool) -> None:
    """Docker's root has no CAP_DAC_READ_SEARCH and no mount namespace: runs used to die
    on ``capset``. They run now, with what they can get; a lessons folder only root may
    enter is out of their reach, and the run says so; an open one is not claimed hidden."""
    pytest.importorskip("pyseccomp")
    course = Path(tempfile.mkdtemp(prefix="tutor-course-"))  # pytest's tmp_path is private to root
    try:
        lessons = course / "lessons"
        lessons.mkdir()
        (lessons / "01-secret.md").write_text("the reference")
        course.chmod(0o700 if private else 0o755)
        done = subprocess.run([sys.executable, "-c", LIKE_DOCKER, str(lessons)], capture_output=True, text=True,
                              timeout=120, check=False, cwd=REPO)
    finally:
        shutil.rmtree(course)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "ok", result["error"]
    layers = set(result["isolation"])
    assert {"uid", "rlimits", "no_new_privs", "seccomp"} <= layers
    assert layers.isdisjoint({"mountns", "hidden-paths", "fs-view"})
    if private:
        assert result["stdout"] == "PermissionError\n"
        assert "hidden-by-permissions" in layers
    else:
        assert result["stdout"] == "['01-secret.md']\n"
        assert "hidden-by-permissions" not in layers
