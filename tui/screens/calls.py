"""Calls (`:calls`): the calls the vendors pushed, across vendors, newest first, from the ledger.

None of the vendors can list a binding's calls; the receiver (or a simulated call in the sandbox)
writes what they push into the ledger, and this screen reads it there (providers/ledger_calls.py).
A list like every other (the filter box: text, ~regex, column:value on x, caller (A), callee (B),
outcome, cause; the order and copy keys), its title counting the outcomes of the calls shown per
vendor. While it is on screen it asks the ledger every POLL_SECONDS, in a worker thread, only
for the newest pushed record's id (`calls_stamp`, one index lookup) and reads the calls again
only when that moved, so the cursor and the filter stay where they were; `r` reads them again
at once. enter opens a call's detail (tui/screens/call_detail.py).

`BindingCalls` is the same list for one binding, under its detail on the Bindings screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical

from providers.calls import ANSWERED, IN_PROGRESS, OUTCOMES, CallRecord
from providers.ledger_store import LedgerError
from tui.screens.access import AppAccess
from tui.screens.table_screen import TableScreen, record_list_keys
from tui.widgets.literal import LiteralBar
from tui.widgets.virtual_table import Column, Row, VirtualTable

if TYPE_CHECKING:
    from providers.ledger import BindingLedger

LIMIT = 2000  # newest calls read; the title says when there are more
POLL_SECONDS = 3.0  # how often an open list asks the ledger whether a push arrived

# Column keys are the CallRecord's names (so `caller:+86138` filters); the labels are the
# screen's (so `a:+86138` does too). At 80 columns X, A, B and the outcome stay whole; the
# binding, the cause, the provider and the duration give way first (the detail has them all).
COLUMNS = (
    Column("provider", "PROVIDER", width=10, priority=3),
    Column("started_at", "STARTED (UTC)", width=19, priority=2),
    Column("x", "X", width=14),
    Column("caller", "A", width=14),
    Column("callee", "B", width=14),
    Column("outcome", "OUTCOME", width=11),
    Column("cause", "CAUSE", max_width=36, priority=4, min_width=10),
    Column("duration_s", "DURATION", width=8, justify="right", priority=3),
    Column("binding", "BINDING", max_width=40, priority=5, min_width=12),
)

# A binding's own calls, under its detail: when, how it went, why.
BINDING_COLUMNS = (
    Column("started_at", "STARTED (UTC)", width=19),
    Column("outcome", "OUTCOME", width=11),
    Column("cause", "CAUSE", max_width=48, priority=2, min_width=10),
    Column("duration_s", "DURATION", width=8, justify="right", priority=3),
    Column("caller", "A", width=14, priority=4),
    Column("callee", "B", width=14, priority=4),
    Column("call_id", "CALL ID", max_width=40, priority=5, min_width=10),
)

# The calls that did not connect stand out; a call still going on is set apart.
NOT_CONNECTED_STYLE, IN_PROGRESS_STYLE = "warning", "accent"


def utc_time(when: datetime | None) -> str:
    """A time as the console's lists show it, in UTC ("2026-05-25 12:02:03"); "" when unknown."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if when else ""


def duration_text(seconds: int | None) -> str:
    """'0:45', '12:03', '1:02:03'; "" when the call was not answered (or its end is unknown)."""
    if seconds is None:
        return ""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def cause_text(record: CallRecord) -> str:
    """The cause in words, with the vendor's code after it ("user busy (17)")."""
    if record.cause and record.cause_code:
        return f"{record.cause} ({record.cause_code})"
    return record.cause or record.cause_code


def vendor_title(provider: str) -> str:
    """The vendor's short name ("Huawei"), else the provider name as the ledger has it."""
    from providers.vendors import binding_vendors

    vendor = binding_vendors().get(provider)
    return vendor.short_title if vendor is not None else provider


def call_key(record: CallRecord) -> str:
    return f"{record.provider}:{record.call_id}"


def _style(record: CallRecord) -> str:
    if record.outcome == ANSWERED:
        return ""
    return IN_PROGRESS_STYLE if record.outcome == IN_PROGRESS else NOT_CONNECTED_STYLE


def _order(record: CallRecord) -> dict[str, Any]:
    return {
        "started_at": record.started_at.timestamp() if record.started_at else None,
        "duration_s": record.duration_s,
    }


