"""Messages read as English: articles, counts that follow the form, errors that say what was under way."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from tests.tui.conftest import notice_titles, settle
from tui.screens.form import FormScreen
from tui.wording import with_article


@pytest.mark.parametrize(
    ("noun", "said"),
    [
        ("access IP", "an access IP"),
        ("address", "an address"),
        ("SSO provider", "an SSO provider"),
        ("billing group", "a billing group"),
        ("integration secret", "an integration secret"),
        ("telephony credential", "a telephony credential"),
        ("WhatsApp number", "a WhatsApp number"),
        ("Aliyun number", "an Aliyun number"),
        ("Huawei number", "a Huawei number"),
        ("AXB binding", "an AXB binding"),
        ("user", "a user"),
        ("", ""),
    ],
)
def test_with_article(noun, said):
    assert with_article(noun) == said


async def test_the_attention_count_follows_the_fields_and_goes_when_fixed(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        field = form.query_one("#input-ip_address", Input)
        field.value = "not an ip"
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = form.query_one("#form-status", Static)
        assert "1 field needs attention" in str(status.render())
        field.value = "192.0.2.55"
        await pilot.pause()
        assert str(status.render()).strip() == ""
        assert field.value == "192.0.2.55"


async def test_an_action_error_says_what_was_under_way(make_app, sandbox):
    app = make_app(start="addresses")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a")  # the first address has nothing to accept: Telnyx answers 404
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        titles = " ".join(notice_titles(app))
        assert "error while accepting suggestions" in titles, titles
