"""One warm sandbox shared by many app processes (``tutor serve``'s default).

Each connected learner runs an app process, and each app process would start its own
sandbox server and forker (about 190 MB together, most of it torch). Here the serving
process owns one sandbox client, :class:`RelayServer` lends it to the app processes
over a Unix socket, and each app's core gets a :class:`RelayClient` in place of its own
sandbox (``client_factory``).

Fair by construction: runs wait in one queue per app process and are started round-robin
across processes, at most ``slots`` at once and ``per_app`` per process, so a learner
who starts many runs (or loops) delays only their own. Cancelling (Esc) answers that
learner's queued and running runs at once as ``killed``, and kills the children of the
running ones (the runs of each app share a sandbox ``group``, so no other learner's run is
touched).

The socket is ``multiprocessing.connection`` with an HMAC handshake on a random key
given to the app processes in their environment; the learners' code runs in sandbox
children that see neither the socket's directory nor that environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from tutor.errors import SandboxError
from tutor.sandbox.api import RunRequest, RunResult, SandboxClientProtocol

#: The app process finds the shared sandbox through these (set by ``tutor serve``).
ADDRESS_ENV = "TUTOR_SANDBOX_RELAY"
KEY_ENV = "TUTOR_SANDBOX_RELAY_KEY"


@dataclass
class _App:
    """One connected app process."""

    conn: Connection
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    queue: deque[tuple[int, RunRequest]] = field(default_factory=deque)
    running: set[int] = field(default_factory=set)
    #: Runs answered as killed while still running: their results are dropped.
    dropped: set[int] = field(default_factory=set)
    closed: bool = False
    #: The sandbox group of this app's runs: cancelling them kills no other learner's.
    group: str = field(default_factory=lambda: f"relay-{secrets.token_hex(8)}")

    def send(self, message: tuple[Any, ...]) -> None:
        with self.send_lock:
            if self.closed:
                return
            try:
                self.conn.send(message)
            except OSError:
                self.closed = True


class RelayServer:
    """Lends ``client`` (started by the caller) to app processes on ``address``."""

    def __init__(self, client: SandboxClientProtocol, address: Path, *, slots: int | None = None, per_app: int = 2) -> None:
        self.client = client
        self.address = address
        self.key = secrets.token_bytes(32)
        self.slots = slots or max(2, os.cpu_count() or 2)
        self.per_app = per_app
        self._apps: list[_App] = []
        self._turn = 0
        self._busy = 0
        self._lock = threading.Condition()
        self._listener: Listener | None = None
        self._closed = False

    @property
    def environment(self) -> dict[str, str]:
        """What an app process needs to find and open the relay."""
        return {ADDRESS_ENV: str(self.address), KEY_ENV: self.key.hex()}

    def start(self) -> None:
        self.address.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileNotFoundError):
            self.address.unlink()
        self._listener = Listener(str(self.address), family="AF_UNIX", authkey=self.key)
        os.chmod(self.address, 0o600)
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()
        threading.Thread(target=self._dispatch, name="relay-dispatch", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            self._lock.notify_all()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.address.unlink()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, AuthenticationError):
                if self._closed:
                    return
                continue  # a failed handshake (a wrong key): refuse that one only
            app = _App(conn)
            with self._lock:
                self._apps.append(app)
            threading.Thread(target=self._serve, args=(app,), name="relay-app", daemon=True).start()

    def _serve(self, app: _App) -> None:
        """Read one app's requests until it goes."""
        try:
            while True:
                message = app.conn.recv()
                kind = message[0]
                if kind == "run":
                    _, rid, request = message
                    if not isinstance(request, RunRequest):
                        continue
                    with self._lock:
                        app.queue.append((rid, request))
                        self._lock.notify_all()
                elif kind == "cancel":
                    self._cancel(app)
                elif kind == "cuda":
                    app.send(("cuda", message[1], bool(self.client.cuda_available())))
        except (EOFError, OSError):
            pass
        finally:
            with self._lock:
                app.closed = True
                app.queue.clear()
                self._lock.notify_all()
            with contextlib.suppress(OSError):
                app.conn.close()

    def _cancel(self, app: _App) -> None:
        with self._lock:
            queued = [rid for rid, _ in app.queue]
            app.queue.clear()
            running = sorted(app.running - app.dropped)
            app.dropped.update(running)
        if running:
            self.client.cancel(app.group)  # their children die now, not at their timeout
        for rid in queued + running:
            app.send(("result", rid, RunResult(status="killed")))

    def _next(self) -> tuple[_App, int, RunRequest] | None:
        """The next run to start, round-robin over the apps with work and a free slot."""
        if self._busy >= self.slots:
            return None
        apps = [app for app in self._apps if not app.closed]
        self._apps = apps + [app for app in self._apps if app.closed and app.running]
        for step in range(len(apps)):
            app = apps[(self._turn + step) % len(apps)]
            if app.queue and len(app.running) < self.per_app:
                self._turn = (self._turn + step + 1) % len(apps)
                rid, request = app.queue.popleft()
                app.running.add(rid)
                self._busy += 1
                return app, rid, request
        return None

    def _dispatch(self) -> None:
        while not self._closed:
            with self._lock:
                picked = self._next()
                while picked is None and not self._closed:
                    self._lock.wait()
                    picked = self._next()
            if picked is None:
                return
            threading.Thread(target=self._run, args=picked, name="relay-run", daemon=True).start()

    def _run(self, app: _App, rid: int, request: RunRequest) -> None:
        try:
            result = self.client.run(dataclasses.replace(request, group=app.group))
        except Exception as exc:  # noqa: BLE001 - the app gets an error result, never a hang
            from tutor.sandbox.api import ErrorInfo

            result = RunResult(status="error", error=ErrorInfo(type=type(exc).__name__, message=str(exc)))
        with self._lock:
            app.running.discard(rid)
            dropped = rid in app.dropped
            app.dropped.discard(rid)
            self._busy -= 1
            self._lock.notify_all()
        if not dropped:
            app.send(("result", rid, result))


