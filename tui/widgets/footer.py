"""The footer of a main screen: the screen's verbs from the left, the app's own keys (q, ?, :) and
the command palette held at the right edge. On a narrow terminal the verbs are cut (every one is
listed under `?`), never the keys that quit, explain and move."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tui.keymap import bindings_of

if TYPE_CHECKING:
    from textual.screen import Screen


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

    # What the keys now on the footer were composed from (None: not composed with keys yet), and
    # whether a rebuild is already waiting for the next refresh.
    _shown: tuple[object, ...] | None = None
    _rebuild_queued = False

    def _what_it_shows(self) -> tuple[object, ...]:
        """Everything of the screen's bindings in force that the footer's keys show."""
        app = self.app
        return (
            self.show_command_palette and app.ENABLE_COMMAND_PALETTE,
            *(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    binding.group,
                    enabled,
                    tooltip,
                )
                for _, binding, enabled, tooltip in self.screen.active_bindings.values()
                if binding.show
            ),
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Textual's Footer.bindings_changed, but Textual rebuilds every key each time the screen
        # says its bindings may have changed (focus moved, a widget mounted): five times while a
        # screen starts, each the same keys, before the first rows reach the terminal. Here one
        # rebuild waits for the refresh, and only if the keys would differ from those shown.
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or self._rebuild_queued:
            return
        if self._shown is None or self._what_it_shows() != self._shown:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_queued = False
        if self.is_attached and (self._shown is None or self._what_it_shows() != self._shown):
            await self.recompose()

    def compose(self) -> ComposeResult:
        if not self._bindings_ready and self.is_attached:
            # Textual's Footer composes empty and fills in after the first refresh, which leaves
            # the keys (the costliest part of a main screen) to be built after the start-up
            # frame, in front of anything a screen runs once its first frame is out. The keys
            # the screen offers are known now; later changes rebuild as usual.
            self._bindings_ready = True
        if self._bindings_ready:
            self._shown = self._what_it_shows()
        # The app's keys as remapped (a screen may answer one itself: its own ?).
        app_keys = {key for key, _ in bindings_of(self.app)}
        verbs: list[Widget] = []
        held: list[Widget] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # A FooterKey starts compact and the footer's data binding then turns that off:
                # two restyles of every key (and its parts) on each rebuild. Started as the
                # footer is, the binding changes nothing. (Textual binds every key but the
                # command palette's, which stays compact.)
                widget.set_reactive(FooterKey.compact, self.compact)
            if isinstance(widget, FooterKey) and (widget.key in app_keys or widget.has_class("-command-palette")):
                held.append(widget)
            else:
                verbs.append(widget)
        self.styles.grid_size_columns = len(verbs)
        yield from verbs
        if held:
            yield HorizontalGroup(*held, classes="app-keys")
