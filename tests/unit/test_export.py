"""tui/export.py: a record's fields (vendor names, no secret), each format written and read back, no
terminal control, nothing a spreadsheet would run; tui/text_table.py: a plain text table."""

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
from providers.telnyx.models import AccessIp, BillingGroup, IntegrationSecret
from tui.export import (
    cell,
    default_path,
    format_of,
    path_problem,
    record_fields,
    render,
    render_one,
    save,
    write_rows,
)
from tui.text_table import BOLD, STYLE_CODES, TextColumn, crop, render_table, wants_colour

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
    assert got[1] == ['\'=HYPERLINK("x")', "+8613800000001", "'-1+2", "'@SUM(A1)", "-5", "", "", "", ""]
    assert got[2] == ["plain", "", "", "", "", "", '{"k":[1,"two"]}', "true", "1.5"]
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


def test_record_fields_are_the_vendor_object_without_its_secrets():
    group = BillingGroup.from_api({"id": "b1", "name": "EMEA", "record_type": "billing_group", "api_key": "k"})
    assert record_fields(group) == {"id": "b1", "name": "EMEA", "record_type": "billing_group"}
    secret = IntegrationSecret.from_api({"id": "s1", "identifier": "crm", "token": "t", "nested": {"password": "p"}})
    assert record_fields(secret) == {"id": "s1", "identifier": "crm", "nested": {}}
    # A mapping is the vendor object itself (a spec's to_cache adds what the API leaves out).
    assert record_fields({"id": "s1", "type": "bearer", "value": "v"}) == {"id": "s1", "type": "bearer"}


def test_a_binding_gives_its_own_fields_not_the_vendors_answer():
    binding = Binding(
        provider="huawei",
        mode="AXB",
        subscription_id="sub-1",
        x="+8617000000001",
        a="+8613800000001",
        expires_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        raw={"subscriptionId": "sub-1", "app_secret": "s"},
    )
    fields = record_fields(binding)
    assert fields["subscription_id"] == "sub-1" and fields["expires_at"] == "2026-01-02T03:04:05+00:00"
    assert "raw" not in fields and "subscriptionId" not in fields
    assert list(fields)[:3] == ["provider", "mode", "subscription_id"]


def test_json_escapes_every_control_character_a_terminal_would_act_on():
    rows = [{"name": "a\x1b[31mb\x9bc\u202ed\x7f", "n": 1}]
    for fmt in ("json", "jsonl"):
        text = render(fmt, rows)
        assert not any(ch in text for ch in "\x1b\x9b\u202e\x7f")
        assert json.loads(text if fmt == "json" else f"[{text}]") == rows
    assert render("json", []) == "[]\n"
    assert json.loads(render_one("json", rows[0])) == rows[0]


def test_csv_and_tsv_have_a_header_defuse_formulas_and_show_control_characters():
    rows = [
        {"id": "1", "name": '=HYPERLINK("http://x")', "phone": "+8613800000001", "n": -5, "tags": ["a", "b"]},
        {"id": "2", "name": "@SUM(A1)", "phone": "+1 (555)", "extra": None, "note": "line\nnext\tcol \x1b[2J"},
    ]
    read = list(csv.reader(io.StringIO(render("csv", rows))))
    assert read[0] == ["id", "name", "phone", "n", "tags", "extra", "note"]
    assert read[1][1] == '\'=HYPERLINK("http://x")' and read[2][1] == "'@SUM(A1)"
    assert read[1][2] == "+8613800000001" and read[1][3] == "-5"  # a signed number is data
    assert read[2][2] == "'+1 (555)"
    assert read[1][4] == '["a","b"]' and read[2][5] == ""
    assert read[2][6] == "line\nnext\tcol ␛[2J"
    tsv = render("tsv", rows).splitlines()
    assert len(tsv) == 3 and all(len(line.split("\t")) == 7 for line in tsv)
    assert tsv[2].split("\t")[6] == "line\\nnext\\tcol ␛[2J"
    assert cell(True) == "true" and cell({"a": 1}) == '{"a":1}'


def test_a_text_table_aligns_crops_and_colours_only_when_asked():
    columns = [TextColumn("NAME", max_width=8), TextColumn("N", right=True)]
    rows = [(("Team \x1b[31mEMEA\x1b[0m", "7"), "warning"), (("北京办公室", "12"), "")]
    plain = render_table(columns, rows)
    lines = plain.splitlines()
    assert "\x1b" not in plain and lines[1].startswith("Team ␛[…")
    assert lines[2].startswith("北京办…")  # two cells a character
    assert lines[1].endswith(" 7") and lines[2].endswith("12")
    coloured = render_table(columns, rows, colour=True)
    assert coloured.startswith(BOLD + "NAME") and STYLE_CODES["warning"] in coloured
    assert crop("abcdef", 4) == "abc…" and crop("abc", 4) == "abc"


def test_colour_needs_a_terminal_and_no_no_color():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_colour(Tty(), {}) is True
    assert wants_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert wants_colour(Tty(), {"TERM": "dumb"}) is False
    assert wants_colour(io.StringIO(), {}) is False
