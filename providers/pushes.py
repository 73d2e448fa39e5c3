"""What the vendors push about calls, vendor-neutral: the request as it arrived, how a vendor's push
module checks, reads and acknowledges it, and the registry of those modules.

Each privacy-number vendor has one push module (`PUSH_MODULES`) defining `PUSHES`, a `PushSpec`:

- `route`: where the receiver serves it (Huawei `/huawei/events`, Volcengine
  `/volcengine/callback`, Alibaba `/aliyun/receipts` with the account's token as the rest of the
  path);
- `authenticate(request, keys, now=, nonces=)`: which account's key the push was signed (or
  addressed) with, or `PushRefused` naming why without a secret;
- `parse(body, received_at=, account=)`: the `CallEvent`s it carries, or `MalformedPush`;
- `reply(events)`: the answer the vendor expects when the push was taken (Huawei 200 with an empty
  body; Alibaba `{"code":0,"msg":"接收成功"}`);
- `decode(events)`: the vendor's reading of a call's outcome and cause in words (`Verdict`),
  which `providers.calls.merge` uses.

The receiver (providers/receiver.py) and the sandbox emulators (which sign the pushes of the
calls they simulate the vendor's way) both go through these, so what the sandbox sends is what
the receiver checks. Push modules import no HTTP client and no UI.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from providers.calls import CallEvent, Verdict
from providers.records import integer

# The push module of each privacy-number provider (Binding.provider names).
PUSH_MODULES = {
    "huawei": "providers.huawei.pushes",
    "volcengine": "providers.volcengine.pushes",
    "aliyun": "providers.aliyun.pushes",
}

# The largest push body a receiver reads (Huawei merges up to 50 CDRs in one push, each well
# under 2 KB; Alibaba batches receipts). Bigger is refused with 413 before it is parsed.
DEFAULT_MAX_BODY = 512 * 1024


@dataclass(frozen=True)
class PushRequest:
    """One push as it arrived (or as a sandbox emulator sends it)."""

    route: str  # the vendor route it came in on, e.g. "/huawei/events"
    body: bytes
    rest: str = ""  # the path after the route ("/<token>" for Alibaba receipts)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-case

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class PushReply:
    status: int
    body: bytes = b""
    content_type: str = ""


@dataclass(frozen=True)
class ReceiverKey:
    """What a receiver checks one account's pushes with: the account's label in its profile and
    the credentials the vendor signs (or addresses) pushes with."""

    account: str
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)


class PushRefused(Exception):
    """The push failed its check (401). The message names why and never holds a secret."""


class MalformedPush(ValueError):
    """The push cannot be read (400): not JSON, not the vendor's shape, a field that cannot be true."""


class NonceBook:
    """The nonces a receiver has accepted, each remembered for as long as a push carrying it
    would still be fresh, so a replayed push is refused. Bounded: past `limit` entries the
    oldest go first (a push that old is refused as stale anyway when `limit` covers the window)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def first_use(self, scope: str, nonce: str, *, now: float, keep_for: float) -> bool:
        """True the first time (scope, nonce) is seen within `keep_for` seconds of `now`, and
        remember it; False for a replay."""
        with self._lock:
            while self._seen:
                oldest_key, until = next(iter(self._seen.items()))
                if until > now and len(self._seen) < self._limit:
                    break
                del self._seen[oldest_key]
            key = (scope, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now + keep_for
            return True

    def release(self, scope: str, nonce: str) -> None:
        """Forget (scope, nonce): the push that carried it was not taken (it could not be read or
        stored), so the vendor's re-send of it must not be refused as a replay."""
        with self._lock:
            self._seen.pop((scope, nonce), None)


def pushed_text(record: Mapping[str, Any], name: str, *, where: str = "") -> str:
    """A pushed field as text: text as it is (stripped), a whole number as its digits, "" when
    absent or null; MalformedPush (naming the field after `where`) for a boolean or a container."""
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPush(f"{where}{name} is not text or a whole number")
    return str(value).strip()


def pushed_integer(record: Mapping[str, Any], name: str, *, where: str = "") -> int | None:
    """A pushed whole-number field, sent as a number or as digits; None when absent, null or "";
    MalformedPush (naming the field after `where`) for anything else."""
    value = record.get(name)
    if value is None or value == "":
        return None
    read = integer(record, name)
    if read is None:
        raise MalformedPush(f"{where}{name} is not a whole number")
    return read


class Authenticate(Protocol):
    def __call__(
        self, request: PushRequest, keys: Sequence[ReceiverKey], *, now: datetime, nonces: NonceBook
    ) -> ReceiverKey: ...


class Parse(Protocol):
    def __call__(self, body: bytes, *, received_at: datetime, account: str) -> list[CallEvent]: ...


@dataclass(frozen=True)
class PushSpec:
    provider: str  # the Binding.provider name
    route: str
    # The account credential fields a receiver needs (any one account holding them can receive).
    receive_credentials: tuple[str, ...]
    authenticate: Authenticate
    parse: Parse
    reply: Callable[[Sequence[CallEvent]], PushReply]
    decode: Callable[[Sequence[CallEvent]], Verdict | None]
    max_body: int = DEFAULT_MAX_BODY


@cache
def push_spec(provider: str) -> PushSpec:
    """The push module of `provider`, imported on first use (KeyError for a provider without one)."""
    spec: PushSpec = importlib.import_module(PUSH_MODULES[provider]).PUSHES
    return spec


def push_specs() -> list[PushSpec]:
    return [push_spec(provider) for provider in PUSH_MODULES]


__all__ = [
    "DEFAULT_MAX_BODY",
    "PUSH_MODULES",
    "MalformedPush",
    "NonceBook",
    "PushRefused",
    "PushReply",
    "PushRequest",
    "PushSpec",
    "ReceiverKey",
    "push_spec",
    "push_specs",
    "pushed_integer",
    "pushed_text",
]
