"""The one place that builds an httpx.AsyncClient, sends requests and decides re-sends.

It owns timeouts, the retry policy, per-account rate limits and log redaction, so that each
vendor client only builds calls, signs them, maps errors and, where its API refuses requests in
its own words, says which of those refusals are safe to re-send (a `RetryHook`).

Retry policy, and why:
- A request that provably never reached the server (connect error, connect or pool timeout)
  may be re-sent whatever its method.
- A 429 is a refusal before processing, so any request is re-sent after it, up to
  `RetryPolicy.max_throttled` times: the wait it asks for (Retry-After, else the backoff) holds
  the whole account in its shared limiter (`RateLimiter.block`), not just the refused request,
  and the limiter also holds requests while the server's x-ratelimit-remaining says the window is
  spent (`RateLimiter.observe`). A listing slows down on a 429; it does not fail.
- An idempotent request (GET, HEAD, PUT, DELETE unless the caller says otherwise) is also
  re-sent on 5xx and network errors after sending, with capped exponential backoff and jitter.
- A write that the server may have received is never re-sent: on a read timeout it raises
  `Timeout(maybe_applied=True)` so the caller can check what exists before deciding; a change
  answered 5xx, or whose connection broke after sending, carries `maybe_applied=True` too
  (providers.outcomes settles such writes).
- Any other answer (a 4xx, or even a 2xx whose body carries a vendor error code) is shown to the
  vendor's `RetryHook`, which may say it is a refusal before processing (Alibaba's throttling
  codes, a reused signature nonce) and so safe to re-send whatever the method, under a
  `RetryPolicy` of its own. Every attempt is signed afresh and admitted by the limiter again.

Bounds, and why (`ResponseLimits`): a server, or something pretending to be one, must not be
able to take the app's memory or hang it.
- The body is streamed and read raw; it is decompressed here, incrementally (gzip and deflate
  only, the encodings we ask for), counting both the bytes on the wire (`max_body`) and the bytes
  after decompression (`max_decoded`). Past either cap reading stops and the answer is a
  `MalformedResponse`; httpx never decompresses on its own.
- One logical request, re-sends and the waits between them included, has a total `deadline`;
  httpx's own timeouts are per read, so a server that trickles a byte a second would never be cut
  off by them. A write whose deadline passed raises `Timeout(maybe_applied=True)`.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import logging
import random
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, TypedDict, Unpack
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from providers.audit import note_request_id

# Kept importable from here for the sandbox server, which checks where it may listen.
from providers.endpoints import is_loopback_host as is_loopback_host
from providers.errors import (
    MalformedResponse,
    Offline,
    ProviderError,
    RateLimited,
    RateLimitInfo,
    ReadOnlyRefused,
    Timeout,
    Unavailable,
)

log = logging.getLogger("teledeck.http")

# How a send that got no answer failed, as the log line says it.
_NEVER_CONNECTED = "connection failed"
_TIMED_OUT = "timed out"
_BROKEN = "transport error"


def _failure_kind(exc: httpx.TransportError) -> str:
    # Connect and pool timeouts are timeouts that never reached the server, so they count as
    # never connected; they must be tested before the timeouts they subclass.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return _NEVER_CONNECTED
    if isinstance(exc, httpx.TimeoutException):
        return _TIMED_OUT
    return _BROKEN


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)

MiB = 1024 * 1024
# The encodings we ask for, so the only ones we decode.
ACCEPT_ENCODING = "gzip, deflate"
# The httpx request extension that says whether the request is a change (`Transport.request`'s
# `mutates`): an httpx transport below (a dry run's recorder, providers/dryrun.py) reads it.
MUTATES_EXTENSION = "teledeck.mutates"
_CHUNK = 64 * 1024  # at most this much is read, or decompressed, at a time


@dataclass(frozen=True)
class ResponseLimits:
    """How much of an answer is read, and for how long (see the module docstring).

    The defaults (docs/decisions.md): the largest honest answer the vendors send is a 250-row page
    of well under 1 MiB, so 16 MiB on the wire and 64 MiB decompressed leave room without letting
    a hostile answer take the app's memory; 30 s is longer than any vendor call takes and still
    within a user's patience, re-sends included."""

    max_body: int = 16 * MiB  # bytes on the wire (compressed, if it is)
    max_decoded: int = 64 * MiB  # bytes after decompression
    deadline: float = 20.0  # seconds for one logical request, re-sends and waits included

    def __post_init__(self) -> None:
        if self.max_body < 1 or self.max_decoded < 1 or self.deadline <= 0:
            raise ValueError("response limits must be positive")


