"""Remembered line breaks (handouts/linebreaks.py): the same PDFs as WeasyPrint's own
line breaking, the second time without asking Pango, and only over the WeasyPrint code
they were written against."""

from __future__ import annotations

import inspect
import re

import pytest

from handouts import linebreaks, upstream
from handouts.engine import import_weasyprint
from tests.conftest import count_calls

WORDS = ("Take the tablets with a full glass of water and stay upright for half an "
         "hour. Osteonecrosis is uncommon; tell your dentist before any extraction. ")
# Text that exercises every branch the memory keys on: justification, automatic and
# soft hyphens, letter and word spacing, a long unbreakable word with overflow-wrap,
# right-to-left text, decoration, tabs in preformatted text, bold and small caps, and
# SVG text (laid out a letter at a time).
HTML = f"""<style>@page {{ size: A5; margin: 15mm }} body {{ font: 11pt sans-serif }}
.cols {{ column-count: 2; column-gap: 6mm; text-align: justify; hyphens: auto }}
.spaced {{ letter-spacing: 0.05em; word-spacing: 2pt }} u {{ text-decoration: underline }}
.wrap {{ overflow-wrap: anywhere }} .caps {{ font-variant-caps: small-caps }}</style>
<div class="cols" lang="en">{"".join(f"<p>{WORDS * (1 + i % 3)}</p>" for i in range(5))}
<p class="spaced">{WORDS}<u>{WORDS}</u></p><p>zoledronic&shy;acid&shy;infusion {WORDS}</p>
<p class="wrap">{"denosumab" * 12}</p><p class="caps"><b>{WORDS}</b></p></div>
<p dir="rtl" lang="ar">اتصل بفريقك إذا أصبت بالحمى أو ألم في الفك. {WORDS}</p>
<pre>dose\t120 mg\tevery 4 weeks</pre>
<svg width="160" height="50"><text x="5" y="20" font-family="sans-serif">Vertebra L1</text>
<text x="5" y="40" font-weight="bold">Bone cement</text></svg>"""


def test_weasyprint_breaks_lines_with_the_code_linebreaks_py_was_written_for():
    import_weasyprint()
    from weasyprint.layout import inline, preferred
    from weasyprint.text import line_break
    from weasyprint.text.fonts import FontConfiguration

    assert linebreaks.written_for_this_weasyprint(), (
        "WeasyPrint's text/line_break.py or text/fonts.py has changed: check "
        "linebreaks.PROPERTIES against them (and update WRITTEN_FOR), or remove it")
    assert inline.split_first_line is linebreaks.remembered
    assert preferred.split_first_line is linebreaks.remembered
    assert line_break.split_first_line is linebreaks.remembered   # SVG text
    assert linebreaks.drawn_with_this_weasyprint(), (
        "WeasyPrint's draw/text.py or svg/text.py has changed: check what drawing changes "
        "in a reactivated layout (linebreaks.reactivate), and update DRAWN_WITH")
    assert line_break.Layout.reactivate is linebreaks.reactivate       # drawing
    assert line_break.Layout.deactivate is linebreaks.deactivate
    assert FontConfiguration.add_font_face is linebreaks._forgetting_add_font_face


def test_the_memory_keys_on_every_style_property_line_breaking_reads():
    import_weasyprint()
    from weasyprint.text import fonts, line_break

    read = set()
    for code in (line_break.split_first_line, line_break.create_layout,
                 line_break.Layout, line_break.first_line_metrics, line_break.line_size,
                 fonts.get_font_description):
        read |= set(re.findall(r"style\[['\"](\w+)['\"]\]", inspect.getsource(code)))
    assert read, "no style properties found: has the source changed shape?"
    assert read <= set(linebreaks.PROPERTIES), sorted(read - set(linebreaks.PROPERTIES))


@pytest.fixture
def asked(monkeypatch):
    """Counts the questions linebreaks passes on to WeasyPrint's own line breaking."""
    return count_calls(monkeypatch, linebreaks, "_stock")


