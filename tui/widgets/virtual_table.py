"""A virtual table on Textual's Line API: stays responsive with 100,000+ rows.

`VirtualTable` is a `ScrollView` that renders only the lines on screen
(`render_line(y) -> Strip`); the data are plain Python `Row` objects kept in a
dict (insertion order) plus one list of the visible rows (filtered, sorted).
Loading, filtering and appending are list operations, with no per-cell
measuring pass: column widths come from the header and a bounded sample of rows.

Large tables never stall the event loop
---------------------------------------
Taking in rows (`set_rows`), filtering and sorting are done by generators that
yield between slices (tui/widgets/table_rows.py). For a table of at most
`sync_rows` rows they run to the end inside the call, as plain calls do. For a
larger one the call does the first slice (so `set_rows` paints its first rows at
once; a filter works up to `filter_turn_seconds`, so most are painted with the key
that typed them) and a worker runs the rest, `slice_seconds` of work per event-loop turn:
`busy` and `busy_text` say what is under way ("loading rows 40,000 of
100,000…"), `ViewChanged` is posted as rows come in and when a result is shown,
and `wait_until_idle()` waits for it. A newer filter or sort drops older work
before it shows anything, so only the latest request's result is ever shown;
a filter that only grows filters the rows shown, not all rows; sorting keeps
all rows in sort order with their keys (`SortKeys`, made once per sorted
column and kept on the rows), so a filter never sorts again. Rows appended
while work is under way are taken into its result; rows updated or removed
meanwhile make it start again (while rows are still being taken in by
`set_rows`, those two first finish taking them in, at once).

Row styles (`Row.style`)
------------------------
* `""` (default): no extra style.
* A row-style *name*: `dim`, `bold`, `muted`, `success`, `warning`, `error`,
  `accent`. It selects the component class `virtual-table--row-<name>`, whose
  colours come from the theme (so they also work in the `ansi-*` themes).
* Anything else is parsed as a Rich style string, e.g. `"bold red"`,
  `"italic #ff8800"`, `"strike"`. An invalid style string is ignored.

The cursor style is drawn over the row style; zebra stripes under it.

Marks
-----
Rows can be marked by key (`toggle_mark`, `mark_keys`, `clear_marks`) for a verb that acts on
several rows at once. A marked row shows MARK in its first cell of padding and the component
class `virtual-table--marked` under its own style. Marks are kept by key through filters, sorts
and `set_rows`; `remove_row` drops its row's mark, and `prune_marks` those of rows no longer held
(a screen calls it once a reload has every row).

Narrow terminals (`Column.priority`, `Column.min_width`, `Column.wrap`)
-----------------------------------------------------------------------
When the columns want more cells than the table has, the columns with the
largest `priority` give way first (ties: the rightmost first): each shrinks to
its `min_width` (its text cut with an ellipsis), and when that is not enough the
column is dropped and the header ends with an ellipsis to say so. Before any
column gives way, the two spaces between columns become one. Priority-1
columns (the default: what identifies a row) keep their width; if they alone do
not fit, the table scrolls sideways. A `wrap` column never cuts its text: it is
wrapped onto more lines (at spaces where it can, else anywhere), and the row is
as tall as its tallest cell.
"""

from __future__ import annotations

import asyncio
import gc
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from functools import partial
from itertools import islice
from time import perf_counter
from typing import Any, ClassVar, Literal

from rich.cells import cell_len, chop_cells, set_cell_size
from rich.errors import StyleSyntaxError
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.worker import Worker

from tui import textual_workarounds
from tui.literal import literal
from tui.widgets.table_rows import (
    EVERY_ROW,
    SLICE_ROWS,
    FilterError,
    Row,
    RowFilter,
    SortKeys,
    Steps,
    filter_rows,
    insertion_points,
    parse_filter,
    plan_sort,
    rehome_texts,
    run_now,
    sort_rows,
    splice,
    splice_texts,
)

__all__ = ["Column", "FilterError", "Row", "VirtualTable"]

# Textual's painted lines would otherwise leave a reference cycle each, which the heap freezes
# below keep until a sweep (see tui/textual_workarounds.py).
textual_workarounds.install()

Justify = Literal["left", "right"]

