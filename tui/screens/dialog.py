"""The base of every dialog (confirm, form, help, token, validation, the ':' prompt).

A dialog shows its own keys in a footer of its own: the list below it keeps its footer, but none
of those keys act while the dialog is up, so showing them there would mislead.
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Footer

ResultT = TypeVar("ResultT")


class DialogScreen(ModalScreen[ResultT]):
    def compose(self) -> ComposeResult:
        yield from self.compose_dialog()
        yield Footer(show_command_palette=False)

    def compose_dialog(self) -> ComposeResult:
        """The dialog itself (the footer is added after it)."""
        raise NotImplementedError
