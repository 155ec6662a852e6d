"""Preflight: what a print shop checks, on the laid-out pages (after render).

It walks WeasyPrint's page and box tree, which the renderer already holds, and
reports each defect with its page, the element's role (urgent box, footer,
heading, fill-in line, figure ...), where it is on the page in millimetres from the
top left, and how to fix it. What it sees:

- safe area: text, rules and images closer than 5 mm to the trim edge;
- overlap: two pieces of text drawn over each other ("0321Page 12 of 14");
- kept together: the urgent box, a figure, a list of a few items or the first or
  last item of a long one split across pages; a heading at the foot of a page
  with fewer than two lines after it;
- never broken inside: the clinic's phone numbers, postcodes and ZIP codes, dates,
  doses, temperatures and the medicines' names split across two lines;
- type: body text under 12 pt (16 pt in large print), anything a reader needs
  under 9 pt (16 pt in large print), a title, heading or sub-heading not larger
  than what it stands over; in large print, an urgent number that is not the
  largest text on its page;
- page fill: a page (not the last) less than half full, a blank page;
- resolution: a PNG or JPEG (a logo, a photo) printed with fewer than 150 pixels an
  inch, which paper shows blurred or jagged;
- line length: body lines that run, typically, to more than 75 characters (60 to 70
  read best: the eye loses its way back from the end of a long line);
- emphasis: a paragraph of two lines or more set wholly in capitals or italics, which
  are slower to read than the same words in plain type;
- setting: body lines set closer than 1.2 times their type size, and justified text
  (its uneven word gaps are hard for many readers);
- fill-in lines shorter than 40 mm, too short to write a date or a name on by hand
  (a long label, a translation's, leaves its line little room);
- contrast: text against what it is printed on (the paper, a box's tint, a band of
  brand colour) below WCAG AA, 4.5:1 (3:1 for large text), which an office printer's
  grey makes worse;
- overflow: text or a picture that runs more than 1 mm past the edge of its column,
  cell or box (a long web address, a word with nowhere to break, a wide picture);
- words that fit the format: "this leaflet" in a booklet, an offer of large print
  on the large-print version.

The layouts under styles/ are made to pass it; `handouts check` runs it on every
topic, clinic, paper and variant, and `--annotate DIR` draws what it found.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .models import rgb_contrast

PX_PER_MM = 96 / 25.4
PT_PER_PX = 0.75
# Pixels an inch a raster picture needs on paper: under 150 a logo's edges are jagged
# and a photo soft; 300 is what printers ask for.
MIN_PPI = 150
GOOD_PPI = 300
# Characters in a full line of body text (DESIGN.md: 60-70). Over 75 for most lines, a
# designer sends the page back; a character of Chinese or Japanese counts as two.
MAX_LINE_CHARS = 75
# Line height over type size below which body lines crowd each other (DESIGN.md asks
# for about 1.4; the page budget's tightest spacing step sets 1.25).
MIN_LEADING = 1.2
# A fill-in line a hand can write a date and time on ("14/03/2027 07:30").
MIN_FILL_LINE_MM = 40
MONTHS = ("January|February|March|April|May|June|July|August|September|October|"
          "November|December")
# A drug name of two words, the one unbreakable run below without a digit in it.
ZOLEDRONIC_ACID = re.compile(r"\bzoledronic\s+acid\b", re.I)
# Runs of words that must stay on one line (whitespace inside may not be a line break).
UNBREAKABLE = [
    re.compile(rf"\b\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}\b"),            # 1 November 2029
    re.compile(rf"\b(?:{MONTHS})\s+\d{{4}}\b"),                        # November 2029
    re.compile(r"\b\d+(?:[.,]\d+)?\s+(?:mg|micrograms?|IU|ml|mL|g|kg)\b"),   # 500 mg
    re.compile(r"\b\d+(?:[.,]\d+)?\s+°[CF]"),                          # 38 °C
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b"),              # SE1 9ZZ
    re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"),                    # WI 53703
    ZOLEDRONIC_ACID,
    re.compile(r"\(\d{3}\)\s+\d{3}-\d{4}"),                            # (555) 010-2400
    re.compile(r"(?<![\d ])0\d{2,4}\s+\d{3,4}(?:\s+\d{3,4})?\b"),     # 020 7946 0321
]
# The patterns above that match only text with a digit in it: a block without one
# need not be searched for them.
WITH_DIGITS = {pattern for pattern in UNBREAKABLE if pattern is not ZOLEDRONIC_ACID}
_DIGIT = re.compile(r"\d")
ROLES = [  # (CSS class or tag, role), the first that matches names the element
    ("urgent", "urgent box"), ("running-footer", "footer"), ("logo", "logo"),
    ("cover-logo", "logo"), ("back-logo", "logo"), ("masthead", "masthead"),
    ("sources", "sources"), ("disclaimer", "disclaimer"), ("qr", "QR code"),
    ("fill-in", "fill-in line"), ("main-message", "main message"), ("cover", "cover"),
    ("contact", "contact line"), ("org", "masthead"),
    ("toc", "contents"), ("back-cover", "back cover"), ("card", "card"),
    ("h1", "title"), ("h2", "section heading"), ("h3", "sub-heading"),
    ("figcaption", "caption"), ("figure", "figure"), ("li", "list item"), ("p", "body"),
]


@dataclass(frozen=True)
class Defect:
    """One thing on a laid-out page a careful print buyer would send back."""

    kind: str          # safe-area, overlap, split, broken-inside, type-size, ...
    page: int          # 1-based
    role: str
    where: tuple[float, float, float, float]   # x, y, width, height in mm from top left
    message: str
    hint: str

    def __str__(self) -> str:
        x, y, _, _ = self.where
        return f"page {self.page}, {self.role} at {x:.0f} x {y:.0f} mm: {self.message}"


@dataclass
class _Box:
    """A box of interest, flattened: where it is and what it belongs to."""

    box: object
    page: int
    roles: tuple[str, ...]
    chain: tuple          # the elements it is inside, outermost first
    background: tuple[float, float, float] = (1.0, 1.0, 1.0)   # what it is drawn on
    within: tuple[float, float] = (float("-inf"), float("inf"))   # its column's, px

    @property
    def role(self) -> str:
        return self.roles[0] if self.roles else "text"


def inspect(document, **options) -> list[Defect]:
    """Every defect on the laid-out pages of a WeasyPrint document (see examine)."""
    return examine(document, **options)[0]


def examine(document, *, kind: str = "leaflet", variant: str = "standard",
            safe_mm: float = 5.0, keep: tuple[str, ...] = ()
            ) -> tuple[list[Defect], dict[str, float]]:
    """The defects on the laid-out pages, and the type scale (each role's usual size in
    pt, which `check` compares across a clinic's documents), from one walk of the tree.

    `kind` is leaflet, booklet or card; `keep` adds strings that must not be broken
    across lines (the clinic's phone numbers and address, say).
    """
    pages = [page._page_box for page in document.pages]   # WeasyPrint has no public tree
    names = _Names()
    boxes = [b for number, page in enumerate(pages, 1) for b in _flatten(page, number, names)]
    scale = _usual_sizes(boxes)
    defects: list[Defect] = []
    for number, page in enumerate(pages, 1):
        on_page = [b for b in boxes if b.page == number]
        defects += _safe_area(page, number, on_page, safe_mm)
        defects += _overlaps(number, on_page)
    defects += _splits(boxes, len(pages), names)
    defects += _broken_inside(boxes, keep)
    defects += _type(boxes, kind, variant, scale)
    defects += _urgent_number(boxes, variant)
    defects += _fill(pages, boxes, kind)
    defects += _words(boxes, kind, variant)
    defects += _resolution(boxes)
    body = _body_lines(boxes)
    defects += _measure(body)
    defects += _emphasis(boxes, body)
    defects += _setting(body)
    defects += _fill_in_lines(boxes)
    defects += _text_contrast(boxes)
    defects += _overflow(boxes)
    return defects, scale


def _size(item: _Box) -> float:
    return round(item.box.style["font_size"] * PT_PER_PX, 1)


def _usual_sizes(boxes: list[_Box]) -> dict[str, float]:
    """Each role's usual size (pt): the size most of its characters are set in."""
    counts: dict[str, dict[float, int]] = {}
    for item in boxes:
        if type(item.box).__name__ == "TextBox":
            sizes = counts.setdefault(item.role, {})
            sizes[_size(item)] = sizes.get(_size(item), 0) + len(item.box.text)
    return {role: max(sizes, key=sizes.get) for role, sizes in sorted(counts.items())}


# --- the box tree ---------------------------------------------------------------------

def _classes(element) -> list[str]:
    if element is None:
        return []
    return (element.get("class") or "").split() + [str(getattr(element, "tag", ""))]


class _Names:
    """Each element's class names and tag, and each element chain's roles, worked out
    once in an examine() (a page's boxes share elements and chains; the document keeps
    the elements alive meanwhile, so their ids stay theirs)."""

    def __init__(self):
        self._classes: dict[int, frozenset[str]] = {}
        self._roles: dict[tuple, tuple[str, ...]] = {}

    def of(self, element) -> frozenset[str]:
        found = self._classes.get(id(element))
        if found is None:
            found = self._classes[id(element)] = frozenset(_classes(element))
        return found

    def roles(self, chain) -> tuple[str, ...]:
        found = self._roles.get(chain)
        if found is None:
            found = self._roles[chain] = _roles(chain, self)
        return found


def _roles(chain, names: _Names) -> tuple[str, ...]:
    """The roles of an element and what it is inside, most specific first: a box's
    part (urgent box, footer, sources ...) wins over its tag (p, li)."""
    found = set().union(*(names.of(element) for element in chain))
    return tuple(role for key, role in ROLES if key in found)


def _flatten(page, number: int, names: _Names):
    """Text boxes, images and boxes with a visible border, with their element chain."""
    stack = [(page, (), PAPER, _Box.within)]
    while stack:
        box, chain, background, within = stack.pop()
        element = getattr(box, "element", None)
        if element is not None and (not chain or chain[-1] is not element):
            chain = (*chain, element)
        style = getattr(box, "style", None)
        if style is not None and style["background_color"].alpha > 0:
            background = _over(style["background_color"], background)
        name = type(box).__name__
        if name in _CONTAINERS:   # its padding too: a tick box hangs in an item's padding
            left = box.padding_box_x()
            within = (left, left + box.padding_width())
        if name == "TextBox" and box.text.strip() or "Replaced" in name or \
                (name != "PageBox" and _has_rule(box)) or name == "LineBox":
            yield _Box(box, number, names.roles(chain), chain, background, within)
        stack.extend((child, chain, background, within)
                     for child in reversed(getattr(box, "children", []) or []))


PAPER = (1.0, 1.0, 1.0)
# Boxes whose content box holds lines of text: a column, a cell, a margin box.
_CONTAINERS = {"BlockBox", "TableCellBox", "InlineBlockBox", "FlexBox", "MarginBox",
               "PageBox", "FootnoteAreaBox"}


def _over(colour, below: tuple[float, float, float]) -> tuple[float, float, float]:
    """A CSS colour (tinycss2's, any space) painted over an opaque one, as sRGB."""
    srgb = colour if colour.space == "srgb" else colour.to("srgb")
    alpha = colour.alpha
    return tuple(min(max(c, 0.0), 1.0) * alpha + b * (1 - alpha)
                 for c, b in zip(srgb.coordinates, below, strict=True))


def _has_rule(box) -> bool:
    style = getattr(box, "style", None)
    if style is None:
        return False
    return any(style[f"border_{side}_width"] and style[f"border_{side}_style"] != "none"
               for side in ("top", "right", "bottom", "left"))


def _rect(box) -> tuple[float, float, float, float]:
    """Border box: x, y, width, height in px."""
    return (box.border_box_x(), box.border_box_y(), box.border_width(), box.border_height())


def _mm(rect) -> tuple[float, float, float, float]:
    return tuple(round(v / PX_PER_MM, 1) for v in rect)


# --- checks ---------------------------------------------------------------------------

def _safe_area(page, number: int, boxes: list[_Box], safe_mm: float) -> list[Defect]:
    width, height = page.margin_width(), page.margin_height()
    limit = safe_mm * PX_PER_MM
    defects, seen = [], set()
    for item in boxes:
        if type(item.box).__name__ == "LineBox":
            continue
        x, y, w, h = _rect(item.box)
        if w <= 0 or h <= 0:
            continue
        gap = min(x, y, width - (x + w), height - (y + h))
        if gap < limit - 0.5 and (item.role, round(y)) not in seen:
            seen.add((item.role, round(y)))
            defects.append(Defect(
                "safe-area", number, item.role, _mm((x, y, w, h)),
                f"{max(gap, 0) / PX_PER_MM:.1f} mm from the trim edge; keep "
                f"{safe_mm:g} mm clear", "give it room inside the page margins (a shorter "
                "footer, smaller margins elsewhere), or move it inwards"))
    return defects


def _resolution(boxes: list[_Box]) -> list[Defect]:
    """A raster picture printed with fewer than MIN_PPI pixels an inch (an SVG has no
    pixels: it is sharp at any size)."""
    defects = []
    for item in boxes:
        image = getattr(item.box, "replacement", None)
        if type(image).__name__ != "RasterImage":
            continue
        x, y, w, h = _rect(item.box)
        width, height = item.box.width, item.box.height   # the picture itself, in px
        if width <= 0 or height <= 0:
            continue
        ppi = min(image.width / (width / 96), image.height / (height / 96))
        if ppi < MIN_PPI:
            needed = round(width / 96 * GOOD_PPI)
            defects.append(Defect(
                "image-resolution", item.page, item.role, _mm((x, y, w, h)),
                f"a picture of {image.width} x {image.height} pixels printed "
                f"{width / PX_PER_MM:.0f} mm wide has {ppi:.0f} pixels an inch; under "
                f"{MIN_PPI} it prints blurred or jagged",
                f"use one at least {needed} pixels wide ({GOOD_PPI} pixels an inch at this "
                "size), or an SVG"))
    return defects


def _overlaps(number: int, boxes: list[_Box]) -> list[Defect]:
    texts = sorted((b for b in boxes if type(b.box).__name__ == "TextBox"),
                   key=lambda b: b.box.position_y)
    rects = [_rect(text.box) for text in texts]
    defects = []
    for index, first in enumerate(texts):
        x1, y1, w1, h1 = rects[index]
        for second, (x2, y2, w2, h2) in zip(texts[index + 1:], rects[index + 1:], strict=True):
            if y2 >= y1 + h1:
                break
            across = min(x1 + w1, x2 + w2) - max(x1, x2)
            down = min(y1 + h1, y2 + h2) - max(y1, y2)
            if across > 1 and down > min(h1, h2) / 3:
                defects.append(Defect(
                    "overlap", number, second.role, _mm((x2, y2, w2, h2)),
                    f"text {second.box.text.strip()[:30]!r} is drawn over "
                    f"{first.box.text.strip()[:30]!r}", "give each its own space"))
    return defects


def _chains(boxes: list[_Box]):
    """Each box's element chain and page, each (chain, page) once, in the boxes' order:
    the boxes of an element share its chain, so per-element checks need look at each
    chain only once a page."""
    seen = set()
    for item in boxes:
        key = (id(item.chain), item.page)   # the boxes keep their chains alive
        if key not in seen:
            seen.add(key)
            yield item


SPLITS = (("urgent", "urgent box", "it must be read whole: keep it on one page"),
          ("figure", "figure", "keep the picture and its caption together"),
          ("fill-in", "fill-in line", "keep the label with its line"),
          ("fill-in-group", "fill-in lines", "keep lines filled in together on one page"),
          ("tr", "table row", "keep a row together"))


def _splits(boxes: list[_Box], pages: int, names: _Names) -> list[Defect]:
    defects = []
    first_box: dict[int, _Box] = {}
    on_pages: dict[str, dict[int, set[int]]] = {key: {} for key, _, _ in SPLITS}
    for item in _chains(boxes):
        for element in item.chain:
            first_box.setdefault(id(element), item)
            classes = names.of(element)
            for key, found in on_pages.items():
                if key in classes:
                    found.setdefault(id(element), set()).add(item.page)
    for key, role, hint in SPLITS:
        for element, on in on_pages[key].items():
            if len(on) > 1:
                item = first_box[element]
                defects.append(Defect("split", min(on), role, _mm(_rect(item.box)),
                                      f"split across pages {min(on)} and {max(on)}", hint))
    defects += _list_splits(boxes)
    defects += _lonely_headings(boxes, pages)
    defects += _widows(boxes)
    return defects


def _widows(boxes: list[_Box]) -> list[Defect]:
    """A paragraph split across pages with a single line on either side."""
    lines: dict[int, list[_Box]] = {}
    for item in boxes:
        if type(item.box).__name__ == "LineBox" and item.chain and \
                getattr(item.chain[-1], "tag", "") in ("p", "li", "dd", "figcaption"):
            lines.setdefault(id(item.chain[-1]), []).append(item)
    defects = []
    for block in lines.values():
        pages = [line.page for line in block]
        if len(set(pages)) > 1 and min(pages.count(p) for p in set(pages)) == 1:
            alone = next(line for line in block if pages.count(line.page) == 1)
            defects.append(Defect(
                "split", alone.page, alone.role, _mm(_rect(alone.box)),
                "a single line of a paragraph is left alone on a page (a widow or orphan)",
                "keep at least two lines of a paragraph together (orphans and widows: 2)"))
    return defects


def _list_splits(boxes: list[_Box]) -> list[Defect]:
    lists: dict[int, dict[int, set[int]]] = {}   # list -> item -> pages
    where: dict[int, _Box] = {}
    for item in _chains(boxes):
        chain = item.chain
        for index, element in enumerate(chain[:-1]):
            if getattr(element, "tag", "") in ("ul", "ol") and \
                    getattr(chain[index + 1], "tag", "") == "li":
                lists.setdefault(id(element), {}).setdefault(id(chain[index + 1]), set()).add(
                    item.page)
                where.setdefault(id(element), item)
    defects = []
    for key, items in lists.items():
        pages = sorted({p for on in items.values() for p in on})
        if len(pages) < 2:
            continue
        order = list(items.values())
        first_page = [on for on in order if min(on) == pages[0]]
        last_page = [on for on in order if max(on) == pages[-1]]
        if len(order) <= 4 or len(first_page) < 2 or len(last_page) < 2:
            item = where[key]
            defects.append(Defect(
                "split", item.page, "list", _mm(_rect(item.box)),
                f"a list of {len(order)} items is split across pages {pages[0]} and "
                f"{pages[-1]}" + (" leaving one item alone" if min(len(first_page),
                                                                   len(last_page)) < 2 else ""),
                "keep short lists together, and at least two items on each side of a break"))
    return defects


def _lonely_headings(boxes: list[_Box], pages: int) -> list[Defect]:
    defects = []
    lines = [b for b in boxes if type(b.box).__name__ == "LineBox"]
    for index, item in enumerate(lines):
        if item.role not in ("section heading", "sub-heading") or item.page == pages:
            continue
        heading = item.chain[-1] if item.chain else None
        after = [b for b in lines[index + 1:] if b.page == item.page
                 and (not b.chain or b.chain[-1] is not heading)]
        if len(after) < 2 and any(b.page > item.page for b in lines[index + 1:]):
            defects.append(Defect(
                "split", item.page, item.role, _mm(_rect(item.box)),
                f"a heading at the foot of the page with {len(after)} line(s) under it",
                "keep a heading with at least two lines of what follows"))
    return defects


def _broken_inside(boxes: list[_Box], keep: tuple[str, ...]) -> list[Defect]:
    """Phrases that must stay on one line, found across a line break in one block."""
    blocks: dict[int, list[_Box]] = {}
    for item in boxes:
        if type(item.box).__name__ == "LineBox" and item.chain:
            blocks.setdefault(id(item.chain[-1]), []).append(item)
    patterns = UNBREAKABLE + [re.compile(r"\s+".join(map(re.escape, phrase.split())))
                              for phrase in keep if len(phrase.split()) > 1]
    wordy = [pattern for pattern in patterns if pattern not in WITH_DIGITS]
    defects = []
    for lines in blocks.values():
        if len(lines) < 2:
            continue   # one line: nothing in it is broken across lines
        texts = [_line_text(line.box) for line in lines]
        joined = "\n".join(texts)
        for pattern in patterns if _DIGIT.search(joined) else wordy:
            for match in pattern.finditer(joined):
                if "\n" in match.group(0):
                    row = joined.count("\n", 0, match.start())
                    item = lines[row]
                    defects.append(Defect(
                        "broken-inside", item.page, item.role, _mm(_rect(item.box)),
                        f"{' '.join(match.group(0).split())!r} is broken across two lines",
                        "it must stay on one line (a no-break space or white-space: nowrap)"))
    return defects


def _line_text(box) -> str:
    if type(box).__name__ == "TextBox":
        return box.text
    return "".join(_line_text(child) for child in getattr(box, "children", []) or [])


def _type(boxes: list[_Box], kind: str, variant: str,
          usual: dict[str, float]) -> list[Defect]:
    large = variant == "large"
    body_min = 16.0 if large else (9.0 if kind == "card" else 12.0)
    least = 16.0 if large else 9.0
    first: dict[str, _Box] = {}               # role -> where it first appears
    defects = []
    reported = set()
    for item in boxes:
        if type(item.box).__name__ != "TextBox":
            continue
        size, role = _size(item), item.role
        first.setdefault(role, item)
        minimum = body_min if role in ("body", "list item") else least
        if size < minimum - 0.05 and (role, item.page) not in reported:
            reported.add((role, item.page))
            defects.append(Defect(
                "type-size", item.page, role, _mm(_rect(item.box)),
                f"{size:.1f} pt; the {'large-print ' if large else ''}minimum for "
                f"{role} is {minimum:g} pt", "set it larger in the styles"))
    body = usual.get("body") or usual.get("list item")
    order = [("title", usual.get("title")), ("section heading", usual.get("section heading")),
             ("sub-heading", usual.get("sub-heading")), ("body", body)]
    present = [(name, size) for name, size in order if size]
    for (upper, big), (lower, small) in zip(present, present[1:], strict=False):
        if big <= small + 0.05:
            item = first.get(upper)
            defects.append(Defect(
                "type-size", item.page if item else 1, upper,
                _mm(_rect(item.box)) if item else (0, 0, 0, 0),
                f"the {upper} ({big:.1f} pt) is not larger than the {lower} ({small:.1f} pt)",
                "keep title > section heading > sub-heading > body"))
    return defects


def _urgent_number(boxes: list[_Box], variant: str) -> list[Defect]:
    """Large print (DESIGN.md, RNIB Clear Print): the urgent box's number is the largest
    text on its page, so a reader in a hurry finds it first."""
    if variant != "large":
        return []
    numbers: dict[int, _Box] = {}
    for item in boxes:
        if type(item.box).__name__ == "TextBox" and "urgent box" in item.roles and \
                item.chain and "number" in (item.chain[-1].get("class") or "").split():
            numbers.setdefault(item.page, item)
    defects = []
    for page, number in numbers.items():
        biggest = max((b for b in boxes if b.page == page and
                       type(b.box).__name__ == "TextBox"), key=_size)
        if _size(biggest) > _size(number) + 0.05:
            defects.append(Defect(
                "type-size", page, "urgent box", _mm(_rect(number.box)),
                f"the urgent number ({_size(number):.1f} pt) is smaller than the "
                f"{biggest.role} ({_size(biggest):.1f} pt); in large print it is the "
                "largest text on its page",
                "set the urgent number larger, or the other text smaller, in the styles"))
    return defects


def _fill(pages, boxes: list[_Box], kind: str) -> list[Defect]:
    defects = []
    for number, page in enumerate(pages, 1):
        text = [b for b in boxes if b.page == number and type(b.box).__name__ == "TextBox"
                and "footer" not in b.roles]
        if not text:
            defects.append(Defect("blank-page", number, "page", (0, 0, 0, 0),
                                  "nothing is printed on this page",
                                  "a booklet's padding pages are Notes pages with lines"))
            continue
        if kind != "leaflet" or number == len(pages):
            continue
        top = page.content_box_y()
        height = page.height or 1
        bottom = max(b.box.position_y + b.box.height for b in text)
        if (bottom - top) / height < 0.5:
            defects.append(Defect(
                "page-fill", number, "page", _mm((0, top, page.margin_width(), bottom - top)),
                f"the page is {(bottom - top) / height:.0%} full; something was pushed over",
                "let the next block split, shorten it, or move it earlier"))
    return defects


def _words(boxes: list[_Box], kind: str, variant: str) -> list[Defect]:
    defects = []
    for item in boxes:
        if type(item.box).__name__ != "LineBox":
            continue
        text = _line_text(item.box)
        if kind == "booklet" and re.search(r"\bthis leaflet\b", text, re.I):
            defects.append(Defect("words", item.page, item.role, _mm(_rect(item.box)),
                                  "says \"this leaflet\" inside a booklet",
                                  "say \"this booklet\" (or \"this section\")"))
        if variant == "large" and re.search(r"\blarge print\b", text, re.I):
            defects.append(Defect("words", item.page, item.role, _mm(_rect(item.box)),
                                  "offers large print on the large-print version",
                                  "leave the offer out of large print"))
    return defects


# --- reading comfort ------------------------------------------------------------------

BODY_ROLES = ("body", "list item")
_BLOCK_TAGS = ("p", "li")


def _width(text: str) -> int:
    """Characters in a line, a wide (CJK) one counted as two."""
    text = text.strip()
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _body_lines(boxes: list[_Box]) -> dict[int, list[_Box]]:
    """The line boxes of each body paragraph and list item, in order."""
    blocks: dict[int, list[_Box]] = {}
    for item in boxes:
        if type(item.box).__name__ == "LineBox" and item.role in BODY_ROLES and \
                item.chain and getattr(item.chain[-1], "tag", "") in _BLOCK_TAGS:
            blocks.setdefault(id(item.chain[-1]), []).append(item)
    return blocks


def _measure(body: dict[int, list[_Box]]) -> list[Defect]:
    """Body lines too long to read comfortably, judged on the document's typical full
    line (a paragraph's last line is as short as its words make it)."""
    full = [(_width(_line_text(line.box)), line)
            for lines in body.values() for line in lines[:-1]]
    if len(full) < 5:   # a card or a page of headings: too few lines to judge
        return []
    lengths = sorted(width for width, _ in full)
    typical = lengths[len(lengths) // 2]
    if typical <= MAX_LINE_CHARS:
        return []
    first = next(line for width, line in full if width > MAX_LINE_CHARS)
    return [Defect(
        "line-length", first.page, first.role, _mm(_rect(first.box)),
        f"body lines run to about {typical} characters; 60 to 70 read best, and past "
        f"{MAX_LINE_CHARS} the eye loses its way back to the start of the next line",
        "narrow the text (a max-width in rem on paragraphs and lists) or set two columns")]


def _emphasis(boxes: list[_Box], lines: dict[int, list[_Box]]) -> list[Defect]:
    """Paragraphs of two lines or more set wholly in capitals or in italics: one defect
    of each sort per document, at the first, with how many there are."""
    counts: dict[int, list[int]] = {}   # paragraph -> [letters, capitals, italic, all chars]
    for item in boxes:
        if type(item.box).__name__ != "TextBox" or item.role not in BODY_ROLES:
            continue
        block = next((e for e in reversed(item.chain)
                      if getattr(e, "tag", "") in _BLOCK_TAGS), None)
        if block is None or len(lines.get(id(block), ())) < 2:
            continue
        text = item.box.text
        tally = counts.setdefault(id(block), [0, 0, 0, 0])
        capitals = sum(map(str.isupper, text))
        tally[0] += capitals + sum(map(str.islower, text))
        tally[1] += capitals
        written = len(text.strip())
        tally[3] += written
        if item.box.style["font_style"] in ("italic", "oblique"):
            tally[2] += written
    found: dict[str, list[int]] = {"capitals": [], "italics": []}
    for block, (letters, capitals, italic, written) in counts.items():
        if letters >= 20 and capitals >= 0.9 * letters:
            found["capitals"].append(block)
        if written and italic >= 0.9 * written:
            found["italics"].append(block)
    defects = []
    for sort, blocks in found.items():
        if blocks:
            first = lines[blocks[0]][0]
            many = f"{len(blocks)} paragraphs are" if len(blocks) > 1 else "a paragraph is"
            defects.append(Defect(
                "emphasis", first.page, first.role, _mm(_rect(first.box)),
                f"{many} set wholly in {sort}, which is slower to read than plain type",
                "keep capitals and italics for a word or two; use bold or a box to stand out"))
    return defects


def _setting(body: dict[int, list[_Box]]) -> list[Defect]:
    """Body text set too tight (the document's typical line), or justified."""
    lines = [line for block in body.values() for line in block]
    if len(lines) < 5:
        return []
    defects = []
    ratios = sorted(line.box.height / line.box.style["font_size"] for line in lines)
    typical = ratios[len(ratios) // 2]
    if typical < MIN_LEADING - 0.005:
        first = lines[0]
        defects.append(Defect(
            "leading", first.page, first.role, _mm(_rect(first.box)),
            f"body lines are set {typical:.2f} times their type size apart; under "
            f"{MIN_LEADING:g} the lines crowd each other and the eye slips between them",
            "set line-height to about 1.4 (1.2 at the least)"))
    justified = {}
    for line in lines:
        if line.box.style["text_align_all"] == "justify":
            justified.setdefault(id(line.chain[-1]), line)
    if justified:
        first = next(iter(justified.values()))
        many = (f"{len(justified)} paragraphs are" if len(justified) > 1
                else "a paragraph is")
        defects.append(Defect(
            "justified", first.page, first.role, _mm(_rect(first.box)),
            f"{many} justified: the uneven gaps between words are hard to read",
            "align body text to the start of the line (text-align: start), ragged at the end"))
    return defects


def _fill_in_lines(boxes: list[_Box]) -> list[Defect]:
    """Each fill-in line too short to write on by hand."""
    defects = []
    for item in boxes:
        name = type(item.box).__name__
        if name in ("LineBox", "TextBox") or not item.chain or \
                "fill-line" not in (item.chain[-1].get("class") or "").split() or \
                getattr(item.box, "element", None) is not item.chain[-1]:
            continue
        length = item.box.border_width() / PX_PER_MM
        if length < MIN_FILL_LINE_MM:
            defects.append(Defect(
                "fill-in", item.page, "fill-in line", _mm(_rect(item.box)),
                f"the line is {length:.0f} mm long, too short to write on by hand "
                f"({MIN_FILL_LINE_MM} mm or more)",
                "shorten its label, or give the line a row of its own"))
    return defects


# WCAG 2 AA: 4.5:1 for text, 3:1 for large text (18 pt, or 14 pt bold).
MIN_CONTRAST, MIN_LARGE_CONTRAST = 4.5, 3.0


def _text_contrast(boxes: list[_Box]) -> list[Defect]:
    """Text too close in lightness to what it is printed on, once per page and role."""
    defects, reported, ratios = [], set(), {}
    for item in boxes:
        if type(item.box).__name__ != "TextBox" or (item.page, item.role) in reported:
            continue
        style = item.box.style
        key = (style["color"], item.background)
        ratio = ratios.get(key)
        if ratio is None:
            ratio = ratios[key] = rgb_contrast(_over(style["color"], item.background),
                                               item.background)
        size = _size(item)
        large = size >= 18 or (size >= 14 and style["font_weight"] >= 700)
        least = MIN_LARGE_CONTRAST if large else MIN_CONTRAST
        if ratio < least - 0.005:
            reported.add((item.page, item.role))
            defects.append(Defect(
                "contrast", item.page, item.role, _mm(_rect(item.box)),
                f"text contrast {ratio:.1f}:1 on its background is below {least:g}:1 "
                f"({item.box.text.strip()[:30]!r})",
                "darken the text or lighten what it is printed on (the clinic's colours "
                "or stylesheet)"))
    return defects


def _overflow(boxes: list[_Box]) -> list[Defect]:
    """Text or a picture past the edges of the box that holds it, once per page and
    role (list bullets hang outside their item by design)."""
    defects, reported = [], set()
    for item in boxes:
        box = item.box
        name = type(box).__name__
        if name != "TextBox" and "Replaced" not in name or \
                (item.page, item.role) in reported or \
                (box.element_tag or "").endswith("::marker"):
            continue
        left, right = item.within
        x, width = (box.position_x, box.width) if name == "TextBox" else \
            (box.border_box_x(), box.border_width())
        over = max(left - x, x + width - right) / PX_PER_MM
        if over > 1:
            reported.add((item.page, item.role))
            what = repr(box.text.strip()[:30]) if name == "TextBox" else "a picture"
            defects.append(Defect(
                "overflow", item.page, item.role, _mm(_rect(box)),
                f"{'text' if name == 'TextBox' else 'a picture'} runs {over:.0f} mm past "
                f"the edge of its column or box ({what})",
                "give it somewhere to break (a shorter web address or word), or check the "
                "styles that place it (an indent, a negative margin)"))
    return defects
