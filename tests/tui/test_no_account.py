"""A profile without a Telnyx account: Telnyx screens offer no verb that would need one."""

from __future__ import annotations

import pytest

from providers.errors import ProviderError
from providers.session import ProviderSession
from tests.tui.conftest import notices, settle
from tui.app import TeledeckApp
from tui.resources import BILLING_GROUPS
from tui.screens.confirm import ConfirmScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.resource import ResourceScreen

SIZE = (120, 34)


def no_telnyx_session() -> ProviderSession:
    return ProviderSession(profile="no-telnyx", sandbox=True, read_only=False)  # no account at all


async def open_without_telnyx(pilot) -> ResourceScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ResourceScreen)
    return screen


async def test_billing_groups_without_a_telnyx_account_offer_nothing_and_say_why():
    app = TeledeckApp(no_telnyx_session(), start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_without_telnyx(pilot)
        assert "no telnyx account in this profile" in str(screen.query_one("#title-bar").render())
        assert screen.table.empty_text == "no telnyx account in this profile"
        in_force = screen.active_bindings
        for key in ("n", "e", "ctrl+d"):
            assert key not in in_force  # hidden from the footer
        for key in ("n", "ctrl+d", "e"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen
            assert not isinstance(app.screen, (FormScreen, ConfirmScreen))
        assert not any("error" in n.lower() for n in notices(app))
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {text for _, text in app.screen.rows}
        assert not described & {"New", "Edit", "Delete"}
        assert {"Refresh", "Filter"} <= described


async def test_a_verb_reached_anyway_sends_nothing_and_says_so():
    app = TeledeckApp(no_telnyx_session(), start="credentials")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_without_telnyx(pilot)
        assert "t" not in screen.active_bindings  # the New token action
        await screen.action_create()
        screen.action_run_action("token")
        await pilot.pause()
        assert app.screen is screen
        assert sum("No telnyx account" in n for n in notices(app)) == 1  # credentials have no create


async def test_the_spec_refuses_as_a_provider_error_not_an_attribute_error():
    create = BILLING_GROUPS.create
    assert create is not None
    with pytest.raises(ProviderError, match="no telnyx account"):
        await create(no_telnyx_session(), {"name": "x"})
