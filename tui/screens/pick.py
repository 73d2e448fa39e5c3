"""A list to pick one value from (a vendor's number pools for the bind form's Pool field, how a
simulated call should go)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.literal import literal
from tui.screens.dialog import DialogScreen
from tui.widgets.literal import LiteralStatic


class PickScreen(DialogScreen[str | None]):
    """Dismissed with the value picked, or None (esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick.cancel")]

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        *,
        hint: str = "enter picks · esc leaves the field as it is",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = tuple(choices)
        self.hint = hint

    def compose_dialog(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog pick"):
            yield LiteralStatic(self.title_text, classes="dialog-title")
            # Text, not a markup string: a pool's name comes from the vendor.
            yield OptionList(
                *(Option(Text(literal(line, single_line=True)), id=str(n)) for n, (_, line) in enumerate(self.choices)),
                id="pick-list",
            )
            yield LiteralStatic(self.hint, classes="dialog-hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#pick-list", OptionList))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
