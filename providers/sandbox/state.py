"""A small JSON state store for the sandbox emulators.

One JSON object per file. Every emulator keeps its own top-level key (e.g. "telnyx"), so several
emulators may share one file. Files are written with `providers.paths.atomic_write` (mode 0600:
state may hold keys a user chose), so a crash never leaves half a file; a file that cannot be read
back anyway is moved aside to `<name>.corrupt-<timestamp>` and the store starts empty, so the
emulator can re-seed.

Several processes may use one file at once (`make run` beside `teledeck sandbox serve`): each
request runs in `exclusive()`, which holds an advisory lock on `<name>.lock` and first re-reads
the file when another process has replaced it since, so no process writes over what another saved.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import threading
import time
from collections.abc import Iterator

try:
    import fcntl
except ImportError:  # not on POSIX: one process at a time, as before
    fcntl = None  # type: ignore[assignment]
from pathlib import Path
from typing import Any

from providers.paths import atomic_write, sandbox_state_dir

log = logging.getLogger("teledeck.sandbox")


def default_state_dir() -> Path:
    """Where the sandbox keeps its state (`providers.paths.sandbox_state_dir`: `<data dir>/sandbox`)."""
    return sandbox_state_dir()


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
        self._seen: tuple[int, int, int] | None = None  # the file as this store last read or wrote it
        self._held = 0  # how deep this thread is in exclusive() (the file lock is taken once)
        self._lock_file: int | None = None  # `<name>.lock`, opened on first use and kept
        self._load()

    # -- reading -------------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int, int] | None:
        """Which version of the file is on disk (atomic writes replace it, so the inode changes)."""
        try:
            info = os.stat(self.path) if self.path is not None else None
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size) if info is not None else None

    def _load(self) -> None:
        self._seen = self._stamp()
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
    def exclusive(self) -> Iterator[bool]:
        """Hold the store against other threads and other processes; yields whether the document
        was re-read because another process saved it since this one last looked."""
        with self.lock:
            if self.path is None or fcntl is None or self._held:
                self._held += 1
                try:
                    yield False
                finally:
                    self._held -= 1
                return
            if self._lock_file is None:  # once per store, not once per request
                self.path.parent.mkdir(parents=True, exist_ok=True)
                lock_path = self.path.with_name(self.path.name + ".lock")
                self._lock_file = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            handle = self._lock_file
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                reread = self._stamp() != self._seen
                if reread:
                    self.data = {}
                    self._load()
                self._held += 1
                try:
                    yield reread
                finally:
                    self._held -= 1
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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
            text = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            atomic_write(self.path, text.encode("utf-8"), mode=0o600)
            self._seen = self._stamp()