DEFAULT_LIMITS = ResponseLimits()


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB and n % MiB == 0 else f"{n} bytes"


class _TooLarge(Exception):
    """A body passed one of the caps; the Transport turns it into a MalformedResponse."""


class _Undecodable(Exception):
    """A body that says it is compressed but is not, or is in an encoding we did not ask for."""


class _Decoder:
    """Incremental gzip/deflate decompression whose every step yields at most `_CHUNK` bytes, so
    a small compressed chunk (a bomb) is never expanded in one piece."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decompressed pieces of `data`, one at a time, so the caller can stop at its cap
        before the rest of a chunk is expanded."""
        if self._z is None:  # deflate: a zlib stream, or (as some servers send it) raw deflate
            looks_zlib = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if looks_zlib else -zlib.MAX_WBITS)
        while data:
            try:
                piece = self._z.decompress(data, _CHUNK)
            except zlib.error:
                raise _Undecodable(f"the {self.encoding} body is corrupt") from None
            data = self._z.unconsumed_tail
            if piece:
                yield piece

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return bytes(self._z.flush(_CHUNK))
        except zlib.error:
            raise _Undecodable(f"the {self.encoding} body is corrupt") from None


def _decoder_for(content_encoding: str) -> _Decoder | None:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _Decoder(encoding)
    raise _Undecodable(f"the body is in an encoding we did not ask for ({content_encoding[:40]!r})")


