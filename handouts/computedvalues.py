"""Computed values the short way, for the properties an element's rules do not set.

WeasyPrint 70 computes an element's style lazily: the first time layout or drawing reads
a property, `ComputedStyle.__missing__` works its value out and keeps it. Most reads are
of properties no rule sets on that element (a paragraph's `border_top_style`, a span's
`orphans`), whose value is its parent's (an inherited property) or the initial value.
Yet each such read takes the general path: the logical-property lookup, the checks for
`var()` and math functions, the special cases for `float`, `display`, `page` and text
decorations. That general path was 7% of a warm render on its own (its self time in the
profile), about a tenth of all the styles' cost.

`missing` answers those reads directly, as the general path would: an inherited
property from the parent's computed value (already computed, so already final), any
other from its initial value, computed where WeasyPrint computes initial values
(`INITIAL_NOT_COMPUTED`). Everything else goes the general way: a property the
element's rules set (`cascaded`), or whose logical counterpart they set (in the
element's direction, `margin-inline-start` sets `margin_left` or `margin_right`), the
special cases, custom properties, a root element, and an inherited value that holds a
math function (kept unresolved when it has a percentage). In a leaflet, 9 reads in 10
take the short way.

A value with `var()` is validated once its variables are substituted: a shorthand such
as `border-top: 1pt solid var(--warning)` is parsed again for each of its longhands, on
each element it applies to, in each document: 132 times a leaflet (1.5% of a render)
for 50 to 60 different values. `solve` remembers each validated value by what
it says (the tokens' text, the property, the base URL), as the stylesheets' own values
are shared by every element they apply to; an invalid one is not remembered, so
WeasyPrint reports it as before.

A colour is parsed once per value and colour scheme (`color`). Every colour property's
computed value is tinycss2's parse of its specified value, a token (`#4a2c82`) or, for
every text box's `text-decoration-color`, the string `currentcolor`, which tinycss2
tokenizes again each time: 200 parses a leaflet, of a few dozen different values
(1.4% of a warm leaflet's instructions). The parse depends only on the value's text and
the colour scheme, and WeasyPrint never changes a computed colour, so one is shared.

Installed only while WeasyPrint's css/__init__.py, css/tokens.py and
css/computed_values.py are the files this was written against (`WRITTEN_FOR`,
`SOLVE_WRITTEN_FOR`, `COLOR_WRITTEN_FOR`); tests/test_computedvalues.py compares every
property of every element of a leaflet with WeasyPrint's own answers.
"""

from __future__ import annotations

from contextlib import contextmanager

import tinycss2
from weasyprint.css import ComputedStyle, computed_values
from weasyprint.css.computed_values import COMPUTER_FUNCTIONS, PHYSICAL_FUNCTIONS
from weasyprint.css.functions import check_math
from weasyprint.css.properties import INHERITED, INITIAL_NOT_COMPUTED, INITIAL_VALUES
from weasyprint.css.tokens import Pending

from .upstream import swapped, unchanged

# SHA-256 of WeasyPrint 70.0's css/__init__.py.
WRITTEN_FOR = "77ad7287f90d7cfaf85eb00ebe7af47d2bedfb856d7dc68717152f2d8a7605fd"
# SHA-256 of WeasyPrint 70.0's css/tokens.py.
SOLVE_WRITTEN_FOR = "c7d40bdb50e7961a99690348cbf8ac6ed4c2e15ec602a6da40d92de30b55a710"
# SHA-256 of WeasyPrint 70.0's css/computed_values.py.
COLOR_WRITTEN_FOR = "0dec45caf60428b168e756a800e8a5cf8f0d836d415d8a5e75b7b88a19ca75d9"

_stock = ComputedStyle.__missing__
_stock_color = computed_values.color
# The colour properties: each is computed by `computed_values.color`.
_COLOR_PROPERTIES = tuple(key for key, function in COMPUTER_FUNCTIONS.items()
                          if function is _stock_color)
_COLORS: dict = {}   # (the value's type and text, colour scheme) -> computed colour
_COLORS_AT_MOST = 4096
_stock_solve = Pending.solve
_SOLVED: dict = {}   # (kind, property, wanted, base URL, tokens' text) -> valid value
_SOLVED_AT_MOST = 4096   # a few hundred are made by the whole library
# Properties the general path treats specially, whatever the cascade says.
_SPECIAL = {"float", "display", "position", "page"} | {
    key for key in INITIAL_VALUES if key.startswith("text_decoration_")}
