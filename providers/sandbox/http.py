"""Framework-free HTTP plumbing shared by every vendor emulator.

A vendor emulator is a `Handler`: a plain object whose synchronous, thread-safe
`handle(SandboxRequest) -> SandboxResponse` answers one request. This module carries such a handler
two ways without any web framework:

- in process, as an httpx transport (`AsyncInProcessTransport`, `SyncInProcessTransport`), so tests
  and the app's sandbox mode never open a socket;
- on loopback, through `serve()` (providers/sandbox/loopback.py), a stdlib `ThreadingHTTPServer`
  in a background thread, so that official vendor SDKs and curl can talk to it.

Custom httpx transports do not enforce timeouts themselves, so both transports read the request's
read timeout and turn an injected delay that exceeds it into `httpx.ReadTimeout`, exactly where a
real network would.

Two optional hooks on the handler drive that fault injection:

- `delay_for(req) -> (seconds, apply)`: answer `seconds` late. With `apply=True` the handler acts on
  the request first and the answer is then late (so a timed-out write *was* applied); with
  `apply=False` the wait comes first and a request that times out is never applied.
- `connect_fails(req) -> bool`: the request never reaches the handler (`httpx.ConnectError` in
  process; on loopback the connection is closed without an answer).
- `reset_for(req) -> bool | None`: the connection breaks with no answer (`httpx.ReadError` in
  process; closed on loopback), before handling (False) or after it (True: a lost answer).
- `draw_faults(req)`: called first, so that randomly drawn faults (the chaos run) are queued.
"""

from __future__ import annotations

import asyncio
import json as _json
import logging
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol, overload, runtime_checkable
from urllib.parse import parse_qsl, unquote

import httpx

log = logging.getLogger("teledeck.sandbox")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


class BodyError(ValueError):
    """The request body is not the JSON document the endpoint needs."""


