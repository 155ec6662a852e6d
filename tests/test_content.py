"""The shipped topics: page budgets on every clinic and paper, reading level, urgent box."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handouts.build import build
from handouts.editions import load_edition
from handouts.errors import BudgetError
from handouts.inventory import reading_level
from tests.conftest import CLINICS, FULL, ROOT, TOPICS, pdftext, topic_text


def test_shipped_library_is_fit_to_print():
    """`handouts check` of the whole library, as an author runs it. In the full tier (CI)
    it lays out every topic x clinic x paper x variant and the booklets, first in this
    module (one xdist worker runs a whole file), so the documents below come from its
    cache. In a plain `make test` it checks everything that needs no layout, and the
    tests below lay out each clinic's documents on A4 and Letter, with preflight."""
    args = ["check"] if FULL else ["check", "--no-render"]
    result = subprocess.run([sys.executable, "-m", "handouts", *args], capture_output=True,
                            text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "fit to print" in result.stdout and "0 errors" in result.stdout


# Each clinic's own paper; in the full tier the other country's too (from the check's cache).
PRINTED = [("riverside-oncology", "a4"), ("lakeside-spine", "letter")] + (
    [("riverside-oncology", "letter"), ("lakeside-spine", "a4")] if FULL else [])


@pytest.fixture(scope="module")
def built(library, renderer, tmp_path_factory):
    """Every shipped topic for every shipped clinic on its paper (and the other one)."""
    out = tmp_path_factory.mktemp("content")
    results = {}
    for clinic, paper in PRINTED:
        for result in build(TOPICS, clinic, paper=paper, out=out, library=library,
                            renderer=renderer):
            results[clinic, paper, result.path.name.split(f"-{paper}")[0]] = result
    return results


@pytest.mark.parametrize("clinic, paper", PRINTED)
@pytest.mark.parametrize("topic", TOPICS)
def test_page_budget_and_urgent_box(built, library, topic, clinic, paper):
    result = built[clinic, paper, topic]
    from handouts.load import load_clinic
    profile = load_clinic(library.clinic_folder(clinic)).clinic
    meta = load_edition(library, topic, profile.language)[0].meta
    from pypdf import PdfReader
    pages = len(PdfReader(result.path).pages)
    if topic == "injection-care-checklist":
        assert pages == 1
    else:
        assert 2 <= pages <= meta.pages
    assert not [w for w in result.warnings if w.code.startswith("preflight-")], \
        result.warnings
    text = " ".join(pdftext(result.path).split())
    assert "Get help now" in text
    assert profile.urgent_phone in text and profile.emergency_number in text
    for sign in meta.urgent.signs[:2]:
        assert " ".join(sign.split()[:3]) in text


# Words one region uses and the other does not; each edition must hold none of the other's.
UK_ONLY = ["paracetamol", "A&E", "GP", "anaesthe", "haematolog", "tummy", "be sick",
           "NICE", "MHRA", "NHS", "colour", "tumour", "physiotherap", "counsellor", "carers",
           "radiotherapy", "hypercalcaemia", "oesophag", "centre", "programme"]
US_ONLY = ["acetaminophen", "primary care provider", "emergency room", "anesthe",
           "hematolog", "belly", "vomit", "FDA", "color", "tumor", "physical therap",
           "counselor", "caregivers", "radiation therapy", "hypercalcemia", "center"]


@pytest.mark.parametrize("clinic, paper, foreign", [
    ("lakeside-spine", "letter", UK_ONLY), ("riverside-oncology", "a4", US_ONLY)])
def test_each_region_reads_its_own_words(built, library, clinic, paper, foreign):
    import re

    for topic in TOPICS:
        text = " ".join(pdftext(built[clinic, paper, topic].path).split())
        for clinic_word in ("Centre", "Center"):   # the clinic's own name and address
            text = text.replace(clinic_word, "")
        found = [w for w in foreign if re.search(rf"\b{re.escape(w)}", text, re.I)]
        assert not found, (topic, clinic, found)


@pytest.mark.parametrize("language", ["en-GB", "en-US"])
@pytest.mark.parametrize("topic", TOPICS)
def test_reading_level_grade_8_or_below(library, topic, language):
    level = reading_level(load_edition(library, topic, language)[0], library)
    assert level.words > 150
    assert level.fk_grade <= 8, level.hardest
    assert level.smog <= 9


@pytest.mark.parametrize("topic", TOPICS)
def test_governance_and_no_numbers_in_text(library, topic):
    meta = load_edition(library, topic)[0].meta
    assert meta.sources and meta.owner and meta.reviewer
    body = library.topic_path(topic).read_text()
    import re
    # Phone numbers come from the clinic profile, never the topic text.
    assert not re.search(r"\b\d{3}[ -]?\d{3,4}[ -]?\d{4}\b", body)
    for banned in ("life expectancy", "survival rate", "months to live", "biophosphate"):
        assert banned not in body.lower()


def test_vertebroplasty_diagrams_have_alt_text(library):
    topic = load_edition(library, "vertebroplasty-kyphoplasty")[0]
    from handouts.markup import render_body
    result = render_body(topic, None, library.dirs("content"))
    assert len(result.images) >= 2
    assert all(len(alt) > 20 for _, alt in result.images)


def test_checklist_holds_for_a_clinic_with_a_long_name(make_library, renderer, library):
    lib = make_library()
    toml = lib.clinic_folder("riverside-oncology") / "clinic.toml"
    toml.write_text(toml.read_text().replace(
        'name = "Riverside Cancer Centre"',
        'name = "Riverside and Thames Valley University Hospitals Cancer Centre"').replace(
        'department = "Oncology Day Unit"',
        'department = "Haematology and Oncology Day Treatment Unit, Level 4"'))
    for paper in ("a4", "letter"):
        [result] = build(["injection-care-checklist"], "riverside-oncology", paper=paper,
                         library=lib, renderer=renderer, out=lib.root / "out")
        assert result.pages == 1


@pytest.mark.parametrize("paper", ["a5", "half-letter"])
def test_on_a5_the_checklist_keeps_its_type_and_passes_preflight(library, renderer,
                                                                   tmp_path, paper):
    """Type never shrinks to fit: on half the page the checklist takes one sheet and its
    sources a second (its budget there is 3), with nothing preflight would reject."""
    for clinic in CLINICS:
        [result] = build(["injection-care-checklist"], clinic, paper=paper, out=tmp_path,
                         library=library, renderer=renderer)
        assert result.pages <= 3, (clinic, paper)
        assert not [str(w) for w in result.warnings if w.code.startswith("preflight-")]
        text = " ".join(pdftext(result.path).split())
        assert "Get help now" in text and "Next injection date" in text


def test_overflow_names_topic_clinic_paper_and_amount(make_library, renderer):
    long_body = "\n\n".join(f"- [ ] Item number {n} in a very long checklist" for n in range(90))
    lib = make_library({"too-long": topic_text(long_body, pages=1)})
    with pytest.raises(BudgetError) as info:
        build(["too-long"], "riverside-oncology", paper="letter", library=lib,
              renderer=renderer, out=lib.root / "out")
    message = str(info.value)
    for part in ("'too-long'", "'riverside-oncology'", "LETTER", "budget of 1 page",
                 "page(s) over", "% full"):
        assert part in message
    assert not list((lib.root / "out").rglob("*.pdf"))
