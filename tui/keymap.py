"""The keymap: `[keymap]` in config.toml gives a binding id new keys, as Posting does.

    [keymap]
    "resource.refresh" = "f5"
    "table.sort" = "s,ctrl+o"

Textual applies it (`App.set_keymap`: a binding whose id is in the map answers to the map's keys
instead of its own). Before the app runs, `check_keymap` refuses, with one line each: an id no
binding has, a key Textual has no name for, and a clash, that is two different bindings that
can be reached on one screen ending up on one key because of the map (a key two bindings share
by design, such as enter on a list and on its table, is not a clash; moving a third onto it is).

Nothing here lists ids by hand: the places a key can act (`places()`) are read from the classes,
every Screen of tui/screens (the generic resource screen once per registry entry, with its
actions), the widgets that take keys on it, and the App, so a key added anywhere shows up in
`teledeck keys` and in the checks. This module imports Textual's binding types only; the screens
load when the places are first asked for (the check before start, `teledeck keys`).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingsMap

if TYPE_CHECKING:
    from pathlib import Path

    from textual.dom import DOMNode

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


class KeymapError(ValueError):
    """A `[keymap]` entry that cannot be used; `str()` is the one line the user sees."""


def bindings_of(node: DOMNode) -> BindingsMap:
    """`node`'s bindings with the app's keymap applied: the keys they answer to now (help, the
    footer and a screen's own key handling read these, never the defaults)."""
    bindings = node._bindings.copy()
    keymap = node.app._keymap
    if not keymap:
        return bindings
    # Textual puts a remapped binding last; `?` keeps the order the screen declared them in.
    place = declared_order(node)
    bindings.apply_keymap(keymap)
    ordered = sorted(bindings.key_to_bindings.items(), key=lambda kv: min(place.get(_name(b), 0) for b in kv[1]))
    return BindingsMap.from_keys(dict(ordered))


def _name(binding: Binding) -> str:
    return binding.id or binding.action


def declared_order(node: DOMNode) -> dict[str, int]:
    """Where each of `node`'s bindings (by id, else action) first comes in its BINDINGS: the
    order the footer and `?` show keys in, whatever keys the keymap gave them."""
    place: dict[str, int] = {}
    for n, (_, binding) in enumerate(node._bindings):
        place.setdefault(_name(binding), n)
    return place


# ---- the places where keys act ------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """The bindings of one node in the chain Textual searches: a widget, the screen or the app."""

    owner: str  # who it is, as a clash names a binding without an id (Textual's own)
    bindings: tuple[Binding, ...]


@dataclass(frozen=True)
class Place:
    """One screen as the user meets it: the keys of its widgets, its own and the app's that
    reach it (over a dialog only the app's priority keys do)."""

    name: str  # "allowlist", "bindings", "form", ...
    main: bool  # a main screen (a mode), not a dialog over one
    layers: tuple[Layer, ...]


def label_of(binding: Binding, owner: str) -> str:
    """What a binding is called in messages: its id, else (Textual's own) `Owner's action`."""
    return binding.id or f"{owner}'s {binding.action}"


def _layer(owner: type, extra: Iterable[Binding] = ()) -> Layer:
    merged = owner._merge_bindings()  # type: ignore[attr-defined]  # Textual's own MRO merge
    # Bindings without an id are Textual's own (ctrl+q, ctrl+p, a text field's ctrl+a): named in
    # a clash by their owner, as the user knows it.
    name = _OWNER_WORDS.get(owner.__name__, f"Textual {owner.__name__}")
    return Layer(name, (*(b for _, b in merged), *extra))


_OWNER_WORDS = {"TeledeckApp": "Textual", "Input": "the text field"}


def _screen_classes() -> list[type]:
    """Every screen class of tui/screens that is used as it is (a base such as TableScreen,
    whose subclasses are the screens, is not a place of its own)."""
    from textual.screen import Screen

    import tui.screens

    for info in pkgutil.iter_modules(tui.screens.__path__):
        importlib.import_module(f"tui.screens.{info.name}")
    found: list[type] = []
    stack: list[type] = [Screen]
    while stack:
        cls = stack.pop()
        sub: type
        for sub in cls.__subclasses__():
            stack.append(sub)
            # A screen is a class its module defines at its top (not a test's throwaway subclass).
            module = sys.modules.get(sub.__module__)
            if sub.__module__.startswith("tui.screens.") and getattr(module, sub.__name__, None) is sub:
                if sub not in found:
                    found.append(sub)
    return [cls for cls in found if not any(other is not cls and issubclass(other, cls) for other in found)]


def _widgets_on(screen: type) -> tuple[type, ...]:
    """The widgets that hold the focus on `screen` and have keys of their own: a list's table,
    a form's or the prompt's text field (whose keys, such as ctrl+a, it reads first)."""
    from textual.widgets import Input

    from tui.screens.command import CommandScreen
    from tui.screens.detail import DetailScreen
    from tui.screens.form import FormScreen
    from tui.screens.profiles import ProfilesScreen
    from tui.screens.table_screen import TableScreen
    from tui.widgets.virtual_table import VirtualTable

    if issubclass(screen, (TableScreen, DetailScreen, ProfilesScreen)):
        return (VirtualTable,)
    if issubclass(screen, (FormScreen, CommandScreen)):
        return (Input,)
    return ()


def _place_name(screen: type) -> str:
    name = screen.__name__.removesuffix("Screen").lower()
    return {"command": "prompt"}.get(name, name)


@cache
def places() -> tuple[Place, ...]:
    """Every place a key can act, found from the classes (see the module's docstring)."""
    from textual.screen import ModalScreen

    from tui.app import TeledeckApp
    from tui.resources import REGISTRY
    from tui.screens.resource import ResourceScreen, action_bindings

    app = _layer(TeledeckApp)
    if TeledeckApp.ENABLE_COMMAND_PALETTE:  # added by App.__init__, not in any BINDINGS
        palette = Binding(TeledeckApp.COMMAND_PALETTE_BINDING, "command_palette", "palette", priority=True)
        app = Layer(app.owner, (*app.bindings, palette))
    found: list[Place] = []
    for screen in _screen_classes():
        main = not issubclass(screen, ModalScreen)
        # Over a dialog Textual stops at the dialog, but for the app's priority keys.
        reach = app if main else Layer(app.owner, tuple(b for b in app.bindings if b.priority))
        widgets = tuple(_layer(w) for w in _widgets_on(screen))
        if screen is ResourceScreen:
            for spec in REGISTRY.values():
                own = _layer(screen, action_bindings(spec))
                found.append(Place(spec.name, True, (*widgets, own, reach)))
        else:
            found.append(Place(_place_name(screen), main, (*widgets, _layer(screen), reach)))
    return tuple(found)


# ---- the catalogue (`teledeck keys`) --------------------------------------------------------------


@dataclass(frozen=True)
class KeyInfo:
    id: str
    keys: tuple[str, ...]  # the default keys, as Textual names them
    description: str
    places: tuple[str, ...]


def catalogue() -> dict[str, KeyInfo]:
    """Every binding id, with its default keys, what it does and where it acts."""
    keys: dict[str, list[str]] = {}
    described: dict[str, str] = {}
    where: dict[str, list[str]] = {}
    for place in places():
        for layer in place.layers:
            for binding in layer.bindings:
                if not binding.id:
                    continue
                keys.setdefault(binding.id, [])
                if binding.key not in keys[binding.id]:
                    keys[binding.id].append(binding.key)
                text = binding.description or binding.action
                if binding.tooltip:
                    text += f" ({binding.tooltip})"
                described.setdefault(binding.id, text)
                if place.name not in where.setdefault(binding.id, []):
                    where[binding.id].append(place.name)
    return {
        binding_id: KeyInfo(binding_id, tuple(keys[binding_id]), described[binding_id], tuple(where[binding_id]))
        for binding_id in sorted(keys)
    }


# ---- checking a keymap ------------------------------------------------------------------------------


def _is_character_name(name: str) -> bool:
    """Whether `name` is Textual's name of a character key ("question_mark", "full_stop")."""
    from textual.keys import KEY_NAME_REPLACEMENTS, KEY_TO_UNICODE_NAME

    if name in KEY_NAME_REPLACEMENTS.values():
        return True
    try:
        character = unicodedata.lookup(KEY_TO_UNICODE_NAME.get(name, name.replace("_", " ")).upper())
    except KeyError:
        return False
    return character.isprintable() and unicodedata.name(character).lower().replace("-", "_").replace(" ", "_") == name


@cache
def _named_keys() -> frozenset[str]:
    from textual.keys import Keys

    names = {key.value.rsplit("+", 1)[-1] for key in Keys}
    return frozenset(n for n in names if not n.startswith("<") and len(n) > 1)


def key_problem(key: str) -> str | None:
    """Why `key` (one key, as Textual names it) is not one, or None."""
    if not key:
        return "no key given"
    if len(key) == 1:
        return None if key.isprintable() and not key.isspace() else f"{key!r} is not a key (use a name, e.g. space)"
    *modifiers, base = key.split("+")
    wrong = [m for m in modifiers if m not in MODIFIERS]
    if wrong or not base:
        return f'"{key}" is not a key: modifiers are {", ".join(sorted(MODIFIERS))}, joined by + (e.g. "ctrl+k")'
    if len(base) == 1 and base.isprintable() and not base.isspace():
        return None
    if base in _named_keys() or _is_character_name(base):
        return None
    return f'"{key}" is not a key name (Textual names keys like "v", "ctrl+k", "f5", "question_mark", "space")'


def normalized(keymap: Mapping[str, str]) -> dict[str, str]:
    """The keymap as Textual reads it: keys stripped, a single character by its name ("?" is
    "question_mark"), as App.set_keymap does."""
    from textual.keys import _normalize_key_list

    return {binding_id: _normalize_key_list(keys) for binding_id, keys in keymap.items()}


def check_keymap(keymap: Mapping[str, str], *, where: str = "config.toml") -> dict[str, str]:
    """The keymap, normalized, when Textual can use it as it stands; else KeymapError with one line."""
    known = catalogue()
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            raise KeymapError(f'{where} [keymap]: unknown binding id "{binding_id}" (see teledeck keys)')
        for key in (k.strip() for k in keys.split(",")):
            problem = key_problem(key)
            if problem:
                raise KeymapError(f'{where} [keymap]: "{binding_id}" = "{keys}": {problem}')
    mapped = normalized(keymap)
    clash = find_clash(mapped, places())
    if clash is not None:
        raise KeymapError(f"{where} [keymap]: {clash}")
    return mapped


def _keys_after(binding: Binding, keymap: Mapping[str, str]) -> list[str]:
    if binding.id and binding.id in keymap:
        return [k.strip() for k in keymap[binding.id].split(",")]
    return [binding.key]


def find_clash(keymap: Mapping[str, str], where: Sequence[Place]) -> str | None:
    """The first clash the (normalized) keymap makes, as a sentence, or None."""
    from textual.keys import format_key

    for place in where:
        before: dict[str, set[str]] = {}
        after: dict[str, list[str]] = {}
        for layer in place.layers:
            for binding in layer.bindings:
                label = label_of(binding, layer.owner)
                before.setdefault(binding.key, set()).add(label)
                for key in _keys_after(binding, keymap):
                    if label not in after.setdefault(key, []):
                        after[key].append(label)
        for key, labels in after.items():
            moved = [label for label in labels if label not in before.get(key, set())]
            if moved and len(labels) > 1:
                other = next(label for label in labels if label != moved[0])
                shown = format_key(key)
                named = shown if shown == key else f"{shown} ({key})"
                return (
                    f'"{moved[0]}" and "{other}" would both be on {named} on the {place.name} screen; '
                    "give one of them another key"
                )
    return None


# ---- a check passed is not made again ---------------------------------------------------------------

KEYMAP_CHECKED = "keymap-checked"  # in the cache dir: the fingerprint of the last keymap that passed


def _fingerprint(keymap: Mapping[str, str]) -> str:
    """The keymap and the code its check depends on: the modules that declare bindings (tui/'s
    own, its screens and widgets) and Textual's key handling, by size and mtime. A changed
    file, an upgraded Textual or another keymap is a new fingerprint."""
    import hashlib
    import json

    import textual

    here = os.path.dirname(__file__)
    textual_dir = os.path.dirname(textual.__file__)
    folders = (here, os.path.join(here, "screens"), os.path.join(here, "widgets"))
    sources: list[tuple[str, int, int]] = []
    for folder in folders:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    sources.append((entry.path, stat.st_size, stat.st_mtime_ns))
    for name in ("__init__.py", "binding.py", "keys.py", "app.py", "screen.py"):
        stat = os.stat(os.path.join(textual_dir, name))
        sources.append((name, stat.st_size, stat.st_mtime_ns))
    text = json.dumps([sorted(keymap.items()), sorted(sources)])
    return hashlib.sha256(text.encode()).hexdigest()


def _checked_path() -> Path:
    from providers.paths import cache_dir

    return cache_dir() / KEYMAP_CHECKED


def keymap_checked_before(keymap: Mapping[str, str]) -> bool:
    """Whether this keymap passed `check_keymap` against this code already: the check loads
    every screen class (~0.1-1 s at start), its verdict does not change until the code does."""
    try:
        return _checked_path().read_text().strip() == _fingerprint(keymap)
    except OSError:
        return False


def remember_keymap_checked(keymap: Mapping[str, str]) -> None:
    """Note that `keymap` passed (a cache: failing to write it only costs the next start the check)."""
    from providers.paths import atomic_write

    try:
        atomic_write(_checked_path(), _fingerprint(keymap).encode())
    except OSError:
        pass


# ---- `teledeck keys` --------------------------------------------------------------------------------


def _shown(keys: Iterable[str]) -> str:
    """Keys as the config may write them: a character key as its character ("?", "/")."""
    from textual.keys import format_key

    out = []
    for key in keys:
        shown = format_key(key)
        out.append(shown if len(shown) == 1 and shown.isascii() and shown.isprintable() else key)
    return ",".join(out)


def _where(names: Sequence[str], every: Sequence[Place]) -> str:
    """Where a binding acts, in words: whole groups of screens by name, the rest listed."""
    from tui.resources import REGISTRY

    if set(names) >= {p.name for p in every}:
        return "everywhere"
    left = list(names)
    said = []
    groups = (
        ("every main screen", [p.name for p in every if p.main]),
        ("every resource screen", list(REGISTRY)),
        ("every dialog", [p.name for p in every if not p.main]),
    )
    for words, group in groups:
        missing = [n for n in group if n not in left]
        if len(missing) <= (1 if len(group) > 3 else 0) and len(group) > 1:
            said.append(words + (f" but {missing[0]}" if missing else ""))
            left = [n for n in left if n not in group]
    return ", ".join([*said, *left])


def keys_table(keymap: Mapping[str, str]) -> list[tuple[str, str, str, str, str]]:
    """(id, key now, default key, where, what it does) for every binding id."""
    mapped = normalized(keymap)
    every = places()
    rows = []
    for info in catalogue().values():
        default = _shown(info.keys)
        now = _shown(mapped[info.id].split(",")) if info.id in mapped else default
        rows.append((info.id, now, default, _where(info.places, every), info.description))
    return rows


def keys_main(argv: list[str], *, config_path: Path | None = None) -> int:
    """`teledeck keys`: every binding id, its key (remapped by config.toml's [keymap]), its default,
    where it acts and what it does; on stdout. A config that cannot be used says why on stderr
    (exit 2), after the defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="teledeck keys",
        description="List every key binding id, for config.toml's [keymap] table.",
    )
    parser.parse_args(argv)
    from tui import config as cfg

    path = config_path or cfg.config_path()
    keymap: dict[str, str] = {}
    problem = ""
    try:
        keymap = cfg.load_config(path).keymap
        check_keymap(keymap, where=str(path))
    except (cfg.ConfigError, KeymapError) as error:
        problem, keymap = str(error), {}
    rows = [("ID", "KEY", "DEFAULT", "WHERE", "DESCRIPTION"), *keys_table(keymap)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    try:
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
        sys.stdout.flush()
    except BrokenPipeError:  # `teledeck keys | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if problem:
        print(f"teledeck: {problem}", file=sys.stderr)
        return 2
    return 0


# ---- the theme --------------------------------------------------------------------------------------


def theme_problem(theme: str | None, *, where: str = "config.toml") -> str | None:
    """Why `[ui] theme` cannot be used (one line), or None: it must be one of Textual's themes."""
    if theme is None:
        return None
    from textual.theme import BUILTIN_THEMES

    if theme in BUILTIN_THEMES:
        return None
    return f'{where} [ui]: unknown theme "{theme}" (one of {", ".join(sorted(BUILTIN_THEMES))})'
