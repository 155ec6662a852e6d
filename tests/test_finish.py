"""Finish: what HTML cannot do, on the rendered PDF: imposition, print-shop boxes, PDF/A."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from handouts.build import build, build_booklet
from handouts.errors import UsageError
from handouts.finish import saddle_stitch_order, write_atomic
from handouts.models import PrintOptions
from tests.conftest import half_texts, pdfinfo, qpdf_check


@pytest.fixture(scope="module")
def numbered(renderer, tmp_path_factory):
    """Reading-order A5 PDFs with N pages saying PAGE-n, rendered by WeasyPrint."""
    from handouts.models import Composed

    folder = tmp_path_factory.mktemp("numbered")

    def make(count):
        body = "".join(f'<p style="break-after: page">PAGE-{n}</p>' for n in range(1, count + 1))
        html = f'<html lang="en"><head><title>n</title><style>@page {{ size: A5 }}</style>' \
               f'</head><body>{body}</body></html>'
        document, _, _ = renderer.render(Composed(html=html, stylesheets=[], title="n",
                                                  kind="booklet"))
        data = renderer.write(document)
        assert len(document.pages) == count
        return data

    return folder, make


@pytest.mark.parametrize("count, expected", [
    (8, [(8, 1), (2, 7), (6, 3), (4, 5)]),
    # 6 pages pad to 8: blanks go before the back cover (page 6 stays last).
    (6, [(6, 1), (2, None), (None, 3), (4, 5)]),
    (4, [(4, 1), (2, 3)]),
])
def test_saddle_stitch_order_by_text(numbered, count, expected):
    from handouts.finish import impose

    folder, make = numbered
    path = folder / f"imposed-{count}.pdf"
    path.write_bytes(impose(make(count), "a4"))
    reader = PdfReader(path)
    assert len(reader.pages) == len(expected)
    for side, (left, right) in enumerate(expected, 1):
        box = reader.pages[side - 1].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape
        texts = half_texts(path, side)
        for text, page in zip(texts, (left, right), strict=True):
            found = re.findall(r"PAGE-(\d+)", text)
            assert found == ([str(page)] if page else []), (side, texts)


def test_impose_needs_small_pages(library, renderer, tmp_path):
    with pytest.raises(UsageError, match="A5 or half-letter"):
        build_booklet(name="spine-procedure-pack", clinic="riverside-oncology", paper="a4",
                      impose=True, library=library, renderer=renderer, out=tmp_path)


def test_bleed_and_crop_marks(library, renderer, tmp_path, fresh_cache):
    fresh_cache()
    [result] = build_booklet(name="spine-procedure-pack", clinic="lakeside-spine",
                             library=library, renderer=renderer, out=tmp_path,
                             options=PrintOptions(bleed_mm=3, marks=True))
    assert result.path.name == "booklet-spine-procedure-pack-letter-bleed.pdf"
    page = PdfReader(result.path).pages[0]
    trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
    assert (round(float(trim.width)), round(float(trim.height))) == (612, 792)
    mm = 72 / 25.4
    assert float(bleed.width) - float(trim.width) == pytest.approx(6 * mm, abs=0.2)
    # The marks sit outside the bleed: the page grows 10 mm beyond it on every side.
    assert float(media.width) - float(bleed.width) == pytest.approx(20 * mm, abs=0.2)
    contents = page.get_contents().get_data()
    assert len(re.findall(rb"\sl\s+S\s", contents)) == 8   # two hairlines a corner
    assert re.search(rb"/Artifact\s+BMC", contents)
    assert qpdf_check(result.path).returncode == 0
    fresh_cache()   # the same bytes again
    [again] = build_booklet(name="spine-procedure-pack", clinic="lakeside-spine",
                            library=library, renderer=renderer, out=tmp_path / "2",
                            options=PrintOptions(bleed_mm=3, marks=True))
    assert again.sha256 == result.sha256


def test_pdfa_option(library, renderer, tmp_path):
    [result] = build(["injection-care-checklist"], "riverside-oncology", library=library,
                     renderer=renderer, out=tmp_path, options=PrintOptions(pdfa=True))
    assert result.path.name.endswith("-pdfa.pdf")
    xmp = PdfReader(result.path).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in xmp
    assert pdfinfo(result.path)["Tagged"] == "yes"


def test_saddle_stitch_order_pads_before_the_back_cover():
    assert saddle_stitch_order(5) == (8, [(4, 0), (1, None), (None, 2), (3, None)])


def test_write_atomic_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out" / "leaflet.pdf"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["leaflet.pdf"]
