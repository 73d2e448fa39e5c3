"""The local bindings ledger: storage, statuses, history, refresh_all, corruption and crash safety."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import providers.ledger_schema as schema_mod
import providers.paths as paths_mod
from providers.bindings import ACTIVE, EXPIRED, REMOVED, UNKNOWN, Binding
from providers.errors import NotFound, Timeout, Unavailable
from providers.ledger import (
    SCHEMA_VERSION,
    BindingLedger,
    LedgerError,
    RefreshReport,
    default_ledger_path,
    refresh_all,
)
from providers.ledger_schema import Migration
from tests.providers.conftest import in_transaction, scalar

ROOT = Path(__file__).resolve().parents[2]
UTC = UTC
CHINA = timezone(timedelta(hours=8))
T0 = datetime(2031, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def bnd(sub: str, provider: str = "aliyun", **kw) -> Binding:
    kw.setdefault("status", ACTIVE)
    kw.setdefault("expires_at", T0 + timedelta(days=1))
    return Binding(
        provider=provider, mode=kw.pop("mode", "AXB"), subscription_id=sub, x=kw.pop("x", "+8617000000001"), **kw
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(backend, clock: Clock):
    """A ledger on each backend: a SQLite file, then a PostgreSQL schema."""
    with backend.open(clock=clock) as led:
        yield led


def kinds(led: BindingLedger, key: str) -> list[str]:
    return [e.kind for e in led.events(key)]


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


# -- opening, schema, paths ------------------------------------------------------------------------


def test_default_path_follows_the_data_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TELEDECK_DATA_DIR", str(tmp_path / "d"))
    assert default_ledger_path() == tmp_path / "d" / "bindings.sqlite3"


def test_default_path_falls_back_to_platformdirs(tmp_path, monkeypatch):
    monkeypatch.delenv("TELEDECK_DATA_DIR", raising=False)
    seen = []
    monkeypatch.setattr(
        paths_mod.platformdirs, "user_data_dir", lambda app, **kw: seen.append(app) or str(tmp_path / "pd")
    )
    assert default_ledger_path() == tmp_path / "pd" / "bindings.sqlite3"
    assert seen == ["teledeck"]


def test_schema_pragmas_and_columns(tmp_path):
    path = tmp_path / "sub" / "bindings.sqlite3"
    with BindingLedger(path) as led:
        conn = led._conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        cols = {r["name"] for r in conn.execute("PRAGMA table_info(bindings)")}
        assert {
            "key", "provider", "mode", "subscription_id", "x", "a", "b", "extension", "expires_at", "recording",
            "status", "pool", "user_data", "account", "y", "raw", "origin", "created_at", "updated_at",
            "last_refreshed_at", "last_error_code", "last_error_message", "last_error_at",
        } <= cols  # fmt: skip
        assert {r["name"] for r in conn.execute("PRAGMA table_info(events)")} == {
            "id",
            "binding_key",
            "at",
            "kind",
            "detail",
        }
    assert led.recovered_from is None
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0  # phone numbers: owner only


def with_step(monkeypatch, *statements: str) -> None:
    """This teledeck gains a migration 6 (on both engines)."""
    step = Migration(6, "a test step", sqlite=statements, postgresql=statements)
    monkeypatch.setattr(schema_mod, "MIGRATIONS", {**schema_mod.MIGRATIONS, 6: step})
    monkeypatch.setattr(schema_mod, "SCHEMA_VERSION", 6)


def test_forward_migration_upgrades_and_keeps_data(tmp_path, monkeypatch):
    path = tmp_path / "l.sqlite3"
    with BindingLedger(path) as led:
        led.record_created(bnd("s1"))
    with_step(monkeypatch, "ALTER TABLE bindings ADD COLUMN note TEXT NOT NULL DEFAULT 'n'")
    with BindingLedger(path) as led:
        assert led._conn.execute("PRAGMA user_version").fetchone()[0] == 6
        assert led._conn.execute("SELECT note FROM bindings").fetchall()[0][0] == "n"
        assert led.get("aliyun:s1") == bnd("s1")
        assert [m.version for m in led.migrated.applied] == [6]
        versions = [r[0] for r in led._conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [1, 2, 3, 4, 5, 6]


def test_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "l.sqlite3"
    with BindingLedger(path) as led:
        led.record_created(bnd("s1"))
    with_step(monkeypatch, "ALTER TABLE bindings ADD COLUMN note TEXT", "THIS IS NOT SQL")
    with pytest.raises(LedgerError):
        BindingLedger(path)
    monkeypatch.undo()
    with BindingLedger(path) as led:
        assert led._conn.execute("PRAGMA user_version").fetchone()[0] == 5
        assert "note" not in {r["name"] for r in led._conn.execute("PRAGMA table_info(bindings)")}
        assert led._conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == 5
        assert led.get("aliyun:s1") == bnd("s1")
        assert led.recovered_from is None


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "l.sqlite3"
    with BindingLedger(path) as led:
        led.record_created(bnd("s1"))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LedgerError, match="newer"):
        BindingLedger(path)
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT key FROM bindings").fetchall() == [("aliyun:s1",)]
    conn.close()


def test_an_unopenable_path_is_an_error_not_a_recovery(tmp_path):
    target = tmp_path / "is-a-dir"
    target.mkdir()
    with pytest.raises(LedgerError):
        BindingLedger(target)
    assert target.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["is-a-dir"]


# -- corruption ----------------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    garbage = b"this is not sqlite at all\n" * 200
    path.write_bytes(garbage)
    (tmp_path / "bindings.sqlite3-wal").write_bytes(b"stale wal")
    with BindingLedger(path) as led:
        assert led.recovered_from is not None
        assert led.recovered_from.name.startswith("bindings.sqlite3.corrupt-")
        assert led.recovered_from.read_bytes() == garbage
        wal = tmp_path / "bindings.sqlite3-wal"
        assert not wal.exists() or wal.read_bytes() != b"stale wal"  # never attached to the new file
        led.record_created(bnd("s1"))
        assert [b.key for b in led.all()] == ["aliyun:s1"]
    assert integrity(path) == ["ok"]
    with BindingLedger(path) as again:
        assert again.recovered_from is None
        assert again.get("aliyun:s1") == bnd("s1")


def test_a_damaged_database_is_moved_aside(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    with BindingLedger(path) as led:
        led.record_imported([bnd(f"s{i}", x="9" * 60) for i in range(300)])
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : 3 * page] = b"\xa5" * page  # a b-tree page, header intact
    path.write_bytes(bytes(data))
    with BindingLedger(path) as led:
        assert led.recovered_from is not None and led.recovered_from.read_bytes() == bytes(data)
        assert led.all() == []


def test_a_second_recovery_in_the_same_second_does_not_overwrite_the_first(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    moved = []
    for text in (b"first garbage" * 100, b"second garbage" * 100):
        path.write_bytes(text)
        with BindingLedger(path) as led:
            moved.append(led.recovered_from)
        path.unlink()
    assert moved[0] != moved[1]
    assert moved[0].read_bytes().startswith(b"first") and moved[1].read_bytes().startswith(b"second")


# -- storing bindings ------------------------------------------------------------------------------


def full_binding() -> Binding:
    return Binding(
        provider="volcengine",
        mode="AXN_EXT",
        subscription_id="S-1 ünï",
        x="+8617011112222",
        a="+8613800000001",
        b="+8613900000002",
        extension="0427",
        expires_at=datetime(2031, 12, 31, 23, 59, 58, 654321, tzinfo=CHINA),
        recording=True,
        status=ACTIVE,
        pool="NP-01",
        user_data='order-42 "quoted"',
        account="prod",
        raw={"SubId": "S-1", "nested": {"list": [1, 2.5, None, True, "字"]}, "n": 0},
    )


def test_every_field_round_trips_through_the_file(tmp_path, clock):
    path = tmp_path / "l.sqlite3"
    full = full_binding()
    sparse = Binding(provider="huawei", mode="AX", subscription_id="h-1", x="+8617000000009")
    falsy = replace(sparse, subscription_id="h-2", recording=False, status=EXPIRED)
    with BindingLedger(path, clock=clock) as led:
        led.record_created(full)
        led.record_imported([sparse, falsy])
    with BindingLedger(path, clock=clock) as led:
        got = led.get(full.key)
        assert got == full
        assert got.raw == full.raw
        assert got.expires_at.tzinfo == UTC and got.expires_at == full.expires_at
        assert got.expires_at.hour == 15  # 23:59 in UTC+8, stored and returned as UTC
        assert led.get("huawei:h-1") == sparse
        assert led.get("huawei:h-1").recording is None and led.get("huawei:h-1").expires_at is None
        assert led.get("huawei:h-1").raw == {}
        assert led.get("huawei:h-2").recording is False
        entry = led.entry(full.key)
        assert (entry.origin, entry.created_at, entry.updated_at) == ("created", T0, T0)
        assert entry.last_refreshed_at is None and entry.last_error is None
        assert led.entry("huawei:h-1").origin == "imported"
        assert led.get("nope:1") is None and led.entry("nope:1") is None


def test_naive_times_and_unknown_statuses_are_refused(ledger):
    with pytest.raises(ValueError, match="naive"):
        ledger.record_created(bnd("n1", expires_at=datetime(2031, 1, 1)))
    with pytest.raises(ValueError, match="status"):
        ledger.record_created(bnd("n2", status="deleted"))
    with pytest.raises(ValueError, match="naive"):
        ledger.mark_expired(datetime(2031, 1, 1))
    assert ledger.all() == []


def test_all_orders_by_expiry_and_filters_inactive(ledger):
    ledger.record_imported([
        bnd("late", expires_at=T0 + timedelta(days=9)),
        bnd("never", expires_at=None),
        bnd("soon", expires_at=(T0 + timedelta(hours=1)).astimezone(CHINA)),
        bnd("gone", expires_at=T0 + timedelta(minutes=1), status=REMOVED),
        bnd("old", expires_at=T0 - timedelta(days=1), status=EXPIRED),
        bnd("unk", expires_at=T0 + timedelta(days=2), status=UNKNOWN),
    ])  # fmt: skip
    assert [b.subscription_id for b in ledger.all()] == ["old", "gone", "soon", "unk", "late", "never"]
    assert [b.subscription_id for b in ledger.all(include_inactive=False)] == ["soon", "unk", "late", "never"]
    assert [e.key for e in ledger.entries(include_inactive=False)] == [
        b.key for b in ledger.all(include_inactive=False)
    ]


def test_import_dedups_against_the_ledger_and_within_the_batch(ledger, clock):
    created = ledger.record_created(bnd("a", a="+861"))
    clock.advance(minutes=1)
    again = bnd("a", a="+862")  # already known: left as it is
    new = [bnd("b"), bnd("c", provider="huawei"), bnd("b", a="dup")]
    assert ledger.record_imported([again, *new]) == 2
    assert ledger.record_imported([bnd("b"), bnd("c", provider="huawei")]) == 0
    assert ledger.record_imported([]) == 0
    assert ledger.get("aliyun:a") == created
    assert ledger.entry("aliyun:a").origin == "created"
    assert ledger.get("aliyun:b").a == ""  # the first of the batch won
    assert kinds(ledger, "aliyun:a") == ["bound"]
    assert kinds(ledger, "aliyun:b") == ["imported"]
    assert kinds(ledger, "huawei:c") == ["imported"]
    assert ledger.entry("huawei:c").created_at == T0 + timedelta(minutes=1)


def test_recording_a_created_binding_twice_updates_it(ledger):
    ledger.record_created(bnd("a", a="+861"))
    ledger.record_created(bnd("a", a="+862"))
    assert ledger.get("aliyun:a").a == "+862"
    assert len(ledger.all()) == 1
    assert kinds(ledger, "aliyun:a") == ["bound", "bound"]


# -- statuses --------------------------------------------------------------------------------------


def test_mark_expired_by_the_clock(ledger, clock):
    ledger.record_imported([
        bnd("past", expires_at=T0 - timedelta(seconds=1)),
        bnd("now", expires_at=T0),
        bnd("unk", expires_at=T0 - timedelta(days=1), status=UNKNOWN),
        bnd("future", expires_at=T0 + timedelta(seconds=1)),
        bnd("never", expires_at=None),
        bnd("removed", expires_at=T0 - timedelta(days=1), status=REMOVED),
    ])  # fmt: skip
    assert ledger.mark_expired() == 3
    status = {b.subscription_id: b.status for b in ledger.all()}
    assert status == {
        "past": EXPIRED,
        "now": EXPIRED,
        "unk": EXPIRED,
        "future": ACTIVE,
        "never": ACTIVE,
        "removed": REMOVED,
    }
    assert kinds(ledger, "aliyun:past") == ["imported", "expired"]
    assert kinds(ledger, "aliyun:removed") == ["imported"]
    assert ledger.mark_expired() == 0
    assert ledger.mark_expired(T0 + timedelta(hours=1)) == 1  # explicit now: "future" is past it
    assert ledger.get("aliyun:future").status == EXPIRED
    assert ledger.get("aliyun:never").status == ACTIVE


def test_removed_remotely_is_marked_not_dropped(ledger, clock):
    original = ledger.record_created(bnd("r", a="+861", b="+862", raw={"v": 1}))
    clock.advance(minutes=5)
    # what an adapter returns for a binding the vendor no longer has: status REMOVED, details gone
    stored = ledger.apply_refresh(replace(original, status=REMOVED, a="", b="", raw={}))
    assert stored == replace(original, status=REMOVED)
    assert stored.raw == {"v": 1}
    assert ledger.get("aliyun:r") == stored
    assert [b.key for b in ledger.all()] == ["aliyun:r"]
    assert ledger.all(include_inactive=False) == []
    assert kinds(ledger, "aliyun:r") == ["bound", "removed_remotely"]
    assert ledger.entry("aliyun:r").last_refreshed_at == T0 + timedelta(minutes=5)


def test_mark_unbound_keeps_the_row(ledger):
    ledger.record_created(bnd("u"))
    assert ledger.mark_unbound("aliyun:u").status == REMOVED
    assert ledger.get("aliyun:u").status == REMOVED
    assert kinds(ledger, "aliyun:u") == ["bound", "unbound"]
    with pytest.raises(KeyError):
        ledger.mark_unbound("aliyun:missing")


def test_apply_refresh_records_modifications_and_clears_errors(ledger, clock):
    b = ledger.record_created(bnd("m", a="+861"))
    ledger.record_refresh_error(b.key, "isv.OUT_OF_SERVICE", "业务停机")
    assert ledger.get(b.key).status == UNKNOWN
    clock.advance(hours=1)
    fresh = replace(b, expires_at=b.expires_at + timedelta(days=3), a="+869", recording=True, raw={"new": True})
    assert ledger.apply_refresh(fresh) == fresh
    entry = ledger.entry(b.key)
    assert entry.last_error is None and entry.last_refreshed_at == clock.now and entry.updated_at == clock.now
    assert entry.binding.status == ACTIVE and entry.binding.raw == {"new": True}
    events = ledger.events(b.key)
    assert [e.kind for e in events] == ["bound", "refresh_failed", "modified"]
    assert set(events[-1].detail.split(", ")) == {"expires_at", "a", "recording"}
    ledger.apply_refresh(fresh)  # nothing changed: no new event
    assert kinds(ledger, b.key)[-1] == "modified" and len(ledger.events(b.key)) == 3
    ledger.apply_refresh(replace(fresh, status=EXPIRED))
    assert kinds(ledger, b.key)[-1] == "expired"
    with pytest.raises(KeyError):
        ledger.apply_refresh(bnd("never-recorded"))


def test_refresh_errors_are_recorded_without_reviving_dead_bindings(ledger, clock):
    ledger.record_imported([bnd("live"), bnd("dead", status=REMOVED)])
    clock.advance(seconds=30)
    ledger.record_refresh_error("aliyun:live", "ServiceUnavailable", "x" * 2000)
    ledger.record_refresh_error("aliyun:dead", "", "no answer")
    live = ledger.entry("aliyun:live")
    assert live.binding.status == UNKNOWN
    assert live.last_error.code == "ServiceUnavailable" and live.last_error.at == clock.now
    assert len(live.last_error.message) == 500
    assert live.last_error.summary().startswith("[ServiceUnavailable] xxx")
    assert ledger.get("aliyun:dead").status == REMOVED
    assert ledger.events("aliyun:dead")[-1].detail == "no answer"
    with pytest.raises(KeyError):
        ledger.record_refresh_error("aliyun:missing", "c", "m")


def test_history_events_carry_timestamps(ledger, clock):
    key = ledger.record_created(bnd("h")).key
    t1 = clock.advance(minutes=1)
    ledger.apply_refresh(bnd("h", b="+8613"))
    t2 = clock.advance(minutes=1)
    ledger.record_refresh_error(key, "Timeout", "slow")
    t3 = clock.advance(minutes=1)
    ledger.mark_unbound(key)
    events = ledger.events(key)
    assert [(e.kind, e.at) for e in events] == [
        ("bound", T0),
        ("modified", t1),
        ("refresh_failed", t2),
        ("unbound", t3),
    ]
    assert all(e.key == key and e.at.tzinfo == UTC for e in events)
    assert events[2].detail == "[Timeout] slow"
    assert ledger.events("aliyun:other") == []


def test_forget_deletes_the_row_and_its_history(ledger):
    ledger.record_imported([bnd("f"), bnd("keep")])
    assert ledger.forget("aliyun:f") is True
    assert ledger.get("aliyun:f") is None and ledger.events("aliyun:f") == []
    assert scalar(ledger, "SELECT count(*) FROM events WHERE binding_key = 'aliyun:f'") == 0
    assert ledger.forget("aliyun:f") is False
    assert [b.key for b in ledger.all()] == ["aliyun:keep"]


# -- atomicity -------------------------------------------------------------------------------------


def failing_on_event(monkeypatch, nth: int) -> None:
    """Make the nth history insert of the next write raise, after the binding rows are written."""
    real = BindingLedger._add_event
    calls = {"n": 0}

    def add_event(conn, *args, **kw):
        calls["n"] += 1
        if calls["n"] == nth:
            raise RuntimeError("power cut in the middle of a write")
        return real(conn, *args, **kw)

    monkeypatch.setattr(BindingLedger, "_add_event", staticmethod(add_event))


def test_an_exception_inside_a_write_leaves_no_partial_change(ledger, monkeypatch):
    ledger.record_imported(
        [bnd("old", expires_at=T0 - timedelta(days=1)), bnd("old2", expires_at=T0 - timedelta(days=1))]
    )
    before = [(b, b.raw) for b in ledger.all()]

    failing_on_event(monkeypatch, 2)  # bindings "n1" and "n2" are inserted, n1's event too, then it fails
    with pytest.raises(RuntimeError):
        ledger.record_imported([bnd("n1"), bnd("n2"), bnd("n3")])
    monkeypatch.undo()
    assert [b.key for b in ledger.all()] == ["aliyun:old", "aliyun:old2"]
    assert ledger.events("aliyun:n1") == []

    failing_on_event(monkeypatch, 2)  # the first expired row is updated and its event written
    with pytest.raises(RuntimeError):
        ledger.mark_expired()
    monkeypatch.undo()

    failing_on_event(monkeypatch, 1)  # the row is updated, then its "modified" event fails
    with pytest.raises(RuntimeError):
        ledger.apply_refresh(bnd("old", a="changed", expires_at=T0))
    monkeypatch.undo()

    assert [(b, b.raw) for b in ledger.all()] == before
    assert all(kinds(ledger, b.key) == ["imported"] for b, _ in before)
    assert ledger.entry("aliyun:old").last_refreshed_at is None
    assert not in_transaction(ledger)
    # and the ledger still works
    assert ledger.mark_expired() == 2
    assert ledger.record_imported([bnd("n1")]) == 1


def test_one_ledger_shared_by_many_threads(backend):
    errors = []
    with backend.open() as led:

        def work(t: int) -> None:
            try:
                for i in range(15):
                    led.record_created(bnd(f"t{t}-{i}"))
                    led.record_refresh_error(f"aliyun:t{t}-{i}", "c", "m")
                    led.all()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert len(led.all()) == 90
        assert all(kinds(led, b.key) == ["bound", "refresh_failed"] for b in led.all())


def test_two_ledgers_on_one_file_see_each_other(backend):
    with backend.open() as one, backend.open() as two:
        one.record_created(bnd("x"))
        assert two.get("aliyun:x") == bnd("x")
        two.mark_unbound("aliyun:x")
        assert one.get("aliyun:x").status == REMOVED


# -- refresh_all -----------------------------------------------------------------------------------


class Gauge:
    def __init__(self) -> None:
        self.now = 0
        self.max = 0


class FakeProvider:
    """`outcomes[key]`: an exception to raise, "removed", a Binding to return, or a callable."""

    def __init__(
        self, provider: str, outcomes: dict | None = None, gauge: Gauge | None = None, account: str = ""
    ) -> None:
        self.provider = provider
        self.account = account
        self.modes = ("AXB", "AXN")
        self.outcomes = outcomes or {}
        self.gauge = gauge or Gauge()
        self.calls: list[str] = []

    async def refresh(self, binding: Binding) -> Binding:
        self.calls.append(binding.key)
        self.gauge.now += 1
        self.gauge.max = max(self.gauge.max, self.gauge.now)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            outcome = self.outcomes.get(binding.key)
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome == "removed":
                return replace(binding, status=REMOVED, a="", raw={})
            if isinstance(outcome, Binding):
                return outcome
            if callable(outcome):
                return outcome(binding)
            return replace(binding, status=ACTIVE, raw={"refreshed": True})
        finally:
            self.gauge.now -= 1


def invariant(report: RefreshReport) -> None:
    assert report.refreshed + report.removed + report.failed + report.skipped == report.total
    assert len(report.errors) == report.failed


async def test_refresh_all_success(ledger, clock):
    ledger.record_imported([bnd("a1", status=UNKNOWN), bnd("a2"), bnd("h1", provider="huawei")])
    later = T0 + timedelta(days=30)
    aliyun = FakeProvider("aliyun", {"aliyun:a2": lambda b: replace(b, expires_at=later, raw={"n": 2})})
    huawei = FakeProvider("huawei")
    clock.advance(minutes=1)
    report = await refresh_all(ledger, {"aliyun": aliyun, "huawei": huawei})
    assert (report.total, report.refreshed, report.removed, report.expired, report.failed, report.skipped) == (
        3,
        3,
        0,
        0,
        0,
        0,
    )
    invariant(report)
    assert sorted(aliyun.calls) == ["aliyun:a1", "aliyun:a2"] and huawei.calls == ["huawei:h1"]
    assert all(b.status == ACTIVE for b in ledger.all())
    assert ledger.get("aliyun:a2").expires_at == later and ledger.get("aliyun:a2").raw == {"n": 2}
    assert all(e.last_refreshed_at == clock.now for e in ledger.entries())
    assert kinds(ledger, "aliyun:a2") == ["imported", "modified"]


async def test_refresh_all_removed(ledger):
    ledger.record_imported([bnd("gone", a="+861"), bnd("here")])
    report = await refresh_all(ledger, {"aliyun": FakeProvider("aliyun", {"aliyun:gone": "removed"})})
    assert (report.refreshed, report.removed, report.failed) == (1, 1, 0)
    invariant(report)
    gone = ledger.get("aliyun:gone")
    assert gone is not None and gone.status == REMOVED and gone.a == "+861"
    assert kinds(ledger, "aliyun:gone") == ["imported", "removed_remotely"]
    # a removed binding is not asked about again
    again = FakeProvider("aliyun")
    await refresh_all(ledger, {"aliyun": again})
    assert again.calls == ["aliyun:here"]


async def test_refresh_all_records_provider_errors_and_keeps_going(ledger):
    ledger.record_imported([bnd(f"s{i}") for i in range(5)])
    error = Unavailable("service unavailable", code="ServiceUnavailable", status=503, provider="aliyun")
    fake = FakeProvider("aliyun", {"aliyun:s1": error})
    report = await refresh_all(ledger, {"aliyun": fake})
    assert len(fake.calls) == 5
    assert (report.refreshed, report.failed) == (4, 1)
    invariant(report)
    assert report.errors == {"aliyun:s1": "[ServiceUnavailable] service unavailable (HTTP 503)"}
    entry = ledger.entry("aliyun:s1")
    assert entry.binding.status == UNKNOWN
    assert (entry.last_error.code, entry.last_error.message) == ("ServiceUnavailable", "service unavailable")
    assert kinds(ledger, "aliyun:s1") == ["imported", "refresh_failed"]
    assert all(ledger.get(f"aliyun:s{i}").status == ACTIVE for i in (0, 2, 3, 4))


async def test_refresh_all_mixed(ledger, clock):
    ledger.record_imported([
        bnd("ok"),
        bnd("gone"),
        bnd("down"),
        bnd("bug"),
        bnd("liar"),
        bnd("late", expires_at=T0 - timedelta(minutes=1)),  # the vendor still says active
        bnd("vendor-expired"),
        bnd("dead", status=REMOVED),
        bnd("over", status=EXPIRED, expires_at=T0 - timedelta(days=1)),
        bnd("v1", provider="volcengine"),  # no volcengine account configured
        bnd("acct", provider="huawei", account="prod"),
    ])  # fmt: skip
    outcomes = {
        "aliyun:gone": "removed",
        "aliyun:down": Timeout("no answer in 10 s", provider="aliyun"),  # no vendor code: the kind is kept
        "aliyun:bug": RuntimeError("https://dypls.aliyuncs.com/?Signature=SECRET"),
        "aliyun:liar": bnd("someone-else"),
        "aliyun:vendor-expired": lambda b: replace(b, status=EXPIRED),
    }
    aliyun = FakeProvider("aliyun", outcomes)
    huawei_default, huawei_prod = FakeProvider("huawei"), FakeProvider("huawei", account="prod")
    progress: list[tuple[int, int]] = []
    report = await refresh_all(
        ledger,
        {"aliyun": aliyun, "huawei": huawei_default, "huawei:prod": huawei_prod},
        on_progress=lambda done, total: progress.append((done, total)),
    )
    invariant(report)
    assert report.total == 9  # "dead" and "over" are not live
    assert (report.refreshed, report.removed, report.failed, report.skipped, report.expired) == (4, 1, 3, 1, 2)
    assert "aliyun:dead" not in aliyun.calls and "aliyun:over" not in aliyun.calls
    assert huawei_prod.calls == ["huawei:acct"] and huawei_default.calls == []
    assert set(report.errors) == {"aliyun:down", "aliyun:bug", "aliyun:liar"}
    assert ledger.entry("aliyun:down").last_error.code == "timeout"
    bug = ledger.entry("aliyun:bug").last_error
    assert bug.code == "internal" and "SECRET" not in bug.message and "SECRET" not in report.errors["aliyun:bug"]
    assert ledger.get("aliyun:someone-else") is None and ledger.get("aliyun:liar").status == UNKNOWN
    status = {b.subscription_id: b.status for b in ledger.all()}
    assert status == {
        "ok": ACTIVE, "gone": REMOVED, "down": UNKNOWN, "bug": UNKNOWN, "liar": UNKNOWN, "late": EXPIRED,
        "vendor-expired": EXPIRED, "dead": REMOVED, "over": EXPIRED, "v1": ACTIVE, "acct": ACTIVE,
    }  # fmt: skip
    assert ledger.entry("volcengine:v1").last_refreshed_at is None
    assert [d for d, _ in progress] == list(range(1, 10)) and {t for _, t in progress} == {9}


@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_refresh_all_bounds_concurrency(ledger, concurrency):
    ledger.record_imported([bnd(f"c{i}", provider=("aliyun", "huawei")[i % 2]) for i in range(24)])
    gauge = Gauge()
    fakes = {"aliyun": FakeProvider("aliyun", gauge=gauge), "huawei": FakeProvider("huawei", gauge=gauge)}
    report = await refresh_all(ledger, fakes, concurrency=concurrency)
    assert report.refreshed == 24
    assert gauge.max <= concurrency
    assert gauge.max == concurrency  # and the bound is actually used
    assert gauge.now == 0


async def test_refresh_all_survives_a_broken_progress_callback(ledger):
    ledger.record_imported([bnd("p1"), bnd("p2")])

    def boom(done: int, total: int) -> None:
        raise RuntimeError("widget gone")

    report = await refresh_all(ledger, {"aliyun": FakeProvider("aliyun")}, on_progress=boom)
    assert report.refreshed == 2


async def test_refresh_all_of_an_empty_ledger_and_bad_concurrency(ledger):
    assert await refresh_all(ledger, {}) == RefreshReport()
    with pytest.raises(ValueError):
        await refresh_all(ledger, {}, concurrency=0)


async def test_refresh_all_skips_a_binding_forgotten_meanwhile(ledger):
    ledger.record_imported([bnd("f1"), bnd("f2")])

    def forget_then_answer(b: Binding) -> Binding:
        ledger.forget(b.key)
        return b

    def forget_then_fail(b: Binding) -> Binding:
        ledger.forget(b.key)
        raise NotFound("no such subscription", code="NF")

    fake = FakeProvider("aliyun", {"aliyun:f1": forget_then_answer, "aliyun:f2": forget_then_fail})
    report = await refresh_all(ledger, {"aliyun": fake})
    assert (report.skipped, report.failed, report.refreshed) == (2, 0, 0)
    assert ledger.all() == []


# -- crash safety ----------------------------------------------------------------------------------

# Shared by the parent and the children: one deterministic binding per (index, generation), whose
# fields all depend on the generation, so a row mixing two writes is detectable.
HELPERS = r"""
import json, os, signal, sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from providers.bindings import ACTIVE, Binding
from providers.ledger import BindingLedger

