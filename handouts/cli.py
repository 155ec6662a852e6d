"""Command line: parse options, call one library function, report. The only click user."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from . import __version__
from .errors import EXIT_INTERNAL, EXIT_PROBLEMS, EXIT_USAGE, HandoutsError, Problem, UsageError

EXIT_CODES = """\b
Exit codes:
  0  success
  1  problems in the inputs, or a build failed
  2  usage error (unknown topic, clinic, paper or option)
  3  internal error (run with -v for the traceback)
  130 interrupted"""

PAPER_CHOICE = click.Choice(["a4", "letter", "a5", "half-letter"], case_sensitive=False)


def _print_options(bleed, marks, pdfa):
    from .build import PrintOptions, parse_bleed  # noqa: PLC0415

    return PrintOptions(bleed_mm=parse_bleed(bleed), marks=marks, pdfa=pdfa)


def _output_flags(function):
    """--png and --open, shared by build and booklet."""
    function = click.option("--open", "open_", is_flag=True,
                            help="Open the result in the system's PDF viewer.")(function)
    function = click.option("--png", is_flag=True, help="Also write PNG images of the "
                            "pages beside the PDF (NAME-1.png, ...).")(function)
    return function


def _after(result, png: bool, open_: bool, quiet: bool = False) -> None:
    if png and not result.sheets:
        from .images import write_pngs  # noqa: PLC0415

        paths = write_pngs(result.path)
        if not quiet:
            click.echo(f"wrote {len(paths)} page image{'s' if len(paths) != 1 else ''}: "
                       f"{', '.join(_show(p) for p in paths)}")
    if open_:
        code = click.launch(str(result.path))
        if code:
            log.warning("could not open %s (no PDF viewer?): open it yourself",
                        _show(result.path))
        elif not quiet:
            click.echo(f"opened {_show(result.path)} in the PDF viewer")


LANG_OPTION = click.option(
    "--lang", metavar="LANGUAGE", help="The edition to print, e.g. en-US or es (default: the "
    "clinic's language); the output name carries it.")


def _print_flags(function):
    """--bleed, --marks, --pdfa and --lang, shared by build and booklet."""
    function = LANG_OPTION(function)
    function = click.option("--pdfa", is_flag=True, help="PDF/A-2a (tagged) for archiving "
                            "instead of PDF/UA-1.")(function)
    function = click.option("--marks", is_flag=True, help="Crop marks, for a print shop.")(function)
    function = click.option("--bleed", metavar="SIZE", help="Bleed for a print shop, "
                            "e.g. 3mm: edge-to-edge colour extends past the trim.")(function)
    return function
log = logging.getLogger("handouts")


def _style(text: str, **styles) -> str:
    """click.style, or the plain text when NO_COLOR is set (https://no-color.org)."""
    return text if os.environ.get("NO_COLOR") else click.style(text, **styles)


@dataclass
class State:
    """Options shared by every command."""

    library_path: Path | None
    verbose: int
    quiet: bool

    def library(self):
        """The handout library these options point at."""
        from .library import Library  # noqa: PLC0415

        return Library.open(self.library_path)


class _Handler(logging.Handler):
    """Log records as `warning: ...` lines on stderr, coloured on a terminal."""

    colours = {logging.WARNING: "yellow", logging.ERROR: "red"}

    def emit(self, record):
        level = record.levelname.lower()
        prefix = _style(f"{level}:", fg=self.colours.get(record.levelno), bold=True)
        click.echo(f"{prefix} {record.getMessage()}", err=True)


def _setup_logging(verbose: int, quiet: bool) -> None:
    root = logging.getLogger("handouts")
    root.handlers[:] = [_Handler()]
    root.propagate = False
    root.setLevel(logging.ERROR if quiet else logging.DEBUG if verbose > 1 else
                  logging.INFO if verbose else logging.WARNING)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        label = "warning" if problem.severity == "warning" else "error"
        colour = "yellow" if label == "warning" else "red"
        click.echo(f"{_style(label + ':', fg=colour, bold=True)} {problem}", err=True)


def _fail(error: HandoutsError) -> int:
    _report(error.problems)
    return error.exit_code


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="handouts")
@click.option("--library", "library_path", type=click.Path(file_okay=False, path_type=Path),
              envvar="HANDOUTS_LIBRARY", help="Handout library folder (default: the one "
              "around the current folder, else the bundled defaults).")
