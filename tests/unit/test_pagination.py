"""The pagination guard: follows pages, stops at the end, never loops on a stuck server."""

from __future__ import annotations

import pytest

from providers.pagination import PaginationStalled, numbered_pages
from providers.records import Page


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
