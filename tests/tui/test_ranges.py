"""Access IP ranges in the console: the IP ranges screen, and a CIDR block typed into the allowlist
form, which Telnyx keeps as an IP range (`/access_ip_ranges`), not as an access IP."""

from __future__ import annotations

import httpx
from textual.widgets import Input

from tests.tui.conftest import column, notices, settle, table
from tui.screens.confirm import ConfirmScreen
from tui.screens.form import FormScreen

SIZE = (140, 40)


def blocks(sandbox) -> list[str]:
    return [r["cidr_block"] for r in sandbox.state["access_ip_ranges"]]


def access_ips(sandbox) -> list[str]:
    return [r["ip_address"] for r in sandbox.state["access_ips"]]


async def open_form(pilot) -> FormScreen:
    await pilot.press("n")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    return form


async def test_ranges_screen_lists_every_range_with_its_columns(make_app, sandbox):
    app = make_app(start="ranges")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [c.label for c in table(app).columns] == ["CIDR BLOCK", "STATUS", "DESCRIPTION", "CREATED (UTC)", "ID"]
        assert table(app).total_count == len(blocks(sandbox)) == 11
        assert set(column(app, "cidr_block")) == set(blocks(sandbox))
        assert "IP ranges · telnyx" in str(app.screen.query_one("#title-bar").render())


async def test_cidr_from_the_allowlist_form_becomes_a_range_then_is_deleted_from_ranges(make_app, sandbox):
    app = make_app(start="ranges")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the ranges screen is open (and loaded) before the create
        app.switch_mode("allowlist")
        await settle(pilot)
        allowlist_rows = table(app).total_count
        form = await open_form(pilot)
        await pilot.press(*"198.51.100.0/28")
        form.query_one("#input-description", Input).value = "Partner NAT pool"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert not isinstance(app.screen, FormScreen)
        created = next(r for r in sandbox.state["access_ip_ranges"] if r["cidr_block"] == "198.51.100.0/28")
        assert created["description"] == "Partner NAT pool"
        assert "198.51.100.0/28" not in access_ips(sandbox)
        # The allowlist shows access IPs only: no row for the block, and the notice says where it is.
        assert table(app).total_count == allowlist_rows and "198.51.100.0/28" not in column(app, "ip_address")
        said = [n for n in notices(app) if "198.51.100.0/28" in n]
        assert said and "IP range 198.51.100.0/28 created" in said[-1] and ":ranges" in said[-1]

        app.switch_mode("ranges")
        await settle(pilot)  # stale after the create elsewhere, so it reloads
        assert table(app).total_count == 12 and "198.51.100.0/28" in column(app, "cidr_block")

        table(app).move_cursor_to_key(created["id"])
        await pilot.press("ctrl+d")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.focused.id == "cancel"
        assert "IP range 198.51.100.0/28" in str(confirm.query_one("#question").render())
        await pilot.press("right", "enter")  # move to Delete, press it
        await settle(pilot)
        assert "198.51.100.0/28" not in blocks(sandbox)
        assert created["id"] not in app.screen.records and table(app).total_count == 11
        assert any("Deleted IP range 198.51.100.0/28" in n for n in notices(app))


async def test_single_address_from_the_allowlist_form_stays_an_access_ip(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_form(pilot)
        await pilot.press(*"198.51.100.33", "ctrl+s")
        await settle(pilot)
        assert "198.51.100.33" in access_ips(sandbox) and len(blocks(sandbox)) == 11
        assert table(app).current_row.cells[0] == "198.51.100.33"


async def test_range_refusal_from_the_allowlist_form_is_shown_at_the_address_field(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_form(pilot)
        await pilot.press(*"203.0.113.48/28", "ctrl+s")  # already a range in the seed
        await settle(pilot)
        assert app.screen is form
        assert form.field_errors["ip_address"].startswith("[10012]")  # /cidr_block, placed here
        assert "203.0.113.48/28" in str(form.query_one("#form-status").render())
        assert form.query_one("#input-ip_address", Input).value == "203.0.113.48/28"


async def test_cidr_create_that_times_out_is_settled_by_its_key_and_made_once(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sandbox.faults.delay("POST", "/access_ip_ranges", 30, apply=True)
        app.session.client("telnyx").transport._client.timeout = httpx.Timeout(0.2)
        form = await open_form(pilot)
        form.query_one("#input-ip_address", Input).value = "192.0.2.128/26"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        # The lost answer is settled by re-sending with the same Idempotency-Key: made once.
        assert blocks(sandbox).count("192.0.2.128/26") == 1
        assert any("IP range 192.0.2.128/26 created" in n and ":ranges" in n for n in notices(app))


async def test_ranges_form_points_a_single_address_to_the_allowlist_and_sends_nothing(make_app, sandbox):
    app = make_app(start="ranges")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = sandbox.requests_handled
        form = await open_form(pilot)
        await pilot.press(*"192.0.2.7", "ctrl+s")
        await pilot.pause()
        assert ":allowlist" in form.field_errors["cidr_block"] and "192.0.2.7/32" in form.field_errors["cidr_block"]
        form.query_one("#input-cidr_block", Input).value = "192.0.2.7/24"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "did you mean 192.0.2.0/24" in form.field_errors["cidr_block"]
        assert sandbox.requests_handled == before
        form.query_one("#input-cidr_block", Input).value = "2001:db8:99::/48"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "2001:db8:99::/48" in blocks(sandbox)
        assert table(app).current_row.cells[:2] == ("2001:db8:99::/48", "pending")


async def test_ranges_order_by_address_not_text(make_app):
    app = make_app(start="ranges")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")  # order by the first column: CIDR BLOCK
        shown = column(app, "cidr_block")
        assert shown[:3] == ["192.0.2.0/26", "192.0.2.192/28", "198.51.100.64/27"]  # 64 before 128, as numbers
        assert shown[3] == "198.51.100.128/25" and all(":" in b for b in shown[6:])  # IPv6 after IPv4
        # By value, not by text ("4a00" would come first as text: 4 < 379).
        assert shown[6:] == [
            "2001:db8:bc::/48",
            "2001:db8:379::/48",
            "2001:db8:6d7::/48",
            "2001:db8:d61::/48",
            "2001:db8:4a00::/40",
        ]
