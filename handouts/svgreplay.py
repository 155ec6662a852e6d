"""SVG pictures drawn once, then replayed: the QR code, the warning sign, the tick boxes.

WeasyPrint 70 draws an SVG image by walking its tree and parsing its path data again
for every document: the QR code at the end of a leaflet (one path of a few hundred
runs) took 7 ms of a 0.34 s leaflet, the warning sign and tick boxes 0.4 ms each. What
it draws depends only on the picture, its size, its base URL and the state of the
drawing at the start (the current colour and alpha, whether the last operator was a
`q`), so the second time the same picture is drawn in the same state, the operators
the first drawing wrote are written again.

Only plain pictures are replayed (`_plain`): shapes and groups, without text (a
font's glyphs are recorded as they are used), images, gradients, patterns, clip
paths, masks, filters, markers, `<use>` or opacity below 1. A drawing is kept only
when every operator it wrote is a path, paint, clip, colour or graphics-state
operator, the only resources it names are the alpha states WeasyPrint makes on demand
(`/a1 gs`; a replay adds them to the document where they are missing), and it left
the drawing's state (the transformation stack) as it found it. Anything else is drawn
the ordinary way every time.

The pictures drawn the ordinary way (a logo with its name, the procedure diagrams with
their labels) have their attribute values parsed once (`remembered`): WeasyPrint
parses every length (`size`), colour (`color`) and number list (`normalize`) of every
node each time it draws it, through regular expressions and, for a colour, tinycss2;
in the vertebroplasty leaflet that was a quarter of drawing its diagrams. Each is a
function of its arguments alone (strings and numbers), so the same arguments get the
same answer; a colour as a copy, since WeasyPrint scales it by an opacity in place.

Installed only over the WeasyPrint files it was written against (`WRITTEN_FOR`: its
images.py, svg/__init__.py and pdf/stream.py; `VALUES_WRITTEN_FOR`: svg/utils.py);
tests/test_svgreplay.py compares the PDFs with WeasyPrint's own drawing.
"""

from __future__ import annotations

from copy import copy
from importlib import import_module
from xml.etree import ElementTree

from weasyprint.images import SVGImage

from .upstream import swapped, unchanged

# SHA-256 of WeasyPrint 70.0's images.py, svg/__init__.py and pdf/stream.py, in order.
WRITTEN_FOR = "dcf4b52204a84414dec5f50a4955c55dbcb2dc1636a77cac094eb4ac54d9ca74"
# SHA-256 of WeasyPrint 70.0's svg/utils.py.
VALUES_WRITTEN_FOR = "6e1d2c4c959b495339b9adecd767d2bd0b77e30d01171eb026b28ea427ae90cb"

SVG = "{http://www.w3.org/2000/svg}"
_SHAPES = {f"{SVG}{tag}" for tag in ("svg", "g", "path", "rect", "circle", "ellipse",
                                     "line", "polyline", "polygon", "title", "desc")}
_REFUSED_ATTRIBUTES = ("clip-path", "mask", "filter", "marker-start", "marker-mid",
                       "marker-end")
_REFUSED_IN_STYLE = ("url(", "clip", "mask", "filter", "marker", "opacity")
# Operators a kept drawing may hold: path construction and painting, clipping,
# graphics state, device colours, and `gs` with an alpha state.
_OPERATORS = {b"m", b"l", b"c", b"v", b"y", b"h", b"re", b"f", b"f*", b"F", b"S", b"s",
              b"B", b"B*", b"b", b"b*", b"n", b"W", b"W*", b"q", b"Q", b"cm", b"w", b"J",
              b"j", b"M", b"d", b"rg", b"RG", b"g", b"G", b"k", b"K", b"gs"}
_KEPT_AT_MOST = 256

_stock_draw = SVGImage.draw
# The parsers of attribute values, and the modules that call them by these names.
_PARSERS = ("normalize", "size", "color")
# (By module name: the package `weasyprint.svg` binds the names `path` and `text` to
# functions of those modules.)
_CALLERS = tuple(import_module(f"weasyprint.svg{name}") for name in (
    ".utils", "", ".bounding_box", ".defs", ".path", ".shapes", ".text"))
