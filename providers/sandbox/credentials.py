"""How the emulators choose their settings and how `teledeck sandbox serve` shows them.

An emulator declares each setting once, as a class attribute (`Setting`): the TELEDECK_SANDBOX_*
environment variable and the public default. `Emulator.__init__` resolves them all the same way:
the constructor's keyword, else the variable, else the default; and it remembers which ones the
environment chose (`Emulator.from_env`). What `serve` prints never holds a secret from the
environment in full: at most its first characters and the variable's name (`masked`). Emulators
differ in when they mask: by origin (`Emulator.from_env`) or by value (`shown`).
"""

from __future__ import annotations

import os
from typing import Generic, TypeVar, overload

T = TypeVar("T", str, int)


def setting_int(value: int | None, env_name: str, default: int) -> int:
    """A number setting: `value`, else $env_name (blank counts as unset), else `default`."""
    if value is None:
        env = os.environ.get(env_name, "").strip()
        return int(env) if env else default
    return int(value)


class Setting(Generic[T]):
    """One emulator setting, declared as a class attribute: `name = Setting(ENV, DEFAULT)`. On an
    instance the attribute is the value in use, set by `Emulator.__init__` through `resolve`."""

    def __init__(self, env_name: str, default: T, *, strip: bool = False) -> None:
        self.env_name = env_name
        self.default: T = default
        self.strip = strip  # text only: blanks around the variable's value do not count
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...
    def __get__(self, obj: object, owner: type) -> T | Setting[T]:
        if obj is None:
            return self
        raise AttributeError(f"setting {self.name!r} is not resolved yet (Emulator.__init__ does it)")

    def resolve(self, value: T | None) -> tuple[T, bool]:
        """(the value in use, whether the environment chose it: no keyword given and the variable
        not empty) for the constructor's `value`. Text: an empty string counts as unset; a number:
        a blank variable counts as unset (`setting_int`)."""
        env = os.environ.get(self.env_name, "")
        if isinstance(self.default, int):
            return setting_int(value, self.env_name, self.default), value is None and bool(env.strip())
        env = env.strip() if self.strip else env
        return value or env or self.default, value is None and bool(env)


def masked(value: str, env_name: str) -> str:
    """A value from the environment as printed: its first four characters and where it came from."""
    return f"{value[:4]}... (from ${env_name})"


def shown(value: str, default: str, env_name: str) -> str:
    """A secret as printed: in full when it is the public default, else `masked`."""
    return value if value == default else masked(value, env_name)


__all__ = ["Setting", "masked", "setting_int", "shown"]
