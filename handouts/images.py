"""Images: PDF pages as PNG (pypdfium2) for intranets, emails, thumbnails and previews."""

from __future__ import annotations

import threading
from io import BytesIO
from pathlib import Path

# PDFium is not thread-safe: two threads rendering at once corrupt each other's state
# (errors on valid PDFs, then segmentation faults). Every use goes through this lock.
_PDFIUM = threading.Lock()


def pdf_to_pngs(pdf: bytes, dpi: float = 96, first: int = 1, last: int | None = None,
                max_width: int | None = None) -> list[bytes]:
    """PNG bytes of pages `first`..`last` (1-based) of a PDF."""
    import pypdfium2 as pdfium  # noqa: PLC0415 - only when images are asked for

    with _PDFIUM:
        return _render_pages(pdfium, pdf, dpi, first, last, max_width)


def _render_pages(pdfium, pdf, dpi, first, last, max_width) -> list[bytes]:
    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for index in range(first - 1, min(last or len(document), len(document))):
            page = document[index]
            scale = dpi / 72
            if max_width:
                scale = min(scale, max_width / page.get_width())
            image = page.render(scale=scale).to_pil()
            buffer = BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            pages.append(buffer.getvalue())
            page.close()
        return pages
    finally:
        document.close()


def write_pngs(pdf_path: Path, dpi: float = 96) -> list[Path]:
    """Write NAME-1.png, NAME-2.png ... beside a PDF; returns their paths."""
    from .finish import write_atomic  # noqa: PLC0415

    paths = []
    for number, png in enumerate(pdf_to_pngs(pdf_path.read_bytes(), dpi), 1):
        target = pdf_path.with_name(f"{pdf_path.stem}-{number}.png")
        write_atomic(target, png)
        paths.append(target)
    return paths