def _theirs_then_ours_twice(html: str, counted: list) -> tuple:
    """`html` with WeasyPrint's own code, then twice with ours, on one font
    configuration with an empty memory; the three PDFs, and what `counted` (a
    count_calls counter) counted in each of our two renders."""
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()   # a memory of its own, empty
    with linebreaks.stock():
        theirs = weasyprint.HTML(string=html).render(font_config=fonts).write_pdf()
    counted[0] = 0
    first = weasyprint.HTML(string=html).render(font_config=fonts).write_pdf()
    counted_first, counted[0] = counted[0], 0
    again = weasyprint.HTML(string=html).render(font_config=fonts).write_pdf()
    return theirs, first, again, counted_first, counted[0]


def test_remembered_breaks_give_the_same_pdf_and_spare_pango(asked):
    theirs, first, again, asked_first, asked_again = _theirs_then_ours_twice(HTML, asked)
    assert first == theirs and again == theirs
    assert asked_first > 50 and asked_again == 0, (asked_first, asked_again)


@pytest.fixture
def shaped(monkeypatch):
    """Counts the Pango layouts built to draw lines (linebreaks passes on to WeasyPrint)."""
    return count_calls(monkeypatch, linebreaks, "_reactivate")


def test_lines_drawn_again_reuse_their_pango_layouts(shaped):
    theirs, first, again, shaped_first, shaped_again = _theirs_then_ours_twice(HTML, shaped)
    assert first == theirs and again == theirs
    assert shaped_first > 20 and shaped_again == 0, (shaped_first, shaped_again)


@pytest.fixture
def walked(monkeypatch):
    """Counts the lines WeasyPrint's own `draw_first_line` draws (not replayed)."""
    return count_calls(monkeypatch, linebreaks, "_draw_first_line")


def test_lines_drawn_again_are_replayed_with_the_same_bytes(walked):
    theirs, first, again, walked_first, walked_again = _theirs_then_ours_twice(HTML, walked)
    assert first == theirs and again == theirs
    assert walked_first > 20 and walked_again == 0, (walked_first, walked_again)


def test_a_glyph_with_another_width_in_the_document_is_drawn_by_weasyprint(
        walked, monkeypatch):
    """The same face at another size can round a glyph to another width, and the PDF
    font keeps the first: a replayed line would then write kerning for the wrong
    width, so WeasyPrint draws the line itself. Every PDF font here starts out with
    such widths."""
    weasyprint = import_weasyprint()
    from weasyprint.pdf import fonts as pdf_fonts
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    weasyprint.HTML(string=HTML).render(font_config=fonts).write_pdf()   # noted
    made = pdf_fonts.Font.__init__

    def wider(self, *args):
        made(self, *args)
        self.widths = {glyph: 1234 for glyph in range(2000)}

    monkeypatch.setattr(pdf_fonts.Font, "__init__", wider)
    with linebreaks.stock():
        theirs = weasyprint.HTML(string=HTML).render(font_config=fonts).write_pdf()
    walked[0] = 0
    ours = weasyprint.HTML(string=HTML).render(font_config=fonts).write_pdf()
    assert ours == theirs
    assert walked[0] > 20


ELLIPSIS = """<style>@page { size: A6; margin: 10mm }
p { width: 30mm; white-space: nowrap; overflow: hidden; text-overflow: ellipsis }</style>
<p>Zoledronic acid infusion every four weeks</p><p>Zoledronic acid infusion</p>"""


def test_a_line_that_may_be_ellipsised_gets_a_layout_of_its_own(shaped):
    """Drawing an ellipsis changes the Pango layout (its width, ellipsis and text), so
    a line in a box with `text-overflow: ellipsis` is shaped afresh each time."""
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    with linebreaks.stock():
        theirs = weasyprint.HTML(string=ELLIPSIS).render(font_config=fonts).write_pdf()
    first = weasyprint.HTML(string=ELLIPSIS).render(font_config=fonts).write_pdf()
    shaped[0] = 0
    again = weasyprint.HTML(string=ELLIPSIS).render(font_config=fonts).write_pdf()
    assert first == theirs and again == theirs
    assert shaped[0] >= 2   # both lines, built again


