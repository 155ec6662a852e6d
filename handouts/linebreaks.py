"""Line breaks remembered: WeasyPrint 70 finds where a line of text ends again every
time it lays that text out at the same width, and the answer never changes.

WeasyPrint breaks a paragraph into lines one call at a time: `split_first_line` gets
what is left of the text, its style and the width, shapes it with Pango, and says
where the first line ends and how big it is. A two-column leaflet lays each column
set out several times (at full height, then at each height balancing tries, then as
its columns), a leaflet over its page budget is laid out again at tighter spacing
(the same widths), and clinics printing a topic in the same language break the same
sentences in the same columns. Of the 73,000 calls `handouts check` makes, four in five
repeat an earlier one exactly.

`remembered` answers a call it has seen from memory. The answer depends only on the
text, the width, the two flags, and the style properties listed in `PROPERTIES` (the
ones `split_first_line` and the Pango layout it builds read: the font, the language
and direction, white space, spacing, hyphenation, word breaking, tabs, decoration);
and on the fonts of the font configuration, so the memory belongs to that
configuration and goes with it. WeasyPrint already remembers each font's line height
per font configuration on the same terms (`FontConfiguration.strut_layouts`).
handouts' fonts are all loaded by `Renderer` before the first document, and clinic
styles cannot add any (load.py refuses @font-face); should a stylesheet add a font
face all the same, the configuration's answers are forgotten, since a family name
may now find another font.

What is remembered is WeasyPrint's own answer: a layout object that keeps only its
text and metrics once WeasyPrint has "deactivated" it (drawing rebuilds the Pango
layout from the text), and numbers. Each caller gets its own copy of the layout
object, so drawing (which can shorten its text for an ellipsis) changes only its own.
Every PDF is byte-identical with and without it (tests/test_linebreaks.py compares
whole documents; all 216 documents of the check and its translations were compared
when it was added). At most `LIMIT` answers are kept per font configuration, the
oldest forgotten first.

Drawing a line builds its Pango layout once more and shapes its text again; the
Pango layouts of lines drawn are kept too (`reactivate`), for the next line with the
same text and style, in this document or the next. What drawing such a line wrote
(its text operators, and the glyphs it noted in the PDF's fonts) is kept with its
layout, and the next line like it writes the same (`draw_first_line`).

Used only while WeasyPrint's text/line_break.py and text/fonts.py are the files this
was written against (`WRITTEN_FOR`): a release that changes which properties the
line breaking reads keeps WeasyPrint's own, uncached function, and
tests/test_linebreaks.py says so; the drawn lines' layouts, only while its
draw/text.py and svg/text.py are the files `reactivate` was written against
(`DRAWN_WITH`).
"""

import weakref
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from operator import itemgetter

from weasyprint import draw
from weasyprint.draw import text as draw_text_module
from weasyprint.layout import inline, preferred
from weasyprint.text import fonts, line_break
from weasyprint.text.ffi import FROM_UNITS, ffi, pango

from .upstream import styles_noted, unchanged

# SHA-256 of WeasyPrint 70.0's text/line_break.py followed by its text/fonts.py.
WRITTEN_FOR = "782ea6b9a7c9609582ccd2f932ba2e953bb675e1e1efca31f0d2a86e22622f08"
# SHA-256 of its draw/text.py followed by its svg/text.py: the code that draws with a
# reactivated layout, and what it changes in it (see `reactivate`).
DRAWN_WITH = "7916dfa779649caff8bdeb35279e6f43ce2b1e042a0cec49c63a30664e5dfd12"

# Every computed style property `split_first_line` reads, directly or through
# `create_layout`, `Layout`, `first_line_metrics`, `line_size`, `get_font_description`
# and `font_features` (tests/test_linebreaks.py checks this list against the source).
PROPERTIES = (
    "font_family", "font_size", "font_stretch", "font_style", "font_weight",
    "font_variant_caps", "font_variation_settings", "font_feature_settings",
    "font_kerning", "font_language_override", "font_variant_alternates",
    "font_variant_east_asian", "font_variant_ligatures", "font_variant_numeric",
    "font_variant_position", "direction", "lang", "hyphenate_character",
    "hyphenate_limit_chars", "hyphenate_limit_zone", "hyphens", "letter_spacing",
    "overflow_wrap", "tab_size", "text_decoration_line", "white_space", "word_break",
    "word_spacing",
)

