"""Compose stage: markdown to safe HTML, clinic fields, templates and their layers."""

from __future__ import annotations

import datetime as dt

import pytest

from handouts.compose import brand_css, compose_leaflet, sign_columns
from handouts.editions import load_edition
from handouts.errors import HandoutsError, UnsafeResourceError, ValidationError
from handouts.load import load_clinic, load_topic
from handouts.markup import render_body
from tests.conftest import count_calls, topic_text


def _body(make_library, body: str):
    library = make_library({"t": topic_text(body)})
    topic = load_topic(library.topic_path("t"))
    profile = load_clinic(library.clinic_folder("riverside-oncology"))
    return library, topic, profile


def test_checklists_fill_ins_callouts_tables_and_heading_ids(make_library):
    library, topic, profile = _body(make_library, """
        ## What should I do?

        - [ ] Book a dental check
        - [x] Read this leaflet

        Next injection date: ____

        !!! tip "Good to know"
            Drink plenty of water.

        | Day | What |
        |-----|------|
        | 1   | Rest |
    """)
    html = render_body(topic, profile, library.dirs("content")).html
    assert '<ul class="checklist short">' in html
    assert html.count('class="tickbox') == 2 and 'class="tickbox ticked"' in html
    # What a screen reader hears for each (the SVG's title is its Figure's /Alt).
    assert "<title>Tick box</title>" in html and "<title>Ticked box</title>" in html
    assert '<p class="fill-in"><span class="fill-label">Next injection date:</span>' in html
    assert 'class="admonition tip"' in html and "<table>" in html
    assert '<h2 id="what-should-i-do">' in html


def test_fill_in_lines_next_to_each_other_are_one_group(make_library):
    """A page break never parts "Date of my procedure" from "Stop eating and drinking
    from": lines next to each other (blank lines between allowed) are one group; a
    line on its own, or after other text, is not grouped."""
    library, topic, profile = _body(make_library, """
        ## My dates

        Date of my procedure: ____

        Stop eating and drinking from: ____

        Bring this leaflet with you.

        Next appointment: ____
    """)
    html = render_body(topic, profile, library.dirs("content")).html
    group = html.split('<div class="fill-in-group">')
    assert len(group) == 2 and group[1].index("Stop eating") < group[1].index("</div>")
    assert "Bring this leaflet" not in group[1].split("</div>")[0]
    assert html.count('class="fill-in"') == 3


def test_a_body_is_converted_once_unless_it_looks_up_images(make_library, monkeypatch):
    """markup._converted: the same body (each clinic's copy of a topic) is converted
    once, with each clinic's fields filled in afterwards; a body with a picture is
    converted each time, as looking the picture up reads the library."""
    import markdown

    from handouts import markup

    library, topic, profile = _body(make_library, "## Calls\n\nCall {{ clinic.urgent_phone }}"
                                                  " or see [the signs](#calls).")
    other = load_clinic(library.clinic_folder("lakeside-spine"))
    made = count_calls(monkeypatch, markdown, "Markdown")
    first = render_body(topic, profile, library.dirs("content"))
    second = render_body(topic, other, library.dirs("content"))
    again = render_body(topic, profile, library.dirs("content"))
    assert made[0] == 1
    assert again == first and second.html != first.html
    assert second.html == first.html.replace(profile.clinic.urgent_phone.replace(" ", "\u00a0"),
                                             other.clinic.urgent_phone.replace(" ", "\u00a0"))
    assert first.internal_links == second.internal_links == ["calls"]
    pictured = topic.model_copy(update={"body": topic.body + "\n\n![The spine](images/"
                                                             "vertebroplasty.svg)\n"})
    for _ in range(2):
        assert render_body(pictured, profile, library.dirs("content")).images
    assert made[0] == 3
    assert not any(key[0].endswith("vertebroplasty.svg)\n") for key in markup._CONVERTED)


def test_clinic_fields_are_filled_and_escaped(make_library):
    library, topic, profile = _body(make_library, "Call {{ clinic.urgent_phone }} or "
                                                  "{{clinic.name}}.")
    html = render_body(topic, profile, library.dirs("content")).html
    assert "Call 020\u00a07946\u00a00999 or Riverside Cancer Centre." in html  # one word on paper


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ clinic.__class__ }}",
    "{{ config }}",
    "{% for x in range(10**9) %}x{% endfor %}",
    "{{ clinic.phone | attr('__class__') }}",
])
def test_template_code_in_topic_text_is_refused(make_library, body):
    library, topic, profile = _body(make_library, f"Text\n\n{body}\n")
    with pytest.raises(ValidationError) as info:
        render_body(topic, profile, library.dirs("content"))
    problem = info.value.problems[0]
    assert "not allowed in topic text" in problem.message and problem.line == 21


