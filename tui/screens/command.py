"""The ':' prompt, as in k9s: type a screen's name or alias, Enter goes there.

Matching is exact (a name, an alias, or a title as written without spaces), never fuzzy, so a
short alias such as `ip` cannot land on another screen whose title happens to contain the letters.
Tab completes the longest unambiguous prefix, and again cycles through what still matches; the
line above the prompt lists the candidates. An unknown name says so and closes the prompt, so the
next key is never swallowed. Fuzzy search stays where it belongs: the command palette (ctrl+p).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Static


@dataclass(frozen=True)
class Destination:
    """A screen ':' can go to: its mode, its title and the other names it answers to."""

    mode: str
    title: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name that opens it, the mode first."""
        title = self.title.lower()
        spelled = (self.mode, *self.aliases, title.replace(" ", ""), title.replace(" ", "_"))
        return tuple(dict.fromkeys(n for n in spelled if n))


def resolve(text: str, destinations: Iterable[Destination]) -> Destination | None:
    """The destination `text` names exactly (case-insensitive, a leading ':' allowed), else None."""
    wanted = text.strip().lower().lstrip(":").strip()
    if not wanted:
        return None
    for destination in destinations:
        if wanted in destination.names or wanted == destination.title.lower():
            return destination
    return None


def completions(text: str, destinations: Iterable[Destination]) -> list[str]:
    """The names that start with `text`, modes before aliases, each once."""
    wanted = text.strip().lower().lstrip(":")
    found: dict[str, None] = {}
    every = list(destinations)
    for names in ([d.mode for d in every], [n for d in every for n in d.names[1:]]):
        for name in names:
            if name.startswith(wanted):
                found.setdefault(name)
    return list(found)


def _common_prefix(names: Sequence[str]) -> str:
    """The letters every one of `names` starts with."""
    first, last = min(names), max(names)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


class CommandScreen(ModalScreen[str | None]):
    """Dismissed with the mode to open, or None (esc, empty, or a name that matches nothing)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="command.cancel"),
        Binding("tab", "complete", "Complete", id="command.complete", priority=True),
    ]

    def __init__(self, destinations: Sequence[Destination]) -> None:
        super().__init__()
        self.destinations = tuple(destinations)
        self._cycle: list[str] = []  # what Tab steps through once the prefix is ambiguous

    def compose(self) -> ComposeResult:
        names = [n for d in self.destinations for n in d.names]
        with Vertical(id="command-box"):
            yield Static("", id="command-matches", markup=False)
            yield Input(
                placeholder="screen name or alias · Tab completes · Enter goes · esc cancels",
                id="command-input",
                suggester=SuggestFromList(names, case_sensitive=False),
            )
        yield Footer()

    def on_mount(self) -> None:
        self._show_matches("")

    @property
    def prompt(self) -> Input:
        return self.query_one("#command-input", Input)

    def _show_matches(self, text: str) -> None:
        """The candidates: those Tab steps through while it cycles, else every name `text` starts."""
        found = self._cycle or completions(text, self.destinations)
        marked = [f"▸{name}" if self._cycle and name == text else name for name in found]
        shown = "  ".join(marked[:12]) + ("  …" if len(found) > 12 else "")
        self.query_one("#command-matches", Static).update(shown or f"no screen starts with {text.strip()!r}")

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        if event.value not in self._cycle:
            self._cycle = []
        self._show_matches(event.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        found = resolve(text, self.destinations)
        if found is None and text:
            self.app.notify(
                f"No screen called {text!r}. Tab completes a name; ctrl+p searches.",
                title="Unknown screen",
                severity="warning",
                markup=False,
            )
        self.dismiss(found.mode if found else None)

    def action_complete(self) -> None:
        prompt = self.prompt
        if self._cycle:  # ambiguous: each Tab shows the next candidate
            at = self._cycle.index(prompt.value) if prompt.value in self._cycle else -1
            choice = self._cycle[(at + 1) % len(self._cycle)]
        else:
            found = completions(prompt.value, self.destinations)
            if not found:
                self.app.bell()
                return
            common = _common_prefix(found)
            if len(found) > 1 and len(common) <= len(prompt.value.strip()):
                self._cycle = found
                choice = found[0]
            else:
                choice = found[0] if len(found) == 1 else common
        prompt.value = choice
        prompt.cursor_position = len(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
