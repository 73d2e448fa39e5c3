"""SVG snapshots of every screen and modal at 120x40, and the main screens also at 80x24
(pytest-textual-snapshot).

Deterministic by construction: seeded sandbox data with fixed timestamps, a fixed clock for
anything the sandbox makes, no user config (TELEDECK_DATA_DIR is a temp dir), and every worker
finished before the picture is taken. Secrets only ever appear masked here.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from tests.tui.conftest import forbid_listing_billing_groups, settle

SIZE = (120, 40)
NARROW = (80, 24)


def snapshot(snap_compare, app, *steps, keep_notifications=False, size=SIZE):
    """Run `steps` (keys, or async callables taking the pilot) after the app settles. Toasts are
    cleared first unless the picture is of one (`keep_notifications`)."""

    async def settled(pilot):
        await settle(pilot)
        if not keep_notifications:
            # Toasts time out on the clock: whether one is still up would depend on the machine's
            # speed. Cleared while their screen is on top, so no screen below keeps one painted.
            pilot.app.clear_notifications()
            await pilot.pause()

    async def run_before(pilot):
        await settled(pilot)
        for step in steps:
            if callable(step):
                await step(pilot)
            else:
                await pilot.press(step)
            await settled(pilot)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False

    return snap_compare(app, terminal_size=size, run_before=run_before)


RESOURCES = ["allowlist", "ranges", "addresses", "sso", "billing", "secrets", "credentials", "whatsapp"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_resource_screen(snap_compare, make_app, resource):
    assert snapshot(snap_compare, make_app(start=resource))


@pytest.mark.parametrize("resource", RESOURCES)
def test_resource_screen_80x24(snap_compare, make_app, resource):
    assert snapshot(snap_compare, make_app(start=resource), size=NARROW)


def test_allowlist_filtered(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "slash", *"office")


def test_allowlist_inverted_filter_sorted(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "slash", *"!office", "enter", "o", "O")


def test_read_only_header(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(read_only=True, start="billing"))


def test_detail_screen(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(start="sso"), "enter")


def test_detail_screen_80x24(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(start="sso"), "enter", size=NARROW)


def test_create_form(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "n")


def test_create_form_with_field_errors(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "n", *"10.0.0.7/8", "ctrl+s")


def test_create_form_provider_refusal(snap_compare, make_app, sandbox):
    existing = sandbox.state["access_ips"][0]["ip_address"]

    async def duplicate(pilot):
        pilot.app.screen.query_one("#input-ip_address", Input).value = existing

    assert snapshot(snap_compare, make_app(), "n", duplicate, "ctrl+s")


def test_secret_form_basic(snap_compare, make_app):
    async def choose_basic(pilot):
        from textual.widgets import Select

        pilot.app.screen.query_one("#input-type", Select).value = "basic"

    assert snapshot(snap_compare, make_app(start="secrets"), "n", choose_basic)


def test_edit_form(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(start="sso"), "e")


def test_confirm_delete(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "ctrl+d")


def test_help(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(start="addresses"), "question_mark")


def test_command_prompt(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "colon", *"bi")


def test_command_prompt_80x24(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "colon", *"bi", size=NARROW)


def test_token_masked(snap_compare, make_app, sandbox):
    active = next(c for c in sandbox.state["credentials"] if not c["expired"])

    async def pick(pilot):
        pilot.app.screen.table.move_cursor_to_key(active["id"])

    async def confirm(pilot):
        await pilot.click("#confirm")

    assert snapshot(snap_compare, make_app(start="credentials"), pick, "t", confirm)


def test_address_validation(snap_compare, make_app, sandbox):
    pending = next(a for a in sandbox.state["addresses"] if (a.get("_suggestion") or {}).get("state") == "pending")

    async def pick(pilot):
        pilot.app.screen.table.move_cursor_to_key(pending["id"])

    assert snapshot(snap_compare, make_app(start="addresses"), pick, "v")


def test_provider_error(snap_compare, make_app, sandbox):
    forbid_listing_billing_groups(sandbox)
    # The picture is of the vendor's error toast (shown for 10 s).
    assert snapshot(snap_compare, make_app(start="billing"), keep_notifications=True)


# ---- bindings: a fixed clock everywhere (emulators, adapters, countdown), times shown in UTC ----


@pytest.fixture
def bindings_app(sandbox, tmp_path, monkeypatch):
    import time as time_module

    from providers.sandbox.aliyun_pls import DyplsSandbox
    from providers.sandbox.huawei import HuaweiSandbox
    from providers.sandbox.volcengine import VolcSandbox
    from providers.session import sandbox_session
    from tests.tui.conftest import FIXED_NOW
    from tui.app import TeledeckApp

    monkeypatch.setenv("TZ", "UTC")
    time_module.tzset()
    clock = lambda: FIXED_NOW  # noqa: E731
    handlers = {
        "aliyun": DyplsSandbox(clock=clock),
        "huawei": HuaweiSandbox(clock=clock),
        "volcengine": VolcSandbox(clock=clock),
    }

    def build(start="bindings", **kw):
        session = sandbox_session(
            handler=sandbox, binding_handlers=handlers, clock=clock, ledger_path=tmp_path / "ledger.sqlite3", **kw
        )
        return TeledeckApp(session, start=start)

    yield build
    monkeypatch.delenv("TZ")
    time_module.tzset()


def test_bindings_screen(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app())


def test_bindings_screen_80x24(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), size=NARROW)


def test_bindings_expired_hidden(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "x")


def test_bind_form(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "n")


def test_bind_form_80x24(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "n", size=NARROW)


def test_bind_form_errors(snap_compare, bindings_app):
    async def bad(pilot):
        form = pilot.app.screen
        form.query_one("#input-a", Input).value = "12345"
        form.query_one("#input-expires", Input).value = "+10s"

    assert snapshot(snap_compare, bindings_app(), "n", bad, "ctrl+s")


def test_bind_form_pool_picker(snap_compare, bindings_app):
    """Volcengine's AXN pools, listed by NumberPoolList, to pick from (ctrl+o)."""

    async def volcengine_axb(pilot):
        form = pilot.app.screen
        form.query_one("#input-provider", Select).value = "volcengine"
        await pilot.pause()
        form.query_one("#input-mode", Select).value = "AXN"
        form.set_focus(form.query_one("#input-pool", Input))

    assert snapshot(snap_compare, bindings_app(), "n", volcengine_axb, "ctrl+o")


