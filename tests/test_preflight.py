"""Preflight: each kind of defect on a laid-out page is seen, with its page and role;
the shipped print-shop and imposed outputs have none."""

from __future__ import annotations

import pytest

from handouts.models import Composed, PrintOptions
from handouts.pipeline import Job, produce
from handouts.preflight import inspect

PAGE = "@page { size: A4; margin: 20mm; } body { font-size: 12pt; margin: 0; }"


def _defects(renderer, body, css="", **options):
    html = (f'<html lang="en"><head><title>t</title><style>{PAGE} {css}</style></head>'
            f"<body>{body}</body></html>")
    document, _, _ = renderer.render(Composed(html=html, stylesheets=[], title="t",
                                              kind="leaflet"))
    return inspect(document, **options)


def _one(defects, kind):
    found = [d for d in defects if d.kind == kind]
    assert found, (kind, [str(d) for d in defects])
    return found[0]


def test_text_in_the_trim_area(renderer):
    defects = _defects(renderer, '<p class="running-footer">Page 1</p>',
                       css="@page { margin: 2mm 20mm 20mm 20mm; } p { margin: 0; }")
    defect = _one(defects, "safe-area")
    assert defect.page == 1 and defect.role == "footer" and defect.where[1] < 5


def test_text_drawn_over_text(renderer):
    body = ('<p style="position: absolute; top: 0">0321 Page</p>'
            '<p style="position: absolute; top: 0; left: 3mm">Page 12 of 14</p>')
    assert _one(_defects(renderer, body), "overlap").page == 1


def test_an_urgent_box_split_across_pages(renderer):
    body = ('<p style="height: 220mm">Long text</p><aside class="urgent"><h2>Get help now'
            "</h2>" + "".join(f"<p>Sign {n}</p>" for n in range(12)) + "</aside>")
    defect = _one(_defects(renderer, body), "split")
    assert defect.role == "urgent box" and defect.page == 1


def test_a_phone_number_broken_across_lines(renderer):
    body = '<p style="width: 30mm">Call us on 020 7946 0321 at any time</p>'
    defect = _one(_defects(renderer, body, keep=("020 7946 0321",)), "broken-inside")
    assert "020 7946 0321" in defect.message and defect.role == "body"


def test_a_dose_broken_across_lines(renderer):
    body = '<p style="width: 16mm">Take 500 mg daily</p>'
    assert "500 mg" in _one(_defects(renderer, body), "broken-inside").message


def test_small_type_and_a_heading_smaller_than_body(renderer):
    body = '<h2 style="font-size: 9.5pt">Question?</h2><p style="font-size: 10pt">Body text</p>'
    kinds = {(d.kind, d.role) for d in _defects(renderer, body)}
    assert ("type-size", "body") in kinds and ("type-size", "section heading") in kinds


def test_large_print_needs_16pt_everywhere(renderer):
    body = '<p style="font-size: 16pt">Body</p><p class="sources">Sources: 12 pt</p>'
    defect = _one(_defects(renderer, body, variant="large"), "type-size")
    assert defect.role == "sources" and "16 pt" in defect.message


def test_a_near_empty_page_and_a_blank_page(renderer):
    body = ('<p>One line, then a break</p><p style="break-before: page; height: 240mm">More'
            '</p><div style="break-before: page"></div><p style="break-before: page">End</p>')
    defects = _defects(renderer, body)
    assert _one(defects, "page-fill").page == 1
    assert _one(defects, "blank-page").page == 3


def test_a_list_leaving_one_item_alone(renderer):
    items = "".join(f'<li style="height: 10mm; margin: 0">Item {n}</li>' for n in range(7))
    body = f'<p style="height: 195mm; margin: 0">Text</p><ul style="margin: 0">{items}</ul>'
    defect = _one(_defects(renderer, body), "split")
    assert defect.role == "list" and "alone" in defect.message


def test_words_that_do_not_fit_the_format(renderer):
    booklet = _defects(renderer, "<p>Keep this leaflet safe.</p>", kind="booklet")
    assert "this leaflet" in _one(booklet, "words").message
    large = _defects(renderer, '<p style="font-size: 16pt">Ask for this in large print.</p>',
                     variant="large")
    assert "large print" in _one(large, "words").message