def call_row(record: CallRecord) -> Row:
    """The Calls screen's row of `record` (cells in COLUMNS order)."""
    return Row(
        key=call_key(record),
        cells=(
            record.provider,
            utc_time(record.started_at),
            record.x,
            record.caller,
            record.callee,
            record.outcome,
            cause_text(record),
            duration_text(record.duration_s),
            record.binding_key,
        ),
        style=_style(record),
        order=_order(record),
        data=record,
    )


def binding_call_row(record: CallRecord) -> Row:
    """A row of a binding's calls (cells in BINDING_COLUMNS order)."""
    return Row(
        key=call_key(record),
        cells=(
            utc_time(record.started_at),
            record.outcome,
            cause_text(record),
            duration_text(record.duration_s),
            record.caller,
            record.callee,
            record.call_id,
        ),
        style=_style(record),
        order=_order(record),
        data=record,
    )


def outcome_counts(records: Iterable[CallRecord]) -> str:
    """How the calls went, per vendor: "Huawei 3 answered 1 busy · Volcengine 1 no binding"
    (vendors by name, outcomes in providers.calls.OUTCOMES order); "" for no calls."""
    counts: dict[str, dict[str, int]] = {}
    for record in records:
        per = counts.setdefault(vendor_title(record.provider), {})
        per[record.outcome] = per.get(record.outcome, 0) + 1
    rank = {outcome: n for n, outcome in enumerate(OUTCOMES)}
    parts = []
    for vendor in sorted(counts):
        per = counts[vendor]
        shown = " ".join(f"{per[o]} {o}" for o in sorted(per, key=lambda o: (rank.get(o, len(rank)), o)))
        parts.append(f"{vendor} {shown}")
    return " · ".join(parts)


def read_calls(
    ledger: BindingLedger, known: int | None, query: Callable[[BindingLedger], list[CallRecord]]
) -> tuple[int, list[CallRecord] | None]:
    """In a worker thread: the ledger's calls stamp and, when it is not `known` (None: read
    anyway), the calls `query` reads; None when nothing was pushed since. The stamp is read
    first, so a push landing in between is read at the next poll."""
    stamp = ledger.calls_stamp()
    if known is not None and stamp == known:
        return stamp, None
    return stamp, query(ledger)


def open_call(app: Any, record: CallRecord) -> None:
    """The detail of `record` (its events are read there)."""
    from tui.screens.call_detail import CallDetailScreen

    app.push_screen(CallDetailScreen(record))


