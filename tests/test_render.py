"""Render stage: real PDFs read back; the sandboxed fetcher refuses anything outside."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts.build import build
from handouts.models import Composed
from tests.conftest import CLINICS, count_calls, pdffonts, pdfinfo, pdftext, qpdf_check, topic_text

SIZES = {"a4": (595, 842), "letter": (612, 792), "a5": (420, 595)}


@pytest.fixture(scope="module")
def sample_pdfs(library, renderer, tmp_path_factory):
    """bone-protecting-injections for each demo clinic on each paper size."""
    out = tmp_path_factory.mktemp("out")
    built = {}
    for clinic in CLINICS:
        for paper in SIZES:
            [result] = build(["bone-protecting-injections"], clinic, paper=paper, out=out,
                             library=library, renderer=renderer)
            built[clinic, paper] = result
    return built


@pytest.mark.parametrize("paper", list(SIZES))
@pytest.mark.parametrize("clinic", CLINICS)
def test_page_size_text_fonts_and_structure(sample_pdfs, library, clinic, paper):
    result = sample_pdfs[clinic, paper]
    assert result.path.name == f"bone-protecting-injections-{paper}.pdf"
    assert result.path.parent.name == clinic
    reader = PdfReader(result.path)
    assert len(reader.pages) == result.pages
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == SIZES[paper]
    text = pdftext(result.path)
    from handouts.load import load_clinic
    profile = load_clinic(library.clinic_folder(clinic)).clinic
    flat = " ".join(text.split())
    assert profile.name in flat and profile.urgent_phone in flat
    assert profile.emergency_number in flat and "Get help now" in flat
    assert f"Page 1 of {result.pages}" in flat
    assert "does not replace advice from your care team" in flat
    fonts = pdffonts(result.path)
    assert fonts and all(f["emb"] == "yes" for f in fonts)
    assert any("Atkinson-Hyperlegible" in f["name"] for f in fonts)
    check = qpdf_check(result.path)
    assert check.returncode == 0, check.stdout + check.stderr
    info = pdfinfo(result.path)
    assert info["Tagged"] == "yes" and info["Title"].startswith("Bone-protecting")
    assert info["Author"] == profile.name
    from handouts.finish import accessibility_problems
    assert accessibility_problems(result.path.read_bytes()) == []


def test_body_text_is_at_least_12pt(sample_pdfs):
    sizes = _font_sizes(sample_pdfs["riverside-oncology", "a4"].path)
    body = max(sizes, key=sizes.get)  # the size most characters are set in
    assert body >= 12


def _font_sizes(path: Path) -> dict[float, int]:
    """Characters per font size, read from the PDF's text operators."""
    counts: dict[float, int] = {}
    for page in PdfReader(path).pages:
        def visit(text, cm, tm, font, size):
            if text.strip():
                scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
                key = round(size * scale, 1)
                counts[key] = counts.get(key, 0) + len(text.strip())
        page.extract_text(visitor_text=visit)
    return counts


def test_fetcher_refuses_everything_outside_the_library(library, renderer, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711")
    secret_svg = tmp_path / "secret.svg"
    secret_svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="20">'
                          '<text y="15">TOPSECRET-SVG</text></svg>')
    evil_css = tmp_path / "evil.css"
    evil_css.write_text(f'body::after {{ content: "x"; background: url("{secret_svg.as_uri()}") }}')
    link = library.root / "content" / "images" / "_test-link.svg"
    hostname = Path("/etc/hostname")
    html = f"""<!DOCTYPE html><html lang="en"><head><title>Hostile</title>
      <link rel="attachment" href="{secret.as_uri()}">
      <link rel="stylesheet" href="{evil_css.as_uri()}">
      <style>@import url("{evil_css.as_uri()}");
             h1 {{ background: url("{secret_svg.as_uri()}") }}</style>
      </head><body><h1>Hostile</h1>
      <img src="file:///etc/hostname" alt="x"><img src="{secret_svg.as_uri()}" alt="y">
      <img src="http://127.0.0.1:9/x.png" alt="net">
      <img src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E" alt="d">
      <img src="{link.as_uri()}" alt="symlink">
      <a rel="attachment" href="{secret.as_uri()}">attached</a>
      <object data="{secret_svg.as_uri()}"></object><embed src="{secret_svg.as_uri()}">
      <iframe src="{secret.as_uri()}"></iframe></body></html>"""
    try:
        link.symlink_to(secret_svg)
        composed = Composed(html=html, stylesheets=[], title="Hostile", kind="leaflet")
        document, fetcher, _ = renderer.render(composed)
        pdf = tmp_path / "hostile.pdf"
        pdf.write_bytes(renderer.write(document))
    finally:
        link.unlink(missing_ok=True)
    refused = " ".join(fetcher.refused)
    for url in [secret.as_uri(), secret_svg.as_uri(), evil_css.as_uri(), "file:///etc/hostname",
                "http://127.0.0.1:9/x.png", "data:image/svg+xml", link.as_uri()]:
        assert url in refused, url
    text = pdftext(pdf)
    assert "TOPSECRET" not in text
    if hostname.exists() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in text
    detach = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True)
    assert detach.stdout.strip().startswith("0 embedded files")
    assert b"TOPSECRET" not in pdf.read_bytes()


