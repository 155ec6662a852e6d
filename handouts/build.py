"""Build: Jobs for the topics or booklet asked for, made by the pipeline, written to disk."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from .errors import HandoutsError, Problem, UsageError
from .finish import clean_stale_parts, write_atomic
from .library import Library
from .load import load_clinic
from .models import PAPERS, VARIANTS, PrintOptions
from .pipeline import Job, Output, check_choice, lazy_renderer, produce


@dataclass
class BuildResult:
    """What one build produced."""

    name: str                      # e.g. "riverside-oncology/bone-metastases-a4"
    path: Path
    pages: int
    sha256: str
    seconds: float
    status: str = "built"          # built / up-to-date / failed
    warnings: list[Problem] = field(default_factory=list)
    sheets: bool = False           # print sheets (an imposed booklet, cards): `pages` are sides

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        return {"job": self.name, "output": str(self.path), "pages": self.pages,
                "sha256": self.sha256, "seconds": round(self.seconds, 3),
                "status": self.status, "warnings": [str(w) for w in self.warnings]}


def load_library(path: Path | str | None = None) -> Library:
    """The handout library at `path`, or the one around the current folder."""
    return Library.open(path)


def parse_bleed(value: str | None) -> float | None:
    """'3mm' (or '3') -> 3.0; anything else is a UsageError."""
    if value in (None, "", "0", "0mm"):
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mm)?\s*", value)
    if not match or not 0 < float(match.group(1)) <= 10:
        raise UsageError(f"bleed {value!r} is not a size between 0 and 10 mm",
                         hint="e.g. --bleed 3mm")
    return float(match.group(1))


def write_output(output: Output, out: Path, started: float) -> list[BuildResult]:
    """Write every file of an Output atomically; one BuildResult per file."""
    results = []
    for index, (name, data) in enumerate(output.files().items()):
        path = out / name
        write_atomic(path, data)
        results.append(BuildResult(
            name=name.removesuffix(".pdf"), path=path,
            pages=output.pages if index == 0 else output.sheet_sides,
            sha256=sha256(data).hexdigest(), seconds=time.perf_counter() - started,
            warnings=output.problems if index == 0 else [], sheets=index > 0))
    return results


def build(topics: list[str], clinic: str, paper: str | None = None,
          variant: str = "standard", out: Path | str | None = None,
          library: Library | None = None, renderer=None, strict: bool = False,
          today: dt.date | None = None, on_result=None,
          options: PrintOptions = PrintOptions(),
          lang: str | None = None) -> list[BuildResult]:
    """Build one leaflet per topic for one clinic.

    A topic that fails does not stop the others: all are attempted, then every
    failure is raised together. `on_result(result)` is called after each success.
    """
    library = library or Library.open()
    check_choice(variant, VARIANTS, "variant")
    if paper:
        check_choice(paper, PAPERS, "paper size")
    if not topics:
        raise UsageError("name at least one topic", hint="see `handouts list`")
    for slug in topics:   # a misspelt name is a usage error before anything renders
        library.topic_path(slug)
    load_clinic(library.clinic_folder(clinic), library)   # a broken profile fails once
    out = Path(out) if out else library.output
    clean_stale_parts(out / clinic)  # temporary files of a killed earlier build
    renderer = renderer or lazy_renderer(library)   # made on first need: a cached build needs none
    results, errors = [], []
    for slug in topics:
        started = time.perf_counter()
        job = Job("leaflet", clinic, (slug,), paper, variant, options=options, lang=lang)
        try:
            written = write_output(produce(job, library, renderer, strict=strict,
                                           today=today), out, started)
        except HandoutsError as error:
            errors.append(error)
            continue
        results += written   # a card topic writes the card and its print sheets
        for result in written:
            if on_result:
                on_result(result)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise HandoutsError(problems=[p for e in errors for p in e.problems])
    return results


def build_booklet(topics: list[str] | None = None, clinic: str = "", *,
                  name: str | None = None, title: str | None = None,
                  audience: str | None = None, paper: str | None = None,
                  variant: str = "standard", out: Path | str | None = None,
                  library: Library | None = None, renderer=None, impose: bool = False,
                  options: PrintOptions = PrintOptions(), strict: bool = False,
                  today: dt.date | None = None, lang: str | None = None) -> list[BuildResult]:
    """Build a booklet (declared `name`, or `topics` with a `title`) as one PDF.

    With `impose`, an A5 or half-Letter booklet is also written as saddle-stitch
    sheets of A4 or Letter (`...-imposed.pdf`) beside the reading-order PDF.
    """
    started = time.perf_counter()
    library = library or Library.open()
    job = Job("booklet", clinic, tuple(topics or ()), paper, variant, booklet=name,
              title=title, audience=audience, impose=impose, options=options, lang=lang)
    output = produce(job, library, renderer or lazy_renderer(library), strict=strict, today=today)
    return write_output(output, Path(out) if out else library.output, started)
