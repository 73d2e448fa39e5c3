"""The footer of a main screen: the screen's verbs from the left, the app's own keys (q, ?, :) and
the command palette held at the right edge. On a narrow terminal the verbs are cut (every one is
listed under `?`), never the keys that quit, explain and move."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class AppFooter(Footer):
    DEFAULT_CSS = """
    AppFooter .app-keys {
        dock: right;
        width: auto;
        background: $footer-background;
        border-left: vkey $foreground 20%;
        padding-left: 1;
    }
    AppFooter .app-keys FooterKey.-command-palette {
        dock: none;
        border-left: none;
    }
    """

    def compose(self) -> ComposeResult:
        app_keys = {key for key, _ in self.app._bindings}  # a screen may answer one itself (its own ?)
        verbs: list[Widget] = []
        held: list[Widget] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and (widget.key in app_keys or widget.has_class("-command-palette")):
                held.append(widget)
            else:
                verbs.append(widget)
        self.styles.grid_size_columns = len(verbs)
        yield from verbs
        if held:
            yield HorizontalGroup(*held, classes="app-keys")