class RelayClient(SandboxClientProtocol):
    """An app process's sandbox: the serving process's shared one, over the relay."""

    def __init__(self, address: str, key: bytes) -> None:
        self.address = address
        self.key = key
        self.state = "starting"
        self._conn: Connection | None = None
        self._send_lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._ids = iter(range(1, 1 << 62))
        self._ids_lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    def from_environment(cls) -> RelayClient | None:
        address, key = os.environ.get(ADDRESS_ENV), os.environ.get(KEY_ENV)
        if not address or not key:
            return None
        return cls(address, bytes.fromhex(key))

    def on_state_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        try:
            self._conn = Client(self.address, family="AF_UNIX", authkey=self.key)
        except (OSError, EOFError, AuthenticationError) as exc:
            self.state = "dead"
            raise SandboxError(f"the shared sandbox cannot be reached ({exc})") from None
        self.state = "ready"
        threading.Thread(target=self._read, name="relay-read", daemon=True).start()

    def wait_ready(self, timeout: float | None = None) -> None:
        if self.state != "ready":
            raise SandboxError("the shared sandbox is not connected")

    def _read(self) -> None:
        assert self._conn is not None
        try:
            while True:
                _, rid, value = self._conn.recv()
                future = self._pending.pop(rid, None)
                if future is not None:
                    future.set_result(value)
        except (EOFError, OSError):
            pass
        self.state = "dead"
        for future in list(self._pending.values()):
            future.set_exception(SandboxError("the shared sandbox went away"))
        self._pending.clear()
        for listener in list(self._listeners):
            listener()

    def _ask(self, kind: str, *payload: Any) -> Any:
        if self._conn is None or self.state != "ready":
            raise SandboxError("the shared sandbox is not connected")
        with self._ids_lock:
            rid = next(self._ids)
        future: Future[Any] = Future()
        self._pending[rid] = future
        with self._send_lock:
            self._conn.send((kind, rid, *payload))
        return future.result()

    def run(self, request: RunRequest) -> RunResult:
        try:
            result = self._ask("run", request)
        except SandboxError as exc:
            from tutor.sandbox.api import ErrorInfo

            return RunResult(status="error", error=ErrorInfo(type="SandboxError", message=exc.msg))
        assert isinstance(result, RunResult)
        return result

    def cuda_available(self) -> bool:
        return bool(self._ask("cuda"))

    def cancel_all(self) -> None:
        if self._conn is not None and self.state == "ready":
            with self._send_lock, contextlib.suppress(OSError):
                self._conn.send(("cancel",))

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self.state = "dead"
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
