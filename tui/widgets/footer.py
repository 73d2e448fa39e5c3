"""The footer of a main screen: the screen's verbs from the left, the app's own keys (q, ?, :) and
the command palette held at the right edge. On a narrow terminal the verbs that do not fit are
left out whole (every one is listed under `?`), never the keys that quit, explain and move.

One widget that draws one line, instead of Textual's Footer (a container of one FooterKey widget
per key): on a main screen those were about twenty widgets to build, style, lay out and render
before the first frame, ~50-100 ms of a start of ~0.6 s (benchmarks/cold_start.py), and each
change of the keys in force rebuilt them all. Here a change of keys is a repaint.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import RenderResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.style import Style
from textual.widget import Widget

from tui.keymap import bindings_of, declared_order

SEPARATOR = "▏"  # between the verbs and the held keys (Textual's footer draws it as a vkey border)


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it; `start`/`end` are its columns, both None when it was left
    out for want of room."""

    key: str  # the key's name, as a press would be (`ctrl+d`)
    display: str  # as shown (`^d`)
    description: str
    enabled: bool
    held: bool  # one of the app's keys or the palette's, kept at the right edge
    start: int | None = None
    end: int | None = None

    @property
    def shown(self) -> bool:
        return self.start is not None

    def text(self) -> str:
        return f"{self.display} {self.description}" if self.description else self.display

    @property
    def width(self) -> int:
        return cell_len(self.text())


class AppFooter(Widget, can_focus=False):
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "app-footer--separator"}
    ALLOW_SELECT = False
    DEFAULT_CSS = """
    AppFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        & > .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .app-footer--separator {
            color: $foreground 20%;
        }
    }
    """

    GAP = 2  # columns between two keys

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: tuple[FooterKey, ...] = ()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Textual says the bindings may have changed (focus moved, a widget mounted) several
        # times while a screen starts; each time costs one repaint of one line.
        if screen is self.screen:
            self.refresh()

    # ---- what is shown --------------------------------------------------------------------

    def _in_force(self) -> tuple[list[FooterKey], list[FooterKey]]:
        """The screen's verbs and the held keys, in the order the bindings give them; one key per
        action (the first), as Textual's footer does."""
        app = self.app
        # The app's keys as remapped (a screen may answer one itself: its own ?).
        app_keys = {key for key, _ in bindings_of(app)}
        palette = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        verbs: list[FooterKey] = []
        held: list[FooterKey] = []
        palette_key: FooterKey | None = None
        actions: set[str] = set()
        in_force = list(self.screen.active_bindings.items())
        if app._keymap:  # Textual moves a remapped key last: the footer keeps the declared order
            order = declared_order(self.screen)
            in_force.sort(key=lambda item: order.get(item[1].binding.id or item[1].binding.action, len(order)))
        for key, active in in_force:
            binding: Binding = active.binding
            if key == palette:
                palette_key = FooterKey(key, app.get_key_display(binding), "palette", active.enabled, True)
                continue
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            shown = FooterKey(key, app.get_key_display(binding), binding.description, active.enabled, key in app_keys)
            (held if shown.held else verbs).append(shown)
        if palette_key is not None:
            held.append(palette_key)
        return verbs, held

    def _place(self, width: int) -> tuple[FooterKey, ...]:
        verbs, held = self._in_force()
        held_width = sum(k.width for k in held) + self.GAP * max(0, len(held) - 1)
        held_start = max(0, width - held_width - 1)  # 1 space after the last held key
        placed: list[FooterKey] = []
        column = 1
        room = held_start - 2  # the separator and a space before it
        for verb in verbs:
            size = verb.width
            if column + size <= room:
                placed.append(_at(verb, column))
                column += size + self.GAP
            else:
                room = -1  # once one verb is cut, the ones after it are too (the order stays)
                placed.append(verb)
        column = held_start
        for key in held:
            placed.append(_at(key, column))
            column += key.width + self.GAP
        return tuple(placed)

    @property
    def keys(self) -> tuple[FooterKey, ...]:
        """The keys of the last line drawn, with where each is (tests and clicks read this)."""
        return self._keys

    def render(self) -> RenderResult:
        width = self.size.width
        self._keys = keys = self._place(width)
        key_style = self.get_visual_style("footer-key--key")
        description_style = self.get_visual_style("footer-key--description")
        separator_style = self.get_visual_style("app-footer--separator")
        dim = Style(dim=True)
        parts: list[str | tuple[str, Style]] = []
        column = 0
        held_start = next((k.start for k in keys if k.held and k.start is not None), width)
        for key in sorted((k for k in keys if k.start is not None), key=lambda k: k.start or 0):
            start = key.start or 0
            if key.held and column < held_start - 1 <= start:
                parts.append(" " * (held_start - 2 - column))
                parts.append((SEPARATOR, separator_style))
                parts.append(" ")
                column = held_start
            parts.append(" " * (start - column))
            parts.append((key.display, key_style if key.enabled else key_style + dim))
            if key.description:
                parts.append((f" {key.description}", description_style if key.enabled else description_style + dim))
            column = start + key.width
        return Content.assemble(*parts)

    # ---- mouse ----------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        for key in self._keys:
            if key.start is not None and key.end is not None and key.start <= event.x < key.end:
                event.stop()
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return


def _at(key: FooterKey, column: int) -> FooterKey:
    return FooterKey(key.key, key.display, key.description, key.enabled, key.held, column, column + key.width)
