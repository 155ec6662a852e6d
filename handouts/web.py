"""Web: the print desk and the live preview on HTTP (Starlette on uvicorn).

Pages are Jinja2 templates shipped in the package (`desk/templates`, trusted code, not
a library's leaflet templates); the work is `serve.Desk`'s. Only GET and HEAD are
answered, only for the host names on the allow-list (a DNS-rebinding page cannot
reach the desk through its own name), and never for a request another web site
made (a page open in a nurse's browser cannot make the desk render). uvicorn caps
the connections served at once, and a client that does not finish its request's
headers in time, or idles between requests, is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .errors import HandoutsError, Problem, UsageError
from .library import Library
from .messages import direction
from .models import PAPER_SIZES, PAPERS
from .serve import PAGE_WIDTH, THUMB_WIDTH, Desk, Workers, language_name

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent / "desk"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")
MAX_CONNECTIONS = 32     # at once; more get a short 503
RETRY_AFTER = 2          # seconds a client turned away at the cap is told to wait
REQUEST_TIMEOUT = 30     # seconds to send a request's headers, or to idle between requests
STATIC = {"desk.css": "text/css", "desk.js": "text/javascript",
          "preview.js": "text/javascript"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
# Pages load only the desk's own style and scripts; PDFs get no CSP (the browser's viewer).
PAGE_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")


def templates() -> jinja2.Environment:
    """The desk's page templates, autoescaped."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(url=_url, language_name=language_name, direction=direction,
                       papers=PAPERS, paper_name=_paper_name)
    return env


def _url(path: str, query: dict, **more) -> str:
    return f"{path}?{urlencode({**query, **more})}"


def _paper_name(paper: str) -> str:
    return PAPER_SIZES[paper].label if paper in PAPER_SIZES else paper


# --- guard: host names, methods, other sites ---------------------------------------------

