"""Messages: the templates' own words in the document's language (gettext catalogues).

The words a template prints ("Get help now", "Page 2 of 4", "Next review") are
gettext messages: `pybabel extract` finds them in `templates/` (Jinja2's i18n
extension, `locale/babel.cfg`) and in this module (`N_`), into
`locale/handouts.pot`; each language has `locale/<lang>/LC_MESSAGES/handouts.po`
(`make messages` updates them). Templates call `_("...")` and jinja2.ext.i18n
fills them in.

The .po files are read at load time with Babel, not shipped compiled as .mo: the
.po is then the one file, so no stale .mo can print yesterday's wording and the
package needs no build step; reading one takes a few milliseconds and is done once
per process (kept while the file is unchanged); and a catalogue is checked as it
is read (python-format placeholders), with file and line in the error.

A clinic may reword any message, or give its own labels in another language, in
its profile: `[messages.es]` then `"Get help now" = "Pida ayuda ya"`. Each key must
be a message of the catalogue or one of the clinic's own labels, with the same
%(placeholders)s, or the profile is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from . import record
from .errors import Problem, ValidationError
from .library import Library
from .models import ClinicProfile
from .timelimit import uninterrupted

DOMAIN = "handouts"
LOCALE_DIR = "locale"
SOURCE_LANGUAGE = "en"
# Languages written right to left (primary subtags).
RTL = frozenset({"ar", "fa", "he", "ur", "yi", "ps", "sd", "ug"})
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Arabic-Indic and Eastern Arabic-Indic digits, written as the translations and the
# clinics' phone numbers are (0-9), so one page never mixes two kinds of digit.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def N_(message: str) -> str:   # the gettext convention, known to pybabel
    """Mark a message for extraction that templates receive through a variable."""
    return message


# Defaults of topic and clinic fields, printed through _(...) so they are translated
# when a topic or clinic keeps them (models.py holds the same English words).
DEFAULTS = (
    N_("Get help now"), N_("Information for patients and carers"),
    N_("Switchboard"), N_("Urgent help line (24 hours)"),
    N_("Call us straight away, day or night, if you have any of these:"),
)
# What a screen reader says of a checklist's tick box (markup draws the boxes).
TICK_BOX_WORDS = {False: N_("Tick box"), True: N_("Ticked box")}
# CLDR date pattern of the month and year in the running footer; keep it short.
# (Each language sets its own in its catalogue, as Django keeps date formats in .po
# files: the footer has one or two lines, and "noviembre de 2026" twice makes three.)
MONTH_PATTERN = N_("MMMM y")
# Clinic fields that are words (not names, numbers or addresses): translatable.
LABELS = ("department", "phone_label", "urgent_label", "footer")


def primary(language: str) -> str:
    """The primary subtag of a language tag (zh-Hans -> zh)."""
    return language.split("-")[0].lower()


def direction(language: str) -> str:
    """"rtl" for a language written right to left, else "ltr"."""
    return "rtl" if primary(language) in RTL else "ltr"


def locale_id(language: str) -> str:
    """The Babel/CLDR locale name of a language tag (zh-Hans -> zh_Hans)."""
    return language.replace("-", "_")


def catalogue_path(root: Path, language: str) -> Path | None:
    """The .po of `language` under `root`/locale: the exact tag's, else the primary
    language's (en-GB -> en); None when there is none."""
    for name in dict.fromkeys((locale_id(language), primary(language))):
        path = root / LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
        record.missed(path)
    return None


