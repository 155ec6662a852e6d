"""Batch: many clinics x topics x papers x variants from a manifest, in parallel.

Jobs come from a TOML manifest (`handouts.toml`). Each job's inputs are hashed
(topic, clinic profile, logo, stylesheet, images, templates, styles, versions,
options); a job whose inputs match its last successful build is skipped. Workers
are separate processes that import WeasyPrint once and keep one Renderer, and are
recycled after a number of documents so memory stays flat. A failed job fails
alone. The output folder gets `build-manifest.json`: every output with its sha256
and its inputs' hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints

from . import __version__
from .errors import HandoutsError, Problem, UsageError, ValidationError
from .finish import clean_stale_parts, write_atomic
from .library import KINDS, Library
from .models import PAPER_SIZES, Clinic, Paper, Strict, Variant
from .pipeline import Job, card_papers, produce, unchanged
from .record import memo_sha256

STATE_NAME = "build-manifest.json"
RECYCLE_AFTER = 50  # documents per worker before it is replaced

Slug = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z0-9][a-z0-9-]*)$")]
# An edition's language (`--lang`); one the clinic speaks already ("en" for an en-US
# clinic) is the clinic's own edition, named without a suffix.
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
# "clinic": each clinic's own paper size (`paper` in its clinic.toml).
ManifestPaper = Literal[(*get_args(Paper), "clinic")]


class ClinicRule(Strict):
    """Per-clinic exceptions to the manifest's defaults."""

    topics: list[Slug] | None = None
    exclude: list[Slug] = []
    papers: list[ManifestPaper] | None = None
    variants: list[Variant] | None = None
    languages: list[Language] | None = None
    skip: bool = False


class BookletJob(Strict):
    """A declared booklet to build for some clinics."""

    name: Slug
    clinics: list[Slug] = ["*"]
    papers: list[ManifestPaper] | None = None
    variants: list[Variant] = ["standard"]
    languages: list[Language] | None = None
    impose: bool = False


class Manifest(Strict):
    """A batch manifest (`handouts.toml`)."""

    output: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "output"
    clinics: list[Slug] = ["*"]
    topics: list[Slug] = ["*"]
    papers: Annotated[list[ManifestPaper], Field(min_length=1)] = ["a4"]
    variants: Annotated[list[Variant], Field(min_length=1)] = ["standard"]
    # The editions to print, where a topic has them (default: each clinic's own).
    languages: Annotated[list[Language], Field(min_length=1)] | None = None
    clinic: dict[str, ClinicRule] = {}
    booklet: list[BookletJob] = []
    # Which kinds of file the bundled defaults supply; read (and checked) by Library.
    bundled: list[Literal[KINDS]] = list(KINDS)


@dataclass
class JobResult:
    """What happened to one job."""

    job: str
    status: str                           # built / up-to-date / failed / would-build
    outputs: list[dict] = field(default_factory=list)   # {path, sha256, pages}
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)   # as recorded by produce()

    def as_dict(self) -> dict:
        """JSON form for --json."""
        first = self.outputs[0] if self.outputs else {}
        return {"job": self.job, "status": self.status, "output": first.get("path"),
                "pages": first.get("pages"), "sha256": first.get("sha256"),
                "outputs": self.outputs, "seconds": round(self.seconds, 3),
                "error": self.error, "warnings": self.warnings}


# --- manifest -> jobs -------------------------------------------------------------------

def load_manifest(path: Path) -> Manifest:
    """Read and validate a batch manifest."""
    from .load import load_toml_model  # noqa: PLC0415

    return load_toml_model(path, Manifest)


def _expand(names: list[str], known: dict, kind: str, where: Path,
            problems: list[Problem]) -> list[str]:
    if "*" in names:
        return list(known)
    for name in names:
        if name not in known:
            problems.append(Problem(f"unknown {kind} {name!r}", file=where, code="unknown",
                                    hint=f"{kind}s available: {', '.join(known)}"))
    return [n for n in names if n in known]