def test_clinic_field_the_profile_lacks(make_library):
    library = make_library({"t": topic_text("See {{ clinic.email }}")},
                           clinics=["lakeside-spine"])
    topic = load_topic(library.topic_path("t"))
    profile = load_clinic(library.clinic_folder("lakeside-spine"))
    with pytest.raises(ValidationError, match="clinic profile has no 'email'"):
        render_body(topic, profile, library.dirs("content"))


@pytest.mark.parametrize("body", [
    '<img src="file:///etc/hostname">',
    '<link rel="attachment" href="file:///etc/passwd">',
    "Some <a rel=attachment href='/etc/passwd'>text</a>",
    "<object data='file:///etc/passwd'></object>",
    "<iframe src='http://169.254.169.254/'></iframe>",
    "<script>alert(1)</script>",
    "<style>body { background: url(http://evil.example/) }</style>",
    "<!-- comment -->",
])
def test_raw_html_is_refused_with_its_line(make_library, body):
    library, topic, profile = _body(make_library, f"Intro\n\n{body}\n")
    with pytest.raises(ValidationError) as info:
        render_body(topic, profile, library.dirs("content"))
    problem = info.value.problems[0]
    assert "raw HTML" in problem.message and problem.line == 21


@pytest.mark.parametrize("body", [
    "![x](../../../etc/passwd)",
    "![x](/etc/hostname.png)",
    "![x](file:///etc/hostname.svg)",
    "![x](http://example.com/a.png)",
    "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "![x](images/../../../../etc/hostname.svg)",
    "[click](../../secret.pdf)",
    "[click](file:///etc/passwd)",
    "[click](javascript:alert(1))",
])
def test_images_and_links_outside_the_library_are_refused(make_library, body):
    library, topic, profile = _body(make_library, f"Intro\n\n{body}\n")
    with pytest.raises(UnsafeResourceError) as info:
        render_body(topic, profile, library.dirs("content"))
    assert "refused" in str(info.value)


def test_symlinked_image_escaping_the_library_is_refused(make_library, tmp_path):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET</text></svg>')
    library, topic, profile = _body(make_library, "![a secret](images/link.svg)")
    (library.root / "content" / "images" / "link.svg").symlink_to(secret)
    with pytest.raises(UnsafeResourceError):
        render_body(topic, profile, library.dirs("content"))


def test_web_links_are_kept(make_library):
    library, topic, profile = _body(make_library, "[NHS](https://www.nhs.uk) and "
                                                  "<https://www.cancer.gov>")
    html = render_body(topic, profile, library.dirs("content")).html
    assert 'href="https://www.nhs.uk"' in html and 'href="https://www.cancer.gov"' in html


def test_brand_css_only_from_validated_hex(library):
    profile = load_clinic(library.clinic_folder("riverside-oncology"))
    css = brand_css(profile)
    assert css.startswith(":root {") and "--brand: #00607a;" in css
    assert "url(" not in css and ";}" not in css.replace(" ", "")[:-1]


def test_leaflet_document_metadata(library):
    topic = load_edition(library, "bone-metastases")[0]
    profile = load_clinic(library.clinic_folder("lakeside-spine"))
    composed = compose_leaflet(library, topic, profile, "letter", today=dt.date(2027, 1, 1))
    html = composed.html
    assert '<html lang="en-US" dir="ltr">' in html
    assert '<meta name="author" content="Lakeside Spine &amp; Pain Center">' in html
    assert "(555) 010-2499" in html and "911" in html
    # The urgent box's icon is drawn in the clinic's own warning colour, with alt text.
    icon = html.split('class="urgent-icon"', 1)[1].split("</svg>", 1)[0]
    assert 'fill="#b00020"' in icon and "<title>Warning</title>" in icon
    assert [p.name for p in composed.stylesheets] == ["base.css", "leaflet.css",
                                                      "paper-letter.css"]


def test_override_template_extends_the_bundled_one(make_library, library):
    lib = make_library({"t": topic_text("Body text")})
    (lib.root / "templates").mkdir()
    (lib.root / "templates" / "leaflet.html.j2").write_text(
        '{% extends "!bundled/leaflet.html.j2" %}'
        '{% block masthead %}<p class="custom">OUR OWN MASTHEAD</p>{{ super() }}'
        "{% endblock %}")
    topic = load_topic(lib.topic_path("t"))
    profile = load_clinic(lib.clinic_folder("riverside-oncology"))
    html = compose_leaflet(lib, topic, profile, "a4").html
    assert "OUR OWN MASTHEAD" in html and 'class="masthead"' in html


