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
tree (below), balanced columns in fewer layout passes (columns.py), line breaks and
drawn lines' Pango layouts remembered across layouts (linebreaks.py), used values
remembered per style (usedvalues.py), computed values the short way where no rule sets
them, `var()` values validated once and colours parsed once (computedvalues.py), float
collisions the short way where there is no float (collisions.py), plain SVG pictures
replayed and the other pictures' attribute values parsed once (svgreplay.py),
list bullets sized once per style (markers.py),
layouts that stop once they are certain to run past a page limit and
pages laid out once where a running element first appears (pagelimit.py), streams
compressed at zlib's default level, each object serialised once per PDF written, and
the list of page references kept while the pages are the same.
"""

from __future__ import annotations

import gc
import sys
from contextvars import ContextVar

from .upstream import unchanged

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
    compress_at_zlib_default()
    serialise_once()
    keep_page_references()
    remember_parser_patterns()
    from . import (  # noqa: PLC0415 - need WeasyPrint
        collisions,
        columns,
        computedvalues,
        linebreaks,
        markers,
        pagelimit,
        svgreplay,
        usedvalues,
    )

    collisions.install()
    columns.install()
    computedvalues.install()
    linebreaks.install()
    markers.install()
    pagelimit.install()
    svgreplay.install()
    usedvalues.install(columns)
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


def _source_is(function, sha256: str) -> bool:
    """Whether the source of `function` has the SHA-256 `sha256` (without its source
    installed, it counts as changed)."""
    import hashlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return hashlib.sha256(source.encode()).hexdigest() == sha256


# SHA-256 of the source of pydyf 0.13's Stream.data, which compresses at level 9.
STREAM_DATA = "bdc2bc513f286de7b7a7220a43e6085daa6ed0056d9c04e3c9b5abe40f3ecf81"


def compress_at_zlib_default() -> bool:
    """pydyf compresses each stream of a PDF (page contents, fonts, images) at zlib
    level 9, its fixed choice: a seventh of the time WeasyPrint takes to write a
    PDF, for files 0.01% smaller than at level 6, zlib's default (the benchmark
    machine: 15 leaflets and booklets, 7.1 against 6.1 s to write, 561,313 against
    561,386 bytes). The same property at the default level replaces it, only over the
    pydyf code it was copied from (`STREAM_DATA`); tests/test_render.py says if that
    changes."""
    import zlib  # noqa: PLC0415

    import pydyf  # noqa: PLC0415

    original = pydyf.Stream.data
    if getattr(original.fget, "handouts_default_level", False):
        return True
    if not _source_is(original.fget, STREAM_DATA):
        return False

    def data(self):   # pydyf 0.13's Stream.data, with zlib's default level
        stream = b"\n".join(pydyf._to_bytes(item) for item in self.stream)
        extra = pydyf.Dictionary(self.extra.copy())
        if self.compress:
            extra["Filter"] = "/FlateDecode"
            compressobj = zlib.compressobj()
            stream = compressobj.compress(stream)
            stream += compressobj.flush()
        extra["Length"] = len(stream)
        return b"\n".join((extra.data, b"stream", stream, b"endstream"))

    data.handouts_default_level = True
    pydyf.Stream.data = property(data)
    return True


# SHA-256 of the source of pydyf 0.13's PDF.write, which serialises every object twice.
PDF_WRITE = "242cd38f92ecd33f831159f8eb560487bf2e18d746ff8a7666954f2a8d519ba0"
# While a PDF is written (in this thread): id -> (object, its bytes).
_serialised: ContextVar[dict | None] = ContextVar("handouts_serialised", default=None)


def serialise_once() -> bool:
    """pydyf writes a PDF with an /ID by serialising every object twice: once into the
    file, and once more for the MD5 hash that is the ID's second half. The second time
    compresses every stream again: 13 of the 27 ms it took to write a four-page
    leaflet, 4% of making it. While `PDF.write` runs (nothing changes its objects
    then), each dictionary, array and stream keeps its bytes the first time they are
    asked for. Only over the pydyf code this was written against (`PDF_WRITE`);
    tests/test_render.py says if that changes."""
    import functools  # noqa: PLC0415

    import pydyf  # noqa: PLC0415

    write = pydyf.PDF.write
    if getattr(write, "handouts_once", False):
        return True
    if not _source_is(write, PDF_WRITE):
        return False

    def once(data):
        @functools.wraps(data)   # keeps compress_at_zlib_default's mark
        def remembered(self):
            serialised = _serialised.get()
            if serialised is None:
                return data(self)
            kept = serialised.get(id(self))
            if kept is None or kept[0] is not self:
                kept = serialised[id(self)] = (self, data(self))
            return kept[1]
        return property(remembered)

    def writing(self, *args, **kwargs):
        token = _serialised.set({})
        try:
            return write(self, *args, **kwargs)
        finally:
            _serialised.reset(token)

    for kind in (pydyf.Dictionary, pydyf.Array, pydyf.Stream):
        kind.data = once(kind.data.fget)
    writing.handouts_once, writing.handouts_stock = True, write
    pydyf.PDF.write = writing
    return True


# SHA-256 of the source of pydyf 0.13's PDF.page_references.
PAGE_REFERENCES = "060bf90aad55931bc24c3575a52af9478a89916aa307e5323142663841cb7798"


def keep_page_references() -> bool:
    """pydyf's `PDF.page_references` builds the tuple of every page's reference each
    time it is read, and WeasyPrint reads it for each structure element it tags: 1.6%
    of making a four-page leaflet, more the more pages. The tuple is kept while the
    document has the same pages. Only over the pydyf code this was written against
    (`PAGE_REFERENCES`); tests/test_render.py says if that changes."""
    import pydyf  # noqa: PLC0415

    original = pydyf.PDF.page_references.fget
    if getattr(original, "handouts_kept", False):
        return True
    if not _source_is(original, PAGE_REFERENCES):
        return False

    def page_references(self):
        kids = self.pages["Kids"]   # three items a page: number, 0, R
        kept = self.__dict__.get("_handouts_page_references")
        if kept is None or kept[0] != len(kids):
            kept = self._handouts_page_references = (len(kids), original(self))
        return kept[1]

    page_references.handouts_kept = True
    pydyf.PDF.page_references = property(page_references)
    return True


# SHA-256 of tinyhtml5 2.1.0's inputstream.py, whose pattern cache misses.
INPUTSTREAM = "1c89c26bad4745509ecdc087d80a993111886b2ad92f702e12952a90776ddcb2"


def remember_parser_patterns() -> bool:
    """tinyhtml5 (WeasyPrint's HTML parser) reads text up to one of a few characters
    with a regular expression it builds from them and keeps in a cache, but stores it
    under the expression instead of the characters, so every call builds it again: a
    Python loop over the characters and a lookup in `re`'s cache, for each run of text
    in the document, about 2% of a warm render. Each expression is now built once and
    handed to the same function, which then finds it where it stores it. Only over
    the file it was written against (`INPUTSTREAM`); tests/test_render.py says if that
    changes."""
    import re  # noqa: PLC0415

    from tinyhtml5 import inputstream  # noqa: PLC0415

    stream = inputstream.HTMLUnicodeInputStream
    original = stream.chars_until
    if getattr(original, "handouts_patterns", None) is not None:
        return True
    if not unchanged(("tinyhtml5.inputstream",), INPUTSTREAM):
        return False
    patterns: dict = {}

    def chars_until(self, characters, opposite=False):
        pattern = patterns.get((characters, opposite))
        if pattern is None:   # as tinyhtml5 builds it
            regex = "".join([f"\\x{ord(character):02x}" for character in characters])
            if not opposite:
                regex = f"^{regex}"
            pattern = patterns[characters, opposite] = re.compile(f"[{regex}]+")
            inputstream.characters_until_regex[pattern, opposite] = pattern
        return original(self, pattern, opposite)

    chars_until.handouts_patterns = patterns
    chars_until.handouts_original = original
    stream.chars_until = chars_until
    return True


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
