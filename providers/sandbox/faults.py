"""Fault injection for every sandbox emulator: a queue of failures that fire on matching requests.

A fault matches by method ("*" for any) and path prefix. What "path" means is the emulator's
choice, given by its `fault_path()` hook: the path below the base URL for REST emulators
(Telnyx "/access_ip_address", Huawei "/rest/..."), "/<Action>" for the RPC ones (Alibaba,
Volcengine), so a test can aim a fault at one operation whatever the wire looks like.

Kinds:

- "status": answer `status` (and `body`) instead of handling the request; an emulator renders a
  fault without a body in its own error envelope (`Emulator.fault_response`);
- "malformed": answer well-formed JSON of the wrong shape (or `body`);
- "delay": answer `seconds` late, with the change applied first (`apply=True`) or never
  (`apply=False`) when the client times out;
- "connect_error": the request never reaches the emulator;
- "repeat_page": serve page `page_number` whatever page is asked for (a server whose pages never
  advance); the emulator decides which query parameter is "the page";
- "applied_status": act on the request, then answer `status` instead of its answer (a gateway
  that answers 5xx after the backend applied the change);
- "reset": the connection breaks with no answer, before the request is handled (`apply=False`)
  or after (`apply=True`: the change was applied and its answer lost), at once, with no wait.

`RandomFaults` draws faults at given rates for every request (the chaos run, `make chaos`): an
emulator whose `faults.random` is set queues one drawn fault for each request before handling it,
from a seeded `random.Random`, so a run is reproducible. `FaultInjector.fired` counts the faults
that fired, by kind.

`POST <base>/_sandbox/faults` takes the JSON form of `FaultInjector.add`, so a process that only
has HTTP (an official SDK's test) can queue the same faults.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from providers.sandbox.http import JSON_CONTENT_TYPE, SandboxResponse

FAULT_KINDS = ("status", "malformed", "delay", "connect_error", "repeat_page", "applied_status", "reset")
MALFORMED_BODY = {"data": "not what you expected", "meta": "nope"}
_ADD_FIELDS = frozenset(
    {"method", "path", "times", "status", "content_type", "headers", "seconds", "apply", "page_number"}
)


@dataclass
class Fault:
    """One queued fault: matches requests by method and path prefix."""

    kind: str
    method: str = "*"
    path: str = "/"
    times: int | None = 1  # None: until cleared
    status: int = 200
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    apply: bool = False
    page_number: int = 1
    drawn: bool = False  # queued by `RandomFaults` for one request; dropped if that request skips it
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def matches(self, method: str, rel_path: str) -> bool:
        if self.method not in ("*", method):
            return False
        prefix = self.path.rstrip("/")
        return not prefix or rel_path == prefix or rel_path.startswith(prefix + "/")

    def response(self) -> SandboxResponse:
        """The answer as queued. A "status" fault without a body answers `{}`: emulators that
        give it their error envelope do so before calling this."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.kind == "malformed":
            body = self.body if self.body is not None else json.dumps(MALFORMED_BODY).encode()
            return SandboxResponse(
                self.status, {"content-type": self.content_type or JSON_CONTENT_TYPE, **headers}, body
            )
        if self.body is None:
            return SandboxResponse.json_response(self.status, {}, headers)
        if self.body:
            headers.setdefault("content-type", self.content_type or "text/plain; charset=utf-8")
        elif self.content_type:
            headers.setdefault("content-type", self.content_type)
        return SandboxResponse(self.status, headers, self.body)

    def describe(self) -> dict[str, Any]:
        """The fault as the control endpoint shows it (JSON-ready)."""
        out = asdict(self)
        out["body"] = None if self.body is None else self.body.decode("utf-8", "replace")
        return out


def _as_body(body: Any) -> tuple[bytes | None, str | None]:
    """Raw body bytes and a content type guess: dict/list become JSON, str/bytes stay raw."""
    if body is None:
        return None, None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), None
    return json.dumps(body).encode("utf-8"), JSON_CONTENT_TYPE


@dataclass
class RandomFaults:
    """Faults drawn at random for each request, at these rates (each a probability in [0, 1]):

    - `throttle`: 429 with `Retry-After: retry_after` (a refusal before processing);
    - `error`: 5xx, not applied; `applied_error`: 5xx after the change was applied;
    - `reset`: the connection breaks before the request is handled;
    - `lost`: the request is handled and its answer lost (a reset after applying).

    At most one fault per request; `seed` makes the sequence reproducible."""

    throttle: float = 0.0
    error: float = 0.0
    applied_error: float = 0.0
    reset: float = 0.0
    lost: float = 0.0
    retry_after: float = 1.0
    seed: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if sum((self.throttle, self.error, self.applied_error, self.reset, self.lost)) > 1.0:
            raise ValueError("the fault rates add up to more than 1")
        self.rng = random.Random(self.seed)

    def draw(self, method: str, path: str) -> Fault | None:
        """The fault for one request to `path` (exactly), or None."""
        roll = self.rng.random()
        kinds: tuple[tuple[float, str, int, bool], ...] = (
            (self.throttle, "status", 429, False),
            (self.error, "status", 503, False),
            (self.applied_error, "applied_status", 502, False),
            (self.reset, "reset", 200, False),
            (self.lost, "reset", 200, True),
        )
        for rate, kind, status, apply in kinds:
            if roll < rate:
                headers = {"Retry-After": f"{self.retry_after:g}"} if status == 429 else {}
                return Fault(kind, method.upper(), path, 1, status=status, headers=headers, apply=apply)
            roll -= rate
        return None