def _clinic_field(folder: Path, name: str) -> str:
    """A field of a clinic profile, unchecked (checked when its jobs load the profile)."""
    import tomllib  # noqa: PLC0415

    from .load import MAX_PROFILE_BYTES, read_file  # noqa: PLC0415

    default = Clinic.model_fields[name].default
    try:   # read as every profile is: a regular file in its folder, bounded
        text = read_file(folder / "clinic.toml", MAX_PROFILE_BYTES, [folder]).decode("utf-8")
        value = tomllib.loads(text).get(name, default)
    except (HandoutsError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError,
            RecursionError):
        return default  # the job fails on the profile itself, with the real error
    return value if isinstance(value, str) else default


def _clinic_paper(folder: Path) -> str:
    """The paper size a clinic profile names (checked when its jobs load the profile)."""
    paper = _clinic_field(folder, "paper")
    return paper if paper in get_args(Paper) else Clinic.model_fields["paper"].default


def _primary(language: str) -> str:
    return language.split("-")[0].lower()


def _languages(wanted: list[str] | None, folder: Path) -> list[str | None]:
    """The job languages for a clinic: None for its own edition (and for a language it
    speaks already), each other language as given."""
    if not wanted:
        return [None]
    own = _primary(_clinic_field(folder, "language"))
    return list(dict.fromkeys(None if _primary(lang) == own else lang for lang in wanted))


def _booklet_topics(path: Path) -> list[str]:
    from .load import load_booklet  # noqa: PLC0415

    try:
        return load_booklet(path).topics
    except HandoutsError:
        return []   # the job fails on the booklet itself, with the real error


def _has_edition(library: Library, slug: str, language: str | None,
                 memo: dict[str, set[str]]) -> bool:
    """True when topic `slug` can be printed in `language` (its own, a region of it
    through terms, or a derived edition file)."""
    if language is None:
        return True
    if slug not in memo:
        from .editions import editions, topic_language  # noqa: PLC0415
        from .load import load_topic  # noqa: PLC0415

        try:
            own = _primary(topic_language(load_topic(library.topic_path(slug))))
        except HandoutsError:
            own = ""   # a broken topic fails its own jobs
        memo[slug] = set(editions(library, slug)) | {own}
    return language in memo[slug] or _primary(language) in memo[slug]


def _is_card(library: Library, slug: str, memo: dict[str, bool]) -> bool:
    """Whether topic `slug` is a wallet card (its front matter's layout)."""
    if slug not in memo:
        from .load import load_topic  # noqa: PLC0415

        try:
            memo[slug] = load_topic(library.topic_path(slug)).meta.layout == "card"
        except HandoutsError:
            memo[slug] = False   # a broken topic fails its own jobs
    return memo[slug]


def _papers(papers: list[str], folder: Path, memo: dict[Path, str]) -> list[str]:
    if "clinic" in papers and folder not in memo:
        memo[folder] = _clinic_paper(folder)
    return list(dict.fromkeys(memo[folder] if p == "clinic" else p for p in papers))


