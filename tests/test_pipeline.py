"""The pipeline: one Job in, one document out, with every file it read; the layers."""

from __future__ import annotations

import ast
import datetime as dt
import shutil
from pathlib import Path

import pytest

from handouts import record
from handouts.errors import HandoutsError
from handouts.library import Library
from handouts.pipeline import Job, produce, unchanged
from tests.conftest import ROOT, pdftext, topic_text

PACKAGE = ROOT / "handouts"

# The package's modules from the bottom layer up: a module may import only modules
# listed before it. The stages read in order: load -> compose -> render -> finish.
LAYERS = [
    "errors", "timelimit", "models", "placeholders", "upstream", "collisions", "computedvalues",
    "usedvalues", "columns", "linebreaks", "markers", "svgreplay", "stack",
    "pagelimit", "engine", "fonts",
    "readability", "claims", "record", "finish", "tagging", "files", "cache", "glyphs", "library",
    "svg", "raster", "load", "editions", "messages", "markup", "qr", "compose", "render",
    "preflight", "images", "pipeline", "build", "batch", "check", "inventory", "scaffold",
    "serve", "web", "cli", "__main__",
]


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported from the package, names imported, line) for every import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [a.name for a in node.names]
            if node.module:
                found.append((node.module, names, node.lineno))
            else:   # from . import record, cache
                found += [(name, [], node.lineno) for name in names]
    return found


def test_every_module_is_in_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules <= set(LAYERS), f"add {sorted(modules - set(LAYERS))} to LAYERS"


def test_stages_import_downward_only_and_use_no_private_names():
    rank = {name: index for index, name in enumerate(LAYERS)}
    wrong = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem == "__init__":
            continue
        for module, names, line in _imports(path):
            if module == "__init__" or module not in rank:
                continue
            if rank[module] >= rank[path.stem]:
                wrong.append(f"{path.name}:{line} imports {module} (a layer above or beside)")
            wrong += [f"{path.name}:{line} uses {module}.{name} (private)" for name in names
                      if name.startswith("_") and not name.startswith("__")]
    assert not wrong, "\n".join(wrong)


def test_a_leaflet_job_records_every_file_it_read(library, renderer):
    job = Job("leaflet", "riverside-oncology", ("vertebroplasty-kyphoplasty",))
    output = produce(job, library, renderer)
    read = {Path(p).name for p, sha in output.inputs.items() if sha != record.MISSING}
    assert {"vertebroplasty-kyphoplasty.md", "clinic.toml", "logo.svg", "leaflet.html.j2",
            "base.html.j2", "urgent.html.j2", "footer.html.j2", "base.css", "paper-a4.css",
            "vertebra-fracture.svg", "kyphoplasty.svg",
            "AtkinsonHyperlegible-Regular.ttf"} <= read
    assert output.job.paper == "a4" and output.pages <= 5
    assert output.inputs["(job)"] and output.inputs["(versions)"]
    assert unchanged(job, output.inputs)   # the job as asked for, its paper not resolved


def test_an_output_is_stale_when_its_review_date_passes(library, renderer):
    job = Job("leaflet", "lakeside-spine", ("injection-care-checklist",), "letter")
    output = produce(job, library, renderer)
    assert unchanged(job, output.inputs, dt.date.today())
    assert not unchanged(job, output.inputs, output.review_by + dt.timedelta(days=1))


def _library_with_override(tmp_path: Path) -> Library:
    root = tmp_path / "lib"
    (root / "content" / "images").mkdir(parents=True)
    (root / "clinics").mkdir()
    shutil.copytree(ROOT / "clinics" / "lakeside-spine", root / "clinics" / "lakeside-spine")
    (root / "content" / "dots.md").write_text(topic_text("""
        ## Where is it?

        ![A dot][dot]

        [dot]: images/dot.svg "A dot"
        """))
    (root / "content" / "images" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        '<circle cx="10" cy="10" r="8" fill="#004488"/></svg>')
    return Library(root)


