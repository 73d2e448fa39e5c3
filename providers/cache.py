"""Cached provider results: instant last-known rows, background revalidation, exact invalidation.

Every list or get answer is kept as a list of raw JSON dicts (what the vendor sent, minus any
secret) under a key of (profile, account label, query key), in memory and on disk:

    <cache dir>/v1/<profile>/<account>/<sha256 of query>.json

Each file is two lines: a JSON header (format marker, version, profile, account, query,
fetched_at, item count) and a JSON list of items. Reading only the first line is enough to know
what a file holds, which is how `invalidate` finds the entries a prefix covers without loading
them. Files are written with `providers.paths.atomic_write` (owner-only, fsynced, renamed into place);
a file that is corrupt, truncated, from another format version or for another key is deleted
and treated as a miss, never an error. A failure to write the disk copy keeps the memory copy.

Secrets never reach the cache: `scrub` drops every field whose name says it holds one (token,
password, secret, api_key, AccessKeySecret, app_secret, value, ...) at any depth before an entry
is stored, in memory as on disk. Query keys must not contain secrets either (they are stored as
given); build them with `query_key` from the resource and its filter parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from providers.paths import CACHE_DIR_ENV as CACHE_DIR_ENV  # the variable's name, importable from here too
from providers.paths import atomic_write, cache_dir

log = logging.getLogger(__name__)

FORMAT = "teledeck-cache"
FORMAT_VERSION = 1
_HEADER_LIMIT = 64 * 1024  # a header line longer than this is not ours
MAX_FILE_BYTES = 512 * 1024 * 1024  # 100,000 rows are ~50 MB; a file this large is not ours

Raw = dict[str, Any]
Clock = Callable[[], float]

# ---- secrets ----------------------------------------------------------------------------------

# Field names (lower-cased, without "_" and "-") that always hold a secret.
_SECRET_NAMES = frozenset(
    {
        "token",
        "password",
        "passwd",
        "pwd",
        "secret",
        "apikey",
        "value",
        "accesskeysecret",
        "appsecret",
        "secretaccesskey",
        "secretkey",
        "securitytoken",
        "sessiontoken",
        "privatekey",
        "clientsecret",
        "authorization",
        "credential",
        "credentials",
        "signature",
        "passworddigest",
    }
)
# ... and name endings that do (sip_password, access_token, AppSecret, x_api_key). A name that only
# starts with "secret" (Alibaba's SecretNo, SecretBindDTO, SecretStatus) is a number, not a secret.
_SECRET_ENDINGS = ("password", "token", "secret", "apikey", "privatekey")


def _normal(name: str) -> str:
    return re.sub(r"[_\-\s.]", "", name).lower()


def is_secret_field(name: str) -> bool:
    """True when a field called `name` holds (or may hold) a secret value."""
    normal = _normal(str(name))
    return normal in _SECRET_NAMES or normal.endswith(_SECRET_ENDINGS)


def scrub(value: Any) -> Any:
    """A JSON-able deep copy of `value` with every secret-named field removed, at any depth.

    Tuples become lists, dict keys become strings and any other non-JSON scalar becomes its str(),
    so what is kept in memory is exactly what a disk round trip gives back.
    """
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if not is_secret_field(str(k))}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    return str(value)


# ---- keys -------------------------------------------------------------------------------------


def query_key(provider: str, resource: str, params: Mapping[str, Any] | None = None) -> str:
    """A stable query key: "provider:resource" plus the non-empty parameters, sorted.

    >>> query_key("telnyx", "access_ip_address", {"filter[ip_address]": "203.0.113.7", "page": None})
    'telnyx:access_ip_address?filter%5Bip_address%5D=203.0.113.7'

    Every key of one resource starts with "provider:resource", so `invalidate(..., prefix=
    query_key(provider, resource))` drops all of its lists and gets and nothing else. Never put a
    secret in `params`.
    """
    base = f"{provider}:{resource}"
    items = sorted((str(k), str(v)) for k, v in (params or {}).items() if v is not None and v != "")
    if not items:
        return base
    return base + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)


def _dir_name(name: str) -> str:
    """A file-system-safe, collision-free directory name for a profile or account label."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40].lstrip(".") or "_"
    return f"{safe}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:10]}"