# Answers kept per font configuration, about 550 bytes each (11 MB at most). Nearly
# all repeats are within one document, which asks at most about 3,000 different
# questions; the check's 60 documents ask 15,500, its 216 with the translations 40,000.
LIMIT = 20_000
# Pango layouts of drawn lines kept per font configuration (a few KB each): a
# two-column leaflet draws about 500 lines.
SHAPED_LIMIT = 4_000
STYLES = 10_000   # different sets of PROPERTIES before all is forgotten
WIDTHS = 100_000  # glyph widths kept per font configuration (a few thousand are used)
_properties_of = itemgetter(*PROPERTIES)   # a style's PROPERTIES, as a tuple

_NOTING = styles_noted()   # only then do styles carry notes (`_style`, `strut`)

_stock = line_break.split_first_line
_strut = line_break.strut
_Layout = line_break.Layout


class _Memory:
    """One font configuration's answers, oldest first, and a number for each different
    set of the styles' PROPERTIES (a few hundred), which keys the answers."""

    def __init__(self):
        self.answers: OrderedDict[tuple, tuple] = OrderedDict()
        self.shaped: OrderedDict[tuple, dict] = OrderedDict()   # see `reactivate`
        self.styles: dict[tuple, int] = {}
        self.widths: dict[tuple, int] = {}   # see `_glyphs`
        # Raised when the numbers start again or the memory is forgotten: a style's
        # own note of its number (see `_style`) is good only for the same generation.
        self.generation = 0


_memories: "weakref.WeakKeyDictionary[object, _Memory]" = weakref.WeakKeyDictionary()


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's line breaking is the code this module was written against."""
    return unchanged(("weasyprint.text.line_break", "weasyprint.text.fonts"), WRITTEN_FOR)


def _style(style) -> tuple[_Memory, int]:
    """The memory of the style's font configuration, and the number of its PROPERTIES
    there; TypeError if a value cannot be a key.

    The answer is noted on the style object itself, which WeasyPrint asks about for
    every line of its text: reading its 28 PROPERTIES again each time was a tenth of
    line breaking. WeasyPrint changes a style's values only while it builds the boxes,
    before any line is broken, or on a copy it has just made (upstream.NOTED_FOR), and
    a copy does not carry the note."""
    noted = getattr(style, "_handouts_line_style", None)
    if noted is not None and noted[0].generation == noted[1]:
        return noted[0], noted[2]
    memory = _memories.get(style.font_config)
    if memory is None:
        memory = _memories[style.font_config] = _Memory()
    properties = _properties_of(style)
    try:
        number = memory.styles.get(properties)
    except TypeError:   # text-decoration-line is a set; an SVG's font family a list
        properties = tuple([frozenset(value) if isinstance(value, set) else
                            tuple(value) if isinstance(value, list) else value
                            for value in properties])
        number = memory.styles.get(properties)
    if number is None:
        if len(memory.styles) >= STYLES:   # values that only equal themselves?
            memory.answers.clear()         # the numbers start again from 0
            memory.shaped.clear()
            memory.styles.clear()
            memory.generation += 1
        number = memory.styles[properties] = len(memory.styles)
    if _NOTING:
        try:
            style._handouts_line_style = (memory, memory.generation, number)
        except AttributeError:   # a style without attributes (a plain dict): not noted
            pass
    return memory, number


def style_key(style) -> tuple | None:
    """A key for the style's PROPERTIES (what line breaking reads) in its font
    configuration's memory, good while that memory is not forgotten; None if they
    cannot be a key."""
    try:
        memory, number = _style(style)
    except TypeError:
        return None
    return (memory, memory.generation, number)


def strut(style):
    """WeasyPrint's `strut` (a line's height and baseline for the style's font), noted on
    the style object like `_style`. WeasyPrint keeps each answer for the font
    configuration under a string it makes from 16 of the style's values, every time
    it is asked: 7% of a layout. Its answer for a key never changes once kept, so the
    note is the answer WeasyPrint would give."""
    noted = getattr(style, "_handouts_strut", None)
    if noted is None:
        noted = _strut(style)
        try:
            style._handouts_strut = noted
        except AttributeError:
            pass
    return noted