def test_a_shipped_leaflet_is_byte_identical_with_and_without_the_memory(library):
    from handouts.pipeline import Job, produce
    from handouts.render import Renderer

    clinic = next(iter(library.clinics()))
    job = Job("leaflet", clinic, ("bone-protecting-injections",), "a5")
    renderer = Renderer(library.asset_roots())
    with linebreaks.stock():
        theirs = produce(job, library, renderer, reuse=False).pdf
    assert produce(job, library, renderer, reuse=False).pdf == theirs
    remembered = len(linebreaks._memories[renderer.font_config].answers)
    assert produce(job, library, renderer, reuse=False).pdf == theirs
    # The renderer's fonts stay as they were: the second document is all from memory.
    assert len(linebreaks._memories[renderer.font_config].answers) == remembered > 0


def test_each_caller_gets_its_own_layout_and_the_memory_is_bounded(monkeypatch):
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    monkeypatch.setattr(linebreaks, "LIMIT", 3)
    fonts = FontConfiguration()
    document = weasyprint.HTML(string="<p>x</p>").render(font_config=fonts)
    style = document.pages[0]._page_box.children[0].children[0].style
    one = linebreaks.remembered(WORDS, style, None, 100.0, 0)
    two = linebreaks.remembered(WORDS, style, None, 100.0, 0)
    assert one[1:] == two[1:] and one[0] is not two[0]
    one[0].text = "changed by drawing an ellipsis"
    assert linebreaks.remembered(WORDS, style, None, 100.0, 0)[0].text == two[0].text
    for width in (120.0, 140.0, 160.0, 180.0):
        linebreaks.remembered(WORDS, style, None, width, 0)
    assert len(linebreaks._memories[fonts].answers) == 3


def test_a_font_face_added_later_forgets_what_was_remembered():
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    from handouts.fonts import font_files

    fonts = FontConfiguration()
    html = '<p style="font-family: Handouts Late Face">' + WORDS + "</p>"
    weasyprint.HTML(string=html).render(font_config=fonts)
    assert linebreaks._memories[fonts].answers   # laid out in a fallback font
    weasyprint.CSS(string='@font-face { font-family: "Handouts Late Face"; src: url('
                   f'"{font_files()[0].as_uri()}") }}', font_config=fonts)
    assert fonts not in linebreaks._memories


def test_a_style_notes_its_number_and_strut_until_its_memory_is_forgotten():
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.text.line_break import strut as their_strut

    from handouts.fonts import font_files

    if not linebreaks._NOTING:
        pytest.skip(f"styles carry notes only under WeasyPrint {upstream.NOTED_FOR}")
    fonts = FontConfiguration()
    document = weasyprint.HTML(string=f"<p>{WORDS}</p>").render(font_config=fonts)
    style = document.pages[0]._page_box.children[0].children[0].style
    memory, number = linebreaks._style(style)
    assert style._handouts_line_style == (memory, memory.generation, number)
    assert linebreaks.strut(style) == their_strut(style) == style._handouts_strut
    # A copy (WeasyPrint's ::first-line, flex items) carries no note.
    assert not hasattr(style.copy(), "_handouts_line_style")
    # A font face added later forgets the memory, and the style's note with it.
    weasyprint.CSS(string='@font-face { font-family: "Handouts Later Face"; src: url('
                   f'"{font_files()[0].as_uri()}") }}', font_config=fonts)
    fresh, renumbered = linebreaks._style(style)
    assert fresh is not memory and fresh is linebreaks._memories[fonts]
    assert style._handouts_line_style == (fresh, fresh.generation, renumbered)


def test_a_line_whose_drawing_asks_the_stream_for_more_is_not_replayed():
    """The recording stream notes the operators WeasyPrint 70 draws a line with; a
    method it does not note (a later release's) leaves the line to WeasyPrint."""
    stream = type("Stream", (), {"ink_rect": 1, "set_text_rendering": print})()
    recorder = linebreaks._Recorder(stream)
    assert recorder.ink_rect == 1 and not recorder.unnoted
    assert recorder.set_text_rendering is print and recorder.unnoted
