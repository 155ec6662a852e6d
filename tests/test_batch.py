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

from handouts.batch import load_manifest, plan, run_batch, shard
from handouts.errors import ValidationError
from handouts.library import Library
from tests.conftest import ROOT, qpdf_check

MANIFEST = """
output = "out"
clinics = ["*"]
topics = ["injection-care-checklist", "bone-protecting-injections"]
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


@pytest.fixture
def lib(tmp_path) -> Library:
    """A library with two clinics, two topics, a booklet and a manifest."""
    root = tmp_path / "lib"
    for kind in ("clinics",):
        shutil.copytree(ROOT / kind, root / kind)
    (root / "content").mkdir()
    for slug in ("injection-care-checklist", "bone-protecting-injections"):
        shutil.copy(ROOT / "content" / f"{slug}.md", root / "content")
    (root / "booklets").mkdir()
    (root / "booklets" / "pack.toml").write_text(
        'title = "Injection pack"\ntopics = ["bone-protecting-injections", '
        '"injection-care-checklist"]\n')
    (root / "handouts.toml").write_text(MANIFEST)
    return Library(root)


def _cli(lib, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "handouts", "--library", str(lib.root),
                           "batch", *args], capture_output=True, text=True, timeout=timeout)


EXPECTED = {
    "lakeside-spine/bone-protecting-injections-letter",
    "lakeside-spine/bone-protecting-injections-letter-large",
    "lakeside-spine/injection-care-checklist-letter",
    "lakeside-spine/injection-care-checklist-letter-large",
    "riverside-oncology/bone-protecting-injections-a4",
    "riverside-oncology/bone-protecting-injections-letter",
    "riverside-oncology/injection-care-checklist-a4",
    "riverside-oncology/injection-care-checklist-letter",
    "riverside-oncology/booklet-pack-a5",
}


def test_plan_defaults_exceptions_and_booklets(lib):
    jobs = plan(lib, load_manifest(lib.root / "handouts.toml"), lib.root / "handouts.toml")
    assert {j.id for j in jobs} == EXPECTED


def test_papers_clinic_means_each_clinics_own_paper(lib):
    path = lib.root / "handouts.toml"
    path.write_text('topics = ["injection-care-checklist"]\npapers = ["clinic", "a5"]\n'
                    '[clinic.riverside-oncology]\npapers = ["clinic"]\n')
    jobs = plan(lib, load_manifest(path), path)
    assert {j.id for j in jobs} == {
        "lakeside-spine/injection-care-checklist-letter",       # its clinic.toml: letter
        "lakeside-spine/injection-care-checklist-a5",
        "riverside-oncology/injection-care-checklist-a4",       # its clinic.toml: a4
    }
    path.write_text('bundled = ["templates", "styles", "clinics"]\n[clinic.nowhere]\n')
    with pytest.raises(ValidationError) as info:
        plan(lib, load_manifest(path), path)
    assert "remove [clinic.nowhere]" in info.value.problems[0].hint


def test_manifest_is_validated_up_front(lib):
    path = lib.root / "handouts.toml"
    path.write_text(MANIFEST.replace('papers = ["a4", "letter"]', 'papers = ["a3"]')
                    .replace('"bone-protecting-injections"]', '"no-such-topic"]'))
    with pytest.raises(ValidationError) as info:
        plan(lib, load_manifest(path), path)
    assert any(p.field == "papers.0" for p in info.value.problems)
    path.write_text(MANIFEST.replace('"bone-protecting-injections"]', '"no-such-topic"]'))
    with pytest.raises(ValidationError, match="unknown topic 'no-such-topic'"):
        plan(lib, load_manifest(path), path)


def test_shards_partition_the_jobs(lib):
    jobs = plan(lib, load_manifest(lib.root / "handouts.toml"), lib.root / "handouts.toml")
    parts = [shard(jobs, i, 3) for i in (1, 2, 3)]
    ids = [j.id for part in parts for j in part]
    assert sorted(ids) == sorted(j.id for j in jobs) and len(ids) == len(set(ids))
    backwards = [j.id for j in shard(list(reversed(jobs)), 2, 3)]
    assert [j.id for j in shard(jobs, 2, 3)] == backwards[::-1]


def test_build_then_nothing_then_exactly_the_touched_topic(lib):
    first = run_batch(lib, jobs=2)
    assert {r.job for r in first.results} == EXPECTED
    assert all(r.status == "built" for r in first.results), [r.error for r in first.failed]
    out = lib.root / "out"
    manifest = json.loads((out / "build-manifest.json").read_text())
    assert set(manifest["jobs"]) == EXPECTED
    entry = manifest["jobs"]["riverside-oncology/booklet-pack-a5"]
    assert {o["file"] for o in entry["outputs"]} == {
        "riverside-oncology/booklet-pack-a5.pdf", "riverside-oncology/booklet-pack-a5-imposed.pdf"}
    assert "content/injection-care-checklist.md" in entry["inputs"]

    second = run_batch(lib, jobs=2)
    assert {r.status for r in second.results} == {"up-to-date"}

    topic = lib.root / "content" / "injection-care-checklist.md"
    topic.write_text(topic.read_text().replace("Dental check before you start",
                                               "Dental check before you begin"))
    third = run_batch(lib, jobs=1)
    rebuilt = {r.job for r in third.results if r.status == "built"}
    assert rebuilt == {j for j in EXPECTED if "checklist" in j or "booklet" in j}
    assert not third.failed


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
    broken = lib.root / "content" / "bone-protecting-injections.md"
    broken.write_text(broken.read_text().replace("pages: 2", "pages: two"))
    result = _cli(lib, "--json", "--jobs", "2")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    by_job = {j["job"]: j for j in summary["jobs"]}
    assert set(by_job) == EXPECTED
    failed = {j for j, r in by_job.items() if r["status"] == "failed"}
    assert failed == {j for j in EXPECTED if "bone-protecting" in j or "booklet" in j}
    for job in failed:
        assert "bone-protecting-injections.md" in by_job[job]["error"]
        assert "pages" in by_job[job]["error"]
    for entry in by_job.values():
        if entry["status"] == "built":
            path = Path(entry["output"])
            import hashlib
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert entry["pages"] >= 1
    assert "failed: " in result.stderr and "Traceback" not in result.stderr


def test_killed_batch_leaves_no_partial_pdf_and_resumes(lib):
    process = subprocess.Popen([sys.executable, "-m", "handouts", "--library", str(lib.root),
                                "batch", "--jobs", "1"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    state = lib.root / "out" / "build-manifest.json"
    deadline = time.time() + 120
    while time.time() < deadline and not state.exists():
        time.sleep(0.05)
    time.sleep(0.3)  # somewhere inside the next render
    process.send_signal(signal.SIGKILL)
    process.wait()
    pdfs = list((lib.root / "out").rglob("*.pdf"))
    assert 0 < len(pdfs) < len(EXPECTED) + 1
    for pdf in pdfs:
        assert qpdf_check(pdf).returncode == 0, pdf
    summary = run_batch(lib, jobs=1)
    assert not summary.failed
    assert {r.status for r in summary.results} <= {"built", "up-to-date"}
    assert not list((lib.root / "out").rglob("*.part"))
    assert len(list((lib.root / "out").rglob("*.pdf"))) == len(EXPECTED) + 1


def test_dry_run_builds_nothing(lib):
    result = _cli(lib, "--dry-run")
    assert result.returncode == 0 and "9 would-build" in result.stdout
    assert not list((lib.root / "out").rglob("*.pdf"))
