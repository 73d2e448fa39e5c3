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
        if fetched and page.page_number != number:
            raise PaginationStalled(
                f"asked for page {number} but the server answered page {page.page_number}; stopped to avoid a loop",
                provider=provider,
            )
        if previous and page.items == previous:
            raise PaginationStalled(
                f"page {page.page_number} repeats the rows of the page before; stopped to avoid a loop",
                provider=provider,
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
        number = max(page.page_number + 1, number + 1)
    raise PaginationStalled(f"stopped after {max_pages} pages", provider=provider)
