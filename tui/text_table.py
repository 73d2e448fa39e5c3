"""A table as plain text for the headless CLI: aligned columns, no markup, no control characters.

Every cell goes through `tui.literal.literal` (single line), so a name from a server cannot move
the cursor or recolour the terminal; widths are counted in terminal cells (a CJK character is
two), and a cell wider than its column's cap is cut with an ellipsis. The only escape sequences
are our own: the header in bold and a row's style (warning, error, dim) as a colour, and only
when asked (`colour`: a terminal, and NO_COLOR unset; see `wants_colour`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from rich.cells import cell_len

from tui.literal import literal

GAP = "   "
BOLD, RESET = "\x1b[1m", "\x1b[0m"
STYLE_CODES = {"warning": "\x1b[33m", "error": "\x1b[31m", "dim": "\x1b[2m"}


@dataclass(frozen=True)
class TextColumn:
    title: str
    max_width: int | None = None  # cut past this many cells (None: never)
    right: bool = False


def wants_colour(stream: TextIO, environ: os._Environ[str] | dict[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (no-color.org) or TERM=dumb."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def crop(text: str, width: int) -> str:
    """`text` cut to at most `width` terminal cells, with an ellipsis where it was cut."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        size = cell_len(ch)
        if used + size > width - 1:
            break
        out.append(ch)
        used += size
    return "".join(out) + "…"


def render_table(
    columns: Sequence[TextColumn], rows: Sequence[tuple[Sequence[str], str]], *, colour: bool = False
) -> str:
    """`rows` ((cells, style) each) under `columns`' titles, aligned, ending in a newline."""
    cells = [[literal(c, single_line=True) for c in row] for row, _ in rows]
    cells = [
        [crop(c, col.max_width) if col.max_width else c for c, col in zip(row, columns, strict=False)] for row in cells
    ]
    widths = [cell_len(col.title) for col in columns]
    for row in cells:
        for i, c in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], cell_len(c))

    def line(values: Sequence[str]) -> str:
        parts = []
        for value, width, col in zip(values, widths, columns, strict=False):
            pad = " " * (width - cell_len(value))
            parts.append(pad + value if col.right else value + pad)
        return GAP.join(parts).rstrip()

    header = line([literal(col.title, single_line=True) for col in columns])
    out = [f"{BOLD}{header}{RESET}" if colour else header]
    for row, (_, style) in zip(cells, rows, strict=True):
        text = line(row)
        code = STYLE_CODES.get(style) if colour else None
        out.append(f"{code}{text}{RESET}" if code else text)
    return "\n".join(out) + "\n"
