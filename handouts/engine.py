"""WeasyPrint, imported quickly.

Importing WeasyPrint is most of a one-leaflet build's start-up, and a third of the
import is its search for its C libraries: for each library it tries several names,
and each name that fails to open makes cffi call `ctypes.util.find_library`, which
runs `ldconfig -p` and then gcc and ld as subprocesses (22 calls, about 0.2 s on
the benchmark machine). Every library's list of names also holds its versioned
soname (`libpango-1.0.so.0`, ...), which the dynamic loader opens directly. So while
WeasyPrint imports, `find_library` answers "not found" at once and the sonames
load. Should that fail on some unusual system, the import is retried the ordinary
way. Importing this module imports WeasyPrint (the batch forkserver preloads it).
"""

from __future__ import annotations

import sys


def _not_found(name: str) -> None:
    return None


def import_weasyprint():
    """The `weasyprint` module, imported without the slow library search if possible."""
    if "weasyprint.text.ffi" not in sys.modules:
        import contextlib  # noqa: PLC0415
        import ctypes.util  # noqa: PLC0415
        import io  # noqa: PLC0415

        original = ctypes.util.find_library
        ctypes.util.find_library = _not_found
        try:
            # WeasyPrint prints advice to stdout when a library is missing: only the
            # ordinary retry below should say that.
            with contextlib.redirect_stdout(io.StringIO()):
                import weasyprint.text.ffi  # noqa: PLC0415
        except OSError:
            for module in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
                del sys.modules[module]
        finally:
            ctypes.util.find_library = original
    import weasyprint  # noqa: PLC0415

    return weasyprint


import_weasyprint()