def plan(library: Library, manifest: Manifest, where: Path) -> list[Job]:
    """Every job the manifest asks for, sorted by id; unknown names are errors."""
    problems: list[Problem] = []
    topics, clinics, booklets = library.topics(), library.clinics(), library.booklets()
    for slug in manifest.clinic:
        if slug not in clinics:
            problems.append(Problem(f"exception for unknown clinic {slug!r}", file=where,
                                    field=f"clinic.{slug}", code="unknown",
                                    hint=f"remove [clinic.{slug}] or fix the name (clinics "
                                         f"available: {', '.join(clinics)})"))
    jobs: set[Job] = set()
    own_paper: dict[Path, str] = {}
    known: dict[str, set[str]] = {}   # topic -> the languages it can be printed in
    cards: dict[str, bool] = {}       # topic -> whether it is a wallet card
    for clinic in _expand(manifest.clinics, clinics, "clinic", where, problems):
        rule = manifest.clinic.get(clinic, ClinicRule())
        if rule.skip:
            continue
        chosen = _expand(rule.topics or manifest.topics, topics, "topic", where, problems)
        languages = _languages(rule.languages or manifest.languages, clinics[clinic])
        for topic in chosen:
            if topic in rule.exclude:
                continue
            papers = _papers(rule.papers or manifest.papers, clinics[clinic], own_paper)
            variants = rule.variants or manifest.variants
            if _is_card(library, topic, cards):
                # One card, on A4 or Letter sheets: an A5 or large-print job would make
                # the very same files (and warn that a card has one size).
                papers = card_papers(papers)
                variants = ["standard"]
            for paper in papers:
                for variant in variants:
                    if variant == "large" and not PAPER_SIZES[paper].large_print:
                        continue   # large print is A4 and Letter only (pipeline says why)
                    for lang in languages:   # a topic not translated into one: skipped
                        if _has_edition(library, topic, lang, known):
                            jobs.add(Job("leaflet", clinic, (topic,), paper, variant,
                                         lang=lang))
    for entry in manifest.booklet:
        if entry.name not in booklets:
            problems.append(Problem(f"unknown booklet {entry.name!r}", file=where,
                                    field="booklet", code="unknown",
                                    hint=f"booklets available: {', '.join(booklets)}"))
            continue
        for clinic in _expand(entry.clinics, clinics, "clinic", where, problems):
            papers = _papers(entry.papers or manifest.papers, clinics[clinic], own_paper)
            rule = manifest.clinic.get(clinic, ClinicRule())
            languages = _languages(entry.languages or rule.languages or manifest.languages,
                                   clinics[clinic])
            for paper in papers:
                for variant in entry.variants:
                    if variant == "large" and not PAPER_SIZES[paper].large_print:
                        continue
                    for lang in languages:   # every topic must have that edition
                        if all(_has_edition(library, t, lang, known)
                               for t in _booklet_topics(booklets[entry.name])):
                            jobs.add(Job("booklet", clinic, (), paper, variant,
                                         booklet=entry.name, impose=entry.impose, lang=lang))
    if problems:
        raise ValidationError(problems=problems)
    return sorted(jobs, key=lambda j: j.id)


def shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """The stable `index`-th of `count` shards (1-based), by a hash of each job id.

    A hash (not a position) keeps a job in the same shard when others are added.
    """
    if not 1 <= index <= count:
        raise UsageError(f"shard {index}/{count} is out of range", hint="use I/N with 1 <= I <= N")
    return [j for j in jobs if int(hashlib.sha1(j.id.encode()).hexdigest(), 16) % count
            == index - 1]


def parse_shard(value: str | None) -> tuple[int, int]:
    """'2/5' -> (2, 5)."""
    if not value:
        return 1, 1
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not match or int(match.group(2)) < 1:
        raise UsageError(f"--shard {value!r} is not I/N", hint="e.g. --shard 2/5")
    return int(match.group(1)), int(match.group(2))


# --- running ----------------------------------------------------------------------------

_WORKER: dict = {}


def worker_init(time_limit: float | None | str, parent: int | None = None) -> None:
    """Set up a worker process (batch, check or the print desk): one warm Renderer, and,
    with the `parent` pid, Ctrl-C left to the parent and an exit when it is gone."""
    from .render import Renderer  # noqa: PLC0415

    _WORKER["renderer"] = Renderer(time_limit=time_limit)
    if parent is not None:
        # Ctrl-C reaches the whole process group: the batch decides, and a worker
        # finishes the job it has (the batch records it) rather than dying mid-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _exit_with(parent)
    _WORKER["libraries"] = {}


def _exit_with(parent: int) -> None:
    """End this worker when the batch that started it is gone (even after kill -9), so no
    worker, forkserver or resource tracker is left holding the caller's pipes."""

    def watch():
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="handouts-parent-watch", daemon=True).start()


def worker_tools(root: str | None):
    """This process's warm Renderer and its Library for `root` (made on first use)."""
    if "renderer" not in _WORKER:
        worker_init("default")
    library = _WORKER["libraries"].setdefault(root, Library(Path(root) if root else None))
    return library, _WORKER["renderer"]


