"""Serve: the print desk's work without the web: what is fit to hand out, documents made
in worker processes, page images, and the record of what was handed out.

`web.py` puts a Desk on HTTP. Every document comes from `pipeline.produce` in a pool of
worker processes, each with one warm WeasyPrint and its own per-render time limit
(SIGALRM works there: a worker runs its jobs on its main thread). A document someone
is waiting for goes ahead of thumbnails and page counts, and those never take the
last free worker, so one nurse's download waits behind no one's booklet. A document
whose inputs are unchanged is answered in the server itself, from memory or the
output cache, at the cost of hashing its inputs. Every parameter is a slug checked
against the library: no path from a request reaches the disk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from .batch import fork_server, worker_init, worker_tools
from .errors import HandoutsError, Problem, UsageError
from .library import Library
from .models import PAPERS, VARIANTS
from .pipeline import Job, check_choice

log = logging.getLogger(__name__)

# What the language picker calls each edition, in its own language.
LANGUAGE_NAMES = {
    "en": "English", "en-GB": "English (UK)", "en-US": "English (US)", "es": "Español",
    "zh-Hans": "中文（简体）", "ar": "العربية", "fr": "Français", "de": "Deutsch",
    "pl": "Polski", "pt": "Português", "it": "Italiano", "ur": "اردو", "bn": "বাংলা",
    "pa": "ਪੰਜਾਬੀ", "so": "Soomaali", "vi": "Tiếng Việt", "ko": "한국어", "ru": "Русский",
}
RECYCLE_AFTER = 50     # documents per worker before it is replaced: memory stays flat
MEMORY_ENTRIES = 200   # documents kept in the server's memory (oldest dropped first)
PAGE_WIDTH, THUMB_WIDTH = 840, 360


def language_name(code: str) -> str:
    """The name of an edition's language as its readers write it."""
    return LANGUAGE_NAMES.get(code, code)


# --- worker processes -------------------------------------------------------------------


def make_document(job: Job, root: str | None) -> dict:
    """Make one document in a worker: its bytes, pages, resolved job and inputs, or the
    problems that stopped it (exceptions with arguments do not cross processes)."""
    from .pipeline import produce  # noqa: PLC0415

    _test_hold(job)
    library, renderer = worker_tools(root)
    try:
        output = produce(job, library, renderer)
    except HandoutsError as error:
        return {"problems": error.problems, "usage": isinstance(error, UsageError)}
    return {"job": output.job, "pdf": output.pdf, "pages": output.pages,
            "inputs": output.inputs}


def page_images(pdf: bytes, first: int, last: int, width: int) -> list[bytes]:
    """PNGs of pages `first`..`last` at most `width` pixels wide (in a worker)."""
    from .images import pdf_to_pngs  # noqa: PLC0415

    return pdf_to_pngs(pdf, dpi=150, first=first, last=last, max_width=width)


def _test_hold(job: Job) -> None:
    """HANDOUTS_TEST_HOLD_BOOKLET=MARKER: while the file MARKER exists and names this
    booklet, the booklet waits before it is made, having created MARKER.started;
    removing MARKER lets it go. A test asks for other documents while a booklet is
    certainly under way, with no timing involved."""
    marker = os.environ.get("HANDOUTS_TEST_HOLD_BOOKLET")
    if not marker or job.kind != "booklet":
        return
    try:
        if Path(marker).read_text().strip() != job.booklet:
            return
    except OSError:
        return
    Path(marker + ".started").write_text(str(os.getpid()))   # the worker's, for the test
    while Path(marker).exists():
        time.sleep(0.05)


