"""The result of validating an address: valid or not, each problem, and the suggested form."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from providers.telnyx.models import AddressValidation


def render_validation(result: AddressValidation, name: str) -> Text:
    text = Text()
    text.append(f"Validation of {name}\n\n", style="bold")
    style = "bold green" if result.result == "valid" else "bold red"
    text.append("Result: ")
    text.append(result.result.upper(), style=style)
    text.append("\n")
    if result.problems:
        text.append("\nProblems:\n", style="bold")
        for code, pointer, message in result.problems:
            where = f" at {pointer}" if pointer else ""
            text.append(f"  [{code}]{where}: {message}\n")
    if result.suggested:
        text.append("\nSuggested changes:\n", style="bold")
        for key, value in result.suggested.items():
            text.append(f"  {key:<22}{value}\n")
        text.append("\nPress a on the address to accept the suggestions.\n", style="dim")
    elif result.result == "valid":
        text.append("\nNothing to accept: the address is already in the form Telnyx suggests.\n", style="dim")
    return text


class ValidationScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="validation.close")]

    def __init__(self, result: AddressValidation, name: str) -> None:
        super().__init__()
        self.result, self.name_text = result, name

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="dialog"):
            yield Static(render_validation(self.result, self.name_text), id="validation")

    def action_close(self) -> None:
        self.dismiss(None)
