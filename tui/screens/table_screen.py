"""The frame every list screen shares: header, title bar, a filter box, one VirtualTable, footer.

It owns the verbs that behave the same everywhere (`/` filter as you type: text, `!` inverts,
`~regex`, `column:value`; `esc` clears; `o`/`O` order by and reverse; their keys are TABLE_KEYS),
marks (space, ctrl+space, ctrl+\\) and what acts on the marked rows: a bulk change runs each
marked row through the screen's own one-row path (`run_bulk`, tui/bulk.py), and `ctrl+s` / `C`
export or copy the rows shown (MARK_KEYS). record_list_keys places them after the screen's own
verbs; a screen adds its table, its title and its own verbs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding, BindingType, NoBinding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input

from tui.keymap import bindings_of
from tui.screens.access import AppAccess
from tui.widgets.footer import AppFooter
from tui.widgets.literal import FilterInput, LiteralBar, LiteralLabel
from tui.widgets.virtual_table import FilterError, Row, VirtualTable
from tui.wording import plural

if TYPE_CHECKING:
    from textual.widget import AwaitMount

    from providers.outcomes import WriteOutcome
    from tui.bulk import BulkReport

# The keys the filter box answers to itself (Textual's Input: ctrl+d deletes to the right, ...).
_INPUT_KEYS = frozenset(binding.key for binding in Binding.make_bindings(Input.BINDINGS))
FILTER_PLACEHOLDER = "filter: text in any column · !text inverts · ~regex · column:value · esc clears"
#: Rows `C` copies as CSV at most: terminals drop a larger OSC 52 payload anyway.
COPY_ROWS = 500

# The keys of TableScreen's own filter and order verbs, the same on every list.
TABLE_KEYS: list[BindingType] = [
    Binding(
        "slash",
        "filter",
        "Filter",
        key_display="/",
        id="table.filter",
        tooltip="as you type: text, !inverted, ~regex, column:value",
        # Priority: focus moves before the next key is read, so "/office" typed fast filters
        # by "office" instead of sending "o" to the table (see tui/screens/dialog.py).
        priority=True,
    ),
    Binding("o", "sort", "Order by", id="table.sort"),
    Binding("O", "reverse_sort", "Reverse", key_display="O", id="table.reverse_sort"),
]

# Marks, and what acts on the rows shown. Not on the footer (a full one cuts them anyway): `?`
# lists them, and the title says how many rows are marked. The mark keys are priority keys, as
# the verbs that act on the marks are (ctrl+d, ctrl+s): the app runs priority keys as they come,
# and any other key only after it has passed through the table and the screen, so "space space
# ctrl+d" typed fast would otherwise ask about no marked row. (check_action lets them through as
# text while the filter box has focus.)
MARK_KEYS: list[BindingType] = [
    Binding(
        "space", "mark", "Mark/unmark", show=False, id="table.mark", tooltip="for a verb on many rows", priority=True
    ),
    # A terminal sends ctrl+space as NUL, which Textual names ctrl+@; the kitty keyboard protocol
    # names it ctrl+space.
    Binding(
        "ctrl+@,ctrl+space",
        "mark_all",
        "Mark all shown",
        key_display="^space",
        show=False,
        id="table.mark_all",
        tooltip="again to unmark them",
        priority=True,
    ),
    Binding(
        "ctrl+backslash",
        "clear_marks",
        "Clear marks",
        key_display="^\\",
        show=False,
        id="table.clear_marks",
        priority=True,
    ),
    Binding(
        "ctrl+s",
        "export",
        "Export",
        show=False,
        id="table.export",
        tooltip="the rows shown, or the marked ones, to a file",
        priority=True,  # as opens_on_top: what is typed next lands in the prompt
    ),
    Binding(
        "C",
        "copy_csv",
        "Copy as CSV",
        key_display="C",
        show=False,
        id="table.copy_csv",
        tooltip="the rows shown, or the marked ones",
    ),
]


def record_list_keys(screen: str, *verbs: Binding) -> list[BindingType]:
    """The keys of a screen that lists records: enter for a row's detail, r to refresh, the
    screen's own `verbs`, c to copy a row's id (each id is `<screen>.<action>`), then the filter
    and order keys: the footer shows them in this order, so a narrow one keeps the verbs."""
    return [
        Binding("enter", "detail", "Detail", show=False, id=f"{screen}.detail"),
        Binding("r", "refresh", "Refresh", id=f"{screen}.refresh"),
        *verbs,
        Binding("c", "copy_id", "Copy id", id=f"{screen}.copy_id"),
        *TABLE_KEYS,
        *MARK_KEYS,
    ]


def opens_on_top(key: str, action: str, label: str, *, id: str) -> Binding:
    """The key of a verb that opens a form or a dialog. Priority, as "/" is: the app runs the verb
    (which waits for the new screen to mount) before it reads the next key, so what is typed
    right after `n` lands in the form instead of the list. TableScreen.check_action lets such a
    key through as text while an input (the filter) has focus."""
    return Binding(key, action, label, id=id, priority=True)


def change_keys(
    screen: str, *, create: tuple[str, str], edit: tuple[str, str], remove: tuple[str, str]
) -> list[Binding]:
    """The same three keys on every list screen: n creates, e changes, ctrl+d removes (which asks
    first). Each verb is (action, label); ids are `<screen>.<action>`."""
    keys = zip(("n", "e", "ctrl+d"), (create, edit, remove), strict=True)
    return [opens_on_top(key, action, label, id=f"{screen}.{action}") for key, (action, label) in keys]


class BulkProgress(Horizontal):
    """What a bulk change has done so far, over the footer while it runs."""

    DEFAULT_CSS = """
    BulkProgress {
        height: 1;
        background: $boost;
        padding: 0 1;
    }
    BulkProgress LiteralLabel {
        width: auto;
        padding-right: 2;
    }
    """

    def __init__(self, doing: str, total: int) -> None:
        super().__init__(id="bulk-progress")
        self.doing, self.total = doing, total

    def compose(self) -> ComposeResult:
        from textual.widgets import ProgressBar

        yield LiteralLabel(f"{self.doing} 0 of {self.total} · esc stops", id="bulk-label")
        yield ProgressBar(total=self.total, show_eta=False, id="bulk-bar")

    def show(self, settled: int, *, stopping: bool = False) -> None:
        from textual.widgets import ProgressBar

        after = " · stopping once the writes in flight settle" if stopping else " · esc stops"
        self.query_one("#bulk-label", LiteralLabel).update(f"{self.doing} {settled} of {self.total}{after}")
        self.query_one("#bulk-bar", ProgressBar).update(progress=settled)


class TableScreen(AppAccess, Screen[None]):
    # Its visible keys (TABLE_KEYS) come after each screen's own, through record_list_keys.
    BINDINGS = [
        Binding(
            "escape",
            "escape",
            "Clear the filter, then the marks; stop a bulk change",
            show=False,
            id="table.clear_filter",
        )
    ]

    # What the warning calls the row when a verb needs one and the cursor is on none.
    row_noun = "row"
    # What an export file is named after ("allowlist-20260105T120000Z.csv").
    export_name = "rows"

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        # Set while a bulk change runs (esc sets it: no further row is started).
        self._bulk_stop: asyncio.Event | None = None
        self._bulk_settled = 0
        # Row key -> why the last change of that row failed (its row is shown in the error
        # style and its detail says why), until a change of it is done or the list is reloaded.
        self.row_problems: dict[str, str] = {}
        # The filter box once made (after this screen's first frame: see _add_filter_box), and
        # its mount, which every caller awaits (a second caller must not find it half-mounted).
        self._filter_box: FilterInput | None = None
        self._filter_box_mount: AwaitMount | None = None
        # The characters typed after a '/' that came before the box was mounted (typed ahead
        # while the app started), for the box once it is; None when no such '/' is waiting.
        self._typed_ahead: list[str] | None = None

    progress = ""  # what a running load says about itself ("loading page 3 ..."), "" when idle
    # The verbs that change something at the provider: hidden while the session is read-only.
    CHANGE_VERBS: ClassVar[frozenset[str]] = frozenset()

    def why_unavailable(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Why `action` cannot run here now, or None. A verb with a reason is left out of the
        footer, and its key says the reason instead of doing nothing."""
        session = self.teledeck.session
        if action in self.CHANGE_VERBS and session.read_only:
            return f"{session.read_only_reason.capitalize()}: changes are refused here. Nothing was sent."
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, Input) or self._typed_ahead is not None
        if typing and action in self._typed_actions():
            return False  # "/" or "n" typed into the filter (a CIDR, a name) is text, not a verb
        return self.why_unavailable(action, parameters) is None

    def _typed_actions(self) -> frozenset[str]:
        """The priority verbs whose key the filter box takes: a character ("/", "n", space) or
        one of its own keys (ctrl+d deletes to the right). The others (ctrl+s, ctrl+space) act
        from the box too: "/status:pending ctrl+space" marks the pending rows."""
        return frozenset(
            parse(binding.action)[1]
            for key, bindings in self._bindings.key_to_bindings.items()
            for binding in bindings
            if binding.priority and (not key.startswith("ctrl+") or key in _INPUT_KEYS)
        )

    def on_key(self, event: events.Key) -> None:
        """A key whose verb is unavailable says why (check_action hid it, so nothing else will).
        Text typed after a '/' that came before the filter box was mounted is kept for the box."""
        if self._typed_ahead is not None and event.is_printable and event.character:
            self._typed_ahead.append(event.character)
            event.stop()
            event.prevent_default()
            return
        try:
            bound = bindings_of(self).get_bindings_for_key(event.key)  # as config.toml's [keymap] has it
        except NoBinding:
            return
        for binding in bound:
            _, action, parameters = parse(binding.action)
            reason = self.why_unavailable(action, parameters)
            if reason:
                event.stop()
                self.notify(reason, severity="warning", markup=False)
                return

    def _compositor_refresh(self) -> None:
        # Textual renders the start screen once inside its start-up batch and then drops the
        # frame (App._display writes nothing while a batch is open): ~35-60 ms of rendering
        # before the first frame that reaches the terminal. Not rendering it leaves the screen
        # dirty, so the first frame after the batch is the full one, with the rows.
        # (Textual is pinned below 9 in pyproject.toml; tests/tui/test_startup.py checks the
        # first frame written has rows.)
        if self.app._batch_count:
            return
        super()._compositor_refresh()

    def make_table(self) -> VirtualTable:
        raise NotImplementedError

    def update_title(self) -> None:
        raise NotImplementedError

    def show_title_bar(self, parts: list[str], *, sort_label: str | None, problem: str) -> None:
        """The title bar: the screen's own `parts`, then the order, progress and any problem."""
        table = self.table
        marked = table.mark_count
        if marked:
            parts.append(f"{marked} marked")
        if table.sort_column:
            parts.append(f"sorted by {sort_label} {'▼' if table.sort_reverse else '▲'}")
        if self.progress:
            parts.append(self.progress)
        if table.busy_text:  # a large table loading, filtering or sorting in slices
            parts.append(table.busy_text)
        if problem:
            parts.append(f"⚠ {problem}")
        self.query_one("#title-bar", LiteralBar).update("  ·  ".join(parts))

    def current(self) -> Any | None:
        """The record under the cursor, or None."""
        key = self.table.current_key
        return self.record_for(key) if key is not None else None

    def record_for(self, key: str) -> Any | None:
        """The record the row `key` shows, or None."""
        raise NotImplementedError

    def describe(self, record: Any) -> str:
        """A record's name in a question or a notice."""
        return str(record)

    def action_detail(self) -> None:
        raise NotImplementedError

    def need_current(self) -> Any | None:
        """The record under the cursor; None, with a warning, when there is none."""
        record = self.current()
        if record is None:
            self.notify(f"No {self.row_noun} selected.", severity="warning")
        return record

    def refuse_change(self, doing: str) -> bool:
        """The guard before a change (True means refused, and said why): a bulk change under way
        (one at a time: its rows must not be sent twice), then the profile's read-only flag; a
        screen adds what else its changes need."""
        if self.bulk_running:
            self.notify("A change of many rows is under way: esc stops it.", severity="warning")
            return True
        return self.teledeck.refuse_if_read_only(doing)

    def current_to_change(self, doing: str) -> Any | None:
        """The record under the cursor, for a change; None (having said why) when the change is
        refused or no row is selected."""
        return None if self.refuse_change(doing) else self.need_current()

    @on(VirtualTable.RowSelected)
    def _row_selected(self, event: VirtualTable.RowSelected) -> None:
        self.action_detail()

    @on(VirtualTable.ViewChanged)
    def _view_changed(self, event: VirtualTable.ViewChanged) -> None:
        # A large table's rows came in, or its filter or sort finished: the counts changed.
        self.update_title()

    def compose(self) -> ComposeResult:
        yield self.teledeck.make_header()
        yield LiteralBar("", id="title-bar", classes="title-bar")
        yield self.make_table()
        yield AppFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.run_worker(self._add_filter_box(), group="filter-box")

    async def _add_filter_box(self) -> None:
        """The filter box and the problem line under it, mounted hidden (the box disabled) once
        this screen's first frame is out. An Input costs its stylesheet, its parts and their
        styles: made in compose, the first frame with rows waited for it (callgrind: 3% of the
        instructions of a start from the cache)."""
        await self.teledeck.started()
        await self.wait_for_refresh()
        if self._filter_box_mount is None:
            box = FilterInput(
                placeholder=FILTER_PLACEHOLDER,
                id="filter-input",
                classes="filter-input",
                on_edit=self._filter_edited,
                disabled=True,
            )
            box.display = False
            problem = LiteralLabel("", id="filter-problem", classes="field-error")
            problem.display = False
            self._filter_box = box
            self._filter_box_mount = self.mount(box, problem, before=self.table)
        await self._filter_box_mount

    def filter_box(self) -> FilterInput | None:
        """The filter box, or None in the moment before it is mounted."""
        box = self._filter_box
        return box if box is not None and box.is_mounted else None

    def _with_filter_box(self, then: Callable[[FilterInput], None]) -> None:
        """`then(box)` at once, inside this key's handling (a key typed next must find the focus
        where `then` put it), or once the box is mounted if it is not yet."""
        box = self.filter_box()
        if box is not None:
            then(box)
            return

        async def when_mounted() -> None:
            await self._add_filter_box()
            box = self.filter_box()
            if box is not None:
                then(box)

        self.run_worker(when_mounted(), group="filter-box")

    def _show_filter_box(self, shown: bool) -> None:
        # Hidden and disabled together, so keys never land in a box the user cannot see.
        box = self.filter_box()
        if box is None:
            return
        box.display = shown
        box.disabled = not shown
        if not shown:
            self._show_filter_problem("")

    def _show_filter_problem(self, problem: str) -> None:
        """What is wrong with the filter typed (under the box, whose border turns red); the
        table keeps the last filter that was good."""
        label = self.query_one("#filter-problem", LiteralLabel)
        label.update(f"⚠ {problem} (still showing the last good filter)" if problem else "")
        label.display = bool(problem)
        box = self.filter_box()
        if box is not None:
            box.set_class(bool(problem), "invalid")

    def show_filter(self, text: str) -> None:
        """Show the list filtered by `text` (`:allowlist !pending`): the box shows it, `/` edits it,
        and rows that arrive later (cached, then fresh) are filtered as they come."""
        self.table.set_filter(text)
        self.table.focus()
        self.update_title()

        def fill(box: FilterInput) -> None:
            self._show_filter_box(True)
            box.value = text
            box.cursor_position = len(text)

        self._with_filter_box(fill)

    def action_filter(self) -> None:
        if self.filter_box() is None and self._typed_ahead is None:
            # A '/' typed ahead while the app started: the keys behind it are kept (on_key)
            # until the box is there, then typed into it, as they would have been.
            self._typed_ahead = []

        def open_box(box: FilterInput) -> None:
            self._show_filter_box(True)
            # At once, not with Widget.focus (which waits its turn behind keys already typed).
            self.set_focus(box)
            typed, self._typed_ahead = self._typed_ahead, None
            if typed:
                box.insert_text_at_cursor("".join(typed))

        self._with_filter_box(open_box)

    def _filter_edited(self, text: str) -> None:
        try:
            self.table.set_filter(text)
        except FilterError as problem:
            self._show_filter_problem(str(problem))
            return
        self._show_filter_problem("")
        self.update_title()

    @on(Input.Submitted, "#filter-input")
    def _filter_done(self, event: Input.Submitted) -> None:
        if event.input.has_class("invalid"):
            return  # stays in the box to be fixed; the problem is said under it
        if not event.value:
            self._show_filter_box(False)
        self.table.focus()

    def action_escape(self) -> None:
        """esc: stop a bulk change under way; else clear the filter; else clear the marks."""
        if self.bulk_running:
            self.stop_bulk()
        elif not self.action_clear_filter() and self.table.mark_count:
            self.action_clear_marks()

    def action_clear_filter(self) -> bool:
        """Clear the filter and close its box; False when there was nothing to clear."""
        box = self.filter_box()
        if not ((box is not None and (box.value or box.display)) or self.table.filter_text):
            return False
        if box is not None:
            box.value = ""
            self._show_filter_box(False)
        self.table.set_filter("")
        self.table.focus()
        self.update_title()
        return True

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.update_title()

    def action_reverse_sort(self) -> None:
        if self.table.sort_column is None:
            self.notify("Nothing to reverse yet: press o to order by a column first.", severity="information")
            return
        self.table.toggle_sort_direction()
        self.update_title()

    # ---- marks ----------------------------------------------------------------------------

    def action_mark(self) -> None:
        """Mark or unmark the row under the cursor, and go to the next one (space space marks two)."""
        table = self.table
        key = table.current_key
        if key is None:
            self.notify(f"No {self.row_noun} to mark.", severity="warning")
            return
        table.toggle_mark(key)
        table.action_cursor_down()
        self.update_title()

    def action_mark_all(self) -> None:
        """Mark every row shown (after a filter, only those); if they all are, unmark them."""
        table = self.table
        keys = [row.key for row in table.shown_rows()]
        if keys and all(table.is_marked(key) for key in keys):
            table.unmark_keys(keys)
        else:
            table.mark_keys(keys)
        self.update_title()

    def action_clear_marks(self) -> None:
        count = self.table.clear_marks()
        self.update_title()
        if count:
            self.notify(f"{plural('mark', count)} cleared.", timeout=3)

    def marked_records(self) -> list[Any]:
        """The records of the marked rows (those shown first, in the order shown)."""
        found = (self.record_for(row.key) for row in self.table.marked_rows())
        return [record for record in found if record is not None]

    def detail_title(self, name: str, key: str) -> str:
        """A record's detail title: its name, and why its last change failed, if it did."""
        problem = self.row_problems.get(key)
        return f"{name}  ·  ⚠ {problem}" if problem else name

    def with_problem(self, row: Row) -> Row:
        """`row`, in the error style when the last change of its record failed."""
        if row.key not in self.row_problems:
            return row
        return Row(row.key, row.cells, style="error", order=row.order, data=row.data)

    # ---- bulk changes ---------------------------------------------------------------------

    @property
    def bulk_running(self) -> bool:
        return self._bulk_stop is not None

    def stop_bulk(self) -> None:
        """Start no further row of the bulk change; those in flight settle."""
        if self._bulk_stop is not None and not self._bulk_stop.is_set():
            self._bulk_stop.set()
            progress = self.query("#bulk-progress")
            if progress:
                bar = progress.first(BulkProgress)
                bar.show(self._bulk_settled, stopping=True)

    async def run_bulk(
        self,
        doing: str,
        verb: str,
        records: Sequence[Any],
        one: Callable[[Any], Awaitable[WriteOutcome[Any]]],
        key: Callable[[Any], str],
    ) -> BulkReport[Any]:
        """Run `one` (the verb's own one-row path, which settles the write and updates the
        screen for that row) for each record, a few at a time, with a progress bar; esc stops
        starting more. Then: rows done are unmarked, rows that failed or are unknown keep their
        mark and show why, and one notice says "done N, failed M, unknown K" and names the first
        failures with the vendor's code and message. `doing` is "Deleting", `verb` "Delete"."""
        from tui.bulk import run_each

        stop = self._bulk_stop = asyncio.Event()
        self._bulk_settled = 0
        progress = BulkProgress(doing, len(records))
        bulk_changes = self.teledeck.bulk_changes
        bulk_changes[id(self)] = f"A bulk change is under way ({doing.lower()} {len(records)})"
        await self.mount(progress, after=self.table)

        def settled(record: Any, outcome: WriteOutcome[Any]) -> None:
            self._bulk_settled += 1
            if progress.is_attached:
                progress.show(self._bulk_settled, stopping=stop.is_set())
            self.progress = f"{doing.lower()} {self._bulk_settled} of {len(records)}…"
            self.update_title()

        try:
            report = await run_each(records, one, what=self.describe, stop=stop, on_settled=settled)
        finally:
            self._bulk_stop = None
            bulk_changes.pop(id(self), None)
            self.progress = ""
            await progress.remove()
        self._after_bulk(verb, report, key)
        return report

    def _after_bulk(self, verb: str, report: BulkReport[Any], key: Callable[[Any], str]) -> None:
        from tui.bulk import named, why_not

        table = self.table
        table.unmark_keys(key(record) for record in report.done)
        failures = [*report.failed, *report.unknown]
        for record, outcome in failures:
            self.row_problems[key(record)] = f"{verb.lower()} failed: {why_not(outcome)}"
            row = table.get_row(key(record))
            if row is not None:
                table.update_row(self.with_problem(row))
        self.update_title()
        lines = [f"{report.summary().capitalize()}."]
        lines += named([f"{self.describe(record)}: {why_not(outcome)}" for record, outcome in failures])
        if failures:
            lines.append("The rows that failed stay marked; enter on one shows why.")
        self.notify(
            "\n".join(lines),
            title=f"{verb}: {plural('marked row', report.settled + len(report.not_started))}",
            severity="error" if failures else "warning" if report.not_started else "information",
            timeout=15 if failures else 6,
        )

    # ---- export ---------------------------------------------------------------------------

    def export_fields(self, records: list[Any]) -> list[dict[str, Any]]:
        """The records as the fields an export writes (no secret among them). Called in a
        worker thread: it touches no widget."""
        from tui.export import record_fields

        return [record_fields(record) for record in records]

    async def _rows_to_export(self) -> tuple[list[Any], str] | None:
        """The records shown, the marked ones only when there are marks (after the filter and in
        the order shown), and what they are ("12 marked rows"); None when there are none."""
        table = self.table
        await table.wait_until_idle()  # the latest filter and order, not one half done
        marked = table.mark_count > 0
        rows = table.shown_rows(marked_only=marked)
        records = [record for record in (self.record_for(row.key) for row in rows) if record is not None]
        if not records:
            why = "none of the marked rows is shown (the filter hides them)" if marked else "no rows are shown"
            self.notify(f"Nothing to export: {why}.", severity="warning")
            return None
        what = plural("marked row" if marked else "row", len(records))
        if table.filter_text:
            what += f" matching {table.filter_text!r}"
        return records, what

    async def action_export(self) -> None:
        chosen = await self._rows_to_export()
        if chosen is None:
            return
        records, what = chosen
        from tui.screens.export import ExportScreen

        now = datetime.fromtimestamp(self.teledeck.session.clock(), UTC)
        prompt = ExportScreen(
            title=f"Export {what}",
            name=self.export_name,
            now=now,
            rows=lambda: self.export_fields(records),
        )
        await self.app.push_screen(prompt, self._exported(what))

    def _exported(self, what: str) -> Callable[[str | None], None]:
        def done(path: str | None) -> None:
            if path:
                self.notify(f"Exported {what} to {path}", title="Exported", timeout=8)

        return done

    async def action_copy_csv(self) -> None:
        """Copy the rows shown (the marked ones, if any) as CSV, over OSC 52: for a few rows."""
        chosen = await self._rows_to_export()
        if chosen is None:
            return
        records, what = chosen
        if len(records) > COPY_ROWS:
            self.notify(
                f"{what.capitalize()}: too many to copy (at most {COPY_ROWS}); export them with ctrl+s.",
                severity="warning",
            )
            return
        from tui.clipboard import copy_text
        from tui.export import render

        text = render("csv", await asyncio.to_thread(self.export_fields, records))
        try:
            copy_text(self.app, text)
        except ValueError as error:
            self.notify(f"{what.capitalize()}: {error}; export them with ctrl+s.", severity="warning")
            return
        self.notify(f"Copied {what} as CSV to the clipboard.", timeout=4)
