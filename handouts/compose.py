"""Compose: topics + clinic profile -> one HTML document through Jinja2 templates."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from markupsafe import Markup, escape

from . import __version__, record
from . import cache as caches
from .errors import Problem, ValidationError
from .fonts import font_face_css
from .library import Library
from .markup import URGENT_MARKER, MarkupResult, keep_together, render_body
from .messages import (
    MONTH_PATTERN,
    Messages,
    direction,
    format_date,
    generated_css,
    messages_for,
    primary,
)
from .models import PAPER_SIZES, ClinicProfile, Composed, PrintOptions, Topic
from .qr import qr_svg, topic_url
from .timelimit import uninterrupted


def standalone_html(composed: Composed) -> str:
    """The document with its stylesheets linked, for `weasyprint` or a browser."""
    links = [f"<style>{font_face_css()}</style>"] + [
        f'<link rel="stylesheet" href="{path.as_uri()}">' for path in composed.stylesheets]
    return composed.html.replace("</head>", "\n".join(links) + "\n</head>", 1)


def source_date(topics: list[Topic]) -> str:
    """The document date: SOURCE_DATE_EPOCH if set, else the newest review date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        stamp = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    newest = max(t.meta.last_reviewed for t in topics)
    return f"{newest.isoformat()}T00:00:00Z"


class _RecordingEnvironment(Environment):
    """An Environment that records every template a document uses (record.py).

    Compiled templates reach their parents, includes and partials through
    get_template, cached or not, so each use is recorded here; so are the
    folders searched before the one that had the file, where an override may
    appear later.
    """

    folders: tuple[str, ...] = ()

    def get_template(self, name, parent=None, globals=None):   # Jinja2's signature
        template = super().get_template(name, parent, globals)
        if name.startswith("!bundled/") or not template.filename:
            if template.filename:
                record.read(template.filename)
            return template
        candidates = [os.path.join(folder, name) for folder in self.folders]
        winner = next((c for c in candidates if os.path.isfile(c)), None)
        if winner and not os.path.samefile(winner, template.filename):
            # An override appeared since the template was cached (Jinja2 checks only
            # that the cached file itself is unchanged): load afresh.
            self.cache.clear()
            template = super().get_template(name, parent, globals)
        record.read(template.filename)
        for candidate in candidates:
            if os.path.abspath(candidate) == os.path.abspath(template.filename):
                break
            record.missed(candidate)
        return template


class _BytecodeCache(FileSystemBytecodeCache):
    """Compiled templates kept between processes (cache kind "jinja"): compiling them
    was a tenth of a one-topic build. Jinja2 keys each entry by the template's name
    and a checksum of its source, so an edited template is compiled afresh. The folder
    follows the cache root, and a cleared or read-only cache only costs a compile."""

    def __init__(self):
        super().__init__(directory=str(caches.folder("jinja")))

    def _get_cache_filename(self, bucket) -> str:
        self.directory = str(caches.folder("jinja"))
        return super()._get_cache_filename(bucket)

    def load_bytecode(self, bucket) -> None:
        with uninterrupted():   # Jinja2 opens the file a line before its `with`
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket) -> None:
        try:
            caches.folder("jinja").mkdir(parents=True, exist_ok=True)
            with uninterrupted():
                super().dump_bytecode(bucket)
        except OSError:
            pass


class _Loader(FileSystemLoader):
    """Jinja2's loader, its read of a template kept whole under a time limit."""

    def get_source(self, environment, template):   # Jinja2's signature
        with uninterrupted():
            return super().get_source(environment, template)


