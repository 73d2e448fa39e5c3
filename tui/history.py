"""The `:` prompt's history: Up and Down walk earlier commands, kept across runs.

`<data dir>/command_history` holds one command a line, newest last, at most MAX_ENTRIES, with
consecutive repeats folded; the file is 0600 (providers.paths.atomic_write). It is read only when
the prompt first opens, with tui.config.read_small_file (a regular file, never blocking, size
capped) and in a worker thread; it is written in one too, merged with what another teledeck may
have added meanwhile. A command that holds a credential of the profile, or anything shaped like
one (`token=...`, a long run of letters and digits), is never kept: `:bindings /<api key>` typed
by mistake stays out of the file.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("teledeck.ui")

FILE_NAME = "command_history"
MAX_ENTRIES = 200
MAX_LINE = 300  # a longer line is not a command anyone typed at the prompt
MIN_SECRET = 4  # a credential value shorter than this is matched nowhere (it would match everything)

# A token, key or signature: 24 or more letters, digits and the base64/URL-safe marks, with both
# letters and digits in it (a long word or a phone number alone is not one).
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{24,}")


def default_history_path() -> Path:
    from providers.paths import data_dir

    return data_dir() / FILE_NAME


def looks_secret(text: str, secrets: Iterable[str] = ()) -> bool:
    """Whether `text` holds one of `secrets` (the profile's credential values) or something
    shaped like a credential."""
    from providers.audit import names_a_credential

    if any(len(secret) >= MIN_SECRET and secret in text for secret in secrets):
        return True
    if names_a_credential(text):
        return True
    for match in _TOKEN.finditer(text):
        word = match.group()
        if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
            return True
    return False


def _keepable(line: str) -> bool:
    return bool(line) and len(line) <= MAX_LINE and line.isprintable() and not looks_secret(line)


def _folded(lines: Iterable[str]) -> list[str]:
    """Consecutive repeats once, the newest MAX_ENTRIES."""
    out: list[str] = []
    for line in lines:
        if not out or out[-1] != line:
            out.append(line)
    return out[-MAX_ENTRIES:]


class CommandHistory:
    """The commands of the `:` prompt, oldest first (`entries[-1]` is the newest)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_history_path()
        self.entries: list[str] = []
        self.loaded = False
        self._added: list[str] = []  # kept since the last save
        self._lock = threading.Lock()

    def _read(self) -> list[str]:
        """What the file holds now (blocking): unreadable or odd content is nothing, never an error."""
        from tui.config import ConfigError, read_small_file

        try:
            data = read_small_file(self.path, follow_symlinks=False)
        except ConfigError as error:
            log.warning("command history not read: %s", error)
            return []
        if data is None:
            return []
        lines = []
        for raw in data.splitlines():
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                continue  # not text a user typed: skipped, the rest is kept
            if _keepable(line):
                lines.append(line)
        return _folded(lines)

    def load(self) -> list[str]:
        """Read the file once (blocking: call it in a worker thread); the entries after."""
        if not self.loaded:
            read = self._read()
            with self._lock:
                self.entries = _folded([*read, *self._added])
                self.loaded = True
        return self.entries

    def add(self, command: str, secrets: Iterable[str] = ()) -> bool:
        """Keep `command` (in memory; `save` writes it). False when it is not kept: empty, too
        long, not printable, or holding a credential or something shaped like one."""
        command = command.strip()
        if not _keepable(command) or looks_secret(command, secrets):
            return False
        with self._lock:
            self._added.append(command)
            self.entries = _folded([*self.entries, command])
        return True

    def save(self) -> bool:
        """Write the file (blocking: call it in a worker thread): what is there now, then what
        this run added, folded and capped. False (logged) when it cannot be written."""
        from providers.paths import atomic_write

        with self._lock:
            added, self._added = self._added, []
        if not added:
            return True
        merged = _folded([*self._read(), *added])
        try:
            atomic_write(self.path, "".join(f"{line}\n" for line in merged).encode("utf-8"), mode=0o600)
        except OSError as error:
            log.warning("command history not written: %s", error.strerror or error)
            return False
        with self._lock:
            self.entries = _folded([*merged, *self._added])
        return True
