"""Where teledeck keeps its files, and the one way it writes them.

Every location comes from platformdirs unless its environment variable says otherwise:

| what                        | variable              | default (Linux)              |
|-----------------------------|-----------------------|------------------------------|
| config.toml, secrets.toml   | TELEDECK_CONFIG_DIR   | ~/.config/teledeck           |
| cached lists                | TELEDECK_CACHE_DIR    | ~/.cache/teledeck            |
| ledger, sandbox state       | TELEDECK_DATA_DIR     | ~/.local/share/teledeck      |
| teledeck.log                | TELEDECK_LOG_DIR      | ~/.local/state/teledeck/log  |

Files are written with `atomic_write`: a new file created with exactly the mode asked for (the
umask can only narrow it, so it is set again), fsynced, then renamed over the old one, so a crash
never leaves half a file and a secret is never readable by others even for a moment.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

APP = "teledeck"
CONFIG_DIR_ENV = "TELEDECK_CONFIG_DIR"
CACHE_DIR_ENV = "TELEDECK_CACHE_DIR"
DATA_DIR_ENV = "TELEDECK_DATA_DIR"
LOG_DIR_ENV = "TELEDECK_LOG_DIR"


def _from_env(variable: str) -> Path | None:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    return _from_env(CONFIG_DIR_ENV) or Path(platformdirs.user_config_dir(APP, appauthor=False))


def cache_dir() -> Path:
    return _from_env(CACHE_DIR_ENV) or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def data_dir() -> Path:
    return _from_env(DATA_DIR_ENV) or Path(platformdirs.user_data_dir(APP, appauthor=False))


def sandbox_state_dir() -> Path:
    """The sandbox emulators' saved state: `<data dir>/sandbox`."""
    return data_dir() / "sandbox"


def log_dir() -> Path:
    return _from_env(LOG_DIR_ENV) or Path(platformdirs.user_log_dir(APP, appauthor=False))


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, dir_mode: int = 0o700) -> None:
    """Write `data` to `path` atomically, the file created with exactly `mode`.

    Missing parent folders are created with `dir_mode`. A leftover temporary file is removed on
    any failure, and the old file (if any) stays as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 random collisions
        raise OSError(f"could not create a temporary file next to {path}")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # the umask cannot widen it, but it can narrow it: set it exactly
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
