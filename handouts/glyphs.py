"""Glyphs: every character a document prints, checked against its fonts before rendering.

A character that no font in the stack (fonts.STACK) has would print as an empty
box, or in whatever font the machine happens to have. So before a document is laid
out, its printed text (the HTML's text, and the words CSS generates) is checked
against the fonts' cmaps, and a character none of them has is an error naming it
(U+XXXX and its Unicode name), the file and the line it came from.

Reading a cmap takes a few milliseconds for a Latin face and a quarter of a second
for the CJK collection, so each is kept as ranges in the `fonts` cache, keyed by
the file's path, size and modification time, and in memory for the process.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from . import cache as caches
from .errors import HandoutsError, Problem
from .files import MAX_ASSET_BYTES
from .fonts import CJK, CJK_INSTALL, cjk_files, faces, font_files
from .timelimit import uninterrupted

# Characters that take no glyph: controls, format characters (bidi isolates, soft
# hyphen, zero-width joiners) and line and paragraph separators.
_NO_GLYPH = {"Cc", "Cf", "Zl", "Zp"}
# The words of an SVG picture: what its <text> and <tspan> elements hold.
_SVG_TEXT = re.compile(r"<(?:text|tspan)\b[^>]*>([^<]*)")
MAX_SVG_BYTES = MAX_ASSET_BYTES   # no larger picture is drawn


def _ranges(points: set[int]) -> str:
    out, start, last = [], None, None
    for point in sorted(points):
        if start is None:
            start = last = point
        elif point == last + 1:
            last = point
        else:
            out.append(f"{start:x}-{last:x}")
            start = last = point
    if start is not None:
        out.append(f"{start:x}-{last:x}")
    return ",".join(out)


def _points(ranges: str) -> frozenset[int]:
    points: set[int] = set()
    for part in filter(None, ranges.split(",")):
        start, _, end = part.partition("-")
        points.update(range(int(start, 16), int(end, 16) + 1))
    return frozenset(points)


_MEMO: dict[tuple[str, str], frozenset[int]] = {}


def cmap(path: Path, face: str | None = None) -> frozenset[int]:
    """The code points a font file has glyphs for (`face`: the family inside a
    collection); kept in memory per cache root, on disk under the root."""
    stat = path.stat()
    key = hashlib.sha256(f"{path}\n{stat.st_size}\n{stat.st_mtime_ns}\n{face}".encode()
                         ).hexdigest()[:40]
    memo = (str(caches.root()), key)
    if memo not in _MEMO:
        _MEMO[memo] = _read_cmap(path, face, key)
    return _MEMO[memo]


def _read_cmap(path: Path, face: str | None, key: str) -> frozenset[int]:
    stored = caches.read("fonts", key, 4 << 20)
    if stored is not None:
        return _points(stored.decode("ascii", "replace"))
    from fontTools.ttLib import TTCollection, TTFont  # noqa: PLC0415 - only on a miss

    # Uninterrupted: fontTools opens the file in a constructor, before any `with`
    # (read once per font and cache; a cmap is a small table even in a CJK font).
    with uninterrupted():
        if path.suffix.lower() in (".ttc", ".otc"):
            with TTCollection(str(path), lazy=True) as collection:
                fonts = collection.fonts
                chosen = next((f for f in fonts if f["name"].getDebugName(1) == face),
                              fonts[0])
                points = set(chosen.getBestCmap())
        else:
            with TTFont(str(path), lazy=True) as font:
                points = set(font.getBestCmap())
    caches.write("fonts", key, _ranges(points).encode())
    return frozenset(points)


def covered() -> frozenset[int]:
    """Every code point some font of the stack has."""
    result: set[int] = set()
    for _family, path, face in faces():
        result |= cmap(path, face)
    return frozenset(result)


class _Text(HTMLParser):
    """The text a document prints: its body's text, not <head>, styles or scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pictures: list[Path] = []   # SVG images: their labels print too
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("head", "style", "script", "title"):
            self._skip += 1
        src = dict(attrs).get("src") or ""
        if tag == "img" and src.startswith("file://") and src.lower().endswith(".svg"):
            self.pictures.append(Path(unquote(src.removeprefix("file://"))))

    def handle_endtag(self, tag):
        if tag in ("head", "style", "script", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def printed_text(html: str) -> tuple[str, list[Path]]:
    """The text of an HTML document that reaches the page (its SVG pictures' labels
    included), and those pictures."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    labels = []
    for path in parser.pictures:
        labels += _svg_words(path)
    return "".join(parser.parts) + "".join(labels), parser.pictures


# Any SVG file a document names (its pictures are among them).
_SVG_URLS = re.compile(r"file://[^\s\"'<>()]+?\.svg(?![\w.])", re.I)


def _surely_packaged(html: str, extra: list[str]) -> bool:
    """Whether every character the HTML holds anywhere (markup and styles too, its
    character references decoded), the extra text and the words of every SVG file it
    names have a glyph in a packaged font. The printed text is among those characters,
    so then `check` has nothing to report and needs no system font: this answers
    that from the string itself, where parsing the HTML for its printed text took 2%
    of making a leaflet."""
    chars = set(html_lib.unescape(html))
    for part in extra:
        chars.update(part)
    for url in set(_SVG_URLS.findall(html)):
        chars.update("".join(_svg_words(Path(unquote(url.removeprefix("file://"))))))
    packaged = _union([cmap(path) for path in font_files()])
    return all(ord(c) in packaged or c.isspace() or unicodedata.category(c) in _NO_GLYPH
               for c in chars)


def _svg_words(path: Path) -> list[str]:
    """The words an SVG file prints (its <text> and <tspan> elements' text)."""
    try:   # checked already (svg.py): a regular file inside the library
        with uninterrupted(), open(path, "rb") as handle:
            svg = handle.read(MAX_SVG_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return []
    return [html_lib.unescape(t) for t in _SVG_TEXT.findall(svg)]


_unions: dict[tuple[int, ...], tuple[tuple, frozenset[int]]] = {}


def _union(sets: list[frozenset[int]]) -> frozenset[int]:
    """The union of cmaps, kept while they are the same (cmap keeps each in memory)."""
    key = tuple(map(id, sets))
    found = _unions.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], sets, strict=True)):
        found = _unions[key] = (tuple(sets), frozenset().union(*sets))
    return found[1]


