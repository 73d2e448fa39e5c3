"""The ledger's versioned schema: files made by the old code upgrade in place, PostgreSQL changes
only through `migrate`, two processes migrating at once apply each step once."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import providers.ledger_schema as schema_mod
from providers.bindings import REMOVED
from providers.ledger import BindingLedger, LedgerError, LedgerSchemaError, migrate_ledger
from providers.ledger_schema import SCHEMA_VERSION, Migration, current_version, migrate
from providers.ledger_store import PostgresStore, SqliteStore

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2031, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def test_this_teledeck_is_at_schema_5():
    assert SCHEMA_VERSION == 5
    assert sorted(schema_mod.MIGRATIONS) == [1, 2, 3, 4, 5]
    assert all(m.sqlite and m.postgresql for m in schema_mod.MIGRATIONS.values())


def test_a_schema_3_file_made_by_the_previous_code_upgrades_in_place(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    shutil.copy(DATA / "ledger-schema3.sqlite3", path)
    with BindingLedger(path) as led:
        assert led.migrated.summary() == f"ledger {path}: schema 3 -> 5 (2 migrations)"
        assert [m.version for m in led.migrated.applied] == [4, 5]
        axyb = led.get("huawei:h-1")
        assert (axyb.mode, axyb.y, axyb.raw, axyb.expires_at) == ("AXYB", "+8617000000002", {"k": "v"}, axyb.expires_at)
        assert led.entry("huawei:h-1").created_at == T0
        assert led.get("aliyun:a-1").status == REMOVED and led.get("aliyun:a-1").recording is True
        assert [e.kind for e in led.events("aliyun:a-1")] == ["imported", "unbound"]
        (pending,) = led.pending_binds()
        assert (pending.id, pending.provider, pending.request.a) == ("key-1", "volcengine", "+8613800000003")
        assert led.calls() == [] and led.audit_entries() == []
        rows = led._conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert [r["version"] for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0]["name"].endswith("(before schema_migrations)") and rows[4]["name"] == "the audit log"
        assert led._conn.execute("PRAGMA user_version").fetchone()[0] == 5
    with BindingLedger(path) as again:  # opened again: nothing left to do
        assert again.migrated.applied == () and again.migrated.summary().endswith("schema 5, up to date")


def test_a_schema_1_file_gains_every_later_step_and_keeps_its_rows(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    shutil.copy(DATA / "ledger-schema1.sqlite3", path)
    with BindingLedger(path) as led:
        assert (led.migrated.before, led.migrated.after) == (1, 5)
        old = led.get("aliyun:old-1")
        assert old.y == "" and old.a == "+8613800000009"
        assert [e.kind for e in led.events("aliyun:old-1")] == ["bound"]
        assert led.pending_binds() == []


def test_migrate_ledger_on_a_file_reports_what_it_applied(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    shutil.copy(DATA / "ledger-schema3.sqlite3", path)
    assert migrate_ledger(path).summary() == f"ledger {path}: schema 3 -> 5 (2 migrations)"
    assert migrate_ledger(path).summary() == f"ledger {path}: schema 5, up to date"


def test_a_newer_additive_schema_still_opens_a_breaking_one_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bindings.sqlite3"
    BindingLedger(path).close()  # a file at schema 5
    newer = Migration(6, "a later table", sqlite=("CREATE TABLE later (x TEXT)",), postgresql=())
    monkeypatch.setattr(schema_mod, "MIGRATIONS", {**schema_mod.MIGRATIONS, 6: newer})
    monkeypatch.setattr(schema_mod, "SCHEMA_VERSION", 6)
    with BindingLedger(path):
        pass  # a newer teledeck migrated the file to 6 (additive)
    monkeypatch.undo()
    with BindingLedger(path) as led:  # this one still reads and writes it
        assert led.migrated.after == 6 and led.all() == []
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_migrations SET additive = 0 WHERE version = 6")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerSchemaError, match="newer than this teledeck understands"):
        BindingLedger(path)


# ---- PostgreSQL: only `migrate` changes a shared schema --------------------------------------------


def test_an_empty_postgresql_database_is_refused_until_migrated(pg_target):
    with pytest.raises(LedgerSchemaError) as refused:
        BindingLedger(postgres=pg_target)
    assert "no teledeck schema yet: run `teledeck ledger migrate`" in str(refused.value)
    assert pg_target.password not in str(refused.value)
    report = migrate_ledger(postgres=pg_target)
    shown = pg_target.shown
    assert report.summary() == f"ledger {shown}: schema 0 -> 5 (5 migrations)"
    assert migrate_ledger(postgres=pg_target).summary() == f"ledger {shown}: schema 5, up to date"
    with BindingLedger(postgres=pg_target) as led:
        assert led.shared and led.location == shown and led.all() == []


def test_an_older_postgresql_schema_is_refused_then_upgraded_keeping_its_rows(pg_target):
    store = PostgresStore(pg_target, check=False)
    try:
        assert migrate(store, target=3).summary().endswith("schema 0 -> 3 (3 migrations)")
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO bindings (key, provider, mode, subscription_id, x, status, origin, created_at, updated_at) "
                "VALUES ('huawei:old', 'huawei', 'AX', 'old', '+8617000000001', 'active', 'created', ?, ?)",
                (T0.isoformat(), T0.isoformat()),
            )
        assert current_version(store) == 3
    finally:
        store.close()
    with pytest.raises(LedgerSchemaError, match=r"has schema 3, this teledeck needs 5: run `teledeck ledger migrate`"):
        BindingLedger(postgres=pg_target)
    report = migrate_ledger(postgres=pg_target)
    assert report.summary() == f"ledger {pg_target.shown}: schema 3 -> 5 (2 migrations)"
    with BindingLedger(postgres=pg_target) as led:
        assert led.get("huawei:old").x == "+8617000000001"
        assert led.entry("huawei:old").created_at == T0


def test_a_failed_postgresql_migration_leaves_nothing_behind(pg_target, monkeypatch):
    broken = Migration(6, "broken", sqlite=(), postgresql=("CREATE TABLE half (x TEXT)", "THIS IS NOT SQL"))
    monkeypatch.setattr(schema_mod, "MIGRATIONS", {**schema_mod.MIGRATIONS, 6: broken})
    monkeypatch.setattr(schema_mod, "SCHEMA_VERSION", 6)
    with pytest.raises(LedgerError, match="syntax error"):
        migrate_ledger(postgres=pg_target)  # steps 1-5 and the broken 6 in one transaction
    monkeypatch.undo()
    store = PostgresStore(pg_target, check=False)
    try:
        assert current_version(store) == 0
        with store.read() as conn:
            assert not store.table_exists(conn, "half") and not store.table_exists(conn, "bindings")
    finally:
        store.close()


# ---- two processes migrating at once --------------------------------------------------------------

MIGRATE_CHILD = r"""
import json, sys
from providers.ledger import migrate_ledger
from providers.ledger_store import PostgresTarget
spec = json.loads(sys.argv[1])
sys.stdin.readline()  # both start together
if "url" in spec:
    report = migrate_ledger(postgres=PostgresTarget(spec["url"], spec["password"]))
else:
    report = migrate_ledger(__import__("pathlib").Path(spec["path"]))
print(json.dumps([m.version for m in report.applied]))
"""


def _two_migrating(spec: dict[str, str]) -> list[list[int]]:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_CHILD, json.dumps(spec)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_two_processes_migrating_one_postgresql_ledger_apply_each_step_once(pg_target):
    results = _two_migrating({"url": pg_target.url, "password": pg_target.password})
    assert sorted(results) == [[], [1, 2, 3, 4, 5]]
    store = PostgresStore(pg_target)
    try:
        with store.read() as conn:
            rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    finally:
        store.close()


def test_two_processes_migrating_one_file_apply_each_step_once(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    shutil.copy(DATA / "ledger-schema3.sqlite3", path)
    assert sorted(_two_migrating({"path": str(path)})) == [[], [4, 5]]
    store = SqliteStore(path)
    try:
        assert current_version(store) == 5
    finally:
        store.close()
