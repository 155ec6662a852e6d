"""Models: the validated shapes of topics and clinic profiles (pydantic, strict)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)


@dataclass(frozen=True)
class PaperSize:
    """One paper size. Its page geometry (size, margins) is `styles/paper-<name>.css`."""

    label: str
    width: float              # points, portrait
    height: float
    small: bool = False       # one column, small-page.css, a one-page topic is a card
    sheet: str | None = None  # the paper two of these pages are imposed on, side by side
    cards: tuple[int, int] | None = None   # wallet cards per sheet: columns, rows
    # Large print is printed on A4 and Letter (RNIB Clear Print): on a page half the
    # size, 16 pt text gives lines of a few words and leaflets of a dozen pages.
    large_print: bool = True


# Every fact about paper sizes. A new paper is a row here and its stylesheet.
PAPER_SIZES = {
    "a4": PaperSize("A4", 595.28, 841.89, cards=(2, 5)),
    "letter": PaperSize("Letter", 612.0, 792.0, cards=(2, 4)),
    "a5": PaperSize("A5", 419.53, 595.28, small=True, sheet="a4", large_print=False),
    "half-letter": PaperSize("Half Letter", 396.0, 612.0, small=True, sheet="letter",
                             large_print=False),
}
PAPERS = tuple(PAPER_SIZES)
Paper = Literal[PAPERS]
# Sheets a booklet page size is imposed on (two pages side by side, landscape).
IMPOSE_SHEETS = {name: size.sheet for name, size in PAPER_SIZES.items() if size.sheet}
# The wallet card (85 x 55 mm, front and back); its print sheets use `cards` above.
CARD_MM = (85.0, 55.0)
VARIANTS = ("standard", "large")
Variant = Literal[VARIANTS]

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_PHONE = re.compile(r"\+?[0-9(][0-9 ().\-]{1,22}[0-9]")
_LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z]{2,4})?")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# markup marks where the urgent box and clinic fields go with U+E000/U+E001; text
# from a file that carried such characters could forge or break those markers.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def hex_colour(value: str) -> str:
    """`#rgb` or `#rrggbb` as lower-case `#rrggbb`, or a ValueError."""
    # Colours reach CSS; only a plain hex value can never close a rule or call url().
    if not _HEX.fullmatch(value):
        raise ValueError(f"{value!r} is not a colour; write it as #rrggbb, e.g. #005eb8")
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower()


def _luminance(rgb: tuple[float, ...]) -> float:
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                        for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def rgb_contrast(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    """WCAG 2.x contrast ratio of two opaque sRGB colours, channels 0 to 1 (not rounded)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def contrast(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours (not rounded)."""
    return rgb_contrast(*([int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)]
                          for c in (first, second)))


def _phone(value: str) -> str:
    if not _PHONE.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a phone number; use digits, spaces, + ( ) - .")
    return value.strip()


def _one_line(value: str) -> str:
    if any(c in value for c in "\r\n\t\x00"):
        raise ValueError("must be a single line of text")
    return value.strip()


Text = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_one_line)]
# A term's wording is pasted into a topic's markdown (editions.localise) before the
# markup stage escapes and sanitises it; a clinic's own wording must still be only
# words, so no markdown, HTML or template syntax, and no line-start marker that
# would turn the sentence it stands in into a list, heading or callout.
_TERM_MARKUP = re.compile(r"[<>\[\]{}*_`\\|]")
_TERM_START = re.compile(r"[-+=!:#]|\d+[.)](\s|$)")


def _plain_words(value: str) -> str:
    if _TERM_MARKUP.search(value) or _TERM_START.match(value):
        raise ValueError("a term's wording is plain words: no < > [ ] { } * _ ` \\ |, and "
                         "not starting with - + = ! : # or '1.' (markdown, HTML or template "
                         "code in a leaflet); write the words only, e.g. \"37.5 °C\"")
    if _PRIVATE_USE.search(value):
        raise ValueError("contains a private-use character (U+E000 to U+F8FF); retype the text")
    return value


TermWording = Annotated[str, StringConstraints(min_length=1, max_length=120),
                        AfterValidator(_one_line), AfterValidator(_plain_words)]
TermKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,60}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=600)]
Colour = Annotated[str, AfterValidator(hex_colour)]
Phone = Annotated[str, AfterValidator(_phone)]


class Strict(BaseModel):
    """Base: strict types, unknown keys are errors, frozen once loaded."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @field_validator("*")
    @classmethod
    def _no_private_use(cls, value):
        texts = [value] if isinstance(value, str) else [
            v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        if any(_PRIVATE_USE.search(text) for text in texts):
            raise ValueError("contains a private-use character (U+E000 to U+F8FF), which has "
                             "no meaning in a leaflet; retype the text")
        return value


# --- topics ---------------------------------------------------------------------------

class Source(Strict):
    """A published source a topic's facts come from."""

    publisher: Text
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s\"'<>]+$",
                                          max_length=300)] | None = None
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    # Only in these editions (e.g. ["en-US"]); all when absent.
    editions: Annotated[list[Annotated[str, StringConstraints(
        pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]], Field(min_length=1)] | None = None


class Urgent(Strict):
    """The topic's half of the "Get help now" box; the clinic supplies the numbers."""

    heading: Text = "Get help now"
    intro: Text | None = None
    signs: Annotated[list[Text], Field(min_length=1, max_length=8)]


class AdaptedFrom(Strict):
    """The edition (language) and version a derived edition was adapted from."""

    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+){0,2}$")]


