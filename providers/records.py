"""Helpers for turning vendor JSON into typed records without trusting its shape.

A provider may answer with missing fields, wrong types or nulls. Records are built with these
readers so that a malformed item becomes a record with empty fields (and its raw dict kept for
the detail view), never an exception in the UI.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    RecordT = TypeVar("RecordT", bound=DataclassInstance)


# No vendor answer nests deeper than a handful of levels; anything past this is refused before
# code that walks a value recursively (the detail view, the cache's encoder) meets it.
MAX_JSON_DEPTH = 64


class UnreadableJson(ValueError):
    """A body that is not JSON we will read; its text says why ("not JSON", "nested ...")."""


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests containers more than `limit` deep (iteratively: no recursion)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def load_json(content: bytes | str) -> Any:
    """A body's JSON value, or UnreadableJson saying why there is none: empty, not JSON (bad
    UTF-8 included), or nested deeper than MAX_JSON_DEPTH (json.loads itself raises
    RecursionError long before a 200,000-deep body is read; that is caught here too)."""
    if not content:
        raise UnreadableJson("empty")
    try:
        value = json.loads(content)
    except RecursionError:
        raise UnreadableJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # UnicodeDecodeError included
        raise UnreadableJson("not JSON") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise UnreadableJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def load_object(content: bytes | str) -> tuple[dict[str, Any] | None, str]:
    """A body's JSON object, or None and why it is not one ("empty", "not JSON", "null", ...),
    for a client to put in its MalformedResponse."""
    try:
        value = load_json(content)
    except UnreadableJson as why:
        return None, str(why)
    if isinstance(value, dict):
        return value, ""
    return None, "null" if value is None else "not a JSON object"


def parse_json(content: bytes) -> Any:
    """A body's JSON value; None when the body is empty, not JSON or nested too deep (the caller
    says what that means for its vendor; `load_json` says which)."""
    try:
        return load_json(content)
    except UnreadableJson:
        return None


def _field(data: Any, key: str) -> Any:
    """data[key], or None when it is missing or `data` is no object at all: each reader below
    turns None into its own empty value."""
    return data.get(key) if isinstance(data, dict) else None


def text(data: Any, key: str) -> str:
    """data[key] as a string; '' when missing, null or a container."""
    value = _field(data, key)
    if type(value) is str:  # the common case first: a listing reads tens of thousands of these
        return value
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flag(data: Any, key: str) -> bool | None:
    """data[key] as a bool; None when missing or not a boolean-like value."""
    value = _field(data, key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def mapping(data: Any, key: str) -> dict[str, Any]:
    value = _field(data, key)
    return value if isinstance(value, dict) else {}


def integer(data: Any, key: str) -> int | None:
    value = _field(data, key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,30}\s*", value):  # ASCII digits: not "²"
        return int(value)
    return None


# How a field is read from the wire, by its declared type; a field of any other type (a time, a
# nested object) is given to `read_record` by its caller.
_READERS: dict[Any, Callable[[Any, str], Any]] = {
    "str": text,
    str: text,
    "bool | None": flag,
    bool | None: flag,
    "int | None": integer,
    int | None: integer,
}


def read_record(cls: type[RecordT], data: Any, keys: Mapping[str, str] | None = None, **given: Any) -> RecordT:
    """A `cls` record whose fields are read from `data`: a `str` field with `text`, a `bool | None`
    field with `flag`, an `int | None` field with `integer`; `raw` is `data` itself (or {}). The
    wire key is the field's name unless `keys` names another (field name -> wire key); `given`
    supplies the fields that are read otherwise (times, nested objects)."""
    values: dict[str, Any] = {}
    for name, reader, declared in _plan(cls):
        if name in given:
            continue
        if name == "raw":
            values["raw"] = data if isinstance(data, dict) else {}
            continue
        if reader is None:
            raise TypeError(f"{cls.__name__}.{name}: a {declared} field must be given")
        values[name] = reader(data, keys.get(name, name) if keys else name)
    return cls(**values, **given)


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, Callable[[Any, str], Any] | None, Any], ...]:
    """Each field of `cls` with its reader (None: to be given) and its declared type, worked out
    once per class rather than once per record (a 10,000-row listing reads 10,000 records)."""
    return tuple((spec.name, _READERS.get(spec.type), spec.type) for spec in dataclasses.fields(cls))


@dataclass(frozen=True)
class ApiRecord:
    """A base for records whose every field is read by `read_record` (the wire key is the field's
    name); a record with fields named or nested otherwise overrides `from_api`. `raw` is the
    vendor's object as received, for the detail view."""

    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict, kw_only=True)

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return read_record(cls, data)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every leaf of a JSON value as (dotted path, text), in document order, for detail views."""
    rows: list[tuple[str, str]] = []
    if isinstance(data, dict):
        if not data and prefix:
            rows.append((prefix, "{}"))
        for key, value in data.items():
            rows.extend(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list):
        if not data and prefix:
            rows.append((prefix, "[]"))
        for index, value in enumerate(data):
            rows.extend(flatten(value, f"{prefix}[{index}]"))
    else:
        if data is None:
            shown = "null"
        elif isinstance(data, bool):
            shown = "true" if data else "false"
        else:
            shown = str(data)
        rows.append((prefix or "value", shown))
    return rows


@dataclass(frozen=True)
class Page:
    """One page of a list answer, with the server's meta as it said it."""

    items: list[Any]
    page_number: int
    page_size: int | None
    total_pages: int | None
    total_results: int | None


@dataclass(frozen=True)
class OffsetPage:
    """One page of an Offset/Limit list answer (Volcengine), with what the server said about it."""

    items: list[Any]
    offset: int | None
    limit: int | None
    total: int | None
