"""Cache: every derived file handouts keeps between runs, under one root.

The root is HANDOUTS_CACHE, else `$XDG_CACHE_HOME/handouts` (`~/.cache/handouts`).
Each kind of cache is one folder under it, named in KINDS; nothing else in the
package writes there. Entries only save time: deleting any of them changes no
output. Tests point HANDOUTS_CACHE at a temporary folder.

    layout   the spacing step each leaflet needed to fit its page budget
    list     `handouts list` rows, by a hash of everything a row depends on
    qr       QR-code SVGs, by a hash of the URL they encode
    pdf      documents made before, with every input they read: taken again only
             while all of those inputs are unchanged (pipeline.produce)
    verdict  what `handouts check` found laying a document out, the same way but
             without the PDF (check does not write one)
    fonts    the characters each font file has (its cmap, as ranges: glyphs.py)
    jinja    compiled templates (Jinja2's bytecode cache, keyed by a checksum of
             each template's source: compose.py)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from .finish import write_atomic
from .timelimit import uninterrupted

KINDS = ("layout", "list", "qr", "pdf", "verdict", "fonts", "jinja")


def root() -> Path:
    """Where handouts keeps derived data (HANDOUTS_CACHE, else the XDG cache)."""
    return Path(os.environ.get("HANDOUTS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "handouts"))


def folder(kind: str) -> Path:
    """The folder of one kind of cache (one of KINDS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}")
    return root() / kind


def read(kind: str, key: str, limit: int = 1 << 20) -> bytes | None:
    """The bytes stored under `key`, or None if absent, unreadable or too large."""
    try:
        with uninterrupted(), open(folder(kind) / key, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def write(kind: str, key: str, data: bytes) -> Path | None:
    """Store `data` under `key` atomically; None if the cache is not writable."""
    target = folder(kind) / key
    try:
        write_atomic(target, data)
    except OSError:
        return None  # a read-only or full cache only costs speed
    return target


def entries(kinds: tuple[str, ...] = KINDS) -> list[Path]:
    """Every file in the caches of `kinds`."""
    found = []
    for kind in kinds:
        base = folder(kind)
        if base.is_dir():
            found += [p for p in base.rglob("*") if p.is_file() and not p.is_symlink()]
    return found


def clear(older_than_days: float | None = None) -> tuple[int, int]:
    """Delete cache entries (only those older than `older_than_days`, if given).

    Returns (files, bytes) removed. Without an age, every cache folder goes too,
    so the root holds nothing that handouts put there.
    """
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    files = size = 0
    for entry in entries():
        try:
            stat = entry.stat()
            if cutoff is not None and stat.st_mtime > cutoff:
                continue
            entry.unlink()
        except OSError:
            continue  # removed by another process, or not ours to remove
        files += 1
        size += stat.st_size
    if cutoff is None:
        for kind in KINDS:
            shutil.rmtree(folder(kind), ignore_errors=True)
        with contextlib.suppress(OSError):
            root().rmdir()   # only if nothing else lives there
    return files, size