class Workers:
    """A pool of worker processes fed by the server's event loop, one task per free
    worker: waited-for work first, background work on at most all workers but one."""

    def __init__(self, count: int, time_limit: float | None):
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        # forkserver: workers start clean (not a copy of a threaded server) and
        # max_tasks_per_child works; the fork server imports WeasyPrint once, and its
        # workers ignore Ctrl-C from the start (the desk decides).
        context = fork_server()
        self.count = count
        self.new_pool = lambda: ProcessPoolExecutor(
            count, mp_context=context, initializer=worker_init, initargs=(time_limit, os.getpid()),
            max_tasks_per_child=RECYCLE_AFTER)
        self.pool = self.new_pool()
        self.queues: dict[bool, deque] = {False: deque(), True: deque()}
        self.busy = {False: 0, True: 0}   # running tasks, by background or not

    async def run(self, function, *args, background: bool = False, first: bool = False,
                  ticket: dict | None = None):
        """The result of function(*args) in a worker process; `first` puts it at the head
        of its queue (a page image: short, and it finishes what someone sees). `ticket`
        (a dict) gets what `promote` needs to move it ahead of the background queue."""
        done = asyncio.get_running_loop().create_future()
        item = (done, function, args)
        if first:
            self.queues[background].appendleft(item)
        else:
            self.queues[background].append(item)
        if ticket is not None:
            ticket.update(item=item, background=background)
        self._dispatch()
        return await done

    def promote(self, ticket: dict) -> None:
        """Someone now waits for background work: it goes ahead if it has not started."""
        item = ticket.get("item")
        if ticket.get("background") and item in self.queues[True]:
            self.queues[True].remove(item)
            self.queues[False].append(item)
            ticket["background"] = False
            self._dispatch()

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while sum(self.busy.values()) < self.count:
            if self.queues[False]:
                background = False
            elif self.queues[True] and self.busy[True] < max(1, self.count - 1):
                background = True
            else:
                return
            done, function, args = self.queues[background].popleft()
            if done.cancelled():
                continue
            self.busy[background] += 1
            pool = self.pool
            future = pool.submit(function, *args)
            future.add_done_callback(lambda f, d=done, b=background, p=pool:
                                     loop.call_soon_threadsafe(self._finished, f, d, b, p))

    def _finished(self, future, done, background: bool, pool) -> None:
        from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

        self.busy[background] -= 1
        error = None if future.cancelled() else future.exception()
        if isinstance(error, BrokenProcessPool) and pool is self.pool:
            # A worker died (killed, out of memory, a crash in a C library): the pool
            # is broken, so the requests under way fail; the desk goes on with a new one.
            log.error("a worker process died (%s); starting new workers", error)
            broken, self.pool = self.pool, self.new_pool()
            broken.shutdown(wait=False, cancel_futures=True)
        if done.cancelled():
            pass
        elif future.cancelled():
            done.cancel()
        elif isinstance(error, BrokenProcessPool):
            done.set_exception(HandoutsError(
                "the worker process making this document stopped (killed, or out of "
                "memory)", code="render", hint="ask again; if it happens every time, "
                "run `handouts build` with -v for the same document"))
        elif error is not None:
            done.set_exception(error)
        else:
            done.set_result(future.result())
        self._dispatch()

    def close(self) -> None:
        """Stop the workers (a document under way is abandoned)."""
        self.pool.shutdown(wait=True, cancel_futures=True)


# --- what is fit to hand out ------------------------------------------------------------

@dataclass
class Offer:
    """One leaflet or booklet on the desk for the chosen clinic, paper and variant."""

    kind: str                  # "leaflet" or "booklet"
    slug: str
    title: str
    summary: str
    query: dict                # the parameters of its /pdf URL
    language: str = ""         # the edition offered
    version: str = ""
    budget: int | None = None
    languages: list[str] = field(default_factory=list)   # fit editions, for the picker
    topics: int = 0            # a booklet's