def test_library_topic_overrides_bundled_and_bundled_topics_remain(make_library):
    lib = make_library({"bone-metastases": topic_text("Local version", title="Local")})
    topics = lib.topics()
    assert topics["bone-metastases"].parent == lib.root / "content"
    assert "vertebroplasty-kyphoplasty" in topics  # from the bundled layer


def test_bundled_setting_limits_what_the_package_supplies(make_library, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    lib = make_library({"own": topic_text("## What is it?\n\nOur own text.\n")})
    manifest = lib.root / "handouts.toml"
    manifest.write_text('bundled = ["templates", "styles"]\n')
    lib = type(lib)(lib.root)
    assert list(lib.topics()) == ["own"] and list(lib.clinics()) == ["riverside-oncology"]
    assert lib.booklets() == {}
    html = compose_leaflet(lib, load_topic(lib.topic_path("own")),
                           load_clinic(lib.clinic_folder("riverside-oncology")), "a4").html
    assert "Our own text." in html and 'class="masthead"' in html   # bundled template
    assert all("content" not in p.parts or lib.root in p.parents for p in lib.asset_roots())

    manifest.write_text('output = "output"\nbundled = ["content", "fonts"]\n')
    result = subprocess.run([sys.executable, "-m", "handouts", "--library", str(lib.root),
                             "list"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "handouts.toml:2: bundled:" in result.stderr and "templates" in result.stderr


def test_overdue_topic_says_so_in_the_footer(library):
    topic = load_edition(library, "bone-metastases")[0]
    profile = load_clinic(library.clinic_folder("riverside-oncology"))
    html = compose_leaflet(library, topic, profile, "a4", today=dt.date(2031, 1, 1)).html
    assert "REVIEW OVERDUE" in html


def test_clinic_stylesheet_may_not_load_anything(make_library):
    lib = make_library()
    folder = lib.clinic_folder("riverside-oncology")
    for css in ["h2 { background: url(file:///etc/passwd) }", '@import "http://x/y.css";',
                "h2 { background: u\\72l(x) }"]:
        (folder / "style.css").write_text(f"h1 {{ color: #000 }}\n{css}\n")
        with pytest.raises(HandoutsError) as info:
            load_clinic(folder)
        assert info.value.problems[0].line == 2


@pytest.mark.parametrize("signs", [
    ["short", "short", "short", "short"],
    ["a much longer sign that takes two lines in a column of the box", "short", "short"],
    ["one", "two", "three", "four", "five", "six", "seven"],
])
def test_urgent_signs_split_into_two_columns_in_reading_order(signs):
    first, second = sign_columns(signs)
    assert first + second == signs and first and second
    weight = lambda column: sum(len(s) + 40 for s in column)  # noqa: E731
    moved = [first[:-1], [first[-1], *second]]   # one item the other way
    assert abs(weight(first) - weight(second)) <= abs(weight(moved[0]) - weight(moved[1]))
    assert sign_columns(["only one"]) == [["only one"]]


def test_the_urgent_box_lists_every_sign_in_order(library):
    topic = load_edition(library, "bone-metastases")[0]
    profile = load_clinic(library.clinic_folder("riverside-oncology"))
    html = compose_leaflet(library, topic, profile, "a4").html
    start = html.index('class="urgent"')
    box = html[start:html.index("</aside>", start)]
    positions = [box.index(sign) for sign in topic.meta.urgent.signs]
    assert positions == sorted(positions) and box.count("<ul>") == 2


@pytest.mark.parametrize("language", ["en-GB", "en-US"])
def test_english_dates_without_cldr_are_the_dates_babel_writes(language):
    import datetime as dt

    from babel import Locale
    from babel.dates import format_date as babel_date
    from babel.dates import format_skeleton

    from handouts.messages import format_date

    locale = Locale.parse(language.replace("-", "_"))
    for day in [dt.date(2026, month, day) for month in range(1, 13) for day in (1, 9, 28)]:
        assert format_date(day, language) == babel_date(day, "long", locale=locale)
        assert format_date(day, language, "month") == format_skeleton("yMMMM", day,
                                                                      locale=locale)
        assert format_date(day, language, "month", "MMMM y") == babel_date(day, "MMMM y",
                                                                           locale=locale)
