"""A VirtualTable doing its work in slices between event-loop turns (as a large table does):
correctness only, no timings. The tables here are small but made to work in slices (sync_rows 0,
a slice per loop turn, tiny slices), so many requests and changes land while work is under way."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Iterator

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from tests.tui.conftest import settle
from tui.widgets import Column, Row, VirtualTable, table_rows
from tui.widgets import virtual_table as virtual_table_module
from tui.widgets.virtual_table import FilterError

SIZE = (100, 30)
SOURCES = ["api", "portal", "sso", "terraform", "import"]


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_rows, "SLICE_ROWS", 16)
    monkeypatch.setattr(table_rows, "CHUNK_ROWS", 32)
    monkeypatch.setattr(virtual_table_module, "SLICE_ROWS", 16)


def ip_order(row: Row) -> int | None:
    text = row.cells[1]
    if not text:
        return None
    network = ipaddress.ip_network(text, strict=False)
    return (network.version << 136) | (int(network.network_address) << 8) | network.prefixlen


COLUMNS = [
    Column("id", "ID", justify="right", order=lambda row: int(row.key[1:])),
    Column("ip", "IP", order=ip_order),
    Column("source", "Source"),
    Column("left", "Left"),  # typed through Row.order
]


def make_row(i: int) -> Row:
    left = None if i % 11 == 0 else (i * 7919) % 5000
    ip = "" if i % 13 == 0 else (f"10.{i % 7}.{(i * 3) % 256}.{i % 5}/32" if i % 4 else f"2001:db8::{i:x}/128")
    return Row(f"r{i}", (str(i), ip, SOURCES[i % len(SOURCES)], f"{left}s"), order={"left": left})


def make_rows(count: int, start: int = 0) -> list[Row]:
    return [make_row(i) for i in range(start, start + count)]


def slow(table: VirtualTable) -> VirtualTable:
    table.sync_rows = 0  # every change is work in slices
    table.slice_seconds = 0.0  # one slice per event-loop turn
    table.filter_turn_seconds = 0.0  # a filter too: its first slice in the call, the rest in turns
    return table


class TableApp(App[None]):
    CSS = "VirtualTable { height: 1fr; }"

    def __init__(self, rows: list[Row] | Iterator[Row] | None = None) -> None:
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        yield Input(id="filter")
        yield slow(VirtualTable(COLUMNS, id="table"))

    def on_mount(self) -> None:
        if self._rows is not None:
            self.query_one(VirtualTable).set_rows(self._rows)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one(VirtualTable).set_filter(event.value)


def shown(table: VirtualTable) -> list[str]:
    return [table.row_at(i).key for i in range(table.visible_count)]


def fresh(rows: list[Row], *, needle: str = "", sort: str | None = None, reverse: bool = False) -> list[str]:
    """What a table that does everything at once shows for these rows, filter and sort."""
    table = VirtualTable(COLUMNS)  # not in an app: its work runs inside each call
    table.set_rows(rows)
    table.sort_by(sort, reverse)
    table.set_filter(needle)
    return shown(table)


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


# ------------------------------------------------------------------ filters


async def test_a_stale_filter_never_replaces_a_newer_one() -> None:
    rows = make_rows(600)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table.sort_by("ip")
        await table.wait_until_idle()
        queries = ["1", "12", "9", "", "!1", "2", "23", "terraform", "5"]
        results = {query: fresh(rows, needle=query, sort="ip") for query in queries}
        assert len({tuple(keys) for keys in results.values()}) == len(queries)  # each view tells its query
        by_view = {tuple(keys): query for query, keys in results.items()}
        latest = None
        changes: list[tuple[str | None, str]] = []  # (latest request then, the query whose result is shown)
        last_view = tuple(shown(table))
        superseded = 0
        for turn in range(400):
            if turn % 9 == 0 and turn // 9 < len(queries):
                latest = queries[turn // 9]
                superseded += table.busy
                table.set_filter(latest)  # mostly while the one before is still under way
            await asyncio.sleep(0)
            view = tuple(shown(table))
            if view != last_view:
                changes.append((latest, by_view.get(view, "<a view no query gives>")))
                last_view = view
        await table.wait_until_idle()
        assert superseded >= len(queries) // 2, "the filters did not overlap: the test shows nothing"
        assert changes, "nothing was ever shown"
        assert all(request == query for request, query in changes), changes
        assert shown(table) == results[queries[-1]]
        assert table.filter_text == queries[-1]


async def test_typed_fast_only_the_last_query_is_shown_and_it_equals_a_full_filter() -> None:
    rows = make_rows(400)
    app = TableApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        app.query_one(Input).focus()
        await pilot.press(*"terra")
        await table.wait_until_idle()
        assert shown(table) == fresh(rows, needle="terra")
        await pilot.press("backspace", "backspace", "backspace", "backspace")  # widening: "t"
        await table.wait_until_idle()
        assert shown(table) == fresh(rows, needle="t")


async def test_narrowing_and_widening_in_slices_equal_a_full_filter_sorted_or_not() -> None:
    rows = make_rows(500)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        for sort, reverse in [(None, False), ("left", True), ("ip", False), ("source", True)]:
            table.sort_by(sort, reverse)
            await table.wait_until_idle()
            for query in ["t", "te", "ter", "te", "", "!a", "!ap", "!a", "1", "12", "123", "!"]:
                count = table.set_filter(query)  # None: in slices; a count: a result made before
                await table.wait_until_idle()
                assert shown(table) == fresh(rows, needle=query, sort=sort, reverse=reverse), (sort, query)
                assert count in (None, table.visible_count)


async def test_regex_and_column_filters_in_slices_equal_a_full_filter_sorted_or_not() -> None:
    rows = make_rows(500)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        queries = ["terra", "source:terra", "source:terraform", "!source:api", "~^10\\.3\\.", "!~^10\\.", "ip:2001"]
        for sort, reverse in [(None, False), ("ip", True), ("left", False)]:
            table.sort_by(sort, reverse)
            await table.wait_until_idle()
            for query in [*queries, *reversed(queries), ""]:
                count = table.set_filter(query)
                assert count is None or count == table.visible_count
                await table.wait_until_idle()
                assert shown(table) == fresh(rows, needle=query, sort=sort, reverse=reverse), (sort, query)
        table.set_filter("source:sso")
        await table.wait_until_idle()
        before = shown(table)
        for bad in ("~(", "nosuch:x"):
            with pytest.raises(FilterError):
                table.set_filter(bad)
            assert table.filter_text == "source:sso" and shown(table) == before


async def test_marks_are_kept_by_key_through_a_sliced_reload_sort_and_filter() -> None:
    rows = make_rows(300)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table.mark_keys(["r10", "r3", "r250", "nosuch"])  # a key the table has not is not marked
        assert table.mark_count == 3
        table.sort_by("ip", True)
        table.set_filter("source:api")  # r10 is shown, r3 (terraform) hidden: both stay marked
        table.set_rows(make_rows(200))  # r250 is no longer held
        await table.wait_until_idle()
        assert shown(table) == fresh(make_rows(200), needle="source:api", sort="ip", reverse=True)
        assert table.mark_count == 2 and table.is_marked("r3") and not table.is_marked("r250")
        table.set_filter("source:terraform")
        await table.wait_until_idle()
        assert [row.key for row in table.marked_rows()] == ["r3", "r10"]  # the one shown first
        table.prune_marks()
        table.remove_row("r3")
        assert not table.is_marked("r3") and table.mark_count == 1
        assert table.clear_marks() == 1 and table.mark_count == 0


# --------------------------------------------------------------------- sort


@pytest.mark.parametrize("column", ["id", "ip", "left", "source"])
async def test_sorting_in_slices_orders_by_the_typed_values(column: str) -> None:
    rows = make_rows(300)
    value: dict[str, Callable[[Row], object]] = {
        "id": lambda row: int(row.key[1:]),
        "ip": ip_order,
        "left": lambda row: row.order["left"] if row.order else None,
        "source": lambda row: row.cells[2],
    }
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        for reverse in (False, True):
            table.sort_by(column, reverse)
            assert table.busy and table.busy_text == "sorting…"
            await table.wait_until_idle()
            key = value[column]
            present = [row for row in rows if key(row) is not None]
            expected = sorted(present, key=key, reverse=reverse) + [row for row in rows if key(row) is None]
            assert shown(table) == [row.key for row in expected]


async def test_typed_values_that_do_not_compare_sort_by_the_text_in_slices() -> None:
    columns = [Column("v", "V", order=lambda row: row.data)]
    rows = [Row(f"k{i}", (f"{i:03d}",), data=(i if i % 2 else f"x{i}")) for i in range(200)]
    app = App[None]()
    async with app.run_test(size=SIZE):
        table = slow(VirtualTable(columns))
        await app.mount(table)
        table.set_rows(rows)
        table.sort_by("v", reverse=True)
        await table.wait_until_idle()
        assert shown(table) == [f"k{i}" for i in reversed(range(200))]


# ------------------------------------------------------------------- cursor


async def test_the_cursor_stays_on_its_row_across_a_sort_and_a_filter_in_slices() -> None:
    rows = make_rows(500)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        assert table.move_cursor_to_key("r123")
        table.sort_by("ip", reverse=True)
        await table.wait_until_idle()
        assert table.current_key == "r123"
        assert table.cursor_row == shown(table).index("r123")
        table.set_filter("3")  # r123 still matches
        await table.wait_until_idle()
        assert table.current_key == "r123"
        table.set_filter("")
        await table.wait_until_idle()
        assert table.current_key == "r123"
        # Moved while a sort is under way: the row under the cursor when the result comes.
        table.sort_by("id")
        await turns(3)
        assert table.busy
        table.action_cursor_down()
        moved_to = table.current_key
        await table.wait_until_idle()
        assert table.current_key == moved_to


async def test_set_rows_in_slices_keeps_the_cursor_on_its_row() -> None:
    app = TableApp(make_rows(300))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        assert table.move_cursor_to_key("r250")
        table.set_rows(make_rows(300, start=50))  # r250 now comes at index 200, slices later
        await table.wait_until_idle()
        assert table.current_key == "r250" and table.cursor_row == 200


# ------------------------------------------------------------ rows arriving


def counted(rows: list[Row], taken: list[int]) -> Iterator[Row]:
    """The rows, counting how many the table has taken so far (the rows are built as taken)."""
    for row in rows:
        taken[0] += 1
        yield row


async def test_rows_appended_while_set_rows_is_taking_rows_are_not_lost() -> None:
    first = make_rows(400)
    taken = [0]
    app = TableApp()
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.set_rows(counted(first, taken))
        assert 0 < taken[0] < 400 and table.visible_count  # the first slice is shown at once
        assert table.busy_text.startswith("loading rows")
        pages = [make_rows(30, start=400 + 30 * n) for n in range(4)]
        for page in pages:
            await turns(2)
            table.append_rows(page)
        assert taken[0] < 400, "the load ended before the pages came: the test shows nothing"
        await table.wait_until_idle()
        everything = first + [row for page in pages for row in page]
        assert table.total_count == len(everything)
        assert shown(table) == [row.key for row in everything]  # the pages after the rows given


async def test_rows_appended_while_sorting_or_filtering_are_taken_into_the_result() -> None:
    rows = make_rows(400)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table.sort_by("left", reverse=True)
        added = list(rows)
        for n in range(5):
            await turns(3)
            assert table.busy
            page = make_rows(20, start=400 + 20 * n)
            table.append_rows(page)
            added += page
        await table.wait_until_idle()
        assert shown(table) == fresh(added, sort="left", reverse=True)
        table.set_filter("terraform")
        await turns(2)
        page = make_rows(20, start=600)
        table.append_rows(page)
        added += page
        await table.wait_until_idle()
        assert shown(table) == fresh(added, needle="terraform", sort="left", reverse=True)
        # Appended when idle, a batch no bigger than sync_rows: put in place at once.
        table.sync_rows = 50
        page = make_rows(20, start=620)
        table.append_rows(page)
        added += page
        assert not table.busy
        assert shown(table) == fresh(added, needle="terraform", sort="left", reverse=True)


async def test_a_sorted_and_filtered_load_shows_its_first_rows_then_all_in_order() -> None:
    rows = make_rows(500)
    app = TableApp()
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sort_by("ip")
        table.set_filter("1")
        table.set_rows(rows)
        first = shown(table)
        assert first and first == sorted(first, key=lambda key: shown(table).index(key))
        table.set_filter("12")  # while the rows are still being taken in
        await table.wait_until_idle()
        assert shown(table) == fresh(rows, needle="12", sort="ip")


async def test_updates_and_removals_while_work_is_under_way_are_in_the_result() -> None:
    rows = make_rows(400)
    app = TableApp()
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.set_rows(rows)
        table.remove_row("r5")  # while taking rows in: it finishes taking them first
        assert not table.busy and table.get_row("r5") is None
        table.sort_by("id", reverse=True)
        await turns(3)
        changed = Row("r7", ("7", "10.9.9.9/32", "terraform", "1s"), order={"left": 1})
        table.update_row(changed)
        await turns(3)
        assert table.remove_row("r8")
        await table.wait_until_idle()
        expected = [row for row in rows if row.key not in ("r5", "r8")]
        expected[expected.index(next(row for row in expected if row.key == "r7"))] = changed
        assert shown(table) == fresh(expected, sort="id", reverse=True)
        assert table.get_row("r7") is changed


async def test_set_rows_again_drops_the_load_under_way() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.set_rows(make_rows(400))
        await turns(3)
        table.set_rows(make_rows(100, start=1000))
        await table.wait_until_idle()
        assert shown(table) == [f"r{i}" for i in range(1000, 1100)]
        assert table.total_count == 100


# ------------------------------------------------------------ a list screen


async def test_the_title_bar_says_what_is_under_way_and_counts_the_result(make_app, monkeypatch) -> None:
    # The filter waits for the test, so the title bar is read while it is under way.
    gate: list[bool] = []
    real_filter = virtual_table_module.filter_rows

    def gated_filter(rows, keep, texts=None):
        while keep and not gate:  # the load (no filter) goes through
            yield
        return (yield from real_filter(rows, keep, texts))

    monkeypatch.setattr(virtual_table_module, "filter_rows", gated_filter)
    app = make_app(start="allowlist")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = slow(screen.query_one(VirtualTable))
        total = table.total_count
        assert total > 1
        title = screen.query_one("#title-bar")
        await pilot.press("slash", "1")
        assert table.busy
        assert "filtering…" in str(title.render())
        gate.append(True)
        await table.wait_until_idle()
        await pilot.pause()
        expected = f"{table.visible_count} of {total} rows match '1'"
        assert expected in str(title.render())
        assert "filtering…" not in str(title.render())


async def test_a_backspace_shows_the_result_made_before_and_a_changed_row_drops_it() -> None:
    rows = make_rows(300)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table.sort_by("ip")
        for query in ("t", "te", "ter"):
            table.set_filter(query)
            await table.wait_until_idle()
        assert table.set_filter("te") == len(fresh(rows, needle="te", sort="ip"))  # at once: made before
        assert not table.busy
        added = make_rows(30, start=300)
        table.append_rows(added)
        table.update_row(Row("r10", ("10", "10.0.0.1/32", "terraform", "1s"), order={"left": 1}))
        everything = [*rows, *added]
        everything[10] = table.get_row("r10")
        table.set_filter("t")  # made before the rows changed: made again
        await table.wait_until_idle()
        assert shown(table) == fresh(everything, needle="t", sort="ip")
        table.set_filter("te")
        await table.wait_until_idle()
        assert shown(table) == fresh(everything, needle="te", sort="ip")


async def test_changes_to_a_sorted_unfiltered_table_keep_it_whole_and_in_order() -> None:
    # Unfiltered, the view is the sorted rows themselves: each change must land once.
    rows = make_rows(200)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sync_rows = 5000  # changes done inside the calls
        await table.wait_until_idle()
        table.sort_by("left", reverse=True)
        expected = list(rows)
        assert shown(table) == fresh(expected, sort="left", reverse=True)
        assert table.remove_row("r17")
        expected = [row for row in expected if row.key != "r17"]
        assert shown(table) == fresh(expected, sort="left", reverse=True)
        same_left = Row("r20", ("20", "10.0.0.9/32", "renamed", "x"), order=rows[20].order)
        table.update_row(same_left)
        expected[[row.key for row in expected].index("r20")] = same_left
        assert shown(table) == fresh(expected, sort="left", reverse=True)
        added = make_rows(15, start=500)
        table.append_rows(added)
        expected += added
        assert shown(table) == fresh(expected, sort="left", reverse=True)
        assert table.visible_count == table.total_count == len(expected)
        table.set_filter("terraform")
        assert shown(table) == fresh(expected, needle="terraform", sort="left", reverse=True)
        table.set_filter("")
        assert shown(table) == fresh(expected, sort="left", reverse=True)


async def test_an_update_that_needs_other_sort_keys_sorts_everything_again() -> None:
    # Every id has one shape ("a000".."a199": plain text order); an update of an empty cell to
    # "a05x" needs the natural key (digit runs as numbers): it goes after "a005", not where
    # the empty cell was.
    columns = [Column("c", "C")]
    rows = [Row(f"k{i}", (f"a{i:03d}",)) for i in range(200)]
    rows[3] = Row("k3", ("",))
    rows[9] = Row("k9", ("",))
    app = App[None]()
    async with app.run_test(size=SIZE):
        table = slow(VirtualTable(columns))
        await app.mount(table)
        table.set_rows(rows)
        table.sort_by("c")
        await table.wait_until_idle()
        changed = Row("k3", ("a05x",))
        table.update_row(changed)
        await table.wait_until_idle()
        expected = [*rows[:3], changed, *rows[4:]]
        assert shown(table) == fresh_with(columns, expected, sort="c")
        assert shown(table).index("k3") == shown(table).index("k5") + 1


def fresh_with(columns: list[Column], rows: list[Row], *, sort: str) -> list[str]:
    table = VirtualTable(columns)
    table.set_rows(rows)
    table.sort_by(sort)
    return shown(table)


# ------------------------------------------------------------------ frozen garbage


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_garbage_kept_by_freezing_is_swept_once_the_table_is_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    monkeypatch.setattr(virtual_table_module, "SWEEP_AFTER_FREEZES", 1)
    monkeypatch.setattr(virtual_table_module, "SWEEP_IDLE_SECONDS", 0.05)
    app = TableApp(make_rows(300))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        # A cycle frozen while alive (as a repaint's Strips and a finished Worker are), then dropped.
        doomed = _Cycle()
        gone = weakref.ref(doomed)
        gc.freeze()
        del doomed
        assert gone() is not None  # frozen: no collection reaches it
        table.set_filter("api")  # table work in slices, then the freeze at its end schedules a sweep
        await table.wait_until_idle()
        assert table._sweep_timer is not None
        await pilot.pause(0.2)
        assert gone() is None  # swept once the table was idle
        assert table._sweep_timer is None
        assert not virtual_table_module.sweep_due()


async def test_no_sweep_lands_while_the_table_is_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(virtual_table_module, "SWEEP_AFTER_FREEZES", 1)
    swept: list[int] = []
    monkeypatch.setattr(virtual_table_module, "sweep_heap", lambda: swept.append(1) or 0)
    app = TableApp(make_rows(300))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table._job = "filter"  # work under way when the idle moment comes
        table._sweep_when_idle()
        assert swept == []
        table._job = None
        table._sweep_when_idle()
        assert swept == [1]


async def test_no_collection_walks_the_lists_a_job_builds_and_it_resumes_after_done_or_cancelled() -> None:
    import gc

    app = TableApp(make_rows(300))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        assert gc.isenabled()
        table.set_filter("api")
        assert not gc.isenabled()  # the job's lists are being built in slices
        await table.wait_until_idle()
        assert gc.isenabled() and shown(table) == fresh(make_rows(300), needle="api")
        table.sort_by("ip")
        assert not gc.isenabled()
        table.set_filter("portal")  # the sort is dropped, a filter takes over: still one hold
        table.set_filter("")
        await table.wait_until_idle()
        assert gc.isenabled()
        table.set_filter("sso")
        await pilot.app.action_quit()  # the table goes mid-job: its hold goes with it
    assert gc.isenabled()


async def test_the_sweep_waits_for_the_last_job_so_it_never_lands_between_quick_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(virtual_table_module, "SWEEP_AFTER_FREEZES", 1)
    monkeypatch.setattr(virtual_table_module, "SWEEP_IDLE_SECONDS", 0.3)
    swept: list[int] = []
    monkeypatch.setattr(virtual_table_module, "sweep_heap", lambda: swept.append(1) or 0)
    app = TableApp(make_rows(300))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        for needle in ("a", "ap", "api", "ap", "a"):  # a key every 0.1 s: never idle for 0.3 s
            table.set_filter(needle)
            await table.wait_until_idle()
            await pilot.pause(0.1)
        assert swept == []
        await pilot.pause(0.5)
        assert swept == [1]  # one sweep, after the last key


async def test_a_filter_that_fits_its_first_turn_is_shown_when_the_call_returns() -> None:
    rows = make_rows(300)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table.filter_turn_seconds = 5.0  # ample: the whole filter inside the call
        assert table.set_filter("api") == len(fresh(rows, needle="api"))
        assert not table.busy and shown(table) == fresh(rows, needle="api")
        table.filter_turn_seconds = 0.0  # none: the first slice, then the rest in turns
        assert table.set_filter("portal") is None and table.busy
        await table.wait_until_idle()
        assert shown(table) == fresh(rows, needle="portal")
        table.sort_by("ip")  # a sort is not a filter: in turns whatever the filter's turn
        table.filter_turn_seconds = 5.0
        assert table.busy
        await table.wait_until_idle()
        assert shown(table) == fresh(rows, needle="portal", sort="ip")


async def test_a_large_tables_result_shown_at_once_is_frozen_out_of_the_collector() -> None:
    import gc

    rows = make_rows(300)
    app = TableApp(rows)
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()
        table.set_filter("api")
        await table.wait_until_idle()
        table.set_filter("ap")
        await table.wait_until_idle()
        table.filter_turn_seconds = 5.0  # done inside the call: no worker ran it
        gc.collect()  # nothing young left but what the next step makes
        before = gc.get_freeze_count()
        assert table.set_filter("api") is not None
        # Its lists are in no young generation for the next frame's collections to walk.
        assert gc.get_freeze_count() > before
        assert shown(table) == fresh(rows, needle="api")