@pytest.mark.parametrize("job", [
    Job("booklet", "riverside-oncology", (), "a5", booklet="spine-procedure-pack",
        impose=True),
    Job("leaflet", "lakeside-spine", ("vertebroplasty-kyphoplasty",),
        options=PrintOptions(bleed_mm=3, marks=True)),
    Job("leaflet", "riverside-oncology", ("jaw-reminder-card",)),
], ids=["imposed-booklet", "bleed-and-marks", "card"])
def test_print_shop_imposed_and_card_outputs_pass(library, renderer, job):
    output = produce(job, library, renderer)
    assert not [str(p) for p in output.problems if p.code.startswith("preflight-")]


def test_a_build_reports_defects_as_warnings_and_strict_refuses(make_library, renderer):
    from handouts.errors import HandoutsError
    from tests.conftest import topic_text

    library = make_library({"dose": topic_text("## Why?\n\nTake 500 mg.")})
    style = library.root / "clinics" / "riverside-oncology" / "style.css"
    style.write_text("h2 { font-size: 9pt; }\n")
    job = Job("leaflet", "riverside-oncology", ("dose",))
    output = produce(job, library, renderer)
    [small] = [p for p in output.problems if p.code == "preflight-type-size"]
    assert small.severity == "warning" and "page 1" in small.message
    with pytest.raises(HandoutsError, match="preflight|pt"):
        produce(job, library, renderer, strict=True)


def test_a_clinic_may_ask_for_a_wider_safe_area(make_library, renderer):
    from tests.conftest import topic_text

    library = make_library({"plain": topic_text("## Why?\n\nShort text.")})
    profile = library.root / "clinics" / "riverside-oncology" / "clinic.toml"
    profile.write_text(profile.read_text().replace("refuse_overdue", "safe_area_mm = 20\n"
                                                   "refuse_overdue", 1)
                       if "refuse_overdue" in profile.read_text()
                       else profile.read_text().replace("[colours]",
                                                        "safe_area_mm = 20\n\n[colours]", 1))
    output = produce(Job("leaflet", "riverside-oncology", ("plain",)), library, renderer)
    near = [p for p in output.problems if p.code == "preflight-safe-area"]
    assert near and "keep 20 mm clear" in near[0].message


def test_a_group_of_fill_in_lines_split_across_pages(renderer):
    line = ('<p class="fill-in" style="display: table; width: 100%; margin: 0 0 4mm">'
            '<span class="fill-label" style="display: table-cell">Date:</span>'
            '<span class="fill-line" style="display: table-cell; border-bottom: 1pt solid '
            'black; height: 8mm"></span></p>')
    body = (f'<p style="height: 240mm; margin: 0">Fill</p>'
            f'<div class="fill-in-group" style="break-inside: auto">{line * 3}</div>')
    defect = _one(_defects(renderer, body), "split")
    assert defect.role == "fill-in lines"


def test_a_single_line_left_alone(renderer):
    text = " ".join(["A sentence of ordinary text in a long paragraph."] * 12)
    body = (f'<p style="height: 250mm; margin: 0">Fill</p>'
            f'<p style="orphans: 1; widows: 1; margin: 0">{text}</p>')
    defect = _one(_defects(renderer, body), "split")
    assert "single line" in defect.message and defect.page == 1


def _png(path, width: int, height: int) -> str:
    from PIL import Image

    Image.new("RGB", (width, height), (30, 90, 160)).save(path)
    return path.as_uri()


def test_a_raster_picture_with_too_few_pixels_for_its_size(renderer, tmp_path):
    """150 pixels printed 50 mm wide is 76 pixels an inch: blurred on paper. The same
    picture at 20 mm wide (190 a inch), or one of 600 pixels at 50 mm, passes."""
    small, large = _png(tmp_path / "small.png", 150, 50), _png(tmp_path / "large.png", 600, 200)

    def found(src: str, width_mm: int) -> list:
        html = (f'<html lang="en"><head><title>t</title><style>{PAGE}</style></head><body>'
                f'<figure><img src="{src}" alt="a" style="width: {width_mm}mm"></figure>'
                "</body></html>")
        document, _, _ = renderer.render(Composed(html=html, stylesheets=[], title="t",
                                                  kind="leaflet", roots=[tmp_path]))
        return [d for d in inspect(document) if d.kind == "image-resolution"]

    [blurred] = found(small, 50)
    assert blurred.page == 1 and blurred.role == "figure"
    assert "150 x 50 pixels printed 50 mm wide has 76 pixels an inch" in blurred.message
    assert "at least 591 pixels wide" in blurred.hint
    assert not found(small, 20) and not found(large, 50)


