"""Shared test fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user data directory."""
    monkeypatch.setenv("TELEDECK_DATA_DIR", str(tmp_path_factory.mktemp("teledeck-data")))
