"""Risk words mean the same numbers everywhere (CONTENT.md): a word its own number
contradicts is a check error, in English and Spanish; the shipped topics agree."""

from __future__ import annotations

import pytest

from handouts.claims import mismatches, survival_figures
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
    ("zh-Hans", "这种情况常见：临床试验中每100人中约有1到2人出现。"),
    ("zh-Hans", "常见的意思是：最多每10人中有1人出现；罕见的意思是：最多每1000人中有1人出现。"),
    ("zh-Hans", "这是最常见的表现，每10人中有7人。"),
    ("ar", "وبهذه الجرعات هو شائع: أصاب نحو 1 إلى 2 من كل 100 شخص في الدراسات."),
    ("ar", "شائع يعني أنه يصيب حتى 1 من كل 10 أشخاص؛ ونادر يعني حتى 1 من كل 1000."),
    ("ar", "هذه أكثر علامة شائعة، عند 7 من كل 10."),
    ("fr", "C'est rare : 1 à 2 personnes sur 100."),   # no word list: not judged
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
    ("zh-Hans", "这种情况罕见：每100人中约有1到2人出现。", "罕见", "每100人中约有1到2人"),
    ("zh-Hans", "流感样症状十分常见（约1%）。", "十分常见", "约1%"),
    ("ar", "هو نادر: أصاب نحو 1 إلى 2 من كل 100 شخص.", "نادر", "نحو 1 إلى 2 من كل 100"),
    ("ar", "شائع يعني حتى 1 من كل 10؛ ونادر يعني نحو 1 من كل 100.", "نادر",
     "نحو 1 من كل 100"),
]


@pytest.mark.parametrize(("language", "text"), AGREE)
def test_a_risk_word_its_number_agrees_with(language, text):
    assert mismatches(text, language) == []


@pytest.mark.parametrize(("language", "text", "word", "share"), DISAGREE)
def test_a_risk_word_its_number_contradicts(language, text, word, share):
    [found] = mismatches(text, language)
    assert (found.word, found.share) == (word, share)


def _checked(make_library, slug: str, body: str, code: str):
    """The one problem `code` that check finds in a topic of `body`, and the line of the
    topic's file it names."""
    from handouts.check import check_library

    library = make_library({slug: topic_text(body)})
    report = check_library(library, [slug], render=False)
    [problem] = [p for p in report.problems if p.code == code]
    assert problem.severity == "error" and problem.file.name == f"{slug}.md"
    lines = (library.root / "content" / f"{slug}.md").read_text().splitlines()
    return problem, lines[problem.line - 1]


def test_check_names_the_file_line_and_the_scale(make_library):
    problem, line = _checked(make_library, "risks", "## What are the risks?\n\nJaw problems "
                             "are rare: about 1 to 2 in 100 people.\n", "risk-word")
    assert "about 1 to 2 in 100" in line
    assert "rare means between 1 in 10,000 and 1 in 1,000" in problem.message
    assert "uncommon: up to 1 in 100" in problem.hint


def test_the_shipped_topics_use_risk_words_as_defined_and_give_no_survival_figures(library):
    from handouts.check import check_library

    report = check_library(library, render=False, languages=("all",))
    assert not [str(p) for p in report.problems
                if p.code in ("risk-word", "survival-figure", "urgent-route")]


SURVIVAL = [
    ("en", "The median survival is about 2 years."),
    ("en-US", "Half of people live for five years or more."),
    ("en", "Life expectancy is 6 to 12 months once cancer reaches the bone."),
    ("en", "About 20% of people survive 5 years."),
    ("es", "La supervivencia media es de unos 2 años."),
    ("es", "La mitad de las personas vive más de un año."),
    ("zh-Hans", "骨转移后的中位生存期约为 2 年。"),
    ("ar", "معدل البقاء على قيد الحياة لمدة 5 سنوات هو 20%."),
]
NO_FIGURE = [
    ("en", "Your team can talk with you about what this means for your future."),
    ("en", "Ask what is likely for someone like you, and what happens if you wait."),
    ("en", "Most fractures slowly heal over 6 to 12 weeks."),   # a number, no survival
    ("es", "Su equipo puede hablar con usted sobre lo que esto significa."),
    ("zh-Hans", "您的医疗团队可以和您谈谈这对您意味着什么。"),
    ("ar", "البقاء نشيطًا يفيد عضلاتك ومزاجك ونومك خلال 3 أشهر."),   # "staying active"
]