@lru_cache(maxsize=8)
def _environment(layers: tuple[Path, ...], bundled: Path) -> Environment:
    # Every layer's folder, existing or not: an override may be added later.
    folders = [str(root / "templates") for root in layers]
    loader = ChoiceLoader([
        # `{% extends "!bundled/leaflet.html.j2" %}` reaches the template an
        # override replaces.
        PrefixLoader({"!bundled": _Loader(str(bundled / "templates"))}, delimiter="/"),
        _Loader(folders),
    ])
    env = _RecordingEnvironment(loader=loader, autoescape=select_autoescape(default=True),
                                undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                extensions=["jinja2.ext.i18n"],
                                bytecode_cache=_BytecodeCache())
    env.policies["ext.i18n.trimmed"] = True   # {% trans %} text on several lines: one line
    env.install_null_translations(newstyle=True)
    env.folders = tuple(folders)
    env.filters["longdate"] = _longdate
    env.filters["monthyear"] = _monthyear
    env.filters["together"] = _together   # doses, dates ... never broken across lines
    env.filters["inlang"] = _inlang
    env.filters["nowrap"] = lambda text: Markup('<span class="nowrap">') + escape(text) \
        + Markup("</span>")
    # Numbers, addresses of web sites and e-mail read left to right in any language.
    env.filters["ltr"] = lambda text: Markup('<span dir="ltr">') + escape(text) \
        + Markup("</span>")
    return env


@pass_context
def _together(context, text: str) -> str:
    return keep_together(text, direction(context.get("lang") or "en") == "rtl")


@pass_context
def _longdate(context, day: dt.date) -> str:
    return format_date(day, context.get("lang") or "en", "long")


@pass_context
def _monthyear(context, day: dt.date) -> str:
    return format_date(day, context.get("lang") or "en", "month", context.get("month_pattern"))


@pass_context
def _inlang(context, text, language: str):
    """`text` in a span tagged with its language, when that is not the document's (a
    clinic's English name in an Arabic leaflet), so screen readers and the PDF's
    tags know it; unchanged otherwise."""
    if not text or primary(language) == primary(context.get("lang") or language):
        return text
    direction_ = direction(language)
    return Markup(f'<span lang="{escape(language)}" dir="{direction_}">') + escape(text) \
        + Markup("</span>")


def _translated(env: Environment, messages: Messages) -> Environment:
    # The environment is shared by every document of a library; each document renders
    # its templates straight after this, on one thread (serve renders on its main one).
    env.install_gettext_translations(messages, newstyle=True)
    return env


def environment(library: Library) -> Environment:
    """The Jinja2 environment searching the library's templates, then the bundled ones."""
    return _environment(tuple(library.layers), library.bundled.resolve())


def mix(colour: str, other: str, amount: float) -> str:
    """`amount` of `colour` over `other` (both #rrggbb)."""
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i:i + 2], 16) for i in (1, 3, 5)]
    mixed = (round(x * amount + y * (1 - amount)) for x, y in zip(a, b, strict=True))
    return "#" + "".join(f"{v:02x}" for v in mixed)


def brand_css(profile: ClinicProfile) -> str:
    """CSS custom properties from the clinic's (validated, hex-only) colours."""
    c = profile.clinic.colours
    accent = c.accent or c.primary
    values = {
        "brand": c.primary, "brand-tint": mix(c.primary, "#ffffff", 0.10),
        "brand-soft": mix(c.primary, "#ffffff", 0.35),
        "brand-dark": mix(c.primary, "#000000", 0.75),
        "accent": accent, "accent-tint": mix(accent, "#ffffff", 0.12),
        "warning": c.warning, "warning-tint": mix(c.warning, "#ffffff", 0.07),
        "text": c.text,
    }
    return ":root { " + " ".join(f"--{k}: {v};" for k, v in values.items()) + " }"


def stylesheets(library: Library, kind: str, layout: str, paper: str, variant: str,
                profile: ClinicProfile, writing: str = "ltr") -> list[Path]:
    """The ordered stylesheets for a document: base, layout, paper, variant, the page
    mirrored for a right-to-left language, clinic."""
    names = ["base.css", f"{kind}.css"]
    if layout == "checklist":
        names.append("checklist.css")
    names.append(f"paper-{paper}.css")
    if PAPER_SIZES[paper].small:
        names.append("small-page.css")
    if variant == "large":
        names.append("large-print.css")
    if writing == "rtl":
        names.append("rtl.css")
    sheets = [_style(library, name) for name in names]
    if profile.stylesheet:
        sheets.append(profile.stylesheet)
    return sheets


