"""Shared test fixtures."""

from __future__ import annotations

import logging
import os

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


@pytest.fixture(autouse=True)
def _teledeck_logger_restored():
    """A test that runs the app's log setup (tui.logsetup.configure: a file handler, and no
    propagation to the root logger) leaves it as it found it: otherwise every later test in the
    same worker that reads its logs through caplog sees nothing."""
    logger = logging.getLogger("teledeck")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in logger.handlers:
        if handler not in handlers:
            handler.close()
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


# ---- PostgreSQL (tests/pg_server.py): one throwaway server per test process --------------------


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server started from the machine's binaries; a failure (never a skip)
    when they are missing."""
    from tests.pg_server import remove_server, start_server

    try:
        server = start_server()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        remove_server(server)


@pytest.fixture(scope="session")
def pg_database(pg_server) -> str:
    """The URL of one database of this test process; each test gets a schema of its own in it."""
    return pg_server.create_database("tests")


_schemas = iter(range(1, 1_000_000))


def _schema_target(pg_server, pg_database: str):
    from urllib.parse import quote

    from providers.ledger_store import PostgresTarget

    schema = f"t{os.getpid()}_{next(_schemas)}"
    pg_server.admin(f"CREATE SCHEMA {schema}", database=pg_database.rsplit("/", 1)[1])
    url = f"{pg_database}?options={quote(f'-csearch_path={schema}')}"
    return PostgresTarget(url, pg_server.password), schema


@pytest.fixture
def pg_target(pg_server, pg_database):
    """An empty schema of its own for this test, as a PostgresTarget (URL without the password,
    the password beside it); `teledeck ledger migrate` has not run on it."""
    return _schema_target(pg_server, pg_database)[0]


LEDGER_TABLES = ("bindings", "events", "pending_binds", "call_events", "calls", "audit")


@pytest.fixture(scope="session")
def _pg_migrated(pg_server, pg_database):
    from providers.ledger import migrate_ledger

    target, schema = _schema_target(pg_server, pg_database)
    migrate_ledger(postgres=target)
    return target, schema


@pytest.fixture
def pg_ledger_target(pg_server, pg_database, _pg_migrated):
    """A migrated ledger schema, emptied for this test (migrating a schema per test would cost
    ~0.1 s each)."""
    target, schema = _pg_migrated
    tables = ", ".join(f"{schema}.{table}" for table in LEDGER_TABLES)
    pg_server.admin(f"TRUNCATE {tables} RESTART IDENTITY CASCADE", database=pg_database.rsplit("/", 1)[1])
    return target
