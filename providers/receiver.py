"""The receiver of the vendors' call pushes, framework-free: one push in, one answer out.

`Receiver.handle(request, peer=)` takes a `PushRequest` (from the HTTP app in
providers/receiver_http.py, or from a sandbox emulator in process) and answers it:

    route      the push module whose route it came in on (providers/pushes.py), else 404
    size       a body over the module's `max_body` is 413, never parsed
    check      `authenticate` against the keys of that vendor's accounts: PushRefused is 401,
               and nothing is stored
    read       `parse`: MalformedPush is 400
    store      the events go into the ledger (`add_call_events`, one transaction) BEFORE the
               answer: a push answered 200 is never lost; a ledger that fails answers 503, so
               the vendor sends it again (they all retry until acknowledged), and the ledger's
               dedupe keeps a re-sent push from counting twice
    answer     the module's `reply(events)`, what that vendor expects

A nonce `authenticate` spent is given back when the push is then not taken (400, 503, 500), so
the vendor's re-send is not refused as a replay. Anything else that goes wrong is a 500 naming
only the exception's type: nothing a client sends gets past `handle` as an exception.

Every refusal is one log line (logger `teledeck.receiver`): route, peer, status, reason. Never the
rest of the path (Alibaba addresses receipts with the account's token there), never a header or
a query value, never a body. Lines are bounded (`RefusalLog`): a peer repeating a refusal gets a
few lines a minute, then one line with the count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from providers.pushes import (
    MalformedPush,
    NonceBook,
    PushRefused,
    PushReply,
    PushRequest,
    PushSpec,
    ReceiverKey,
    push_spec,
)

if TYPE_CHECKING:
    from providers.calls import CallEvent

log = logging.getLogger("teledeck.receiver")

# The credential that is the rest of a vendor's push path rather than a signing key: Alibaba
# addresses its receipts to a URL, so the URL holds the token (`/aliyun/receipts/<token>`).
PATH_TOKENS: Mapping[str, str] = {"aliyun": "receipt_token"}

LINES_PER_MINUTE = 5  # per (peer, route, status): then one line with the count
TOTAL_LINES_PER_MINUTE = 60  # over every peer: an address spray still writes a bounded log
_WINDOW_S = 60.0
_TRACKED = 1024  # (peer, route, status) windows remembered at once
_MAX_REASON = 200
_TEXT = "text/plain; charset=utf-8"


def plain(status: int, words: str) -> PushReply:
    """A short answer of ours (refusals): never an echo of what was sent."""
    return PushReply(status, (words + "\n").encode(), _TEXT)


def clean(text: str, limit: int = _MAX_REASON) -> str:
    """`text` on one line, control characters shown as escapes, at most `limit` characters."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def shown_route(path: str) -> str:
    """What a log may say of a path no push module serves: its first segment only (a mistyped
    Alibaba URL still carries a token after it)."""
    first = path.lstrip("/").split("/", 1)
    rest = "/…" if len(first) > 1 and first[1] else ""
    return clean("/" + first[0], 40) + rest


def masked(value: str) -> str:
    """A credential as a listing may show it: the first 4 characters."""
    return value[:4] + "…" if len(value) > 4 else "…"


def shown_credentials(spec: PushSpec, credentials: Mapping[str, str]) -> str:
    """The credentials an account receives `spec`'s pushes with, as `receiver serve` and `sandbox
    serve` list them: secrets as "set", keys and tokens to their first 4 characters."""
    parts = []
    for name in spec.receive_credentials:
        value = credentials.get(name, "")
        parts.append(f"{name} " + ("(none)" if not value else "set" if "secret" in name else masked(value)))
    return ", ".join(parts)


@dataclass
class _Window:
    start: float
    logged: int = 0
    suppressed: int = 0