def _style(library: Library, name: str) -> Path:
    path = library.find("styles", name)   # recorded, with the layers it passed over
    if path is None:
        raise ValidationError(f"stylesheet styles/{name} not found in the library or "
                              "the bundled defaults", hint="reinstall handouts or "
                              "restore the file")
    return path


def sign_columns(signs: list[str]) -> list[list[str]]:
    """The urgent signs in two columns of about the same height (on a tie, the first
    is the taller). Split here rather than by CSS columns, which nested in the
    page's columns were balanced again on every layout pass."""
    if len(signs) < 2:
        return [list(signs)]
    weights = [len(sign) + 40 for sign in signs]   # 40: about a line, per item
    total = sum(weights)
    best = min(range(1, len(signs)),
               key=lambda k: (abs(2 * sum(weights[:k]) - total),
                              sum(weights[:k]) < total / 2))
    return [list(signs[:best]), list(signs[best:])]


def _urgent_html(library: Library, topic: Topic, profile: ClinicProfile,
                 messages: Messages) -> Markup:
    template = _translated(environment(library), messages).get_template(
        "partials/urgent.html.j2")
    return Markup(template.render(urgent=topic.meta.urgent, clinic=profile.clinic,
                                  sign_columns=sign_columns(topic.meta.urgent.signs),
                                  lang=messages.language, label=messages.label))


def topic_section(library: Library, topic: Topic, profile: ClinicProfile,
                  prefix: str = "", messages: Messages | None = None,
                  ) -> tuple[Markup, Markup, MarkupResult]:
    """A topic's body as safe HTML, and its urgent-help box if it goes after the body.

    The box goes where the topic put `{{ urgent_help }}`, else after the body (outside
    any columns, so it spans the page).
    """
    messages = messages or messages_for(library, profile.clinic.language, profile)
    result = render_body(topic, profile, library.dirs("content"), prefix=prefix,
                         gettext=messages.gettext)
    urgent = _urgent_html(library, topic, profile, messages)
    body = Markup(result.html)  # sanitised by render_body
    if URGENT_MARKER in body:
        return Markup(body.replace(URGENT_MARKER, urgent)), Markup(""), result
    return body, urgent, result


def _context(library, profile, paper, variant, topics, today, language):
    clinic = profile.clinic
    language = language or clinic.language
    return {
        "clinic": clinic, "clinic_slug": profile.slug, "lang": language,
        "dir": direction(language), "clinic_lang": clinic.language,
        "logo_url": profile.logo_path.resolve().as_uri(),
        "brand_css": Markup(brand_css(profile)), "paper": paper, "variant": variant,
        "created": source_date(topics), "generator": f"handouts {__version__}",
        "today": today,
    }


def _localise(library: Library, profile: ClinicProfile, context: dict,
              booklet: bool = False) -> tuple[Messages, list[str]]:
    """The document's messages installed, and its CSS-printed words in its language."""
    messages = messages_for(library, context["lang"], profile)
    _translated(environment(library), messages)
    css, words = generated_css(messages, booklet)
    # str(): Markup + str would HTML-escape the CSS strings' quotes.
    context["brand_css"] = Markup(str(context["brand_css"]) + " " + css)
    context["label"] = messages.label
    context["month_pattern"] = messages.gettext(MONTH_PATTERN)
    return messages, words


