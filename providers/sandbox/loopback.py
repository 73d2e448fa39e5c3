"""The loopback half of providers/sandbox/http.py: `serve()` carries a `Handler` over a stdlib
`ThreadingHTTPServer` in a background thread, so that official vendor SDKs and curl can talk to an
emulator. Apart from the in-process transports because http.server (with email and html) is
imported only when something serves: the app's in-process sandbox never does.
"""

from __future__ import annotations

import email.utils
import logging
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from providers.sandbox.http import Handler, SandboxRequest, SandboxResponse, _plan, _reason
from providers.transport import is_loopback_host

log = logging.getLogger("teledeck.sandbox")


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
