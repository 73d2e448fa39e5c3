"""config.toml's [keymap]: a remapped key works and the old one does not, the footer and `?` show
the new key, and an unknown id, a malformed key or a clash is refused before the app starts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from providers.session import sandbox_session
from tests.tui.conftest import settle
from tui.app import TeledeckApp, ui_problem
from tui.config import Config, config_path, load_config
from tui.keymap import KeymapError, catalogue, check_keymap, keys_table, places
from tui.resources import REGISTRY
from tui.screens.help import HelpScreen

ROOT = Path(__file__).resolve().parents[2]


def _app(sandbox, keymap: dict[str, str], start: str = "allowlist") -> TeledeckApp:
    return TeledeckApp(sandbox_session(handler=sandbox), start=start, config=Config(keymap=keymap))


# ---- the catalogue is read from the classes --------------------------------------------------------


def test_every_binding_id_of_every_screen_is_in_the_catalogue():
    ids = set(catalogue())
    assert {"app.quit", "app.jump", "resource.refresh", "table.filter", "rows.down", "bindings.unbind"} <= ids
    assert {"form.submit", "confirm.cancel", "command.complete", "help.close", "detail.copy_value"} <= ids
    for spec in REGISTRY.values():  # each registry entry's own actions, as resource.action.<id>
        assert {f"resource.action.{a.id}" for a in spec.actions} <= ids
    assert {p.name for p in places()} >= {*REGISTRY, "bindings", "profiles", "form", "prompt", "help", "detail"}


def test_a_screen_added_later_is_found_without_a_list(monkeypatch):
    """A new Screen class in tui/screens brings its ids along (nothing is kept by hand)."""
    import types

    from textual.binding import Binding

    from tui.screens.dialog import DialogScreen

    module = types.ModuleType("tui.screens.made_up")
    made_up = type("MadeUpScreen", (DialogScreen,), {"BINDINGS": [Binding("z", "zap", "Zap", id="made_up.zap")]})
    made_up.__module__ = module.__name__
    module.MadeUpScreen = made_up  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    places.cache_clear()
    try:
        assert catalogue()["made_up.zap"].places == ("madeup",)
        with pytest.raises(KeymapError, match=re.escape('"made_up.zap" and "dialog.focus_next" would both be on tab')):
            check_keymap({"made_up.zap": "tab"})
    finally:
        monkeypatch.undo()
        places.cache_clear()
    assert "made_up.zap" not in catalogue()


def test_the_default_keys_make_no_clash():
    assert check_keymap({}) == {}
    assert ui_problem(Config(), where="config.toml") is None


# ---- refusals: one line each ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keymap", "expected"),
    [
        ({"resource.refresh": "c"}, '"resource.refresh" and "resource.copy_id" would both be on c on the allowlist'),
        ({"resource.refresh": "j"}, '"resource.refresh" and "rows.down" would both be on j'),
        ({"table.sort": "s"}, '"table.sort" and "resource.action.sync" would both be on s on the whatsapp screen'),
        ({"app.quit": "question_mark"}, '"app.quit" and "app.help" would both be on ? (question_mark)'),
        ({"table.filter": "?"}, '"table.filter" and "app.help" would both be on ? (question_mark)'),
        ({"app.quit": "ctrl+q"}, '"app.quit" and "Textual\'s quit" would both be on ctrl+q'),
        ({"form.submit": "ctrl+a"}, '"form.submit" and "the text field\'s home" would both be on ctrl+a'),
        ({"x.y": "a"}, 'unknown binding id "x.y" (see teledeck keys)'),
        ({"resource.refresh": "F5"}, '"resource.refresh" = "F5": "F5" is not a key name'),
        ({"resource.refresh": "cmd+r"}, '"cmd+r" is not a key: modifiers are'),
        ({"resource.refresh": ""}, "no key given"),
        ({"resource.refresh": "f5,"}, "no key given"),
    ],
)
def test_a_keymap_that_cannot_work_is_refused_with_one_line(keymap, expected):
    with pytest.raises(KeymapError) as refused:
        check_keymap(keymap)
    message = str(refused.value)
    assert message.startswith("config.toml [keymap]: ") and "\n" not in message
    assert expected in message


@pytest.mark.parametrize(
    "keymap",
    [
        {"resource.refresh": "f5"},
        {"resource.refresh": "c", "resource.copy_id": "y"},  # a swap that frees the key first
        {"resource.refresh": "f5, ctrl+r"},
        {"help.close": "q"},  # the same key as before
        {"app.help": "f1", "table.filter": "?"},  # once app.help has moved, ? is free
        {"resource.action.token": "ctrl+t"},  # an id with "token" in it is a binding id, not a secret
    ],
)
def test_a_keymap_that_works_is_accepted(keymap):
    check_keymap(keymap)


def test_a_keymap_that_passed_is_not_checked_again_until_it_or_the_code_changes(monkeypatch, tmp_path):
    import tui.keymap as keymap_module

    monkeypatch.setenv("TELEDECK_CACHE_DIR", str(tmp_path))  # no verdict another test left

    checked: list[dict[str, str]] = []
    real_check = keymap_module.check_keymap

    def counting_check(keymap, **kw):
        checked.append(dict(keymap))
        return real_check(keymap, **kw)

    monkeypatch.setattr(keymap_module, "check_keymap", counting_check)
    good, clash = Config(keymap={"resource.refresh": "f5"}), Config(keymap={"resource.refresh": "c"})
    assert ui_problem(good, where="config.toml") is None
    assert ui_problem(good, where="config.toml") is None  # the verdict is kept: no second check
    assert len(checked) == 1
    assert "would both be on c" in (ui_problem(clash, where="config.toml") or "")
    assert "would both be on c" in (ui_problem(clash, where="config.toml") or "")  # a refusal is never kept
    assert len(checked) == 3
    # The code the check read changed (an edited screen, an upgraded Textual): checked again.
    monkeypatch.setattr(keymap_module, "_fingerprint", lambda keymap: "another build of the code")
    assert ui_problem(good, where="config.toml") is None
    assert len(checked) == 4


# ---- in the app ----------------------------------------------------------------------------------


async def test_a_remapped_key_works_and_the_old_one_does_not(sandbox):
    app = _app(sandbox, {"resource.refresh": "f5"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = sandbox.requests_handled
        await pilot.press("r")
        await settle(pilot)
        assert sandbox.requests_handled == before, "r still refreshes"
        await pilot.press("f5")
        await settle(pilot)
        assert sandbox.requests_handled > before, "f5 did not refresh"
        footer = {b.binding.description: key for key, b in app.screen.active_bindings.items()}
        assert footer["Refresh"] == "f5"


async def test_help_and_footer_show_the_remapped_key(sandbox):
    app = _app(sandbox, {"resource.refresh": "f5", "app.quit": "ctrl+x"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {row.description: row.keys for row in app.screen.sections.screen}
        general = {row.description: row.keys for row in app.screen.sections.general}
        assert rows["Refresh"] == "f5" and general["Quit"] == "^x"
        await pilot.press("escape")
        await pilot.pause()
        from tui.widgets.footer import AppFooter

        footer = app.screen.query_one(AppFooter)
        shown = {k.description: k for k in footer.keys if k.shown}
        assert shown["Refresh"].key == "f5" and not shown["Refresh"].held
        # The app's keys stay at the right, a remapped one too; the verbs keep their order.
        assert shown["Quit"].key == "ctrl+x" and shown["Quit"].held
        verbs = [k.description for k in footer.keys if k.shown and not k.held]
        assert verbs.index("Refresh") < verbs.index("New")


async def test_a_remapped_verb_that_is_unavailable_says_why_on_its_new_key(sandbox):
    from tests.tui.conftest import notices

    app = TeledeckApp(
        sandbox_session(handler=sandbox), start="addresses", config=Config(keymap={"resource.edit": "f6"})
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await pilot.pause()
        assert any("cannot be edited" in n for n in notices(app))


def test_keys_table_shows_the_remap_and_the_default():
    rows = {row[0]: row for row in keys_table({"resource.refresh": "f5"})}
    assert rows["resource.refresh"][1:3] == ("f5", "r")
    assert rows["resource.refresh"][3] == "every resource screen"
    assert rows["table.filter"][1] == "/" and rows["app.help"][1] == "?"
    assert rows["resource.action.validate"][3] == "addresses"


# ---- at start: exit 2 with one line, and `teledeck keys` -----------------------------------------------


def _run(*args: str, config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "config.toml").write_text(config, encoding="utf-8")
    env = {
        **os.environ,
        "TELEDECK_CONFIG_DIR": str(config_dir),
        "TELEDECK_DATA_DIR": str(tmp_path / "data"),
        "TELEDECK_CACHE_DIR": str(tmp_path / "cache"),
        "TELEDECK_LOG_DIR": str(tmp_path / "log"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[keymap]\n"resource.refresh" = "c"\n', '"resource.refresh" and "resource.copy_id" would both be on c'),
        ('[keymap]\n"x.y" = "a"\n', 'unknown binding id "x.y" (see teledeck keys)'),
        ('[keymap]\n"resource.refresh" = "Ctrl-R"\n', '"Ctrl-R" is not a key name'),
        ('[keymap]\n"resource.refresh" = 5\n', "keymap.resource.refresh: expected a key"),
        ('[ui]\ntheme = "no-such-theme"\n', '[ui]: unknown theme "no-such-theme" (one of '),
    ],
)
def test_the_app_refuses_to_start_with_one_line_and_exit_2(tmp_path, config, expected):
    ran = _run("--sandbox", config=config, tmp_path=tmp_path)
    assert ran.returncode == 2, ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("teledeck: "), ran.stderr
    assert expected in lines[0]
    assert str(tmp_path / "config" / "config.toml") in lines[0]


def test_teledeck_keys_prints_every_id_with_the_remap(tmp_path):
    ran = _run("keys", config='[keymap]\n"resource.refresh" = "f5"\n', tmp_path=tmp_path)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["ID", "KEY", "DEFAULT", "WHERE", "DESCRIPTION"]
    by_id = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(by_id) == set(catalogue())
    assert by_id["resource.refresh"][1:3] == ["f5", "r"]
    assert by_id["app.quit"][1:3] == ["q", "q"]


def test_teledeck_keys_with_a_bad_keymap_lists_the_defaults_and_says_why(tmp_path):
    ran = _run("keys", config='[keymap]\n"x.y" = "a"\n', tmp_path=tmp_path)
    assert ran.returncode == 2
    assert "resource.refresh" in ran.stdout
    assert 'unknown binding id "x.y"' in ran.stderr


def test_a_profiles_save_keeps_the_keymap_and_the_theme(tmp_path):
    from tui.config import save_config

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keymap]\n"resource.refresh" = "f5"\n\n[ui]\ntheme = "nord"\nfont = "x"\n\n[later]\nk = 1\n')
    config = load_config()
    save_config(config)
    again = load_config()
    assert again.keymap == {"resource.refresh": "f5"}
    assert again.ui == {"theme": "nord", "font": "x"} and again.extra == {"later": {"k": 1}}
