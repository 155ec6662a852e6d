"""Build: load -> compose -> render -> finish, for one topic at a time or a booklet."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .compose import Composed, compose_booklet, compose_leaflet
from .errors import BudgetError, HandoutsError, Problem, UsageError
from .finish import write_atomic
from .library import Library
from .load import load_booklet, load_clinic, load_topic
from .models import IMPOSE_SHEETS, PAPERS, VARIANTS, BookletSpec, ClinicProfile, Topic

log = logging.getLogger(__name__)

# Tighter spacing steps tried when a topic is over its page budget (CSS classes
# density-1 to density-3); every step keeps body text at its minimum size.
DENSITY_STEPS = 4


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
    page = document.pages[-1]._page_box   # WeasyPrint has no public page geometry
    root = page.children[0]
    used = root.position_y + root.margin_height() - page.content_box_y()
    return max(0.0, min(1.0, used / (page.height or 1)))


@dataclass(frozen=True)
class PrintOptions:
    """How a PDF is produced: print-shop bleed and marks, PDF/A instead of PDF/UA."""

    bleed_mm: float | None = None
    marks: bool = False
    pdfa: bool = False

    @property
    def pdf_variant(self) -> str:
        """WeasyPrint's PDF variant: tagged PDF/UA-1 by default, PDF/A-2a (tagged) to archive."""
        return "pdf/a-2a" if self.pdfa else "pdf/ua-1"

    def suffix(self) -> str:
        """File-name suffix that keeps print-shop and archive copies apart."""
        return ("-bleed" if self.bleed_mm or self.marks else "") + ("-pdfa" if self.pdfa else "")


def parse_bleed(value: str | None) -> float | None:
    """'3mm' (or '3') -> 3.0; anything else is a UsageError."""
    if value in (None, "", "0", "0mm"):
        return None
    import re  # noqa: PLC0415

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mm)?\s*", value)
    if not match or not 0 < float(match.group(1)) <= 10:
        raise UsageError(f"bleed {value!r} is not a size between 0 and 10 mm",
                         hint="e.g. --bleed 3mm")
    return float(match.group(1))


def _layout_cache() -> Path:
    from .library import cache_dir  # noqa: PLC0415

    return cache_dir("layout")


def _layout_key(composed: Composed, engine: str) -> str:
    digest = hashlib.sha256(f"{engine}\n{composed.html}".encode())
    for sheet in composed.stylesheets:
        digest.update(sheet.read_bytes())
    return digest.hexdigest()[:40]


def _remembered_density(key: str) -> int:
    try:
        value = int((_layout_cache() / key).read_text())
    except (OSError, ValueError):
        return 0
    return value if 0 <= value < DENSITY_STEPS else 0


def _remember_density(key: str, density: int) -> None:
    try:
        write_atomic(_layout_cache() / key, str(density).encode())
    except OSError:
        pass  # a read-only home only costs speed


def render_leaflet(library: Library, topic: Topic, profile: ClinicProfile, paper: str,
                   variant: str, renderer, today: dt.date | None = None,
                   options: PrintOptions = PrintOptions()):
    """Compose and render within the page budget; returns (composed, document, fetcher, warnings).

    The spacing step that fitted is remembered under a hash of the document and its
    stylesheets, so the next build of the same inputs lays out once. The result is
    the same with or without the memo: it only skips steps known not to fit.
    """
    first = compose_leaflet(library, topic, profile, paper, variant, 0, today,
                            options.bleed_mm, options.marks)
    key = _layout_key(first, getattr(renderer, "version", ""))
    start = _remembered_density(key)
    for density in range(start, DENSITY_STEPS):
        composed = first if density == 0 else compose_leaflet(
            library, topic, profile, paper, variant, density, today, options.bleed_mm,
            options.marks)
        document, fetcher, messages = renderer.render(composed,
                                                      pdf_variant=options.pdf_variant)
        pages = len(document.pages)
        if composed.budget is None or pages <= composed.budget:
            if density:
                log.info("%s fits %s page(s) with tighter spacing (step %d)", topic.slug,
                         composed.budget, density)
            if density != start:
                _remember_density(key, density)
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
              today: dt.date | None = None,
              options: PrintOptions = PrintOptions()) -> BuildResult:
    """Build one leaflet PDF and write it atomically."""
    started = time.perf_counter()
    today = today or dt.date.today()
    warnings = _governance(topic, profile, today, strict)
    composed, document, fetcher, messages = render_leaflet(library, topic, profile, paper,
                                                           variant, renderer, today, options)
    warnings += _render_warnings(composed, fetcher, messages, topic.path, strict)
    pdf = renderer.write(document, identifier=_identifier(composed),
                         pdf_variant=options.pdf_variant)
    name = output_name(topic.slug, profile.slug, paper, variant).replace(
        ".pdf", options.suffix() + ".pdf")
    path = out / name
    write_atomic(path, pdf)
    return BuildResult(name=name.removesuffix(".pdf"), path=path, pages=len(document.pages),
                       sha256=hashlib.sha256(pdf).hexdigest(),
                       seconds=time.perf_counter() - started, warnings=warnings)


