"""Workarounds for Textual behaviour that costs teledeck something measurable; each says what,
why, and how to tell it is no longer needed (tests/unit/test_textual_workarounds.py checks that
the one here still applies to the Textual installed, and that it changes no result).

`Strip.divide` (textual 8.2): the compositor divides every line it paints at the widget's
edges; a line that is not cut at all comes back as `[self]`, and that list is kept in the
strip's own divide cache: strip -> cache -> list -> strip, a reference cycle per line painted,
with the strip's seven caches. Only the cyclic collector frees those, and VirtualTable freezes
the heap out of that collector at 100,000 rows (virtual_table.GC_FREEZE_ROWS), so a frame's
cycles made while a table job ran stayed until the next sweep: 4,794 strips and 33,558 caches,
7.1 MB, after the memory benchmark's load, filter and sort (measured). Whole, the line is
returned in a new list and not cached: the same strips, and no cycle; a cache hit was no
cheaper than that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.strip import Strip

_textual_divide = Strip.divide


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    if len(cuts) == 1 and cuts[0] == self.cell_length:
        return [self]
    return _textual_divide(self, cuts)


def install() -> None:
    """Put the workarounds in place (once; calling again changes nothing)."""
    Strip.divide = _divide  # type: ignore[method-assign]
