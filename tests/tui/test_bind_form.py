"""The bind form follows the provider chosen: its modes, its account's pool, the pools it lists."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList, Select

from providers.sandbox.aliyun_pls import DEFAULT_POOL_KEY, DyplsSandbox
from providers.sandbox.volcengine import AXB_POOL_NO, DEFAULT_NUMBER_POOL_NO, FULL_POOL_NO, VolcSandbox
from providers.session import sandbox_session
from tests.tui.conftest import settle
from tui.app import TeledeckApp
from tui.screens.form import FormScreen
from tui.screens.pick import PickScreen

SIZE = (120, 40)


@pytest.fixture
def volc() -> VolcSandbox:
    return VolcSandbox()


@pytest.fixture
def aliyun() -> DyplsSandbox:
    return DyplsSandbox()


@pytest.fixture
def app(sandbox, volc, aliyun, tmp_path) -> TeledeckApp:
    session = sandbox_session(
        handler=sandbox,
        binding_handlers={"volcengine": volc, "aliyun": aliyun},
        ledger_path=tmp_path / "ledger.sqlite3",
    )
    return TeledeckApp(session, start="bindings")


async def open_form(pilot, provider: str) -> FormScreen:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    form.query_one("#input-provider", Select).value = provider
    await settle(pilot)
    return form


def choices(form: FormScreen, name: str) -> tuple[str, ...]:
    select = form.query_one(f"#input-{name}", Select)
    return tuple(value for _, value in select._options if value is not Select.BLANK)


def value(form: FormScreen, name: str) -> str:
    return form.values()[name]


async def test_modes_follow_the_provider(app):
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "volcengine")
        assert choices(form, "mode") == ("AXN", "AXB")
        form.query_one("#input-provider", Select).value = "aliyun"
        await settle(pilot)
        assert choices(form, "mode") == ("AXB", "AXN", "AXN_EXT")
        assert "AX" not in choices(form, "mode")


async def test_the_pool_follows_the_mode_and_an_axb_bind_on_volcengine_works(app, volc):
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "volcengine")
        form.query_one("#input-mode", Select).value = "AXN"
        await settle(pilot)
        assert value(form, "pool") == DEFAULT_NUMBER_POOL_NO  # the account's pool, an AXN pool
        form.query_one("#input-mode", Select).value = "AXB"
        await settle(pilot)
        assert value(form, "pool") == AXB_POOL_NO  # the account's pool serves AXN only
        hint = str(form.query_one("#hint-pool").render())
        assert "serve AXB" in hint
        form.query_one("#input-a", Input).value = "13800000071"
        form.query_one("#input-b", Input).value = "13800000072"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.field_errors
        made = next(b for b in app.screen.bindings.values() if b.a == "13800000071")
        assert made.mode == "AXB" and made.pool == AXB_POOL_NO


async def test_a_pool_of_another_mode_is_refused_at_the_field_before_sending(app, volc):
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "volcengine")
        form.query_one("#input-mode", Select).value = "AXB"
        await settle(pilot)
        form.query_one("#input-pool", Input).value = FULL_POOL_NO  # an AXN pool
        form.query_one("#input-a", Input).value = "13800000071"
        form.query_one("#input-b", Input).value = "13800000072"
        applied_before = dict(volc.actions_applied)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "AXN pool" in form.field_errors["pool"] and "AXB" in form.field_errors["pool"]
        assert value(form, "pool") == FULL_POOL_NO  # what was typed stays
        assert dict(volc.actions_applied) == applied_before  # nothing was sent


async def test_ctrl_o_picks_a_pool_from_the_list(app):
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "volcengine")
        form.query_one("#input-mode", Select).value = "AXN"
        await settle(pilot)
        form.set_focus(form.query_one("#input-pool", Input))
        await pilot.press("ctrl+o")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickScreen)
        listed = [pool for pool, _ in picker.choices]
        assert listed == [DEFAULT_NUMBER_POOL_NO, FULL_POOL_NO]  # the AXN pools, the default first
        assert "teledeck sandbox AXN" in str(picker.query_one(OptionList).get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is form
        assert value(form, "pool") == FULL_POOL_NO


async def test_a_typed_pool_is_kept_when_the_mode_changes(app):
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "volcengine")
        form.query_one("#input-pool", Input).value = "NP999"
        await settle(pilot)
        form.query_one("#input-mode", Select).value = "AXB"
        await settle(pilot)
        assert value(form, "pool") == "NP999"


async def test_aliyun_defaults_to_the_accounts_pool_key_and_huawei_asks_no_pool(app, tmp_path):
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "aliyun")
        assert value(form, "pool") == DEFAULT_POOL_KEY
        assert form.query_one("#field-pool").display
        form.query_one("#input-provider", Select).value = "huawei"
        await settle(pilot)
        assert not form.query_one("#field-pool").display  # Huawei draws X by area code


async def test_a_pool_listing_that_fails_keeps_the_accounts_pool_and_says_why(app, volc):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the screen's own look-ups are done
        volc.faults.respond("POST", "/", 403, times=None)
        form = await open_form(pilot, "volcengine")
        hint = str(form.query_one("#hint-pool").render())
        assert value(form, "pool") == DEFAULT_NUMBER_POOL_NO
        assert "could not list pools" in hint
