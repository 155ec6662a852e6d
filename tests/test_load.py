"""Load stage: topics and clinic profiles are read strictly, errors name file, line, field."""

from __future__ import annotations

import json
import re

import pytest

from handouts import load
from handouts.errors import HandoutsError, UsageError, ValidationError
from handouts.library import Library
from handouts.load import CSS_ALLOWED, load_booklet, load_clinic, load_topic
from handouts.markup import render_body
from handouts.svg import check_svg
from tests.conftest import CLINICS, DATA, ROOT, TOPICS, topic_text

HOSTILE = DATA / "hostile"   # small named inputs the red-team report used


def test_shipped_topics_and_clinics_load(library):
    assert set(TOPICS) <= set(library.topics())
    for slug in TOPICS:
        topic = load_topic(library.topic_path(slug))
        assert topic.meta.title and topic.meta.sources
        assert (topic.meta.next_review - topic.meta.last_reviewed).days <= 3 * 366
    for slug in CLINICS:
        profile = load_clinic(library.clinic_folder(slug))
        assert profile.logo_path.is_file()


def _error(path) -> HandoutsError:
    with pytest.raises(HandoutsError) as info:
        load_topic(path)
    return info.value


def test_unknown_key_names_file_key_and_line(tmp_path):
    path = tmp_path / "t.md"
    path.write_text(topic_text("Hello").replace("pages: 2", "pages: 2\ncolour: red"))
    problem = _error(path).problems[0]
    assert problem.field == "colour" and "unknown key" in problem.message
    assert problem.file == path and problem.line == 6


def test_every_schema_error_at_once(tmp_path):
    path = tmp_path / "t.md"
    text = topic_text("Hello").replace("pages: 2", 'pages: "two"').replace(
        'version: "1.0"', "version: 1.0").replace("summary: A short test topic.\n", "")
    path.write_text(text)
    problems = {p.field: p for p in _error(path).problems}
    assert {"pages", "version", "summary"} <= set(problems)
    assert "quotes" in problems["version"].message
    assert problems["summary"].message == "required key is missing"


def test_duplicate_key_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "t.md"
    path.write_text(topic_text("Hello").replace("pages: 2", "pages: 2\npages: 3"))
    problem = _error(path).problems[0]
    assert "duplicate key 'pages' (first on line 5" in problem.message and problem.line == 6


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"\x00\x01binary\x00", "binary"),
    (b"---\ntitle: caf\xe9\n---\nbody", "not UTF-8"),
    (b"no front matter here", "no front matter"),
    (b"---\ntitle: [unclosed\n---\nbody\n", "not valid YAML"),
    (b"---\n- a list\n---\nbody\n", "key: value"),
])
def test_bad_files_give_clear_errors(tmp_path, content, expected):
    path = tmp_path / "t.md"
    path.write_bytes(content)
    error = _error(path)
    assert isinstance(error, ValidationError)
    assert expected in str(error)


def test_huge_topic_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "t.md"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    assert "limit" in str(_error(path))


def test_a_topic_is_read_each_time_and_parsed_again_only_when_it_changed(tmp_path):
    """A desk page, a batch and a check load the same files hundreds of times: the
    same text gives the Topic parsed before; an edit, even of one character at the
    same size and within the same clock tick, gives the new one; a file that became
    unreadable or broken is an error again, not the old Topic."""
    path = tmp_path / "t.md"
    path.write_text(topic_text("First words.", title="Title A"))
    first = load_topic(path)
    assert load_topic(path) is first
    path.write_text(topic_text("First words.", title="Title B"))   # the same size
    assert load_topic(path).meta.title == "Title B"
    path.write_text(topic_text("First words.", title="Title A"))
    assert load_topic(path) is first
    path.write_text("no front matter")
    assert "no front matter" in str(_error(path))
    path.unlink()
    path.symlink_to(ROOT / "README.md")
    with pytest.raises(HandoutsError, match="outside the library"):
        load_topic(path)


def test_review_window_at_most_three_years(tmp_path):
    path = tmp_path / "t.md"
    path.write_text(topic_text("Hi").replace("next_review: 2029-11-01", "next_review: 2030-01-01"))
    assert "three years" in str(_error(path))


