"""Load: topics (markdown + YAML front matter), clinic profiles and terms (TOML) -> models.

Every input is untrusted. Reading never raises anything but a HandoutsError, and a
schema error names the file, the line and the field, with every problem at once.
Files are read only if they are regular files inside the library (read_file).

A clinic's `style.css` may change how a leaflet looks, never what is on it: the
urgent box and the "review overdue" line must stay visible. So it may use only
these properties (CSS_ALLOWED), each with its values checked:

- color: #rrggbb with at least 7:1 contrast on white, or var(--text), var(--brand),
  var(--brand-dark), var(--warning);
- background-color: white, var(--brand-tint), var(--accent-tint), var(--warning-tint)
  (the light backgrounds every text colour above is readable on);
- font-weight (normal, bold, 400, 700), font-style (normal, italic),
  text-transform, font-size from 9 to 72 pt (pt only: relative sizes compound),
  line-height 1 to 2.5, letter-spacing 0 to 2 pt (0.2em);
- margin, padding and their sides: 0 to 30 pt (about 10 mm; margin also auto),
  never negative; border-radius the same;
- border, border-color, border-style, border-width and their sides (widths up to 6 pt).

Everything else is refused with its file, line and property: display, visibility,
opacity, position, transform, content, custom properties (--warning), clip, height,
overflow, !important, nested rules and every @-rule. The raw text is refused too for
url(), @import, @font-face, image-set, expression(), attr() and backslashes.
Brand colours belong in clinic.toml's [colours], where `handouts check` measures them.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tinycss2
import yaml
from pydantic import ValidationError as PydanticError

from . import record
from .errors import HandoutsError, Problem, ValidationError
from .files import read_file
from .library import Library
from .models import (
    BookletSpec,
    Clinic,
    ClinicProfile,
    Terms,
    Topic,
    TopicMeta,
    contrast,
    hex_colour,
)
from .raster import check_raster
from .svg import check_svg

MAX_TOPIC_BYTES = 512 * 1024       # a leaflet is a few KB; 50 MB is an accident or an attack
MAX_PROFILE_BYTES = 64 * 1024
MAX_LOGO_BYTES = 2 * 1024 * 1024
LOGO_TYPES = {".svg", ".png", ".jpg", ".jpeg"}
TERMS_FILE = "terms.toml"
_TERM_KEY = re.compile(r"[a-z0-9_]{1,60}")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)


# --- reading files safely ---------------------------------------------------------------

def read_text(path: Path, limit: int, roots: Iterable[Path] | None = None) -> str:
    """A small UTF-8 text file's contents (see read_file), or a ValidationError saying why not."""
    data = read_file(path, limit, roots)
    if b"\x00" in data:
        raise ValidationError("this is a binary file, not text", file=path,
                              hint="save it as plain UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValidationError("file is not UTF-8 text", file=path, line=line,
                              hint="save it with UTF-8 encoding") from None
    if not text.strip():
        raise ValidationError("file is empty", file=path)
    return text


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: faster


class _UniqueKeyLoader(_BaseLoader):
    """SafeLoader that refuses duplicate keys instead of keeping the last one."""


class _Refused(Exception):
    """A front-matter value YAML can parse but we will not build; has the YAML mark."""

    def __init__(self, message: str, mark, hint: str):
        super().__init__(message)
        self.mark, self.hint = mark, hint


def _construct_mapping(loader, node, deep=False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            # `? [a, b]` or `{[a]: 1}`: a list as a key, which no topic key is.
            raise _Refused("a key must be a word, not a list or a set of keys",
                           key_node.start_mark, "write `key: value`")
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 2} of the file)",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep)


def _guarded(construct, describe, hint: str):
    """A constructor that turns Python's ValueError (2026-02-30, a 5,000-digit number)
    into a refusal with the value's line, instead of a traceback."""

    def build(loader, node):
        try:
            return construct(loader, node)
        except ValueError as error:
            raise _Refused(describe(node.value, error), node.start_mark, hint) from None

    return build


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _guarded(
    yaml.constructor.SafeConstructor.construct_yaml_timestamp,
    lambda value, error: f"{value[:40]!r} is not a real date ({error})",
    "write the date as YYYY-MM-DD, e.g. 2026-02-28"))
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _guarded(
    yaml.constructor.SafeConstructor.construct_yaml_int,
    lambda value, error: f"a number {len(value)} digits long is too long to read",
    "numbers in front matter are small: pages, years"))