def run_job(job: Job, root: str | None, out: str, reuse: bool = True) -> JobResult:
    """Make one job and write its files (in a worker process, or in-process for --jobs 1)."""
    from .build import write_output  # noqa: PLC0415

    started = time.perf_counter()
    library, renderer = worker_tools(root)
    try:
        output = produce(job, library, renderer, reuse=reuse)
        results = write_output(output, Path(out), started)
    except HandoutsError as error:
        return JobResult(job.id, "failed", seconds=time.perf_counter() - started,
                         error="; ".join(str(p) for p in error.problems))
    except Exception as error:   # one broken job must not stop the batch
        return JobResult(job.id, "failed", seconds=time.perf_counter() - started,
                         error=f"internal error: {type(error).__name__}: {error}")
    return JobResult(job.id, "built", seconds=time.perf_counter() - started,
                     outputs=[{"path": str(r.path), "sha256": r.sha256, "pages": r.pages}
                              for r in results],
                     warnings=[str(w) for r in results for w in r.warnings],
                     inputs=output.inputs)


def make_in_workers(jobs: list[Job], library: Library, *, workers: int | None = None,
                    today=None, on_done=None, time_limit: float | None | str = "default",
                    write: bool = True) -> None:
    """Make `jobs` on worker processes into the output cache, for a caller (check) that
    then takes each Output from there (pipeline.cached) at the cost of hashes.
    `write=False`: lay them out and inspect them only, into verdicts (produce's).

    A job that fails is left out of the cache: the caller meets its error itself.
    `on_done(job)` is called in this process as each job ends.
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    root = str(library.root) if library.root else None
    if workers == 1:
        worker_init(time_limit)
        for job in jobs:
            _cache_job(job, root, today, write)
            if on_done:
                on_done(job)
        return

    def record(job: Job, _result) -> None:
        if on_done:
            on_done(job)

    _run_pool(jobs, workers, time_limit, record, task=_cache_job, args=(root, today, write))


def _cache_job(job: Job, root: str | None, today=None, write: bool = True) -> None:
    """Make one job into the output cache (a worker's half of make_in_workers)."""
    library, renderer = worker_tools(root)
    try:
        produce(job, library, renderer, today=today, write=write)
    except Exception:   # the caller makes it again and reports the error
        pass


def _read_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text())
        return state if isinstance(state, dict) and isinstance(state.get("jobs"), dict) \
            else {"jobs": {}}
    except (OSError, ValueError):
        return {"jobs": {}}


def _update_state(path: Path, job_id: str, entry: dict | None) -> None:
    """Set (or drop) one job's entry; a lock lets shards share an output folder.

    The file is rewritten after every job, so that a killed batch resumes where it
    stopped. Parsing it again and serialising every entry each time made a batch's
    bookkeeping grow with the square of its jobs (25 ms a job at 300 jobs, on the
    core the workers need): the state and each entry's text are kept from this
    process's last write, and parsed again only when the file no longer holds the
    bytes of that write (another shard wrote since). The bytes are
    json.dumps(state, indent=1, sort_keys=True)'s."""
    import fcntl  # noqa: PLC0415

    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = _WRITTEN.pop(path, None)
        if kept is None or _bytes_of(path) != kept[0]:
            kept = (None, _read_state(path), {})
        _, state, texts = kept
        if entry is None:
            state["jobs"].pop(job_id, None)
            texts.pop(job_id, None)
        else:
            state["jobs"][job_id] = entry
            texts[job_id] = _nested(entry, 2)
        state["handouts"] = __version__
        data = _serialised(state, texts).encode()
        write_atomic(path, data)
        _WRITTEN[path] = (data, state, texts)


# build-manifest.json as this process last wrote it: (its bytes, the state, each job's
# entry serialised), by path. Reading the file back to compare costs a fraction of
# parsing it.
_WRITTEN: dict[Path, tuple] = {}


