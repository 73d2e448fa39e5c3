"""`?` help: every key of the screen below, from its live bindings, plus the general keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

GENERAL = (
    (":  / ctrl+p", "jump to a resource by name"),
    ("/", "filter as you type (case-insensitive; start with ! to invert)"),
    ("esc", "clear the filter, close a dialog, or go back"),
    ("?", "this help"),
    ("q", "quit"),
)


def _describe(screen: Screen) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _key, bindings in screen._bindings.key_to_bindings.items():
        for binding in bindings:
            if not binding.description or binding.action in seen:
                continue
            if screen.check_action(binding.action, ()) is False:
                continue  # a verb this resource does not have, hidden here as in the footer
            seen.add(binding.action)
            rows.append((binding.key_display or screen.app.get_key_display(binding), binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, for_screen: Screen, title: str) -> None:
        super().__init__()
        self.rows = _describe(for_screen)
        self.title_text = title

    def compose(self) -> ComposeResult:
        lines = [f"[b]{self.title_text}[/b]", ""]
        lines += [f"  [b]{key:<14}[/b] {text}" for key, text in self.rows]
        lines += ["", "[b]General[/b]", ""]
        lines += [f"  [b]{key:<14}[/b] {text}" for key, text in GENERAL]
        with VerticalScroll(id="dialog", classes="dialog help"):
            yield Static("\n".join(lines), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
