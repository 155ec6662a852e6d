"""`handouts check`: every kind of problem reported with its file, exit codes, JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from handouts.check import contrast, nearest_passing
from tests.conftest import ROOT, handouts, topic_text


def _check(*args, library=None):
    return handouts(*(["--library", str(library)] if library else []), "check", *args)


HARD = ("Notwithstanding considerable interindividual variability, pharmacological "
        "antiresorptive interventions demonstrably attenuate osteoclastic activity, "
        "consequently diminishing the cumulative incidence of pathological skeletal "
        "complications in metastatic malignancies. ") * 4


@pytest.fixture
def seeded(make_library):
    """A library with exactly one problem of each kind the check knows."""
    lib = make_library({
        "schema": topic_text("Fine text.").replace("pages: 2", "pages: 2\ncolour: blue"),
        "hard": topic_text(HARD),
        "overdue": topic_text("Short and clear text.").replace(
            "last_reviewed: 2026-11-01", "last_reviewed: 2020-01-01").replace(
            "next_review: 2029-11-01", "next_review: 2022-01-01"),
        "no-alt": topic_text("A picture.\n\n![](images/dot.svg)\n"),
        "too-long": topic_text("\n".join(f"- [ ] Step {n} of a long list" for n in range(60)),
                               pages=1),
        "email": topic_text("Write to {{ clinic.email }} today."),
        "links": topic_text("## Where to go\n\nSee [the section](#nowhere).\n"),
    }, clinics=["riverside-oncology", "lakeside-spine"])
    (lib.root / "content" / "images" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<circle cx="5" cy="5" r="4"/></svg>')
    lakeside = lib.root / "clinics" / "lakeside-spine"
    toml = lakeside / "clinic.toml"
    toml.write_text(toml.read_text().replace('primary = "#4a2c82"', 'primary = "#9fd3de"'))
    (lakeside / "style.css").write_text("html { font-size: 10pt; }\n")
    return lib


SEEDED = ["schema", "hard", "overdue", "no-alt", "too-long", "email", "links"]


def test_seeded_library_reports_each_problem_with_its_file_in_text_and_json(seeded):
    result = _check(*SEEDED, "--paper", "a4", library=seeded.root)
    assert result.returncode == 1
    err = result.stderr
    expected = [
        ("schema.md:6", "colour: unknown key"),
        ("hard.md", "reading grade"),
        ("overdue.md", "review overdue"),
        ("no-alt.md", "has no alt text"),
        ("too-long.md", "overflows its budget of 1 page(s)"),
        ("email.md", "clinic 'lakeside-spine' has no 'email'"),
        ("links.md", "link to #nowhere points at no heading"),
        ("lakeside-spine/clinic.toml", "colours.primary: colour #9fd3de has contrast"),
        ("", "10.0 pt; the minimum for body is 12 pt (for clinic 'lakeside-spine'"),
    ]
    lines = err.splitlines()
    for where, what in expected:
        assert any(where in line and what in line for line in lines), (where, what, err)
    assert "shorten these sentences first" in err
    assert "use #" in err  # the nearest passing shade
    assert "Traceback" not in err
    overdue = next(line for line in lines if "review overdue" in line)
    assert overdue.startswith("warning:")

    # The same problems as JSON; this run takes every document from the output cache.
    text = result
    data = _check(*SEEDED, "--paper", "a4", "--json", library=seeded.root)
    assert data.returncode == 1
    report = json.loads(data.stdout)
    assert report["ok"] is False
    messages = {p["message"] for p in report["problems"]}
    for line in text.stderr.splitlines()[1:]:
        assert any(m in line for m in messages), line
    codes = {p["code"] for p in report["problems"]}
    assert {"extra_forbidden", "reading-level", "review-overdue", "missing-alt",
            "page-budget", "missing-clinic-field", "broken-link", "contrast",
            "preflight-type-size"} <= codes
    schema = next(p for p in report["problems"] if p["code"] == "extra_forbidden")
    assert schema["file"] == "content/schema.md" and schema["line"] == 6


def test_strict_makes_overdue_an_error(make_library):
    lib = make_library({"overdue": topic_text("Short and clear text.").replace(
        "last_reviewed: 2026-11-01", "last_reviewed: 2020-01-01").replace(
        "next_review: 2029-11-01", "next_review: 2022-01-01")})
    assert _check("overdue", "--no-render", library=lib.root).returncode == 0
    strict = _check("overdue", "--no-render", "--strict", library=lib.root)
    assert strict.returncode == 1 and "error: " in strict.stderr


def test_unknown_topic_is_a_usage_error():
    result = _check("no-such-topic")
    assert result.returncode == 2 and "unknown topic" in result.stderr


def test_contrast_is_compared_unrounded():
    assert contrast("#ffffff", "#000000") == pytest.approx(21.0)
    # #777777 on white is 4.478:1, which rounds to 4.5 but does not pass.
    assert 4.47 < contrast("#777777", "#ffffff") < 4.5
    shade = nearest_passing("#777777", "#ffffff", 4.5)
    assert contrast(shade, "#ffffff") >= 4.5 and shade != "#777777"


def _list(lib, cache, *args):
    code = ("import sys; from handouts.cli import main; code = main(sys.argv[1:]); "
            "print('MODULES', 'pydantic' in sys.modules, 'markdown' in sys.modules)")
    return subprocess.run([sys.executable, "-c", code, "--library", str(lib), "list", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**__import__("os").environ, "HANDOUTS_CACHE": str(cache)})


def test_list_shows_each_topics_checks_and_lists_from_a_cache(make_library, tmp_path):
    good = topic_text("## What is it?\n\nA short and plain text.\n")
    bad = topic_text("## What is it?\n\nSee [the part that is not there](#nowhere).\n",
                     title="Broken link")
    overdue = topic_text("## What is it?\n\nA short and plain text.\n").replace(
        "next_review: 2029-11-01", "next_review: 2026-01-01").replace(
        "last_reviewed: 2026-11-01", "last_reviewed: 2025-01-01")
    lib = make_library({"good": good, "bad": bad, "overdue": overdue})
    cache = tmp_path / "cache"

    first = _list(lib.root, cache, "--json")
    data = json.loads(first.stdout.split("MODULES")[0])
    rows = {row["slug"]: row for row in data["topics"]}
    assert rows["good"]["checks"] == "ok"
    assert rows["bad"]["checks"] == "1 error"
    assert rows["bad"]["problems"][0]["code"] == "broken-link"
    assert rows["overdue"]["checks"] == "1 warning"
    assert rows["overdue"]["next_review"].endswith("OVERDUE")
    assert "MODULES True True" in first.stdout  # measured: the first run imports them

    second = _list(lib.root, cache, "--json")
    assert json.loads(second.stdout.split("MODULES")[0]) == data
    assert "MODULES False False" in second.stdout  # listed from the cache

    # An edit invalidates that topic's row: fix the link.
    (lib.root / "content" / "bad.md").write_text(good)
    third = _list(lib.root, cache)
    line = next(x for x in third.stdout.splitlines() if x.startswith("bad "))
    assert line.rstrip().endswith("ok")


def test_a_derived_edition_goes_stale_when_its_source_moves_on(make_library):
    from click.testing import CliRunner

    from handouts.cli import cli

    source = topic_text("## What is it?\n\nA short and plain text.\n")
    spanish = topic_text("## ¿Qué es?\n\nUn texto corto y sencillo.\n").replace(
        "pages: 2", 'pages: 2\nlanguage: es\nadapted_from: {language: en-GB, version: "1.0"}')
    lib = make_library({"plain": source, "plain.es": spanish})
    runner = CliRunner()

    def check(*args):   # the command's return value is the exit code main() gives
        return runner.invoke(cli, ["--library", str(lib.root), "check", "plain", "--no-render",
                                   "--json", *args], standalone_mode=False)

    first = check()
    assert first.return_value == 0, first.output
    assert not [p for p in json.loads(first.output)["problems"] if p["code"] == "stale-edition"]
    (lib.root / "content" / "plain.md").write_text(source.replace('version: "1.0"',
                                                                  'version: "1.1"'))
    stale = json.loads(check().output)["problems"]
    [problem] = [p for p in stale if p["code"] == "stale-edition"]
    assert problem["file"] == "content/plain.es.md" and problem["severity"] == "warning"
    assert "version 1.0" in problem["message"] and "1.1" in problem["message"]
    assert check("--strict").return_value == 1
    listing = runner.invoke(cli, ["--library", str(lib.root), "list", "--json"])
    [row] = [r for r in json.loads(listing.output)["topics"] if r["slug"] == "plain"]
    assert "es(stale)" in row["editions"]


def test_a_clinic_term_not_worded_in_a_language_it_prints_is_a_warning(make_library):
    from handouts.check import check_library

    lib = make_library(clinics=["riverside-oncology", "lakeside-spine"])
    profile = lib.clinic_folder("riverside-oncology") / "clinic.toml"
    clinic_toml = profile.read_text()
    profile.write_text(clinic_toml.replace(
        "[colours]", '[terms]\nfever_threshold = "37.5 °C"\n\n[colours]'))
    report = check_library(lib, ["injection-care-checklist"], render=False)
    gaps = [p for p in report.problems if p.code == "clinic-term-language"]
    # Riverside prints es, zh-Hans and ar ([messages.LANG]); Lakeside rewords nothing.
    assert sorted(p.message.split(" the ")[1].split()[0] for p in gaps) == [
        "ar", "es", "zh-Hans"]
    assert {(p.file, p.field, p.severity) for p in gaps} == {
        (profile, "terms.fever_threshold", "warning")}
    profile.write_text(clinic_toml.replace("[colours]", '[terms.fever_threshold]\n'
                                           'en-GB = "37.5 °C"\nes = "37,5 °C"\n'
                                           'zh-Hans = "37.5 °C"\nar = "37.5 °C"\n\n[colours]'))
    report = check_library(lib, ["injection-care-checklist"], render=False)
    assert not [p for p in report.problems if p.code == "clinic-term-language"]


def test_a_new_topic_holds_only_the_scaffolds_text_and_a_new_clinic_its_placeholders(
        tmp_path, monkeypatch):
    from click.testing import CliRunner

    from handouts import placeholders
    from handouts.cli import cli

    runner = CliRunner()
    library = tmp_path / "lib"
    assert runner.invoke(cli, ["init", str(library)]).exit_code == 0
    monkeypatch.chdir(library)

    def run(*args):
        return runner.invoke(cli, list(args), standalone_mode=False)

    assert run("new", "topic", "x").return_value == 0
    report = run("check", "x", "--paper", "a4", "--json")
    assert report.return_value == 1
    problems = json.loads(report.output)["problems"]
    assert {p["code"] for p in problems} == {"placeholder"}   # no size or layout error
    assert len(problems) == len(placeholders.TOPIC)
    assert all(p["file"] == "content/x.md" and p["line"] for p in problems)

    assert run("new", "clinic", "y", "--name", "Y Health").return_value == 0
    clinic = run("check", "--clinic", "y", "--no-render", "--json")
    assert clinic.return_value == 1
    named = {p["field"] for p in json.loads(clinic.output)["problems"]
             if p["code"] == "placeholder" and "clinics/y" in (p["file"] or "")}
    assert named == set(placeholders.CLINIC) | {"logo"}


def test_annotate_draws_each_layout_defect_on_its_page(make_library, tmp_path):
    from click.testing import CliRunner

    from handouts.cli import cli

    lib = make_library({"dose": topic_text("## Why?\n\nTake 500 mg.")})
    (lib.root / "clinics" / "riverside-oncology" / "style.css").write_text(
        "h2 { font-size: 9pt; }\n")
    folder = tmp_path / "annotated"
    result = CliRunner().invoke(cli, ["--library", str(lib.root), "check", "dose", "--paper",
                                      "a4", "--annotate", str(folder)], standalone_mode=False)
    assert result.return_value == 1
    images = sorted(p.name for p in folder.iterdir())
    assert "riverside-oncology--dose-a4-page1.png" in images
    assert (folder / images[0]).read_bytes().startswith(b"\x89PNG")


def test_one_type_scale_per_clinic_paper_and_variant(library):
    from handouts.check import _scale_problems

    scales = {("riverside-oncology", "a4", "standard", "leaflet", None): [
        ("bone-metastases", {"title": 25.0, "body": 12.0}),
        ("vertebroplasty-kyphoplasty", {"title": 21.0, "body": 12.0})]}
    [problem] = _scale_problems(scales, library)
    assert problem.code == "preflight-type-scale" and problem.severity == "error"
    assert "title" in problem.message and "25 pt" in problem.message and "21 pt" in problem.message
    assert not _scale_problems({("c", "a4", "standard", "leaflet", None): [
        ("a", {"title": 25.0}), ("b", {"title": 25.0})]}, library)


def test_documents_not_made_before_are_made_on_workers_with_progress(make_library,
                                                                    fresh_cache):
    from handouts.check import check_library
    from handouts.pipeline import Job, cached

    fresh_cache()
    lib = make_library({"one": topic_text("Short and clear text."),
                        "two": topic_text("More short and clear text.")})
    calls = []
    report = check_library(lib, ["one", "two"], ["riverside-oncology"], papers=("a4", "letter"),
                           variants=("standard",), workers=2,
                           progress=lambda done, total: calls.append((done, total)))
    assert report.renders == 4 and not report.errors()
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    # laid out by the workers into verdicts, without writing a PDF (a build would make
    # these documents itself): the next check only hashes
    for slug in ("one", "two"):
        for paper in ("a4", "letter"):
            job = Job("leaflet", "riverside-oncology", (slug,), paper, "standard")
            verdict = cached(job, lib, verdict=True)
            assert verdict is not None and verdict.pages == 1 and verdict.pdf == b""
            assert cached(job, lib) is None
    calls.clear()
    again = check_library(lib, ["one", "two"], ["riverside-oncology"], papers=("a4", "letter"),
                          variants=("standard",), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 4)]
    assert [p.as_dict() for p in again.problems] == [p.as_dict() for p in report.problems]


def test_a_check_takes_what_a_build_made_and_reports_the_same(make_library, fresh_cache):
    """A document a build made is not laid out again by a check; one the check laid
    out itself (in this process: `workers=1`) gives the same verdict as the build's."""
    from handouts.check import check_library
    from handouts.pipeline import Job, cached, produce

    fresh_cache()
    long = "\n".join(f"- A short point, number {n}." for n in range(17))
    lib = make_library({"long": topic_text(f"## What is it?\n\n{long}\n", pages=1)})
    job = Job("leaflet", "riverside-oncology", ("long",), "a4", "standard")
    built = produce(job, lib)
    assert built.pdf.startswith(b"%PDF") and built.step > 0   # fitted by tighter spacing
    mine = check_library(lib, ["long"], ["riverside-oncology"], papers=("a4",),
                         variants=("standard",), workers=1)
    assert cached(job, lib, verdict=True).pdf == built.pdf   # the build's, taken
    fresh_cache()
    again = check_library(lib, ["long"], ["riverside-oncology"], papers=("a4",),
                          variants=("standard",), workers=1)
    verdict = cached(job, lib, verdict=True)
    assert verdict.pdf == b"" and cached(job, lib) is None
    assert (verdict.pages, verdict.step, verdict.type_scale) == (
        built.pages, built.step, built.type_scale)
    assert [p.as_dict() for p in again.problems] == [p.as_dict() for p in mine.problems]