ELLIPSIS = "…"
SORT_ASCENDING = "▲"
SORT_DESCENDING = "▼"
#: Auto column widths are measured on a bounded sample of rows: the first
#: MEASURE_SAMPLE rows, plus about as many spread evenly over the rest (and the
#: last one), of the rows given to `set_rows` and of each `append_rows` batch.
MEASURE_SAMPLE = 500
#: What ends the header when columns were dropped to fit the table's width.
DROPPED_MARKER = ELLIPSIS
#: What a marked row shows in its left padding (one cell wide in every terminal: not East Asian
#: "ambiguous" width, as ● and ▌ are).
MARK = "✓"
#: Rendered row strips kept in the cache before it is flushed.
STRIP_CACHE_SIZE = 1000
#: At most this often (seconds) a load in progress posts `ViewChanged` (so a title bar's count
#: follows without repainting it for every slice).
PROGRESS_INTERVAL = 0.1
#: Filter results kept for the rows as they are (a backspace, or a query typed again, is then
#: no work; a longer query filters the smallest result that holds its rows).
FILTER_CACHE_SIZE = 8
#: Event-loop turns a large table's work gives away between its slices. One turn per slice
#: made a key or a timer wait 25-35 ms behind a sort at 100,000 rows (each hop of a message
#: waited a whole slice); four bring that under 10 ms and cost ~0.1 ms a slice when idle.
YIELD_TURNS = 4
#: After this many rows have been taken in (by any table) the objects alive are frozen out of
#: Python's cyclic garbage collector (gc.freeze), which would otherwise walk every row on each
#: full collection: ~45 ms per 100,000 rows, at moments nobody chose. None: never.
GC_FREEZE_ROWS: int | None = 10_000
#: What freezing costs is garbage: objects frozen alive that die in cycles later (a layout's
#: compositor closures, a finished Worker; before tui/textual_workarounds.py, each painted
#: line's Strip and its caches: ~570 objects a keystroke at 100,000 rows) stay until unfrozen.
#: After this many freezes (about as many keystrokes or table jobs), the next idle moment
#: (`SWEEP_IDLE_SECONDS` with no table work) unfreezes, collects everything once and freezes
#: again: one full collection (~50-200 ms at 100,000 rows) while nobody is typing, instead of
#: memory that grows with every keystroke. Counted, not measured: gc.get_freeze_count walks the
#: whole frozen heap (16 ms at 100,000 rows).
SWEEP_AFTER_FREEZES = 150
SWEEP_IDLE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a `VirtualTable`.

    Args:
        key: Stable identifier (used by `sort_by`).
        label: Header text.
        width: Fixed width in cells, or None to measure it from the header and
            a bounded sample of rows (capped by `max_width`).
        justify: "left" or "right" (right suits numbers).
        max_width: Upper bound for an auto width.
        priority: 1 (the default) for what identifies a row: it keeps its width
            however narrow the table. A larger number gives way sooner when the
            table is narrower than its columns want: it shrinks to `min_width`,
            then is dropped (see the module docstring).
        min_width: The narrowest such a column is shown before it is dropped;
            None: it is never cut, only dropped whole.
        wrap: Wrap the text onto more lines instead of cutting it.
        order: A typed sort value of a row (usually from `Row.data`: seconds, a timestamp, an
            IP address key), for a column whose text does not sort the way its value does.
            Computed for every row only when the column is sorted, then kept with the row
            until another column is sorted; None puts the row last, like an empty cell.
    """

    key: str
    label: str
    width: int | None = None
    justify: Justify = "left"
    max_width: int = 48
    priority: int = 1
    min_width: int | None = None
    wrap: bool = False
    order: Callable[[Row], Any] | None = None

    def floor(self, natural: int) -> int:
        """The narrowest this column is shown, given the width it wants."""
        if self.priority <= 1 or self.min_width is None:
            return natural
        return min(natural, max(1, self.min_width))


def _fit(text: str, width: int, right: bool) -> str:
    """Pad or truncate (with an ellipsis) `text` to exactly `width` cells."""
    if text.isascii():
        if not text.isprintable():
            text = literal(text, single_line=True)  # ␛ for ESC: data never reaches the terminal as control
        length = len(text)
        if length <= width:
            return text.rjust(width) if right else text.ljust(width)
        if width <= 1:
            return ELLIPSIS[:width]
        return text[: width - 1] + ELLIPSIS
    text = literal(text, single_line=True)
    length = cell_len(text)
    if length <= width:
        padding = " " * (width - length)
        return padding + text if right else text + padding
    if width <= 1:
        return ELLIPSIS[:width]
    return set_cell_size(text, width - 1) + ELLIPSIS


def _wrap(text: str, width: int) -> list[str]:
    """`text` (shown literally) in lines of at most `width` cells: broken at the last space that
    fits, else where the width ends."""
    if not (text.isascii() and text.isprintable()):
        text = literal(text, single_line=True)
    width = max(1, width)
    lines: list[str] = []
    while _measure(text) > width:
        head = chop_cells(text, width)[0]
        space = head.rfind(" ")
        if space > 0:
            lines.append(head[:space])
            text = text[space + 1 :]
        else:
            lines.append(head)
            text = text[len(head) :]
    lines.append(text)
    return lines


def _row_width(widths: Sequence[int | None], gap: int) -> int:
    """Cells a line takes: a space, the shown columns `gap` spaces apart, a space."""
    kept = [width for width in widths if width is not None]
    return sum(kept) + gap * max(0, len(kept) - 1) + 2 if kept else 0


def _sample(rows: Sequence[Row], count: int = MEASURE_SAMPLE) -> Sequence[Row]:
    """The first `count` rows, about `count` more spread over the rest, the last."""
    total = len(rows)
    if total <= 2 * count:
        return rows
    step = max(1, (total - count) // count)
    return [*rows[:count], *rows[count::step], rows[-1]]


_rows_since_freeze = 0


def _taken_in(count: int) -> None:
    """Count rows taken in; past GC_FREEZE_ROWS, freeze what is alive out of the collector.

    Rows and the records they show live as long as the list; a full collection walks every one
    of them (the cost that made a load or a keystroke stall 50-100 ms at 100,000 rows). Frozen,
    they are still freed by reference counting when the table drops them (a Row makes no
    cycles); only cyclic garbage frozen with them would stay, so the young generations are
    collected first (a few ms: they hold at most a few thousand objects).
    """
    global _rows_since_freeze
    _rows_since_freeze += count
    if GC_FREEZE_ROWS is not None and _rows_since_freeze >= GC_FREEZE_ROWS:
        _freeze_heap()


_freezes_since_sweep = 0
_tables_holding_collection = 0


def _hold_collection() -> None:
    """No automatic collection while a table builds its lists in slices: each young collection
    would walk a list of up to 100,000 rows still being built (20-30 ms a time, measured: the
    stalls of a keystroke's filter). The job's end freezes them (`_freeze_heap`)."""
    global _tables_holding_collection
    _tables_holding_collection += 1
    gc.disable()


def _release_collection() -> None:
    global _tables_holding_collection
    _tables_holding_collection = max(0, _tables_holding_collection - 1)
    if _tables_holding_collection == 0:
        gc.enable()


def _freeze_heap() -> bool:
    """Freeze what is alive (see `_taken_in`), also after a large table's work: its lists of
    100,000 rows, texts and keys are young containers that every young collection would walk
    whole (6-12 ms each, several per keystroke). No collection first: collecting the young
    generations walks those very lists (12-35 ms at 100,000 rows, measured), and what the
    freeze keeps that would have been garbage is swept at an idle moment (`sweep_due`).
    True when such a sweep is due."""
    global _rows_since_freeze, _freezes_since_sweep
    if GC_FREEZE_ROWS is None:
        return False
    _rows_since_freeze = 0
    _freezes_since_sweep += 1
    gc.freeze()
    return sweep_due()


def sweep_due() -> bool:
    return _freezes_since_sweep >= SWEEP_AFTER_FREEZES


def sweep_heap() -> int:
    """Collect the frozen garbage: unfreeze, one full collection, freeze again. The number of
    unreachable objects collected."""
    global _freezes_since_sweep
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    _freezes_since_sweep = 0
    return found


def _index_of(rows: list[Row], row: Row) -> int | None:
    """Index of this very row object in `rows` (a Row compares by identity): a C-speed scan that
    stops where it finds it, at once for a row near the top, ~14 ms through 100,000 rows
    scattered over the heap (measured)."""
    try:
        return rows.index(row)
    except ValueError:
        return None


def _measure(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


class _TableMessage(Message):
    """A message from a table (the table is its control, for `@on` selectors)."""

    def __init__(self, table: VirtualTable) -> None:
        self.table = table
        super().__init__()

    @property
    def control(self) -> VirtualTable:
        return self.table


class _RowMessage(_TableMessage):
    """A message about one row of a table."""

    def __init__(self, table: VirtualTable, row: Row) -> None:
        self.row = row
        super().__init__(table)


class VirtualTable(ScrollView, can_focus=True):
    """A fast, virtual, filterable, sortable table with a row cursor."""

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="rows.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="rows.down"),
        Binding("pageup", "cursor_page_up", "Page up", show=False, id="rows.page_up"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False, id="rows.page_down"),
        Binding("home,g", "cursor_first", "First row", show=False, id="rows.first"),
        Binding("end,G", "cursor_last", "Last row", show=False, id="rows.last"),
        Binding("enter", "select_cursor", "Select", show=False, id="rows.select"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--header-sorted",
        "virtual-table--cursor",
        "virtual-table--stripe",
        "virtual-table--empty",
        "virtual-table--row-dim",
        "virtual-table--row-bold",
        "virtual-table--row-muted",
        "virtual-table--row-success",
        "virtual-table--row-warning",
        "virtual-table--row-error",
        "virtual-table--row-accent",
        "virtual-table--marked",
    }
    """
    | Class | Description |
    | :- | :- |
    | `virtual-table--header` | The header line. |
    | `virtual-table--header-sorted` | The header cell of the sorted column (over the header). |
    | `virtual-table--cursor` | The cursor row (focused and blurred variants via `:focus`). |
    | `virtual-table--stripe` | Odd rows when `zebra_stripes` is on. |
    | `virtual-table--empty` | The "no rows" line. |
    | `virtual-table--row-<name>` | Rows whose `Row.style` is `<name>` (dim, bold, muted, success, warning, error, accent). |
    | `virtual-table--marked` | Marked rows (under the row style and the cursor). |
    """

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;

        & > .virtual-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .virtual-table--header-sorted {
            color: $text-accent;
        }
        & > .virtual-table--stripe {
            background: $surface-lighten-1 50%;
        }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-table--empty {
            color: $text-muted;
            text-style: italic;
        }
        & > .virtual-table--row-dim {
            text-style: dim;
        }
        & > .virtual-table--row-bold {
            text-style: bold;
        }
        & > .virtual-table--row-muted {
            color: $text-muted;
        }
        & > .virtual-table--row-success {
            color: $text-success;
        }
        & > .virtual-table--row-warning {
            color: $text-warning;
        }
        & > .virtual-table--row-error {
            color: $text-error;
        }
        & > .virtual-table--row-accent {
            color: $text-accent;
        }
        & > .virtual-table--marked {
            background: $accent 30%;
            text-style: bold;
        }

        &:ansi {
            & > .virtual-table--header {
                background: ansi_default;
                color: ansi_default;
                text-style: bold underline;
            }
            & > .virtual-table--header-sorted {
                color: ansi_bright_cyan;
            }
            & > .virtual-table--stripe {
                background: ansi_default;
            }
            & > .virtual-table--cursor {
                text-style: reverse;
            }
            & > .virtual-table--empty {
                color: ansi_default;
                text-style: dim italic;
            }
            & > .virtual-table--row-muted {
                color: ansi_default;
                text-style: dim;
            }
            & > .virtual-table--marked {
                background: ansi_default;
                text-style: bold underline;
            }
        }
        &:ansi:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: none;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, repaint=False, init=False)
    """Index of the cursor in the visible rows."""

    zebra_stripes: reactive[bool] = reactive(False, repaint=False, init=False)
    """Shade every other row (component class `virtual-table--stripe`)."""

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row."""

    class RowSelected(_RowMessage):
        """A row was chosen: enter, or a mouse click on the row."""

    class ViewChanged(_TableMessage):
        """What the table shows changed outside a call: rows taken in by a load in slices, or
        the result of a filter or sort that ran in slices (see `busy`)."""

    class SortChanged(_TableMessage):
        """The sort column or direction changed (`column_key` None: unsorted)."""

        def __init__(self, table: VirtualTable, column_key: str | None, reverse: bool) -> None:
            self.column_key = column_key
            self.reverse = reverse
            super().__init__(table)

    def __init__(
        self,
        columns: Iterable[Column] = (),
        *,
        zebra_stripes: bool = False,
        empty_text: str = "no rows",
        no_match_text: str = "no rows match the filter",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.empty_text = empty_text
        self.no_match_text = no_match_text
        self._columns: tuple[Column, ...] = ()
        self._widths: list[int] = []  # what each column wants (measured, or fixed)
        self._shown: list[int | None] = []  # what each gets at this table's width; None: dropped
        self._fit_key: tuple[int, tuple[int, ...]] | None = None
        self._gap = 2  # spaces between columns: 1 when the table is too narrow for 2
        self._content_width = 0
        self._line_starts: list[int] | None = None  # first line of each visible row, with wrap columns
        self._line_count = 0
        self._rows: dict[str, Row] = {}
        self._view: list[Row] = []
        self._marks: dict[str, None] = {}  # marked row keys, in the order they were marked
        self._filter_text = ""
        self._filter: RowFilter = EVERY_ROW
        self._sort_column: str | None = None
        self._sort_reverse = False
        # What `_view` shows (the request above, once the work for it is done).
        self._view_filter: RowFilter = EVERY_ROW
        self._view_column: str | None = None
        self._view_reverse = False
        # Every row in the view's sort order (None: unsorted, the order of `_rows`), and the sort
        # keys, valid for every row in `_rows` (None: to be made again).
        self._ordered: list[Row] | None = None
        self._ordered_texts: list[str] = []  # their search texts, side by side in memory
        self._ordered_keys: list[Any] = []  # their sort keys
        self._keys: SortKeys | None = None
        self._order_ok = True  # `_ordered` holds every row of `_rows` but `_unshown`, in order
        self._view_ok = True  # `_view` is `_ordered` (or `_rows`) filtered, but `_unshown`
        self._unshown: list[Row] = []  # rows appended while work was under way, not yet shown
        self._filter_cache: dict[RowFilter, list[Row]] = {}  # a filter -> its view
        # Work under way (tui/widgets/table_rows.py generators): what it is ("load", "filter",
        # "sort"), its generation (a newer one makes it stale), its worker and its steps.
        self._job: str | None = None
        self._sweep_timer: Timer | None = None  # a sweep of frozen garbage at the next idle moment
        self._holds_collection = False  # while its work runs in slices (`_hold_collection`)
        self._generation = 0
        self._worker: Worker[None] | None = None
        self._steps: Steps | None = None
        self._taking_rows = False  # set_rows is still taking rows from its iterable
        self._queued: list[Row] = []  # rows appended meanwhile: they come after
        self._load_total: int | None = None
        self._keep_key: str | None = None  # set_rows keeps the cursor on this row when it comes
        self._keep_index = 0
        self._progress_at = 0.0
        self._idle_waiters: list[asyncio.Future[None]] = []
        #: A table of at most this many rows does its work inside the call; a larger one in slices.
        self.sync_rows = 5000
        #: Work done per event-loop turn by a large table (seconds): the longest it holds the loop.
        self.slice_seconds = 0.008
        #: A large table's filter works this long (seconds) inside the call before it goes on in
        #: slices: a filter that fits (one of 100,000 rows by text takes ~20 ms) is painted in the
        #: frame that shows the key that typed it, instead of a frame later (up to 1/60 s and a
        #: whole repaint more), and holds the loop no longer than the 50 ms a stall may take.
        self.filter_turn_seconds = 0.03
        self._strip_cache: dict[tuple[str, int, bool, int, bool], tuple[Strip, Style]] = {}
        self._header_strip: Strip | None = None
        self._style_cache: dict[tuple[int, str, bool, bool], Style] = {}
        self._named_styles: dict[str, Style] = {}
        self._highlighted_key: str | None = None
        self._scroll_deferred = False
        self.set_reactive(VirtualTable.zebra_stripes, zebra_stripes)
        if columns:
            self.set_columns(columns)

    # ------------------------------------------------------------------ data

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns, in display order."""
        return self._columns

    @property
    def column_widths(self) -> tuple[int, ...]:
        """The width each column is shown at, in cells (without padding); 0 for a dropped one."""
        return tuple(width or 0 for width in self._shown)

    @property
    def dropped_columns(self) -> tuple[str, ...]:
        """Keys of the columns left out because the table is too narrow for them."""
        return tuple(column.key for column, width in zip(self._columns, self._shown, strict=False) if width is None)

    @property
    def total_count(self) -> int:
        """Number of rows held (ignoring the filter)."""
        return len(self._rows)

    @property
    def visible_count(self) -> int:
        """Number of rows shown (after the filter)."""
        return len(self._view)

    @property
    def filter_text(self) -> str:
        """The filter as given to `set_filter`."""
        return self._filter_text

    @property
    def sort_column(self) -> str | None:
        """Key of the sorted column, or None when rows are in insertion order."""
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        """True when sorted in descending order."""
        return self._sort_reverse

    @property
    def current_row(self) -> Row | None:
        """The row under the cursor, or None when no row is visible."""
        view = self._view
        if not view:
            return None
        return view[min(self.cursor_row, len(view) - 1)]

    @property
    def current_key(self) -> str | None:
        """Key of the row under the cursor, or None."""
        row = self.current_row
        return None if row is None else row.key

    def get_row(self, key: str) -> Row | None:
        """The row with this key (visible or not), or None."""
        return self._rows.get(key)

    def row_at(self, index: int) -> Row:
        """The visible row at `index` (raises IndexError)."""
        return self._view[index]

    def index_of(self, key: str) -> int | None:
        """Index of the row `key` among the visible rows, or None."""
        row = self._rows.get(key)
        return None if row is None else self._position(row)

    def _position(self, row: Row) -> int | None:
        """Index of this very row object among the visible rows."""
        return _index_of(self._view, row)

    def set_columns(self, columns: Iterable[Column]) -> None:
        """Replace the columns (rows keep their cells, matched by position)."""
        self._columns = tuple(columns)
        was_sorted = self._sort_column is not None
        if was_sorted and self._sort_column not in self._column_keys():
            self._sort_column = None
            self._sort_reverse = False
            self.post_message(self.SortChanged(self, None, False))
        self._keys = None  # a column's keys depend on where its cells are
        self._filter_cache.clear()
        self._widths = [0] * len(self._columns)
        self._measure(_sample(list(self._rows.values())), reset=True)
        self._layout_changed()
        try:  # a column filter names its column: it may have moved, or be gone
            keep = parse_filter(self._filter_text, self._filter_columns())
        except FilterError:
            keep, self._filter_text = EVERY_ROW, ""
        refilter = keep != self._filter
        self._filter = keep
        if self._rows and was_sorted:
            # The sorted column may have moved, or be gone (back to insertion order).
            self._order_ok = False
        if self._rows and (was_sorted or refilter):
            self._request_view()

    def set_rows(self, rows: Iterable[Row]) -> None:
        """Replace every row. The cursor stays on the same row key if it still exists.

        More than `sync_rows` rows are taken in slices: the first slice is shown at once, the
        rest fill in between event-loop turns (`busy_text` counts them). `rows` may be a
        generator: it is consumed as the table goes, so building the rows is sliced too (one
        that ends within the first slice is taken in at once). Rows appended meanwhile come
        after them.
        """
        keep_key = self._keep_key if self._taking_rows else self.current_key
        keep_index = self._keep_index if self._taking_rows else self.cursor_row
        self._cancel_work()
        self._rows = {}
        self._view = []
        self._ordered, self._ordered_texts, self._ordered_keys = None, [], []
        self._keys = None
        self._order_ok = self._view_ok = False
        self._unshown = []
        self._queued = []
        self._filter_cache.clear()
        self._strip_cache.clear()
        self._widths = [0] * len(self._columns)
        self._measure([], reset=True)
        self._layout_changed()
        total = len(rows) if isinstance(rows, Sized) else None
        source: Iterator[Row] = iter(rows)
        self._keep_key, self._keep_index = keep_key, keep_index
        self._load_total = total
        now = total is not None and total <= self.sync_rows
        if not now and self.is_attached:
            # What is alive already (the records these rows show, the app) out of the full
            # collections the load's allocations would set off (16 ms into the first slice).
            _freeze_heap()
        self._run("load", self._load_steps(source), now=now)

    def append_rows(self, rows: Iterable[Row]) -> None:
        """Add rows at the end (a page of results). Cheap: the cursor stays on its
        row and the scroll position is kept. A row whose key already exists
        replaces that row (as `update_row`). While `set_rows` is still taking rows
        in, these wait and come after its rows."""
        rows = list(rows)
        if not rows:
            return
        if self._taking_rows:
            self._queued += rows
            return
        self._filter_cache.clear()  # results made without these rows
        known = self._rows
        new_rows: list[Row] = []
        replaced: list[Row] = []
        for row in rows:
            if row.key in known:
                replaced.append(row)
            else:
                new_rows.append(row)
            known[row.key] = row
        _taken_in(len(rows))
        keys = self._keys
        if keys is not None and not keys.admit(rows):
            self._keys = keys = None
        if self._measure([*_sample(new_rows), *_sample(replaced)]):
            self._layout_changed()
        if replaced:
            for row in replaced:
                self._forget_row(row.key)
            self._unshown += new_rows
            self._order_ok = False
            self._request_view()
            return
        if self._job is not None or len(new_rows) > self.sync_rows:
            # Work under way takes them into its result when it ends; a batch this big is work.
            self._unshown += new_rows
            if self._job is None:
                self._request_view()
            else:
                self._update_virtual_size()
                self.refresh()
            return

        matching = run_now(filter_rows(new_rows, self._view_filter))
        column = self._view_column
        if column is not None:
            if keys is None:  # the new rows need other keys: sort again
                self._unshown += new_rows
                self._order_ok = False
                self._request_view()
                return
            assert self._ordered is not None
            shared = self._view is self._ordered  # unfiltered: the view is the sorted rows
            try:
                points = insertion_points(self._ordered_keys, new_rows, keys, self._view_reverse)
            except TypeError:  # typed values that do not compare: the column sorts by its text
                self._keys = None
                self._unshown += new_rows
                self._order_ok = False
                self._request_view()
                return
            self._ordered = splice(self._ordered, points)
            self._ordered_texts = splice_texts(self._ordered_texts, points)
            self._ordered_keys = splice(self._ordered_keys, points, 2)
            view = self._view
            if shared:
                view = self._ordered
            elif matching:  # filtered: the sorted rows filtered again (at C speed, ~8 ms at 100k)
                view = run_now(filter_rows(self._ordered, self._view_filter, self._ordered_texts))
        if not matching:
            self._update_virtual_size()
            self.refresh()
            return
        had_rows = bool(self._view)
        cursor_row = self.current_row
        if column is None:
            self._view.extend(matching)
        else:
            self._view = view
            self._strip_cache.clear()  # rows moved: zebra parity and cursor changed
        self._update_virtual_size()
        self.refresh()
        if had_rows and cursor_row is not None and column is not None:
            # Keep the cursor on its row, and that row where it was on screen.
            new_index = self._position(cursor_row)
            if new_index is not None and new_index != self.cursor_row:
                shift = new_index - self.cursor_row
                self.set_reactive(VirtualTable.cursor_row, new_index)
                self.scroll_to(y=self.scroll_y + shift, animate=False, force=True)
        self._check_highlight()

    def update_row(self, row: Row) -> None:
        """Replace the row with the same key (appends it if the key is new)."""
        if self._taking_rows and row.key not in self._rows:
            self._finish_now()  # it may be among the rows not taken in yet
        old = self._rows.get(row.key)
        if old is None:
            self.append_rows([row])
            return
        self._rows[row.key] = row
        self._filter_cache.clear()
        self._forget_row(row.key)
        keys = self._keys
        if keys is not None and not keys.admit([row]):
            self._keys = keys = None
        if self._measure([row]):
            self._layout_changed()
        if self._job is not None:
            self._order_ok = False
            self._request_view()  # start again: the work under way holds the old row
            return
        was_visible = self._matches(old)
        now_visible = self._matches(row)
        at = _index_of(self._ordered, old) if self._ordered is not None else None
        new_key = keys.compute(row) if keys is not None and at is not None else None
        same_place = self._view_column is None or (
            keys is not None and at is not None and self._ordered_keys[at] == new_key
        )  # (no keys: the row needs keys the column does not have yet; everything sorts again)
        index = self._position(old) if same_place and was_visible and now_visible else None
        if same_place and self._ordered is not None and at is not None:
            self._ordered[at] = row  # (the view too, when it is the same list)
            self._ordered_texts[at] = row.search_text
            self._ordered_keys[at] = new_key
        if same_place and was_visible and now_visible:
            if index is not None:
                self._view[index] = row
                if self._line_starts is None:
                    self.refresh_line(index + 1)
                else:  # its height may have changed
                    self._update_virtual_size()
                    self.refresh()
                if index == self.cursor_row:
                    self._highlighted_key = None
                    self._check_highlight()
                return
        if same_place and not was_visible and not now_visible:
            return
        if not same_place:
            self._order_ok = False
        self._view_ok = False
        self._request_view()

    def remove_row(self, key: str) -> bool:
        """Remove the row `key`. Returns False if there was no such row."""
        if self._taking_rows:
            self._finish_now()  # it may be among the rows not taken in yet
        old = self._rows.pop(key, None)
        if old is None:
            return False
        self._marks.pop(key, None)
        self._filter_cache.clear()
        self._forget_row(key)
        shared = self._view is self._ordered
        index = self._position(old)
        if self._ordered is not None and (at := _index_of(self._ordered, old)) is not None:
            if not shared:
                del self._ordered[at]
            del self._ordered_texts[at]
            del self._ordered_keys[at]
        if (at := _index_of(self._unshown, old)) is not None:
            del self._unshown[at]
        if index is not None:
            del self._view[index]
            self._strip_cache.clear()  # zebra parity of the rows below changed
            if index < self.cursor_row:
                self.set_reactive(VirtualTable.cursor_row, self.cursor_row - 1)
            elif self.cursor_row >= len(self._view):
                self.set_reactive(VirtualTable.cursor_row, max(0, len(self._view) - 1))
            self._update_virtual_size()
            self.refresh()
            self._check_highlight()
        if self._job is not None:
            self._request_view()  # start again: the work under way holds the row
        return True

    def clear(self) -> None:
        """Remove every row (columns, filter and sort are kept)."""
        self._cancel_work()
        self._rows = {}
        self._view = []
        self._ordered = [] if self._sort_column is not None else None
        self._ordered_texts, self._ordered_keys = [], []
        self._keys = None
        self._unshown = []
        self._queued = []
        self._filter_cache.clear()
        self._view_filter = self._filter
        self._view_column, self._view_reverse = self._sort_column, self._sort_reverse
        self._order_ok = self._view_ok = True
        self._strip_cache.clear()
        self._widths = [0] * len(self._columns)
        self._measure([], reset=True)
        self._layout_changed()
        self.set_reactive(VirtualTable.cursor_row, 0)
        self._highlighted_key = None
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()

    # ------------------------------------------------------------------ work

    @property
    def busy(self) -> bool:
        """True while rows are being taken in, filtered or sorted a slice at a time."""
        return self._job is not None

    @property
    def busy_text(self) -> str:
        """What is under way, for a status line ("loading rows 40,000 of 100,000…"), or ""."""
        job = self._job
        if job is None:
            return ""
        if job == "load" and self._taking_rows:
            total = self._load_total
            taken = len(self._rows)
            return f"loading rows {taken:,} of {total:,}…" if total else f"loading rows {taken:,}…"
        return "filtering…" if job == "filter" else "sorting…"

    async def wait_until_idle(self) -> None:
        """Return once no work is under way (every row taken in, the latest filter and sort shown)."""
        while self._job is not None:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def _run(self, job: str, steps: Steps, *, now: bool) -> None:
        """Run `steps` (a generator of slices), after dropping older work: to the end now when
        `now` (or when the table is not in a running app), else its first slice now (a filter's
        first `filter_turn_seconds`) and the rest in a worker, `slice_seconds` of work per
        event-loop turn."""
        self._cancel_work()
        generation = self._generation
        self._job = job
        self._taking_rows = job == "load"
        if now or not self.is_attached:
            run_now(steps)
            self._work_done(generation)
            return
        if not self._holds_collection:
            self._holds_collection = True
            _hold_collection()
        try:
            next(steps)
            if job == "filter":
                deadline = perf_counter() + self.filter_turn_seconds
                while perf_counter() < deadline:
                    next(steps)
        except StopIteration:
            self._work_done(generation)
            return
        if generation != self._generation:
            return
        self._steps = steps
        # A partial, not a coroutine: a worker cancelled before it starts then never makes one.
        self._worker = self.run_worker(
            partial(self._drive, generation, steps), name=f"virtual-table {job}", group="virtual-table", exclusive=True
        )

    async def _drive(self, generation: int, steps: Steps) -> None:
        budget = self.slice_seconds
        try:
            deadline = perf_counter() + budget
            for _ in steps:
                if perf_counter() >= deadline:
                    # Several loop turns, not one: a key or a timer reaches its handler through a
                    # few tasks and queues (driver, app, screen, widget), one hop per turn.
                    for _ in range(YIELD_TURNS):
                        await asyncio.sleep(0)
                    if generation != self._generation:
                        return  # stale: a newer request (or `_finish_now`) took over
                    deadline = perf_counter() + budget
        finally:
            steps.close()
        self._work_done(generation)

    def _cancel_work(self) -> None:
        """Drop the work under way (it never shows anything after this)."""
        self._generation += 1
        worker, self._worker, self._steps = self._worker, None, None
        if worker is not None:
            worker.cancel()
        self._job = None
        self._taking_rows = False
        self._let_collection_go()
        self._wake_waiters()

    def _let_collection_go(self) -> None:
        if self._holds_collection:
            self._holds_collection = False
            _release_collection()

    def _finish_now(self) -> None:
        """Do the rest of the work under way at once (a change that cannot wait for it)."""
        steps = self._steps
        if steps is None:
            return
        worker, self._worker, self._steps = self._worker, None, None
        self._generation += 1  # the worker's loop sees it is stale and ends without a step
        if worker is not None:
            worker.cancel()
        generation = self._generation
        run_now(steps)
        self._work_done(generation)

    def _work_done(self, generation: int) -> None:
        if generation != self._generation:
            return
        if self._worker is not None or len(self._rows) > self.sync_rows:
            # A large table's work (in slices, or done in one go from a result kept for this
            # filter): its lists (100,000 rows, texts, keys) are young, and each young
            # collection reads every row they hold, scattered over the heap once sorted (15-25
            # ms a list, measured: a backspace's frame waited behind one of gen 0 and one of
            # gen 1). Frozen now, before collection resumes and before the frame that shows them
            # allocates its way into such collections.
            if _freeze_heap():  # a sweep once this table has been idle a while: each job puts it off
                if self._sweep_timer is not None:
                    self._sweep_timer.stop()
                self._sweep_timer = self.set_timer(SWEEP_IDLE_SECONDS, self._sweep_when_idle)
        self._let_collection_go()
        self._job = None
        self._worker = self._steps = None
        self._post_view_changed()
        self._wake_waiters()

    def _sweep_when_idle(self) -> None:
        """The frozen garbage collected, `SWEEP_IDLE_SECONDS` after this table's last job ended
        (each job's end puts it off), unless work is under way (it waits for the next job's end)."""
        self._sweep_timer = None
        if self._job is None and sweep_due():
            sweep_heap()

    def _wake_waiters(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _post_view_changed(self, throttle: bool = False) -> None:
        now = perf_counter()
        if throttle and now - self._progress_at < PROGRESS_INTERVAL:
            return
        self._progress_at = now
        self.post_message(self.ViewChanged(self))

    def _request_view(self) -> int | None:
        """Show the requested filter and sort (now for a small table, else in slices); the
        number of rows shown, or None while that work is under way."""
        if self._taking_rows:
            return None  # set_rows shows the latest request once it has every row
        sorting = not self._order_ok or (self._sort_column, self._sort_reverse) != (
            self._view_column,
            self._view_reverse,
        )
        job = "sort" if sorting and self._sort_column is not None else "filter"
        self._run(job, self._view_steps(), now=len(self._rows) <= self.sync_rows)
        return None if self._job is not None else len(self._view)

    def _load_steps(self, source: Iterator[Row]) -> Steps:
        """set_rows' work: take the rows in, showing them as they come when unsorted (the first
        slice, sorted, when sorted), then show the latest filter and sort over all of them."""
        keep, column = self._filter, self._sort_column
        rows = self._rows
        total = self._load_total
        complete = column is None  # the view holds every row taken in (filtered)
        taken = 0
        chunk = list(islice(source, SLICE_ROWS))
        while chunk or self._queued:
            if not chunk:
                chunk, self._queued = self._queued, []  # appended meanwhile: after the rows given
            before = len(rows)
            for row in chunk:
                rows[row.key] = row
            if len(rows) - before != len(chunk):
                complete = False  # a key came again: its row replaced one already shown
            _taken_in(len(chunk))
            if self._measure(self._load_sample(chunk, taken, total)):
                self._layout_changed()
            if complete:
                self._view += run_now(filter_rows(chunk, keep))
            elif not taken and column is not None:  # something to look at while the rest comes
                keys = run_now(plan_sort(chunk, column, self._column_index(column), self._order_of(column)))
                try:
                    ordered = run_now(sort_rows(chunk, keys, self._sort_reverse))[0]
                except TypeError:
                    ordered = chunk
                self._view = run_now(filter_rows(ordered, keep))
            taken += len(chunk)
            self._after_load_slice()
            # One slice read ahead: a generator that ends here (a small table) is taken in at
            # once, without building rows in advance only to learn how many there are.
            chunk = list(islice(source, SLICE_ROWS))
            if chunk or self._queued:
                yield
        self._taking_rows = False
        self._load_total = None
        self._view_filter = keep
        self._view_column, self._view_reverse = None, False
        self._order_ok = True
        self._view_ok = complete
        if complete and (self._filter, self._sort_column) == (keep, None):
            self._after_view_change(self._take_keep_key(), scroll=True)
            return
        self._job = "sort" if self._sort_column is not None else "filter"
        yield from self._view_steps()

    def _load_sample(self, chunk: list[Row], offset: int, total: int | None) -> Sequence[Row]:
        """The rows of `chunk` (rows `offset`.. of a load of `total`) that `_sample` would
        measure of the whole load: the first MEASURE_SAMPLE, about as many spread over the rest,
        the last. Without a total, one row in 40 after the first MEASURE_SAMPLE."""
        count = MEASURE_SAMPLE
        if total is not None and total <= 2 * count:
            return chunk
        step = max(1, (total - count) // count) if total is not None else 40
        head = chunk[: max(0, count - offset)]
        start = max(offset, count)
        first = start + (-(start - count)) % step
        spread = chunk[first - offset :: step]
        last = [chunk[-1]] if total is not None and offset + len(chunk) == total else []
        return [*head, *spread, *last]

    def _after_load_slice(self) -> None:
        """After each slice of a load: the cursor on its row when that row has come, else at
        its index (as far as the rows go); counts and the scroll size follow."""
        self._update_virtual_size()
        key = self._keep_key
        index = None
        if key is not None and (row := self._rows.get(key)) is not None:
            index = self._position(row)
            if index is not None:
                self._keep_key = None
                self._keep_index = index
        target = self.validate_cursor_row(self._keep_index if index is None else index)
        if target != self.cursor_row:
            self.set_reactive(VirtualTable.cursor_row, target)
        if index is not None:
            self._scroll_cursor_into_view()
        self.refresh()
        self._check_highlight()
        self._post_view_changed(throttle=True)

    def _take_keep_key(self) -> str | None:
        """The row key the cursor should be kept on when the view changes now."""
        key, self._keep_key = self._keep_key, None
        return key if key is not None else self.current_key

    def _view_steps(self) -> Steps:
        """Bring the view to the requested filter and sort, from what it shows now where that
        saves work: the sorted rows and their keys are kept (the other direction sorts the kept
        keys again), a result made before for this filter is shown again, and a filter that only
        grew filters the smallest result that holds its rows. Rows appended meanwhile are taken
        in at the end (typed values that do not compare, or new rows that need other keys: it
        starts again)."""
        text_only: str | None = None  # a column whose typed values did not compare
        while True:
            keep = self._filter
            column, reverse = self._sort_column, self._sort_reverse
            pending = len(self._unshown)
            kept = self._order_ok and self._view_column == column  # the sorted rows (either way)
            same_sort = kept and self._view_reverse == reverse
            keys = self._keys if column is not None else None
            if keys is not None and (keys.column != column or (column == text_only and keys.typed)):
                keys = None
            again = False
            try:
                ordered: list[Row] | None = None
                texts: list[str] = []
                values: list[Any] = []
                if column is None:
                    rows = list(self._rows.values())  # in the order they came: side by side in memory
                    yield
                else:
                    if kept and keys is not None and pending * 4 <= len(self._rows):
                        assert self._ordered is not None
                        points = insertion_points(self._ordered_keys, self._unshown[:pending], keys, self._view_reverse)
                        ordered = splice(self._ordered, points)
                        values = splice(self._ordered_keys, points, 2)
                        texts = splice_texts(self._ordered_texts, points)
                        if not same_sort:  # the other direction: the kept keys, sorted again
                            ordered, values = yield from sort_rows(ordered, keys, reverse, values)
                            texts = yield from rehome_texts(ordered)
                    else:
                        same_sort = False
                        all_rows = list(self._rows.values())
                        if keys is None:
                            keys = yield from plan_sort(
                                all_rows,
                                column,
                                self._column_index(column),
                                None if column == text_only else self._order_of(column),
                                text=column == text_only,
                            )
                        ordered, values = yield from sort_rows(all_rows, keys, reverse)
                        texts = yield from rehome_texts(ordered)
                    rows = ordered
                base = self._filter_base(keep) if same_sort and not pending else None
                if base is not None and not base[1] and ordered is not None and len(base[0]) * 4 > len(ordered):
                    base = None  # filtering every row through the texts side by side is quicker
                if base is not None:
                    found, exact = base
                    view = found if exact else (yield from filter_rows(found, keep))
                elif not keep and ordered is not None:
                    view = ordered  # unfiltered: the sorted rows themselves, not a copy
                else:
                    view = yield from filter_rows(rows, keep, texts if ordered is not None else None)
                taken = pending
                while late := self._unshown[taken:]:  # appended while this ran
                    taken += len(late)
                    if keys is None or ordered is None:
                        view = [*view, *run_now(filter_rows(late, keep))]
                        continue
                    if not keys.admit(late):
                        again = True  # they need other keys: start again with every row
                        break
                    points = insertion_points(values, late, keys, reverse)
                    ordered = splice(ordered, points)
                    values = splice(values, points, 2)
                    texts = splice_texts(texts, points)
                    view = ordered if not keep else (yield from filter_rows(ordered, keep, texts))
            except TypeError:
                if column is None or text_only == column:
                    raise
                text_only = column  # typed values that do not compare: sort this column by its text
                self._keys = None
                continue
            if again:
                self._keys = None
                continue
            cursor_key = self._take_keep_key()
            if taken or not same_sort:
                self._filter_cache.clear()  # made over other rows, or in another order
            self._view = view
            self._ordered, self._ordered_texts, self._ordered_keys = ordered, texts, values
            if keys is not None:
                self._keys = keys
            self._unshown = []
            self._filter_cache.pop(keep, None)
            self._filter_cache[keep] = view
            while len(self._filter_cache) > FILTER_CACHE_SIZE:
                del self._filter_cache[next(iter(self._filter_cache))]
            self._view_filter = keep
            self._view_column, self._view_reverse = column, reverse
            self._order_ok = self._view_ok = True
            self._after_view_change(cursor_key, scroll=True)
            return

    def _filter_base(self, keep: RowFilter) -> tuple[list[Row], bool] | None:
        """The fewest rows to filter for this filter: a result already made for it (True), or
        the smallest result made for a filter that keeps all its rows (False); None: all rows.
        Results are kept until a row or the order changes: a backspace finds its answer made."""
        exact = self._filter_cache.get(keep)
        if exact is not None:
            return exact, True
        candidates = [rows for old, rows in self._filter_cache.items() if old.holds(keep)]
        if self._view_ok and self._view_filter.holds(keep):
            candidates.append(self._view)
        return (min(candidates, key=len), False) if candidates else None

    def _order_of(self, column: str) -> Callable[[Row], Any] | None:
        return self._columns[self._column_index(column)].order

    # ----------------------------------------------------------------- marks

    @property
    def mark_count(self) -> int:
        """How many of the rows held are marked."""
        rows = self._rows
        return sum(1 for key in self._marks if key in rows)

    def is_marked(self, key: str) -> bool:
        return key in self._marks and key in self._rows

    def shown_rows(self, marked_only: bool = False) -> list[Row]:
        """The rows shown, in the order shown (a copy); only the marked ones when `marked_only`."""
        if marked_only:
            marks = self._marks
            return [row for row in self._view if row.key in marks]
        return list(self._view)

    def marked_rows(self) -> list[Row]:
        """The marked rows: those shown in the order shown, then the ones the filter hides."""
        marks, rows = self._marks, self._rows
        if not marks:
            return []
        shown = [row for row in self._view if row.key in marks]
        seen = {row.key for row in shown}
        return shown + [rows[key] for key in marks if key in rows and key not in seen]

    def toggle_mark(self, key: str) -> bool:
        """Mark the row `key`, or unmark it if it was marked; whether it is marked now."""
        if key in self._marks:
            del self._marks[key]
            marked = False
        elif key in self._rows:
            self._marks[key] = None
            marked = True
        else:
            return False
        self._repaint_marks([key])
        return marked

    def mark_keys(self, keys: Iterable[str]) -> None:
        """Mark these rows (keys the table does not hold are left out)."""
        rows, marks = self._rows, self._marks
        keys = [key for key in keys if key in rows and key not in marks]
        marks.update(dict.fromkeys(keys))
        self._repaint_marks(keys)

    def unmark_keys(self, keys: Iterable[str]) -> None:
        marks = self._marks
        keys = [key for key in keys if key in marks]
        for key in keys:
            del marks[key]
        self._repaint_marks(keys)

    def clear_marks(self) -> int:
        """Unmark every row; how many were marked."""
        count = self.mark_count
        keys, self._marks = list(self._marks), {}
        self._repaint_marks(keys)
        return count

    def prune_marks(self) -> None:
        """Forget the marks of rows the table no longer holds (after a reload)."""
        rows = self._rows
        self._marks = {key: None for key in self._marks if key in rows}

    def _repaint_marks(self, keys: list[str]) -> None:
        if len(keys) > 8 or self._line_starts is not None:
            self._strip_cache.clear()
            self.refresh()
            return
        for key in keys:
            self._forget_row(key)
            row = self._rows.get(key)
            index = self._position(row) if row is not None else None
            if index is not None:
                self.refresh_line(index + 1)

    # ---------------------------------------------------------------- filter

    def set_filter(self, text: str) -> int | None:
        """Show only the rows the filter `text` keeps (tui.widgets.table_rows.parse_filter):
        text matches any cell, case-insensitively; `~REGEX` a regular expression; `COLUMN:VALUE`
        one column (by key or label); a leading `!` inverts. Empty text (or a lone `!`) shows
        every row. Returns the number of visible rows, or None when a large table is still
        filtering (`ViewChanged` follows).

        Raises FilterError (a regex that does not compile, a column that does not exist), and
        then keeps the filter it had.
        """
        text = text or ""
        keep = parse_filter(text, self._filter_columns())
        self._filter_text = text
        if keep == self._filter:
            return None if self._job is not None else len(self._view)
        self._filter = keep
        return self._request_view()

    def _filter_columns(self) -> list[tuple[str, str]]:
        return [(column.key, column.label) for column in self._columns]

    def _matches(self, row: Row) -> bool:
        """Whether the view's filter shows `row`."""
        return self._view_filter.matches(row)

    # ------------------------------------------------------------------ sort

    def sort_by(self, column_key: str | None, reverse: bool = False) -> None:
        """Sort the rows by a column (None: back to insertion order).

        By the column's typed values when it has them (`Column.order`, or `Row.order` on every
        row); else numbers compare as numbers, text case-insensitively with digit runs compared
        as numbers. Empty cells and None values last (in both directions). Stable: equal cells
        keep insertion order. A large table sorts in slices (the header shows the new order at
        once, the rows when they are sorted).
        """
        if column_key is not None and column_key not in self._column_keys():
            raise KeyError(f"no column with key {column_key!r}")
        reverse = bool(reverse) if column_key is not None else False
        if column_key == self._sort_column and reverse == self._sort_reverse:
            return
        self._sort_column = column_key
        self._sort_reverse = reverse
        self._header_strip = None
        self.refresh()
        self._request_view()
        self.post_message(self.SortChanged(self, column_key, reverse))

    def cycle_sort(self) -> None:
        """Sort by the next column: none → first → ... → last → none."""
        keys = self._column_keys()
        if not keys:
            return
        if self._sort_column is None:
            self.sort_by(keys[0])
            return
        position = keys.index(self._sort_column) + 1
        self.sort_by(keys[position] if position < len(keys) else None)

    def toggle_sort_direction(self) -> None:
        """Flip ascending/descending on the sorted column (no-op when unsorted)."""
        if self._sort_column is not None:
            self.sort_by(self._sort_column, not self._sort_reverse)

    # ---------------------------------------------------------------- cursor

    def move_cursor_to_key(self, key: str) -> bool:
        """Put the cursor on the row `key`. False if that row is not visible."""
        index = self.index_of(key)
        if index is None:
            return False
        self.cursor_row = index
        return True

    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, len(self._view) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._keep_key = None  # moved on purpose: a load in progress no longer puts it back
        self._keep_index = new
        if self._line_starts is None:
            self.refresh_line(old + 1)
            self.refresh_line(new + 1)
        else:
            self.refresh()
        self._scroll_cursor_into_view()
        self._check_highlight()

    def watch_zebra_stripes(self) -> None:
        self._strip_cache.clear()
        self.refresh()

    def _check_highlight(self) -> None:
        row = self.current_row
        key = None if row is None else row.key
        if key != self._highlighted_key:
            self._highlighted_key = key
            if row is not None:
                self.post_message(self.RowHighlighted(self, row))

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_cursor_page_up(self) -> None:
        self.cursor_row -= self._page_height()

    def action_cursor_page_down(self) -> None:
        self.cursor_row += self._page_height()

    def action_cursor_first(self) -> None:
        self.cursor_row = 0

    def action_cursor_last(self) -> None:
        self.cursor_row = len(self._view) - 1

    def action_select_cursor(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.RowSelected(self, row))

    def _scroll_cursor_into_view(self) -> None:
        if not self._view:
            return
        if not self.scrollable_content_region.height:
            # Not laid out yet (e.g. `move_cursor_to_key` right after mounting):
            # try once more after the next refresh.
            if not self._scroll_deferred:
                self._scroll_deferred = True
                self.call_after_refresh(self._deferred_scroll)
            return
        top, height = self._row_lines(self.cursor_row)
        region = Region(int(self.scroll_x), top + 1, 1, height)
        self.scroll_to_region(region, spacing=Spacing(1, 0, 0, 0), animate=False, force=True, x_axis=False)

    def _deferred_scroll(self) -> None:
        self._scroll_deferred = False
        if self.scrollable_content_region.height:
            self._scroll_cursor_into_view()

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            column_key = self._column_at(offset.x + int(self.scroll_x))
            if column_key is not None:
                if column_key == self._sort_column:
                    self.toggle_sort_direction()
                else:
                    self.sort_by(column_key)
            return
        index, _ = self._row_at_line(offset.y - 1 + int(self.scroll_y))
        if 0 <= index < len(self._view):
            self.cursor_row = index
            self.post_message(self.RowSelected(self, self._view[index]))

    def _column_at(self, x: int) -> str | None:
        start = 0
        for column, width in zip(self._columns, self._shown, strict=False):
            if width is None:
                continue
            end = start + width + self._gap
            if start <= x < end:
                return column.key
            start = end
        return None

    # ------------------------------------------------------------- internals

    def _column_keys(self) -> list[str]:
        return [column.key for column in self._columns]

    def _column_index(self, key: str) -> int:
        return self._column_keys().index(key)

    @staticmethod
    def _cell(row: Row, column: int) -> str:
        cells = row.cells
        return cells[column] if column < len(cells) else ""

    def _measure(self, rows: Sequence[Row], reset: bool = False) -> bool:
        """Grow auto column widths to fit `rows`; True if any width changed."""
        changed = False
        widths = self._widths
        for position, column in enumerate(self._columns):
            if column.width is not None:
                width = max(0, column.width)
            else:
                # Room for the label plus " ▲".
                width = cell_len(column.label) + 2
                if not reset:
                    width = max(width, widths[position])
                if rows:
                    width = max(
                        width,
                        max(
                            _measure(cells[position]) if position < len(cells) else 0
                            for cells in (row.cells for row in rows)
                        ),
                    )
                width = max(1, min(width, max(column.max_width, 1)))
            if widths[position] != width:
                widths[position] = width
                changed = True
        return changed

    def _layout_changed(self) -> None:
        self._fit_key = None  # the columns or what they want changed: fit them again
        self._strip_cache.clear()
        self._header_strip = None
        self._update_virtual_size()
        self.refresh()

    def on_resize(self) -> None:
        self._update_virtual_size()

    def on_unmount(self) -> None:
        self._cancel_work()  # its worker goes with the table; nobody waits for it any more

    def _update_virtual_size(self) -> None:
        lines = self._line_count if self._line_starts is not None else len(self._view)
        for _ in range(2):  # the vertical scrollbar takes width, and wrapping at less width adds lines
            available = self._available_width(lines)
            self._fit_columns(available)
            lines = self._count_lines()
            if self._available_width(lines) == available:
                break
        self.virtual_size = Size(self._content_width, 1 + max(1, lines))

    def _available_width(self, lines: int) -> int:
        """The cells the columns can have (0: not laid out yet, no limit)."""
        width, height = self.size
        overflow = self.styles.overflow_y
        if width and (overflow == "scroll" or (overflow == "auto" and lines + 1 > height)):
            width -= self.styles.scrollbar_size_vertical
        return max(0, width)

    def _fit_columns(self, available: int) -> None:
        """Give each column its width at `available` cells (see the module docstring)."""
        key = (available, tuple(self._widths))
        if key == self._fit_key:
            return
        self._fit_key = key
        columns = self._columns
        shown: list[int | None] = list(self._widths)
        gap = 2 if not available or _row_width(shown, 2) <= available else 1
        giving_way = sorted(
            (i for i, column in enumerate(columns) if column.priority > 1), key=lambda i: (-columns[i].priority, -i)
        )
        for i in giving_way:  # each gives way wholly (shrinks to its floor, else goes) before the next
            width = shown[i]
            over = _row_width(shown, gap) + (len(DROPPED_MARKER) if None in shown else 0) - available
            if not available or over <= 0:
                break
            if width is None:
                continue
            floor = columns[i].floor(width)
            shown[i] = width - over if width - over >= floor else None
        if shown != self._shown or gap != self._gap:
            self._shown, self._gap = shown, gap
            dropped = len(DROPPED_MARKER) if None in shown else 0
            self._content_width = _row_width(shown, gap) + dropped
            self._strip_cache.clear()
            self._header_strip = None
            self.refresh()

    def _wrapping(self) -> list[int]:
        """Positions of the shown columns that wrap."""
        return [i for i, (c, w) in enumerate(zip(self._columns, self._shown, strict=False)) if c.wrap and w]

    def _count_lines(self) -> int:
        """Lines the visible rows take (more than one row each only with wrap columns)."""
        wrapping = self._wrapping()
        if not wrapping:
            self._line_starts = None
            self._line_count = len(self._view)
            return self._line_count
        starts, total, shown = [], 0, self._shown
        for row in self._view:
            starts.append(total)
            total += max(len(_wrap(self._cell(row, i), shown[i] or 1)) for i in wrapping)
        self._line_starts, self._line_count = starts, total
        return total

    def _row_lines(self, index: int) -> tuple[int, int]:
        """The first line of the visible row `index`, and how many lines it takes."""
        starts = self._line_starts
        if starts is None or index >= len(starts):
            return index, 1
        end = starts[index + 1] if index + 1 < len(starts) else self._line_count
        return starts[index], end - starts[index]

    def _row_at_line(self, line: int) -> tuple[int, int]:
        """The visible row drawn on body line `line`, and which of its lines it is."""
        starts = self._line_starts
        if starts is None:
            return line, 0
        if line >= self._line_count:
            return len(self._view), 0
        index = bisect_right(starts, line) - 1
        return index, line - starts[index]

    def _forget_row(self, key: str) -> None:
        cache = self._strip_cache
        if self._line_starts is not None:
            cache.clear()  # its lines may be more or fewer now
            return
        for parity in (0, 1):
            for cursor in (False, True):
                for marked in (False, True):
                    cache.pop((key, parity, cursor, 0, marked), None)

    def _after_view_change(self, cursor_key: str | None, scroll: bool) -> None:
        self._strip_cache.clear()
        self._update_virtual_size()
        row = self._rows.get(cursor_key) if cursor_key is not None else None
        # A row the filter drops is in no view: not looked for through every row shown.
        index = self._position(row) if row is not None and self._matches(row) else None
        if index is None:
            index = self.cursor_row
        self.set_reactive(VirtualTable.cursor_row, self.validate_cursor_row(index))
        if scroll:
            self._scroll_cursor_into_view()
        self.refresh()
        self._check_highlight()

    # ------------------------------------------------------------- rendering

    def _invalidate_styles(self) -> None:
        self._style_cache.clear()
        self._named_styles.clear()
        self._strip_cache.clear()
        self._header_strip = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._invalidate_styles()

    def _on_focus(self, event: events.Focus) -> None:
        self._invalidate_styles()

    def _on_blur(self, event: events.Blur) -> None:
        self._invalidate_styles()

    def _overlay(self, component: str) -> Style:
        """The style a component class sets itself (colours resolved against
        the widget's background), to draw over other styles."""
        full = self.get_component_rich_style(component)
        own = self.get_component_rich_style(component, partial=True)
        return (
            Style(
                color=full.color if own.color is not None else None,
                bgcolor=full.bgcolor if own.bgcolor is not None else None,
            )
            + own.without_color
        )

    def _named_style(self, name: str) -> Style:
        """Cached styles: "base" (the widget), "header", "header-sorted", "empty"."""
        style = self._named_styles.get(name)
        if style is None:
            if name == "base":
                style = self.rich_style
            elif name == "header-sorted":
                style = self._named_style("header") + self._overlay("virtual-table--header-sorted")
            else:
                style = self._named_style("base") + self._overlay(f"virtual-table--{name}")
            self._named_styles[name] = style
        return style

    def _row_style(self, parity: int, style_name: str, cursor: bool, marked: bool = False) -> Style:
        cache_key = (parity, style_name, cursor, marked)
        style = self._style_cache.get(cache_key)
        if style is not None:
            return style
        style = self._named_style("base")
        if parity:
            style += self._overlay("virtual-table--stripe")
        if marked:
            style += self._overlay("virtual-table--marked")
        if style_name:
            component = f"virtual-table--row-{style_name}"
            if component in self.COMPONENT_CLASSES:
                style += self._overlay(component)
            else:
                try:
                    style += Style.parse(style_name)
                except StyleSyntaxError:
                    pass
        if cursor:
            style += self._overlay("virtual-table--cursor")
        self._style_cache[cache_key] = style
        return style

    def _render_header(self) -> Strip:
        strip = self._header_strip
        if strip is not None:
            return strip
        header_style = self._named_style("header")
        sorted_style = self._named_style("header-sorted")
        segments: list[Segment] = [Segment(" ", header_style)] if self._shown else []
        separator = Segment(" " * self._gap, header_style)
        for column, width in zip(self._columns, self._shown, strict=False):
            if width is None:
                continue
            if len(segments) > 1:
                segments.append(separator)
            right = column.justify == "right"
            if column.key == self._sort_column:
                arrow = SORT_DESCENDING if self._sort_reverse else SORT_ASCENDING
                if width >= 3:
                    label = _fit(column.label, width - 2, False).rstrip() + " " + arrow
                    text = _fit(label, width, right)
                else:
                    text = _fit(arrow, width, right)
                segments.append(Segment(text, sorted_style))
            else:
                segments.append(Segment(_fit(column.label, width, right), header_style))
        if len(segments) > 1:
            segments.append(Segment(" " + (DROPPED_MARKER if None in self._shown else ""), header_style))
        strip = Strip(segments, self._content_width)
        self._header_strip = strip
        return strip

    def _render_row(self, index: int, line: int = 0) -> tuple[Strip, Style]:
        """Line `line` of the visible row `index` (rows take more than one only with wrap columns)."""
        row = self._view[index]
        parity = index & 1 if self.zebra_stripes else 0
        cursor = index == self.cursor_row
        marked = row.key in self._marks
        cache_key = (row.key, parity, cursor, line, marked)
        cached = self._strip_cache.get(cache_key)
        if cached is not None:
            return cached
        style = self._row_style(parity, row.style, cursor, marked)
        cells = row.cells
        count = len(cells)
        shown = [
            (cells[position] if position < count else "", width, column)
            for position, (column, width) in enumerate(zip(self._columns, self._shown, strict=False))
            if width is not None
        ]
        wrapped = [_wrap(text, width) if column.wrap else [text] for text, width, column in shown]
        height = max((len(texts) for texts in wrapped), default=1)
        if len(self._strip_cache) >= STRIP_CACHE_SIZE:
            self._strip_cache.clear()
        tail = " " * len(DROPPED_MARKER) if None in self._shown else ""
        separator = " " * self._gap
        for at in range(height):
            parts = [
                _fit(texts[at] if at < len(texts) else "", width, column.justify == "right")
                for texts, (_, width, column) in zip(wrapped, shown, strict=True)
            ]
            lead = MARK if marked and not at else " "
            text = lead + separator.join(parts) + " " + tail if parts else ""
            strip = Strip([Segment(text, style)] if text else [], self._content_width)
            self._strip_cache[(row.key, parity, cursor, at, marked)] = (strip, style)
        return self._strip_cache.get(cache_key) or (Strip([], self._content_width), style)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x = int(self.scroll_x)
        if y == 0:
            return self._render_header().crop_extend(scroll_x, scroll_x + width, self._named_style("header"))
        if not self._view:
            if y != 1:
                return Strip.blank(width, self._named_style("base"))
            message = self.busy_text or (self.no_match_text if self._rows else self.empty_text)
            text = _fit(f" {message}", width, False)
            return Strip([Segment(text, self._named_style("empty"))], width)
        index, line = self._row_at_line(y - 1 + int(self.scroll_y))
        if index >= len(self._view):
            return Strip.blank(width, self._named_style("base"))
        strip, style = self._render_row(index, line)
        return strip.crop_extend(scroll_x, scroll_x + width, style)
