"""SVG pictures replayed (handouts/svgreplay.py): the same PDFs as WeasyPrint's own
drawing, and only plain pictures kept."""

from __future__ import annotations

import pytest

from handouts import svgreplay
from handouts.engine import import_weasyprint
from handouts.pipeline import Job, produce
from tests.conftest import count_calls

PLAIN = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" '
         'height="24"><path d="M12 1.5 L23.5 22 H0.5 Z" fill="#b3261e"/>'
         '<rect x="10.8" y="8" width="2.4" height="7.5" rx="1" fill="#fff"/>'
         '<circle cx="12" cy="18.3" r="1.4" fill="#fff" stroke="#000"/></svg>')
WORDED = PLAIN.replace("</svg>", '<text x="2" y="20" font-size="6">Call</text></svg>')
FADED = PLAIN.replace('fill="#b3261e"', 'fill="#b3261e" opacity="0.5"')
# Drawn the ordinary way (words), with a colour WeasyPrint scales by an opacity in place.
TINTED = WORDED.replace('fill="#fff" stroke="#000"',
                        'fill="#fff" stroke="#000" fill-opacity="0.5" stroke-opacity="0.5"')


def _html(*pictures: str) -> str:
    """A page where each picture is drawn twice, in two colours of text around it."""
    body = "".join(f'<p style="color: {colour}">Before {picture} after</p>'
                   for picture in pictures for colour in ("#333", "#b3261e"))
    return ("<style>@page { size: A6; margin: 8mm } body { font: 9pt sans-serif }"
            "svg { width: 12mm; height: 12mm }</style>" + body * 2)


def test_weasyprint_draws_svg_with_the_code_svgreplay_py_was_written_for():
    import_weasyprint()
    from weasyprint.images import SVGImage

    assert svgreplay.written_for_this_weasyprint(), (
        "WeasyPrint's images.py, svg/__init__.py or pdf/stream.py has changed: check "
        "svgreplay.draw against SVGImage.draw and SVG.draw (and update WRITTEN_FOR), "
        "or remove the module")
    assert SVGImage.draw is svgreplay.draw
    from importlib import import_module

    svg, defs, text, utils, path = (import_module(f"weasyprint.svg{name}") for name in (
        "", ".defs", ".text", ".utils", ".path"))
    assert svgreplay.values_written_for_this_weasyprint(), (
        "WeasyPrint's svg/utils.py has changed: check its normalize, size and color "
        "are still functions of their arguments alone (and update VALUES_WRITTEN_FOR)")
    assert utils.size is svg.size is text.size is defs.size is svgreplay.remembered["size"]
    assert svg.color is defs.color is svgreplay.remembered["color"]
    assert utils.normalize is path.normalize is text.normalize is \
        svgreplay.remembered["normalize"]


@pytest.mark.parametrize("pictures", [(PLAIN,), (PLAIN, WORDED, FADED), (PLAIN, TINTED)])
def test_the_same_pdf_as_weasyprints_own_drawing(pictures):
    weasyprint = import_weasyprint()
    html = _html(*pictures)
    with svgreplay.stock():
        theirs = weasyprint.HTML(string=html).write_pdf()
    svgreplay._drawings.clear()
    assert weasyprint.HTML(string=html).write_pdf() == theirs   # drawn, then replayed
    assert svgreplay._drawings
    assert weasyprint.HTML(string=html).write_pdf() == theirs   # replayed throughout


def test_only_plain_pictures_are_kept():
    weasyprint = import_weasyprint()
    svgreplay._drawings.clear()
    weasyprint.HTML(string=_html(WORDED, FADED)).write_pdf()
    assert not svgreplay._drawings   # text (a font's glyphs), opacity (a group)
    weasyprint.HTML(string=_html(PLAIN)).write_pdf()
    assert len({key[0] for key in svgreplay._drawings}) == 1


def test_a_leaflets_qr_code_and_warning_sign_are_replayed(library, renderer, monkeypatch):
    import_weasyprint()
    from weasyprint.svg import SVG

    job = Job("leaflet", "riverside-oncology", ("bone-protecting-injections",), "a4")
    first = produce(job, library, renderer, reuse=False).pdf
    drawn = count_calls(monkeypatch, SVG, "draw")
    assert produce(job, library, renderer, reuse=False).pdf == first
    assert drawn[0] == 1   # the clinic's logo, which has text in it


def test_a_worded_pictures_values_are_parsed_once(monkeypatch):
    """A picture drawn the ordinary way (words in it) has its lengths, colours and
    number lists parsed the first time only, and the same PDF as WeasyPrint's."""
    weasyprint = import_weasyprint()
    html = _html(WORDED)
    with svgreplay.stock():
        theirs = weasyprint.HTML(string=html).write_pdf()
    assert weasyprint.HTML(string=html).write_pdf() == theirs
    assert {key[0] for key in svgreplay._VALUES} == {"normalize", "size", "color"}
    parsed = []
    for name, parse in list(svgreplay._stock_parsers.items()):
        monkeypatch.setitem(svgreplay._stock_parsers, name,
                            lambda *args, _parse=parse: parsed.append(args) or _parse(*args))
    assert weasyprint.HTML(string=html).write_pdf() == theirs
    assert not parsed
