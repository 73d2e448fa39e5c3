"""Records as plain data (tui/export.py) and as a plain text table (tui/text_table.py): vendor field
names, no secret, no terminal control, nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from providers.bindings import Binding
from providers.telnyx.models import BillingGroup, IntegrationSecret
from tui.export import cell_text, record_fields, render, render_one
from tui.text_table import BOLD, STYLE_CODES, TextColumn, crop, render_table, wants_colour


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
    assert cell_text(True) == "true" and cell_text({"a": 1}) == '{"a":1}'


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