MAX_YAML_DEPTH = 8   # the deepest front matter, sources -> a source -> its keys, is 3


def _refuse_yaml_tricks(front: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built.

    One pass over the parser's events, so linear in the text: ten lines of nested
    aliases would otherwise expand (and be walked) exponentially, and topics never
    need them.
    """
    depth = 0
    nested = f"lists or keys nested more than {MAX_YAML_DEPTH} deep"
    try:
        for event in yaml.parse(front, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _Refused("YAML anchors and aliases (&name, *name) are not allowed",
                               event.start_mark, "write each value out in full")
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise _Refused(nested, event.start_mark,
                                   "check the brackets and indentation")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError as error:
        # libyaml (PyYAML 6.0.4's) refuses deep brackets itself, while scanning ahead
        # of the events above: the same mistake, said the same way.
        if "nesting depth" not in str(getattr(error, "problem", "") or ""):
            raise
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        raise _Refused(nested, mark, "check the brackets and indentation") from None


def _yaml_lines(text: str) -> dict[tuple, int]:
    """Map each key path in a YAML document to its 1-based line.

    Only called on front matter that loaded, so without aliases or deep nesting:
    the walk visits each node once.
    """
    lines: dict[tuple, int] = {}
    try:
        stack = [(yaml.compose(text, Loader=_BaseLoader), ())]
    except yaml.YAMLError:
        return lines
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            children = [((*path, key.value), key, value) for key, value in node.value
                        if isinstance(key, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            children = [((*path, index), item, item) for index, item in enumerate(node.value)]
        else:
            continue
        for sub, where, child in children:
            lines[sub] = where.start_mark.line + 1
            stack.append((child, sub))
    return lines


def _schema_problems(error: PydanticError, file: Path, lines: dict[tuple, int],
                     offset: int = 0) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        line = None
        for depth in range(len(loc), 0, -1):
            if loc[:depth] in lines:
                line = lines[loc[:depth]] + offset
                break
        field = ".".join(str(part) for part in loc) or None
        message = item["msg"].removeprefix("Value error, ")
        hint = None
        if item["type"] == "extra_forbidden":
            message, hint = "unknown key", "remove it or check its spelling"
        elif item["type"] == "string_type" and isinstance(item.get("input"), dict):
            hint = 'put the text in quotes: a ": " inside it makes YAML read a key'
        elif item["type"] == "missing":
            message, hint = "required key is missing", f"add `{loc[-1]}:`"
        problems.append(Problem(message, file=file, line=line, field=field, hint=hint,
                                code=item["type"]))
    return problems


# --- topics -----------------------------------------------------------------------------

def _parse_front_matter(front: str, path: Path) -> Any:
    """The front matter's YAML as Python data, or a ValidationError with its line."""
    try:
        _refuse_yaml_tricks(front)
        return yaml.load(front, Loader=_UniqueKeyLoader)   # a SafeLoader subclass
    except _Refused as error:
        raise ValidationError(f"front matter: {error}", file=path,
                              line=error.mark.line + 2 if error.mark else None,
                              hint=error.hint) from None
    except yaml.YAMLError as error:
        # The context mark points at what was left open (a bracket, a quote),
        # which is where the author has to look; the problem mark is often the end.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else None  # +1 for 1-based, +1 for the `---` line
        problem = getattr(error, "problem", None) or str(error)
        raise ValidationError(f"front matter is not valid YAML: {problem}", file=path,
                              line=line, hint="check indentation and quote values "
                                              "that contain a colon") from None
    except (ValueError, TypeError, RecursionError) as error:
        # Last line of defence: a value PyYAML's constructors choke on in a way not
        # foreseen above is still the author's to fix, not a traceback.
        raise ValidationError(f"front matter has a value that cannot be read ({error})",
                              file=path, hint="check the values' types and quotes") from None



def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """(front matter, body, line where the body starts)."""
    match = _FRONT.match(text)
    if not match:
        raise ValidationError("no front matter", file=path, line=1,
                              hint="start the file with a `---` line, the YAML keys, "
                                   "then another `---` line")
    return match.group(1), text[match.end():], text[: match.end()].count("\n") + 1


def load_topic(path: Path, roots: Iterable[Path] | None = None) -> Topic:
    """Read and validate one topic file (inside `roots`, default: its own folder).

    The file is read every time; a text parsed before in this process (same path,
    same contents) gives the Topic made then (frozen, so it can be shared): a print
    desk page, a batch and a check each load the same few files hundreds of times,
    and YAML and the schema were most of a desk page's time."""
    text = read_text(path, MAX_TOPIC_BYTES, roots)
    key = (path, hashlib.blake2b(text.encode(), digest_size=16).digest())
    topic = _PARSED.get(key)
    if topic is None:
        topic = _parse_topic(path, text)
        if len(_PARSED) >= 4096:
            _PARSED.clear()
        _PARSED[key] = topic
    return topic


_PARSED: dict[tuple[Path, bytes], Topic] = {}   # (path, digest of the text) -> Topic


def _parse_topic(path: Path, text: str) -> Topic:
    front, body, body_line = split_front_matter(text, path)
    data = _parse_front_matter(front, path)
    if not isinstance(data, dict):
        raise ValidationError("front matter must be a set of `key: value` lines",
                              file=path, line=2)
    try:
        meta = TopicMeta.model_validate(data)
    except PydanticError as error:
        raise ValidationError(problems=_schema_problems(error, path, _yaml_lines(front),
                                                        offset=1)) from None
    if not body.strip():
        raise ValidationError("the topic has no text after its front matter", file=path,
                              line=body_line)
    return Topic(slug=path.stem, path=path, meta=meta, body=body, body_line=body_line)


def load_topics(library: Library, slugs: list[str] | None = None) -> list[Topic]:
    """Load the named topics (default: all), reporting every broken one at once."""
    paths = [library.topic_path(s) for s in slugs] if slugs else list(
        library.topics().values())
    topics, problems = [], []
    for path in paths:
        try:
            topics.append(load_topic(path, library.dirs("content")))
        except HandoutsError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems=problems)
    return topics


