"""The frame every list screen shares: header, title bar, a filter box, one VirtualTable, footer.

It owns the verbs that behave the same everywhere (`/` filter as you type, `!` inverts, `esc`
clears, `o`/`O` order by and reverse; their keys are TABLE_KEYS, placed by record_list_keys after
the screen's own); a screen adds its table, its title and its own verbs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events, on
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding, BindingType, NoBinding
from textual.screen import Screen
from textual.widgets import Input

from tui.keymap import bindings_of
from tui.screens.access import AppAccess
from tui.widgets.footer import AppFooter
from tui.widgets.literal import LiteralBar, LiteralInput
from tui.widgets.virtual_table import VirtualTable

# The keys of TableScreen's own filter and order verbs, the same on every list.
TABLE_KEYS: list[BindingType] = [
    Binding(
        "slash",
        "filter",
        "Filter",
        key_display="/",
        id="table.filter",
        tooltip="as you type; start with ! to invert",
        # Priority: focus moves before the next key is read, so "/office" typed fast filters
        # by "office" instead of sending "o" to the table (see tui/screens/dialog.py).
        priority=True,
    ),
    Binding("o", "sort", "Order by", id="table.sort"),
    Binding("O", "reverse_sort", "Reverse", key_display="O", id="table.reverse_sort"),
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


class TableScreen(AppAccess, Screen[None]):
    # Its visible keys (TABLE_KEYS) come after each screen's own, through record_list_keys.
    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", show=False, id="table.clear_filter")]

    # What the warning calls the row when a verb needs one and the cursor is on none.
    row_noun = "row"
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
        if isinstance(self.focused, Input) and action in self._priority_actions():
            return False  # "/" or "n" typed into the filter (a CIDR, a name) is text, not a verb
        return self.why_unavailable(action, parameters) is None

    @classmethod
    def _priority_actions(cls) -> frozenset[str]:
        return frozenset(parse(b.action)[1] for b in cls.BINDINGS if isinstance(b, Binding) and b.priority)

    def on_key(self, event: events.Key) -> None:
        """A key whose verb is unavailable says why (check_action hid it, so nothing else will)."""
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
        raise NotImplementedError

    def action_detail(self) -> None:
        raise NotImplementedError

    def need_current(self) -> Any | None:
        """The record under the cursor; None, with a warning, when there is none."""
        record = self.current()
        if record is None:
            self.notify(f"No {self.row_noun} selected.", severity="warning")
        return record

    def refuse_change(self, doing: str) -> bool:
        """The guard before a change (True means refused, and said why): by default the profile's
        read-only flag; a screen adds what else its changes need."""
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
        yield LiteralInput(
            placeholder="filter: text matches any column; start with ! to invert; esc clears",
            id="filter-input",
            classes="filter-input",
        )
        yield self.make_table()
        yield AppFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def on_mount(self) -> None:
        self._show_filter_box(False)
        self.table.focus()

    def _show_filter_box(self, shown: bool) -> None:
        # Hidden and disabled together, so keys never land in a box the user cannot see.
        box = self.query_one("#filter-input", Input)
        box.display = shown
        box.disabled = not shown

    def show_filter(self, text: str) -> None:
        """Show the list filtered by `text` (`:allowlist !pending`): the box shows it, `/` edits it,
        and rows that arrive later (cached, then fresh) are filtered as they come."""
        box = self.query_one("#filter-input", Input)
        self._show_filter_box(True)
        box.value = text
        box.cursor_position = len(text)
        self.table.set_filter(text)
        self.table.focus()
        self.update_title()

    def action_filter(self) -> None:
        self._show_filter_box(True)
        # At once, not with Widget.focus (which waits its turn behind keys already typed).
        self.set_focus(self.query_one("#filter-input", Input))

    @on(Input.Changed, "#filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.update_title()

    @on(Input.Submitted, "#filter-input")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self._show_filter_box(False)
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter-input", Input)
        if box.value or box.display:
            box.value = ""
            self._show_filter_box(False)
            self.table.set_filter("")
            self.table.focus()
            self.update_title()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.update_title()

    def action_reverse_sort(self) -> None:
        if self.table.sort_column is None:
            self.notify("Nothing to reverse yet: press o to order by a column first.", severity="information")
            return
        self.table.toggle_sort_direction()
        self.update_title()
