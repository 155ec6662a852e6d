"""Readability: Flesch-Kincaid grade and SMOG of a topic's body text, offline.

We count syllables ourselves rather than use textstat: its recent releases
download a word list on first use, and builds must work without a network.
The counter is the usual vowel-group heuristic with English suffix fixes; on
ordinary prose it agrees with dictionary counts closely enough for a grade
level, which is itself an estimate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
# A sentence ends at . ! ? or at the end of a list item / heading (a newline
# boundary is inserted by plain_text()).
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")

# Words whose heuristic count is wrong and that appear often in our topics.
_EXCEPTIONS = {
    "the": 1, "are": 1, "were": 1, "fire": 1, "hour": 1, "hours": 1, "our": 1,
    "every": 3, "everyone": 4, "different": 3, "business": 2, "area": 3,
    "being": 2, "doing": 2, "going": 2, "create": 2, "idea": 3, "people": 2,
    "little": 2, "table": 2, "able": 2, "simple": 2, "middle": 2, "single": 2,
    "calcium": 3, "medicine": 3, "medicines": 3, "vitamin": 3, "cancer": 2,
    "fracture": 2, "fractures": 2, "procedure": 3, "ct": 2, "mri": 3, "nhs": 3,
    "gp": 2, "iv": 2, "x": 1, "ray": 1, "rays": 1, "you're": 1, "we're": 1,
    "they're": 1, "don't": 1, "doesn't": 2, "isn't": 2, "can't": 1, "won't": 1,
    "someone": 2, "sometimes": 2, "something": 2, "anyone": 3, "forehead": 2,
    "toothache": 2, "lifestyle": 2, "movement": 2, "somewhere": 2, "whole": 1,
    "science": 2, "quiet": 2, "diet": 2, "via": 2, "cruel": 2,
}

_SUBTRACT = [re.compile(p) for p in (
    r"cial", r"tia", r"cius", r"cious", r"giu", r"ion", r"iou", r"[^aeiouy]ely$",
    r"[^aeiouy]e[sd]?$")]
_ADD = [re.compile(p) for p in (
    r"ia", r"riet", r"dien", r"iu", r"io", r"ii", r"[aeiouym]bl$", r"[aeiou]{3}", r"^mc",
    r"ism$", r"([^aeiouy])\1l$", r"[^l]lien", r"^coa[dglx].", r"[^gq]ua[^auieo]", r"dnt$",
    r"[^aeiouy]le$", r"eo")]
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=8192)
def syllables(word: str) -> int:
    """Estimate the syllables in one English word."""
    w = word.lower().replace("’", "'")
    if w in _EXCEPTIONS:
        return _EXCEPTIONS[w]
    w = w.replace("'", "")
    if len(w) <= 3:
        return 1
    count = len(_VOWEL_GROUPS.findall(w))
    count -= sum(1 for pattern in _SUBTRACT if pattern.search(w))
    count += sum(1 for pattern in _ADD if pattern.search(w))
    return max(1, count)


@dataclass
class Readability:
    """Reading-level figures for one text."""

    words: int
    sentences: int
    syllables: int
    polysyllables: int
    hardest: list[tuple[float, str]] = field(default_factory=list)

    @property
    def fk_grade(self) -> float:
        """Flesch-Kincaid grade level."""
        if not self.words:
            return 0.0
        return (0.39 * self.words / self.sentences
                + 11.8 * self.syllables / self.words - 15.59)

    @property
    def smog(self) -> float:
        """SMOG grade (McLaughlin), scaled to 30 sentences."""
        if not self.sentences:
            return 0.0
        return 1.043 * math.sqrt(self.polysyllables * 30 / self.sentences) + 3.1291


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences (list items and headings count as one)."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if _WORD.search(s)]


def measure(text: str, hardest: int = 5) -> Readability:
    """Measure plain text; also keep the `hardest` sentences by their own grade."""
    sentences = split_sentences(text)
    total_words = total_syll = total_poly = 0
    scored: list[tuple[float, str]] = []
    for sentence in sentences:
        words = _WORD.findall(sentence)
        counts = [syllables(w) for w in words]
        total_words += len(words)
        total_syll += sum(counts)
        total_poly += sum(1 for c in counts if c >= 3)
        if words:
            grade = 0.39 * len(words) + 11.8 * sum(counts) / len(words) - 15.59
            scored.append((round(grade, 1), sentence))
    scored.sort(key=lambda item: -item[0])
    return Readability(total_words, max(1, len(sentences)), total_syll, total_poly,
                       scored[:hardest])


# --- other languages ----------------------------------------------------------------

_WORD_ANY = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_STRONG = set("aeoáéóíú")      # strong vowels, and accented i/u, which break a diphthong
_VOWELS = set("aeiouáéíóúü")
_SILENT_U = re.compile(r"(?<=[qg])u(?=[eéií])")   # que, qui, gue, gui: the u is not said


@lru_cache(maxsize=8192)
def spanish_syllables(word: str) -> int:
    """Count the syllables in one Spanish word: each vowel group is one syllable
    (diphthongs and triphthongs), plus one for each hiatus inside it (two strong
    vowels side by side, or an accented í/ú beside another vowel)."""
    w = _SILENT_U.sub("", word.lower())
    w = re.sub(r"y$", "i", w)                         # hoy, muy: y ends in a vowel sound
    count, previous = 0, ""
    for char in w:
        if char not in _VOWELS:
            previous = ""
            continue
        if not previous or (previous in _STRONG and char in _STRONG):
            count += 1
        previous = char
    return max(1, count)


@dataclass
class Level:
    """A text's reading level in its language, or why it is not measured."""

    language: str
    formula: str | None          # None: no validated formula for this language
    score: float | None = None
    words: int = 0
    hardest: list[tuple[float, str]] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        """True when a validated formula gave a number."""
        return self.score is not None

    def summary(self) -> str:
        """A few words for `list` and `check`: "grade 6.8", "INFLESZ 62 (normal)"."""
        if self.score is None:
            return "not measured"
        if self.formula == INFLESZ:
            return f"INFLESZ {self.score:.0f} ({inflesz_band(self.score)})"
        return f"grade {self.score:.1f}"


