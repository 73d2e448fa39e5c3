"""The ':' prompt, as in k9s: type a screen's name or alias, Enter goes there.

Matching is exact (a name, an alias, or a title as written without spaces), never fuzzy, so a
short alias such as `ip` cannot land on another screen whose title happens to contain the letters.
Tab completes the longest unambiguous prefix, and again cycles through what still matches; the
line above the prompt lists the candidates. An unknown name says so and closes the prompt, so the
next key is never swallowed. Fuzzy search stays where it belongs: the command palette (ctrl+p).

What follows the name is the list's filter, as the filter box takes it (`:bindings /13800`,
`:allowlist !pending`; the leading `/` is k9s's and optional); `:q`, `:quit` and `:q!` quit.
Up and Down walk the commands given before (tui/history.py keeps them across runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input

from tui.screens.dialog import DialogScreen
from tui.widgets.literal import LiteralInput, LiteralStatic


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


# What quits, as in k9s and vi. No screen may be called one of these (tests/tui/test_command.py).
QUIT_WORDS = frozenset({"q", "quit", "q!"})


@dataclass(frozen=True)
class Command:
    """What the prompt was told: a screen to open (and the filter to open it with), or quit."""

    text: str  # as typed, without the leading ':'
    mode: str = ""
    filter: str = ""
    quit: bool = False
    name: str = ""  # the name as typed (for "no screen called ...")


def parse(text: str, destinations: Sequence[Destination]) -> Command:
    """`text` read as NAME [FILTER]. The longest run of leading words that names a screen is the
    name ("billing groups" is a title), the rest is the filter, one leading `/` dropped."""
    typed = text.strip().lstrip(":").strip()
    words = typed.split()
    if not words:
        return Command(typed)
    if len(words) == 1 and words[0].lower() in QUIT_WORDS:
        return Command(typed, quit=True, name=words[0])
    for size in range(len(words), 0, -1):
        found = resolve(" ".join(words[:size]), destinations)
        if found is not None:
            rest = typed.split(None, size)[size] if size < len(words) else ""
            return Command(typed, found.mode, rest.removeprefix("/").strip(), name=" ".join(words[:size]))
    return Command(typed, name=words[0])


def _split(text: str) -> tuple[str, str]:
    """(the name being typed, what follows it, with its leading space)."""
    head, space, tail = text.partition(" ")
    return head, space + tail


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


class CommandScreen(DialogScreen[Command | None]):
    """Dismissed with the Command given, or None (esc, empty, or a name that matches nothing)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="command.cancel"),
        Binding("tab", "complete", "Complete", id="command.complete", priority=True),
        # Priority: the text field has up and down of its own (scrolling, which it cannot do).
        Binding(
            "up",
            "older",
            "History",
            id="command.older",
            tooltip="the command before; down: the one after",
            priority=True,
        ),
        Binding("down", "newer", "Newer", show=False, id="command.newer", priority=True),
    ]

    def __init__(self, destinations: Sequence[Destination], history: Sequence[str] = ()) -> None:
        super().__init__()
        self.destinations = tuple(destinations)
        self._cycle: list[str] = []  # what Tab steps through once the prefix is ambiguous
        self.history = tuple(history)  # oldest first
        self._at: int | None = None  # the history entry shown, None while typing a new one
        self._draft = ""  # what was being typed when Up was first pressed

    def compose_dialog(self) -> ComposeResult:
        names = [n for d in self.destinations for n in d.names]
        with Vertical(id="command-box"):
            yield LiteralStatic("", id="command-matches")
            yield LiteralInput(
                placeholder="screen name or alias, then a filter · Tab completes · ↑ history · esc cancels",
                id="command-input",
                suggester=SuggestFromList(names, case_sensitive=False),
            )

    def on_mount(self) -> None:
        self._show_matches("")

    @property
    def prompt(self) -> Input:
        return self.query_one("#command-input", Input)

    def _show_matches(self, text: str) -> None:
        """The candidates: those Tab steps through while it cycles, else every name `text` starts;
        then the filter the command opens its screen with, if it has one."""
        head, _ = _split(text)
        found = self._cycle or completions(head, self.destinations)
        marked = [f"▸{name}" if self._cycle and name == head else name for name in found]
        shown = "  ".join(marked[:12]) + ("  …" if len(found) > 12 else "")
        line = shown or f"no screen starts with {head.strip()!r}"
        command = parse(text, self.destinations)
        if command.quit:
            line = "quit teledeck"
        elif command.mode and command.filter:
            line = f"{command.mode}, filtered by {command.filter!r}"
        if self._at is not None and text == self.history[self._at]:
            line = f"history {len(self.history) - self._at} of {len(self.history)} · {line}"
        self.query_one("#command-matches", LiteralStatic).update(line)

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        if _split(event.value)[0] not in self._cycle:
            self._cycle = []
        self._show_matches(event.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        command = parse(event.value, self.destinations)
        if not command.mode and not command.quit:
            if command.text:
                self.app.notify(
                    f"No screen called {command.name!r}. Tab completes a name; ctrl+p searches.",
                    title="Unknown screen",
                    severity="warning",
                    markup=False,
                )
            self.dismiss(None)
            return
        self.dismiss(command)

    def action_complete(self) -> None:
        prompt = self.prompt
        head, rest = _split(prompt.value)
        if self._cycle:  # ambiguous: each Tab shows the next candidate
            at = self._cycle.index(head) if head in self._cycle else -1
            choice = self._cycle[(at + 1) % len(self._cycle)]
        else:
            found = completions(head, self.destinations)
            if not found:
                self.app.bell()
                return
            common = _common_prefix(found)
            if len(found) > 1 and len(common) <= len(head.strip()):
                self._cycle = found
                choice = found[0]
            else:
                choice = found[0] if len(found) == 1 else common
        prompt.value = choice + rest  # the filter typed after the name stays
        prompt.cursor_position = len(choice)

    # ---- history ---------------------------------------------------------------------------

    def _recall(self, at: int | None) -> None:
        self._at = at
        text = self._draft if at is None else self.history[at]
        self.prompt.value = text
        self.prompt.cursor_position = len(text)

    def action_older(self) -> None:
        """The command before the one shown (the newest first); at the oldest, stay there."""
        if not self.history:
            self.app.bell()
            return
        if self._at is None:
            self._draft = self.prompt.value
            self._recall(len(self.history) - 1)
        elif self._at > 0:
            self._recall(self._at - 1)
        else:
            self.app.bell()

    def action_newer(self) -> None:
        """The command after the one shown; past the newest, back to what was being typed."""
        if self._at is None:
            self.app.bell()
        elif self._at < len(self.history) - 1:
            self._recall(self._at + 1)
        else:
            self._recall(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