@dataclass
class SandboxRequest:
    """One HTTP request, as a vendor emulator sees it."""

    method: str
    path: str  # percent-decoded, without the query string
    query: list[tuple[str, str]] = field(default_factory=list)  # in wire order, repeats kept
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {k.lower(): v for k, v in self.headers.items()}

    @property
    def query_dict(self) -> dict[str, str]:
        """The query as a dict; where a name repeats, the last value wins."""
        return dict(self.query)

    @property
    def query_string(self) -> str:
        """A canonical form of the query (sorted pairs), for comparing two requests."""
        return "&".join(f"{k}={v}" for k, v in sorted(self.query))

    @overload
    def header(self, name: str) -> str | None: ...
    @overload
    def header(self, name: str, default: str) -> str: ...
    def header(self, name: str, default: str | None = None) -> str | None:
        """A header's value (names are case-insensitive), else `default`."""
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ("" when absent)."""
        return (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON; raises `BodyError` saying why when it cannot be."""
        if not self.body.strip():
            raise BodyError("the request body is empty; a JSON document was expected")
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyError(f"the request body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        try:
            return _json.loads(text)
        except ValueError as exc:
            raise BodyError(f"the request body is not valid JSON: {exc}") from None


@dataclass
class SandboxResponse:
    """One HTTP response from a vendor emulator."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json_response(cls, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> SandboxResponse:
        body = _json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, {"content-type": JSON_CONTENT_TYPE, **_lower(headers)}, body)

    @classmethod
    def text_response(
        cls,
        status: int,
        text: str | bytes,
        headers: Mapping[str, str] | None = None,
        content_type: str = TEXT_CONTENT_TYPE,
    ) -> SandboxResponse:
        body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return cls(status, {"content-type": content_type, **_lower(headers)}, body)

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> SandboxResponse:
        return cls(status, _lower(headers), b"")

    def json(self) -> Any:
        return _json.loads(self.body.decode("utf-8"))


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k.lower(): str(v) for k, v in (headers or {}).items()}


@runtime_checkable
class Handler(Protocol):
    """A vendor emulator. `handle` must be synchronous and thread-safe (hold an internal lock).

    Optional hooks, looked up with getattr: `delay_for(req) -> tuple[float, bool]` and
    `connect_fails(req) -> bool` (see the module docstring), and `base_path` (a str such as "/v2"
    that `serve()` appends to the server's address to form `base_url`).
    """

    def handle(self, req: SandboxRequest) -> SandboxResponse: ...


def _plan(handler: Handler, req: SandboxRequest, read_timeout: float | None) -> list[tuple[str, float]]:
    """What answering `req` takes, as steps: ("connect_error", 0), ("sleep", seconds),
    ("handle", 0) and ("timeout", 0), from the handler's optional fault hooks.

    A delay longer than the client's read timeout ends in "timeout" after sleeping the timeout;
    whether "handle" comes first depends on the hook's `apply` flag.
    """
    draw_faults = getattr(handler, "draw_faults", None)
    if draw_faults is not None:
        draw_faults(req)
    connect_fails = getattr(handler, "connect_fails", None)
    if connect_fails is not None and connect_fails(req):
        return [("connect_error", 0.0)]
    reset_for = getattr(handler, "reset_for", None)
    reset = reset_for(req) if reset_for is not None else None
    if reset is not None:
        return [("handle", 0.0), ("reset", 0.0)] if reset else [("reset", 0.0)]
    delay_for = getattr(handler, "delay_for", None)
    seconds, apply = delay_for(req) if delay_for is not None else (0.0, False)
    seconds = max(0.0, float(seconds or 0.0))
    if seconds <= 0:
        return [("handle", 0.0)]
    if read_timeout is not None and seconds > read_timeout:
        return ([("handle", 0.0)] if apply else []) + [("sleep", read_timeout), ("timeout", 0.0)]
    return [("handle", 0.0), ("sleep", seconds)] if apply else [("sleep", seconds), ("handle", 0.0)]


# ---------------------------------------------------------------------------------------------
# In-process httpx transports


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _to_sandbox_request(request: httpx.Request, body: bytes) -> SandboxRequest:
    raw_path = request.url.raw_path.decode("ascii")
    path, _, raw_query = raw_path.partition("?")
    headers: dict[str, str] = {}
    for name, value in request.headers.multi_items():
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return SandboxRequest(
        method=request.method,
        path=unquote(path),
        query=parse_qsl(raw_query, keep_blank_values=True),
        headers=headers,
        body=body,
    )


def _to_httpx_response(response: SandboxResponse, request: httpx.Request) -> httpx.Response:
    headers = dict(response.headers)
    headers.setdefault("content-length", str(len(response.body)))
    return httpx.Response(
        response.status,
        headers=list(headers.items()),
        content=response.body,
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": _reason(response.status).encode()},
    )


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


class _InProcess:
    """What both in-process transports do; they differ only in how they wait."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests_seen = 0

    def _steps(self, request: httpx.Request, body: bytes) -> Generator[float, None, httpx.Response]:
        """Answer `request`, yielding each wait (seconds) for the caller to sleep, async or not;
        the answer is the generator's return value."""
        req = _to_sandbox_request(request, body)
        self.requests_seen += 1
        response = None
        for step, seconds in _plan(self.handler, req, _read_timeout(request)):
            if step == "sleep":
                yield seconds
            elif step == "handle":
                response = self.handler.handle(req)
            else:
                raise _transport_error(step, request)
        assert response is not None
        return _to_httpx_response(response, request)


class AsyncInProcessTransport(_InProcess, httpx.AsyncBaseTransport):
    """Hands httpx requests to a `Handler` in this process; honours injected delays and read timeouts.

    The handler is synchronous and fast; it runs inline on the event loop (its lock is held only
    for the handling itself, never across a sleep).
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        steps = self._steps(request, await request.aread())
        try:
            while True:
                await asyncio.sleep(next(steps))
        except StopIteration as done:
            response: httpx.Response = done.value
            return response


class SyncInProcessTransport(_InProcess, httpx.BaseTransport):
    """The blocking twin of `AsyncInProcessTransport`, for `httpx.Client` and synchronous SDKs."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        steps = self._steps(request, request.read())
        try:
            while True:
                time.sleep(next(steps))
        except StopIteration as done:
            response: httpx.Response = done.value
            return response


def _transport_error(step: str, request: httpx.Request) -> httpx.TransportError:
    if step == "connect_error":
        return httpx.ConnectError("sandbox: connection refused (injected fault)", request=request)
    if step == "reset":
        return httpx.ReadError("sandbox: connection reset with no answer (injected fault)", request=request)
    return httpx.ReadTimeout("sandbox: read timed out (injected delay)", request=request)


def __getattr__(name: str) -> Any:
    # The loopback server lives in providers/sandbox/loopback.py (http.server is imported only
    # when something serves); `from providers.sandbox.http import serve` still works.
    if name in ("serve", "SandboxServer"):
        from providers.sandbox import loopback

        return getattr(loopback, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
