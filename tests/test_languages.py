"""Editions in other languages: catalogues, fonts, right to left, reading level, batch.

Each language is rendered once (a one-page checklist or the two-page card), for real:
preflight, pdffonts, pdftotext and /Lang are read back from the PDF. The full matrix of
languages x clinics x papers x variants is `scripts/language-matrix.py`, run by hand.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts.compose import compose_leaflet
from handouts.editions import load_edition
from handouts.errors import HandoutsError
from handouts.fonts import cjk_file
from handouts.load import load_clinic
from handouts.messages import css_content, css_string, format_date, read_catalogue
from handouts.pipeline import Job, produce
from handouts.readability import reading_level, spanish_syllables
from tests.conftest import ROOT, count_calls, pdffonts, run, topic_text

TODAY = dt.date(2027, 1, 1)
# Problems a translated leaflet may print with: the drafts are unreviewed.
EXPECTED = {"unreviewed-translation"}


def _write(output, folder: Path) -> Path:
    path = folder / output.job.outputs()[0].replace("/", "--")
    path.write_bytes(output.pdf)
    return path


def _text(path: Path) -> str:
    """pdftotext's text, without the bidi embedding marks it puts around each run."""
    return re.sub("[\u202a-\u202e\u2066-\u2069]", "", run("pdftotext", str(path), "-"))


def _check_pdf(output, folder: Path, lang: str, font: str) -> str:
    """Preflight clean, every font embedded (`font` among them), /Lang; the text."""
    assert {p.code for p in output.problems} <= EXPECTED, output.problems
    path = _write(output, folder)
    fonts = pdffonts(path)
    assert all(f["emb"] == "yes" for f in fonts), fonts
    assert any(font in f["name"] for f in fonts), fonts
    assert PdfReader(path).trailer["/Root"]["/Lang"] == lang
    return _text(path)


def test_an_arabic_checklist_is_right_to_left_in_arabic_words(library, renderer, tmp_path):
    job = Job("leaflet", "riverside-oncology", ("injection-care-checklist",), "a4", lang="ar")
    output = produce(job, library, renderer, today=TODAY, reuse=False)
    assert output.pages == 1
    text = _check_pdf(output, tmp_path, "ar", "IBM-Plex-Sans-Arabic")
    # (poppler reverses the letters of a ligature in right-to-left text, so the phrases
    # looked for have none)
    assert "قبل كل حقنة" in text                 # a heading of the topic, in logical order
    assert "اطلب المساعدة" in text              # the urgent box's heading
    assert re.search(r"صفحة\s*1\s*من\s*1", text)   # page X of Y, from the catalogue, by CSS
    assert "020 7946 0999" in text               # the urgent number left to right
    html = output.composed.html
    assert '<html lang="ar" dir="rtl">' in html
    assert '<span lang="en-GB" dir="ltr">Riverside Cancer Centre</span>' in html
    assert any(sheet.name == "rtl.css" for sheet in output.composed.stylesheets)
    # ... and in the tag tree: the English name is a Span with its own /Lang.
    spans = _languages_in_tags(output.pdf)
    assert "Riverside Cancer Centre" in spans.get("en-GB", []), spans