@lru_cache(maxsize=32)
def _read(path: str, size: int, mtime_ns: int) -> dict[str, str]:
    from babel.messages.pofile import PoFileError, read_po  # noqa: PLC0415 - compose only

    try:
        with uninterrupted(), open(path, "rb") as handle:
            data = handle.read()
        catalog = read_po(BytesIO(data), abort_invalid=True)
    except (PoFileError, ValueError, OSError) as error:
        raise ValidationError(f"not a valid message catalogue: {error}", file=path,
                              hint="fix the .po file, or run `make messages`") from None
    problems = []
    for message, errors in catalog.check():
        problems += [Problem(f"message {message.id!r}: {error}", file=path,
                             line=message.lineno, code="invalid",
                             hint="keep the %(name)s placeholders of the English message")
                     for error in errors]
    if problems:
        raise ValidationError(problems=problems)
    return {m.id: m.string for m in catalog
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def read_catalogue(path: Path) -> dict[str, str]:
    """The translated messages of a .po file (msgid -> msgstr; fuzzy ones left out)."""
    stat = path.stat()
    record.read(path)
    return _read(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _template_ids(path: str, size: int, mtime_ns: int) -> frozenset[str]:
    from babel.messages.pofile import read_po  # noqa: PLC0415

    with uninterrupted(), open(path, "rb") as handle:
        data = handle.read()
    return frozenset(m.id for m in read_po(BytesIO(data)) if isinstance(m.id, str) and m.id)


def message_ids(root: Path) -> frozenset[str]:
    """Every message of the template catalogue (locale/handouts.pot)."""
    path = root / LOCALE_DIR / f"{DOMAIN}.pot"
    if not path.is_file():
        record.missed(path)
        return frozenset()
    record.read(path)   # which rewordings are known depends on it
    stat = path.stat()
    return _template_ids(str(path), stat.st_size, stat.st_mtime_ns)


@dataclass
class Messages:
    """gettext for one document: the catalogue of its language, the clinic's rewordings
    over it. Has the gettext/ngettext pair jinja2.ext.i18n installs."""

    language: str
    table: dict[str, str]
    source: Path | None = None         # the .po the words came from
    overrides: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)   # clinic labels with no wording
    problems: list[Problem] = field(default_factory=list)   # warnings about the wording

    def gettext(self, message: str) -> str:
        """The message in this language (the English words when it has none)."""
        return self.overrides.get(message) or self.table.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Singular or plural, English rules (our templates print no counted nouns)."""
        return self.gettext(singular if n == 1 else plural)

    def label(self, value: str | None) -> str:
        """A clinic's own label in this language; noted as missing when it has none."""
        if not value:
            return ""
        text = self.gettext(value)
        if text == value and primary(self.language) != primary(SOURCE_LANGUAGE):
            self.missing.add(value)
        return text


def clinic_messages(profile: ClinicProfile, language: str) -> dict[str, str]:
    """The clinic's rewordings for `language` (its primary language's, then the exact
    tag's over them)."""
    tables = profile.clinic.messages
    merged: dict[str, str] = {}
    for key in sorted(tables, key=lambda tag: tag.count("-")):
        if key == language or key == primary(language):
            merged.update(tables[key])
    return merged


def check_clinic_messages(profile: ClinicProfile, known: frozenset[str]) -> list[Problem]:
    """Problems with a clinic's `[messages.LANG]` tables: unknown keys, lost placeholders."""
    import difflib  # noqa: PLC0415

    labels = {getattr(profile.clinic, name) for name in LABELS} - {None}
    problems = []
    where = profile.folder / "clinic.toml"
    for language, table in profile.clinic.messages.items():
        for key, value in table.items():
            if key not in known and key not in labels:
                close = difflib.get_close_matches(key, sorted(known | labels), 1)
                # A warning: a label renamed leaves its old wording behind, and the
                # document still prints (in English where the wording is missing).
                problems.append(Problem(
                    f"{key!r} is neither a message of the templates nor one of this "
                    "clinic's labels, so it is not used", file=where,
                    field=f"messages.{language}", code="unknown-message",
                    hint=f"did you mean {close[0]!r}?" if close else
                    "see locale/handouts.pot for the messages"))
            elif set(_PLACEHOLDER.findall(key)) != set(_PLACEHOLDER.findall(value)):
                problems.append(Problem(
                    f"the wording of {key!r} must keep its placeholders "
                    f"{sorted(set(_PLACEHOLDER.findall(key)))}", file=where,
                    field=f"messages.{language}", code="invalid",
                    hint="write each %(name)s of the message where it goes in yours"))
    return problems


def messages_for(library: Library, language: str, profile: ClinicProfile) -> Messages:
    """The Messages of a document in `language` for a clinic (catalogue + rewordings);
    a ValidationError if the clinic's rewordings are wrong."""
    root = library.bundled
    problems = check_clinic_messages(profile, message_ids(root)) \
        if profile.clinic.messages else []
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems=problems)
    path = catalogue_path(root, language)
    table = read_catalogue(path) if path else {}
    return Messages(language, table, path, clinic_messages(profile, language),
                    problems=problems)