def test_lang_lays_out_the_translations_and_reports_one_that_overflows(make_library):
    """An author who edits a translation checks its layout with --lang: a Spanish
    edition longer than its page budget is an error naming the Spanish file, while the
    English one fits; without --lang only each clinic's own language is laid out."""
    source = topic_text("## What is it?\n\nA short and plain text.\n", pages=1)
    long = "\n".join(f"- Un punto más de la lista, el número {n}." for n in range(70))
    spanish = topic_text(f"## ¿Qué es?\n\n{long}\n", pages=1).replace(
        "pages: 1", 'pages: 1\nlanguage: es\nadapted_from: {language: en-GB, version: "1.0"}')
    lib = make_library({"plain": source, "plain.es": spanish})
    args = ("--library", str(lib.root), "check", "plain", "-c", "riverside-oncology",
            "--paper", "a4", "--json")
    mine = handouts(*args)
    assert mine.returncode == 0, mine.stdout + mine.stderr
    assert json.loads(mine.stdout)["renders"] == 2   # standard and large print, English
    spanish_too = handouts(*args, "--lang", "es")
    assert spanish_too.returncode == 1
    data = json.loads(spanish_too.stdout)
    over = [p for p in data["problems"] if p["code"] == "page-budget"]
    assert {p["file"] for p in over} == {"content/plain.es.md"}, over
    assert sorted(p["message"].split(": ")[0].split(" on ")[1] for p in over) == [
        "A4 in es", "A4 large print in es"]
    assert data["renders"] == 4
    unknown = handouts(*args, "--lang", "fr")
    assert unknown.returncode == 2 and "no topic has an edition in 'fr'" in unknown.stderr
