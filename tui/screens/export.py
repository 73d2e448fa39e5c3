"""The export prompt: where the rows shown go, and as what (CSV, TSV, JSON, JSON Lines).

The path starts as `<resource>-<UTC time>.csv` in the current folder (the data folder when that
cannot be written); the format follows the extension typed, and choosing one renames the
extension. A problem (a folder, no such folder, permission denied, a file that exists) is said
at the field and nothing typed is lost; an existing file is replaced only when asked again for
the same path. The rows are made and written in a worker thread, 0600 (tui/export.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Select

from tui.export import FORMATS, default_path, format_of, path_problem, save
from tui.screens.dialog import DialogScreen
from tui.widgets.literal import LiteralInput, LiteralLabel, LiteralStatic

HINT = "Filter, order and marks as shown; never a secret field. Written readable by you only (0600)."
FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV (tab-separated)", "json": "JSON (one array)", "jsonl": "JSON Lines"}


def export_folder() -> str:
    """The folder an export goes to by default: the current one ("") when it can be written,
    else the data folder's exports/."""
    if os.access(os.getcwd(), os.W_OK | os.X_OK):
        return ""
    from providers.paths import data_dir

    return str(data_dir() / "exports")


class ExportScreen(DialogScreen[str | None]):
    """Returns the absolute path written, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "submit", "Export", id="export.submit"),
    ]

    def __init__(
        self,
        *,
        title: str,
        name: str,
        now: datetime,
        rows: Callable[[], list[dict[str, Any]]],
        folder: str | None = None,
    ) -> None:
        """`rows` makes the fields to write (run in a worker thread); `name` and `now` name the
        default file."""
        super().__init__()
        self.title_text = title
        self.rows = rows
        self.start_path = default_path(name, "csv", now, folder=export_folder() if folder is None else folder)
        self._replace: str | None = None  # the path the user was told exists (enter again replaces it)
        self.writing = False

    def compose_dialog(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog export"):
            yield LiteralStatic(self.title_text, classes="dialog-title")
            with Vertical(classes="field", id="field-path"):
                yield LiteralLabel("File (the extension names the format) *", classes="field-label")
                yield LiteralInput(value=self.start_path, id="export-path")
                yield LiteralLabel("", classes="field-error", id="error-path")
            with Vertical(classes="field", id="field-format"):
                yield LiteralLabel("Format", classes="field-label")
                yield Select(
                    [(FORMAT_NAMES[fmt], fmt) for fmt in FORMATS], value="csv", allow_blank=False, id="export-format"
                )
            yield LiteralStatic(HINT, classes="dialog-hint", id="export-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="submit", variant="primary")

    def on_mount(self) -> None:
        field = self.query_one("#export-path", Input)
        self.set_focus(field)  # at once: what is typed next lands here
        # The cursor before the extension, so typing renames the file and keeps its format.
        field.cursor_position = len(field.value) - len(Path(field.value).suffix)

    @property
    def path(self) -> str:
        return self.query_one("#export-path", Input).value.strip()

    def set_problem(self, problem: str) -> None:
        self.query_one("#error-path", LiteralLabel).update(problem)
        self.query_one("#field-path").set_class(bool(problem), "invalid")

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        fmt = format_of(event.value.strip())
        select = self.query_one("#export-format", Select)
        if fmt is not None and select.value != fmt:
            select.value = fmt
        if event.value.strip() != self._replace:
            self.set_problem("")

    @on(Select.Changed, "#export-format")
    def _format_chosen(self, event: Select.Changed) -> None:
        fmt = str(event.value)
        field = self.query_one("#export-path", Input)
        path = field.value.strip()
        if format_of(path) == fmt:
            return
        stem = path[: -len(Path(path).suffix)] if format_of(path) is not None else path
        field.value = f"{stem}.{fmt}" if stem else ""

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_submit()

    @on(Input.Submitted, "#export-path")
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if self.writing:
            return
        path = self.path
        problem = path_problem(path, replace=path == self._replace)
        if problem:
            if problem.startswith("a file of that name exists"):
                self._replace = path
            self.set_problem(problem)
            self.query_one("#export-path", Input).focus()
            return
        fmt = format_of(path)
        assert fmt is not None  # path_problem checked it
        self.write(path, fmt)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def write(self, path: str, fmt: str) -> None:
        self.writing = True
        self.query_one("#submit", Button).disabled = True
        self.set_problem("")
        hint = self.query_one("#export-hint", LiteralStatic)
        hint.update(f"Writing {path}…")
        try:
            written = await asyncio.to_thread(lambda: save(path, fmt, self.rows()))
        except OSError as error:
            self.set_problem(f"cannot write it: {error.strerror or error}")
            return
        finally:
            self.writing = False
            if self.is_attached:
                self.query_one("#submit", Button).disabled = False
                hint.update(HINT)
        self.dismiss(written)
