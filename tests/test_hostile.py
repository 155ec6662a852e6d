"""Hardening: any input builds or fails with a HandoutsError; nothing good is lost."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handouts.build import build
from handouts.cli import main
from handouts.compose import compose_leaflet
from handouts.editions import load_edition
from handouts.errors import HandoutsError, RenderError, UnsafeResourceError, ValidationError
from handouts.finish import write_atomic
from handouts.load import load_clinic, load_topic, read_file
from handouts.markup import render_body
from handouts.render import Renderer
from handouts.svg import MAX_SVG_BYTES
from handouts.timelimit import _Timeout, time_limit, uninterrupted
from tests.conftest import ROOT, killed_at_write, topic_text

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(
    allow_nan=False, allow_infinity=False), st.text(max_size=40), st.dates(
    dt.date(1990, 1, 1), dt.date(2040, 1, 1)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=10)
FRONT_KEYS = ["title", "subtitle", "summary", "main_message", "layout", "pages", "columns",
              "version", "last_reviewed", "next_review", "owner", "reviewer", "urgent",
              "sources", "keywords", "pages_large", "unknown"]


@SETTINGS
@given(st.dictionaries(st.sampled_from(FRONT_KEYS), values, max_size=len(FRONT_KEYS)))
def test_any_front_matter_loads_or_is_a_handouts_error(tmp_path_factory, front):
    path = tmp_path_factory.mktemp("fm") / "t.md"
    path.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\nBody\n")
    try:
        load_topic(path)
    except HandoutsError as error:
        assert error.problems and all(p.file == path for p in error.problems)


MARKDOWN_BITS = st.sampled_from([
    "# ", "## ", "- ", "- [ ] ", "1. ", "> ", "!!! warning \"T\"\n    ", "| a | b |\n|---|---|\n",
    "**", "_", "`", "```\n", "[", "](", ")", "![", "<", ">", "<img src=x>", "{{", "}}", "{%",
    "%}", "clinic.phone", "urgent_help", "____", ":", "\n", "\n\n", "&", "#", "\\", "\x00",
    "file:///etc/passwd", "../", "http://", "javascript:", "<script>", "\ue000", "é", "🦴",
])
bodies = st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=12)), max_size=40).map("".join)


@SETTINGS
@given(bodies)
def test_any_markdown_body_renders_or_is_a_handouts_error(make_library, body):
    lib = make_library()
    path = lib.root / "content" / "t.md"
    path.write_text(topic_text(body.replace("\x00", "")))
    profile = load_clinic(lib.clinic_folder("riverside-oncology"))
    try:
        topic = load_topic(path)
        result = render_body(topic, profile, lib.dirs("content"))
    except HandoutsError:
        return
    assert "<script" not in result.html
    assert 'src="file:///etc' not in result.html and 'href="file:' not in result.html
    assert 'href="javascript:' not in result.html
    assert "\ue000" not in result.html


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(bodies)
def test_any_markdown_body_builds_a_pdf_or_is_a_handouts_error(make_library, renderer, body):
    lib = make_library()
    (lib.root / "content" / "t.md").write_text(topic_text(body.replace("\x00", ""), pages=40))
    try:
        [result] = build(["t"], "riverside-oncology", library=lib, renderer=renderer,
                         out=lib.root / "out")
    except HandoutsError:
        return
    assert result.path.read_bytes().startswith(b"%PDF-")


CLINIC_KEYS = ["name", "department", "logo", "colours", "phone", "urgent_phone",
               "urgent_label", "emergency_number", "country", "address", "website", "paper",
               "language", "footer", "topic_url", "email", "bogus"]
toml_scalars = st.one_of(st.booleans(), st.integers(-10, 10**6), st.text(max_size=30))
toml_values = st.one_of(toml_scalars, st.lists(st.text(max_size=20), max_size=3),
                        st.dictionaries(st.sampled_from(["primary", "accent", "warning", "text",
                                                         "x"]), st.text(max_size=12)))


def _toml(data: dict) -> str:
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(f"[{key}]\n" + "".join(f"{k} = {_toml_value(v)}\n"
                                                 for k, v in value.items()))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n" + "\n".join(tables)


def _toml_value(value) -> str:
    import json
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


@SETTINGS
@given(st.dictionaries(st.sampled_from(CLINIC_KEYS), toml_values, max_size=len(CLINIC_KEYS)))
def test_any_clinic_profile_loads_or_is_a_handouts_error(make_library, data):
    lib = make_library()
    folder = lib.clinic_folder("riverside-oncology")
    text = _toml(data)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        pass  # still must give a HandoutsError below
    (folder / "clinic.toml").write_text(text)
    try:
        load_clinic(folder)
    except HandoutsError as error:
        assert error.problems


def test_a_good_pdf_is_never_replaced_by_a_failed_build(make_library, renderer):
    lib = make_library({"t": topic_text("## What is it?\n\nGood text.")})
    [good] = build(["t"], "riverside-oncology", library=lib, renderer=renderer,
                   out=lib.root / "out")
    before = hashlib.sha256(good.path.read_bytes()).hexdigest()
    topic = lib.root / "content" / "t.md"
    topic.write_text(topic_text("\n".join(f"- item {n}" for n in range(150)), pages=1))
    with pytest.raises(HandoutsError):
        build(["t"], "riverside-oncology", library=lib, renderer=renderer, out=lib.root / "out")
    assert hashlib.sha256(good.path.read_bytes()).hexdigest() == before
    assert not list((lib.root / "out").rglob("*.part"))


def test_killed_build_keeps_the_old_pdf_and_leaves_nothing_next_time(tmp_path):
    """Killed between writing its new PDF beside the old one and the rename (the hook in
    finish.write_atomic holds it there), a build leaves the old file whole."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "handouts", "build", "injection-care-checklist", "-c",
            "riverside-oncology", "-o", str(out), "--large-print"]
    assert subprocess.run(args, cwd=ROOT, capture_output=True).returncode == 0
    pdf = out / "riverside-oncology" / "injection-care-checklist-a4-large.pdf"
    before, inode = pdf.read_bytes(), pdf.stat().st_ino
    killed_at_write(args, 1, tmp_path / "held", cwd=ROOT)
    assert pdf.stat().st_ino == inode and pdf.read_bytes() == before   # not replaced
    assert len(list(out.rglob("*.part"))) == 1   # the new one, never renamed
    assert subprocess.run(args, cwd=ROOT, capture_output=True).returncode == 0
    assert not list(out.rglob("*.part"))
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.read_bytes().rstrip().endswith(b"%%EOF")


