"""tui/export.py: a record's fields (vendor names, no secret), and each format written and read back."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.bindings import Binding
from providers.ledger import LedgerEntry, RefreshFailure
from providers.telnyx.models import AccessIp
from tui.export import cell, default_path, format_of, path_problem, record_fields, render, save, write_rows

WHEN = datetime(2026, 1, 5, 12, 30, tzinfo=UTC)


def test_a_record_exports_its_vendor_fields_without_any_secret_at_any_depth() -> None:
    raw = {
        "id": "ip-1",
        "ip_address": "192.0.2.7",
        "description": "office",
        "api_key": "KEY123",
        "nested": {"password": "p", "kept": 1, "list": [{"token": "t", "name": "n"}]},
    }
    record = AccessIp.from_api(raw)
    fields = record_fields(record)
    assert fields == {
        "id": "ip-1",
        "ip_address": "192.0.2.7",
        "description": "office",
        "nested": {"kept": 1, "list": [{"name": "n"}]},
    }
    assert "KEY123" not in render("json", [fields])


def test_a_binding_exports_its_own_fields_and_what_the_ledger_knows() -> None:
    binding = Binding(
        provider="huawei",
        mode="AXB",
        subscription_id="sub-1",
        x="+8613800000001",
        a="+8613800000002",
        b="+8613800000003",
        expires_at=WHEN,
        recording=True,
        status="active",
        raw={"resultcode": "0", "app_secret": "never"},
    )
    own = record_fields(binding)
    assert own["subscription_id"] == "sub-1" and own["expires_at"] == "2026-01-05T12:30:00+00:00"
    assert "raw" not in own and "resultcode" not in own
    entry = LedgerEntry(
        binding=binding,
        origin="created",
        created_at=WHEN,
        updated_at=WHEN,
        last_refreshed_at=None,
        last_error=RefreshFailure("1012007", "The record does not exist.", WHEN),
    )
    fields = record_fields(entry)
    assert {k: fields[k] for k in own} == own  # the binding's fields at the top level
    assert fields["origin"] == "created" and fields["created_at"] == "2026-01-05T12:30:00+00:00"
    assert fields["last_refreshed_at"] is None
    assert fields["last_error"]["code"] == "1012007"
    assert "never" not in render("csv", [fields])


def test_csv_cells_are_never_formulas_and_nested_values_are_json() -> None:
    rows = [
        {"a": '=HYPERLINK("x")', "b": "+8613800000001", "c": "-1+2", "d": "@SUM(A1)", "e": -5, "f": None},
        {"a": "plain", "g": {"k": [1, "two"]}, "h": True, "i": 1.5},
    ]
    got = list(csv.reader(io.StringIO(render("csv", rows))))
    assert got[0] == ["a", "b", "c", "d", "e", "f", "g", "h", "i"]  # every field, first seen first
    assert got[1] == ['\'=HYPERLINK("x")', "'+8613800000001", "'-1+2", "'@SUM(A1)", "-5", "", "", "", ""]
    assert got[2] == ["plain", "", "", "", "", "", '{"k": [1, "two"]}', "true", "1.5"]
    tsv = list(csv.reader(io.StringIO(render("tsv", rows)), delimiter="\t"))
    assert tsv == got


@given(
    st.lists(
        st.dictionaries(
            st.text(min_size=1, max_size=5),
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
            max_size=4,
        ),
        max_size=5,
    )
)
def test_json_and_json_lines_give_back_the_rows(rows) -> None:
    assert json.loads(render("json", rows)) == rows
    assert [json.loads(line) for line in render("jsonl", rows).splitlines()] == rows


@given(st.lists(st.dictionaries(st.sampled_from("abc"), st.text(max_size=8), max_size=3), max_size=5))
def test_csv_gives_back_every_text_cell(rows) -> None:
    got = list(csv.DictReader(io.StringIO(render("csv", rows))))
    if not rows or not any(rows):
        return
    assert [{k: v for k, v in row.items() if v} for row in got] == [
        {k: cell(v) for k, v in row.items() if v} for row in rows
    ]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        write_rows("xml", [], io.StringIO())


def test_the_default_path_and_the_format_by_extension() -> None:
    assert default_path("allowlist", "csv", WHEN) == "allowlist-20260105T123000Z.csv"
    assert (
        default_path("bindings", "jsonl", WHEN, folder="/data/exports")
        == "/data/exports/bindings-20260105T123000Z.jsonl"
    )
    assert [format_of(p) for p in ("a.CSV", "b.tsv", "c.json", "d.jsonl", "e.txt", "f")] == [
        "csv",
        "tsv",
        "json",
        "jsonl",
        None,
        None,
    ]


def test_path_problems_and_a_save_is_0600_and_atomic(tmp_path) -> None:
    assert path_problem("") is not None
    assert "folder" in (path_problem(str(tmp_path)) or "")
    assert "no such folder" in (path_problem(str(tmp_path / "no" / "x.csv")) or "")
    assert "extension" in (path_problem(str(tmp_path / "x.xml")) or "")
    target = tmp_path / "x.csv"
    assert path_problem(str(target)) is None
    written = save(str(target), "csv", [{"id": "1"}])
    assert written == str(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_bytes() == b"id\r\n1\r\n"
    assert "exists" in (path_problem(str(target)) or "")
    assert path_problem(str(target), replace=True) is None
    save(str(target), "csv", [{"id": "2"}])
    assert target.read_bytes() == b"id\r\n2\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temporary file left
