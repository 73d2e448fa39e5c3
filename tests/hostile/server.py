"""A hostile HTTP server on loopback: answers every request in one bad way (its `mode`).

It speaks just enough HTTP/1.1 for httpx, on 127.0.0.1 and a random port, in background threads,
so the vendor clients and the app can be run against it unchanged (the endpoint rule allows plain
http to loopback). Whatever the path, the answer is the mode's:

| mode          | answer                                                                        |
|---------------|-------------------------------------------------------------------------------|
| ok            | a small, valid Telnyx answer (a list, or a bare access IP for a POST)         |
| gzip_bomb     | 200, `Content-Encoding: gzip`, ~1 MB that inflates to 1 GiB of zeros           |
| endless       | 200, chunked, a JSON list that never ends                                     |
| deep          | 200, JSON nested 200,000 deep                                                 |
| garbage_meta  | 200, a list whose page meta are not numbers                                   |
| huge_meta     | 200, a fresh page for every number asked, claiming a billion pages            |
| repeat_meta   | 200, the same rows for every page number asked, no totals                     |
| slow          | 200, a valid body at one byte per `slow_interval` seconds                     |
| error200      | 200, a Telnyx error document                                                  |
| null          | 200, `null`                                                                   |
| wrong_shape   | 200, `{"data": "surprise", "meta": []}`                                       |
| empty_object  | 200, `{}`                                                                     |
| markup        | 200, a valid list and objects whose fields carry Rich markup and escape codes |
"""

from __future__ import annotations

import functools
import itertools
import json
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MODES = (
    "ok",
    "gzip_bomb",
    "endless",
    "deep",
    "garbage_meta",
    "huge_meta",
    "repeat_meta",
    "slow",
    "error200",
    "null",
    "wrong_shape",
    "empty_object",
    "markup",
)

# Text a field may carry to attack a terminal or a markup renderer.
MARKUP = "[bold red]pwned[/] [link=file:///etc/passwd]click[/link] [@click=app.quit]x[/]"
ESCAPES = "\x1b[2J\x1b]0;owned title\x07\x1b[31mred\x1b[0m\x07\r\x08"
DEPTH = 200_000
_MiB = 1 << 20


@functools.cache
def gzip_bomb(mebibytes: int = 1024) -> bytes:
    """A gzip member that inflates to `mebibytes` MiB of zeros. Built from one fully flushed
    deflate block repeated (each block inflates to 1 MiB), so it takes no time or memory to make."""
    chunk = b"\0" * _MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    final_empty_block = b"\x03\x00"
    return header + block * mebibytes + final_empty_block + struct.pack("<II", crc, (mebibytes * _MiB) & 0xFFFFFFFF)


def access_ip(n: int, *, text: str = "") -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "ip_address": f"198.51.100.{n % 250}" if not text else text,
        "description": text or f"row {n}",
        "status": "added",
        "source": "api",
        "user_id": "hostile",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def page(rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    return json.dumps({"data": rows, "meta": meta}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        hostile = self.server.hostile
        with hostile.lock:
            hostile.requests.append(f"{self.command} {self.path}")
        query = dict(parse_qsl(urlsplit(self.path).query))
        number = int(query.get("page[number]", "1") or 1) if query.get("page[number]", "1").isdigit() else 1
        mode = hostile.mode
        try:
            getattr(self, f"_mode_{mode}")(number)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client stopped reading: what a bounded client does

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

    # ---- helpers ----------------------------------------------------------------------------

    def _send(self, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _valid(self, number: int, text: str = "") -> bytes:
        """A list page for a GET, else a bare access IP object."""
        if self.command == "GET":
            return page([access_ip(i, text=text) for i in range(3)], {"page_number": 1, "total_pages": 1})
        return json.dumps(access_ip(7, text=text)).encode()

    # ---- modes ------------------------------------------------------------------------------

    def _mode_ok(self, number: int) -> None:
        self._send(self._valid(number))

    def _mode_markup(self, number: int) -> None:
        self._send(self._valid(number, text=MARKUP + ESCAPES))

    def _mode_gzip_bomb(self, number: int) -> None:
        self._send(gzip_bomb(), headers={"Content-Encoding": "gzip"})

    def _mode_endless(self, number: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        row = json.dumps(access_ip(1)).encode() + b","
        chunk = row * (65536 // len(row))
        for piece in itertools.chain([b'{"data":['], itertools.repeat(chunk)):
            if self.server.hostile.stopping.is_set():
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.server.hostile.endless_bytes += len(piece)

    def _mode_deep(self, number: int) -> None:
        self._send(b'{"data":' + b"[" * DEPTH + b"]" * DEPTH + b', "meta": {}}')

    def _mode_garbage_meta(self, number: int) -> None:
        meta = {"page_number": "four hundred and ninety-four", "total_pages": "many", "total_results": [1]}
        self._send(page([access_ip(number)], meta))

    def _mode_huge_meta(self, number: int) -> None:
        meta = {"page_number": number, "page_size": 1, "total_pages": 10**9, "total_results": 10**9}
        self._send(page([access_ip(number)], meta))

    def _mode_repeat_meta(self, number: int) -> None:
        self._send(page([access_ip(1), access_ip(2)], {"page_number": number}))

    def _mode_slow(self, number: int) -> None:
        body = self._valid(number)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(len(body)):
            if self.server.hostile.stopping.wait(self.server.hostile.slow_interval):
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()

    def _mode_error200(self, number: int) -> None:
        error = {"code": "10015", "title": "Invalid value", "detail": "ip_address is not allowed"}
        self._send(json.dumps({"errors": [{**error, "source": {"pointer": "/ip_address"}}]}).encode())

    def _mode_null(self, number: int) -> None:
        self._send(b"null")

    def _mode_wrong_shape(self, number: int) -> None:
        self._send(b'{"data": "surprise", "meta": []}')

    def _mode_empty_object(self, number: int) -> None:
        self._send(b"{}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hostile: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up on a hostile answer is the point, not a failure


class HostileServer:
    """The server; set `mode` (one of MODES) before each request."""

    def __init__(self, mode: str = "ok", *, slow_interval: float = 1.0) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.slow_interval = slow_interval
        gzip_bomb()  # made once, here, so no answer waits for it
        self.requests: list[str] = []
        self.endless_bytes = 0  # body bytes the endless mode got out before the client hung up
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.hostile = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hostile-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
