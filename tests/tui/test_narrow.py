"""teledeck at 80x24: what identifies a row stays whole, forms keep their buttons, the detail view
keeps values whole, and the footer keeps q, ? and : on every main screen."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from tests.tui.conftest import settle
from tests.tui.test_bindings import bindings_app, huawei  # noqa: F401  (pytest fixtures)
from tests.tui.test_hostile_names import rendered_lines
from tui.app import SPECIAL_SCREENS
from tui.resources import REGISTRY
from tui.screens.detail import DetailScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.widgets import Column, Row, VirtualTable
from tui.widgets.footer import AppFooter

NARROW = (80, 24)
SCREEN = Region(0, 0, *NARROW)


def _inside(inner: Region, outer: Region) -> bool:
    return outer.contains_region(inner)


# ---- the Bindings list ------------------------------------------------------------------------


async def test_bindings_keep_numbers_mode_countdown_and_status_whole(bindings_app):  # noqa: F811
    app = bindings_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#bindings-table", VirtualTable)
        keys = [column.key for column in table.columns]
        whole = ("mode", "a", "x", "b", "expires_in", "status")
        assert not set(whole) & set(table.dropped_columns)
        assert "subscription_id" in table.dropped_columns  # the id gives way first
        lines = rendered_lines(table)
        header = lines[0]
        for label in ("MODE", "A", "X (EXT)", "B", "EXPIRES IN", "STATUS"):
            assert f" {label} " in f"{header} "
        assert header.rstrip().endswith("…")  # and says that columns were left out
        shown = {table.row_at(i).key: lines[1 + i] for i in range(min(table.visible_count, len(lines) - 1))}
        assert shown
        for key, line in shown.items():
            row = table.get_row(key)
            assert row is not None
            for column in whole:
                cell = row.cells[keys.index(column)]
                if column == "x":  # X itself stays whole; an extension or AXYB's Y may be cut
                    cell = app.screen.bindings[key].x
                assert cell in line, (column, cell, line)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no sideways scroll


# ---- forms ------------------------------------------------------------------------------------


async def _open_form(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    return form


def _viewport(form: FormScreen) -> Region:
    """The rows between the form's title and its status line and buttons."""
    title = form.query_one(".dialog-title").region
    foot = form.query_one("#form-foot").region
    dialog = form.query_one("#dialog").region
    return Region(dialog.x, title.bottom, dialog.width, foot.y - title.bottom)


async def _check_form(pilot, form: FormScreen) -> None:
    dialog = form.query_one("#dialog").region
    assert _inside(dialog, SCREEN)
    for selector in ("#form-status", "#cancel", "#submit"):
        assert _inside(form.query_one(selector).region, dialog), selector
    visible = [spec.name for spec in form.fields if form.query_one(f"#field-{spec.name}").display]
    for name in (visible[-1], visible[0], visible[len(visible) // 2]):
        form.query_one(f"#input-{name}").focus()
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()
        assert _inside(form.query_one(f"#field-{name}").region, _viewport(form)), name


async def test_the_bind_form_keeps_its_buttons_and_brings_each_field_into_view(bindings_app):  # noqa: F811
    app = bindings_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "n")
        assert len(form.fields) >= 8
        await _check_form(pilot, form)


@pytest.mark.parametrize("resource", [name for name, spec in REGISTRY.items() if spec.create is not None])
async def test_every_create_form_fits(make_app, resource):
    app = make_app(start=resource)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "n")
        await _check_form(pilot, form)


# ---- the detail view --------------------------------------------------------------------------


