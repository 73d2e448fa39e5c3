"""Framework-free HTTP plumbing shared by every vendor emulator.

A vendor emulator is a `Handler`: a plain object whose synchronous, thread-safe
`handle(SandboxRequest) -> SandboxResponse` answers one request. This module carries such a handler
two ways without any web framework:

- in process, as an httpx transport (`AsyncInProcessTransport`, `SyncInProcessTransport`), so tests
  and the app's sandbox mode never open a socket;
- on loopback, through `serve()`, a stdlib `ThreadingHTTPServer` in a background thread, so that
  official vendor SDKs and curl can talk to it.

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
import email.utils
import json as _json
import logging
import select
import socket
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, overload, runtime_checkable
from urllib.parse import parse_qsl, unquote

import httpx

from providers.transport import is_loopback_host

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


# ---------------------------------------------------------------------------------------------
# Loopback server


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # TCP_NODELAY: no ~40 ms stall between small writes
    server: _SandboxHTTPServer

    def version_string(self) -> str:
        return "teledeck-sandbox/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _client_gone(self) -> bool:
        """True when the client has closed its side (it gave up waiting)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True

    def _dispatch(self) -> None:
        body = self._read_body()
        path, _, raw_query = self.path.partition("?")
        req = SandboxRequest(
            method=self.command,
            path=unquote(path),
            query=parse_qsl(raw_query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        handler = self.server.sandbox_handler
        response = None
        slept = False
        # No read timeout is known here: the client enforces its own, and closes the connection.
        for step, seconds in _plan(handler, req, None):
            if step in ("connect_error", "reset"):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if step == "sleep":
                time.sleep(seconds)
                slept = True
            elif step == "handle":
                if slept and self._client_gone():
                    self.close_connection = True  # the client gave up while we waited: never applied
                    return
                response = handler.handle(req)
        if response is not None:
            self._write(response, head_only=self.command == "HEAD")

    def _write(self, response: SandboxResponse, *, head_only: bool = False) -> None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        headers.pop("content-length", None)
        headers.pop("connection", None)
        lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
        lines.append(f"Server: {self.version_string()}")
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        for name, value in headers.items():
            lines.append(f"{_title_case(name)}: {value}")
        lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write for head and body: no small-packet delay, whatever the socket options.
        self.wfile.write(head if head_only else head + response.body)
        self.log_request(response.status, len(response.body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


def _title_case(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: Handler, family: int) -> None:
        self.address_family = family
        self.sandbox_handler = handler
        super().__init__(address, _RequestHandler)


class SandboxServer:
    """A running loopback server. `base_url` is where a client should point (with the handler's
    `base_path`, e.g. http://127.0.0.1:4510/v2); `url` is the bare origin."""

    def __init__(self, httpd: _SandboxHTTPServer, handler: Handler, host: str) -> None:
        self._httpd = httpd
        self.handler = handler
        self.host = host
        self.port: int = httpd.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{self.port}"
        self.base_url = self.url + str(getattr(handler, "base_path", "") or "")
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name=f"sandbox-{self.port}", daemon=True
        )
        self._stopped = False

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop accepting, wait for the serving loop to end, and close the socket. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve(handler: Handler, host: str = "127.0.0.1", port: int = 0, *, allow_public: bool = False) -> SandboxServer:
    """Serve `handler` on (host, port) in a background thread and return the running server.

    `port=0` picks a free port (read it from `.port` / `.base_url`). Binding anything but a
    loopback address needs `allow_public=True`: the emulator accepts a published test key.
    """
    if not allow_public and not is_loopback_host(host):
        raise ValueError(
            f"refusing to serve the sandbox on non-loopback host {host!r}; pass allow_public=True to do so"
        )
    bind_host = host.strip("[]")
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    httpd = _SandboxHTTPServer((bind_host, port), handler, family)
    return SandboxServer(httpd, handler, bind_host).start()
