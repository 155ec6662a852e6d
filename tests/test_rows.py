"""Rows set as one-row tables (styles/base.css): the running footer and the fill-in
lines. They replaced flex rows, which WeasyPrint lays out several times over; these
check, on the laid-out pages and in the PDF, what the flex rows did by themselves."""

from __future__ import annotations

import re

from handouts.pipeline import Job, produce
from handouts.render import Renderer
from tests.conftest import pdftext, topic_text

PX_PER_MM = 96 / 25.4   # WeasyPrint's layout units
LONG_NAME = "Riverside Regional Cancer, Bone Health and Supportive Care Centre"


def _library(make_library, name: str | None = None):
    body = "Some text before the lines.\n\nDate of my procedure: ____\n\n" \
           "Stop eating and drinking from: ____\n"
    library = make_library({"lines": topic_text(body, pages=3)})
    if name:
        toml = library.root / "clinics" / "riverside-oncology" / "clinic.toml"
        toml.write_text(re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', toml.read_text(),
                               count=1))
    return library


def _boxes(output, css_class: str, page: int = 0) -> list:
    """The block boxes of the elements with `css_class` on a laid-out page, margin
    boxes included."""
    found, stack = [], [output.document.pages[page]._page_box]
    while stack:
        box = stack.pop()
        element = getattr(box, "element", None)
        if element is not None and css_class in (element.get("class") or "").split() \
                and not type(box).__name__.startswith(("Line", "Text", "Inline")):
            found.append(box)
        stack.extend(getattr(box, "children", []))
    return found


def test_a_long_clinic_name_stays_clear_of_the_page_number(make_library, tmp_path):
    # Large print leaves the version line out: the gap after the clinic's part is all
    # that keeps a long name, wrapped, off "Page 1 of N".
    library = _library(make_library, LONG_NAME)
    output = produce(Job("leaflet", "riverside-oncology", ("lines",), "a4", "large"),
                     library, Renderer(library.asset_roots()), reuse=False)
    [clinic] = _boxes(output, "foot-clinic")
    [number] = _boxes(output, "foot-page")
    gap = number.content_box_x() - (clinic.content_box_x() + clinic.width)
    assert gap >= 3.9 * PX_PER_MM
    path = tmp_path / "lines.pdf"
    path.write_bytes(output.pdf)
    text = pdftext(path, 1, 1)
    assert "Supportive" in text and "Page 1 of" in text


def _fill_lines(output) -> list[tuple[float, float]]:
    """(left, right) of each fill-in line's border box on page 1, in CSS px."""
    return [(box.border_box_x(), box.border_box_x() + box.border_width())
            for box in _boxes(output, "fill-line")]


def test_one_column_fill_in_lines_end_together_at_the_text_measure(make_library):
    library = _library(make_library)
    renderer = Renderer(library.asset_roots())
    standard = produce(Job("leaflet", "riverside-oncology", ("lines",), "a4"), library,
                       renderer, reuse=False)
    lines = _fill_lines(standard)
    assert len(lines) == 2
    assert all(right - left >= 45 * PX_PER_MM for left, right in lines), "long enough"
    page = standard.document.pages[0]._page_box
    measure = 31 * 16   # px: 31 rem at 12 pt, the one-column measure (leaflet.css)
    for _, right in lines:   # together, at the paragraphs' measure, short of the margin
        assert abs(right - (page.content_box_x() + measure)) < 0.5

    large = produce(Job("leaflet", "riverside-oncology", ("lines",), "a4", "large"),
                    library, renderer, reuse=False)
    page = large.document.pages[0]._page_box
    lines = _fill_lines(large)
    assert len(lines) == 2
    for _, right in lines:   # large print: the text's full width
        assert abs(right - (page.content_box_x() + page.width)) < 0.5
