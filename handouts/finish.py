"""Finish: what HTML cannot do, on the rendered PDF (atomic writes, imposition)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never part.

    The bytes go to a temporary file in the same folder, are flushed to disk, and
    replace the target in one rename; a crash or kill leaves at most a stray
    temporary file, which the next write of that folder removes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def clean_stale_parts(folder: Path, max_age: float = 0) -> int:
    """Remove temporary `.part` files left by a killed build; returns how many."""
    import time  # noqa: PLC0415

    removed = 0
    if not folder.is_dir():
        return 0
    now = time.time()
    for temp in folder.rglob(".*.part"):
        with contextlib.suppress(OSError):
            if now - temp.stat().st_mtime >= max_age:
                temp.unlink()
                removed += 1
    return removed
