"""tui/bulk.py: a few rows at a time, in order; a stop starts no more and lets those in flight
settle; every outcome is counted where it belongs."""

from __future__ import annotations

import asyncio

from providers.errors import ProviderError
from providers.outcomes import Outcome, WriteOutcome
from tui.bulk import BulkReport, named, question, run_each, why_not
from tui.wording import plural


def done(item: str) -> WriteOutcome[None]:
    return WriteOutcome(Outcome.DONE, f"delete {item}", how="answered")


async def test_at_most_four_at_once_in_order_and_each_outcome_counted() -> None:
    in_flight: list[str] = []
    most = 0
    started: list[str] = []
    refused = ProviderError("in use", code="10015", provider="telnyx")

    async def one(item: str) -> WriteOutcome[None]:
        nonlocal most
        started.append(item)
        in_flight.append(item)
        most = max(most, len(in_flight))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        in_flight.remove(item)
        if item == "c":
            return WriteOutcome(Outcome.NOT_DONE, "delete c", error=refused)
        if item == "e":
            return WriteOutcome(Outcome.UNKNOWN, "delete e", checked=("sent: timed out",))
        if item == "f":
            raise RuntimeError("a bug")
        return done(item)

    items = list("abcdefghij")
    seen: list[str] = []
    report = await run_each(items, one, what=str, on_settled=lambda item, outcome: seen.append(item))
    assert started == items
    assert most == 4
    assert sorted(seen) == items
    assert report.done == [i for i in items if i not in "cef"]
    assert [item for item, _ in report.failed] == ["c"]
    assert [item for item, _ in report.unknown] == ["e", "f"]
    assert "unexpected RuntimeError: a bug" in why_not(report.unknown[1][1])
    assert why_not(report.failed[0][1]) == refused.summary()
    assert report.summary() == "done 7, failed 1, unknown 2"


async def test_a_stop_starts_no_more_and_those_in_flight_settle() -> None:
    gate = asyncio.Event()
    stop = asyncio.Event()
    started: list[int] = []

    async def one(item: int) -> WriteOutcome[None]:
        started.append(item)
        await gate.wait()
        return done(str(item))

    running = asyncio.ensure_future(run_each(list(range(10)), one, what=str, stop=stop, concurrency=3))
    while len(started) < 3:
        await asyncio.sleep(0)
    stop.set()
    gate.set()
    report = await running
    assert started == [0, 1, 2]
    assert report.done == [0, 1, 2]
    assert report.not_started == list(range(3, 10))
    assert report.summary() == "done 3, failed 0, unknown 0; stopped: 7 not started (still marked)"


async def test_nothing_to_do_is_done_at_once() -> None:
    async def one(item: str) -> WriteOutcome[None]:
        raise AssertionError("not called")

    assert await run_each([], one, what=str) == BulkReport()


def test_a_question_names_how_many_and_the_first_few() -> None:
    names = [f"access IP 192.0.2.{i}" for i in range(1, 9)]
    asked = question("Delete", "access IP", names, "This cannot be undone.")
    assert asked.splitlines() == [
        "Delete 8 access IPs?",
        *(f"  access IP 192.0.2.{i}" for i in range(1, 6)),
        "  … and 3 more",
        "",
        "This cannot be undone.",
    ]
    assert named(["a", "b"]) == ["a", "b"]
    assert [plural(noun, n) for noun, n in (("address", 2), ("binding", 1), ("binding", 0))] == [
        "2 addresses",
        "1 binding",
        "0 bindings",
    ]
