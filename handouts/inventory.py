"""Inventory: what a library holds, as rows for `list` and `clinics` (no rendering).

`handouts list` shows, per topic, the figures `handouts check` works from without
rendering: version, review dates, page budget, reading level, and the count of
problems in the topic itself (missing alt text, broken links, clinic fields a
profile lacks, reading level over the target, review overdue). Measuring them
means importing the markdown and validation machinery, so each topic's row is
cached under a hash of everything it depends on (the topic, the library's
content files and clinic profiles, the handouts code): an unchanged library lists
from the cache, without those imports. Review-overdue depends on today's date and
is worked out afresh every time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from . import __version__, cache
from .errors import HandoutsError, Problem
from .library import Library

DEFAULT_GRADE = 8.0
_CACHE_FORMAT = 3


def reading_level(topic, library: Library):
    """Reading-level figures of a topic's body (front matter and boilerplate excluded)."""
    from .markup import render_body  # noqa: PLC0415
    from .readability import measure  # noqa: PLC0415

    result = render_body(topic, None, library.dirs("content"))
    return measure(result.text)


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path} missing"
    return f"{path} {info.st_size} {info.st_mtime_ns}"


def _library_fingerprint(library: Library, clinics: dict[str, Path]) -> bytes:
    """What every topic's row depends on besides the topic itself."""
    parts = [f"{_CACHE_FORMAT} {__version__} {DEFAULT_GRADE}"]
    package = Path(__file__).resolve().parent
    parts += sorted(_stamp(package / name) for name in os.listdir(package)
                    if name.endswith(".py"))
    for folder in library.dirs("content"):
        parts += sorted(_stamp(p) for p in folder.rglob("*") if p.is_file())
    for slug, folder in clinics.items():
        parts.append(f"{slug} {_stamp(folder / 'clinic.toml')}")
    return "\n".join(parts).encode()


def _measure(library: Library, path: Path, clinics: dict[str, Path]) -> dict:
    """A topic's row, computed (loads, measures and checks it); raises HandoutsError."""
    from .check import topic_problems  # noqa: PLC0415
    from .load import load_clinic  # noqa: PLC0415
    from .timelimit import default_time_limit, time_limit  # noqa: PLC0415

    with time_limit(default_time_limit()):   # markdown on untrusted text: one budget
        topic, states, stale, levels = _editions(library, path.stem)
        level = reading_level(topic, library)
    profiles = []
    for folder in clinics.values():
        try:
            profiles.append(load_clinic(folder, library))
        except HandoutsError:
            continue  # a broken profile is `handouts clinics`'s and `check`'s to report
    # Far in the past, so that review-overdue (worked out afresh) is never cached.
    problems = topic_problems(library, topic, profiles, DEFAULT_GRADE, dt.date.min) + stale
    meta = topic.meta
    return {
        "title": meta.title, "version": meta.version, "layout": meta.layout,
        "last_reviewed": meta.last_reviewed.isoformat(),
        "next_review": meta.next_review.isoformat(), "pages": meta.pages,
        "grade": round(level.fk_grade, 1), "smog": round(level.smog, 1),
        "words": level.words, "editions": states, "edition_levels": levels,
        "problems": [p.as_dict() for p in problems],
    }


def _editions(library: Library, slug: str):
    """The topic in its own language, and each edition with its state, e.g.
    "en-GB en-US es(stale)": the regions its terms cover and its derived editions."""
    from .editions import (  # noqa: PLC0415
        editions,
        languages,
        load_edition,
        load_terms,
        stale_problem,
    )
    from .markup import render_body  # noqa: PLC0415
    from .readability import reading_level as level_of  # noqa: PLC0415

    terms = load_terms(library)
    topic, _ = load_edition(library, slug, None, terms)
    derived = editions(library, slug)
    states = [lang for lang in languages(library, topic, terms) if lang not in derived]
    stale, levels = [], []
    for language in derived:
        translated, edition = load_edition(library, slug, language, terms)
        states.append(f"{language}(stale)" if edition.stale else language)
        stale += [stale_problem(edition)] if edition.stale else []
        text = render_body(translated, None, library.dirs("content")).text
        levels.append(f"{language}: {level_of(text, language).summary()}")
    return topic, " ".join(states), stale, "; ".join(levels)


def _checks(problems: list[dict]) -> str:
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = len(problems) - errors
    parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    parts += [f"{warnings} warning{'s' if warnings != 1 else ''}"] if warnings else []
    return ", ".join(parts) or "ok"


def topic_rows(library: Library, today: dt.date | None = None
               ) -> tuple[list[dict], list[Problem]]:
    """One row per topic, and the problems of topics that do not load."""
    with library.listed_once():   # each row looks up its topic's editions
        return _topic_rows(library, today or dt.date.today())


def _topic_rows(library: Library, today: dt.date) -> tuple[list[dict], list[Problem]]:
    clinics = library.clinics()
    fingerprint = _library_fingerprint(library, clinics)
    rows, problems = [], []
    for slug, path in library.topics().items():
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        key = hashlib.sha256(fingerprint + b"\0" + str(path).encode() + b"\0" + data)
        cached = key.hexdigest()[:40]
        try:
            row = json.loads(cache.read("list", cached) or b"")
            if not isinstance(row, dict) or not isinstance(row.get("problems"), list):
                raise ValueError("not a row")   # a damaged entry is measured again
        except ValueError:
            try:
                row = _measure(library, path, clinics)
            except HandoutsError as error:
                problems.extend(error.problems)
                rows.append({"slug": slug, "title": "(invalid: see below)", "path": str(path),
                             "checks": "does not load"})
                continue
            cache.write("list", cached, json.dumps(row).encode())
        found = list(row.pop("problems"))
        if dt.date.fromisoformat(row["next_review"]) < today:
            row["next_review"] += " OVERDUE"
            found.append(Problem(f"review overdue since {row['next_review'][:10]}", file=path,
                                 field="next_review", code="review-overdue").as_dict())
        rows.append({"slug": slug, **row, "checks": _checks(found), "problems": found,
                     "path": str(path)})
    return rows, problems


def clinic_rows(library: Library) -> tuple[list[dict], list[Problem]]:
    """One row per clinic profile, and the problems of profiles that do not load."""
    from .load import load_clinic  # noqa: PLC0415

    rows, problems = [], []
    for slug, folder in library.clinics().items():
        try:
            clinic = load_clinic(folder, library).clinic
        except HandoutsError as error:
            problems.extend(error.problems)
            rows.append({"slug": slug, "name": "(invalid: see below)", "folder": str(folder)})
            continue
        rows.append({"slug": slug, "name": clinic.name, "paper": clinic.paper,
                     "phone": clinic.phone, "urgent_phone": clinic.urgent_phone,
                     "language": clinic.language, "folder": str(folder)})
    return rows, problems
