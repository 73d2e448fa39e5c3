"""The `:` prompt's history: Up and Down walk it, it is kept across runs (0600, capped, repeats
folded), and a command holding a credential, or anything shaped like one, is never kept."""

from __future__ import annotations

import os
import stat

import pytest
from textual.widgets import Input

from providers.sandbox import TelnyxSandbox
from providers.session import sandbox_session
from tests.tui.conftest import FIXED_NOW, settle
from tui.app import TeledeckApp
from tui.history import MAX_ENTRIES, CommandHistory, default_history_path, looks_secret
from tui.screens.command import CommandScreen

SIZE = (120, 40)


async def _run(pilot, command: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*command, "enter")
    await settle(pilot)


async def _prompt(pilot) -> Input:
    await pilot.press("colon")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandScreen)
    return pilot.app.screen.query_one("#command-input", Input)


# ---- the file --------------------------------------------------------------------------------------


def test_kept_newest_last_repeats_folded_capped_and_private(tmp_path):
    path = tmp_path / "data" / "command_history"
    history = CommandHistory(path)
    history.load()
    for command in ("billing", "billing", "allowlist !pending", "billing"):
        assert history.add(command)
    assert history.save()
    assert path.read_text() == "billing\nallowlist !pending\nbilling\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for n in range(MAX_ENTRIES + 50):
        history.add(f"bindings /{n}")
    history.save()
    lines = path.read_text().splitlines()
    assert len(lines) == MAX_ENTRIES and lines[-1] == f"bindings /{MAX_ENTRIES + 49}"


def test_two_runs_at_once_lose_neither_ones_commands(tmp_path):
    path = tmp_path / "command_history"
    first, second = CommandHistory(path), CommandHistory(path)
    first.load()
    second.load()
    first.add("billing")
    first.save()
    second.add("sso")
    second.save()
    assert path.read_text().splitlines() == ["billing", "sso"]


def test_a_file_that_is_not_a_history_is_read_as_nothing_or_what_is_sound(tmp_path):
    path = tmp_path / "command_history"
    path.write_bytes(b"billing\n\x1b[31mred\n" + b"x" * 1000 + b"\n\xff\xfe\nsso\n")
    assert CommandHistory(path).load() == ["billing", "sso"]
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert CommandHistory(folder).load() == []  # refused, never fatal
    link = tmp_path / "link"
    link.symlink_to(path)
    assert CommandHistory(link).load() == []  # a symlink is not followed


@pytest.mark.parametrize(
    "typed",
    [
        "bindings /KEYTELEDECKSANDBOX_local_only_0000",
        "allowlist token=abc",
        "sso Authorization: Bearer abc.def",
        "billing /dGhpcyBpcyBhIHNlY3JldCB0b2tlbg==",  # base64
        "billing /9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",  # hex
        "secrets password=hunter2",
    ],
)
def test_credential_shaped_commands_are_never_kept(tmp_path, typed):
    assert looks_secret(typed)
    history = CommandHistory(tmp_path / "h")
    assert not history.add(typed)
    history.save()
    assert not (tmp_path / "h").exists()


@pytest.mark.parametrize(
    "typed",
    ["bindings /13800", "allowlist !pending", "billing groups", "ranges /2001:db8", "sso ~^okta-\\d+$", "bg name:ops"],
)
def test_ordinary_commands_are_kept(typed):
    assert not looks_secret(typed)


def test_a_value_of_the_profiles_credentials_is_never_kept(tmp_path):
    history = CommandHistory(tmp_path / "h")
    assert not history.add("billing /hunter2x", secrets=["hunter2x"])
    assert history.add("billing /hunter")  # not the value itself
    assert looks_secret("sso /pass-word-1", ["pass-word-1"])


# ---- in the app -----------------------------------------------------------------------------------


async def test_up_and_down_walk_the_history_and_it_outlives_the_run(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for command in ("billing", "allowlist !pending", "sso"):
            await _run(pilot, command)
        assert app.current_mode == "sso"
        prompt = await _prompt(pilot)
        await pilot.press(*"bi")  # being typed: Down past the newest comes back to it
        await pilot.press("up")
        assert prompt.value == "sso"
        await pilot.press("up")
        assert prompt.value == "allowlist !pending"
        matches = str(app.screen.query_one("#command-matches").render())
        assert "allowlist, filtered by '!pending'" in matches
        await pilot.press("up", "up", "up")  # the oldest stays
        assert prompt.value == "billing"
        await pilot.press("down")
        assert prompt.value == "allowlist !pending"
        await pilot.press("down", "down")
        assert prompt.value == "bi"
        await pilot.press("up", "enter")  # a recalled command runs as typed
        await settle(pilot)
        assert app.current_mode == "sso"
    saved = default_history_path()
    assert saved.read_text().splitlines() == ["billing", "allowlist !pending", "sso"]
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompt = await _prompt(pilot)
        await pilot.press("up")
        assert prompt.value == "sso"


async def test_only_commands_that_open_something_are_kept(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _run(pilot, "nosuch")
        await _run(pilot, "billing")
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"sso", "escape")
        await settle(pilot)
    assert default_history_path().read_text().splitlines() == ["billing"]


async def test_the_profiles_credential_typed_at_the_prompt_is_not_kept():
    sandbox = TelnyxSandbox(clock=lambda: FIXED_NOW, api_key="pw-Hunter2")  # short: shaped like nothing
    app = TeledeckApp(sandbox_session(handler=sandbox))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "pw-Hunter2" in app.session.credential_values()
        await _run(pilot, "billing /pw-Hunter2")
        assert app.current_mode == "billing"  # it still did what was asked
        await _run(pilot, "sso")
        prompt = await _prompt(pilot)
        await pilot.press("up", "up")
        assert prompt.value == "sso"  # nothing older
    assert "pw-Hunter2" not in default_history_path().read_text()


async def test_the_history_is_not_read_before_the_prompt_opens(make_app, monkeypatch):
    reads = []
    original = CommandHistory.load

    def counted(self):
        reads.append(self.path)
        return original(self)

    monkeypatch.setattr(CommandHistory, "load", counted)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert reads == []
        await _prompt(pilot)
        await pilot.press("escape")
        await _prompt(pilot)
        assert len(reads) == 1