# --- clinics ----------------------------------------------------------------------------

def _toml_line(text: str, loc: tuple) -> int | None:
    """Best-effort line of a key in a TOML file (tomllib keeps no positions)."""
    for key in reversed([p for p in loc if isinstance(p, str)]):
        # [ \t]*, not \s*: \s* also eats newlines, quadratic on a file of blank lines.
        match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.M) or \
            re.search(rf"^[ \t]*\[{re.escape(key)}\]", text, re.M)
        if match:
            return text[: match.start()].count("\n") + 1
    return None


MAX_TOML_DEPTH = 50   # for the error's line only: tomllib itself recurses until Python stops it


def _nesting_line(text: str) -> int | None:
    """The line where brackets first nest more than MAX_TOML_DEPTH deep (strings ignored)."""
    depth = 0
    for line, row in enumerate(text.splitlines(), 1):
        for char in row:
            depth += (char in "[{") - (char in "]}")
            if depth > MAX_TOML_DEPTH:
                return line
    return None


def parse_toml(text: str, path: Path) -> dict:
    """A TOML document as a dict, or a ValidationError with the line where possible."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise ValidationError(f"not valid TOML: {str(error).split(' (at')[0]}", file=path,
                              line=int(match.group(1)) if match else None,
                              hint="check quotes and `key = value` syntax") from None
    except RecursionError:
        raise ValidationError("lists or tables are nested too deeply", file=path,
                              line=_nesting_line(text),
                              hint="check the brackets: profiles nest two levels") from None
    except ValueError as error:
        # tomllib passes on int()'s refusal of a number over 4,300 digits.
        match = re.search(r"[0-9][0-9_]{1000}", text)
        line = text[: match.start()].count("\n") + 1 if match else None
        reason = str(error).split(":")[0]   # int()'s advice to raise the limit is not ours
        raise ValidationError(f"a value cannot be read ({reason})", file=path, line=line,
                              hint="numbers in these files are short") from None


def load_toml_model(path: Path, model, roots: Iterable[Path] | None = None):
    """Read a small TOML file (inside `roots`, default: its folder) and validate it.

    Every schema problem is reported at once, each with the line of its key.
    """
    text = read_text(path, MAX_PROFILE_BYTES, roots)
    data = parse_toml(text, path)
    try:
        return model.model_validate(data)
    except PydanticError as error:
        problems = [Problem(p.message, file=path, line=_toml_line(text, tuple(
            p.field.split("."))) if p.field else None, field=p.field, hint=p.hint,
            code=p.code) for p in _schema_problems(error, path, {})]
        raise ValidationError(problems=problems) from None


def load_clinic(folder: Path, library: Library | None = None) -> ClinicProfile:
    """Read and validate `folder/clinic.toml`, its logo and optional `style.css`.

    Every file must be inside the clinic's folder, links resolved.
    """
    path = folder / "clinic.toml"
    clinic = load_toml_model(path, Clinic, [folder])
    if clinic.terms and library is not None:
        _check_clinic_terms(clinic, path, library)
    logo = _check_logo(folder, clinic.logo, path)
    style = folder / "style.css"
    stylesheet = None
    if os.path.lexists(style):   # not exists(): a broken link is reported, not skipped
        check_clinic_css(style, [folder])
        stylesheet = style
    else:
        record.missed(style)
    return ClinicProfile(slug=folder.name, folder=folder, clinic=clinic, logo_path=logo,
                         stylesheet=stylesheet)


def _check_clinic_terms(clinic: Clinic, path: Path, library: Library) -> None:
    """Each key of a clinic's `[terms]` must be a term of the library: a misspelt key
    would otherwise leave the library's wording in print without a word."""
    known = load_terms(library)
    text = read_text(path, MAX_PROFILE_BYTES, [path.parent])
    problems = []
    for key in clinic.terms:
        if key in known:
            continue
        close = difflib.get_close_matches(key, list(known), 1)
        problems.append(Problem(
            f"unknown term {key!r}: the library's {TERMS_FILE} has no such key",
            file=path, line=_toml_line(text, ("terms", key)), field=f"terms.{key}",
            code="unknown-term",
            hint=(f"did you mean {close[0]!r}? " if close else "") +
                 f"[terms] may only reword a key of content/{TERMS_FILE}; fix the key "
                 "or remove the line"))
    if problems:
        raise ValidationError(problems=problems)