FLESCH_KINCAID = "Flesch-Kincaid grade"
INFLESZ = "INFLESZ (Szigriszt-Pazos)"
# INFLESZ (Barrio-Cantalejo et al. 2008): 55 and over is "normal" for health texts.
INFLESZ_TARGET = 55.0


def szigriszt_pazos(words: int, syllables: int, sentences: int) -> float:
    """Szigriszt-Pazos perspicuity, read on the INFLESZ scale.

    P = 206.835 - 62.3 * (syllables / words) - (words / sentences), from Szigriszt
    Pazos, F. (1993) "Sistemas predictivos de legibilidad del mensaje escrito:
    fórmula de perspicuidad" (thesis, Universidad Complutense de Madrid), a
    Spanish adaptation of Flesch's reading ease; INFLESZ is the scale validated
    for health information by Barrio-Cantalejo, I. M. et al. (2008) "Validación de
    la Escala INFLESZ para evaluar la legibilidad de los textos dirigidos a
    pacientes", Anales del Sistema Sanitario de Navarra 31(2): 135-152.
    """
    if not words:
        return 0.0
    return 206.835 - 62.3 * syllables / words - words / max(1, sentences)


def inflesz_band(score: float) -> str:
    """The INFLESZ band of a Szigriszt-Pazos score."""
    for limit, band in ((40, "very difficult"), (55, "somewhat difficult"), (65, "normal"),
                        (80, "fairly easy")):
        if score < limit:
            return band
    return "very easy"


def measure_spanish(text: str, hardest: int = 5) -> Level:
    """The INFLESZ reading level of Spanish plain text, with its hardest sentences
    (lowest score first)."""
    sentences = split_sentences(text)
    total_words = total_syll = 0
    scored: list[tuple[float, str]] = []
    for sentence in sentences:
        words = _WORD_ANY.findall(sentence)
        if not words:
            continue
        counts = sum(spanish_syllables(w) for w in words)
        total_words += len(words)
        total_syll += counts
        if len(words) >= 5:   # a heading or a label says little about the prose
            scored.append((round(szigriszt_pazos(len(words), counts, 1), 1), sentence))
    scored.sort(key=lambda item: item[0])
    counted = sum(1 for sentence in sentences if _WORD_ANY.search(sentence))
    return Level("es", INFLESZ, round(szigriszt_pazos(total_words, total_syll,
                                                      max(1, counted)), 1),
                 total_words, scored[:hardest])


def reading_level(text: str, language: str) -> Level:
    """The reading level of plain text in `language`: Flesch-Kincaid grade for English,
    INFLESZ for Spanish, and "not measured" for languages without a validated formula
    here (Chinese and Arabic: a number made up from syllable or character counts would
    look like a measurement and is not one)."""
    primary = language.split("-")[0].lower()
    if primary == "en":
        level = measure(text)
        return Level(language, FLESCH_KINCAID, round(level.fk_grade, 1), level.words,
                     level.hardest)
    if primary == "es":
        level = measure_spanish(text)
        level.language = language
        return level
    return Level(language, None)
