"""Rows of a list as CSV, TSV, JSON or JSON Lines: what a record's fields are, and how they are
written. The console's export (tui/screens/export.py) and the headless CLI's `-o` both use it.

No Textual here. A record's fields are the vendor's own names from its `raw` object; a binding's
are its own (the ledger's record, not the vendor's last answer); a mapping is taken as the vendor
object itself (a ResourceSpec's `to_cache(record)`). Secret-named fields are left out at any
depth (providers.cache.scrub), so an export never holds one, whatever the screen showed.

Text from a server is data, never terminal control: JSON escapes DEL, C1, the line breaks a
JSON Lines reader might split on and the bidirectional overrides; CSV and TSV cells show control
characters visibly (tui/literal.py). A cell a spreadsheet would run as a formula (= + - @ first)
is prefixed with ', but not a signed number such as an E.164 phone number; nested values are
JSON text; a TSV cell's tab or line break is written as \\t, \\n.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Any, TextIO

from providers.bindings import Binding
from providers.cache import is_secret_field, scrub
from providers.calls import CallRecord
from tui.literal import literal

#: Every format, by the file extension that names it.
FORMATS = ("csv", "tsv", "json", "jsonl")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection)...
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...but a signed number is data: an E.164 phone number (+8613800000001), -5.
_SIGNED_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
# What json.dumps(ensure_ascii=False) leaves raw but a terminal may act on or a JSON Lines reader
# may split on: DEL, C1 (0x9b is a CSI on some terminals, 0x85 a line break), U+2028/2029, the
# bidirectional embeddings, overrides and isolates.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def record_fields(record: Any) -> dict[str, Any]:
    """`record` as plain JSON-able fields, without a secret: the vendor's field names from its
    `raw` object; for a record without one (or a binding: its `raw` is only the vendor's last
    answer), its dataclass fields, times in ISO 8601. A record held inside (a ledger entry's
    binding) gives its fields at the top level."""
    if isinstance(record, Mapping):
        return dict(scrub(record))
    raw = getattr(record, "raw", None)
    if isinstance(raw, Mapping) and raw and not isinstance(record, Binding):
        return dict(scrub(raw))
    if not is_dataclass(record) or isinstance(record, type):
        return {}
    out: dict[str, Any] = {}
    for item in fields(record):
        if item.name == "raw" or is_secret_field(item.name):
            continue
        value = getattr(record, item.name)
        if is_dataclass(value) and not isinstance(value, type) and hasattr(value, "key"):
            out.update(record_fields(value))
        else:
            out[item.name] = _plain(value)
    return dict(scrub(out))


#: The fields of a call as `teledeck get calls` and the Calls screen's export write them: the
#: CallRecord's own names (providers/calls.py), times in UTC ISO 8601, and the ledger key of the
#: binding it went through ("" when none explains it).
CALL_FIELDS = (
    "provider", "call_id", "subscription_id", "x", "caller", "callee", "started_at", "answered_at",
    "ended_at", "duration_s", "outcome", "cause_code", "cause", "binding",
)  # fmt: skip


def call_fields(record: CallRecord) -> dict[str, Any]:
    """One call as plain fields, in CALL_FIELDS order (never its recording's locator or link)."""
    values = {name: getattr(record, name) for name in CALL_FIELDS if name != "binding"}
    values["binding"] = record.binding_key
    return {name: _plain(values[name]) for name in CALL_FIELDS}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def format_of(path: str | PurePath) -> str | None:
    """The format a file name asks for by its extension (".csv" -> "csv"), or None."""
    suffix = PurePath(path).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every field name in `rows`, in the order first seen (the header of a CSV)."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _json(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    text = json.dumps(
        value, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":"), sort_keys=sort_keys
    )
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def cell(value: Any) -> str:
    """A field as one CSV/TSV cell: text as it is but control characters shown visibly and never
    a formula (a leading = + - @ gets a ', a signed number is left as it is), numbers and
    true/false as JSON writes them, nested values as JSON text (keys sorted), null empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = literal(value)
    elif isinstance(value, (bool, int, float)):
        return json.dumps(value)
    else:
        text = literal(_json(value, sort_keys=True))
    if text.startswith(_FORMULA_START) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _tsv_cell(value: Any) -> str:
    # A tab or line break would split the cell: written as \t, \n, \r (and \ as \\).
    text = cell(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_rows(fmt: str, rows: Sequence[Mapping[str, Any]], stream: TextIO) -> None:
    """Write `rows` to `stream` as `fmt` (one of FORMATS): CSV (RFC 4180 line ends) and TSV with
    a header of every field seen; JSON as one array; JSON Lines as one object a line."""
    if fmt == "csv":
        header = columns_of(rows)
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow([cell(name) for name in header])
        for row in rows:
            writer.writerow([cell(row.get(name)) for name in header])
    elif fmt == "tsv":
        header = columns_of(rows)
        stream.write("\t".join(_tsv_cell(name) for name in header) + "\n")
        for row in rows:
            stream.write("\t".join(_tsv_cell(row.get(name)) for name in header) + "\n")
    elif fmt == "json":
        stream.write(_json(list(rows), indent=2) + "\n")
    elif fmt == "jsonl":
        for row in rows:
            stream.write(_json(dict(row)) + "\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")


def render(fmt: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """`rows` as `fmt`, in one string."""
    out = io.StringIO()
    write_rows(fmt, rows, out)
    return out.getvalue()


def render_one(fmt: str, row: Mapping[str, Any]) -> str:
    """One record: JSON as an object (not an array of one), the others as `render` does."""
    return _json(dict(row), indent=2) + "\n" if fmt == "json" else render(fmt, [row])


# ---- files ------------------------------------------------------------------------------------


def default_path(resource: str, fmt: str, now: datetime, *, folder: str | PurePath = "") -> str:
    """Where an export goes unless the user says otherwise: `<resource>-<UTC time>.<fmt>`, in
    `folder` ("" is the current folder, shown as a bare name)."""
    name = f"{resource}-{now.strftime('%Y%m%dT%H%M%SZ')}.{fmt}"
    return str(PurePath(folder) / name) if folder else name


def path_problem(path: str, *, replace: bool = False) -> str | None:
    """What stops writing an export at `path`, said for the field, or None. An existing file is
    a problem unless `replace` (the user asked again for the same path)."""
    import os
    from pathlib import Path

    if not path.strip():
        return "required: a file name ending in " + ", ".join(f".{fmt}" for fmt in FORMATS)
    target = Path(path).expanduser()
    if target.is_dir():
        return "that is a folder: give a file name in it"
    if format_of(path) is None:
        return "name the format by the extension: " + ", ".join(f".{fmt}" for fmt in FORMATS)
    folder = target.parent
    if not folder.is_dir():
        return f"no such folder: {folder}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"permission denied: cannot write in {folder}"
    if target.exists() and not replace:
        return "a file of that name exists: press enter again to replace it, or change the name"
    return None


def save(path: str, fmt: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Write `rows` to `path` as `fmt`, 0600 (exports hold phone numbers), atomically: a file
    that was there is replaced whole or left as it was. The absolute path written. Raises
    OSError (the caller shows it at the field)."""
    from pathlib import Path

    from providers.paths import atomic_write

    target = Path(path).expanduser().absolute()
    atomic_write(target, render(fmt, rows).encode("utf-8"), mode=0o600)
    return str(target)