def _label_problems(messages: Messages, profile: ClinicProfile) -> list[Problem]:
    """A warning for each clinic label printed in English in another language, and
    for each rewording the clinic gives that nothing uses."""
    return list(messages.problems) + [Problem(
        f"the clinic's label {value!r} has no {messages.language} wording, so it prints in "
        "English", file=profile.folder / "clinic.toml",
        field=f"messages.{messages.language}", code="untranslated-label",
        hint=f'add [messages.{messages.language}] with "{value}" = "..."')
        for value in sorted(messages.missing)]


def _sources(topics: list[Topic], profile: ClinicProfile, messages: Messages) -> list[Path]:
    return [t.path for t in topics] + [profile.folder / "clinic.toml"] + \
        ([messages.source] if messages.source else [])


def compose_leaflet(library: Library, topic: Topic, profile: ClinicProfile, paper: str,
                    variant: str = "standard", density: int = 0,
                    today: dt.date | None = None,
                    options: PrintOptions = PrintOptions(),
                    language: str | None = None) -> Composed:
    """One topic as a branded leaflet (or checklist) for one clinic and paper.

    `language` is the edition's (the PDF's /Lang); the clinic's when not given."""
    return leaflet_composer(library, topic, profile, paper, variant, today, options,
                            language)(density)


def leaflet_composer(library: Library, topic: Topic, profile: ClinicProfile, paper: str,
                     variant: str = "standard", today: dt.date | None = None,
                     options: PrintOptions = PrintOptions(),
                     language: str | None = None) -> Callable[[int], Composed]:
    """`compose_leaflet` for each spacing step (density) in turn: the topic's text, the
    clinic's words and the stylesheets are made once, and each step only sets the
    template again."""
    today = today or dt.date.today()
    context = _context(library, profile, paper, variant, [topic], today, language)
    messages, words = _localise(library, profile, context)
    body, urgent, result = topic_section(library, topic, profile, messages=messages)
    sheets = stylesheets(library, "leaflet", topic.meta.layout, paper, variant, profile,
                         context["dir"])
    columns = topic.meta.columns if not PAPER_SIZES[paper].small and variant == "standard" \
        else 1
    context.update(topic=topic.meta, slug=topic.slug, body=body, urgent=urgent, columns=columns,
                   overdue=topic.overdue(today))
    if options.bleed_mm or options.marks:
        context["brand_css"] = Markup(context["brand_css"] + " " + print_css(options))
    roots = library.asset_roots()
    url = topic_url(profile.clinic.topic_url, topic.slug)
    context["qr"] = None
    if url:
        svg = qr_svg(url)
        context["qr"] = {"url": url, "src": svg.as_uri()}
        roots = roots + [svg.parent.resolve()]
    template = environment(library).get_template(f"{topic.meta.layout}.html.j2")
    warnings = list(result.problems) + _label_problems(messages, profile)
    sources = _sources([topic], profile, messages)
    budget = topic.meta.budget(paper, variant)

    def at(density: int) -> Composed:
        html = template.render({**context, "density": density})
        return Composed(html=html, stylesheets=list(sheets), title=topic.meta.title,
                        kind="leaflet", budget=budget, warnings=list(warnings),
                        bodies={topic.slug: result}, roots=list(roots),
                        sources=list(sources), printed=list(words))
    return at


def compose_card(library: Library, topic: Topic, profile: ClinicProfile,
                 today: dt.date | None = None, language: str | None = None) -> Composed:
    """A wallet card: its `## Front` and `## Back` sections, and the clinic's numbers on
    the back (finish.card_sheets places it on sheets for printing)."""
    today = today or dt.date.today()
    sides = _card_sides(topic)
    front, back = (render_body(topic.model_copy(update={"body": text, "body_line": line}),
                               profile, library.dirs("content")) for text, line in sides)
    context = _context(library, profile, "card", "standard", [topic], today, language)
    messages, words = _localise(library, profile, context)
    names = ["base.css", "card.css"] + (["rtl.css"] if context["dir"] == "rtl" else [])
    sheets = [_style(library, name) for name in names]
    if profile.stylesheet:
        sheets.append(profile.stylesheet)
    context.update(topic=topic.meta, slug=topic.slug, front_html=Markup(front.html),
                   back_html=Markup(back.html))
    html = environment(library).get_template("card.html.j2").render(context)
    return Composed(html=html, stylesheets=sheets, title=topic.meta.title, kind="card",
                    budget=2,
                    warnings=list(front.problems) + list(back.problems)
                    + _label_problems(messages, profile),
                    bodies={topic.slug: front}, roots=library.asset_roots(),
                    sources=_sources([topic], profile, messages), printed=words)


