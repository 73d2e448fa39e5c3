"""Every field of one record, flattened to dotted paths. Secret fields stay masked; long values wrap."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from providers.records import flatten
from providers.telnyx.models import mask
from tui.screens.access import AppAccess
from tui.widgets.footer import AppFooter
from tui.widgets.literal import LiteralBar
from tui.widgets.virtual_table import Column, Row, VirtualTable


def detail_rows(raw: dict, secret_fields: frozenset[str]) -> list[tuple[str, str]]:
    rows = []
    for path, value in flatten(raw):
        leaf = path.rsplit(".", 1)[-1]
        rows.append((path, mask(value) if leaf in secret_fields and value not in ("", "null") else value))
    return rows


class DetailScreen(AppAccess, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("c", "copy_id", "Copy id", id="detail.copy_id"),
        Binding("y", "copy_value", "Copy value", id="detail.copy_value"),
        Binding("slash", "filter", "Filter", show=False, id="detail.filter"),
    ]

    def __init__(
        self,
        title: str,
        record_id: str,
        raw: dict,
        secret_fields: frozenset[str] = frozenset(),
        *,
        below: Widget | None = None,
    ) -> None:
        """`below`: a section under the fields (a binding's calls), sharing the height."""
        super().__init__()
        self.title_text, self.record_id = title, record_id
        self.rows = detail_rows(raw, secret_fields)
        self.below = below

    def compose(self) -> ComposeResult:
        yield self.teledeck.make_header()
        yield LiteralBar(self.title_text, classes="title-bar")
        table = VirtualTable(id="detail-table")
        # Both wrap, so a long path, a fingerprint or a URL is shown whole however narrow the
        # terminal; the value gives up width first.
        table.set_columns(
            [
                Column("field", "FIELD", max_width=34, wrap=True),
                Column("value", "VALUE", max_width=120, wrap=True, priority=2, min_width=20),
            ]
        )
        table.set_rows([Row(key=path, cells=(path, value)) for path, value in self.rows])
        yield table
        if self.below is not None:
            yield self.below
        yield AppFooter()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_copy_id(self) -> None:
        self.teledeck.copy_with_notice(self.record_id, "id")

    def action_copy_value(self) -> None:
        row = self.query_one("#detail-table", VirtualTable).current_row
        if row is not None:
            self.teledeck.copy_with_notice(row.cells[1], row.cells[0])
