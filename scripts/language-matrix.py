#!/usr/bin/env python3
"""Build every shipped topic and card in every language, for every demo clinic, paper
and variant, and report what preflight (and the page budgets) find.

The test suite builds each language once or twice; this is the full matrix, to run by
hand after changing a translation, a catalogue, a font or a stylesheet:

    python scripts/language-matrix.py [--lang ar] [--paper a5] [--png DIR]

Exit status 1 when any document has a defect or fails to build. One warm renderer
and the output cache make a second run of unchanged documents quick.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from handouts.editions import editions
from handouts.errors import HandoutsError
from handouts.library import Library
from handouts.models import PAPER_SIZES, PAPERS
from handouts.pipeline import Job, lazy_renderer, produce


def main(argv: list[str] | None = None) -> int:
    """Build the matrix and print one line per document with a problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", action="append", help="only this language (repeatable)")
    parser.add_argument("--paper", action="append", choices=PAPERS)
    parser.add_argument("--clinic", action="append")
    parser.add_argument("--topic", action="append")
    parser.add_argument("--png", type=Path, help="write page images of each PDF here")
    args = parser.parse_args(argv)
    library = Library.open(Path(__file__).resolve().parent.parent)
    renderer = lazy_renderer(library)
    bad = made = 0
    started = time.monotonic()
    for slug in args.topic or list(library.topics()):
        languages = args.lang or sorted(editions(library, slug))
        for clinic in args.clinic or list(library.clinics()):
            for paper in args.paper or PAPERS:
                for variant in ("standard", "large"):
                    if variant == "large" and not PAPER_SIZES[paper].large_print:
                        continue
                    for lang in languages:
                        job = Job("leaflet", clinic, (slug,), paper, variant, lang=lang)
                        made += 1
                        try:
                            output = produce(job, library, renderer)
                        except HandoutsError as error:
                            bad += 1
                            for problem in error.problems:
                                print(f"FAIL {job.id}: {problem.message}", flush=True)
                            continue
                        found = [p for p in output.problems
                                 if p.code not in ("unreviewed-translation",
                                                   "card-variant", "stale-edition")]
                        if found:
                            bad += 1
                        for problem in found:
                            print(f"{problem.code} {job.id}: {problem.message}", flush=True)
                        if args.png:
                            _png(output, args.png)
    print(f"{made} documents, {bad} with problems, {time.monotonic() - started:.0f} s")
    return 1 if bad else 0


def _png(output, folder: Path) -> None:
    import pypdfium2 as pdfium  # noqa: PLC0415 - only with --png

    for name, data in output.files().items():
        pdf = pdfium.PdfDocument(data)
        for index in range(len(pdf)):
            target = folder / f"{name.removesuffix('.pdf').replace('/', '--')}-{index + 1}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            pdf[index].render(scale=50 / 72).to_pil().save(target)


if __name__ == "__main__":
    sys.exit(main())