class TopicMeta(Strict):
    """A topic's YAML front matter."""

    title: Text
    subtitle: Text = "Information for patients and carers"
    summary: Text
    main_message: LongText
    layout: Literal["leaflet", "checklist", "card"] = "leaflet"
    pages: Annotated[int, Field(ge=1, le=40)]
    pages_large: Annotated[int, Field(ge=1, le=80)] | None = None  # default: twice `pages`
    columns: Literal[1, 2] = 1
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+){0,2}$")]
    last_reviewed: dt.date
    next_review: dt.date
    owner: Text
    reviewer: Text
    urgent: Urgent
    sources: Annotated[list[Source], Field(min_length=1)]
    keywords: list[Text] = []
    # The language this file is written in (en-GB when absent); see editions.py.
    language: Annotated[str, StringConstraints(
        pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")] | None = None
    adapted_from: AdaptedFrom | None = None
    # A translation says who made it and who checked it (a qualified medical translator).
    translated_by: Text | None = None
    translation_reviewed_by: Text | None = None

    def budget(self, paper: str = "a4", variant: str = "standard") -> int:
        """The page budget: `pages` is for A4 and Letter; large print defaults to twice
        that. A5 and half Letter have half the area, and a masthead and footer on more
        pages: a one-page topic may take three (type never shrinks to fit, so a
        one-page checklist's sources go over a second sheet), a longer one twice its
        pages plus one."""
        if self.layout == "card":
            return 2   # front and back, whatever the paper
        pages = (self.pages_large or self.pages * 2) if variant == "large" else self.pages
        if PAPER_SIZES[paper].small:
            return 3 if pages == 1 else pages * 2 + 1
        return pages

    @field_validator("version", mode="before")
    @classmethod
    def _quoted_version(cls, value):
        if isinstance(value, (int, float)):
            raise ValueError(f'write the version in quotes, e.g. version: "{value}"')
        return value

    @model_validator(mode="after")
    def _review_window(self):
        if self.next_review <= self.last_reviewed:
            raise ValueError("next_review must be after last_reviewed")
        limit = self.last_reviewed.replace(year=self.last_reviewed.year + 3) \
            if not (self.last_reviewed.month == 2 and self.last_reviewed.day == 29) \
            else dt.date(self.last_reviewed.year + 3, 2, 28)
        if self.next_review > limit:
            raise ValueError(f"next_review must be at most three years after last_reviewed "
                             f"(by {limit.isoformat()})")
        return self


class Topic(BaseModel):
    """A loaded topic: its slug, file, validated front matter and markdown body."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    slug: str
    path: Path
    meta: TopicMeta
    body: str
    body_line: int  # line number in the file where the body starts

    def overdue(self, today: dt.date | None = None) -> bool:
        """True when the topic is past its next-review date."""
        return (today or dt.date.today()) > self.meta.next_review


# --- clinics --------------------------------------------------------------------------

class Colours(Strict):
    """Brand colours. Only hex values: they are written into CSS."""

    primary: Colour
    accent: Colour | None = None
    warning: Colour = "#b3261e"
    text: Colour = "#1d1d1b"


class Clinic(Strict):
    """A clinic profile (`clinics/<slug>/clinic.toml`)."""

    name: Text
    department: Text | None = None
    logo: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,80}$")]
    colours: Colours
    phone: Phone
    phone_label: Text = "Switchboard"
    urgent_phone: Phone
    urgent_label: Text = "Urgent help line (24 hours)"
    emergency_number: Phone | Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    address: Annotated[list[Text], Field(min_length=1, max_length=6)]
    website: Annotated[str, StringConstraints(pattern=r"^https?://[^\s\"'<>]+$",
                                              max_length=200)] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s\"'<>]+@[^@\s\"'<>]+$",
                                            max_length=120)] | None = None
    paper: Paper = "a4"
    language: Annotated[str, AfterValidator(lambda v: v if _LANG.fullmatch(v) else
                                            _bad_language(v))] = "en"
    footer: Text | None = None
    topic_url: Annotated[str, StringConstraints(pattern=r"^https://[^\s\"'<>]+\{topic\}[^\s\"'<>]*$",
                                                max_length=200)] | None = None
    refuse_overdue: bool = False
    # Preflight keeps text, rules and images this far from the trim (5 mm or more).
    safe_area_mm: Annotated[float, Field(ge=5, le=25)] = 5.0
    # The clinic's wording of the templates' messages, and its own labels in other
    # languages, per language: [messages.es] "Get help now" = "..." (messages.py checks
    # that each key is a message or a label of this clinic).
    messages: Annotated[dict[Language, Annotated[dict[Text, Text], Field(max_length=200)]],
                        Field(max_length=20)] = {}
    # The clinic's own wording of the library's terms (content/terms.toml), for local
    # policy: `[terms]` then `fever_threshold = "37.5 °C"` (in the clinic's language)
    # or `fever_threshold = { en-GB = "37.5 °C", es = "37,5 °C" }`. It wins over the
    # library's wording in this clinic's documents only; load_clinic checks each key
    # is a library term. Stored as key -> {language: wording}.
    terms: Annotated[dict[TermKey, Annotated[dict[Language, TermWording], Field(
        min_length=1, max_length=20)]], Field(max_length=200)] = {}

    @field_validator("terms", mode="before")
    @classmethod
    def _wording_in_clinic_language(cls, value, info):
        """`key = "wording"` is the clinic's language's wording of that term."""
        if not isinstance(value, dict):
            return value
        language = info.data.get("language", "en")
        return {key: {language: wording} if isinstance(wording, str) else wording
                for key, wording in value.items()}

    @field_validator("emergency_number", "phone", "urgent_phone", mode="before")
    @classmethod
    def _numbers_are_text(cls, value):
        if isinstance(value, int):
            raise ValueError(f'write phone numbers in quotes, e.g. "{value}"')
        return value


class BookletWords(Strict):
    """A booklet's title and audience in another language (`[translations.es]`)."""

    title: Text
    audience: Text | None = None


class BookletSpec(Strict):
    """A booklet declared in the library (`booklets/<slug>.toml`)."""

    title: Text
    audience: Text = "Information for patients and carers"
    topics: Annotated[list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]],
                      Field(min_length=1, max_length=30)]
    # The cover's words in the languages the booklet is printed in (`--lang`).
    translations: dict[Annotated[str, StringConstraints(
        pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")], BookletWords] = {}

    def in_language(self, language: str) -> BookletSpec:
        """The spec with its title and audience in `language`, where it has them."""
        words = self.translations.get(language) or self.translations.get(
            language.split("-")[0].lower())
        if words is None:
            return self
        return self.model_copy(update={"title": words.title,
                                       "audience": words.audience or self.audience})


class Terms(Strict):
    """`content/terms.toml`: each key's wording per edition language."""

    terms: Annotated[dict[str, dict[Language, Text]], Field(max_length=2000)] = {}


def _bad_language(value: str) -> str:
    raise ValueError(f"{value!r} is not a language tag; use e.g. en, en-GB, en-US")


class ClinicProfile(BaseModel):
    """A loaded clinic: slug, folder, validated profile and the resolved logo path."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    slug: str
    folder: Path
    clinic: Clinic
    logo_path: Path
    stylesheet: Path | None = None

    def fields(self) -> dict[str, str]:
        """The clinic fields a topic may use as {{ clinic.NAME }}."""
        c = self.clinic
        values = {
            "name": c.name, "department": c.department, "phone": c.phone,
            "phone_label": c.phone_label, "urgent_phone": c.urgent_phone,
            "urgent_label": c.urgent_label, "emergency_number": c.emergency_number,
            "website": c.website, "email": c.email, "address": ", ".join(c.address),
        }
        return {k: v for k, v in values.items() if v}


def is_slug(name: str) -> bool:
    """True for names we accept as topic and clinic slugs."""
    return bool(_SLUG.fullmatch(name))


# --- documents ------------------------------------------------------------------------

@dataclass(frozen=True)
class PrintOptions:
    """How a PDF is produced: print-shop bleed and marks, PDF/A instead of PDF/UA."""

    bleed_mm: float | None = None
    marks: bool = False
    pdfa: bool = False

    @property
    def pdf_variant(self) -> str:
        """WeasyPrint's PDF variant: tagged PDF/UA-1 by default, PDF/A-2a (tagged) to archive."""
        return "pdf/a-2a" if self.pdfa else "pdf/ua-1"

    def suffix(self) -> str:
        """File-name suffix that keeps print-shop and archive copies apart."""
        return ("-bleed" if self.bleed_mm or self.marks else "") + ("-pdfa" if self.pdfa else "")


@dataclass
class Composed:
    """One HTML document ready to render, with the stylesheets it needs."""

    html: str
    stylesheets: list[Path]
    title: str
    kind: str                             # "leaflet" or "booklet"
    budget: int | None = None
    warnings: list = field(default_factory=list)           # Problems found composing
    bodies: dict[str, Any] = field(default_factory=dict)   # slug -> markup.MarkupResult
    roots: list[Path] = field(default_factory=list)   # folders the renderer may read from
    sources: list[Path] = field(default_factory=list)  # files whose words it prints
    printed: list[str] = field(default_factory=list)   # words its CSS prints (content:)
