"""Time limits: stop a render that runs too long, without leaving a file open.

Every document is made under one `time_limit` (loading, markdown, layout, every
spacing step, writing). Its alarm raises between any two Python bytecodes, so code
that opens a file marks the few lines from the open to the `with` (or `finally`)
that closes it `uninterrupted`: an alarm landing just after `open()` returned would
leave a file no `with` closes, and one landing just after `os.open()` a descriptor
nothing closes, or a temporary file beside a PDF.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager

from .errors import RenderError

DEFAULT_TIME_LIMIT = 60  # seconds per document; HANDOUTS_TIME_LIMIT or --time-limit


def default_time_limit() -> float:
    """Seconds a render may take: HANDOUTS_TIME_LIMIT (the CLI's --time-limit), else 60."""
    try:
        value = float(os.environ.get("HANDOUTS_TIME_LIMIT") or DEFAULT_TIME_LIMIT)
    except ValueError:
        return DEFAULT_TIME_LIMIT
    return value if value > 0 else DEFAULT_TIME_LIMIT


def _expired(seconds: float) -> RenderError:
    return RenderError(f"rendering took longer than {seconds:g} s and was stopped",
                       hint="simplify the document, or allow more time: `handouts "
                            "--time-limit SECONDS` or HANDOUTS_TIME_LIMIT")


class _Timeout(BaseException):
    """Raised in a render that ran out of time; a BaseException, so that no
    `except Exception` inside WeasyPrint can swallow it."""


_ACTIVE = threading.local()


@contextmanager
def time_limit(seconds: float | None):
    """Stop the enclosed work after `seconds` with a RenderError.

    The pipeline puts one limit around everything that makes a document (loading,
    markdown, layout, every spacing step, writing); a limit inside another adds
    nothing, so the outer one holds. SIGALRM reaches only the main thread, so
    work elsewhere runs unlimited: build, batch workers and check make documents
    on their main thread, and `serve` hands its renders to its main thread.
    """
    if not seconds or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer") or getattr(_ACTIVE, "on", False):
        yield
        return
    _ACTIVE.on = True
    try:
        with _alarm(seconds):
            yield
    finally:
        _ACTIVE.on = False


@contextmanager
def _alarm(seconds: float):

    fired = False

    def expire(signum, frame):
        nonlocal fired
        fired = True
        if getattr(_HELD, "depth", 0):   # a file is being opened: the next tick stops it
            return
        raise _Timeout

    # The alarm repeats: an exception raised while Python runs a gc callback,
    # a __del__ or a weakref callback is printed and dropped ("Exception
    # ignored in ..."), so one alarm alone can be lost. The next tick stops it.
    outer_hook = sys.unraisablehook

    def quiet_hook(unraisable):   # a dropped tick is expected, not worth a message
        if not isinstance(unraisable.exc_value, _Timeout):
            outer_hook(unraisable)

    previous = signal.signal(signal.SIGALRM, expire)
    sys.unraisablehook = quiet_hook
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, 0.1))
    try:
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            sys.unraisablehook = outer_hook
    except _Timeout:
        raise _expired(seconds) from None
    if fired:   # every tick was swallowed, but the render still ran too long
        raise _expired(seconds)


_HELD = threading.local()


class uninterrupted:
    """A stretch of code an alarm must not cut in two (open a file, read it, close it).

    A tick that lands inside is let go: the next, at most 0.1 s later, stops the
    work, or the limit's end does if none comes. Keep the stretch short and
    bounded (a read of a file with a size limit, a write of bytes in memory).
    Only the main thread gets alarms, so the depth is kept per thread.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        _HELD.depth = getattr(_HELD, "depth", 0) + 1

    def __exit__(self, *exc) -> None:
        _HELD.depth -= 1