# --- clinics ----------------------------------------------------------------------------

def _clinic(make_library, edit=None, logo: bytes | None = None):
    library = make_library()
    folder = library.clinic_folder("riverside-oncology")
    if edit:
        toml = folder / "clinic.toml"
        toml.write_text(edit(toml.read_text()))
    if logo is not None:
        (folder / "logo.svg").write_bytes(logo)
    return folder


def test_colour_that_tries_to_close_the_css_rule_is_refused(make_library):
    folder = _clinic(make_library, lambda t: t.replace(
        'primary = "#00607a"', 'primary = "#000; } body { background: url(http://x) "'))
    with pytest.raises(ValidationError) as info:
        load_clinic(folder)
    problem = info.value.problems[0]
    assert problem.field == "colours.primary" and "#rrggbb" in problem.message
    assert problem.line is not None


@pytest.mark.parametrize("edit, field", [
    (lambda t: t.replace('paper = "a4"', 'paper = "a3"'), "paper"),
    (lambda t: t.replace('urgent_phone = "020 7946 0999"', "urgent_phone = 999"),
     "urgent_phone"),
    (lambda t: 'website2 = "x"\n' + t, "website2"),
    (lambda t: t.replace('logo = "logo.svg"', 'logo = "../../etc/passwd"'), "logo"),
])
def test_clinic_schema_errors_name_the_field(make_library, edit, field):
    with pytest.raises(ValidationError) as info:
        load_clinic(_clinic(make_library, edit))
    assert any(p.field == field for p in info.value.problems)


def test_toml_syntax_error_has_a_line(make_library):
    folder = _clinic(make_library, lambda t: t.replace('name = "Riverside', 'name = Riverside'))
    with pytest.raises(ValidationError) as info:
        load_clinic(folder)
    assert info.value.problems[0].line == 3


def test_duplicate_toml_key(make_library):
    folder = _clinic(make_library, lambda t: 'name = "Again"\n' + t)
    with pytest.raises(ValidationError, match="not valid TOML"):
        load_clinic(folder)


def _clinic_terms(make_library, table: str):
    folder = _clinic(make_library, lambda t: t.replace("[colours]", table + "\n\n[colours]"))
    return load_clinic(folder, Library(folder.parent.parent)), folder / "clinic.toml"


def test_a_clinic_rewords_a_library_term_in_its_own_language(make_library):
    profile, _ = _clinic_terms(make_library, '[terms]\nfever_threshold = "37.5 °C"\n'
                                             'drip = { en-GB = "drip", es = "suero" }')
    assert profile.clinic.terms == {"fever_threshold": {"en-GB": "37.5 °C"},
                                    "drip": {"en-GB": "drip", "es": "suero"}}


def test_an_unknown_clinic_term_names_clinic_toml_the_field_and_the_fix(make_library):
    with pytest.raises(ValidationError) as info:
        _clinic_terms(make_library, '[terms]\nfever_treshold = "37.5 °C"')
    [problem] = info.value.problems
    assert problem.file.name == "clinic.toml" and problem.field == "terms.fever_treshold"
    assert problem.line is not None and "unknown term 'fever_treshold'" in problem.message
    assert "did you mean 'fever_threshold'?" in problem.hint and "terms.toml" in problem.hint


@pytest.mark.parametrize("wording", [
    "<b>37.5 °C</b>", "[37.5 °C](https://example.com)", "{{ clinic.phone }}", "**37.5**",
    "37.5 `°C`", "- 37.5 °C", "# 37.5", "!!! warning", "1. first", "37.5 °C \\ x",
    "\ue000URGENT_HELP\ue001",
])
def test_a_clinic_term_that_would_be_markup_is_refused(make_library, wording):
    with pytest.raises(ValidationError) as info:
        _clinic_terms(make_library, "[terms]\nfever_threshold = " + json.dumps(wording))
    [problem] = info.value.problems
    assert problem.field.startswith("terms.fever_threshold") and problem.line is not None


