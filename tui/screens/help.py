"""`?` help, made from the bindings in force on the screen below: its own keys (inherited ones
too, minus verbs it hides), the focused widget's, and the app's. Nothing here is a second list
of keys that could drift from the real ones."""

from __future__ import annotations

from dataclasses import dataclass

from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from tui.keymap import bindings_of
from tui.screens.dialog import DialogScreen

# What no binding says: the filter box reads these keys itself.
NOTES = (
    "In the filter box: enter keeps the filter and goes back to the list; esc clears it.",
    "Filters: text matches any column; ~regex (any case, each cell on its own); column:value"
    " (a column by name, e.g. status:pending); a leading ! inverts any of them (!~^10\\., !status:added).",
    "Marks: delete, unbind and extend act on every marked row after one confirm; export and"
    " copy take the marked rows when there are marks, else all rows shown.",
)


@dataclass(frozen=True)
class HelpRow:
    keys: str  # as the footer shows them, e.g. "^d" or "↑, k"
    description: str
    tooltip: str = ""


def _rows(node: DOMNode, bindings: list[Binding], *, hide_disabled: bool = True) -> list[HelpRow]:
    """One row per binding id (or action), its keys together, in the order they are bound."""
    grouped: dict[str, list[Binding]] = {}
    for binding in bindings:
        if not binding.description:
            continue  # Textual's system keys (e.g. ctrl+c) have no text to show
        if hide_disabled:
            _, name, parameters = parse(binding.action)
            if node.check_action(name, parameters) is False:
                continue  # a verb this screen does not offer, hidden here as in the footer
        grouped.setdefault(binding.id or binding.action, []).append(binding)
    app = node.app
    return [
        # One key's several names (ctrl+space arrives as ctrl+@ or ctrl+space) are shown once.
        HelpRow(", ".join(dict.fromkeys(app.get_key_display(b) for b in group)), group[0].description, group[0].tooltip)
        for group in grouped.values()
    ]


def _bound(node: DOMNode) -> list[Binding]:
    """`node`'s bindings on the keys they answer to now (config.toml's [keymap] applied)."""
    return [binding for _key, binding in bindings_of(node)]


@dataclass(frozen=True)
class HelpSections:
    screen: list[HelpRow]  # the screen's own verbs (teledeck's bindings, all with an id)
    focused: list[HelpRow]  # the focused widget's keys the screen does not rebind
    general: list[HelpRow]  # the app's keys, and the ones Textual gives every screen


def keys_in_force(screen: Screen) -> HelpSections:
    """What each key does on `screen` now, in the order Textual looks: focused widget, screen, app."""
    screen_bindings = _bound(screen)
    screen_actions = {b.key: b.action for b in screen_bindings}
    focused_bindings: list[Binding] = []
    focused_keys: set[str] = set()
    node: DOMNode | None = screen.focused
    while node is not None and node is not screen:
        for binding in _bound(node):
            if binding.key not in screen_actions and binding.key not in focused_keys:
                focused_bindings.append(binding)
        focused_keys.update(b.key for b in _bound(node))
        node = node.parent

    def app_key_in_force(binding: Binding) -> bool:
        if binding.priority:
            return True  # Textual checks these before any screen or widget
        if binding.key in screen_actions:
            return screen_actions[binding.key] == binding.action  # e.g. a screen's own `?` help
        return binding.key not in focused_keys

    textuals = [b for b in screen_bindings if (b.key, b.action) in _textual_bindings(type(screen))]
    ours = [b for b in screen_bindings if b not in textuals]
    return HelpSections(
        screen=_rows(screen, ours),
        focused=_rows(screen.focused, focused_bindings) if screen.focused is not None else [],
        general=_rows(screen.app, [b for b in _bound(screen.app) if app_key_in_force(b)]) + _rows(screen, textuals),
    )


def _textual_bindings(screen_class: type) -> set[tuple[str, str]]:
    """(key, action) of the bindings a screen inherits from Textual's own classes."""
    return {
        (binding.key, binding.action)
        for cls in screen_class.__mro__
        if cls.__module__.startswith("textual.")
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", ()))
    }


def _line(keys: str, description: str, tooltip: str = "") -> str:
    return f"  [b]{keys:<14}[/b] {description}" + (f" [dim]— {tooltip}[/dim]" if tooltip else "")


def _section(heading: str, rows: list[HelpRow]) -> list[str]:
    return ["", f"[b]{heading}[/b]", "", *(_line(r.keys, r.description, r.tooltip) for r in rows)]


class HelpScreen(DialogScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, for_screen: Screen, title: str) -> None:
        super().__init__()
        self.sections = keys_in_force(for_screen)
        # (keys, description) of the screen's own bindings; a screen may reword them before showing.
        self.rows: list[tuple[str, str]] = [(row.keys, row.description) for row in self.sections.screen]
        self.title_text = title

    def compose_dialog(self) -> ComposeResult:
        tooltips = {row.keys: row.tooltip for row in self.sections.screen}
        lines = [f"[b]{self.title_text}[/b]", ""]
        lines += [_line(keys, text, tooltips.get(keys, "")) for keys, text in self.rows]
        lines += _section("General", self.sections.general)
        if self.sections.focused:
            lines += _section("In the list", self.sections.focused)
        lines += ["", *NOTES]
        with VerticalScroll(id="dialog", classes="dialog help"):
            yield Static("\n".join(lines), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
