"""List bullets sized once: the shrink-to-fit width of an outside list marker, kept.

WeasyPrint 70 lays out each outside list marker (the bullet before a list item) as an
absolutely positioned box, and sizes it as any such box: by its shrink-to-fit width,
from the min-content and max-content widths of its one line, worked out through the
general preferred-width code for every bullet of every list. The bullets' layout was
4.7% of a batch leaflet; keeping their widths takes a quarter off it (the 80 bullets of
two copies of `bone-metastases`: 27 -> 21 ms).

A marker's box is an anonymous block holding one line holding one text (build.py's
`marker_to_box`); its non-inherited properties (width, margins, paddings, borders) are
the initial ones. Its two widths depend on the text, the text's style as line breaking
reads it (the properties `linebreaks` keys its answers by, counted per font
configuration), the text's justification spacing and the line's `text-indent`. They are
kept under those; the shrink-to-fit width is then worked out from them as WeasyPrint
does. A marker of another shape (an image, a `content` of several parts), or with a
set width or a computed `text-indent`, is sized the general way.

Installed only over the WeasyPrint files it was written against (`WRITTEN_FOR`: its
layout/absolute.py, layout/preferred.py and formatting_structure/build.py);
tests/test_markers.py compares every marker's box with WeasyPrint's own.
"""

from __future__ import annotations

from weasyprint.css.functions import check_math
from weasyprint.formatting_structure.boxes import LineBox, TextBox
from weasyprint.layout import absolute, preferred

from . import linebreaks
from .upstream import swapped, unchanged

# SHA-256 of WeasyPrint 70.0's layout/absolute.py, layout/preferred.py and
# formatting_structure/build.py, in that order.
WRITTEN_FOR = "360a55484a3e0c83f45787051fab7625cf157a72cbd1e29c752caed67c70312d"

_stock = preferred.shrink_to_fit
_KEPT_AT_MOST = 4096
_widths: dict = {}   # (style key, text, spacing, indent) -> (min-content, max-content)


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's marker boxes and their sizing are the code this module was
    written against."""
    return unchanged(("weasyprint.layout.absolute", "weasyprint.layout.preferred",
                      "weasyprint.formatting_structure.build"), WRITTEN_FOR)


def _key(box) -> tuple | None:
    """What an outside marker's two widths depend on; None for another box."""
    if not box.is_outside_marker or len(box.children) != 1:
        return None
    line = box.children[0]
    if type(line) is not LineBox or len(line.children) != 1:
        return None
    text = line.children[0]
    if type(text) is not TextBox or box.style["width"] != "auto":
        return None
    indent = line.style["text_indent"]
    if check_math(indent):
        return None
    style = linebreaks.style_key(text.style)
    if style is None:
        return None
    return (style, text.text, text.justification_spacing, indent)


def shrink_to_fit(context, box, available_content_width):
    """`shrink_to_fit`, with an outside marker's two widths kept (see the module's
    docstring)."""
    key = _key(box)
    if key is None:
        return _stock(context, box, available_content_width)
    widths = _widths.get(key)
    if widths is None:
        widths = (preferred.min_content_width(context, box, outer=False),
                  preferred.max_content_width(context, box, outer=False))
        if len(_widths) >= _KEPT_AT_MOST:
            _widths.clear()
        _widths[key] = widths
    return min(max(widths[0], available_content_width), widths[1])


def install() -> bool:
    """Keep marker widths, if WeasyPrint's are the code this was written against and
    line breaks are remembered (their style keys are this memory's)."""
    if absolute.shrink_to_fit is shrink_to_fit:
        return True
    if absolute.shrink_to_fit is not _stock or not written_for_this_weasyprint() or \
            not linebreaks.written_for_this_weasyprint():
        return False
    absolute.shrink_to_fit = shrink_to_fit
    return True


def stock():
    """WeasyPrint's own marker sizing, for the tests that compare the two."""
    return swapped((absolute, "shrink_to_fit", _stock))