def test_rendering_has_atime_limit(library):
    slow = Renderer(library.asset_roots(), time_limit=0.05)
    topic = load_edition(library, "bone-metastases")[0]
    profile = load_clinic(library.clinic_folder("riverside-oncology"))
    with pytest.raises(RenderError, match="longer than 0.05 s"):
        slow.render(compose_leaflet(library, topic, profile, "a4"))


def test_an_alarm_inside_an_uninterrupted_stretch_waits_for_its_end():
    reached = []
    with pytest.raises(RenderError, match="longer than 5 s"), time_limit(5):
        with uninterrupted():
            signal.raise_signal(signal.SIGALRM)   # as if the limit ran out just here
            reached.append("end of the stretch")
        reached.append("after it")   # the next tick is 5 s away; the limit's end stops it
    assert reached == ["end of the stretch", "after it"]


def test_an_alarm_just_after_the_fetcher_opens_a_file_leaves_no_file_open(
        library, monkeypatch):
    """CI once failed on a ResourceWarning: a render's time limit landed between the
    fetcher's open() and its `with`, so nothing closed the file."""
    from handouts import render

    opened = []

    def open_then_alarm(*args, **kwargs):
        handle = open(*args, **kwargs)   # noqa: SIM115 - the fetcher closes it
        opened.append(handle)
        signal.raise_signal(signal.SIGALRM)   # Python runs the handler on return
        return handle

    fetcher = Renderer(library.asset_roots())._fetcher_class(library.asset_roots())
    monkeypatch.setattr(render, "open", open_then_alarm, raising=False)
    logo = library.clinic_folder("riverside-oncology") / "logo.svg"
    with pytest.raises(RenderError, match="longer than 5 s"), time_limit(5):
        response = fetcher.fetch(logo.resolve().as_uri())
    assert response is not None
    assert opened and all(handle.closed for handle in opened)


def test_a_time_limit_still_holds_when_python_drops_the_first_alarm():
    """An exception raised inside a gc callback is printed and dropped by Python
    (hypothesis installs one; CI once lost an alarm there). The limit must
    still stop the work, without an "Exception ignored" message."""
    calls = []

    def slow_callback(phase, info):   # the first alarm lands in here and is dropped
        if phase == "start" and not calls:
            calls.append(phase)
            time.sleep(0.2)

    gc.callbacks.append(slow_callback)
    try:
        start = time.monotonic()
        with pytest.raises(RenderError, match="longer than 0.05 s"), time_limit(0.05):
            gc.collect()
            while time.monotonic() - start < 5:
                pass
    finally:
        gc.callbacks.remove(slow_callback)
    assert calls   # the first alarm was dropped; without a second the loop ends unraised