def test_modify_form(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "down", "e")


def test_unbind_confirm(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "down", "ctrl+d")


def test_import_form(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "i")


def test_bindings_detail(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "down", "enter")


def test_bindings_detail_80x24(snap_compare, bindings_app):
    assert snapshot(snap_compare, bindings_app(), "down", "enter", size=NARROW)


# ---- calls: the :calls screen, a call's detail and its recording link, a binding's calls ---------


@pytest.fixture
def calls_app(bindings_app):
    """The Bindings screen's app (fixed clock, UTC) on `start`, its ledger holding six calls."""
    from tests.tui.calls_data import seed_calls

    def build(start="calls", seed=True):
        app = bindings_app(start=start)
        if seed:
            seed_calls(app.session.ledger)
        return app

    return build


def test_calls_screen(snap_compare, calls_app):
    assert snapshot(snap_compare, calls_app())


def test_calls_screen_80x24(snap_compare, calls_app):
    assert snapshot(snap_compare, calls_app(), size=NARROW)


def test_calls_screen_filtered(snap_compare, calls_app):
    assert snapshot(snap_compare, calls_app(), "slash", *"!answered", "enter")


def test_calls_screen_empty(snap_compare, calls_app):
    assert snapshot(snap_compare, calls_app(seed=False))


def test_call_detail(snap_compare, calls_app):
    assert snapshot(snap_compare, calls_app(), "down", "down", "down", "down", "enter")


def test_call_detail_80x24(snap_compare, calls_app):
    assert snapshot(snap_compare, calls_app(), "down", "down", "down", "down", "enter", size=NARROW)


def test_call_detail_recording_link_masked(snap_compare, calls_app):
    """The link fetched: masked to its origin, how long it lives (the clock is fixed)."""
    from datetime import UTC, datetime, timedelta

    from providers.calls import RecordingLink
    from tests.tui.conftest import FIXED_NOW

    async def with_link(pilot):
        async def link(recording):
            expires = datetime.fromtimestamp(FIXED_NOW, UTC) + timedelta(hours=2)
            return RecordingLink("https://record.example.com/hw-0001.wav?Signature=SECRET", expires, "2 hours")

        pilot.app.session.binding_providers["huawei"].recording_link = link

    assert snapshot(snap_compare, calls_app(), with_link, "G", "enter", "l")