BASE = datetime(2032, 1, 1, tzinfo=timezone.utc)

def make(i, gen):
    return Binding(
        provider="huawei", mode="AXB", subscription_id=f"sub-{i:05d}", x=f"+8617{i:09d}",
        a=f"+86130{gen:08d}", b=f"+86150{gen:08d}", expires_at=BASE + timedelta(minutes=gen, microseconds=i),
        recording=bool(gen % 2), status=ACTIVE, pool=f"pool-{gen}", user_data=f"gen-{gen}",
        raw={"i": i, "gen": gen, "pad": "p" * (100 + gen % 50)},
    )

def say(**kw):
    print(json.dumps(kw), flush=True)
"""

CHILD_LONG_WRITES = r"""
ledger = BindingLedger(sys.argv[1])
gens = {}
n = 0
for rnd in range(1_000_000):
    batch = [make(n + k, 0) for k in range(4)]
    ledger.record_imported(batch)
    gens.update({n + k: 0 for k in range(4)})
    n += 4
    say(op="import", idx=list(range(n - 4, n)))
    ledger.record_created(make(n, 0))
    gens[n] = 0
    say(op="create", idx=[n])
    n += 1
    for target in (rnd % n, (rnd * 7) % n):
        gens[target] += 1
        ledger.apply_refresh(make(target, gens[target]))
        say(op="refresh", idx=[target], gen=gens[target])
