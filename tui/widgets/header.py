"""The one-line header: app, profile, provider endpoint, and the SANDBOX / READ-ONLY badges."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.literal import literal


class AppHeader(Static):
    DEFAULT_CSS = """
    AppHeader { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(
        self, *, profile: str, provider: str, endpoint: str, sandbox: bool, read_only: bool, offline: bool = False
    ) -> None:
        super().__init__(id="app-header")
        self.profile, self.provider, self.endpoint = profile, provider, endpoint
        self.sandbox, self.read_only, self.offline = sandbox, read_only, offline

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" teledeck ", style="bold reverse")
        text.append(literal(f"  profile: {self.profile}", single_line=True), style="bold")
        text.append(
            literal(f"  {self.provider}: {self.endpoint}" if self.provider else f"  {self.endpoint}", single_line=True)
        )
        if self.sandbox:
            text.append("  ")
            text.append(" SANDBOX ", style="bold black on yellow")
        if self.offline:
            text.append("  ")
            text.append(" OFFLINE ", style="bold black on cyan")
        if self.read_only:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold white on red")
        return text
