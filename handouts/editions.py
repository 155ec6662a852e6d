"""Editions: one topic in the reader's region and language.

A topic is written once, in its own language (`language:` in the front matter,
en-GB by default). Where the regions of that language differ by a word or a phrase
(paracetamol / acetaminophen, A&E / the emergency room), the text says
`{{ term.KEY }}` (or `{{ Term.KEY }}` for a capitalised first letter) and the
library's `content/terms.toml` gives each edition's wording; sources may carry
`editions: [...]` to print in some editions only. So the en-GB and en-US editions
are one file, and nothing has to be kept in step by hand.

Where the words differ by more than terms (a translation, or a regional edition
that is rewritten), the edition is its own file beside the topic,
`content/<slug>.<language>.md`, whose front matter says what it was adapted from:
`adapted_from: {language: en-GB, version: "2.0"}`. When the source's version moves
on, the edition is stale: `check`, `list` and `build` say so (an error with
`--strict`).

Which edition a document prints: the job's language (`--lang`), else the clinic's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, UsageError, ValidationError
from .library import Library
from .load import MAX_TOPIC_BYTES, TERMS_FILE, load_terms, load_topic, read_text
from .models import Topic
from .timelimit import uninterrupted

DEFAULT_LANGUAGE = "en-GB"
_TERM = re.compile(r"\{\{\s*(?P<case>[Tt])erm\.(?P<key>[A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Edition:
    """One edition of a topic: which file, in which language, and how current."""

    slug: str
    language: str
    path: Path
    derived: bool = False          # its own file (adapted or translated)
    source_version: str | None = None   # the version it was adapted from
    current_version: str | None = None  # the source's version now
    translated: bool = False            # in another language than its source
    reviewed: bool = True               # a translation someone qualified has checked

    @property
    def stale(self) -> bool:
        """True when the source has moved on since this edition was adapted."""
        return self.derived and self.source_version != self.current_version


def editions(library: Library, slug: str) -> dict[str, Path]:
    """The derived editions of a topic (`<slug>.<language>.md`), by language."""
    found: dict[str, Path] = {}
    for folder in library.dirs("content"):
        for name in library.names(folder):
            if name.startswith(f"{slug}.") and name.endswith(".md"):
                language = name[len(slug) + 1:-3]
                if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", language):
                    found.setdefault(language, folder / name)
    return found


def languages(library: Library, topic: Topic, terms: dict) -> list[str]:
    """Every edition `topic` can be printed in: its own language and the regions the
    terms table words (one file), then its derived editions (files of their own)."""
    own = topic_language(topic)
    names = {own} | {lang for wording in terms.values() for lang in wording
                     if _primary(lang) == _primary(own)}
    return sorted(names) + [lang for lang in editions(library, topic.slug) if lang not in names]


def topic_language(topic: Topic) -> str:
    """The language a topic file is written in."""
    return topic.meta.language or DEFAULT_LANGUAGE


def load_edition(library: Library, slug: str, language: str | None = None,
                 terms: dict | None = None, region: str | None = None,
                 overrides: dict[str, dict[str, str]] | None = None
                 ) -> tuple[Topic, Edition]:
    """The topic `slug` as printed for `language` (default: the topic's own).

    A derived edition file wins; else the topic itself, if it is written in the same
    language (its regions told apart by terms). Anything else is a UsageError naming
    the editions there are. `overrides`: a clinic's own wording of terms (its
    clinic.toml `[terms]`), which wins over the library's.
    """
    base_path = library.topic_path(slug)
    derived = editions(library, slug)
    if language and language in derived:
        base = load_topic(base_path)
        topic = load_topic(derived[language])
        source = topic.meta.adapted_from
        translated = _primary(language) != _primary(topic_language(base))
        edition = Edition(slug, language, derived[language], True,
                          source.version if source else None, base.meta.version,
                          translated, bool(topic.meta.translation_reviewed_by))
    else:
        topic = load_topic(base_path)
        own = topic_language(topic)
        language = language or own
        if _primary(language) != _primary(own):
            table = terms if isinstance(terms, dict) else load_terms(library)
            have = ", ".join(sorted({own, *derived, *_regions(topic, table)}))
            raise UsageError(f"topic {slug!r} has no {language} edition",
                             hint=f"editions: {have}; add content/{slug}.{language}.md "
                                  f"with adapted_from, or choose another --lang")
        edition = Edition(slug, language, base_path)
    return localise(topic, language, library if terms is None else terms, region,
                    overrides), edition


def _keeps(editions: list[str] | None, wanted: set[str]) -> bool:
    return not editions or bool(wanted & set(editions))


def localise(topic: Topic, language: str, terms, region: str | None = None,
             overrides: dict[str, dict[str, str]] | None = None) -> Topic:
    """The topic with its terms in `language`'s wording and only that edition's sources.

    `terms` is the terms table, or the Library to read it from when a topic uses any;
    `overrides` (a clinic's `[terms]`, key -> language -> wording) win over it. Either
    way the wording goes through the markup stage like the topic's own words.
    """
    uses_terms = _TERM.search(topic.body) or _TERM.search(topic.meta.model_dump_json())
    # A translation prints the sources of its reader's region (`region`: the clinic's
    # language, e.g. en-US), as the regional editions do; with no region, all of them.
    wanted = {language} | ({region} if region and _primary(region) != _primary(language)
                           else set())
    if not any(_keeps(s.editions, wanted) for s in topic.meta.sources):
        wanted = {e for s in topic.meta.sources for e in s.editions or []}
    sources = [s for s in topic.meta.sources if _keeps(s.editions, wanted)]
    if not uses_terms and len(sources) == len(topic.meta.sources):
        return topic
    table = terms if isinstance(terms, dict) else (load_terms(terms) if uses_terms else {})
    problems: list[Problem] = []

    def fill(value: str, field: str | None = None, line: int | None = None) -> str:
        def one(match: re.Match) -> str:
            key = match.group("key")
            # The clinic's wording first (its language, or another region of it: a
            # threshold is the clinic's policy whatever the spelling), then the library's.
            word = _wording(overrides or {}, key, language)
            word = _wording(table, key, language) if word is None else word
            if word is None:
                where = line if line is not None else _line_in_file(topic, match.group(0))
                problems.append(Problem(
                    f"term {key!r} has no {language} wording" if key in table else
                    f"unknown term {key!r}", file=topic.path, line=where, field=field,
                    code="unknown-term",
                    hint=f"add [{key}] with {language} = \"...\" to content/{TERMS_FILE}"))
                return match.group(0)
            return word[:1].upper() + word[1:] if match.group("case") == "T" else word
        return _TERM.sub(one, value)

    body = "\n".join(fill(row, line=topic.body_line + n)
                     for n, row in enumerate(topic.body.split("\n")))
    meta = _fill_strings(topic.meta.model_dump(), fill)
    meta["sources"] = [s for s in meta["sources"] if _keeps(s.get("editions"), wanted)]
    if problems:
        raise ValidationError(problems=problems)
    return topic.model_copy(update={"meta": type(topic.meta).model_validate(meta),
                                    "body": body})


def _wording(table: dict[str, dict[str, str]], key: str, language: str) -> str | None:
    wording = table.get(key, {})
    return wording.get(language) or wording.get(_fallback(language, wording))


def _fill_strings(value, fill, field: str = ""):
    if isinstance(value, str):
        return fill(value, field or None)
    if isinstance(value, dict):
        return {k: _fill_strings(v, fill, f"{field}.{k}".lstrip(".")) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_strings(v, fill, f"{field}.{i}") for i, v in enumerate(value)]
    return value


def _line_in_file(topic: Topic, snippet: str) -> int | None:
    try:
        with uninterrupted():
            text = topic.path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    index = text.find(snippet)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _primary(language: str) -> str:
    return language.split("-")[0].lower()


def _fallback(language: str, wording: dict[str, str]) -> str | None:
    """Another edition of the same language with this wording (en -> en-GB)."""
    return next((k for k in sorted(wording) if _primary(k) == _primary(language)), None)


def _regions(topic: Topic, table: dict) -> set[str]:
    return {lang for wording in table.values() for lang in wording
            if _primary(lang) == _primary(topic_language(topic))}


def override_gaps(edition: Edition, overrides: dict[str, dict[str, str]],
                  clinic_file: Path) -> list[Problem]:
    """A warning for each term the edition uses that its clinic rewords (clinic.toml
    `[terms]`) but not in the edition's language: that edition prints the library's
    wording, so the clinic's own value (a local threshold) would be missing from it."""
    if not overrides:
        return []
    used = {m.group("key") for m in _TERM.finditer(read_text(edition.path, MAX_TOPIC_BYTES))}
    return [Problem(f"clinic.toml words term {key!r} in {', '.join(sorted(overrides[key]))} "
                    f"only, so the {edition.language} edition prints the library's wording",
                    file=clinic_file, field=f"terms.{key}", code="clinic-term-language",
                    hint=f'word it for {edition.language} too: {key} = {{ '
                         f'{next(iter(overrides[key]))} = "...", {edition.language} = "..." }}')
            for key in sorted(used & set(overrides))
            if _wording(overrides, key, edition.language) is None]


def unreviewed_problem(edition: Edition) -> Problem:
    """The problem of a translation nobody qualified has checked."""
    return Problem(f"the {edition.language} translation has not been reviewed",
                   file=edition.path, field="translation_reviewed_by",
                   code="unreviewed-translation",
                   hint="have a qualified medical translator check it, then add "
                        "translation_reviewed_by: with their name or role")


def stale_problem(edition: Edition) -> Problem:
    """The problem of a derived edition whose source has moved on."""
    return Problem(f"the {edition.language} edition was adapted from version "
                   f"{edition.source_version} of the topic, which is now at version "
                   f"{edition.current_version}", file=edition.path, field="adapted_from",
                   code="stale-edition",
                   hint="bring the edition up to date, then set adapted_from.version to "
                        f"\"{edition.current_version}\"")
