"""Command line: one short command per job, clear errors, honest exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from handouts.cli import cli, main
from tests.conftest import ROOT, pdftext


def invoke(*args, cwd=ROOT):
    """Run `python -m handouts ARGS` as a user would; returns the completed process."""
    return subprocess.run([sys.executable, "-m", "handouts", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_unknown_topic_is_one_clear_line_without_traceback():
    result = invoke("build", "no-such-topic", "--clinic", "riverside-oncology")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown topic 'no-such-topic'")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "bone-metastases" in result.stderr  # lists what exists


def test_unknown_clinic_suggests_the_closest():
    result = invoke("build", "bone-metastases", "--clinic", "riverside")
    assert result.returncode == 2
    assert "did you mean 'riverside-oncology'" in result.stderr


def test_unknown_paper_is_a_usage_error():
    result = invoke("build", "bone-metastases", "--clinic", "riverside-oncology",
                    "--paper", "a3")
    assert result.returncode == 2 and "a3" in result.stderr and "Traceback" not in result.stderr


def test_build_writes_the_predictable_name(tmp_path):
    result = invoke("build", "injection-care-checklist", "-c", "lakeside-spine", "--out",
                    str(tmp_path))
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "lakeside-spine" / "injection-care-checklist-letter.pdf"
    assert pdf.is_file() and f"wrote {pdf}" in result.stdout
    assert "(555) 010-2499" in pdftext(pdf)
    assert not list(tmp_path.rglob("*.part"))


def test_build_json_summary(tmp_path):
    code_out = invoke("build", "injection-care-checklist", "-c", "riverside-oncology",
                      "--paper", "letter", "--large-print", "--json", "-o", str(tmp_path))
    [entry] = json.loads(code_out.stdout)
    assert entry["output"].endswith("riverside-oncology/injection-care-checklist-letter-large.pdf")
    assert entry["status"] == "built" and entry["pages"] >= 1 and len(entry["sha256"]) == 64


def test_list_and_clinics():
    runner = CliRunner()
    result = runner.invoke(cli, ["--library", str(ROOT), "list"])
    assert result.exit_code == 0
    assert "injection-care-checklist" in result.output and "GRADE" in result.output
    result = runner.invoke(cli, ["--library", str(ROOT), "clinics", "--json"])
    slugs = [c["slug"] for c in json.loads(result.output)["clinics"]]
    assert slugs == ["lakeside-spine", "riverside-oncology"]


def test_help_version_and_main_entry_point(capsys):
    assert main(["--version"]) == 0
    assert "handouts, version" in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Exit codes:" in out and "build" in out


def test_help_does_not_import_weasyprint():
    code = ("import sys; from handouts.cli import main; main(['--help']); "
            "main(['list']); print('weasyprint' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.stdout.strip().endswith("False")


def test_broken_topic_in_a_library_fails_with_file_and_line(make_library):
    lib = make_library({"broken": "---\ntitle: [oops\n---\nbody\n"})
    result = invoke("--library", str(lib.root), "build", "broken", "-c", "riverside-oncology")
    assert result.returncode == 1
    assert "broken.md:2" in result.stderr and "Traceback" not in result.stderr


def test_cache_info_and_clear_touch_only_the_cache(tmp_path):
    import os
    import time

    cache = tmp_path / "cache"
    env = {**os.environ, "HANDOUTS_CACHE": str(cache)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "handouts", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    assert run("list").returncode == 0          # fills the list cache
    entries = sorted((cache / "list").iterdir())
    assert entries, "handouts list should cache its rows"
    stray = cache / "notes.txt"                  # something that is not a cache entry
    stray.write_text("keep me")
    info = run("cache", "info")
    assert info.returncode == 0 and str(cache) in info.stdout
    assert f"{len(entries)} files" in info.stdout

    old = entries[0]
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    pruned = run("cache", "clear", "--older-than", "3")
    assert pruned.returncode == 0 and "removed 1 cache files" in pruned.stdout
    assert not old.exists() and all(e.exists() for e in entries[1:])

    cleared = run("cache", "clear")
    assert cleared.returncode == 0
    assert not any((cache / "list").iterdir()) and stray.read_text() == "keep me"
    assert run("cache", "clear", "--older-than", "-1").returncode == 2
