"""Risk words mean the same numbers everywhere (CONTENT.md): a word its own number
contradicts is a check error, in English and Spanish; the shipped topics agree."""

from __future__ import annotations

import pytest

from handouts.risk import mismatches
from tests.conftest import topic_text

AGREE = [
    ("en", "At these doses it is common: about 1 to 2 in 100 people had it in trials."),
    ("en", "Common means up to 1 in 10 people; rare, up to 1 in 1,000."),
    ("en", "Low calcium is common with denosumab: about 1 in 10 people in trials."),
    ("en", "Small cement leaks are very common (more than 1 in 10 people)."),
    ("en", "Serious problems are uncommon: fewer than 1 in 100 people."),
    ("en", "Jaw osteonecrosis affects about 1 to 2 in 100 people: not rare."),
    ("en", "This is the most common sign, seen in 7 in 10 people."),
    ("en", "Flu-like aches for 1 or 2 days are common after a first infusion."),
    ("en", "It is rare. About 1 in 10 people feel sick."),   # another sentence's number
    ("es", "Con estas dosis es frecuente: le pasó a cerca de 1 o 2 de cada 100 personas."),
    ("es", "Son muy frecuentes (a más de 1 de cada 10 personas)."),
    ("es", "Son poco frecuentes, a menos de 1 de cada 100 personas."),
    ("es", "No es raro: le pasa a 1 o 2 de cada 100."),
    ("zh-Hans", "罕见：每 100 人中约有 1 到 2 人。"),   # not judged: no word list yet
]
DISAGREE = [
    ("en", "Jaw problems are rare: about 1 to 2 in 100 people.", "rare", "about 1 to 2 in 100"),
    ("en-US", "It is very common (about 1 in 100 people).", "very common", "about 1 in 100"),
    ("en", "Thigh breaks are common, about 1 in 10,000.", "common", "about 1 in 10,000"),
    ("en", "Flu-like aches are rare (20%).", "rare", "20%"),
    ("en", "It is uncommon: up to 1 in 10 people.", "uncommon", "up to 1 in 10"),
    ("es", "Es raro: le pasa a cerca de 1 o 2 de cada 100 personas.", "raro",
     "cerca de 1 o 2 de cada 100"),
    ("es", "Es muy frecuente: 1 de cada 1.000.", "muy frecuente", "1 de cada 1.000"),
]


@pytest.mark.parametrize(("language", "text"), AGREE)
def test_a_risk_word_its_number_agrees_with(language, text):
    assert mismatches(text, language) == []


@pytest.mark.parametrize(("language", "text", "word", "share"), DISAGREE)
def test_a_risk_word_its_number_contradicts(language, text, word, share):
    [found] = mismatches(text, language)
    assert (found.word, found.share) == (word, share)


def test_check_names_the_file_line_and_the_scale(make_library):
    from handouts.check import check_library

    text = topic_text("## What are the risks?\n\nJaw problems are rare: about 1 to 2 in "
                      "100 people.\n")
    library = make_library({"risks": text})
    report = check_library(library, ["risks"], render=False)
    [problem] = [p for p in report.problems if p.code == "risk-word"]
    assert problem.severity == "error" and problem.file.name == "risks.md"
    lines = (library.root / "content" / "risks.md").read_text().splitlines()
    assert "about 1 to 2 in 100" in lines[problem.line - 1]
    assert "rare means between 1 in 10,000 and 1 in 1,000" in problem.message
    assert "uncommon: up to 1 in 100" in problem.hint


def test_the_shipped_topics_use_risk_words_as_the_scale_defines_them(library):
    from handouts.check import check_library

    report = check_library(library, render=False, languages=("all",))
    assert not [str(p) for p in report.problems if p.code == "risk-word"]
