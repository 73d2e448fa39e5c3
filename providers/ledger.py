"""The ledger of privacy-number bindings, their calls and the audit log: a SQLite file by default,
a PostgreSQL database a team shares when config.toml says `[ledger] url = "postgresql://..."`.

None of the vendors can list every binding of an account, so the ledger is the only complete
record of the bindings teledeck created or imported. It is written so that nothing committed is
lost and nothing is half-written, even if the process is killed mid-write:

- every write method is exactly one transaction (rolled back on any exception), so a binding row
  and its history event land together or not at all; bindings writes are serialized per ledger
  (providers/ledger_store.py: SQLite's `BEGIN IMMEDIATE`, PostgreSQL's advisory lock), so their
  read-then-write cannot race another process;
- SQLite: the journal is WAL with `synchronous=FULL`; a file that is not a SQLite database, or
  fails `PRAGMA quick_check`, is moved aside to `<name>.corrupt-<timestamp>` and a fresh ledger
  is started; `BindingLedger.recovered_from` tells the UI where it went so it can say so.
- the schema is versioned (providers/ledger_schema.py): a SQLite file upgrades itself when
  opened; a PostgreSQL ledger changes only through `teledeck ledger migrate`.

Thread safety: one `BindingLedger` holds one connection and its store's lock, so a single ledger
object may be shared freely between the event loop thread and worker threads
(`asyncio.to_thread`). Calls are serialized; each is short. Several processes may open the same
ledger: SQLite's own locking plus a busy timeout, or PostgreSQL's, covers that.

Removal is never silent: a binding the provider no longer knows is *marked* `REMOVED`; only
`forget()`, an explicit user action, deletes a row.

A binding the vendor made is never lost to a locked SQLite file or a PostgreSQL server that went
away: when another process holds the database (busy timeout, then a few retries), or the server
cannot be reached (a few retries), `record_created` and `mark_unbound` append the write to a
small journal (`<name>.journal` beside the file; `<data dir>/ledger-<hash of the URL>.journal`
for PostgreSQL; JSON lines, 0600, fsynced) and return as if written; the journal is replayed,
and then removed, the next time a ledger opens (or calls `replay_journal`). Reads never fail on one damaged row (text that is not UTF-8, a date that
does not parse): the row is skipped, the others are returned, and `skipped_rows` says which and why.

Calls (providers/ledger_calls.py) and the audit table are in the same ledger, so the receiver on
a server and every console and CLI on one PostgreSQL ledger see the same calls and changes.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.bindings import ACTIVE, EXPIRED, REMOVED, UNKNOWN, Binding, BindingProvider, BindRequest
from providers.errors import ProviderError
from providers.ledger_schema import SCHEMA_VERSION as SCHEMA_VERSION
from providers.ledger_schema import MigrationReport
from providers.ledger_store import (
    POSTGRESQL,
    Conn,
    PostgresStore,
    PostgresTarget,
    SqliteStore,
    Store,
    _Undecodable,
    is_busy,
    iso,
    json_value,
    maybe_moment,
    moment,
)
from providers.ledger_store import LedgerError as LedgerError
from providers.ledger_store import LedgerSchemaError as LedgerSchemaError
from providers.ledger_store import LedgerUnavailable as LedgerUnavailable
from providers.paths import DATA_DIR_ENV as DATA_DIR_ENV  # the variable's name, importable from here too
from providers.paths import data_dir

if TYPE_CHECKING:
    from providers.audit import AuditEntry
    from providers.calls import CallEvent, CallRecord
    from providers.ledger_calls import CallBook

log = logging.getLogger("teledeck.ledger")

LEDGER_FILENAME = "bindings.sqlite3"

ORIGIN_CREATED = "created"
ORIGIN_IMPORTED = "imported"
ORIGINS = (ORIGIN_CREATED, ORIGIN_IMPORTED)

# History event kinds
EV_BOUND = "bound"
EV_MODIFIED = "modified"
EV_UNBOUND = "unbound"
EV_EXPIRED = "expired"
EV_REMOVED_REMOTELY = "removed_remotely"
EV_IMPORTED = "imported"
EV_REFRESH_FAILED = "refresh_failed"
EVENT_KINDS = (EV_BOUND, EV_MODIFIED, EV_UNBOUND, EV_EXPIRED, EV_REMOVED_REMOTELY, EV_IMPORTED, EV_REFRESH_FAILED)

STATUSES = (ACTIVE, EXPIRED, REMOVED, UNKNOWN)
LIVE_STATUSES = (ACTIVE, UNKNOWN)  # the ones a refresh still looks at

_MAX_ERROR_MESSAGE = 500
_BUSY_TIMEOUT_S = 5.0
_LOCK_RETRIES = 2  # after the busy timeout, before a write goes to the journal
_LOCK_RETRY_WAIT_S = 0.5
JOURNAL_SUFFIX = ".journal"

# Binding fields in column order (everything except `raw`, which is stored as JSON).
_FIELDS = (
    "provider", "mode", "subscription_id", "x", "a", "b", "extension",
    "expires_at", "recording", "status", "pool", "user_data", "account", "y",
)  # fmt: skip
_COLUMNS = (*_FIELDS, "raw")


def default_ledger_path() -> Path:
    """`$TELEDECK_DATA_DIR/bindings.sqlite3`, else the platform's user data dir for teledeck."""
    return data_dir() / LEDGER_FILENAME


