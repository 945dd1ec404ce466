"""``tutor serve``: the app in the browser, one app process per connected learner.

textual-serve does the terminal in the page (xterm.js) and the pipe to each app
process; this module adds what a class needs around it:

* sign-in: a learner types the token the instructor gave them; the server keeps a
  session id for it in an HttpOnly cookie. Wrong tokens are rate-limited per address.
  Tokens travel only in the sign-in form's body, never in a URL, and are never logged;
* each learner's own workspace, chosen on the server from the signed-in name (never
  from a path in the URL), passed to their app process as ``--workspace``;
* one warm sandbox for every learner's runs, lent in turns (:mod:`tutor.relay`),
  unless each app is to start its own;
* one place per learner: a reload or a second tab ends the previous app process first
  (which saves the editor on its way out), and the new one resumes where it was;
* a page that loads nothing from other hosts (textual-serve's own page fetches a web
  font from a public font host: the template here serves the bundled font instead)
  and asks before leaving while the editor holds unsaved text;
* the learner's workspace as a zip, to hand in; an instructor's gradebook of the class.

Without a roster (one learner, e.g. inside a JupyterHub container or on a laptop)
there is no sign-in and the app opens the one workspace; that mode only binds to a
loopback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import json
import logging
import os
import secrets
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server

from tutor.errors import UsageError
from tutor.i18n import ENGLISH, N_, current_language, is_english, translations
from tutor.web.limits import SignInLimiter
from tutor.web.tokens import TokenStore, make_private, token_hash

log = logging.getLogger("tutor.web")

COOKIE = "tutor_session"
#: How long a sign-in lasts (a term's day of classes, with room).
SESSION_SECONDS = 7 * 24 * 3600
#: The page may use only this server: scripts, styles, the font, the WebSocket.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'none'"
)
TEMPLATES = Path(__file__).parent / "templates"
TEXTUAL_SERVE_STATIC = Path(textual_serve.__file__).parent / "static"
#: How long an app process may take to save and quit before it is killed.
STOP_GRACE_SECONDS = 10.0
#: The meta packet the app sends when its editor's text becomes saved or unsaved.
UNSAVED_META = "tutor_unsaved"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ServeOptions:
    """What ``tutor serve`` was asked for."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    #: The learners who may sign in; None: no sign-in, one workspace (``workspace``).
    roster: Sequence[str] | None = None
    workspace: Path | None = None
    lessons: Path | None = None
    #: The course's language for every learner's app (None: each app's $TUTOR_LANG, else locale).
    lang: str | None = None
    device: str = "auto"
    public_url: str | None = None
    #: The app's command line, before ``--workspace DIR`` (default: this interpreter's tutor).
    app_command: Sequence[str] = field(default_factory=lambda: (sys.executable, "-m", "tutor"))
    limiter: SignInLimiter = field(default_factory=SignInLimiter)
    #: Who may download the class's gradebook (names on the roster).
    instructors: Sequence[str] = ()
    #: The command that grades the class, before ``grade --batch`` (default: ``app_command``).
    grade_command: Sequence[str] | None = None
    #: One warm sandbox in this process for every learner's app, instead of one each (the CLI's default).
    shared_sandbox: bool = False

    def check(self) -> None:
        outside = sorted(set(self.instructors) - set(self.roster or ()))
        if outside:
            raise UsageError(f"--instructor {outside[0]}: not on the roster (an instructor signs in like a learner)")
        if self.roster is None and not is_loopback(self.host):
            raise UsageError(
                f"--host {self.host}: without --roster there is no sign-in and everyone who reaches the server "
                "shares one workspace; serve a class with --roster FILE (or keep the default 127.0.0.1)"
            )


@dataclass(frozen=True)
class SignedIn:
    name: str
    digest: str
    until: float


