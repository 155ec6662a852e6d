"""Shared fixtures: the shipped library, a warm renderer, and PDF readers (poppler, qpdf)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from handouts.library import Library

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CLINICS = ["riverside-oncology", "lakeside-spine"]
# The full tier: CI (or HANDOUTS_FULL_TESTS=1) also renders the whole shipped library
# on every paper (`handouts check`) and every language (test_language_matrix); a plain
# `make test` renders each clinic's own papers and checks the rest without layout.
FULL = bool(os.environ.get("CI") or os.environ.get("HANDOUTS_FULL_TESTS") == "1"
            or os.environ.get("HANDOUTS_FULL_MATRIX") == "1")
full_tier = pytest.mark.skipif(not FULL, reason="the full tier runs in CI, or with "
                                                "HANDOUTS_FULL_TESTS=1 make test")
TOPICS = ["bone-metastases", "bone-protecting-injections", "injection-care-checklist",
          "vertebroplasty-kyphoplasty"]


def pytest_configure(config):
    """Every cache the suite fills (and every handouts it starts) uses one temporary root,
    never the user's ~/.cache/handouts (test_cli checks). The xdist workers inherit the
    controller's, so a document one worker made is reused by the others while its
    inputs are unchanged, as it would be for a user."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["HANDOUTS_CACHE"] = tempfile.mkdtemp(prefix="handouts-test-cache-")


def pytest_unconfigure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(os.environ.get("HANDOUTS_CACHE", ""), ignore_errors=True)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """Calling it points the caches at a new empty folder: the next build really renders."""
    count = [0]

    def fresh():
        count[0] += 1
        monkeypatch.setenv("HANDOUTS_CACHE", str(tmp_path / f"fresh-cache-{count[0]}"))

    return fresh


@pytest.fixture(scope="session")
def library() -> Library:
    """The handout library shipped in this repository."""
    return Library(ROOT)


@pytest.fixture(scope="session")
def renderer(library):
    """One warm renderer for the whole session, as batch workers use it."""
    from handouts.render import Renderer

    return Renderer(library.asset_roots())


def leaflet_html(library, renderer, paper: str) -> str:
    """A two-column leaflet's composed HTML, as one standalone document: what the
    tests that compare a patch with WeasyPrint's own code render both ways."""
    from handouts.compose import standalone_html
    from handouts.pipeline import Job, produce

    job = Job("leaflet", "riverside-oncology", ("bone-protecting-injections",), paper)
    return standalone_html(produce(job, library, renderer, reuse=False).composed)


def count_calls(monkeypatch, owner, name: str) -> list[int]:
    """Replace `owner.name` (for the test) with a wrapper counting its calls; the count
    is the returned list's one item, which a test may reset."""
    count = [0]
    function = getattr(owner, name)

    def counting(*args, **kwargs):
        count[0] += 1
        return function(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return count


def handouts(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`handouts ARGS` run in this process as `python -m handouts` runs it (cli.main: its
    exit code, stdout and stderr), for tests where a new process is not the point: the
    warm WeasyPrint and fonts of this worker are reused."""
    from contextlib import chdir

    from click.testing import CliRunner

    from handouts.cli import main

    with CliRunner().isolation() as (out, err, _), chdir(cwd):
        code = main(list(args))
        return subprocess.CompletedProcess(["handouts", *args], code,
                                           out.getvalue().decode(), err.getvalue().decode())


def killed_at_write(args: list[str], write: int, marker: Path, **popen) -> None:
    """Start `args` (a handouts command), hold it at its `write`th PDF write, between the
    temporary file and the rename (finish.write_atomic's HANDOUTS_TEST_HOLD hook, which
    creates `marker` there), and kill it at that point, not wherever a sleep lands."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "HANDOUTS_TEST_HOLD": f"{write}:{marker}"},
                               **popen)
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), f"{' '.join(args[2:])} never reached PDF write {write}"
    process.send_signal(signal.SIGKILL)
    process.wait()


def run(*args: str, check: bool = True) -> str:
    """Run a command and return its stdout."""
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout


def pdftext(path: Path, first: int | None = None, last: int | None = None) -> str:
    """Text of a PDF (poppler's pdftotext, reading order)."""
    args = ["pdftotext", "-layout"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return run(*args, str(path), "-")


def pdfinfo(path: Path) -> dict[str, str]:
    """pdfinfo's fields as a dict."""
    out = run("pdfinfo", str(path))
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in
                                                  out.splitlines()) if v}


def pdffonts(path: Path) -> list[dict[str, str]]:
    """One dict per font: name, type, emb (yes/no)."""
    lines = run("pdffonts", str(path)).splitlines()[2:]
    fonts = []
    for line in lines:
        parts = line.split()
        # name type [type2] encoding emb sub uni object ID
        fonts.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4]})
    return fonts


def half_texts(path, page: int) -> tuple[str, str]:
    """Text on the left and right half of one imposed sheet side."""
    from pypdf import PdfReader

    width, height = (float(x) for x in PdfReader(path).pages[page - 1].mediabox[2:])
    halves = []
    for x in (0, int(width / 2)):
        halves.append(subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-x", str(x), "-y", "0",
             "-W", str(int(width / 2)), "-H", str(int(height)), str(path), "-"],
            capture_output=True, text=True, check=True).stdout)
    return halves[0], halves[1]



def qpdf_check(path: Path) -> subprocess.CompletedProcess:
    """`qpdf --check` on a PDF."""
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)


@pytest.fixture
def make_library(tmp_path):
    """A scratch library: bundled clinics copied in, topics written by the test."""

    def make(topics: dict[str, str] | None = None, clinics: list[str] = ("riverside-oncology",)):
        root = tmp_path / "lib"
        (root / "content" / "images").mkdir(parents=True, exist_ok=True)
        (root / "clinics").mkdir(exist_ok=True)
        for slug in clinics:
            if not (root / "clinics" / slug).exists():
                shutil.copytree(ROOT / "clinics" / slug, root / "clinics" / slug)
        for slug, text in (topics or {}).items():
            (root / "content" / f"{slug}.md").write_text(textwrap.dedent(text).lstrip())
        return Library(root)

    return make


FRONT = """\
---
title: {title}
summary: A short test topic.
main_message: This is the main message.
pages: {pages}
version: "1.0"
last_reviewed: 2026-11-01
next_review: 2029-11-01
owner: Test nurse
reviewer: Test doctor
urgent:
  signs:
    - A test warning sign
sources:
  - publisher: Test publisher
    title: Test source
---
"""


def topic_text(body: str, title: str = "Test topic", pages: int = 2) -> str:
    """A valid topic file with `body` after the front matter."""
    return FRONT.format(title=title, pages=pages) + "\n" + textwrap.dedent(body)
