"""Shows a new access token, masked until the user asks to see it; copying is explicit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from providers.telnyx.models import AccessToken, mask
from tui.clipboard import copy_text
from tui.screens.dialog import DialogScreen
from tui.widgets.literal import LiteralStatic


class TokenScreen(DialogScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="token.close"),
        Binding("r", "reveal", "Reveal/hide", id="token.reveal"),
        Binding("c", "copy", "Copy token", id="token.copy"),
    ]

    def __init__(self, token: AccessToken, credential_name: str) -> None:
        super().__init__()
        self.token, self.credential_name, self.revealed = token, credential_name, False

    def compose_dialog(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield LiteralStatic(f"New access token for {self.credential_name}", classes="dialog-title")
            yield LiteralStatic(mask(self.token.value), id="token-value")
            yield LiteralStatic(
                "Masked. r reveals it on screen, c copies it (OSC 52). It is not stored anywhere.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")
                yield Button("Reveal", id="reveal")
                yield Button("Copy", id="copy")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        pressed = {"close": self.action_close, "reveal": self.action_reveal, "copy": self.action_copy}
        pressed[event.button.id or "close"]()

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        shown = self.token.value if self.revealed else mask(self.token.value)
        self.query_one("#token-value", Static).update(shown)
        self.query_one("#reveal", Button).label = "Hide" if self.revealed else "Reveal"

    def action_copy(self) -> None:
        copy_text(self.app, self.token.value)
        self.notify("Token copied to the clipboard (OSC 52).")

    def action_close(self) -> None:
        self.dismiss(None)
