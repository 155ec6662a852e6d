"""Errors: the HandoutsError family and the exit codes the CLI maps them to.

Exit codes (documented in the README and `handouts --help`):
    0  success
    1  the inputs have problems or a build failed (content, clinic, budget, render)
    2  usage error: unknown topic, clinic, paper or option
    3  interrupted or an unexpected internal error (run with -v for the traceback)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


# Which problem is an error and which a warning, in one place. A warning lets the
# PDF be made and is reported; `--strict` turns every warning into an error.
# Codes not listed are errors.
SEVERITY = {
    "review-overdue": "warning",     # the clinic may still print it (unless refuse_overdue)
    "refused-resource": "warning",   # the fetcher refused a file; the page prints without it
    "render": "warning",             # WeasyPrint's own warnings (a missing glyph, odd CSS)
    "missing-alt": "error",          # PDF/UA needs alt text on every figure
    "stale-edition": "warning",      # its source changed since it was adapted
    "unreviewed-translation": "warning",   # printable, but --strict refuses it
    "card-variant": "warning",       # a card asked for in large print is the standard card
    "untranslated-label": "warning",  # a clinic label printed in English in another language
    "unknown-message": "warning",    # a clinic rewording no message or label uses
    "clinic-term-language": "warning",   # a clinic's own term not worded in the edition
    "missing-glyph": "error",        # a character no font has would print as an empty box
}


# What preflight sees on the laid-out page (preflight.py): a warning in a build (the
# nurse still gets the PDF; --strict refuses it), an error in `handouts check`.
PREFLIGHT = "warning"


def severity_of(code: str) -> str:
    """"error" or "warning" for a problem code (SEVERITY, else an error)."""
    if code.startswith("preflight-"):
        return PREFLIGHT
    return SEVERITY.get(code, "error")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what, and how to fix it."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    field: str | None = None
    hint: str | None = None
    severity: str = ""       # "error" or "warning"; by default from SEVERITY
    code: str = "invalid"

    def __post_init__(self):
        if not self.severity:
            object.__setattr__(self, "severity", severity_of(self.code))

    def as_error(self) -> Problem:
        """The same problem as an error (for --strict)."""
        return replace(self, severity="error")

    def location(self) -> str:
        """`file:line` (or just the file) as a user would type it."""
        if self.file is None:
            return ""
        where = str(self.file)
        return f"{where}:{self.line}" if self.line else where

    def __str__(self) -> str:
        parts = []
        if self.location():
            parts.append(f"{self.location()}: ")
        if self.field:
            parts.append(f"{self.field}: ")
        parts.append(self.message)
        if self.hint:
            parts.append(f" ({self.hint})")
        return "".join(parts)

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        return {
            "severity": self.severity, "code": self.code,
            "file": str(self.file) if self.file else None,
            "line": self.line, "field": self.field, "message": self.message, "hint": self.hint,
        }


class HandoutsError(Exception):
    """A problem the user can fix; carries one or more Problems."""

    exit_code = EXIT_PROBLEMS

    def __init__(self, message: str | None = None, *, file=None, line=None, field=None,
                 hint=None, problems: list[Problem] | None = None, code: str = "invalid"):
        if problems is None:
            problems = [Problem(message or "", file=file, line=line, field=field, hint=hint,
                                code=code)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(HandoutsError):
    """The command line asked for something that does not exist."""

    exit_code = EXIT_USAGE


class ValidationError(HandoutsError):
    """A topic, clinic profile or manifest does not match its schema."""


class UnsafeResourceError(HandoutsError):
    """Content tried to reach a file outside the library, the network, or inject markup."""


class BudgetError(HandoutsError):
    """A topic (or a booklet's back cover) rendered to more pages than it may take."""


class RenderError(HandoutsError):
    """WeasyPrint could not render a document (time limit, broken resource)."""
