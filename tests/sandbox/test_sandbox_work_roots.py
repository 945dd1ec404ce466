"""A server's work root is removed by a later server only once no server holds it. /tmp
is shared with containers (a grader's kit runs in one on the same machine), where pid 12
names another process than here: a pid test deleted a live container's work root under
its runs (every check then failed with FileNotFoundError)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from tutor.sandbox.server import ALIVE, _alive, _hold_alive


def test_a_held_work_root_is_alive_whatever_pid_its_name_gives(tmp_path: Path) -> None:
    root = tmp_path / "12-container"  # pid 12 is no process of ours
    root.mkdir()
    fd = _hold_alive(root)
    try:
        assert _alive(root)
    finally:
        os.close(fd)
    assert not _alive(root)  # its server is gone: the next server may remove it


def test_a_work_root_held_by_a_forked_forker_stays_alive_after_the_server_goes(tmp_path: Path) -> None:
    root = tmp_path / "4242-server"
    root.mkdir()
    fd = _hold_alive(root)
    child = os.fork()
    if child == 0:  # the forker inherits the lock with the descriptor
        os.close(fd)
        time.sleep(0.3)
        os._exit(0)
    try:
        assert _alive(root)
    finally:
        os.close(fd)
        os.waitpid(child, 0)
    assert not _alive(root)


def test_a_work_root_without_the_lock_file_is_left_until_it_is_a_day_old(tmp_path: Path) -> None:
    young, old = tmp_path / "1-young", tmp_path / "2-old"
    young.mkdir()
    old.mkdir()
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    assert _alive(young) and not _alive(old)


def test_the_lock_file_is_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "3-linked"
    root.mkdir()
    target = tmp_path / "elsewhere"
    target.write_text("")
    (root / ALIVE).symlink_to(target)
    assert _alive(root)  # not ours to judge: left alone
    fd = os.open(target, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.close(fd)


def test_a_server_starting_beside_another_never_sees_its_root_unlocked(tmp_path: Path) -> None:
    """The lock file gets its name only once locked: a server scanning for stale roots
    while another creates its own never finds that one unlocked (it once deleted it)."""
    import threading

    held: list[int] = []
    done = threading.Event()
    judged_stale: list[str] = []

    def start_servers() -> None:
        for number in range(200):
            root = tmp_path / f"{number}-server"
            root.mkdir()
            held.append(_hold_alive(root))
        done.set()

    def scan() -> None:
        while not done.is_set():
            judged_stale.extend(p.name for p in tmp_path.iterdir() if (p / ALIVE).exists() and not _alive(p))

    threads = [threading.Thread(target=start_servers), threading.Thread(target=scan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for fd in held:
        os.close(fd)
    assert judged_stale == []
    assert sorted(p.name for p in (tmp_path / "0-server").iterdir()) == [ALIVE]  # no staging name left
