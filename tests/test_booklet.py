"""Booklets and print production: cover, contents, bookmarks, imposition, bleed, PDF/UA."""

from __future__ import annotations

import re
import subprocess

import pytest
from pypdf import PdfReader

from handouts.build import PrintOptions, build, build_booklet
from handouts.errors import UsageError
from handouts.finish import accessibility_problems
from tests.conftest import TOPICS, pdfinfo, pdftext, qpdf_check


@pytest.fixture(scope="module")
def booklet(library, renderer, tmp_path_factory):
    """The bone-health booklet (all four shipped topics) for the UK demo clinic on A5."""
    out = tmp_path_factory.mktemp("booklet")
    results = build_booklet(name="bone-health-in-cancer", clinic="riverside-oncology",
                            paper="a5", impose=True, library=library, renderer=renderer,
                            out=out)
    return results


def _page_texts(path):
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def test_cover_contents_and_topic_pages(booklet):
    reading, _ = booklet
    pages = _page_texts(reading.path)
    assert "Looking after your bones during cancer treatment" in pages[0]
    assert "Riverside Cancer Centre" in pages[0] and "Page 1" not in pages[0]
    contents = pdftext(reading.path, 2, 2)
    entries = re.findall(r"^\s*(.+?)\s*\.{3,}\s*(\d+)\s*$", contents, re.M)
    assert len(entries) == len(TOPICS) + 1  # the topics and the contact page
    titles = {"Bone metastases: what they are and what can help": "bone-metastases"}
    for title, number in entries[:-1]:
        page = int(number)
        assert page % 2 == 1, f"{title} starts on a left-hand page ({page})"
        first = pages[page - 1]
        assert first.startswith(title.split(":")[0]) or title in first, (title, page)
        assert f"Page {page} of {len(pages)}" in first
    assert "Contact us" in pages[int(entries[-1][1]) - 1]
    assert "available in large print and other formats" in pages[-1]
    assert titles  # keeps the mapping documented for readers of this test


def test_one_bookmark_per_topic(booklet, library):
    reader = PdfReader(booklet[0].path)
    top = [item for item in reader.outline if not isinstance(item, list)]
    titles = [item.title for item in top]
    from handouts.load import load_booklet, load_topic
    spec = load_booklet(library.booklet_path("bone-health-in-cancer"))
    expected = [load_topic(library.topic_path(s)).meta.title for s in spec.topics]
    assert titles == expected + ["Contact us"]
    for item in top[:-1]:
        assert reader.get_destination_page_number(item) % 2 == 0  # 0-based: odd pages


def test_running_heads_carry_the_topic_title(booklet):
    pages = _page_texts(booklet[0].path)
    second_page_of_topic = next(i for i, p in enumerate(pages) if p.startswith("Vertebroplasty")
                                and "Information for patients" in p) + 1
    head = pdftext(booklet[0].path, second_page_of_topic + 1,
                   second_page_of_topic + 1).strip().splitlines()[0]
    assert head.strip() == "Vertebroplasty and kyphoplasty"


def test_tagged_titled_accessible_and_reproducible(booklet, library, renderer, tmp_path):
    reading = booklet[0]
    info = pdfinfo(reading.path)
    assert info["Tagged"] == "yes"
    assert info["Title"] == "Looking after your bones during cancer treatment"
    assert info["Author"] == "Riverside Cancer Centre"
    assert accessibility_problems(reading.path.read_bytes()) == []
    assert qpdf_check(reading.path).returncode == 0
    again = build_booklet(name="bone-health-in-cancer", clinic="riverside-oncology",
                          paper="a5", impose=True, library=library, renderer=renderer,
                          out=tmp_path)
    assert [r.sha256 for r in again] == [r.sha256 for r in booklet]


def _half_texts(path, page: int) -> tuple[str, str]:
    """Text on the left and right half of one imposed sheet side."""
    width, height = (float(x) for x in PdfReader(path).pages[page - 1].mediabox[2:])
    halves = []
    for x in (0, int(width / 2)):
        halves.append(subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-x", str(x), "-y", "0",
             "-W", str(int(width / 2)), "-H", str(int(height)), str(path), "-"],
            capture_output=True, text=True, check=True).stdout)
    return halves[0], halves[1]


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
        texts = _half_texts(path, side)
        for text, page in zip(texts, (left, right), strict=True):
            found = re.findall(r"PAGE-(\d+)", text)
            assert found == ([str(page)] if page else []), (side, texts)


