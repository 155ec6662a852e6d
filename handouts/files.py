"""Files: reading an untrusted file safely (regular files inside the library, bounded).

Every stage that opens a topic, clinic file, stylesheet, logo or image goes through
`read_file`, so a FIFO never blocks, a link never leads outside the library, and a
size limit holds while reading, not after a whole read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from . import record
from .errors import UnsafeResourceError, ValidationError
from .timelimit import uninterrupted

# The largest file a document may use (a picture, a font, a stylesheet): the renderer's
# fetcher serves no more, and the checks of pictures read no more.
MAX_ASSET_BYTES = 8 * 1024 * 1024


def _within(real: str, folder: Path) -> bool:
    root = os.path.realpath(folder)
    return os.path.commonpath([real, root]) == root


def read_file(path: Path, limit: int, roots: Iterable[Path] | None = None,
              field: str | None = None) -> bytes:
    """At most `limit` bytes of a regular file inside one of `roots` (default: its folder).

    Symlinks are resolved and the target checked before anything is opened. The
    file is opened without blocking (a FIFO would wait for a writer forever) and
    refused unless fstat says it is a regular file; the limit holds while reading,
    so /dev/zero or a sparse 4 GB file is never read whole.
    """
    record.read(path)
    real = os.path.realpath(path)
    if not any(_within(real, root) for root in (roots or [path.parent])):
        raise UnsafeResourceError("file is outside the library (a link to somewhere else?)",
                                  file=path, field=field, code="unsafe-resource",
                                  hint="copy the file into the library instead of linking it")
    with uninterrupted():   # an alarm between os.open and its `finally` leaks the handle
        try:
            # O_NOFOLLOW: if the checked path became a link since, refuse it.
            handle = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY
                             | os.O_CLOEXEC)
        except OSError as error:
            raise ValidationError(f"cannot read file: {error.strerror}", file=path,
                                  field=field) from None
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                raise ValidationError("not a regular file (a folder, pipe or device)", file=path,
                                      field=field, hint="use a plain file")
            if info.st_size > limit:
                raise _too_big(path, info.st_size, limit, field)
            data = _read_at_most(handle, limit + 1)
        except OSError as error:
            raise ValidationError(f"cannot read file: {error.strerror}", file=path,
                                  field=field) from None
        finally:
            os.close(handle)
    if len(data) > limit:   # it grew after fstat
        raise _too_big(path, len(data), limit, field)
    return data


def _read_at_most(handle: int, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = os.read(handle, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _too_big(path: Path, size: int, limit: int, field: str | None) -> ValidationError:
    return ValidationError(f"file is {size // 1024} KB, more than the {limit // 1024} KB limit",
                           file=path, field=field, hint="split it or remove pasted data")
