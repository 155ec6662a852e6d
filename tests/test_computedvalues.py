"""Computed values the short way (handouts/computedvalues.py): every property of every
element the same as WeasyPrint's own, and the same PDFs."""

from __future__ import annotations

import pytest

from handouts import computedvalues
from handouts.engine import import_weasyprint
from tests.conftest import count_calls, leaflet_html

# Inherited and not, set and not, on the root and below; logical properties, custom
# properties and var(), calc() with a percentage (kept unresolved), text decorations
# (propagated), floats and display (computed from each other), named pages.
HTML = """<style>@page { size: A5; margin: 10mm } @page wide { size: A4 landscape }
:root { --brand: #0a5; --bad: no-colour; font: 11pt/1.4 sans-serif; color: #222 }
.cols { column-count: 2; margin-inline-start: 4mm; padding-inline-end: 2% }
h2 { color: var(--brand); text-decoration: underline; break-after: avoid }
.indent { text-indent: calc(5% + 2mm) } .wide { page: wide }
.float { float: right; width: 30%; background: rgb(0 80 0 / 20%) }
.inline { display: inline-block; border: 1pt solid }
.rule { border-top: 1pt solid var(--brand) } .bad { border-bottom: 2pt solid var(--bad) }
li::marker { color: var(--brand) } em { letter-spacing: 0.02em; text-transform: uppercase }
</style><div class="cols">""" + "".join(
    f'<h2>Part {i}</h2><p class="indent">Take the tablets <em>with water</em>'
    f'<span class="inline">{i}</span></p><ul><li>Calcium</li><li>Vitamin D</li></ul>'
    f'<div class="float">Note {i}</div>' for i in range(8)) + \
    """</div><div class="wide"><p class="rule">Every property</p><p class="bad">of every
element.</p></div>
<div dir="rtl" class="cols"><p class="indent">ابدأ</p><ul><li>الكالسيوم</li></ul></div>"""


def test_weasyprint_computes_values_with_the_code_computedvalues_py_was_written_for():
    import_weasyprint()
    from weasyprint.css import ComputedStyle

    assert computedvalues.written_for_this_weasyprint(), (
        "WeasyPrint's css/__init__.py has changed: check ComputedStyle.__missing__ "
        "against computedvalues.missing (and update WRITTEN_FOR), or remove the module")
    assert ComputedStyle.__missing__ is computedvalues.missing
    from weasyprint.css.computed_values import COMPUTER_FUNCTIONS

    assert COMPUTER_FUNCTIONS["color"] is COMPUTER_FUNCTIONS["border_top_color"] \
        is computedvalues.color


def _plain(value):
    """A value to compare across documents: CSS tokens (each document parses its own
    stylesheets) by what they say."""
    if isinstance(value, tuple | list):
        items = [_plain(item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if hasattr(value, "serialize"):
        return ("token", value.serialize())
    return value


def _every_value(document) -> list[dict]:
    """Every property of every box's style, each read (computed) now."""
    from weasyprint.css import ComputedStyle
    from weasyprint.css.properties import INITIAL_VALUES

    styles = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box.style, ComputedStyle):
                for key in INITIAL_VALUES:
                    box.style[key]
                styles.append({key: _plain(value) for key, value in box.style.items()})
    return styles


@pytest.mark.parametrize("html", [HTML, "leaflet"])
def test_every_value_is_the_one_weasyprint_computes(html, library, renderer):
    weasyprint = import_weasyprint()
    if html == "leaflet":
        html = leaflet_html(library, renderer, "a5")
    with computedvalues.stock():
        theirs = weasyprint.HTML(string=html, base_url=".").render()
        their_values, their_pdf = _every_value(theirs), theirs.write_pdf()
    ours = weasyprint.HTML(string=html, base_url=".").render()
    our_values = _every_value(ours)
    assert len(our_values) == len(their_values) > 50
    assert our_values == their_values
    assert ours.write_pdf() == their_pdf


def test_most_values_take_the_short_way(monkeypatch):
    weasyprint = import_weasyprint()
    from weasyprint.css import ComputedStyle

    general = count_calls(monkeypatch, computedvalues, "_stock")
    reads = [0]
    ours = ComputedStyle.__missing__

    def counted(self, key):
        reads[0] += 1
        return ours(self, key)

    monkeypatch.setattr(ComputedStyle, "__missing__", counted)
    weasyprint.HTML(string=HTML).render()
    assert general[0] < 0.2 * reads[0], (general[0], reads[0])


def test_a_value_with_var_is_validated_once(monkeypatch):
    """The second document with the same values validates none of them again; an
    invalid one (`var(--bad)`) is never remembered, so it is refused each time."""
    weasyprint = import_weasyprint()
    weasyprint.HTML(string=HTML).render()
    validated = []
    stock = computedvalues._stock_solve
    monkeypatch.setattr(computedvalues, "_stock_solve", lambda pending, tokens, wanted, url:
                        validated.append(wanted) or stock(pending, tokens, wanted, url))
    document = weasyprint.HTML(string=HTML).render()
    styles = {}
    for box in document.pages[-1]._page_box.descendants():
        if box.element is not None:
            styles.setdefault(box.element.get("class"), box.style)   # the element's box
    assert styles["rule"]["border_top_width"] == 1 / 0.75
    assert styles["bad"]["border_bottom_style"] == "none"   # refused: the initial value
    assert validated and set(validated) <= {"border-bottom-width", "border-bottom-style",
                                            "border-bottom-color"}, validated


def test_a_colour_is_parsed_once(monkeypatch):
    """The second document parses none of its colours again (each is remembered by its
    text and the colour scheme), and gets the same ones."""
    weasyprint = import_weasyprint()
    first = _every_value(weasyprint.HTML(string=HTML).render())
    parsed = count_calls(monkeypatch, computedvalues, "_stock_color")
    second = _every_value(weasyprint.HTML(string=HTML).render())
    assert parsed[0] == 0
    assert second == first
    colours = {str(style["background_color"]) for style in second}
    assert any("0.2" in colour for colour in colours), colours   # rgb(... / 20%)
