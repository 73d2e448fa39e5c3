"""The log file lives where providers.paths says, and TELEDECK_LOG_DIR still moves it."""

from __future__ import annotations

import logging

from providers import paths
from tui.logsetup import configure, log_path


def test_log_path_follows_teledeck_log_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(tmp_path / "logs"))
    assert log_path() == paths.log_dir() / "teledeck.log" == tmp_path / "logs" / "teledeck.log"


def test_configure_writes_there(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(tmp_path / "logs"))
    root = logging.getLogger("teledeck")
    saved = root.handlers[:], root.level, root.propagate
    try:
        path = configure()
        logging.getLogger("teledeck.ui").info("hello from the test")
        for handler in root.handlers:
            handler.flush()
        assert path == tmp_path / "logs" / "teledeck.log"
        assert "hello from the test" in path.read_text(encoding="utf-8")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level, root.propagate = saved
