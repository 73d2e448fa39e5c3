"""A start that paints at once: cached rows on the table when the screen mounts, the client (httpx,
the vendor's code, the sandbox's emulator) built off the event loop after the first frame, and a
footer rebuilt only when its keys change. What start-up imports is pinned in
tests/unit/test_startup_imports.py."""

from __future__ import annotations

import threading

from providers.cache import ResultCache
from providers.session import SandboxBackend, sandbox_session
from tests.tui.conftest import settle, table
from tui.app import TeledeckApp
from tui.resources import REGISTRY
from tui.screens.resource import ResourceScreen
from tui.widgets.footer import AppFooter

SIZE = (140, 40)


def warm_cache(tmp_path, sandbox) -> ResultCache:
    """The cache a previous run left: the sandbox's allowlist under the sandbox profile."""
    cache = ResultCache(tmp_path / "cache")
    spec = REGISTRY["allowlist"]
    cache.put("sandbox", spec.provider, spec.cache_key, sandbox.state["access_ips"])
    return cache


async def test_the_start_screen_has_its_cached_rows_when_it_mounts_with_no_worker_and_no_client(
    sandbox, tmp_path, monkeypatch
):
    app = TeledeckApp(sandbox_session(handler=sandbox, cache=warm_cache(tmp_path, sandbox)))
    early = app.take_early_rows("allowlist")
    assert early is not None and early.result() is not None  # read while the app was built
    app._early_rows["allowlist"] = early  # handed back, as the screen will find it

    loads: list[ResourceScreen] = []
    monkeypatch.setattr(ResourceScreen, "load", lambda screen: loads.append(screen))  # no worker at all
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert loads, "the screen still starts its load"
        assert table(app).total_count == len(sandbox.state["access_ips"])
        assert not app.session.connections_of("telnyx")[0].connected
    assert app.take_early_rows("allowlist") is None  # taken once


async def test_no_early_read_for_a_screen_that_is_not_a_resource_or_without_a_cache(sandbox, tmp_path):
    assert TeledeckApp(sandbox_session(handler=sandbox), start="allowlist").take_early_rows("allowlist") is None
    session = sandbox_session(handler=sandbox, cache=warm_cache(tmp_path, sandbox))
    assert TeledeckApp(session, start="profiles").take_early_rows("profiles") is None


async def test_a_cold_start_builds_the_emulator_and_client_off_the_event_loop(sandbox, tmp_path, monkeypatch):
    built_on: list[threading.Thread] = []
    emulator = SandboxBackend.emulator

    def recording(backend, vendor):
        built_on.append(threading.current_thread())
        return emulator(backend, vendor)

    monkeypatch.setattr(SandboxBackend, "emulator", recording)
    app = TeledeckApp(sandbox_session(handler=sandbox, cache=ResultCache(tmp_path / "empty")))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table(app).total_count == len(sandbox.state["access_ips"])
    assert built_on and threading.main_thread() not in built_on


async def test_a_warm_start_shows_the_cached_rows_then_the_servers(sandbox, tmp_path):
    cache = warm_cache(tmp_path, sandbox)
    sandbox.state["access_ips"].pop()  # the server has one fewer since the cache was written
    app = TeledeckApp(sandbox_session(handler=sandbox, cache=cache))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table(app).total_count == len(sandbox.state["access_ips"])
        assert "cached," not in str(app.screen.query_one("#title-bar").render())


def _footer_keys(app) -> list[str]:
    """The keys on the footer but the command palette's (which Textual adds to every footer)."""
    footer = app.screen.query_one(AppFooter)
    return sorted(key.key for key in footer.keys if key.key != app.COMMAND_PALETTE_BINDING)


def _keys_in_force(app) -> list[str]:
    return sorted(b.binding.key for b in app.screen.active_bindings.values() if b.binding.show)


async def test_the_footer_is_one_widget_that_follows_the_keys_in_force(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(AppFooter)
        assert not footer.children  # one line drawn, no widget per key
        assert _footer_keys(app) == _keys_in_force(app)
        started_with = _footer_keys(app)

        await pilot.press("slash")  # the filter box takes focus: other keys are in force
        await settle(pilot)
        assert _footer_keys(app) == _keys_in_force(app) != started_with

        await pilot.press("escape")
        await settle(pilot)
        assert _footer_keys(app) == _keys_in_force(app) == started_with
