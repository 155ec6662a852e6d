"""Floats the short way (handouts/collisions.py): every answer the same as WeasyPrint's
own, with and without floats, left to right and right to left, and whether each box is
in the normal flow."""

from __future__ import annotations

import pytest

from handouts import collisions
from handouts.engine import import_weasyprint

WORDS = "Take the tablets with a full glass of water and stay upright for half an hour. "
# Lines, a table, an inline-block, a formatting context (overflow: hidden), an image, a
# two-column set; then a float the later lines go around; in both directions.
HTML = """<style>@page { size: A6; margin: 8mm } body { font: 9pt sans-serif }
.bfc { overflow: hidden; margin: 2mm 3mm; border: 1pt solid } .cols { column-count: 2 }
.float { float: right; width: 20mm; height: 15mm; margin: 0 0 1mm 2mm; background: #ddd }
table { margin: 1mm 4mm } img { display: block; width: 10mm; height: 5mm; margin: 1mm }
</style>
<div dir="{dir}"><p>{words}</p><div class="bfc">{words}</div>
<table><tr><td>{words}</td></tr></table><p><span style="display: inline-block">
Dose</span> {words}</p><img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>">
<div class="cols"><p>{words}</p><p>{words}</p></div>
<div class="float"></div><p>{words}</p><div class="bfc">{words}</div>
<table><tr><td>{words}</td></tr></table></div>"""


def test_weasyprint_places_floats_with_the_code_collisions_py_was_written_for():
    import_weasyprint()
    from weasyprint.layout import float as floats

    assert collisions.written_for_this_weasyprint(), (
        "WeasyPrint's layout/float.py has changed: check avoid_collisions against "
        "collisions.avoid_collisions (and update WRITTEN_FOR), or remove the module")
    assert floats.avoid_collisions is collisions.avoid_collisions


def test_weasyprint_has_the_boxes_in_normal_flow_py_was_written_for():
    import_weasyprint()
    from weasyprint.formatting_structure.boxes import Box

    assert collisions.boxes_written_for_this_weasyprint(), (
        "WeasyPrint's formatting_structure/boxes.py has changed: check Box."
        "is_in_normal_flow and the methods it calls against collisions.in_normal_flow "
        "(and update BOXES_WRITTEN_FOR), or remove it")
    assert Box.is_in_normal_flow is collisions.in_normal_flow


FLOWS = """<style>@page { size: A6; margin: 8mm; @bottom-center { content: element(foot) }
@top-center { content: element(head, start) } } body { font: 9pt sans-serif }
.foot { position: running(foot) } .abs { position: absolute; top: 0 }
.fixed { position: fixed; bottom: 0 } .left { float: left; width: 10mm }
.start { float: inline-start; width: 8mm } .note { float: footnote }
.rel { position: relative; left: 1mm } li { list-style-position: outside }</style>
<div class="foot">Footer</div><p>Text<span class="note">A footnote</span></p>
<div class="abs">Absolute</div><div class="fixed">Fixed</div><div class="left">L</div>
<div class="start">S</div><p class="rel">Relative</p><ul><li>Item</li></ul>
<table><tr><td>Cell</td></tr></table>"""


def test_every_box_is_in_the_normal_flow_as_weasyprint_says():
    weasyprint = import_weasyprint()
    document = weasyprint.HTML(string=FLOWS).render()
    answers = []
    for page in document.pages:
        for box in page._page_box.descendants():
            ours = collisions.in_normal_flow(box)
            assert ours == collisions._stock_in_flow(box), box
            answers.append(ours)
    assert True in answers and False in answers
    with collisions.stock():
        theirs = weasyprint.HTML(string=FLOWS).render().write_pdf()
    assert weasyprint.HTML(string=FLOWS).render().write_pdf() == theirs


@pytest.mark.parametrize("direction", ["ltr", "rtl"])
def test_every_answer_is_weasyprints(direction, monkeypatch):
    weasyprint = import_weasyprint()
    html = HTML.replace("{dir}", direction).replace("{words}", WORDS * 2)
    calls = {"short": 0, "float": 0}

    def both(context, box, containing_block, outer=True):
        theirs = collisions._stock(context, box, containing_block, outer)
        ours = collisions.avoid_collisions(context, box, containing_block, outer)
        assert ours == theirs, (box, outer)
        calls["float" if context.excluded_shapes else "short"] += 1
        return theirs

    with collisions.stock():
        theirs = weasyprint.HTML(string=html).render().write_pdf()
    for module in collisions.MODULES:
        monkeypatch.setattr(module, "avoid_collisions", both)
    weasyprint.HTML(string=html).render()
    assert calls["short"] > 50 and calls["float"] > 5, calls
    monkeypatch.undo()
    assert weasyprint.HTML(string=html).render().write_pdf() == theirs
