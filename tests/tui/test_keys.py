"""Keys as data: every binding has an id, and a resource action cannot shadow a key in force."""

from __future__ import annotations

import dataclasses
import re

import pytest
from textual.binding import Binding

from tui.app import TeledeckApp
from tui.resources import REGISTRY, ActionSpec
from tui.screens.resource import ResourceScreen, check_action_keys, keys_taken_by


async def _nothing(session, record):
    return None


def _with_action_key(key: str, name: str = "addresses"):
    action = ActionSpec("oops", key, "Oops", _nothing)
    return dataclasses.replace(REGISTRY[name], actions=(*REGISTRY[name].actions, action))


@pytest.mark.parametrize(
    ("key", "holder"),
    [
        ("n", "resource.create"),
        ("e", "resource.edit"),
        ("r", "resource.refresh"),
        ("c", "resource.copy_id"),
        ("ctrl+d", "resource.delete"),
        ("/", "table.filter"),
        ("o", "table.sort"),
        ("O", "table.reverse_sort"),
        ("escape", "table.clear_filter"),
        ("enter", "rows.select"),
        ("j", "rows.down"),
        ("q", "app.quit"),
        ("?", "app.help"),
        (":", "app.jump"),
        ("ctrl+p", "command palette"),
        ("v", "resource.action.validate"),  # the spec's own other action
    ],
)
def test_an_action_key_that_is_taken_fails_loudly_naming_both(key, holder):
    spec = _with_action_key(key)
    with pytest.raises(ValueError) as raised:
        ResourceScreen(spec)
    message = str(raised.value)
    assert "resource.action.oops" in message
    assert holder in message
    with pytest.raises(ValueError, match=re.escape("resource.action.oops")):
        check_action_keys(spec, keys_taken_by(TeledeckApp))


def test_the_real_registry_has_no_clash():
    for spec in REGISTRY.values():
        check_action_keys(spec, keys_taken_by(TeledeckApp))
        screen = ResourceScreen(spec)
        ids = {b.id for _, b in screen._bindings}
        assert {f"resource.action.{a.id}" for a in spec.actions} <= ids


def test_a_free_key_is_accepted():
    ResourceScreen(_with_action_key("z"))


def _all_binding_classes():
    from tui.screens.bindings import BindingsScreen
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.detail import DetailScreen
    from tui.screens.form import FormScreen
    from tui.screens.help import HelpScreen
    from tui.screens.token import TokenScreen
    from tui.screens.validation import ValidationScreen
    from tui.widgets.virtual_table import VirtualTable

    return (
        TeledeckApp,
        ResourceScreen,
        BindingsScreen,
        ConfirmScreen,
        DetailScreen,
        FormScreen,
        HelpScreen,
        TokenScreen,
        ValidationScreen,
        VirtualTable,
    )


@pytest.mark.parametrize("owner", _all_binding_classes(), ids=lambda c: c.__name__)
def test_every_teledeck_binding_has_an_id(owner):
    for cls in owner.__mro__:
        if cls.__module__.startswith("tui."):
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", ())):
                assert binding.id, f"{cls.__name__}: {binding.key} -> {binding.action} has no id"


# ---- a key the screen cannot serve now is hidden, and says why when pressed ----------------------


def _footer_verbs(app) -> set[str]:
    return {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}


async def test_read_only_footer_offers_no_change(make_app):
    from tests.tui.conftest import settle

    for read_only, expect_changes in ((False, True), (True, False)):
        app = make_app(read_only=read_only, start="billing")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            shown = _footer_verbs(app)
            assert {"Refresh", "Copy id", "Filter"} <= shown
            assert ({"New", "Edit", "Delete"} <= shown) is expect_changes
            assert not ({"New", "Edit", "Delete"} & shown) or expect_changes


async def test_read_only_bindings_footer_offers_no_change(make_app, tmp_path):
    from providers.sandbox.huawei import HuaweiSandbox
    from providers.session import sandbox_session
    from tests.tui.conftest import settle
    from tui.app import TeledeckApp

    session = sandbox_session(
        read_only=True, binding_handlers={"huawei": HuaweiSandbox()}, ledger_path=tmp_path / "l.sqlite3"
    )
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = _footer_verbs(app)
        assert "Refresh" in shown and not {"Bind", "Modify/extend", "Unbind"} & shown


async def test_a_verb_the_api_lacks_says_so_instead_of_nothing(make_app):
    from tests.tui.conftest import notices, settle
    from tui.screens.form import FormScreen

    app = make_app(start="addresses")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Edit" not in _footer_verbs(app)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
        assert any("cannot be edited" in n and "no update" in n for n in notices(app))


async def test_reverse_with_no_order_says_what_to_do(make_app):
    from tests.tui.conftest import notices, settle, table

    app = make_app(start="billing")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("O")
        await pilot.pause()
        assert table(app).sort_column is None
        assert any("press o to order" in n for n in notices(app))
        await pilot.press("o", "O")
        await pilot.pause()
        assert table(app).sort_column is not None and table(app).sort_reverse
