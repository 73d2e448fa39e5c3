"""Paged listings that always end, with the pages after the first fetched concurrently.

Telnyx (and Huawei) number their pages from 1. We follow the official SDK's rule (ask for
`page_number + 1` until `page_number >= total_pages` or a page comes back empty), and add the
guards it lacks, so that no answer can keep a listing going:

- a server that answers with a page other than the one we asked for (as the Prism mock does)
  raises `PaginationStalled` instead of looping forever;
- so does a page whose rows are the rows of the page before (a server that echoes the number it
  was asked for but never moves on), and one that claims more pages than we would ever follow;
- the listing ends once it holds `total_results` rows, whatever `total_pages` says;
- a hard cap of `MAX_PAGES` ends anything else.

Volcengine pages by Offset/Limit (`offset_pages`), with the same guards by offset.

Concurrency. The first page is fetched alone: only its answer says how many pages there are.
Once it has, the pages after it are asked for ahead of the consumer, a window of them at a time
that widens (2, 4, 8, ...) up to `concurrency`, as TCP's slow start does: a listing of two pages
never sends eight requests, and a server that stalls is found out after a few. Pages are still
yielded strictly in order and every guard above is checked on each one in turn, so a listing
yields exactly what the sequential one would; requests past the point where it ends are
cancelled. When the server gives no totals, there is nothing to plan by and pages are fetched one
after the other. The account's rate limit is the Transport's (its shared limiter admits every
request), so the window never outruns it.

The fetches run as tasks of their own. Closing the iterator (the consumer stops: `aclose()`, or
`contextlib.aclosing`) or cancelling the consumer cancels those still running and waits for
them, so no task outlives the listing.

Meta that cannot be read at all (not numbers, negative numbers) is each client's to refuse, as a
`MalformedResponse`, when it builds the `Page`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

from providers.errors import MalformedResponse
from providers.records import OffsetPage, Page

MAX_PAGES = 10_000
# Requests in flight for one listing at most. Eight keeps a 40-page listing at about a tenth of its
# sequential time on a 20 ms link while staying well under the connection pool (20) and any
# vendor's burst allowance; the account's limiter has the last word anyway.
DEFAULT_CONCURRENCY = 8

P = TypeVar("P")


class PaginationStalled(MalformedResponse):
    """The server's pages stopped advancing; rows fetched so far are complete but partial."""


def check_advanced(
    unit: str, asked: int, answered: int | None, items: list[object], previous: list[object] | None, *, provider: str
) -> None:
    """Raise PaginationStalled unless the server answered the page (or offset) asked for with rows
    other than the previous page's: one rule for every paged listing, by number or by offset."""
    if answered is not None and answered != asked:
        raise PaginationStalled(
            f"asked for {unit} {asked} but the server answered {unit} {answered}; stopped to avoid a loop",
            provider=provider,
        )
    if previous and items == previous:
        raise PaginationStalled(
            f"the rows of {unit} {asked} repeat the rows before them; stopped to avoid a loop", provider=provider
        )


def _check_concurrency(concurrency: int) -> None:
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")


class _Ahead(Generic[P]):
    """Fetches started ahead of the consumer, one task each, keyed by page number or offset.

    `take` waits for one (starting it if nobody has); `close` cancels every one not taken and
    waits until each has ended, so none is left running and no failure goes unretrieved."""

    def __init__(self, fetch: Callable[[int], Awaitable[P]], name: str) -> None:
        self._fetch = fetch
        self._name = name
        self._tasks: dict[int, asyncio.Task[P]] = {}
        self._dropped: list[asyncio.Task[P]] = []  # cancelled, not yet seen to their end

    async def _run(self, key: int) -> P:
        return await self._fetch(key)

    def launch(self, key: int) -> None:
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"{self._name} {key}")

    async def take(self, key: int) -> P:
        self.launch(key)
        task = self._tasks[key]
        try:
            return await task
        finally:
            # Done: taken (its result or its error is the caller's now). Not done: the consumer
            # was cancelled while waiting, and close() must see the task to the end.
            if task.done():
                del self._tasks[key]

    def cancel(self) -> None:
        """Cancel every fetch not taken yet; a later `take` of the same key starts afresh, and
        close() still waits for the cancelled ones."""
        for task in self._tasks.values():
            task.cancel()
            self._dropped.append(task)
        self._tasks.clear()

    async def close(self) -> None:
        self.cancel()
        dropped, self._dropped = self._dropped, []
        if dropped:
            await asyncio.gather(*dropped, return_exceptions=True)


