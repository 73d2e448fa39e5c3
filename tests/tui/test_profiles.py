"""The Profiles screen, driven with Pilot: list, add, edit, delete, default, test connection, switch.

The autouse fixture in tests/conftest.py points TELEDECK_CONFIG_DIR at a temp dir, so every
test here writes its own config.toml and secrets.toml and reads them back as text.
"""

from __future__ import annotations

import os
import stat

import pytest
from textual.widgets import Button, Input, Select, Switch

from providers.errors import AuthError
from tests.tui.conftest import notices, settle
from tests.tui.test_fast_typing import burst
from tui import config as cfg
from tui.screens.confirm import ConfirmScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.profiles import ProfilesScreen

SIZE = (150, 44)
SECRET = "KEYsuper-secret-value-0123456789"

CONFIG = """\
default_profile = "staging"

[profiles.prod]
read_only = true
description = "EU production"

[[profiles.prod.accounts]]
kind = "huawei"
label = "hw-prod"
credentials = { app_key = "env:PROD_HW_KEY", app_secret = "env:PROD_HW_SECRET" }

[profiles.staging]
read_only = false

[[profiles.staging.accounts]]
kind = "telnyx"
label = "tx-stage"
endpoint = "http://127.0.0.1:9/v2"
credentials = { api_key = "env:TELEDECK_TEST_STAGING_KEY" }
"""


@pytest.fixture
def config_file(monkeypatch) -> cfg.Path:
    monkeypatch.delenv("TELEDECK_TEST_STAGING_KEY", raising=False)
    path = cfg.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG)
    return path


@pytest.fixture
def profiles_app(make_app, config_file):
    def build(**options):
        return make_app(start="profiles", **options)

    return build


def screen(app) -> ProfilesScreen:
    assert isinstance(app.screen, ProfilesScreen), app.screen
    return app.screen


def cells(table, key: str) -> list[str]:
    return [table.row_at(i).cells[[c.key for c in table.columns].index(key)] for i in range(table.visible_count)]


async def select_profile(pilot, name: str) -> None:
    s = screen(pilot.app)
    assert s.profiles_table.move_cursor_to_key(name)
    s.profiles_table.focus()
    await settle(pilot)
    assert s.selected_profile().name == name


async def select_account(pilot, label: str) -> None:
    s = screen(pilot.app)
    assert s.accounts_table.move_cursor_to_key(label)
    s.accounts_table.focus()
    await settle(pilot)


def detail_text(app) -> str:
    return str(screen(app).query_one("#account-detail").render())


def form(app) -> FormScreen:
    assert isinstance(app.screen, FormScreen), app.screen
    return app.screen


def field_error(app, name: str) -> str:
    return str(app.screen.query_one(f"#error-{name}").render())


async def fill(pilot, **values) -> None:
    for name, value in values.items():
        widget = pilot.app.screen.query_one(f"#input-{name}")
        widget.value = value
    await pilot.pause()


async def save(pilot) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


# ---- listing -------------------------------------------------------------------------------


async def test_lists_the_sandbox_and_every_profile_with_their_accounts(profiles_app):
    app = profiles_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        s = screen(app)
        table = s.profiles_table
        assert cells(table, "name") == ["sandbox", "prod", "staging"]
        assert cells(table, "active") == ["*", "", ""]
        assert cells(table, "mode") == ["read-write", "read-only", "read-write"]
        assert cells(table, "default") == ["", "", "default"]
        assert cells(table, "accounts")[1:] == ["1", "1"]
        assert cells(table, "description")[1] == "EU production"
        # The sandbox (selected: it is active) has one account per kind.
        assert cells(s.accounts_table, "kind") == list(cfg.KINDS)
        await select_profile(pilot, "staging")
        assert cells(s.accounts_table, "label") == ["tx-stage"]
        assert cells(s.accounts_table, "credentials") == ["env:TELEDECK_TEST_STAGING_KEY (unset)"]
        assert cells(s.accounts_table, "endpoint") == ["http://127.0.0.1:9/v2"]
        await select_profile(pilot, "prod")
        assert cells(s.accounts_table, "credentials") == ["env:PROD_HW_KEY (unset), env:PROD_HW_SECRET (unset)"]
        detail = detail_text(app)
        assert "huawei account hw-prod" in detail
        assert "app_key: env:PROD_HW_KEY (unset) · app_secret: env:PROD_HW_SECRET (unset)" in detail
        assert "rtcpns.cn-north-1.myhuaweicloud.com (the kind's default)" in detail
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text").render())
        for words in (
            "add a profile",
            "edit the profile",
            "add a provider account",
            "edit the selected account",
            "delete the profile",
            "test the selected account's connection",
            "make the profile the default",
            "^d",
            "switch to the selected profile",
        ):
            assert words in help_text


