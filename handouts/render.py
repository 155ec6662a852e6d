"""Render: composed HTML -> PDF bytes with WeasyPrint, in a sandbox.

WeasyPrint fetches `file://`, `http(s)://` and `data:` URLs by default. Our
fetcher serves only regular files inside the library's asset folders (and the
font package), resolved through symlinks, so untrusted content can read nothing
else and reach no network. A Renderer keeps one FontConfiguration and the parsed
stylesheets warm, so batch workers and the preview server render quickly without
growing memory.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import record
from .errors import RenderError
from .files import MAX_ASSET_BYTES
from .fonts import font_dirs, font_face_css, font_files
from .models import Composed
from .pagelimit import Overfull, limit_pages
from .timelimit import default_time_limit, time_limit, uninterrupted

log = logging.getLogger(__name__)

ASSET_TYPES = {
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf",
    ".woff": "font/woff", ".woff2": "font/woff2",
}
def _make_fetcher_class():
    from .engine import import_weasyprint  # noqa: PLC0415

    import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: PLC0415

    class LibraryFetcher(URLFetcher):
        """Serves files under the allowed roots; refuses everything else."""

        def __init__(self, roots: list[Path]):
            super().__init__(allowed_protocols={"file"}, allow_redirects=False)
            self.roots = [os.path.realpath(r) for r in roots]
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            path = self._allowed_path(url)
            if path is None:
                self.refused.append(url)
                log.warning("refused to load %s: only files inside the handout library "
                            "may be used", url[:200])
                raise ValueError(f"refused: {url[:200]}")
            record.read(path)
            with uninterrupted(), open(path, "rb") as handle:
                data = handle.read(MAX_ASSET_BYTES + 1)
            if len(data) > MAX_ASSET_BYTES:
                self.refused.append(url)
                raise ValueError(f"refused: {url[:200]} is larger than 8 MB")
            mime = ASSET_TYPES[os.path.splitext(path)[1].lower()]
            return URLFetcherResponse(url, data, {"Content-Type": mime})

        def _allowed_path(self, url: str) -> str | None:
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                return None
            path = os.path.realpath(unquote(parts.path))
            if os.path.splitext(path)[1].lower() not in ASSET_TYPES:
                return None
            if not os.path.isfile(path):
                return None
            for root in self.roots:
                if os.path.commonpath([path, root]) == root:
                    return path
            return None

    return LibraryFetcher


class _Capture(logging.Handler):
    """Collects WeasyPrint's warnings (missing glyphs, unsupported CSS) for one render."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


# Layouts a renderer makes before it settles (Renderer.settle): a few documents, which
# fill its memories of the library's lines.
SETTLED_AFTER = 8


class Renderer:
    """A warm WeasyPrint: one font configuration and a stylesheet cache, many documents."""

    def __init__(self, roots: list[Path] | None = None,
                 time_limit: float | None | str = "default"):
        from .engine import import_weasyprint  # noqa: PLC0415

        weasyprint = import_weasyprint()  # heavy; only commands that render pay for it
        from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

        self._weasyprint = weasyprint
        self.version = f"weasyprint {weasyprint.__version__}"
        # Documents carry their own library's roots; these are the fallback.
        self.roots = list(roots or font_dirs())
        self.time_limit = default_time_limit() if time_limit == "default" else time_limit
        self.font_config = FontConfiguration()
        self._fetcher_class = _make_fetcher_class()
        self._css: dict[tuple[str, int, int], object] = {}
        self.documents = 0
        self._settled = False
        self._fonts = weasyprint.CSS(string=font_face_css(), font_config=self.font_config,
                                     url_fetcher=self._fetcher_class(self.roots))
        logging.getLogger("weasyprint").setLevel(logging.WARNING)

    def settle(self) -> None:
        """Once, after this renderer's first `SETTLED_AFTER` layouts: collect the
        garbage, then leave everything still alive out of the cyclic collector's
        walks (gc.freeze). By then it is mostly what lasts as long as the process:
        the remembered line breaks, drawn lines, stylesheets and fonts, tens of
        thousands of objects that each full collection walked again (a twelfth of a
        warm worker's time went on collecting). Called between documents, when none
        is alive; what is frozen was already in use by the next one."""
        if self.documents >= SETTLED_AFTER and not self._settled:
            self._settled = True
            gc.collect()
            gc.freeze()

    def _stylesheet(self, path: Path, fetcher):
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        cached = self._css.get(key)
        if cached is None:
            # Uninterrupted: WeasyPrint opens the file a line before its `with` (a
            # sheet is parsed once per renderer, and the library's are small).
            with record.recording() as reads, uninterrupted():
                record.read(path)
                sheet = self._weasyprint.CSS(filename=str(path), font_config=self.font_config,
                                             url_fetcher=fetcher)
            cached = self._css[key] = (sheet, sorted(reads.files))
        else:
            for read in cached[1]:   # a document using a warm sheet still read its files
                record.read(read)
        return cached[0]

    def font_files(self) -> list[Path]:
        """The font files every document uses (loaded once, when the renderer started)."""
        return font_files()

    def render(self, composed: Composed, *, pdf_variant: str | None = "pdf/ua-1",
               at_most: int | None = None):
        """Lay out `composed`; returns (weasyprint Document, fetcher, captured warnings).

        With `at_most`, a layout certain to need more pages than that stops early with
        pagelimit.Overfull (only whether it fits is wanted)."""
        fetcher = self._fetcher_class(composed.roots or self.roots)
        capture = _Capture()
        wp_log = logging.getLogger("weasyprint")
        wp_log.addHandler(capture)
        try:
            with time_limit(self.time_limit), limit_pages(at_most):
                html = self._weasyprint.HTML(string=composed.html, url_fetcher=fetcher,
                                             base_url=str((composed.roots or self.roots)[0]))
                sheets = [self._fonts] + [self._stylesheet(p, fetcher)
                                          for p in composed.stylesheets]
                document = html.render(font_config=self.font_config, stylesheets=sheets,
                                       pdf_variant=pdf_variant, pdf_tags=True)
        except (RenderError, Overfull):
            raise
        except Exception as error:  # WeasyPrint's own failures on odd input
            raise RenderError(f"WeasyPrint could not render {composed.title!r}: "
                              f"{type(error).__name__}: {error}") from error
        finally:
            wp_log.removeHandler(capture)
        self.documents += 1
        return document, fetcher, capture.messages

    def write(self, document, *, pdf_variant: str | None = "pdf/ua-1",
              identifier: bytes | None = None, finisher=None) -> bytes:
        """Serialise a laid-out document to PDF bytes (deterministically)."""
        try:
            with time_limit(self.time_limit):
                return document.write_pdf(pdf_variant=pdf_variant, pdf_tags=True,
                                          pdf_identifier=identifier or False,
                                          finisher=finisher)
        except RenderError:
            raise
        except Exception as error:
            raise RenderError(f"could not write the PDF: {type(error).__name__}: {error}") \
                from error
