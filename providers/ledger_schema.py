"""The ledger's schema: numbered migrations, one script per engine, recorded in `schema_migrations`.

`MIGRATIONS[n]` takes a ledger from schema n-1 to n. `migrate(store)` applies the missing ones in
one serialized transaction (store.transaction: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
lock), so an upgrade is all or nothing and two processes migrating at once apply each step once:
the second finds the first's rows in `schema_migrations` and has nothing left to do. Each
applied step is a row (version, name, applied_at, additive).

Never edit a shipped migration; append a new one. A migration is `additive` when it only adds
tables, indexes, or columns with defaults, so that a teledeck that predates it still reads and
writes the ledger correctly: a team's ledger stays usable by engineers who have not upgraded yet
(`check_schema` refuses a newer schema only for a step that is not additive).

SQLite ledgers from before `schema_migrations` (schema 1-3, told by `PRAGMA user_version`) gain the
table with those versions recorded, then the rest; `PRAGMA user_version` keeps following the
schema so that an older teledeck refuses a file newer than it knows instead of misreading it.
The times and JSON differ by engine (TEXT and json_valid in SQLite, timestamptz and jsonb in
PostgreSQL); the columns, keys and constraints are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from providers.ledger_store import SQLITE, Conn, LedgerSchemaError, Store, iso

_STATUSES = "'active', 'expired', 'removed', 'unknown'"
_ORIGINS = "'created', 'imported'"
_EVENT_KINDS = "'bound', 'modified', 'unbound', 'expired', 'removed_remotely', 'imported', 'refresh_failed'"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]
    additive: bool = True

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == SQLITE else self.postgresql


MIGRATIONS: dict[int, Migration] = {
    m.version: m
    for m in (
        Migration(
            1,
            "bindings and their history",
            sqlite=(
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
                    status             TEXT NOT NULL CHECK (status IN ({_STATUSES})),
                    pool               TEXT NOT NULL DEFAULT '',
                    user_data          TEXT NOT NULL DEFAULT '',
                    account            TEXT NOT NULL DEFAULT '',
                    raw                TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(raw)),
                    origin             TEXT NOT NULL CHECK (origin IN ({_ORIGINS})),
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
                    kind        TEXT NOT NULL CHECK (kind IN ({_EVENT_KINDS})),
                    detail      TEXT NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX events_by_binding ON events (binding_key, id)",
            ),
            postgresql=(
                f"""
                CREATE TABLE bindings (
                    key                TEXT PRIMARY KEY,
                    provider           TEXT NOT NULL,
                    mode               TEXT NOT NULL,
                    subscription_id    TEXT NOT NULL,
                    x                  TEXT NOT NULL,
                    a                  TEXT NOT NULL DEFAULT '',
                    b                  TEXT NOT NULL DEFAULT '',
                    extension          TEXT NOT NULL DEFAULT '',
                    expires_at         TIMESTAMPTZ,
                    recording          BOOLEAN,
                    status             TEXT NOT NULL CHECK (status IN ({_STATUSES})),
                    pool               TEXT NOT NULL DEFAULT '',
                    user_data          TEXT NOT NULL DEFAULT '',
                    account            TEXT NOT NULL DEFAULT '',
                    raw                JSONB NOT NULL DEFAULT '{{}}',
                    origin             TEXT NOT NULL CHECK (origin IN ({_ORIGINS})),
                    created_at         TIMESTAMPTZ NOT NULL,
                    updated_at         TIMESTAMPTZ NOT NULL,
                    last_refreshed_at  TIMESTAMPTZ,
                    last_error_code    TEXT,
                    last_error_message TEXT,
                    last_error_at      TIMESTAMPTZ,
                    CHECK (key = provider || ':' || subscription_id)
                )
                """,
                "CREATE INDEX bindings_by_expiry ON bindings (expires_at)",
                f"""
                CREATE TABLE events (
                    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    binding_key TEXT NOT NULL REFERENCES bindings (key) ON DELETE CASCADE,
                    at          TIMESTAMPTZ NOT NULL,
                    kind        TEXT NOT NULL CHECK (kind IN ({_EVENT_KINDS})),
                    detail      TEXT NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX events_by_binding ON events (binding_key, id)",
            ),
        ),
        # Binds whose outcome is unknown (the answer was lost and no check could tell): kept until a
        # later check settles them, so a binding the vendor may have made is never known to nobody.
        Migration(
            2,
            "binds of unknown outcome",
            sqlite=(
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
            postgresql=(
                """
                CREATE TABLE pending_binds (
                    id          TEXT PRIMARY KEY,
                    provider    TEXT NOT NULL,
                    account     TEXT NOT NULL DEFAULT '',
                    request     JSONB NOT NULL,
                    created_at  TIMESTAMPTZ NOT NULL,
                    detail      TEXT NOT NULL DEFAULT ''
                )
                """,
            ),
        ),
        # Huawei AXYB bindings have a second privacy number, Y (Binding.y).
        Migration(
            3,
            "the Y number of AXYB bindings",
            sqlite=("ALTER TABLE bindings ADD COLUMN y TEXT NOT NULL DEFAULT ''",),
            postgresql=("ALTER TABLE bindings ADD COLUMN y TEXT NOT NULL DEFAULT ''",),
        ),
        # Calls: one row per pushed record, de-duplicated by (provider, call_id, kind) (vendors
        # deliver a push again until it is acknowledged), and one row per call, merged from them.
        Migration(
            4,
            "calls and their pushed events",
            sqlite=(
                """
                CREATE TABLE call_events (
                    id              INTEGER PRIMARY KEY AUTOINCREMENT,
                    provider        TEXT NOT NULL,
                    call_id         TEXT NOT NULL,
                    kind            TEXT NOT NULL,            -- the vendor's own name for the record
                    stage           TEXT NOT NULL,            -- providers.calls.STAGES
                    at              TEXT,                     -- the event's own time, when it says
                    received_at     TEXT NOT NULL,
                    subscription_id TEXT NOT NULL DEFAULT '',
                    x               TEXT NOT NULL DEFAULT '',
                    caller          TEXT NOT NULL DEFAULT '',
                    callee          TEXT NOT NULL DEFAULT '',
                    account         TEXT NOT NULL DEFAULT '',
                    fields          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),
                    UNIQUE (provider, call_id, kind)
                )
                """,
                """
                CREATE TABLE calls (
                    provider        TEXT NOT NULL,
                    call_id         TEXT NOT NULL,
                    subscription_id TEXT NOT NULL DEFAULT '',
                    x               TEXT NOT NULL DEFAULT '',
                    caller          TEXT NOT NULL DEFAULT '',
                    callee          TEXT NOT NULL DEFAULT '',
                    started_at      TEXT,
                    answered_at     TEXT,
                    ended_at        TEXT,
                    duration_s      INTEGER,
                    outcome         TEXT NOT NULL,
                    cause_code      TEXT NOT NULL DEFAULT '',
                    cause           TEXT NOT NULL DEFAULT '',
                    recording       TEXT CHECK (recording IS NULL OR json_valid(recording)),  -- its locator
                    binding_key     TEXT NOT NULL DEFAULT '',
                    sort_at         TEXT NOT NULL,            -- started_at, else the first push's arrival
                    updated_at      TEXT NOT NULL,
                    PRIMARY KEY (provider, call_id)
                )
                """,
                "CREATE INDEX calls_newest ON calls (sort_at)",
                "CREATE INDEX calls_by_binding ON calls (binding_key, sort_at)",
                "CREATE INDEX bindings_by_x ON bindings (provider, x)",
            ),
            postgresql=(
                """
                CREATE TABLE call_events (
                    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    provider        TEXT NOT NULL,
                    call_id         TEXT NOT NULL,
                    kind            TEXT NOT NULL,
                    stage           TEXT NOT NULL,
                    at              TIMESTAMPTZ,
                    received_at     TIMESTAMPTZ NOT NULL,
                    subscription_id TEXT NOT NULL DEFAULT '',
                    x               TEXT NOT NULL DEFAULT '',
                    caller          TEXT NOT NULL DEFAULT '',
                    callee          TEXT NOT NULL DEFAULT '',
                    account         TEXT NOT NULL DEFAULT '',
                    fields          JSONB NOT NULL DEFAULT '{}',
                    UNIQUE (provider, call_id, kind)
                )
                """,
                """
                CREATE TABLE calls (
                    provider        TEXT NOT NULL,
                    call_id         TEXT NOT NULL,
                    subscription_id TEXT NOT NULL DEFAULT '',
                    x               TEXT NOT NULL DEFAULT '',
                    caller          TEXT NOT NULL DEFAULT '',
                    callee          TEXT NOT NULL DEFAULT '',
                    started_at      TIMESTAMPTZ,
                    answered_at     TIMESTAMPTZ,
                    ended_at        TIMESTAMPTZ,
                    duration_s      INTEGER,
                    outcome         TEXT NOT NULL,
                    cause_code      TEXT NOT NULL DEFAULT '',
                    cause           TEXT NOT NULL DEFAULT '',
                    recording       JSONB,
                    binding_key     TEXT NOT NULL DEFAULT '',
                    sort_at         TIMESTAMPTZ NOT NULL,
                    updated_at      TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (provider, call_id)
                )
                """,
                "CREATE INDEX calls_newest ON calls (sort_at)",
                "CREATE INDEX calls_by_binding ON calls (binding_key, sort_at)",
                "CREATE INDEX bindings_by_x ON bindings (provider, x)",
            ),
        ),
        # The audit log of changes, in the ledger: a team sharing a ledger shares one audit.
        Migration(
            5,
            "the audit log",
            sqlite=(
                """
                CREATE TABLE audit (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    at          TEXT NOT NULL,
                    actor       TEXT NOT NULL DEFAULT '',     -- who: user@host of the console or CLI
                    profile     TEXT NOT NULL DEFAULT '',
                    account     TEXT NOT NULL DEFAULT '',
                    verb        TEXT NOT NULL,
                    resource    TEXT NOT NULL DEFAULT '',
                    record_id   TEXT NOT NULL DEFAULT '',
                    outcome     TEXT NOT NULL CHECK (outcome IN ('done', 'failed', 'unknown')),
                    request_id  TEXT NOT NULL DEFAULT '',
                    detail      TEXT NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX audit_newest ON audit (at, id)",
            ),
            postgresql=(
                """
                CREATE TABLE audit (
                    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    at          TIMESTAMPTZ NOT NULL,
                    actor       TEXT NOT NULL DEFAULT '',
                    profile     TEXT NOT NULL DEFAULT '',
                    account     TEXT NOT NULL DEFAULT '',
                    verb        TEXT NOT NULL,
                    resource    TEXT NOT NULL DEFAULT '',
                    record_id   TEXT NOT NULL DEFAULT '',
                    outcome     TEXT NOT NULL CHECK (outcome IN ('done', 'failed', 'unknown')),
                    request_id  TEXT NOT NULL DEFAULT '',
                    detail      TEXT NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX audit_newest ON audit (at, id)",
            ),
        ),
    )
}


