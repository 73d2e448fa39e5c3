"""Logging goes to a file in the user log dir, never to the terminal the UI is drawing on.

Every record passes through the transport's redaction first (URLs with secret-looking query
values masked, known secret values replaced), so the log holds no credentials.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs


def log_path() -> Path:
    base = os.environ.get("TELEDECK_LOG_DIR") or platformdirs.user_log_dir("teledeck", appauthor=False)
    return Path(base) / "teledeck.log"


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