"""

CHILD_KILLED_INSIDE_A_WRITE = r"""
ledger = BindingLedger(sys.argv[1])
ledger.record_imported([make(i, 0) for i in range(3)])
say(op="setup")
op = sys.argv[2]
seen = []
def trace(sql):
    head = sql.lstrip()[:20].upper()
    if head.startswith(("INSERT INTO BINDINGS", "UPDATE BINDINGS")):
        seen.append(head)
    elif head.startswith("INSERT INTO EVENTS") and seen:
        say(op="dying", after=seen)
        os.kill(os.getpid(), signal.SIGKILL)
ledger._conn.set_trace_callback(trace)
if op == "import":
    ledger.record_imported([make(10, 0), make(11, 0)])
else:
    ledger.apply_refresh(make(1, 1))
say(op="survived")
"""

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def spawn(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-c", HELPERS + script, *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def check_consistent(path: Path) -> dict[int, int]:
    """Every row present is one complete write: fields, raw and history all of one generation."""
    assert integrity(path) == ["ok"]
    helpers: dict = {}
    exec(HELPERS, helpers)
    gens = {}
    with BindingLedger(path) as led:
        assert led.recovered_from is None
        for entry in led.entries():
            b = entry.binding
            i, gen = b.raw["i"], b.raw["gen"]
            expected = helpers["make"](i, gen)
            assert b == expected and b.raw == expected.raw, b.key
            history = [e.kind for e in led.events(b.key)]
            first = "imported" if entry.origin == "imported" else "bound"
            assert history == [first] + ["modified"] * gen, b.key
            gens[i] = gen
        orphans = led._conn.execute("SELECT count(*) FROM events WHERE binding_key NOT IN (SELECT key FROM bindings)")
        assert orphans.fetchone()[0] == 0
    return gens


@needs_sigkill
def test_sigkill_during_a_long_series_of_writes_loses_nothing_committed(tmp_path):
    path = tmp_path / "bindings.sqlite3"
    reported = []
    with spawn(CHILD_LONG_WRITES, str(path)) as child:
        watchdog = threading.Timer(60, child.kill)  # a safety net against a hung child, not a timing check
        watchdog.start()
        try:
            for line in child.stdout:
                reported.append(json.loads(line))
                if len(reported) >= 150:
                    os.kill(child.pid, signal.SIGKILL)
                    break
            child.wait()
            tail = child.stdout.read()
            stderr = child.stderr.read()
        finally:
            watchdog.cancel()
            if child.poll() is None:
                child.kill()
    assert child.returncode == -signal.SIGKILL, stderr
    assert len(reported) >= 150, stderr
    # lines the child printed between our kill decision and its death are committed writes too
    reported += [json.loads(line) for line in tail.splitlines(keepends=True) if line.endswith("\n")]

    gens = check_consistent(path)
    for op in reported:
        for i in op["idx"]:
            assert i in gens, op
        if op["op"] == "refresh":
            (i,) = op["idx"]
            assert gens[i] >= op["gen"], op  # a later write may have committed before its report


@needs_sigkill
@pytest.mark.parametrize("op", ["import", "refresh"])
def test_sigkill_inside_a_transaction_leaves_no_trace_of_it(tmp_path, op):
    path = tmp_path / "bindings.sqlite3"
    child = spawn(CHILD_KILLED_INSIDE_A_WRITE, str(path), op)
    out, err = child.communicate(timeout=60)
    lines = [json.loads(line) for line in out.splitlines()]
    assert child.returncode == -signal.SIGKILL, err
    assert [line["op"] for line in lines] == ["setup", "dying"]
    assert lines[1]["after"]  # the binding row had been written inside the transaction

    gens = check_consistent(path)
    assert gens == {0: 0, 1: 0, 2: 0}
