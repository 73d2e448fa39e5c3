"""The theme chosen in the command palette is kept in config.toml ([ui] theme) and used next start."""

from __future__ import annotations

import tomllib

from providers.session import sandbox_session
from tests.tui.conftest import notice_titles, settle
from tui.app import TeledeckApp
from tui.config import config_path, load_config

PROFILES = """\
default_profile = "lab"

[profiles.lab]
read_only = true
accounts = []
"""


def _write(text: str) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _app(sandbox) -> TeledeckApp:
    return TeledeckApp(sandbox_session(handler=sandbox), config=load_config())


async def _pick(pilot, typed: str, first: str) -> None:
    """Type into the command palette and take the first hit once the search has listed it."""
    from textual.command import CommandList

    await pilot.press(*typed)
    for _ in range(500):  # the palette searches in a worker: wait for its hits, not for a time
        options = pilot.app.screen.query_one(CommandList)._options
        if options and str(options[0].prompt).startswith(first):
            break
        await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def _choose_theme_in_the_palette(pilot, name: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await _pick(pilot, "theme", "Theme")
    await _pick(pilot, name, name)
    await settle(pilot)


async def test_a_theme_chosen_in_the_palette_is_saved_and_used_next_start(sandbox):
    _write(PROFILES)
    app = _app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme != "nord"
        await _choose_theme_in_the_palette(pilot, "nord")
        assert app.theme == "nord"
    document = tomllib.loads(config_path().read_text(encoding="utf-8"))
    assert document["ui"] == {"theme": "nord"}
    # The rest of the file is as it was.
    assert document["default_profile"] == "lab" and document["profiles"]["lab"]["read_only"] is True

    again = _app(sandbox)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_no_write_when_the_theme_did_not_change(sandbox):
    _write(PROFILES + '\n[ui]\ntheme = "nord"\n')
    before = config_path().stat().st_mtime_ns, config_path().read_text()
    app = _app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        app.theme = "nord"  # chosen again: nothing to save
        await settle(pilot)
    assert (config_path().stat().st_mtime_ns, config_path().read_text()) == before


async def test_a_config_that_cannot_be_rewritten_keeps_the_theme_for_now_and_says_so(sandbox):
    _write(PROFILES)
    app = _app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        _write("this is = = not toml\n")  # changed by hand while the app runs
        app.theme = "dracula"
        await settle(pilot)
        assert app.theme == "dracula" and app.is_running
        assert "Theme not saved" in notice_titles(app)
    assert config_path().read_text() == "this is = = not toml\n"


async def test_with_no_config_file_the_theme_makes_one(sandbox):
    app = TeledeckApp(sandbox_session(handler=sandbox))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.theme = "gruvbox"
        await settle(pilot)
    assert load_config().theme == "gruvbox"
    assert config_path().stat().st_mode & 0o777 == 0o600
