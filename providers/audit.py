"""The audit log: one JSON line for every change made through teledeck, console or CLI.

Each line says when (UTC), which profile and account, the verb (create, update, delete, bind,
modify, unbind, an action's id), the resource, the record's id, the outcome (done, failed,
unknown) and the vendor's request id, and a short detail (the vendor's error code and message
when it failed). Never a secret: values sent are not recorded at all, only the record's id, and
the detail is scrubbed of anything that looks like a credential before it is written.

The file (`<data dir>/audit.jsonl`, 0600 in a 0700 folder) is appended to, one `write` of one
line per change under a lock, so concurrent writers (bulk actions, a console and a CLI at once)
never interleave half lines. At MAX_BYTES it is rotated to `audit.jsonl.1` (one generation
kept). Reading takes the newest lines first and at most `limit` of them; a line that cannot be
read is counted, never fatal.

The vendor request ids come from the Transport: `collect_request_ids()` opens a collector in the
current context (tasks started inside inherit it) and `Transport` notes each answer's id there.

A team on one shared ledger (PostgreSQL) shares one audit: the entry is written to the file as
always (the local record, whatever the network does) and then to the ledger's `audit` table
(`shared`, an `AuditSink`: BindingLedger). `entries()` then reads the team's table, and falls
back to the file, saying why in `problem`, when the ledger cannot be read. Each entry names its
`actor` (user@host), so a team's audit says who made each change.
"""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from providers.ledger_store import LedgerError

if TYPE_CHECKING:
    from providers.outcomes import WriteOutcome

FILE_NAME = "audit.jsonl"
MAX_BYTES = 8 * 1024 * 1024  # rotated past this (one older generation kept)
READ_BYTES = 4 * 1024 * 1024  # the most that entries() reads from the end of the file
MAX_DETAIL = 300
OUTCOMES = ("done", "failed", "unknown")

# Credentials that may appear inside a vendor's error text: a bearer token, key=value pairs,
# an Aliyun/Huawei signature parameter. Replaced before the line is written.
_CREDENTIAL = re.compile(
    r"(?i)((?:api[_-]?key|token|secret|password|signature|authorization)\s*[=:]\s*)(?:(?:bearer|basic)\s+)?\S+"
    r"|((?:bearer|basic)\s+)\S+"
)


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO 8601 UTC, seconds
    profile: str
    account: str
    verb: str
    resource: str
    id: str
    outcome: str  # done | failed | unknown
    request_id: str = ""
    detail: str = ""
    actor: str = ""  # user@host that made the change

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class AuditSink(Protocol):
    """Where a team's audit goes besides the file: the shared ledger (BindingLedger)."""

    def add_audit(self, entry: AuditEntry) -> None: ...

    def audit_entries(self, limit: int = 10_000) -> list[AuditEntry]: ...


