"""Page-number pagination that always ends.

Telnyx (and Huawei) number their pages from 1. We follow the official SDK's rule (ask for
`page_number + 1` until `page_number >= total_pages` or a page comes back empty), and add the
guards it lacks, so that no answer can keep a listing going:

- a server that answers with a page other than the one we asked for (as the Prism mock does)
  raises `PaginationStalled` instead of looping forever;
- so does a page whose rows are the rows of the page before (a server that echoes the number it
  was asked for but never moves on), and one that claims more pages than we would ever follow;
- the listing ends once it holds `total_results` rows, whatever `total_pages` says;
- a hard cap of `MAX_PAGES` ends anything else.

Meta that cannot be read at all (not numbers, negative numbers) is each client's to refuse, as a
`MalformedResponse`, when it builds the `Page`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from providers.errors import MalformedResponse
from providers.records import Page

MAX_PAGES = 10_000


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


async def numbered_pages(
    fetch: Callable[[int], Awaitable[Page]], *, provider: str, max_pages: int = MAX_PAGES
) -> AsyncIterator[Page]:
    number = 1
    rows = 0
    previous: list[object] | None = None
    for fetched in range(max_pages):
        page = await fetch(number)
        # The first answer is taken whatever number it carries (a server may count from 0, or a
        # static mock may label it 2): nothing can be duplicated yet. After that, an answer for a
        # page other than the one asked for would repeat rows, so we stop instead.
        check_advanced("page", number, page.page_number if fetched else None, page.items, previous, provider=provider)
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
        number = max(page.page_number + 1, number + 1)
    raise PaginationStalled(f"stopped after {max_pages} pages", provider=provider)