def _check_logo(folder: Path, name: str, profile: Path) -> Path:
    logo = folder / name
    if not os.path.lexists(logo):
        raise ValidationError(f"logo file {name!r} not found in {folder}", file=profile,
                              line=None, field="logo",
                              hint="put the logo beside clinic.toml or fix the name")
    suffix = logo.suffix.lower()
    if suffix not in LOGO_TYPES:
        raise ValidationError(f"logo must be SVG, PNG or JPEG, not {logo.suffix!r}",
                              file=profile, field="logo")
    data = read_file(logo, MAX_LOGO_BYTES, [folder], field="logo")
    if suffix == ".svg":
        check_svg(data, logo, "logo")
    else:   # the format its name says, whole, and not a huge picture
        check_raster(data, logo, "logo")
    return logo


# --- clinic stylesheets ------------------------------------------------------------------

_CSS_FORBIDDEN = re.compile(r"url\s*\(|@import|image-set|\\|expression\s*\(|"
                            r"attr\s*\(|@font-face|</", re.I)
_CSS_HINT = ("clinic styles may set colours, borders, spacing, font weight and style, and "
             "text size from 9 pt; images and fonts come from the library")


def check_clinic_css(path: Path, roots: Iterable[Path] | None = None) -> None:
    """A clinic's stylesheet may change how things look, never what is there (see top)."""
    text = read_text(path, MAX_PROFILE_BYTES, roots)
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        # Refused on the raw text first: tinycss2 would decode `u\72l(` into url(.
        match = _CSS_FORBIDDEN.search(line)
        if match:
            problems.append(Problem(f"{match.group(0).strip()!r} is not allowed in a clinic "
                                    "stylesheet", file=path, line=number, hint=_CSS_HINT,
                                    code="unsafe-css"))
    problems += [Problem(message, file=path, line=line, field=name, hint=_CSS_HINT,
                         code="unsafe-css") for line, name, message in _css_refusals(text)]
    if problems:
        raise ValidationError(problems=problems)


def _css_refusals(text: str) -> list[tuple[int, str | None, str]]:
    """(line, property, why) for each rule or declaration outside the allow-list."""
    found = []
    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            found += _declaration_refusals(tinycss2.parse_blocks_contents(
                rule.content, skip_comments=True, skip_whitespace=True))
        elif rule.type == "at-rule":
            found.append((rule.source_line, None, f"@{rule.lower_at_keyword} is not allowed "
                                                  "in a clinic stylesheet"))
        else:
            found.append((rule.source_line, None, f"not valid CSS: {rule.message}"))
    return found