def stamp(moment: datetime) -> str:
    """An entry's time: ISO 8601 UTC to the second, `2031-03-04T05:06:07Z`."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def local_actor() -> str:
    """`user@host` of this process (what a team's audit shows as who)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return _clean(f"{user}@{socket.gethostname()}", 100)


def names_a_credential(text: str) -> bool:
    """Whether `text` holds something the audit would mask (`token=...`, `Bearer ...`)."""
    return _CREDENTIAL.search(text) is not None


def _clean(text: str, limit: int = MAX_DETAIL) -> str:
    text = _CREDENTIAL.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text[:limit]


def outcome_word(outcome: WriteOutcome[Any]) -> str:
    """done, failed (not applied) or unknown: the audit's three words for a WriteOutcome."""
    if outcome.done:
        return "done"
    return "failed" if outcome.not_done else "unknown"


def detail_of(outcome: WriteOutcome[Any]) -> str:
    """What the audit says beyond the outcome: the vendor's code and message when it failed."""
    if outcome.done:
        return outcome.how if outcome.how not in ("", "answered") else ""
    if outcome.error is not None:
        return outcome.error.summary()
    return "; ".join(outcome.checked) or outcome.how


log = logging.getLogger("teledeck.audit")


# ---- vendor request ids --------------------------------------------------------------------

_COLLECTOR: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("teledeck_request_ids", default=None)


@contextlib.contextmanager
def collect_request_ids() -> Iterator[list[str]]:
    """Collect the request ids of every answer received inside (child tasks included)."""
    ids: list[str] = []
    token = _COLLECTOR.set(ids)
    try:
        yield ids
    finally:
        _COLLECTOR.reset(token)


def note_request_id(request_id: str) -> None:
    """Called by the Transport for each answer: kept when a collector is open."""
    ids = _COLLECTOR.get()
    if ids is not None and request_id and len(ids) < 32:
        ids.append(_clean(request_id, 128))


# ---- the file --------------------------------------------------------------------------------


def default_audit_path() -> Path:
    from providers.paths import data_dir

    return data_dir() / FILE_NAME


class AuditLog:
    """The append-only audit file at `path`, and the team's table when `shared` gives a sink
    (called when first needed, so a ledger server that is down never stops a change)."""

    def __init__(
        self,
        path: Path,
        *,
        shared: Callable[[], AuditSink] | None = None,
        shared_location: str = "",
        actor: str | None = None,
    ) -> None:
        self.path = path
        self.shared_location = shared_location  # what the shared ledger is shown as (no password)
        self._lock = threading.Lock()
        self._shared = shared
        self.actor = local_actor() if actor is None else actor
        self.unreadable = 0  # lines the last entries() call could not read
        self.unshared = 0  # entries this object could not write to the shared ledger (they are in the file)
        self.problem = ""  # why the last entries() read the file instead of the shared ledger

    @property
    def is_shared(self) -> bool:
        return self._shared is not None

    @property
    def location(self) -> str:
        """Where entries() reads: the team's ledger (`postgresql://user@host/db`), else the file."""
        if self._shared is not None and self.shared_location:
            return f"the team's ledger {self.shared_location}"
        return str(self.path)

    def append(self, entry: AuditEntry) -> None:
        """Append one line, then share it; OSError propagates (the caller says the audit could not
        be written). A shared ledger that refuses is logged and counted in `unshared`: the line
        is in the file, and the change it records stands."""
        line = (json.dumps(entry.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._rotate_if_full()
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(self.path, flags, 0o600)
            try:
                os.fchmod(fd, 0o600)  # an older file, or a umask that narrowed less
                os.write(fd, line)
            finally:
                os.close(fd)
        if self._shared is not None:
            try:
                self._shared().add_audit(entry)
            except (LedgerError, ValueError, OSError) as exc:  # the file has it
                self.unshared += 1
                log.warning("audit entry kept in %s only; the shared ledger refused it: %s", self.path, exc)

    def _rotate_if_full(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_size >= MAX_BYTES:
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))

    def record(
        self,
        *,
        profile: str,
        account: str,
        verb: str,
        resource: str,
        record_id: str,
        outcome: str,
        request_id: str = "",
        detail: str = "",
        at: datetime | None = None,
    ) -> AuditEntry:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        entry = AuditEntry(
            at=stamp(at or datetime.now(UTC)),
            profile=_clean(profile, 100),
            account=_clean(account, 100),
            verb=_clean(verb, 60),
            resource=_clean(resource, 60),
            id=_clean(record_id, 200),
            outcome=outcome,
            request_id=_clean(request_id, 128),
            detail=_clean(detail),
            actor=self.actor,
        )
        self.append(entry)
        return entry

    def entries(self, limit: int = 10_000) -> list[AuditEntry]:
        """The newest `limit` entries, newest first: the team's, from the shared ledger, when there
        is one; else (or when it cannot be read: see `problem`) this machine's file, read from
        its end only."""
        self.unreadable = 0
        self.problem = ""
        if self._shared is not None:
            try:
                return self._shared().audit_entries(limit)
            except (LedgerError, OSError) as exc:  # the server is down: this machine's own record still reads
                self.problem = f"the shared ledger could not be read ({exc}); showing this machine's audit file"
                log.warning("%s", self.problem)
        return self._file_entries(limit)

    def _file_entries(self, limit: int) -> list[AuditEntry]:
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                start = max(0, size - READ_BYTES)
                fh.seek(start)
                data = fh.read(READ_BYTES)
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        if start > 0:
            lines = lines[1:]  # the first one is cut at the read's start
        found: list[AuditEntry] = []
        for raw in reversed(lines):
            if len(found) >= limit:
                break
            if not raw.strip():
                continue
            entry = _entry(raw)
            if entry is None:
                self.unreadable += 1
            else:
                found.append(entry)
        return found


def _entry(raw: bytes) -> AuditEntry | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        values = {name: str(data.get(name, "") or "") for name in AuditEntry.__dataclass_fields__}
        return AuditEntry(**values)
    except TypeError:
        return None
