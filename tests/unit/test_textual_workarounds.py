"""tui/textual_workarounds.py: the workaround still applies to the Textual installed (its own
`Strip.divide` still makes the cycle; when this test fails there, the workaround can go), and
with it in place a line is divided exactly as Textual divides it, whole lines without a cycle."""

from __future__ import annotations

import gc

from rich.segment import Segment
from textual.strip import Strip

from tui import textual_workarounds


def _line() -> Strip:
    return Strip([Segment("10.0.0.1/32 "), Segment("api "), Segment("active")])


def _cycles_collected(make: object) -> int:
    """Objects the cyclic collector frees after `make()`'s result is dropped."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        make()  # type: ignore[operator]
        return gc.collect()
    finally:
        if was:
            gc.enable()


def test_textual_still_makes_a_cycle_of_a_whole_line_it_divides() -> None:
    def divide_with_textual() -> None:
        strip = _line()
        textual_workarounds._textual_divide(strip, [strip.cell_length])

    assert _cycles_collected(divide_with_textual) > 0


def test_with_the_workaround_a_whole_line_makes_no_cycle_and_every_division_is_textuals() -> None:
    textual_workarounds.install()
    assert Strip.divide is textual_workarounds._divide

    def divide_whole() -> None:
        strip = _line()
        assert list(strip.divide([strip.cell_length])) == [strip]

    assert _cycles_collected(divide_whole) == 0
    strip = _line()
    for cuts in ([3], [3, 12], [12, 16, strip.cell_length], [0, strip.cell_length], [strip.cell_length + 5], []):
        ours = strip.divide(cuts)
        theirs = textual_workarounds._textual_divide(_line(), cuts)
        assert [piece.text for piece in ours] == [piece.text for piece in theirs]
        assert [piece.cell_length for piece in ours] == [piece.cell_length for piece in theirs]