def _last_page(page: Page, rows: int, size: int) -> int | None:
    """The last page number worth asking for after `page`, by what it says (None: it says nothing):
    its total_pages, or as many pages as the rows still missing from total_results fill."""
    ends: list[int] = []
    if page.total_pages is not None:
        ends.append(page.total_pages)
    if page.total_results is not None and size > 0:
        ends.append(page.page_number + math.ceil((page.total_results - rows) / size))
    return min(ends) if ends else None


async def numbered_pages(
    fetch: Callable[[int], Awaitable[Page]],
    *,
    provider: str,
    max_pages: int = MAX_PAGES,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncGenerator[Page, None]:
    """Every page of a listing by page number, in order (see the module docstring)."""
    _check_concurrency(concurrency)
    ahead: _Ahead[Page] = _Ahead(fetch, f"{provider} page")
    number = 1
    rows = 0
    size = 0  # rows per page, as the first page has them
    previous: list[object] | None = None
    last: int | None = None  # the last page to ask for; None: unknown, so one page at a time
    window = 1
    try:
        for fetched in range(max_pages):
            if last is not None:
                # Ask ahead, but never for more pages than the cap lets the listing take.
                top = min(last, number + window - 1, number + max_pages - fetched - 1)
                for ahead_number in range(number, top + 1):
                    ahead.launch(ahead_number)
            page = await ahead.take(number)
            # The first answer is taken whatever number it carries (a server may count from 0, or a
            # static mock may label it 2): nothing can be duplicated yet. After that, an answer for a
            # page other than the one asked for would repeat rows, so we stop instead.
            check_advanced(
                "page", number, page.page_number if fetched else None, page.items, previous, provider=provider
            )
            yield page
            if not page.items:
                return
            rows += len(page.items)
            if page.total_results is not None and rows >= page.total_results:
                return
            if page.total_pages is not None and page.page_number >= page.total_pages:
                return
            if page.total_pages is not None and page.total_pages > max_pages:
                raise PaginationStalled(
                    f"the server claims {page.total_pages} pages, more than the {max_pages} we follow; stopped",
                    provider=provider,
                )
            previous = page.items
            size = size or len(page.items)
            number = max(page.page_number + 1, number + 1)
            last = _last_page(page, rows, size)
            window = min(concurrency, window * 2) if last is not None else 1
        raise PaginationStalled(f"stopped after {max_pages} pages", provider=provider)
    finally:
        await ahead.close()


async def offset_pages(
    fetch: Callable[[int], Awaitable[OffsetPage]],
    *,
    page_size: int,
    provider: str,
    max_pages: int = MAX_PAGES,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncGenerator[OffsetPage, None]:
    """Every page of an Offset/Limit listing, in order. `fetch(offset)` asks for `page_size` rows.

    The next offset is always the rows received so far, as the sequential listing had it. Ahead
    of the consumer it asks at the offsets the first page's row count strides to; a page shorter
    than that before the end (a server that capped the limit differently, rows that went away)
    means those offsets no longer line up, so they are dropped and the rest is fetched one page
    at a time. A listing ends on an empty page, at `total`, or (with no total) on a short page."""
    _check_concurrency(concurrency)
    ahead: _Ahead[OffsetPage] = _Ahead(fetch, f"{provider} offset")
    offset = 0
    stride = 0  # rows per page, as the first page has them; 0: fetch one page at a time
    aligned = True
    previous: list[object] | None = None
    total: int | None = None
    window = 1
    try:
        for fetched in range(max_pages):
            if total is not None and stride and aligned:
                for k in range(min(window, max_pages - fetched)):
                    at = offset + k * stride
                    if at >= total:
                        break
                    ahead.launch(at)
            page = await ahead.take(offset)
            check_advanced("offset", offset, page.offset, page.items, previous, provider=provider)
            yield page
            previous = page.items
            offset += len(page.items)
            if not page.items or (page.total is not None and offset >= page.total):
                return
            if page.total is None and len(page.items) < page_size:
                return
            if stride and len(page.items) != stride and aligned:
                aligned = False
                ahead.cancel()
            stride = stride or len(page.items)
            total = page.total
            window = min(concurrency, window * 2) if total is not None else 1
        raise PaginationStalled(f"stopped after {max_pages} pages", provider=provider)
    finally:
        await ahead.close()