def test_a_render_whose_every_alarm_is_dropped_is_still_over_its_limit():
    with pytest.raises(RenderError, match="longer than 0.05 s"), time_limit(0.05):
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            try:
                time.sleep(0.01)
            except _Timeout:   # stands for code that swallows everything
                pass


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\nnot really", b"%PDF-1.4 binary\x00\x01"])
def test_binary_topic_and_fake_png_logo(make_library, content):
    lib = make_library()
    (lib.root / "content" / "bin.md").write_bytes(content)
    with pytest.raises(HandoutsError):
        load_topic(lib.root / "content" / "bin.md")


# --- a hang fails its test instead of stopping the suite ----------------------------------

@contextlib.contextmanager
def finishes_within(seconds: float):
    """Fail the test, instead of hanging the suite, if the block runs past `seconds`.

    A bound against hangs (a FIFO open that waits for a writer, /dev/zero read whole),
    not a benchmark: it is far above the milliseconds these take.
    """
    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: this input hangs the loader")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- files that are not what they seem: refused before reading, and quickly ---------------

def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _link_to_fifo(path: Path) -> None:
    _fifo(path.parent / f"{path.name}.fifo")
    path.unlink(missing_ok=True)
    path.symlink_to(path.parent / f"{path.name}.fifo")


def _link_to(target: Path):
    def make(path: Path) -> None:
        path.unlink(missing_ok=True)
        path.symlink_to(target)
    return make


def _sparse_4gb(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(4 * 1024 ** 3)   # a hole: costs no disk, but reads as 4 GB


OUTSIDE = ROOT / "README.md"     # a readable file outside the scratch library


@pytest.mark.parametrize("make", [_fifo, _link_to_fifo, _link_to(Path("/dev/zero")),
                                  _link_to(OUTSIDE), Path.mkdir],
                         ids=["fifo", "link-to-fifo", "link-to-dev-zero", "link-outside",
                              "folder"])
def test_a_topic_that_is_not_a_regular_file_in_the_library_is_refused(make_library, make):
    lib = make_library()
    path = lib.root / "content" / "t.md"
    make(path)
    with finishes_within(10), pytest.raises(HandoutsError) as info:
        load_topic(path)
    [problem] = info.value.problems
    assert problem.file == path


@pytest.mark.parametrize("name", ["clinic.toml", "style.css", "logo.svg"])
@pytest.mark.parametrize("make", [_fifo, _link_to_fifo, _link_to(OUTSIDE)],
                         ids=["fifo", "link-to-fifo", "link-outside"])
def test_a_clinic_file_that_is_not_a_regular_file_in_its_folder_is_refused(
        make_library, name, make):
    folder = make_library().clinic_folder("riverside-oncology")
    make(folder / name)
    with finishes_within(10), pytest.raises(HandoutsError) as info:
        load_clinic(folder)
    [problem] = info.value.problems
    assert problem.file == folder / name
    assert problem.field == ("logo" if name == "logo.svg" else None)
    outside = make is not _fifo and make is not _link_to_fifo
    assert isinstance(info.value, UnsafeResourceError) == outside


def test_a_sparse_4_gb_logo_is_refused_without_reading_it(make_library):
    folder = make_library().clinic_folder("riverside-oncology")
    (folder / "logo.svg").unlink()
    _sparse_4gb(folder / "logo.svg")
    with finishes_within(10), pytest.raises(ValidationError) as info:
        load_clinic(folder)
    [problem] = info.value.problems
    assert problem.file == folder / "logo.svg" and problem.field == "logo"
    assert "limit" in problem.message


def test_an_alias_bomb_in_front_matter_is_refused_quickly(make_library):
    bomb = (ROOT / "tests" / "data" / "hostile" / "alias-bomb.yaml").read_text()
    lib = make_library({"t": topic_text("Body.").replace("pages: 2\n", "pages: 2\n" + bomb)})
    with finishes_within(10), pytest.raises(ValidationError) as info:
        load_topic(lib.topic_path("t"))
    [problem] = info.value.problems
    assert problem.file == lib.topic_path("t") and problem.line == 6


def test_an_svg_over_the_size_limit_is_refused_before_parsing(make_library):
    lib = make_library({"t": topic_text("![A picture](images/big.svg)\n")})
    big = lib.root / "content" / "images" / "big.svg"
    big.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * MAX_SVG_BYTES + b"</svg>")
    with finishes_within(10), pytest.raises(ValidationError) as info:
        render_body(load_topic(lib.topic_path("t")), None, lib.dirs("content"))
    [problem] = info.value.problems
    assert problem.file == big and "larger than" in problem.message


