"""Fonts: the typefaces every script is set in, as @font-face rules, and their cmaps.

One family per script, chosen to sit beside Atkinson Hyperlegible (all SIL Open
Font License 1.1, all subset and embedded by WeasyPrint):

- Latin: **Atkinson Hyperlegible** (Braille Institute), PyPI
  `fontpkg-atkinson-hyperlegible`.
- Arabic: **IBM Plex Sans Arabic** (IBM, Bold Monday), PyPI
  `fontpkg-ibm-plex-sans-arabic`: a humanist sans with open counters like
  Atkinson's, static Regular and Bold. Noto Sans Arabic was tried and left out: it
  builds letters from a dotless body plus separate dot glyphs, so the PDF's text
  layer (screen readers, copy and paste, search) reads قبل as "ت بل".
- Simplified Chinese: **Noto Sans CJK SC** (Google, Adobe's Source Han Sans), from
  Debian's `fonts-noto-cjk` (no PyPI font package carries it; 20 MB is too much to
  keep in the repository). Found at the usual system paths or through fontconfig,
  so an installed `handouts` finds it anywhere; scripts/system-deps.sh installs it.

Latin comes first in every stack, so digits, phone numbers and clinic names look
the same in every language. Which characters each font has (its cmap) is read
with fontTools once and kept by `glyphs.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

FAMILY = "Atkinson Hyperlegible"
ARABIC = "IBM Plex Sans Arabic"
CJK = "Noto Sans CJK SC"
# The CSS font-family stack of every document (base.css says the same).
STACK = (FAMILY, ARABIC, CJK)
_FACES = (
    ("Regular", "normal", 400), ("Italic", "italic", 400),
    ("Bold", "normal", 700), ("BoldItalic", "italic", 700),
)
_ARABIC_FACES = (("Regular", 400), ("Bold", 700))
# Where Linux distributions put Noto Sans CJK (Debian/Ubuntu, Fedora, Arch): the
# collection holds the SC face among others; a single-face OTF is used as it is.
_CJK_PATHS = {
    400: ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
          "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
          "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
          "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"),
    700: ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
          "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
          "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
          "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf"),
}
CJK_INSTALL = "apt-get install fonts-noto-cjk (scripts/system-deps.sh does it)"


@cache
def font_dir() -> Path:
    """The folder holding the Latin font files (Atkinson Hyperlegible)."""
    import fontpkg_atkinson_hyperlegible as package  # noqa: PLC0415 - only when rendering

    return Path(os.path.realpath(package.ROOT / "files"))


@cache
def arabic_dir() -> Path:
    """The folder holding the Arabic font files (IBM Plex Sans Arabic)."""
    import fontpkg_ibm_plex_sans_arabic as package  # noqa: PLC0415 - only when rendering

    return Path(os.path.realpath(package.ROOT / "files"))


def font_dirs() -> list[Path]:
    """Folders of the packaged fonts that @font-face rules load."""
    return [font_dir(), arabic_dir()]


@cache
def cjk_file(weight: int = 400) -> Path | None:
    """Noto Sans CJK's file for `weight` (400 or 700), or None if it is not installed."""
    for candidate in _CJK_PATHS[weight]:
        if os.path.isfile(candidate):
            return Path(candidate)
    if shutil.which("fc-match"):   # installed somewhere else: ask fontconfig
        style = "Bold" if weight == 700 else "Regular"
        try:
            found = subprocess.run(["fc-match", "-f", "%{family}\t%{file}",
                                    f"{CJK}:style={style}"], capture_output=True,
                                   text=True, timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        family, _, path = found.partition("\t")
        if CJK in family.split(",") and os.path.isfile(path):
            return Path(path)
    return None


def font_files() -> list[Path]:
    """The packaged font files every document loads (read, so a change is a new input)."""
    files = sorted(font_dir().glob("*.ttf"))
    return files + [arabic_dir() / f"IBMPlexSansArabic-{name}.ttf" for name, _ in _ARABIC_FACES]


def cjk_files() -> list[Path]:
    """The CJK font files, read only by documents with Chinese text in them."""
    return [path for path in (cjk_file(400), cjk_file(700)) if path]


def faces() -> list[tuple[str, Path, str | None]]:
    """(family, file, face name inside a collection) of every font in the stack."""
    found = [(FAMILY, font_dir() / "AtkinsonHyperlegible-Regular.ttf", None),
             (ARABIC, arabic_dir() / "IBMPlexSansArabic-Regular.ttf", None)]
    cjk = cjk_file(400)
    if cjk:
        found.append((CJK, cjk, CJK))
    return found


@cache
def font_face_css() -> str:
    """@font-face rules for the packaged faces. Noto Sans CJK SC is not among them:
    fontconfig picks the SC face out of the system's collection by its family name,
    which an @font-face rule cannot (WeasyPrint would load every face in the file)."""
    rules = []
    for name, style, weight in _FACES:
        url = (font_dir() / f"AtkinsonHyperlegible-{name}.ttf").as_uri()
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; src: url("{url}"); '
            f"font-style: {style}; font-weight: {weight}; }}")
    for name, weight in _ARABIC_FACES:
        url = (arabic_dir() / f"IBMPlexSansArabic-{name}.ttf").as_uri()
        rules.append(f'@font-face {{ font-family: "{ARABIC}"; src: url("{url}"); '
                     f"font-weight: {weight}; }}")
    return "\n".join(rules)
