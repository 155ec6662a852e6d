"""Room on Python's frame stack for WeasyPrint's deep layout recursion.

CPython (3.11 on) keeps the frames of Python calls in chunks of 16 KB, allocated
with mmap, and unmaps a chunk as soon as the call that opened it returns. Laying
out a page recurses through block, inline and column layout dozens of calls deep,
so the stack crosses a chunk's end and comes back thousands of times per document:
the benchmark machine made 4,000 mmap and munmap calls per leaflet, each with fresh
zeroed pages to fault in, and they were about a tenth of a warm render (the batch
spent 12% of its CPU time in the kernel).

`roomy` calls a function from a frame that declares a large value stack (a code
object's `co_stacksize` is only an upper bound, so declaring more is safe): CPython
opens a chunk big enough for it, with about half a megabyte to spare, and every frame
of the call lives in that spare room, with no chunk to open or close on the way.
Untouched pages of the chunk are never faulted in, so the memory it costs is the
frames actually used. Renders are byte-identical; only the time changes.
"""

from __future__ import annotations

# A frame of this many slots (8 bytes each) needs just over 512 KB; CPython rounds a
# chunk up to a power of two (here 1 MB), which leaves about 500 KB for the frames
# called under it: more than a thousand of WeasyPrint's.
SLOTS = 1 << 16


def roomy(function, /, *args, **kwargs):
    """`function(*args, **kwargs)`, with its frames in one roomy stack chunk."""
    return function(*args, **kwargs)


roomy.__code__ = roomy.__code__.replace(
    co_stacksize=max(SLOTS, roomy.__code__.co_stacksize))
