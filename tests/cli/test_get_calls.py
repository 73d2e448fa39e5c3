"""`teledeck get calls`: the ledger's calls, newest first, with exactly the CallRecord's field
names (plus binding) in JSON and CSV, filtered by binding (id or ledger key), provider, time and
the console's filter; nothing asked of a vendor, so offline works the same."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from providers.bindings import ACTIVE, Binding
from providers.ledger import open_ledger
from providers.session import sandbox_session
from tests.cli.test_headless_inprocess import run
from tests.tui.calls_data import T0, seed_calls
from tui.headless.reading import parse_since

FIELDS = [
    "provider", "call_id", "subscription_id", "x", "caller", "callee", "started_at", "answered_at",
    "ended_at", "duration_s", "outcome", "cause_code", "cause", "binding",
]  # fmt: skip
BOUND = Binding(
    provider="huawei", mode="AXB", subscription_id="sub-hw-1", x="+8617000000101", a="+8613800000101",
    b="+8613900000101", status=ACTIVE, expires_at=T0 + timedelta(days=1),
)  # fmt: skip


@pytest.fixture
def session(tmp_path):
    """A session on a ledger with the six calls, the Huawei ones on BOUND (no vendor in it:
    get calls must not need one)."""
    ledger_path = tmp_path / "ledger.sqlite3"
    with open_ledger(ledger_path) as ledger:
        ledger.record_imported([BOUND])
        seed_calls(ledger, huawei_binding=BOUND)
    return lambda **kw: sandbox_session(kinds=("telnyx",), ledger_path=ledger_path, **kw)


def test_json_has_exactly_the_call_fields_newest_first(session):
    done = run("get", "calls", "-o", "json", session=session())
    assert done.code == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [list(row) for row in rows] == [FIELDS] * 6
    assert [r["call_id"] for r in rows] == ["al-55e1", "vc-7f3a", "hw-0004", "hw-0003", "hw-0002", "hw-0001"]
    busy = rows[4]
    assert busy == {
        "provider": "huawei",
        "call_id": "hw-0002",
        "subscription_id": "sub-hw-1",
        "x": "+8617000000101",
        "caller": "+8613800000101",
        "callee": "+8613900000101",
        "started_at": "2026-09-21T08:37:00+00:00",
        "answered_at": None,
        "ended_at": "2026-09-21T08:37:20+00:00",
        "duration_s": None,
        "outcome": "busy",
        "cause_code": "17",
        "cause": "user busy",
        "binding": "huawei:sub-hw-1",
    }
    assert rows[3]["duration_s"] == 12 and rows[3]["answered_at"] == "2026-09-21T08:45:06+00:00"
    assert rows[1]["binding"] == "" and rows[1]["outcome"] == "no binding"
    assert "recording" not in done.stdout and "record.example.com" not in done.stdout


def test_csv_header_is_the_field_names(session):
    done = run("get", "calls", "-o", "csv", session=session())
    assert done.code == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    assert table[0] == FIELDS
    assert len(table) == 7
    assert table[1][:2] == ["aliyun", "al-55e1"]
    assert table[5][FIELDS.index("duration_s")] == "" and table[4][FIELDS.index("duration_s")] == "12"


@pytest.mark.parametrize("wanted", ["sub-hw-1", "huawei:sub-hw-1"])
def test_binding_by_its_id_or_ledger_key(session, wanted):
    done = run("get", "calls", "--binding", wanted, "-o", "json", session=session())
    assert done.code == 0, done.stderr
    assert [r["call_id"] for r in json.loads(done.stdout)] == ["hw-0004", "hw-0003", "hw-0002", "hw-0001"]


def test_a_binding_not_in_the_ledger_fails_and_a_bad_flag_is_a_usage_error(session):
    missing = run("get", "calls", "--binding", "sub-none", session=session())
    assert missing.code == 1 and "no binding 'sub-none' in the ledger" in missing.stderr
    bad = run("get", "calls", "--provider", "acme", session=session())
    assert bad.code == 2 and "one of aliyun, huawei, volcengine" in bad.stderr
    since = run("get", "calls", "--since", "yesterday", session=session())
    assert since.code == 2 and "--since 'yesterday'" in since.stderr
    elsewhere = run("get", "allowlist", "--binding", "sub-hw-1", session=session())
    assert elsewhere.code == 2 and "--binding is for `get calls`" in elsewhere.stderr


def test_provider_since_filter_and_max_items(session):
    by_vendor = run("get", "calls", "--provider", "volcengine", "-o", "json", session=session())
    assert [r["call_id"] for r in json.loads(by_vendor.stdout)] == ["vc-7f3a"]
    later = run("get", "calls", "--since", "2026-09-21T09:00", "-o", "json", session=session())
    assert [r["call_id"] for r in json.loads(later.stdout)] == ["al-55e1", "vc-7f3a", "hw-0004"]
    filtered = run("get", "calls", "--filter", "!answered", "--max-items", "2", "-o", "json", session=session())
    assert [r["outcome"] for r in json.loads(filtered.stdout)] == ["no answer", "no binding"]
    by_cause = run("get", "calls", "--filter", "cause:user busy", "-o", "jsonl", session=session())
    assert [json.loads(line)["call_id"] for line in by_cause.stdout.splitlines()] == ["hw-0002"]


def test_the_table_has_the_screens_columns_and_offline_works(session):
    done = run("get", "calls", "-o", "table", "--offline", session=session(offline=True))
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["PROVIDER", "STARTED", "(UTC)"]
    assert "user busy (17)" in done.stdout and "1:02:05" in done.stdout


def test_since_reads_ago_and_times():
    now = T0
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-09-21T10:00", now).isoformat() == "2026-09-21T10:00:00+00:00"
    assert parse_since("2026-09-21T10:00+08:00", now).utcoffset() == timedelta(hours=8)


def test_get_calls_in_a_child_process_reads_the_sandbox_ledger(cli):
    """As a user's shell runs it: the sandbox's own ledger, written by its receiver."""
    with open_ledger(cli.folder("data") / "sandbox" / "bindings.sqlite3") as ledger:
        seed_calls(ledger)
    done = cli.run("get", "calls", "--sandbox", "-o", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == FIELDS and len(rows) == 6
    assert {r["outcome"] for r in rows} == {"answered", "busy", "no binding", "no answer"}
