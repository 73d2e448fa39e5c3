"""Marks, bulk changes, richer filters and export, driven with Pilot against the sandbox."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import os
import stat

import pytest
from textual.widgets import Input, Select

from providers.bindings import ACTIVE, EXPIRED, REMOVED
from providers.sandbox.huawei import HuaweiSandbox
from providers.session import sandbox_session
from tests.tui.conftest import notice_titles, notices, settle, table
from tui.app import TeledeckApp
from tui.binding_forms import parse_expiry
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen

SIZE = (140, 40)


def title(app) -> str:
    return str(app.screen.query_one("#title-bar").render())


def shown_keys(app) -> list[str]:
    t = table(app)
    return [t.row_at(i).key for i in range(t.visible_count)]


def refuse_delete_of(sandbox, record_id: str) -> None:
    """The next delete of `record_id` is refused with a vendor code (the bulk's one failure)."""
    sandbox.faults.respond(
        "DELETE",
        f"/access_ip_address/{record_id}",
        422,
        {"errors": [{"code": "10015", "title": "Bad Request", "detail": "the address is in use by a connection"}]},
    )


# ---- marks ---------------------------------------------------------------------------------------


async def test_space_marks_and_unmarks_rows_the_title_counts_them_and_esc_clears(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first, second = shown_keys(app)[:2]
        await pilot.press("space", "space")  # marks the row, then moves down: two rows
        assert table(app).is_marked(first) and table(app).is_marked(second)
        assert "2 marked" in title(app)
        assert table(app).current_key == shown_keys(app)[2]
        await pilot.press("up", "space")  # the second again: unmarked
        assert not table(app).is_marked(second)
        assert "1 marked" in title(app)
        line = table(app).render_line(1).text  # the first row, under the header
        assert line.startswith("✓")
        assert table(app).render_line(2).text.startswith(" ")
        await pilot.press("escape")
        assert table(app).mark_count == 0
        assert "marked" not in title(app)


async def test_ctrl_space_marks_every_row_shown_after_a_filter_only_those(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:pending", "enter")
        await settle(pilot)
        pending = shown_keys(app)
        assert 0 < len(pending) < table(app).total_count
        await pilot.press("ctrl+@")  # what a terminal sends for ctrl+space
        assert table(app).mark_count == len(pending)
        assert {row.key for row in table(app).marked_rows()} == set(pending)
        await pilot.press("ctrl+@")  # all of them marked: again unmarks them
        assert table(app).mark_count == 0
        await pilot.press("ctrl+space")  # the kitty keyboard protocol's name for it
        assert table(app).mark_count == len(pending)


async def test_marks_survive_filtering_and_sorting_and_a_reload_keeps_rows_still_there(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        marked = shown_keys(app)[:3]
        await pilot.press("space", "space", "space")
        await pilot.press("slash", *"zzz-nothing", "enter")
        await settle(pilot)
        assert table(app).visible_count == 0
        assert table(app).mark_count == 3  # hidden by the filter, still marked
        await pilot.press("escape", "o", "O")
        await settle(pilot)
        assert all(table(app).is_marked(key) for key in marked)
        # One marked row is deleted elsewhere: a reload forgets its mark only.
        sandbox.state["access_ips"] = [ip for ip in sandbox.state["access_ips"] if ip["id"] != marked[0]]
        await pilot.press("r")
        await settle(pilot)
        assert table(app).mark_count == 2
        assert [row.key for row in table(app).marked_rows()] == [k for k in shown_keys(app) if k in marked[1:]]


# ---- bulk delete ---------------------------------------------------------------------------------


async def test_bulk_delete_asks_once_with_cancel_focused_and_one_failure_stays_marked(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        marked = shown_keys(app)[:5]
        ips = {ip["id"]: ip["ip_address"] for ip in sandbox.state["access_ips"]}
        refuse_delete_of(sandbox, marked[2])
        await pilot.press(*["space"] * 5)
        await pilot.press("ctrl+d")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.focused.id == "cancel"
        asked = str(confirm.query_one("#question").render())
        assert "Delete 5 access IPs?" in asked
        assert all(ips[key] in asked for key in marked)
        await pilot.press("enter")  # Cancel: nothing sent
        await settle(pilot)
        assert table(app).mark_count == 5 and len(sandbox.state["access_ips"]) == 51

        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        await settle(pilot)
        left = {ip["id"] for ip in sandbox.state["access_ips"]}
        assert left & set(marked) == {marked[2]}  # four deleted, the refused one kept
        assert [k for k in marked if table(app).get_row(k) is not None] == [marked[2]]
        assert table(app).is_marked(marked[2])
        assert table(app).get_row(marked[2]).style == "error"
        assert "1 marked" in title(app)
        said = notices(app)[-1]
        assert "Done 4, failed 1, unknown 0." in said
        assert f"access IP {ips[marked[2]]}: [10015]" in said and "in use by a connection" in said
        assert "Delete: 5 marked rows" in notice_titles(app)
        # Its detail says why.
        table(app).move_cursor_to_key(marked[2])
        await pilot.press("enter")
        await pilot.pause()
        assert "delete failed: [10015]" in str(app.screen.query_one(".title-bar").render())


def hold_deletes(app, monkeypatch) -> tuple[asyncio.Event, list[str]]:
    """Make the allowlist's deletes wait for the gate: (the gate, the ids whose delete started)."""
    client = app.session.client("telnyx")
    real_delete = client.delete_access_ip
    gate = asyncio.Event()
    started: list[str] = []

    async def held_delete(record_id: str):
        started.append(record_id)
        await gate.wait()
        return await real_delete(record_id)

    monkeypatch.setattr(client, "delete_access_ip", held_delete)
    return gate, started


async def test_esc_stops_a_bulk_delete_the_writes_in_flight_settle_the_rest_stay_marked(make_app, sandbox, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        gate, started = hold_deletes(app, monkeypatch)
        marked = shown_keys(app)[:7]
        await pilot.press(*["space"] * 7, "ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        while len(started) < 4:  # four in flight at once, no more
            await pilot.pause()
        assert app.screen.query_one("#bulk-bar")  # the progress bar is up
        await pilot.press("escape")
        assert "stopping" in str(app.screen.query_one("#bulk-label").render())
        gate.set()
        await settle(pilot)
        assert started == marked[:4]
        left = {ip["id"] for ip in sandbox.state["access_ips"]}
        assert not left & set(marked[:4]) and set(marked[4:]) <= left
        assert [row.key for row in table(app).marked_rows()] == marked[4:]
        assert "Done 4, failed 0, unknown 0; stopped: 3 not started (still marked)." in notices(app)[-1]
        assert not app.screen.query("#bulk-progress")


async def test_read_only_refuses_a_bulk_delete_and_sends_nothing(make_app, sandbox):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        before = sandbox.requests_handled
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert sandbox.requests_handled == before
        assert any("Read-only" in n for n in notices(app))
        assert table(app).mark_count == 2  # marking is not a change: export still works


# ---- bindings: bulk unbind and extend ------------------------------------------------------------


@pytest.fixture
def huawei() -> HuaweiSandbox:
    return HuaweiSandbox()


@pytest.fixture
def bindings_app(sandbox, huawei, tmp_path):
    def build() -> TeledeckApp:
        session = sandbox_session(
            handler=sandbox, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "ledger.sqlite3"
        )
        return TeledeckApp(session, start="bindings")

    return build


def active_axb(app) -> list[str]:
    return [b.key for b in app.screen.bindings.values() if b.mode == "AXB" and b.status == ACTIVE]


async def mark(app, pilot, keys) -> None:
    for key in keys:
        app.screen.table.move_cursor_to_key(key)
        await pilot.press("space")


async def test_bulk_unbind_with_one_vendor_refusal(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        keys = active_axb(app)[:3]
        assert len(keys) == 3
        await mark(app, pilot, keys)
        huawei.faults.respond("DELETE", "/rest/caas/relationnumber/partners/v1.0", 400)  # the first one
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.focused.id == "cancel"
        assert "Unbind 3 bindings?" in str(app.screen.query_one("#question").render())
        await pilot.press("right", "enter")
        await settle(pilot)
        statuses = {key: app.screen.bindings[key].status for key in keys}
        assert sorted(statuses.values()) == [ACTIVE, REMOVED, REMOVED]
        refused = next(key for key, status in statuses.items() if status == ACTIVE)
        assert [row.key for row in app.screen.table.marked_rows()] == [refused]
        assert "Done 2, failed 1, unknown 0." in notices(app)[-1]
        assert "[1010002]" in notices(app)[-1]
        assert app.session.ledger.get(refused).status == ACTIVE


async def test_bulk_extend_gives_every_marked_binding_one_new_expiry(bindings_app):
    app = bindings_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        keys = [k for k in active_axb(app) if app.screen.bindings[k].expires_at][:3]
        await mark(app, pilot, keys)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen) and "Extend 3 marked bindings" in form.title_text
        form.query_one("#input-expires", Input).value = "nonsense"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)  # caught at the field: nothing sent
        form.query_one("#input-expires", Input).value = "+5d"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.focused.id == "cancel"
        assert "Extend 3 bindings?" in str(app.screen.query_one("#question").render())
        await pilot.press("right", "enter")
        await settle(pilot)
        wanted = parse_expiry("+5d")
        for key in keys:  # one expiry asked of each (Huawei counts it from its own now: seconds apart)
            got = app.screen.bindings[key].expires_at
            assert abs((got - wanted).total_seconds()) < 120
            assert app.session.ledger.get(key).expires_at == got
        assert app.screen.table.mark_count == 0
        assert "Done 3, failed 0, unknown 0." in notices(app)[-1]


async def test_bulk_extend_leaves_out_what_cannot_be_extended_and_says_so(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        keys = [k for k in active_axb(app) if app.screen.bindings[k].expires_at][:2]
        over = keys[1]
        app.screen.bindings[over] = dataclasses.replace(app.screen.bindings[over], status=EXPIRED)
        await mark(app, pilot, keys)
        before = app.session.ledger.get(over).expires_at
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#input-expires", Input).value = "+2d"
        await pilot.press("ctrl+s")
        await settle(pilot)
        asked = str(app.screen.query_one("#question").render())
        assert "Extend 1 binding?" in asked
        assert "1 more marked binding cannot be, and will stay marked" in asked and "is expired" in asked
        await pilot.press("right", "enter")
        await settle(pilot)
        assert app.session.ledger.get(over).expires_at == before  # nothing sent for it
        extended = app.screen.bindings[keys[0]].expires_at
        assert abs((extended - parse_expiry("+2d")).total_seconds()) < 120
        assert [row.key for row in app.screen.table.marked_rows()] == [over]
        said = notices(app)[-1]
        assert "Done 1, failed 1, unknown 0." in said and "not sent:" in said


# ---- filters -------------------------------------------------------------------------------------


async def test_regex_and_column_filters_and_a_bad_one_is_said_at_the_box(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:pending")
        await settle(pilot)
        pending = {ip["id"] for ip in sandbox.state["access_ips"] if ip["status"] == "pending"}
        assert set(shown_keys(app)) == pending
        box = app.screen.query_one("#filter-input", Input)
        box.value = "!~^192\\.0\\.2\\."
        await settle(pilot)
        assert {*shown_keys(app)} == {
            ip["id"] for ip in sandbox.state["access_ips"] if not ip["ip_address"].startswith("192.0.2.")
        }
        good = shown_keys(app)
        box.value = "~192.(0"
        await settle(pilot)
        problem = str(app.screen.query_one("#filter-problem").render())
        assert "not a regular expression" in problem and "last good filter" in problem
        assert box.has_class("invalid")
        assert shown_keys(app) == good  # the last good filter still holds
        await pilot.press("enter")
        assert box.has_focus  # stays to be fixed
        box.value = "nosuch:thing"
        await settle(pilot)
        assert "no column 'nosuch'" in str(app.screen.query_one("#filter-problem").render())
        box.value = "10:3"  # a time, not a column's name: text
        await settle(pilot)
        assert not box.has_class("invalid")
        await pilot.press("escape")
        assert not app.screen.query_one("#filter-problem").display


async def test_help_explains_the_filters_and_the_mark_keys(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for said in ("~regex", "column:value", "Mark/unmark", "^space", "Mark all shown", "Export", "Copy as CSV"):
            assert said in text
        assert "^space, ^space" not in text


# ---- export --------------------------------------------------------------------------------------


async def export_to(app, pilot, path: str) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, ExportScreen)
    app.screen.query_one("#export-path", Input).value = path
    await pilot.press("enter")
    await settle(pilot)


async def test_export_writes_the_view_filtered_and_ordered_as_csv_0600(make_app, sandbox, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:pending", "enter", "o")  # by IP address
        await settle(pilot)
        order = shown_keys(app)
        target = tmp_path / "pending.csv"
        await export_to(app, pilot, str(target))
        assert not isinstance(app.screen, ExportScreen)
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
        with open(target, newline="", encoding="utf-8") as handle:
            got = list(csv.DictReader(handle))
        assert [row["id"] for row in got] == order
        by_id = {ip["id"]: ip for ip in sandbox.state["access_ips"]}
        first = by_id[order[0]]
        assert got[0]["ip_address"] == first["ip_address"] and got[0]["status"] == "pending"
        assert got[0]["description"] == first["description"]
        assert f"Exported {len(order)} rows matching 'status:pending' to {target}" in notices(app)[-1]


async def test_export_of_marked_rows_only_as_json_with_no_secret_field(make_app, sandbox, tmp_path):
    # A vendor answer carrying a secret (as a SIP password would be): read, shown masked, never exported.
    for credential in sandbox.state["credentials"]:
        credential["sip_password"] = f"hunter2-{credential['id']}"
    app = make_app(start="credentials")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        marked = shown_keys(app)[1:3]
        assert all("sip_password" in app.screen.records[key].raw for key in marked)
        await pilot.press("down", "space", "space")
        target = tmp_path / "creds.json"
        await pilot.press("ctrl+s")
        await pilot.pause()
        prompt = app.screen
        prompt.query_one("#export-path", Input).value = str(tmp_path / "creds.csv")
        await pilot.pause()
        prompt.query_one("#export-format", Select).value = "json"  # the choice renames the extension
        await pilot.pause()
        assert prompt.query_one("#export-path", Input).value == str(target)
        await pilot.press("enter")
        await settle(pilot)
        got = json.loads(target.read_text(encoding="utf-8"))
        assert [row["id"] for row in got] == marked
        stored = {c["id"]: c for c in sandbox.state["credentials"]}
        for row in got:
            assert row["name"] == stored[row["id"]]["name"]
            assert not {"token", "password", "secret", "value"} & set(row)
        assert "hunter2" not in target.read_text()


async def test_export_prompt_says_what_is_wrong_at_the_field_and_keeps_the_path(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        prompt = app.screen
        field = prompt.query_one("#export-path", Input)
        assert field.value.startswith("allowlist-") and field.value.endswith("Z.csv")
        error = prompt.query_one("#error-path")

        async def submit(path: str) -> str:
            field.value = path
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is prompt and field.value == path  # kept, to be fixed
            return str(error.render())

        assert "that is a folder" in await submit(str(tmp_path))
        assert "no such folder" in await submit(str(tmp_path / "missing" / "x.csv"))
        assert "name the format by the extension" in await submit(str(tmp_path / "x.txt"))
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        if os.geteuid() != 0:  # root writes anywhere
            assert "permission denied" in await submit(str(locked / "x.csv"))
        existing = tmp_path / "old.jsonl"
        existing.write_text("keep me\n")
        assert "exists: press enter again to replace it" in await submit(str(existing))
        assert existing.read_text() == "keep me\n"
        await pilot.press("enter")  # again, the same path: replaced
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        lines = existing.read_text().splitlines()
        assert len(lines) == 51 and all(json.loads(line)["id"] for line in lines)


async def test_export_refuses_to_write_where_the_os_refuses_and_says_why(make_app, tmp_path, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def refused(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("providers.paths.atomic_write", refused)
        await export_to(app, pilot, str(tmp_path / "x.csv"))
        assert isinstance(app.screen, ExportScreen)
        assert "cannot write it: Permission denied" in str(app.screen.query_one("#error-path").render())


async def test_copy_as_csv_puts_the_rows_on_the_clipboard(make_app):
    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "C")
        await settle(pilot)
        rows = list(csv.DictReader(io.StringIO(app.clipboard)))
        assert [row["id"] for row in rows] == [row.key for row in table(app).marked_rows()]
        assert "Copied 2 marked rows as CSV" in notices(app)[-1]


async def test_ctrl_space_and_ctrl_s_act_from_the_filter_box_space_and_ctrl_d_are_its_own(make_app, sandbox):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:pending", "ctrl+@")
        await settle(pilot)
        box = app.screen.query_one("#filter-input", Input)
        assert box.has_focus and box.value == "status:pending"
        pending = {ip["id"] for ip in sandbox.state["access_ips"] if ip["status"] == "pending"}
        assert {row.key for row in table(app).marked_rows()} == pending
        await pilot.press("space", "home", "ctrl+d")  # text, and the box deleting to the right
        assert box.value == "tatus:pending " and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)


async def test_a_profile_switch_waits_for_a_bulk_change_so_no_row_in_flight_goes_unreported(
    make_app, sandbox, monkeypatch
):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        gate, started = hold_deletes(app, monkeypatch)
        session = app.session
        await pilot.press("space", "space", "ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        while len(started) < 2:
            await pilot.pause()
        app.switch_profile("sandbox")
        await pilot.pause()
        assert app.session is session  # refused: the old session and its deletes stay
        assert "A bulk change is under way (deleting 2)" in notices(app)[-1]
        gate.set()
        await settle(pilot)
        assert "Done 2, failed 0, unknown 0" in notices(app)[-1]
        assert app.bulk_changes == {}
        app.switch_profile("sandbox")  # now it goes through
        await settle(pilot)
        assert app.session is not session
