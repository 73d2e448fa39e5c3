"""Calls in the ledger: every record a vendor pushes, stored once, and one row per call merged
from them (providers/calls.py), linked to the binding it was made through.

`call_events` holds one row per pushed record, unique by (provider, call_id, kind): the
`CallEvent.dedupe_key`, since vendors deliver a push again until it is acknowledged (Huawei up
to six times). `calls` holds one row per (provider, call_id): `merge` of all its events, with
the ledger key of its binding.

`add` is one transaction that any number of processes may run at once (a receiver per server,
a console importing a CDR file) without losing an event or counting one twice:

1. the batch's events are inserted in one fixed order with `ON CONFLICT DO NOTHING`; the number
   of rows that went in is the number of new events;
2. for each call that gained one, in the same fixed order, its `calls` row is created if absent
   and locked (`FOR UPDATE` on PostgreSQL; SQLite's transaction holds the whole file), then all
   its events are read and merged. The transaction that takes a call's lock last reads every
   event committed before it plus its own, so the row ends as the merge of all of them; the one
   order for inserts and locks leaves no two transactions waiting on each other.

The binding a call went through: the binding whose key is the event's provider and subscription
id, else one of the provider's bindings on that X whose A or B is a party to the call (caller or
callee) and whose life (creation, for one teledeck created, to expiry or removal) holds the
call's time, give or take `LINK_SLACK`; the most recently created when several do. A call no
binding explains keeps binding_key "" (the commonest triage answer: "no binding") until a later
push of it finds one, or a binding with its subscription id is recorded (BindingLedger links
such calls as it inserts the binding).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from providers.calls import IN_PROGRESS, STAGES, CallEvent, CallRecord, Recording, merge
from providers.ledger_store import (
    Conn,
    LedgerError,
    Store,
    _Undecodable,
    is_busy,
    iso,
    json_value,
    maybe_moment,
    moment,
)

log = logging.getLogger("teledeck.ledger")

LINK_SLACK = timedelta(minutes=5)  # clocks differ: the vendor's, the receiver's, the ledger's
_MIN_NUMBER_DIGITS = 7  # the shortest tail of a number that may stand for the whole number
_BUSY_RETRIES = 2

_EVENT_COLUMNS = (
    "provider", "call_id", "kind", "stage", "at", "received_at",
    "subscription_id", "x", "caller", "callee", "account", "fields",
)  # fmt: skip
_CALL_FIELDS = (
    "subscription_id", "x", "caller", "callee", "started_at", "answered_at", "ended_at",
    "duration_s", "outcome", "cause_code", "cause", "recording", "binding_key", "sort_at", "updated_at",
)  # fmt: skip


def _event_values(event: CallEvent) -> tuple[Any, ...]:
    """CallEvent -> column values in `_EVENT_COLUMNS` order; ValueError for one the ledger cannot keep."""
    for name in ("provider", "call_id", "kind"):
        if not isinstance(getattr(event, name), str) or not getattr(event, name):
            raise ValueError(f"call event {event.dedupe_key!r} needs a {name}")
    if event.stage not in STAGES:
        raise ValueError(f"call event {event.dedupe_key}: unknown stage {event.stage!r}")
    fields = json.dumps(dict(event.fields), ensure_ascii=False, sort_keys=True, default=str)
    return (
        event.provider, event.call_id, event.kind, event.stage,
        None if event.at is None else iso(event.at), iso(event.received_at),
        event.subscription_id, event.x, event.caller, event.callee, event.account, fields,
    )  # fmt: skip


def _readable(row: Mapping[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if isinstance(row[name], _Undecodable):
            raise ValueError(f"column {name} is not valid UTF-8")


def _event(row: Mapping[str, Any]) -> CallEvent:
    _readable(row, _EVENT_COLUMNS)
    fields = json_value(row["fields"])
    return CallEvent(
        provider=row["provider"],
        call_id=row["call_id"],
        kind=row["kind"],
        stage=row["stage"],
        received_at=moment(row["received_at"]),
        at=maybe_moment(row["at"]),
        subscription_id=row["subscription_id"],
        x=row["x"],
        caller=row["caller"],
        callee=row["callee"],
        account=row["account"],
        fields=fields if isinstance(fields, dict) else {"value": fields},
    )


def _record(row: Mapping[str, Any]) -> CallRecord:
    _readable(row, ("provider", "call_id", *_CALL_FIELDS))
    locator = None if row["recording"] is None else json_value(row["recording"])
    recording = None
    if isinstance(locator, dict):
        recording = Recording(row["provider"], row["call_id"], {str(k): str(v) for k, v in locator.items()})
    return CallRecord(
        provider=row["provider"],
        call_id=row["call_id"],
        subscription_id=row["subscription_id"],
        x=row["x"],
        caller=row["caller"],
        callee=row["callee"],
        started_at=maybe_moment(row["started_at"]),
        answered_at=maybe_moment(row["answered_at"]),
        ended_at=maybe_moment(row["ended_at"]),
        duration_s=None if row["duration_s"] is None else int(row["duration_s"]),
        outcome=row["outcome"],
        cause_code=row["cause_code"],
        cause=row["cause"],
        recording=recording,
        binding_key=row["binding_key"],
    )


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def same_number(one: str, other: str) -> bool:
    """Two ways of writing one number: the same digits, or one the other's tail of at least
    seven digits (a country code or trunk prefix written on one side only)."""
    a, b = _digits(one), _digits(other)
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= _MIN_NUMBER_DIGITS and long.endswith(short))


def _life(row: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """When a binding could carry calls: from its creation (unknown for an imported one) to its
    expiry or removal (open while neither)."""
    start = moment(row["created_at"]) if row["origin"] == "created" else None
    ends = [maybe_moment(row["expires_at"])]
    if row["status"] == "removed":
        ends.append(moment(row["updated_at"]))
    known = [end for end in ends if end is not None]
    return start, min(known) if known else None


def _binding_key(conn: Conn, record: CallRecord, when: datetime | None) -> str:
    if record.subscription_id:
        key = f"{record.provider}:{record.subscription_id}"
        if conn.execute("SELECT key FROM bindings WHERE key = ?", (key,)).fetchone() is not None:
            return key
    x = _digits(record.x)
    if len(x) < _MIN_NUMBER_DIGITS:
        return ""
    rows = conn.execute(
        "SELECT key, x, a, b, origin, status, created_at, updated_at, expires_at FROM bindings "
        "WHERE provider = ? AND x LIKE ?",
        (record.provider, "%" + x[-_MIN_NUMBER_DIGITS:]),
    ).fetchall()
    parties = [n for n in (record.caller, record.callee) if _digits(n)]
    best: tuple[datetime, str] | None = None
    for row in rows:
        try:
            _readable(row, ("key", "x", "a", "b"))
            if not same_number(row["x"], record.x):
                continue
            ends = [n for n in (row["a"], row["b"]) if _digits(n)]
            if parties and ends and not any(same_number(p, e) for p in parties for e in ends):
                continue  # a binding of this X, but between other people
            start, end = _life(row)
            created = moment(row["created_at"])
        except (ValueError, TypeError):
            continue  # an unreadable binding row explains no call
        if when is not None and (
            (start is not None and when < start - LINK_SLACK) or (end is not None and when > end + LINK_SLACK)
        ):
            continue
        if best is None or created > best[0]:
            best = (created, row["key"])
    return best[1] if best is not None else ""


class CallBook:
    """The calls of one ledger (its store and clock); BindingLedger's call methods use it."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def add(self, events: Iterable[CallEvent]) -> int:
        """Store each event once and re-merge the calls that gained one, in one transaction;
        how many events were new. ValueError (nothing stored) for an event it cannot keep;
        LedgerError when the ledger cannot be written (the caller must not acknowledge the push)."""
        batch: dict[tuple[str, str, str], CallEvent] = {}
        for event in events:
            batch.setdefault((event.provider, event.call_id, event.kind), event)  # the first of the batch wins
        if not batch:
            return 0
        ordered = [(key, _event_values(batch[key])) for key in sorted(batch)]
        insert = (
            f"INSERT INTO call_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)}) "
            "ON CONFLICT (provider, call_id, kind) DO NOTHING"
        )

        def work(conn: Conn) -> int:
            now = iso(self._clock())
            new = 0
            touched: set[tuple[str, str]] = set()
            for (provider, call_id, _kind), values in ordered:
                if conn.execute(insert, values).rowcount == 1:
                    new += 1
                    touched.add((provider, call_id))
            for provider, call_id in sorted(touched):
                self._merge(conn, provider, call_id, now)
            return new

        for attempt in range(_BUSY_RETRIES + 1):
            try:
                return self._store.run(work, serialized=False)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                if attempt == _BUSY_RETRIES:
                    raise LedgerError(
                        f"the ledger {self._store.location} is busy (locked by another process)"
                    ) from None
        raise AssertionError("unreachable")

    def _merge(self, conn: Conn, provider: str, call_id: str, now: str) -> None:
        conn.execute(
            "INSERT INTO calls (provider, call_id, outcome, sort_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (provider, call_id) DO NOTHING",
            (provider, call_id, IN_PROGRESS, now, now),
        )
        conn.execute(
            f"SELECT call_id FROM calls WHERE provider = ? AND call_id = ?{self._store.lock_rows}", (provider, call_id)
        ).fetchall()
        events = self._read_events(conn, provider, call_id)
        if not events:
            return
        record = merge(events)
        first_seen = min(e.received_at for e in events)
        record = replace(record, binding_key=_binding_key(conn, record, record.started_at or first_seen))
        locator = None
        if record.recording is not None:
            locator = json.dumps(dict(record.recording.locator), ensure_ascii=False, sort_keys=True)
        values = (
            record.subscription_id, record.x, record.caller, record.callee,
            None if record.started_at is None else iso(record.started_at),
            None if record.answered_at is None else iso(record.answered_at),
            None if record.ended_at is None else iso(record.ended_at),
            record.duration_s, record.outcome, record.cause_code, record.cause, locator, record.binding_key,
            iso(record.started_at or first_seen), now,
        )  # fmt: skip
        conn.execute(
            f"UPDATE calls SET {', '.join(f'{c} = ?' for c in _CALL_FIELDS)} WHERE provider = ? AND call_id = ?",
            (*values, provider, call_id),
        )

    def _read_events(self, conn: Conn, provider: str, call_id: str) -> list[CallEvent]:
        rows = conn.execute(
            "SELECT * FROM call_events WHERE provider = ? AND call_id = ? ORDER BY COALESCE(at, received_at), id",
            (provider, call_id),
        ).fetchall()
        out: list[CallEvent] = []
        for row in rows:
            try:
                out.append(_event(row))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning(
                    "ledger %s: skipped an unreadable event of call %s (%s)", self._store.location, call_id, exc
                )
        return out

    def calls(
        self,
        *,
        binding_key: str | None = None,
        provider: str | None = None,
        since: datetime | None = None,
        limit: int | None = 500,
    ) -> list[CallRecord]:
        where: list[str] = []
        params: list[Any] = []
        if binding_key is not None:
            where.append("binding_key = ?")
            params.append(binding_key)
        if provider is not None:
            where.append("provider = ?")
            params.append(provider)
        if since is not None:
            where.append("sort_at >= ?")  # the calls_newest index
            params.append(iso(since))
        sql = "SELECT * FROM calls" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY sort_at DESC, provider, call_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._store.read() as conn:
            found = conn.execute(sql, tuple(params)).fetchall()
        out: list[CallRecord] = []
        for row in found:
            try:
                out.append(_record(row))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("ledger %s: skipped an unreadable call row (%s)", self._store.location, exc)
        return out

    def call(self, provider: str, call_id: str) -> CallRecord | None:
        with self._store.read() as conn:
            row = conn.execute("SELECT * FROM calls WHERE provider = ? AND call_id = ?", (provider, call_id)).fetchone()
            events = self._read_events(conn, provider, call_id) if row is not None else []
        if row is None:
            return None
        record = _record(row)
        return replace(record, events=merge(events).events) if events else record

    def stamp(self) -> int:
        """The newest pushed record's id (0 with none): a poll that reads it again and finds it
        unchanged knows no push arrived, without reading a call (one index lookup). A binding
        recorded later links calls without a push; a list shows that at its next full read."""
        with self._store.read() as conn:
            row = conn.execute("SELECT MAX(id) AS newest FROM call_events").fetchone()
        return int(row["newest"] or 0) if row is not None else 0

    def events(self, provider: str, call_id: str) -> list[CallEvent]:
        with self._store.read() as conn:
            return self._read_events(conn, provider, call_id)
