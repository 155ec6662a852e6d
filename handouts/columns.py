"""Balanced columns in fewer layout passes: WeasyPrint 70's `columns_layout` with a
search for the column height in place of its step-by-step loop.

To balance a column set (the last one of a document, or one before a spanning
block such as the "Get help now" box), WeasyPrint lays the set out at the average
column height and then again at each taller height, adding every time the least
height that could move a box (or 1 px when it knows none), until everything fits.
On our two-column leaflets that is up to 40 passes over the same text: the last
page of `bone-protecting-injections` was laid out at 81.8, 82.8, ... 118.8 px.

The heights that loop tries are `average + k * step`; whether a set fits grows with
its height. `_HeightSearch` finds the least k that fits, the same height, so the same
pages, in a few passes: a pass that fits shows how low its boxes reach (the same
columns fit at any height down to there), and one that does not comes with a guess
from what it left over; between those, k doubles, then the interval is halved. The
last page of `bone-protecting-injections` now takes 4 passes where the loop took 38
and a plain doubling-and-halving search 12.

WeasyPrint's loop may shrink its step on a later pass, and then stop above a height
that fits; the search keeps the first step, and stops at the least height
on that grid that fits. The 64 documents `handouts check` makes are byte-identical
either way (tests/test_columns.py compares one with WeasyPrint's own); of 36
two-column translations, 5 (Chinese and Arabic) end their last column set about
1 mm higher than WeasyPrint's loop would, with the same pages and a clean preflight.

A column set that fills its page is laid out twice by WeasyPrint: at full height in
the loop (to learn that it does not fit), then again as the page's columns, with the
same arguments but the page-is-empty flag. When the page is empty (every page of a
leaflet's body after the first but the last), the loop's columns are kept instead
(`_Kept`): the first pass lays each column out where the final layout puts it.

On the first page, below the masthead, the page is not empty, and WeasyPrint's first
pass says it is. Here that pass says what the final layout says, and its columns are
kept too. On the first page the flag decides only what happens when a column's first
box does not fit: whether it is placed anyway, whether it may break against `orphans`,
`widows` or `break-*: avoid`. Where it fits, the two passes are the same. Where it does
not, WeasyPrint's pass may place it and this one not, and the final layout, which says
the page is not empty, decides. (On later pages WeasyPrint's pass also drops that box's
top margin, which the final layout keeps, so this is done on the first page only.) The
216 documents of the check and its translations are byte-identical either way, and so
are the test pages (tests/test_columns.py) whose first box is too tall, has too many
orphans, or is kept with the boxes after it.

Used only while WeasyPrint's layout/column.py is the very file this was derived from
(its SHA-256 is DERIVED_FROM): a release that changes it keeps WeasyPrint's own loop,
and tests/test_columns.py says so. The search belongs upstream.

`columns_layout` below is WeasyPrint's (weasyprint/layout/column.py, 70.0), changed
only where marked "handouts" (and its one relative import made absolute). WeasyPrint
is BSD-licensed:

Copyright (c) 2011-2021, Simon Sapin and contributors. All rights reserved.
Redistribution and use in source and binary forms, with or without modification,
are permitted provided that the following conditions are met: redistributions of
source code must retain the above copyright notice, this list of conditions and the
following disclaimer; redistributions in binary form must reproduce the above
copyright notice, this list of conditions and the following disclaimer in the
documentation and/or other materials provided with the distribution; neither the
name of the copyright holder nor the names of its contributors may be used to
endorse or promote products derived from this software without specific prior
written permission. THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND
CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR
PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF
ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""

from math import ceil, floor, inf

from weasyprint.formatting_structure.boxes import Box, LineBox, ParentBox
from weasyprint.layout import block
from weasyprint.layout import column as upstream
from weasyprint.layout.absolute import absolute_layout
from weasyprint.layout.column import _create_column_box, _report_footnotes
from weasyprint.layout.percent import percentage, resolve_percentages

from .upstream import swapped, unchanged

# WeasyPrint 70.0's weasyprint/layout/column.py
DERIVED_FROM = "83ae1a3e83596293e5ae66b81759f2ad6eff8e2e43058a1a980f7662b6c51d93"


def derived_from_this_weasyprint() -> bool:
    """Whether WeasyPrint's layout/column.py is the file this module's code came from."""
    return unchanged(("weasyprint.layout.column",), DERIVED_FROM)


def install() -> bool:
    """Lay out columns with the search, if WeasyPrint's own is the code it came from."""
    if block.columns_layout is columns_layout:
        return True
    if block.columns_layout is not upstream.columns_layout or \
            not derived_from_this_weasyprint():
        return False
    block.columns_layout = columns_layout
    return True


