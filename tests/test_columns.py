"""Balanced columns (handouts/columns.py): the same pages as WeasyPrint's own loop, in
fewer layout passes, and only over the WeasyPrint code they were derived from."""

from __future__ import annotations

import sys

import pytest

from handouts import columns
from handouts.engine import import_weasyprint

WORDS = "Take the tablets with a full glass of water and stay upright for half an hour. "
# A two-column set balanced before a spanning box, and a last set balanced after it,
# with headings that keep with their text: WeasyPrint's loop steps through many heights.
HTML = f"""<style>@page {{ size: A5; margin: 15mm }} body {{ font: 11pt sans-serif }}
.cols {{ column-count: 2; column-gap: 6mm }} h3 {{ break-after: avoid; margin: 4mm 0 1mm }}
.span {{ column-span: all; border: 2pt solid red; padding: 3mm; margin: 3mm 0 }}</style>
<div class="cols">{"".join(f"<p>{WORDS * (1 + i % 3)}</p>" for i in range(6))}
<div class="span">Get help now</div>
{"".join(f"<h3>Heading {i}</h3><p>{WORDS * (1 + i % 2)}</p>" for i in range(5))}</div>"""


def test_weasyprint_lays_out_columns_with_the_code_columns_py_came_from():
    import_weasyprint()
    from weasyprint.layout import block

    assert columns.derived_from_this_weasyprint(), (
        "WeasyPrint's layout/column.py has changed: derive handouts/"
        "columns.py from the new one (and update DERIVED_FROM), or remove it")
    assert block.columns_layout is columns.columns_layout


@pytest.fixture
def passes(monkeypatch):
    """Counts the column layouts columns_layout asks for (each pass lays out a column)."""
    import_weasyprint()
    from weasyprint.layout import block

    count = [0]
    layout = block.block_box_layout

    def counting(*args, **kwargs):
        if sys._getframe(1).f_code.co_name == "columns_layout":
            count[0] += 1
        return layout(*args, **kwargs)

    monkeypatch.setattr(block, "block_box_layout", counting)
    return count


def test_the_search_lays_out_the_same_pages_in_fewer_passes(passes):
    weasyprint = import_weasyprint()

    with columns.stock():
        theirs = weasyprint.HTML(string=HTML).render()
    their_passes, passes[0] = passes[0], 0
    ours = weasyprint.HTML(string=HTML).render()

    assert len(ours.pages) == len(theirs.pages) == 2
    assert ours.write_pdf() == theirs.write_pdf()
    assert passes[0] < 0.3 * their_passes, (passes[0], their_passes)


@pytest.mark.parametrize("fits_from, top", [(0, 0), (1, 1), (5, 40), (37, 37), (None, 12)])
def test_the_height_search_finds_the_least_height_that_fits(fits_from, top):
    step = 1.6
    search = columns._HeightSearch(100.0, step, 100.0 + top * step + 0.5)
    assert search.top == top
    tried, fits = [0], fits_from == 0
    while (height := search.next(fits)) is not None:
        k = round((height - 100.0) / step)
        assert 0 <= k <= top and k not in tried
        tried.append(k)
        fits = fits_from is not None and k >= fits_from
    if fits_from is None:
        assert search.found() is None
    else:
        assert search.found() == pytest.approx(100.0 + fits_from * step)
    assert len(tried) <= 2 * (top + 1).bit_length() + 1


@pytest.mark.parametrize("fits_from, top, line", [
    (1, 1, 0), (5, 40, 0), (37, 904, 24), (15, 353, 0), (300, 353, 24), (None, 12, 24)])
def test_what_a_pass_shows_takes_the_search_there_in_few_passes(fits_from, top, line):
    """A pass that fits shows how low its boxes reach, and the same boxes fit down to
    there; one that does not comes with a guess (here a good one for the first height
    that fits, then a poor one). The least height that fits is found all the same."""
    step = 1.6
    search = columns._HeightSearch(100.0, step, 100.0 + top * step + 0.5, line)
    tried, fits, guess = [0], fits_from == 0, 100.0 + (fits_from or 0) * step - 3
    while (height := search.next(
            fits, 100.0 + fits_from * step - 0.4 if fits else None, guess)) is not None:
        k = round((height - 100.0) / step)
        assert 0 <= k <= top and k not in tried
        tried.append(k)
        fits, guess = fits_from is not None and k >= fits_from, height + step
    if fits_from is None:
        assert search.found() is None
        assert len(tried) <= (top + 1).bit_length() + 1
    else:
        assert search.found() == pytest.approx(100.0 + fits_from * step)
        assert len(tried) <= 4, tried