class FaultInjector:
    """Queue of faults; each fires for the first `times` matching requests, in the order queued.

    Every method takes `method` ("GET", ..., or "*") and `path`, a prefix in the emulator's fault
    paths. `base_path` (Telnyx: "/v2") is accepted in front of a path and ignored, so a test may
    write the URL path it sees.
    """

    def __init__(self, base_path: str = "") -> None:
        self.base_path = base_path.rstrip("/")
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.random: RandomFaults | None = None  # set to draw faults for every request
        # Faults that fired, by kind: "status 429", "applied_status", "reset", "reset+apply" (a lost
        # answer), ...
        self.fired: dict[str, int] = {}
        self.drawn_for = 0  # requests `random` drew for (every API request while it is set)

    def _normalise(self, path: str) -> str:
        path = "/" + path.strip().lstrip("/")
        base = self.base_path
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base) :] or "/"
        return path

    def _queue(self, fault: Fault) -> Fault:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1 (or None for until cleared)")
        fault.method = fault.method.upper()
        fault.path = self._normalise(fault.path)
        with self._lock:
            self._faults.append(fault)
        return fault

    def respond(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        times: int | None = 1,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer with `status` instead of handling the request. `body=None` gives the vendor's
        error body for 4xx/5xx; `b""` gives an empty body; str/bytes are sent raw."""
        raw, guessed = _as_body(body)
        return self._queue(
            Fault(
                "status",
                method,
                path,
                times,
                status=status,
                body=raw,
                content_type=content_type or guessed,
                headers=dict(headers or {}),
            )
        )

    def malformed(self, method: str, path: str, *, times: int | None = 1, body: Any = None, status: int = 200) -> Fault:
        """Answer 200 with well-formed JSON of the wrong shape (or `body`), without handling."""
        raw, guessed = _as_body(body)
        return self._queue(Fault("malformed", method, path, times, status=status, body=raw, content_type=guessed))

    def delay(self, method: str, path: str, seconds: float, *, apply: bool = False, times: int | None = 1) -> Fault:
        """Answer `seconds` late. `apply=True`: act on the request first (a client that times out
        has had its change applied); `apply=False`: wait first (a timed-out request never applies)."""
        return self._queue(Fault("delay", method, path, times, seconds=float(seconds), apply=apply))

    def connect_error(self, method: str, path: str, *, times: int | None = 1) -> Fault:
        """Fail before the request reaches the emulator (httpx.ConnectError in process)."""
        return self._queue(Fault("connect_error", method, path, times))

    def repeat_page(self, path: str, *, page_number: int = 1, method: str = "GET", times: int | None = None) -> Fault:
        """Serve page `page_number` whatever page is asked for, so the page never advances (the
        static Prism mock does this); by default until cleared."""
        return self._queue(Fault("repeat_page", method, path, times, page_number=int(page_number)))

    def applied_status(self, method: str, path: str, status: int = 502, *, times: int | None = 1) -> Fault:
        """Act on the request, then answer `status` (the vendor's error envelope) instead."""
        return self._queue(Fault("applied_status", method, path, times, status=status))

    def reset(self, method: str, path: str, *, apply: bool = False, times: int | None = 1) -> Fault:
        """Break the connection with no answer: before handling (`apply=False`) or after it
        (`apply=True`, a lost answer). No wait: the client sees the broken connection at once."""
        return self._queue(Fault("reset", method, path, times, apply=apply))

    def draw(self, method: str, path: str) -> Fault | None:
        """With `random` set, queue the fault it draws for this request (exact path), if any."""
        if self.random is None:
            return None
        with self._lock:
            self.drawn_for += 1
            fault = self.random.draw(method, path)
            # A drawn fault the previous request never reached (refused before faults apply) must
            # not fire on another request.
            self._faults = [f for f in self._faults if not f.drawn]
            if fault is not None:
                fault.drawn = True
                self._faults.insert(0, fault)
        return fault

    def add(self, spec: Mapping[str, Any]) -> Fault:
        """Queue a fault from its JSON form (what `POST /_sandbox/faults` accepts):
        {"kind", "method", "path", "times", "status", "body" | "json", "content_type", "headers",
        "seconds", "apply", "page_number"}."""
        spec = dict(spec)
        kind = str(spec.pop("kind", "status"))
        kind = {"respond": "status", "connect": "connect_error", "timeout": "delay"}.get(kind, kind)
        if "json" in spec:
            raw, guessed = _as_body(spec.pop("json"))
            spec.pop("body", None)
        else:
            raw, guessed = _as_body(spec.pop("body", None))
        unknown = set(spec) - _ADD_FIELDS
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if kind == "repeat_page":
            spec.setdefault("times", None)
            spec.setdefault("method", "GET")
        fault = Fault(
            kind,
            str(spec.pop("method", "*")),
            str(spec.pop("path", "/")),
            spec.pop("times", 1),
            body=raw,
            content_type=spec.pop("content_type", None) or guessed,
            **spec,
        )
        fault.status = int(fault.status)
        fault.seconds = float(fault.seconds)
        fault.apply = bool(fault.apply)
        fault.headers = {str(k): str(v) for k, v in (fault.headers or {}).items()}
        return self._queue(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self, kinds: tuple[str, ...], method: str, rel_path: str) -> Fault | None:
        """Consume one firing of the first queued fault of `kinds` matching the request."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, rel_path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    name = fault.kind
                    if fault.kind == "reset" and fault.apply:
                        name = "reset+apply"  # a lost answer
                    elif fault.kind == "status":
                        name = f"status {fault.status}"
                    self.fired[name] = self.fired.get(name, 0) + 1
                    return fault
        return None


__all__ = ["FAULT_KINDS", "MALFORMED_BODY", "Fault", "FaultInjector", "RandomFaults"]
