"""Every change made in the console appends one audit line, whatever its outcome; never a secret."""

from __future__ import annotations

from textual.widgets import Input, Select

from providers.bindings import REMOVED
from providers.sandbox.huawei import HuaweiSandbox
from providers.session import sandbox_session
from tests.tui.conftest import settle, table
from tests.tui.test_marks import refuse_delete_of, shown_keys
from tui.app import TeledeckApp
from tui.screens.form import FormScreen
from tui.screens.token import TokenScreen

SIZE = (140, 40)


def lines(app) -> list[tuple[str, str, str, str]]:
    """(verb, resource, id, outcome) of every audit line, oldest first."""
    return [(e.verb, e.resource, e.id, e.outcome) for e in reversed(app.session.audit.entries())]


async def test_create_and_edit_are_recorded_with_the_id_the_provider_gave(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"203.0.113.250", "ctrl+s")
        await settle(pilot)
        made = next(ip for ip in sandbox.state["access_ips"] if ip["ip_address"] == "203.0.113.250")
        assert lines(app) == [("create", "allowlist", made["id"], "done")]
        entry = app.session.audit.entries()[0]
        assert entry.profile == app.session.profile and entry.account == "telnyx" and entry.request_id

    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record = app.screen.current()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#input-name", Input).value = "Renamed for the audit"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert lines(app)[-1] == ("update", "billing", record.id, "done")


async def test_a_bulk_delete_records_each_row_and_the_refused_one_as_failed(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        marked = shown_keys(app)[:3]
        refuse_delete_of(sandbox, marked[1])
        await pilot.press("space", "space", "space", "ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        await settle(pilot)
        assert table(app).get_row(marked[1]) is not None
    recorded = {entry.id: entry for entry in app.session.audit.entries()}
    assert {key: recorded[key].outcome for key in marked} == {marked[0]: "done", marked[1]: "failed", marked[2]: "done"}
    assert "10015" in recorded[marked[1]].detail
    assert {recorded[key].verb for key in marked} == {"delete"}


async def test_a_new_token_is_recorded_but_never_its_value(make_app, sandbox):
    active = next(c for c in sandbox.state["credentials"] if not c["expired"])
    app = make_app(start="credentials")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(active["id"])
        await pilot.press("t")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert isinstance(app.screen, TokenScreen)
        token = app.screen.token.value
    assert lines(app) == [("token", "credentials", active["id"], "done")]
    assert token not in app.session.audit.path.read_text()


async def test_bind_and_unbind_are_recorded_on_the_bindings_screen(sandbox, tmp_path):
    huawei = HuaweiSandbox()
    session = sandbox_session(handler=sandbox, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "l.sqlite3")
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-provider", Select).value = "huawei"
        for name, value in (("a", "+8613800000061"), ("b", "+8613800000062"), ("expires", "+2h"), ("area_code", "010")):
            form.query_one(f"#input-{name}").value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.field_errors
        made = next(b for b in app.screen.bindings.values() if b.a == "+8613800000061")
        assert lines(app)[-1] == ("bind", "bindings", made.subscription_id, "done")

        app.screen.table.move_cursor_to_key(made.key)
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        await settle(pilot)
        assert app.screen.bindings[made.key].status == REMOVED
        assert lines(app)[-1] == ("unbind", "bindings", made.subscription_id, "done")
        assert all(entry.account == "huawei" for entry in app.session.audit.entries())
