"""Pipeline: one Job in, one document out (load -> compose -> render -> finish).

`produce` is the only code that composes and renders. Every command makes its
documents through it: `build`, `booklet`, `batch`, `serve`, `check` and the
benchmarks describe what they want as a frozen Job and get back an Output: the
PDF bytes, its page count, the problems found on the way and every file the
document actually read (recorded while it was made, see record.py), which is
what incremental builds and the print desk's cache trust.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal

from . import __version__, record, tagging
from . import cache as caches
from .compose import compose_booklet, compose_card, leaflet_composer
from .editions import (
    Edition,
    load_edition,
    load_terms,
    override_gaps,
    stale_problem,
    unreviewed_problem,
)
from .errors import BudgetError, HandoutsError, Problem, UsageError
from .glyphs import check as check_glyphs
from .library import Library
from .load import load_booklet, load_clinic
from .messages import direction
from .models import (
    IMPOSE_SHEETS,
    PAPER_SIZES,
    PAPERS,
    VARIANTS,
    BookletSpec,
    ClinicProfile,
    Composed,
    PrintOptions,
    Topic,
)
from .pagelimit import Overfull
from .preflight import Defect, examine
from .stack import roomy
from .timelimit import time_limit, uninterrupted

log = logging.getLogger(__name__)

# Tighter spacing steps tried when a topic is over its page budget (CSS classes
# density-1 to density-3); every step keeps body text at its minimum size.
DENSITY_STEPS = 4
KINDS = ("leaflet", "booklet", "card")
# The cache folder of check's verdicts: documents laid out and inspected, not written.
VERDICTS = "verdict"


@dataclass(frozen=True)
class Job:
    """A frozen description of one output: what to make, for whom, on what paper."""

    kind: Literal["leaflet", "booklet", "card"]   # a leaflet job of a card topic makes a card
    clinic: str
    topics: tuple[str, ...] = ()
    paper: str | None = None          # None: the clinic's own paper
    variant: str = "standard"
    booklet: str | None = None        # a declared booklet (booklets/NAME.toml)
    title: str | None = None          # a booklet of `topics` with this title
    audience: str | None = None
    impose: bool = False              # also saddle-stitch sheets (booklets)
    options: PrintOptions = field(default_factory=PrintOptions)
    lang: str | None = None           # the edition; None: the clinic's language

    @property
    def slug(self) -> str:
        """The topic, or the booklet's name (declared, or made from its title)."""
        if self.kind != "booklet":
            return self.topics[0]
        return self.booklet or re.sub(r"[^a-z0-9]+", "-", (self.title or "").lower()
                                      ).strip("-")[:60] or "booklet"

    @property
    def id(self) -> str:
        """The output's path without `.pdf`, relative to the output folder (paper set)."""
        prefix = "booklet-" if self.kind == "booklet" else ""
        large = "-large" if self.variant == "large" else ""
        lang = f"-{self.lang}" if self.lang else ""
        return (f"{self.clinic}/{prefix}{self.slug}-{self.paper}{large}{lang}"
                f"{self.options.suffix()}")

    def outputs(self) -> list[str]:
        """The files this job writes, relative to the output folder."""
        if self.kind == "card":   # the card itself, and sheets of cards on the paper
            lang = f"-{self.lang}" if self.lang else ""
            return [f"{self.clinic}/{self.slug}{lang}.pdf",
                    f"{self.clinic}/{self.slug}-sheets-{card_paper(self.paper)}{lang}.pdf"]
        return [f"{self.id}.pdf"] + ([f"{self.id}-imposed.pdf"] if self.impose else [])

    def describe(self) -> str:
        """A short phrase for messages: clinic, paper, variant and a translation's language."""
        large = " large print" if self.variant == "large" else ""
        lang = f" in {self.lang}" if self.lang else ""
        return f"for clinic {self.clinic!r} on {(self.paper or '').upper()}{large}{lang}"