async def read_bounded(response: httpx.Response, limits: ResponseLimits) -> httpx.Response:
    """`response` with its body read, decompressed and held, as a new Response without the
    content-encoding (the body is decoded). Raises _TooLarge past a cap, _Undecodable for a body
    we cannot decode, and httpx's TransportError when the connection fails while reading."""
    if response.is_stream_consumed:
        # An in-process transport (the sandbox, a test's MockTransport) built the answer already
        # read; only its size can still be judged.
        if len(response.content) > limits.max_decoded:
            raise _TooLarge(f"larger than {_size(limits.max_decoded)}")
        return response
    decoder = _decoder_for(response.headers.get("content-encoding", ""))
    pieces: list[bytes] = []
    wire = decoded = 0

    def keep(piece: bytes) -> None:
        nonlocal decoded
        decoded += len(piece)
        if decoded > limits.max_decoded:
            what = "decompressed " if decoder is not None else ""
            raise _TooLarge(f"larger than {_size(limits.max_decoded)} {what}".strip())
        pieces.append(piece)

    async for chunk in response.aiter_raw(_CHUNK):
        wire += len(chunk)
        if wire > limits.max_body:
            raise _TooLarge(f"larger than {_size(limits.max_body)}")
        for piece in decoder.feed(chunk) if decoder is not None else (chunk,):
            keep(piece)
    if decoder is not None:
        keep(decoder.flush())
    headers = [
        (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(pieces),
        request=response.request,
        extensions=response.extensions,
    )


# Query parameter and header names whose values are never logged.
_SECRET_NAME = re.compile(
    r"(secret|token|password|passwd|signature|authorization|accesskey|access_key|api[-_]?key|"
    r"credential|x-wsse|appkey|app_key)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # Longest server-requested wait we honour inline; longer ones surface as RateLimited.
    max_retry_after: float = 60.0
    # Re-sends after a 429, counted apart from max_retries (None: as many as max_retries). A 429 is
    # a refusal before processing and the account's limiter spaces the re-sends, so a listing can
    # afford more of them than of 5xx: it slows down instead of failing.
    max_throttled: int | None = None

    @property
    def throttled_retries(self) -> int:
        return self.max_retries if self.max_throttled is None else self.max_throttled

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Capped exponential backoff with jitter in (0.75, 1.0] of the nominal delay."""
        nominal = min(self.initial_delay * (2**attempt), self.max_delay)
        jitter = 1.0 - 0.25 * (rng or random).random()
        return float(nominal * jitter)


NO_RETRY = RetryPolicy(max_retries=0, max_throttled=0)
# What a client gets unless it says otherwise.
DEFAULT_RETRY = RetryPolicy(max_throttled=6)


@dataclass(frozen=True)
class RetryAdvice:
    """A vendor's word that an answer refused the request before acting on it, so re-sending is
    safe even for a write. `reason` names the refusal ("throttled", "nonce reused"): each reason
    has its own count of re-sends against `policy`, and appears in the error when they run out.
    `retry_after` is the wait the server asked for, if it named one."""

    reason: str
    policy: RetryPolicy
    retry_after: float | None = None


# Shown every answer the Transport's own rules do not re-send (2xx included); None: not a refusal.
RetryHook = Callable[[httpx.Response], RetryAdvice | None]


class RateLimiter:
    """One account's admission of requests: one instance per account, shared by every client and
    every concurrent request of it (`shared_limiter`), so parallel pages, several screens and fast
    refreshes together keep to what the vendor allows. Three rules, each optional:

    - `rate`: at most `rate` requests in any `per`-second window (sliding), where the vendor
      documents its limit (Alibaba);
    - the server's own count, fed back from every answer by `observe` (Telnyx sends
      x-ratelimit-remaining and x-ratelimit-reset): the budget is what the newest answer said
      remained, less the requests admitted since it was sent; at none, every request waits for
      the window's reset;
    - a refusal (429): `block` holds every request of the account until the wait the server asked
      for has passed, not only the one refused, since the others would be refused too.

    `acquire` returns a ticket (the admission's sequence number) to hand back to `observe`, so an
    answer is weighed against the requests sent after it. The block and budget waits use the
    caller's `sleep` (a Transport's, which tests and the chaos run make virtual), each at most once
    per admission; the sliding window waits with asyncio.sleep until its clock says so.
    """

    def __init__(self, rate: int | None = None, per: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if rate is not None and rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate = rate
        self.per = per
        self.clock = clock
        self._sent: list[float] = []
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._issued = 0  # tickets handed out
        self._budget: int | None = None  # requests the server's newest word leaves; None: no word
        self._limit: int | None = None  # the server's window size, as it last said (x-ratelimit-limit)
        self._span = 0.0  # the longest reset it ever named: what one window lasts at most
        self._budget_ticket = 0  # the ticket whose answer that word was
        self._reset_at = 0.0  # when the server's window resets, on `clock`
        self._blocked_until = 0.0  # on `clock`: no request of the account before then
        self.waits = 0  # admissions that had to wait for a block or a reset (for benchmarks, logs)

    def _loop_lock(self) -> asyncio.Lock:
        # Limiters are shared for the life of the process; an asyncio.Lock belongs to one event
        # loop, so a new loop (a second app run, or each test) gets a lock of its own.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    @property
    def budget(self) -> int | None:
        """What the server's newest word leaves for requests not yet sent (None: it said nothing)."""
        return self._budget

    async def acquire(
        self, sleep: Callable[[float], Awaitable[None]] | None = None, *, waited_until: float = 0.0
    ) -> int:
        """Wait until the account may send one more request; its ticket. `waited_until`: the
        caller has already waited out a block until then (its own 429), so only a longer one,
        set by another request since, holds it again."""
        # Looked up at each call (not bound at definition), so a test can replace asyncio.sleep.
        wait = sleep or asyncio.sleep
        async with self._loop_lock():
            # The caller's own wait counts as time passed, whatever the clock says (a test's sleep
            # that does not move it): so no wait is ever served twice.
            now = max(self.clock(), waited_until)
            if self._blocked_until > now:
                self.waits += 1
                await wait(self._blocked_until - now)
                now = max(self.clock(), self._blocked_until)
            if self._budget is not None:
                if now >= self._reset_at:
                    self._new_window()  # the window the word was about is over
                elif self._budget <= 0:
                    self.waits += 1
                    await wait(self._reset_at - now)
                    self._new_window()
            if self.rate is not None:
                while True:
                    now = self.clock()
                    cutoff = now - self.per
                    self._sent = [t for t in self._sent if t > cutoff]
                    if len(self._sent) < self.rate:
                        self._sent.append(now)
                        break
                    await asyncio.sleep(self._sent[0] - cutoff + 0.001)
            if self._budget is not None:
                self._budget -= 1
            self._issued += 1
            return self._issued

    def _new_window(self) -> None:
        """The server's window has reset. Until it says more, a window's worth may go (sent all at
        once, more would be refused past its limit), in a window that lasts at most as long as
        the longest it ever named; with no limit known, any number may go. Answers to requests
        sent before the reset speak of the old window, so they are ignored."""
        self._budget, self._budget_ticket = self._limit, self._issued
        self._reset_at = self.clock() + self._span

    def observe(
        self, ticket: int, remaining: int | None, reset_seconds: float | None, limit: int | None = None
    ) -> None:
        """What the answer to the request admitted with `ticket` said of the server's window: the
        requests left in it, the seconds until it resets and its size. An older word than the one
        held is ignored (answers of parallel requests arrive in any order)."""
        if limit is not None and limit > 0:
            self._limit = limit
        if remaining is None or reset_seconds is None or ticket <= self._budget_ticket:
            return
        self._budget_ticket = ticket
        self._budget = remaining - (self._issued - ticket)
        self._reset_at = self.clock() + max(0.0, reset_seconds)
        self._span = max(self._span, reset_seconds)

    def block(self, seconds: float) -> float:
        """Hold every request of the account for `seconds` from now (a 429's Retry-After); the
        instant it ends, on `clock`, for the refused request's own `acquire(waited_until=...)`."""
        until = self.clock() + max(0.0, seconds)
        self._blocked_until = max(self._blocked_until, until)
        return until


_limiters: dict[tuple[str, str], RateLimiter] = {}


def shared_limiter(
    provider: str,
    account: str,
    rate: int | None = None,
    per: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> RateLimiter:
    """The one limiter for (provider, account); created on first use. `account` names the account
    as the vendor counts it (a key id at an origin), never with a secret in it."""
    key = (provider, account)
    limiter = _limiters.get(key)
    if limiter is None or limiter.rate != rate or limiter.per != per or limiter.clock is not clock:
        limiter = _limiters[key] = RateLimiter(rate, per, clock)
    return limiter


def account_key(secret: str, base_url: str) -> str:
    """A name for the account that a secret (an API key) opens at `base_url`, for `shared_limiter`:
    a digest of the secret, so the secret itself is never kept or shown as a name."""
    digest = hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]
    parts = urlsplit(base_url)
    return f"{digest}@{parts.scheme}://{parts.netloc}"


def redact_url(url: str | httpx.URL) -> str:
    """The URL with the values of secret-looking query parameters replaced by ***."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    pairs = [(k, "***" if _SECRET_NAME.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="[]:,")))


def redact_text(text: str, secrets: Sequence[str]) -> str:
    """Replace every occurrence of each known secret value in `text`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, Retry-After (seconds or date),
    then x-ratelimit-reset (seconds until the window resets, as Telnyx documents)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - (now if now is not None else time.time()))
    value = headers.get("x-ratelimit-reset")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    return None


