"""Build: load -> compose -> render -> finish, for one topic at a time or a booklet."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .compose import Composed, compose_leaflet
from .errors import BudgetError, HandoutsError, Problem, UsageError
from .finish import write_atomic
from .library import Library
from .load import load_clinic, load_topic
from .models import PAPERS, VARIANTS, ClinicProfile, Topic

log = logging.getLogger(__name__)

# Tighter spacing steps tried when a topic is over its page budget (CSS classes
# density-1, density-2); every step keeps body text at its minimum size.
DENSITY_STEPS = 3


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

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        return {"job": self.name, "output": str(self.path), "pages": self.pages,
                "sha256": self.sha256, "seconds": round(self.seconds, 3),
                "status": self.status, "warnings": [str(w) for w in self.warnings]}


def load_library(path: Path | str | None = None) -> Library:
    """The handout library at `path`, or the one around the current folder."""
    return Library.open(path)


def output_name(topic: str, clinic: str, paper: str, variant: str = "standard") -> str:
    """The predictable output path, relative to the output folder."""
    suffix = "-large" if variant == "large" else ""
    return f"{clinic}/{topic}-{paper}{suffix}.pdf"


def check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    """`value` if it is one of `choices`, else a UsageError listing them."""
    if value not in choices:
        raise UsageError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
    return value


def _identifier(composed: Composed) -> bytes:
    # A stable PDF /ID from the document itself keeps output byte-identical.
    return hashlib.md5(composed.html.encode(), usedforsecurity=False).hexdigest().encode()


def _page_fill(document) -> float:
    """How full the last page is (0-1), to say by how much a topic overflowed."""
    page = document.pages[-1]._page_box  # noqa: SLF001 - no public geometry in WeasyPrint
    root = page.children[0]
    used = root.position_y + root.margin_height() - page.content_box_y()
    return max(0.0, min(1.0, used / (page.height or 1)))


def render_leaflet(library: Library, topic: Topic, profile: ClinicProfile, paper: str,
                   variant: str, renderer, today: dt.date | None = None):
    """Compose and render within the page budget; returns (composed, document, fetcher, warnings)."""
    for density in range(DENSITY_STEPS):
        composed = compose_leaflet(library, topic, profile, paper, variant, density, today)
        document, fetcher, messages = renderer.render(composed)
        pages = len(document.pages)
        if composed.budget is None or pages <= composed.budget:
            if density:
                log.info("%s fits %s page(s) with tighter spacing (step %d)", topic.slug,
                         composed.budget, density)
            return composed, document, fetcher, messages
    over = pages - composed.budget
    fill = _page_fill(document)
    raise BudgetError(
        f"topic {topic.slug!r} overflows its budget of {composed.budget} page(s) for clinic "
        f"{profile.slug!r} on {paper.upper()}{' large print' if variant == 'large' else ''}: "
        f"{pages} pages, {over} page(s) over (the last page is {fill:.0%} full)",
        file=topic.path, field="pages", code="page-budget",
        hint="shorten the text, or raise `pages:` in the front matter")


def build_one(library: Library, topic: Topic, profile: ClinicProfile, paper: str,
              variant: str, out: Path, renderer, *, strict: bool = False,
              today: dt.date | None = None) -> BuildResult:
    """Build one leaflet PDF and write it atomically."""
    from .render import refused_problems  # noqa: PLC0415

    started = time.perf_counter()
    today = today or dt.date.today()
    warnings = _governance(topic, profile, today, strict)
    composed, document, fetcher, messages = render_leaflet(library, topic, profile, paper,
                                                           variant, renderer, today)
    warnings += composed.warnings + refused_problems(fetcher, topic.path)
    warnings += [Problem(m, file=topic.path, code="render", severity="warning")
                 for m in messages if "refused" not in m]
    if strict and warnings:
        raise HandoutsError(problems=[Problem(w.message, file=w.file, line=w.line,
                                              field=w.field, hint=w.hint, code=w.code)
                                      for w in warnings])
    pdf = renderer.write(document, identifier=_identifier(composed))
    name = output_name(topic.slug, profile.slug, paper, variant)
    path = out / name
    write_atomic(path, pdf)
    return BuildResult(name=name.removesuffix(".pdf"), path=path, pages=len(document.pages),
                       sha256=hashlib.sha256(pdf).hexdigest(),
                       seconds=time.perf_counter() - started, warnings=warnings)


def _governance(topic: Topic, profile: ClinicProfile, today: dt.date, strict: bool):
    if not topic.overdue(today):
        return []
    problem = Problem(f"review overdue since {topic.meta.next_review.isoformat()}",
                      file=topic.path, field="next_review", code="review-overdue",
                      severity="warning",
                      hint="review the text and update last_reviewed and next_review")
    if profile.clinic.refuse_overdue:
        raise HandoutsError(problem.message + f"; clinic {profile.slug!r} refuses to print "
                            "overdue topics", file=topic.path, field="next_review",
                            hint=problem.hint, code="review-overdue")
    return [problem]


def build(topics: list[str], clinic: str, paper: str | None = None,
          variant: str = "standard", out: Path | str | None = None,
          library: Library | None = None, renderer=None, strict: bool = False,
          today: dt.date | None = None, on_result=None) -> list[BuildResult]:
    """Build one leaflet per topic for one clinic; every input is validated first.

    A topic that fails does not stop the others: all are attempted, then every
    failure is raised together. `on_result(result)` is called after each success.
    """
    from .render import Renderer  # noqa: PLC0415 - keep WeasyPrint out of start-up

    library = library or Library.open()
    if variant not in VARIANTS:
        check_choice(variant, VARIANTS, "variant")
    profile = load_clinic(library.clinic_folder(clinic), library)
    paper = check_choice(paper or profile.clinic.paper, PAPERS, "paper size")
    loaded = _load_all(library, topics)
    out = Path(out) if out else library.output
    renderer = renderer or Renderer(library.asset_roots())
    results, problems = [], []
    for topic in loaded:
        try:
            result = build_one(library, topic, profile, paper, variant, out, renderer,
                               strict=strict, today=today)
        except HandoutsError as error:
            problems.extend(error.problems)
            continue
        results.append(result)
        if on_result:
            on_result(result)
    if problems:
        raise HandoutsError(problems=problems)
    return results


def _load_all(library: Library, slugs: list[str]) -> list[Topic]:
    if not slugs:
        raise UsageError("name at least one topic", hint="see `handouts list`")
    paths = [library.topic_path(slug) for slug in slugs]
    topics, problems = [], []
    for path in paths:
        try:
            topics.append(load_topic(path))
        except HandoutsError as error:
            problems.extend(error.problems)
    if problems:
        raise HandoutsError(problems=problems)
    return topics
