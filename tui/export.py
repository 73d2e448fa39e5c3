"""Rows of a list as CSV, TSV, JSON or JSON Lines: what a record's fields are, and how they are written.

No Textual here (the export prompt is tui/screens/export.py). A record's fields are the vendor's
own names from its `raw` object; a binding's are its own (the ledger's record, not the vendor's
last answer). Secret-named fields are left out at any depth (providers.cache.scrub), so an export
never holds one, whatever the screen showed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Any, TextIO

from providers.bindings import Binding
from providers.cache import is_secret_field, scrub

#: Every format, by the file extension that names it.
FORMATS = ("csv", "tsv", "json", "jsonl")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Line breaks to Python's splitlines and to JavaScript that JSON leaves raw in a string: escaped,
# so a JSON Lines reader that splits on any of them still gets one object a line.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


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


def cell(value: Any) -> str:
    """A field as one CSV/TSV cell: text as it is (never a formula: a leading = + - @ gets a
    '), numbers and true/false as JSON writes them, nested values as JSON text, null empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def write_rows(fmt: str, rows: Sequence[Mapping[str, Any]], stream: TextIO) -> None:
    """Write `rows` to `stream` as `fmt` (one of FORMATS): CSV and TSV with a header of every
    field seen; JSON as one array; JSON Lines as one object a line."""
    if fmt in ("csv", "tsv"):
        header = columns_of(rows)
        writer = csv.writer(stream, delimiter="," if fmt == "csv" else "\t", lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell(row.get(name)) for name in header])
    elif fmt == "json":
        stream.write(json.dumps(list(rows), ensure_ascii=False, indent=2).translate(_LINE_BREAKS))
        stream.write("\n")
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False).translate(_LINE_BREAKS))
            stream.write("\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")


def render(fmt: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """`rows` as `fmt`, in one string."""
    out = io.StringIO()
    write_rows(fmt, rows, out)
    return out.getvalue()


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