@dataclass
class Output:
    """What produce() made of a Job."""

    job: Job                          # with its paper resolved
    pdf: bytes
    pages: int
    problems: list[Problem]           # warnings (errors are raised)
    inputs: dict[str, str]            # every file read -> sha256 (or record.MISSING)
    sheets: bytes | None = None       # print sheets: an imposed booklet, or cards
    sheet_sides: int = 0
    document: object = None           # WeasyPrint's laid-out document
    composed: Composed | None = None
    step: int = 0                     # the spacing step that fitted
    review_by: dt.date | None = None  # the earliest next-review date of its topics
    layout: str = ""                  # the topic's layout (leaflet, checklist, card)
    type_scale: dict[str, float] = field(default_factory=dict)   # role -> usual pt

    @property
    def sha256(self) -> str:
        """Hex digest of the PDF."""
        return hashlib.sha256(self.pdf).hexdigest()

    def files(self) -> dict[str, bytes]:
        """Each output file (relative name) with its bytes."""
        names = self.job.outputs()
        return dict(zip(names, [self.pdf] + ([self.sheets] if self.sheets else []),
                        strict=True))


def check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    """`value` if it is one of `choices`, else a UsageError listing them."""
    if value not in choices:
        raise UsageError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
    return value


@cache
def versions() -> str:
    """The versions of everything that shapes the bytes of a PDF, as one line."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    # The package's own code too: a change to it between releases (a checkout, an
    # editable install) must not answer from the output cache with the old bytes.
    code = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        code.update(path.read_bytes())
    parts = [f"handouts {__version__} {code.hexdigest()[:16]}"]
    for name in ("weasyprint", "pydyf", "pypdf", "pikepdf", "fontpkg-atkinson-hyperlegible",
                 "fontpkg-ibm-plex-sans-arabic", "babel", "jinja2",
                 "markdown", "nh3", "segno"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} ?")
    return " ".join(parts)


def fixed_inputs(job: Job) -> dict[str, str]:
    """What shapes a document besides the files it reads: the job's options and the
    versions of the packages that make it."""
    return {"(job)": hashlib.sha256(repr(job).encode()).hexdigest(),
            "(versions)": hashlib.sha256(versions().encode()).hexdigest()}


def _review_state(review_by: dt.date | None, today: dt.date) -> str:
    # The footer says REVIEW OVERDUE once the date passes: a change no file shows.
    if review_by is None:
        return "none"
    return f"{review_by.isoformat()} {'overdue' if today > review_by else 'current'}"


def unchanged(job: Job, inputs: dict, today: dt.date | None = None) -> bool:
    """True when a document made from `inputs` (Output.inputs) would be made the same
    today: every file it read has the same bytes, files it looked for are still
    missing, and the job, the package versions and the review state are the same."""
    if not isinstance(inputs, dict) or not inputs:
        return False
    today = today or dt.date.today()
    current = fixed_inputs(job)
    for key, sha in inputs.items():
        if key == "(review)":
            review = str(sha).split(" ")[0]
            try:
                now = _review_state(None if review == "none" else
                                    dt.date.fromisoformat(review), today)
            except ValueError:
                return False
        else:
            now = current.get(key) or record.memo_sha256(key)
        if now != sha:
            return False
    return "(job)" in inputs and "(review)" in inputs


def lazy_renderer(library: Library):
    """A function that makes one warm Renderer the first time it is called and returns
    the same one after: documents taken from the output cache never import WeasyPrint."""
    @cache
    def make():
        from .render import Renderer  # noqa: PLC0415 - keep WeasyPrint out of start-up

        return Renderer(library.asset_roots())

    return make


def produce(job: Job, library: Library, renderer=None, *, strict: bool = False,
            today: dt.date | None = None, reuse: bool = True, write: bool = True) -> Output:
    """Make the document `job` describes; raises HandoutsError for bad input.

    `renderer` is a warm Renderer, None (one is made), or a function that returns one
    (called only if something must be laid out). One time limit (the renderer's)
    covers the whole document: loading, markdown,
    every spacing step and writing. With `reuse`, a document made before from the
    same job and library is taken from the output cache while every input it read
    is unchanged (pipeline.unchanged): the bytes are the same, nothing is laid out,
    and WeasyPrint is not even imported. Such an Output has no `document`.

    `write=False` (check) lays the document out and inspects it, but does not write
    the PDF: a quarter of the work. The Output's `pdf` and `sheets` are empty, and
    with `reuse` it is kept as a verdict (what the document's pages are and what is
    wrong with them), which a later check takes as it would a made document.
    """
    check_choice(job.kind, KINDS, "kind")
    check_choice(job.variant, VARIANTS, "variant")
    today = today or dt.date.today()
    key = _output_key(job, library)
    output = _remembered(key, job, today, verdict=not write) if reuse else None
    if output is None:
        output = roomy(_make, job, library, renderer, today, write)
        if reuse:
            _remember(key, output, "pdf" if write else VERDICTS)
    if strict and output.problems:
        raise HandoutsError(problems=[p.as_error() for p in output.problems])
    return output


def cached(job: Job, library: Library, today: dt.date | None = None, *,
           verdict: bool = False) -> Output | None:
    """The Output `produce` would take from the output cache for `job`, or None when it
    would have to make the document: no WeasyPrint, only hashes of the inputs (the
    print desk answers cached requests this way without waiting for a worker).
    `verdict`: what `produce(write=False)` would take, a verdict if there is no PDF."""
    check_choice(job.kind, KINDS, "kind")
    return _remembered(_output_key(job, library), job, today or dt.date.today(), verdict)


def _make(job: Job, library: Library, renderer, today: dt.date, write: bool = True) -> Output:
    from .render import Renderer  # noqa: PLC0415 - WeasyPrint is heavy

    if renderer is None:
        renderer = Renderer(library.asset_roots())
    elif not hasattr(renderer, "render"):   # a factory: WeasyPrint only when needed
        renderer = renderer()
    renderer.settle()
    requested = job
    with record.recording() as reads, time_limit(renderer.time_limit):
        profile = load_clinic(library.clinic_folder(job.clinic), library)
        job = replace(job, paper=check_choice(job.paper or profile.clinic.paper, PAPERS,
                                              "paper size"))
        large_print_paper(job.paper, job.variant)
        if job.kind == "booklet":
            output = _booklet(job, library, profile, renderer, today, write)
        else:   # a leaflet, or a card (the topic's layout decides)
            output = _leaflet(job, library, profile, renderer, today, write)
        for path in renderer.font_files():
            record.read(path)
    output.inputs = reads.fingerprint(record.memo_sha256) | fixed_inputs(requested)
    output.inputs["(review)"] = _review_state(output.review_by, today)
    return output


# --- the output cache -------------------------------------------------------------------

def _output_key(job: Job, library: Library) -> str:
    where = "\n".join(str(root) for root in library.layers)
    return hashlib.sha256(f"{job!r}\n{where}".encode()).hexdigest()[:40]


def _remember(key: str, output: Output, kind: str = "pdf") -> None:
    """Store an Output's bytes and what it read: a JSON head, then the PDF (and sheets);
    a verdict (kind VERDICTS) is the head alone."""
    head = json.dumps({
        "job": repr(output.job), "resolved": _job_fields(output.job), "pages": output.pages,
        "sheet_sides": output.sheet_sides, "step": output.step, "inputs": output.inputs,
        "layout": output.layout, "type_scale": output.type_scale,
        "review_by": output.review_by.isoformat() if output.review_by else None,
        "problems": [p.as_dict() for p in output.problems],
        "sizes": [len(output.pdf), len(output.sheets or b"")]}).encode()
    caches.write(kind, key, len(head).to_bytes(8, "big") + head + output.pdf +
                 (output.sheets or b""))


def _remembered(key: str, job: Job, today: dt.date, verdict: bool = False) -> Output | None:
    """The cached Output of `job`, if there is one and its inputs are unchanged; with
    `verdict`, a made document's or else a verdict (PDF and sheets empty)."""
    output = _remembered_in("pdf", key, job, today)
    if output is None and verdict:
        output = _remembered_in(VERDICTS, key, job, today)
    return output


def _remembered_in(kind: str, key: str, job: Job, today: dt.date) -> Output | None:
    data = caches.read(kind, key, 64 << 20)
    try:
        size = int.from_bytes(data[:8], "big")
        head = json.loads(data[8:8 + size])
        first, second = head["sizes"]
        body = data[8 + size:]
        if len(body) != first + second or not unchanged(job, head["inputs"], today):
            return None
        resolved = Job(**{**head["resolved"], "topics": tuple(head["resolved"]["topics"]),
                          "options": PrintOptions(**head["resolved"]["options"])})
        return Output(job=resolved, pdf=body[:first], pages=head["pages"],
                      problems=[_problem(p) for p in head["problems"]],
                      inputs=head["inputs"], sheets=body[first:] or None,
                      sheet_sides=head["sheet_sides"], step=head["step"],
                      layout=head["layout"], type_scale=head["type_scale"],
                      review_by=dt.date.fromisoformat(head["review_by"])
                      if head["review_by"] else None)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None   # absent, damaged or from another version: made afresh


def _job_fields(job: Job) -> dict:
    fields = {name: getattr(job, name) for name in job.__dataclass_fields__}
    fields["options"] = {name: getattr(job.options, name)
                         for name in job.options.__dataclass_fields__}
    return fields


def _problem(data: dict) -> Problem:
    return Problem(data["message"], file=data["file"], line=data["line"],
                   field=data["field"], hint=data["hint"], severity=data["severity"],
                   code=data["code"])


def _leaflet(job: Job, library: Library, profile: ClinicProfile, renderer,
             today: dt.date, write: bool = True) -> Output:
    if len(job.topics) != 1:
        raise UsageError("a leaflet has exactly one topic")
    topic, edition = load_edition(library, job.topics[0], _language(job, profile),
                                  region=profile.clinic.language,
                                  overrides=profile.clinic.terms)
    problems = governance(topic, profile, today) + edition_problems([edition], profile)
    if topic.meta.layout == "card":
        return _card(replace(job, kind="card"), library, topic, profile, renderer, today,
                     problems, write)
    composed, document, step = _fit(job, library, topic, profile, renderer, today)
    output = _finish(job, composed, document, renderer, problems, step, topic.path, profile,
                     write)
    output.review_by, output.layout = topic.meta.next_review, topic.meta.layout
    return output


def _fit(job: Job, library: Library, topic: Topic, profile: ClinicProfile, renderer,
         today: dt.date):
    """Compose and render within the page budget, trying tighter spacing steps.

    The step that fitted (or that none did, with the page count) is remembered in the
    layout cache under a hash of the document and its stylesheets, so the next build
    of the same inputs lays out once; the result is the same with or without the
    memo, which only skips steps known not to fit.
    """
    compose = leaflet_composer(library, topic, profile, job.paper, job.variant, today,
                               job.options, _language(job, profile))

    first = compose(0)
    _glyphs(first)
    key = _layout_key(first, renderer.version)
    memo = (caches.read("layout", key, 64) or b"").decode("ascii", "replace").split()
    if memo[:1] == ["over"] and len(memo) == 3:   # known not to fit at any step
        raise _over_budget(job, topic, first.budget, int(memo[1]), float(memo[2]))
    start = int(memo[0]) if memo and memo[0].isdigit() and int(memo[0]) < DENSITY_STEPS \
        else 0
    for step in range(start, DENSITY_STEPS):
        composed = first if step == 0 else compose(step)
        # A step that is not the last is wanted only if it fits: its layout may stop
        # once it is certain not to (pagelimit); the last one is laid out whole, for
        # the page count and fill its error reports.
        at_most = composed.budget if step < DENSITY_STEPS - 1 else None
        try:
            document, fetcher, messages = renderer.render(
                composed, pdf_variant=job.options.pdf_variant, at_most=at_most)
        except Overfull:
            continue
        composed.warnings += _render_problems(fetcher, messages, topic.path)
        pages = len(document.pages)
        if composed.budget is None or pages <= composed.budget:
            if step:
                log.info("%s fits %s page(s) with tighter spacing (step %d)", topic.slug,
                         composed.budget, step)
            if step != start:
                caches.write("layout", key, str(step).encode())
            return composed, document, step
    fill = _page_fill(document)
    caches.write("layout", key, f"over {pages} {fill:.4f}".encode())
    raise _over_budget(job, topic, composed.budget, pages, fill)


def _glyphs(composed: Composed) -> None:
    """Refuse a document with a character no font has (glyphs.py), before laying it out;
    record the system fonts its text needs, so a change to them is a new input."""
    for path in check_glyphs(composed.html, composed.printed, composed.sources):
        record.read(str(path))


def _over_budget(job: Job, topic: Topic, budget: int, pages: int, fill: float) -> BudgetError:
    return BudgetError(
        f"topic {topic.slug!r} overflows its budget of {budget} page(s) {job.describe()}: "
        f"{pages} pages, {pages - budget} page(s) over (the last page is {fill:.0%} full)",
        file=topic.path, field="pages", code="page-budget",
        hint="shorten the text, or raise `pages:` in the front matter")


def large_print_paper(paper: str, variant: str) -> None:
    """A UsageError for large print on a paper it is not printed on."""
    if variant == "large" and not PAPER_SIZES[paper].large_print:
        papers = " or ".join(p for p, size in PAPER_SIZES.items() if size.large_print)
        raise UsageError(f"large print is printed on {papers}, not {paper}",
                         hint="16 pt text on a page half the size gives lines of a few words "
                              "and leaflets of a dozen pages (RNIB Clear Print uses A4): "
                              "add --paper a4 or --paper letter")


def card_paper(paper: str | None) -> str:
    """The paper a card's print sheets use: the job's, or the one its pages impose on."""
    size = PAPER_SIZES.get(paper or "a4", PAPER_SIZES["a4"])
    return paper if size.cards else size.sheet or "a4"


def card_papers(papers) -> list[str]:
    """The sheet papers cards are printed on for `papers` (A5 on A4, half Letter on
    Letter), each once: a card job on A5 makes the A4 job's very files."""
    return list(dict.fromkeys(card_paper(paper) for paper in papers))


def _card(job: Job, library: Library, topic: Topic, profile: ClinicProfile, renderer,
          today: dt.date, problems: list[Problem], write: bool = True) -> Output:
    """A wallet card: two 85 x 55 mm pages, and sheets of cards with crop marks."""
    language = _language(job, profile)
    if job.variant == "large":
        problems = problems + [Problem(
            "a wallet card has one size: the large-print version is the standard card",
            file=topic.path, field="layout", code="card-variant",
            hint="give large-print readers the topic's leaflet as well")]
    composed = compose_card(library, topic, profile, today, language)
    _glyphs(composed)
    document, fetcher, messages = renderer.render(composed, pdf_variant=job.options.pdf_variant)
    composed.warnings += _render_problems(fetcher, messages, topic.path)
    if len(document.pages) != 2:
        raise BudgetError(f"the card {topic.slug!r} takes {len(document.pages)} pages "
                          f"{job.describe()}; it has a front and a back", file=topic.path,
                          field="pages", code="page-budget",
                          hint="shorten the text under `## Front` or `## Back`")
    output = _finish(job, composed, document, renderer, problems, 0, topic.path, profile,
                     write)
    if write:
        from .finish import card_sheets  # noqa: PLC0415 - pikepdf, only for cards

        output.sheets = card_sheets(output.pdf, card_paper(job.paper))
    output.sheet_sides = 2
    output.review_by = topic.meta.next_review
    return output


def _booklet(job: Job, library: Library, profile: ClinicProfile, renderer,
             today: dt.date, write: bool = True) -> Output:
    if job.impose and job.paper not in IMPOSE_SHEETS:
        raise UsageError(f"--impose booklet needs A5 or half-letter pages, not {job.paper!r}",
                         hint="add --paper a5 (on A4 sheets) or --paper half-letter "
                              "(on Letter sheets)")
    if job.impose and (job.options.bleed_mm or job.options.marks):
        raise UsageError("--impose is for an office printer and --bleed/--marks for a print "
                         "shop; choose one")
    spec = booklet_spec(job, library)
    topics, found = _booklet_topics(library, spec.topics, _language(job, profile),
                                    profile.clinic.language, profile.clinic.terms)
    problems = [p for topic in topics for p in governance(topic, profile, today)]
    problems += edition_problems(found, profile)
    # Laid out again, set compactly, when the back cover spills onto a second page. A
    # page left blank before a topic that opens on the right is a Notes page by itself
    # (booklet.css `@page :blank`, and the lines drawn in _finish).
    for compact in (False, True):
        composed = compose_booklet(library, spec, job.slug, topics, profile, job.paper,
                                   job.variant, job.options, today, compact=compact,
                                   language=_language(job, profile))
        if not compact:
            _glyphs(composed)
        document, fetcher, messages = renderer.render(composed,
                                                      pdf_variant=job.options.pdf_variant)
        composed.warnings += _render_problems(fetcher, messages, None)
        back_pages = _back_cover_pages(document)   # 0: an override without a back cover
        if back_pages <= 1:
            break
    if back_pages > 1:
        raise BudgetError(
            f"the back cover of booklet {job.slug!r} takes {back_pages} pages "
            f"{job.describe()}, even set compactly; it must fit on one page",
            file=profile.folder / "clinic.toml", field="address", code="page-budget",
            hint="shorten the clinic's address, labels or e-mail address, or use a larger "
                 "paper size")
    source = library.booklet_path(job.booklet) if job.booklet else None
    output = _finish(job, composed, document, renderer, problems, 0, source, profile, write)
    output.review_by = min(topic.meta.next_review for topic in topics)
    if job.impose:
        from .finish import impose, saddle_stitch_order  # noqa: PLC0415

        if write:
            output.sheets = impose(output.pdf, IMPOSE_SHEETS[job.paper],
                                   rtl=direction(_language(job, profile)) == "rtl")
        output.sheet_sides = len(saddle_stitch_order(output.pages)[1])
    return output


def _finish(job, composed, document, renderer, problems, step, source=None,
            profile: ClinicProfile | None = None, write: bool = True) -> Output:
    """Write the PDF (unless not `write`: a check's verdict) and inspect its pages."""
    pdf = b""
    if write:
        pdf = renderer.write(document, identifier=_identifier(composed),
                             pdf_variant=job.options.pdf_variant,
                             finisher=tagging.Repair(notes=_notes_pages(document)))
        if job.options.marks and job.kind != "card":
            from .finish import crop_marks  # noqa: PLC0415 - pikepdf, only for print shops

            pdf = crop_marks(pdf, job.options.bleed_mm or 0.0)
    defects, scale = _preflight(document, job, profile)
    found = [Problem(f"{defect} ({job.describe()})", file=source,
                     code=f"preflight-{defect.kind}", hint=defect.hint) for defect in defects]
    return Output(job=job, pdf=pdf, pages=len(document.pages),
                  problems=problems + composed.warnings + found, inputs={},
                  document=document, composed=composed, step=step, type_scale=scale)


def preflight_defects(document, job: Job, profile: ClinicProfile | None) -> list[Defect]:
    """What preflight sees on the laid-out pages of a job's document."""
    return _preflight(document, job, profile)[0]


def _preflight(document, job: Job, profile: ClinicProfile | None):
    keep, safe = (), 5.0
    if profile is not None:
        clinic = profile.clinic
        keep = (clinic.phone, clinic.urgent_phone, clinic.emergency_number, *clinic.address)
        safe = clinic.safe_area_mm
    variant = "standard" if job.kind == "card" else job.variant   # a card has one size
    return examine(document, kind=job.kind, variant=variant, keep=keep, safe_mm=safe)


def booklet_spec(job: Job, library: Library) -> BookletSpec:
    """The booklet a job asks for: declared (title and audience may be overridden), or
    made of the job's topics and title."""
    if job.booklet:
        spec = load_booklet(library.booklet_path(job.booklet))
        update = {k: v for k, v in (("title", job.title), ("audience", job.audience)) if v}
        return spec.model_copy(update=update) if update else spec
    if not job.title:
        raise UsageError("give the booklet a --title (or use --name for a declared one)")
    if not job.topics:
        raise UsageError("name the booklet's topics", hint="see `handouts list`")
    return BookletSpec(title=job.title, topics=list(job.topics),
                       **({"audience": job.audience} if job.audience else {}))


def _language(job: Job, profile: ClinicProfile) -> str:
    return job.lang or profile.clinic.language


def _booklet_topics(library: Library, slugs, language: str, region: str | None = None,
                    overrides: dict | None = None):
    """Every topic of a booklet in one edition (its terms in the clinic's wording where
    it has its own); every broken one reported at once."""
    topics, found, problems = [], [], []
    terms = load_terms(library)
    for slug in slugs:
        try:
            topic, edition = load_edition(library, slug, language, terms, region, overrides)
        except HandoutsError as error:
            problems.extend(error.problems)
            continue
        topics.append(topic)
        found.append(edition)
    if problems:
        raise HandoutsError(problems=problems)
    return topics, found


def edition_problems(found: list[Edition], profile: ClinicProfile | None = None
                     ) -> list[Problem]:
    """A problem for each derived edition whose source has moved on, for each
    translation nobody has reviewed, and for each term the clinic rewords but not in
    the edition's language."""
    gaps = [p for e in found for p in override_gaps(
        e, profile.clinic.terms, profile.folder / "clinic.toml")] if profile else []
    return [stale_problem(e) for e in found if e.stale] + [
        unreviewed_problem(e) for e in found if e.translated and not e.reviewed] + gaps


def governance(topic: Topic, profile: ClinicProfile, today: dt.date) -> list[Problem]:
    """A warning for a topic past its review date; an error if the clinic refuses those."""
    if not topic.overdue(today):
        return []
    problem = overdue_problem(topic)
    if profile.clinic.refuse_overdue:
        raise HandoutsError(problem.message + f"; clinic {profile.slug!r} refuses to print "
                            "overdue topics", file=topic.path, field="next_review",
                            hint=problem.hint, code="review-overdue")
    return [problem]


def overdue_problem(topic: Topic) -> Problem:
    """The review-overdue problem of a topic (its severity comes from errors.SEVERITY)."""
    return Problem(f"review overdue since {topic.meta.next_review.isoformat()}",
                   file=topic.path, field="next_review", code="review-overdue",
                   hint="review the text, then update last_reviewed and next_review")


def _render_problems(fetcher, messages: list[str], source) -> list[Problem]:
    refused = [Problem(f"resource {url[:120]!r} refused: only files inside the handout "
                       "library may be used", file=source, code="refused-resource")
               for url in dict.fromkeys(fetcher.refused)]
    return refused + [Problem(m, file=source, code="render") for m in messages
                      if "refused" not in m]


def _identifier(composed: Composed) -> bytes:
    """A stable PDF /ID from the document itself, so output is byte-identical; the
    folders it was built from are left out, so the same library copied elsewhere (or
    another cache root) gives the same bytes."""
    html = composed.html
    # Named by their place in the list (layer by layer, kind by kind), longest first
    # so that no folder is replaced inside another.
    named = {Path(root).as_uri(): f"root{index}:" for index, root in enumerate(composed.roots)}
    for uri in sorted(named, key=len, reverse=True):
        html = html.replace(uri, named[uri])
    return hashlib.md5(html.encode(), usedforsecurity=False).hexdigest().encode()


def _layout_key(composed: Composed, engine: str) -> str:
    # The budget is part of the key: which step fits depends on it, and it is not in
    # the HTML (a topic given a page more must be laid out again from step 0).
    digest = hashlib.sha256(f"{engine}\n{composed.budget}\n{composed.html}".encode())
    for sheet in composed.stylesheets:
        with uninterrupted():
            digest.update(sheet.read_bytes())
    return digest.hexdigest()[:40]


def _page_fill(document) -> float:
    """How full the last page is (0-1), to say by how much a topic overflowed."""
    page = document.pages[-1]._page_box   # WeasyPrint has no public page geometry
    root = page.children[0]
    used = root.position_y + root.margin_height() - page.content_box_y()
    return max(0.0, min(1.0, used / (page.height or 1)))


def _notes_pages(document) -> list[tuple[int, tuple[float, float, float, float]]]:
    """The pages WeasyPrint left blank (before a topic that opens on the right), each
    with its page area (left, top, width, height in pt from the trim box's top left),
    where tagging.rule_notes_pages draws the lines of a Notes page."""
    found = []
    for index, page in enumerate(document.pages):
        box = page._page_box   # WeasyPrint has no public page type or geometry
        if box.page_type.blank:
            found.append((index, tuple(value * 0.75 for value in (   # px -> pt; the
                box.content_box_x(), box.content_box_y(), box.width, box.height))))  # trim's
    return found


def _has_text(box) -> bool:
    if type(box).__name__ == "TextBox" and box.text.strip():
        return True
    if type(box).__name__ == "MarginBox":
        return False   # the running head and footer are not the page's content
    return any(_has_text(child) for child in getattr(box, "children", []) or [])


def _back_cover_pages(document) -> int:
    """How many pages the booklet's back cover (the `#contact` section) takes."""
    for index, page in enumerate(document.pages):
        if "contact" in page.anchors:
            return len(document.pages) - index
    return 0