def test_missing_logo(make_library):
    folder = _clinic(make_library)
    (folder / "logo.svg").unlink()
    with pytest.raises(ValidationError, match="logo file 'logo.svg' not found"):
        load_clinic(folder)


@pytest.mark.parametrize("logo, message", [
    (b"GIF89a not an svg", "not an SVG"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
     "outside content"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     b'<use xlink:href="http://example.com/x.svg#a"/></svg>', "outside content"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b"<svg>&x;</svg>", "outside content"),
])
def test_bad_logos(make_library, logo, message):
    with pytest.raises(ValidationError, match=message):
        load_clinic(_clinic(make_library, logo=logo))


def test_unknown_topic_and_clinic_suggest_the_closest(library):
    with pytest.raises(UsageError) as info:
        library.topic_path("bone-metastasis")
    assert "did you mean 'bone-metastases'" in str(info.value)
    assert "injection-care-checklist" in str(info.value)
    with pytest.raises(UsageError, match="did you mean 'lakeside-spine'"):
        library.clinic_folder("lakeside")


# --- one mistyped value: a HandoutsError with file and line, never a raw exception ------

def _front(replace: str, by: str) -> str:
    text = topic_text("Hello")
    assert replace in text
    return text.replace(replace, by, 1)


@pytest.mark.parametrize("text, line, expected", [
    (_front("last_reviewed: 2026-11-01", "last_reviewed: 2026-02-30"), 7, "not a real date"),
    (_front("last_reviewed: 2026-11-01", "last_reviewed: 2026-13-01"), 7, "not a real date"),
    (_front("pages: 2", "pages: " + "9" * 5000), 5, "5000 digits long"),
    (_front("pages: 2", "pages: 2\n? [a, b]\n: 1"), 6, "a key must be a word"),
    (_front("pages: 2", "pages: 2\n{a: 1}: 2"), 6, "a key must be a word"),
    (_front("pages: 2", "pages: 2\nkeywords: " + "[" * 5000 + "]" * 5000), 6, "nested"),
    (_front("pages: 2", "pages: 2\nkeywords:\n" + "".join(
        " " * n + "-\n" for n in range(0, 40, 2)) + " " * 40 + "- x"), 14, "nested"),
])
def test_a_mistyped_front_matter_value_is_a_validation_error_with_its_line(
        tmp_path, text, line, expected):
    path = tmp_path / "t.md"
    path.write_text(text)
    error = _error(path)
    assert isinstance(error, ValidationError)
    [problem] = error.problems
    assert problem.file == path and problem.line == line and expected in problem.message


def test_yaml_anchors_and_aliases_are_refused_before_anything_is_built(tmp_path):
    """Ten lines of nested aliases would expand to 9**9 items (and the line finder
    walked them all): refused at the first anchor, in time linear in the text."""
    path = tmp_path / "t.md"
    path.write_text(_front("pages: 2\n", "pages: 2\n" + (HOSTILE / "alias-bomb.yaml").read_text()))
    [problem] = _error(path).problems
    assert "anchors and aliases" in problem.message
    assert problem.file == path and problem.line == 6
    path.write_text(_front("owner: Test nurse", "owner: &who Test nurse").replace(
        "reviewer: Test doctor", "reviewer: *who"))
    assert _error(path).problems[0].line == 9


@pytest.mark.parametrize("edit, field", [
    (lambda t: t.replace("title: Test topic", "title: Test \ue000URGENT_HELP\ue001"), "title"),
    (lambda t: t.replace("- A test warning sign", "- A sign \ue001"), "urgent.signs"),
])
def test_private_use_characters_in_front_matter_are_refused(tmp_path, edit, field):
    path = tmp_path / "t.md"
    path.write_text(edit(topic_text("Hello")))
    [problem] = _error(path).problems
    assert problem.field == field and "private-use" in problem.message and problem.line