def schema_version() -> int:
    """The schema this teledeck reads and writes."""
    return max(MIGRATIONS)


SCHEMA_VERSION = schema_version()

_SCHEMA_MIGRATIONS = {
    SQLITE: """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL DEFAULT '',
            applied_at TEXT NOT NULL,
            additive   INTEGER NOT NULL DEFAULT 1
        )
    """,
    "postgresql": """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL DEFAULT '',
            applied_at TIMESTAMPTZ NOT NULL,
            additive   BOOLEAN NOT NULL DEFAULT TRUE
        )
    """,
}


@dataclass(frozen=True)
class MigrationReport:
    """What `migrate` found and did."""

    location: str
    before: int
    after: int
    applied: tuple[Migration, ...] = field(default=())

    def summary(self) -> str:
        """`ledger postgresql://u@h/db: schema 3 -> 5 (2 migrations)`, or `..., up to date`."""
        if not self.applied:
            return f"ledger {self.location}: schema {self.after}, up to date"
        n = len(self.applied)
        return f"ledger {self.location}: schema {self.before} -> {self.after} ({n} migration{'s' if n != 1 else ''})"


def _applied(store: Store, conn: Conn) -> dict[int, bool]:
    """version -> additive, for every applied migration; SQLite files from before
    schema_migrations report 1..user_version."""
    applied: dict[int, bool] = {}
    if store.table_exists(conn, "schema_migrations"):
        applied = {int(r["version"]): bool(r["additive"]) for r in conn.execute("SELECT * FROM schema_migrations")}
    if store.dialect == SQLITE:
        # Before the table, the file's version; beyond the table's, steps nobody recorded (so
        # not known to be additive): a file some other teledeck moved on.
        legacy = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for version in range(1, legacy + 1):
            applied.setdefault(version, version in MIGRATIONS)
    return applied