def _languages_in_tags(data: bytes) -> dict[str, list[str]]:
    """The text of each structure element with a /Lang of its own, by language."""
    from io import BytesIO

    import pikepdf

    from tests.test_tagging import marked_texts

    pdf = pikepdf.open(BytesIO(data))
    pages = {page.objgen: number for number, page in enumerate(pdf.pages)}
    texts = {number: marked_texts(data, number) for number in range(len(pdf.pages))}
    found: dict[str, list[str]] = {}

    def text(node, page) -> str:
        if isinstance(node, int):
            return texts[page].get(node, "")
        if node.get("/Type") == "/MCR":
            return texts[pages[node.Pg.objgen]].get(int(node.MCID), "")
        page = pages[node.Pg.objgen] if "/Pg" in node else page
        kids = node.get("/K")
        kids = kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
        return "".join(text(kid, page) for kid in kids if not (
            isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR"))

    def walk(node):
        if not isinstance(node, pikepdf.Dictionary) or node.get("/Type") in ("/MCR", "/OBJR"):
            return
        if "/Lang" in node and "/S" in node:
            page = pages[node.Pg.objgen] if "/Pg" in node else 0
            found.setdefault(str(node.Lang), []).append(" ".join(text(node, page).split()))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]:
            walk(kid)

    walk(pdf.Root.StructTreeRoot)
    return found


@pytest.mark.skipif(cjk_file() is None, reason="Noto Sans CJK is not installed "
                    "(scripts/system-deps.sh installs fonts-noto-cjk)")
def test_a_chinese_card_embeds_noto_sans_cjk(library, renderer, tmp_path):
    job = Job("leaflet", "lakeside-spine", ("jaw-reminder-card",), lang="zh-Hans")
    output = produce(job, library, renderer, today=TODAY, reuse=False)
    assert output.pages == 2
    text = _check_pdf(output, tmp_path, "zh-Hans", "Noto-Sans-CJK-SC")
    assert "请把这张卡给您的牙医看" in text        # the card's subtitle
    assert "(555) 010-2499" in text
    assert any(str(cjk_file()) in key for key in output.inputs)   # a font is an input


def test_a_spanish_booklet_has_its_template_words_in_spanish(library, renderer, tmp_path):
    job = Job("booklet", "lakeside-spine", ("injection-care-checklist",), "letter",
              title="Cuidados del hueso", lang="es")
    output = produce(job, library, renderer, today=TODAY, reuse=False)
    text = _check_pdf(output, tmp_path, "es", "Atkinson-Hyperlegible")
    for words in ("Contenido", "Contacto", "Si necesita ayuda urgente", "Busque ayuda ahora",
                  "Página 2 de", "Enfermería de columna, 24 horas",
                  "23 de noviembre de 2026"):
        assert words in text, words
    assert "Page 2 of" not in text and "Contents" not in text
    spans = _languages_in_tags(output.pdf)   # the sources' English titles, tagged English
    assert "es" not in spans and any("Food and Drug Administration" in text
                                     for text in spans.get("en", [])), spans


def test_a_character_no_font_has_is_an_error_naming_it(make_library, renderer):
    library = make_library({"glyphs": topic_text("## Symbols\n\nA hieroglyph: \U00013000.\n")})
    job = Job("leaflet", "riverside-oncology", ("glyphs",))
    with pytest.raises(HandoutsError) as caught:
        produce(job, library, renderer, today=TODAY)
    [problem] = caught.value.problems
    assert "U+13000 EGYPTIAN HIEROGLYPH A001" in problem.message
    assert problem.code == "missing-glyph"
    assert Path(problem.file).name == "glyphs.md" and problem.line == 21


def test_the_glyph_check_answers_from_the_markup_only_when_that_is_certain(monkeypatch,
                                                                        tmp_path):
    """glyphs.check: a document whose every character (markup and references included)
    a packaged font has is passed without parsing out its printed text; a hieroglyph
    in text, in a character reference, or in an attribute sends it the precise way,
    which reports the one in the text and passes the one in the attribute."""
    from handouts import glyphs

    parsed = count_calls(monkeypatch, glyphs, "printed_text")
    page = '<html><head><style>p {{ color: #333 }}</style></head><body>{}</body></html>'
    assert glyphs.check(page.format("<p>Café &amp; crème, 38 °C</p>"), [], []) == []
    assert parsed[0] == 0
    assert glyphs.check(page.format('<p title="\U00013000">Plain</p>'), [], []) == []
    assert parsed[0] == 1
    for text in ("<p>A \U00013000</p>", "<p>A &#x13000;</p>"):
        with pytest.raises(HandoutsError) as caught:
            glyphs.check(page.format(text), [], [])
        assert "U+13000" in caught.value.problems[0].message
    assert parsed[0] == 3
    picture = tmp_path / "label.svg"   # a picture's words print too
    picture.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>\U00013000</text></svg>')
    with pytest.raises(HandoutsError):
        glyphs.check(page.format(f'<img src="{picture.as_uri()}" alt="A label">'), [], [])


def test_a_clinic_rewords_messages_and_its_labels_checked(make_library, tmp_path):
    library = make_library()
    toml = library.root / "clinics" / "riverside-oncology" / "clinic.toml"
    toml.write_text(toml.read_text() + '\n[messages.en]\n"Get help now" = "Call us now"\n')
    profile = load_clinic(library.clinic_folder("riverside-oncology"), library)
    topic, _ = load_edition(library, "injection-care-checklist")
    html = compose_leaflet(library, topic, profile, "a4", today=TODAY).html
    assert "Call us now" in html and "Get help now" not in html
    toml.write_text(toml.read_text().replace('"Get help now"', '"Get help nwo"'))
    profile = load_clinic(library.clinic_folder("riverside-oncology"), library)
    [problem] = compose_leaflet(library, topic, profile, "a4", today=TODAY).warnings
    assert problem.code == "unknown-message" and "'Get help now'" in problem.hint
    toml.write_text(toml.read_text().replace('"Get help nwo" = "Call us now"',
                                             '"Version %(version)s" = "Version"'))
    profile = load_clinic(library.clinic_folder("riverside-oncology"), library)
    with pytest.raises(HandoutsError) as caught:   # a placeholder lost: an error
        compose_leaflet(library, topic, profile, "a4", today=TODAY)
    assert "placeholders" in caught.value.problems[0].message


def test_every_template_word_is_in_the_catalogue_and_translated():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    found = {message for _, _, message, *_ in extract_from_dir(
        str(ROOT), method_map=[("templates/**.j2", "jinja2"),
                               ("handouts/messages.py", "python")],
        options_map={"templates/**.j2": {"extensions": "jinja2.ext.i18n",
                                         "trimmed": "true"}},
        keywords={"_": None, "N_": None, "gettext": None})}
    with open(ROOT / "locale" / "handouts.pot", "rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert found == template, "run `make messages` and translate the new words"
    for language in ("es", "zh_Hans", "ar"):
        table = read_catalogue(ROOT / "locale" / language / "LC_MESSAGES" / "handouts.po")
        assert set(table) == template, language


def test_dates_and_css_words_are_written_each_language_s_way():
    day = dt.date(2026, 11, 23)
    assert format_date(day, "en-GB") == "23 November 2026"
    assert format_date(day, "en-US") == "November 23, 2026"
    assert format_date(day, "es") == "23 de noviembre de 2026"
    assert format_date(day, "zh-Hans") == "2026年11月23日"
    assert format_date(day, "zh-Hans", "month", "y年M月") == "2026年11月"
    assert css_content("第 %(page)s 页", {"page": "counter(page)"}) == \
        '"\\007b2c " counter(page) " \\009875"'
    hostile = css_string('"; } body { display: none } </style>')
    assert '"' not in hostile[1:-1] and "<" not in hostile and "}" not in hostile


def test_reading_level_where_a_formula_is_validated():
    assert [spanish_syllables(w) for w in ("hueso", "día", "aéreo", "que", "inyección")] \
        == [2, 2, 4, 1, 3]
    level = reading_level("Tome calcio todos los días. Cepíllese los dientes dos veces "
                          "al día.", "es")
    assert level.summary().startswith("INFLESZ ") and level.measured
    for language in ("zh-Hans", "ar"):
        assert reading_level("骨转移 اتصل بنا", language).summary() == "not measured"
    assert reading_level("Take your calcium every day.", "en-GB").summary().startswith("grade")


def test_a_batch_manifest_chooses_languages_per_clinic(library, tmp_path):
    from handouts.batch import Manifest, plan

    manifest = Manifest(topics=["injection-care-checklist"], papers=["clinic"],
                        clinic={"riverside-oncology": {"languages": ["en", "es", "ar"]}})
    ids = [job.id for job in plan(library, manifest, tmp_path / "handouts.toml")]
    assert ids == ["lakeside-spine/injection-care-checklist-letter",
                   "riverside-oncology/injection-care-checklist-a4",
                   "riverside-oncology/injection-care-checklist-a4-ar",
                   "riverside-oncology/injection-care-checklist-a4-es"]


def test_booklet_and_build_all_take_a_language(make_library, tmp_path):
    from click.testing import CliRunner

    from handouts.cli import cli

    library = make_library()
    (library.root / "handouts.toml").write_text('bundled = ["templates", "styles"]\n')
    for name in ("injection-care-checklist.md", "injection-care-checklist.es.md", "terms.toml"):
        shutil.copy(ROOT / "content" / name, library.root / "content" / name)
    out = tmp_path / "out"
    common = ["-c", "riverside-oncology", "--lang", "es", "--out", str(out)]
    for args in (["build", "--all"], ["booklet", "injection-care-checklist", "--title", "Prueba"]):
        result = CliRunner().invoke(cli, ["--library", str(library.root), *args, *common])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "riverside-oncology").iterdir()) == [
        "booklet-prueba-a4-es.pdf", "injection-care-checklist-a4-es.pdf"]