def stock():
    """WeasyPrint's own column layout, for the tests that compare the two."""
    return swapped((block, "columns_layout", upstream.columns_layout))


class _HeightSearch:
    """The least k for which a column set fits at `base + k * step` (the heights
    WeasyPrint's loop tries, summed as it sums them), k up to the last height within
    `maximum`.

    Each pass tells the search more than whether it fitted:
    - A pass that fits says how low its content reaches (`reach`: the lowest bottom of
      any box in its columns). At any height from there up to the one tried, the pass
      makes the very same columns: everything it placed still fits, and whatever did
      not fit below a column still does not. So the least height that fits is at most
      the first one on the grid at or above `reach`, and the next height to try is the
      one just below that: when that one does not fit, the search is done.
    - A pass that does not fit comes with a guess at the height that would (`guess`):
      the rest of the set it left over, spread over the columns; or, when it could
      not start the first column at all, the height of the set's first box. The
      search tries the guess, or the next height of a doubling search if that is
      higher, so it is never slower than a plain search.
    Once a height that fits and one that does not are known, the search tries the
    height just below the one that fits after a first fitting pass, and otherwise
    halves the interval. A balanced set usually takes three passes: the average
    height, the guess, the one below."""

    def __init__(self, base: float, step: float, maximum: float, line: float = 0):
        self.base, self.step = base, step
        self.low, self.high, self.k = 0, None, 0
        self.stride = max(1, ceil(line / step))   # the doubling starts at about a line
        self.fitted = 0   # fitting passes in a row
        self.top, height = 0, base
        while True:
            height += step
            if height > maximum:
                break
            self.top += 1

    def height(self, k: int) -> float:
        height = self.base
        for _ in range(k):
            height += self.step
        return height

    def _at_least(self, height: float) -> int:
        """The least k whose height is at least `height` (top + 1 if none is)."""
        k, at = 0, self.base
        while at < height and k <= self.top:
            at += self.step
            k += 1
        return k

    def next(self, fits: bool, reach: float | None = None,
             guess: float | None = None) -> float | None:
        """The next height to try, after the last one did or did not fit; None: done."""
        if fits:
            self.fitted += 1
            self.high = self.k if reach is None else \
                max(self.low + 1, min(self.k, self._at_least(reach)))
        else:
            self.fitted = 0
            self.low = self.k
        if self.high is None:
            if self.low >= self.top:
                return None
            k = self.low + self.stride
            if guess is not None:
                k = max(k, self._at_least(guess))
            self.k = min(k, self.top)
            self.stride *= 2
        elif self.high - self.low <= 1:
            return None
        elif self.fitted == 1:
            self.k = self.high - 1
        else:
            self.k = (self.low + self.high) // 2
        return self.height(self.k)

    def found(self) -> float | None:
        """The least height that fitted, or None if none did."""
        return None if self.high is None else self.height(self.high)


def _reach(columns, resume_ats, top: float) -> float:
    """How far below `top` the boxes laid out in `columns` reach, margins included.

    A box broken at the end of its column is stretched to the column's bottom, at any
    height (so it never overflows it): those boxes, found down the column's resume_at,
    count only by their contents, and the column boxes themselves not at all."""
    reach = top
    for column, resume_at in zip(columns, resume_ats, strict=True):
        broken, box = set(), column
        while resume_at and isinstance(box, ParentBox) and box.children:
            (_, resume_at), = resume_at.items()
            box = box.children[-1]
            if resume_at is None or isinstance(box, LineBox):
                break
            broken.add(box)
        for box in column.descendants():
            if box is not column and box not in broken and isinstance(box, Box):
                reach = max(reach, box.position_y + box.margin_height())
    return reach - top


