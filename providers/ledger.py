"""The local ledger of privacy-number bindings, in SQLite.

None of the vendors can list every binding of an account, so this file is the only complete record
of the bindings teledeck created or imported. It is written so that nothing committed is lost and
nothing is half-written, even if the process is killed mid-write:

- every write method is exactly one transaction (`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on
  any exception), so a binding row and its history event land together or not at all;
- the journal is WAL with `synchronous=FULL` (see `_connect` for why FULL);
- a file that is not a SQLite database, or fails `PRAGMA quick_check`, is moved aside to
  `<name>.corrupt-<timestamp>` and a fresh ledger is started; `BindingLedger.recovered_from`
  tells the UI where it went so it can say so.

Thread safety: one `BindingLedger` holds one connection, opened with `check_same_thread=False`, and
every public method takes the ledger's lock, so a single ledger object may be shared freely between
the event loop thread and worker threads (`asyncio.to_thread`). Calls are serialized; each is short.
Several processes may open the same file: SQLite's own locking plus a busy timeout covers that.

Removal is never silent: a binding the provider no longer knows is *marked* `REMOVED`; only
`forget()`, an explicit user action, deletes a row.

A binding the vendor made is never lost to a locked file: when another process holds the database
(busy timeout, then a few retries), `record_created` and `mark_unbound` append the write to a small
journal beside it (`<name>.journal`, JSON lines, 0600, fsynced) and return as if written; the
journal is replayed, and then removed, the next time a ledger opens the file (or calls
`replay_journal`). Reads never fail on one damaged row (text that is not UTF-8, a date that does
not parse): the row is skipped, the others are returned, and `skipped_rows` says which and why.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.bindings import ACTIVE, EXPIRED, REMOVED, UNKNOWN, Binding, BindingProvider, BindRequest
from providers.errors import ProviderError
from providers.paths import DATA_DIR_ENV as DATA_DIR_ENV  # the variable's name, importable from here too
from providers.paths import data_dir

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


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# Forward migrations: _MIGRATIONS[n] takes a ledger from user_version n-1 to n. All pending steps
# run in one transaction together with the `PRAGMA user_version` bump, so an upgrade is all or
# nothing. Never edit a shipped step; append a new one and raise SCHEMA_VERSION.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        f"""
        CREATE TABLE bindings (
            key                TEXT PRIMARY KEY,          -- Binding.key: provider:subscription_id
            provider           TEXT NOT NULL,
            mode               TEXT NOT NULL,
            subscription_id    TEXT NOT NULL,
            x                  TEXT NOT NULL,
            a                  TEXT NOT NULL DEFAULT '',
            b                  TEXT NOT NULL DEFAULT '',
            extension          TEXT NOT NULL DEFAULT '',
            expires_at         TEXT,                      -- ISO 8601, UTC, microseconds; NULL = none
            recording          INTEGER CHECK (recording IN (0, 1)),  -- NULL = unknown
            status             TEXT NOT NULL CHECK (status IN ({_sql_list(STATUSES)})),
            pool               TEXT NOT NULL DEFAULT '',
            user_data          TEXT NOT NULL DEFAULT '',
            account            TEXT NOT NULL DEFAULT '',
            raw                TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(raw)),
            origin             TEXT NOT NULL CHECK (origin IN ({_sql_list(ORIGINS)})),
            created_at         TEXT NOT NULL,
            updated_at         TEXT NOT NULL,
            last_refreshed_at  TEXT,
            last_error_code    TEXT,
            last_error_message TEXT,
            last_error_at      TEXT,
            CHECK (key = provider || ':' || subscription_id)
        )
        """,
        "CREATE INDEX bindings_by_expiry ON bindings (expires_at)",
        f"""
        CREATE TABLE events (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            binding_key TEXT NOT NULL REFERENCES bindings (key) ON DELETE CASCADE,
            at          TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ({_sql_list(EVENT_KINDS)})),
            detail      TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX events_by_binding ON events (binding_key, id)",
    ),
    # Binds whose outcome is unknown (the answer was lost and no check could tell): kept until a
    # later check settles them, so a binding the vendor may have made is never known to nobody.
    2: (
        """
        CREATE TABLE pending_binds (
            id          TEXT PRIMARY KEY,                 -- the request's idempotency key
            provider    TEXT NOT NULL,
            account     TEXT NOT NULL DEFAULT '',
            request     TEXT NOT NULL CHECK (json_valid(request)),  -- the BindRequest as sent
            created_at  TEXT NOT NULL,
            detail      TEXT NOT NULL DEFAULT ''           -- what was checked
        )
        """,
    ),
    # Huawei AXYB bindings have a second privacy number, Y (Binding.y).
    3: ("ALTER TABLE bindings ADD COLUMN y TEXT NOT NULL DEFAULT ''",),
}
SCHEMA_VERSION = max(_MIGRATIONS)


