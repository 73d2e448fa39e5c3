"""How the emulators choose their credentials and how `teledeck sandbox serve` shows them.

Every emulator takes each credential from its constructor argument, else from a TELEDECK_SANDBOX_*
environment variable, else from a public default (`setting`). What it prints never holds a secret
from the environment in full: at most its first characters and the variable's name (`masked`).
Emulators differ in when they mask: by origin (`from_env`) or by value (`shown`).
"""

from __future__ import annotations

import os


def setting(value: str | None, env_name: str, default: str) -> str:
    """`value`, else $env_name, else `default` (an empty string counts as unset)."""
    return value or os.environ.get(env_name) or default


def setting_int(value: int | None, env_name: str, default: int) -> int:
    """A number setting: `value`, else $env_name (blank counts as unset), else `default`."""
    if value is None:
        env = os.environ.get(env_name, "").strip()
        return int(env) if env else default
    return int(value)


def from_env(value: str | None, env_name: str) -> bool:
    """Whether the environment chose the setting: no argument given (None) and $env_name not empty."""
    return value is None and bool(os.environ.get(env_name))


def configured(value: str | None, env_name: str, default: str) -> tuple[str, bool]:
    """(`setting`, `from_env`) at once: the value in use, and whether the environment chose it."""
    return setting(value, env_name, default), from_env(value, env_name)


def masked(value: str, env_name: str) -> str:
    """A value from the environment as printed: its first four characters and where it came from."""
    return f"{value[:4]}... (from ${env_name})"


def shown(value: str, default: str, env_name: str) -> str:
    """A secret as printed: in full when it is the public default, else `masked`."""
    return value if value == default else masked(value, env_name)


__all__ = ["configured", "from_env", "masked", "setting", "setting_int", "shown"]