def test_a_reference_style_image_and_a_new_override_template_are_inputs(tmp_path, renderer):
    library = _library_with_override(tmp_path)
    job = Job("leaflet", "lakeside-spine", ("dots",))
    output = produce(job, library, renderer)
    image = str(library.root / "content" / "images" / "dot.svg")
    assert output.inputs[image] != record.MISSING
    override = str(library.root / "templates" / "partials" / "footer.html.j2")
    assert output.inputs[override] == record.MISSING   # looked for, not there
    (library.root / "templates" / "partials").mkdir(parents=True)
    Path(override).write_text('{% extends "!bundled/partials/footer.html.j2" %}')
    assert not unchanged(job, output.inputs)


def test_a_broken_topic_is_a_handouts_error_naming_it(make_library, renderer):
    library = make_library({"broken": "---\ntitle: [unclosed\n---\nBody\n"})
    with pytest.raises(HandoutsError) as caught:
        produce(Job("leaflet", "riverside-oncology", ("broken",)), library, renderer)
    assert caught.value.problems[0].file.name == "broken.md"


def test_a_booklet_job_makes_one_document_with_its_sheets(library, renderer):
    job = Job("booklet", "riverside-oncology", (), "a5", booklet="spine-procedure-pack",
              impose=True)
    output = produce(job, library, renderer)
    assert output.job.outputs() == [
        "riverside-oncology/booklet-spine-procedure-pack-a5.pdf",
        "riverside-oncology/booklet-spine-procedure-pack-a5-imposed.pdf"]
    assert output.sheet_sides == 2 * -(-output.pages // 4)
    assert list(output.files()) == output.job.outputs()


def test_output_names_come_from_the_job():
    job = Job("leaflet", "c", ("t",), "half-letter", "large")
    assert job.outputs() == ["c/t-half-letter-large.pdf"]
    booklet = Job("booklet", "c", ("a", "b"), "a4", title="Hip & knee care")
    assert booklet.outputs() == ["c/booklet-hip-knee-care-a4.pdf"]


def test_produce_text_reads_back(library, renderer, tmp_path):
    output = produce(Job("leaflet", "lakeside-spine", ("bone-metastases",)), library, renderer)
    target = tmp_path / "x.pdf"
    target.write_bytes(output.pdf)
    assert "Bone metastases" in pdftext(target)


def test_the_same_library_in_two_places_gives_the_same_bytes(tmp_path, renderer, monkeypatch):
    pdfs = []
    for place in ("one", "two"):
        root = tmp_path / place / "lib"
        shutil.copytree(ROOT / "clinics" / "riverside-oncology",   # it has a QR code
                        root / "clinics" / "riverside-oncology")
        shutil.copytree(ROOT / "content", root / "content")
        monkeypatch.setenv("HANDOUTS_CACHE", str(tmp_path / place / "cache"))
        job = Job("leaflet", "riverside-oncology", ("injection-care-checklist",))
        pdfs.append(produce(job, Library(root), renderer).pdf)
    assert pdfs[0] == pdfs[1]


CARD = topic_text("""
    ## Front

    Show this card to your dentist before any dental treatment.

    ## Back

    Name: ____

    Start date: ____
    """, title="Jaw care reminder").replace("pages: 2", "pages: 2\nlayout: card")


def _words(pdf: Path, page: int) -> list[tuple[str, float, float]]:
    """Each word on a page with the centre of its box, in millimetres from the top left."""
    import re
    import subprocess

    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                          "-"], capture_output=True, text=True, check=True).stdout
    found = []
    for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)',
            out):
        found.append((word, (float(x0) + float(x1)) / 2 * 25.4 / 72,
                      (float(y0) + float(y1)) / 2 * 25.4 / 72))
    return found


@pytest.mark.parametrize("clinic, paper, cards", [("riverside-oncology", "a4", 10),
                                                  ("lakeside-spine", "letter", 8)])