def test_bindings_detail_with_calls(snap_compare, calls_app):
    """A binding's calls under its detail (seeded on the binding under the cursor)."""
    from tests.tui.calls_data import seed_calls

    async def calls_on_it(pilot):
        screen = pilot.app.screen
        binding = next(b for b in screen.bindings.values() if b.provider == "huawei" and b.b)
        screen.table.move_cursor_to_key(binding.key)
        seed_calls(pilot.app.session.ledger, huawei_binding=binding)

    assert snapshot(snap_compare, calls_app(start="bindings", seed=False), calls_on_it, "enter")


def test_simulate_call_pick(snap_compare, calls_app):
    async def on_huawei(pilot):
        screen = pilot.app.screen
        binding = next(b for b in screen.bindings.values() if b.provider == "huawei" and b.status == "active")
        screen.table.move_cursor_to_key(binding.key)

    assert snapshot(snap_compare, calls_app(start="bindings", seed=False), on_huawei, "s")


# ---- the ':' prompt with arguments and history, the keymap, the audit log -------------------------


def test_command_prompt_history(snap_compare, make_app):
    """Up recalls the commands given before (read from the data dir when the prompt opens)."""
    from tui.history import CommandHistory

    history = CommandHistory()
    for command in ("billing", "bindings /13800", "allowlist !pending"):
        history.add(command)
    history.save()
    assert snapshot(snap_compare, make_app(start="billing"), "colon", "up", "up")


def test_allowlist_opened_filtered(snap_compare, make_app):
    """`:allowlist !pending` opens the list filtered, the filter shown in its box."""
    assert snapshot(snap_compare, make_app(start="billing"), "colon", *"allowlist !pending", "enter")


def test_help_remapped_key(snap_compare, sandbox):
    """config.toml's [keymap] moved refresh to f5 and copy id to y: `?` says so."""
    from providers.session import sandbox_session
    from tui.app import TeledeckApp
    from tui.config import Config

    keymap = {"resource.refresh": "f5", "resource.copy_id": "y"}
    app = TeledeckApp(sandbox_session(handler=sandbox), start="addresses", config=Config(keymap=keymap))
    assert snapshot(snap_compare, app, "question_mark")


@pytest.fixture
def audit_app(make_app, monkeypatch):
    """An app whose audit log holds five entries; the path shown is fixed (the data dir is a
    temporary one) and local time is UTC, so the picture is the same on every machine."""
    import time

    from tests.tui.test_audit_screen import write_entries
    from tui.screens.audit import AuditScreen

    monkeypatch.setattr(AuditScreen, "path", property(lambda self: "~/.local/share/teledeck/audit.jsonl"))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()

    def build(*, entries: bool = True):
        app = make_app(start="audit")
        if entries:
            write_entries(app.session)
        return app

    yield build
    monkeypatch.undo()
    time.tzset()


def test_audit(snap_compare, audit_app):
    assert snapshot(snap_compare, audit_app())


def test_audit_80x24(snap_compare, audit_app):
    assert snapshot(snap_compare, audit_app(), size=NARROW)


def test_audit_empty(snap_compare, audit_app):
    assert snapshot(snap_compare, audit_app(entries=False))


def test_audit_detail(snap_compare, audit_app):
    assert snapshot(snap_compare, audit_app(), "down", "down", "down", "enter")


# ---- marks, bulk changes, filters and export -------------------------------------------------


def test_marked_rows(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "space", "space", "down", "space")


def test_marked_rows_80x24(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "space", "space", "down", "space", size=NARROW)


def test_bulk_delete_confirm(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "space", "space", "space", "ctrl+d")


def test_bulk_delete_one_failed(snap_compare, make_app, sandbox):
    async def refuse_the_second(pilot):
        second = pilot.app.screen.table.row_at(1).key
        sandbox.faults.respond(
            "DELETE",
            f"/access_ip_address/{second}",
            422,
            {"errors": [{"code": "10015", "title": "Bad Request", "detail": "the address is in use by a connection"}]},
        )

    async def confirm(pilot):
        await pilot.click("#confirm")

    steps = (refuse_the_second, "space", "space", "space", "ctrl+d", confirm)
    assert snapshot(snap_compare, make_app(), *steps, keep_notifications=True)


def test_filter_problem(snap_compare, make_app):
    assert snapshot(snap_compare, make_app(), "slash", *"~(office")


def test_export_prompt(snap_compare, make_app, monkeypatch):
    from tests.tui.conftest import FIXED_NOW

    # The default file is named by the session's clock, in the current folder (shown bare).
    monkeypatch.setattr("tui.screens.export.export_folder", lambda: "")
    assert snapshot(snap_compare, make_app(clock=lambda: FIXED_NOW), "space", "space", "ctrl+s")
