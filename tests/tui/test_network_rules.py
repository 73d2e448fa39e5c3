"""The network rules, proved from outside: --offline opens no socket on any path, and plain http
goes nowhere but loopback, for every vendor, refused at start-up with one line (exit 2).

Offline: every way to connect (socket.connect, create_connection, name lookups, the event loop's
create_connection / sock_connect) raises and is recorded, then the app is driven through every
screen on the environment profile (TELNYX_API_KEY), on a configured profile with an account of
every kind, and on the sandbox; the Profiles screen's account tests run too. A control test
shows the trap does catch a real connection attempt, so an empty record means something.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import tomli_w

from providers.errors import Offline, ProviderError
from providers.vendors import descriptors
from tests.tui.conftest import settle
from tui import cli, sessions
from tui import config as c
from tui.app import TeledeckApp
from tui.resources import REGISTRY
from tui.sessions import open_profile_session

SIZE = (140, 40)


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Refuse (and record) every attempt to reach the network."""
    attempts: list[str] = []

    def refuse(name: str):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:2]}")
            raise OSError(f"test: {name} refused, the network is off limits")

        return blocked

    def refuse_async(name: str):
        async def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:2]}")
            raise OSError(f"test: {name} refused, the network is off limits")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    loop = asyncio.base_events.BaseEventLoop
    monkeypatch.setattr(loop, "create_connection", refuse_async("loop.create_connection"))
    monkeypatch.setattr(loop, "sock_connect", refuse_async("loop.sock_connect"))
    monkeypatch.setattr(loop, "getaddrinfo", refuse_async("loop.getaddrinfo"))
    return attempts


def every_kind_profile(monkeypatch, **endpoints: str) -> c.Profile:
    """A saved profile "prod" with one account of every kind, credentials in the environment."""
    accounts = []
    for vendor in descriptors():
        credentials = {}
        for name in vendor.credentials:
            variable = f"TEST_{vendor.kind.upper().replace('-', '_')}_{name.upper()}"
            monkeypatch.setenv(variable, f"value-of-{name}")
            credentials[name] = f"env:{variable}"
        account = c.AccountConfig(kind=vendor.kind, label=vendor.kind, credentials=credentials)
        for setting in vendor.required:
            setattr(account, setting, "required-setting")
        account.endpoint = endpoints.get(vendor.kind, "")
        accounts.append(account)
    profile = c.Profile("prod", accounts=accounts)
    config = c.Config(profiles={"prod": profile}, default_profile="prod")
    # Written by hand, as a user would: save_config itself refuses a plain-http endpoint.
    c.config_path().parent.mkdir(parents=True, exist_ok=True)
    c.config_path().write_text(tomli_w.dumps(c.config_to_document(config)))
    return profile


async def visit_every_screen(app: TeledeckApp) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        for mode in [*REGISTRY, "bindings", "profiles"]:
            await app.switch_mode(mode)
            await settle(pilot)
            await pilot.press("r")  # reload / refresh where the screen has it
            await settle(pilot)
            if mode in REGISTRY and app.session.has(REGISTRY[mode].provider):
                assert "offline" in str(app.screen.query_one("#title-bar").render())
        screen = app.screen
        for profile in [app.config.get(name) for name in app.config.names()]:
            for account in profile.accounts:
                screen.test_connection(profile, account)
        await settle(pilot)
        for (_, _label), (state, text) in screen.results.items():
            assert state == "failed" and "offline" in text.lower()


def test_the_trap_catches_a_real_attempt(no_network, monkeypatch):
    """Control: online, the same profile does try to connect, and the trap records it."""
    profile = every_kind_profile(monkeypatch)
    session = open_profile_session(profile)

    async def list_billing_groups() -> None:
        try:
            await session.client("telnyx").get_billing_group("any")
        except ProviderError:
            pass
        finally:
            await session.aclose()

    asyncio.run(list_billing_groups())
    assert no_network


async def test_offline_environment_profile_opens_no_socket(no_network, monkeypatch):
    monkeypatch.setenv("TELNYX_API_KEY", "KEY-from-the-environment")
    profile = c.resolve_profile(None, config=c.Config(), environ={"TELNYX_API_KEY": "KEY-from-the-environment"})
    assert profile.name == c.ENVIRONMENT
    session = open_profile_session(profile, offline=True)
    await visit_every_screen(TeledeckApp(session, config=c.Config(), force_read_only=True))
    assert no_network == []