@click.option("-v", "--verbose", count=True, help="More detail; -vv for debugging.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--time-limit", type=click.FloatRange(min=0.01), metavar="SECONDS",
              envvar="HANDOUTS_TIME_LIMIT", help="Longest a document may take to render "
              "before it is stopped as an error (default: 60).")
@click.pass_context
def cli(ctx, library_path, verbose, quiet, time_limit):
    """Branded, printable patient leaflets and booklets from markdown topics."""
    _setup_logging(verbose, quiet)
    if time_limit:   # read by every renderer, batch workers included
        os.environ["HANDOUTS_TIME_LIMIT"] = f"{time_limit:g}"
    ctx.obj = State(library_path, verbose, quiet)


def _pick_clinic(state: State, clinic: str | None) -> str:
    if clinic:
        return clinic
    clinics = state.library().clinics()
    if len(clinics) == 1:
        return next(iter(clinics))
    raise UsageError("choose a clinic with --clinic SLUG (or set HANDOUTS_CLINIC)\n"
                     f"  clinics available: {', '.join(clinics) or 'none'}")


@cli.command()
@click.argument("topics", nargs=-1)
@click.option("--all", "all_topics", is_flag=True, help="Build every topic in the library.")
@click.option("--clinic", "-c", envvar="HANDOUTS_CLINIC", help="Clinic profile slug.")
@click.option("--paper", "-p", type=PAPER_CHOICE, help="Paper size (default: the clinic's).")
@click.option("--large-print", is_flag=True, help="Large print: body text 16 pt, reflowed.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: output/ in the library).")
@click.option("--strict", is_flag=True, help="Treat warnings (overdue review, a refused "
              "resource, a missing glyph) as errors.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@_print_flags
@_output_flags
@click.pass_obj
def build(state, topics, all_topics, clinic, paper, large_print, out, strict, as_json,
          bleed, marks, pdfa, lang, png, open_):
    """Build one PDF leaflet per TOPIC for one clinic.

    Output: OUT/CLINIC/TOPIC-PAPER.pdf (TOPIC-PAPER-large.pdf for large print).
    """
    from .build import build as run  # noqa: PLC0415

    def show(result):
        _report(result.warnings)
        if not as_json and not state.quiet:
            unit = "sheet side" if result.sheets else "page"
            click.echo(f"wrote {_show(result.path)} ({result.pages} "
                       f"{unit}{'s' if result.pages != 1 else ''})")
        _after(result, png, open_, state.quiet)

    if all_topics:
        topics = tuple(state.library().topics())
    elif not topics:
        raise click.UsageError("name at least one TOPIC, or use --all (see `handouts list`)")
    results = run(list(topics), _pick_clinic(state, clinic), paper=paper and paper.lower(),
                  variant="large" if large_print else "standard", out=out,
                  library=state.library(), strict=strict, on_result=show,
                  options=_print_options(bleed, marks, pdfa), lang=lang)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    return 0


@cli.command()
@click.argument("topics", nargs=-1)
@click.option("--name", "-n", help="A booklet declared in the library (booklets/NAME.toml).")
@click.option("--title", "-t", help="Booklet title (for a booklet of the TOPICS given).")
@click.option("--audience", help="The line under the title saying who it is for.")
@click.option("--clinic", "-c", envvar="HANDOUTS_CLINIC", help="Clinic profile slug.")
@click.option("--paper", "-p", type=PAPER_CHOICE, help="Page size (default: the clinic's).")
@click.option("--large-print", is_flag=True, help="Large print: body text 16 pt, reflowed.")
@click.option("--impose", type=click.Choice(["booklet"]), help="Also write saddle-stitch "
              "sheets (A5 on A4, half-letter on Letter) for a duplex office printer.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: output/ in the library).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--list", "list_booklets", is_flag=True, help="List the declared booklets.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@_print_flags
@_output_flags
@click.pass_obj
def booklet(state, topics, name, title, audience, clinic, paper, large_print, impose, out,
            strict, list_booklets, as_json, bleed, marks, pdfa, lang, png, open_):
    """Build a booklet: cover, contents, each topic on a right-hand page, back cover.

    Either --name NAME (declared in booklets/NAME.toml) or TOPIC... --title "...".
    Output: OUT/CLINIC/booklet-NAME-PAPER.pdf, and ...-imposed.pdf with --impose.
    Print imposed sheets duplex, flipping on the short edge; fold and staple.
    """
    if list_booklets:
        from .load import load_booklet  # noqa: PLC0415

        library = state.library()
        rows = []
        for slug, path in library.booklets().items():
            spec = load_booklet(path)
            rows.append({"slug": slug, "title": spec.title, "topics": " ".join(spec.topics)})
        _table(rows, [("slug", "BOOKLET"), ("title", "TITLE"), ("topics", "TOPICS")])
        return 0
    from .build import build_booklet  # noqa: PLC0415

    results = build_booklet(list(topics), _pick_clinic(state, clinic), name=name, title=title,
                            audience=audience, paper=paper and paper.lower(),
                            variant="large" if large_print else "standard", out=out,
                            library=state.library(), impose=bool(impose), strict=strict,
                            options=_print_options(bleed, marks, pdfa), lang=lang)
    for result in results:
        _report(result.warnings)
        if not as_json and not state.quiet:
            click.echo(f"wrote {_show(result.path)} ({result.pages} "
                       f"{'sheet sides' if result.sheets else 'pages'})")
        _after(result, png, open_ and result is results[0], state.quiet)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    return 0


@cli.command()
@click.argument("manifest", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes "
              "(default: the number of cores).")
@click.option("--shard", metavar="I/N", help="Build only the I-th of N stable shards.")
@click.option("--force", is_flag=True, help="Rebuild even what is up to date.")
@click.option("--dry-run", is_flag=True, help="Show what would be built; build nothing.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: the manifest's `output`).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@LANG_OPTION
@click.pass_obj
def batch(state, manifest, jobs, shard, force, dry_run, out, as_json, lang):
    """Build everything a manifest asks for, in parallel, skipping what is up to date.

    MANIFEST defaults to handouts.toml in the library. Exit code 1 if any job failed.
    """
    from .batch import run_batch  # noqa: PLC0415 - keep start-up lean

    progress = _Progress(enabled=not state.quiet, as_json=as_json)
    summary = run_batch(state.library(), manifest, jobs=jobs, shard_spec=shard, force=force,
                        dry_run=dry_run, out=out, on_result=progress.update,
                        on_plan=progress.start, lang=lang)
    progress.finish()
    counts = summary.counts()
    if as_json:
        click.echo(json.dumps({"jobs": [r.as_dict() for r in summary.results],
                               "counts": counts, "output": str(summary.out),
                               "ok": not summary.failed}, indent=2))
    elif not state.quiet:
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no jobs"
        if counts.get("built", 0) == 0 and not summary.failed and not dry_run:
            parts += " (nothing to build)"
        click.echo(f"{summary.total_jobs} jobs: {parts}; output in {_show(summary.out)}")
    for failed in summary.failed:
        click.echo(f"{_style('failed:', fg='red', bold=True)} {failed.job}: "
                   f"{failed.error}", err=True)
    return EXIT_PROBLEMS if summary.failed else 0


@cli.command()
@click.argument("topics", nargs=-1)
@click.option("--clinic", "-c", "clinics", multiple=True, help="Check against this clinic "
              "only (repeatable; default: every clinic).")
@click.option("--strict", is_flag=True, help="Warnings (an overdue review) fail the check.")
@click.option("--grade", type=click.FloatRange(1, 20), default=8.0, show_default=True,
              help="Highest acceptable Flesch-Kincaid reading grade.")
@click.option("--no-render", is_flag=True, help="Skip the checks that lay documents out "
              "(page budgets, text size, preflight): much faster.")
@click.option("--paper", "-p", "papers", multiple=True, type=PAPER_CHOICE,
              help="Paper sizes for the page-budget check (default: all of them).")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option("--annotate", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write page images with each layout defect outlined and labelled.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for documents not laid out before (default: one per "
                   "core).")
@click.pass_obj
@click.option("--lang", "languages", multiple=True, metavar="LANG",
              help="Also lay out the topics' editions in this language (repeatable; "
                   "'all' for every translation), for every clinic, paper and variant.")
def check(state, topics, clinics, strict, grade, no_render, papers, as_json, annotate, jobs,
          languages):
    """Check the library is fit to print; report every problem with file, line and fix.

    Checks front matter and clinic profiles, reading level, risk words against their
    numbers, survival figures, urgent signs sent to the daytime number, review dates,
    alt text, colour contrast, damaged pictures, page budgets and preflight for every
    topic x clinic x paper (this lays documents out on worker processes, --jobs, and
    writes no PDF), clinic fields and internal links.
    Exit codes: 0 clean, 1 problems found, 2 usage error.
    """
    from .check import check_library, relative  # noqa: PLC0415
    from .models import PAPERS  # noqa: PLC0415

    library = state.library()
    for slug in topics:
        library.topic_path(slug)       # unknown names are usage errors (exit 2)
    for slug in clinics:
        library.clinic_folder(slug)
    if languages and "all" not in languages:
        from .editions import editions  # noqa: PLC0415
        known = {language for slug in library.topics() for language in editions(library, slug)}
        for language in languages:
            if language not in known:
                raise UsageError(f"no topic has an edition in {language!r}",
                                 hint="translations are: " + (", ".join(sorted(known))
                                                              or "none yet") + "; or 'all'")
    progress = None
    if not no_render and not as_json and not state.quiet:
        click.echo("checking (laying out every topic x clinic x paper x variant, and the "
                   "booklets)...", err=True)
        progress = _CheckProgress() if sys.stderr.isatty() else None
    report = check_library(library, list(topics) or None, list(clinics) or None,
                           strict=strict, grade=grade, render=not no_render,
                           papers=tuple(p.lower() for p in papers) or PAPERS,
                           annotate_to=annotate, workers=jobs, progress=progress,
                           languages=tuple(languages))
    if progress:
        progress.finish()
    failing = report.errors(strict)
    if as_json:
        data = report.as_dict()
        for item in data["problems"]:
            item["file"] = relative(item["file"], library)
        data["ok"] = not failing
        click.echo(json.dumps(data, indent=2))
    else:
        _report(report.problems)
        if not state.quiet:
            errors = len(report.errors())
            warnings = len(report.problems) - errors
            verdict = _style("fit to print", fg="green", bold=True) if not failing \
                else _style("not fit to print", fg="red", bold=True)
            counts = ", ".join(_count(n, word) for n, word in (
                (report.topics, "topic"), (report.clinics, "clinic"),
                (report.renders, "render")))
            click.echo(f"{counts}: {_count(errors, 'error')}, "
                       f"{_count(warnings, 'warning')}: {verdict}")
    return EXIT_PROBLEMS if failing else 0


@cli.command()
@click.option("--clinic", "-c", envvar="HANDOUTS_CLINIC", help="Clinic shown first.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on: 0.0.0.0 for the intranet (every address), "
                   "with --allow-host for the names nurses type.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="A host name the desk answers to besides loopback (repeatable), e.g. "
                   "print-desk.clinic.example; any other Host header is refused.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Worker processes that make documents (each keeps one WeasyPrint "
                   "warm; about 120 MB each).")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON-lines record of every PDF handed out (default: "
                   "output/print-desk-log.jsonl in the library).")
@click.pass_obj
def serve(state, clinic, port, host, allow_hosts, workers, audit_log):
    """The print desk and live preview in the browser.

    The print desk lists every topic and booklet fit to hand out, with a thumbnail,
    and returns the PDF for the chosen clinic, paper, print size and language. The
    preview (/preview?topic=SLUG) shows a document's pages and refreshes itself when
    a topic, template, style or clinic file changes. Only reads: GET and HEAD.
    To share it on the intranet, see docs/print-desk.md.
    """
    from .web import LOOPBACK, run  # noqa: PLC0415 - the web framework only for serve

    if host not in LOOPBACK:
        log.warning("listening on %s: anyone who can reach this address can use the desk "
                    "(answering to: %s)", host, ", ".join((*LOOPBACK, *allow_hosts)))

    def ready(url, desk):
        click.echo(f"handouts print desk at {url} with {workers} worker"
                   f"{'s' if workers != 1 else ''}; handed-out PDFs are logged to "
                   f"{_show(desk.audit_path())} (press Ctrl+C to stop)", err=True)

    run(state.library_path, host=host, port=port, clinic=clinic, workers=workers,
        allow_hosts=allow_hosts, audit_log=audit_log, ready=ready)
    return 0


@cli.group()
def new():
    """Scaffold a topic or a clinic profile that builds at once."""


@new.command(name="topic")
@click.argument("slug")
@click.option("--title", help="The topic's title (default: from the SLUG).")
@click.pass_obj
def new_topic(state, slug, title):
    """Write content/SLUG.md: a documented topic to edit."""
    from .scaffold import new_topic as scaffold  # noqa: PLC0415

    path = scaffold(state.library(), slug, title)
    click.echo(f"wrote {_show(path)}; build it with: handouts build {slug} --clinic CLINIC")
    return 0


@new.command(name="clinic")
@click.argument("slug")
@click.option("--name", help="The clinic's full name (default: from the SLUG).")
@click.option("--country", default="GB", show_default=True, help="Two-letter country code "
              "(sets the emergency number, paper size and language).")
@click.pass_obj
def new_clinic(state, slug, name, country):
    """Write clinics/SLUG/clinic.toml and a placeholder logo."""
    from .scaffold import new_clinic as scaffold  # noqa: PLC0415

    path = scaffold(state.library(), slug, name, country)
    click.echo(f"wrote {_show(path)} and a placeholder logo.svg; edit both, then run "
               f"`handouts check --clinic {slug}`")
    return 0


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--with-templates", is_flag=True, help="Also copy the templates and styles "
              "to customise them (by default they come from the package).")
def init(directory, with_templates):
    """Start a handout library in DIRECTORY from the bundled defaults."""
    from .scaffold import init_library  # noqa: PLC0415

    for path in init_library(directory, with_templates):
        click.echo(f"created {_show(path)}")
    click.echo(f"next: cd {directory} && handouts list && handouts clinics")
    return 0


@cli.group()
def cache():
    """Show or clear the caches that make repeated commands fast.

    handouts keeps small derived files under $HANDOUTS_CACHE (default
    ~/.cache/handouts): which spacing step fitted each leaflet, the rows of
    `handouts list` and QR-code images. They only save time; clearing them never
    changes a PDF.
    """


@cache.command(name="info")
def cache_info():
    """Print where the caches are and how much they hold."""
    from . import cache as caches  # noqa: PLC0415

    click.echo(f"cache: {caches.root()}")
    for kind in caches.KINDS:
        files = caches.entries((kind,))
        size = sum(p.stat().st_size for p in files)
        click.echo(f"  {kind:<7} {len(files):>6} files {size / 1024:>9.1f} KiB")
    return 0


@cache.command(name="clear")
@click.option("--older-than", type=click.FloatRange(min=0), metavar="DAYS",
              help="Only entries written more than DAYS days ago (for a nightly job).")
def cache_clear(older_than):
    """Delete the cached entries (all, or only old ones)."""
    from . import cache as caches  # noqa: PLC0415

    files, size = caches.clear(older_than)
    click.echo(f"removed {files} cache files ({size / 1024:.1f} KiB) from {caches.root()}")
    return 0


class _Progress:
    """A progress bar on a terminal, plain lines otherwise (both on stderr)."""

    def __init__(self, enabled: bool, as_json: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.done = self.total = 0
        self.as_json = as_json

    def start(self, total: int, pending: int) -> None:
        self.total = total
        if self.enabled and not self.tty:
            click.echo(f"{total} jobs, {pending} to build", err=True)

    def update(self, result) -> None:
        self.done += 1
        if not self.enabled or (result.status == "up-to-date" and not self.tty):
            return
        if self.tty:
            width = 30
            filled = int(width * self.done / max(1, self.total))
            bar = "#" * filled + "-" * (width - filled)
            click.echo(f"\r[{bar}] {self.done}/{self.total} {result.job[:40]:<40}", err=True,
                       nl=False)
        else:
            click.echo(f"[{self.done}/{self.total}] {result.status} {result.job}"
                       f"{f' ({result.seconds:.1f}s)' if result.seconds else ''}", err=True)

    def finish(self) -> None:
        if self.enabled and self.tty and self.total:
            click.echo("", err=True)


class _CheckProgress:
    """check's progress bar, on a terminal only: documents laid out or taken from the cache."""

    def __init__(self):
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        filled = int(30 * done / max(1, total))
        click.echo(f"\r[{'#' * filled}{'-' * (30 - filled)}] {done}/{total} documents",
                   err=True, nl=False)

    def finish(self) -> None:
        if self.total:
            click.echo("", err=True)


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_topics(state, as_json):
    """List topics with version, review dates, page budget, reading level and checks.

    CHECKS counts the problems `handouts check` finds in the topic itself (without
    rendering); `--json` lists them.
    """
    from .inventory import topic_rows  # noqa: PLC0415

    rows, problems = topic_rows(state.library())
    if as_json:
        click.echo(json.dumps({"topics": rows, "problems": [p.as_dict() for p in problems]},
                              indent=2))
    else:
        _table(rows, [("slug", "TOPIC"), ("title", "TITLE"), ("version", "VER"),
                      ("last_reviewed", "REVIEWED"), ("next_review", "NEXT REVIEW"),
                      ("pages", "PAGES"), ("grade", "GRADE"), ("smog", "SMOG"),
                      ("editions", "EDITIONS"), ("edition_levels", "EDITIONS' READING"),
                      ("checks", "CHECKS")])
        _report(problems)
    return EXIT_PROBLEMS if problems else 0


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def clinics(state, as_json):
    """List clinic profiles."""
    from .inventory import clinic_rows  # noqa: PLC0415

    rows, problems = clinic_rows(state.library())
    if as_json:
        click.echo(json.dumps({"clinics": rows, "problems": [p.as_dict() for p in problems]},
                              indent=2))
    else:
        _table(rows, [("slug", "CLINIC"), ("name", "NAME"), ("paper", "PAPER"),
                      ("phone", "PHONE"), ("urgent_phone", "URGENT"), ("folder", "FOLDER")])
        _report(problems)
    return EXIT_PROBLEMS if problems else 0


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[str(row.get(key, "") if row.get(key) is not None else "-") for key, _ in columns]
             for row in rows]
    widths = [max(len(head), *(len(c[i]) for c in cells)) for i, (_, head) in
              enumerate(columns)]
    head = "  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)).rstrip()
    click.echo(_style(head, bold=True))
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def run() -> None:
    """The `handouts` command (and `python -m handouts`): main(), then the exit.

    The objects a command made (laid-out pages, fonts, WeasyPrint's modules) are frozen
    first, so the interpreter's last garbage collection at exit does not walk them all
    only to end the process: 0.05-0.1 s of a one-leaflet build."""
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see EXIT_CODES)."""
    try:
        code = cli.main(args=argv, prog_name="handouts", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except HandoutsError as error:
        if logging.getLogger("handouts").level <= logging.DEBUG:
            import traceback  # noqa: PLC0415
            traceback.print_exc()
        return _fail(error)
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE if error.exit_code == 2 else error.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:   # last resort: never a bare traceback
        if "-v" in (argv or sys.argv) or "--verbose" in (argv or sys.argv) or \
                any(a.startswith("-vv") for a in (argv or sys.argv)):
            raise
        click.echo(f"internal error: {type(error).__name__}: {error}\n"
                   "  this is a bug in handouts; run again with -v for details and "
                   "report it", err=True)
        return EXIT_INTERNAL