class CallsScreen(TableScreen):
    BINDINGS = record_list_keys("calls")

    row_noun = "call"
    export_name = "calls"
    help_title = "Calls"

    def __init__(self) -> None:
        super().__init__(name="calls")
        self.records: dict[str, CallRecord] = {}
        self.stamp: int | None = None
        self.loaded = False
        self.problem = ""

    def make_table(self) -> VirtualTable:
        return VirtualTable(COLUMNS, id="calls-table", empty_text="reading the calls in the ledger…")

    def on_mount(self) -> None:
        super().on_mount()
        self.update_title()
        self.load(force=True)
        self.set_interval(POLL_SECONDS, self.poll)

    def on_screen_resume(self) -> None:
        if self.loaded:  # a binding recorded meanwhile may have claimed calls without a push
            self.load(force=True)

    def poll(self) -> None:
        if self.app.screen is self and self.loaded:  # nobody is looking: no read
            self.load()

    def action_refresh(self) -> None:
        self.load(force=True)

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self, force: bool = False) -> None:
        """Read the newest calls in a worker thread, when a push arrived since the last read (or
        `force`), and show them; the cursor stays on its call and the filter stays."""
        ledger = self.teledeck.session.ledger
        try:
            stamp, records = await asyncio.to_thread(
                read_calls, ledger, None if force else self.stamp, lambda led: led.calls(limit=LIMIT)
            )
        except LedgerError as error:
            if self.problem != "ledger unavailable":  # said once, not every poll
                self.app.notify(str(error), title="Ledger", severity="error", markup=False, timeout=15)
            self.problem = "ledger unavailable"
            self.table.empty_text = str(error)
            self.loaded = True
            self.update_title()
            return
        self.stamp, self.loaded = stamp, True
        if records is None:
            return
        self.problem = ""
        self.records = {call_key(r): r for r in records}
        self.table.empty_text = (
            "no calls yet: `teledeck receiver serve` stores what the vendors push; in the sandbox, "
            "s on :bindings simulates one"
        )
        self.table.set_rows([call_row(r) for r in records])
        self.update_title()

    def shown_records(self) -> list[CallRecord]:
        return [row.data for row in self.table.shown_rows() if isinstance(row.data, CallRecord)]

    def update_title(self) -> None:
        table = self.table
        shown = self.shown_records()
        parts = ["Calls"]
        counted = outcome_counts(shown)
        if counted:
            parts[0] += f" · {counted}"
        if table.filter_text:
            parts.append(f"{table.visible_count} of {table.total_count} match {table.filter_text!r}")
        else:
            count = table.total_count
            parts.append(f"{count} call{'' if count == 1 else 's'}, newest first")
        if len(self.records) >= LIMIT:
            parts.append(f"the newest {LIMIT} read")
        label = next((c.label for c in COLUMNS if c.key == table.sort_column), table.sort_column)
        self.show_title_bar(parts, sort_label=label, problem=self.problem)

    def record_for(self, key: str) -> CallRecord | None:
        return self.records.get(key)

    def describe(self, record: Any) -> str:
        return f"{record.provider} call {record.call_id}"

    def action_detail(self) -> None:
        record = self.need_current()
        if record is not None:
            open_call(self.app, record)

    def action_copy_id(self) -> None:
        record = self.need_current()
        if record is not None:
            self.teledeck.copy_with_notice(record.call_id, "call id")

    def export_fields(self, records: list[Any]) -> list[dict[str, Any]]:
        from tui.export import call_fields

        return [call_fields(record) for record in records]


class BindingCalls(AppAccess, Vertical):
    """A binding's calls (the ledger's calls linked to it), newest first, under its detail:
    read when shown, again whenever a push arrives while it is on screen; enter opens one."""

    # Half the height at most; a title and one line while it has no calls, so the fields keep it.
    DEFAULT_CSS = """
    BindingCalls {
        height: 1fr;
        max-height: 50%;
    }
    BindingCalls.no-calls {
        height: 3;
    }
    BindingCalls VirtualTable {
        height: 1fr;
    }
    """

    def __init__(self, binding_key: str, *, title: str = "Calls through this binding") -> None:
        super().__init__(id="binding-calls", classes="no-calls")
        self.binding_key = binding_key
        self.title_text = title
        self.records: dict[str, CallRecord] = {}
        self.stamp: int | None = None

    def compose(self) -> ComposeResult:
        yield LiteralBar(f"{self.title_text}: reading the ledger…", id="binding-calls-title", classes="title-bar")
        yield VirtualTable(BINDING_COLUMNS, id="binding-calls-table", empty_text="reading…")

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#binding-calls-table", VirtualTable)

    def on_mount(self) -> None:
        self.load(force=True)
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        if self.app.screen is self.screen:
            self.load()

    @work(exclusive=True, group="binding-calls", exit_on_error=False)
    async def load(self, force: bool = False) -> None:
        key = self.binding_key
        try:
            stamp, records = await asyncio.to_thread(
                read_calls,
                self.teledeck.session.ledger,
                None if force else self.stamp,
                lambda led: led.calls(binding_key=key, limit=LIMIT),
            )
        except LedgerError as error:
            self.query_one("#binding-calls-title", LiteralBar).update(f"{self.title_text}: ⚠ {error}")
            return
        self.stamp = stamp
        if records is None:
            return
        self.records = {call_key(r): r for r in records}
        self.set_class(not records, "no-calls")
        self.table.empty_text = "no calls recorded through this binding"
        self.table.set_rows([binding_call_row(r) for r in records])
        counted = outcome_counts(records)
        summary = f"{len(records)} · {counted}" if records else "none yet"
        hint = " · tab goes to them, enter opens one" if records else ""
        self.query_one("#binding-calls-title", LiteralBar).update(f"{self.title_text}: {summary}{hint}")

    @on(VirtualTable.RowSelected, "#binding-calls-table")
    def _opened(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        if isinstance(event.row.data, CallRecord):
            open_call(self.app, event.row.data)
