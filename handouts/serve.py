"""Serve: a local print desk for nurses and a live preview for authors.

A small standard-library web app on 127.0.0.1. It renders through the same
pipeline as the CLI, keeps one warm WeasyPrint and caches PDFs and page images by
a hash of the composed document and its stylesheets, so a second request for the
same leaflet is instant. Request threads hand renders to the thread that called
`serve` (the main thread from the CLI), one at a time, where the per-render time
limit (SIGALRM) works. Every parameter is a slug checked against the library: no
path from a request reaches the disk.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import queue
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from .errors import HandoutsError, Problem
from .library import Library
from .models import PAPERS

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    """A cached render: the PDF, its page images (lazily) and page texts."""

    key: str
    pdf: bytes
    pages: int
    texts: list[str]
    pngs: dict[tuple[int, int], bytes]
    inputs: dict = field(default_factory=dict)   # what it read (Output.inputs)


class App:
    """State shared by request threads: the library, a warm renderer, caches."""

    def __init__(self, library_path: Path | None, clinic: str | None = None):
        from .render import Renderer  # noqa: PLC0415 - warm once, at start

        self.library_path = library_path
        self.default_clinic = clinic
        self.renderer = Renderer()   # with the default time limit per render
        self.lock = threading.Lock()
        self.renders: queue.PriorityQueue | None = None   # set while the render loop runs
        self._order = itertools.count()   # first come, first served within a priority
        self._loop_thread: int | None = None
        self.cache: dict[str, Rendered] = {}
        self.latest: dict[object, str] = {}   # Job -> key of its latest render

    def library(self) -> Library:
        """The library, opened afresh so new topics and clinics appear at once."""
        return Library.open(self.library_path)

    def render(self, kind: str, name: str, clinic: str, paper: str, variant: str,
               *, waiting: bool = True, status: bool = False):
        """Render (or fetch from cache) a leaflet or booklet; HandoutsError on bad input.

        From a request thread, the work runs on the render loop's thread and this
        waits for it. `waiting=False` marks background work (thumbnails, page
        counts): a PDF or preview someone is waiting for goes ahead of it, so a
        nurse's download never queues behind the thumbnails of a dozen booklets.
        With `status`, returns (Rendered, True if it came from the cache).
        """
        if self.renders is None or threading.get_ident() == self._loop_thread:
            rendered, cached = self._render(kind, name, clinic, paper, variant)
            return (rendered, cached) if status else rendered
        from concurrent.futures import Future  # noqa: PLC0415

        done: Future = Future()
        priority = 0 if waiting else 1
        self.renders.put((priority, next(self._order), done,
                          (kind, name, clinic, paper, variant)))
        rendered, cached = done.result()
        return (rendered, cached) if status else rendered

    def run_render_loop(self) -> None:
        """Do the renders request threads hand over, until interrupted (Ctrl+C)."""
        self._loop_thread = threading.get_ident()
        self.renders = queue.PriorityQueue()
        try:
            while True:
                try:
                    _, _, done, args = self.renders.get(timeout=0.25)
                except queue.Empty:
                    continue
                if not done.set_running_or_notify_cancel():
                    continue
                try:
                    done.set_result(self._render(*args))
                except Exception as error:   # raised again in the waiting request thread
                    done.set_exception(error)
        finally:
            self.renders = None

    def _render(self, kind: str, name: str, clinic: str, paper: str,
                variant: str) -> tuple[Rendered, bool]:
        from .pipeline import Job, produce, unchanged  # noqa: PLC0415

        booklet = kind == "booklet"
        job = Job("booklet" if booklet else "leaflet", clinic, () if booklet else (name,),
                  paper or None, variant, booklet=name if booklet else None)
        with self.lock:
            # The last render of this job is served again while every file it read
            # is unchanged: an edited topic, template or logo shows at once.
            known = self.cache.get(self.latest.get(job, ""))
            cached = known is not None and unchanged(job, known.inputs)
            if not cached:
                known = self._store(produce(job, self.library(), self.renderer))
            self.latest[job] = known.key
            return known, cached

    def _store(self, output) -> Rendered:
        texts = [" ".join(_page_text(page).split()) for page in output.document.pages] \
            if output.document else _pdf_texts(output.pdf)   # from the output cache
        key = output.sha256[:24]
        self.cache[key] = Rendered(key, output.pdf, output.pages, texts, {}, output.inputs)
        if len(self.cache) > 200:  # bounded: drop the oldest renders
            for old in list(self.cache)[:50]:
                self.cache.pop(old, None)
        return self.cache[key]

    def png(self, rendered: Rendered, number: int, width: int) -> bytes:
        """Page `number` (1-based) as a PNG at most `width` pixels wide, cached."""
        from .images import pdf_to_pngs  # noqa: PLC0415

        key = (number, width)
        if key not in rendered.pngs:
            [png] = pdf_to_pngs(rendered.pdf, dpi=150, first=number, last=number,
                                max_width=width)
            rendered.pngs[key] = png
        return rendered.pngs[key]


def _pdf_texts(pdf: bytes) -> list[str]:
    """The text of each page of a PDF (for alt text and search)."""
    from io import BytesIO  # noqa: PLC0415

    from pypdf import PdfReader  # noqa: PLC0415

    return [" ".join((page.extract_text() or "").split()) for page in
            PdfReader(BytesIO(pdf)).pages]


def _page_text(page) -> str:
    """The text of one laid-out WeasyPrint page (for alt text and search)."""
    parts = []

    def walk(box):
        text = getattr(box, "text", None)
        if isinstance(text, str):
            parts.append(text)
        for child in getattr(box, "children", []) or []:
            walk(child)

    walk(page._page_box)   # WeasyPrint has no public text API
    return " ".join(parts)


# --- pages -------------------------------------------------------------------------------

STYLE = """
body { font-family: "Atkinson Hyperlegible", system-ui, sans-serif; margin: 0; color: #1d1d1b;
       background: #f3f5f7; }
header { background: #1d3b53; color: #fff; padding: 12px 24px; display: flex; gap: 24px;
         align-items: center; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; }
header form { display: flex; gap: 12px; align-items: center; }
header label { font-size: 15px; }
select, button, .button { font-size: 16px; padding: 6px 10px; border-radius: 6px; }
main { padding: 24px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 20px; }
.card { background: #fff; border-radius: 10px; padding: 14px; box-shadow: 0 1px 3px #0002;
        display: flex; flex-direction: column; gap: 8px; }
.card img { width: 100%; border: 1px solid #ccd; background: #fff; aspect-ratio: 1 / 1.414;
            object-fit: contain; }
.card h2 { font-size: 17px; margin: 0; }
.card p { margin: 0; font-size: 14px; }
.meta { color: #555; font-size: 13px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: auto; }
.button { background: #1f5f8b; color: #fff; text-decoration: none; border: 0; }
.button.secondary { background: #e4ebf1; color: #1d3b53; }
.error { background: #fde8e8; border: 2px solid #b3261e; color: #7a1712; padding: 12px 16px;
         border-radius: 8px; white-space: pre-wrap; font-family: ui-monospace, monospace; }
.pages { display: flex; flex-wrap: wrap; gap: 16px; }
.pages img { width: 420px; max-width: 100%; background: #fff; box-shadow: 0 1px 4px #0003; }
.status { font-size: 14px; color: #ddd; }
h2.section { margin: 28px 0 12px; font-size: 18px; }
"""


def _options(values, selected) -> str:
    return "".join(f'<option value="{html.escape(v)}"{" selected" if v == selected else ""}>'
                   f"{html.escape(label)}</option>" for v, label in values)


def print_desk(app: App, clinic: str | None, paper: str | None, large: bool) -> str:
    """The print desk: every topic as a card for one clinic and paper."""
    from .editions import load_edition, load_terms  # noqa: PLC0415
    from .load import load_booklet, load_clinic  # noqa: PLC0415

    library = app.library()
    clinics = library.clinics()
    clinic = clinic if clinic in clinics else (app.default_clinic if app.default_clinic in
                                               clinics else next(iter(clinics), None))
    names = {}
    for slug, folder in clinics.items():
        try:
            names[slug] = load_clinic(folder).clinic.name
        except HandoutsError:
            names[slug] = f"{slug} (invalid profile)"
    paper = paper if paper in PAPERS else None
    language = None
    if clinic:
        try:
            profile = load_clinic(clinics[clinic]).clinic
            paper, language = paper or profile.paper, profile.language
        except HandoutsError:
            paper = paper or "a4"
    variant = "large" if large else "standard"
    cards, problems = [], []
    try:
        terms = load_terms(library)
    except HandoutsError as error:
        problems.extend(error.problems)
        terms = {}
    for slug in library.topics():
        try:   # a broken topic is an error on the page; the other topics are served
            meta = load_edition(library, slug, language, terms)[0].meta
        except HandoutsError as error:
            problems.extend(error.problems)
            continue
        query = urlencode({"topic": slug, "clinic": clinic, "paper": paper, "variant": variant})
        cards.append(f"""
        <article class="card" data-topic="{html.escape(slug)}">
          <img loading="lazy" src="/thumb.png?{query}" alt="First page of {html.escape(meta.title)}">
          <h2>{html.escape(meta.title)}</h2>
          <p>{html.escape(meta.summary)}</p>
          <p class="meta"><span class="page-count" data-src="/api/info?{query}">up to {meta.budget(paper or 'a4', variant)} pages</span>
             · version {html.escape(meta.version)}</p>
          <div class="actions">
            <a class="button" href="/pdf?{query}" download="{html.escape(slug)}-{paper}.pdf">Download PDF</a>
            <a class="button secondary" href="/pdf?{query}&inline=1" target="_blank">Open</a>
            <a class="button secondary" href="/preview?{query}">Preview</a>
          </div>
        </article>""")
    booklets = []
    for slug, path in library.booklets().items():
        try:
            spec = load_booklet(path)
        except HandoutsError as error:
            problems.extend(error.problems)
            continue
        query = urlencode({"booklet": slug, "clinic": clinic, "paper": paper, "variant": variant})
        booklets.append(f"""
        <article class="card" data-booklet="{html.escape(slug)}">
          <h2>{html.escape(spec.title)}</h2><p>{html.escape(spec.audience)}</p>
          <p class="meta">{len(spec.topics)} topics</p>
          <div class="actions"><a class="button" href="/pdf?{query}" download="booklet-{html.escape(slug)}.pdf">Download PDF</a>
          <a class="button secondary" href="/pdf?{query}&inline=1" target="_blank">Open</a></div>
        </article>""")
    errors = "".join(f'<p class="error">{html.escape(str(p))}</p>' for p in problems)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Print desk: handouts</title><style>{STYLE}</style></head><body>
<header><h1>Print desk</h1>
<form method="get" action="/">
  <label>Clinic <select name="clinic" id="clinic" onchange="this.form.submit()">{_options(names.items(), clinic)}</select></label>
  <label>Paper <select name="paper" id="paper" onchange="this.form.submit()">{_options([(p, p.upper() if p != 'half-letter' else 'Half Letter') for p in PAPERS], paper)}</select></label>
  <label><input type="checkbox" name="large" value="1" {"checked" if large else ""} onchange="this.form.submit()"> Large print</label>
  <noscript><button>Show</button></noscript>
</form></header>
<main>{errors}
<h2 class="section">Leaflets</h2><div class="cards">{''.join(cards)}</div>
<h2 class="section">Booklets</h2><div class="cards">{''.join(booklets) or '<p>No booklets declared.</p>'}</div>
</main>
<script>
for (const span of document.querySelectorAll('.page-count')) {{
  fetch(span.dataset.src).then(r => r.json()).then(info => {{
    if (info.pages) span.textContent = info.pages + (info.pages === 1 ? ' page' : ' pages');
    if (info.error) span.textContent = 'cannot build: ' + info.error.message;
  }});
}}
</script></body></html>"""


def preview_page(query: dict) -> str:
    """The live preview: the topic's pages, refreshed when a library file changes."""
    title = html.escape(query.get("topic", ""))
    api = "/api/preview?" + urlencode({k: v for k, v in query.items()
                                       if k in ("topic", "clinic", "paper", "variant")})
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Preview: {title}</title><style>{STYLE}</style></head><body>
<header><h1>Preview: {title}</h1><span class="status" id="status">loading…</span>
<a class="button secondary" href="/">Print desk</a></header>
<main><div id="error" class="error" hidden></div><div id="pages" class="pages"></div></main>
<script>
let token = null;
async function poll() {{
  try {{
    const response = await fetch({json.dumps(api)} + '&known=' + (token || ''));
    const state = await response.json();
    const box = document.getElementById('error');
    if (state.error) {{
      box.hidden = false;
      box.textContent = state.error.text;
      document.getElementById('status').textContent = 'error: fix the file and save';
    }} else {{
      box.hidden = true;
      if (state.token !== token) {{
        token = state.token;
        const pages = document.getElementById('pages');
        pages.replaceChildren(...state.pages.map(p => {{
          const img = document.createElement('img');
          img.src = p.src; img.alt = p.text; img.title = 'Page ' + p.number;
          return img;
        }}));
      }}
      document.getElementById('status').textContent =
        state.pages.length + ' page(s) · updated ' + new Date().toLocaleTimeString();
    }}
  }} catch (e) {{
    document.getElementById('status').textContent = 'server not reachable';
  }}
  setTimeout(poll, 800);
}}
poll();
</script></body></html>"""


# --- HTTP --------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """Routes requests to the App; never serves a file from a request path."""

    app: App
    server_version = "handouts"

    def log_message(self, format, *args):   # the standard library's signature
        log.debug("%s %s", self.address_string(), format % args)

    timeout = 30   # seconds a slow client may hold its connection idle

    def do_GET(self):   # the standard library's name
        if not self._host_ok():
            return self._send(HTTPStatus.FORBIDDEN, b"forbidden host", "text/plain")
        if not self._same_site():
            return self._send(HTTPStatus.FORBIDDEN, b"requests from other sites are refused",
                              "text/plain")
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        routes = {"/": self._desk, "/pdf": self._pdf, "/thumb.png": self._thumb,
                  "/api/info": self._info, "/preview": self._preview,
                  "/api/preview": self._api_preview, "/page.png": self._page,
                  "/healthz": lambda q: self._send(HTTPStatus.OK, b"ok", "text/plain")}
        route = routes.get(url.path)
        if route is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        try:
            route(query)
        except HandoutsError as error:
            body = json.dumps({"error": _error_json(error.problems)}).encode()
            self._send(HTTPStatus.UNPROCESSABLE_ENTITY, body, "application/json")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as error:   # the server keeps running
            log.exception("request failed")
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR,
                       f"internal error: {type(error).__name__}: {error}".encode(), "text/plain")

    def _host_ok(self) -> bool:
        # Refuse other Host names (DNS rebinding): only loopback names reach the app.
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return host in ("127.0.0.1", "localhost", "::1", self.server.server_address[0])

    def _same_site(self) -> bool:
        # Any page a nurse has open could otherwise queue renders here with <img> tags.
        site = self.headers.get("Sec-Fetch-Site")
        if site and site not in ("same-origin", "none"):
            return False
        here = self.headers.get("Host") or ""
        for name in ("Origin", "Referer"):
            value = self.headers.get(name)
            if value is not None and urlsplit(value).netloc != here:
                return False
        return True

    def _send(self, status, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self'; style-src 'unsafe-inline'; "
                         "script-src 'unsafe-inline'; connect-src 'self'")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _params(self, query: dict):
        from .pipeline import check_choice  # noqa: PLC0415

        kind = "booklet" if "booklet" in query else "leaflet"
        name = query.get("booklet") or query.get("topic") or ""
        library = self.app.library()
        clinic = query.get("clinic") or self.app.default_clinic or next(iter(library.clinics()),
                                                                        "")
        paper = query.get("paper") or None
        if paper:
            check_choice(paper, PAPERS, "paper size")
        variant = query.get("variant", "standard")
        check_choice(variant, ("standard", "large"), "variant")
        return kind, name, clinic, paper, variant

    def _desk(self, query):
        page = print_desk(self.app, query.get("clinic"), query.get("paper"), bool(query.get("large")))
        self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    def _pdf(self, query):
        kind, name, clinic, paper, variant = self._params(query)
        rendered, cached = self.app.render(kind, name, clinic, paper, variant, status=True)
        hit = "hit" if cached else "miss"
        filename = f"{'booklet-' if kind == 'booklet' else ''}{name}-{clinic}.pdf"
        disposition = "inline" if query.get("inline") else "attachment"
        self._send(HTTPStatus.OK, rendered.pdf, "application/pdf",
                   {"Content-Disposition": f"{disposition}; filename=\"{quote(filename)}\"",
                    "X-Pages": str(rendered.pages), "X-Handouts-Cache": hit})

    def _thumb(self, query):
        rendered = self.app.render(*self._params(query), waiting=False)
        self._send(HTTPStatus.OK, self.app.png(rendered, 1, 360), "image/png")

    def _info(self, query):
        try:
            rendered = self.app.render(*self._params(query), waiting=False)
            body = {"pages": rendered.pages, "token": rendered.key}
        except HandoutsError as error:
            body = {"error": _error_json(error.problems)}
        self._send(HTTPStatus.OK, json.dumps(body).encode(), "application/json")

    def _preview(self, query):
        self._params(query)
        self._send(HTTPStatus.OK, preview_page(query).encode(), "text/html; charset=utf-8")

    def _api_preview(self, query):
        params = self._params(query)
        try:
            rendered = self.app.render(*params)
        except HandoutsError as error:
            body = {"error": _error_json(error.problems)}
            return self._send(HTTPStatus.OK, json.dumps(body).encode(), "application/json")
        base = urlencode({"topic": params[1], "clinic": params[2], "paper": params[3] or "",
                          "variant": params[4], "t": rendered.key})
        pages = [{"number": n, "src": f"/page.png?{base}&n={n}", "text": rendered.texts[n - 1]}
                 for n in range(1, rendered.pages + 1)]
        body = {"token": rendered.key, "pages": pages}
        self._send(HTTPStatus.OK, json.dumps(body).encode(), "application/json")

    def _page(self, query):
        rendered = self.app.cache.get(query.get("t", ""))
        if rendered is None:
            rendered = self.app.render(*self._params(query))
        try:
            number = int(query.get("n", "1"))
        except ValueError:
            number = 0
        if not 1 <= number <= rendered.pages:
            return self._send(HTTPStatus.NOT_FOUND, b"no such page", "text/plain")
        self._send(HTTPStatus.OK, self.app.png(rendered, number, 840), "image/png")


def _error_json(problems: list[Problem]) -> dict:
    first = problems[0] if problems else Problem("unknown error")
    return {"file": str(first.file) if first.file else None, "line": first.line,
            "message": first.message, "text": "\n".join(str(p) for p in problems)}


class _Server(ThreadingHTTPServer):
    """A threading server with a cap on the connections served at once."""

    daemon_threads = True
    MAX_CONNECTIONS = 32

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(self.MAX_CONNECTIONS)

    def process_request(self, request, client_address):   # socketserver's name
        if not self.slots.acquire(blocking=False):
            try:   # too many at once: a short answer instead of another thread
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\nRetry-After: 2\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):   # socketserver's name
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def serve(library_path: Path | None, host: str = "127.0.0.1", port: int = 8000,
          clinic: str | None = None, ready=None) -> None:
    """Run the server until interrupted; `ready(url)` is called once it listens."""
    Library.open(library_path)  # a bad --library fails before the server starts
    app = App(library_path, clinic)
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    url = f"http://{host}:{server.server_address[1]}/"
    if ready:
        ready(url)
    # The HTTP server answers on its own threads; this thread renders, so the
    # time limit applies and Ctrl+C arrives here.
    listener = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.25},
                                name="handouts-http", daemon=True)
    listener.start()
    try:
        app.run_render_loop()
    finally:
        server.shutdown()
        server.server_close()
