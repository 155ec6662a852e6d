"""Used values remembered: WeasyPrint 70 turns a box's computed margins, paddings, sizes
and border widths into used values (`resolve_percentages`) every time it lays the box
out, one property at a time: 18 properties read from the style, each through
`percentage()`, and set on the box. A two-column leaflet lays most boxes out several
times (the column set's passes, each spacing step), and the same style (a paragraph's
anonymous text, a list item's) serves many boxes: it was 9% of a warm render.

The answer depends only on the style's values, the containing block's width and height,
and whether the box is a page, so each style keeps its answers (at most `LIMIT`, under
those three) and hands them to the next box. WeasyPrint changes a style's values only
while it builds the boxes, before any is laid out, or on a copy it has just made (see
upstream.NOTED_FOR for where; a copy carries no answers), so an answer never goes stale.
A table with collapsed borders takes its border widths from the border conflict
resolution instead of the style, so such a box is left to WeasyPrint.

Used only while WeasyPrint's layout/percent.py is the file this was written against
(`WRITTEN_FOR`) and WeasyPrint is the release whose layout was read for style changes
(`upstream.NOTED_FOR`); tests/test_usedvalues.py compares whole documents.
"""

from __future__ import annotations

from contextlib import contextmanager

from weasyprint.formatting_structure import boxes
from weasyprint.layout import absolute, block, column, grid, inline, page, percent, table
from weasyprint.layout import float as floats

from .upstream import styles_noted, unchanged

# SHA-256 of WeasyPrint 70.0's layout/percent.py.
WRITTEN_FOR = "bac190e240dce17b4342feb99423e8232433d3727c0833897f50fed88cb163a2"
# The used values `resolve_percentages` sets on a box (tests check them against it).
NAMES = (
    "margin_left", "margin_right", "margin_top", "margin_bottom",
    "padding_left", "padding_right", "padding_top", "padding_bottom",
    "width", "min_width", "max_width", "height", "min_height", "max_height",
    "border_top_width", "border_right_width", "border_bottom_width", "border_left_width",
)
# Containing blocks a style keeps answers for: a style meets a handful (its column's
# width, the page's; an auto or a definite height).
LIMIT = 16
# Where WeasyPrint's layout calls it (flex calls it as percent.resolve_percentages).
MODULES = (percent, block, inline, page, floats, grid, absolute, column, table)

_stock = percent.resolve_percentages
_PageBox = boxes.PageBox
_Box = boxes.Box


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's percent.py is the code this module was written against."""
    return styles_noted() and unchanged(("weasyprint.layout.percent",), WRITTEN_FOR)


def resolve_percentages(box, containing_block):
    """WeasyPrint's `resolve_percentages`, answered from the style's answers when it
    has one for this containing block."""
    style = box.style
    if isinstance(containing_block, _Box):
        key = (containing_block.width, containing_block.height, isinstance(box, _PageBox))
    else:
        key = (*containing_block, isinstance(box, _PageBox))
    answers = getattr(style, "_handouts_used", None)
    if answers is not None:
        try:
            values = answers.get(key)
        except TypeError:   # a size that cannot be a key
            values = None
        if values is not None:
            box.__dict__.update(values)
            return
    _stock(box, containing_block)
    if style["border_collapse"] == "collapse" or (answers is not None and
                                                  len(answers) >= LIMIT):
        return
    try:
        if answers is None:
            answers = style._handouts_used = {}
        answers[key] = {name: box.__dict__[name] for name in NAMES}
    except (AttributeError, TypeError):   # a plain dict's style; an unhashable size
        pass


def install(*others) -> bool:
    """Remember used values, in WeasyPrint's layout and in `others` (modules of ours
    that import `resolve_percentages`), if percent.py is the code this was written
    against."""
    if percent.resolve_percentages is resolve_percentages:
        return True
    if not written_for_this_weasyprint():
        return False
    for module in (*MODULES, *others):
        if getattr(module, "resolve_percentages", None) is _stock:
            module.resolve_percentages = resolve_percentages
    return True


@contextmanager
def stock(*others):
    """WeasyPrint's own `resolve_percentages`, for the tests that compare the two."""
    patched = [module for module in (*MODULES, *others)
               if getattr(module, "resolve_percentages", None) is resolve_percentages]
    for module in patched:
        module.resolve_percentages = _stock
    try:
        yield
    finally:
        for module in patched:
            module.resolve_percentages = resolve_percentages
