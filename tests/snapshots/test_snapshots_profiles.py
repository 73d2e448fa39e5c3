"""SVG snapshots of the Profiles screen and its dialogs (same size and helper as test_snapshots.py).

The config is written into the temp TELEDECK_CONFIG_DIR before the app starts; no credential
value is ever on screen (the secrets-file input is masked).
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from tests.snapshots.test_snapshots import snapshot
from tui import config as cfg

CONFIG = """\
default_profile = "staging"

[profiles.prod]
read_only = true
description = "EU production"

[[profiles.prod.accounts]]
kind = "huawei"
label = "hw-prod"
watch_x = ["8613800000001", "8613800000002"]
credentials = { app_key = "env:PROD_HW_KEY", app_secret = "env:PROD_HW_SECRET" }

[profiles.staging]
read_only = false
description = "pre-production"

[[profiles.staging.accounts]]
kind = "telnyx"
label = "tx-stage"
credentials = { api_key = "env:SNAP_STAGING_TELNYX_KEY" }

[[profiles.staging.accounts]]
kind = "volcengine"
label = "volc-stage"
number_pool_no = "NP-STAGE-1"
credentials = { access_key_id = "env:SNAP_VOLC_ACCESSKEY", secret_access_key = "secrets-file" }
"""


@pytest.fixture
def profiles_app(make_app, monkeypatch):
    for name in ("PROD_HW_KEY", "PROD_HW_SECRET", "SNAP_STAGING_TELNYX_KEY", "SNAP_VOLC_ACCESSKEY"):
        monkeypatch.delenv(name, raising=False)
    path = cfg.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG)
    return lambda **options: make_app(start="profiles", **options)


async def pick_staging(pilot):
    pilot.app.screen.profiles_table.move_cursor_to_key("staging")


async def pick_volc_account(pilot):
    pilot.app.screen.accounts_table.move_cursor_to_key("volc-stage")


def test_profiles_screen(snap_compare, profiles_app):
    assert snapshot(snap_compare, profiles_app(), pick_staging, pick_volc_account)


def test_profiles_test_connection_error(snap_compare, profiles_app):
    """The telnyx account's environment variable is not set: the error, at the account and below."""
    assert snapshot(snap_compare, profiles_app(), pick_staging, "tab", "t")


def test_profiles_add_profile_form_with_error(snap_compare, profiles_app):
    async def bad_name(pilot):
        pilot.app.screen.query_one("#input-name", Input).value = "Prod EU"

    assert snapshot(snap_compare, profiles_app(), "n", bad_name, "ctrl+s")


def test_profiles_add_account_form(snap_compare, profiles_app):
    async def choose_kind(pilot):
        pilot.app.screen.query_one("#input-kind", Select).value = f"aliyun-pls · {cfg.KINDS['aliyun-pls'].title}"

    async def keep_secret_in_file(pilot):
        pilot.app.screen.query_one("#input-src_access_key_secret", Select).value = "secrets file"

    async def fill(pilot):
        screen = pilot.app.screen
        screen.query_one("#input-label", Input).value = "pls-main"
        secret = screen.query_one("#input-secret_access_key_secret", Input)
        secret.value = "not-a-real-secret"
        secret.select_on_focus = False
        secret.focus()  # scrolls the credential fields into view

    assert snapshot(snap_compare, profiles_app(), pick_staging, "a", choose_kind, "ctrl+s", keep_secret_in_file, fill)


def test_profiles_delete_confirm(snap_compare, profiles_app):
    assert snapshot(snap_compare, profiles_app(), pick_staging, "ctrl+d")
