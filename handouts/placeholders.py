"""Placeholders: the words `handouts new` writes, which must not reach a patient.

A topic or clinic that still holds any of them is not fit to print: `check` names
each one with its line. The scaffold (scaffold.py) writes exactly these; a test
keeps the two in step.
"""

from __future__ import annotations

TOPIC = (
    "One line saying what this leaflet is about",
    "Say the most important thing first, in plain words.",
    "Role of the person who owns this text",
    "Role of the clinician who checked it",
    "A warning sign that needs help straight away",
    "Another warning sign",
    "The page or document the facts come from",
    "Write short sentences. Explain a medical word the first time you use it.",
    "A tick-box action for the reader",
    "A question the reader may want to ask",
)
CLINIC = {
    "phone": "01234 567890",
    "urgent_phone": "01234 567899",
    "department": "Department name",
    "address": "Street and number",
    "website": "https://example.org",
}
# The scaffold's logo: a rounded square with the clinic's initials.
LOGO_MARK = b'<rect width="64" height="64" rx="12" fill="#1f5f8b"/>'


def in_text(text: str) -> list[tuple[int, str]]:
    """(line, placeholder) for each scaffold sentence still in a topic file's text."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        found += [(number, words) for words in TOPIC if words in line]
    return found