# ---- add and edit profiles -----------------------------------------------------------------


async def test_add_profile_refuses_a_bad_name_at_the_field_then_saves_a_good_one(profiles_app, config_file):
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await fill(pilot, name="Bad Name!", description="QA team")
        await save(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "lower-case letters" in field_error(app, "name")
        assert app.screen.query_one("#input-description", Input).value == "QA team"  # kept
        await fill(pilot, name="sandbox")
        await save(pilot)
        assert "built-in profile" in field_error(app, "name")
        await fill(pilot, name="staging")
        await save(pilot)
        assert "already exists" in field_error(app, "name")
        await fill(pilot, name="qa")
        app.screen.query_one("#input-read_only", Switch).value = True
        await save(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        text = config_file.read_text()
        assert "[profiles.qa]" in text and 'description = "QA team"' in text
        assert cfg.load_config().profiles["qa"].read_only is True
        assert cells(screen(app).profiles_table, "name") == ["sandbox", "prod", "qa", "staging"]
        assert screen(app).selected_profile().name == "qa"
        assert any("Profile qa added" in n for n in notices(app))


async def test_edit_profile_renames_and_keeps_accounts_and_secrets(profiles_app, config_file):
    cfg.save_secret("staging", "tx-stage", "api_key", SECRET)
    app = profiles_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("e")
        f = form(app)
        assert f.query_one("#input-name", Input).value == "staging"
        await fill(pilot, name="stage", description="pre-production")
        await save(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        config = cfg.load_config()
        assert "staging" not in config.profiles
        assert config.profiles["stage"].description == "pre-production"
        assert [a.label for a in config.profiles["stage"].accounts] == ["tx-stage"]
        assert config.default_profile == "stage"  # the default follows the rename
        assert cfg.load_secrets() == {"stage": {"tx-stage": {"api_key": SECRET}}}


async def test_marking_the_profile_in_use_read_only_takes_effect_at_once(profiles_app, monkeypatch):
    monkeypatch.setenv("TELEDECK_TEST_STAGING_KEY", "KEYstaging-not-a-real-key")
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.profile == "staging" and not app.session.read_only
        await select_profile(pilot, "staging")
        await pilot.press("e")
        await fill(pilot, read_only=True)
        await save(pilot)
        await settle(pilot)
        assert app.session.profile == "staging" and app.session.read_only, "no switch away and back needed"
        assert "READ-ONLY" in str(app.screen.query_one("#app-header").render())
        assert any("Read-only from now on" in n for n in notices(app))


async def test_an_account_with_an_unset_variable_is_left_out_and_the_rest_open(profiles_app, config_file, monkeypatch):
    monkeypatch.setenv("TELEDECK_TEST_STAGING_KEY", "KEYstaging-not-a-real-key")
    monkeypatch.delenv("STAGING_HW_KEY", raising=False)
    config_file.write_text(
        CONFIG
        + """
[[profiles.staging.accounts]]
kind = "huawei"
label = "hw-stage"
credentials = { app_key = "env:STAGING_HW_KEY", app_secret = "env:STAGING_HW_KEY" }
"""
    )
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.profile == "staging"
        assert app.session.has("telnyx") and not app.session.has("huawei")
        assert any("hw-stage" in n and "left out" in n and "STAGING_HW_KEY" in n for n in notices(app))
        # A profile whose every account is broken cannot be opened: said once, nothing left hanging.
        await select_profile(pilot, "prod")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.profile == "staging"
        assert "Switching" not in str(screen(app).query_one("#test-status").render())
        assert any("PROD_HW_KEY" in n for n in notices(app))


# ---- accounts ------------------------------------------------------------------------------


async def test_add_account_stores_the_secret_in_the_secrets_file_only(profiles_app, config_file):
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("a")
        kind = form(app)
        assert kind.query_one("#input-kind", Select).value == "telnyx · Telnyx"
        kind.query_one("#input-kind", Select).value = f"volcengine · {cfg.KINDS['volcengine'].title}"
        await save(pilot)
        f = form(app)
        # The kind's own settings and credentials, env var names suggested from the vendor's tools.
        assert f.query_one("#input-env_access_key_id", Input).value == "VOLC_ACCESSKEY"
        assert not f.query("#input-pool_key")
        await fill(pilot, label="volc-main", endpoint="http://vms.example.com", watch_x="123, 8613800000001")
        f.query_one("#input-src_secret_access_key", Select).value = "secrets file"
        await pilot.pause()
        assert f.query_one("#field-secret_secret_access_key").display
        assert not f.query_one("#field-env_secret_access_key").display
        await save(pilot)
        assert isinstance(app.screen, FormScreen), "nothing saved while fields are wrong"
        assert "use https" in field_error(app, "endpoint")
        assert "required" in field_error(app, "number_pool_no")
        assert "not phone numbers: 123" in field_error(app, "watch_x")
        assert "secrets file" in field_error(app, "secret_secret_access_key")
        assert not config_file.read_text().count("volc-main")
        await fill(pilot, endpoint="", number_pool_no="NP-1", watch_x="8613800000001", secret_secret_access_key=SECRET)
        assert f.query_one("#input-secret_secret_access_key", Input).password  # masked
        await save(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        text = config_file.read_text()
        assert SECRET not in text
        assert 'secret_access_key = "secrets-file"' in text and 'access_key_id = "env:VOLC_ACCESSKEY"' in text
        secrets = cfg.secrets_path()
        assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
        assert cfg.load_secrets() == {"staging": {"volc-main": {"secret_access_key": SECRET}}}
        s = screen(app)
        assert cells(s.accounts_table, "label") == ["tx-stage", "volc-main"]
        shown = " ".join(cells(s.accounts_table, "credentials"))
        assert shown.endswith("env:VOLC_ACCESSKEY (unset), secrets file") and SECRET not in shown
        detail = detail_text(app)
        assert "secret_access_key: secrets file" in detail and SECRET not in detail
        assert not any(SECRET in n for n in notices(app))


async def test_edit_account_keeps_a_stored_secret_and_moves_it_with_the_label(profiles_app, config_file):
    app = profiles_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await select_account(pilot, "tx-stage")
        await pilot.press("E")
        f = form(app)
        assert f.query_one("#input-label", Input).value == "tx-stage"
        assert f.query_one("#input-env_api_key", Input).value == "TELEDECK_TEST_STAGING_KEY"
        f.query_one("#input-src_api_key", Select).value = "secrets file"
        await fill(pilot, secret_api_key=SECRET)
        await save(pilot)
        assert cfg.load_secrets() == {"staging": {"tx-stage": {"api_key": SECRET}}}
        # Edit again: rename, leave the secret empty (kept), fix the endpoint.
        await select_account(pilot, "tx-stage")
        await pilot.press("E")
        f = form(app)
        assert f.query_one("#input-secret_api_key", Input).value == ""
        await fill(pilot, label="tx-main", endpoint="https://api.telnyx.com/v2")
        await save(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert cfg.load_secrets() == {"staging": {"tx-main": {"api_key": SECRET}}}
        account = cfg.load_config().profiles["staging"].accounts[0]
        assert (account.label, account.endpoint, account.credentials) == (
            "tx-main",
            "https://api.telnyx.com/v2",
            {"api_key": "secrets-file"},
        )
        assert SECRET not in config_file.read_text()
        # Back to an environment variable: the stored value is removed from the secrets file.
        await select_account(pilot, "tx-main")
        await pilot.press("E")
        form(app).query_one("#input-src_api_key", Select).value = "environment variable"
        await fill(pilot, env_api_key="9BAD")
        await save(pilot)
        assert "not an environment variable name" in field_error(app, "env_api_key")
        await fill(pilot, env_api_key="TX_MAIN_KEY")
        await save(pilot)
        assert cfg.load_config().profiles["staging"].accounts[0].credentials == {"api_key": "env:TX_MAIN_KEY"}
        assert cfg.load_secrets() == {}


# ---- delete and default --------------------------------------------------------------------


async def test_delete_profile_asks_with_cancel_focused_then_deletes(profiles_app, config_file):
    cfg.save_secret("prod", "hw-prod", "app_secret", SECRET)
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "prod")
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.focused is app.screen.query_one("#cancel", Button)
        question = str(app.screen.query_one("#question").render())
        assert "Delete profile prod?" in question and "huawei hw-prod" in question
        await pilot.press("enter")  # Cancel
        await settle(pilot)
        assert "prod" in cfg.load_config().profiles
        await pilot.press("ctrl+d")
        await pilot.click("#confirm")
        await settle(pilot)
        assert "prod" not in cfg.load_config().profiles
        assert "[profiles.prod]" not in config_file.read_text()
        assert cfg.load_secrets() == {}
        assert cells(screen(app).profiles_table, "name") == ["sandbox", "staging"]
        assert "Deleted profile prod." in notices(app)


async def test_delete_account_from_the_accounts_table(profiles_app):
    app = profiles_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("tab")
        assert screen(app).accounts_table.has_focus
        await pilot.press("ctrl+d")
        question = str(app.screen.query_one("#question").render())
        assert "Delete telnyx account tx-stage from profile staging?" in question
        await pilot.click("#confirm")
        await settle(pilot)
        assert cfg.load_config().profiles["staging"].accounts == []
        assert screen(app).accounts_table.total_count == 0


async def test_the_active_profile_cannot_be_deleted(profiles_app, config_file):
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.session.profile = "staging"  # as if it were the active one
        await select_profile(pilot, "staging")
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ProfilesScreen)
        assert any("active profile" in n for n in notices(app))


async def test_make_default(profiles_app, config_file):
    app = profiles_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_profile(pilot, "prod")
        await pilot.press("d")
        await settle(pilot)
        assert cfg.load_config().default_profile == "prod"
        assert 'default_profile = "prod"' in config_file.read_text()
        assert cells(screen(app).profiles_table, "default") == ["", "default", ""]


# ---- refusals ------------------------------------------------------------------------------


async def test_the_sandbox_cannot_be_edited_or_deleted(profiles_app, config_file):
    before = config_file.read_text()
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "sandbox")
        for key in ("e", "a", "ctrl+d", "tab", "E", "ctrl+d"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ProfilesScreen), key
        said = notices(app)
        assert sum("sandbox profile cannot be edited" in n for n in said) == 4  # e, a, E and deleting an account
        assert sum("sandbox profile cannot be deleted" in n for n in said) == 1
    assert config_file.read_text() == before


async def test_a_read_only_session_refuses_every_change(profiles_app, config_file):
    before = config_file.read_text()
    app = profiles_app(read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        for key in ("n", "e", "a", "d", "ctrl+d", "tab", "E", "ctrl+d"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ProfilesScreen), key
        refusals = [n for n in notices(app) if n.startswith("Read-only:") and "refused" in n]
        assert len(refusals) == 7
        assert any("adding a profile" in n for n in refusals) and any("deleting an account" in n for n in refusals)
    assert config_file.read_text() == before
    assert not cfg.secrets_path().exists()


# ---- test connection -----------------------------------------------------------------------


async def test_test_connection_on_the_sandbox_succeeds(profiles_app):
    app = profiles_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_profile(pilot, "sandbox")
        await select_account(pilot, "telnyx")
        await pilot.press("t")
        await settle(pilot)
        s = screen(app)
        status = str(s.query_one("#test-status").render())
        assert status.startswith("✓ telnyx account telnyx of sandbox")
        assert s.results[("sandbox", "telnyx")][0] == "ok"
        assert cells(s.accounts_table, "test")[0] == "ok"


async def test_test_connection_shows_a_missing_credential(profiles_app):
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("t")
        await settle(pilot)
        status = str(screen(app).query_one("#test-status").render())
        assert status.startswith("✗ telnyx account tx-stage of staging")
        assert "environment variable TELEDECK_TEST_STAGING_KEY (api_key) is not set" in status
        assert cells(screen(app).accounts_table, "test") == ["failed"]
        assert "TELEDECK_TEST_STAGING_KEY (api_key) is not set" in detail_text(app)


async def test_test_connection_shows_the_vendor_code(profiles_app, monkeypatch):
    import tui.sessions

    async def refused(profile, account, **_):
        raise AuthError("Authentication failed", provider="telnyx", status=401, code="10009")

    monkeypatch.setattr(tui.sessions, "test_account", refused)
    monkeypatch.setenv("TELEDECK_TEST_STAGING_KEY", SECRET)
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        assert cells(screen(app).accounts_table, "credentials") == ["env:TELEDECK_TEST_STAGING_KEY"]
        await pilot.press("t")
        await settle(pilot)
        status = str(screen(app).query_one("#test-status").render())
        assert "[10009] Authentication failed (HTTP 401)" in status
        assert "last test    failed: [10009] Authentication failed (HTTP 401)" in detail_text(app)
        assert not any(SECRET in n for n in notices(app)) and SECRET not in status


# ---- switching -----------------------------------------------------------------------------


async def test_switching_profile_opens_its_session_and_every_screen_starts_afresh(make_app, config_file, monkeypatch):
    import tui.sessions
    from providers.sandbox import TelnyxSandbox
    from providers.session import sandbox_session
    from tests.tui.conftest import FIXED_NOW, table

    # The staging "account": another emulator whose allowlist lacks one address.
    other = TelnyxSandbox(clock=lambda: FIXED_NOW)
    gone = other.state["access_ips"].pop()["id"]
    opened = []

    def open_profile_session(profile, *, read_only=False, offline=False, cache=None):
        opened.append(profile.name)
        session = sandbox_session(handler=other, read_only=read_only or profile.read_only)
        session.profile = profile.name
        return session

    monkeypatch.setattr(tui.sessions, "open_profile_session", open_profile_session)
    app = make_app(start="allowlist")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        old_allowlist = app.screen
        assert table(app).total_count == 51 and gone in old_allowlist.records
        await app.switch_mode("profiles")
        await settle(pilot)
        old_profiles = screen(app)
        await select_profile(pilot, "sandbox")
        await pilot.press("enter")
        await settle(pilot)
        assert "Already using profile sandbox." in notices(app)
        await select_profile(pilot, "staging")
        await pilot.press("enter")
        await settle(pilot)
        assert opened == ["staging"]
        assert app.session.profile == "staging"
        assert "Switched to profile staging." in notices(app)
        # Back on the Profiles screen (a new one), which marks the new active profile.
        s = screen(app)
        assert s is not old_profiles
        assert cells(s.profiles_table, "active") == ["", "", "*"]
        assert "profile: staging" in str(s.query_one("#app-header").render())
        # The allowlist screen is a new one, with the new profile's records, fetched again.
        await app.switch_mode("allowlist")
        await settle(pilot)
        assert app.screen is not old_allowlist
        assert table(app).total_count == 50 and gone not in app.screen.records


async def test_switching_to_a_profile_with_a_missing_credential_keeps_the_session(profiles_app):
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.profile == "sandbox"
        assert any("TELEDECK_TEST_STAGING_KEY" in n and "not set" in n for n in notices(app))
        assert isinstance(app.screen, ProfilesScreen)


async def test_a_name_typed_right_after_n_lands_in_the_new_profile_form(profiles_app):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "nteam-b")
        await settle(pilot)
        assert form(app).query_one("#input-name", Input).value == "team-b"


async def test_a_receipt_token_shorter_than_16_is_refused_at_its_field(profiles_app, config_file):
    """A credential with a rule of its own in the vendor descriptor (Alibaba's receipt token):
    the typed value is checked at its field, masked, and stored only in the secrets file."""
    token = "receipts-token-0123456789"
    app = profiles_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_profile(pilot, "staging")
        await pilot.press("a")
        form(app).query_one("#input-kind", Select).value = f"aliyun-pls · {cfg.KINDS['aliyun-pls'].title}"
        await save(pilot)
        f = form(app)
        await fill(pilot, label="ali-main", pool_key="FC100000000000001")
        f.query_one("#input-src_receipt_token", Select).value = "secrets file"
        await pilot.pause()
        assert f.query_one("#input-secret_receipt_token", Input).password  # masked
        await fill(pilot, secret_receipt_token="short-token")
        await save(pilot)
        assert isinstance(app.screen, FormScreen), "nothing saved while the token is too short"
        assert "at least 16 characters" in field_error(app, "secret_receipt_token")
        assert "short-token" not in field_error(app, "secret_receipt_token")
        assert not config_file.read_text().count("ali-main")
        await fill(pilot, secret_receipt_token=token)
        await save(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert 'receipt_token = "secrets-file"' in config_file.read_text() and token not in config_file.read_text()
        assert cfg.load_secrets()["staging"]["ali-main"]["receipt_token"] == token
        assert not any(token in n for n in notices(app))
