"""Claims: what the editorial standard (CONTENT.md) rules on in a topic's words.

Risk words: "common", "rare" ... mean the same numbers everywhere. The scale is the
one every European product information (SmPC) uses, which the shipped topics cite,
so a leaflet's word and the medicine's own leaflet agree:

    very common   1 in 10 or more
    common        1 in 100 to 1 in 10
    uncommon      1 in 1,000 to 1 in 100
    rare          1 in 10,000 to 1 in 1,000
    very rare     fewer than 1 in 10,000

`risk_problems` finds each risk word that has a number beside it in the same
sentence ("common: about 1 to 2 in 100 people", "rare (1 in 100)") and reports the
pairs that disagree, in English, Spanish, Chinese and Arabic. A word with no number
is not judged, and neither is a negated or comparative one ("not rare", "the most
common sign").

Survival figures: no prognosis figures or survival estimates ("the median survival
is 2 years", "half of people live 5 years"); they belong in a conversation with the
care team. `survival_problems` finds a sentence that speaks of survival, life
expectancy or prognosis and has a number in it, in English, Spanish, Chinese and
Arabic. Words of survival with no number ("ask your team what this means for you")
are the kind way to say it, and pass.

Urgent routes: anything that may be life-threatening (a seizure, chest pain, an
uneven heartbeat, the signs of spinal cord compression, a fever during
chemotherapy) goes with the emergency number or the 24-hour line, never the daytime
number. `route_problems` finds such a sign in a sentence that gives
`{{ clinic.phone }}`, or anywhere under a heading that does ("Call us on
{{ clinic.phone }} if"), unless the sentence gives the 24-hour line or the emergency
number too, in all four languages' topic files.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .errors import Problem

BANDS = {   # the scale's words in English, each as a share of people (both ends kept)
    "very common": (0.1, 1.0), "common": (0.01, 0.1), "uncommon": (0.001, 0.01),
    "rare": (0.0001, 0.001), "very rare": (0.0, 0.0001),
}
SCALE = ("very common: more than 1 in 10; common: up to 1 in 10; uncommon: up to 1 in "
         "100; rare: up to 1 in 1,000; very rare: fewer than 1 in 10,000")
# A number, never begun inside another: without the look-behind every digit of a long
# run would start a match that reads to its end (seconds for a few KB of digits).
_NUMBER = r"(?<![\d.,])(?:\d{1,3}(?:[,.]\d{3})+|\d+(?:[.,]\d+)?)"


@dataclass(frozen=True)
class _Language:
    words: dict[str, str]        # the language's word (lower case) -> the English band
    word: re.Pattern             # a risk word, with what may negate or compare it
    share: tuple[re.Pattern, ...]   # "up to 1 in 100", "about 2%" ...
    below: tuple[str, ...]       # qualifiers meaning "at most"
    above: tuple[str, ...]       # qualifiers meaning "more than"
    thousands: str               # the thousands separator ("1,000" / "1.000")


def _word_pattern(words: list[str], negations: str, comparatives: str) -> re.Pattern:
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?:\b(?P<not>{negations})\s+(?:\w+\s+)?)?(?:\b(?P<than>"
                      rf"{comparatives})\s+)?\b(?P<word>{alternatives})\b", re.I)


_ENGLISH = _Language(
    words={w: w for w in BANDS},
    word=_word_pattern(list(BANDS), "not|never|isn't|aren't",
                       "most|more|less|least|fairly|quite"),
    share=(re.compile(
        rf"(?:(?P<q>up to|fewer than|less than|under|more than|over|at least|about|"
        rf"around|roughly|nearly|almost)\s+)?(?P<a>{_NUMBER})(?:\s*(?:to|or|-|–)\s*"
        rf"(?P<b>{_NUMBER}))?\s*(?:(?:in|out of)\s+(?:every\s+)?(?P<m>{_NUMBER})\b|"
        rf"(?P<pc>%|per ?cent\b))", re.I),),
    below=("up to", "fewer than", "less than", "under"),
    above=("more than", "over", "at least"),
    thousands=",",
)
_SPANISH_WORDS = {
    "muy frecuente": "very common", "muy frecuentes": "very common",
    "frecuente": "common", "frecuentes": "common",
    "poco frecuente": "uncommon", "poco frecuentes": "uncommon",
    "raro": "rare", "rara": "rare", "raros": "rare", "raras": "rare",
    "muy raro": "very rare", "muy rara": "very rare", "muy raros": "very rare",
    "muy raras": "very rare",
}
_SPANISH = _Language(
    words=_SPANISH_WORDS,
    word=_word_pattern(list(_SPANISH_WORDS), "no|nunca", "más|menos|bastante"),
    share=(re.compile(
        rf"(?:(?P<q>hasta(?:\s+a)?|menos\s+de|más\s+de|al\s+menos|cerca\s+de|unos?|"
        rf"alrededor\s+de|aproximadamente)\s+)?(?:a\s+)?(?P<a>{_NUMBER})(?:\s*(?:a|o|-|–)"
        rf"\s*(?P<b>{_NUMBER}))?\s*(?:de\s+cada\s+(?P<m>{_NUMBER})\b|(?P<pc>%|por\s+"
        rf"ciento\b))", re.I),),
    below=("hasta", "hasta a", "menos de"),
    above=("más de", "al menos"),
    thousands=".",
)
# Chinese: the scale of Chinese product information (十分常见 >= 10%, 常见 1-10%, 偶见 or
# 少见 0.1-1%, 罕见 0.01-0.1%, 十分罕见 < 0.01%); no spaces between words, so no \b.
_CHINESE_WORDS = {
    "十分常见": "very common", "非常常见": "very common", "很常见": "very common",
    "常见": "common",
    "不常见": "uncommon", "偶见": "uncommon", "少见": "uncommon",
    "罕见": "rare", "十分罕见": "very rare", "非常罕见": "very rare",
}
_ZH_QUALIFIER = r"最多|不到|少于|低于|超过|多于|高于|约|大约|大概"
_CHINESE = _Language(
    words=_CHINESE_WORDS,
    word=re.compile(
        r"(?:(?P<not>不|并不|并非)(?=罕见|十分罕见|少见))?(?:(?P<than>(?:最|更|较|比较)"
        r"(?=常见|很常见|少见|罕见)|很(?=少见|罕见)))?(?P<word>"
        + "|".join(sorted(_CHINESE_WORDS, key=len, reverse=True)) + ")"),
    share=(
        re.compile(rf"(?:(?P<q>{_ZH_QUALIFIER})\s*)?每\s*(?P<m>{_NUMBER})\s*个?人(?:中|里|当中)?"
                   rf"\s*(?:(?P<q2>{_ZH_QUALIFIER})\s*)?有?\s*(?P<a>{_NUMBER})(?:\s*(?:到|至|-|"
                   rf"~|～|或)\s*(?P<b>{_NUMBER}))?\s*个?人"),
        re.compile(rf"(?:(?P<q>{_ZH_QUALIFIER})\s*)?(?P<a>{_NUMBER})\s*(?P<pc>[%％])(?:\s*(?:到|"
                   rf"至|-|~|～)\s*(?P<b>{_NUMBER})\s*[%％])?"),
    ),
    below=("最多", "不到", "少于", "低于"),
    above=("超过", "多于", "高于"),
    thousands=",",
)
_ARABIC_WORDS = {
    "شائع جدًا": "very common", "شائعة جدًا": "very common", "شائع جدا": "very common",
    "شائعة جدا": "very common", "شائع": "common", "شائعة": "common",
    "غير شائع": "uncommon", "غير شائعة": "uncommon",
    "نادر": "rare", "نادرة": "rare", "نادر جدًا": "very rare", "نادرة جدًا": "very rare",
    "نادر جدا": "very rare", "نادرة جدا": "very rare",
}
_ARABIC = _Language(
    words=_ARABIC_WORDS,
    # A word may carry a one-letter conjunction ("ونادر", and rare); "the most common
    # sign" puts a word between the comparative and its adjective.
    word=re.compile(
        r"(?:\b(?P<not>ليس|ليست|لا|ليسوا)\s+(?:\w+\s+)?)?(?:\b(?P<than>أكثر|أقل)\s+"
        r"(?:\w+\s+)?)?(?:\b|(?<=(?<![^\W\d_])[وف]))(?P<word>"
        + "|".join(sorted(map(re.escape, _ARABIC_WORDS), key=len, reverse=True)) + r")\b"),
    share=(re.compile(
        rf"(?:(?P<q>حتى|أقل من|أكثر من|نحو|حوالي|قرابة|تقريبًا)\s+)?(?P<a>{_NUMBER})(?:\s*"
        rf"(?:إلى|أو|-|–)\s*(?P<b>{_NUMBER}))?\s*(?:من\s+كل\s+(?P<m>{_NUMBER})|(?P<pc>%|٪|"
        rf"في المائة))"),),
    below=("حتى", "أقل من"),
    above=("أكثر من",),
    thousands=",",
)
LANGUAGES = {"en": _ENGLISH, "es": _SPANISH, "zh": _CHINESE, "ar": _ARABIC}
_CLAUSE = re.compile(r"(?<=[.!?;])\s+(?=\S)|(?<=[。！？；؛])|\n+")


def _number(text: str, thousands: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", text) and thousands in text:
        return float(text.replace(thousands, ""))
    return float(text.replace(",", "."))


def _stated(match: re.Match, language: _Language) -> tuple[float, float] | None:
    """The share of people a frequency states, as (lowest, highest) it allows."""
    groups = match.groupdict()
    first = _number(groups["a"], language.thousands)
    second = _number(groups["b"], language.thousands) if groups.get("b") else first
    out_of = 100.0 if groups.get("pc") else _number(groups["m"], language.thousands)
    if not out_of or first > out_of:
        return None
    low, high = sorted((first / out_of, second / out_of))
    qualifier = re.sub(r"\s+", " ", (groups.get("q") or groups.get("q2") or "").lower())
    if qualifier in language.below:
        return high, high     # "up to 1 in 100": judged by its ceiling
    if qualifier in language.above:
        return low, low       # "more than 1 in 10": judged by its floor
    return low, high


def _agrees(band: tuple[float, float], stated: tuple[float, float]) -> bool:
    low, high = stated
    return low <= band[1] * 1.0001 and high >= band[0] * 0.9999


@dataclass(frozen=True)
class Mismatch:
    word: str         # as written
    band: str         # the English band it names
    share: str        # the frequency as written
    sentence: str


def mismatches(text: str, language: str) -> list[Mismatch]:
    """Each risk word whose number in the same sentence is outside its band."""
    found = LANGUAGES.get((language or "en").split("-")[0].lower())
    if found is None:
        return []
    result = []
    for clause in _CLAUSE.split(text):
        shares = sorted((m for pattern in found.share for m in pattern.finditer(clause)
                         if _stated(m, found)), key=lambda m: m.start())
        if not shares:
            continue
        starts, ends = [m.start() for m in shares], [m.end() for m in shares]
        for word in found.word.finditer(clause):
            if word.group("not") or word.group("than"):
                continue
            # The first number after the word, else the last before it (a clause may
            # hold thousands of both: found by bisection, not by a scan for each word).
            index = bisect_left(starts, word.end())
            if index < len(shares):
                share = shares[index]
            else:
                index = bisect_right(ends, word.start()) - 1
                share = shares[index] if index >= 0 else None
            band = found.words[word.group("word").lower()]
            if share and not _agrees(BANDS[band], _stated(share, found)):
                result.append(Mismatch(word.group("word"), band, share.group(0).strip(),
                                       clause.strip()))
    return result


# Problems of one kind reported for one file: a topic with more has one more, saying
# how many (a pasted table of thousands must not flood the report, or take minutes).
MAX_REPORTED = 20


class _Lines:
    """Line numbers of snippets in a topic's markdown (which starts at `first` of its
    file), found in order from a cursor."""

    def __init__(self, source: str | None, first: int = 1):
        self.source, self.cursor, self.first, self.line = source or "", 0, first, first

    def of(self, snippet: str) -> int | None:
        at = self.source.find(snippet, self.cursor)
        if at < 0:   # out of order: from the top, once (at most MAX_REPORTED of these)
            at = self.source.find(snippet)
            return None if at < 0 else self.source.count("\n", 0, at) + self.first
        self.line += self.source.count("\n", self.cursor, at)
        self.cursor = at + 1   # the next snippet, even the same words, is further on
        return self.line


def _reported(items: list, path, code: str, what: str, problem) -> list[Problem]:
    """`problem(item)` for the first MAX_REPORTED items, then one saying how many more."""
    problems = [problem(item) for item in items[:MAX_REPORTED]]
    if len(items) > MAX_REPORTED:
        problems.append(Problem(f"and {len(items) - MAX_REPORTED} more {what} like these",
                                file=path, code=code,
                                hint="fix the ones above first; check reports the rest"))
    return problems


def claim_problems(path, text: str, language: str, body: str, first_line: int = 1
                   ) -> list[Problem]:
    """Everything this module rules on in one edition of a topic: `text` is its body as
    plain text (markup's), `body` its markdown, from line `first_line` of `path`."""
    return risk_problems(path, text, language, body, first_line) + \
        survival_problems(path, text, language, body, first_line) + \
        route_problems(path, body, language, first_line)


def risk_problems(path, text: str, language: str, body: str | None = None,
                  first_line: int = 1) -> list[Problem]:
    """A problem for each risk word its own number contradicts. `body`, the topic's
    markdown from line `first_line`, gives each its line."""
    lines = _Lines(body, first_line)
    return _reported(mismatches(text, language), path, "risk-word", "risk words",
                     lambda mismatch: Problem(
                         f"{mismatch.word!r} beside {mismatch.share!r} disagrees: "
                         f"{mismatch.band} means {_band_words(mismatch.band)} (in "
                         f"{mismatch.sentence[:90]!r})",
                         file=path, line=lines.of(mismatch.share), code="risk-word",
                         hint=f"use the word that matches the number (the product "
                              f"information's scale: {SCALE}), or check the number"))


def _band_words(band: str) -> str:
    low, high = BANDS[band]
    if not low:
        return "fewer than 1 in 10,000"
    if high == 1.0:
        return "1 in 10 or more"
    return f"between 1 in {round(1 / low):,} and 1 in {round(1 / high):,}"


# --- survival figures ---------------------------------------------------------------------

_SURVIVAL = {
    "en": re.compile(r"\b(?:surviv\w*|life expectancy|prognosis|(?:years?|months?|weeks?) "
                     r"(?:left )?to live|live (?:for|another|longer than|more than)|still "
                     r"alive|be alive)\b", re.I),
    "es": re.compile(r"\b(?:supervivencia|sobreviv\w*|esperanza de vida|pronóstico|"
                     r"(?:años|meses|semanas) de vida|"
                     r"viv(?:e|en|ir|irá|irán|ió|ieron) (?:más de|unos?|otros?)|"
                     r"seguir(?:án)? con vida)\b", re.I),
    "zh": re.compile(r"生存期|生存率|存活|预期寿命|预后|活过|还能活"),
    "ar": re.compile(r"البقاء على قيد الحياة|معدل البقاء|العمر المتوقع|مدة البقاء|"
                     r"سيعيش|يعيشون (?:لمدة|أكثر)"),
}
_FIGURE = {
    "en": re.compile(r"\d|%|\b(?:half|one|two|three|four|five|six|seven|eight|nine|ten|"
                     r"a (?:year|month|few (?:years|months)))\b", re.I),
    "es": re.compile(r"\d|%|\b(?:mitad|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|"
                     r"nueve|diez)\s+(?:años?|meses|mes|semanas?|de cada)\b|\bla mitad\b", re.I),
    "zh": re.compile(r"\d|%|％|一半|[一二三四五六七八九十两]+(?:年|个月|周|成)"),
    "ar": re.compile(r"\d|%|٪|نصف|(?:سنة|سنتين|سنوات|أشهر|شهر)"),
}


def survival_figures(text: str, language: str) -> list[str]:
    """Each sentence that gives a survival figure or a prognosis in numbers."""
    code = (language or "en").split("-")[0].lower()
    words, figures = _SURVIVAL.get(code), _FIGURE.get(code)
    if words is None:
        return []
    return [clause.strip() for clause in re.split(r"(?<=[.!?;。！？؛])\s*|\n+", text)
            if words.search(clause) and figures.search(clause)]


def survival_problems(path, text: str, language: str, body: str | None = None,
                      first_line: int = 1) -> list[Problem]:
    """A problem for each sentence with a survival figure or estimate."""
    lines = _Lines(body, first_line)
    return _reported(survival_figures(text, language), path, "survival-figure",
                     "survival figures", lambda sentence: Problem(
                         f"gives a survival figure or estimate: {sentence[:120]!r}",
                         file=path, line=lines.of(sentence[:40]), code="survival-figure",
                         hint="leave survival figures and life expectancy to a "
                              "conversation with the care team: say so kindly (\"your "
                              "team can talk with you about what this means for you\"), "
                              "without numbers"))


# --- urgent routes ------------------------------------------------------------------------

_DAYTIME = re.compile(r"\{\{\s*clinic\.phone\s*\}\}")
_RED_FLAGS = {
    "en": re.compile(
        r"\b(?:seizures?|fits?|chest pain|heart ?beat|palpitations?|short(?:ness)? of breath|"
        r"breathless|can(?:not|'t) breathe|numb(?:ness)?|weak(?:ness)? in (?:your )?legs|"
        r"bladder|bowels?|confused|confusion|drowsy|unconscious|faint(?:ed|ing)?|collapsed?|"
        r"temperature|fever|shivers|shivering|term\.seizure|term\.fever_threshold)\b",
        re.I),
    "es": re.compile(
        r"\b(?:convulsi(?:ón|ones)|ataques?|dolor (?:en el|de) pecho|latidos?|palpitaciones|"
        r"falta de aire|ahogo|no puede respirar|entumecimiento|adormecimiento|debilidad en "
        r"las piernas|vejiga|intestinos?|confusión|confundid[oa]|somnolencia|inconsciente|"
        r"desmayos?|fiebre|temperatura|escalofríos|term\.seizure|term\.fever_threshold)\b",
        re.I),
    "zh": re.compile(
        r"癫痫|抽搐|惊厥|胸痛|胸口痛|心跳|心悸|呼吸困难|喘不过气|气短|麻木|腿(?:部)?无力|"
        r"膀胱|大小便|失禁|意识模糊|神志不清|昏迷|晕倒|昏倒|发烧|发热|体温|寒战|"
        r"term\.seizure|term\.fever_threshold"),
    "ar": re.compile(
        r"نوبة|نوبات|تشنج|ألم في الصدر|ألم بالصدر|ضربات القلب|خفقان|ضيق في التنفس|"
        r"صعوبة في التنفس|خدر|تنميل|ضعف في الساقين|المثانة|الأمعاء|التبول|ارتباك|تشوش|"
        r"إغماء|فقدان الوعي|حمى|الحرارة|حرارة|قشعريرة|term\.seizure|term\.fever_threshold"),
}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_URGENT_ROUTE = re.compile(r"\{\{\s*(?:clinic\.(?:urgent_phone|emergency_number)|"
                           r"urgent_help)\s*\}\}")


def daytime_red_flags(body: str, language: str, first_line: int = 1
                      ) -> list[tuple[int, str, str]]:
    """(line, sign, text) for each life-threatening sign a topic's markdown (from line
    `first_line` of its file) sends to the daytime number."""
    flags = _RED_FLAGS.get((language or "en").split("-")[0].lower())
    if flags is None:
        return []
    found, daytime_section = [], False
    for number, line in enumerate(body.split("\n"), first_line):
        if _HEADING.match(line):
            daytime_section = bool(_DAYTIME.search(line))
            continue
        for sentence in re.split(r"(?<=[.!?])\s+|(?<=[。！？؟])", line):
            if not (daytime_section or _DAYTIME.search(sentence)) or \
                    _URGENT_ROUTE.search(sentence):
                continue   # not sent to the daytime number, or given the urgent one too
            sign = flags.search(sentence)
            if sign:
                found.append((number, sign.group(0), sentence.strip()))
    return found


def route_problems(path, body: str, language: str, first_line: int = 1) -> list[Problem]:
    """A problem for each life-threatening sign sent to the daytime number."""
    return _reported(daytime_red_flags(body, language, first_line), path, "urgent-route",
                     "signs sent to the daytime number", lambda found: Problem(
                         f"sends {found[1]!r} to the daytime number: {found[2][:100]!r}",
                         file=path, line=found[0], code="urgent-route",
                         hint="anything that may be life-threatening goes with the 24-hour "
                              "line ({{ clinic.urgent_phone }}) or the emergency number "
                              "({{ clinic.emergency_number }}), or in the topic's urgent "
                              "signs"))
