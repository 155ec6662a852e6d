"""Batch builds: manifest, incremental by content hash, shards, isolation, resumable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handouts.batch import _update_state, load_manifest, plan, run_batch, shard
from handouts.errors import ValidationError
from handouts.library import Library
from tests.conftest import ROOT, handouts, killed_at_write, qpdf_check, topic_text

MANIFEST = """
output = "out"
clinics = ["*"]
topics = ["alpha", "beta"]
papers = ["a4", "letter"]

[clinic.lakeside-spine]
papers = ["letter"]
variants = ["standard", "large"]

[[booklet]]
name = "pack"
clinics = ["riverside-oncology"]
papers = ["a5"]
impose = true
"""

# Small topics keep the batch tests fast; alpha's picture is a reference-style image,
# which no guess from the text would find.
ALPHA = topic_text("""
    ## What is it?

    A short topic with a picture, called for by reference.

    ![A blue dot][dot]

    [dot]: images/dot.svg "A dot"
    """, title="Alpha", pages=1)
BETA = topic_text("""
    ## What should I do?

    - [ ] Drink water
    - [ ] Rest

    Next check date: ____
    """, title="Beta", pages=1).replace("pages: 1", "pages: 1\nlayout: checklist")
DOT = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
       '<circle cx="20" cy="20" r="16" fill="{}"/></svg>')


@pytest.fixture
def lib(tmp_path) -> Library:
    """A library with two clinics, two small topics, a booklet and a manifest."""
    return _library(tmp_path / "lib")


def _library(root: Path) -> Library:
    shutil.copytree(ROOT / "clinics", root / "clinics")
    (root / "content" / "images").mkdir(parents=True)
    (root / "content" / "alpha.md").write_text(ALPHA)
    (root / "content" / "beta.md").write_text(BETA)
    (root / "content" / "images" / "dot.svg").write_text(DOT.format("#004488"))
    (root / "booklets").mkdir()
    (root / "booklets" / "pack.toml").write_text(
        'title = "A small pack"\ntopics = ["alpha", "beta"]\n')
    (root / "handouts.toml").write_text(MANIFEST)
    return Library(root)


def _cli(lib, *args):
    """`handouts batch ARGS` as the command line runs it (in this process)."""
    return handouts("--library", str(lib.root), "batch", *args)


EXPECTED = {
    "lakeside-spine/alpha-letter",
    "lakeside-spine/alpha-letter-large",
    "lakeside-spine/beta-letter",
    "lakeside-spine/beta-letter-large",
    "riverside-oncology/alpha-a4",
    "riverside-oncology/alpha-letter",
    "riverside-oncology/beta-a4",
    "riverside-oncology/beta-letter",
    "riverside-oncology/booklet-pack-a5",
}
ALPHA_JOBS = {j for j in EXPECTED if "alpha" in j or "booklet" in j}
BETA_JOBS = {j for j in EXPECTED if "beta" in j or "booklet" in j}


def test_plan_defaults_exceptions_and_booklets(lib):
    jobs = plan(lib, load_manifest(lib.root / "handouts.toml"), lib.root / "handouts.toml")
    assert {j.id for j in jobs} == EXPECTED


def test_papers_clinic_means_each_clinics_own_paper(lib):
    path = lib.root / "handouts.toml"
    path.write_text('topics = ["beta"]\npapers = ["clinic", "a5"]\n'
                    '[clinic.riverside-oncology]\npapers = ["clinic"]\n')
    jobs = plan(lib, load_manifest(path), path)
    assert {j.id for j in jobs} == {
        "lakeside-spine/beta-letter",       # its clinic.toml: letter
        "lakeside-spine/beta-a5",
        "riverside-oncology/beta-a4",       # its clinic.toml: a4
    }
    path.write_text('bundled = ["templates", "styles", "clinics"]\n[clinic.nowhere]\n')
    with pytest.raises(ValidationError) as info:
        plan(lib, load_manifest(path), path)
    assert "remove [clinic.nowhere]" in info.value.problems[0].hint


def test_a_card_is_planned_once_per_sheet_paper(lib):
    """A wallet card has one size and prints on A4 or Letter sheets: an A5 or a large
    print job of it would write the A4 job's very files."""
    shutil.copy(ROOT / "content" / "jaw-reminder-card.md", lib.root / "content")
    path = lib.root / "handouts.toml"
    path.write_text('topics = ["jaw-reminder-card", "beta"]\npapers = ["a4", "a5"]\n'
                    'clinics = ["riverside-oncology"]\nvariants = ["standard", "large"]\n')
    assert {j.id for j in plan(lib, load_manifest(path), path)} == {
        "riverside-oncology/jaw-reminder-card-a4",
        "riverside-oncology/beta-a4", "riverside-oncology/beta-a4-large",
        "riverside-oncology/beta-a5"}


