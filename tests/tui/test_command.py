"""The ':' prompt: exact names and aliases, Tab completion, and an unknown name that says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.conftest import notices, settle
from tui.app import destinations
from tui.screens.command import CommandScreen, completions, resolve
from tui.screens.help import HelpScreen

SIZE = (120, 40)
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_names() -> list[tuple[str, str]]:
    """(name, screen title) for every name README's resource table gives, and each `:name` in its prose."""
    text = README.read_text(encoding="utf-8")
    found: list[tuple[str, str]] = []
    table = text[text.index("| screen | `:` names |") :].split("\n\n", 1)[0]
    for title, names in re.findall(r"^\| ([^|`]+?) \| (`[^|]+`) \|", table, re.M):
        found.extend((name, title) for name in re.findall(r"`([^`]+)`", names))
    titles = {d.mode: d.title for d in destinations()}
    found.extend((name, titles.get(name, "?")) for name in re.findall(r"`:(\w+)`", text))
    return found


def test_readme_lists_names_for_every_table_row():
    names = readme_names()
    assert ("ip", "Allowlist") in names and ("tokens", "Credentials") in names
    assert {"bindings", "whatsapp", "profiles"} <= {name for name, _ in names}


@pytest.mark.parametrize(("name", "title"), readme_names())
def test_every_name_in_the_readme_opens_its_screen(name, title):
    found = resolve(name, destinations())
    assert found is not None, f":{name} matches nothing"
    assert found.title == title


@pytest.mark.parametrize(
    ("typed", "mode"),
    [
        ("ip", "allowlist"),
        ("access_ip", "allowlist"),
        ("pls", "bindings"),
        ("saml", "sso"),
        ("auth", "sso"),
        ("tokens", "credentials"),
        (":Billing", "billing"),
        ("billing groups", "billing"),
        ("billinggroups", "billing"),
    ],
)
def test_exact_names_and_aliases_win_never_a_fuzzy_title(typed, mode):
    found = resolve(typed, destinations())
    assert found is not None and found.mode == mode


@pytest.mark.parametrize("typed", ["", "bil", "ipx", "grp", "zzz"])
def test_a_prefix_or_a_near_miss_is_not_a_name(typed):
    assert resolve(typed, destinations()) is None


def test_completions_list_modes_before_aliases():
    assert completions("b", destinations())[:2] == ["billing", "bindings"]
    assert completions("zz", destinations()) == []


async def _prompt(pilot) -> Input:
    await pilot.press("colon")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandScreen)
    return pilot.app.screen.query_one("#command-input", Input)


async def test_enter_on_a_name_goes_there(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        await pilot.press(*"ip", "enter")
        await settle(pilot)
        assert app.current_mode == "allowlist" and not isinstance(app.screen, CommandScreen)
        await _prompt(pilot)
        await pilot.press(*"tokens", "enter")
        await settle(pilot)
        assert app.current_mode == "credentials"


async def test_tab_completes_and_then_cycles(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompt = await _prompt(pilot)
        await pilot.press(*"bil", "tab")
        assert prompt.value == "billing"
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "billing"
        prompt = await _prompt(pilot)
        await pilot.press("b", "tab")  # billing, bindings, bg, binding: ambiguous, so Tab steps through
        first = prompt.value
        await pilot.press("tab")
        assert {first, prompt.value} == {"billing", "bindings"}
        matches = str(app.screen.query_one("#command-matches").render())
        assert "billing" in matches and "bindings" in matches


async def test_an_unknown_name_says_so_closes_and_swallows_nothing(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        await pilot.press(*"nosuch", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, CommandScreen)
        assert app.current_mode == "allowlist"
        assert any("No screen called 'nosuch'" in n for n in notices(app))
        await pilot.press("question_mark")  # the next key does what it says
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_escape_leaves_the_prompt(make_app):
    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        await pilot.press(*"sso", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, CommandScreen) and app.current_mode == "billing"


async def test_the_prompt_shows_its_own_keys(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        shown = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"Cancel", "Complete"} <= shown
        assert not shown & {"New", "Delete", "Refresh"}, "the list's keys are not offered under the prompt"