def _declaration_refusals(items) -> list[tuple[int, str | None, str]]:
    found = []
    for item in items:
        if item.type != "declaration":
            what = "nested rules are" if item.type == "qualified-rule" else (
                f"@{item.lower_at_keyword} is" if item.type == "at-rule" else "invalid CSS is")
            found.append((item.source_line, None, f"{what} not allowed here"))
            continue
        name = item.lower_name
        check = CSS_ALLOWED.get(name)
        values = [t for t in item.value if t.type not in ("whitespace", "comment")]
        if check is None:
            found.append((item.source_line, name, "this property is not allowed in a clinic "
                                                  "stylesheet"))
        elif item.important:
            found.append((item.source_line, name, "!important is not allowed"))
        elif not values or (why := check(values)):
            found.append((item.source_line, name, f"{_css_text(item.value)!r}: "
                                                  f"{why if values else 'no value'}"))
    return found


def _css_text(tokens) -> str:
    """A declaration's value as written, shortened for a message."""
    return tinycss2.serialize(tokens).strip()[:60]


# Palette custom properties from the clinic's own (contrast-checked) colours.
_TEXT_VARS = {"--text", "--brand", "--brand-dark", "--warning"}
_BACKGROUND_VARS = {"--brand-tint", "--accent-tint", "--warning-tint"}
_ALL_VARS = _TEXT_VARS | _BACKGROUND_VARS | {"--brand-soft", "--accent"}
MIN_TEXT_CONTRAST = 7.0   # against white; still over 4.5:1 on the library's light tints


def _var(values, names: set[str]) -> bool:
    """True for exactly `var(--name)` with one of `names` (no fallback)."""
    if len(values) != 1 or values[0].type != "function" or values[0].lower_name != "var":
        return False
    arguments = [t for t in values[0].arguments if t.type not in ("whitespace", "comment")]
    return len(arguments) == 1 and arguments[0].type == "ident" and arguments[0].value in names


def _hex(values) -> str | None:
    if len(values) == 1 and values[0].type == "hash":
        try:
            return hex_colour("#" + values[0].value)
        except ValueError:
            return None
    return None


def _text_colour(values) -> str | None:
    colour = _hex(values)
    if _var(values, _TEXT_VARS):
        return None
    if colour is None:
        return "use #rrggbb or var(--text), var(--brand), var(--brand-dark), var(--warning)"
    if contrast(colour, "#ffffff") < MIN_TEXT_CONTRAST:
        return (f"contrast {contrast(colour, '#ffffff'):.1f}:1 on white is below "
                f"{MIN_TEXT_CONTRAST:g}:1; text must stay readable on every background")
    return None


def _background(values) -> str | None:
    # Only white and the tints the library itself puts text on: a dark background
    # (or one matching the text) would hide the urgent box.
    if _var(values, _BACKGROUND_VARS) or _hex(values) == "#ffffff" or (
            len(values) == 1 and values[0].type == "ident" and values[0].lower_value == "white"):
        return None
    return "use white or var(--brand-tint), var(--accent-tint), var(--warning-tint)"


def _any_colour(values) -> str | None:
    if _hex(values) or _var(values, _ALL_VARS):
        return None
    return "use #rrggbb or one of the clinic's colours, e.g. var(--brand)"


def _border(values) -> str | None:
    # The shorthand, e.g. `1pt solid var(--brand)`: each part checked as its longhand.
    for token in values:
        if _BORDER_STYLE([token]) and _BORDER_WIDTH([token]) and _any_colour([token]):
            return "use a width up to 6 pt, a style (solid, dashed...) and a colour"
    return None


def _keyword(*allowed: str):
    """One of `allowed`: keywords, or numbers as written (font-weight 700)."""
    def check(values) -> str | None:
        token = values[0]
        word = token.lower_value if token.type == "ident" else (
            token.representation if token.type == "number" else None)
        if len(values) == 1 and word in allowed:
            return None
        return f"use one of {', '.join(allowed)}"
    return check