def read_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    def number(name: str) -> float | None:
        try:
            return float(headers[name])
        except (KeyError, ValueError):
            return None

    limit, remaining, reset = number("x-ratelimit-limit"), number("x-ratelimit-remaining"), number("x-ratelimit-reset")
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitInfo(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_seconds=reset,
    )


class OfflineTransport(httpx.AsyncBaseTransport):
    """Stands in for the network in `--offline` sessions. A Transport given one refuses every
    request before building it (see Transport.request); reaching this means a bypass."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("offline: no network in this session", request=request)


ErrorMapper = Callable[[httpx.Response], ProviderError]
RequestSigner = Callable[[httpx.Request], Awaitable[None] | None]


class Transport:
    """Sends requests for one provider account."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        error_mapper: ErrorMapper,
        headers: Mapping[str, str] | None = None,
        signer: RequestSigner | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        limiter: RateLimiter | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        secrets: Sequence[str] = (),
        request_id_headers: Sequence[str] = ("x-request-id",),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        read_only: bool = False,
        retry_hook: RetryHook | None = None,
        limits: ResponseLimits = DEFAULT_LIMITS,
    ) -> None:
        self.provider = provider
        self.limits = limits
        self.read_only = read_only
        self.offline = isinstance(http_transport, OfflineTransport)
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.limiter = limiter
        self.secrets = tuple(s for s in secrets if s)
        self.rate_limit: RateLimitInfo | None = None
        self.requests_sent = 0
        self._error_mapper = error_mapper
        self._signer = signer
        self._retry_hook = retry_hook
        self._request_id_headers = tuple(request_id_headers)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Accept-Encoding": ACCEPT_ENCODING, **dict(headers or {})},
            timeout=timeout,
            transport=http_transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def request_id(self, response: httpx.Response) -> str:
        for name in self._request_id_headers:
            if response.headers.get(name):
                return response.headers[name]
        return ""

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok_statuses: Sequence[int] | None = None,
        mutates: bool | None = None,
        call: str = "",
    ) -> httpx.Response:
        """Send one logical request, re-sending only where the policy above allows.

        Returns the response when its status is 2xx (or in `ok_statuses`) and the retry hook does
        not call it a refusal; otherwise raises the `ProviderError` the vendor's error mapper builds.
        A request that `mutates` (by default anything but GET/HEAD/OPTIONS) is refused before
        sending when the transport is read-only. An answer past the `limits` is a
        `MalformedResponse`, and no complete answer within the deadline a `Timeout`; `call` names
        the call in their messages (default: the method and path).
        """
        method = method.upper()
        if self.offline:
            raise Offline(
                f"offline: {method} to {self.provider} not sent; showing cached data only",
                provider=self.provider,
                method=method,
                url=path,
            )
        if mutates is None:
            mutates = method not in ("GET", "HEAD", "OPTIONS")
        if mutates and self.read_only:
            raise ReadOnlyRefused(
                f"read-only: {method} refused, nothing was sent", provider=self.provider, method=method, url=path
            )
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        call = call or f"{method} {path.split('?', 1)[0]}"
        deadline = asyncio.get_running_loop().time() + self.limits.deadline
        attempt = 0  # re-sends under the Transport's own policy
        throttled = 0  # re-sends after a 429, counted apart (RetryPolicy.max_throttled)
        held_until = 0.0  # the end of the account block this request's own 429 set, waited out
        vendor_resends: dict[str, int] = {}  # re-sends the retry hook asked for, by reason
        # Whether an earlier attempt of this change reached the server and got no clear answer (a
        # 5xx, a broken connection, an unreadable answer): then the final error says it may have
        # been applied, whatever the last attempt answered (a 429 after a 5xx-after-apply does not
        # mean "not applied").
        reached: list[bool] = [False]
        try:
            while True:
                request = self._client.build_request(
                    method,
                    path,
                    params=params,
                    json=json,
                    content=content,
                    headers=headers,
                    extensions={MUTATES_EXTENSION: mutates},
                )
                if self._signer is not None:
                    outcome = self._signer(request)
                    if outcome is not None:
                        await outcome
                shown_url = redact_url(request.url)
                started = time.perf_counter()
                ticket = 0
                try:
                    async with asyncio.timeout_at(deadline):
                        if self.limiter is not None:
                            ticket = await self.limiter.acquire(self._sleep, waited_until=held_until)
                        self.requests_sent += 1
                        response = await self._send_bounded(request)
                except httpx.TransportError as exc:
                    failure = _failure_kind(exc)
                    log.info("%s %s -> %s: %s", method, shown_url, failure, type(exc).__name__)
                    # A request that never reached the server is safe to re-send whatever the method.
                    reached[0] = reached[0] or failure != _NEVER_CONNECTED
                    if (failure == _NEVER_CONNECTED or idempotent) and await self._wait_to_resend(
                        self.retry, attempt, deadline=deadline
                    ):
                        attempt += 1
                        continue
                    raise self._unanswered(exc, failure, idempotent, mutates, method, shown_url) from None
                except TimeoutError:
                    log.info("%s %s -> no complete answer within %.0f s", method, shown_url, self.limits.deadline)
                    raise Timeout(
                        f"{call}: {self.provider} gave no complete answer within {self.limits.deadline:g} s"
                        + ("; the change may or may not have been applied" if not idempotent else ""),
                        maybe_applied=not idempotent,
                        provider=self.provider,
                        method=method,
                        url=shown_url,
                    ) from None
                except (_TooLarge, _Undecodable) as exc:
                    log.info("%s %s -> unreadable answer: %s", method, shown_url, exc)
                    reached[0] = True  # it answered: a change may have been applied
                    what = f"the answer is {exc}; stopped reading" if isinstance(exc, _TooLarge) else str(exc)
                    raise MalformedResponse(
                        f"{call}: {what}", provider=self.provider, method=method, url=shown_url
                    ) from None

                elapsed_ms = (time.perf_counter() - started) * 1000
                info = read_rate_limit(response.headers)
                if info is not None:
                    self.rate_limit = info
                    if self.limiter is not None:
                        self.limiter.observe(ticket, info.remaining, info.reset_seconds, info.limit)
                request_id = self.request_id(response)
                note_request_id(request_id)  # for the audit log, when a change is being recorded
                log.info("%s %s -> %s in %.0f ms %s", method, shown_url, response.status_code, elapsed_ms, request_id)

                ok = 200 <= response.status_code < 300 or bool(ok_statuses and response.status_code in ok_statuses)
                retry_after = parse_retry_after(response.headers) if response.status_code == 429 else None
                # A 429 is an explicit refusal before processing, so even a write may be re-sent.
                reached[0] = reached[0] or response.status_code >= 500
                if not ok and response.status_code == 429:
                    # The account is refused, not this request alone: every request of it waits
                    # (the limiter's block), this one included, and then this one is re-sent.
                    wait = self._resend_wait(self.retry, throttled, retry_after, deadline, self.retry.throttled_retries)
                    if wait is None:
                        raise self._error(response, method, shown_url, retry_after, mutates)
                    if self.limiter is not None:
                        held_until = self.limiter.block(wait)
                    log.info("%s %s -> 429; the account waits %.2f s, then re-sends", method, shown_url, wait)
                    await self._sleep(wait)
                    throttled += 1
                    continue
                if not ok and idempotent and response.status_code >= 500:
                    if await self._wait_to_resend(self.retry, attempt, retry_after, deadline=deadline):
                        attempt += 1
                        continue
                    raise self._error(response, method, shown_url, retry_after, mutates)
                advice = self._retry_hook(response) if self._retry_hook is not None else None
                if advice is not None:
                    resent = vendor_resends.get(advice.reason, 0)
                    if await self._wait_to_resend(advice.policy, resent, advice.retry_after, deadline=deadline):
                        log.info("%s %s -> %s; re-sending", method, shown_url, advice.reason)
                        vendor_resends[advice.reason] = resent + 1
                        continue
                    error = self._error(response, method, shown_url, advice.retry_after, mutates)
                    if resent:
                        error.detail = (error.detail + "\n" if error.detail else "") + (
                            f"still {advice.reason} after {resent + 1} attempts"
                        )
                    raise error
                if ok:
                    return response
                raise self._error(response, method, shown_url, retry_after, mutates)
        except ProviderError as error:
            if mutates and reached[0]:
                error.maybe_applied = True
            raise

    async def _send_bounded(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its answer within the `limits` (see `read_bounded`)."""
        response = await self._client.send(request, stream=True)
        try:
            return await read_bounded(response, self.limits)
        finally:
            await response.aclose()

    async def _wait_to_resend(
        self, policy: RetryPolicy, resent: int, retry_after: float | None = None, *, deadline: float | None = None
    ) -> bool:
        """Whether `policy` allows another re-send after `resent` of them, having waited for it if
        so: the server's `retry_after` when it named one short enough to wait inline, else the
        backoff. A longer server wait is not waited out: the error surfaces with it instead; nor is
        a wait that would end past the request's `deadline` (loop time)."""
        wait = self._resend_wait(policy, resent, retry_after, deadline)
        if wait is None:
            return False
        await self._sleep(wait)
        return True

    def _resend_wait(
        self,
        policy: RetryPolicy,
        resent: int,
        retry_after: float | None,
        deadline: float | None,
        allowed: int | None = None,
    ) -> float | None:
        """The wait before re-send number `resent + 1` under `policy` (at most `allowed` of them,
        default its max_retries), or None when there is to be none (see `_wait_to_resend`)."""
        allowed = policy.max_retries if allowed is None else allowed
        if resent >= allowed or (retry_after is not None and retry_after > policy.max_retry_after):
            return None
        wait = retry_after if retry_after is not None else policy.backoff(resent, self._rng)
        if deadline is not None and asyncio.get_running_loop().time() + wait >= deadline:
            return None
        return wait

    def _unanswered(
        self, exc: httpx.TransportError, failure: str, idempotent: bool, mutates: bool, method: str, shown_url: str
    ) -> ProviderError:
        """The error for a send that got no answer: a write that may have reached the server is a
        `Timeout(maybe_applied=True)`, so that the caller looks before binding again."""
        where: dict[str, Any] = {"provider": self.provider, "method": method, "url": shown_url}
        if failure == _NEVER_CONNECTED:
            return Unavailable(f"could not connect to {self.provider}: {type(exc).__name__}", **where)
        where["maybe_applied"] = mutates  # it was sent: a change may have been applied
        if failure == _TIMED_OUT:
            return Timeout(
                f"{self.provider} did not answer in time"
                + ("; the change may or may not have been applied" if not idempotent else ""),
                **where,
            )
        if not idempotent:
            return Timeout(
                f"connection to {self.provider} broke mid-request; the change may or may not have been applied",
                **where,
            )
        return Unavailable(f"{self.provider} connection failed: {type(exc).__name__}", **where)

    def _error(
        self, response: httpx.Response, method: str, shown_url: str, retry_after: float | None, mutates: bool = False
    ) -> ProviderError:
        """The vendor's error for a refused answer, with what only the Transport knows added: a
        change answered 5xx may have been applied (a gateway can fail after the backend acted)."""
        error = self._error_mapper(response)
        if mutates and response.status_code >= 500:
            error.maybe_applied = True
        error.provider = error.provider or self.provider
        error.method, error.url = method, shown_url
        error.request_id = error.request_id or self.request_id(response)
        error.message = redact_text(error.message, self.secrets)
        error.detail = redact_text(error.detail, self.secrets)
        if isinstance(error, RateLimited) and error.retry_after is None:
            error.retry_after = retry_after
        return error


class ClientOptions(TypedDict, total=False):
    """The options every vendor client takes and hands to its Transport as they are."""

    http_transport: httpx.AsyncBaseTransport | None  # a sandbox, a recorder, or OfflineTransport
    retry: RetryPolicy
    timeout: httpx.Timeout | None  # None: DEFAULT_TIMEOUT
    read_only: bool
    sleep: Callable[[float], Awaitable[None]]  # how the Transport waits between attempts
    rng: random.Random | None  # the backoff's jitter
    limits: ResponseLimits  # caps on an answer's size and a request's total time


class TransportClient:
    """What every vendor client shares: building its `transport` from the vendor's wiring plus the
    `ClientOptions` every client takes, the read-only flag, closing, and `async with`."""

    transport: Transport

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        error_mapper: ErrorMapper,
        headers: Mapping[str, str],
        secrets: Sequence[str],
        signer: RequestSigner | None = None,
        limiter: RateLimiter | None = None,
        request_id_headers: Sequence[str] = ("x-request-id",),
        retry_hook: RetryHook | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.transport = Transport(
            provider=provider,
            base_url=base_url,
            error_mapper=error_mapper,
            headers=headers,
            signer=signer,
            timeout=options.get("timeout") or DEFAULT_TIMEOUT,
            retry=options.get("retry", DEFAULT_RETRY),
            limiter=limiter,
            http_transport=options.get("http_transport"),
            secrets=tuple(s for s in secrets if s),
            request_id_headers=request_id_headers,
            sleep=options.get("sleep", asyncio.sleep),
            rng=options.get("rng"),
            read_only=options.get("read_only", False),
            retry_hook=retry_hook,
            limits=options.get("limits", DEFAULT_LIMITS),
        )

    @property
    def read_only(self) -> bool:
        return self.transport.read_only

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