@dataclass(frozen=True)
class PendingBind:
    """A bind whose outcome is unknown: the request exactly as it was sent (its expiry, key and
    tag), so that a later check looks for that very request."""

    id: str
    provider: str
    account: str
    request: BindRequest
    created_at: datetime
    detail: str = ""


def _request_json(request: BindRequest) -> str:
    data = {f.name: getattr(request, f.name) for f in fields(BindRequest)}
    data["expires_at"] = None if request.expires_at is None else _iso(request.expires_at)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _request_from(stored: Any) -> BindRequest:
    data = dict(json_value(stored))
    data["expires_at"] = _parse(data.get("expires_at"))
    return BindRequest(**{f.name: data[f.name] for f in fields(BindRequest) if f.name in data})


@dataclass(frozen=True)
class SkippedRow:
    """A row a read could not turn into a binding: its key (as far as it is readable) and why."""

    key: str
    reason: str


@dataclass(frozen=True)
class RefreshFailure:
    """What the vendor said the last time a refresh of a binding failed. Never holds a secret."""

    code: str
    message: str
    at: datetime

    def summary(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


@dataclass(frozen=True)
class LedgerEntry:
    """A binding plus what the ledger knows about it."""

    binding: Binding
    origin: str  # ORIGIN_CREATED | ORIGIN_IMPORTED
    created_at: datetime
    updated_at: datetime
    last_refreshed_at: datetime | None
    last_error: RefreshFailure | None

    @property
    def key(self) -> str:
        return self.binding.key


@dataclass(frozen=True)
class LedgerEvent:
    key: str
    kind: str  # one of EVENT_KINDS
    at: datetime
    detail: str = ""


def _utcnow() -> datetime:
    return datetime.now(UTC)


_iso = iso  # aware datetime -> fixed-width UTC text (both engines take it)
_moment = moment  # a NOT NULL time column (created, updated, errors, events)
_parse = maybe_moment  # a time column that may be NULL (expiry, last refresh)


def _check(binding: Binding) -> None:
    if not binding.provider or not binding.subscription_id:
        raise ValueError(f"binding {binding.key!r} needs a provider and a subscription id")
    if binding.status not in STATUSES:
        raise ValueError(f"binding {binding.key}: unknown status {binding.status!r}")
    if binding.expires_at is not None:
        _iso(binding.expires_at)


def _values(binding: Binding) -> tuple[Any, ...]:
    """Binding -> column values in `_COLUMNS` order (validates first)."""
    _check(binding)
    values: list[Any] = []
    for name in _FIELDS:
        value = getattr(binding, name)
        if name == "expires_at":
            value = None if value is None else _iso(value)
        elif name == "recording":
            value = None if value is None else bool(value)  # SQLite stores 1/0, PostgreSQL a boolean
        values.append(value)
    # default=str: a vendor answer is JSON already; anything odd an adapter put in must not make a
    # refresh fail, so it is kept as its text.
    values.append(json.dumps(binding.raw or {}, ensure_ascii=False, sort_keys=True, default=str))
    return tuple(values)


def _binding(row: Mapping[str, Any]) -> Binding:
    for name in (*_FIELDS, "raw"):
        if isinstance(row[name], _Undecodable):
            raise ValueError(f"column {name} is not valid UTF-8")
    try:
        raw = json_value(row["raw"])
    except (TypeError, ValueError):
        raw = {}
    return Binding(
        provider=row["provider"],
        mode=row["mode"],
        subscription_id=row["subscription_id"],
        x=row["x"],
        a=row["a"],
        b=row["b"],
        extension=row["extension"],
        expires_at=_parse(row["expires_at"]),
        recording=None if row["recording"] is None else bool(row["recording"]),
        status=row["status"],
        pool=row["pool"],
        user_data=row["user_data"],
        account=row["account"],
        y=row["y"],
        raw=raw if isinstance(raw, dict) else {"value": raw},
    )


def _entry(row: Mapping[str, Any]) -> LedgerEntry:
    error = None
    if row["last_error_at"] is not None:
        error = RefreshFailure(
            row["last_error_code"] or "", row["last_error_message"] or "", _moment(row["last_error_at"])
        )
    return LedgerEntry(
        binding=_binding(row),
        origin=row["origin"],
        created_at=_moment(row["created_at"]),
        updated_at=_moment(row["updated_at"]),
        last_refreshed_at=_parse(row["last_refreshed_at"]),
        last_error=error,
    )


def _for_later(exc: BaseException) -> bool:
    """A write that may succeed later: the SQLite file is locked, or the server is away."""
    return isinstance(exc, LedgerUnavailable) or is_busy(exc)


_ORDER = "ORDER BY expires_at IS NULL, expires_at, key"
_UPDATE_FIELDS = ", ".join(f"{c} = ?" for c in _COLUMNS)


class BindingLedger:
    """The bindings teledeck created or imported, their history, the calls made through them and
    the audit log. `path=None` is an in-memory SQLite ledger; `postgres=` a PostgreSQL one.

    Thread-safe (one connection, one lock; see the module docstring). Write methods raise
    `KeyError` for a key the ledger does not hold and `ValueError` for a binding it cannot store
    (naive datetime, unknown status); either way nothing is written. `LedgerError` when the
    ledger itself cannot be used (a PostgreSQL server that cannot be reached, a schema that needs
    `teledeck ledger migrate`).
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        postgres: PostgresTarget | None = None,
        clock: Callable[[], datetime] = _utcnow,
        busy_timeout: float = _BUSY_TIMEOUT_S,
        lock_retries: int = _LOCK_RETRIES,
        lock_retry_wait: float = _LOCK_RETRY_WAIT_S,
    ) -> None:
        if postgres is not None and path is not None:
            raise ValueError("a ledger is a file or a PostgreSQL database, not both")
        self.path: Path | None = Path(path).expanduser() if path is not None else None
        self.journal_path: Path | None = (
            self.path.with_name(self.path.name + JOURNAL_SUFFIX) if self.path is not None else None
        )
        self.journaled = 0  # writes this object sent to the journal because the file was locked
        self.replayed = 0  # journal entries replayed into the database by this object
        self.skipped_rows: list[SkippedRow] = []  # rows the last read could not use
        self._clock = clock
        self._lock_retries = lock_retries
        self._lock_retry_wait = lock_retry_wait
        self._store: Store
        if postgres is not None:
            # Writes the server could not take wait on this machine, as a locked file's do.
            digest = hashlib.sha256(postgres.url.encode()).hexdigest()[:16]
            self.journal_path = data_dir() / f"ledger-{digest}{JOURNAL_SUFFIX}"
            self._store = PostgresStore(postgres)
            self.recovered_from: Path | None = None
            self.migrated: MigrationReport | None = None
        else:
            sqlite_store = SqliteStore(self.path, busy_timeout=busy_timeout)
            self._store = sqlite_store
            self.recovered_from = sqlite_store.recovered_from  # where a corrupt file was moved, if it was
            self.migrated = sqlite_store.migrated
        self._lock = self._store.lock
        self._calls: CallBook | None = None
        self.replay_journal()

    @property
    def location(self) -> str:
        """The file's path, or `postgresql://user@host:port/db` (never a password)."""
        return self._store.location

    @property
    def shared(self) -> bool:
        """A team's ledger (PostgreSQL), rather than this user's file."""
        return self._store.dialect == POSTGRESQL

    @property
    def _conn(self) -> Any:
        """The engine's own connection (tests and tools that look inside)."""
        return self._store.raw

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> BindingLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        with self._store.transaction() as conn:
            yield conn

    def _now(self) -> str:
        return _iso(self._clock())

    @staticmethod
    def _row(conn: Conn, key: str) -> Any:
        return conn.execute("SELECT * FROM bindings WHERE key = ?", (key,)).fetchone()

    def _require(self, conn: Conn, key: str) -> Any:
        row = self._row(conn, key)
        if row is None:
            raise KeyError(key)
        return row

    @staticmethod
    def _add_event(conn: Conn, key: str, kind: str, at: str, detail: str = "") -> None:
        conn.execute("INSERT INTO events (binding_key, at, kind, detail) VALUES (?, ?, ?, ?)", (key, at, kind, detail))

    def _insert(self, conn: Conn, binding: Binding, values: tuple[Any, ...], origin: str, now: str) -> None:
        conn.execute(
            f"INSERT INTO bindings (key, {', '.join(_COLUMNS)}, origin, created_at, updated_at) "
            f"VALUES (?, {', '.join('?' for _ in _COLUMNS)}, ?, ?, ?)",
            (binding.key, *values, origin, now, now),
        )
        # Calls pushed before the binding was recorded (a receiver is quick) are its calls.
        conn.execute(
            "UPDATE calls SET binding_key = ? WHERE provider = ? AND subscription_id = ? AND binding_key = ''",
            (binding.key, binding.provider, binding.subscription_id),
        )

    # -- writes --------------------------------------------------------------------------------

    def _retrying(self, write: Callable[[], Any]) -> Any:
        """Run one write, again after a short wait while another process holds the file or the
        server cannot be reached."""
        for attempt in range(self._lock_retries + 1):
            try:
                return write()
            except (sqlite3.OperationalError, LedgerUnavailable) as exc:
                if not _for_later(exc) or attempt == self._lock_retries:
                    raise
                time.sleep(self._lock_retry_wait * (attempt + 1))
        raise AssertionError("unreachable")

    def _journal(self, entry: dict[str, Any]) -> None:
        """Append one write to the journal (0600, fsynced): replayed on the next open."""
        assert self.journal_path is not None
        self.journal_path.parent.mkdir(
            parents=True, exist_ok=True, mode=0o700
        )  # a PostgreSQL ledger's, in the data dir
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.journaled += 1

    def _or_journal(self, write: Callable[[], Any], entry: dict[str, Any]) -> bool:
        """Run `write`; when the file stays locked (or the server away), journal `entry` instead.
        True: written now."""
        try:
            self._retrying(write)
            return True
        except (sqlite3.OperationalError, LedgerUnavailable) as exc:
            if not _for_later(exc) or self.journal_path is None:
                raise
            why = str(exc)
        self._journal(entry)
        log.warning("bindings ledger %s: the %s write was journaled (%s)", self.location, entry["op"], why)
        return False

    def pending_journal(self) -> int:
        """How many journaled writes wait to be replayed."""
        if self.journal_path is None or not self.journal_path.exists():
            return 0
        return sum(1 for line in self.journal_path.read_bytes().splitlines() if line.strip())

    def replay_journal(self) -> int:
        """Apply the journaled writes (oldest first), then remove the journal. A line that cannot
        be read (a torn last write) is logged and dropped. Returns how many were applied; the
        journal stays when the file is still locked."""
        if self.journal_path is None or not self.journal_path.exists():
            return 0
        with self._lock:
            lines = self.journal_path.read_bytes().splitlines()
            applied = 0
            try:
                for raw in lines:
                    if not raw.strip():
                        continue
                    try:
                        entry = json.loads(raw)
                        if entry["op"] == "created":
                            written = {"y": "", **entry["binding"]}  # a journal from before schema 3 has no y
                            binding = _binding({name: written[name] for name in _COLUMNS})
                            self._retrying(functools.partial(self._record_created, binding))
                        elif entry["op"] == "unbound":
                            try:
                                self._retrying(functools.partial(self._mark_unbound, str(entry["key"])))
                            except KeyError:
                                log.warning("journaled unbind of %s: not in the ledger", entry["key"])
                        else:
                            raise ValueError(f"unknown journal op {entry['op']!r}")
                    except (ValueError, KeyError, TypeError) as exc:
                        log.warning("bindings ledger journal: skipped an unreadable entry (%s)", exc)
                        continue
                    applied += 1
            except (sqlite3.OperationalError, LedgerUnavailable) as exc:
                if _for_later(exc):
                    return 0  # still locked, or the server away: the journal stays for the next open
                raise
            self.journal_path.unlink()
            self.replayed += applied
            if applied:
                log.info("bindings ledger %s: replayed %d journaled write(s)", self.path, applied)
            return applied

    def record_created(self, binding: Binding) -> Binding:
        """A binding teledeck just made. Recording the same key again updates it in place. When
        the file stays locked (or the server away), the write goes to the journal and `binding`
        is returned as given."""
        if self.journal_path is None:
            return self._record_created(binding)
        _values(binding)  # refuse an unstorable binding now, not at replay
        entry = {"op": "created", "binding": dict(zip(_COLUMNS, _values(binding), strict=True)), "at": self._now()}
        stored: list[Binding] = []
        if self._or_journal(lambda: stored.append(self._record_created(binding)), entry):
            return stored[0]
        return binding

    def _record_created(self, binding: Binding) -> Binding:
        values = _values(binding)
        with self._write() as conn:
            now = self._now()
            if self._row(conn, binding.key) is None:
                self._insert(conn, binding, values, ORIGIN_CREATED, now)
            else:
                conn.execute(
                    f"UPDATE bindings SET {_UPDATE_FIELDS}, updated_at = ? WHERE key = ?", (*values, now, binding.key)
                )
            self._add_event(conn, binding.key, EV_BOUND, now, binding.mode)
            return _binding(self._require(conn, binding.key))

    def record_imported(self, bindings: Iterable[Binding]) -> int:
        """Add bindings found at a provider; keys already in the ledger are left as they are.
        All or nothing: one bad binding and none is added. Returns how many were new."""
        items = [(b, _values(b)) for b in bindings]
        added = 0
        with self._write() as conn:
            now = self._now()
            for binding, values in items:
                if self._row(conn, binding.key) is not None:
                    continue
                self._insert(conn, binding, values, ORIGIN_IMPORTED, now)
                self._add_event(conn, binding.key, EV_IMPORTED, now, binding.mode)
                added += 1
        return added

    def apply_refresh(self, binding: Binding) -> Binding:
        """Store the provider's current view of a binding the ledger holds; returns the stored one.

        A binding that comes back REMOVED keeps its last-known details and only changes status
        (the row is marked, never deleted). Clears the last refresh error.
        """
        values = _values(binding)
        with self._write() as conn:
            old = _binding(self._require(conn, binding.key))
            now = self._now()
            if binding.status == REMOVED:
                new = replace(old, status=REMOVED)
                values = _values(new)
            else:
                new = binding
            conn.execute(
                f"UPDATE bindings SET {_UPDATE_FIELDS}, updated_at = ?, last_refreshed_at = ?, "
                "last_error_code = NULL, last_error_message = NULL, last_error_at = NULL WHERE key = ?",
                (*values, now, now, binding.key),
            )
            changed = [f for f in _FIELDS if f != "status" and getattr(old, f) != getattr(new, f)]
            if changed:
                self._add_event(conn, binding.key, EV_MODIFIED, now, ", ".join(changed))
            if new.status != old.status:
                if new.status == REMOVED:
                    self._add_event(conn, binding.key, EV_REMOVED_REMOTELY, now)
                elif new.status == EXPIRED:
                    self._add_event(conn, binding.key, EV_EXPIRED, now, "reported by the provider")
            return _binding(self._require(conn, binding.key))

    def mark_expired(self, now: datetime | None = None) -> int:
        """Live bindings (ACTIVE or UNKNOWN) whose `expires_at` is at or before `now` become
        EXPIRED. Returns how many did."""
        cutoff = _iso(now if now is not None else self._clock())
        live = ", ".join("?" for _ in LIVE_STATUSES)
        where = f"status IN ({live}) AND expires_at IS NOT NULL AND expires_at <= ?"
        with self._write() as conn:
            stamp = self._now()
            keys = [r[0] for r in conn.execute(f"SELECT key FROM bindings WHERE {where}", (*LIVE_STATUSES, cutoff))]
            for key in keys:
                conn.execute("UPDATE bindings SET status = ?, updated_at = ? WHERE key = ?", (EXPIRED, stamp, key))
                self._add_event(conn, key, EV_EXPIRED, stamp, "by the clock")
        return len(keys)

    def mark_unbound(self, key: str) -> Binding:
        """teledeck unbound it at the provider: status REMOVED, kept in the ledger. When the file
        stays locked (or the server away), the write goes to the journal; a server that cannot
        even be read then is a LedgerUnavailable that says the unbind is kept."""
        if self.journal_path is None:
            return self._mark_unbound(key)
        stored: list[Binding] = []
        if self._or_journal(lambda: stored.append(self._mark_unbound(key)), {"op": "unbound", "key": key}):
            return stored[0]
        try:
            known = self.get(key)  # WAL readers are not blocked by a writer
        except LedgerUnavailable as exc:
            raise LedgerUnavailable(
                f"{exc}; the unbind of {key} is kept in {self.journal_path} and written when the ledger is back"
            ) from None
        if known is None:
            raise KeyError(key)
        return replace(known, status=REMOVED)

    def _mark_unbound(self, key: str) -> Binding:
        with self._write() as conn:
            self._require(conn, key)
            now = self._now()
            conn.execute("UPDATE bindings SET status = ?, updated_at = ? WHERE key = ?", (REMOVED, now, key))
            self._add_event(conn, key, EV_UNBOUND, now)
            return _binding(self._require(conn, key))

    def record_refresh_error(self, key: str, code: str, message: str) -> None:
        """A refresh failed: keep the vendor's code and message (never pass a secret here). A live
        binding's status becomes UNKNOWN; an expired or removed one keeps its status."""
        message = (message or "")[:_MAX_ERROR_MESSAGE]
        code = code or ""
        with self._write() as conn:
            row = self._require(conn, key)
            now = self._now()
            status = UNKNOWN if row["status"] in LIVE_STATUSES else row["status"]
            conn.execute(
                "UPDATE bindings SET status = ?, last_error_code = ?, last_error_message = ?, last_error_at = ?, "
                "updated_at = ? WHERE key = ?",
                (status, code, message, now, now, key),
            )
            self._add_event(conn, key, EV_REFRESH_FAILED, now, f"[{code}] {message}" if code else message)

    def forget(self, key: str) -> bool:
        """Delete a binding and its history. Only ever on an explicit user action.
        Returns whether there was anything to delete."""
        with self._write() as conn:
            return conn.execute("DELETE FROM bindings WHERE key = ?", (key,)).rowcount > 0

    # -- binds of unknown outcome ------------------------------------------------------------

    def record_pending_bind(self, provider: str, account: str, request: BindRequest, detail: str = "") -> None:
        """Keep a bind whose outcome is unknown (keyed by its idempotency key; again: updated)."""
        if not request.idempotency_key:
            raise ValueError("a pending bind needs the idempotency key it was sent with")
        body = _request_json(request)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO pending_binds (id, provider, account, request, created_at, detail) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET detail = excluded.detail",
                (request.idempotency_key, provider, account, body, self._now(), detail[:_MAX_ERROR_MESSAGE]),
            )

    def resolve_pending_bind(self, pending_id: str) -> bool:
        """The bind's outcome is known now (done and recorded, or proved not made)."""
        with self._write() as conn:
            return conn.execute("DELETE FROM pending_binds WHERE id = ?", (pending_id,)).rowcount > 0

    def pending_binds(self) -> list[PendingBind]:
        """Binds of unknown outcome, oldest first; an unreadable one is skipped and logged."""
        with self._store.read() as conn:
            rows = conn.execute("SELECT * FROM pending_binds ORDER BY created_at, id").fetchall()
        out: list[PendingBind] = []
        for row in rows:
            try:
                out.append(
                    PendingBind(
                        id=row["id"],
                        provider=row["provider"],
                        account=row["account"],
                        request=_request_from(row["request"]),
                        created_at=_moment(row["created_at"]),
                        detail=row["detail"],
                    )
                )
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("bindings ledger %s: skipped an unreadable pending bind (%s)", self.location, exc)
        return out

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> Binding | None:
        with self._store.read() as conn:
            row = self._row(conn, key)
        return None if row is None else _binding(row)

    def entry(self, key: str) -> LedgerEntry | None:
        with self._store.read() as conn:
            row = self._row(conn, key)
        return None if row is None else _entry(row)

    def _select(self, include_inactive: bool) -> list[Any]:
        with self._store.read() as conn:
            if include_inactive:
                return conn.execute(f"SELECT * FROM bindings {_ORDER}").fetchall()
            live = ", ".join("?" for _ in LIVE_STATUSES)
            return conn.execute(f"SELECT * FROM bindings WHERE status IN ({live}) {_ORDER}", LIVE_STATUSES).fetchall()

    def _usable(self, rows: list[Any], make: Callable[[Any], Any]) -> list[Any]:
        out: list[Any] = []
        skipped: list[SkippedRow] = []
        for row in rows:
            try:
                out.append(make(row))
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                key = row["key"]
                shown = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
                skipped.append(SkippedRow(shown, str(exc)[:_MAX_ERROR_MESSAGE]))
        if skipped:
            log.warning("bindings ledger %s: skipped %d unreadable row(s)", self.location, len(skipped))
        self.skipped_rows = skipped
        return out

    def all(self, include_inactive: bool = True) -> list[Binding]:
        """Every binding, soonest expiry first (no expiry last). `include_inactive=False` keeps only
        ACTIVE and UNKNOWN ones. A row that cannot be read is skipped (see `skipped_rows`)."""
        return self._usable(self._select(include_inactive), _binding)

    def entries(self, include_inactive: bool = True) -> list[LedgerEntry]:
        """As `all()`, with origin, timestamps and the last refresh error."""
        return self._usable(self._select(include_inactive), _entry)

    def events(self, key: str) -> list[LedgerEvent]:
        """The history of one binding, oldest first."""
        with self._store.read() as conn:
            rows = conn.execute(
                "SELECT binding_key, kind, at, detail FROM events WHERE binding_key = ? ORDER BY id", (key,)
            ).fetchall()
        return [LedgerEvent(r["binding_key"], r["kind"], _moment(r["at"]), r["detail"]) for r in rows]

    # -- calls (providers/ledger_calls.py) ------------------------------------------------------

    @property
    def _call_book(self) -> CallBook:
        if self._calls is None:
            from providers.ledger_calls import CallBook

            self._calls = CallBook(self._store, self._clock)
        return self._calls

    def add_call_events(self, events: Iterable[CallEvent]) -> int:
        """Store pushed call records, each once (a push delivered again is not stored twice), and
        re-merge every call that gained one. One transaction; returns how many were new."""
        return self._call_book.add(events)

    def calls(
        self,
        *,
        binding_key: str | None = None,
        provider: str | None = None,
        since: datetime | None = None,
        limit: int | None = 500,
    ) -> list[CallRecord]:
        """Calls, newest first (without their events), of one binding or provider, started (or
        first pushed) at or after `since`, if asked; at most `limit` (None: all)."""
        return self._call_book.calls(binding_key=binding_key, provider=provider, since=since, limit=limit)

    def calls_stamp(self) -> int:
        """What changes whenever a push is stored (the newest pushed record's id): a screen polls
        it and reads the calls again only when it moved."""
        return self._call_book.stamp()

    def call(self, provider: str, call_id: str) -> CallRecord | None:
        """One call with its events, or None."""
        return self._call_book.call(provider, call_id)

    def call_events(self, provider: str, call_id: str) -> list[CallEvent]:
        """The pushed records of one call, in the order they happened."""
        return self._call_book.events(provider, call_id)

    # -- the audit log (providers/audit.py writes here when the ledger is shared) ----------------

    def add_audit(self, entry: AuditEntry) -> None:
        """One audit entry, as providers.audit.AuditLog made it (cleaned, never a secret)."""
        values = (entry.at, entry.actor, entry.profile, entry.account, entry.verb, entry.resource, entry.id)
        with self._store.transaction(serialized=False) as conn:
            conn.execute(
                "INSERT INTO audit (at, actor, profile, account, verb, resource, record_id, outcome, request_id, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, entry.outcome, entry.request_id, entry.detail),
            )

    def audit_entries(self, limit: int = 10_000) -> list[AuditEntry]:
        """The newest `limit` audit entries, newest first."""
        from providers.audit import AuditEntry, stamp

        with self._store.read() as conn:
            rows = conn.execute("SELECT * FROM audit ORDER BY at DESC, id DESC LIMIT ?", (int(limit),)).fetchall()
        return [
            AuditEntry(
                at=stamp(_moment(r["at"])),
                profile=r["profile"],
                account=r["account"],
                verb=r["verb"],
                resource=r["resource"],
                id=r["record_id"],
                outcome=r["outcome"],
                request_id=r["request_id"],
                detail=r["detail"],
                actor=r["actor"],
            )
            for r in rows
        ]