def remembered(text, style, context, max_width, justification_spacing,
               is_line_start=True, minimum=False):
    """`split_first_line`, answered from memory when it was asked the same before."""
    try:
        memory, number = _style(style)
    except TypeError:   # a value that cannot be a key: ask
        return _stock(text, style, context, max_width, justification_spacing,
                      is_line_start, minimum)
    key = (text, max_width, justification_spacing, is_line_start, minimum, number)
    answer = memory.answers.get(key)
    if answer is None:
        layout, *rest = _stock(text, style, context, max_width, justification_spacing,
                               is_line_start, minimum)
        answer = memory.answers[key] = (layout.__dict__, *rest)
        if len(memory.answers) > LIMIT:
            memory.answers.popitem(last=False)
    layout = _Layout.__new__(_Layout)
    layout.__dict__.update(answer[0])
    return (layout, *answer[1:])


# What `Layout.reactivate` sets up (the Pango layout with its text shaped) and keeps,
# less the style, which is the caller's.
_SHAPED = ("layout", "language", "text", "first_line_direction", "ascent",
           "underline_position", "strikethrough_position", "underline_thickness",
           "strikethrough_thickness")
_reactivate = line_break.Layout.reactivate
_deactivate = line_break.Layout.deactivate
_draw_text = draw.draw_text
_draw_first_line = draw_text_module.draw_first_line
_ELLIPSIS: ContextVar[bool] = ContextVar("handouts_ellipsis", default=False)


def reactivate(self, style):
    """`Layout.reactivate`, with the Pango layout of a line drawn before.

    To draw a line, WeasyPrint builds its Pango layout again from the line's text and
    style, and Pango shapes the text again. The line of a topic is drawn again in every
    document that prints it (in a batch, once per clinic), and that Pango layout
    depends only on the text, the style's PROPERTIES and the justification, so it is
    kept (at most SHAPED_LIMIT per font configuration) and handed to the next line
    like it. Drawing sets the layout to one paragraph (as it already is, the second
    time) and otherwise only reads it, except for an ellipsis (`text-overflow`,
    `block-ellipsis`): it then sets a width, an ellipsis or shorter text, so such a line
    gets a layout of its own (`draw_text` says so), as from WeasyPrint."""
    if _ELLIPSIS.get():
        return _reactivate(self, style)
    try:
        memory, number = _style(style)
    except TypeError:
        return _reactivate(self, style)
    key = (self.text, number, self.justification_spacing)
    shaped = memory.shaped.get(key)
    if shaped is None:
        _reactivate(self, style)
        shaped = memory.shaped[key] = {name: getattr(self, name) for name in _SHAPED
                                       if hasattr(self, name)}
        if len(memory.shaped) > SHAPED_LIMIT:
            memory.shaped.popitem(last=False)
    else:
        self.__dict__.update(shaped)
        self.style = style
    self._shaped = (memory, key, shaped["text"])


def deactivate(self):
    """`Layout.deactivate`; a Pango layout whose text drawing changed is forgotten (no
    drawing without an ellipsis does, but should one, it is not handed on)."""
    kept = self.__dict__.pop("_shaped", None)
    if kept is not None and kept[2] != self.text:
        kept[0].shaped.pop(kept[1], None)
    _deactivate(self)


def draw_text(stream, textbox, offset_x, text_overflow, *block_ellipsis):
    """WeasyPrint's `draw_text`, telling `reactivate` when the line may be ellipsised."""
    ellipsis = text_overflow != "clip" or (block_ellipsis or ("none",))[0] != "none"
    token = _ELLIPSIS.set(ellipsis)
    try:
        return _draw_text(stream, textbox, offset_x, text_overflow, *block_ellipsis)
    finally:
        _ELLIPSIS.reset(token)


