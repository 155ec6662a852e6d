"""Whether upstream code is the very code a patch of ours was written against.

`collisions`, `columns`, `computedvalues`, `linebreaks`, `markers`, `pagelimit`,
`svgreplay` and `usedvalues` replace or wrap WeasyPrint functions whose behaviour they
rely on in detail; each is installed only while the source files it was written
against are unchanged, compared by SHA-256. A release that changes them keeps
WeasyPrint's own code, and each patch's guard test says so.
"""

from __future__ import annotations

import hashlib
import importlib
from contextlib import contextmanager
from pathlib import Path

# The WeasyPrint release whose layout code was read for where it changes a style's
# values: only while it builds the boxes, or on a copy it has just made (`::first-line`,
# `::first-letter`, `character_ratio`, flex and grid items). `linebreaks` and
# `usedvalues` note answers on style objects only under it.
NOTED_FOR = "70.0"


def styles_noted() -> bool:
    """Whether WeasyPrint is the release read for style changes (`NOTED_FOR`)."""
    import weasyprint  # noqa: PLC0415 - only once WeasyPrint is in use

    return weasyprint.__version__ == NOTED_FOR


def unchanged(modules: tuple[str, ...], sha256: str) -> bool:
    """Whether the source files of `modules` (by name), read in that order, have the
    SHA-256 `sha256`. A module without its source installed counts as changed."""
    digest = hashlib.sha256()
    try:
        for name in modules:
            digest.update(Path(importlib.import_module(name).__file__).read_bytes())
    except (ImportError, OSError, TypeError):   # TypeError: no __file__
        return False
    return digest.hexdigest() == sha256


@contextmanager
def swapped(*changes):
    """Within this block each `(owner, name, value)` is set, and the values they had
    are put back after: how a patch module's `stock()` brings back WeasyPrint's own
    code for the tests that compare the two."""
    before = [(owner, name, getattr(owner, name)) for owner, name, _ in changes]
    for owner, name, value in changes:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in before:
            setattr(owner, name, value)