def _bytes_of(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _nested(value, depth: int) -> str:
    """`value` as json.dumps(..., indent=1, sort_keys=True) writes it `depth` levels in."""
    return json.dumps(value, indent=1, sort_keys=True).replace("\n", "\n" + " " * depth)


def _serialised(state: dict, texts: dict[str, str]) -> str:
    """json.dumps(state, indent=1, sort_keys=True), each job's entry taken from `texts`
    (entries read from the file are serialised on first use)."""
    parts = []
    for key in sorted(state):
        if key == "jobs" and state["jobs"]:
            jobs = state["jobs"]
            lines = []
            for job_id in sorted(jobs):
                text = texts.get(job_id)
                if text is None:
                    text = texts[job_id] = _nested(jobs[job_id], 2)
                lines.append(f"  {json.dumps(job_id)}: {text}")
            value = "{\n" + ",\n".join(lines) + "\n }"
        else:
            value = _nested(state[key], 1)
        parts.append(f" {json.dumps(key)}: {value}")
    return "{\n" + ",\n".join(parts) + "\n}" if parts else "{}"


def _up_to_date(job: Job, entry: dict | None, out: Path) -> bool:
    """True when every input the job's last build read is unchanged (see
    pipeline.unchanged) and every output still has the bytes it was written with."""
    if not isinstance(entry, dict):
        return False
    outputs = entry.get("outputs")   # as written (a card topic's job writes its card files)
    if not isinstance(outputs, list) or not outputs or not all(
            isinstance(o, dict) and isinstance(o.get("file"), str) for o in outputs):
        return False
    return unchanged(job, entry.get("inputs")) and all(
        memo_sha256(str(out / o["file"])) == o.get("sha256") for o in outputs)


@dataclass
class BatchSummary:
    """The outcome of a batch run."""

    results: list[JobResult]
    out: Path
    total_jobs: int

    @property
    def failed(self) -> list[JobResult]:
        """Jobs that failed."""
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        """Jobs per status."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts


def run_batch(library: Library, manifest_path: Path | None = None, *, jobs: int | None = None,
              shard_spec: str | None = None, force: bool = False, dry_run: bool = False,
              out: Path | None = None, on_result=None, on_plan=None,
              time_limit: float | None | str = "default",
              lang: str | None = None) -> BatchSummary:
    """Run the manifest's jobs; returns every job's result (failures included).

    `time_limit`: seconds per document ("default": HANDOUTS_TIME_LIMIT, else 60).
    """
    manifest_path = manifest_path or library.manifest_path()
    if manifest_path is None:
        raise UsageError("no batch manifest: give a MANIFEST file or add handouts.toml to "
                         "the library", hint="see the README for the format")
    manifest = load_manifest(Path(manifest_path))
    all_jobs = plan(library, manifest, Path(manifest_path))
    if lang:   # --lang: every job in that edition
        all_jobs = [replace(job, lang=lang) for job in all_jobs]
    index, count = parse_shard(shard_spec)
    selected = shard(all_jobs, index, count)
    base = Path(manifest_path).resolve().parent
    out = Path(out) if out else (base / manifest.output)
    out.mkdir(parents=True, exist_ok=True)
    # Leftovers of killed builds; a concurrent shard's temporary files are kept.
    clean_stale_parts(out)
    state_path = out / STATE_NAME
    state = _read_state(state_path)
    pending, results = [], []
    for job in selected:
        entry = state["jobs"].get(job.id)
        if not force and _up_to_date(job, entry, out):
            results.append(JobResult(job.id, "up-to-date", outputs=[
                {"path": str(out / o["file"]), "sha256": o["sha256"], "pages": o.get("pages")}
                for o in entry["outputs"]]))
        else:
            pending.append(job)
    if on_plan:
        on_plan(len(selected), len(pending))
    for result in results:
        if on_result:
            on_result(result)
    if dry_run:
        results += [JobResult(job.id, "would-build") for job in pending]
        return BatchSummary(results, out, len(selected))

    def record(job: Job, result: JobResult) -> None:
        results.append(result)
        entry = None
        if result.status == "built":
            entry = {"inputs": result.inputs,
                     "outputs": [{"file": os.path.relpath(o["path"], out),
                                  "sha256": o["sha256"], "pages": o["pages"]}
                                 for o in result.outputs]}
        # Written after every job, so a killed batch resumes where it stopped.
        _update_state(state_path, job.id, entry)
        if on_result:
            on_result(result)

    root = str(library.root) if library.root else None
    workers = max(1, min(jobs or os.cpu_count() or 1, len(pending) or 1))
    if not pending:
        pass  # nothing to render: WeasyPrint is never imported
    elif workers == 1:
        worker_init(time_limit)
        for job in pending:
            record(job, run_job(job, root, str(out), not force))
    else:
        _run_pool(pending, workers, time_limit, record, args=(root, str(out), not force))
    return BatchSummary(results, out, len(selected))


# What the process workers are forked from imports once, so each starts warm.
PRELOAD = ["handouts.engine", "handouts.render", "handouts.pipeline"]


def start_workers_early() -> None:
    """Start the process workers are forked from now: it imports WeasyPrint on another
    core while this one still reads the library, and the first worker starts about
    0.4 s sooner. A caller that then makes nothing has cost another core that much."""
    fork_server()


def fork_server():
    """The forkserver context, its server started (once a process) with Ctrl-C ignored.

    Python leaves SIGINT ignored in a process that starts with it ignored, and the
    server hands its children the handler it started with. So every worker ignores
    Ctrl-C from its first instruction, not only once worker_init has run: a worker
    still starting when Ctrl-C reaches the process group used to die of it, which
    broke the pool and lost the results of jobs whose PDFs were already written.
    A Ctrl-C in the few milliseconds the server takes to start is not seen.
    """
    import multiprocessing  # noqa: PLC0415
    from multiprocessing import forkserver  # noqa: PLC0415

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    if threading.current_thread() is not threading.main_thread():
        return context   # signal.signal works on the main thread only
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None
                      else signal.default_int_handler)
    return context


def _run_pool(pending, workers, time_limit, record, task=None, args=()) -> None:
    """Run `task(job, *args)` (default: run_job) on worker processes, at most one queued
    per worker beyond those running; `record(job, result)` as each one ends.

    Handing out jobs a few at a time means that Ctrl-C stops the batch quickly: no
    more jobs start, the ones running finish and are recorded, then the interrupt
    goes on (the CLI exits 130). The first Ctrl-C only asks for that (on the main
    thread): raised at once, it could land inside `pool.submit` and lose a job that
    then ran and wrote its PDF unrecorded. A second Ctrl-C stops at once.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait  # noqa: PLC0415
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

    # forkserver: workers start clean (no parent state) and max_tasks_per_child works.
    # The server imports WeasyPrint once, so each (recycled) worker starts warm.
    context = fork_server()
    task = task or run_job
    queue = list(reversed(pending))
    running: dict = {}
    stop: list[int] = []
    previous = None

    def ask_to_stop(signum, frame):
        stop.append(signum)
        signal.signal(signal.SIGINT, previous)   # the next Ctrl-C raises at once

    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)
        if previous is None:   # set outside Python: keep Python's own on a second Ctrl-C
            previous = signal.default_int_handler
        signal.signal(signal.SIGINT, ask_to_stop)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=worker_init,
                               initargs=(time_limit, os.getpid()),
                               max_tasks_per_child=RECYCLE_AFTER)
    try:
        while queue or running:
            while queue and not stop and len(running) < 2 * workers:
                job = queue.pop()
                running[pool.submit(task, job, *args)] = job
            if stop:
                for future in [f for f in running if f.cancel()]:
                    del running[future]   # queued, not started: never runs
                if not running:
                    break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running[future]
                record(job, _result_of(future, job, BrokenProcessPool))
                del running[future]   # only once recorded: Ctrl-C may land in record()
        if stop:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        for future in running:
            future.cancel()   # queued, not started: never runs
        for future, job in running.items():
            if not future.cancelled():
                record(job, _result_of(future, job, BrokenProcessPool))
        raise
    finally:
        if previous is not None and signal.getsignal(signal.SIGINT) is ask_to_stop:
            signal.signal(signal.SIGINT, previous)
        pool.shutdown(wait=True, cancel_futures=True)


def _result_of(future, job: Job, broken) -> JobResult:
    try:
        return future.result()
    except broken as error:
        return JobResult(job.id, "failed", error=f"worker process died: {error}")
    except Exception as error:   # recorded as this job's failure; the rest go on
        return JobResult(job.id, "failed", error=f"{type(error).__name__}: {error}")