def test_a_pass_that_fits_reaches_no_lower_than_its_boxes():
    """The reach of a pass counts every box laid out, except those broken at the end of
    their column, which stretch to its bottom at any height."""
    weasyprint = import_weasyprint()
    from weasyprint.formatting_structure.boxes import LineBox

    page = weasyprint.HTML(string=HTML).render().pages[0]
    sets = [box for box in page._page_box.descendants()
            if getattr(box, "element_tag", None) == "div" and box.style["column_count"] == 2]
    column = next(box for box in sets[0].children if box.is_column)
    top = column.position_y
    lines = [box for box in column.descendants() if isinstance(box, LineBox)]
    last_line = max(line.position_y + line.height for line in lines) - top
    whole = columns._reach([column], [None], top)
    assert whole >= last_line
    # Broken inside its last child: that child counts by its contents only.
    last = column.children[-1]
    broken = {len(column.children) - 1: {0: {0: None}}}
    assert last_line <= columns._reach([column], [broken], top) <= whole
    assert last.position_y + last.margin_height() - top <= whole


# Three pages of two columns, each page's set at the top of an empty page after the
# first, with bulleted lists (their markers are absolutely positioned boxes).
PAGES = f"""<style>@page {{ size: A6; margin: 10mm }} body {{ font: 9pt sans-serif }}
.cols {{ column-count: 2; column-gap: 4mm }}</style><h1>Title</h1><div class="cols">
{"".join(f"<h3>Part {i}</h3><p>{WORDS * 2}</p><ul><li>{WORDS}</li><li>Call us</li></ul>"
         for i in range(14))}</div>"""


def test_a_full_page_keeps_its_first_pass_columns(passes, monkeypatch):
    """A column set that fills an empty page is laid out once: the first pass's columns
    are kept (columns._Kept), with the same pages as WeasyPrint's own loop."""
    weasyprint = import_weasyprint()

    with columns.stock():
        theirs = weasyprint.HTML(string=PAGES).render()
    with monkeypatch.context() as patch:   # the first pass's columns never kept
        patch.setattr(columns._Kept, "self_contained", lambda self, context, boxes: False)
        passes[0] = 0
        relaid = weasyprint.HTML(string=PAGES).render()
    relaid_passes, passes[0] = passes[0], 0
    ours = weasyprint.HTML(string=PAGES).render()

    assert len(ours.pages) == len(theirs.pages) >= 3
    assert ours.write_pdf() == relaid.write_pdf() == theirs.write_pdf()
    # Each full page (all but the last, which is balanced) is laid out once, not twice:
    # the first page too, where the set starts below the title.
    assert passes[0] <= relaid_passes - 2 * (len(ours.pages) - 1), (passes[0], relaid_passes)


EDGES = {
    # The first box does not fit the first column at all: it moves to the next page.
    "too tall": '<div style="height: 120mm; border: 1pt solid">Diagram</div>',
    # A paragraph longer than a column, with more orphans than fit above the break.
    "orphans": f'<p style="orphans: 30; widows: 3">{WORDS * 30}</p>',
    # Headings kept with what follows, with no break allowed between them.
    "kept together": "".join(f'<h3 style="break-after: avoid; break-before: avoid">'
                             f"Part {i}</h3>" for i in range(40)),
}


@pytest.mark.parametrize("edge", EDGES)
def test_the_first_page_is_laid_out_as_weasyprint_lays_it_out(edge):
    """On the first page the first pass lays its columns out as the final layout does
    (WeasyPrint's says the page is empty), also where that decides what goes first."""
    weasyprint = import_weasyprint()
    html = PAGES.replace('<div class="cols">', f'<div class="cols">{EDGES[edge]}')
    with columns.stock():
        theirs = weasyprint.HTML(string=html).render()
    ours = weasyprint.HTML(string=html).render()
    assert len(ours.pages) == len(theirs.pages)
    assert ours.write_pdf() == theirs.write_pdf()
