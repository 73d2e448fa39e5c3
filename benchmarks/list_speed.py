"""List 10,000 access IPs four ways against one loopback server, side by side in one run.

    python benchmarks/list_speed.py [--rows 10000] [--latency 0.020] [--runs 3]

The four clients, each listing every row of `GET /v2/access_ip_address`:

- teledeck: `TelnyxClient.collect(access_ip_pages())`, page size 250, the pages after the first
  fetched concurrently (providers/pagination.py), through its Transport and account limiter;
- the official `telnyx` SDK's default `list()`: its auto-paging iterator at its default page size
  (it sends none, so the server's default, 20, as Telnyx's API has it);
- the SDK with `page_size=250`;
- plain sequential httpx at page size 250 (one `httpx.Client`, one page after the other).

The server runs in a separate process (this script with `--serve`), so it never shares the
clients' interpreter lock. It speaks the Telnyx v2 envelope the SDK pages by (`data`, and `meta`
with page_number, page_size, total_pages, total_results), waits `--latency` seconds before each
answer (a fixed round trip), answers each request in one socket write with TCP_NODELAY (a head
and body in two writes cost a 40 ms delayed ACK per request), keeps connections alive, and sends
Telnyx's x-ratelimit-* headers for a fixed window of `--rate-limit` requests per second, high
enough by default never to refuse (a 429 is counted if it does). Requests are counted by the
server. Each round runs the four in turn (interleaved, so machine load falls on all alike); the
table shows the median of the rounds, and the ratio is each client's time over teledeck's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

API_KEY = "KEYLISTSPEEDBENCH_local_only_0000"
DEFAULT_PAGE_SIZE = 20  # what Telnyx answers when no page[size] is sent
MAX_PAGE_SIZE = 250

# ---- the server (a process of its own) ------------------------------------------------------


def make_rows(count: int) -> list[bytes]:
    """`count` access IP records, each serialised once, in a fixed order."""
    rows = []
    sources = ("api", "portal", "cloudflare")
    for n in range(count):
        record = {
            "id": str(uuid.UUID(int=n + 1)),
            "ip_address": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
            "source": sources[n % 3],
            "status": "added",
            "description": f"bench row {n}",
            "user_id": "ab0469a5-c2ba-4ff7-b9d4-9080df2db07e",
            "created_at": f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}T10:00:00.000Z",
            "updated_at": f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}T10:00:01.000Z",
        }
        rows.append(json.dumps(record, separators=(",", ":")).encode())
    return rows


class Server:
    def __init__(self, rows: int, latency: float, rate_limit: int) -> None:
        self.rows = make_rows(rows)
        self.latency = latency
        self.rate_limit = rate_limit
        self.requests = 0
        self.refused = 0
        self.window_start = 0.0
        self.window_count = 0

    def admit(self) -> tuple[bool, dict[str, str]]:
        """A fixed window of one second, as the sandbox's Telnyx emulator has it."""
        now = time.monotonic()
        if now >= self.window_start + 1.0:
            self.window_start, self.window_count = now, 0
        reset = max(1, int(self.window_start + 1.0 - now + 0.999))
        admitted = self.window_count < self.rate_limit
        if admitted:
            self.window_count += 1
        headers = {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - self.window_count)),
            "x-ratelimit-reset": str(reset),
        }
        return admitted, headers

    def page(self, query: dict[str, str]) -> bytes:
        number = max(1, int(query.get("page[number]", "1")))
        size = max(1, min(MAX_PAGE_SIZE, int(query.get("page[size]", str(DEFAULT_PAGE_SIZE)))))
        total = len(self.rows)
        start = (number - 1) * size
        meta = {
            "page_number": number,
            "page_size": size,
            "total_pages": -(-total // size),
            "total_results": total,
        }
        return (
            b'{"data":['
            + b",".join(self.rows[start : start + size])
            + b'],"meta":'
            + json.dumps(meta, separators=(",", ":")).encode()
            + b"}"
        )

    async def answer(self, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        if parts.path == "/_stats":  # the benchmark's own counter, no latency, not counted
            body = json.dumps({"requests": self.requests, "refused": self.refused}).encode()
            return 200, {}, body
        self.requests += 1
        # Counted against the window on arrival, as the sandbox and a gateway do; then the latency.
        admitted, headers = self.admit()
        await asyncio.sleep(self.latency)
        if method != "GET" or parts.path.rstrip("/") != "/v2/access_ip_address":
            return 404, {}, b'{"errors":[{"code":"10005","title":"Resource not found"}]}'
        if not admitted:
            self.refused += 1
            headers["retry-after"] = headers["x-ratelimit-reset"]
            return 429, headers, b'{"errors":[{"code":"10011","title":"Too many requests"}]}'
        return 200, headers, self.page(dict(parse_qsl(parts.query)))

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                status, extra, body = await self.answer(method, target)
                reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}[status]
                out = [f"HTTP/1.1 {status} {reason}", "content-type: application/json"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                out += [f"content-length: {len(body)}", "connection: keep-alive", "", ""]
                # One write: head and body together, so no delayed ACK sits between them.
                writer.write("\r\n".join(out).encode("latin-1") + body)
                await writer.drain()
        finally:
            writer.close()

    async def serve(self) -> None:
        server = await asyncio.start_server(self.connection, "127.0.0.1", 0, backlog=256)
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write(f"READY {port}\n")
        sys.stdout.flush()
        async with server:
            await server.serve_forever()


# ---- the clients ------------------------------------------------------------------------------


def teledeck_list(base_url: str) -> tuple[int, int]:
    """Rows listed and the times the limiter made a request wait."""
    from providers.telnyx.client import TelnyxClient
    from providers.transport import RateLimiter

    async def run() -> tuple[int, int]:
        # A limiter of its own, so one run's word on the window does not carry into the next.
        limiter = RateLimiter()
        async with TelnyxClient(API_KEY, base_url=base_url, limiter=limiter) as client:
            rows = await client.collect(client.access_ip_pages())
        return len({r.id for r in rows}), limiter.waits

    return asyncio.run(run())


def sdk_list(base_url: str, page_size: int | None) -> tuple[int, int]:
    import telnyx

    with telnyx.Telnyx(api_key=API_KEY, base_url=base_url) as sdk:
        listing = sdk.access_ip_address.list() if page_size is None else sdk.access_ip_address.list(page_size=page_size)
        ids = {row.id for row in listing}  # the auto-paging iterator, page after page
    return len(ids), 0


def httpx_list(base_url: str) -> tuple[int, int]:
    import httpx

    ids: set[str] = set()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        number = 1
        while True:
            body = http.get("/access_ip_address", params={"page[number]": number, "page[size]": 250}).json()
            ids.update(row["id"] for row in body["data"])
            if not body["data"] or body["meta"]["page_number"] >= body["meta"]["total_pages"]:
                break
            number += 1
    return len(ids), 0


CLIENTS = (
    ("teledeck TelnyxClient (250, concurrent)", teledeck_list),
    ("telnyx SDK list(), default page size", lambda url: sdk_list(url, None)),
    ("telnyx SDK list(page_size=250)", lambda url: sdk_list(url, 250)),
    ("httpx, sequential, 250", httpx_list),
)


def stats(base_url: str) -> dict[str, int]:
    import httpx

    origin = base_url.rsplit("/v2", 1)[0]
    answer: dict[str, int] = httpx.get(f"{origin}/_stats").json()
    return answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.020, help="seconds added to every answer")
    parser.add_argument("--runs", type=int, default=3, help="rounds of all four; the median is shown")
    parser.add_argument("--rate-limit", type=int, default=1000, help="requests per second the server admits")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(Server(args.rows, args.latency, args.rate_limit).serve())
        return 0

    try:
        import telnyx  # noqa: F401  (imported here so its import time is never timed)
    except ImportError:
        print("the official telnyx SDK is not installed: pip install -e '.[test]' (make bench does)")
        return 1
    import providers.telnyx.client  # noqa: F401

    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            f"--rows={args.rows}",
            f"--latency={args.latency}",
            f"--rate-limit={args.rate_limit}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().split()
        if not ready or ready[0] != "READY":
            print("the server did not start")
            return 1
        base_url = f"http://127.0.0.1:{ready[1]}/v2"
        times: dict[str, list[float]] = {name: [] for name, _ in CLIENTS}
        sent: dict[str, int] = {}
        refused: dict[str, int] = {}
        waits: dict[str, int] = {}
        for _ in range(args.runs):
            for name, run in CLIENTS:
                before = stats(base_url)
                started = time.perf_counter()
                rows, limiter_waits = run(base_url)
                times[name].append(time.perf_counter() - started)
                after = stats(base_url)
                if rows != args.rows:
                    print(f"{name}: listed {rows} distinct rows, not {args.rows}")
                    return 1
                sent[name] = after["requests"] - before["requests"]
                refused[name] = refused.get(name, 0) + after["refused"] - before["refused"]
                waits[name] = waits.get(name, 0) + limiter_waits
    finally:
        server.terminate()
        server.wait()

    ours = statistics.median(times[CLIENTS[0][0]])
    print(
        f"list {args.rows:,} access IPs, {args.latency * 1000:g} ms per request, server in its own process "
        f"(pid {server.pid}), median of {args.runs} interleaved rounds"
    )
    print(f"{'client':42} {'seconds':>8} {'requests':>9} {'vs teledeck':>12}   runs (s)")
    for name, _ in CLIENTS:
        median = statistics.median(times[name])
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:42} {median:8.2f} {sent[name]:9d} {median / ours:11.1f}x   {runs}")
    sdk_default = statistics.median(times[CLIENTS[1][0]]) / ours
    sdk_250 = statistics.median(times[CLIENTS[2][0]]) / ours
    print(
        f"goals: >= 25x the SDK's default list: {sdk_default:.1f}x ({'met' if sdk_default >= 25 else 'NOT met'}); "
        f">= 4x the SDK at page size 250: {sdk_250:.1f}x ({'met' if sdk_250 >= 4 else 'NOT met'})"
    )
    total_refused = sum(refused.values())
    print(
        f"rate limit {args.rate_limit}/s: {total_refused} answers 429 in all; "
        f"teledeck's limiter made {waits[CLIENTS[0][0]]} requests wait"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
