"""Keys typed in a burst, as a fast typist or a paste delivers them, land where they were meant.

Pilot's `press` waits for each key to be handled before the next; a terminal does not. These
tests post the whole burst to the app at once, so a key that moves focus must take effect before
the keys behind it are read (issue 10: "Tab +30m" typed fast left Expires as "m").
"""

from __future__ import annotations

import asyncio

from textual import events
from textual.widgets import Input

from tests.tui.conftest import settle
from tui.screens.command import CommandScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen
from tui.screens.form import FormScreen

KEY_NAMES = {"\t": "tab", "+": "plus", "/": "slash", ":": "colon", "\r": "enter", " ": "space", ".": "full_stop"}


def burst(app, text: str) -> None:
    """Queue every key of `text` on the app without waiting in between."""
    for char in text:
        name = KEY_NAMES.get(char, char)
        app.post_message(events.Key(name, None if char == "\t" else char))


async def test_tab_then_typing_fills_the_next_field_not_the_one_left(make_app, tmp_path):
    app = make_app(start="bindings", ledger_path=tmp_path / "ledger.sqlite3")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.set_focus(form.query_one("#input-area_code", Input))
        await pilot.pause()
        burst(app, "010\t+30m")
        await settle(pilot)
        assert form.query_one("#input-area_code", Input).value == "010"
        assert form.query_one("#input-expires", Input).value == "+30m"  # the "+2h" default replaced whole


async def test_slash_then_typing_filters_instead_of_sending_keys_to_the_table(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "/office")
        await settle(pilot)
        assert app.screen.query_one("#filter-input", Input).value == "office"
        assert app.screen.table.sort_column is None  # "o" did not order the table


async def test_a_slash_inside_the_filter_is_text(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "/10.0.0.0/8")
        await settle(pilot)
        assert app.screen.query_one("#filter-input", Input).value == "10.0.0.0/8"


async def test_a_filter_typed_ahead_before_the_filter_box_is_mounted_lands_in_it(make_app):
    # The box is mounted after the screen's first frame; "/office" typed while the app was still
    # starting (ahead, in an SSH session) must filter, and its "o" must not order the table.
    app = make_app()
    start_over = asyncio.Event()
    app.started = start_over.wait  # the screen's first frame is held back, and with it the box
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.filter_box() is None
        burst(app, "/office")
        await pilot.pause()
        assert app.screen.table.sort_column is None
        start_over.set()
        await settle(pilot)
        box = app.screen.query_one("#filter-input", Input)
        assert box.value == "office" and box.has_focus
        assert app.screen.table.filter_text == "office"
        assert app.screen.table.sort_column is None


async def test_colon_then_a_name_and_enter_goes_there(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, ":billing\r")
        await settle(pilot)
        assert app.current_mode == "billing"
        assert not isinstance(app.screen, CommandScreen)


async def test_a_colon_typed_into_a_field_is_text_not_the_prompt(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        burst(app, "2001:db8::1")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#input-ip_address", Input).value == "2001:db8::1"


async def test_delete_then_a_fast_enter_cancels_and_deletes_nothing(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = len(sandbox.state["access_ips"])
        app.post_message(events.Key("ctrl+d", None))
        app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert len(sandbox.state["access_ips"]) == before


async def test_keys_typed_right_after_n_go_to_the_new_form(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "n203.0.113.9")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#input-ip_address", Input).value == "203.0.113.9"
        assert app.screen_stack[-2].table.sort_column is None  # no "1", "." or "3" reached the list


async def test_keys_typed_right_after_i_go_to_the_import_form(make_app, tmp_path):
    app = make_app(start="bindings", ledger_path=tmp_path / "ledger.sqlite3")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "i\t17000")  # Tab from the provider to the X field
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#input-x", Input).value == "17000"


async def test_n_typed_in_the_filter_is_text(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "/newton")
        await settle(pilot)
        assert app.screen.query_one("#filter-input", Input).value == "newton"
        assert not isinstance(app.screen, FormScreen)


async def test_rows_marked_in_a_burst_before_ctrl_d_are_the_ones_it_deletes(make_app):
    # ctrl+d is a priority key: the app runs it as it comes, and a key that is not one only once
    # it has passed through the table and the screen; so space is a priority key too.
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "  ")
        app.post_message(events.Key("ctrl+d", None))
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Delete 2 access IPs?" in str(app.screen.query_one("#question").render())


async def test_rows_marked_in_a_burst_before_ctrl_s_are_the_ones_it_exports(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "   ")
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.title_text == "Export 3 marked rows"


async def test_the_filter_box_hands_each_edit_over_inside_the_key_that_made_it():
    """The list screens' filter box (FilterInput) filters as the key is handled, before any other
    message: so the key's echo and the rows it filters are painted in the same frame."""
    from textual.app import App, ComposeResult

    from tui.widgets.literal import FilterInput

    heard: list[str] = []

    class BoxApp(App[None]):
        def compose(self) -> ComposeResult:
            yield FilterInput(id="box", on_edit=lambda text: heard.append(f"edit {text}"))

        def on_input_changed(self, event: Input.Changed) -> None:
            heard.append(f"changed {event.value}")

    app = BoxApp()
    async with app.run_test() as pilot:
        burst(app, "ab")
        await settle(pilot)
        app.query_one("#box", Input).value = ""  # set from code: handed over as well
        await settle(pilot)
    assert heard == ["edit a", "edit ab", "changed a", "changed ab", "edit ", "changed "]
