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
