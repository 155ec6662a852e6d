"""Booklets: cover, contents, bookmarks, running heads, large print, the back cover."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from pypdf import PdfReader

from handouts.build import build, build_booklet
from handouts.editions import load_edition
from handouts.finish import accessibility_problems
from handouts.load import load_booklet
from tests.conftest import ROOT, TOPICS, half_texts, pdfinfo, pdftext, qpdf_check


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


def test_cover_contents_and_topic_pages(booklet, library):
    reading, _ = booklet
    pages = _page_texts(reading.path)
    assert "Looking after your bones during cancer treatment" in pages[0]
    assert "Riverside Cancer Centre" in pages[0] and "Page 1" not in pages[0]
    contents = pdftext(reading.path, 2, 2)
    # The leaders are drawn, not text (a screen reader would read the dots): the
    # layout leaves a wide gap between each title and its page number.
    entries = re.findall(r"^\s*(.+?)\s{3,}(\d+)\s*$", contents, re.M)
    assert len(entries) == len(TOPICS) + 1  # the topics and the contact page
    spec = load_booklet(ROOT / "booklets" / "bone-health-in-cancer.toml")
    titles = [load_edition(library, slug)[0].meta.title for slug in spec.topics]
    assert [" ".join(title.split()) for title, _ in entries[:-1]] == titles
    for title, number in entries[:-1]:
        page = int(number)
        assert page % 2 == 1, f"{title} starts on a left-hand page ({page})"
        first = pages[page - 1]
        assert first.startswith(title.split(":")[0]) or title in first, (title, page)
        assert f"Page {page} of {len(pages)}" in first
    assert "Contact us" in pages[int(entries[-1][1]) - 1]
    assert "available in large print and other formats" in pages[-1]


def test_one_bookmark_per_topic(booklet, library):
    reader = PdfReader(booklet[0].path)
    top = [item for item in reader.outline if not isinstance(item, list)]
    titles = [item.title for item in top]
    from handouts.load import load_booklet
    spec = load_booklet(library.booklet_path("bone-health-in-cancer"))
    expected = [load_edition(library, s)[0].meta.title for s in spec.topics]
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


def test_tagged_titled_accessible_and_reproducible(booklet, library, renderer, tmp_path,
                                                   fresh_cache):
    reading = booklet[0]
    info = pdfinfo(reading.path)
    assert info["Tagged"] == "yes"
    assert info["Title"] == "Looking after your bones during cancer treatment"
    assert info["Author"] == "Riverside Cancer Centre"
    assert accessibility_problems(reading.path.read_bytes()) == []
    assert qpdf_check(reading.path).returncode == 0
    fresh_cache()   # rendered again, not taken from the output cache
    again = build_booklet(name="bone-health-in-cancer", clinic="riverside-oncology",
                          paper="a5", impose=True, library=library, renderer=renderer,
                          out=tmp_path)
    assert [r.sha256 for r in again] == [r.sha256 for r in booklet]


def test_imposed_shipped_booklet_keeps_covers_outside(booklet):
    reading, imposed = booklet
    assert imposed.path.name.endswith("-imposed.pdf") and reading.path.exists()
    pages = len(PdfReader(reading.path).pages)
    sides = len(PdfReader(imposed.path).pages)
    assert sides == 2 * (-(-pages // 4))
    left, right = half_texts(imposed.path, 1)
    assert "Contact us" in left and "Looking after your bones" in right
    # Each page's fonts and images once: sheets no larger than the reading-order file.
    assert imposed.path.stat().st_size <= 1.3 * reading.path.stat().st_size


@pytest.mark.parametrize("topic", TOPICS)
def test_large_print_every_topic(library, renderer, tmp_path, topic):
    [result] = build([topic], "riverside-oncology", variant="large", library=library,
                     renderer=renderer, out=tmp_path)
    assert result.path.name.endswith("-a4-large.pdf")
    import re

    sizes = set()
    logo = (ROOT / "clinics" / "riverside-oncology" / "logo.svg").read_text()
    pictured = {w.strip() for w in re.findall(r"<text[^>]*>([^<]+)</text>", logo)}

    def visit(text, cm, tm, font, size):   # every piece of text, in points on the page
        if text.strip() and text.strip() not in pictured:   # the logo's words are a picture
            sizes.add(round(size * (tm[0] ** 2 + tm[1] ** 2) ** 0.5
                            * (cm[0] ** 2 + cm[1] ** 2) ** 0.5, 1))

    for page in PdfReader(result.path).pages:
        page.extract_text(visitor_text=visit)
    assert min(sizes) >= 16, sorted(sizes)   # RNIB Clear Print: nothing smaller
    assert not [str(w) for w in result.warnings if w.code.startswith("preflight-")]
    meta = load_edition(library, topic)[0].meta
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
    [result] = build_booklet(["short"], "riverside-oncology", title="Test", paper="a4",
                             variant="large", library=lib, renderer=renderer, out=tmp_path)
    pages = _page_texts(result.path)
    assert len(pages) % 2 == 0, "the back cover must be the last, even-numbered page"
    back = pages[-1]
    assert back.startswith("Contact us") or "Contact us" in back
    assert "Day unit: 020 7946 0321" in back and "please ask them" not in back
    assert "who know you and your treatment" in back   # the last line stayed on it

    _with_address(lib, ["A very long address line that goes on and on " * 6] * 6)
    with pytest.raises(BudgetError, match="back cover of booklet 'test' .*riverside-oncology"
                                          ".*A4 large print") as caught:
        build_booklet(["short"], "riverside-oncology", title="Test", paper="a4",
                      variant="large", library=lib, renderer=renderer, out=tmp_path / "x")
    [problem] = caught.value.problems
    assert problem.file.name == "clinic.toml" and "address" in problem.hint
    assert not (tmp_path / "x").exists()


def test_a_page_left_before_a_right_hand_topic_is_a_notes_page(library, renderer):
    """Each topic opens on the right, and the back cover is the last of an even count: a
    page left over is a Notes page with lines (pagination artifacts) and the footer,
    made in the booklet's one layout."""
    from dataclasses import replace

    import pikepdf

    from handouts.finish import MM
    from handouts.models import PrintOptions
    from handouts.pipeline import Job, produce

    layouts = []

    class Counting:   # the real renderer, counting its layouts
        def __getattr__(self, name):
            return getattr(renderer, name)

        def render(self, *args, **kwargs):
            layouts.append(1)
            return renderer.render(*args, **kwargs)

    job = Job("booklet", "riverside-oncology",
              ("injection-care-checklist", "vertebroplasty-kyphoplasty"), "a5", title="Two")
    output = produce(job, library, Counting(), reuse=False)
    assert len(layouts) == 1
    pages = [" ".join(page.extract_text().split())
             for page in PdfReader(BytesIO(output.pdf)).pages]
    notes = [number for number, text in enumerate(pages, 1) if text.startswith("Notes")]
    assert len(notes) == 2, "before the second topic, and before the back cover"
    pdf = pikepdf.open(BytesIO(output.pdf))
    for number in notes:
        assert f"Page {number} of {len(pages)}" in pages[number - 1]
        if pages[number].startswith("Vertebroplasty"):   # a topic opens on the right
            assert number % 2 == 0
        else:                                            # the back cover ends an even count
            assert pages[number].startswith("Contact us") and number == len(pages) - 1
        # every 10 mm down A5's page area (180 mm), 5 mm clear of the footer: 17 lines
        assert len(_notes_lines(pdf.pages[number - 1])) == 17
    assert not [p for p in output.problems if p.code.startswith("preflight-")]
    # For a print shop (3 mm bleed, crop marks) the lines stay on the page area: from
    # the A5 margin (12 mm) to the other, measured from the trim edge.
    shop = produce(replace(job, options=PrintOptions(bleed_mm=3.0, marks=True)), library,
                   renderer, reuse=False)
    shop_pdf = pikepdf.open(BytesIO(shop.pdf))
    page = shop_pdf.pages[notes[0] - 1]
    left, right = float(page.trimbox[0]), float(page.trimbox[2])
    for x0, x1 in _notes_lines(page):
        assert abs(x0 - left - MM * 12) < 0.5 and abs(right - x1 - MM * 12) < 0.5, (x0, x1)


def _notes_lines(page) -> list[tuple[float, float]]:
    """The horizontal lines a page draws inside pagination artifacts: (x from, x to)."""
    import pikepdf

    lines, artifact, start = [], False, None
    for operands, operator in pikepdf.parse_content_stream(page):
        name = str(operator)
        if name == "BDC":
            artifact = str(operands[0]) == "/Artifact" and \
                operands[1].get("/Type") == "/Pagination"
        elif name == "EMC":
            artifact = False
        elif name == "m" and artifact:
            start = float(operands[0])
        elif name == "l" and artifact and start is not None:
            lines.append((start, float(operands[0])))
    return lines
