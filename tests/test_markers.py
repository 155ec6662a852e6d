"""List bullets sized once (handouts/markers.py): every marker the same box as
WeasyPrint's own sizing makes, and the same PDFs."""

from __future__ import annotations

import pytest

from handouts import markers
from handouts.engine import import_weasyprint
from tests.conftest import count_calls, leaflet_html

SQUARE = ("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='6' height='6'>"
          "<rect width='6' height='6'/></svg>")
ITEMS = "".join(f"<li>Item {n}: take the tablet with water</li>" for n in range(1, 13))
# Bullets and numbers (1. to 12.), sizes, a set text-indent (inherited by the marker's
# line), a nested list, right to left, and an image marker. (A `::marker` with content
# of its own is not here: WeasyPrint 70 cannot size it, with or without markers.py.)
HTML = f"""<style>@page {{ size: A5; margin: 10mm }} body {{ font: 10pt sans-serif }}
.big {{ font-size: 14pt }} .indent li {{ text-indent: 2mm }} .square {{ list-style: square }}
.picture {{ list-style-image: url("{SQUARE}") }}
</style>
<ul>{ITEMS}</ul><ol>{ITEMS}</ol><ul class="big">{ITEMS}</ul><ol class="indent">{ITEMS}</ol>
<ul class="square"><li>One<ul><li>Inner</li><li>Inner</li></ul></li></ul>
<ul class="picture"><li>A picture</li></ul>
<div dir="rtl" lang="ar"><ul><li>الكالسيوم</li><li>فيتامين د</li></ul><ol>{ITEMS}</ol></div>"""


def test_weasyprint_sizes_markers_with_the_code_markers_py_was_written_for():
    import_weasyprint()
    from weasyprint.layout import absolute

    assert markers.written_for_this_weasyprint(), (
        "WeasyPrint's layout/absolute.py, layout/preferred.py or build.py has changed: "
        "check markers._key against marker_to_box and the preferred widths (and update "
        "WRITTEN_FOR), or remove the module")
    assert absolute.shrink_to_fit is markers.shrink_to_fit


def _markers(document) -> list[tuple]:
    return [(page_number, box.position_x, box.position_y, box.width, box.height)
            for page_number, page in enumerate(document.pages)
            for box in page._page_box.descendants() if box.is_outside_marker]


@pytest.mark.parametrize("html", [HTML, "leaflet"])
def test_every_marker_is_the_box_weasyprint_makes(html, library, renderer):
    weasyprint = import_weasyprint()
    if html == "leaflet":
        html = leaflet_html(library, renderer, "a4")
    with markers.stock():
        theirs = weasyprint.HTML(string=html, base_url=".").render()
        their_boxes, their_pdf = _markers(theirs), theirs.write_pdf()
    markers._widths.clear()
    for _ in range(2):   # sized, then from what was kept
        ours = weasyprint.HTML(string=html, base_url=".").render()
        assert _markers(ours) == their_boxes
        assert len(their_boxes) > 20
        assert ours.write_pdf() == their_pdf


def test_a_bullet_is_sized_once_per_style(monkeypatch):
    weasyprint = import_weasyprint()
    markers._widths.clear()
    sized = count_calls(monkeypatch, markers.preferred, "min_content_width")
    weasyprint.HTML(string=f"<ul>{ITEMS}</ul><ul>{ITEMS}</ul>").render()
    assert len(markers._widths) == 1   # 24 bullets, one text in one style
    assert sized[0] == 2   # once: the marker's box, then its line
