"""Inventory: what a library holds, as rows for `list` and `clinics` (no rendering)."""

from __future__ import annotations

from .errors import HandoutsError, Problem
from .library import Library
from .load import load_clinic, load_topic
from .markup import render_body
from .models import Topic
from .readability import Readability, measure


def reading_level(topic: Topic, library: Library) -> Readability:
    """Reading-level figures of a topic's body (front matter and boilerplate excluded)."""
    result = render_body(topic, None, library.dirs("content"))
    return measure(result.text)


def topic_rows(library: Library) -> tuple[list[dict], list[Problem]]:
    """One row per topic, and the problems of topics that do not load."""
    rows, problems = [], []
    for slug, path in library.topics().items():
        try:
            topic = load_topic(path)
            level = reading_level(topic, library)
        except HandoutsError as error:
            problems.extend(error.problems)
            rows.append({"slug": slug, "title": "(invalid: see below)"})
            continue
        meta = topic.meta
        rows.append({
            "slug": slug, "title": meta.title, "version": meta.version,
            "layout": meta.layout, "last_reviewed": meta.last_reviewed.isoformat(),
            "next_review": meta.next_review.isoformat() + (" OVERDUE" if topic.overdue()
                                                            else ""),
            "pages": meta.pages, "grade": round(level.fk_grade, 1),
            "smog": round(level.smog, 1), "words": level.words, "path": str(path),
        })
    return rows, problems


def clinic_rows(library: Library) -> tuple[list[dict], list[Problem]]:
    """One row per clinic profile, and the problems of profiles that do not load."""
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
