"""Profiles on a served sandbox, the stale-while-revalidate cache, --offline, and config errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from providers.cache import ResultCache
from providers.sandbox import TelnyxSandbox, serve
from tests.tui.conftest import notices, settle, table
from tui.app import TeledeckApp
from tui.config import AccountConfig, Config, Profile, save_config, save_secret
from tui.sessions import open_profile_session

SIZE = (140, 40)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(monkeypatch):
    """The Telnyx emulator on loopback, and a saved profile 'lab' pointing at it."""
    emulator = TelnyxSandbox()
    server = serve(emulator, port=0)
    monkeypatch.setenv("LAB_TELNYX_KEY", emulator.api_key)
    account = AccountConfig(
        kind="telnyx", label="lab-telnyx", endpoint=server.base_url, credentials={"api_key": "env:LAB_TELNYX_KEY"}
    )
    config = Config(profiles={"lab": Profile(name="lab", accounts=[account])})
    save_config(config)
    yield emulator, server, config
    server.shutdown()


def lab_app(config, *, offline=False, cache=None):
    session = open_profile_session(config.get("lab"), offline=offline, cache=cache)
    return TeledeckApp(session, config=config, force_read_only=offline)


def shown_ips(app):
    t = table(app)
    return sorted(t.row_at(i).cells[0] for i in range(t.total_count))


async def test_offline_after_the_server_is_gone_shows_the_same_rows(served):
    _emulator, server, config = served
    online = lab_app(config)
    async with online.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = shown_ips(online)
        assert len(before) == 51
    server.shutdown()  # the provider is gone
    offline = lab_app(config, offline=True)
    async with offline.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert shown_ips(offline) == before
        assert "OFFLINE" in str(offline.screen.query_one("#app-header").render())
        assert "offline · cached" in str(offline.screen.query_one("#title-bar").render())
        assert offline.session.client("telnyx").transport.requests_sent == 0
        # Every client the session connected refuses before building a request.
        assert all(c.client.transport.offline for c in offline.session.connections if c.connected)
        await pilot.press("n")
        assert any("refused" in n for n in notices(offline))


async def test_warm_start_paints_cached_rows_before_any_request(served):
    emulator, _server, config = served
    async with lab_app(config).run_test(size=SIZE) as pilot:
        await settle(pilot)
    # Slow the provider down: the cached rows must be on screen while the refresh is in flight.
    emulator.faults.delay("GET", "/access_ip_address", 1.5, times=None)
    warm = lab_app(config)
    async with warm.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert table(warm).total_count == 51
        assert "cached," in str(warm.screen.query_one("#title-bar").render())
        await settle(pilot)
        assert "cached," not in str(warm.screen.query_one("#title-bar").render())  # revalidated


async def test_a_create_or_delete_is_written_back_to_exactly_its_resource(served):
    _emulator, _server, config = served
    cache = ResultCache()
    app = lab_app(config, cache=cache)

    def cached_ips() -> list[str]:
        hit = cache.get("lab", "telnyx", "telnyx:allowlist?")
        assert hit is not None
        return [item["ip_address"] for item in hit.items]

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.switch_mode("billing")
        await settle(pilot)
        allowlist, billing = "telnyx:allowlist?", "telnyx:billing?"
        billing_before = cache.get("lab", "telnyx", billing)
        assert cache.get("lab", "telnyx", allowlist) and billing_before
        app.switch_mode("allowlist")
        await settle(pilot)
        count = len(cached_ips())
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#input-ip_address").value = "192.0.2.77"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "192.0.2.77" in cached_ips() and len(cached_ips()) == count + 1
        assert cache.get("lab", "telnyx", billing).fetched_at == billing_before.fetched_at
        app.screen.table.move_cursor_to_key(
            next(k for k, r in app.screen.records.items() if r.ip_address == "192.0.2.77")
        )
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        await settle(pilot)
        assert "192.0.2.77" not in cached_ips() and len(cached_ips()) == count
        assert cache.get("lab", "telnyx", billing).fetched_at == billing_before.fetched_at


async def test_cache_never_holds_a_secret(served):
    emulator, _server, config = served
    cache = ResultCache()
    app = lab_app(config, cache=cache)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    key = emulator.api_key
    for path in Path(os.environ["TELEDECK_CACHE_DIR"]).rglob("*.json"):
        assert key not in path.read_text()


async def test_switching_profile_clears_every_screen(served, sandbox):
    _emulator, _server, config = served
    app = lab_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.switch_mode("billing")
        await settle(pilot)
        old_screen = app.screen
        app.switch_profile("sandbox")
        await settle(pilot)
        assert app.session.profile == "sandbox"
        assert app.screen is not old_screen  # a fresh screen, fetched again
        assert "SANDBOX" in str(app.screen.query_one("#app-header").render())


def test_cli_refuses_a_world_readable_secrets_file(tmp_path):
    account = AccountConfig(kind="telnyx", label="prod-telnyx", credentials={"api_key": "secrets-file"})
    save_config(Config(profiles={"prod": Profile(name="prod", read_only=True, accounts=[account])}))
    secrets = save_secret("prod", "prod-telnyx", "api_key", "KEYsecretvalue123")
    os.chmod(secrets, 0o644)
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--profile", "prod"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ),
    )
    assert out.returncode == 2
    assert "chmod 600" in out.stderr and str(secrets) in out.stderr
    assert "KEYsecretvalue123" not in out.stderr + out.stdout


async def test_offline_sandbox_profile_shows_the_cached_rows_and_connects_nothing_to_the_network():
    from tui.config import sandbox_profile

    cache = ResultCache()
    online = TeledeckApp(open_profile_session(sandbox_profile(), cache=cache))
    async with online.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = shown_ips(online)
    offline_session = open_profile_session(sandbox_profile(), offline=True, cache=cache)
    assert offline_session.read_only and not any(c.connected for c in offline_session.connections)
    offline = TeledeckApp(offline_session, force_read_only=True)
    async with offline.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_ips(offline) == before and len(before) == 51
        assert offline.session.client("telnyx").transport.requests_sent == 0
        # Every client the session connected refuses before building a request.
        assert all(c.client.transport.offline for c in offline.session.connections if c.connected)
        assert "OFFLINE" in str(offline.screen.query_one("#app-header").render())


async def test_offline_sandbox_shows_its_own_whatsapp_cache_and_its_own_ledger():
    from tui.config import sandbox_profile

    cache = ResultCache()
    online = TeledeckApp(open_profile_session(sandbox_profile(), cache=cache), start="whatsapp")
    async with online.run_test(size=SIZE) as pilot:
        await settle(pilot)
        numbers = sorted(online.screen.records)
        online.switch_mode("bindings")
        await settle(pilot)
        bindings = sorted(online.screen.bindings)
    assert numbers and bindings
    offline_session = open_profile_session(sandbox_profile(), offline=True, cache=cache)
    offline = TeledeckApp(offline_session, force_read_only=True, start="whatsapp")
    async with offline.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert sorted(offline.screen.records) == numbers
        assert not any("no aliyun-cams account" in n.lower() for n in notices(offline))
        offline.switch_mode("bindings")
        await settle(pilot)
        assert sorted(offline.screen.bindings) == bindings
