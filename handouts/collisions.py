"""Floats the short way: collisions when there is no float to collide with, and
whether a box is in the normal flow.

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

Layout asks every box whether it is in the normal flow (`Box.is_in_normal_flow`), most
of them many times: to find a column's last in-flow child, a box's page values, where
margins collapse. WeasyPrint answers through five methods, each reading the style
again. `in_normal_flow` reads `float` and `position` once each, in the same order, and
gives the same answer (no box class has its own).

Installed only while WeasyPrint's layout/float.py and formatting_structure/boxes.py are
the files this was written against (`WRITTEN_FOR`, `BOXES_WRITTEN_FOR`);
tests/test_collisions.py compares each answer with WeasyPrint's.
"""

from __future__ import annotations

from contextlib import contextmanager

from weasyprint.formatting_structure.boxes import Box, LineBox
from weasyprint.layout import block, inline
from weasyprint.layout import float as floats

from .upstream import unchanged

# SHA-256 of WeasyPrint 70.0's layout/float.py.
WRITTEN_FOR = "4e6cc308ad2a7d2a1aecb24b8517790fd4e154d839396ebb38dd3674e111c7c3"
# Where WeasyPrint looks it up (replaced.py imports it from float.py when it calls).
MODULES = (floats, block, inline)

# SHA-256 of WeasyPrint 70.0's formatting_structure/boxes.py.
BOXES_WRITTEN_FOR = "8ffd28ab74a149f0097208fcba6a80df0c8bb01e8fd4f9ced95d11b7e9807e23"

_stock = floats.avoid_collisions
_stock_in_flow = Box.is_in_normal_flow
_FLOATED = ("left", "right", "inline-start", "inline-end")
_ABSOLUTE = ("absolute", "fixed")


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's layout/float.py is the code this module was written against."""
    return unchanged(("weasyprint.layout.float",), WRITTEN_FOR)


def boxes_written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's boxes.py is the code `in_normal_flow` was written against."""
    return unchanged(("weasyprint.formatting_structure.boxes",), BOXES_WRITTEN_FOR)


def in_normal_flow(self) -> bool:
    """`Box.is_in_normal_flow`: not floated, absolutely positioned, running, a footnote
    or a note; the style read as WeasyPrint's five methods read it."""
    style = self.style
    float_ = style["float"]
    if float_ in _FLOATED:
        return False
    position = style["position"]
    if position in _ABSOLUTE:
        return False
    scheme = position[0]
    return not (scheme == "running()" or float_ == "footnote" or scheme == "note()")


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
    """Answer collisions directly when there is no float, and whether a box is in the
    normal flow, each if WeasyPrint's own is the code it was written against."""
    if boxes_written_for_this_weasyprint():
        Box.is_in_normal_flow = in_normal_flow
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
    ours, ours_in_flow = floats.avoid_collisions, Box.is_in_normal_flow
    for module in MODULES:
        module.avoid_collisions = _stock
    Box.is_in_normal_flow = _stock_in_flow
    try:
        yield
    finally:
        for module in MODULES:
            module.avoid_collisions = ours
        Box.is_in_normal_flow = ours_in_flow