def test_a_clinic_logo_too_small_to_print_sharp_is_a_warning_then_a_check_error(
        make_library, renderer):
    from handouts.check import check_library
    from tests.conftest import topic_text

    library = make_library({"plain": topic_text("## Why?\n\nShort text.")})
    folder = library.root / "clinics" / "riverside-oncology"
    profile = folder / "clinic.toml"
    profile.write_text(profile.read_text().replace('logo = "logo.svg"', 'logo = "logo.png"'))
    _png(folder / "logo.png", 120, 40)
    output = produce(Job("leaflet", "riverside-oncology", ("plain",), "a4"), library, renderer)
    [logo] = [p for p in output.problems if p.code == "preflight-image-resolution"]
    assert logo.severity == "warning" and "page 1, logo at" in logo.message
    assert "120 x 40 pixels" in logo.message
    report = check_library(library, ["plain"], ["riverside-oncology"], papers=("a4",),
                           variants=("standard",), workers=1)
    assert any(p.code == "preflight-image-resolution" for p in report.errors())


PROSE = " ".join(["Most people feel a little sore for a day or two, and this soon passes."] * 14)


def test_body_lines_too_long_to_read_comfortably(renderer):
    """12 pt across 190 mm of A4 runs to about 90 characters a line; held to 31 rem
    (the leaflet's one-column measure) the same text runs to about 65."""
    wide = _defects(renderer, f"<p>{PROSE}</p><ul><li>{PROSE}</li></ul>",
                    css="@page { margin: 10mm; }")
    defect = _one(wide, "line-length")
    assert defect.page == 1 and defect.role == "body"
    typical = int(defect.message.split("about ")[1].split()[0])
    assert 80 <= typical <= 100, defect.message
    narrow = _defects(renderer, f"<p>{PROSE}</p><ul><li>{PROSE}</li></ul>",
                      css="@page { margin: 10mm; } p, ul { max-width: 31rem; }")
    assert not [d for d in narrow if d.kind == "line-length"]


def test_a_short_text_is_not_judged_on_its_line_length(renderer):
    """Two wide lines (a card, a note) are too few to call the measure wrong."""
    assert not [d for d in _defects(renderer, f"<p>{PROSE[:200]}</p>")
                if d.kind == "line-length"]


def test_paragraphs_set_in_capitals_or_italics(renderer):
    body = (f'<p style="text-transform: uppercase; width: 120mm">{PROSE}</p>'
            f'<p style="width: 120mm"><em>{PROSE}</em></p>'
            f'<p style="width: 120mm"><em>{PROSE}</em></p>')
    found = {d.message.split("set wholly in ")[1].split(",")[0]: d
             for d in _defects(renderer, body) if d.kind == "emphasis"}
    assert set(found) == {"capitals", "italics"}
    assert found["capitals"].message.startswith("a paragraph is")
    assert found["italics"].message.startswith("2 paragraphs are")
    assert found["capitals"].role == "body" and found["capitals"].page == 1


def test_a_word_or_a_line_of_emphasis_is_fine(renderer):
    body = (f'<p style="width: 120mm">Call us <em>straight away</em>. {PROSE}</p>'
            '<p>CALL 999 IF YOU CANNOT BREATHE</p><p><em>A short italic note.</em></p>'
            f'<p style="width: 120mm">{PROSE.upper()[:60]} {PROSE}</p>')
    assert not [str(d) for d in _defects(renderer, body) if d.kind == "emphasis"]


def test_a_clinic_stylesheet_in_capitals_fails_the_check(make_library):
    """Clinic stylesheets may set text-transform: on headings it is the clinic's look;
    on paragraphs it is a block of capitals, which check refuses."""
    from handouts.check import check_library
    from tests.conftest import topic_text

    library = make_library({"plain": topic_text(f"## Why?\n\n{PROSE}\n\n{PROSE}")})
    style = library.root / "clinics" / "riverside-oncology" / "style.css"
    style.write_text("h2 { text-transform: uppercase; }\n")
    report = check_library(library, ["plain"], papers=("a4",), variants=("standard",),
                           workers=1)
    assert not [p for p in report.problems if p.code == "preflight-emphasis"]
    style.write_text("p { text-transform: uppercase; }\n")
    report = check_library(library, ["plain"], papers=("a4",), variants=("standard",),
                           workers=1)
    [capitals] = [p for p in report.problems if p.code == "preflight-emphasis"]
    assert capitals.severity == "error" and "capitals" in capitals.message