TOML_BREAKERS = {
    "a 5,000-digit number": ("bogus = " + "9" * 5000, "cannot be read"),
    "deep nesting": ("bogus = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    "nesting with values": ("bogus = " + "[1, " * 3000 + "]" * 3000, "nested too deeply"),
}


@pytest.mark.parametrize("breaker", TOML_BREAKERS)
def test_a_toml_value_python_cannot_read_is_a_validation_error_with_its_line(
        make_library, breaker):
    value, expected = TOML_BREAKERS[breaker]
    library = make_library()
    folder = library.clinic_folder("riverside-oncology")
    booklet = library.root / "booklets" / "b.toml"
    booklet.parent.mkdir()
    booklet.write_text('title = "A booklet"\n' + value + '\ntopics = ["a"]\n')
    (folder / "clinic.toml").write_text((folder / "clinic.toml").read_text() + value + "\n")
    profile_lines = (folder / "clinic.toml").read_text().count("\n")
    for read, path, line in [(lambda: load_clinic(folder), folder / "clinic.toml", profile_lines),
                             (lambda: load_booklet(booklet), booklet, 2)]:
        with pytest.raises(ValidationError) as info:
            read()
        [problem] = info.value.problems
        assert problem.file == path and problem.line == line and expected in problem.message


@pytest.mark.parametrize("breaker", TOML_BREAKERS)
def test_a_broken_manifest_is_a_validation_error_not_a_crash_of_every_command(
        make_library, breaker):
    library = make_library()
    manifest = library.root / "handouts.toml"
    manifest.write_text('output = "output"\n' + TOML_BREAKERS[breaker][0] + "\n")
    with pytest.raises(ValidationError) as info:
        library.dirs("content")     # every command asks for folders, so bundled_kinds
    [problem] = info.value.problems
    assert problem.file == manifest and problem.line == 2


def test_a_logo_that_is_a_folder(make_library):
    folder = _clinic(make_library)
    (folder / "logo.svg").unlink()
    (folder / "logo.svg").mkdir()
    with pytest.raises(ValidationError) as info:
        load_clinic(folder)
    [problem] = info.value.problems
    assert problem.field == "logo" and "not a regular file" in problem.message
    assert problem.file == folder / "logo.svg"


# --- SVG ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, line, expected", [
    ("utf16-doctype.svg", 2, "DOCTYPE"),
    ("namespaced-use.svg", 4, "<use>"),
    ("billion-laughs.svg", 2, "DOCTYPE"),
    ("external-href.svg", 3, "href='https://tracker.example/pixel'"),
])
def test_hostile_svgs_are_refused_whatever_their_encoding_or_prefix(make_library, name, line,
                                                                   expected):
    folder = _clinic(make_library, logo=(HOSTILE / name).read_bytes())
    with pytest.raises(ValidationError) as info:
        load_clinic(folder)
    [problem] = info.value.problems
    assert problem.file == folder / "logo.svg" and problem.field == "logo"
    assert problem.line == line and expected in problem.message


def test_shipped_svgs_pass(library):
    shipped = sorted((ROOT / "content" / "images").glob("*.svg")) + sorted(
        (ROOT / "clinics").glob("*/logo.svg"))
    assert len(shipped) >= 5
    for path in shipped:
        check_svg(path.read_bytes(), path)


def test_a_topic_image_is_checked_by_the_same_svg_parser(make_library):
    library = make_library({"t": topic_text("![A picture](images/x.svg)\n")})
    (library.root / "content" / "images" / "x.svg").write_bytes(
        (HOSTILE / "namespaced-use.svg").read_bytes())
    with pytest.raises(HandoutsError, match="<use>"):
        render_body(load_topic(library.topic_path("t")), None, library.dirs("content"))


# --- PNG and JPEG -------------------------------------------------------------------------