def _refuse_newer(store: Store, applied: dict[int, bool]) -> None:
    newer = sorted(v for v, additive in applied.items() if v > SCHEMA_VERSION and not additive)
    if newer:
        raise LedgerSchemaError(
            f"the ledger {store.location} has schema version {max(applied)}, newer than this teledeck "
            f"understands ({SCHEMA_VERSION}); upgrade teledeck to open it"
        )


def _version(applied: dict[int, bool]) -> int:
    """The schema a ledger is at: the last of the steps applied without a gap from 1 (a newer
    teledeck's additive steps beyond this one's count too)."""
    version = 0
    while version + 1 in applied:
        version += 1
    return version


def current_version(store: Store) -> int:
    with store.read() as conn:
        return _version(_applied(store, conn))


def check_schema(store: Store) -> None:
    """LedgerSchemaError unless the ledger is at this teledeck's schema (or newer, by additive
    steps only). What a PostgreSQL ledger checks when it opens."""
    with store.read() as conn:
        applied = _applied(store, conn)
    _refuse_newer(store, applied)
    version = _version(applied)
    if version >= SCHEMA_VERSION:
        return
    if not applied:
        raise LedgerSchemaError(
            f"the ledger {store.location} has no teledeck schema yet: run `teledeck ledger migrate` to create it"
        )
    raise LedgerSchemaError(
        f"the ledger {store.location} has schema {version}, this teledeck needs {SCHEMA_VERSION}: "
        "run `teledeck ledger migrate`"
    )


