"""Fonts: the embedded typeface (Atkinson Hyperlegible) as @font-face rules."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

FAMILY = "Atkinson Hyperlegible"
_FACES = (
    ("Regular", "normal", 400), ("Italic", "italic", 400),
    ("Bold", "normal", 700), ("BoldItalic", "italic", 700),
)


@cache
def font_dir() -> Path:
    """The folder holding the font files of the installed font package."""
    import fontpkg_atkinson_hyperlegible as package  # noqa: PLC0415 - only when rendering

    return Path(os.path.realpath(package.ROOT / "files"))


@cache
def font_face_css() -> str:
    """@font-face rules for every face, pointing at the package's files."""
    rules = []
    for name, style, weight in _FACES:
        url = (font_dir() / f"AtkinsonHyperlegible-{name}.ttf").as_uri()
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; src: url("{url}"); '
            f"font-style: {style}; font-weight: {weight}; }}")
    return "\n".join(rules)