def test_in_large_print_the_urgent_number_is_the_largest_text_on_its_page(renderer):
    def found(number_pt: int) -> list:
        body = ('<h1 style="font-size: 30pt">Title</h1><aside class="urgent"><p>Call '
                f'<span class="number" style="font-size: {number_pt}pt">020 7946 0999'
                "</span></p></aside>")
        return [d for d in _defects(renderer, body, css="body { font-size: 16pt; }",
                                    variant="large") if "urgent number" in d.message]

    [small] = found(20)
    assert small.page == 1 and small.role == "urgent box"
    assert "(20.0 pt) is smaller than the title (30.0 pt)" in small.message
    assert not found(32)


def test_body_text_set_too_tight_or_justified(renderer):
    body = f'<p style="width: 120mm">{PROSE}</p><p style="width: 120mm">{PROSE}</p>'
    defects = _defects(renderer, body, css="p { line-height: 1.05; text-align: justify; }")
    tight = _one(defects, "leading")
    assert "1.05 times" in tight.message and tight.role == "body" and tight.page == 1
    assert "2 paragraphs are justified" in _one(defects, "justified").message
    fine = _defects(renderer, body, css="p { line-height: 1.4; }")
    assert not [str(d) for d in fine if d.kind in ("leading", "justified")]


def test_a_fill_in_line_too_short_to_write_on(renderer):
    def lines(width_mm: int) -> list:
        body = (f'<p class="fill-in" style="display: table; width: {width_mm}mm">'
                '<span class="fill-label" style="display: table-cell; width: 1%; '
                'white-space: nowrap">Date and time of my next appointment:</span>'
                '<span class="fill-line" style="display: table-cell; border-bottom: 1pt '
                'solid black; height: 8mm"></span></p>')
        return [d for d in _defects(renderer, body) if d.kind == "fill-in"]

    [short] = lines(100)
    assert short.role == "fill-in line" and short.page == 1
    assert "too short to write on by hand" in short.message
    assert not lines(170)


def test_text_too_pale_for_what_it_is_printed_on(renderer):
    def found(body: str) -> list:
        return [d for d in _defects(renderer, body) if d.kind == "contrast"]

    [grey] = found('<p style="color: #999999">Pale grey on the paper</p>')
    assert "2.8:1" in grey.message and "below 4.5:1" in grey.message and grey.role == "body"
    [tinted] = found('<div style="background: #6d8fb3"><p style="color: #1f3550">Dark blue '
                     "on a mid blue box</p></div>")
    assert "below 4.5:1" in tinted.message
    # the same 3.5:1 grey passes as large text (18 pt), and dark text passes on the tint
    assert not found('<h1 style="font-size: 18pt; color: #888888">Large heading</h1>')
    assert found('<p style="color: #888888">Small text</p>')
    assert not found('<div style="background: #e8eef5"><p style="color: #1f3550">Dark on '
                     "a light tint</p></div>")
    # a half-transparent box is blended with the paper before it is judged
    assert not found('<div style="background: rgba(0, 0, 0, 0.05)"><p>Black text</p></div>')


def test_text_that_runs_out_of_its_column(renderer):
    address = "www.averyveryverylongclinicwebsitenamewithoutbreaks.example.org"
    found = [d for d in _defects(renderer, f'<div style="width: 60mm"><p>See {address} '
                                           "for more.</p></div>") if d.kind == "overflow"]
    [over] = found
    assert over.role == "body" and over.page == 1 and address[:30] in over.message
    # list bullets hang outside their items by design, on either side
    for direction in ("ltr", "rtl"):
        body = (f'<div dir="{direction}"><ul><li>One item</li><li>Another item</li></ul>'
                f'<p>{PROSE}</p></div>')
        assert not [str(d) for d in _defects(renderer, body) if d.kind == "overflow"]


def test_a_picture_wider_than_its_column(renderer, tmp_path):
    src = _png(tmp_path / "wide.png", 1200, 300)

    def found(width_mm: int) -> list:
        html = (f'<html lang="en"><head><title>t</title><style>{PAGE}</style></head><body>'
                f'<div style="width: 60mm"><img src="{src}" alt="a" '
                f'style="width: {width_mm}mm; max-width: none"></div></body></html>')
        document, _, _ = renderer.render(Composed(html=html, stylesheets=[], title="t",
                                                  kind="leaflet", roots=[tmp_path]))
        return [d for d in inspect(document) if d.kind == "overflow"]

    [wide] = found(90)
    assert "a picture runs 30 mm past" in wide.message
    assert not found(55)