@dataclass
class Desk:
    """What the print desk offers and serves: a library, worker processes, caches and
    the audit log. Opened afresh per request, so new topics and clinics appear at once."""

    library_path: Path | None
    workers: Workers | None = None
    default_clinic: str | None = None
    audit_log: Path | None = None
    memory: OrderedDict = field(default_factory=OrderedDict)   # Job -> Rendered
    making: dict = field(default_factory=dict)                  # Job -> Future
    lock: threading.Lock = field(default_factory=threading.Lock)

    def library(self) -> Library:
        """The library as it is now."""
        return Library.open(self.library_path)

    def audit_path(self) -> Path:
        """Where the audit log goes: --audit-log, else output/print-desk-log.jsonl."""
        return self.audit_log or self.library().output / "print-desk-log.jsonl"

    # --- requests -> jobs

    def job(self, query: dict, library: Library | None = None) -> Job:
        """The Job a request's parameters ask for; UsageError for an unknown name."""
        library = library or self.library()
        booklet = query.get("booklet")
        name = booklet or query.get("topic") or ""
        if booklet:
            library.booklet_path(name)
        else:
            library.topic_path(name)
        clinic = self.clinic(query.get("clinic"), library)
        paper = query.get("paper") or None
        if paper:
            check_choice(paper, PAPERS, "paper size")
        variant = check_choice(query.get("variant") or "standard", VARIANTS, "variant")
        lang = query.get("lang") or None
        if lang and lang == self._clinic_language(library, clinic):
            lang = None   # the clinic's own edition: the name the CLI gives it
        if booklet:
            return Job("booklet", clinic, (), paper, variant, booklet=name, lang=lang)
        return Job("leaflet", clinic, (name,), paper, variant, lang=lang)

    def clinic(self, slug: str | None, library: Library) -> str:
        """The clinic asked for (checked), else the desk's default, else the first."""
        if slug:
            library.clinic_folder(slug)
            return slug
        clinics = library.clinics()
        if self.default_clinic in clinics:
            return self.default_clinic
        if not clinics:
            raise UsageError("the library has no clinic profile",
                             hint="add one with `handouts new clinic SLUG`")
        return next(iter(clinics))

    def _clinic_language(self, library: Library, clinic: str) -> str | None:
        from .load import load_clinic  # noqa: PLC0415

        try:
            return load_clinic(library.clinic_folder(clinic), library).clinic.language
        except HandoutsError:
            return None

    def title(self, job: Job) -> str:
        """A document's title for the preview's heading (its slug if it does not load)."""
        from .editions import load_edition  # noqa: PLC0415
        from .pipeline import booklet_spec  # noqa: PLC0415

        library = self.library()
        try:
            if job.kind == "booklet":
                return booklet_spec(job, library).title
            language = job.lang or self._clinic_language(library, job.clinic)
            return load_edition(library, job.topics[0], language)[0].meta.title
        except HandoutsError:
            return job.slug

    # --- the desk's contents

    def offers(self, query: dict, today: dt.date | None = None) -> dict:
        """Everything the desk page shows for its choices: clinics, paper, languages,
        the fit leaflets and booklets, and the problems of files that do not load."""
        library = self.library()
        with library.listed_once():   # every topic's editions are looked up
            return self._offers(library, query, today)

    def _offers(self, library: Library, query: dict, today: dt.date | None) -> dict:
        from .editions import load_terms  # noqa: PLC0415
        from .load import load_clinic  # noqa: PLC0415

        clinics, problems = _clinic_names(library)
        asked = query.get("clinic")
        clinic = asked if asked in clinics else (
            self.default_clinic if self.default_clinic in clinics else next(iter(clinics), None))
        if clinic is None:
            return {"clinic": None, "clinics": clinics, "problems": problems}
        profile = load_clinic(library.clinic_folder(clinic), library)
        paper = query.get("paper") if query.get("paper") in PAPERS else ""
        large = query.get("variant") == "large" or query.get("large")   # large=1: old URLs
        variant = "large" if large else "standard"
        lang = query.get("lang") or ""
        try:
            terms = load_terms(library)
        except HandoutsError as error:
            problems.extend(error.problems)
            terms = {}
        fits = _fit_topics(library, profile, terms, today or dt.date.today(), problems)
        chosen = lang or profile.clinic.language
        leaflets = [Offer("leaflet", slug, topic.meta.title, topic.meta.summary,
                          self._query("topic", slug, clinic, paper, variant, lang), chosen,
                          topic.meta.version,
                          topic.meta.budget(paper or profile.clinic.paper, variant), list(fit))
                    for slug, fit in fits.items() if (topic := fit.get(chosen))]
        booklets = [Offer("booklet", slug, spec.title, spec.audience,
                          self._query("booklet", slug, clinic, paper, variant, lang), chosen,
                          topics=len(spec.topics))
                    for slug, spec in _booklets(library, problems).items()
                    if all(chosen in fits.get(topic, ()) for topic in spec.topics)]
        return {"clinics": clinics, "clinic": clinic, "paper": paper,
                "clinic_paper": profile.clinic.paper, "variant": variant, "lang": lang,
                "clinic_language": profile.clinic.language,
                "languages": sorted({lang for fit in fits.values() for lang in fit} |
                                    {profile.clinic.language}),
                "leaflets": leaflets, "booklets": booklets, "problems": problems,
                "hidden": len(fits) - len(leaflets) + len(library.booklets()) - len(booklets)}

    @staticmethod
    def _query(kind, slug, clinic, paper, variant, lang) -> dict:
        query = {kind: slug, "clinic": clinic}
        query |= {"paper": paper} if paper else {}
        query |= {"variant": variant}
        return query | ({"lang": lang} if lang else {})

    def refuse_unfit(self, job: Job, today: dt.date | None = None) -> None:
        """A HandoutsError saying why, if `job` is not fit to hand out."""
        from .editions import load_edition, load_terms  # noqa: PLC0415
        from .load import load_clinic  # noqa: PLC0415
        from .pipeline import booklet_spec  # noqa: PLC0415

        library = self.library()
        profile = load_clinic(library.clinic_folder(job.clinic), library)
        language = job.lang or profile.clinic.language
        topics = booklet_spec(job, library).topics if job.kind == "booklet" else job.topics
        terms = load_terms(library)
        for slug in topics:
            topic, edition = load_edition(library, slug, language, terms)
            reasons = unfit_reasons(topic, edition, profile, today or dt.date.today())
            if reasons:
                raise HandoutsError(problems=[
                    replace(p, message=f"not offered at the print desk: {p.message}")
                    for p in reasons])

    # --- documents

    async def document(self, job: Job, background: bool = False):
        """(Rendered, True if it was not made now) for `job`; HandoutsError for bad input.

        Everyone asking for the same document waits for one render; when the last of
        them gives up (a page closed before its thumbnails came), work not yet started
        is dropped. Background work someone then waits for goes ahead."""
        found = await asyncio.to_thread(self._known, job)
        if found is not None:
            return found, True
        entry = self.making.get(job)
        if entry is None:
            ticket: dict = {}
            task = asyncio.ensure_future(self._make(job, background, ticket))
            entry = self.making[job] = {"task": task, "ticket": ticket, "waiting": 0}
            task.add_done_callback(lambda _, e=entry: self.making.get(job) is e and
                                   self.making.pop(job))
        elif not background:
            self.workers.promote(entry["ticket"])
        entry["waiting"] += 1
        try:
            return await asyncio.shield(entry["task"]), False
        finally:
            entry["waiting"] -= 1
            if entry["waiting"] == 0 and not entry["task"].done():
                entry["task"].cancel()

    async def _make(self, job: Job, background: bool, ticket: dict) -> Rendered:
        result = await self.workers.run(make_document, job, self._root(),
                                        background=background, ticket=ticket)
        if "problems" in result:
            error = UsageError if result["usage"] else HandoutsError
            raise error(problems=result["problems"])
        return self._keep(job, Rendered(result["job"], result["pdf"], result["pages"],
                                        result["inputs"]))

    def _root(self) -> str | None:
        root = self.library().root
        return str(root) if root else None

    def _known(self, job: Job):
        """The document from memory or the output cache, if its inputs are unchanged."""
        from .pipeline import cached, unchanged  # noqa: PLC0415

        with self.lock:
            known = self.memory.get(job)
        if known is not None and unchanged(job, known.inputs):
            return known
        output = cached(job, self.library())
        if output is None:
            return None
        return self._keep(job, Rendered(output.job, output.pdf, output.pages, output.inputs))

    def _keep(self, job: Job, rendered: Rendered) -> Rendered:
        with self.lock:
            self.memory[job] = rendered
            self.memory.move_to_end(job)
            while len(self.memory) > MEMORY_ENTRIES:
                self.memory.popitem(last=False)
        return rendered

    async def page_png(self, rendered: Rendered, number: int, width: int,
                       background: bool = False) -> bytes:
        """Page `number` (1-based) as a PNG, made in a worker once and kept."""
        key = (number, width)
        if key not in rendered.pngs:
            [png] = await self.workers.run(page_images, rendered.pdf, number, number, width,
                                           background=background, first=True)
            rendered.pngs[key] = png
        return rendered.pngs[key]

    def by_token(self, token: str) -> Rendered | None:
        """A document in memory by its token (page images of a preview)."""
        with self.lock:
            return next((r for r in self.memory.values() if r.token == token), None)

    # --- the record of what was handed out

    def record(self, asked: Job, rendered: Rendered, cached: bool) -> dict:
        """Append one JSON line about a PDF just served to the audit log; returns it."""
        from .editions import load_edition  # noqa: PLC0415
        from .load import load_clinic  # noqa: PLC0415
        from .pipeline import booklet_spec  # noqa: PLC0415

        library = self.library()
        made = rendered.job
        language = made.lang or load_clinic(library.clinic_folder(made.clinic),
                                            library).clinic.language
        slugs = booklet_spec(made, library).topics if made.kind == "booklet" else made.topics
        topics = []
        for slug in slugs:
            topic, edition = load_edition(library, slug, language)
            topics.append({"topic": slug, "version": topic.meta.version,
                           "edition": edition.language})
        entry = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 "kind": made.kind, "booklet": made.booklet, "topics": topics,
                 "language": language, "clinic": made.clinic, "paper": made.paper,
                 "variant": made.variant, "file": rendered.filename,
                 "pages": rendered.pages, "sha256": rendered.sha256,
                 "cached": cached}
        append_line(self.audit_path(), json.dumps(entry, ensure_ascii=False))
        return entry


