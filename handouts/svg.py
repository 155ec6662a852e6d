"""SVG: decide whether an SVG from the library (a logo, a topic's picture) is safe to render.

An SVG is XML, so it is parsed as XML, never searched as bytes: a regular expression
cannot see through UTF-16, entities or namespace prefixes. The parser is defusedxml's,
which refuses a DOCTYPE (and with it entities, billion-laughs bombs and external
entities) in any encoding. The parsed elements are then checked by their local
names, whatever prefix they were written with, as the parser meets them, so an error
has its line:

- no <script>, <foreignObject>, <image>, <feImage>, <use>, <iframe>, <object>,
  <embed>, no animation elements (they can rewrite an href) and no event handlers;
- every href (any namespace) points inside the file (`#id`);
- no `url(` other than `url(#id)`, no `@import`, `image-set(` or CSS escapes in
  attributes or <style>; no processing instructions (`<?xml-stylesheet ...?>`);
- at most MAX_SVG_BYTES, MAX_SVG_ELEMENTS elements, MAX_SVG_DEPTH levels deep.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import ValidationError
from .files import read_file

MAX_SVG_BYTES = 2 * 1024 * 1024
MAX_SVG_ELEMENTS = 50_000      # the shipped diagrams have ~100; more is slow to render
MAX_SVG_DEPTH = 100            # WeasyPrint draws groups recursively
# Elements that fetch, embed or run something, or (animation) can change an href later.
FORBIDDEN = {"script", "foreignobject", "image", "feimage", "use", "iframe", "object",
             "embed", "handler", "listener", "set", "animate", "animatemotion",
             "animatetransform", "animatecolor", "audio", "video"}
_CSS_FETCH = re.compile(r"url\s*\((?!\s*['\"]?\s*#)|@import|image-set\s*\(|\\", re.I)
_HINT = ("use a self-contained SVG: no <image>, <use>, scripts, DOCTYPE, external href "
         "or url(); re-export it as plain SVG")


class _Refused(Exception):
    """Raised inside the parser's callbacks; turned into a ValidationError with a line."""


def _local(name: str) -> str:
    return name.rpartition("}")[2].lower()


class _Checker:
    """A parse target that checks each element as the parser meets it (builds no tree)."""

    def __init__(self):
        self.depth = self.count = 0
        self.root: str | None = None
        self.style_depth = 0   # > 0 while inside a <style> element
        self.style: list[str] = []

    def start(self, tag, attrib):
        name = _local(tag)
        self.root = self.root or name
        self.depth += 1
        self.count += 1
        if self.depth > MAX_SVG_DEPTH or self.count > MAX_SVG_ELEMENTS:
            raise _Refused(f"SVG is too complex (over {MAX_SVG_ELEMENTS} elements or "
                           f"{MAX_SVG_DEPTH} levels deep)")
        if name in FORBIDDEN:
            raise _Refused(f"SVG refers to outside content or runs code (<{name}>)")
        for key, value in attrib.items():
            _check_attribute(_local(key), value)
        if name == "style" or self.style_depth:
            self.style_depth += 1

    def end(self, tag):
        self.depth -= 1
        if self.style_depth:
            self.style_depth -= 1
            if not self.style_depth:
                # Checked whole: the parser may hand over text in pieces, `ur` + `l(`.
                _check_css("".join(self.style), "<style>")
                self.style.clear()

    def data(self, text):
        if self.style_depth:
            self.style.append(text)

    def pi(self, target, text):
        raise _Refused(f"SVG refers to outside content (processing instruction <?{target}?>)")

    def close(self):
        return self.root


def _check_attribute(name: str, value: str) -> None:
    if name == "href" and not value.strip().startswith("#"):
        raise _Refused(f"SVG refers to outside content (href={value[:60]!r})")
    if name.startswith("on"):
        raise _Refused(f"SVG runs code (event handler {name!r})")
    _check_css(value, f"attribute {name!r}")


def _check_css(text: str, where: str) -> None:
    match = _CSS_FETCH.search(text)
    if match:
        raise _Refused(f"SVG refers to outside content ({match.group(0)!r} in {where})")


def check_svg(data: bytes, path: Path, field: str | None = None) -> None:
    """Refuse SVGs that could load other files, run script or expand entities."""
    if len(data) > MAX_SVG_BYTES:
        raise ValidationError(f"SVG is larger than {MAX_SVG_BYTES // 1024 // 1024} MB",
                              file=path, field=field, hint=_HINT)
    checker = _Checker()
    parser = DefusedXMLParser(target=checker, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except _Refused as error:
        raise ValidationError(str(error), file=path, line=parser.parser.CurrentLineNumber,
                              field=field, hint=_HINT) from None
    except DefusedXmlException:
        raise ValidationError("SVG has a DOCTYPE or entities, which can refer to outside "
                              "content", file=path, line=parser.parser.CurrentLineNumber,
                              field=field, hint=_HINT) from None
    except (ParseError, ValueError, LookupError) as error:
        # LookupError: an encoding Python does not know; ValueError: one expat cannot use.
        line = getattr(error, "position", (None,))[0]
        raise ValidationError(f"not an SVG image: it is not well-formed XML ({error})",
                              file=path, line=line, field=field,
                              hint="re-export it from a drawing program") from None
    if root != "svg":
        raise ValidationError("not an SVG image (its first element is not <svg>)", file=path,
                              field=field, hint="re-export it from a drawing program")


def check_svg_file(path: Path, field: str | None = None) -> None:
    """Read at most MAX_SVG_BYTES of a regular file (files.read_file) and check it."""
    try:
        data = read_file(path, MAX_SVG_BYTES, field=field)
    except ValidationError as error:
        if error.problems[0].message.startswith("file is "):   # over the size limit
            raise ValidationError(f"SVG is larger than {MAX_SVG_BYTES // 1024 // 1024} MB",
                                  file=path, field=field, hint=_HINT) from None
        raise
    check_svg(data, path, field)
