"""One session factory for every way in: the environment's TELNYX_API_KEY, a configured profile,
the sandbox and account tests all apply offline, read-only and the endpoint rule the same way."""

from __future__ import annotations

import socket

import pytest

from providers.errors import MissingAccount, Offline
from tests.tui.conftest import settle
from tui.app import TeledeckApp, run_app
from tui.config import AccountConfig, Config, ConfigError, Profile, resolve_profile
from tui.sessions import open_profile_session
from tui.sessions import test_account as probe_account

SIZE = (120, 40)
KEY = "KEYenvironmentOnly_0123456789"


@pytest.fixture
def no_sockets(monkeypatch):
    """Every attempt to open a network connection is recorded and refused."""
    attempts: list[object] = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("this test allows no network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_the_environment_key_is_a_real_unsaved_profile(monkeypatch):
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    profile = resolve_profile(None, config=Config())
    assert profile.name == "env" and not profile.is_sandbox
    assert [(a.kind, a.credentials) for a in profile.accounts] == [("telnyx", {"api_key": "env:TELNYX_API_KEY"})]
    monkeypatch.delenv("TELNYX_API_KEY")
    assert resolve_profile(None, config=Config()).is_sandbox


async def test_environment_key_offline_shows_offline_and_sends_nothing(monkeypatch, no_sockets):
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    session = open_profile_session(resolve_profile(None, config=Config()), offline=True)
    assert session.offline and session.read_only
    app = TeledeckApp(session, force_read_only=True, start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "OFFLINE" in str(app.screen.query_one("#app-header").render())
        assert "offline, and nothing is cached" in str(app.screen.query_one("#title-bar").render())
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ResourceScreen"  # no form: the change is refused
        assert session.client("telnyx").transport.requests_sent == 0
    assert no_sockets == []


def test_environment_base_url_goes_through_the_endpoint_rule(monkeypatch):
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELEDECK_TELNYX_BASE_URL", "http://127.0.0.1:4510/v2")
    session = open_profile_session(resolve_profile(None, config=Config()))
    assert session.client("telnyx").base_url == "http://127.0.0.1:4510/v2"
    # Plain http to another host would carry the API key in clear text: refused before any client.
    monkeypatch.setenv("TELEDECK_TELNYX_BASE_URL", "http://api.example.com/v2")
    with pytest.raises(ConfigError, match=r"use https for api\.example\.com"):
        open_profile_session(resolve_profile(None, config=Config()))


def test_run_app_refuses_a_clear_text_endpoint_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELEDECK_TELNYX_BASE_URL", "http://api.example.com/v2")
    assert run_app() == 2
    err = capsys.readouterr().err
    assert err.startswith("teledeck: ") and err.count("\n") == 1 and "https" in err and KEY not in err


async def test_account_tests_honour_offline(no_sockets, monkeypatch):
    monkeypatch.setenv("LAB_KEY", KEY)
    account = AccountConfig("telnyx", "lab-telnyx", credentials={"api_key": "env:LAB_KEY"})
    with pytest.raises(Offline):
        await probe_account(Profile("lab", accounts=[account]), account, offline=True)
    assert no_sockets == []


def huawei_only_profile(monkeypatch) -> Profile:
    monkeypatch.setenv("HW_KEY", "app-key-value")
    monkeypatch.setenv("HW_SECRET", "app-secret-value")
    account = AccountConfig(
        "huawei", "hw", watch_x=["+8617000000101"], credentials={"app_key": "env:HW_KEY", "app_secret": "env:HW_SECRET"}
    )
    return Profile("numbers-only", accounts=[account])


def test_asking_for_an_account_the_profile_lacks_names_it(monkeypatch):
    session = open_profile_session(huawei_only_profile(monkeypatch))
    assert session.has("huawei") and not session.has("telnyx")
    with pytest.raises(MissingAccount, match="no telnyx account in this profile"):
        session.client("telnyx")


async def test_a_profile_without_telnyx_shows_the_telnyx_screens_without_a_crash(monkeypatch, no_sockets):
    session = open_profile_session(huawei_only_profile(monkeypatch))
    app = TeledeckApp(session, start="billing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "no telnyx account in this profile" in str(app.screen.query_one("#title-bar").render())
        for key in ("n", "e", "ctrl+d", "r"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.__class__.__name__ == "ResourceScreen"
        await pilot.press("ctrl+s")  # nothing to submit: no form was opened
        await settle(pilot)
    assert no_sockets == []
