"""Scaffold: start a handout library, a topic or a clinic from documented templates."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from .errors import UsageError
from .library import Library, bundled_root
from .models import is_slug

TOPIC = """\
---
# Front matter: every key is documented in docs/topic-format.md of handouts.
title: {title}
subtitle: Information for patients and carers
summary: One line saying what this leaflet is about (shown in lists).
# The main message, in one or two sentences, printed in a box under the title.
main_message: >
  Say the most important thing first, in plain words.
layout: leaflet          # leaflet, or checklist (one page, tick boxes)
pages: 2                 # page budget on A4 and Letter: the build fails above it
columns: 1               # 2 = two columns on A4 and Letter
version: "0.1"
last_reviewed: {today}
next_review: {next_review}   # at most three years after last_reviewed
owner: Role of the person who owns this text
reviewer: Role of the clinician who checked it
urgent:                  # the "Get help now" box; the clinic's numbers are added
  signs:
    - A warning sign that needs help straight away
    - Another warning sign
sources:
  - publisher: NHS
    title: The page or document the facts come from
---

## What is it?

Write short sentences. Explain a medical word the first time you use it.

## What should I do?

- [ ] A tick-box action for the reader

Next appointment: ____

## Questions to ask your care team

- A question the reader may want to ask

For questions that are not urgent, call us on {{{{ clinic.phone }}}}.
"""

CLINIC = """\
# Clinic profile: every key is documented in the handouts README.
name = "{name}"
department = "Department name"
logo = "logo.svg"                  # beside this file: SVG, PNG or JPEG
phone = "01234 567890"
phone_label = "Clinic"
urgent_phone = "01234 567899"      # printed big in every "Get help now" box
urgent_label = "Urgent help line, 24 hours"
emergency_number = "{emergency}"
country = "{country}"
address = ["Street and number", "Town and postcode"]
website = "https://example.org"
paper = "{paper}"                     # a4, letter, a5 or half-letter
language = "{language}"
# footer = "Ask for this leaflet in large print or another language"
# topic_url = "https://example.org/leaflets/{{topic}}"   # adds a QR code to each leaflet

[colours]                          # #rrggbb; `handouts check` tests their contrast
primary = "#1f5f8b"
warning = "#b3261e"
text = "#1d1d1b"
"""

LOGO = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" \
role="img" aria-label="{name}">
  <rect width="64" height="64" rx="12" fill="#1f5f8b"/>
  <text x="32" y="41" text-anchor="middle" font-family="Atkinson Hyperlegible, sans-serif"
        font-size="26" font-weight="700" fill="#ffffff">{initials}</text>
</svg>
"""


def _target_root(library: Library) -> Path:
    if library.root is None:
        raise UsageError("not inside a handout library",
                         hint="run `handouts init DIR` first, or pass --library DIR")
    return library.root


def new_topic(library: Library, slug: str, title: str | None = None,
              today: dt.date | None = None) -> Path:
    """Write content/SLUG.md: a valid, documented topic that builds at once."""
    if not is_slug(slug):
        raise UsageError(f"{slug!r} is not a valid name", hint="use lower-case letters, "
                         "digits and hyphens, e.g. hip-replacement")
    path = _target_root(library) / "content" / f"{slug}.md"
    if path.exists():
        raise UsageError(f"{path} already exists")
    today = today or dt.date.today()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TOPIC.format(title=title or slug.replace("-", " ").capitalize(),
                                 today=today.isoformat(),
                                 next_review=today.replace(year=today.year + 2).isoformat()
                                 if not (today.month == 2 and today.day == 29)
                                 else dt.date(today.year + 2, 2, 28).isoformat()))
    return path


def new_clinic(library: Library, slug: str, name: str | None = None,
               country: str = "GB") -> Path:
    """Write clinics/SLUG/clinic.toml and a placeholder logo."""
    if not is_slug(slug):
        raise UsageError(f"{slug!r} is not a valid name", hint="e.g. northside-clinic")
    folder = _target_root(library) / "clinics" / slug
    if folder.exists():
        raise UsageError(f"{folder} already exists")
    name = name or slug.replace("-", " ").title()
    us = country.upper() == "US"
    folder.mkdir(parents=True)
    (folder / "clinic.toml").write_text(CLINIC.format(
        name=name.replace('"', "'"), emergency="911" if us else "999",
        country=country.upper(), paper="letter" if us else "a4",
        language="en-US" if us else "en-GB"))
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "H"
    from html import escape  # noqa: PLC0415

    (folder / "logo.svg").write_text(LOGO.format(name=escape(name), initials=escape(initials)))
    return folder / "clinic.toml"


NEW_MANIFEST = """\
# Which kinds of file come from the handouts package itself. Your topics, clinics and
# booklets are the ones in this folder; add "content" to also list the shipped topics.
bundled = ["templates", "styles"]

# Batch manifest: `handouts batch` builds everything listed here into `output`.
output = "output"
clinics = ["*"]                    # every clinic in clinics/
topics = ["*"]                     # every topic in content/
papers = ["clinic"]                # each clinic's own paper size; or a4, letter, a5, half-letter
variants = ["standard", "large"]   # standard and large print

# Per-clinic exceptions, for example:
# [clinic.riverside-oncology]
# papers = ["a4", "a5"]
# exclude = ["bone-metastases"]

# Named booklets (booklets/<name>.toml), for example imposed for an office printer:
# [[booklet]]
# name = "bone-health-in-cancer"
# clinics = ["riverside-oncology"]
# papers = ["a5"]
# impose = true
"""


def init_library(target: Path, with_templates: bool = False) -> list[Path]:
    """Start a handout library in `target` from the bundled defaults."""
    target = Path(target)
    if target.exists() and any(target.iterdir()) and (
            (target / "content").exists() or (target / "handouts.toml").exists()):
        raise UsageError(f"{target} already holds a handout library")
    source = bundled_root()
    kinds = ["content", "clinics", "booklets"] + (["templates", "styles"] if with_templates
                                                  else [])
    created = []
    for kind in kinds:
        if (source / kind).is_dir():
            shutil.copytree(source / kind, target / kind, dirs_exist_ok=True)
            created.append(target / kind)
    # The library now holds its own copies of the topics, clinics and booklets, so
    # only templates and styles keep coming from the package: a deleted demo clinic
    # stays deleted, and upgrading handouts never changes the text a clinic signed off.
    # The manifest names no clinic, so deleting a demo clinic leaves it valid.
    (target / "handouts.toml").write_text(NEW_MANIFEST, encoding="utf-8")
    created.append(target / "handouts.toml")
    (target / ".gitignore").write_text("/output/\n")
    return created