def test_manifest_is_validated_up_front(lib):
    path = lib.root / "handouts.toml"
    path.write_text(MANIFEST.replace('papers = ["a4", "letter"]', 'papers = ["a3"]')
                    .replace('"beta"]', '"no-such-topic"]'))
    with pytest.raises(ValidationError) as info:
        plan(lib, load_manifest(path), path)
    assert any(p.field == "papers.0" for p in info.value.problems)
    path.write_text(MANIFEST.replace('"beta"]', '"no-such-topic"]'))
    with pytest.raises(ValidationError, match="unknown topic 'no-such-topic'"):
        plan(lib, load_manifest(path), path)


def test_shards_partition_the_jobs(lib):
    jobs = plan(lib, load_manifest(lib.root / "handouts.toml"), lib.root / "handouts.toml")
    parts = [shard(jobs, i, 3) for i in (1, 2, 3)]
    ids = [j.id for part in parts for j in part]
    assert sorted(ids) == sorted(j.id for j in jobs) and len(ids) == len(set(ids))
    backwards = [j.id for j in shard(list(reversed(jobs)), 2, 3)]
    assert [j.id for j in shard(jobs, 2, 3)] == backwards[::-1]


def _built(summary) -> set[str]:
    assert not summary.failed, [r.error for r in summary.failed]
    return {r.job for r in summary.results if r.status == "built"}


