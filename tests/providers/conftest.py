"""The ledger's two backends, for tests that must hold on both: `backend` is a SQLite file or a
schema of its own on the throwaway PostgreSQL server (tests/pg_server.py), migrated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from providers.ledger import BindingLedger
from providers.ledger_store import PostgresTarget


@dataclass
class Backend:
    """Where a test's ledgers live; every `open` reaches the same rows (another process would too)."""

    name: str
    path: Path | None = None
    target: PostgresTarget | None = None

    def open(self, **kw: Any) -> BindingLedger:
        if self.target is not None:
            return BindingLedger(postgres=self.target, **kw)
        return BindingLedger(self.path, **kw)

    def spec(self) -> dict[str, str]:
        """What a child process needs to open the same ledger (the password included)."""
        if self.target is not None:
            return {"url": self.target.url, "password": self.target.password}
        return {"path": str(self.path)}


def scalar(ledger: BindingLedger, sql: str) -> Any:
    """The first column of the first row of `sql`, on either engine."""
    with ledger._store.read() as conn:
        row = conn.execute(sql).fetchone()
    return row[0]


def in_transaction(ledger: BindingLedger) -> bool:
    raw = ledger._conn
    if hasattr(raw, "in_transaction"):
        return bool(raw.in_transaction)
    from psycopg.pq import TransactionStatus

    return raw.info.transaction_status != TransactionStatus.IDLE


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgresql":
        return Backend("postgresql", target=request.getfixturevalue("pg_ledger_target"))
    return Backend("sqlite", path=tmp_path / "ledger.sqlite3")
