"""Shared test fixtures."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Property tests are derandomised (the same examples on every run and machine, so a failure is
# reproducible and the suite's time is stable) with a modest budget per test.
settings.register_profile(
    "teledeck",
    derandomize=True,
    deadline=None,
    max_examples=200,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("teledeck")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user data, config, cache and log directories."""
    monkeypatch.setenv("TELEDECK_DATA_DIR", str(tmp_path_factory.mktemp("teledeck-data")))
    monkeypatch.setenv("TELEDECK_CONFIG_DIR", str(tmp_path_factory.mktemp("teledeck-config")))
    monkeypatch.setenv("TELEDECK_CACHE_DIR", str(tmp_path_factory.mktemp("teledeck-cache")))
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(tmp_path_factory.mktemp("teledeck-log")))
    monkeypatch.delenv("TELEDECK_PROFILE", raising=False)
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
