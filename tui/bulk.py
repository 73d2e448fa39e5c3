"""One verb over many marked rows: each through the verb's own one-row path, a few at a time.

Plain asyncio, no Textual: the screen (tui/screens/table_screen.py) shows the progress and the
report. Every row's write settles to a `providers.outcomes.WriteOutcome` exactly as a one-row
verb's does (`one` is that verb's own path, so whatever that path does for one row, it does for
each). Stopping takes no new row; the writes already sent are awaited until they settle, so none
is left unknown without saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tui.wording import plural

if TYPE_CHECKING:
    from providers.outcomes import WriteOutcome

T = TypeVar("T")

#: Rows in flight at once. The session's clients share each account's rate limiter
#: (providers/transport.py), so this bounds the work in flight, not the request rate.
CONCURRENCY = 4
#: Rows a confirm or a report names before "and N more".
NAMED = 5


@dataclass
class BulkReport(Generic[T]):
    """What became of each row: done, failed (not done: the vendor refused, or it was not sent),
    unknown (the answer was lost and the checks could not tell), not started (stopped first)."""

    done: list[T] = field(default_factory=list)
    failed: list[tuple[T, WriteOutcome[Any]]] = field(default_factory=list)
    unknown: list[tuple[T, WriteOutcome[Any]]] = field(default_factory=list)
    not_started: list[T] = field(default_factory=list)

    @property
    def settled(self) -> int:
        return len(self.done) + len(self.failed) + len(self.unknown)

    def summary(self) -> str:
        """ "done 9, failed 1, unknown 0" (and how many were not started, when stopped)."""
        text = f"done {len(self.done)}, failed {len(self.failed)}, unknown {len(self.unknown)}"
        if self.not_started:
            text += f"; stopped: {len(self.not_started)} not started (still marked)"
        return text


async def run_each(
    items: Sequence[T],
    one: Callable[[T], Awaitable[WriteOutcome[Any]]],
    *,
    what: Callable[[T], str],
    concurrency: int = CONCURRENCY,
    stop: asyncio.Event | None = None,
    on_settled: Callable[[T, WriteOutcome[Any]], None] | None = None,
) -> BulkReport[T]:
    """Run `one` for each item, at most `concurrency` at a time, in order of `items`. Once `stop`
    is set no item is started; those in flight settle. An exception out of `one` (a bug: the
    settle functions turn provider errors into outcomes) counts as unknown, since the write may
    have been sent: `what(item)` names it."""
    from providers.outcomes import Outcome, WriteOutcome

    report: BulkReport[T] = BulkReport()
    pending = list(items)
    pending.reverse()  # popped from the end: the first item first

    async def worker() -> None:
        while pending and not (stop is not None and stop.is_set()):
            item = pending.pop()
            try:
                outcome = await one(item)
            except Exception as error:
                outcome = WriteOutcome(
                    Outcome.UNKNOWN, what(item), checked=(f"stopped by an unexpected {type(error).__name__}: {error}",)
                )
            if outcome.done:
                report.done.append(item)
            elif outcome.unknown:
                report.unknown.append((item, outcome))
            else:
                report.failed.append((item, outcome))
            if on_settled is not None:
                on_settled(item, outcome)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(items))))))
    pending.reverse()
    report.not_started = pending
    return report


def why_not(outcome: WriteOutcome[Any]) -> str:
    """One row's failure in a line: the vendor's code and message, or what was checked."""
    if outcome.unknown:
        checked = "; ".join(outcome.checked) or "no check was possible"
        return f"outcome unknown (checked: {checked})"
    if outcome.error is not None:
        return outcome.error.summary()
    return outcome.how or "not done"


def named(names: Sequence[str], limit: int = NAMED) -> list[str]:
    """The first `limit` names, then "… and N more"."""
    shown = list(names[:limit])
    if len(names) > limit:
        shown.append(f"… and {len(names) - limit} more")
    return shown


def question(verb: str, noun: str, names: Sequence[str], consequence: str) -> str:
    """A bulk confirm's question: how many, the first few by name, what follows."""
    lines = [f"{verb} {plural(noun, len(names))}?", *(f"  {name}" for name in named(names))]
    return "\n".join([*lines, "", consequence]) if consequence else "\n".join(lines)