def test_read_file_refuses_a_device_even_inside_its_roots():
    with finishes_within(10), pytest.raises(ValidationError, match="not a regular file"):
        read_file(Path("/dev/zero"), 1024, [Path("/dev")])


def test_read_file_stops_at_its_limit_while_reading(tmp_path):
    path = tmp_path / "grows.md"
    path.write_bytes(b"x" * 100)
    assert read_file(path, 100) == b"x" * 100
    with pytest.raises(ValidationError, match="limit"):
        read_file(path, 99)


# --- clinic values escaped for where they land; markers unforgeable -------------------------

def test_a_clinic_name_with_a_quote_cannot_add_attributes(make_library):
    lib = make_library()
    (lib.root / "content" / "images" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><circle r="2"/></svg>')
    path = lib.root / "content" / "t.md"
    path.write_text(topic_text('![Map to {{ clinic.name }}](images/dot.svg "{{ clinic.name }}")'
                               "\n\nIcon ![{{ clinic.name }}](images/dot.svg) inline.\n"))
    profile = load_clinic(lib.clinic_folder("riverside-oncology"))
    evil = 'Clinic" style="position:fixed;top:0;height:100%'
    profile = profile.model_copy(update={"clinic": profile.clinic.model_copy(
        update={"name": evil})})
    html = render_body(load_topic(path), profile, lib.dirs("content")).html
    attributes = _attributes(html)
    assert not [a for a in attributes if a[1] == "style"]
    assert ("img", "alt", f"Map to {evil}") in attributes and ("img", "alt", evil) in attributes


def _attributes(html: str) -> list[tuple[str, str, str]]:
    """(tag, attribute, value) for every attribute, as a browser would parse them."""
    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, name, value) for name, value in attrs)

    Collect().feed(html)
    return found


def test_a_forged_urgent_marker_in_a_clinic_field_is_refused(make_library):
    folder = make_library().clinic_folder("riverside-oncology")
    toml = folder / "clinic.toml"
    toml.write_text(toml.read_text().replace('urgent_label = "', 'urgent_label = "'
                                             '\ue000URGENT_HELP\ue001'))
    with pytest.raises(HandoutsError) as info:
        load_clinic(folder)
    [problem] = info.value.problems
    assert problem.file == toml and problem.field == "urgent_label" and problem.line
    assert "private-use" in problem.message


# --- autolinks pass; raw HTML is refused even split over lines ------------------------------

def test_email_and_web_autolinks_become_links(make_library):
    lib = make_library({"t": topic_text(
        "Write to <nurse@example.org> or see <https://example.org/help?a=1&b=2>.\n")})
    html = render_body(load_topic(lib.topic_path("t")), None, lib.dirs("content")).html
    assert '<a href="mailto:nurse@example.org">nurse@example.org</a>' in html
    assert '<a href="https://example.org/help?a=1&amp;b=2">' in html


@pytest.mark.parametrize("body, tag", [
    ("Text <img\nsrc=x onerror=alert(1)> here.\n", "<img src=x onerror=alert(1)>"),
    ('Text <span\nclass="x">words</span>.\n', '<span class="x">'),
])
def test_a_raw_html_tag_split_over_lines_is_refused_with_its_line(make_library, body, tag):
    lib = make_library({"t": topic_text(body)})
    topic = load_topic(lib.topic_path("t"))
    with pytest.raises(HandoutsError) as info:
        render_body(topic, None, lib.dirs("content"))
    problem = info.value.problems[0]
    assert problem.file == topic.path and problem.line == topic.body_line + 1
    assert repr(tag) in problem.message


def test_an_unclosed_placeholder_and_many_tags_take_linear_time(make_library):
    body = "{{ " * 20000 + "\n\n" + "<a " * 20000 + "\n\n" + "<b>x " * 2000 + "\n"
    lib = make_library({"t": topic_text(body)})
    with finishes_within(20), pytest.raises(HandoutsError) as info:
        render_body(load_topic(lib.topic_path("t")), None, lib.dirs("content"))
    assert len(info.value.problems) >= 2000


# --- written files honour the umask ---------------------------------------------------------

def test_written_files_honour_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "shared.pdf", b"%PDF-")
        os.umask(0o077)
        write_atomic(tmp_path / "private.pdf", b"%PDF-")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "shared.pdf").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.pdf").stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.part"))