def test_a_card_and_its_sheets_with_each_back_behind_its_front(make_library, renderer,
                                                               tmp_path, clinic, paper, cards):
    from pypdf import PdfReader

    from handouts.finish import card_sheet

    library = make_library({"jaw-card": CARD}, clinics=[clinic])
    output = produce(Job("leaflet", clinic, ("jaw-card",)), library, renderer)
    assert output.job.kind == "card" and output.job.outputs() == [
        f"{clinic}/jaw-card.pdf", f"{clinic}/jaw-card-sheets-{paper}.pdf"]
    card, sheets = tmp_path / "card.pdf", tmp_path / "sheets.pdf"
    card.write_bytes(output.pdf)
    sheets.write_bytes(output.sheets)
    pages = PdfReader(card).pages
    assert len(pages) == 2
    for page in pages:   # 85 x 55 mm
        assert (round(float(page.mediabox.width) * 25.4 / 72),
                round(float(page.mediabox.height) * 25.4 / 72)) == (85, 55)
    phone = library.clinic_folder(clinic).joinpath("clinic.toml").read_text().split(
        'urgent_phone = "')[1].split('"')[0]
    layout = card_sheet(paper)
    for page, side, word in ((1, layout["sides"][0], "dentist"),
                             (2, layout["sides"][1], phone.split()[-1])):
        where = [(x, y) for w, x, y in _words(sheets, page) if word in w]
        assert len(where) == len(side["slots"]) == cards
        for slot in side["slots"]:
            assert any(slot["x"] + 5 <= x <= slot["x"] + 80 and slot["y"] + 5 <= y <= slot["y"] + 50
                       for x, y in where), (page, slot)
    fronts = {s["card"]: s for s in layout["sides"][0]["slots"]}
    width = {"a4": 210, "letter": 215.9}[paper]
    # The card's own pages, placed: each side holds the sheet's paper, the cards as one
    # form drawn in every slot, and the crop marks (filled hairlines, an artifact).
    import pikepdf

    with pikepdf.open(sheets) as pdf:
        for page in pdf.pages:
            assert round(float(page.mediabox[2]) * 25.4 / 72, 1) == width
            ops = [str(op) for _, op in pikepdf.parse_content_stream(page)]
            assert ops.count("Do") == cards and ops.count("re") == len(layout["marks"])
            assert len(page.resources.XObject.keys()) == 1
    for back in layout["sides"][1]["slots"]:   # long-edge flip: mirrored left to right
        front = fronts[back["card"]]
        assert back["y"] == front["y"]
        assert abs((back["x"] + 85) - (width - front["x"])) < 0.05


def test_a_document_made_before_is_reused_while_its_inputs_are_unchanged(tmp_path, renderer,
                                                                        monkeypatch):
    monkeypatch.setenv("HANDOUTS_CACHE", str(tmp_path / "cache"))
    library = _library_with_override(tmp_path)
    job = Job("leaflet", "lakeside-spine", ("dots",))
    made = produce(job, library, renderer)
    documents = renderer.documents
    again = produce(job, library, renderer)
    assert renderer.documents == documents and again.document is None   # nothing laid out
    assert (again.pdf, again.pages, again.job, again.inputs) == (
        made.pdf, made.pages, made.job, made.inputs)
    (library.root / "content" / "images" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        '<circle cx="10" cy="10" r="5" fill="#aa3377"/></svg>')
    changed = produce(job, library, renderer)
    assert renderer.documents > documents and changed.pdf != made.pdf
    assert produce(job, library, renderer, reuse=False).pdf == changed.pdf


def test_a_new_page_budget_is_honoured_at_once(make_library, renderer):
    long = "\n\n".join(f"Paragraph {n} of a topic that is a little too long." for n in range(90))
    library = make_library({"long": topic_text(long, pages=1)})
    job = Job("leaflet", "riverside-oncology", ("long",))
    with pytest.raises(HandoutsError, match="overflows its budget of 1 page"):
        produce(job, library, renderer)
    path = library.root / "content" / "long.md"
    path.write_text(path.read_text().replace("pages: 1", "pages: 3"))
    assert produce(job, library, renderer).pages <= 3   # the layout memo does not hold it back


