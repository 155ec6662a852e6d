"""Check: is a handout library fit to print? Every problem with its file, line and fix.

Runs the same stages as a build (load, compose, render) but collects problems
instead of stopping at the first: schemas, reading level, governance, accessibility
(alt text, colour contrast, text size), page budgets, clinic fields and links.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import cache as caches
from . import placeholders
from .claims import claim_problems
from .compose import mix
from .editions import DEFAULT_LANGUAGE, editions, load_edition, load_terms, override_gaps
from .errors import HandoutsError, Problem
from .library import Library
from .load import load_booklet, load_clinic
from .markup import render_body
from .models import PAPER_SIZES, PAPERS, ClinicProfile, Topic, contrast
from .pipeline import (
    VERDICTS,
    Job,
    cached,
    card_papers,
    edition_problems,
    lazy_renderer,
    overdue_problem,
    produce,
)
from .readability import FLESCH_KINCAID, INFLESZ, INFLESZ_TARGET, reading_level
from .timelimit import default_time_limit, time_limit, uninterrupted

DEFAULT_GRADE = 8.0


@dataclass
class CheckReport:
    """Everything `handouts check` found."""

    problems: list[Problem] = field(default_factory=list)
    topics: int = 0
    clinics: int = 0
    renders: int = 0

    def errors(self, strict: bool = False) -> list[Problem]:
        """Problems that fail the check (warnings too with `strict`)."""
        return [p for p in self.problems if strict or p.severity == "error"]

    def as_dict(self) -> dict:
        """JSON form."""
        return {"topics": self.topics, "clinics": self.clinics, "renders": self.renders,
                "problems": [p.as_dict() for p in self.problems]}


# --- colour contrast (WCAG 2.x) ----------------------------------------------------------

def nearest_passing(colour: str, background: str, ratio: float) -> str:
    """The closest darker shade of `colour` that reaches `ratio` on `background`."""
    for step in range(1, 101):
        candidate = mix(colour, "#000000", 1 - step / 100)
        if contrast(candidate, background) >= ratio:
            return candidate
    return "#000000"


def _contrast_problems(profile: ClinicProfile) -> list[Problem]:
    colours = profile.clinic.colours
    path = profile.folder / "clinic.toml"
    checks = [  # (name, colour, background, background name, minimum, what it is used for)
        ("text", colours.text, "#ffffff", "the white page", 4.5, "body text"),
        ("primary", colours.primary, "#ffffff", "the white page", 4.5,
         "headings and the subtitle"),
        ("text", colours.text, mix(colours.primary, "#ffffff", 0.10),
         "the main-message box", 4.5, "main-message text"),
        ("warning", colours.warning, "#ffffff", "the white page", 4.5, "the urgent box heading"),
        ("warning", colours.warning, mix(colours.warning, "#ffffff", 0.07),
         "the urgent box", 4.5, "the urgent box heading"),
        ("accent", colours.accent or colours.primary, "#ffffff", "the white page", 3.0,
         "callout borders (graphics)"),
    ]
    problems = []
    for name, colour, background, where, minimum, use in checks:
        ratio = contrast(colour, background)
        if ratio < minimum:  # compared unrounded, as WCAG requires
            shade = nearest_passing(colour, background, minimum)
            problems.append(Problem(
                f"colour {colour} has contrast {ratio:.2f}:1 against {where} ({background}); "
                f"{use} need at least {minimum:g}:1", file=path, field=f"colours.{name}",
                code="contrast", hint=f"use {shade} or darker"))
    return problems


# --- per topic ---------------------------------------------------------------------------

def topic_problems(library: Library, topic: Topic, clinics: list[ClinicProfile],
                   grade: float, today: dt.date) -> list[Problem]:
    """What is wrong with a topic without rendering it (`list` shows these too)."""
    problems: list[Problem] = []
    try:
        result = render_body(topic, None, library.dirs("content"))
    except HandoutsError as error:
        return error.problems
    problems += result.problems  # missing alt text
    problems += reading_problems(topic, result.text, grade)
    problems += _claim_problems(topic, result.text)
    if topic.overdue(today):
        problems.append(overdue_problem(topic))
    for link in result.internal_links:
        if link not in result.heading_ids:
            problems.append(Problem(f"link to #{link} points at no heading", file=topic.path,
                                    code="broken-link",
                                    hint=f"headings: {', '.join(sorted(result.heading_ids))}"))
    for profile in clinics:
        missing = result.fields_used - set(profile.fields())
        for name in sorted(missing):
            problems.append(Problem(
                f"uses {{{{ clinic.{name} }}}} but clinic {profile.slug!r} has no {name!r}",
                file=topic.path, code="missing-clinic-field",
                hint=f"add {name} to {profile.folder / 'clinic.toml'}"))
    return problems


def _claim_problems(topic: Topic, text: str) -> list[Problem]:
    """Risk words their own numbers contradict ("rare: 1 in 100"), survival figures and
    life-threatening signs sent to the daytime number, which CONTENT.md rules out
    (claims.py); found in the loaded body, so the file is not read again."""
    return claim_problems(topic.path, text, topic.meta.language or DEFAULT_LANGUAGE,
                          topic.body, topic.body_line)


def reading_problems(topic: Topic, text: str, grade: float = DEFAULT_GRADE) -> list[Problem]:
    """A problem when a topic reads harder than its language's target: Flesch-Kincaid
    grade for English, INFLESZ for Spanish; other languages are not measured."""
    level = reading_level(text, topic.meta.language or DEFAULT_LANGUAGE)
    if level.formula == FLESCH_KINCAID and level.score > grade:
        hardest = "; ".join(f"{s[:70]!r} ({g:.0f})" for g, s in level.hardest[:3])
        return [Problem(f"reading grade {level.score:.1f} is above the target of {grade:g}",
                        file=topic.path, code="reading-level",
                        hint=f"shorten these sentences first: {hardest}")]
    if level.formula == INFLESZ and level.score < INFLESZ_TARGET:
        hardest = "; ".join(f"{s[:70]!r} ({g:.0f})" for g, s in level.hardest[:3])
        return [Problem(f"reading ease {level.summary()} is below {INFLESZ_TARGET:g} "
                        "(normal)", file=topic.path, code="reading-level",
                        hint=f"shorten these sentences first: {hardest}")]
    return []


def _one(job, profile, library, renderer, today, report, annotate_to, scales=None,
         output=None) -> None:
    """Lay one document out and inspect it (or take `output`, or the output cache's made
    document or verdict) and report what it has."""
    try:
        output = output or produce(job, library, renderer, today=today, write=False)
        if scales is not None and output.job.kind == "leaflet":
            key = (job.clinic, output.job.paper, job.variant, output.layout, job.lang)
            scales.setdefault(key, []).append((job.topics[0], output.type_scale))
        found = _gate(output.problems)
        if annotate_to and any(p.code.startswith("preflight-") for p in found):
            if output.document is None or not output.pdf:   # a verdict: make the pages
                output = produce(job, library, renderer, today=today, reuse=False)
            annotate(output, profile, annotate_to)
    except HandoutsError as error:
        report.problems.extend(error.problems)
        return
    report.problems.extend(found)


def _render_problems(library, topics, clinics, papers, variants, today, report,
                     booklets: bool = True, annotate_to: Path | None = None,
                     workers: int | None = None, progress=None,
                     languages: tuple[str, ...] = ()) -> None:
    renderer = lazy_renderer(library)   # nothing to lay out if every document is cached
    scales: dict[tuple, list] = {}
    planned = (_booklet_jobs(library, clinics, variants) if booklets else []) + \
        _leaflet_jobs(topics, clinics, papers, variants) + \
        _translation_jobs(library, topics, clinics, papers, variants, languages)
    report.renders += len(planned)
    # What the output cache lacks is laid out on worker processes first (one per core),
    # into verdicts: a check inspects the pages and does not write the PDFs, a quarter
    # of the work. Each job below then costs only hashes. One process when there is
    # little to lay out.
    known = {job: cached(job, library, today, verdict=True) for job, _ in planned}
    missing = {job for job, output in known.items() if output is None}
    done = len(planned) - len(missing)
    if progress:
        progress(done, len(planned))
    if len(missing) >= 4 and workers != 1:
        from .batch import make_in_workers  # noqa: PLC0415 - worker processes, when needed

        def made(_job) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(planned))

        make_in_workers([job for job, _ in planned if job in missing], library,
                        workers=workers, today=today, on_done=made, write=False)
        missing = set()
    for job, profile in planned:
        _one(job, profile, library, renderer, today, report, annotate_to,
             scales if job.kind == "leaflet" else None, output=known[job])
        if progress and job in missing:
            done += 1
            progress(done, len(planned))
    report.problems.extend(_scale_problems(scales, library))


def _nothing_made_yet() -> bool:
    """Whether the output cache holds no document and no verdict at all (a first check,
    or a cleared cache): then the check will lay out every document on worker
    processes."""
    for kind in ("pdf", VERDICTS):
        try:
            with os.scandir(caches.folder(kind)) as entries:
                if next(entries, None) is not None:
                    return False
        except OSError:
            pass
    return True


def _booklet_jobs(library, clinics, variants) -> list[tuple[Job, ClinicProfile]]:
    """Every declared booklet for every clinic, on its own paper, in each variant."""
    return [(Job("booklet", profile.slug, (), profile.clinic.paper, variant, booklet=name),
             profile)
            for name in library.booklets() for profile in clinics
            for variant in (variants if PAPER_SIZES[profile.clinic.paper].large_print
                            else ("standard",))]


def _leaflet_jobs(topics, clinics, papers, variants) -> list[tuple[Job, ClinicProfile]]:
    """Every topic for every clinic on every paper; large print on A4 and Letter only,
    and a card is one size (its large print is the standard card again), printed on A4
    or Letter sheets (an A5 job makes the A4 job's very files)."""
    jobs = []
    for topic in {t.slug: t for t in topics}.values():   # each clinic prints its edition
        card = topic.meta.layout == "card"
        for profile in clinics:
            for paper in card_papers(papers) if card else papers:
                for variant in ("standard",) if card or not PAPER_SIZES[paper].large_print \
                        else variants:
                    jobs.append((Job("leaflet", profile.slug, (topic.slug,), paper, variant),
                                 profile))
    return jobs


def _translation_jobs(library, topics, clinics, papers, variants,
                      languages: tuple[str, ...]) -> list[tuple[Job, ClinicProfile]]:
    """Each topic's editions in `languages` ("all": every one there is), as every clinic
    would print them, on every paper and variant: a translation has its own layout."""
    jobs = []
    for topic in {t.slug: t for t in topics}.values():
        found = editions(library, topic.slug)
        for language in sorted(found) if "all" in languages else languages:
            if language in found:
                jobs += [(replace(job, lang=language), profile) for job, profile
                         in _leaflet_jobs([topic], clinics, papers, variants)]
    return jobs


def placeholder_problems(topic: Topic) -> list[Problem]:
    """A problem for each sentence of `handouts new`'s scaffold still in a topic."""
    try:
        with uninterrupted():
            text = topic.path.read_text("utf-8", errors="replace")
    except OSError:
        return []
    return [Problem(f"still holds the scaffold's text {words!r}", file=topic.path, line=line,
                    code="placeholder", hint="write the topic's own words here")
            for line, words in placeholders.in_text(text)]


def clinic_placeholder_problems(profile: ClinicProfile) -> list[Problem]:
    """A problem for each value of a clinic profile that `handouts new` wrote."""
    path = profile.folder / "clinic.toml"
    clinic = profile.clinic
    values = {"phone": clinic.phone, "urgent_phone": clinic.urgent_phone,
              "department": clinic.department, "address": clinic.address[0],
              "website": clinic.website}
    problems = [Problem(f"{name} is still the placeholder {value!r}", file=path, field=name,
                        code="placeholder", hint=f"put the clinic's own {name} in clinic.toml")
                for name, value in values.items() if placeholders.CLINIC.get(name) == value]
    try:
        with uninterrupted():
            logo = profile.logo_path.read_bytes()[:4096]
    except OSError:
        logo = b""
    if placeholders.LOGO_MARK in logo:
        problems.append(Problem("the logo is still the placeholder `handouts new` drew",
                                file=profile.logo_path, field="logo", code="placeholder",
                                hint="replace logo.svg with the clinic's own logo"))
    return problems


def annotate(output, profile: ClinicProfile, folder: Path) -> list[Path]:
    """Page images of a document with each preflight defect outlined and labelled, so an
    author sees at a glance what to fix: FOLDER/<clinic>--<document>-page<N>.png."""
    from io import BytesIO  # noqa: PLC0415

    from PIL import Image, ImageDraw  # noqa: PLC0415 - Pillow comes with WeasyPrint

    from .finish import write_atomic  # noqa: PLC0415
    from .images import pdf_to_pngs  # noqa: PLC0415
    from .pipeline import preflight_defects  # noqa: PLC0415

    dpi, written = 100, []
    by_page: dict[int, list] = {}
    for defect in preflight_defects(output.document, output.job, profile):
        by_page.setdefault(defect.page, []).append(defect)
    for page, defects in sorted(by_page.items()):
        [png] = pdf_to_pngs(output.pdf, dpi=dpi, first=page, last=page)
        image = Image.open(BytesIO(png)).convert("RGB")
        draw = ImageDraw.Draw(image)
        for defect in defects:
            x, y, w, h = (v * dpi / 25.4 for v in defect.where)
            box = (x, y, x + max(w, 4), y + max(h, 4)) if w or h else \
                (2, 2, image.width - 3, image.height - 3)
            draw.rectangle(box, outline=(200, 0, 0), width=3)
            label = f"{defect.kind}: {defect.role}"
            top = max(0, box[1] - 14)
            draw.rectangle((box[0], top, box[0] + 7 * len(label), top + 13), fill=(200, 0, 0))
            draw.text((box[0] + 2, top + 1), label, fill=(255, 255, 255))
        buffer = BytesIO()
        image.save(buffer, format="PNG")
        target = folder / f"{output.job.id.replace('/', '--')}-page{page}.png"
        write_atomic(target, buffer.getvalue())
        written.append(target)
    return written


def _scale_problems(scales: dict[tuple, list], library: Library) -> list[Problem]:
    """One type scale per clinic, paper, variant and layout: each role one size in every
    leaflet (a budget that made type shrink would show here)."""
    problems = []
    for (clinic, paper, variant, layout, _lang), documents in sorted(
            scales.items(), key=lambda item: tuple(str(part) for part in item[0])):
        roles = {role for _, scale in documents for role in scale}
        for role in sorted(roles):
            sizes = {slug: scale[role] for slug, scale in documents if role in scale}
            if len(set(sizes.values())) > 1:
                listing = ", ".join(f"{slug} {size:g} pt" for slug, size in sizes.items())
                large = " large print" if variant == "large" else ""
                problems.append(Problem(
                    f"the {role} is not one size in clinic {clinic!r}'s {layout}s on "
                    f"{paper.upper()}{large}: {listing}", code="preflight-type-scale",
                    file=library.topic_path(next(iter(sizes))),
                    hint="keep each role's size in the styles; let spacing, not type, "
                         "change to fit a page budget"))
    return [p.as_error() for p in problems]


def _gate(problems: list[Problem]) -> list[Problem]:
    """The problems of a made document that check reports: refused resources, a clinic's
    own term missing from the edition printed, and what preflight saw on the page,
    which makes a leaflet not fit to hand out (an error here, a warning in a build)."""
    return [p.as_error() if p.code.startswith("preflight-") else p for p in problems
            if p.code in ("refused-resource", "clinic-term-language")
            or p.code.startswith("preflight-")]


def check_library(library: Library, topics: list[str] | None = None,
                  clinics: list[str] | None = None, *, strict: bool = False,
                  grade: float = DEFAULT_GRADE, render: bool = True,
                  papers: tuple[str, ...] = PAPERS,
                  variants: tuple[str, ...] = ("standard", "large"),
                  today: dt.date | None = None,
                  annotate_to: Path | None = None, workers: int | None = None,
                  progress=None, languages: tuple[str, ...] = ()) -> CheckReport:
    """Check the library (or the named topics and clinics); never raises for content.

    `annotate_to`: write page images with each preflight defect outlined there.
    `languages`: also lay out the topics' editions in these languages ("all": every
    edition) for every clinic, paper and variant; by default each clinic's own.
    `workers`: processes for the documents not in the output cache (default: one per
    core). `progress(done, total)` is called as documents are checked."""
    # The library is listed once for the whole check (each topic's editions are looked
    # up many times); a file added meanwhile is the next check's.
    with library.listed_once():
        today = today or dt.date.today()
        report = CheckReport()
        if render and workers != 1 and _nothing_made_yet():
            from .batch import start_workers_early  # noqa: PLC0415 - worker processes, when needed

            start_workers_early()   # every document will be made: workers, sooner
        loaded_clinics: list[ClinicProfile] = []
        for slug in clinics or list(library.clinics()):
            try:
                loaded_clinics.append(load_clinic(library.clinic_folder(slug), library))
            except HandoutsError as error:
                report.problems.extend(error.problems)
        loaded_topics: list[Topic] = []
        for slug in topics or list(library.topics()):
            try:
                loaded_topics += _editions(library, slug, loaded_clinics, report)
            except HandoutsError as error:
                report.problems.extend(error.problems)
        for path in library.booklets().values():
            try:
                spec = load_booklet(path)
                for slug in spec.topics:
                    if slug not in library.topics():
                        report.problems.append(Problem(f"booklet lists unknown topic {slug!r}",
                                                       file=path, field="topics", code="unknown"))
            except HandoutsError as error:
                report.problems.extend(error.problems)
        manifest = library.manifest_path()
        if manifest:
            from .batch import load_manifest, plan  # noqa: PLC0415

            try:
                plan(library, load_manifest(manifest), manifest)
            except HandoutsError as error:
                report.problems.extend(error.problems)
        report.topics = len({t.slug for t in loaded_topics})
        report.clinics = len(loaded_clinics)
        for profile in loaded_clinics:
            report.problems.extend(_contrast_problems(profile))
            report.problems.extend(clinic_placeholder_problems(profile))
        for topic in loaded_topics:
            readers = [c for c in loaded_clinics if c.clinic.language == topic.meta.language]
            report.problems.extend(placeholder_problems(topic))
            try:
                with time_limit(default_time_limit()):   # markdown on untrusted text
                    report.problems.extend(topic_problems(library, topic, readers, grade, today))
            except HandoutsError as error:
                report.problems.extend(error.problems)
        if render and loaded_topics and loaded_clinics:
            # Page budgets need real layout: one warm renderer for every combination.
            clean = [t for t in loaded_topics
                     if not any(p.file == t.path and p.severity == "error" and p.code in (
                         "raw-html", "template", "unsafe-resource", "missing-image")
                         for p in report.problems)]
            # Named topics: just those; the whole library: its booklets too.
            _render_problems(library, clean, loaded_clinics, papers, variants, today, report,
                             booklets=not topics, annotate_to=annotate_to, workers=workers,
                             progress=progress, languages=languages)
        report.problems = _dedupe([p.as_error() if strict else p for p in report.problems])
        return report


def _editions(library: Library, slug: str, clinics: list[ClinicProfile],
              report: CheckReport) -> list[Topic]:
    """The topic in each edition the clinics read (its own if there are no clinics), with
    `language` set to the edition's; stale derived editions are reported."""
    terms = load_terms(library)
    read = sorted({c.clinic.language for c in clinics}) or [None]
    derived = [lang for lang in editions(library, slug) if lang not in read]
    found = []
    for language in read + derived:
        try:
            topic, edition = load_edition(library, slug, language, terms)
        except HandoutsError as error:
            report.problems.extend(error.problems)
            continue
        report.problems.extend(edition_problems([edition]))
        for profile in clinics:   # a clinic's own terms, in the languages it prints
            if edition.language == profile.clinic.language or \
                    edition.language in profile.clinic.messages:
                report.problems.extend(override_gaps(edition, profile.clinic.terms,
                                                     profile.folder / "clinic.toml"))
        if language in derived:   # no clinic reads it: its state and reading level
            text = render_body(topic, None, library.dirs("content")).text
            report.problems.extend(reading_problems(topic, text))
            report.problems.extend(_claim_problems(topic, text))
            continue
        found.append(topic.model_copy(update={"meta": topic.meta.model_copy(
            update={"language": edition.language})}))
    return found


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, unique = set(), []
    for problem in problems:
        key = (str(problem.file), problem.line, problem.field, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def relative(path: Path | str | None, library: Library) -> str | None:
    """A path relative to the library root, for shorter reports."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(library.root)) if library.root else str(path)
    except ValueError:
        return str(path)
