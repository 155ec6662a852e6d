"""Float collisions the short way when there is no float to collide with.

WeasyPrint 70 places every line box (two or three times each: inline.py), every table
and every box that starts a formatting context through `avoid_collisions`, which finds
the floats beside it in the formatting context's excluded shapes and moves or narrows
the box around them. Our leaflets have one float, the QR code at the very end: every
other call meets no shape at all, and still sized the box and sorted its (empty)
collisions, about 6 microseconds each, 1,000 to 2,400 times a leaflet (3% of a warm
render).

With no excluded shape, `avoid_collisions` returns the containing block's content edges
(less the box's own side margins for an inner box), the box where it is, and a
right-to-left box against the right edge. `avoid_collisions` here returns that directly,
and calls WeasyPrint's own whenever there is a shape.

Installed only while WeasyPrint's layout/float.py is the file this was written against
(`WRITTEN_FOR`); tests/test_collisions.py compares each call's answer with WeasyPrint's.
"""

from __future__ import annotations

from contextlib import contextmanager

from weasyprint.formatting_structure.boxes import LineBox
from weasyprint.layout import block, inline
from weasyprint.layout import float as floats

from .upstream import unchanged

# SHA-256 of WeasyPrint 70.0's layout/float.py.
WRITTEN_FOR = "4e6cc308ad2a7d2a1aecb24b8517790fd4e154d839396ebb38dd3674e111c7c3"
# Where WeasyPrint looks it up (replaced.py imports it from float.py when it calls).
MODULES = (floats, block, inline)

_stock = floats.avoid_collisions


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's layout/float.py is the code this module was written against."""
    return unchanged(("weasyprint.layout.float",), WRITTEN_FOR)


def avoid_collisions(context, box, containing_block, outer=True):
    """WeasyPrint's `avoid_collisions`, answered directly when the formatting context
    has no float: (position_x, position_y, available_width)."""
    if context.excluded_shapes:
        return _stock(context, box, containing_block, outer)
    position_y = box.position_y if outer else box.border_box_y()
    if box.border_height() == 0 and box.is_floated():
        return 0, position_y, containing_block.width
    left = containing_block.content_box_x()
    right = left + containing_block.width
    if not outer:
        left += box.margin_left
        right -= box.margin_right
    position_x = left
    if box.style["float"] == "none" and containing_block.style["direction"] == "rtl":
        if isinstance(box, LineBox):
            position_x = right
        else:
            position_x = right - (box.margin_width() if outer else box.border_width())
    if not outer:
        position_x -= box.margin_left
        position_y -= box.margin_top
    return position_x, position_y, right - left


def install() -> bool:
    """Answer collisions directly when there is no float, if WeasyPrint's own is the code
    this was written against."""
    if floats.avoid_collisions is avoid_collisions:
        return True
    if not written_for_this_weasyprint():
        return False
    for module in MODULES:
        module.avoid_collisions = avoid_collisions
    return True


@contextmanager
def stock():
    """WeasyPrint's own collisions, for the tests that compare the two."""
    ours = floats.avoid_collisions
    for module in MODULES:
        module.avoid_collisions = _stock
    try:
        yield
    finally:
        for module in MODULES:
            module.avoid_collisions = ours
