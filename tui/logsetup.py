"""Logging goes to a file in the user log dir, never to the terminal the UI is drawing on.

Every record passes through the transport's redaction first (URLs with secret-looking query
values masked, known secret values replaced), so the log holds no credentials.
"""

from __future__ import annotations

import logging
from pathlib import Path

from providers.paths import log_dir


def log_path() -> Path:
    """teledeck.log in the log directory (TELEDECK_LOG_DIR, else the platform's user log dir)."""
    return log_dir() / "teledeck.log"


def configure() -> Path:
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("teledeck")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    return path