def test_imposed_shipped_booklet_keeps_covers_outside(booklet):
    reading, imposed = booklet
    assert imposed.path.name.endswith("-imposed.pdf") and reading.path.exists()
    pages = len(PdfReader(reading.path).pages)
    sides = len(PdfReader(imposed.path).pages)
    assert sides == 2 * (-(-pages // 4))
    left, right = _half_texts(imposed.path, 1)
    assert "Contact us" in left and "Looking after your bones" in right


def test_impose_needs_small_pages(library, renderer, tmp_path):
    with pytest.raises(UsageError, match="A5 or half-letter"):
        build_booklet(name="spine-procedure-pack", clinic="riverside-oncology", paper="a4",
                      impose=True, library=library, renderer=renderer, out=tmp_path)


def test_bleed_and_crop_marks(library, renderer, tmp_path):
    [result] = build_booklet(name="spine-procedure-pack", clinic="lakeside-spine",
                             library=library, renderer=renderer, out=tmp_path,
                             options=PrintOptions(bleed_mm=3, marks=True))
    assert result.path.name == "booklet-spine-procedure-pack-letter-bleed.pdf"
    page = PdfReader(result.path).pages[0]
    trim, media = page.trimbox, page.mediabox
    assert (round(float(trim.width)), round(float(trim.height))) == (612, 792)
    assert round(float(media.width) - float(trim.width), 1) == pytest.approx(17.0, abs=0.2)


def test_pdfa_option(library, renderer, tmp_path):
    [result] = build(["injection-care-checklist"], "riverside-oncology", library=library,
                     renderer=renderer, out=tmp_path, options=PrintOptions(pdfa=True))
    assert result.path.name.endswith("-pdfa.pdf")
    xmp = PdfReader(result.path).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in xmp
    assert pdfinfo(result.path)["Tagged"] == "yes"


def _body_size(path) -> float:
    counts: dict[float, int] = {}
    for page in PdfReader(path).pages:
        def visit(text, cm, tm, font, size):
            if text.strip():
                scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
                counts[round(size * scale, 1)] = counts.get(round(size * scale, 1), 0) + len(text)
        page.extract_text(visitor_text=visit)
    return max(counts, key=counts.get)


@pytest.mark.parametrize("topic", TOPICS)
def test_large_print_every_topic(library, renderer, tmp_path, topic):
    [result] = build([topic], "riverside-oncology", variant="large", library=library,
                     renderer=renderer, out=tmp_path)
    assert result.path.name.endswith("-a4-large.pdf")
    assert _body_size(result.path) >= 16
    from handouts.load import load_topic
    meta = load_topic(library.topic_path(topic)).meta
    assert result.pages <= meta.budget("a4", "large")


def _with_address(lib, lines):
    toml = lib.root / "clinics" / "riverside-oncology" / "clinic.toml"
    text = re.sub(r"(?m)^address = .*$", "address = " + repr(lines).replace("'", '"'),
                  toml.read_text())
    toml.write_text(text)


def test_a_long_back_cover_is_set_compactly_and_never_spills(make_library, renderer,
                                                            tmp_path):
    from handouts.errors import BudgetError
    from tests.conftest import topic_text

    lib = make_library({"short": topic_text("## What is it?\n\nA short text.\n")})
    _with_address(lib, ["Riverside Hospital, Outpatient Building B, second floor",
                        "Oncology Day Unit reception, entrance from the river side",
                        "12 Wharf Road", "Southwark", "London", "SE1 9ZZ"])
    [result] = build_booklet(["short"], "riverside-oncology", title="Test", paper="a5",
                             variant="large", library=lib, renderer=renderer, out=tmp_path)
    pages = _page_texts(result.path)
    assert len(pages) % 2 == 0, "the back cover must be the last, even-numbered page"
    back = pages[-1]
    assert back.startswith("Contact us") or "Contact us" in back
    assert "Day unit: 020 7946 0321" in back and "please ask them" not in back
    assert "who know you and your treatment" in back   # the last line stayed on it

    _with_address(lib, ["A very long address line that goes on and on " * 6] * 6)
    with pytest.raises(BudgetError, match="back cover of booklet 'test' .*riverside-oncology"
                                          ".*A5 large print") as caught:
        build_booklet(["short"], "riverside-oncology", title="Test", paper="a5",
                      variant="large", library=lib, renderer=renderer, out=tmp_path / "x")
    [problem] = caught.value.problems
    assert problem.file.name == "clinic.toml" and "address" in problem.hint
    assert not (tmp_path / "x").exists()
