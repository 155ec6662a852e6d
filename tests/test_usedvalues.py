"""Used values remembered per style (handouts/usedvalues.py): the same PDFs, fewer
resolutions."""

from __future__ import annotations

import pytest

from handouts import columns, usedvalues
from handouts.engine import import_weasyprint
from tests.conftest import count_calls

# Percentages of both axes, calc(), min/max sizes, box-sizing, a page box, auto and
# definite heights, and a table with collapsed borders (left to WeasyPrint).
HTML = """<style>@page { size: A5; margin: 5% 10mm } body { font: 11pt sans-serif }
.cols { column-count: 2; column-gap: 4% } .box { width: 80%; padding: 2% 3mm;
margin: 1em 5%; border: 2pt solid; box-sizing: border-box; min-height: 10mm }
.calc { width: calc(50% + 4mm); max-width: 60%; padding-left: calc(1em + 1%) }
.tall { height: 30mm; min-width: 20% } table { border-collapse: collapse; width: 90% }
td { border: 1pt solid; padding: 1mm 2% }</style>
<div class="cols">""" + "".join(
    f'<p class="box">Zoledronic acid {i}</p><p class="calc">Denosumab {i}</p>'
    '<div class="tall">Calcium and vitamin D</div>' for i in range(12)) + """</div>
<table><tr><td>Dose</td><td>120 mg</td></tr><tr><td>Every</td><td>4 weeks</td></tr></table>"""


def test_weasyprint_resolves_used_values_with_the_code_usedvalues_py_was_written_for():
    import_weasyprint()
    assert usedvalues.written_for_this_weasyprint(), (
        "WeasyPrint's layout/percent.py has changed (or the release has): used values "
        "are resolved by WeasyPrint's own code. Check usedvalues.NAMES and where the "
        "layout changes a style's values, then update WRITTEN_FOR and upstream.NOTED_FOR, or "
        "remove the module")


def test_names_are_every_value_resolve_percentages_sets():
    weasyprint = import_weasyprint()
    document = weasyprint.HTML(string="<p style='width: 50%'>x</p>").render()
    box = next(box for box in document.pages[0]._page_box.descendants()
            if box.element_tag == "p")
    fresh = type(box)(box.element_tag, box.style, box.element, [])
    before = set(fresh.__dict__)
    usedvalues._stock(fresh, (500.0, "auto"))
    assert set(fresh.__dict__) - before <= set(usedvalues.NAMES)
    assert set(usedvalues.NAMES) <= set(fresh.__dict__)


@pytest.fixture
def resolved(monkeypatch):
    """Counts the boxes whose used values WeasyPrint resolves itself."""
    return count_calls(monkeypatch, usedvalues, "_stock")


def test_remembered_used_values_give_the_same_pdf(resolved):
    weasyprint = import_weasyprint()
    with usedvalues.stock(columns):
        theirs = weasyprint.HTML(string=HTML).render().write_pdf()
    resolved[0] = 0
    ours = weasyprint.HTML(string=HTML).render().write_pdf()
    assert ours == theirs
    # WeasyPrint's own, on every call (`stock` routes every call to it), against ours:
    # each style resolves once per containing block, and the boxes after it are answered.
    with usedvalues.stock(columns):
        all_calls, resolved[0] = resolved[0], 0
        weasyprint.HTML(string=HTML).render()
        all_calls, resolved[0] = resolved[0], all_calls
    assert 0 < resolved[0] < all_calls / 2, (resolved[0], all_calls)


def test_a_shipped_leaflet_and_booklet_are_byte_identical_with_and_without(library):
    from handouts.pipeline import Job, produce
    from handouts.render import Renderer

    clinic = next(iter(library.clinics()))
    renderer = Renderer(library.asset_roots())
    for job in (Job("leaflet", clinic, ("bone-metastases",), "a4"),
                Job("booklet", clinic, (), "a4", booklet=next(iter(library.booklets())))):
        with usedvalues.stock(columns):
            theirs = produce(job, library, renderer, reuse=False).pdf
        assert produce(job, library, renderer, reuse=False).pdf == theirs, job.id


def test_a_style_keeps_at_most_limit_answers(monkeypatch):
    weasyprint = import_weasyprint()
    monkeypatch.setattr(usedvalues, "LIMIT", 2)
    document = weasyprint.HTML(string="<p style='width: 50%'>x</p>").render()
    box = next(box for box in document.pages[0]._page_box.descendants()
            if box.element_tag == "p")
    for width in (100.0, 200.0, 300.0, 400.0):
        usedvalues.resolve_percentages(box, (width, "auto"))
        assert box.width == width / 2
    assert len(box.style._handouts_used) <= 2
