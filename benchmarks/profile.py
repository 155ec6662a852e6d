"""Where a warm render's time goes: the table in benchmarks/README.md, reproduced.

    python benchmarks/profile.py                  # sample 10 rounds of the four topics
    python benchmarks/profile.py --rounds 3 TOPIC ...

Renders the topics warm, one after another in one process as a batch worker does (A4,
the two demo clinics in turn), under py-spy (a sampling profiler: `pip install
py-spy`; cProfile slows small Python calls far more than C ones, and so overstates
SVG drawing and box bookkeeping), then prints each stage's share of the samples.
Not a test, and not run by `make bench`: a tool for deciding what to speed up next.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["bone-protecting-injections", "bone-metastases", "vertebroplasty-kyphoplasty",
          "injection-care-checklist"]
# (stage, frames that belong to it): a sample counts for a stage when any frame of
# its stack contains one of these.
STAGES = [
    ("WeasyPrint layout", ["layout_document ("]),
    ("  column sets", ["columns_layout ("]),
    ("  line breaking", ["split_first_line (", "remembered ("]),
    ("    Pango itself", ["get_first_line ("]),
    ("  margin boxes (running head, footer)", ["make_margin_boxes ("]),
    ("  styles", ["get_all_computed_styles ("]),
    ("  building the boxes", ["build_formatting_structure ("]),
    ("WeasyPrint drawing and writing the PDF", ["write (handouts/render.py"]),
    ("  drawing", ["draw_page ("]),
    ("    text", ["draw_text ("]),
    ("    SVG (diagrams, QR codes)", ["svg/__init__.py"]),
    ("  writing the PDF's objects", ["pydyf/__init__.py"]),
    ("handouts: compose", ["compose_leaflet (", "leaflet_composer ("]),
    ("handouts: preflight", ["examine ("]),
    ("handouts: tag repair", ["repair (handouts/tagging.py"]),
]


def renders(topics: list[str], rounds: int) -> None:
    """The profiled process: warm renders, as a batch worker makes them."""
    sys.path.insert(0, str(ROOT))
    from handouts.library import Library
    from handouts.pipeline import Job, produce
    from handouts.render import Renderer

    library = Library(ROOT)
    renderer = Renderer(library.asset_roots())
    clinics = list(library.clinics())[:2]

    def make(clinic: str, topic: str) -> None:
        produce(Job("leaflet", clinic, (topic,), "a4"), library, renderer, reuse=False)

    for clinic in clinics:          # warm up, and write each layout memo
        for topic in topics:
            make(clinic, topic)
    started = time.perf_counter()
    timed_rounds(make, clinics, topics, rounds)
    took = time.perf_counter() - started
    print(f"{rounds * len(topics)} warm renders, {took / rounds / len(topics):.3f} s each",
          file=sys.stderr)


def timed_rounds(make, clinics: list[str], topics: list[str], rounds: int) -> None:
    """The renders that count: only samples inside this function are tallied (not
    the imports, nor the first renders, which lay out at every spacing step)."""
    for index in range(rounds):
        for topic in topics:
            make(clinics[index % len(clinics)], topic)


def shares(raw: Path) -> list[tuple[str, float]]:
    """Each stage's share of the timed renders' samples in a py-spy raw (collapsed
    stacks) file."""
    total, counts = 0, {name: 0 for name, _ in STAGES}
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit() or "timed_rounds (" not in stack:
            continue
        total += int(number)
        for name, marks in STAGES:
            if any(mark in stack for mark in marks):
                counts[name] += int(number)
    return [(name, counts[name] / total if total else 0.0) for name, _ in STAGES]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", default=TOPICS)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--renders", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.renders:
        renders(args.topics, args.rounds)
        return 0
    spy = shutil.which("py-spy")
    if not spy:
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        raw = Path(work) / "samples.txt"
        cache = Path(work) / "cache"
        subprocess.run([spy, "record", "--rate", "200", "--format", "raw", "--output",
                        str(raw), "--", sys.executable, __file__, "--renders",
                        "--rounds", str(args.rounds), *args.topics],
                       check=True, env={**os.environ, "HANDOUTS_CACHE": str(cache)})
        print("| stage | share of the samples |\n|---|---|")
        for name, share in shares(raw):
            print(f"| {name} | {share:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
