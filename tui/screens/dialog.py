"""The base of every dialog (confirm, form, help, token, validation, the ':' prompt).

A dialog shows its own keys in a footer of its own: the list below it keeps its footer, but none
of those keys act while the dialog is up, so showing them there would mislead.

Tab and shift+tab move focus as priority bindings. Without that, a Tab travels as a key event
from the focused field up to the screen before focus moves, and the keys a fast typist sends
meanwhile are delivered to the field being left (a burst "Tab +30m" typed "+30m" into the field
before Expires). A priority binding runs in the app's own key handler, before the next key.
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer

import styles

ResultT = TypeVar("ResultT")


class DialogScreen(ModalScreen[ResultT]):
    # Textual adds a screen's CSS_PATH to the app's stylesheet when the screen is first shown,
    # with the app's own priority: the dialogs' rules cost the first frame nothing.
    CSS_PATH = str(styles.DIALOGS)
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="dialog.focus_next"),
        Binding(
            "shift+tab", "app.focus_previous", "Previous field", show=False, priority=True, id="dialog.focus_previous"
        ),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_dialog()
        yield Footer(show_command_palette=False)

    def compose_dialog(self) -> ComposeResult:
        """The dialog itself (the footer is added after it)."""
        raise NotImplementedError