class RefusalLog:
    """One log line per refusal, bounded: `per_minute` lines per (peer, route, status) in a minute
    and `total_per_minute` over all of them; the refusals past that are counted, and the count is
    one line when the minute is over (or at `flush`). Thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        per_minute: int = LINES_PER_MINUTE,
        total_per_minute: int = TOTAL_LINES_PER_MINUTE,
        tracked: int = _TRACKED,
        logger: logging.Logger = log,
    ) -> None:
        self._clock = clock
        self._per_minute = per_minute
        self._total_per_minute = total_per_minute
        self._tracked = tracked
        self._log = logger
        self._windows: OrderedDict[tuple[str, str, int], _Window] = OrderedDict()  # oldest first
        self._total = _Window(0.0)
        self._lock = threading.Lock()

    def refused(self, *, route: str, peer: str, status: int, reason: str) -> None:
        level = logging.ERROR if status >= 500 else logging.WARNING
        key = (clean(peer, 64) or "-", route, status)
        with self._lock:
            now = self._clock()
            self._expire(now)
            if now - self._total.start >= _WINDOW_S:
                self._close_total()
                self._total = _Window(now)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(now)
                while len(self._windows) > self._tracked:
                    self._close(*self._windows.popitem(last=False))
            if window.logged >= self._per_minute:
                window.suppressed += 1
            elif self._total.logged >= self._total_per_minute:
                self._total.suppressed += 1
            else:
                window.logged += 1
                self._total.logged += 1
                self._log.log(level, "refused %s from %s: %d %s", route, key[0], status, clean(reason))

    def flush(self) -> None:
        """Write the counts not yet written (when the receiver stops)."""
        with self._lock:
            while self._windows:
                self._close(*self._windows.popitem(last=False))
            self._close_total()
            self._total = _Window(self._clock())

    def _expire(self, now: float) -> None:
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if now - window.start < _WINDOW_S:
                break
            del self._windows[key]
            self._close(key, window)

    def _close(self, key: tuple[str, str, int], window: _Window) -> None:
        if window.suppressed:
            peer, route, status = key
            self._log.warning(
                "refused %s from %s: %d, %d more like it not logged each", route, peer, status, window.suppressed
            )

    def _close_total(self) -> None:
        if self._total.suppressed:
            self._log.warning("%d more refusals not logged each (log limit)", self._total.suppressed)


class _SpentNonces(NonceBook):
    """The receiver's NonceBook as one push sees it: the nonces it spends are remembered, so they
    can be given back if the push is not taken."""

    def __init__(self, book: NonceBook) -> None:  # no state of its own: `book` keeps it
        self._book = book
        self.spent: list[tuple[str, str]] = []

    def first_use(self, scope: str, nonce: str, *, now: float, keep_for: float) -> bool:
        first = self._book.first_use(scope, nonce, now=now, keep_for=keep_for)
        if first:
            self.spent.append((scope, nonce))
        return first

    def release(self, scope: str, nonce: str) -> None:
        self._book.release(scope, nonce)

    def give_back(self) -> None:
        for scope, nonce in self.spent:
            self._book.release(scope, nonce)
        self.spent.clear()


class CallStore(Protocol):
    """What the receiver needs of providers.ledger.BindingLedger (any ledger engine)."""

    def add_call_events(self, events: Iterable[CallEvent]) -> int: ...


def missing_credentials(spec: PushSpec, credentials: Mapping[str, str]) -> list[str]:
    """The credential fields an account lacks to receive `spec`'s pushes ([] when it can)."""
    return [name for name in spec.receive_credentials if not credentials.get(name, "").strip()]


def available_specs() -> dict[str, PushSpec]:
    """The push modules present in this build, by provider (a vendor's module may be missing
    from a partial build: it is left out, not an error)."""
    from providers.pushes import PUSH_MODULES

    specs = {}
    for provider in PUSH_MODULES:
        try:
            specs[provider] = push_spec(provider)
        except (ImportError, AttributeError):
            continue
    return specs