_SHORT = frozenset(INITIAL_VALUES) - _SPECIAL
_INHERITED = frozenset(INHERITED) & _SHORT
_INITIAL = {key: INITIAL_VALUES[key] for key in _SHORT - _INHERITED
            if key not in INITIAL_NOT_COMPUTED}
_COMPUTED_INITIAL = {key: COMPUTER_FUNCTIONS.get(key)
                     for key in (_SHORT - _INHERITED) & INITIAL_NOT_COMPUTED}


def written_for_this_weasyprint() -> bool:
    """Whether WeasyPrint's css/__init__.py and css/tokens.py are the code this module
    was written against."""
    return unchanged(("weasyprint.css",), WRITTEN_FOR) and \
        unchanged(("weasyprint.css.tokens",), SOLVE_WRITTEN_FOR) and \
        unchanged(("weasyprint.css.computed_values",), COLOR_WRITTEN_FOR)


def missing(self, key):
    """`ComputedStyle.__missing__`, the short way for a property the element's rules do
    not set (see the module's docstring)."""
    cascaded = self.cascaded
    if key not in _SHORT or key in cascaded:
        return _stock(self, key)
    if (logical := PHYSICAL_FUNCTIONS.get(key)) is not None and \
            logical(block="ttb", inline=self["direction"]) in cascaded:
        return _stock(self, key)   # set by its logical counterpart
    if key in _INHERITED:
        parent = self.parent_style
        if parent is None:
            return _stock(self, key)
        value = parent[key]
        if check_math(value):
            return _stock(self, key)
    elif key in _INITIAL:
        value = _INITIAL[key]
    else:
        value = INITIAL_VALUES[key]
        computer = _COMPUTED_INITIAL[key]
        if computer is not None:
            value = computer(self, key, value)
    self[key] = value
    return value


def solve(self, tokens, wanted_key, base_url):
    """`Pending.solve`, remembered by what the value says (see the module's docstring)."""
    key = (type(self), self.name, wanted_key, base_url, tinycss2.serialize(tokens))
    value = _SOLVED.get(key, _SOLVED)
    if value is _SOLVED:
        value = _stock_solve(self, tokens, wanted_key, base_url)   # InvalidValues: as ever
        if len(_SOLVED) >= _SOLVED_AT_MOST:
            _SOLVED.clear()
        _SOLVED[key] = value
    return value


def color(style, name, values):
    """`computed_values.color`, remembered by the value's text and the colour scheme (see
    the module's docstring)."""
    scheme = style["color_scheme"]   # read first, as WeasyPrint's does
    try:
        key = (values if isinstance(values, str) else (type(values), values.serialize()),
               scheme)
        return _COLORS[key]
    except KeyError:
        value = _stock_color(style, name, values)   # its errors, as ever
        if len(_COLORS) >= _COLORS_AT_MOST:
            _COLORS.clear()
        _COLORS[key] = value
        return value
    except (AttributeError, TypeError):   # no text to remember it by, or unhashable
        return _stock_color(style, name, values)


def install() -> bool:
    """Answer computed values the short way, if WeasyPrint's own is the code this was
    written against."""
    if ComputedStyle.__missing__ is missing:
        return True
    if not written_for_this_weasyprint():
        return False
    ComputedStyle.__missing__ = missing
    Pending.solve = solve
    for key in _COLOR_PROPERTIES:
        COMPUTER_FUNCTIONS[key] = color
    return True


@contextmanager
def stock():
    """WeasyPrint's own computed values, for the tests that compare the two."""
    ours = {key: COMPUTER_FUNCTIONS[key] for key in _COLOR_PROPERTIES}
    with swapped((ComputedStyle, "__missing__", _stock), (Pending, "solve", _stock_solve)):
        COMPUTER_FUNCTIONS.update(dict.fromkeys(_COLOR_PROPERTIES, _stock_color))
        try:
            yield
        finally:
            COMPUTER_FUNCTIONS.update(ours)