def open_ledger(
    path: Path | None = None, *, postgres: PostgresTarget | None = None, clock: Callable[[], datetime] = _utcnow
) -> BindingLedger:
    """The ledger a session uses: PostgreSQL when a target is given, else the file at `path`
    (default: the user data dir's)."""
    if postgres is not None:
        return BindingLedger(postgres=postgres, clock=clock)
    return BindingLedger(path if path is not None else default_ledger_path(), clock=clock)


def ledger_status(path: Path | None = None, *, postgres: PostgresTarget | None = None) -> MigrationReport:
    """What `migrate_ledger` would do, changing nothing: `applied` lists the migrations it would
    apply. A ledger file that does not exist yet is not created (schema 0)."""
    from providers.ledger_schema import MIGRATIONS, current_version

    store: Store
    if postgres is not None:
        store = PostgresStore(postgres, check=False)
    else:
        target = path if path is not None else default_ledger_path()
        if not target.exists():
            return MigrationReport(str(target), 0, 0, tuple(MIGRATIONS[v] for v in sorted(MIGRATIONS)))
        store = SqliteStore(target, migrate=False)
    try:
        version = current_version(store)
    finally:
        store.close()
    todo = tuple(MIGRATIONS[v] for v in sorted(MIGRATIONS) if v > version)
    return MigrationReport(store.location, version, version, todo)


