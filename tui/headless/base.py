"""What every headless command shares: its errors and exit statuses, where output goes (`Out`),
how a provider error is said, the resources it can name, and a few words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from tui.literal import literal

if TYPE_CHECKING:
    from providers.errors import ProviderError
    from providers.session import ProviderSession
    from tui.resources import ResourceSpec

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


GET_FORMATS = ("table", "json", "jsonl", "csv", "tsv")


BINDINGS = "bindings"  # the SPECIAL_SCREENS mode `get` lists from the ledger
CALLS = "calls"  # the other: the calls the vendors pushed, from the ledger (`get calls` only)


class UsageError(Exception):
    """Exit 2: what the user asked for cannot be done as asked; nothing was sent."""


class Failed(Exception):
    """Exit 1: the provider refused, or the record is not there; the message says which."""


class Cancelled(Exception):
    """The user answered no to a confirmation: nothing was sent (exit 1: nothing was done)."""


@dataclass
class Out:
    """Where data and messages go, and what the terminal allows."""

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO

    @property
    def tty(self) -> bool:
        return _isatty(self.stdout)

    def data(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def say(self, message: str) -> None:
        """A message on stderr, shown literally (it may carry a server's words)."""
        self.stderr.write(literal(message) + "\n")
        self.stderr.flush()

    def fmt(self, chosen: str | None) -> str:
        return chosen or ("table" if self.tty else "tsv")

    def colour(self) -> bool:
        from tui.text_table import wants_colour

        return wants_colour(self.stdout)

    def confirm(self, question: str, yes: bool, verb: str) -> None:
        """Ask `question` on the terminal unless `yes`; UsageError when stdin is not a terminal."""
        if yes:
            return
        if not _isatty(self.stdin):
            raise UsageError(f"stdin is not a terminal, so nothing can be asked: pass --yes to {verb} without asking")
        self.stderr.write(literal(question) + " [y/N] ")
        self.stderr.flush()
        answer = self.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise Cancelled


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def say_error(out: Out, error: ProviderError, doing: str) -> None:
    """A provider error as the console's report_error says it: the vendor code and message, the
    request id, and the vendor's field pointers."""
    out.say(f"teledeck: {error.provider or 'provider'} error while {doing}: {error.summary()}")
    for problem in error.problems:
        code = f"[{problem.code}] " if problem.code else ""
        out.say(f"  {problem.pointer or problem.field}: {code}{problem.message}")
    if error.request_id:
        out.say(f"  request id {error.request_id}")


def resource_names() -> list[str]:
    from tui.resources import REGISTRY

    return [*REGISTRY, BINDINGS]


def names_calls(name: str) -> bool:
    """Whether `name` is the calls (`get calls`, `get call`, as ':' takes them)."""
    from tui.app import destinations
    from tui.screens.command import resolve

    found = resolve(name, destinations())
    return found is not None and found.mode == CALLS


def resolve_resource(name: str) -> ResourceSpec | None:
    """The spec `name` names as ':' resolves it, or None for the bindings (UsageError otherwise)."""
    from tui.app import destinations
    from tui.resources import REGISTRY
    from tui.screens.command import resolve

    found = resolve(name, destinations())
    if found is None:
        raise UsageError(f"unknown resource {name!r}; one of: {', '.join(resource_names())}")
    if found.mode in REGISTRY:
        return REGISTRY[found.mode]
    if found.mode == BINDINGS:
        return None
    raise UsageError(f"{found.title} is a console screen, not a resource; one of: {', '.join(resource_names())}")


def need_account(session: ProviderSession, provider: str) -> None:
    if not session.has(provider):
        raise UsageError(f"profile {session.profile!r} has no {provider} account; nothing was sent")


def session_now(session: ProviderSession) -> datetime:
    return datetime.fromtimestamp(session.clock(), UTC)


def plural(noun: str) -> str:
    return noun + ("es" if noun.endswith("s") else "s")


def counted(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else plural(noun)}"


def seconds(age: float) -> str:
    return f"{age:.0f} s"