def _placed_column_box(box, containing_block, children, width, position_y, i, gap):
    """Column `i`'s box, where the final layout below places it."""
    column_box = _create_column_box(box, containing_block, children, width, position_y)
    if box.style['direction'] == 'rtl':
        column_box.position_x += box.width - (i + 1) * width - i * gap
    else:
        column_box.position_x += i * (width + gap)
    return column_box


class _Kept:
    """The columns of a first pass, to keep as the final layout.

    A column set that does not fit its page (or is not balanced) is laid out at full
    height in the loop's first pass, and then again, with the same arguments, as the
    set's columns. Only the page-is-empty flag may differ (WeasyPrint's pass says the
    page is empty; on the first page, here, it says what the final layout says), and
    the column's place (which moves no break, and which the first pass here takes from
    the final layout). So when the flags agree, the pass was the
    loop's last, it left nothing behind that WeasyPrint takes back from discarded
    boxes (floats, footnotes, boxes broken out of the flow), and the bottom space is
    the same to the bit, its columns are the final layout's: the same boxes, and the
    same absolutely positioned boxes (list markers) handed on.
    """

    def __init__(self, context, bottom_space: float):
        self.bottom_space = bottom_space
        self.columns = []   # (box, resume_at, next_page, absolute boxes, fixed boxes)
        self.out_of_flow = self._out_of_flow(context)

    @staticmethod
    def _out_of_flow(context) -> tuple[int, ...]:
        return (len(context.broken_out_of_flow), len(context.current_page_footnotes),
                len(context.reported_footnotes), len(context.footnotes))

    def self_contained(self, context, boxes) -> bool:
        """Whether laying out `boxes` left nothing in `context` to take back."""
        if self._out_of_flow(context) != self.out_of_flow:
            return False
        return not any(child.footnote is not None or child.note is not None
                       for column in boxes for child in column.descendants()
                       if isinstance(child, Box))