async def test_offline_configured_profile_of_every_kind_opens_no_socket(no_network, monkeypatch):
    profile = every_kind_profile(monkeypatch)
    config = c.load_config()
    session = open_profile_session(profile, offline=True)
    app = TeledeckApp(session, config=config, force_read_only=True)
    await visit_every_screen(app)
    assert no_network == []


async def test_offline_sandbox_opens_no_socket(no_network):
    session = open_profile_session(c.sandbox_profile(), offline=True)
    await visit_every_screen(TeledeckApp(session, config=c.Config(), force_read_only=True))
    assert no_network == []


async def test_offline_account_tests_send_nothing(no_network, monkeypatch):
    profile = every_kind_profile(monkeypatch)
    for account in [*profile.accounts, *c.sandbox_profile().accounts]:
        with pytest.raises(Offline):
            await sessions.test_account(profile, account, offline=True)
    assert no_network == []


# ---- plain http: loopback only, one line at start-up ------------------------------------------


@pytest.fixture
def app_never_runs(monkeypatch):
    started: list[bool] = []
    monkeypatch.setattr(TeledeckApp, "run", lambda self, *a, **k: started.append(True))
    return started


VENDORS = {vendor.kind: vendor for vendor in descriptors()}


def _refused(capsys, argv: list[str]) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("teledeck: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("kind", VENDORS)
def test_plain_http_in_the_config_is_refused_with_one_line(kind, monkeypatch, capsys, app_never_runs):
    vendor = VENDORS[kind]
    path = "" if vendor.endpoint.bare_origin else "/v2"
    every_kind_profile(monkeypatch, **{kind: f"http://api.example.com{path}"})
    line = _refused(capsys, [])
    assert "use https for api.example.com" in line and "prod" in line
    assert not app_never_runs


@pytest.mark.parametrize("kind", VENDORS)
def test_plain_http_in_the_override_variable_is_refused_with_one_line(kind, monkeypatch, capsys, app_never_runs):
    vendor = VENDORS[kind]
    every_kind_profile(monkeypatch)
    path = "" if vendor.endpoint.bare_origin else "/v2"
    monkeypatch.setenv(vendor.endpoint.env, f"http://evil.example{path}")
    line = _refused(capsys, [])
    assert "evil.example" in line and vendor.title in line
    assert not app_never_runs


def test_the_telnyx_key_from_the_environment_never_goes_over_plain_http(monkeypatch, capsys, app_never_runs):
    monkeypatch.setenv("TELNYX_API_KEY", "KEY-that-must-not-travel-in-clear")
    monkeypatch.setenv("TELEDECK_TELNYX_BASE_URL", "http://203.0.113.9/v2")
    line = _refused(capsys, [])
    assert "use https for 203.0.113.9" in line
    assert "KEY-that-must-not-travel-in-clear" not in line
    assert not app_never_runs


@pytest.mark.parametrize("kind", VENDORS)
def test_plain_http_to_loopback_is_allowed(kind, monkeypatch, capsys, app_never_runs):
    vendor = VENDORS[kind]
    path = "" if vendor.endpoint.bare_origin else "/v2"
    every_kind_profile(monkeypatch, **{kind: f"http://127.0.0.1:9{path}"})
    assert cli.main(["--offline"]) == 0, capsys.readouterr().err
    assert app_never_runs == [True]


@pytest.mark.parametrize("endpoint", ["http://[", "https://h:99999", "https://user:pw@api.example.com", "ftp://x"])
def test_a_broken_endpoint_is_one_line(endpoint, monkeypatch, capsys, app_never_runs):
    every_kind_profile(monkeypatch, telnyx=endpoint)
    line = _refused(capsys, [])
    assert "accounts[0].endpoint" in line
    assert ":pw@" not in line  # a password in a URL is not repeated in the error
    assert not app_never_runs


def test_a_password_in_an_override_url_is_not_repeated(monkeypatch, capsys, app_never_runs):
    monkeypatch.setenv("TELNYX_API_KEY", "KEY")
    monkeypatch.setenv("TELEDECK_TELNYX_BASE_URL", "https://user:hunter2@api.example.com/v2")
    line = _refused(capsys, [])
    assert "hunter2" not in line and "***@api.example.com" in line
    assert not app_never_runs
