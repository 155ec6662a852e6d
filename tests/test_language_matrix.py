"""Every shipped topic and the card, in every shipped language, for both demo clinics,
on every paper and variant: preflight finds nothing, every font is embedded, /Lang is
the edition's and the text is in its script.

About 200 documents (100 s of CPU): CI runs them (`CI` is set there), and so does
`HANDOUTS_FULL_TESTS=1 make test`; a plain `make test` skips them and keeps to the
sample in test_languages.py. `scripts/language-matrix.py` is the same matrix by hand.
"""

from __future__ import annotations

import re

import pytest

from handouts.editions import editions
from handouts.models import PAPER_SIZES, PAPERS
from handouts.pipeline import Job, produce
from tests.conftest import CLINICS, full_tier
from tests.test_languages import _check_pdf

pytestmark = full_tier

# The font each script is set in, and a character class of the script itself.
SCRIPTS = {"es": ("Atkinson-Hyperlegible", "[áéíóúñ¿¡]"),
           "zh-Hans": ("Noto-Sans-CJK-SC", "[\u4e00-\u9fff]"),
           "ar": ("IBM-Plex-Sans-Arabic", "[\u0600-\u06ff]")}


@pytest.mark.parametrize("lang", sorted(SCRIPTS))
def test_every_topic_paper_and_variant_in_this_language_is_fit_to_print(
        lang, library, renderer, tmp_path):
    font, script = SCRIPTS[lang]
    made = 0
    for slug in library.topics():
        if lang not in editions(library, slug):
            continue
        card = library.topic_path(slug).read_text().count("layout: card") > 0
        for clinic in CLINICS:
            for paper in PAPERS:
                variants = ("standard",) if card or not PAPER_SIZES[paper].large_print \
                    else ("standard", "large")
                for variant in variants:
                    output = produce(Job("leaflet", clinic, (slug,), paper, variant,
                                         lang=lang), library, renderer)
                    text = _check_pdf(output, tmp_path, lang, font)
                    assert re.search(script, text), (output.job.id, text[:200])
                    made += 1
    assert made >= 4 * 2 * 6 + 2 * 4   # four leaflets and the card, in every format
