"""A record name full of markup and terminal control, through the app against the sandbox.

`Team [/] EMEA` used to lose its "created" notice in a terminal and end a headless run in
MarkupError after the create was sent; an ESC sequence from a server went to the terminal raw.
Here the name is created, listed, opened and deleted, and every place it is shown shows it
literally: the brackets as typed, ESC as ␛, the server's copy of the name unchanged.
"""

from __future__ import annotations

from textual.widgets import Input
from textual.widgets._toast import Toast

from tests.tui.conftest import notices, settle, table
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.form import FormScreen

SIZE = (160, 40)
NAME = "Team [/] EMEA [b]x[link=https://e.x]y\x1b[31m"
SHOWN = "Team [/] EMEA [b]x[link=https://e.x]y␛[31m"


def rendered_lines(widget) -> list[str]:
    return ["".join(segment.text for segment in widget.render_line(y)) for y in range(widget.size.height)]


def toast_texts(app) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


def assert_clean(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text


async def test_a_hostile_name_is_shown_literally_everywhere(make_app, sandbox):
    app = make_app(start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#input-name", Input).value = NAME
        await pilot.press("ctrl+s")
        await settle(pilot)

        stored = [g for g in sandbox.state["billing_groups"] if g["name"] == NAME]
        assert len(stored) == 1  # sent exactly as typed

        # The created notice: posted, shown literally, no control character.
        created = notices(app)[-1]
        assert created == f"billing group {SHOWN} created."
        await pilot.pause()
        shown = [t for t in toast_texts(app) if "created" in t]
        assert shown and SHOWN in shown[-1]
        for text in toast_texts(app):
            assert_clean(text)

        # The row: the record keeps its name, the terminal gets it literally.
        resource_table = table(app)
        assert resource_table.current_row.cells[0] == NAME
        lines = rendered_lines(resource_table)
        assert any(SHOWN in line for line in lines), lines
        for line in lines:
            assert_clean(line)

        # The edit form: the value is the name itself, drawn with ESC visible.
        await pilot.press("e")
        await pilot.pause()
        edit = app.screen
        assert isinstance(edit, FormScreen)
        field = edit.query_one("#input-name", Input)
        assert field.value == NAME
        drawn = "".join(segment.text for segment in field.render_line(0))
        assert SHOWN in drawn and "\x1b" not in drawn
        assert "\x1b" not in str(edit.query_one(".dialog-title").render())
        await pilot.press("escape")
        await pilot.pause()

        # The detail screen: its title bar and the name field.
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert ("name", NAME) in detail.rows
        detail_lines = rendered_lines(detail.query_one("#detail-table"))
        assert any(SHOWN in line for line in detail_lines), detail_lines
        title = str(detail.query_one(".title-bar").render())
        assert_clean(title)
        for line in detail_lines:
            assert_clean(line)
        await pilot.press("escape")
        await pilot.pause()

        # The delete confirmation names it literally; deleting says so literally.
        await pilot.press("ctrl+d")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        question = str(confirm.query_one("#question").render())
        assert f"Delete billing group {SHOWN}?" in question
        assert_clean(question)
        await pilot.press("tab", "enter")  # from Cancel to Delete
        await settle(pilot)
        assert not [g for g in sandbox.state["billing_groups"] if g["name"] == NAME]
        assert notices(app)[-1] == f"Deleted billing group {SHOWN}."
        for text in toast_texts(app):
            assert_clean(text)


async def test_a_server_message_with_markup_and_escapes_is_a_literal_notice(make_app, sandbox):
    """A vendor error whose detail carries markup and an ESC sequence: the error notice shows it."""
    sandbox.faults.respond(
        "GET",
        "/billing_groups",
        403,
        {"errors": [{"code": "10010", "title": "Denied [/]", "detail": "no [b]access\x1b]0;pwned\x07 here"}]},
        times=None,
    )
    app = make_app(start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        texts = toast_texts(app)
        assert any("no [b]access␛]0;pwned␇ here" in text for text in texts), texts
        for text in texts:
            assert_clean(text)
            assert "\x07" not in text
        title = str(app.screen.query_one("#title-bar").render())
        assert_clean(title)


async def test_a_notice_asking_for_markup_still_gets_none(make_app):
    app = make_app(start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.screen.notify("[b]bold?[/b] [/]", title="[red]t\x1b[0m", markup=True)
        await pilot.pause()
        text = toast_texts(app)[-1]
        assert "[b]bold?[/b] [/]" in text and "[red]t␛[0m" in text
