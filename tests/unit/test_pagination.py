"""The pagination guard: follows pages, stops at the end, never loops on a stuck server; the pages
after the first are fetched concurrently, within a cap, and still come in order."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import pytest

from providers.errors import MalformedResponse
from providers.pagination import DEFAULT_CONCURRENCY, PaginationStalled, numbered_pages, offset_pages
from providers.records import OffsetPage, Page


def server(
    total_items: int, size: int, *, stuck_at: int | None = None, omit_total: bool = False, omit_results: bool = False
):
    calls: list[int] = []

    async def fetch(number: int) -> Page:
        calls.append(number)
        answered = min(number, stuck_at) if stuck_at else number
        start = (answered - 1) * size
        items = list(range(start, min(start + size, total_items)))
        pages = -(-total_items // size)
        return Page(
            items=items,
            page_number=answered,
            page_size=size,
            total_pages=None if omit_total else pages,
            total_results=None if omit_results else total_items,
        )

    return fetch, calls


async def collect(fetch, **kw):
    return [item async for page in numbered_pages(fetch, provider="t", **kw) for item in page.items]


async def test_follows_every_page_and_stops_on_the_last():
    fetch, calls = server(45, 10)
    assert await collect(fetch) == list(range(45))
    assert calls == [1, 2, 3, 4, 5]


async def test_without_total_pages_stops_on_an_empty_page():
    fetch, calls = server(20, 10, omit_total=True, omit_results=True)
    assert await collect(fetch) == list(range(20))
    assert calls == [1, 2, 3]


async def test_a_server_repeating_a_page_is_stopped_not_looped():
    fetch, calls = server(100, 10, stuck_at=2)  # like the Prism mock: always answers page 2
    seen = []
    with pytest.raises(PaginationStalled) as caught:
        async for page in numbered_pages(fetch, provider="t"):
            seen.extend(page.items)
    assert seen == list(range(20))  # no duplicates of page 2
    assert calls == [1, 2, 3]
    assert "asked for page 3" in str(caught.value)


async def test_page_cap_ends_an_endless_server():
    async def endless(number: int) -> Page:
        return Page(items=[number], page_number=number, page_size=1, total_pages=None, total_results=None)

    with pytest.raises(PaginationStalled):
        await collect(endless, max_pages=50)


async def test_first_page_is_kept_whatever_number_the_server_gives_it():
    async def labelled_two_of_three(number: int) -> Page:
        return Page(items=["only"], page_number=2, page_size=25, total_pages=3, total_results=55)

    seen = []
    with pytest.raises(PaginationStalled):
        async for page in numbered_pages(labelled_two_of_three, provider="t"):
            seen.extend(page.items)
    assert seen == ["only"]  # shown once, then stopped: the next answer repeats it


async def test_zero_of_zero_meta_ends_normally_after_the_first_page():
    async def prism_style(number: int) -> Page:
        return Page(items=["x"], page_number=0, page_size=0, total_pages=0, total_results=0)

    assert await collect(prism_style) == ["x"]


async def test_a_listing_ends_once_it_holds_total_results_rows():
    fetch, calls = server(20, 10, omit_total=True)  # no total_pages, but 20 results said
    assert await collect(fetch) == list(range(20))
    assert calls == [1, 2]  # no third request for the empty page


async def test_total_results_ends_a_listing_whose_total_pages_is_wrong():
    async def lying(number: int) -> Page:
        return Page(items=[number], page_number=number, page_size=1, total_pages=9_000, total_results=3)

    assert await collect(lying) == [1, 2, 3]


async def test_a_server_echoing_the_page_number_with_the_same_rows_is_stopped():
    calls: list[int] = []

    async def echoing(number: int) -> Page:
        calls.append(number)
        return Page(items=["a", "b"], page_number=number, page_size=2, total_pages=None, total_results=None)

    seen = []
    with pytest.raises(PaginationStalled) as caught:
        async for page in numbered_pages(echoing, provider="t"):
            seen.extend(page.items)
    assert seen == ["a", "b"] and calls == [1, 2]
    assert "repeat the rows before them" in str(caught.value)


async def test_a_claim_of_more_pages_than_we_follow_stops_after_the_first():
    async def boastful(number: int) -> Page:
        return Page(items=[number], page_number=number, page_size=1, total_pages=10**12, total_results=None)

    seen = []
    with pytest.raises(PaginationStalled) as caught:
        async for page in numbered_pages(boastful, provider="t", max_pages=100):
            seen.extend(page.items)
    assert seen == [1]
    assert "claims 1000000000000 pages" in str(caught.value)


# ---- concurrent pages ------------------------------------------------------------------------
# The pages after the first are fetched ahead of the consumer. These servers finish later pages
# first (a page yields to the loop fewer times the higher its number), count what is in flight,
# and can hold pages until the test lets them go.


class Concurrent:
    def __init__(self, total_items: int, size: int, *, totals: bool = True, hold_from: int | None = None):
        self.total_items, self.size, self.totals = total_items, size, totals
        self.started: list[int] = []
        self.cancelled: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.hold_from = hold_from  # pages from this number on wait for `release`
        self.release = asyncio.Event()
        self.pages = -(-total_items // size)

    async def fetch(self, number: int) -> Page:
        self.started.append(number)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(max(0, 2 * (self.pages - number))):
                await asyncio.sleep(0)
            if self.hold_from is not None and number >= self.hold_from:
                await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(number)
            raise
        finally:
            self.in_flight -= 1
        start = (number - 1) * self.size
        return Page(
            items=list(range(start, min(start + self.size, self.total_items))),
            page_number=number,
            page_size=self.size,
            total_pages=self.pages if self.totals else None,
            total_results=self.total_items if self.totals else None,
        )


def other_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_pages_finishing_out_of_order_are_yielded_in_order_each_once():
    server = Concurrent(1000, 10)
    numbers, items = [], []
    async for page in numbered_pages(server.fetch, provider="t"):
        numbers.append(page.page_number)
        items.extend(page.items)
    assert numbers == list(range(1, 101))
    assert items == list(range(1000))  # complete, in order, no duplicates
    assert sorted(server.started) == list(range(1, 101))  # each page asked for once
    assert server.most_in_flight == DEFAULT_CONCURRENCY == 8  # the cap is reached, never passed
    assert other_tasks() == set()


async def test_the_first_page_is_fetched_alone_then_the_window_widens():
    server = Concurrent(1000, 10)
    pages = numbered_pages(server.fetch, provider="t")
    await anext(pages)
    await asyncio.sleep(0)  # whatever was launched has started now
    assert server.started == [1]  # nothing more is asked before the consumer wants more
    await anext(pages)
    await asyncio.sleep(0)
    assert server.started == [1, 2, 3]  # a window of two
    await anext(pages)
    await asyncio.sleep(0)
    assert server.started == [1, 2, 3, 4, 5, 6]  # four
    await pages.aclose()
    assert other_tasks() == set()


async def test_never_more_than_the_cap_in_flight():
    server = Concurrent(500, 10)
    assert await collect(server.fetch, concurrency=3) == list(range(500))
    assert server.most_in_flight == 3


async def test_without_totals_pages_are_fetched_one_at_a_time():
    server = Concurrent(95, 10, totals=False)
    assert await collect(server.fetch) == list(range(95))
    assert server.most_in_flight == 1
    assert server.started == list(range(1, 12))  # up to the first empty page, as before


async def test_a_consumer_that_stops_early_leaves_no_fetch_running():
    server = Concurrent(1000, 10, hold_from=6)
    async with contextlib.aclosing(numbered_pages(server.fetch, provider="t")) as pages:
        async for page in pages:
            if page.page_number == 4:
                break
    assert server.cancelled  # pages were in flight, and were cancelled
    assert server.in_flight == 0 and other_tasks() == set()


async def test_a_cancelled_consumer_leaves_no_fetch_running():
    server = Concurrent(1000, 10, hold_from=5)
    seen: list[int] = []

    async def consume():
        async for page in numbered_pages(server.fetch, provider="t"):
            seen.append(page.page_number)

    consumer = asyncio.create_task(consume())
    while len(seen) < 4 or server.in_flight < 4:  # pages 5.. are asked for and held
        await asyncio.sleep(0)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert seen == [1, 2, 3, 4]
    assert server.in_flight == 0 and set(server.cancelled) == set(server.started) - {1, 2, 3, 4}
    assert other_tasks() == set()


async def test_an_error_on_a_later_page_comes_after_every_page_before_it():
    server = Concurrent(1000, 10)
    unretrieved: list[dict] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: unretrieved.append(context))

    async def failing(number: int) -> Page:
        if number in (6, 9):  # 9 fails first (later pages finish first), but 6 is the one shown
            for _ in range(2 * (100 - number)):
                await asyncio.sleep(0)
            raise MalformedResponse(f"page {number} is broken", provider="t")
        return await server.fetch(number)

    seen: list[int] = []
    with pytest.raises(MalformedResponse) as caught:
        async for page in numbered_pages(failing, provider="t"):
            seen.append(page.page_number)
    assert seen == [1, 2, 3, 4, 5] and "page 6" in str(caught.value)
    assert other_tasks() == set()
    gc.collect()
    assert unretrieved == []  # page 9's error was collected when the listing ended, not dropped


async def test_guards_hold_with_pages_in_flight():
    # A server that answers page 2 for every page past 1: ended at the first repeat, whatever
    # was asked ahead.
    fetch, _ = server(1000, 10, stuck_at=2)
    seen = []
    with pytest.raises(PaginationStalled) as caught:
        async for page in numbered_pages(fetch, provider="t"):
            seen.extend(page.items)
    assert seen == list(range(20)) and "asked for page 3" in str(caught.value)
    assert other_tasks() == set()

    # A page that comes back empty ends the listing there, though more pages were claimed.
    async def hollow(number: int) -> Page:
        items = [] if number == 4 else [number]
        return Page(items=items, page_number=number, page_size=1, total_pages=40, total_results=40)

    assert await collect(hollow) == [1, 2, 3]
    assert other_tasks() == set()

    # total_results ends it although total_pages says more: nothing past it is asked.
    asked: list[int] = []

    async def lying(number: int) -> Page:
        asked.append(number)
        return Page(items=[number], page_number=number, page_size=1, total_pages=9_000, total_results=30)

    assert await collect(lying) == list(range(1, 31))
    assert max(asked) == 30


async def test_the_page_cap_bounds_what_is_asked_ahead():
    asked: list[int] = []

    async def endless(number: int) -> Page:
        asked.append(number)  # total_results would take a million pages; the cap is 30
        return Page(items=[number], page_number=number, page_size=1, total_pages=None, total_results=10**6)

    with pytest.raises(PaginationStalled) as caught:
        await collect(endless, max_pages=30)
    assert "stopped after 30 pages" in str(caught.value)
    assert sorted(asked) == list(range(1, 31))


async def test_concurrency_below_one_is_refused():
    fetch, _ = server(10, 10)
    with pytest.raises(ValueError):
        await collect(fetch, concurrency=0)


# ---- offset pages ------------------------------------------------------------------------------


class Offsets:
    def __init__(self, rows: int, *, totals: bool = True, short_at: int | None = None):
        self.data = list(range(rows))
        self.totals = totals
        self.short_at = short_at  # this offset answers half a page (rows that went away)
        self.asked: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def fetch(self, offset: int, limit: int = 10) -> OffsetPage:
        self.asked.append(offset)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(max(0, (len(self.data) - offset) // 5)):
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
        take = limit // 2 if offset == self.short_at else limit
        return OffsetPage(
            items=self.data[offset : offset + take],
            offset=offset,
            limit=limit,
            total=len(self.data) if self.totals else None,
        )


async def offset_items(fetch, **kw) -> list[int]:
    return [i async for page in offset_pages(fetch, page_size=10, provider="t", **kw) for i in page.items]


async def test_offset_pages_come_in_order_complete_and_concurrently():
    offsets = Offsets(455)
    assert await offset_items(offsets.fetch) == list(range(455))
    assert sorted(offsets.asked) == list(range(0, 455, 10))  # each offset once
    assert offsets.most_in_flight == 8
    assert other_tasks() == set()


async def test_offset_pages_without_a_total_go_one_at_a_time():
    offsets = Offsets(95, totals=False)
    assert await offset_items(offsets.fetch) == list(range(95))
    assert offsets.most_in_flight == 1


async def test_a_short_offset_page_before_the_end_falls_back_to_one_at_a_time():
    offsets = Offsets(300, short_at=40)
    assert await offset_items(offsets.fetch) == list(range(300))  # no row lost or repeated
    assert 45 in offsets.asked  # the next offset is what came, not what was planned
    assert other_tasks() == set()


async def test_offset_pages_that_never_advance_are_stopped():
    async def stuck(offset: int) -> OffsetPage:
        return OffsetPage(items=[1, 2], offset=0, limit=2, total=100)

    with pytest.raises(PaginationStalled) as caught:
        await offset_items(stuck)
    assert "asked for offset 2" in str(caught.value)
    assert other_tasks() == set()
