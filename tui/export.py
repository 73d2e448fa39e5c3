"""Records as plain data, and that data as CSV, TSV, JSON or JSON Lines text.

`record_fields(record)` is what a record says in the vendor's own words: the vendor object it was
read from (`raw`), with every secret-named field removed (`providers.cache.scrub`, the same rule
the cache follows). A vendor-neutral record (a privacy-number `Binding`: one shape for three
vendors) gives its own dataclass fields instead, its `raw` left out. A mapping is taken as
the vendor object itself (a ResourceSpec's `to_cache(record)`, which adds what the API's object
does not carry, such as an integration secret's type).

`render(fmt, rows)` writes those dicts as text. Text from a server is data, never terminal
control: JSON escapes every control character, DEL, C1 and the bidirectional overrides
(`\\u001b`, `\\u009b`, `\\u202e`); CSV and TSV cells show them visibly (tui/literal.py), a cell
that a spreadsheet would run as a formula (= + - @ first, but not a signed number such as an
E.164 phone number) is prefixed with ', and a nested value is written as JSON text.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from providers.cache import is_secret_field, scrub
from tui.literal import literal

FORMATS = ("csv", "tsv", "json", "jsonl")

# What json.dumps(ensure_ascii=False) leaves raw but a terminal may act on: DEL, C1 (0x9b is a
# CSI on some terminals), the bidirectional embeddings, overrides and isolates.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@")
# A signed number is data, not a formula: an E.164 phone number (+8613800000001), -5.
_SIGNED_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _plain(value: Any) -> Any:
    """A dataclass field's value as JSON-able data (datetimes as ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def record_fields(record: Any) -> dict[str, Any]:
    """The record's fields by the vendor's names, secrets removed (see the module docstring)."""
    if isinstance(record, Mapping):
        return dict(scrub(record))
    raw = getattr(record, "raw", None)
    if isinstance(raw, Mapping) and raw and not _is_vendor_neutral(record):
        return dict(scrub(raw))
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        fields = {
            f.name: _plain(getattr(record, f.name))
            for f in dataclasses.fields(record)
            if f.name != "raw" and not is_secret_field(f.name)
        }
        return dict(scrub(fields))
    return {}


def _is_vendor_neutral(record: Any) -> bool:
    from providers.bindings import Binding

    return isinstance(record, Binding)


def _json(value: Any, *, indent: int | None = None) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":"))
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every field name, in the order first seen (records of one list may differ)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def cell_text(value: Any) -> str:
    """One CSV/TSV cell: a string as it is, None empty, anything else as JSON text; control
    characters shown visibly, a formula-like start defused."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        text = _json(value)
    text = literal(text)
    if text.startswith(_FORMULA_START) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _tsv_cell(value: Any) -> str:
    # A tab or line break would split the cell: written as \t, \n, \r (and \ as \\).
    text = cell_text(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def render(fmt: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """`rows` as `fmt` text (FORMATS), ending in a newline (JSON: one array, even when empty;
    CSV and TSV: a header row of the field names first)."""
    if fmt == "json":
        return _json(list(rows), indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(_json(dict(row)) + "\n" for row in rows)
    if fmt not in ("csv", "tsv"):
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    columns = _columns(rows)
    if fmt == "tsv":
        lines = ["\t".join(_tsv_cell(name) for name in columns)]
        lines += ["\t".join(_tsv_cell(row.get(name)) for name in columns) for row in rows]
        return "".join(line + "\n" for line in lines)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([cell_text(name) for name in columns])
    writer.writerows([cell_text(row.get(name)) for name in columns] for row in rows)
    return out.getvalue()


def render_one(fmt: str, row: Mapping[str, Any]) -> str:
    """One record: JSON as an object (not an array of one), the others as `render` does."""
    return _json(dict(row), indent=2) + "\n" if fmt == "json" else render(fmt, [row])