def columns_layout(context, box, bottom_space, skip_stack, containing_block,
                   page_is_empty, absolute_boxes, fixed_boxes, adjoining_margins,
                   first_letter_style, first_line_style):
    """Lay out a multi-column ``box``."""
    from weasyprint.layout.block import (  # isort:skip # noqa: PLC0415
        block_box_layout, block_level_layout, block_level_width,
        collapse_margin, remove_placeholders)

    style = box.style
    width = style['column_width']
    count = style['column_count']
    height = style['height']
    original_bottom_space = bottom_space
    context.in_column = True

    if style['position'] == 'relative':
        # New containing block, use a new absolute list
        absolute_boxes = []

    box = box.copy_with_children(box.children)
    box.position_y += collapse_margin(adjoining_margins)

    # Set height if defined
    if height != 'auto' and height.unit != '%':
        assert height.unit.lower() == 'px'
        height_defined = True
        empty_space = context.page_bottom - box.content_box_y() - height.value
        bottom_space = max(bottom_space, empty_space)
    else:
        height_defined = False

    # TODO: the columns container width can be unknown if the containing block
    # needs the size of this block to know its own size
    block_level_width(box, containing_block)

    if style['column_gap'] == 'normal':
        # 1em because in column context
        gap = style['font_size']
    else:
        gap = percentage(style['column_gap'], box.style, box.width)

    # Define the number of columns and their widths
    if width == 'auto' and count != 'auto':
        width = max(0, box.width - (count - 1) * gap) / count
    elif width != 'auto' and count == 'auto':
        count = max(1, floor((box.width + gap) / (width + gap)))
        width = (box.width + gap) / count - gap
    else:  # overconstrained, with width != 'auto' and count != 'auto'
        count = max(1, min(count, floor((box.width + gap) / (width + gap))))
        width = (box.width + gap) / count - gap

    # Handle column-span property with the following structure:
    # columns_and_blocks = [
    #     [column_child_1, column_child_2],
    #     spanning_block,
    #     …
    # ]
    columns_and_blocks = []
    column_children = []
    skip, = skip_stack.keys() if skip_stack else (0,)
    for i, child in enumerate(box.children[skip:], start=skip):
        if child.style['column_span'] == 'all':
            if column_children:
                columns_and_blocks.append(
                    (i - len(column_children), column_children))
            columns_and_blocks.append((i, child.copy()))
            column_children = []
            continue
        column_children.append(child.copy())
    if column_children:
        columns_and_blocks.append(
            (i + 1 - len(column_children), column_children))

    if skip_stack:
        skip_stack = {0: skip_stack[skip]}

    if not box.children:
        next_page = {'break': 'any', 'page': None}
        skip_stack = None

    # Find height and balance.
    #
    # The current algorithm starts from the total available height, to check
    # whether the whole content can fit. If it doesn’t fit, we keep the partial
    # rendering. If it fits, we try to balance the columns starting from the
    # ideal height (the total height divided by the number of columns). We then
    # iterate until the last column is not the highest one. At the end of each
    # loop, we add the minimal height needed to make one direct child at the
    # top of one column go to the end of the previous column.
    #
    # We rely on a real rendering for each loop, and with a stupid algorithm
    # like this it can last minutes…

    adjoining_margins = []
    current_position_y = box.content_box_y()
    new_children = []
    column_skip_stack = None
    last_loop = False
    break_page = False
    footnote_area_heights = [
        0 if context.current_footnote_area.height == 'auto'
        else context.current_footnote_area.margin_height()]
    last_footnotes_height = 0
    for index, column_children_or_block in columns_and_blocks:
        if not isinstance(column_children_or_block, list):
            # We have a spanning block, we display it like other blocks
            block = column_children_or_block
            resolve_percentages(block, containing_block)
            block.position_x = box.content_box_x()
            block.position_y = current_position_y
            new_child, resume_at, next_page, adjoining_margins, _, _ = (
                block_level_layout(
                    context, block, original_bottom_space, skip_stack, containing_block,
                    page_is_empty, absolute_boxes, fixed_boxes, adjoining_margins,
                    first_letter_style, first_line_style))
            skip_stack = None
            if new_child is None:
                last_loop = True
                break_page = True
                break
            new_children.append(new_child)
            current_position_y = (
                new_child.border_height() + new_child.border_box_y())
            adjoining_margins.append(new_child.margin_bottom)
            if resume_at:
                last_loop = True
                break_page = True
                column_skip_stack = resume_at
                break
            page_is_empty = False
            continue

        # We have a list of children that we have to balance between columns
        column_children = column_children_or_block

        # Find the total height available for the first run
        current_position_y += collapse_margin(adjoining_margins)
        adjoining_margins = []
        column_box = _create_column_box(
            box, containing_block, column_children, width, current_position_y)
        height = max_height = (
            context.page_bottom - current_position_y - original_bottom_space)

        # Try to render columns until the content fits, increase the column
        # height step by step
        column_skip_stack = skip_stack
        lost_space = inf
        original_excluded_shapes = context.excluded_shapes[:]
        original_page_is_empty = page_is_empty
        page_is_empty = stop_rendering = balancing = False
        search = first_box_height = None  # handouts
        first_pass_empty = original_page_is_empty or context.current_page != 1  # handouts
        while True:
            # Remove extra excluded shapes introduced during the previous loop
            while len(context.excluded_shapes) > len(original_excluded_shapes):
                context.excluded_shapes.pop()

            # Render the columns
            column_skip_stack = skip_stack
            # handouts: for the search, where each column broke, and a guess
            resume_ats, guess = [], None
            consumed_heights = []
            new_boxes = []
            # handouts: the first pass lays each column out where the final layout
            # puts it (the place changes no break), to keep it as that layout (_Kept).
            kept = None if balancing else _Kept(
                context, context.page_bottom - current_position_y - height)
            for i in range(count):
                placed = column_box if kept is None else _placed_column_box(  # handouts
                    box, containing_block, column_children, width, current_position_y,
                    i, gap)
                # handouts: the lists record the out-of-flow boxes the final layout
                # would add to its own (the layout only adds to them).
                absolute, fixed = [], []
                # Render one column
                new_box, resume_at, next_page, _, _, _ = block_box_layout(
                    context, placed,
                    context.page_bottom - current_position_y - height,
                    column_skip_stack, containing_block,
                    # handouts: on the first page, the first pass lays the columns
                    # out as the final layout will (see _Kept)
                    page_is_empty or (not balancing and first_pass_empty),
                    absolute, fixed, [], first_letter_style, first_line_style,
                    discard=False, max_lines=None)
                if new_box is None:
                    # We didn't render anything, retry
                    column_skip_stack = {0: None}
                    kept = None  # handouts
                    if i == 0:  # handouts: no room even for the set's first box
                        guess = first_box_height
                    break
                new_boxes.append(new_box)
                resume_ats.append(resume_at)  # handouts
                column_skip_stack = resume_at
                if kept is not None:  # handouts
                    kept.columns.append((new_box, resume_at, next_page, absolute, fixed))

                # Calculate consumed height, empty space and next box height
                in_flow_children = [
                    child for child in new_box.children
                    if child.is_in_normal_flow()]
                if in_flow_children and i == 0 and not balancing:  # handouts
                    first_box_height = (
                        in_flow_children[0].position_y +
                        in_flow_children[0].margin_height() - current_position_y)
                if in_flow_children:
                    # Get the empty space at the bottom of the column box
                    consumed_height = (
                        in_flow_children[-1].margin_height() +
                        in_flow_children[-1].position_y - current_position_y)
                    empty_space = height - consumed_height
                    consumed_height -= in_flow_children[-1].margin_bottom

                    # Get the minimum size needed to render the next box
                    next_box_height = 0
                    if column_skip_stack:
                        next_box = block_box_layout(
                            context, column_box, inf, column_skip_stack,
                            containing_block, True, [], [], [], first_letter_style,
                            first_line_style, discard=False, max_lines=None)[0]
                        # handouts: the rest, spread over the columns
                        guess = height + next_box.margin_height() / count
                        for child in next_box.children:
                            if child.is_in_normal_flow():
                                next_box_height = child.margin_height()
                                break
                        remove_placeholders(context, [next_box], [], [])
                else:
                    consumed_height = empty_space = next_box_height = 0

                consumed_heights.append(consumed_height)

                # Append the size needed to render the next box in this
                # column.
                #
                # The next box size may be smaller than the empty space, for
                # example when the next box can't be separated from its own
                # next box. In this case we don't try to find the real value
                # and let the workaround below fix this for us.
                #
                # We also want to avoid very small values that may have been
                # introduced by rounding errors. As the workaround below at
                # least adds 1 pixel for each loop, we can ignore lost spaces
                # lower than 1px.
                if next_box_height - empty_space > 1:
                    lost_space = min(lost_space, next_box_height - empty_space)

                # Stop if we already rendered the whole content
                if resume_at is None:
                    break

            # Remove placeholders but keep the current footnote area height
            last_footnotes_height = (
                0 if context.current_footnote_area.height == 'auto'
                else context.current_footnote_area.margin_height())
            if kept is not None and not (  # handouts
                    first_pass_empty == original_page_is_empty and not height_defined and
                    len(context.excluded_shapes) == len(original_excluded_shapes) and
                    kept.self_contained(context, new_boxes)):
                kept = None
            remove_placeholders(context, new_boxes, [], [])

            if last_loop:
                break

            if balancing:
                # handouts: search the heights WeasyPrint's loop steps through
                # (see _HeightSearch) instead of trying each in turn.
                fits = column_skip_stack is None
                if search is None:
                    if fits:
                        # Balanced at the average height
                        break
                    search = _HeightSearch(
                        height, 1 if lost_space == inf else lost_space,
                        max_height, 1.5 * style['font_size'])
                height = search.next(
                    fits, _reach(new_boxes, resume_ats, current_position_y) if fits
                    else None, guess)
                if height is None:
                    height = search.found()
                    if height is None:
                        # Nothing fits below max height, stop rendering
                        height = max_height
                        stop_rendering = True
                    break
            else:
                if last_footnotes_height not in footnote_area_heights:
                    # Footnotes have been rendered, try to re-render with the
                    # new footnote area height
                    height -= last_footnotes_height - footnote_area_heights[-1]
                    footnote_area_heights.append(last_footnotes_height)
                    continue

                everything_fits = (
                    not column_skip_stack and
                    max(consumed_heights) <= max_height)
                if everything_fits:
                    # Everything fits, start expanding columns at the average
                    # of the column heights
                    if (style['column_fill'] == 'balance' or
                            index < columns_and_blocks[-1][0]):
                        balancing = True
                        height = sum(consumed_heights) / count
                    else:
                        break
                else:
                    # Content overflows even at maximum height, stop now and
                    # let the columns continue on the next page
                    stop_rendering = True
                    break

        # TODO: check style['max']-height
        bottom_space = max(
            bottom_space, context.page_bottom - current_position_y - height)

        # Replace the current box children with real columns
        i = 0
        max_column_height = 0
        columns = []
        # handouts: the first pass's columns, when it was the last pass and laid
        # them out exactly as this would (_Kept).
        reused = kept is not None and kept.bottom_space == bottom_space
        if reused:
            for new_child, skip_stack, next_page, absolute, fixed in kept.columns:  # noqa: B007
                absolute_boxes.extend(absolute)
                fixed_boxes.extend(fixed)
                columns.append(new_child)
                max_column_height = max(max_column_height, new_child.margin_height())
                if skip_stack is None:
                    bottom_space = original_bottom_space
        while not reused:  # handouts
            column_box = _create_column_box(
                box, containing_block, column_children, width,
                current_position_y)
            if style['direction'] == 'rtl':
                column_box.position_x += box.width - (i + 1) * width - i * gap
            else:
                column_box.position_x += i * (width + gap)
            new_child, column_skip_stack, column_next_page, _, _, _ = (
                block_box_layout(
                    context, column_box, bottom_space, skip_stack, containing_block,
                    original_page_is_empty, absolute_boxes, fixed_boxes, None,
                    first_letter_style, first_line_style, discard=False,
                    max_lines=None))
            if new_child is None:
                columns = []
                break_page = True
                break
            next_page = column_next_page
            skip_stack = column_skip_stack
            columns.append(new_child)
            max_column_height = max(
                max_column_height, new_child.margin_height())
            if skip_stack is None:
                bottom_space = original_bottom_space
                break
            i += 1
            if i == count and not height_defined:
                # [If] a declaration that constrains the column height
                # (e.g., using height or max-height). In this case,
                # additional column boxes are created in the inline
                # direction.
                break

        # Update the current y position and set the columns’ height
        current_position_y += min(max_height, max_column_height)
        for column in columns:
            column.height = max_column_height
            new_children.append(column)

        skip_stack = None
        page_is_empty = False

        if stop_rendering:
            break

    # Report footnotes above the defined footnotes height
    _report_footnotes(context, footnote_area_heights[-1])

    if box.children and not new_children:
        # The box has children but none can be drawn, let's skip the whole box
        context.in_column = False
        return None, (0, None), {'break': 'any', 'page': None}, [], False

    # Set the height of the containing box
    box.children = new_children
    current_position_y += collapse_margin(adjoining_margins)
    height = current_position_y - box.content_box_y()
    if box.height == 'auto':
        box.height = height
        height_difference = 0
    else:
        height_difference = box.height - height

    # Update the latest columns’ height to respect min-height
    if box.min_height != 'auto' and box.min_height > box.height:
        height_difference += box.min_height - box.height
        box.height = box.min_height
    for child in new_children[::-1]:
        if child.is_column:
            child.height += height_difference
        else:
            break

    if style['position'] == 'relative':
        # New containing block, resolve the layout of the absolute descendants
        for absolute_box in absolute_boxes:
            absolute_layout(
                context, absolute_box, box, fixed_boxes, bottom_space,
                skip_stack=None)

    # Calculate skip stack
    if column_skip_stack:
        skip, = column_skip_stack.keys()
        skip_stack = {index + skip: column_skip_stack[skip]}
    elif break_page:
        skip_stack = {index: None}

    # Update page bottom according to the new footnotes
    if context.current_footnote_area.height != 'auto':
        context.page_bottom += footnote_area_heights[0]
        context.page_bottom -= context.current_footnote_area.margin_height()

    context.in_column = False
    return box, skip_stack, next_page, [], False