class Receiver:
    """Answers pushes for the accounts in `keys` (provider -> their ReceiverKeys), storing what
    they carry in `ledger`. Thread-safe: the HTTP app runs `handle` in worker threads.

    Only the routes of providers with at least one key are served; a provider in `keys` without
    a push module is a KeyError or ImportError here, when the receiver is built."""

    def __init__(
        self,
        ledger: CallStore,
        keys: Mapping[str, Sequence[ReceiverKey]],
        *,
        clock: Callable[[], float] = time.time,
        nonces: NonceBook | None = None,
        refusals: RefusalLog | None = None,
    ) -> None:
        self._ledger = ledger
        self._keys = {provider: tuple(found) for provider, found in keys.items() if found}
        self._clock = clock
        self._nonces = nonces if nonces is not None else NonceBook()
        self.refusals = refusals if refusals is not None else RefusalLog(clock=clock)
        self.specs: dict[str, PushSpec] = {}  # by route
        for provider in self._keys:
            spec = push_spec(provider)
            self.specs[spec.route] = spec

    def keys_of(self, provider: str) -> tuple[ReceiverKey, ...]:
        return self._keys.get(provider, ())

    def route_of(self, path: str) -> tuple[str, str] | None:
        """(route, rest) for a request path one of the served push modules takes, else None."""
        for route in self.specs:
            if path == route or path.startswith(route + "/"):
                return route, path[len(route) :]
        return None

    def max_body(self, route: str) -> int:
        spec = self.specs.get(route)
        return spec.max_body if spec is not None else 0

    def refuse(self, route: str, peer: str, status: int, reason: str, answer: str = "") -> PushReply:
        """Log the refusal (bounded) and answer it with a short text of ours."""
        self.refusals.refused(route=route, peer=peer, status=status, reason=reason)
        return plain(status, answer or reason)

    def handle(self, request: PushRequest, *, peer: str = "") -> PushReply:
        """The answer to one push; never raises."""
        try:
            return self._handle(request, peer)
        except Exception as exc:  # a bug of ours or of a push module: said by type only (no data)
            route = request.route if request.route in self.specs else shown_route(request.route)
            return self.refuse(route, peer, 500, f"receiver failed: {type(exc).__name__}", "internal error")

    def _handle(self, request: PushRequest, peer: str) -> PushReply:
        spec = self.specs.get(request.route)
        if spec is None:
            return self.refuse(shown_route(request.route), peer, 404, "no push module serves this route", "not found")
        route = spec.route
        if len(request.body) > spec.max_body:
            return self.refuse(route, peer, 413, f"body over {spec.max_body} bytes", "too large")
        now = self._clock()
        moment = datetime.fromtimestamp(now, UTC)
        spent = _SpentNonces(self._nonces)
        try:
            key = spec.authenticate(request, self._keys[spec.provider], now=moment, nonces=spent)
        except PushRefused as refused:
            return self.refuse(route, peer, 401, str(refused) or "refused", "unauthorized")
        try:
            try:
                events = spec.parse(request.body, received_at=moment, account=key.account)
            except MalformedPush as malformed:
                spent.give_back()
                return self.refuse(route, peer, 400, f"malformed: {malformed}", "malformed push")
            if events:
                try:
                    new = self._ledger.add_call_events(events)
                except Exception as exc:  # not stored: the vendor must send it again
                    spent.give_back()
                    return self.refuse(route, peer, 503, _ledger_failure(exc), "not stored, send again")
                log.info(
                    "took %s push from %s for %s: %d records, %d new",
                    route,
                    clean(peer, 64) or "-",
                    clean(key.account, 64),
                    len(events),
                    new,
                )
            return spec.reply(events)
        except BaseException:
            spent.give_back()
            raise

    def healthy(self) -> str:
        """ "" when the ledger answers a read, else why not (for /healthz)."""
        calls = getattr(self._ledger, "calls", None)
        if calls is None:
            return ""
        try:
            calls(limit=1)
        except Exception as exc:
            return _ledger_failure(exc)
        return ""


def _ledger_failure(exc: BaseException) -> str:
    """Why the ledger failed, in words safe to log: a LedgerError's message names the ledger
    (`postgresql://user@host:port/db`, never a password); anything else only by its type."""
    from providers.ledger_store import LedgerError

    if isinstance(exc, LedgerError):
        return f"ledger: {exc}"
    return f"ledger: {type(exc).__name__}"


__all__ = [
    "PATH_TOKENS",
    "CallStore",
    "Receiver",
    "RefusalLog",
    "available_specs",
    "clean",
    "masked",
    "missing_credentials",
    "plain",
    "shown_credentials",
    "shown_route",
]