def test_build_then_nothing_then_exactly_the_touched_topic(lib):
    first = run_batch(lib, jobs=2)
    assert {r.job for r in first.results} == EXPECTED == _built(first)
    out = lib.root / "out"
    manifest = json.loads((out / "build-manifest.json").read_text())
    assert set(manifest["jobs"]) == EXPECTED
    entry = manifest["jobs"]["riverside-oncology/booklet-pack-a5"]
    assert {o["file"] for o in entry["outputs"]} == {
        "riverside-oncology/booklet-pack-a5.pdf", "riverside-oncology/booklet-pack-a5-imposed.pdf"}
    assert str(lib.root / "content" / "beta.md") in entry["inputs"]

    second = run_batch(lib, jobs=2)
    assert {r.status for r in second.results} == {"up-to-date"}

    topic = lib.root / "content" / "beta.md"
    topic.write_text(topic.read_text().replace("Drink water", "Drink some water"))
    assert _built(run_batch(lib, jobs=1)) == BETA_JOBS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A function that gives the `lib` library as its first batch left it (every job
    built), always in the same folder: the batch is run once for the module, and its
    recorded inputs (absolute paths) hold for each copy put back there."""
    root = tmp_path_factory.mktemp("built") / "lib"
    lib = _library(root)
    assert _built(run_batch(lib, jobs=1)) == EXPECTED
    pristine = root.with_name("pristine")
    shutil.copytree(root, pristine, symlinks=True)

    def fresh() -> Library:
        shutil.rmtree(root)
        shutil.copytree(pristine, root, symlinks=True)   # copy2: times kept too
        return Library(root)

    return fresh


# Each case changes one input and must rebuild exactly the jobs that read it.
def _change_image(lib):
    (lib.root / "content" / "images" / "dot.svg").write_text(DOT.format("#884400"))
    return ALPHA_JOBS


def _override_with_image(lib):
    """A library template override that only checklists use, showing an image."""
    badge = lib.root / "content" / "images" / "badge.svg"
    badge.write_text(DOT.format("#117733"))
    (lib.root / "templates").mkdir()
    (lib.root / "templates" / "checklist.html.j2").write_text(
        '{% extends "!bundled/checklist.html.j2" %}{% block body %}'
        f'<img class="badge" src="{badge.as_uri()}" alt="">{{{{ super() }}}}{{% endblock %}}')
    return {j for j in EXPECTED if "beta" in j}   # booklets do not use the checklist page


def _change_override_image(lib):
    (lib.root / "content" / "images" / "badge.svg").write_text(DOT.format("#aa3377"))
    return {j for j in EXPECTED if "beta" in j}


def _edit_partial(lib):
    partials = lib.root / "templates" / "partials"
    partials.mkdir(parents=True)
    bundled = (ROOT / "templates" / "partials" / "urgent.html.j2").read_text()
    (partials / "urgent.html.j2").write_text(bundled.replace("</", "<!-- edited --></", 1))
    return EXPECTED


def _clinic_stylesheet(lib):
    (lib.root / "clinics" / "lakeside-spine" / "style.css").write_text("h2 { color: #222; }")
    return {j for j in EXPECTED if j.startswith("lakeside")}


def _delete_output(lib):
    (lib.root / "out" / "riverside-oncology" / "beta-a4.pdf").unlink()
    return {"riverside-oncology/beta-a4"}


def _edit_output(lib):
    sheets = lib.root / "out" / "riverside-oncology" / "booklet-pack-a5-imposed.pdf"
    sheets.write_bytes(sheets.read_bytes() + b"\n% edited by hand\n")
    return {"riverside-oncology/booklet-pack-a5"}


@pytest.mark.parametrize("change", [_change_image, _override_with_image, _edit_partial,
                                    _clinic_stylesheet, _delete_output, _edit_output],
                         ids=lambda f: f.__name__.strip("_"))
def test_each_changed_input_rebuilds_exactly_the_jobs_that_read_it(built, change):
    lib = built()
    assert _built(run_batch(lib, jobs=1, dry_run=True)) == set()
    expected = change(lib)
    assert _built(run_batch(lib, jobs=1)) == expected
    if change is _override_with_image:   # then an image only that override uses
        expected = _change_override_image(lib)
        assert _built(run_batch(lib, jobs=1)) == expected
    assert {r.status for r in run_batch(lib, jobs=1).results} == {"up-to-date"}


def test_timestamps_alone_do_not_rebuild(lib):
    run_batch(lib, jobs=1, shard_spec="1/3")
    for path in (lib.root / "content").glob("*.md"):
        os.utime(path, (time.time() + 100, time.time() + 100))
    again = run_batch(lib, jobs=1, shard_spec="1/3")
    assert {r.status for r in again.results} == {"up-to-date"}


def test_union_of_shards_is_the_full_build(lib, tmp_path):
    for index in (1, 2, 3):
        result = _cli(lib, "--shard", f"{index}/3", "--jobs", "1", "--json")
        assert result.returncode == 0, result.stderr
    built = {str(p.relative_to(lib.root / "out"))[:-4] for p in (lib.root / "out").rglob("*.pdf")}
    assert built == EXPECTED | {"riverside-oncology/booklet-pack-a5-imposed"}
    state = json.loads((lib.root / "out" / "build-manifest.json").read_text())
    assert set(state["jobs"]) == EXPECTED


def test_broken_topic_fails_its_jobs_only_and_json_matches_disk(lib):
    broken = lib.root / "content" / "alpha.md"
    broken.write_text(broken.read_text().replace("pages: 1", "pages: one"))
    result = _cli(lib, "--json", "--jobs", "2")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    by_job = {j["job"]: j for j in summary["jobs"]}
    assert set(by_job) == EXPECTED
    failed = {j for j, r in by_job.items() if r["status"] == "failed"}
    assert failed == ALPHA_JOBS
    for job in failed:
        assert "alpha.md" in by_job[job]["error"]
        assert "pages" in by_job[job]["error"]
    for entry in by_job.values():
        if entry["status"] == "built":
            path = Path(entry["output"])
            import hashlib
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert entry["pages"] >= 1
    assert "failed: " in result.stderr and "Traceback" not in result.stderr


def test_killed_batch_leaves_no_partial_pdf_and_resumes(lib, tmp_path):
    # The fourth PDF write stops between its temporary file and the rename.
    killed_at_write([sys.executable, "-m", "handouts", "--library", str(lib.root), "batch",
                     "--jobs", "1"], 4, tmp_path / "held")
    out = lib.root / "out"
    pdfs = list(out.rglob("*.pdf"))
    assert len(pdfs) == 3 and len(list(out.rglob("*.part"))) == 1
    for pdf in pdfs:
        assert qpdf_check(pdf).returncode == 0, pdf
    recorded = json.loads((out / "build-manifest.json").read_text())["jobs"]
    assert {f"{job}.pdf" for job in recorded} == {
        str(p.relative_to(out)) for p in pdfs}   # every finished job, and only those
    summary = run_batch(lib, jobs=1)
    assert {r.job for r in summary.results if r.status == "up-to-date"} == set(recorded)
    assert _built(summary) == EXPECTED - set(recorded)
    assert not list(out.rglob("*.part"))
    assert len(list(out.rglob("*.pdf"))) == len(EXPECTED) + 1


def test_state_updates_write_what_json_dumps_writes_and_keep_other_shards(tmp_path):
    # Each update writes the whole file (a killed batch resumes where it stopped),
    # from what this process wrote last unless another shard has written since.
    state = tmp_path / "build-manifest.json"
    entry = {"inputs": {"content/a.md": "ab" * 32}, "outputs": [
        {"file": "x/a-a4.pdf", "pages": 2, "sha256": "cd" * 32}]}
    _update_state(state, "x/a-a4", entry)
    _update_state(state, "x/b-a4", {**entry, "note": ["é", None, {}]})
    written = json.loads(state.read_text())
    assert state.read_text() == json.dumps(written, indent=1, sort_keys=True)
    # another shard: its own entry, its own write (a new file renamed into place)
    other = {**written, "jobs": {**written["jobs"], "y/c-letter": entry}}
    state.with_name("other").write_text(json.dumps(other, indent=1, sort_keys=True))
    os.replace(state.with_name("other"), state)
    _update_state(state, "x/a-a4", None)
    final = json.loads(state.read_text())
    assert set(final["jobs"]) == {"x/b-a4", "y/c-letter"}
    assert state.read_text() == json.dumps(final, indent=1, sort_keys=True)


def test_dry_run_builds_nothing(lib):
    result = _cli(lib, "--dry-run")
    assert result.returncode == 0 and "9 would-build" in result.stdout
    assert not list((lib.root / "out").rglob("*.pdf"))


def _start(lib, *args):
    return subprocess.Popen([sys.executable, "-m", "handouts", "--library", str(lib.root),
                             "batch", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def _until(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_ctrl_c_stops_handing_out_jobs_and_records_every_finished_one(lib):
    state = lib.root / "out" / "build-manifest.json"
    process = _start(lib, "--jobs", "2")
    assert _until(state.exists), "no job finished"
    os.killpg(process.pid, signal.SIGINT)   # as a terminal's Ctrl-C does
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    out = lib.root / "out"
    recorded = json.loads(state.read_text())["jobs"]
    on_disk = {str(p.relative_to(out))[:-4] for p in out.rglob("*.pdf")}
    assert {o["file"][:-4] for e in recorded.values() for o in e["outputs"]} == on_disk
    assert 0 < len(recorded) < len(EXPECTED)
    assert not list(out.rglob("*.part"))


def test_workers_end_when_the_batch_is_killed(lib):
    state = lib.root / "out" / "build-manifest.json"
    process = _start(lib, "--jobs", "2")
    assert _until(state.exists), "no job finished"
    process.kill()
    process.wait()
    process.stderr.close()

    def group_gone():
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    assert _until(group_gone, 20), "a worker, forkserver or tracker outlived the batch"


def test_workers_ignore_ctrl_c_from_their_first_instruction():
    """Before worker_init has run, too: the fork server starts with Ctrl-C ignored."""
    from concurrent.futures import ProcessPoolExecutor

    from handouts.batch import fork_server

    with ProcessPoolExecutor(1, mp_context=fork_server()) as pool:
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN


def _mark(job: str, folder: str) -> str:
    time.sleep(0.05)
    Path(folder, job).write_text("made")
    return job


def test_ctrl_c_in_the_batch_records_every_job_that_ran(tmp_path):
    """The first Ctrl-C only asks the pool to stop: every job that ran (here, one that
    wrote its mark) is recorded, none is lost inside a submit, then the interrupt goes
    on. In process, the Ctrl-C sent from the first record()."""
    import threading

    from handouts.batch import _run_pool

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C is handled on the main thread only")
    before = signal.getsignal(signal.SIGINT)
    recorded = []

    def record(job, result):
        if not recorded:
            os.kill(os.getpid(), signal.SIGINT)
        recorded.append(result)

    jobs = [f"job-{n:02d}" for n in range(40)]
    with pytest.raises(KeyboardInterrupt):
        _run_pool(jobs, 2, None, record, task=_mark, args=(str(tmp_path),))
    assert sorted(recorded) == sorted(p.name for p in tmp_path.iterdir())
    assert 0 < len(recorded) < len(jobs)
    assert signal.getsignal(signal.SIGINT) is before   # the caller's handler is back
