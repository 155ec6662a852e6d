"""Record: every file a document actually read while it was made.

Each stage that opens a file (the loaders, the Jinja2 loader, the stylesheet
cache, the URL fetcher, the image check) calls `read(path)`; a lookup that tried
a file which was not there calls `missed(path)`, because a file appearing there
later (a library override of a bundled template) changes the output as surely as
an edit does. `recording()` collects both for the document being made in this
thread. Incremental builds trust this record, never a guess from the topic text.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .timelimit import uninterrupted

MISSING = "missing"


@dataclass
class Reads:
    """Files read (with nothing else known yet) and paths looked for but absent."""

    files: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)

    def fingerprint(self, hash_file=None) -> dict[str, str]:
        """Every recorded path with the sha256 of its bytes, or MISSING."""
        hash_file = hash_file or file_sha256
        result = {path: hash_file(path) for path in self.files}
        for path in self.missing:
            result.setdefault(path, hash_file(path))
        return dict(sorted(result.items()))


_CURRENT: contextvars.ContextVar[Reads | None] = contextvars.ContextVar("reads", default=None)


@contextmanager
def recording():
    """Collect the files read in this block (nested blocks add to the outer one too)."""
    outer = _CURRENT.get()
    reads = Reads()
    token = _CURRENT.set(reads)
    try:
        yield reads
    finally:
        _CURRENT.reset(token)
        if outer is not None:
            outer.files |= reads.files
            outer.missing |= reads.missing


def read(path: Path | str) -> None:
    """Note that the document being made read `path`."""
    reads = _CURRENT.get()
    if reads is not None:
        reads.files.add(os.path.abspath(path))


def missed(path: Path | str) -> None:
    """Note that the document being made looked for `path` and did not find it."""
    reads = _CURRENT.get()
    if reads is not None:
        reads.missing.add(os.path.abspath(path))


def file_sha256(path: str) -> str:
    """sha256 of a regular file's bytes, or MISSING if it is not one."""
    digest = hashlib.sha256()
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return MISSING   # never open a FIFO or a device: it may block
        with uninterrupted(), open(path, "rb", buffering=0) as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except OSError:
        return MISSING
    return digest.hexdigest()


_MEMO: dict[tuple, str] = {}


def memo_sha256(path: str) -> str:
    """file_sha256, remembered per process while the file's size and times stay the same
    (a warm worker or the print desk hashes the same fonts and templates once)."""
    try:
        info = os.stat(path)
    except OSError:
        return MISSING
    key = (path, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _MEMO:
        if len(_MEMO) > 4096:
            _MEMO.clear()
        _MEMO[key] = file_sha256(path)
    return _MEMO[key]