# --- the CLI: one mistyped value is exit 1 with file and line, never a traceback ------------

def test_one_mistyped_date_is_exit_1_with_its_line(make_library, capsys):
    lib = make_library({"t": topic_text("Hello.").replace("last_reviewed: 2026-11-01",
                                                          "last_reviewed: 2026-02-30")})
    code = main(["--library", str(lib.root), "check", "t", "-c", "riverside-oncology",
                 "--no-render"])
    err = capsys.readouterr().err
    assert code == 1 and "t.md:7" in err and "not a real date" in err
    assert "Traceback" not in err and "internal error" not in err


# --- raw YAML and TOML text, mutated ----------------------------------------------------------

NASTY_YAML = [
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!binary '%%%'", "!!set {a, b}", "!!omap [a: 1]", "!!timestamp nope", "!!int x",
    "!!float 1e999", "&a [1, 2]", "*a", "&x value", "[" * 60 + "]" * 60, "{a: " * 30 + "1" +
    "}" * 30, "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "2026-01-01 25:00:00",
    "9" * 5000, "-" + "9" * 4400, "0x" + "f" * 5000, "0b" + "1" * 5000, "1:2:3:4:5", "1_000",
    "0o17", ".nan", ".inf", "~", "null", "yes", "'\ue000URGENT_HELP\ue001'", '"\\ue001"',
    '"\\x00"', "{? [a]: 1}", "? [x]\n: 1", "{[a]: 1}", "{a: 1, a: 2}", "<<: {a: 1}",
    "|\n  block text", ">-\n  folded", "- x\n- y", "!<tag:yaml.org,2002:str> x", "\t",
    "%YAML 1.1", "---", "...", "'unclosed", "[unclosed", "@reserved", "`reserved",
    "!!str", "!custom x",
]
NASTY_TOML = [
    "9" * 5000, "-" + "9" * 4400, "0x" + "f" * 5000, "[" * 3000 + "]" * 3000,
    "[1, " * 3000 + "]" * 3000, "{a = " * 300 + "1" + "}" * 300, "2026-02-30", "2026-13-01",
    "1979-05-27T07:32:00Z", "07:32:00", "inf", "nan", "1e999", "true", '"\\ue000URGENT_HELP'
    '\\ue001"', "'\ue001'", '"\\u0000"', "'''multi\nline'''", '"""a\nb"""', "[1, 'a']", "{}",
    "[]", '"#fff"', '"#000; } body { x: url(y) }"', "[[x]]", "[x]", "= 1", '"unclosed',
]


def _mutated(lines: list[str], edits) -> str:
    """`lines` with each (line, how, text) edit: a value, a key or a whole new line."""
    lines = list(lines)
    for index, how, text in edits:
        index %= len(lines)
        key, sep, _ = lines[index].partition(":" if ":" in lines[index] else "=")
        if how == "value" and sep:
            lines[index] = f"{key}{sep} {text}"
        elif how == "key" and sep:
            lines[index] = f"{text}{sep}{lines[index][len(key) + 1:]}"
        else:
            lines.insert(index, text)
    return "\n".join(lines) + "\n"


def _edits(nasty: list[str]):
    return st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["value", "key", "line"]),
                              st.one_of(st.sampled_from(nasty), st.text(max_size=12))),
                    min_size=1, max_size=3)


RAW_SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.function_scoped_fixture])


@RAW_SETTINGS
@given(_edits(NASTY_YAML))
def test_any_mutated_front_matter_text_loads_or_is_a_handouts_error(tmp_path_factory, edits):
    front = topic_text("Body").split("---\n")[1].splitlines()
    path = tmp_path_factory.mktemp("raw") / "t.md"
    path.write_text("---\n" + _mutated(front, edits) + "---\nBody\n")
    try:
        with finishes_within(10):
            load_topic(path)
    except HandoutsError as error:
        assert error.problems and all(p.file == path for p in error.problems)


@RAW_SETTINGS
@given(_edits(NASTY_TOML))
def test_any_mutated_clinic_toml_text_loads_or_is_a_handouts_error(make_library, edits):
    folder = make_library().clinic_folder("riverside-oncology")
    toml = folder / "clinic.toml"
    original = (ROOT / "clinics" / "riverside-oncology" / "clinic.toml").read_text()
    toml.write_text(_mutated(original.splitlines(), edits))
    try:
        with finishes_within(10):
            load_clinic(folder)
    except HandoutsError as error:
        assert error.problems and all(p.file == toml for p in error.problems)
