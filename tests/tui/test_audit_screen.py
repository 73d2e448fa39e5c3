"""The `:audit` screen: the audit log newest first, filterable like every list, failed and unknown
outcomes standing out, an entry's detail as text, `r` reloads, an empty log says so."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from providers.audit import AuditLog
from tests.tui.conftest import notices, settle
from tui.app import destinations
from tui.screens.audit import AuditScreen
from tui.screens.command import resolve
from tui.screens.detail import DetailScreen

SIZE = (120, 40)


def write_entries(session) -> None:
    """Five changes of a working day, the oldest first."""
    audit = session.audit
    day = datetime(2026, 5, 25, tzinfo=UTC)
    rows = [
        ("prod", "telnyx-main", "create", "allowlist", "7ae8097e-a485-426b-b51a-e04754c9b377", "done", "req-1", ""),
        (
            "prod",
            "telnyx-main",
            "delete",
            "billing",
            "f3b1c2d4-0000-4000-8000-00000000aa01",
            "failed",
            "req-2",
            "10010 Authorization failed: not allowed to delete billing groups",
        ),
        ("lab", "pls-cn", "bind", "bindings", "sub-1000", "unknown", "", "timed out; checked by A/B/X: not found"),
        ("lab", "pls-cn", "unbind", "bindings", "sub-0999", "done", "7F3A-11", ""),
        ("prod", "telnyx-main", "token", "credentials", "[red]cred[/red]\x1b[2J", "done", "req-5", "[b]bold?[/b]"),
    ]
    for hour, (profile, account, verb, resource, record_id, outcome, request_id, detail) in enumerate(rows):
        audit.actor = "ana@ops-1" if profile == "prod" else "li@lab-2"  # a team's shared log: who did it
        audit.record(
            profile=profile,
            account=account,
            verb=verb,
            resource=resource,
            record_id=record_id,
            outcome=outcome,
            request_id=request_id,
            detail=detail,
            at=day.replace(hour=9 + hour, minute=hour * 7, second=hour),
        )


def audit_table(app):
    return app.screen.query_one("#audit-table")


def cells(app, key: str) -> list[str]:
    table = audit_table(app)
    index = [c.key for c in table.columns].index(key)
    return [table.row_at(i).cells[index] for i in range(table.visible_count)]


async def open_audit(pilot, typed: str = "audit") -> AuditScreen:
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*typed, "enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AuditScreen)
    return pilot.app.screen


@pytest.mark.parametrize("name", ["audit", "log", "changes", "auditlog", "audit_log"])
def test_the_audit_screen_answers_to_its_names(name):
    found = resolve(name, destinations())
    assert found is not None and found.mode == "audit" and found.title == "Audit log"


async def test_newest_first_with_every_column_and_unsettled_outcomes_standing_out(make_app):
    app = make_app()
    write_entries(app.session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot)
        table = audit_table(app)
        assert [c.label for c in table.columns] == [
            "TIME (UTC)",
            "BY",
            "PROFILE",
            "ACCOUNT",
            "VERB",
            "RESOURCE",
            "ID",
            "OUTCOME",
            "REQUEST ID",
        ]
        assert cells(app, "verb") == ["token", "unbind", "bind", "delete", "create"]
        assert cells(app, "at")[0] == "2026-05-25 13:28:04"
        assert cells(app, "request_id")[1] == "7F3A-11"
        assert cells(app, "actor") == ["ana@ops-1", "li@lab-2", "li@lab-2", "ana@ops-1", "ana@ops-1"]
        styles = {table.row_at(i).cells[4]: table.row_at(i).style for i in range(table.visible_count)}
        assert styles["delete"] == "warning" and styles["bind"] == "warning" and styles["create"] == ""
        title = str(app.screen.query_one("#title-bar").render())
        assert "Audit log" in title and "5 entries" in title and str(app.session.audit.path) in title


async def test_the_same_filter_box_as_every_list(make_app):
    app = make_app()
    write_entries(app.session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot, "audit !done")
        assert cells(app, "outcome") == ["unknown", "failed"]
        await pilot.press("escape")  # clears it, as everywhere
        await pilot.pause()
        await pilot.press("slash", *"pls-cn")
        await pilot.pause()
        assert cells(app, "verb") == ["unbind", "bind"]


async def test_enter_shows_every_field_as_text(make_app):
    app = make_app()
    write_entries(app.session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot)
        await pilot.press("enter")  # the newest: a hostile id and detail
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        fields = dict(app.screen.rows)
        assert list(fields) == [
            "time_utc",
            "time_local",
            "actor",
            "profile",
            "account",
            "verb",
            "resource",
            "id",
            "outcome",
            "request_id",
            "detail",
        ]
        assert fields["detail"] == "[b]bold?[/b]"
        assert fields["id"].startswith("[red]cred[/red]") and "\x1b" not in fields["id"]  # the audit made it printable
        table = app.screen.query_one("#detail-table")
        assert any("[red]cred[/red]" in table.row_at(i).cells[1] for i in range(table.visible_count))


async def test_r_reads_the_file_again_and_so_does_coming_back(make_app):
    app = make_app()
    write_entries(app.session)

    def add(verb: str) -> None:
        app.session.audit.record(profile="lab", account="x", verb=verb, resource="sso", record_id="s-1", outcome="done")

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot)
        add("update")
        await pilot.press("r")
        await settle(pilot)
        assert cells(app, "verb")[0] == "update" and audit_table(app).total_count == 6
        await pilot.press("colon")
        await pilot.press(*"billing", "enter")
        await settle(pilot)
        add("delete")  # a change made on another screen
        await open_audit(pilot)
        assert cells(app, "verb")[:2] == ["delete", "update"] and audit_table(app).total_count == 7


async def test_an_empty_log_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot)
        table = audit_table(app)
        assert table.total_count == 0
        assert (
            table.empty_text.startswith("no changes recorded yet") and str(app.session.audit.path) in table.empty_text
        )
        await pilot.press("c")
        await pilot.pause()
        assert any("No entry selected" in n for n in notices(app))


async def test_the_file_is_read_off_the_event_loop(make_app, monkeypatch):
    threads = []
    original = AuditLog.entries

    def entries(self, limit=10_000):
        threads.append(threading.current_thread())
        return original(self, limit)

    monkeypatch.setattr(AuditLog, "entries", entries)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot)
    assert threads and threading.main_thread() not in threads


async def test_unreadable_lines_are_counted_not_fatal(make_app):
    app = make_app()
    write_entries(app.session)
    with open(app.session.audit.path, "ab") as fh:
        fh.write(b"{not json\n[1,2]\n")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_audit(pilot)
        assert audit_table(app).total_count == 5
        assert "2 unreadable line(s) skipped" in str(app.screen.query_one("#title-bar").render())


async def test_the_palette_offers_the_audit_log(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Audit log" in titles
