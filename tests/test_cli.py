"""Command line: one short command per job, clear errors, honest exit codes; init, new
and build from an installed wheel, outside the repo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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
            "main(['list']); print('weasyprint' in sys.modules, 'starlette' in sys.modules, "
            "'uvicorn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.stdout.strip().endswith("False False False")   # nor the print desk's web


def test_no_color_is_honoured_and_png_and_open_say_what_they_did(tmp_path, monkeypatch):
    import click

    runner = CliRunner()
    args = ["check", "--no-render", "injection-care-checklist"]   # warns: translations
    coloured = runner.invoke(cli, args, color=True)
    assert "\x1b[" in coloured.output
    plain = runner.invoke(cli, args, color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.output and "warning:" in plain.output
    opened = []
    monkeypatch.setattr(click, "launch", lambda path, **_: opened.append(path) or 0)
    result = runner.invoke(cli, ["build", "injection-care-checklist", "-c", "lakeside-spine",
                                 "--out", str(tmp_path), "--png", "--open"])
    assert result.exit_code == 0, result.output
    assert "wrote 1 page image: " in result.output and "-letter-1.png" in result.output
    assert opened and opened[0].endswith("injection-care-checklist-letter.pdf")
    assert "injection-care-checklist-letter.pdf in the PDF viewer" in result.output


def test_broken_topic_in_a_library_fails_with_file_and_line(make_library):
    lib = make_library({"broken": "---\ntitle: [oops\n---\nbody\n"})
    result = invoke("--library", str(lib.root), "build", "broken", "-c", "riverside-oncology")
    assert result.returncode == 1
    assert "broken.md:2" in result.stderr and "Traceback" not in result.stderr


def test_the_suite_never_touches_the_users_cache():
    from handouts import cache

    root = cache.root().resolve()
    assert not root.is_relative_to(Path("~/.cache").expanduser().resolve())
    assert root.name.startswith("handouts-test-cache-")


def test_cache_info_lists_every_cache_and_clear_empties_the_root(tmp_path, monkeypatch,
                                                                  make_library):
    import os
    import time

    from handouts import cache
    from tests.conftest import topic_text

    monkeypatch.setenv("HANDOUTS_CACHE", str(tmp_path / "cache"))
    long = "\n\n".join(f"Paragraph {n} of a topic over its budget." for n in range(90))
    lib = make_library({"long": topic_text(long, pages=1)})
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--library", str(lib.root), *args], catch_exceptions=False)

    assert run("list").exit_code == 0                                 # list rows
    assert run("build", "injection-care-checklist", "-c", "riverside-oncology",   # QR, pdf
               "--out", str(tmp_path / "out")).exit_code == 0
    over = runner.invoke(cli, ["--library", str(lib.root), "build", "long", "-c",   # layout
                               "riverside-oncology", "--out", str(tmp_path / "out")])
    assert over.exit_code != 0   # over its budget: the memo says so for next time
    checked = run("check", "injection-care-checklist", "-c", "riverside-oncology",  # verdict
                  "--paper", "letter", "--jobs", "1")
    assert checked.exit_code in (0, 1), checked.output
    info = run("cache", "info")
    assert info.exit_code == 0 and str(cache.root()) in info.output
    for kind in cache.KINDS:
        files = cache.entries((kind,))
        assert files, f"the {kind} cache should have entries"
        assert f"{kind:<7} {len(files):>6} files" in info.output

    old = cache.entries(("list",))[0]
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    pruned = run("cache", "clear", "--older-than", "3")
    assert pruned.exit_code == 0 and "removed 1 cache files" in pruned.output
    assert not old.exists() and cache.entries()

    assert run("cache", "clear").exit_code == 0
    assert not cache.root().exists() or not any(cache.root().iterdir())
    assert runner.invoke(cli, ["cache", "clear", "--older-than", "-1"]).exit_code == 2


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """handouts installed from a freshly built wheel into a folder outside the repo."""
    work = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(work / "wheel"), str(ROOT)], check=True, capture_output=True)
    [wheel] = (work / "wheel").glob("handouts-*.whl")
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    assert (target / "handouts" / "_bundled" / "content" / "bone-metastases.md").is_file()
    return target


def _run_installed(site: Path, cwd: Path, *args):
    env = dict(os.environ, PYTHONPATH=str(site), HANDOUTS_LIBRARY="")
    env.pop("HANDOUTS_LIBRARY")
    return subprocess.run([sys.executable, "-m", "handouts", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_init_new_clinic_and_build_outside_the_repo(installed, tmp_path):
    where = _run_installed(installed, tmp_path, "-v", "list")
    assert where.returncode == 0 and "injection-care-checklist" in where.stdout
    check = subprocess.run([sys.executable, "-c", "import handouts; print(handouts.__file__)"],
                           env=dict(os.environ, PYTHONPATH=str(installed)),
                           capture_output=True, text=True, cwd=tmp_path)
    assert check.stdout.startswith(str(installed))
    assert _run_installed(installed, tmp_path, "init", "mylib").returncode == 0
    library = tmp_path / "mylib"
    # The new library's topics and clinics are its own copies: a deleted demo clinic
    # stays deleted instead of coming back from the package.
    shutil.rmtree(library / "clinics" / "lakeside-spine")
    clinics = _run_installed(installed, library, "clinics")
    assert "riverside-oncology" in clinics.stdout and "lakeside-spine" not in clinics.stdout
    result = _run_installed(installed, library, "new", "clinic", "x", "--name", "Clinic X")
    assert result.returncode == 0, result.stderr
    result = _run_installed(installed, library, "new", "topic", "knee-care")
    assert result.returncode == 0, result.stderr
    result = _run_installed(installed, library, "build", "injection-care-checklist",
                            "knee-care", "--clinic", "x")
    assert result.returncode == 0, result.stderr
    pdf = library / "output" / "x" / "injection-care-checklist-a4.pdf"
    assert "Clinic X" in pdftext(pdf)
    assert (library / "output" / "x" / "knee-care-a4.pdf").is_file()
    check = _run_installed(installed, library, "check", "knee-care", "--clinic", "x",
                           "--no-render")
    # Builds at once, but is not fit to hand out until the scaffold's words are replaced.
    assert check.returncode == 1, check.stderr
    assert "knee-care.md:5: still holds the scaffold's text" in check.stderr
    assert "clinics/x/clinic.toml: phone: phone is still the placeholder" in check.stderr
    assert "Traceback" not in check.stderr