utils = _CALLERS[0]
_stock_parsers = {name: getattr(utils, name) for name in _PARSERS}
_VALUES: dict = {}   # (parser, arguments) -> value
_VALUES_AT_MOST = 16384
_drawings: dict = {}   # (picture, size, base URL, state) -> (operators, alpha states, state)


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's images.py, svg/__init__.py and pdf/stream.py are the code
    this module was written against."""
    return unchanged(("weasyprint.images", "weasyprint.svg", "weasyprint.pdf.stream"),
                     WRITTEN_FOR)


def _plain(root) -> bool:
    """Whether an SVG tree holds only shapes and groups, painted with plain colours."""
    for element in root.iter():
        if element.tag not in _SHAPES:
            return False
        attributes = element.attrib
        if any(name in attributes for name in _REFUSED_ATTRIBUTES):
            return False
        if any(word in attributes.get("style", "") for word in _REFUSED_IN_STYLE):
            return False
        for name in ("fill", "stroke"):
            if "url(" in attributes.get(name, ""):
                return False
        for name in ("opacity", "fill-opacity", "stroke-opacity"):
            if attributes.get(name, "1").strip() not in ("1", "1.0"):
                return False
    return True


def _state(stream) -> tuple:
    """What the operators a drawing writes depend on, besides the picture itself."""
    last = stream.stream[-1] if stream.stream else None
    return (stream._current_color, stream._current_color_stroke, stream._current_alpha,
            stream._current_alpha_stroke, stream._current_font,
            last == b"q", last == b"ET")


def _after(stream) -> tuple:
    return (stream._current_color, stream._current_color_stroke, stream._current_alpha,
            stream._current_alpha_stroke, stream._current_font)


def draw(self, stream, concrete_width, concrete_height, style):
    """`SVGImage.draw`, replayed for a plain picture drawn before in the same state."""
    root = self._svg.tree._etree_node
    picture = getattr(self, "_handouts_picture", None)
    if picture is None:
        picture = self._handouts_picture = \
            ElementTree.tostring(root) if _plain(root) else False
    if picture is False:
        return _stock_draw(self, stream, concrete_width, concrete_height, style)
    key = (picture, concrete_width, concrete_height, self._base_url, _state(stream))
    kept = _drawings.get(key)
    if kept is not None:
        operators, alphas, after = kept
        states = stream._resources["ExtGState"]
        for name, values in alphas:
            if name not in states:
                states[name] = _dictionary(values)
        stream.stream.extend(operators)
        (stream._current_color, stream._current_color_stroke, stream._current_alpha,
         stream._current_alpha_stroke, stream._current_font) = after
        return None
    items, start = stream.stream, len(stream.stream)
    before = items[start - 1] if start else None
    depth, ctm = len(stream._ctm_stack), stream._ctm_stack[-1]
    resources = _sizes(stream)
    try:
        self._svg.draw(stream, concrete_width, concrete_height, self._base_url,
                       self._context)
    except BaseException as exception:   # as SVGImage.draw: logged, and never kept
        return _failed(self, exception)
    if len(items) < start or (start and items[start - 1] is not before) or \
            len(stream._ctm_stack) != depth or stream._ctm_stack[-1] is not ctm or \
            _sizes(stream) != resources:
        return None
    operators = tuple(items[start:])
    alphas = _alphas(operators, stream._resources["ExtGState"])
    if alphas is None:
        return None
    if len(_drawings) >= _KEPT_AT_MOST:
        _drawings.clear()
    _drawings[key] = (operators, alphas, _after(stream))
    return None


def _sizes(stream) -> tuple:
    """How many resources of each kind but alpha states the drawing's stream has."""
    resources = stream._resources
    return tuple(len(resources[kind] or ()) for kind in ("XObject", "Pattern", "Shading",
                                                         "Font") if kind in resources)


def _alphas(operators: tuple, states) -> tuple | None:
    """The alpha states the operators name, (name, values) each; None if any operator
    is not one a kept drawing may hold."""
    alphas = {}
    for item in operators:
        if type(item) is not bytes:
            return None
        operator = item.rsplit(b" ", 1)[-1]
        if operator not in _OPERATORS:
            return None
        if operator == b"gs":
            name = item.split(b" ", 1)[0][1:].decode()
            values = states.get(name)
            if name[:1] not in ("a", "A") or values is None or \
                    set(values) - {"ca", "CA"}:
                return None
            alphas[name] = tuple(values.items())
    return tuple(sorted(alphas.items()))


def _dictionary(values):
    import pydyf  # noqa: PLC0415

    return pydyf.Dictionary(dict(values))


def _failed(image, exception: BaseException) -> None:
    from weasyprint.logger import LOGGER  # noqa: PLC0415

    LOGGER.error("Failed to render SVG image %s", image._base_url)
    LOGGER.debug("Error while rendering SVG image:", exc_info=exception)


def _remembering(name: str):
    """WeasyPrint's parser `name`, answering arguments it has had before from memory.

    A colour is handed out as a copy: WeasyPrint scales the one it gets by the node's
    `fill-opacity` or `stroke-opacity` in place (`alpha *= opacity`). Lengths and
    number lists are numbers and strings."""
    fresh = copy if name == "color" else _same

    def remembered(*args):
        key = (name, *args)
        try:
            return fresh(_VALUES[key])
        except KeyError:
            pass
        except TypeError:   # an argument that cannot be a key
            return _stock_parsers[name](*args)
        value = _stock_parsers[name](*args)   # its errors, as ever
        if len(_VALUES) >= _VALUES_AT_MOST:
            _VALUES.clear()
        _VALUES[key] = value
        return fresh(value)

    remembered.__name__ = remembered.__qualname__ = name
    remembered.__doc__ = _stock_parsers[name].__doc__
    return remembered


def _same(value):
    return value


remembered = {name: _remembering(name) for name in _PARSERS}


def values_written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's svg/utils.py is the code the parsers were read in."""
    return unchanged(("weasyprint.svg.utils",), VALUES_WRITTEN_FOR)


def install() -> bool:
    """Replay plain SVG pictures, and parse attribute values once, where WeasyPrint's
    own code is the code each was written against; True when both are installed."""
    if SVGImage.draw is _stock_draw and written_for_this_weasyprint():
        SVGImage.draw = draw
    if values_written_for_this_weasyprint():
        for module in _CALLERS:
            for name in _PARSERS:
                if getattr(module, name, None) is _stock_parsers[name]:
                    setattr(module, name, remembered[name])
    return SVGImage.draw is draw and utils.size is remembered["size"]


def stock():
    """WeasyPrint's own SVG drawing, for the tests that compare the two."""
    return swapped((SVGImage, "draw", _stock_draw), *(
        (module, name, _stock_parsers[name]) for module in _CALLERS for name in _PARSERS
        if hasattr(module, name)))