def migrate(store: Store, *, target: int | None = None) -> MigrationReport:
    """Apply the missing migrations up to `target` (default: this teledeck's schema) in one
    serialized transaction. Raises LedgerSchemaError for a newer schema (left alone), and the
    engine's error for a step that fails (nothing of the run stays)."""
    goal = SCHEMA_VERSION if target is None else target
    now = iso(datetime.now(UTC))

    def work(conn: Conn) -> MigrationReport:
        applied = _applied(store, conn)  # before the table exists: a SQLite file's user_version
        _refuse_newer(store, applied)
        conn.execute(_SCHEMA_MIGRATIONS[store.dialect])
        recorded = {int(r["version"]) for r in conn.execute("SELECT version FROM schema_migrations")}
        for version in sorted(set(applied) - recorded):  # a SQLite file from before the table
            known = MIGRATIONS.get(version)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at, additive) VALUES (?, ?, ?, ?)",
                (version, f"{known.name if known else ''} (before schema_migrations)", now, True),
            )
        before = _version(applied)
        done: list[Migration] = []
        for version in range(1, goal + 1):
            if version in applied:
                continue
            step = MIGRATIONS[version]
            for statement in step.statements(store.dialect):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at, additive) VALUES (?, ?, ?, ?)",
                (version, step.name, now, step.additive),
            )
            done.append(step)
        after = _version({**applied, **{m.version: m.additive for m in done}})
        if store.dialect == SQLITE and after > int(conn.execute("PRAGMA user_version").fetchone()[0]):
            conn.execute(f"PRAGMA user_version = {int(after)}")
        return MigrationReport(store.location, before, after, tuple(done))

    return store.run(work, serialized=True)