def test_missing_image_is_an_error_naming_it(make_library, renderer):
    lib = make_library({"t": topic_text("![A picture](images/nope.svg)")})
    from handouts.errors import HandoutsError
    with pytest.raises(HandoutsError, match="image 'images/nope.svg' not found"):
        build(["t"], "riverside-oncology", library=lib, renderer=renderer, out=lib.root / "o")


def test_builds_are_byte_identical(library, renderer, tmp_path, fresh_cache):
    fresh_cache()   # two real renders, neither from the output cache
    first = build(["injection-care-checklist"], "riverside-oncology", out=tmp_path / "1",
                  library=library, renderer=renderer)[0]
    fresh_cache()
    second = build(["injection-care-checklist"], "riverside-oncology", out=tmp_path / "2",
                   library=library, renderer=renderer)[0]
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()


def test_quick_weasyprint_import_loads_the_same_libraries():
    """handouts.engine skips WeasyPrint's find_library search; the libraries it then
    opens by soname must be the ones the ordinary import finds (HarfBuzz's subsetter
    included: without it output bytes vary), and find_library must be restored."""
    code = """
import ctypes.util, sys
original = ctypes.util.find_library
from handouts.engine import import_weasyprint
import_weasyprint()
from weasyprint.text import ffi
assert ctypes.util.find_library is original
libs = ["gobject", "pango", "harfbuzz", "harfbuzz_subset", "fontconfig", "pangoft2"]
print(" ".join(name for name in libs if getattr(ffi, name) is not None))
"""
    quick = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert quick.returncode == 0, quick.stderr
    assert quick.stdout.split() == ["gobject", "pango", "harfbuzz", "harfbuzz_subset",
                                    "fontconfig", "pangoft2"]


def test_the_imports_are_frozen_once_weasyprint_is_in():
    """What is imported lives as long as the process: gc.freeze() keeps the collector
    from walking it while WeasyPrint lays out (engine.import_weasyprint)."""
    import gc

    from handouts.engine import import_weasyprint

    import_weasyprint()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    import_weasyprint()   # once: objects made later are not frozen by another import
    assert gc.get_freeze_count() == frozen


def test_each_object_is_serialised_once_per_pdf_written(monkeypatch):
    """engine.serialise_once: over the pydyf code it was written against, the same bytes
    as pydyf's own write, with each stream compressed once, not twice (the /ID's hash)."""
    import io
    import zlib

    import pydyf

    from handouts.engine import import_weasyprint

    import_weasyprint()
    assert getattr(pydyf.PDF.write, "handouts_once", False), (
        "pydyf's PDF.write has changed: check that it changes no object while it writes, "
        "and update engine.PDF_WRITE, or remove engine.serialise_once")

    def made():
        pdf = pydyf.PDF()
        page = pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference,
                                 "MediaBox": pydyf.Array([0, 0, 200, 200])})
        for text in ("Call us", "Page 2"):
            content = pydyf.Stream([f"BT /F1 12 Tf ({text}) Tj ET".encode()] * 40,
                                   compress=True)
            pdf.add_object(content)
            page = pydyf.Dictionary({**page, "Contents": content.reference})
            pdf.add_page(page)
        return pdf

    stock, ours = io.BytesIO(), io.BytesIO()
    pydyf.PDF.write.handouts_stock(made(), stock, b"1.7", b"handouts", True)
    compressed = count_calls(monkeypatch, zlib, "compressobj")
    pydyf.PDF.write(made(), ours, b"1.7", b"handouts", True)
    assert ours.getvalue() == stock.getvalue()
    assert compressed[0] == 4   # the two pages' contents, the object and xref streams