@pytest.mark.parametrize(("language", "text"), SURVIVAL)
def test_a_survival_figure_is_found(language, text):
    assert survival_figures(text, language) == [text]


@pytest.mark.parametrize(("language", "text"), NO_FIGURE)
def test_words_about_the_future_without_figures_pass(language, text):
    assert survival_figures(text, language) == []


def test_check_refuses_a_survival_figure_with_its_line(make_library):
    problem, line = _checked(make_library, "future", "## What does this mean for my "
                             "future?\n\nThe median survival is about 2 years.\n",
                             "survival-figure")
    assert "median survival" in line
    assert "conversation with the care team" in problem.hint


def test_a_life_threatening_sign_sent_to_the_daytime_number(make_library):
    """A tired author adds "a seizure" to the checklist's daytime list: check names the
    line; the same sign with the 24-hour line, and the shipped topics, pass."""
    from handouts.claims import daytime_red_flags

    source = ("---\ntitle: t\n---\n\n## Call us on {{ clinic.phone }} if\n\n- Toothache\n"
              "- A {{ term.seizure }} or chest pain\n\nOr if you are short of breath.\n"
              "With a fever, call {{ clinic.urgent_phone }} instead.\n\n## My dates\n\n"
              "- Chest pain is listed here under no number\n\nWith a fever, call "
              "{{ clinic.phone }}.\nWith a fever, call {{ clinic.urgent_phone }} at once.\n")
    assert [(line, sign) for line, sign, _ in daytime_red_flags(source, "en-GB")] == [
        (8, "term.seizure"), (10, "short of breath"), (17, "fever")]
    spanish = "## Llame al {{ clinic.phone }} si tiene\n\n- Fiebre o escalofríos\n"
    assert [sign for _, sign, _ in daytime_red_flags(spanish, "es")] == ["Fiebre"]
    chinese = "## 出现以下情况，请拨打 {{ clinic.phone }} 联系我们\n\n- 牙疼\n- 胸痛或心跳不齐\n"
    assert [sign for _, sign, _ in daytime_red_flags(chinese, "zh-Hans")] == ["胸痛"]
    arabic = ("## اتصل بنا على {{ clinic.phone }} إذا كان لديك\n\n- ألم في الأسنان\n"
              "- حمى أو قشعريرة\n")
    assert [sign for _, sign, _ in daytime_red_flags(arabic, "ar")] == ["حمى"]

    problem, line = _checked(make_library, "calls", "## Call us on {{ clinic.phone }} if"
                             "\n\n- Toothache\n- Chest pain or an uneven heartbeat\n",
                             "urgent-route")
    assert "Chest pain" in problem.message and "Chest pain" in line
    assert "clinic.urgent_phone" in problem.hint


def test_many_contradictions_are_reported_twenty_then_counted(tmp_path):
    from handouts.claims import MAX_REPORTED, risk_problems

    text = "\n".join(f"Problem {n} is rare: about 1 in 10 people." for n in range(35))
    problems = risk_problems(tmp_path / "t.md", text, "en", text)
    assert len(problems) == MAX_REPORTED + 1
    assert [p.line for p in problems[:3]] == [1, 2, 3]
    assert problems[-1].message == "and 15 more risk words like these"


@pytest.mark.parametrize("text", [
    "1" * 50_000 + " rare",                  # a run of digits: each digit began a number
    "rare 1" + " " * 50_000 + "x",           # spaces: two stacked \s* read them squared
    "rare 1 in 10. " * 5_000,                # thousands of words and numbers to pair
    "survival " + "1," * 25_000,
    "罕见" + "每1" * 25_000,
    "نادر 1" + " من" * 25_000,
])
def test_pathological_text_is_read_in_linear_time(text):
    """Each of these took minutes before (quadratic matching); a topic may be 512 KB."""
    for language in ("en", "es", "zh", "ar"):
        mismatches(text, language)
        survival_figures(text, language)