class _Recorder:
    """The stream WeasyPrint's `draw_first_line` draws on, noting what it asks of it."""

    def __init__(self, stream):
        self._stream = stream
        self.fonts: list = []      # the Pango fonts it added, in order
        self.added: list = []      # and the PDF fonts and sizes they gave
        self.ops: list = []        # the text operators, after the text matrix
        self.unnoted = False       # whether drawing asked for anything else

    def __getattr__(self, name):
        if name not in ("ink_rect", "logical_rect"):   # the two it reads for widths
            self.unnoted = True   # anything else drawing asks for: not replayed
        return getattr(self._stream, name)

    def set_text_matrix(self, *values):
        self._stream.set_text_matrix(*values)

    def add_font(self, pango_font):
        font, size = self._stream.add_font(pango_font)
        self.fonts.append(pango_font)
        self.added.append((font, size))
        return font, size

    def show_text(self, string):
        self.ops.append((0, string))
        self._stream.show_text(string)

    def set_font_size(self, font, size):
        self.ops.append((1, font, size))
        self._stream.set_font_size(font, size)

    def set_text_rise(self, rise):
        self.ops.append((2, rise))
        self._stream.set_text_rise(rise)


def _glyphs(textbox, recorder, widths: dict) -> tuple | None:
    """The glyphs the line drew, as WeasyPrint notes them in the PDF font the first
    time a document uses them: for each font change (an index in `recorder.fonts`),
    each glyph's width and text, in the order met. None for a line drawing cannot
    replay: an emoji or bitmap font, a missing glyph, a width its font already had
    from another size, or the same font at two sizes with two widths for a glyph.
    `widths`: each glyph's width in a face at a size (the same in every document),
    asked of Pango once."""
    if any(font.svg or font.png or font.colr or font.bitmap for font, _ in recorder.added):
        return None
    first_line, _ = textbox.pango_layout.get_first_line()
    utf8 = textbox.pango_layout.text.encode()
    ink, logical = ffi.new("PangoRectangle *"), ffi.new("PangoRectangle *")
    groups = []
    previous = None
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        pango_font = glyph_item.item.analysis.font
        if pango_font != previous:
            previous = pango_font
            index = len(groups)
            if index >= len(recorder.fonts) or recorder.fonts[index] != pango_font:
                return None
            font, size = recorder.added[index]
            if pango.pango_version() < 14802:   # as WeasyPrint does
                size = textbox.style["font_size"]
            noted, texts = {}, {}
            groups.append((index, noted, texts))
        string = glyph_item.glyphs
        count = string.num_glyphs
        clusters = string.log_clusters
        item = glyph_item.item
        for i, info in enumerate(string.glyphs[0:count]):
            glyph = info.glyph
            if glyph == pango.PANGO_GLYPH_EMPTY:
                continue
            if glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG:
                return None
            if glyph not in texts:
                start = clusters[i]
                if item.analysis.level % 2:
                    end = item.length if i == 0 else clusters[i - 1]
                else:
                    end = item.length if i == count - 1 else clusters[i + 1]
                try:
                    texts[glyph] = utf8[item.offset + start:item.offset + end].decode()
                except UnicodeDecodeError:
                    return None
            if glyph in noted:
                continue
            width = widths.get((font.hash, size, glyph))
            if width is None:
                pango.pango_font_get_glyph_extents(pango_font, glyph, ink, logical)
                width = round(logical.width * 1000 * FROM_UNITS / size)
                if len(widths) < WIDTHS:
                    widths[font.hash, size, glyph] = width
            if font.widths.get(glyph) != width:
                return None
            noted[glyph] = width
    if len(groups) != len(recorder.fonts):
        return None
    for index, noted, _ in groups:   # one PDF font at two sizes: the widths must agree
        for other, others, _ in groups[:index]:
            if recorder.added[other][0] is recorder.added[index][0] and any(
                    others.get(glyph, width) != width for glyph, width in noted.items()):
                return None
    return tuple(groups)


def draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    """WeasyPrint's `draw_first_line`, replayed for a line drawn before.

    Drawing a line walks its glyphs one by one through cffi: it writes each glyph's id
    and kerning into the text operator, and notes each glyph's width and text in the
    PDF font the first time the document uses it. The first time a line with a kept
    Pango layout (`reactivate`) is drawn, WeasyPrint draws it and what it wrote is
    noted with the layout: the fonts it added, its operators, and each glyph's width
    and text. The next line with that layout writes the same operators and notes the
    same glyphs in its own document's fonts, in the same order. Should a glyph there
    already have another width (the same face at another size can round to another
    width), WeasyPrint draws the line itself."""
    if not textbox.text.strip() or textbox.style["font_size"] < 1e-6:
        return []   # WeasyPrint draws nothing for these
    kept = textbox.pango_layout.__dict__.get("_shaped")
    if kept is None or text_overflow == "ellipsis" or block_ellipsis != "none":
        return _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    memory, key, _ = kept
    shaped = memory.shaped.get(key)
    drawn = shaped.get("_drawn") if shaped is not None else False
    if drawn is None:
        recorder = _Recorder(stream)
        emojis = _draw_first_line(recorder, textbox, text_overflow, block_ellipsis,
                                  matrix)
        glyphs = None if emojis or recorder.unnoted or not recorder.ops else \
            _glyphs(textbox, recorder, memory.widths)
        shaped["_drawn"] = (tuple(recorder.fonts), tuple(recorder.ops), glyphs) \
            if glyphs is not None else False
        return emojis
    if not drawn:
        return _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    pango_fonts, ops, groups = drawn
    fonts = [stream.add_font(pango_font)[0] for pango_font in pango_fonts]
    for index, noted, _ in groups:
        had = fonts[index].widths
        common = noted.keys() & had.keys()
        if common and [had[glyph] for glyph in common] != [noted[glyph] for glyph in common]:
            return _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    for index, noted, texts in groups:   # in the order WeasyPrint meets them
        font = fonts[index]
        had = font.widths
        for glyph in [glyph for glyph in noted if glyph not in had]:
            had[glyph] = noted[glyph]
        had = font.to_unicode
        for glyph in [glyph for glyph in texts if glyph not in had]:
            had[glyph] = texts[glyph]
    stream.set_text_matrix(*matrix.values)
    for op in ops:
        if op[0] == 0:
            stream.show_text(op[1])
        elif op[0] == 1:
            stream.set_font_size(op[1], op[2])
        else:
            stream.set_text_rise(op[1])
    return []


def drawn_with_this_weasyprint() -> bool:
    """Whether WeasyPrint draws text with the code `reactivate` was written against."""
    return unchanged(("weasyprint.draw.text", "weasyprint.svg.text"), DRAWN_WITH)


_add_font_face = fonts.FontConfiguration.add_font_face


def _forgetting_add_font_face(self, rule_descriptors, url_fetcher):
    """WeasyPrint's `add_font_face`, then forget what was remembered with the fonts
    this configuration had before."""
    try:
        return _add_font_face(self, rule_descriptors, url_fetcher)
    finally:
        forgotten = _memories.pop(self, None)
        if forgotten is not None:   # styles that noted it ask again
            forgotten.generation += 1


def install() -> bool:
    """Remember line breaks, if WeasyPrint's are the code this was written against."""
    if inline.split_first_line is remembered:
        return True
    if any(module.split_first_line is not _stock for module in (inline, preferred, line_break)) \
            or not written_for_this_weasyprint():
        return False
    fonts.FontConfiguration.add_font_face = _forgetting_add_font_face
    if drawn_with_this_weasyprint() and draw.draw_text is _draw_text:
        draw.draw_text = draw_text
        line_break.Layout.reactivate, line_break.Layout.deactivate = reactivate, deactivate
        draw_text_module.draw_first_line = draw_first_line
    # SVG text (the diagrams' labels) imports it from line_break when drawn, a letter
    # at a time.
    inline.split_first_line = preferred.split_first_line = remembered
    line_break.split_first_line = remembered
    if _NOTING and inline.strut is _strut:   # line boxes and text boxes ask here
        inline.strut = strut
    return True


@contextmanager
def stock():
    """WeasyPrint's own line breaking, for the tests that compare the two."""
    ours = inline.split_first_line, preferred.split_first_line, line_break.split_first_line
    drawing = line_break.Layout.reactivate, line_break.Layout.deactivate
    struts = inline.strut
    inline.split_first_line = preferred.split_first_line = line_break.split_first_line = _stock
    line_break.Layout.reactivate, line_break.Layout.deactivate = _reactivate, _deactivate
    inline.strut = _strut
    lines = draw_text_module.draw_first_line
    draw_text_module.draw_first_line = _draw_first_line
    try:
        yield
    finally:
        inline.split_first_line, preferred.split_first_line, line_break.split_first_line = ours
        line_break.Layout.reactivate, line_break.Layout.deactivate = drawing
        inline.strut = struts
        draw_text_module.draw_first_line = lines
