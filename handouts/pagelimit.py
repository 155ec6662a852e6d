"""Pagination without wasted layouts: stop laying out a document once it is certain to
run past a page limit, and lay a page out once where a running element first appears.

A leaflet over its page budget is laid out again with tighter spacing (pipeline._fit),
and the layouts that do not fit are thrown away: only whether they fit matters. Such a
layout can stop as soon as it is certain to need another page beyond the limit, instead
of laying that page out too. That page is the one that costs most: the last page of a
two-column leaflet is laid out again at every height its columns are balanced at.

When is it certain? WeasyPrint lays pages out in order (`make_all_pages`), then, if
content on a page looked up a page number (`counter(pages)`, `target-counter()`: a
"content lookup"), it lays out again the pages whose lookups changed, and repeats. A
page's layout depends only on where it starts (the `page_maker` entry: where its content
resumes, the page state, the side) and on the values of its own lookups. So in the first
pass, when page N has just been laid out, none of pages 1 to N has a content lookup, and
page N did not take the rest of the content (its `resume_at` is not None): no later pass
can change pages 1 to N, so page N + 1 is in the final document, whatever it holds. Then
`limit_pages(N)` raises `Overfull` instead of laying it out. When any of those pages has a
lookup, the layout runs to its end as before.

It also spares the second layout of a page where a running element first appears
(`make_page`). WeasyPrint 70's `make_page` marks a page to be laid out again when it
holds running elements it did not hold before, which includes the first time it is laid
out: so each page where a booklet's topic sets its own running footer was laid out twice
(4 of 20 pages of `bone-health-in-cancer`, and so one more pass over the contents page).
That second layout starts from the same place with the same state, and a running element
changes nothing in the page's own layout (it is laid out in the margin boxes, after
pagination), so it made the same page. The mark matters for notes (`position: note()`),
whose layout the page takes into account: a page that holds a note is marked as before.

This wraps WeasyPrint's `make_all_pages` and `make_page` and reads its page_maker entries
and running elements, so it is installed only over the WeasyPrint `layout/page.py` and
`layout/__init__.py` it was written for (`WRITTEN_FOR`); with another release every
layout runs to its end as WeasyPrint's own, and tests/test_pagelimit.py says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from .upstream import unchanged

# SHA-256 of WeasyPrint 70.0's layout/page.py followed by its layout/__init__.py.
WRITTEN_FOR = "99586138c016ee3dace53277232e36284179ae6007e776baa543d0dee79d08a1"

_LIMIT: ContextVar[int | None] = ContextVar("handouts_page_limit", default=None)
_stock = None   # WeasyPrint's make_all_pages, once installed (WeasyPrint loads lazily)
_stock_make_page = None   # and its make_page


class Overfull(Exception):
    """The document being laid out certainly has more pages than the limit."""

    def __init__(self, pages: int):
        super().__init__(f"more than {pages - 1} page(s)")
        self.pages = pages   # the pages it has at least


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's pagination is the code this module was written against."""
    return unchanged(("weasyprint.layout.page", "weasyprint.layout"), WRITTEN_FOR)


def _certain_to_continue(context, pages: int) -> bool:
    """Whether the first `pages` pages, just laid out in the first pass, are final and
    leave content for another page (see the module's docstring)."""
    maker = context.page_maker
    return (len(maker) > pages and maker[pages][0] is not None
            and not any(entry[-1]["content_lookups"] for entry in maker[:pages]))


def make_page(context, root_box, page_type, resume_at, page_number, page_state):
    """WeasyPrint's `make_page`, without marking a page to be laid out again only because
    a running element that is not a note first appears on it (see the module's
    docstring).

    `make_page` compares the page's running elements before and after its layout, and
    marks the page when a name had none before (never laid out) and has some now. An
    empty list in place of "none" for each name the page has not held makes that
    comparison see no change; a page that then holds a note is marked as it would have
    been."""
    fresh = [pages for pages in context.running_elements.values()
             if page_number not in pages]
    for pages in fresh:
        pages[page_number] = []   # make_page takes it out again before the layout
    made = _stock_make_page(context, root_box, page_type, resume_at, page_number,
                            page_state)
    if any(box.is_note() for pages in fresh for box in pages.get(page_number, ())):
        context.page_maker[page_number - 1][-1]["content_changed"] = True
    return made


def make_all_pages(context, root_box, html, pages):
    """WeasyPrint's `make_all_pages`, stopped by `limit_pages` where that is certain."""
    limit = _LIMIT.get()
    first_pass = not pages   # later passes are given the pages of the one before
    for made, page in enumerate(_stock(context, root_box, html, pages), start=1):
        yield page
        if first_pass and made == limit and _certain_to_continue(context, made):
            raise Overfull(made + 1)


@contextmanager
def limit_pages(pages: int | None):
    """Within this block, a layout certain to run past `pages` pages raises Overfull
    (None: no limit)."""
    token = _LIMIT.set(pages)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def install() -> bool:
    """Stop layouts at a page limit, if WeasyPrint's pagination is the code this was
    written against."""
    import weasyprint.layout as layout  # noqa: PLC0415
    from weasyprint.layout import page  # noqa: PLC0415

    global _stock, _stock_make_page
    if layout.make_all_pages is make_all_pages:
        return True
    if layout.make_all_pages is not page.make_all_pages or not written_for_this_weasyprint():
        return False
    _stock, _stock_make_page = page.make_all_pages, page.make_page
    layout.make_all_pages = make_all_pages
    page.make_page = make_page   # remake_page looks it up in its module
    return True


@contextmanager
def stock():
    """WeasyPrint's own pagination, for the tests that compare the two."""
    import weasyprint.layout as layout  # noqa: PLC0415
    from weasyprint.layout import page  # noqa: PLC0415

    ours, ours_make_page = layout.make_all_pages, page.make_page
    layout.make_all_pages = _stock or ours
    page.make_page = _stock_make_page or ours_make_page
    try:
        yield
    finally:
        layout.make_all_pages, page.make_page = ours, ours_make_page