def migrate_ledger(path: Path | None = None, *, postgres: PostgresTarget | None = None) -> MigrationReport:
    """Create or upgrade a ledger's schema (`teledeck ledger migrate`): what was applied."""
    from providers.ledger_schema import migrate

    store: Store
    if postgres is not None:
        store = PostgresStore(postgres, check=False)
    else:
        store = SqliteStore(path if path is not None else default_ledger_path(), migrate=False)
    try:
        return migrate(store)
    finally:
        store.close()


# -- refreshing every binding ----------------------------------------------------------------------


@dataclass
class RefreshReport:
    """What `refresh_all` did. `refreshed + removed + failed + skipped == total`; `expired` counts
    bindings that became EXPIRED during the run (provider's answer or the clock)."""

    total: int = 0
    refreshed: int = 0  # the provider answered and still has it
    removed: int = 0  # the provider no longer knows it: marked REMOVED
    expired: int = 0
    failed: int = 0  # the refresh failed; recorded as the binding's last error
    skipped: int = 0  # no provider configured for it, or forgotten during the run
    errors: dict[str, str] = field(default_factory=dict)  # key -> "[code] message", failed ones only


ProgressCallback = Callable[[int, int], object]  # (done, total)


def _provider_for(providers: Mapping[str, BindingProvider], binding: Binding) -> BindingProvider | None:
    """`providers["aliyun:<account>"]` when the caller keys by account, else `providers["aliyun"]`."""
    if binding.account:
        found = providers.get(f"{binding.provider}:{binding.account}")
        if found is not None:
            return found
    return providers.get(binding.provider)