@dataclass
class Rendered:
    """A document the desk made or found: bytes, pages, what it read, page images."""

    job: Job                     # as made: paper resolved, kind "card" for a card
    pdf: bytes
    pages: int
    inputs: dict
    pngs: dict = field(default_factory=dict)   # (page, width) -> PNG
    texts: list[str] | None = None

    @property
    def sha256(self) -> str:
        """Hex digest of the PDF."""
        import hashlib  # noqa: PLC0415

        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def token(self) -> str:
        """Changes whenever the PDF does (the preview redraws on a new token)."""
        return self.sha256[:24]

    @property
    def filename(self) -> str:
        """The file name the CLI gives it (Job.outputs): topic, paper, variant, edition."""
        return Path(self.job.outputs()[0]).name

    def page_texts(self) -> list[str]:
        """The text of each page (alt text for page images), read once."""
        if self.texts is None:
            from io import BytesIO  # noqa: PLC0415

            from pypdf import PdfReader  # noqa: PLC0415

            self.texts = [" ".join((page.extract_text() or "").split())
                          for page in PdfReader(BytesIO(self.pdf)).pages]
        return self.texts


def _clinic_names(library: Library) -> tuple[dict[str, str], list[Problem]]:
    """Each clinic's name by slug, and the problems of profiles that do not load."""
    from .load import load_clinic  # noqa: PLC0415

    names, problems = {}, []
    for slug, folder in library.clinics().items():
        try:
            names[slug] = load_clinic(folder, library).clinic.name
        except HandoutsError as error:
            problems.extend(error.problems)
    return names, problems


