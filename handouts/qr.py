"""QR codes: a small vector QR pointing at the clinic's web page for a topic."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from . import cache
from .errors import RenderError


def qr_svg(url: str) -> Path:
    """An SVG file of a QR code for `url`, in the QR cache.

    The SVG is made in this process (once per URL) and the cached file is rewritten
    if it differs, so a file changed in the cache is never printed.
    """
    svg = _svg(url)
    name = f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.svg"
    target = cache.folder("qr") / name
    if cache.read("qr", name) != svg and cache.write("qr", name, svg) is None:
        raise RenderError(f"cannot write the QR code to the cache folder {target.parent}",
                          hint="make HANDOUTS_CACHE a writable folder")
    return target


@lru_cache(maxsize=256)
def _svg(url: str) -> bytes:
    """The QR code's SVG: encoding it is about 1% of making a leaflet, and a batch or
    a check prints each clinic's few URLs on many documents."""
    import segno  # noqa: PLC0415 - only for clinics that ask for QR codes

    buffer = BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=0,
                                    xmldecl=False, dark="#000000")
    return buffer.getvalue()


def topic_url(pattern: str | None, slug: str) -> str | None:
    """The clinic's URL for a topic, from its `topic_url` pattern."""
    return pattern.replace("{topic}", slug) if pattern else None