# The shipped clinics' English regions, written without loading CLDR (a tenth of a
# second in every process that composes): the same words Babel gives (test_compose).
_ENGLISH_LONG = {"en-GB": "{d} {month} {y}", "en-US": "{month} {d}, {y}"}
_ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
                   "August", "September", "October", "November", "December")


def format_date(day: dt.date, language: str, form: str = "long",
                pattern: str | None = None) -> str:
    """A date the language's way: "long" (12 March 2026, 2026年3月12日) or "month"
    (March 2026, or the CLDR `pattern` given); Western digits, as in the text around
    it."""
    english = _ENGLISH_LONG.get(language)
    if english and (form == "long" or pattern in (None, "MMMM y")):
        month = _ENGLISH_MONTHS[day.month - 1]
        return english.format(d=day.day, month=month, y=day.year) if form == "long" \
            else f"{month} {day.year}"
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415
    from babel.dates import format_date as babel_date  # noqa: PLC0415
    from babel.dates import format_skeleton  # noqa: PLC0415

    try:
        locale = Locale.parse(locale_id(language))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse(primary(language)) if primary(language) != language \
            else Locale.parse(SOURCE_LANGUAGE)
    text = None
    if form == "long":
        text = babel_date(day, "long", locale=locale)
    elif pattern:
        try:
            text = babel_date(day, pattern, locale=locale)
        except (ValueError, KeyError, AttributeError):
            text = None   # a broken pattern in a catalogue: the language's own form
    text = text or format_skeleton("yMMMM", day, locale=locale)
    return text.translate(_DIGITS)


def css_string(text: str) -> str:
    """`text` as a CSS string literal: anything but plain letters, digits and spaces
    escaped, so no message can close the string, the rule or the <style> element."""
    out = []
    for char in text:
        if char.isascii() and (char.isalnum() or char in " ,.:;!?()-"):
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
    return '"' + "".join(out) + '"'


def css_content(message: str, counters: dict[str, str]) -> str:
    """A CSS `content` value: the message's words as strings, each %(name)s as the
    CSS function `counters[name]` (e.g. counter(page))."""
    parts = []
    for index, piece in enumerate(_PLACEHOLDER.split(message)):
        if index % 2:
            parts.append(counters[piece])
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts) or '""'


def generated_css(messages: Messages, booklet: bool = False) -> tuple[str, list[str]]:
    """CSS for the words stylesheets print (page X of Y, a blank page's "Notes"), and
    those words, for the glyph check."""
    page = messages.gettext("Page %(page)s of %(pages)s")
    if direction(messages.language) == "rtl":
        # Right to left, a plain space between a word and a page number is lost where
        # the text changes direction ("صفحة2 من20"): no-break spaces are kept.
        page = page.replace(" ", "\u00a0")
    rules = [".running-footer .foot-page::after { content: "
             + css_content(page, {"page": "counter(page)", "pages": "counter(pages)"})
             + "; }"]
    words = [_PLACEHOLDER.sub("", page)]
    if booklet:
        notes = messages.gettext("Notes")
        side = "right" if direction(messages.language) == "rtl" else "left"   # the head's
        rules.append(f"@page :blank {{ @top-{side} {{ content: {css_string(notes)}; }} }}")
        words.append(notes)
    return " ".join(rules), words