def _fit_topics(library: Library, profile, terms: dict, today: dt.date,
                problems: list[Problem]) -> dict[str, dict]:
    """Each topic that loads, with its editions fit to hand out at a clinic; a topic
    that does not load adds its problems (the desk reports them and serves the rest)."""
    fits = {}
    for slug in library.topics():
        try:
            fits[slug] = fit_editions(library, slug, profile, terms, today)
        except HandoutsError as error:
            problems.extend(error.problems)
    return fits


def _booklets(library: Library, problems: list[Problem]) -> dict:
    """Each declared booklet that loads, by name."""
    from .load import load_booklet  # noqa: PLC0415

    specs = {}
    for slug, path in library.booklets().items():
        try:
            specs[slug] = load_booklet(path)
        except HandoutsError as error:
            problems.extend(error.problems)
    return specs


def fit_editions(library: Library, slug: str, profile, terms: dict,
                 today: dt.date) -> dict:
    """The editions of a topic fit to hand out at a clinic: language -> Topic."""
    from .editions import languages, load_edition  # noqa: PLC0415

    topic, _ = load_edition(library, slug, None, terms)
    fit = {}
    for language in languages(library, topic, terms):
        try:
            found, edition = load_edition(library, slug, language, terms)
        except HandoutsError:
            continue   # an edition that does not load is check's to report
        if not unfit_reasons(found, edition, profile, today):
            fit[language] = found
    return fit


def unfit_reasons(topic, edition, profile, today: dt.date) -> list[Problem]:
    """Why one edition of a topic is not fit to hand out at a clinic (none: it is):
    the scaffold's text still in it, a translation nobody has reviewed, an edition
    behind its source, a term the clinic rewords (a local fever threshold) but not in
    this edition's language, or a review overdue at a clinic that refuses those. The same
    judgements check and build make (check.placeholder_problems, pipeline.governance,
    pipeline.edition_problems)."""
    from .check import placeholder_problems  # noqa: PLC0415
    from .pipeline import edition_problems, governance  # noqa: PLC0415

    reasons = placeholder_problems(topic) + edition_problems([edition], profile)
    try:
        governance(topic, profile, today)
    except HandoutsError as error:
        reasons += error.problems
    return reasons


def append_line(path: Path, line: str) -> None:
    """Append one line to a log in a single write: lines from many requests (or several
    desks sharing the file) never interleave, and nothing is rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.replace("\n", " ") + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                 0o640)
    try:
        written = os.write(fd, data)
        if written != len(data):   # a full disk: say so rather than leave half a line
            raise OSError(f"could not write the audit log {path}: disk full?")
    finally:
        os.close(fd)