def default_ledger_path() -> Path:
    """`$TELEDECK_DATA_DIR/bindings.sqlite3`, else the platform's user data dir for teledeck."""
    return data_dir() / LEDGER_FILENAME


class LedgerError(Exception):
    """The ledger cannot be opened or used (not corruption, which is recovered from)."""


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


def _request_from(text: str) -> BindRequest:
    data = json.loads(text)
    data["expires_at"] = _parse(data.get("expires_at"))
    return BindRequest(**{f.name: data[f.name] for f in fields(BindRequest) if f.name in data})


@dataclass(frozen=True)
class SkippedRow:
    """A row a read could not turn into a binding: its key (as far as it is readable) and why."""

    key: str
    reason: str


class _Undecodable(bytes):
    """A text column whose bytes are not UTF-8 (the connection's text_factory keeps them so)."""


def _text(data: bytes) -> str | _Undecodable:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _Undecodable(data)


def _is_busy(exc: BaseException) -> bool:
    """Another connection holds the database (SQLITE_BUSY or SQLITE_LOCKED)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


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


def _iso(value: datetime) -> str:
    """Aware datetime -> fixed-width UTC text, so that text order is time order."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the ledger only stores timezone-aware times")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str) -> datetime:
    """A time column written by `_iso` (the NOT NULL ones: created, updated, errors, events)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _parse(text: str | None) -> datetime | None:
    """A time column that may be NULL (expiry, last refresh)."""
    return None if text is None else _moment(text)


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
            value = None if value is None else int(bool(value))
        values.append(value)
    # default=str: a vendor answer is JSON already; anything odd an adapter put in must not make a
    # refresh fail, so it is kept as its text.
    values.append(json.dumps(binding.raw or {}, ensure_ascii=False, sort_keys=True, default=str))
    return tuple(values)


def _binding(row: sqlite3.Row | Mapping[str, Any]) -> Binding:
    for name in (*_FIELDS, "raw"):
        if isinstance(row[name], _Undecodable):
            raise ValueError(f"column {name} is not valid UTF-8")
    try:
        raw = json.loads(row["raw"])
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


def _entry(row: sqlite3.Row) -> LedgerEntry:
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


class _CorruptLedger(sqlite3.DatabaseError):
    """`PRAGMA quick_check` found damage."""


def _is_corruption(exc: BaseException) -> bool:
    if isinstance(exc, _CorruptLedger):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


_ORDER = "ORDER BY expires_at IS NULL, expires_at, key"
_UPDATE_FIELDS = ", ".join(f"{c} = ?" for c in _COLUMNS)


class BindingLedger:
    """The bindings teledeck created or imported, and their history. `path=None` is in-memory.

    Thread-safe (one connection, one lock; see the module docstring). Write methods raise
    `KeyError` for a key the ledger does not hold and `ValueError` for a binding it cannot store
    (naive datetime, unknown status); either way nothing is written.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        busy_timeout: float = _BUSY_TIMEOUT_S,
        lock_retries: int = _LOCK_RETRIES,
        lock_retry_wait: float = _LOCK_RETRY_WAIT_S,
    ) -> None:
        self.path: Path | None = Path(path).expanduser() if path is not None else None
        self.recovered_from: Path | None = None  # where a corrupt ledger file was moved, if one was
        self.journal_path: Path | None = (
            self.path.with_name(self.path.name + JOURNAL_SUFFIX) if self.path is not None else None
        )
        self.journaled = 0  # writes this object sent to the journal because the file was locked
        self.replayed = 0  # journal entries replayed into the database by this object
        self.skipped_rows: list[SkippedRow] = []  # rows the last read could not use
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._lock_retries = lock_retries
        self._lock_retry_wait = lock_retry_wait
        self._lock = threading.RLock()
        if self.path is not None:
            self._prepare_file(self.path)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            if self.path is None or not _is_corruption(exc):
                raise LedgerError(f"cannot open the bindings ledger {self.path or ':memory:'}: {exc}") from exc
            self.recovered_from = self._move_aside(self.path)
            log.warning("bindings ledger %s was corrupt (%s); moved to %s", self.path, exc, self.recovered_from)
            self._prepare_file(self.path)
            try:
                self._conn = self._connect()
            except sqlite3.DatabaseError as again:
                raise LedgerError(f"cannot create a new bindings ledger at {self.path}: {again}") from again
        self.replay_journal()

    # -- opening -----------------------------------------------------------------------------

    @staticmethod
    def _prepare_file(path: Path) -> None:
        """Create the directory, and the file readable by its owner only: it holds phone numbers.
        (SQLite gives its -wal and -shm files the same permissions.)"""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise LedgerError(f"cannot create the bindings ledger {path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        target = ":memory:" if self.path is None else str(self.path)
        # isolation_level=None: no implicit transactions; every write opens its own explicitly.
        conn = sqlite3.connect(target, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.text_factory = _text  # one row of bad bytes must not fail a whole read
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")  # the first read: a non-database fails here
            # FULL, not NORMAL: in WAL mode NORMAL is still crash-safe against corruption, but a power
            # loss can roll back the last commits. The vendors cannot list bindings, so a lost row is
            # a binding nobody knows about (still billed, still routing calls). One fsync per commit
            # is a cheap price for writes that happen at human speed.
            conn.execute("PRAGMA synchronous = FULL")
            problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise _CorruptLedger("; ".join(problems[:3]))
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # The version is read inside the write transaction, so two processes opening a new file at
        # once cannot both run the same step.
        with _immediate(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LedgerError(
                    f"the bindings ledger {self.path} has schema version {version}, newer than this "
                    f"teledeck understands ({SCHEMA_VERSION}); upgrade teledeck to open it"
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(step)}")

    @staticmethod
    def _move_aside(path: Path) -> Path:
        stamp = _utcnow().strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(path, target)
            # SQLite has usually merged or removed a WAL when it closed the failed connection; whatever
            # is left goes with the file, so that a stale WAL never meets the new ledger.
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    os.replace(side, target.with_name(target.name + suffix))
        except OSError as exc:
            raise LedgerError(f"the bindings ledger {path} is corrupt and could not be moved aside: {exc}") from exc
        return target

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> BindingLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            with _immediate(self._conn) as conn:
                yield conn

    def _now(self) -> str:
        return _iso(self._clock())

    @staticmethod
    def _row(conn: sqlite3.Connection, key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute("SELECT * FROM bindings WHERE key = ?", (key,)).fetchone()
        return row

    def _require(self, conn: sqlite3.Connection, key: str) -> sqlite3.Row:
        row = self._row(conn, key)
        if row is None:
            raise KeyError(key)
        return row

    @staticmethod
    def _add_event(conn: sqlite3.Connection, key: str, kind: str, at: str, detail: str = "") -> None:
        conn.execute("INSERT INTO events (binding_key, at, kind, detail) VALUES (?, ?, ?, ?)", (key, at, kind, detail))

    def _insert(
        self, conn: sqlite3.Connection, binding: Binding, values: tuple[Any, ...], origin: str, now: str
    ) -> None:
        conn.execute(
            f"INSERT INTO bindings (key, {', '.join(_COLUMNS)}, origin, created_at, updated_at) "
            f"VALUES (?, {', '.join('?' for _ in _COLUMNS)}, ?, ?, ?)",
            (binding.key, *values, origin, now, now),
        )

    # -- writes --------------------------------------------------------------------------------

    def _retrying(self, write: Callable[[], Any]) -> Any:
        """Run one write, again after a short wait while another process holds the file."""
        for attempt in range(self._lock_retries + 1):
            try:
                return write()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == self._lock_retries:
                    raise
                time.sleep(self._lock_retry_wait * (attempt + 1))
        raise AssertionError("unreachable")

    def _journal(self, entry: dict[str, Any]) -> None:
        """Append one write to the journal (0600, fsynced): replayed on the next open."""
        assert self.journal_path is not None
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.journaled += 1

    def _or_journal(self, write: Callable[[], Any], entry: dict[str, Any]) -> bool:
        """Run `write`; when the file stays locked, journal `entry` instead. True: written now."""
        try:
            self._retrying(write)
            return True
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or self.journal_path is None:
                raise
        self._journal(entry)
        log.warning("bindings ledger %s is locked; the %s write was journaled", self.path, entry["op"])
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
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    return 0  # still locked: the journal stays for the next open
                raise
            self.journal_path.unlink()
            self.replayed += applied
            if applied:
                log.info("bindings ledger %s: replayed %d journaled write(s)", self.path, applied)
            return applied

    def record_created(self, binding: Binding) -> Binding:
        """A binding teledeck just made. Recording the same key again updates it in place. When
        the file stays locked, the write goes to the journal and `binding` is returned as given."""
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
        stays locked, the write goes to the journal."""
        if self.journal_path is None:
            return self._mark_unbound(key)
        stored: list[Binding] = []
        if self._or_journal(lambda: stored.append(self._mark_unbound(key)), {"op": "unbound", "key": key}):
            return stored[0]
        known = self.get(key)  # WAL readers are not blocked by a writer
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
        with self._lock:
            with _immediate(self._conn) as conn:
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
        with self._lock:
            rows = self._conn.execute("SELECT * FROM pending_binds ORDER BY created_at, id").fetchall()
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
                log.warning("bindings ledger %s: skipped an unreadable pending bind (%s)", self.path, exc)
        return out

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> Binding | None:
        with self._lock:
            row = self._row(self._conn, key)
        return None if row is None else _binding(row)

    def entry(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = self._row(self._conn, key)
        return None if row is None else _entry(row)

    def _select(self, include_inactive: bool) -> list[sqlite3.Row]:
        with self._lock:
            if include_inactive:
                return self._conn.execute(f"SELECT * FROM bindings {_ORDER}").fetchall()
            live = ", ".join("?" for _ in LIVE_STATUSES)
            return self._conn.execute(
                f"SELECT * FROM bindings WHERE status IN ({live}) {_ORDER}", LIVE_STATUSES
            ).fetchall()

    def _usable(self, rows: list[sqlite3.Row], make: Callable[[sqlite3.Row], Any]) -> list[Any]:
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
            log.warning("bindings ledger %s: skipped %d unreadable row(s)", self.path, len(skipped))
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
        with self._lock:
            rows = self._conn.execute(
                "SELECT binding_key, kind, at, detail FROM events WHERE binding_key = ? ORDER BY id", (key,)
            ).fetchall()
        return [LedgerEvent(r["binding_key"], r["kind"], _moment(r["at"]), r["detail"]) for r in rows]


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlock
    between processes); any exception rolls everything back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


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
    (each is one transaction). Raises only when the ledger itself fails (`sqlite3.Error`).
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
        # Only a failure of the ledger itself (sqlite3.Error, e.g. a full disk) or a cancellation
        # gets here: stop the other calls and let it through as it is.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

    report.expired += await asyncio.to_thread(ledger.mark_expired, now)
    return report