def _picture(fmt: str) -> bytes:
    """A small photo-like picture (noise does not compress: cutting it loses pixels)."""
    import random
    from io import BytesIO

    from PIL import Image

    image = Image.frombytes("RGB", (160, 90), random.Random(1).randbytes(160 * 90 * 3))
    out = BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _declared(width: int, height: int) -> bytes:
    """The header of a PNG that says it is `width` x `height` (a decompression bomb's
    first bytes: its pixels are never decoded)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


DAMAGED = [   # (file name, bytes, what the message says)
    ("logo.png", _picture("PNG")[:-900], "damaged or cut short"),
    ("logo.jpg", _picture("JPEG")[:-300], "damaged or cut short"),
    ("logo.png", _declared(20_000, 20_000), "more than 40 million pixels"),
    ("logo.png", _declared(8_000, 6_000), "8000 x 6000 pixels, more than 40 million"),
]


@pytest.mark.parametrize("name, data, expected", DAMAGED,
                         ids=["cut-png", "cut-jpeg", "bomb", "huge"])
def test_a_damaged_or_huge_raster_logo_is_refused_with_its_fix(make_library, name, data,
                                                              expected):
    """WeasyPrint would print half of a cut PNG, without a word, and unpack a bomb
    (imported here: it tells Pillow to pad cut images for the whole process)."""
    import weasyprint.images  # noqa: F401
    folder = _clinic(make_library, lambda t: t.replace('logo = "logo.svg"', f'logo = "{name}"'))
    (folder / name).write_bytes(data)
    with pytest.raises(ValidationError) as info:
        load_clinic(folder)
    [problem] = info.value.problems
    assert problem.file == folder / name and problem.field == "logo"
    assert expected in problem.message and problem.hint


def test_a_whole_raster_logo_loads(make_library):
    for name, fmt in (("logo.png", "PNG"), ("logo.jpeg", "JPEG")):
        folder = _clinic(make_library, lambda t, n=name: re.sub(
            r'logo = "[^"]*"', f'logo = "{n}"', t))
        (folder / name).write_bytes(_picture(fmt))
        assert load_clinic(folder).logo_path == folder / name


@pytest.mark.parametrize("data, expected", [
    (_picture("PNG")[:-900], "PNG image is damaged or cut short"),
    (_picture("JPEG"), "file is not a PNG image"),   # a JPEG renamed .png
    (b"<html>404 Not Found</html>", "file is not a PNG image"),
    (_declared(9000, 9000), "more than 40 million"),
], ids=["cut", "renamed-jpeg", "error-page", "bomb"])
def test_a_topic_picture_that_is_not_a_whole_png_is_an_error_naming_it(make_library, data,
                                                                      expected):
    import weasyprint.images  # noqa: F401 - pads cut images from here on

    library = make_library({"t": topic_text("![A picture](images/x.png)\n")})
    picture = library.root / "content" / "images" / "x.png"
    picture.write_bytes(data)
    with pytest.raises(HandoutsError) as info:
        render_body(load_topic(library.topic_path("t")), None, library.dirs("content"))
    [problem] = info.value.problems
    assert problem.file == picture and expected in problem.message
    picture.write_bytes(_picture("PNG"))
    body = render_body(load_topic(library.topic_path("t")), None, library.dirs("content"))
    assert picture.as_uri() in body.html


# --- clinic stylesheets ---------------------------------------------------------------------

def test_a_clinic_stylesheet_may_not_hide_or_move_anything(make_library):
    folder = _clinic(make_library)
    css = (HOSTILE / "hides-the-urgent-box.css").read_text()
    (folder / "style.css").write_text(css)
    with pytest.raises(ValidationError) as info:
        load_clinic(folder)
    problems = info.value.problems
    assert all(p.file == folder / "style.css" and p.line for p in problems)
    # every rule after the comment line is refused, each on its own line
    assert {p.line for p in problems} == set(range(2, css.count("\n") + 1))
    fields = {p.field for p in problems}
    assert {"display", "visibility", "opacity", "position", "font-size", "color", "content",
            "transform", "--warning", "margin-top", "background-color"} <= fields
    assert any("@media" in p.message for p in problems)
    assert any("!important" in p.message for p in problems)


def test_a_clinic_stylesheet_may_change_the_look(make_library):
    folder = _clinic(make_library)
    (folder / "style.css").write_text((HOSTILE / "looks-only.css").read_text())
    assert load_clinic(folder).stylesheet == folder / "style.css"


def test_the_stylesheet_allow_list_is_documented():
    for name in CSS_ALLOWED:
        if "-top" not in name and "-right" not in name and "-left" not in name:
            assert name.split("-bottom")[0] in load.__doc__, name