def _card_sides(topic: Topic) -> list[tuple[str, int]]:
    """The text under `## Front` and under `## Back`, each with the line it starts on."""
    lines = topic.body.split("\n")
    heads = [i for i, row in enumerate(lines) if re.fullmatch(r"##\s+(Front|Back)\s*", row)]
    names = [lines[i].split()[1] for i in heads]
    if names != ["Front", "Back"]:
        raise ValidationError("a card has two sections, `## Front` then `## Back`",
                              file=topic.path, line=topic.body_line, field="layout",
                              hint="put the words for each side of the card under them")
    return [("\n".join(lines[start + 1:end]), topic.body_line + start + 1)
            for start, end in ((heads[0], heads[1]), (heads[1], len(lines)))]


@dataclass
class Section:
    """One topic inside a booklet."""

    id: str
    topic: object          # TopicMeta
    body: Markup
    urgent: Markup
    overdue: bool


def print_css(options: PrintOptions) -> str:
    """@page rules for print-shop output (values are numbers we format ourselves)."""
    rules = []
    if options.bleed_mm:
        rules.append(f"bleed: {options.bleed_mm:g}mm;")
    # Crop marks are drawn by finish.crop_marks, outside the bleed: WeasyPrint's own
    # sit inside it.
    return "@page { " + " ".join(rules) + " }" if rules else ""


def compose_booklet(library: Library, spec, slug: str, topics: list[Topic],
                    profile: ClinicProfile, paper: str, variant: str = "standard",
                    options: PrintOptions = PrintOptions(),
                    today: dt.date | None = None, compact: bool = False,
                    language: str | None = None) -> Composed:
    """Several topics as one booklet document: cover, contents, topics, back cover.

    `compact` sets the back cover tighter, for when it would not fit on one page.
    """
    today = today or dt.date.today()
    context = _context(library, profile, paper, variant, topics, today, language)
    messages, words = _localise(library, profile, context, booklet=True)
    spec = spec.in_language(context["lang"])
    sections, warnings, bodies = [], [], {}
    for topic in topics:
        prefix = f"{topic.slug}--"
        body, urgent, result = topic_section(library, topic, profile, prefix=prefix,
                                             messages=messages)
        sections.append(Section(id=f"topic-{topic.slug}", topic=topic.meta, body=body,
                                urgent=urgent, overdue=topic.overdue(today)))
        warnings += result.problems
        bodies[topic.slug] = result
    sheets = stylesheets(library, "booklet", "leaflet", paper, variant, profile,
                         context["dir"])
    sheets.insert(1, library.find("styles", "leaflet.css"))
    cover = profile.clinic.colours.primary
    extra = (f"@page cover {{ background: {cover}; }} @page back {{ background: {cover}; }} "
             f"{print_css(options)}")
    context.update(booklet=spec, sections=sections, compact=compact,
                   brand_css=Markup(str(context["brand_css"]) + " " + extra))
    html = environment(library).get_template("booklet.html.j2").render(context)
    source = [library.booklet_path(slug)] if slug in library.booklets() else []
    return Composed(html=html, stylesheets=sheets, title=spec.title, kind="booklet",
                    warnings=warnings + _label_problems(messages, profile), bodies=bodies,
                    roots=library.asset_roots(),
                    sources=source + _sources(topics, profile, messages), printed=words)
