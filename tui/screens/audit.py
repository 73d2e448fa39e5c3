"""The audit log (`:audit`): every change made through teledeck, console or CLI, newest first.

A list like every other (the same filter box, order and copy keys), over the session's
providers.audit.AuditLog, a local file rather than a provider, so a small TableScreen of its own
rather than a registry entry. The file is read in a worker thread, at most `LIMIT` newest lines;
`r` reads it again, and so does coming back to the screen. A failed or unknown outcome stands out
(the detail says why); enter shows every field of an entry, as text.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from textual import work

from providers.audit import AuditEntry
from tui.screens.table_screen import TableScreen, record_list_keys
from tui.widgets.virtual_table import Column, Row, VirtualTable

LIMIT = 10_000  # newest entries read; the file is rotated well before it holds many more

# At 80 columns the time, verb, resource, id and outcome stay; the request id, the profile, who
# made the change and the account give way first (the detail has them all). On a team's shared
# ledger "by" (user@host) tells whose change it was.
COLUMNS = (
    Column("at", "TIME (UTC)", width=19),
    Column("actor", "BY", max_width=24, priority=4, min_width=8),
    Column("profile", "PROFILE", max_width=16, priority=4, min_width=8),
    Column("account", "ACCOUNT", max_width=18, priority=3, min_width=8),
    Column("verb", "VERB", max_width=18),
    Column("resource", "RESOURCE", max_width=18),
    Column("id", "ID", max_width=38, priority=2, min_width=12),
    Column("outcome", "OUTCOME", width=7),
    Column("request_id", "REQUEST ID", max_width=38, priority=5, min_width=12),
)

UNSETTLED = frozenset({"failed", "unknown"})


def _moment(at: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def shown_time(at: str) -> str:
    """An entry's time in UTC as the list shows it ("2026-05-25 12:02:03"); as written when it
    is not a time at all (a hand-edited line)."""
    moment = _moment(at)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else at


def detail_of(entry: AuditEntry) -> dict[str, str]:
    """Every field of an entry for the detail screen, its time also in local time."""
    moment = _moment(entry.at)
    return {
        "time_utc": shown_time(entry.at),
        "time_local": moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment else entry.at,
        "actor": entry.actor,
        "profile": entry.profile,
        "account": entry.account,
        "verb": entry.verb,
        "resource": entry.resource,
        "id": entry.id,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }


def audit_rows(entries: list[AuditEntry]) -> list[Row]:
    """Rows for `entries` (newest first). A row's key is the entry and how many identical entries
    came before it, so a reload with newer entries keeps the cursor where it was."""
    seen: dict[tuple[str, ...], int] = {}
    keys: list[str] = []
    for entry in reversed(entries):  # oldest first: an older entry's key never changes
        fields = tuple(entry.as_dict().values())
        seen[fields] = seen.get(fields, 0) + 1
        keys.append(f"{hash(fields)}:{seen[fields]}")
    keys.reverse()
    return [
        Row(
            key=key,
            cells=(
                shown_time(e.at),
                e.actor,
                e.profile,
                e.account,
                e.verb,
                e.resource,
                e.id,
                e.outcome,
                e.request_id,
            ),
            style="warning" if e.outcome in UNSETTLED else "",
            data=e,
        )
        for key, e in zip(keys, entries, strict=True)
    ]


class AuditScreen(TableScreen):
    BINDINGS = record_list_keys("audit")

    row_noun = "entry"
    help_title = "Audit log"

    def __init__(self) -> None:
        super().__init__(name="audit")
        self.entries: dict[str, AuditEntry] = {}
        self.loaded = False
        self.problem = ""

    def make_table(self) -> VirtualTable:
        return VirtualTable(COLUMNS, id="audit-table", empty_text="reading the audit log…")

    @property
    def path(self) -> str:
        return self.teledeck.session.audit.location  # the team's ledger when it is shared

    def on_mount(self) -> None:
        super().on_mount()
        self.update_title()
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:  # changes made elsewhere since: the file has them
            self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        """Read the newest entries in a worker thread and show them."""
        audit, table = self.teledeck.session.audit, self.table
        self.progress = "reading…"
        self.update_title()
        try:
            entries = await asyncio.to_thread(audit.entries, LIMIT)
        except OSError as error:
            entries = []
            self.problem = f"cannot read {self.path}: {error.strerror or error}"
        else:
            self.problem = audit.problem or (
                f"{audit.unreadable} unreadable line(s) skipped" if audit.unreadable else ""
            )
        finally:
            self.progress = ""
        rows = audit_rows(entries)
        self.entries = {row.key: row.data for row in rows}
        table.empty_text = (
            f"no changes recorded yet: each change made through teledeck adds a line to {self.path}"
            if not self.problem
            else self.problem
        )
        table.set_rows(rows)
        self.loaded = True
        self.update_title()

    def action_refresh(self) -> None:
        self.load()

    def update_title(self) -> None:
        table = self.table
        parts = ["Audit log · newest first"]
        if table.filter_text:
            parts.append(f"{table.visible_count} of {table.total_count} entries match {table.filter_text!r}")
        else:
            parts.append(f"{table.total_count} entries")
        parts.append(self.path)
        label = next((c.label for c in COLUMNS if c.key == table.sort_column), table.sort_column)
        self.show_title_bar(parts, sort_label=label, problem=self.problem)

    def current(self) -> AuditEntry | None:
        key = self.table.current_key
        return self.entries.get(key) if key is not None else None

    def action_detail(self) -> None:
        entry = self.need_current()
        if entry is None:
            return
        from tui.screens.detail import DetailScreen

        title = f"{entry.verb} {entry.resource} {entry.id} · {entry.outcome}".strip()
        self.app.push_screen(DetailScreen(title, entry.id, detail_of(entry)))

    def action_copy_id(self) -> None:
        entry = self.need_current()
        if entry is None:
            return
        if not entry.id:
            self.notify("This entry names no record id.", severity="warning")
            return
        self.teledeck.copy_with_notice(entry.id, "id")
