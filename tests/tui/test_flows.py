"""Every user flow, driven with Pilot against the in-process sandbox."""

from __future__ import annotations

from textual.widgets import Button, Input

from providers.telnyx.models import AccessToken
from tests.tui.conftest import column, forbid_listing_billing_groups, notices, settle, table
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.token import TokenScreen
from tui.screens.validation import ValidationScreen

SIZE = (140, 40)


def access_ips(sandbox) -> list[str]:
    return [ip["ip_address"] for ip in sandbox.state["access_ips"]]


async def test_browse_shows_every_access_ip_and_the_header_badges(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table(app).total_count == len(sandbox.state["access_ips"]) == 51
        assert set(column(app, "ip_address")) == set(access_ips(sandbox))
        header = str(app.screen.query_one("#app-header").render())
        assert "SANDBOX" in header and "READ-ONLY" not in header


async def test_pagination_across_pages_fetches_every_row(make_app, sandbox):
    assert sandbox.requests_handled == 0
    app = make_app(page_size=20)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table(app).total_count == 51
        assert sandbox.requests_handled == 3  # pages 1, 2 and 3 of 20


async def test_filter_as_you_type_and_inverted_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        everything = table(app).total_count
        await pilot.press("slash", *"tokyo")
        matching = table(app).visible_count
        assert 0 < matching < everything
        assert all("tokyo" in " ".join(table(app).row_at(i).cells).lower() for i in range(matching))
        box = app.screen.query_one("#filter-input", Input)
        box.value = "!tokyo"
        await pilot.pause()
        assert table(app).visible_count == everything - matching
        await pilot.press("escape")  # leaves the box, keeps the filter
        await pilot.press("escape")  # clears it
        assert table(app).visible_count == everything
        assert "rows match" not in str(app.screen.query_one("#title-bar").render())


async def test_sort_by_column_and_reverse(make_app):
    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")  # order by the first column: NAME
        names = column(app, "name")
        assert names == sorted(names, key=str.lower)
        await pilot.press("O")
        assert column(app, "name") == sorted(names, key=str.lower, reverse=True)
        assert "sorted by NAME ▼" in str(app.screen.query_one("#title-bar").render())


async def test_detail_view_shows_every_field(make_app, sandbox):
    app = make_app(start="sso")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        fields = [path for path, _ in app.screen.rows]
        assert "settings.idp_entity_id" in fields and "short_name" in fields and "id" in fields
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_create_with_bad_then_good_input(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = len(sandbox.state["access_ips"])
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        await pilot.press(*"300.1.1.1", "ctrl+s")
        await pilot.pause()
        assert "not an IP address" in form.field_errors["ip_address"]
        assert len(sandbox.state["access_ips"]) == before  # nothing was sent
        field = form.query_one("#input-ip_address", Input)
        assert field.value == "300.1.1.1"  # what was typed is kept
        field.value = "198.51.100.77"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert "198.51.100.77" in access_ips(sandbox)
        assert "198.51.100.77" in column(app, "ip_address")
        assert table(app).current_row.cells[0] == "198.51.100.77"


async def test_provider_refusal_is_shown_at_the_field_and_input_kept(make_app, sandbox):
    existing = sandbox.state["access_ips"][0]["ip_address"]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-ip_address", Input).value = existing
        form.query_one("#input-description", Input).value = "duplicate on purpose"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.field_errors.get("ip_address")  # the vendor's pointer placed it here
        status = str(form.query_one("#form-status").render())
        assert "HTTP 422" in status and "[" in status  # vendor code shown
        assert form.query_one("#input-description", Input).value == "duplicate on purpose"


async def create_access_ip_that_times_out(pilot, sandbox, ip: str, *, applied: bool) -> FormScreen:
    """Send a new access IP that the sandbox answers too late (having created it, or not)."""
    sandbox.faults.delay("POST", "/access_ip_address", 30, apply=applied)
    pilot.app.session.client("telnyx").transport._client.timeout = __import__("httpx").Timeout(0.2)
    await pilot.press("n")
    await pilot.pause()
    form = pilot.app.screen
    form.query_one("#input-ip_address", Input).value = ip
    await pilot.press("ctrl+s")
    await settle(pilot)
    return form


async def test_create_timeout_applied_is_replayed_by_its_idempotency_key(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await create_access_ip_that_times_out(pilot, sandbox, "203.0.113.201", applied=True)
        assert not isinstance(app.screen, FormScreen)
        assert access_ips(sandbox).count("203.0.113.201") == 1  # replayed, not created twice
        # The lost answer was re-sent with the same Idempotency-Key, which the sandbox replayed.
        assert len(sandbox.state["idempotency"]) == 1
        assert sandbox.faults.fired == {"delay": 1}


async def test_create_timeout_not_applied_is_made_once_by_the_same_key(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await create_access_ip_that_times_out(pilot, sandbox, "203.0.113.202", applied=False)
        assert not isinstance(app.screen, FormScreen)
        assert access_ips(sandbox).count("203.0.113.202") == 1
        assert len(sandbox.state["idempotency"]) == 1 and sandbox.faults.fired == {"delay": 1}


async def test_edit_renames_a_billing_group(make_app, sandbox):
    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        record = app.screen.current()
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#input-name", Input).value == record.name
        form.query_one("#input-name", Input).value = "Renamed by test"
        await pilot.press("ctrl+s")
        await settle(pilot)
        stored = next(g for g in sandbox.state["billing_groups"] if g["id"] == record.id)
        assert stored["name"] == "Renamed by test"
        assert table(app).current_row.cells[0] == "Renamed by test"


async def test_delete_asks_with_cancel_focused_and_cancel_keeps_the_row(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        target = app.screen.current()
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.focused.id == "cancel"
        assert target.ip_address in str(app.screen.query_one("#question").render())
        await pilot.press("enter")  # Cancel
        await settle(pilot)
        assert target.ip_address in access_ips(sandbox)
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert target.ip_address in access_ips(sandbox)


async def test_delete_confirmed_removes_the_row(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        target = app.screen.current()
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")  # move to Delete, press it
        await settle(pilot)
        assert target.ip_address not in access_ips(sandbox)
        assert target.id not in app.screen.records
        assert table(app).total_count == 50


async def test_read_only_refuses_every_change_and_sends_nothing(make_app, sandbox):
    app = make_app(read_only=True, start="credentials")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in str(app.screen.query_one("#app-header").render())
        before = sandbox.requests_handled
        for resource, keys in (("credentials", ["t"]), ("allowlist", ["n", "ctrl+d"]), ("billing", ["e", "n"])):
            app.switch_mode(resource)
            await settle(pilot)
            before = sandbox.requests_handled
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
                assert not isinstance(app.screen, (FormScreen, ConfirmScreen))
            assert sandbox.requests_handled == before
        assert sum("Read-only" in n for n in notices(app)) == 5


async def test_provider_error_is_shown_with_vendor_code_not_a_traceback(make_app, sandbox):
    forbid_listing_billing_groups(sandbox)
    app = make_app(start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert any("[10010]" in n and "not allowed" in n for n in notices(app))
        assert "[10010]" in str(app.screen.query_one("#title-bar").render())
        assert app.is_running


async def test_malformed_answer_never_crashes(make_app, sandbox):
    sandbox.faults.malformed("GET", "/addresses", times=None)
    app = make_app(start="addresses")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.is_running
        assert any("data" in n for n in notices(app))


async def test_repeating_pages_stop_with_a_partial_warning(make_app, sandbox):
    sandbox.faults.repeat_page("/access_ip_address", page_number=1)
    app = make_app(page_size=20)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert table(app).total_count == 20  # page 1 once, never duplicated
        assert "partial list" in str(app.screen.query_one("#title-bar").render())


async def test_token_for_an_expired_credential_shows_the_vendor_refusal(make_app, sandbox):
    expired = next(c for c in sandbox.state["credentials"] if c["expired"])
    app = make_app(start="credentials")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(expired["id"])
        await pilot.press("t")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert not isinstance(app.screen, TokenScreen)
        assert any("HTTP 422" in n and "expired" in n for n in notices(app))


async def test_new_token_is_masked_until_revealed_and_copied_explicitly(make_app, sandbox):
    active = next(c for c in sandbox.state["credentials"] if not c["expired"])
    app = make_app(start="credentials")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(active["id"])
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TokenScreen)
        token = screen.token
        assert isinstance(token, AccessToken) and token.value.count(".") == 2
        shown = str(screen.query_one("#token-value").render())
        assert token.value not in shown and "••••" in shown
        assert app.clipboard != token.value
        await pilot.press("r")
        assert token.value in str(screen.query_one("#token-value").render()).replace("\n", "")
        await pilot.press("c")
        assert app.clipboard == token.value
        assert all(token.value not in n for n in notices(app))


async def test_validate_address_and_accept_suggestions(make_app, sandbox):
    pending = next(a for a in sandbox.state["addresses"] if (a.get("_suggestion") or {}).get("state") == "pending")
    app = make_app(start="addresses")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(pending["id"])
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ValidationScreen)
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert any("Accept suggestions: done" in n for n in notices(app))
        await pilot.press("a")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert any("already done" in n for n in notices(app))


async def test_create_integration_secret_value_never_shown(make_app, sandbox):
    app = make_app(start="secrets")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-identifier", Input).value = "crm_token"
        secret = form.query_one("#input-token", Input)
        assert secret.password is True
        secret.value = "sk_live_supersecret_123"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "crm_token" in column(app, "identifier")
        for i in range(table(app).total_count):
            assert "sk_live_supersecret_123" not in " ".join(table(app).row_at(i).cells)


async def test_jump_to_a_resource_by_name(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"billing", "enter")
        await settle(pilot)
        assert app.current_mode == "billing"
        assert "Billing groups" in str(app.screen.query_one("#title-bar").render())


async def test_help_lists_this_screens_keys(make_app):
    app = make_app(start="addresses")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = dict((d, k) for k, d in app.screen.rows)
        for wanted in ("Filter", "Refresh", "New", "Delete", "Copy id", "Validate", "Accept suggestions"):
            assert wanted in described
        assert "Edit" not in described  # the addresses API has no update
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_copy_id(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert app.clipboard == app.screen.current().id


async def test_buttons_are_real_buttons(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause()
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Cancel", "Delete"]


async def test_validating_an_address_in_its_suggested_form_offers_nothing_to_accept(make_app, sandbox):
    plain = next(a for a in sandbox.state["addresses"] if not a.get("_suggestion"))
    pending = next(a for a in sandbox.state["addresses"] if (a.get("_suggestion") or {}).get("state") == "pending")
    app = make_app(start="addresses")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(plain["id"])
        await pilot.press("v")
        await settle(pilot)
        shown = str(app.screen.query_one("#validation").render())
        assert "Nothing to accept" in shown and "Press a" not in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.table.move_cursor_to_key(pending["id"])
        await pilot.press("v")
        await settle(pilot)
        shown = str(app.screen.query_one("#validation").render())
        assert "Suggested changes" in shown and "Press a" in shown
        for name, value in pending["_suggestion"]["fields"].items():
            assert name in shown and str(value) in shown


async def test_ordering_follows_values_and_the_title_names_the_column(make_app, sandbox):
    import ipaddress

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")  # the first column: IP ADDRESS
        await pilot.pause()
        shown = column(app, "ip_address")
        keys = [ipaddress.ip_network(ip, strict=False) for ip in shown]
        assert keys == sorted(keys, key=lambda n: (n.version, int(n.network_address), n.prefixlen))
        assert "sorted by IP ADDRESS ▲" in str(app.screen.query_one("#title-bar").render())
        while table(app).sort_column != "id":
            await pilot.press("o")
            await pilot.pause()
        ids = column(app, "id")
        assert ids == sorted(ids), "ids in plain text order, their digits are not numbers"


async def test_accepting_suggestions_shows_the_new_text_without_a_refresh(make_app, sandbox):
    pending = next(a for a in sandbox.state["addresses"] if (a.get("_suggestion") or {}).get("state") == "pending")
    changes = pending["_suggestion"]["fields"]
    app = make_app(start="addresses")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.table.move_cursor_to_key(pending["id"])
        await pilot.press("a")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        record = app.screen.records[pending["id"]]
        for name, value in changes.items():
            assert getattr(record, name) == value