class LearnerAppService(AppService):
    """One learner's app process: started without a shell, with their workspace."""

    def __init__(self, argv: Sequence[str], *, on_unsaved: Any, environment: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)
        self.extra_environment = environment or {}
        self.on_unsaved = on_unsaved
        self.pid: int | None = None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment["TUTOR_FRONT"] = "web"  # the app's browser keys and autosave
        environment.update(self.extra_environment)
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        self.pid = process.pid
        return process

    async def run(self) -> None:
        """textual-serve's pump; when the process ends, however it ends (a crash sends
        no exit packet), the page is told, so it offers to start again."""
        try:
            await super().run()
        finally:
            with contextlib.suppress(Exception):
                await self.remote_close()

    async def on_meta(self, data: bytes) -> None:
        meta = json.loads(data)
        if meta.get("type") == UNSAVED_META:
            await self.on_unsaved(bool(meta.get("unsaved")))
            return
        await super().on_meta(data)

    async def end(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Ask the app to quit (it saves the editor on its way out) and wait until its
        process has exited; one that has not after ``grace`` seconds is killed."""
        try:
            await asyncio.wait_for(self._stop_and_wait(), grace)
        except TimeoutError:
            log.warning("an app process did not quit within %.0f s: killed", grace)
            if self._process is not None:
                with contextlib.suppress(ProcessLookupError):
                    self._process.kill()

    async def _stop_and_wait(self) -> None:
        await self.stop()
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                await self._process.wait()


class TutorServer(Server):
    """textual-serve's server with sign-in, a workspace per learner and a local page."""

    def __init__(self, options: ServeOptions) -> None:
        options.check()
        super().__init__(
            command="tutor",
            host=options.host,
            port=options.port,
            title="tutor",
            public_url=options.public_url,
            statics_path=TEXTUAL_SERVE_STATIC,
            templates_path=TEMPLATES,
        )
        self.options = options
        if options.roster is not None:
            make_private(options.data_dir)  # every learner's workspace lives under it
        self.tokens = TokenStore(options.data_dir)
        self.limiter = options.limiter
        self.roster = frozenset(options.roster) if options.roster is not None else None
        self.sessions: dict[str, SignedIn] = {}
        #: Each learner's running app, so a new connection ends the previous one first.
        self.running: dict[str, LearnerAppService] = {}
        self.secure_cookies = (options.public_url or "").startswith("https:")
        self.relay: Any = None  # the RelayServer of the shared sandbox, once started
        self._grading = asyncio.Lock()

    @property
    def language(self) -> str:
        """The class's language: ``--lang``, else this process's (``TUTOR_LANG``, the
        locale), which the learners' apps inherit."""
        return self.options.lang or (ENGLISH if is_english() else current_language())

    def words(self, message: str) -> str:
        """``message`` (marked with ``N_``) in the class's language."""
        return translations(self.language).gettext(message)

    # -- who is asking ------------------------------------------------------------

    @property
    def open_mode(self) -> bool:
        return self.roster is None

    def learner(self, request: web.Request) -> str | None:
        """The signed-in learner's name ("" without a roster), else None."""
        if self.open_mode:
            return ""
        sid = request.cookies.get(COOKIE)
        signed = self.sessions.get(sid) if sid else None
        if signed is None:
            return None
        assert self.roster is not None
        if signed.until < time.time() or signed.name not in self.roster or not self.tokens.holds(signed.name, signed.digest):
            self.sessions.pop(sid or "", None)  # revoked, reissued, off the roster, or expired
            return None
        return signed.name

    def workspace(self, name: str) -> Path:
        if self.open_mode:
            from tutor.workspace import default_workspace

            return self.options.workspace or default_workspace()
        return self.tokens.workspace_for(name)

    def app_argv(self, name: str) -> list[str]:
        argv = [*self.options.app_command, "--workspace", str(self.workspace(name)), "--device", self.options.device]
        if self.options.lessons is not None:
            argv += ["--lessons", str(self.options.lessons)]
        if self.options.lang is not None:
            argv += ["--lang", self.options.lang]
        return argv

    # -- the web application ------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers])
        env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path),
                                   extensions=["jinja2.ext.i18n"])
        # The pages speak the class's language: its words are the app's catalogue's.
        words = translations(self.language)
        # The i18n extension adds this method to the environment; its stubs do not say so.
        env.install_gettext_callables(words.gettext, words.ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.globals["html_lang"] = self.language
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.post("/signin", self.handle_signin, name="signin"),
            web.post("/signout", self.handle_signout, name="signout"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/workspace.zip", self.handle_zip, name="zip"),
            web.get("/gradebook.csv", self.handle_gradebook, name="gradebook"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def make_app(self) -> web.Application:
        """The aiohttp application (tests and the benchmark run it in their own loop)."""
        return await self._make_app()

    @web.middleware
    async def _headers(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path in ("/", "/workspace.zip"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def on_startup(self, app: web.Application) -> None:
        if self.options.shared_sandbox:
            self.relay = await asyncio.to_thread(self._start_shared_sandbox)

    def _serving(self, *_: object) -> None:
        """Said once the server listens (aiohttp's own banner is left out)."""
        who = "no sign-in, one workspace" if self.open_mode else f"{len(self.roster or ())} learners on the roster"
        print(f"tutor: serving on {self.public_url} ({who}); Ctrl+C stops", flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(service.end() for service in list(self.running.values())), return_exceptions=True)
        if self.relay is not None:
            self.relay.close()
            with contextlib.suppress(OSError):
                self.relay.address.parent.rmdir()
            await asyncio.to_thread(self.relay.client.close)

    def _start_shared_sandbox(self) -> Any:
        """The one sandbox every learner's app runs in (blocking: it imports torch)."""
        from tutor.core import GRADING_TASK_MODULES, hidden_paths
        from tutor.lessons import default_lessons_dir, load_lessons
        from tutor.relay import RelayServer
        from tutor.sandbox.client import SandboxClient

        lessons = load_lessons([self.options.lessons or default_lessons_dir()])
        data = self.options.data_dir
        make_private(data)
        client = SandboxClient(hide_paths=hidden_paths(lessons), device=self.options.device,
                               warm_modules=GRADING_TASK_MODULES, log_path=data / "sandbox.log")
        client.start()
        client.wait_ready(120)
        # A short private path (a Unix socket's is limited to about 100 bytes), mode 700.
        relay = RelayServer(client, Path(tempfile.mkdtemp(prefix="tutor-relay-")) / "sandbox.sock")
        relay.start()
        return relay

    def _page(self, request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
        return aiohttp_jinja2.render_template(template, request, context, status=status)

    async def handle_index(self, request: web.Request) -> web.Response:
        name = self.learner(request)
        if name is None:
            return self._page(request, "signin.html")
        return self._page(
            request, "app_index.html",
            learner=name, signed_in=not self.open_mode, instructor=name in self.options.instructors,
            font_size=max(8, min(40, _to_int(request.query.get("fontsize", "16"), 16))),
        )

    async def handle_signin(self, request: web.Request) -> web.Response:
        if self.open_mode:
            raise web.HTTPSeeOther("./")
        address = client_address(request)
        wait = self.limiter.retry_after(address)
        if wait > 0:
            response = self._page(request, "signin.html", status=429,
                                  error=self.words(N_("Too many wrong tokens from here: try again in {s} s.")).format(s=int(wait) + 1))
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        form = await request.post()
        token = str(form.get("token", "")).strip()
        name = self.tokens.learner_for(token) if token else None
        if name is None or (self.roster is not None and name not in self.roster):
            self.limiter.failed(address)
            log.info("sign-in refused from %s", address)  # never the token itself
            return self._page(request, "signin.html", status=403, error=self.words(N_("That token is not valid here.")))
        self.limiter.succeeded(address)
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = SignedIn(name, token_hash(token), time.time() + SESSION_SECONDS)
        log.info("signed in: %s from %s", name, address)
        response = web.HTTPSeeOther("./")
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", secure=self.secure_cookies,
                            max_age=SESSION_SECONDS, path="/")
        raise response

    async def handle_signout(self, request: web.Request) -> web.Response:
        sid = request.cookies.get(COOKIE)
        if sid:
            self.sessions.pop(sid, None)
        response = web.HTTPSeeOther("./")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def handle_zip(self, request: web.Request) -> web.Response:
        name = self.learner(request)
        if name is None:
            raise web.HTTPForbidden(text=self.words(N_("sign in first")))
        data = await asyncio.to_thread(zip_workspace, self.workspace(name))
        filename = f"tutor-workspace-{name}.zip" if name else "tutor-workspace.zip"
        return web.Response(body=data, content_type="application/zip",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def handle_gradebook(self, request: web.Request) -> web.StreamResponse:
        """The class's gradebook, for an instructor: ``tutor grade --batch`` over every
        learner's workspace (resumable: what has not changed since the last download is
        not graded again), one grading at a time."""
        name = self.learner(request)
        if name is None or name not in self.options.instructors:
            raise web.HTTPForbidden(text=self.words(N_("the gradebook is for instructors")))
        data = self.options.data_dir
        book = data / "gradebook.csv"
        command = [*(self.options.grade_command or self.options.app_command), "grade", "--batch", str(data / "learners"),
                   "--gradebook", str(book), "--device", self.options.device]
        if self.options.lessons is not None:
            command += ["--lessons", str(self.options.lessons)]
        async with self._grading:
            (data / "learners").mkdir(parents=True, exist_ok=True, mode=0o700)
            book.unlink(missing_ok=True)
            process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.DEVNULL,
                                                           stderr=asyncio.subprocess.PIPE)
            _, errors = await process.communicate()
            if not book.is_file():
                log.error("grading the class failed: %s", errors.decode("utf-8", "replace")[-2000:])
                raise web.HTTPInternalServerError(text="grading the class failed: see the server's log")
            body = book.read_bytes()
        return web.Response(body=body, content_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="gradebook.csv"'})

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        if self.learner(request) is None:
            raise web.HTTPForbidden(text=self.words(N_("sign in first")))
        return await super().handle_download(request)

    def _same_origin(self, request: web.Request) -> bool:
        """A browser's WebSocket from a page of this server (not another site's page
        riding the learner's cookie). Clients that are not browsers send no Origin."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        host = request.headers.get("X-Forwarded-Host") or request.host
        return urlsplit(origin).netloc == host

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        name = self.learner(request)
        if name is None:
            raise web.HTTPForbidden(text=self.words(N_("sign in first")))
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="cross-origin connection refused")
        previous = self.running.pop(name, None)
        if previous is not None:
            # A reload or a second tab: the older app saves and ends before the new one
            # reads the workspace, so the new one resumes from what was last typed.
            await previous.end()
            await previous.remote_close()  # the app's exit closes it too; a hung one does not

        websocket = web.WebSocketResponse(heartbeat=15)
        width = _to_int(request.query.get("width", "80"), 80)
        height = _to_int(request.query.get("height", "24"), 24)
        service: LearnerAppService | None = None

        async def on_unsaved(unsaved: bool) -> None:
            await websocket.send_str(json.dumps([UNSAVED_META, unsaved]))

        try:
            await websocket.prepare(request)
            self.workspace(name).mkdir(parents=True, exist_ok=True, mode=0o700)
            service = LearnerAppService(
                self.app_argv(name), on_unsaved=on_unsaved,
                environment=self.relay.environment if self.relay is not None else None,
                write_bytes=websocket.send_bytes, write_str=websocket.send_str, close=websocket.close,
                download_manager=self.download_manager, debug=self.debug,
            )
            self.running[name] = service
            await service.start(width, height)
            await self._pump(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one learner's failure must not stop the server
            log.exception(error)
        finally:
            if service is not None:
                await service.end()
                if self.running.get(name) is service:
                    del self.running[name]
        return websocket

    async def _pump(self, websocket: web.WebSocketResponse, service: AppService) -> None:
        """textual-serve's message loop (keys, resize, ping, focus)."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = message.json()
            except (ValueError, TypeError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(_to_int(str(data.get("width")), 80), _to_int(str(data.get("height")), 24))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    def serve(self, debug: bool = False) -> None:
        """Run until Ctrl+C. The access log shows addresses and paths only: tokens
        travel in POST bodies, and query strings are left out."""
        self.debug = debug
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        web.run_app(self._make_app(), host=self.host, port=self.port, print=self._serving,
                    access_log_class=PathOnlyAccessLogger)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings: a URL's query can carry a secret the
    server never asked for (a Jupyter token forwarded by jupyter-server-proxy)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s %.3fs', request.remote, request.method, request.path, response.status, time)


def client_address(request: web.BaseRequest) -> str:
    """Who is signing in, for the rate limit. Behind a reverse proxy on this machine
    every request comes from the loopback address, and one learner's typos would lock
    out the class: from a loopback peer, the last address the proxy appended to
    X-Forwarded-For is the client's. A remote peer's header is not believed."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and is_loopback(peer):
        return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


def _to_int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def zip_workspace(root: Path) -> bytes:
    """The workspace as a zip: every regular file under ``root`` (links are not
    followed, so nothing outside the workspace can come along)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for filename in sorted(filenames):
                    path = Path(dirpath) / filename
                    if path.is_symlink() or not path.is_file():
                        continue
                    archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()
