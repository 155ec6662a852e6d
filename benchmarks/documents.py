"""Every document `handouts check --lang all` lays out, written to a folder and compared.

    python benchmarks/documents.py OUT                 # write them (about 216 PDFs)
    python benchmarks/documents.py OUT --compare OLD   # ... and list those that differ

A speed change to layout or drawing should change no byte of any document: write the
documents before the change, again after it, and compare. (Every PDF is deterministic:
two builds of the same inputs are byte-identical, which tests/test_pipeline.py checks.)
The documents are each shipped topic for each demo clinic on every paper and variant,
in every edition, and both booklets, as the check lays them out (the check itself
writes no PDF; these are written as a build would). Made in one process, as a
batch worker would, with its own empty cache (the layout memos too), so every spacing
step a document needs is laid out. Exits 1 when `--compare` finds a difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def jobs(library):
    """The check's documents and its translations' (check._render_problems' plan)."""
    from handouts import check
    from handouts.load import load_clinic
    from handouts.models import PAPERS

    clinics = [load_clinic(library.clinic_folder(slug), library) for slug in library.clinics()]
    report = check.CheckReport()
    topics = [edition for slug in library.topics()
              for edition in check._editions(library, slug, clinics, report)]
    variants = ("standard", "large")
    return (check._booklet_jobs(library, clinics, variants)
            + check._leaflet_jobs(topics, clinics, PAPERS, variants)
            + check._translation_jobs(library, topics, clinics, PAPERS, variants, ("all",)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PDFs")
    parser.add_argument("--compare", type=Path, help="a folder written before: list what differs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handouts-documents-") as cache:
        os.environ["HANDOUTS_CACHE"] = cache
        return write_and_compare(args.out, args.compare)


def write_and_compare(out: Path, compare: Path | None) -> int:
    sys.path.insert(0, str(ROOT))
    from handouts.errors import HandoutsError
    from handouts.library import Library
    from handouts.pipeline import produce
    from handouts.render import Renderer

    library = Library(ROOT)
    renderer = Renderer(library.asset_roots())
    today = dt.date.today()
    written = []
    for job, _profile in jobs(library):
        name = job.id.replace("/", "--") + ".pdf"
        try:
            output = produce(job, library, renderer, today=today, reuse=False)
        except HandoutsError as error:   # over its budget: the error is the result
            data = str(error).encode()
        else:
            data = output.pdf + (output.sheets or b"")
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(name)
    print(f"{len(written)} documents in {out}")
    if compare is None:
        return 0
    differ = [name for name in written if not (compare / name).exists()
              or (compare / name).read_bytes() != (out / name).read_bytes()]
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(differ)} of {len(written)} differ from {compare}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