def _number_in(low: float, high: float, units: dict[str, float], count: int = 1,
               zero: bool = True, auto: bool = False):
    """1..count lengths (or numbers) from `low` to `high` pt, each unit's value scaled by
    its factor (pt per unit); `zero` allows a bare 0, `auto` the keyword auto."""
    def check(values) -> str | None:
        if len(values) > count:
            return f"give at most {count} value(s)"
        for token in values:
            unit = getattr(token, "lower_unit", "") if token.type == "dimension" else ""
            if (zero and token.type == "number" and token.value == 0) or (
                    auto and token.type == "ident" and token.lower_value == "auto"):
                continue
            if token.type == "number" and token.value == 0 and "" not in units:
                unit = next(iter(units))   # a bare 0 where 0 is too small: say the range
            elif token.type not in ("number", "dimension") or unit not in units:
                return f"use {' or '.join(repr(u) if u else 'a number' for u in units)}"
            scale = units[unit]
            if not low * scale <= token.value <= high * scale:
                return (f"must be from {low * scale:g} to {high * scale:g}"
                        f"{unit}: less hides or overlaps text, more pushes it off the page")
        return None
    return check


_BORDER_STYLE = _keyword("none", "solid", "dashed", "dotted", "double")
_BORDER_WIDTH = _number_in(0, 6, {"pt": 1.0, "mm": 0.3528, "px": 1.333})
_SPACE = {"pt": 1.0, "mm": 0.3528, "px": 1.333, "em": 0.1}   # 0..30 pt (about 10 mm)
_SIDES = ("", "-top", "-right", "-bottom", "-left")
CSS_ALLOWED = {
    "color": _text_colour, "background-color": _background,
    "font-weight": _keyword("normal", "bold", "400", "700"),
    "font-style": _keyword("normal", "italic"),
    # Absolute units only: a relative size compounds at each nesting level.
    "font-size": _number_in(9, 72, {"pt": 1.0}, zero=False),
    "line-height": _number_in(1.0, 2.5, {"": 1.0}, zero=False),
    "letter-spacing": _number_in(0, 2, {"pt": 1.0, "em": 0.1}),
    "text-transform": _keyword("none", "uppercase", "lowercase", "capitalize"),
    "border-radius": _number_in(0, 30, _SPACE, count=4),
    **{f"margin{side}": _number_in(0, 30, _SPACE, count=4 if not side else 1, auto=True)
       for side in _SIDES},
    **{f"padding{side}": _number_in(0, 30, _SPACE, count=4 if not side else 1)
       for side in _SIDES},
    **{f"border{side}": _border for side in _SIDES},
    **{f"border{side}-color": _any_colour for side in _SIDES},
    **{f"border{side}-style": _BORDER_STYLE for side in _SIDES},
    **{f"border{side}-width": _BORDER_WIDTH for side in _SIDES},
}


def load_clinics(library: Library, slugs: list[str] | None = None) -> list[ClinicProfile]:
    """Load the named clinics (default: all), reporting every broken one at once."""
    folders = [library.clinic_folder(s) for s in slugs] if slugs else list(
        library.clinics().values())
    clinics, problems = [], []
    for folder in folders:
        try:
            clinics.append(load_clinic(folder, library))
        except HandoutsError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems=problems)
    return clinics


# --- terms ------------------------------------------------------------------------------

def load_terms(library: Library) -> dict[str, dict[str, str]]:
    """Every term of every layer's terms.toml; a library's wording wins over the bundled."""
    merged: dict[str, dict[str, str]] = {}
    for folder in reversed(library.search_dirs("content")):
        path = folder / TERMS_FILE
        if not path.is_file():
            record.missed(path)
            continue
        data = load_terms_file(path)
        for key, wording in data.items():
            merged.setdefault(key, {}).update(wording)
    return merged


def load_terms_file(path: Path) -> dict[str, dict[str, str]]:
    """Read and validate one terms file (tables of language = wording)."""
    text = read_text(path, 256 * 1024)
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise ValidationError(f"not valid TOML: {error}", file=path,
                              hint="each term is a table: [key] then en-GB = \"...\"") from None
    problems = [Problem(f"term key {key!r} must be lower-case letters, digits and "
                        "underscores", file=path, field=key, code="invalid")
                for key in raw if not _TERM_KEY.fullmatch(key)]
    try:
        model = Terms.model_validate({"terms": raw})
    except PydanticError as error:
        problems += [Problem(e["msg"].removeprefix("Value error, "), file=path,
                             field=".".join(str(p) for p in e["loc"][1:]),
                             code=e["type"]) for e in error.errors(include_url=False)]
        raise ValidationError(problems=problems) from None
    if problems:
        raise ValidationError(problems=problems)
    return model.terms


def load_booklet(path: Path, roots: Iterable[Path] | None = None) -> BookletSpec:
    """Read and validate a booklet declaration (`booklets/<slug>.toml`)."""
    return load_toml_model(path, BookletSpec, roots)
