"""A yes/no question for destructive or costly actions. Cancel has the focus."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from tui.screens.dialog import DialogScreen
from tui.widgets.literal import LiteralStatic


class ConfirmScreen(DialogScreen[bool]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
        Binding("left,right,h,l", "switch", "Switch", show=False, id="confirm.switch"),
    ]

    def __init__(
        self, question: str, *, confirm_label: str = "Delete", title: str = "Confirm", danger: bool = True
    ) -> None:
        super().__init__()
        self.question, self.confirm_label, self.title_text, self.danger = question, confirm_label, title, danger

    def compose_dialog(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield LiteralStatic(self.title_text, classes="dialog-title")
            yield LiteralStatic(self.question, id="question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "success")

    def on_mount(self) -> None:
        # At once, not queued behind keys already typed: a fast Enter must meet Cancel.
        self.set_focus(self.query_one("#cancel", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_switch(self) -> None:
        self.focus_next(Button)
