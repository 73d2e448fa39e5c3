"""Where the ledger's rows live: a SQLite file (the default: one person, one machine) or a
PostgreSQL database (a team's: the push receiver on a server and every console and CLI share it).

The ledger's queries are written once, with `?` placeholders and SQL both engines speak
(`INSERT ... ON CONFLICT ... DO NOTHING / DO UPDATE SET x = excluded.x`, SQLite >= 3.24); a
store runs them on its engine, and the few places that differ are the store's:

- a serialized transaction (`transaction(serialized=True)`, every bindings write and every
  migration) runs alone on its ledger: SQLite's `BEGIN IMMEDIATE` takes the file's one write lock,
  PostgreSQL's `pg_advisory_xact_lock` a lock of this ledger (per database and schema). Inside it
  a read-then-write sees no other writer, as it always did on SQLite.
- an unserialized one (`serialized=False`, the calls a receiver stores at machine speed) runs
  beside others on PostgreSQL and locks its own rows (`lock_rows` is `FOR UPDATE` there); SQLite
  serializes it anyway. `run` retries it when PostgreSQL reports a deadlock or a serialization
  failure, which only an unserialized transaction can meet.
- times are written as fixed-width UTC ISO text on both; SQLite keeps the text, PostgreSQL casts
  it to `timestamptz` and reads back a datetime (`moment` accepts either). JSON is text in SQLite
  (checked by `json_valid`) and `jsonb` in PostgreSQL (read back already parsed).

SQLite alone has a file to prepare (0600 in a 0700 folder), the journal of writes a locked file
refused (providers/ledger.py), and the recovery of a corrupt file (moved aside, a new one
started). PostgreSQL alone has a connection to lose: a failure to connect, or a connection that
breaks, is a `LedgerError` naming the server as `postgresql://user@host:port/db`, never the
password; the next use connects again.

Every store holds one connection and one lock: a ledger object may be shared between the event
loop thread and worker threads; calls are serialized and short.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("teledeck.ledger")

T = TypeVar("T")

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
URL_SCHEMES = ("postgresql", "postgres")

_BUSY_TIMEOUT_S = 5.0
_CONNECT_TIMEOUT_S = 10
# How long a PostgreSQL statement waits for a lock another session holds (a serialized write in
# another process, a migration) before the ledger says it is busy: no UI waits for ever.
_LOCK_TIMEOUT_MS = 30_000
_CONFLICT_RETRIES = 4
# The first key of this ledger's advisory locks (the second is its schema's hash): "tdl".
_ADVISORY_NAMESPACE = 0x74646C


class LedgerError(Exception):
    """The ledger cannot be opened or used (not corruption, which is recovered from)."""


class LedgerUnavailable(LedgerError):
    """The PostgreSQL server cannot be reached, or the connection broke: it may work again later
    (a bindings write waits in the local journal meanwhile)."""


class LedgerSchemaError(LedgerError):
    """The ledger's schema is not the one this teledeck uses: older (run `teledeck ledger
    migrate`) or newer (upgrade teledeck)."""


class Rows(Protocol):
    """What a statement gives back, on either engine."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """One connection inside a transaction (or a read): `?` placeholders on both engines."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...


# ---- times and JSON as the engines give them back ------------------------------------------------


def iso(value: datetime) -> str:
    """Aware datetime -> fixed-width UTC text, so that text order is time order."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the ledger only stores timezone-aware times")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def moment(value: str | datetime) -> datetime:
    """A NOT NULL time column: text written by `iso` (SQLite) or a timestamptz (PostgreSQL)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value).astimezone(UTC)


def maybe_moment(value: str | datetime | None) -> datetime | None:
    """A time column that may be NULL."""
    return None if value is None else moment(value)


def json_value(value: Any) -> Any:
    """A JSON column: text in SQLite (parsed here), already parsed from PostgreSQL's jsonb."""
    import json

    if isinstance(value, str | bytes | bytearray):
        return json.loads(value)
    return value


# ---- PostgreSQL targets --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresTarget:
    """A PostgreSQL ledger: the URL (never with a password in it) and the password, resolved
    from the environment or the secrets file; "" leaves it to libpq (~/.pgpass, PGPASSWORD, a
    client certificate, peer authentication on a socket)."""

    url: str
    password: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        problem = url_problem(self.url)
        if problem:
            raise LedgerError(f"ledger url {shown_url(self.url)}: {problem}")

    @property
    def shown(self) -> str:
        return shown_url(self.url)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a ledger URL (None when it can). A password in it is refused: it
    belongs in an environment variable or the secrets file, like every credential."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in URL_SCHEMES:
        return "expected postgresql://user@host:5432/database"
    userinfo, at, _hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        return 'the URL holds a password: remove it and set [ledger] password = "env:VARIABLE" or "secrets-file"'
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "password" in query:
        return 'the URL holds a password: remove it and set [ledger] password = "env:VARIABLE" or "secrets-file"'
    if not parts.path.strip("/") and "dbname" not in query:
        return "name the database: postgresql://user@host:5432/database"
    if parts.fragment:
        return "a ledger URL has no #fragment"
    return None


def shown_url(url: str) -> str:
    """`scheme://user@host:port/db`: what messages and the CLI show. No password (even one
    wrongly written into the URL), no query (it may hold key files' paths or other secrets)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "postgresql://(unreadable URL)"
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    db = parts.path.strip("/") or dict(parse_qsl(parts.query)).get("dbname", "")
    return f"{parts.scheme or 'postgresql'}://{user + '@' if at and user else ''}{hostport}/{db}"


def _one_line(text: str, password: str = "") -> str:
    if password:
        text = text.replace(password, "***")
    return re.sub(r"\s+", " ", text).strip()


# ---- the stores ----------------------------------------------------------------------------------


class Store:
    """One ledger's connection, on one engine."""

    dialect: str
    location: str  # what messages show: the file's path, or the masked URL
    lock_rows: str  # appended to a SELECT that locks the rows it reads until the end of the transaction
    raw: Any = None  # the engine's own connection (sqlite3's, psycopg's)

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def transaction(self, *, serialized: bool = True) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def read(self) -> AbstractContextManager[Conn]:
        """A connection for reads, outside any write transaction."""
        raise NotImplementedError

    def run(self, work: Callable[[Conn], T], *, serialized: bool = True) -> T:
        """`work` in one transaction (again, from the start, after a deadlock or serialization
        failure: only the PostgreSQL store can meet one)."""
        with self.transaction(serialized=serialized) as conn:
            return work(conn)

    def table_exists(self, conn: Conn, name: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _SqliteConn:
    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self.raw.execute(sql, params)


class _Undecodable(bytes):
    """A text column whose bytes are not UTF-8 (the connection's text_factory keeps them so)."""


def _text(data: bytes) -> str | _Undecodable:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _Undecodable(data)


class _CorruptLedger(sqlite3.DatabaseError):
    """`PRAGMA quick_check` found damage."""


def _is_corruption(exc: BaseException) -> bool:
    if isinstance(exc, _CorruptLedger):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the SQLite database (SQLITE_BUSY or SQLITE_LOCKED)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class SqliteStore(Store):
    """A ledger file (`path=None`: in memory). Opening migrates it to this teledeck's schema
    (providers/ledger_schema.py); a file that is not a database, or fails `PRAGMA quick_check`,
    is moved aside to `<name>.corrupt-<timestamp>` and a fresh ledger started (`recovered_from`)."""

    dialect = SQLITE
    lock_rows = ""  # BEGIN IMMEDIATE already holds the whole file

    def __init__(self, path: Path | None, *, busy_timeout: float = _BUSY_TIMEOUT_S, migrate: bool = True) -> None:
        super().__init__()
        self.path = path
        self.location = str(path) if path is not None else ":memory:"
        self.recovered_from: Path | None = None
        self.migrated: Any = None  # the MigrationReport of the migration run when it opened
        self._busy_timeout = busy_timeout
        self._migrate = migrate
        if path is not None:
            self._prepare_file(path)
        try:
            self.raw = self._connect()
        except sqlite3.DatabaseError as exc:
            if path is None or not _is_corruption(exc):
                raise LedgerError(f"cannot open the bindings ledger {self.location}: {exc}") from exc
            self.recovered_from = self._move_aside(path)
            log.warning("bindings ledger %s was corrupt (%s); moved to %s", path, exc, self.recovered_from)
            self._prepare_file(path)
            try:
                self.raw = self._connect()
            except sqlite3.DatabaseError as again:
                raise LedgerError(f"cannot create a new bindings ledger at {path}: {again}") from again
        self._conn = _SqliteConn(self.raw)

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
        from providers.ledger_schema import migrate

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
            self.raw = conn
            self._conn = _SqliteConn(conn)
            if self._migrate:
                # A SQLite ledger is one user's: it upgrades itself when opened.
                self.migrated = migrate(self)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _move_aside(path: Path) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
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

    @contextmanager
    def transaction(self, *, serialized: bool = True) -> Iterator[Conn]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front (no upgrade
        deadlock between processes); any exception rolls everything back. Always serialized."""
        with self.lock:
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self.raw.execute("COMMIT")
            except BaseException:
                if self.raw.in_transaction:
                    self.raw.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[Conn]:
        with self.lock:
            yield self._conn

    def table_exists(self, conn: Conn, name: str) -> bool:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return row is not None

    def close(self) -> None:
        with self.lock:
            self.raw.close()


class _PgRow(tuple[Any, ...]):
    """A PostgreSQL row read by name or by position, as sqlite3.Row is."""

    _index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _pg_rows(cursor: Any) -> Callable[[Sequence[Any]], _PgRow]:
    """psycopg row factory: `_PgRow`s."""
    index = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> _PgRow:
        row = _PgRow(values)
        row._index = index
        return row

    return make


def _pg_sql(sql: str) -> str:
    """`?` placeholders -> psycopg's `%s` (and a literal % doubled). The ledger's queries hold
    no `?` or `%` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgConn:
    """A connection inside a transaction, or (`reading`) one for single reads, which may be sent
    again on a new connection when the old one turns out to be dead: a read changes nothing."""

    __slots__ = ("_store", "raw", "reading")

    def __init__(self, raw: Any, store: PostgresStore, *, reading: bool = False) -> None:
        self.raw = raw
        self._store = store
        self.reading = reading

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        import psycopg

        try:
            rows: Rows = self.raw.execute(_pg_sql(sql), tuple(params))
        except psycopg.DataError as exc:
            # A value PostgreSQL cannot hold (a NUL character in text): the caller's ValueError,
            # as for any unstorable value.
            raise ValueError(f"cannot be stored in PostgreSQL: {_one_line(str(exc))}") from None
        except psycopg.OperationalError:
            if not (self.reading and self.raw.broken):
                raise
            self.raw = self._store._connection()  # a server restart, an idle connection cut
            self.reading = False  # once
            rows = self.raw.execute(_pg_sql(sql), tuple(params))
        return rows


class PostgresStore(Store):
    """A ledger in a PostgreSQL database (psycopg 3). It never migrates by itself: a shared
    schema changes only through `teledeck ledger migrate` (docs/decisions.md); opening an older
    one, or an empty database, is a LedgerSchemaError saying to run it."""

    dialect = POSTGRESQL
    lock_rows = " FOR UPDATE"

    def __init__(
        self, target: PostgresTarget, *, connect_timeout: int = _CONNECT_TIMEOUT_S, check: bool = True
    ) -> None:
        super().__init__()
        self.target = target
        self.location = target.shown
        self.path: Path | None = None
        self.recovered_from: Path | None = None
        self._connect_timeout = connect_timeout
        with self.lock:
            self._connection()
        if check:
            from providers.ledger_schema import check_schema

            try:
                check_schema(self)
            except BaseException:
                self.close()
                raise

    def _error(self, exc: BaseException, doing: str = "use") -> LedgerError:
        import psycopg

        kind = LedgerUnavailable if isinstance(exc, psycopg.OperationalError) else LedgerError
        return kind(f"cannot {doing} the ledger {self.location}: {_one_line(str(exc), self.target.password)}")

    def _connection(self) -> Any:
        """The open connection, connecting (again) when there is none or it broke."""
        if self.raw is not None and not self.raw.closed and not self.raw.broken:
            return self.raw
        try:
            import psycopg
        except ImportError as exc:  # a broken install: the dependency is declared
            raise LedgerError(f"cannot open the ledger {self.location}: psycopg is not installed ({exc})") from None
        options: dict[str, Any] = {
            "autocommit": True,  # every write opens its own transaction; a read holds none
            "row_factory": _pg_rows,
            "connect_timeout": self._connect_timeout,
            "application_name": "teledeck",
        }
        if self.target.password:
            options["password"] = self.target.password
        try:
            raw = psycopg.connect(self.target.url, **options)
            raw.execute("SET TIME ZONE 'UTC'")
            raw.execute(f"SET lock_timeout = {int(_LOCK_TIMEOUT_MS)}")
        except psycopg.Error as exc:
            raise self._error(exc, "open") from None
        self.raw = raw
        return raw

    @contextmanager
    def _guarded(self, doing: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise LedgerError(
                f"the ledger {self.location} is busy: another writer held it for {_LOCK_TIMEOUT_MS // 1000} s"
            ) from None
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            raise  # `run` starts the transaction again
        except psycopg.Error as exc:
            raise self._error(exc, doing) from None

    @contextmanager
    def transaction(self, *, serialized: bool = True) -> Iterator[Conn]:
        import psycopg

        with self.lock, self._guarded("write to"), ExitStack() as stack:
            for attempt in range(2):
                raw = self._connection()
                try:
                    stack.enter_context(raw.transaction())
                    break
                except psycopg.OperationalError:
                    # BEGIN on a connection that died while idle (a server restart): nothing
                    # was sent inside the transaction, so a new connection may start it.
                    if attempt or not raw.broken:
                        raise
            if serialized:
                raw.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (_ADVISORY_NAMESPACE,))
            yield _PgConn(raw, self)

    @contextmanager
    def read(self) -> Iterator[Conn]:
        with self.lock, self._guarded("read"):
            yield _PgConn(self._connection(), self, reading=True)

    def run(self, work: Callable[[Conn], T], *, serialized: bool = True) -> T:
        import psycopg

        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                with self.transaction(serialized=serialized) as conn:
                    return work(conn)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                if attempt == _CONFLICT_RETRIES:
                    raise self._error(exc, "write to") from None
                log.info("ledger %s: transaction conflict (%s), again", self.location, type(exc).__name__)
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def table_exists(self, conn: Conn, name: str) -> bool:
        row = conn.execute("SELECT to_regclass(?) IS NOT NULL AS found", (name,)).fetchone()
        return bool(row["found"])

    def close(self) -> None:
        with self.lock:
            if self.raw is not None:
                self.raw.close()
