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

Once imported, what WeasyPrint 70 lacks is added: each span's own /Lang in the tag
tree (below), balanced columns in fewer layout passes (columns.py), line breaks
remembered across layouts (linebreaks.py), and layouts that stop once they are certain
to run past a page limit (pagelimit.py).
"""

from __future__ import annotations

import gc
import sys

_frozen = False   # set once the imports are frozen (gc.freeze)


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

    tag_span_languages()
    from . import columns, linebreaks, pagelimit  # noqa: PLC0415 - need WeasyPrint imported

    columns.install()
    linebreaks.install()
    pagelimit.install()
    global _frozen
    if _frozen:
        return weasyprint
    _frozen = True
    # What is imported by now (WeasyPrint, fontTools, pydantic, our models: a few hundred
    # thousand objects) lives as long as the process. Frozen, the cyclic collector stops
    # walking all of it on every full collection while WeasyPrint lays out: 0.1 s of a
    # one-leaflet build, 3% of each warm render; a forked worker also shares it unwritten.
    gc.freeze()
    return weasyprint


def tag_span_languages() -> None:
    """Each structure element made from an HTML element with a `lang` of its own gets
    that /Lang (a clinic's English name in an Arabic leaflet, the English titles of
    sources in a Spanish one), as PDF/UA asks; WeasyPrint 70 writes only the
    document's. Its tag tree is built by a private generator, which this wraps: should a
    WeasyPrint release rename it, nothing breaks and tests/test_languages.py says so."""
    from weasyprint.pdf import tags  # noqa: PLC0415

    build = getattr(tags, "_build_box_tree", None)
    if build is None or getattr(build, "handouts_languages", False):
        return
    import pydyf  # noqa: PLC0415

    def with_languages(box, parent, *args):
        element = getattr(box, "element", None)
        language = None
        if element is not None and getattr(box, "element_tag", None) not in ("html", "body"):
            language = element.get("lang")
        for structure in build(box, parent, *args):
            if language and "Lang" not in structure:
                structure["Lang"] = pydyf.String(language)
            yield structure

    with_languages.handouts_languages = True
    tags._build_box_tree = with_languages   # its recursion calls the module's name


import_weasyprint()