async def refresh_all(
    ledger: BindingLedger,
    providers: Mapping[str, BindingProvider],
    *,
    concurrency: int = 4,
    on_progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> RefreshReport:
    """Refresh every live (ACTIVE or UNKNOWN) binding from its provider, at most `concurrency`
    provider calls at a time, then mark the ones whose expiry passed (at `now`, default the
    ledger's clock). A failure of one binding is recorded against it and the run goes on.

    Ledger writes run in a worker thread (`asyncio.to_thread`), so the event loop is never held by
    an fsync. Cancelling the run stops outstanding provider calls; writes already started finish
    (each is one transaction). Raises only when the ledger itself fails (`sqlite3.Error`,
    `LedgerError`).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    bindings = await asyncio.to_thread(ledger.all, False)
    report = RefreshReport(total=len(bindings))
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def fail(binding: Binding, code: str, message: str, shown: str) -> None:
        try:
            await asyncio.to_thread(ledger.record_refresh_error, binding.key, code, message)
        except KeyError:
            report.skipped += 1  # forgotten while we were asking
            return
        report.failed += 1
        report.errors[binding.key] = shown

    async def one(binding: Binding) -> None:
        provider = _provider_for(providers, binding)
        if provider is None:
            report.skipped += 1
            return
        try:
            async with gate:
                fresh = await provider.refresh(binding)
        except ProviderError as exc:
            await fail(binding, exc.code or exc.kind, exc.message, exc.summary())
            return
        except Exception as exc:  # an adapter bug must not stop the other refreshes
            log.exception("refresh of %s failed unexpectedly", binding.key)
            # Only the type: an arbitrary exception's text could hold a signed URL.
            text = f"unexpected {type(exc).__name__}"
            await fail(binding, "internal", text, f"[internal] {text}")
            return
        if fresh.key != binding.key:
            text = f"the provider answered for {fresh.key}"
            await fail(binding, "internal", text, f"[internal] {text}")
            return
        try:
            stored = await asyncio.to_thread(ledger.apply_refresh, fresh)
        except KeyError:
            report.skipped += 1
            return
        except ValueError as exc:  # the adapter returned something unstorable
            await fail(binding, "internal", str(exc)[:_MAX_ERROR_MESSAGE], f"[internal] {exc}")
            return
        if stored.status == REMOVED:
            report.removed += 1
        else:
            report.refreshed += 1
            if stored.status == EXPIRED:
                report.expired += 1

    async def tracked(binding: Binding) -> None:
        nonlocal done
        await one(binding)
        done += 1
        if on_progress is not None:
            try:
                on_progress(done, report.total)
            except Exception:  # a progress display must not abort the refresh
                log.exception("refresh progress callback failed")

    tasks = [asyncio.ensure_future(tracked(b)) for b in bindings]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # Only a failure of the ledger itself (sqlite3.Error, e.g. a full disk; LedgerError, a lost
        # PostgreSQL server) or a cancellation gets here: stop the other calls, let it through.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

    report.expired += await asyncio.to_thread(ledger.mark_expired, now)
    return report