def _file_name(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()[:40] + ".json"


def default_cache_dir() -> Path:
    """`$TELEDECK_CACHE_DIR`, else the platform's user cache directory for teledeck."""
    return cache_dir()


# ---- the cache --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedResult:
    profile: str
    account: str
    query: str
    items: list[Raw]
    fetched_at: float  # epoch seconds, by the cache's clock
    age_seconds: float


@dataclass
class _Entry:
    items: list[Raw]
    fetched_at: float


class _Corrupt(Exception):
    pass


class ResultCache:
    """Scrubbed raw results by (profile, account, query), in memory and (unless `persist=False`) on disk.

    `directory=None` uses `default_cache_dir()`. All methods are thread-safe and never raise
    for a bad cache file or a failed disk write.
    """

    def __init__(self, directory: Path | None = None, *, clock: Clock = time.time, persist: bool = True) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.root = self.directory / f"v{FORMAT_VERSION}"
        self.clock = clock
        self.persist = persist
        self._memory: dict[tuple[str, str, str], _Entry] = {}
        self._lock = threading.RLock()

    # ---- paths ----

    def _profile_dir(self, profile: str) -> Path:
        return self.root / _dir_name(profile)

    def _account_dir(self, profile: str, account: str) -> Path:
        return self._profile_dir(profile) / _dir_name(account)

    def path_for(self, profile: str, account: str, query: str) -> Path:
        """Where the entry for this key lives on disk."""
        return self._account_dir(profile, account) / _file_name(query)

    # ---- reading ----

    def get(self, profile: str, account: str, query: str) -> CachedResult | None:
        """The last stored result for this key, or None (also for a bad or foreign cache file)."""
        key = (profile, account, query)
        with self._lock:
            entry = self._memory.get(key)
            if entry is None and self.persist:
                entry = self._load(profile, account, query)
                if entry is not None:
                    self._memory[key] = entry
            if entry is None:
                return None
            age = max(0.0, self.clock() - entry.fetched_at)
            # Each caller gets its own list; the dicts are shared, treat them as read-only.
            return CachedResult(profile, account, query, list(entry.items), entry.fetched_at, age)

    def _load(self, profile: str, account: str, query: str) -> _Entry | None:
        path = self.path_for(profile, account, query)
        try:
            with _open_regular(path) as fh:
                header = _read_header(fh)
                if (header["profile"], header["account"], header["query"]) != (profile, account, query):
                    raise _Corrupt("cache file for another key")
                items = json.loads(fh.read(MAX_FILE_BYTES).decode("utf-8"))
        except FileNotFoundError:
            return None
        except (_Corrupt, OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            log.info("ignoring cache file %s: %s", path, type(exc).__name__ if isinstance(exc, RecursionError) else exc)
            _remove(path)
            return None
        if not isinstance(items, list) or len(items) != header["count"] or not all(isinstance(i, dict) for i in items):
            log.info("ignoring cache file %s: items do not match the header", path)
            _remove(path)
            return None
        return _Entry(items, float(header["fetched_at"]))

    # ---- writing ----

    def put(
        self,
        profile: str,
        account: str,
        query: str,
        items: Iterable[Mapping[str, Any]],
        *,
        fetched_at: float | None = None,
    ) -> CachedResult:
        """Store `items` (scrubbed of secrets first) as the result for this key."""
        clean = [scrub(item) for item in items]
        when = self.clock() if fetched_at is None else float(fetched_at)
        with self._lock:
            self._memory[(profile, account, query)] = _Entry(clean, when)
            if self.persist:
                self._write(profile, account, query, clean, when)
        return CachedResult(profile, account, query, list(clean), when, max(0.0, self.clock() - when))

    def _write(self, profile: str, account: str, query: str, items: list[Raw], fetched_at: float) -> None:
        path = self.path_for(profile, account, query)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "profile": profile,
            "account": account,
            "query": query,
            "fetched_at": fetched_at,
            "count": len(items),
        }
        data = (
            json.dumps(header, ensure_ascii=False, separators=(",", ":"))
            + "\n"
            + json.dumps(items, ensure_ascii=False, separators=(",", ":"))
            + "\n"
        ).encode("utf-8")
        try:
            atomic_write(path, data, mode=0o600)
        except OSError as exc:
            log.warning("could not write cache file %s (kept in memory only): %s", path, exc)

    # ---- invalidation ----

    def invalidate(self, profile: str, account: str | None, prefix: str) -> int:
        """Drop every entry of this profile and account (None: every account) whose query key
        starts with `prefix`; return how many were dropped. Other entries are untouched."""
        removed: set[tuple[str, str, str]] = set()
        with self._lock:
            for key in list(self._memory):
                if key[0] == profile and (account is None or key[1] == account) and key[2].startswith(prefix):
                    del self._memory[key]
                    removed.add(key)
            if self.persist:
                if account is None:
                    directories = _subdirs(self._profile_dir(profile))
                else:
                    directories = [self._account_dir(profile, account)]
                for directory in directories:
                    removed |= self._invalidate_dir(directory, profile, account, prefix)
        return len(removed)

    def _invalidate_dir(
        self, directory: Path, profile: str, account: str | None, prefix: str
    ) -> set[tuple[str, str, str]]:
        removed: set[tuple[str, str, str]] = set()
        try:
            paths = [p for p in directory.iterdir() if p.suffix == ".json" and not p.name.startswith(".")]
        except OSError:
            return removed
        for path in paths:
            try:
                with _open_regular(path) as fh:
                    header = _read_header(fh)
            except FileNotFoundError:
                continue
            except (_Corrupt, OSError, ValueError, KeyError, TypeError, RecursionError):
                _remove(path)  # junk: it would be dropped on read anyway
                continue
            if header["profile"] != profile or (account is not None and header["account"] != account):
                continue
            if header["query"].startswith(prefix):
                _remove(path)
                removed.add((header["profile"], header["account"], header["query"]))
        return removed

    def clear_profile(self, profile: str) -> None:
        """Forget everything cached for a profile (e.g. when it is deleted or its accounts change)."""
        with self._lock:
            for key in [k for k in self._memory if k[0] == profile]:
                del self._memory[key]
            if self.persist:
                shutil.rmtree(self._profile_dir(profile), ignore_errors=True)

    def clear(self) -> None:
        """Forget everything, in memory and on disk."""
        with self._lock:
            self._memory.clear()
            if self.persist:
                shutil.rmtree(self.root, ignore_errors=True)


def _read_header(fh: BinaryIO) -> dict[str, Any]:
    line = fh.readline(_HEADER_LIMIT)
    if not line.endswith(b"\n"):
        raise _Corrupt("no complete header line")
    header = json.loads(line.decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _Corrupt("not a teledeck cache file")
    if header.get("version") != FORMAT_VERSION:
        raise _Corrupt(f"cache format version {header.get('version')!r}, expected {FORMAT_VERSION}")
    for name in ("profile", "account", "query"):
        if not isinstance(header.get(name), str):
            raise _Corrupt(f"header field {name!r} missing")
    if not isinstance(header.get("count"), int) or isinstance(header.get("count"), bool):
        raise _Corrupt("header field 'count' missing")
    fetched = header.get("fetched_at")
    if not isinstance(fetched, (int, float)) or isinstance(fetched, bool):
        raise _Corrupt("header field 'fetched_at' missing")
    if not 0 <= fetched < 1e11:  # epoch seconds, finite (json reads 1e400 as inf, 1e400 digits as an int)
        raise _Corrupt("header field 'fetched_at' out of range")
    return header


def _open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file of at most MAX_FILE_BYTES; _Corrupt for a
    directory, FIFO, device or a file that large (never blocks: non-blocking open, checked on the
    descriptor), FileNotFoundError when it is gone."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    fh = os.fdopen(fd, "rb")
    try:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _Corrupt("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise _Corrupt(f"{st.st_size} bytes, over the cache's limit")
    except BaseException:
        fh.close()
        raise
    return fh


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _subdirs(directory: Path) -> list[Path]:
    try:
        return [p for p in directory.iterdir() if p.is_dir()]
    except OSError:
        return []