def test_cached_answers_from_the_output_cache_without_laying_out(library, renderer,
                                                                 fresh_cache):
    """The print desk asks `cached` first: only hashes, no worker, no WeasyPrint."""
    from handouts.pipeline import cached

    fresh_cache()
    job = Job("leaflet", "lakeside-spine", ("injection-care-checklist",))
    assert cached(job, library) is None
    made = produce(job, library, renderer)
    found = cached(job, library)
    assert found is not None and found.pdf == made.pdf and found.document is None
    assert found.job.paper == "letter" and found.pages == made.pages


FEVER = """
    ## What should I look out for?

    A temperature of {{ term.fever_threshold }} or more means call us.
"""


def _urgent_box(html: str) -> str:
    html = html.replace("\u00a0", " ")   # a temperature never breaks: no-break spaces
    start = html.index('class="urgent"')
    return html[start:html.index("</aside>", start)]


def test_a_clinic_term_rewords_only_that_clinics_documents(make_library, renderer,
                                                            fresh_cache, tmp_path):
    fresh_cache()
    text = topic_text(FEVER).replace("    - A test warning sign",
                                     '    - "A temperature of {{ term.fever_threshold }} or more"')
    library = make_library({"fever": text}, clinics=["riverside-oncology", "lakeside-spine"])
    profile = library.clinic_folder("riverside-oncology") / "clinic.toml"
    profile.write_text(profile.read_text().replace(
        "[colours]", '[terms]\nfever_threshold = "37.5 °C"\n\n[colours]'))
    jobs = {slug: Job("leaflet", slug, ("fever",)) for slug in ("riverside-oncology",
                                                                 "lakeside-spine")}
    made = {slug: produce(job, library, renderer) for slug, job in jobs.items()}
    local, other = made["riverside-oncology"], made["lakeside-spine"]
    assert "37.5 °C or more" in _urgent_box(local.composed.html)
    assert "38 °C" not in local.composed.html.replace("\u00a0", " ")
    assert "100.4 °F (38 °C) or more" in _urgent_box(other.composed.html)
    assert "37.5" not in other.composed.html   # the other clinic keeps the library's
    (tmp_path / "local.pdf").write_bytes(local.pdf)
    text_of = " ".join(pdftext(tmp_path / "local.pdf").replace("\u00a0", " ").split())
    assert "37.5 °C or more" in text_of and "38 °C" not in text_of
    # clinic.toml is a recorded input: a new wording remakes that clinic's documents only.
    profile.write_text(profile.read_text().replace("37.5 °C", "37.8 °C"))
    assert not unchanged(jobs["riverside-oncology"], local.inputs)
    assert unchanged(jobs["lakeside-spine"], other.inputs)
    again = produce(jobs["riverside-oncology"], library, renderer)
    assert "37.8 °C or more" in _urgent_box(again.composed.html)


def test_a_clinic_term_reaches_a_translation_worded_in_its_language(make_library, renderer):
    library = make_library()
    profile = library.clinic_folder("riverside-oncology") / "clinic.toml"
    clinic_toml = profile.read_text()
    # A5: the checklist's pages there fit at the first spacing step (one layout each).
    job = Job("leaflet", "riverside-oncology", ("injection-care-checklist",), "a5", lang="es")
    profile.write_text(clinic_toml.replace(
        "[colours]", '[terms]\nfever_threshold = "37.5 °C"\n\n[colours]'))
    only_english = produce(job, library, renderer, reuse=False)
    [gap] = [p for p in only_english.problems if p.code == "clinic-term-language"]
    assert gap.file == profile and gap.field == "terms.fever_threshold"
    assert gap.severity == "warning" and "es" in gap.hint
    assert "38 °C (100.4 °F) o más" in _urgent_box(only_english.composed.html)
    profile.write_text(clinic_toml.replace(
        "[colours]", '[terms]\nfever_threshold = { en-GB = "37.5 °C", es = "37,5 °C" }\n\n'
                     "[colours]"))
    worded = produce(job, library, renderer, reuse=False)
    assert not [p for p in worded.problems if p.code == "clinic-term-language"]
    assert "37,5 °C o más" in _urgent_box(worded.composed.html)
