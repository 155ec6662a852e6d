"""Stop laying out a document once it is certain to run past a page limit.

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

This wraps WeasyPrint's `make_all_pages` and reads its page_maker entries, so it is
installed only over the WeasyPrint `layout/page.py` and `layout/__init__.py` it was
written for (`WRITTEN_FOR`); with another release every layout runs to its end, and
tests/test_pagelimit.py says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from .upstream import unchanged

# SHA-256 of WeasyPrint 70.0's layout/page.py followed by its layout/__init__.py.
WRITTEN_FOR = "99586138c016ee3dace53277232e36284179ae6007e776baa543d0dee79d08a1"

_LIMIT: ContextVar[int | None] = ContextVar("handouts_page_limit", default=None)
_stock = None   # WeasyPrint's make_all_pages, once installed (WeasyPrint loads lazily)


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

    global _stock
    if layout.make_all_pages is make_all_pages:
        return True
    if layout.make_all_pages is not page.make_all_pages or not written_for_this_weasyprint():
        return False
    _stock = page.make_all_pages
    layout.make_all_pages = make_all_pages
    return True


@contextmanager
def stock():
    """WeasyPrint's own pagination, for the tests that compare the two."""
    import weasyprint.layout as layout  # noqa: PLC0415

    ours = layout.make_all_pages
    layout.make_all_pages = _stock or ours
    try:
        yield
    finally:
        layout.make_all_pages = ours
