"""A long list on the generic resource screen: the first page painted at once, the rest fetched
concurrently, and the title bar saying how far the listing has got until it is done."""

from __future__ import annotations

import asyncio

import httpx

from providers.sandbox import AsyncInProcessTransport
from tests.tui.conftest import settle, table

SIZE = (140, 40)


class HeldPages(httpx.AsyncBaseTransport):
    """The sandbox, except that pages from `hold_from` on wait until the test lets them go."""

    def __init__(self, sandbox, hold_from: int) -> None:
        self.inner = AsyncInProcessTransport(sandbox)
        self.hold_from = hold_from
        self.release = asyncio.Event()
        self.held = 0
        self.cancelled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page[number]", "1"))
        if page >= self.hold_from and not self.release.is_set():
            self.held += 1
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            finally:
                self.held -= 1
        return await self.inner.handle_async_request(request)


def title(app) -> str:
    return str(app.screen.query_one("#title-bar").render())


async def until(pilot, condition) -> None:
    """Let the app run until `condition()` holds (a bounded number of turns, not a time)."""
    for _ in range(500):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("the app never got there")


def add_rows(sandbox) -> None:
    template = sandbox.state["access_ips"][0]
    sandbox.state["access_ips"].extend(
        {**template, "id": f"00000000-0000-4000-8000-{n:012d}", "ip_address": f"10.0.{n // 256}.{n % 256}"}
        for n in range(1949)
    )  # 2,000 rows: 40 pages of 50


async def test_a_long_list_paints_page_by_page_and_says_how_far_it_has_got(make_app, sandbox):
    add_rows(sandbox)
    wire = HeldPages(sandbox, hold_from=13)
    app = make_app(page_size=50, http_transports={"telnyx": wire})
    async with app.run_test(size=SIZE) as pilot:
        # Pages 1 to 12 are on screen while 13 and the pages asked with it wait.
        await until(pilot, lambda: table(app).total_count == 600 and wire.held > 1)
        assert "page 12 of 40 · loading…" in title(app)
        assert not table(app).loading  # the rows already here are shown, not a spinner
        wire.release.set()
        await settle(pilot)
        assert table(app).total_count == 2000
        assert len({table(app).row_at(i).key for i in range(2000)}) == 2000
        assert "loading" not in title(app) and app.screen.progress == ""
        assert "2000 rows" in title(app)


async def test_a_refresh_mid_listing_cancels_the_fetches_in_flight(make_app, sandbox):
    add_rows(sandbox)
    wire = HeldPages(sandbox, hold_from=13)
    app = make_app(page_size=50, http_transports={"telnyx": wire})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).total_count == 600 and wire.held > 1)
        in_flight = wire.held
        await pilot.press("r")  # the new listing replaces the old one
        await until(pilot, lambda: wire.cancelled == in_flight)
        wire.release.set()
        await settle(pilot)
        assert table(app).total_count == 2000 and "loading" not in title(app)
        leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("telnyx page")]
        assert leftover == []  # no page fetch outlives its listing