def _render_warnings(composed, fetcher, messages, source, strict) -> list[Problem]:
    from .render import refused_problems  # noqa: PLC0415

    warnings = composed.warnings + refused_problems(fetcher, source)
    warnings += [Problem(m, file=source, code="render", severity="warning")
                 for m in messages if "refused" not in m]
    if strict and warnings:
        raise HandoutsError(problems=[Problem(w.message, file=w.file, line=w.line,
                                              field=w.field, hint=w.hint, code=w.code)
                                      for w in warnings])
    return warnings


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
          today: dt.date | None = None, on_result=None,
          options: PrintOptions = PrintOptions()) -> list[BuildResult]:
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
    from .finish import clean_stale_parts  # noqa: PLC0415

    clean_stale_parts(out / profile.slug)  # temporary files of a killed earlier build
    renderer = renderer or Renderer(library.asset_roots())
    results, errors = [], []
    for topic in loaded:
        try:
            result = build_one(library, topic, profile, paper, variant, out, renderer,
                               strict=strict, today=today, options=options)
        except HandoutsError as error:
            errors.append(error)
            continue
        results.append(result)
        if on_result:
            on_result(result)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise HandoutsError(problems=[p for e in errors for p in e.problems])
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


def _back_cover_pages(document) -> int:
    """How many pages the booklet's back cover (the `#contact` section) takes."""
    for index, page in enumerate(document.pages):
        if "contact" in page.anchors:
            return len(document.pages) - index
    return 0


def _slugify(text: str) -> str:
    import re  # noqa: PLC0415

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "booklet"


def build_booklet(topics: list[str] | None = None, clinic: str = "", *,
                  name: str | None = None, title: str | None = None,
                  audience: str | None = None, paper: str | None = None,
                  variant: str = "standard", out: Path | str | None = None,
                  library: Library | None = None, renderer=None, impose: bool = False,
                  options: PrintOptions = PrintOptions(), strict: bool = False,
                  today: dt.date | None = None) -> list[BuildResult]:
    """Build a booklet (declared `name`, or `topics` with a `title`) as one PDF.

    With `impose`, an A5 or half-Letter booklet is also written as saddle-stitch
    sheets of A4 or Letter (`...-imposed.pdf`) beside the reading-order PDF.
    """
    from .finish import impose as impose_pdf  # noqa: PLC0415
    from .render import Renderer  # noqa: PLC0415

    started = time.perf_counter()
    library = library or Library.open()
    check_choice(variant, VARIANTS, "variant")
    if name:
        spec = load_booklet(library.booklet_path(name))
        slug = name
        if title or audience:
            spec = spec.model_copy(update={k: v for k, v in
                                           (("title", title), ("audience", audience)) if v})
    else:
        if not title:
            raise UsageError("give the booklet a --title (or use --name for a declared one)")
        if not topics:
            raise UsageError("name the booklet's topics", hint="see `handouts list`")
        spec = BookletSpec(title=title, topics=list(topics), **(
            {"audience": audience} if audience else {}))
        slug = _slugify(title)
    profile = load_clinic(library.clinic_folder(clinic), library)
    paper = check_choice(paper or profile.clinic.paper, PAPERS, "paper size")
    if impose and paper not in IMPOSE_SHEETS:
        raise UsageError(f"--impose booklet needs A5 or half-letter pages, not {paper!r}",
                         hint="add --paper a5 (on A4 sheets) or --paper half-letter "
                              "(on Letter sheets)")
    if impose and (options.bleed_mm or options.marks):
        raise UsageError("--impose is for an office printer and --bleed/--marks for a print "
                         "shop; choose one")
    loaded = _load_all(library, spec.topics)
    warnings = [w for topic in loaded for w in _governance(topic, profile,
                                                           today or dt.date.today(), strict)]
    renderer = renderer or Renderer(library.asset_roots())
    for compact in (False, True):
        composed = compose_booklet(library, spec, slug, loaded, profile, paper, variant,
                                   options.bleed_mm, options.marks, today, compact=compact)
        document, fetcher, messages = renderer.render(composed,
                                                      pdf_variant=options.pdf_variant)
        back_pages = _back_cover_pages(document)
        if back_pages <= 1:   # 0: an override template without the back cover
            break
    else:
        raise BudgetError(
            f"the back cover of booklet {slug!r} takes {back_pages} pages for clinic "
            f"{profile.slug!r} on {paper.upper()}{' large print' if variant == 'large' else ''}"
            ", even set compactly; it must fit on one page",
            file=profile.folder / "clinic.toml", field="address",
            code="page-budget",
            hint="shorten the clinic's address, labels or e-mail address, or use a larger "
                 "paper size")
    warnings += _render_warnings(composed, fetcher, messages, None, strict)
    pdf = renderer.write(document, identifier=_identifier(composed),
                         pdf_variant=options.pdf_variant)
    out = Path(out) if out else library.output
    base = f"{profile.slug}/booklet-{slug}-{paper}{'-large' if variant == 'large' else ''}"
    base += options.suffix()
    path = out / f"{base}.pdf"
    write_atomic(path, pdf)
    results = [BuildResult(name=base, path=path, pages=len(document.pages),
                           sha256=hashlib.sha256(pdf).hexdigest(),
                           seconds=time.perf_counter() - started, warnings=warnings)]
    if impose:
        sheets = impose_pdf(pdf, IMPOSE_SHEETS[paper])
        imposed = out / f"{base}-imposed.pdf"
        write_atomic(imposed, sheets)
        from .finish import saddle_stitch_order  # noqa: PLC0415

        total, sides = saddle_stitch_order(len(document.pages))
        results.append(BuildResult(name=f"{base}-imposed", path=imposed, pages=len(sides),
                                   sha256=hashlib.sha256(sheets).hexdigest(),
                                   seconds=time.perf_counter() - started))
    return results