async def test_the_detail_view_wraps_a_sha512_fingerprint_whole(make_app, sandbox):
    fingerprint = ":".join(f"{n * 37 % 256:02X}" for n in range(64))  # SHA-512: 64 bytes, 191 characters
    record = sandbox.state["auth_providers"][0]
    record["settings"].update(idp_cert_fingerprint=fingerprint, idp_cert_fingerprint_algorithm="sha512")
    app = make_app(start="sso")
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(record["id"])
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        table = detail.query_one("#detail-table", VirtualTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        value_at = rendered_lines(table)[0].index("VALUE")
        while True:  # every line of the table, scrolling down through it
            lines = rendered_lines(table)
            seen = "".join(line[value_at:].strip() for line in lines[1:])
            if fingerprint in seen or table.scroll_y >= table.max_scroll_y:
                break
            table.scroll_to(y=table.scroll_y + table.size.height - 1, animate=False)
            await pilot.pause()
        assert fingerprint in seen
        url = record["settings"]["idp_sso_target_url"]
        assert len(url) > 40 and ("settings.idp_sso_target_url", url) in detail.rows


# ---- the footer -------------------------------------------------------------------------------

MAIN_SCREENS = [*REGISTRY, *SPECIAL_SCREENS]


@pytest.mark.parametrize("mode", MAIN_SCREENS)
async def test_the_footer_keeps_quit_help_and_jump_on_every_main_screen(bindings_app, mode):  # noqa: F811
    app = bindings_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await app.switch_mode(mode)
        await settle(pilot)
        footer = app.screen.query_one(AppFooter)
        shown = {key.key: key for key in footer.keys}
        for key in ("q", "question_mark", "colon"):
            assert key in shown, (mode, key)
            assert shown[key].shown and (shown[key].end or 0) <= footer.size.width, (mode, key, shown[key])


async def test_help_still_lists_every_key_the_narrow_footer_leaves_out(bindings_app):  # noqa: F811
    app = bindings_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(AppFooter)
        cut = [key.description for key in footer.keys if not key.shown]
        assert cut, "at 80 columns some verbs are left to ?"
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = {row.description for row in app.screen.sections.screen}
        assert set(cut) <= listed


# ---- the table's column priorities ------------------------------------------------------------


class _Table(App[None]):
    CSS = "VirtualTable { height: 1fr; }"

    def __init__(self, columns: list[Column], rows: list[Row]) -> None:
        super().__init__()
        self.columns, self.rows = columns, rows

    def compose(self) -> ComposeResult:
        table = VirtualTable(self.columns)
        table.set_rows(self.rows)
        yield table


PRIORITY_COLUMNS = [
    Column("name", "NAME"),
    Column("note", "NOTE", priority=2, min_width=8),
    Column("created", "CREATED", priority=4, min_width=11),
    Column("id", "ID", priority=5),
]
PRIORITY_ROW = Row("r", ("a-name-that-is-whole", "a note that can shrink", "2026-09-21 14:13", "0" * 36))


@pytest.mark.parametrize(
    ("width", "expected", "dropped"),
    [
        (120, {"name": 20, "note": 22, "created": 16, "id": 36}, ()),  # room for all: two spaces apart
        (100, {"name": 20, "note": 22, "created": 16, "id": 36}, ()),  # one space apart instead
        (70, {"name": 20, "note": 22, "created": 16}, ("id",)),  # the id goes whole, never cut
        (58, {"name": 20, "note": 22, "created": 11}, ("id",)),  # then the time shrinks to its date
        (44, {"name": 20, "note": 20}, ("created", "id")),  # (not enough for a date: it goes)
        (30, {"name": 20}, ("note", "created", "id")),
        (15, {"name": 20}, ("note", "created", "id")),  # what identifies a row stays: it scrolls
    ],
)
async def test_columns_give_way_by_priority(width, expected, dropped):
    app = _Table(PRIORITY_COLUMNS, [PRIORITY_ROW])
    async with app.run_test(size=(width, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        widths = dict(zip([c.key for c in table.columns], table.column_widths, strict=True))
        assert {k: w for k, w in widths.items() if w} == expected
        assert table.dropped_columns == dropped
        header = "".join(s.text for s in table.render_line(0)).rstrip()
        line = "".join(s.text for s in table.render_line(1))
        if table.virtual_size.width <= width:
            assert header.endswith("…") == bool(dropped)
            assert "a-name-that-is-whole" in line
        else:
            assert width < 23 and "a-name-that-is" in line  # it scrolls sideways rather than cut
        await pilot.resize_terminal(120, 10)  # wider again: everything comes back
        await pilot.pause()
        assert table.dropped_columns == ()


async def test_a_wrap_column_shows_its_text_whole_on_more_lines():
    text = "word " * 30 + "x" * 50
    columns = [Column("k", "KEY", width=6), Column("v", "VALUE", wrap=True, priority=2, min_width=10)]
    app = _Table(columns, [Row("a", ("first", text)), Row("b", ("second", "short"))])
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        lines = ["".join(s.text for s in table.render_line(y)) for y in range(table.size.height)]
        first = [line for line in lines[1:] if line.strip() and "second" not in line]
        assert len(first) > 1 and first[0].startswith(" first ")
        assert "".join(line[8:].strip() for line in first).replace(" ", "") == text.replace(" ", "")
        assert any(line.startswith(" second ") for line in lines)
        await pilot.press("down")
        assert table.current_key == "b"