def missing(text: str) -> list[str]:
    """The characters of `text` (each once, in order) that no font of the stack has."""
    have = covered()
    return [c for c in dict.fromkeys(text) if ord(c) not in have and not c.isspace()
            and unicodedata.category(c) not in _NO_GLYPH]


def describe(char: str) -> str:
    """U+XXXX, the character's Unicode name and the character itself."""
    name = unicodedata.name(char, "unnamed character")
    return f"U+{ord(char):04X} {name} ({char!r})"


def _where(char: str, sources: list[Path]) -> tuple[Path | None, int | None]:
    for path in sources:
        try:
            with uninterrupted():
                lines = Path(path).read_text("utf-8", errors="replace").split("\n")
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if char in line:
                return Path(path), number
    return None, None


def check(html: str, extra: list[str], sources: list[Path]) -> list[Path]:
    """Raise a HandoutsError naming every character of the document no font has,
    with the file and line of `sources` it first appears in; else return the system
    font files the text needs (the CJK collection, for Chinese text)."""
    if _surely_packaged(html, extra):
        return []
    text, pictures = printed_text(html)
    text += "".join(extra)
    sources = list(sources) + pictures
    chars = missing(text)
    if not chars:
        packaged = _union([cmap(path) for path in font_files()])
        needs = any(ord(c) not in packaged for c in set(text) if not c.isspace()
                    and unicodedata.category(c) not in _NO_GLYPH)
        return cjk_files() if needs else []
    problems = []
    for char in chars:
        file, line = _where(char, sources)
        cjk = unicodedata.name(char, "").startswith("CJK") and CJK not in \
            {family for family, _, _ in faces()}
        problems.append(Problem(
            f"{describe(char)} is in no font handouts prints with, so it would print as "
            "an empty box", file=file, line=line, code="missing-glyph",
            hint=f"install {CJK}: {CJK_INSTALL}" if cjk else
            "replace it with a character the fonts have (e.g. a plain letter or word), "
            "or remove it"))
    raise HandoutsError(problems=problems)
