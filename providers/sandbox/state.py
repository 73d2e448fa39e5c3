"""A small JSON state store for the sandbox emulators.

One JSON object per file. Every emulator keeps its own top-level key (e.g. "telnyx"), so several
emulators may share one file. Writes are atomic (temporary file in the same directory, fsync,
`os.replace`), so a crash never leaves half a file; a file that cannot be read back anyway is moved
aside to `<name>.corrupt-<timestamp>` and the store starts empty, so the emulator can re-seed.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger("teledeck.sandbox")

DATA_DIR_ENV = "TELEDECK_DATA_DIR"


def default_state_dir() -> Path:
    """Where the sandbox keeps its state: `$TELEDECK_DATA_DIR/sandbox`, else the platform's user
    data directory for teledeck plus `/sandbox`."""
    base = os.environ.get(DATA_DIR_ENV)
    root = Path(base).expanduser() if base else Path(platformdirs.user_data_dir("teledeck"))
    return root / "sandbox"


class StateStore:
    """A thread-safe JSON document, optionally backed by a file.

    `path=None` keeps everything in memory. Otherwise the file is read on construction (a missing
    file is an empty store) and rewritten atomically by `save()`, which `transaction()` calls for you.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path: Path | None = Path(path) if path is not None else None
        self.lock = threading.RLock()
        self.data: dict[str, Any] = {}
        self.recovered_from: Path | None = None  # where a corrupt file was moved, if one was
        self._load()

    # -- reading -------------------------------------------------------------------------------

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(loaded, dict):
                raise ValueError(f"top level is {type(loaded).__name__}, not an object")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            n = 1
            while aside.exists():
                aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
                n += 1
            try:
                os.replace(self.path, aside)
                self.recovered_from = aside
            except OSError:
                self.recovered_from = None
            log.warning(
                "sandbox state %s was unreadable (%s); moved aside to %s and starting fresh", self.path, exc, aside
            )
            return
        self.data = loaded

    def get(self, key: str, default: Any = None) -> Any:
        with self.lock:
            return self.data.get(key, default)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the whole document."""
        with self.lock:
            return copy.deepcopy(self.data)

    # -- writing -------------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.save()

    def delete(self, key: str) -> None:
        with self.lock:
            if self.data.pop(key, None) is not None:
                self.save()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Hold the lock, yield the live document to mutate, and save once at the end."""
        with self.lock:
            yield self.data
            self.save()

    def save(self) -> None:
        """Write the document atomically (no-op for an in-memory store)."""
        with self.lock:
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            _fsync_dir(self.path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
