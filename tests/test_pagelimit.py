"""Layouts that stop at a page limit (handouts/pagelimit.py): only when the pages beyond
it are certain, with the same result as a whole layout, and only over the WeasyPrint
code it was written for."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from handouts import pagelimit
from handouts.engine import import_weasyprint
from handouts.pipeline import Job, produce
from tests.conftest import count_calls

WORDS = "Take the tablets with a full glass of water and stay upright for half an hour. "
PAGES = "".join(f"<h2>Part {i}</h2><p>{WORDS * 12}</p>" for i in range(12))
HTML = f"""<style>@page {{ size: A6; margin: 10mm }} body {{ font: 10pt sans-serif }}
</style>{PAGES}"""
# The same, with a page count in the text of its first page: a content lookup, which a
# later pass fills in and may lay that page out again.
LOOKUP = f"""<style>@page {{ size: A6; margin: 10mm }} body {{ font: 10pt sans-serif }}
.total::after {{ content: " of " counter(pages) }}</style><p class="total">Leaflet</p>{PAGES}"""


@pytest.fixture
def laid_out(monkeypatch):
    """Counts the pages WeasyPrint lays out."""
    import_weasyprint()
    from weasyprint.layout import page

    return count_calls(monkeypatch, page, "remake_page")


def test_weasyprint_paginates_with_the_code_pagelimit_py_was_written_for():
    import_weasyprint()
    import weasyprint.layout

    assert pagelimit.written_for_this_weasyprint(), (
        "WeasyPrint's layout/page.py or layout/__init__.py has changed: check that "
        "pagelimit's reasoning about make_all_pages and page_maker still holds (and "
        "update WRITTEN_FOR), or remove it")
    assert weasyprint.layout.make_all_pages is pagelimit.make_all_pages


def test_a_layout_past_the_limit_stops_after_the_limit(laid_out):
    weasyprint = import_weasyprint()
    whole = len(weasyprint.HTML(string=HTML).render().pages)
    assert whole > 3
    laid_out[0] = 0
    with pagelimit.limit_pages(2), pytest.raises(pagelimit.Overfull) as stopped:
        weasyprint.HTML(string=HTML).render()
    assert stopped.value.pages == 3
    assert laid_out[0] == 2


def test_a_layout_within_the_limit_is_the_whole_document():
    weasyprint = import_weasyprint()
    whole = weasyprint.HTML(string=HTML).render()
    with pagelimit.limit_pages(len(whole.pages)):
        limited = weasyprint.HTML(string=HTML).render()
    assert limited.write_pdf() == whole.write_pdf()


def test_a_page_with_a_content_lookup_is_laid_out_to_the_end(laid_out):
    """A later pass may lay the page with the lookup out again, so the pages after it
    are not certain: the layout runs to its end."""
    weasyprint = import_weasyprint()
    with pagelimit.limit_pages(2):
        limited = weasyprint.HTML(string=LOOKUP).render()
    with pagelimit.stock():
        whole = weasyprint.HTML(string=LOOKUP).render()
    assert len(limited.pages) == len(whole.pages) > 3
    assert limited.write_pdf() == whole.write_pdf()


def test_a_leaflet_fitted_with_stopped_layouts_is_the_same(library, renderer, laid_out,
                                                           fresh_cache):
    """The checklist fits US Letter only at the last spacing step, after three layouts
    that do not fit: stopped early, they give the same step and the same bytes. (Each
    build has an empty cache: no layout memo lets it start at the step that fits.)"""
    job = Job("leaflet", "riverside-oncology", ("injection-care-checklist",), "letter")
    fresh_cache()
    with pagelimit.stock():
        whole = produce(job, library, renderer, reuse=False)
    their_pages, laid_out[0] = laid_out[0], 0
    fresh_cache()
    fitted = produce(job, library, renderer, reuse=False)
    assert fitted.step == whole.step == 3
    assert fitted.pdf == whole.pdf
    assert laid_out[0] == 4 < their_pages, (laid_out[0], their_pages)   # one page a step


# Two parts, each with its own running footer (as a booklet's topics have): the second
# first appears on a page of its own.
RUNNING = f"""<style>@page {{ size: A6; margin: 10mm 10mm 20mm;
@bottom-center {{ content: element(foot) }} }} body {{ font: 10pt sans-serif }}
.foot {{ position: running(foot) }} .part {{ break-before: page }}</style>
<div class="foot">First part</div>{PAGES}
<div class="part"><div class="foot">Second part</div>{PAGES}</div>"""


def _theirs_then_ours(html: str, laid_out: list[int]):
    """`html` laid out by WeasyPrint's pagination, then ours: (their document, the pages
    theirs laid out, our document); `laid_out` then counts ours."""
    weasyprint = import_weasyprint()
    with pagelimit.stock():
        theirs = weasyprint.HTML(string=html).render()
    their_pages, laid_out[0] = laid_out[0], 0
    return theirs, their_pages, weasyprint.HTML(string=html).render()


def test_a_page_where_a_running_element_first_appears_is_laid_out_once(laid_out):
    """WeasyPrint lays such a page out twice, the second time to the same page."""
    whole, their_pages, ours = _theirs_then_ours(RUNNING, laid_out)
    assert len(ours.pages) == len(whole.pages) > 4
    assert laid_out[0] == len(ours.pages) == their_pages - 1
    pdf = ours.write_pdf()
    assert pdf == whole.write_pdf()
    footers = [page.extract_text().splitlines()[-1]
               for page in PdfReader(io.BytesIO(pdf)).pages]
    second = footers.index("Second part")
    assert set(footers[:second]) == {"First part"} and set(footers[second:]) == {
        "Second part"}


def test_a_page_where_a_note_first_appears_is_still_laid_out_again(laid_out):
    """A note (position: note()) takes part in its page's layout: WeasyPrint's mark
    stands."""
    notes = RUNNING.replace("running(foot)", "note(foot)")
    whole, their_pages, ours = _theirs_then_ours(notes, laid_out)
    assert laid_out[0] == their_pages > len(ours.pages)
    assert ours.write_pdf() == whole.write_pdf()
