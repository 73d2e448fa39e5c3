"""Logging goes to a file in the user log dir, never to the terminal the UI is drawing on.

Every record passes through the transport's redaction first (URLs with secret-looking query
values masked, known secret values replaced), so the log holds no credentials. Here, on the way
to the file:

- phone numbers are masked to their last four digits (`mask_numbers`): every run of seven or
  more digits, with its "+" or URL-encoded "%2B", wherever it is (a URL path, a query string, a
  message, a traceback). Counts and dates stay readable; an id that is one long number is masked
  too, which costs nothing;
- the file is 0600 in a 0700 folder (the folder is tightened when it is ours and not a shared
  one such as /tmp), kept 0600 across rotation;
- it rotates at MAX_BYTES, keeping BACKUPS old files.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from logging.handlers import RotatingFileHandler
from pathlib import Path

from providers.paths import log_dir

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FILE_MODE = 0o600
DIR_MODE = 0o700

# A number of seven or more digits not inside a word, with its + (or %2B in a URL).
_NUMBER = re.compile(r"(?<![0-9A-Za-z_])(\+|%2[Bb])?([0-9]{3,})([0-9]{4})(?![0-9A-Za-z_])")


def _masked(match: re.Match[str]) -> str:
    prefix, head, tail = match.group(1) or "", match.group(2), match.group(3)
    return f"{prefix}{'*' * len(head)}{tail}"


def mask_numbers(text: str) -> str:
    """`text` with every phone-number-like digit run masked but its last four digits."""
    return _NUMBER.sub(_masked, text)


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks numbers in the whole line (message, arguments, traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose every file (the first, and each after a rollover) is 0600."""

    def _open(self):  # the stream type is typeshed's, unchanged
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.baseFilename, flags, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # a file an older version left 0644
        except OSError:
            pass
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def log_path() -> Path:
    """teledeck.log in the log directory (TELEDECK_LOG_DIR, else the platform's user log dir)."""
    return log_dir() / "teledeck.log"


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    st = directory.stat()
    shared = st.st_mode & stat.S_ISVTX or st.st_mode & stat.S_IWOTH  # /tmp and the like: not ours to change
    if os.name == "posix" and not shared and st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
        directory.chmod(DIR_MODE)


def configure() -> Path:
    """Send the "teledeck" loggers to the log file; OSError when it cannot be written there."""
    path = log_path()
    _private_dir(path.parent)
    handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("teledeck")
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    return path


def configure_or_explain() -> str | None:
    """`configure()`, or the one line that says why the log cannot be written (the command line
    prints it and exits 2): no traceback for a log folder the user cannot write."""
    try:
        configure()
    except OSError as error:
        return (
            f"cannot write the log in {error.filename or 'the log folder'}: {error.strerror or error} "
            "(set TELEDECK_LOG_DIR to a folder you can write)"
        )
    return None