def test_page_references_are_kept_while_the_pages_are_the_same():
    """engine.keep_page_references: over the pydyf code it was written against, the
    same references as pydyf's own, made again when a page is added."""
    import pydyf

    from handouts.engine import import_weasyprint

    import_weasyprint()
    kept = pydyf.PDF.page_references.fget
    assert getattr(kept, "handouts_kept", False), (
        "pydyf's PDF.page_references has changed: update engine.PAGE_REFERENCES, or "
        "remove engine.keep_page_references")
    pdf = pydyf.PDF()
    for pages in (1, 2, 3):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference}))
        assert pdf.page_references == tuple(
            f"{number} 0 R".encode() for number in pdf.pages["Kids"][::3])
        assert len(pdf.page_references) == pages
        assert pdf.page_references is pdf.page_references


def test_streams_are_compressed_at_zlib_default_level():
    """engine.compress_at_zlib_default: over the pydyf code it was copied from, and the
    same stream as pydyf's own but for the level."""
    import zlib

    import pydyf

    from handouts.engine import import_weasyprint

    import_weasyprint()
    assert getattr(pydyf.Stream.data.fget, "handouts_default_level", False), (
        "pydyf's Stream.data has changed: copy the new one into "
        "engine.compress_at_zlib_default (and update STREAM_DATA), or remove it")
    stream = pydyf.Stream([b"BT /F1 12 Tf (Call us) Tj ET"] * 50, {"Type": "/XObject"},
                          compress=True)
    head, _, rest = stream.data.partition(b"\nstream\n")
    body, _, tail = rest.rpartition(b"\nendstream")
    assert zlib.decompress(body) == b"\n".join([b"BT /F1 12 Tf (Call us) Tj ET"] * 50)
    assert body == zlib.compress(zlib.decompress(body))   # zlib's default level
    assert b"/Filter /FlateDecode" in head and f"/Length {len(body)}".encode() in head
    assert tail == b""


def test_the_html_parser_builds_each_pattern_once_and_parses_the_same():
    """engine.remember_parser_patterns: over the tinyhtml5 code it was written against,
    the same tree as tinyhtml5's own, with each pattern built once and found again."""
    import xml.etree.ElementTree as ElementTree

    import tinyhtml5
    from tinyhtml5 import inputstream

    from handouts.engine import import_weasyprint

    import_weasyprint()
    stream = inputstream.HTMLUnicodeInputStream
    ours = stream.chars_until
    assert getattr(ours, "handouts_patterns", None) is not None, (
        "tinyhtml5's inputstream.py has changed: check whether its pattern cache still "
        "misses, then update engine.INPUTSTREAM, or remove remember_parser_patterns")
    html = ("<!DOCTYPE html><html lang=en><head><title>Zoledronic acid</title>"
            "<style>p { color: red }</style></head><body class='density-1'>"
            "<p>Call <b>0161 &amp; 0800</b> &lt;now&gt; &#39;today&#39;</p>"
            "<ul><li>Fever<li>Jaw pain</ul><table><tr><td>120 mg</table>"
            "<!-- a comment --><pre>\n dose\tevery 4 weeks</pre></body></html>")

    def tree():
        return ElementTree.tostring(tinyhtml5.parse(html, namespace_html_elements=False))

    stream.chars_until = ours.handouts_original
    try:
        theirs = tree()
    finally:
        stream.chars_until = ours
    assert tree() == theirs
    built = dict(ours.handouts_patterns)
    assert tree() == theirs and ours.handouts_patterns == built   # nothing built again
    assert all(inputstream.characters_until_regex.get(key) is key[0]
               for key in ((pattern, opposite) for (_, opposite), pattern in built.items()))


def test_a_renderer_settles_once_after_its_first_layouts(library, monkeypatch):
    """Renderer.settle: after its first layouts, between documents, what is alive is
    frozen out of the collector's walks, once; the documents stay the same."""
    import gc

    from handouts import render
    from handouts.pipeline import Job, produce

    monkeypatch.setattr(render, "SETTLED_AFTER", 2)
    renderer = render.Renderer(library.asset_roots())
    clinic = next(iter(library.clinics()))
    job = Job("leaflet", clinic, ("bone-protecting-injections",), "a5")
    first = produce(job, library, renderer, reuse=False).pdf
    assert not renderer._settled
    produce(job, library, renderer, reuse=False)
    frozen = gc.get_freeze_count()
    assert produce(job, library, renderer, reuse=False).pdf == first
    assert renderer._settled and gc.get_freeze_count() > frozen
    frozen = gc.get_freeze_count()
    produce(job, library, renderer, reuse=False)
    assert gc.get_freeze_count() == frozen   # once
