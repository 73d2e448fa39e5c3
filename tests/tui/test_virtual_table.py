"""Behaviour of tui.widgets.VirtualTable, driven through Pilot at a fixed size."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult

from tui.widgets import Column, Row, VirtualTable

SIZE = (100, 30)
BODY_LINES = SIZE[1] - 1  # the header takes the first line

COLUMNS = [
    Column("id", "ID", justify="right"),
    Column("cidr", "IP/CIDR"),
    Column("source", "Source"),
    Column("status", "Status"),
    Column("created", "Created"),
]

SOURCES = ["api", "portal", "sso", "terraform", "import"]
STATUSES = ["active", "pending", "disabled", "revoked"]


def make_rows(count: int, start: int = 0) -> list[Row]:
    return [
        Row(
            f"r{i}",
            (
                str(i),
                f"10.{i % 256}.{(i // 256) % 256}.{i % 7}/32",
                SOURCES[i % len(SOURCES)],
                STATUSES[i % len(STATUSES)],
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00Z",
            ),
        )
        for i in range(start, start + count)
    ]


class TableApp(App[None]):
    CSS = "VirtualTable { height: 1fr; }"

    def __init__(self, rows: list[Row] | None = None, columns: list[Column] | None = None) -> None:
        super().__init__()
        self._initial_rows = rows or []
        self._columns = COLUMNS if columns is None else columns
        self.events: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable(self._columns, id="table")

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_rows(self._initial_rows)
        table.focus()

    def on_virtual_table_row_highlighted(self, message: VirtualTable.RowHighlighted) -> None:
        assert message.control is message.table
        self.events.append(("highlighted", message.row.key))

    def on_virtual_table_row_selected(self, message: VirtualTable.RowSelected) -> None:
        self.events.append(("selected", message.row.key))

    def on_virtual_table_sort_changed(self, message: VirtualTable.SortChanged) -> None:
        self.events.append(("sorted", f"{message.column_key}:{message.reverse}"))


def line(table: VirtualTable, y: int) -> str:
    return table.render_line(y).text


def body(table: VirtualTable) -> list[str]:
    return [line(table, y) for y in range(1, table.size.height)]


def first_cells(table: VirtualTable, count: int) -> list[str]:
    return [line(table, y).split()[0] for y in range(1, count + 1)]


def visible_keys(table: VirtualTable) -> list[str]:
    return [table.row_at(i).key for i in range(table.visible_count)]


# --------------------------------------------------------------------- render


async def test_rows_render_with_header() -> None:
    app = TableApp(make_rows(50))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        header = line(table, 0)
        for label in ("ID", "IP/CIDR", "Source", "Status", "Created"):
            assert label in header
        assert line(table, 1).split() == ["0", "10.0.0.0/32", "api", "active", "2024-01-01T12:00:00Z"]
        assert line(table, 2).split()[:3] == ["1", "10.1.0.1/32", "portal"]
        assert len(line(table, 1)) == table.size.width
        assert table.total_count == table.visible_count == 50
        # Only as many body lines as fit: the 29th body line is row 28.
        assert line(table, BODY_LINES).split()[0] == str(BODY_LINES - 1)


async def test_right_justify_and_truncation_with_ellipsis() -> None:
    columns = [Column("n", "N", justify="right", width=6), Column("t", "Text", width=8)]
    rows = [Row("a", ("7", "short")), Row("b", ("123", "much longer than eight"))]
    app = TableApp(rows, columns)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert line(table, 1).startswith("      7  short    ")
        assert line(table, 2).startswith("    123  much lo… ")


async def test_auto_width_is_capped_by_max_width() -> None:
    columns = [Column("t", "Text", max_width=10), Column("u", "Next")]
    app = TableApp([Row("a", ("x" * 40, "after"))], columns)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert table.column_widths[0] == 10
        assert line(table, 1).startswith(" " + "x" * 9 + "…  after")


async def test_wide_characters_are_measured_in_cells() -> None:
    columns = [Column("name", "Name", width=7), Column("x", "X")]
    rows = [Row("a", ("東京都庁舎", "end")), Row("b", ("大阪", "end"))]
    app = TableApp(rows, columns)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        truncated = table.render_line(1)
        # 7 cells: three wide characters (6 cells) then the ellipsis.
        assert truncated.text.startswith(" 東京都…  end")
        assert line(table, 2).startswith(" 大阪     end")
        assert truncated.cell_length == table.size.width


async def test_control_characters_do_not_break_lines() -> None:
    app = TableApp([Row("a", ("one\ntwo", "tab\there", "", "", ""))])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = line(app.query_one(VirtualTable), 1)
        assert "\n" not in text and "\t" not in text
        assert "one two" in text


async def test_row_styles_component_names_and_rich_strings() -> None:
    rows = [Row("a", ("1",), "error"), Row("b", ("2",), "bold red"), Row("c", ("3",), "not a style!!")]
    app = TableApp(rows, [Column("n", "N")])
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.move_cursor_to_key("c")
        await pilot.pause()
        error_style = table.render_line(1).__iter__().__next__().style
        assert error_style.color == table.get_component_rich_style("virtual-table--row-error").color
        rich_style = next(iter(table.render_line(2))).style
        assert rich_style.bold and rich_style.color is not None and rich_style.color.name == "red"
        # An invalid style string is ignored, the row still renders.
        assert line(table, 3).split() == ["3"]


# --------------------------------------------------------------------- empty


async def test_empty_state_texts() -> None:
    app = TableApp([])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert line(table, 1).strip() == "no rows"
        assert table.current_row is None and table.current_key is None
        table.set_rows(make_rows(5))
        await pilot.pause()
        assert line(table, 1).split()[0] == "0"
        assert table.set_filter("no such text") == 0
        await pilot.pause()
        assert line(table, 1).strip() == "no rows match the filter"
        assert table.current_row is None
        table.set_filter("")
        table.clear()
        await pilot.pause()
        assert table.total_count == 0
        assert line(table, 1).strip() == "no rows"
        await pilot.press("down", "enter", "end")  # nothing to move to or select
        assert not [event for event in app.events if event[0] == "selected"]


# --------------------------------------------------------------------- filter


async def test_filter_counts_and_inversion() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        assert table.set_filter("terraform") == 20
        assert table.visible_count == 20 and table.total_count == 100
        assert table.filter_text == "terraform"
        await pilot.pause()
        assert all("terraform" in text for text in body(table)[:20])
        assert table.set_filter("TERRAFORM") == 20  # case-insensitive
        assert table.set_filter("!terraform") == 80
        assert all("terraform" not in text for text in body(table))
        assert table.set_filter("!") == 100  # a lone "!" shows everything
        assert table.set_filter("revoked") == 25
        assert table.set_filter("revoked 2024") == 0  # one substring, not words
        assert table.set_filter("10.5.0.") == 1
        assert table.set_filter("") == 100
        assert table.filter_text == ""


async def test_narrowing_and_widening_filter_match_a_fresh_filter() -> None:
    app = TableApp(make_rows(300))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sort_by("cidr", reverse=True)
        results = {}
        for text in ["t", "te", "ter", "te", "", "!a", "!ap", "!a", "2024-0", "2024-03", "!"]:
            table.set_filter(text)
            results[text] = visible_keys(table)
        for text, keys in results.items():
            fresh = VirtualTable(COLUMNS)
            fresh.set_rows(make_rows(300))
            fresh.sort_by("cidr", reverse=True)
            fresh.set_filter(text)
            assert visible_keys(fresh) == keys, text


async def test_filter_keeps_cursor_on_row_when_still_visible() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        assert table.move_cursor_to_key("r33")  # source "terraform"
        table.set_filter("terraform")
        assert table.current_key == "r33"
        table.set_filter("")
        assert table.current_key == "r33" and table.cursor_row == 33


# ----------------------------------------------------------------------- sort


async def test_typed_order_values_sort_where_the_text_would_not() -> None:
    # Countdown text: "13d 23:46" sorts before "23:26:41" as text; by seconds it comes last.
    rows = [
        Row("week", ("13d 23:46:00",), order={"left": 13 * 86400 + 23 * 3600 + 46 * 60}),
        Row("hours", ("23:26:41",), order={"left": 23 * 3600 + 26 * 60 + 41}),
        Row("gone", ("removed",), order={"left": None}),
        Row("soon", ("00:02:00",), order={"left": 120}),
    ]
    app = TableApp(rows, [Column("left", "EXPIRES IN")])
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sort_by("left")
        assert visible_keys(table) == ["soon", "hours", "week", "gone"]  # None last, like an empty cell
        table.sort_by("left", reverse=True)
        assert visible_keys(table) == ["week", "hours", "soon", "gone"]


async def test_a_column_without_values_on_every_row_sorts_by_its_text() -> None:
    rows = [Row("b", ("b",), order={"t": 1}), Row("a", ("a",)), Row("c", ("c",), order={"t": 0})]
    app = TableApp(rows, [Column("t", "T")])
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sort_by("t")
        assert visible_keys(table) == ["a", "b", "c"]


async def test_sort_numeric_text_and_reverse() -> None:
    rows = [
        Row("a", ("10", "b", "10.0.0.10")),
        Row("b", ("9", "a", "10.0.0.9")),
        Row("c", ("", "C", "10.0.0.100")),
        Row("d", ("-2.5", "", "")),
        Row("e", ("100", "a", "9.1.1.1")),
    ]
    columns = [Column("n", "Num"), Column("t", "Text"), Column("ip", "IP")]
    app = TableApp(rows, columns)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.sort_by("n")
        assert (table.sort_column, table.sort_reverse) == ("n", False)
        assert visible_keys(table) == ["d", "b", "a", "e", "c"]  # numbers by value, empty last
        table.sort_by("n", reverse=True)
        assert visible_keys(table) == ["e", "a", "b", "d", "c"]  # empty still last
        table.sort_by("t")
        assert visible_keys(table) == ["b", "e", "a", "c", "d"]  # case-insensitive, stable
        table.sort_by("t", reverse=True)
        assert visible_keys(table) == ["c", "a", "b", "e", "d"]  # equal "a" rows keep order
        table.sort_by("ip")
        assert visible_keys(table) == ["e", "b", "a", "c", "d"]  # digit runs as numbers
        table.sort_by(None)
        assert visible_keys(table) == ["a", "b", "c", "d", "e"]
        await pilot.pause()
        assert "▲" not in line(table, 0) and "▼" not in line(table, 0)


async def test_sort_header_arrow_cycle_and_toggle() -> None:
    app = TableApp(make_rows(20))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.toggle_sort_direction()  # unsorted: nothing to flip
        assert table.sort_column is None
        order = []
        for _ in range(len(COLUMNS) + 1):
            table.cycle_sort()
            order.append(table.sort_column)
        assert order == ["id", "cidr", "source", "status", "created", None]
        table.cycle_sort()
        assert table.sort_column == "id"
        table.toggle_sort_direction()
        assert table.sort_reverse
        await pilot.pause()
        assert "ID ▼" in line(table, 0)
        assert first_cells(table, 3) == ["19", "18", "17"]
        table.toggle_sort_direction()
        await pilot.pause()
        assert "ID ▲" in line(table, 0)
        assert first_cells(table, 3) == ["0", "1", "2"]
        table.cycle_sort()
        assert (table.sort_column, table.sort_reverse) == ("cidr", False)


async def test_clicking_header_sorts_and_reverses() -> None:
    app = TableApp(make_rows(20))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        x = line(table, 0).index("Status")
        await pilot.click(VirtualTable, offset=(x, 0))
        assert (table.sort_column, table.sort_reverse) == ("status", False)
        assert "Status ▲" in line(table, 0)
        await pilot.click(VirtualTable, offset=(x, 0))
        assert (table.sort_column, table.sort_reverse) == ("status", True)
        assert line(table, 1).split()[3] == "revoked"
        await pilot.pause()
        sorts = [detail for kind, detail in app.events if kind == "sorted"]
        assert sorts == ["status:False", "status:True"]
        assert not [event for event in app.events if event[0] == "selected"]


async def test_sort_keeps_cursor_on_same_row() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.move_cursor_to_key("r42")
        table.sort_by("id", reverse=True)
        assert table.current_key == "r42"
        assert table.cursor_row == 57


async def test_unknown_sort_column_raises() -> None:
    table = VirtualTable(COLUMNS)
    try:
        table.sort_by("nope")
    except KeyError:
        pass
    else:
        raise AssertionError("sort_by accepted an unknown column")


# --------------------------------------------------------------------- cursor


async def test_cursor_keys_move_and_highlight() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        assert table.cursor_row == 0 and table.current_key == "r0"
        await pilot.press("down", "down", "j")
        assert table.cursor_row == 3
        await pilot.press("up", "k")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + BODY_LINES
        await pilot.press("pageup")
        assert table.cursor_row == 1
        await pilot.press("end")
        assert table.cursor_row == 99 and table.current_key == "r99"
        await pilot.press("down")
        assert table.cursor_row == 99  # clamped
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("G")
        assert table.current_key == "r99"
        await pilot.press("g")
        assert table.current_key == "r0"
        await pilot.press("up")
        assert table.cursor_row == 0
        await pilot.pause()
        highlighted = [key for kind, key in app.events if kind == "highlighted"]
        assert highlighted[0] == "r0"
        assert highlighted[1:4] == ["r1", "r2", "r3"]
        assert highlighted[-1] == "r0"


async def test_cursor_line_is_styled_and_scrolled_into_view() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        cursor_style = table.get_component_rich_style("virtual-table--cursor")
        assert next(iter(table.render_line(1))).style.bgcolor == cursor_style.bgcolor
        assert next(iter(table.render_line(2))).style.bgcolor != cursor_style.bgcolor
        await pilot.press("pagedown", *["down"] * 11)
        await pilot.pause()
        assert table.cursor_row == BODY_LINES + 11
        assert table.scroll_y == 12
        # The cursor row is the last body line, drawn with the cursor style.
        last = table.render_line(BODY_LINES)
        assert last.text.split()[0] == str(BODY_LINES + 11)
        assert next(iter(last)).style.bgcolor == cursor_style.bgcolor


async def test_enter_and_click_post_row_selected() -> None:
    app = TableApp(make_rows(20))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.events[-1] == ("selected", "r2")
        await pilot.click(VirtualTable, offset=(3, 6))  # body line 6 = row 5
        await pilot.pause()
        assert table.current_key == "r5"
        assert app.events[-1] == ("selected", "r5")
        assert ("highlighted", "r5") in app.events


async def test_move_cursor_to_key() -> None:
    app = TableApp(make_rows(1000))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        assert table.move_cursor_to_key("r500")
        assert table.cursor_row == 500 and table.current_row is not None
        assert table.current_row.cells[0] == "500"
        assert not table.move_cursor_to_key("missing")
        await pilot.pause()
        assert "500" in [text.split()[0] for text in body(table)]


# ------------------------------------------------------------------- mutation


async def test_append_rows_keeps_cursor_and_scroll() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.move_cursor_to_key("r60")
        await pilot.pause()
        scroll_y = table.scroll_y
        assert scroll_y > 0
        for page in range(1, 4):
            table.append_rows(make_rows(100, start=page * 100))
            await pilot.pause()
            assert table.total_count == table.visible_count == 100 + page * 100
            assert table.current_key == "r60"
            assert table.scroll_y == scroll_y
        await pilot.press("end")
        assert table.current_key == "r399"


async def test_append_rows_respects_filter_and_sort() -> None:
    app = TableApp(make_rows(50))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.set_filter("terraform")
        table.sort_by("id", reverse=True)
        table.move_cursor_to_key("r48")
        table.append_rows(make_rows(50, start=50))
        assert table.total_count == 100
        assert table.visible_count == 20
        assert table.current_key == "r48"
        assert [row.key for row in (table.row_at(0), table.row_at(1))] == ["r98", "r93"]
        table.set_filter("")
        assert table.visible_count == 100


async def test_append_rows_into_empty_table_highlights_first_row() -> None:
    app = TableApp([])
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.append_rows(make_rows(10))
        await pilot.pause()
        assert table.current_key == "r0"
        assert ("highlighted", "r0") in app.events
        assert line(table, 1).split()[0] == "0"


async def test_auto_widths_grow_with_appended_rows() -> None:
    app = TableApp([Row("a", ("x", "", "", "", ""))])
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        before = table.column_widths[1]
        table.append_rows([Row("b", ("y", "2001:db8:0:0:0:0:0:1/128", "", "", ""))])
        await pilot.pause()
        assert table.column_widths[1] > before
        assert "2001:db8:0:0:0:0:0:1/128" in line(table, 2)


async def test_set_rows_keeps_cursor_on_same_key() -> None:
    app = TableApp(make_rows(100))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.move_cursor_to_key("r50")
        # The refreshed list lost its first 10 rows: r50 is now at index 40.
        table.set_rows(make_rows(90, start=10))
        assert table.current_key == "r50"
        assert table.cursor_row == 40
        # When the key is gone, the cursor stays at (a clamped) index.
        table.set_rows(make_rows(30, start=1000))
        assert table.cursor_row == 29
        assert table.current_key == "r1029"


async def test_update_row() -> None:
    app = TableApp(make_rows(10))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.update_row(Row("r3", ("3", "192.0.2.1/32", "manual", "active", "2025-01-01")))
        await pilot.pause()
        assert "192.0.2.1/32" in line(table, 4)
        table.set_filter("manual")
        assert visible_keys(table) == ["r3"]
        table.update_row(Row("r3", ("3", "192.0.2.1/32", "api", "active", "2025-01-01")))
        assert table.visible_count == 0
        table.set_filter("")
        table.update_row(Row("new", ("99", "", "", "", "")))  # unknown key: appended
        assert table.total_count == 11 and visible_keys(table)[-1] == "new"


async def test_remove_row() -> None:
    app = TableApp(make_rows(10))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.move_cursor_to_key("r5")
        assert table.remove_row("r2")
        assert table.total_count == 9
        assert table.current_key == "r5" and table.cursor_row == 4
        assert not table.remove_row("r2")
        assert table.remove_row("r5")  # the cursor row: the next row takes its place
        assert table.current_key == "r6"
        table.move_cursor_to_key("r9")
        assert table.remove_row("r9")  # the last row: the cursor moves up
        assert table.current_key == "r8"
        await pilot.pause()
        assert [text.split()[0] for text in body(table)[:7]] == ["0", "1", "3", "4", "6", "7", "8"]
        assert body(table)[7].strip() == ""


# ------------------------------------------------------------------ scrolling


async def test_horizontal_scroll_when_columns_are_wider_than_the_widget() -> None:
    columns = [Column(f"c{i}", f"Col{i}", width=20) for i in range(8)]
    rows = [Row(str(n), tuple(f"r{n}c{i}" for i in range(8))) for n in range(5)]
    app = TableApp(rows, columns)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        # Too wide even so: one space between columns instead of two, and the table scrolls.
        assert table.virtual_size.width == 1 + 8 * 21
        assert "Col7" not in line(table, 0)
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await pilot.pause()
        assert "Col7" in line(table, 0) and "r0c7" in line(table, 1)
        assert "Col0" not in line(table, 0)


async def test_mouse_wheel_scrolls() -> None:
    app = TableApp(make_rows(200))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        for _ in range(3):
            table.post_message(events.MouseScrollDown(table, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert table.scroll_y > 0
        assert line(table, 0).split()[0] == "ID"  # the header does not scroll


async def test_hundred_thousand_rows_last_row_reachable() -> None:
    rows = make_rows(100_000)
    app = TableApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await table.wait_until_idle()  # so many rows are taken in slices
        await pilot.pause()
        assert table.total_count == 100_000
        assert line(table, 1).split()[0] == "0"
        await pilot.press("end")
        await pilot.pause()
        assert table.current_key == "r99999"
        assert line(table, BODY_LINES).split()[0] == "99999"
        assert line(table, 0).split()[0] == "ID"
        table.filter_turn_seconds = 0.0  # no first turn: however fast the machine, in slices
        assert table.set_filter("terraform") is None  # filtering, in slices
        await table.wait_until_idle()
        assert table.visible_count == 20_000
        table.set_filter("!terraform")
        await table.wait_until_idle()
        assert table.visible_count == 80_000
        await pilot.press("home")
        await pilot.pause()
        assert line(table, 1).split()[0] == "0"


async def test_cursor_set_before_layout_is_scrolled_into_view() -> None:
    class EarlyApp(TableApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.query_one(VirtualTable).move_cursor_to_key("r500")

    app = EarlyApp(make_rows(1000))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        assert table.current_key == "r500"
        assert "500" in [text.split()[0] for text in body(table)]


async def test_sort_mixed_numbers_text_and_natural_names() -> None:
    values = ["item10", "5", "", "Item2", "abc", "10", "item1", "1e3"]
    rows = [Row(f"k{i}", (value,)) for i, value in enumerate(values)]
    app = TableApp(rows, [Column("v", "V")])
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sort_by("v")
        cells = [table.row_at(i).cells[0] for i in range(table.visible_count)]
        assert cells == ["5", "10", "1e3", "abc", "item1", "Item2", "item10", ""]
        table.sort_by("v", reverse=True)
        cells = [table.row_at(i).cells[0] for i in range(table.visible_count)]
        assert cells == ["item10", "Item2", "item1", "abc", "1e3", "10", "5", ""]


async def test_sorted_table_stays_sorted_through_updates_and_column_changes() -> None:
    app = TableApp(make_rows(30))
    async with app.run_test(size=SIZE):
        table = app.query_one(VirtualTable)
        table.sort_by("id", reverse=True)
        assert table.row_at(0).key == "r29"
        table.update_row(Row("r3", ("300", "", "", "", "")))
        assert table.row_at(0).key == "r3"
        table.append_rows([Row("r30", ("150", "", "", "", ""))])
        assert [table.row_at(i).key for i in range(3)] == ["r3", "r30", "r29"]
        # Cells are positional: with the columns swapped, "id" labels the
        # second cells (the addresses) and the rows are sorted by those.
        table.set_columns([Column("cidr", "IP/CIDR"), Column("id", "ID"), *COLUMNS[2:]])
        assert table.sort_column == "id"
        assert table.row_at(0).cells[1] == "10.29.0.1/32"  # digit runs as numbers
        last_two = [table.row_at(table.visible_count - i).key for i in (2, 1)]
        assert last_two == ["r3", "r30"]  # empty cells last, in insertion order
        table.set_columns(COLUMNS[1:])  # the sorted column is gone
        assert table.sort_column is None
        assert table.row_at(0).key == "r0"


async def test_zebra_stripes_and_ansi_theme() -> None:
    app = TableApp(make_rows(10))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(VirtualTable)
        table.zebra_stripes = True
        await pilot.pause()
        even, odd = (next(iter(table.render_line(y))).style for y in (3, 4))
        assert even.bgcolor != odd.bgcolor
        app.theme = "ansi-dark"
        await pilot.pause()
        assert line(table, 1).split()[0] == "0"
        focused = next(iter(table.render_line(1))).style
        table.blur()
        await pilot.pause()
        blurred = next(iter(table.render_line(1))).style
        # The cursor stays visible without focus: reverse video in ANSI themes.
        assert blurred.reverse
        assert focused != blurred