class Guard:
    """ASGI middleware: refuses foreign Host names, other methods than GET and HEAD, and
    requests other web sites make; adds the security headers to every answer."""

    def __init__(self, app, hosts: set[str]):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        refusal = None
        if _host_name(headers.get("host", "")) not in self.hosts:
            refusal = PlainTextResponse("forbidden host", 403)
        elif scope["method"] not in ("GET", "HEAD"):
            refusal = PlainTextResponse("the print desk only reads: GET and HEAD", 405,
                                        headers={"Allow": "GET, HEAD"})
        elif not _same_site(headers):
            refusal = PlainTextResponse("requests from other sites are refused", 403)

        async def secured(message):
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if kind.startswith(b"text/html"):
                    extra.append((b"content-security-policy", PAGE_POLICY.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await (refusal or self.app)(scope, receive, secured)


def _host_name(host: str) -> str:
    """The name in a Host header, without its port ("[::1]:8000" -> "::1")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_site(headers: Headers) -> bool:
    # Any page a nurse has open could otherwise queue renders here with <img> tags.
    site = headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return False
    here = headers.get("host", "")
    for name in ("origin", "referer"):
        value = headers.get(name)
        if value is not None and urlsplit(value).netloc != here:
            return False
    return True


# --- pages and answers -------------------------------------------------------------------

def make_app(desk: Desk, hosts: set[str]):
    """The ASGI application for a Desk, guarded for `hosts`."""
    pages = templates()
    statics = {name: (HERE / "static" / name).read_bytes() for name in STATIC}

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(pages.get_template(name).render(**context), status)

    def query_of(request: Request) -> dict:
        return {key: request.query_params.getlist(key)[-1] for key in request.query_params}

    async def desk_page(request: Request):
        offers = await asyncio.to_thread(desk.offers, query_of(request))
        return page("desk.html.j2", **offers)

    async def pdf(request: Request):
        query = query_of(request)
        job = await asyncio.to_thread(desk.job, query)
        await asyncio.to_thread(desk.refuse_unfit, job)
        rendered, cached = await desk.document(job)
        if request.method == "GET":   # HEAD hands nothing out
            await asyncio.to_thread(desk.record, job, rendered, cached)
        disposition = "inline" if query.get("inline") else "attachment"
        return Response(rendered.pdf, media_type="application/pdf", headers={
            "Content-Disposition": f"{disposition}; filename=\"{rendered.filename}\"; "
                                   f"filename*=UTF-8''{quote(rendered.filename)}",
            "X-Pages": str(rendered.pages), "X-Handouts-Cache": "hit" if cached else "miss"})

    async def thumb(request: Request):
        job = await asyncio.to_thread(desk.job, query_of(request))

        async def work():
            rendered, _ = await desk.document(job, background=True)
            return await desk.page_png(rendered, 1, THUMB_WIDTH, background=True)

        return Response(await unless_gone(request, work()), media_type="image/png")

    async def info(request: Request):
        job = await asyncio.to_thread(desk.job, query_of(request))
        try:
            rendered, _ = await unless_gone(request, desk.document(job, background=True))
        except HandoutsError as error:
            return JSONResponse({"error": error_json(error.problems)})
        return JSONResponse({"pages": rendered.pages, "token": rendered.token,
                             "file": rendered.filename})

    async def preview(request: Request):
        query = query_of(request)
        job = await asyncio.to_thread(desk.job, query)
        title = await asyncio.to_thread(desk.title, job)
        api = _url("/api/preview", {k: v for k, v in query.items() if k in (
            "topic", "booklet", "clinic", "paper", "variant", "lang")})
        return page("preview.html.j2", title=title, api=api, query=query)

    async def api_preview(request: Request):
        query = query_of(request)
        job = await asyncio.to_thread(desk.job, query)
        try:
            rendered, _ = await desk.document(job)
        except HandoutsError as error:
            return JSONResponse({"error": error_json(error.problems)})
        texts = await asyncio.to_thread(rendered.page_texts)
        base = {k: v for k, v in query.items() if k in (
            "topic", "booklet", "clinic", "paper", "variant", "lang")}
        pages = [{"number": n, "src": _url("/page.png", base, t=rendered.token, n=n),
                  "text": texts[n - 1] if n <= len(texts) else f"Page {n}"}
                 for n in range(1, rendered.pages + 1)]
        return JSONResponse({"token": rendered.token, "pages": pages})

    async def page_png(request: Request):
        query = query_of(request)
        rendered = desk.by_token(query.get("t", ""))
        if rendered is None:
            job = await asyncio.to_thread(desk.job, query)
            rendered, _ = await desk.document(job)
        try:
            number = int(query.get("n", "1"))
        except ValueError:
            number = 0
        if not 1 <= number <= rendered.pages:
            return PlainTextResponse("no such page", 404)
        return Response(await desk.page_png(rendered, number, PAGE_WIDTH),
                        media_type="image/png")

    async def static(request: Request):
        name = request.path_params["name"]
        if name not in statics:
            return PlainTextResponse("not found", 404)
        return Response(statics[name], media_type=STATIC[name])

    async def healthz(request: Request):
        return PlainTextResponse("ok")

    async def refused(request: Request, error: HandoutsError):
        body = {"error": error_json(error.problems)}
        if "text/html" in request.headers.get("accept", ""):
            return page("error.html.j2", 422, problems=error.problems,
                        usage=isinstance(error, UsageError))
        return JSONResponse(body, 422)

    async def not_found(request: Request, error):
        return PlainTextResponse("not found", 404)

    async def gone(request: Request, error):   # nobody reads it
        return PlainTextResponse("client closed the request", 499)

    routes = [Route("/", desk_page), Route("/pdf", pdf), Route("/thumb.png", thumb),
              Route("/api/info", info), Route("/preview", preview),
              Route("/api/preview", api_preview), Route("/page.png", page_png),
              Route("/static/{name}", static), Route("/healthz", healthz)]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:   # before uvicorn hands a caught signal back to the process
            if desk.workers is not None:
                await asyncio.to_thread(desk.workers.close)

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HandoutsError: refused, 404: not_found,
                                        ClientGone: gone})
    return Guard(app, hosts)


async def unless_gone(request: Request, work):
    """The result of the coroutine `work`, or a 499-style end if the client leaves first:
    background work for a page already closed is dropped, not queued for nothing."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=1)
        if done:
            return task.result()
        if await request.is_disconnected():
            task.cancel()
            raise ClientGone


class ClientGone(Exception):
    """The client closed its connection before its answer was ready."""


def error_json(problems: list[Problem]) -> dict:
    """The first problem's parts, and every problem as text (for the preview's error)."""
    first = problems[0] if problems else Problem("unknown error")
    return {"file": str(first.file) if first.file else None, "line": first.line,
            "message": first.message, "text": "\n".join(str(p) for p in problems)}


# --- the server --------------------------------------------------------------------------

def allowed_hosts(host: str, extra: tuple[str, ...] = ()) -> set[str]:
    """The Host names the desk answers to: loopback, the address it listens on (unless
    every address), and the names given with --allow-host."""
    names = set(LOOPBACK) | {name.lower() for name in extra}
    if host not in WILDCARD:
        names.add(host.lower())
    return names


def listen(host: str, port: int) -> socket.socket:
    """A listening socket; a busy port or a bad address is a UsageError (exit 2)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UsageError(f"cannot listen on {host!r}: {error.strerror}",
                         hint="give --host an address of this computer, e.g. 0.0.0.0 "
                              "for every address") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use (another print desk "
                             "or program is listening there)",
                             hint="stop it, or choose another port: --port 8001 "
                                  "(--port 0 picks a free one)") from None
        raise UsageError(f"cannot listen on {host} port {port}: {error.strerror}",
                         hint="ports below 1024 need root: choose --port 8000 and let "
                              "the reverse proxy listen on 80/443") from None
    sock.set_inheritable(False)
    return sock


async def _come_back_later(scope, receive, send) -> None:
    """uvicorn's short 503 past the connection cap, with Retry-After: a script printing
    many leaflets, or a browser, waits and asks again rather than failing."""
    body = b"The print desk is busy: please try again in a moment.\n"
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _protocol():
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's headers: a client
    that connects and sends nothing, or dribbles a byte at a time (slowloris), is
    dropped after REQUEST_TIMEOUT seconds instead of holding a connection slot."""
    import h11  # noqa: PLC0415
    from uvicorn.protocols.http import h11_impl  # noqa: PLC0415
    from uvicorn.protocols.http.h11_impl import H11Protocol  # noqa: PLC0415

    # Past the cap uvicorn answers with its own 503 (its module's name for it).
    h11_impl.service_unavailable = _come_back_later

    class Protocol(H11Protocol):
        deadline = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._start_deadline()

        def data_received(self, data):
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE and self.deadline is not None:
                self.deadline.cancel()   # the headers are in: the render may take long
                self.deadline = None

        def on_response_complete(self):
            super().on_response_complete()
            self._start_deadline()

        def connection_lost(self, exc):
            if self.deadline is not None:
                self.deadline.cancel()
            super().connection_lost(exc)

        def _start_deadline(self):
            if self.deadline is not None:
                self.deadline.cancel()
            self.deadline = self.loop.call_later(REQUEST_TIMEOUT, self._expire)

        def _expire(self):
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return Protocol


def run(library_path: Path | None, host: str = "127.0.0.1", port: int = 8000, *,
        clinic: str | None = None, workers: int = 2, allow_hosts: tuple[str, ...] = (),
        audit_log: Path | None = None, ready=None) -> None:
    """Serve the desk until interrupted; `ready(url, desk)` is called once it listens."""
    import uvicorn  # noqa: PLC0415

    from .timelimit import default_time_limit  # noqa: PLC0415

    library = Library.open(library_path)   # a bad --library fails before the server starts
    if clinic:
        library.clinic_folder(clinic)
    sock = listen(host, port)
    desk = Desk(library_path, Workers(workers, default_time_limit()), clinic, audit_log)
    app = make_app(desk, allowed_hosts(host, allow_hosts))
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False,
                            server_header=False, limit_concurrency=MAX_CONNECTIONS,
                            timeout_keep_alive=REQUEST_TIMEOUT, http=_protocol(),
                            timeout_graceful_shutdown=5)
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    if ready:
        ready(f"http://{shown}:{bound[1]}/", desk)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
