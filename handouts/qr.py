"""QR codes: a small vector QR pointing at the clinic's web page for a topic."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path


def qr_folder() -> Path:
    """Where generated QR images live (beside the layout memo)."""
    from .build import _layout_cache  # noqa: PLC0415

    return _layout_cache().parent / "qr"


def qr_svg(url: str) -> Path:
    """An SVG file of a QR code for `url` (cached by content)."""
    import segno  # noqa: PLC0415 - only for clinics that ask for QR codes

    from .finish import write_atomic  # noqa: PLC0415

    target = qr_folder() / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.svg"
    if not target.exists():
        buffer = BytesIO()
        segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=0,
                                        xmldecl=False, dark="#000000")
        write_atomic(target, buffer.getvalue())
    return target


def topic_url(pattern: str | None, slug: str) -> str | None:
    """The clinic's URL for a topic, from its `topic_url` pattern."""
    return pattern.replace("{topic}", slug) if pattern else None
