"""The ':' prompt: exact names and aliases, Tab completion, and an unknown name that says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.conftest import notices, settle
from tui.app import destinations
from tui.screens.command import QUIT_WORDS, CommandScreen, completions, parse, resolve
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
    found.extend((name, titles.get(name, "?")) for name in re.findall(r"`:(\w+)`", text) if name not in QUIT_WORDS)
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


# ---- commands with arguments, and quitting -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "mode", "wanted"),
    [
        ("bindings /13800", "bindings", "13800"),
        ("allowlist !pending", "allowlist", "!pending"),
        (":ip   /10.0", "allowlist", "10.0"),
        ("billing groups", "billing", ""),  # a title with a space is a name, not a filter
        ("billing groups /ops", "billing", "ops"),
        ("bg ~^ops-\\d+$", "billing", "~^ops-\\d+$"),  # passed through as the filter box takes it
        ("allowlist status:pending", "allowlist", "status:pending"),
        ("allowlist / two words ", "allowlist", "two words"),
    ],
)
def test_what_follows_the_name_is_the_filter(typed, mode, wanted):
    command = parse(typed, destinations())
    assert (command.mode, command.filter, command.quit) == (mode, wanted, False)


@pytest.mark.parametrize("typed", ["q", ":q", "quit", "q!", " Q "])
def test_quit_words_quit(typed):
    assert parse(typed, destinations()).quit


def test_no_screen_is_named_like_a_quit_word():
    names = {name for d in destinations() for name in d.names}
    assert not names & QUIT_WORDS


@pytest.mark.parametrize("typed", ["nosuch /x", "q /x", "quit now"])
def test_an_unknown_name_with_an_argument_opens_nothing(typed):
    command = parse(typed, destinations())
    assert not command.mode and not command.quit


async def test_a_command_with_a_filter_opens_the_screen_filtered_and_shows_it(make_app):
    from tests.tui.conftest import column, table

    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        await pilot.press(*"allowlist !pending")
        matches = str(app.screen.query_one("#command-matches").render())
        assert "allowlist, filtered by '!pending'" in matches
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "allowlist"
        box = app.screen.query_one("#filter-input", Input)
        assert box.display and box.value == "!pending"
        assert table(app).filter_text == "!pending"
        statuses = column(app, "status")
        assert statuses and "pending" not in statuses
        assert table(app).visible_count < table(app).total_count
        assert table(app).has_focus  # the list takes keys; / edits the filter
        await pilot.press("slash")
        assert box.has_focus and box.value == "!pending"


async def _open_ranges_filtered(app, pilot) -> list[str]:
    from tests.tui.conftest import column, table

    await settle(pilot)
    await _prompt(pilot)
    await pilot.press(*"ranges /2001", "enter")
    await settle(pilot)
    assert app.current_mode == "ranges" and table(app).filter_text == "2001"
    assert table(app).visible_count < table(app).total_count
    return column(app, "cidr_block")


async def test_a_filter_holds_for_rows_that_arrive_after_it(make_app, sandbox, tmp_path):
    """A first visit: the rows are fetched after the screen opened filtered; so are cached rows
    painted before them (here offline, where the cache is all there is)."""
    from providers.cache import ResultCache
    from providers.session import sandbox_session
    from tui.app import TeledeckApp

    cache = ResultCache(tmp_path / "cache")
    online = TeledeckApp(sandbox_session(handler=sandbox, cache=cache), start="billing")
    async with online.run_test(size=SIZE) as pilot:
        fresh = await _open_ranges_filtered(online, pilot)
    assert fresh and all("2001" in cell for cell in fresh)
    offline = TeledeckApp(sandbox_session(handler=sandbox, cache=cache, offline=True), start="billing")
    async with offline.run_test(size=SIZE) as pilot:
        cached = await _open_ranges_filtered(offline, pilot)
        assert "offline · cached" in str(offline.screen.query_one("#title-bar").render())
    assert cached == fresh


async def test_tab_completion_keeps_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompt = await _prompt(pilot)
        await pilot.press(*"bil /ops")
        prompt.cursor_position = 3
        await pilot.press("tab")
        assert prompt.value == "billing /ops"
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "billing"
        assert app.screen.query_one("#filter-input", Input).value == "ops"


@pytest.mark.parametrize("typed", ["q", "quit", "q!"])
async def test_colon_q_quits(make_app, typed):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        assert app.return_code is None
        await pilot.press(*typed, "enter")
        await pilot.pause()
        assert app.return_code == 0


async def test_a_filter_on_a_screen_without_one_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _prompt(pilot)
        await pilot.press(*"profiles /lab", "enter")
        await settle(pilot)
        assert app.current_mode == "profiles"
        assert any("has no filter" in n for n in notices(app))


async def test_a_filter_for_a_list_under_its_detail_view_waits_there(make_app):
    from tests.tui.conftest import table
    from tui.screens.detail import DetailScreen

    app = make_app(start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # a detail view left open on Billing groups
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await _prompt(pilot)
        await pilot.press(*"billing /ops", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert table(app).filter_text == "ops"
