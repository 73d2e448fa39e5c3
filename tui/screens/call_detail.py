"""One call: its merged fields (the CallRecord's names), its timeline of pushed records, and its
recording's download link, asked of the vendor only when the user asks (`l`).

The link is a signed URL that lets anyone holding it download the recording until it expires:
it lives in this screen only (never in a log, a cache, a notice or the ledger), is shown masked
to its origin unless `u` shows it, and `y` copies it over OSC 52 (tui/clipboard.py) without
printing it. It is asked of the provider's adapter (`BindingProvider.recording_link`) through
the session, as the Bindings screen reaches its providers; an adapter without it says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from providers.calls import CallEvent, CallRecord, RecordingLink
from providers.ledger_store import LedgerError
from tui.screens.access import AppAccess
from tui.screens.calls import cause_text, duration_text, utc_time, vendor_title
from tui.widgets.footer import AppFooter
from tui.widgets.literal import LiteralBar
from tui.widgets.virtual_table import Column, Row, VirtualTable

TIMELINE_COLUMNS = (
    Column("at", "TIME (UTC)", width=20),
    Column("stage", "STAGE", width=9),
    Column("kind", "VENDOR KIND", max_width=22, min_width=8, priority=2),
    Column("fields", "KEY FIELDS", max_width=120, min_width=16, priority=3),
)

# The vendor fields that say most about an event, shown first in its row (the rest follow; the
# event's detail has them all): Huawei, Volcengine and Alibaba names for state, cause and time.
KEY_FIELDS = (
    "eventType", "ulFailReason", "fwdUnaswRsn", "stateCode", "stateDesc", "callResult", "CallResult",
    "status", "Status", "unconnected_cause", "release_cause", "release_dir", "control_msg",
    "callIdentifier", "duration", "Duration", "fileName", "recordDomain",
)  # fmt: skip
MASK = "••••••••"


def masked_link(url: str) -> str:
    """The link without what makes it work: its scheme and host, the rest masked."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}/{MASK}"
    return MASK


def key_fields(fields: Mapping[str, Any]) -> str:
    """An event's vendor fields on one line, the telling ones first ("ulFailReason=8014, ...")."""
    order = {name: n for n, name in enumerate(KEY_FIELDS)}
    names = sorted(fields, key=lambda name: (order.get(name, len(order)), name))
    return ", ".join(f"{name}={_flat(fields[name])}" for name in names)


def _flat(value: Any) -> str:
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "" if value is None else str(value)


def timeline_rows(events: tuple[CallEvent, ...]) -> list[Row]:
    rows = []
    for n, event in enumerate(events):
        when = utc_time(event.at) if event.at else f"{utc_time(event.received_at)}*"
        rows.append(
            Row(key=f"{n}:{event.kind}", cells=(when, event.stage, event.kind, key_fields(event.fields)), data=event)
        )
    return rows


def call_summary(record: CallRecord) -> dict[str, str]:
    """The call's merged fields by their CallRecord names, as the detail shows them."""
    recording = "none pushed"
    if record.recording is not None:
        recording = "pushed: l fetches its download link from the vendor"
    duration = "" if record.duration_s is None else f"{record.duration_s} ({duration_text(record.duration_s)})"
    return {
        "provider": record.provider,
        "call_id": record.call_id,
        "subscription_id": record.subscription_id,
        "x": record.x,
        "caller": record.caller,
        "callee": record.callee,
        "started_at": _utc(record.started_at),
        "answered_at": _utc(record.answered_at),
        "ended_at": _utc(record.ended_at),
        "duration_s": duration,
        "outcome": record.outcome,
        "cause_code": record.cause_code,
        "cause": record.cause,
        "binding_key": record.binding_key or "none: no binding in the ledger explains this call",
        "recording": recording,
    }


def _utc(when: datetime | None) -> str:
    return f"{utc_time(when)} UTC" if when else ""


def lifetime_text(link: RecordingLink, now: datetime) -> str:
    """How long the link works: "expires 2026-05-25 14:02:03 UTC (in 1h 59m) · links live 2 hours"."""
    parts = []
    if link.expires_at is not None:
        left = int((link.expires_at - now).total_seconds())
        if left > 0:
            hours, rest = divmod(left, 3600)
            parts.append(f"expires {_utc(link.expires_at)} (in {f'{hours}h ' if hours else ''}{rest // 60}m)")
        else:
            parts.append(f"expired {_utc(link.expires_at)}: l fetches a new one")
    if link.lifetime:
        parts.append(f"links live {link.lifetime}")
    return " · ".join(parts) or "the vendor does not say how long it lives"


class CallDetailScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="call.back"),
        Binding("l", "recording_link", "Recording link", id="call.recording_link"),
        Binding("u", "toggle_link", "Show/hide link", id="call.toggle_link"),
        Binding("y", "copy_link", "Copy link", id="call.copy_link"),
        Binding("c", "copy_id", "Copy call id", id="call.copy_id"),
    ]

    help_title = "Call"

    def __init__(self, record: CallRecord) -> None:
        super().__init__()
        self.record = record
        self.link: RecordingLink | None = None  # held here only: never logged, cached or written
        self.link_shown = False
        self.fetching = False

    def compose(self) -> ComposeResult:
        yield self.teledeck.make_header()
        yield LiteralBar(self.title_text(), id="call-title", classes="title-bar")
        fields = VirtualTable(id="call-fields")
        fields.set_columns(
            [
                Column("field", "FIELD", width=16),
                Column("value", "VALUE", max_width=120, wrap=True, priority=2, min_width=20),
            ]
        )
        yield fields
        yield LiteralBar("Timeline: reading…", id="timeline-title", classes="title-bar")
        yield VirtualTable(TIMELINE_COLUMNS, id="call-timeline", empty_text="reading the call's pushed records…")
        yield LiteralBar(self.recording_text(), id="recording-bar", classes="title-bar")
        yield AppFooter()

    def title_text(self) -> str:
        record = self.record
        said = f"{vendor_title(record.provider)} call {record.call_id} · {record.outcome}"
        cause = cause_text(record)
        return f"{said}: {cause}" if cause else said

    def on_mount(self) -> None:
        self.show_fields()
        self.query_one("#call-fields", VirtualTable).focus()
        self.load()

    def show_fields(self) -> None:
        rows = [Row(key=name, cells=(name, value)) for name, value in call_summary(self.record).items()]
        self.query_one("#call-fields", VirtualTable).set_rows(rows)
        self.query_one("#call-title", LiteralBar).update(self.title_text())

    @work(exclusive=True, group="call", exit_on_error=False)
    async def load(self) -> None:
        """The call as the ledger has it now, with its events, in a worker thread."""
        record = self.record
        try:
            fresh = await asyncio.to_thread(self.teledeck.session.ledger.call, record.provider, record.call_id)
        except LedgerError as error:
            self.query_one("#timeline-title", LiteralBar).update(f"Timeline: ⚠ {error}")
            return
        if fresh is not None:
            self.record = fresh
            self.show_fields()
        events = self.record.events
        self.query_one("#call-timeline", VirtualTable).set_rows(timeline_rows(events))
        note = " (* received at: the record gives no time of its own)" if any(e.at is None for e in events) else ""
        self.query_one("#timeline-title", LiteralBar).update(
            f"Timeline: {len(events)} pushed record(s), oldest first{note} · enter shows one"
        )
        self.query_one("#recording-bar", LiteralBar).update(self.recording_text())

    @on(VirtualTable.RowSelected, "#call-timeline")
    def _event_opened(self, event: VirtualTable.RowSelected) -> None:
        from tui.screens.detail import DetailScreen

        event.stop()
        pushed = event.row.data
        if not isinstance(pushed, CallEvent):
            return
        fields = {
            "stage": pushed.stage,
            "kind": pushed.kind,
            "at": _utc(pushed.at),
            "received_at": _utc(pushed.received_at),
            "subscription_id": pushed.subscription_id,
            "x": pushed.x,
            "caller": pushed.caller,
            "callee": pushed.callee,
            "account": pushed.account,
            "fields": dict(pushed.fields),
        }
        self.app.push_screen(
            DetailScreen(f"{pushed.provider} {pushed.kind} of call {pushed.call_id}", pushed.call_id, fields)
        )

    # ---- the recording ---------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.teledeck.session.clock(), UTC)

    def recording_text(self) -> str:
        if self.record.recording is None:
            return "Recording: none pushed for this call"
        if self.fetching:
            return "Recording: asking the vendor for its download link…"
        if self.link is None:
            return "Recording: pushed · l fetches its download link from the vendor"
        shown = self.link.url if self.link_shown else masked_link(self.link.url)
        hint = "u hides it" if self.link_shown else "u shows it"
        return f"Recording link: {shown} · {lifetime_text(self.link, self.now())} · {hint} · y copies it"

    def _show_recording(self) -> None:
        self.query_one("#recording-bar", LiteralBar).update(self.recording_text())

    def action_recording_link(self) -> None:
        record = self.record
        if record.recording is None:
            self.notify("No recording was pushed for this call.", severity="warning")
            return
        session = self.teledeck.session
        if session.offline:
            self.notify("Offline: a recording link is asked of the vendor. Nothing was sent.", severity="warning")
            return
        if not session.has(record.provider):
            self.notify(f"No {record.provider} account in this profile to ask for the link.", severity="warning")
            return
        self.fetch_link()

    @work(exclusive=True, group="recording", exit_on_error=False)
    async def fetch_link(self) -> None:
        from providers.errors import ProviderError

        record = self.record
        assert record.recording is not None
        self.fetching = True
        self._show_recording()
        try:
            connection = await self.teledeck.session.aconnection(record.provider)
            fetch = getattr(connection.client, "recording_link", None)
            link = await fetch(record.recording) if fetch is not None else None
        except NotImplementedError:
            link = None
        except ProviderError as error:
            self.teledeck.report_error(error, f"fetching the recording link of call {record.call_id}")
            return
        finally:
            self.fetching = False
            self._show_recording()
        if not isinstance(link, RecordingLink) or not link.url:
            self.notify(
                f"Recording links cannot be fetched from {vendor_title(record.provider)} yet: "
                "teledeck's adapter for it does not ask for them.",
                title="Recording link",
                severity="warning",
                timeout=8,
            )
            return
        self.link, self.link_shown = link, False
        self._show_recording()
        self.notify(f"Recording link fetched: {lifetime_text(link, self.now())}.", title="Recording link", timeout=6)

    def action_toggle_link(self) -> None:
        if self.link is None:
            self.notify("No link yet: l fetches it.", severity="warning")
            return
        self.link_shown = not self.link_shown
        self._show_recording()

    def action_copy_link(self) -> None:
        from tui.clipboard import copy_text

        if self.link is None:
            self.notify("No link yet: l fetches it.", severity="warning")
            return
        try:
            copy_text(self.app, self.link.url)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        # Never the link itself in the notice: notices are shown, and may be captured.
        self.notify(f"Copied the recording link to the clipboard ({lifetime_text(self.link, self.now())}).", timeout=5)

    # ---- the rest --------------------------------------------------------------------------

    def action_copy_id(self) -> None:
        self.teledeck.copy_with_notice(self.record.call_id, "call id")

    def action_back(self) -> None:
        self.app.pop_screen()
