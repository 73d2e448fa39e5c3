"""Start to first painted rows on the sandbox, against the smallest Textual app as baseline.

Two measures, each with the smallest Textual app (Header, Static, Footer) measured the same way
and interleaved with teledeck's runs, so load on the machine hits both alike and the ratio says
what teledeck costs on top of Textual itself on this machine:

- **in a terminal, timed from outside** (the default, and what issue 11 asks for): each run
  launches the real program (`teledeck --sandbox`, the installed entry point) in a fresh
  pseudo-terminal, reads what it writes, and stops the clock when a row's text (an access IP of
  the sandbox's seed) has been written to the terminal; for the baseline, when its Static's
  text has. Then it sends the quit key and kills the child if it has not gone. Nothing runs
  inside the child that the user's run would not.
- **headless, in process** (`--headless`): the child runs the app headless and stamps the
  moment its first frame with rows is rendered, and how many requests had been sent by then
  (goal with a warm cache: none). `--latency` slows every list call there, standing in for a
  slow SSH or VPN link.

Each measure is taken cold (an empty cache: the rows come from the emulator) and warm (the
last-known rows painted from the on-disk cache before any request). The sandbox's state is
seeded once before the timed runs, and that first run ever is printed apart.

    python benchmarks/cold_start.py [--runs 7] [--headless] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, LINES = 140, 40

BASELINE_TEXT = "smallest-textual-app-ready"

# The smallest Textual app, run as a user would run an app: in the terminal it was started in.
BASELINE_APP = f"""
from textual.app import App
from textual.widgets import Footer, Header, Static

class Trivial(App):
    def compose(self):
        yield Header()
        yield Static({BASELINE_TEXT!r})
        yield Footer()

Trivial().run()
"""

TELEDECK_CHILD = r"""
import sys
from tui.app import TeledeckApp
from tui.config import sandbox_profile
from tui.sessions import open_profile_session

from tui.widgets.virtual_table import VirtualTable

# Requests sent at the moment the first rows reach the table: "before first paint".
_set_rows = VirtualTable.set_rows
FIRST_ROWS = []


def requests_sent(app):
    connection = app.session.connections_of("telnyx")[0]
    # A client not yet connected has sent nothing.
    return connection.client.transport.requests_sent if connection.connected else 0


def recording_set_rows(table, rows):
    rows = list(rows)
    if rows and not FIRST_ROWS and table.id == "resource-table":
        FIRST_ROWS.append(requests_sent(table.app))
    return _set_rows(table, rows)


VirtualTable.set_rows = recording_set_rows


class Probe(TeledeckApp):
    def on_mount(self):
        super().on_mount()
        self.set_interval(0.002, self.check)

    def check(self):
        table = self.screen.query("#resource-table")
        if table and table.first().total_count > 0 and not table.first().loading:
            self.call_after_refresh(self.done)

    def done(self):
        if getattr(self, "_done", False):
            return
        self._done = True
        rows = self.screen.query_one("#resource-table").total_count
        sent = FIRST_ROWS[0] if FIRST_ROWS else -1
        import time
        sys.stdout.write("PAINTED %d REQUESTS %d AT %.6f\n" % (rows, sent, time.time()))
        sys.stdout.flush()
        self.exit()

import os

session = open_profile_session(sandbox_profile())
latency = float(os.environ.get("BENCH_LATENCY", "0"))
if latency:
    # A slow link: every list call answers `latency` seconds late (the sandbox's delay fault),
    # installed as the app connects: connecting here, before the app, would load httpx and the
    # emulator ahead of a warm start's first paint, which the app itself never does.
    import providers.session

    _open = providers.session.Connection.open

    def open_slowly(connection):
        was_open = connection.client is not None
        client = _open(connection)
        if not was_open and connection.vendor.provider == "telnyx":
            client.transport._client._transport.handler.faults.delay("GET", "/", latency, times=None)
        return client

    providers.session.Connection.open = open_slowly
Probe(session).run(headless=True, size=(140, 40))
"""

BASELINE_CHILD = r"""
import sys
from textual.app import App
from textual.widgets import Footer, Header, Static

class Trivial(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()

    def on_mount(self):
        self.call_after_refresh(self.done)

    def done(self):
        import time
        sys.stdout.write("PAINTED 0 AT %.6f\n" % time.time())
        sys.stdout.flush()
        self.exit()

Trivial().run(headless=True, size=(140, 40))
"""


# ---- in a terminal, timed from outside -----------------------------------------------------------


def seeded_ips() -> list[str]:
    """The access IPs of the sandbox's seed: any of them on the screen is a row painted."""
    from providers.sandbox.telnyx.seed import build_seed

    return [entry["ip_address"] for entry in build_seed()["access_ips"]]


def _read(fd: int, timeout: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed its side of the terminal
        return b"\0EOF"


def pty_run(argv: Sequence[str], env: dict[str, str], seen: Callable[[bytes], bool], quit_key: bytes) -> float:
    """Seconds from launching `argv` in a new pseudo-terminal until `seen` is true of what it has
    written to the terminal. Then the quit key, and a kill if the child has not gone."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        try:
            os.chdir(ROOT)
            os.execve(argv[0], list(argv), env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    written = b""
    elapsed = None
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            chunk = _read(fd, 0.5)
            if chunk == b"\0EOF":
                break
            written += chunk
            if chunk and seen(written):
                elapsed = time.perf_counter() - started
                break
        if elapsed is None:
            tail = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", written)[-1500:]
            raise SystemExit(f"{argv[-1][:60]!r} never showed what was awaited; its terminal said:\n{tail!r}")
        os.write(fd, quit_key)
        gone = time.perf_counter() + 5
        while time.perf_counter() < gone:
            if _read(fd, 0.1) == b"\0EOF":
                break
            if os.waitpid(pid, os.WNOHANG)[0]:
                pid = 0
                break
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        os.close(fd)
    return elapsed


def pty_measure(runs: int, env: dict[str, str]) -> None:
    ips = [ip.encode() for ip in seeded_ips()]

    def row_seen(out: bytes) -> bool:
        return any(ip in out for ip in ips)

    def baseline_seen(out: bytes) -> bool:
        return BASELINE_TEXT.encode() in out

    teledeck = [str(Path(sys.executable).parent / "teledeck"), "--sandbox"]
    baseline = [sys.executable, "-c", BASELINE_APP]
    env = dict(env, TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(COLUMNS), LINES=str(LINES))
    with tempfile.TemporaryDirectory() as scratch:

        def cold_env() -> dict[str, str]:  # an empty cache of its own for each run
            return dict(env, TELEDECK_CACHE_DIR=tempfile.mkdtemp(dir=scratch))

        warm_env = dict(env, TELEDECK_CACHE_DIR=os.path.join(scratch, "warm"))
        first = pty_run(teledeck, cold_env(), row_seen, b"q")  # seeds the sandbox state
        pty_run(baseline, env, baseline_seen, b"\x11")  # warm the OS file cache for both
        pty_run(teledeck, warm_env, row_seen, b"q")  # fills the warm cache
        base, cold, warm = [], [], []
        for _ in range(runs):  # interleaved, so load on the machine hits all alike
            base.append(pty_run(baseline, env, baseline_seen, b"\x11"))
            cold.append(pty_run(teledeck, cold_env(), row_seen, b"q"))
            warm.append(pty_run(teledeck, warm_env, row_seen, b"q"))
    print(
        f"launch to a row on the screen, in a {COLUMNS}x{LINES} pseudo-terminal, timed from outside, {runs} runs each"
    )
    print("  median (min-max); the ratio is of medians, and of minimums in brackets")
    _line("smallest Textual app (baseline)", base)
    _line("teledeck --sandbox, cold cache", cold, base)
    _line("teledeck --sandbox, warm cache", warm, base)
    print(f"  teledeck, first run ever (seeds the sandbox state)  {first:6.3f} s")
    print("  goal: teledeck <= 1.3x the smallest Textual app")


def _line(label: str, values: list[float], base: list[float] | None = None) -> None:
    text = f"  {label:<34} {statistics.median(values):6.3f} s  ({min(values):.3f}-{max(values):.3f})"
    if base:
        text += f"   {statistics.median(values) / statistics.median(base):5.2f}x  [{min(values) / min(base):.2f}x]"
    print(text)


# ---- headless, in process ------------------------------------------------------------------------


def one_run(code: str, env: dict[str, str]) -> float:
    return measured_run(code, env)[0]


def measured_run(code: str, env: dict[str, str]) -> tuple[float, int]:
    """Seconds from spawning the interpreter to its first painted rows (the child stamps the
    moment; shutdown is not counted), and requests sent by then."""
    started = time.time()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    if "PAINTED" not in proc.stdout:
        raise SystemExit(f"child failed:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    fields = proc.stdout.split()
    elapsed = float(fields[fields.index("AT") + 1]) - started
    sent = int(fields[fields.index("REQUESTS") + 1]) if "REQUESTS" in fields else 0
    return elapsed, sent


def headless_measure(runs: int, latency: float, env: dict[str, str]) -> None:
    env = dict(env, BENCH_LATENCY=str(latency))
    with tempfile.TemporaryDirectory() as scratch:
        warm_cache = os.path.join(scratch, "warm")
        # The first run seeds the sandbox state.
        first = one_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=tempfile.mkdtemp(dir=scratch)))
        one_run(BASELINE_CHILD, env)  # warm the OS file cache for both
        one_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=warm_cache))  # fills the warm cache
        teledeck, baseline, warm, cold_sent, warm_sent = [], [], [], [], []
        for _ in range(runs):  # interleaved, so load on the machine hits all alike
            baseline.append(one_run(BASELINE_CHILD, env))
            seconds, sent = measured_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=tempfile.mkdtemp(dir=scratch)))
            teledeck.append(seconds)
            cold_sent.append(sent)
            seconds, sent = measured_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=warm_cache))
            warm.append(seconds)
            warm_sent.append(sent)
    med_t, med_w = statistics.median(teledeck), statistics.median(warm)
    link = f", each list call {latency:g} s late" if latency else ", in-process sandbox (no latency)"
    print(f"headless start to first rendered rows, {runs} runs each, median (min-max), fresh interpreter each{link}")
    _line("trivial Textual app (baseline)", baseline)
    _line("teledeck on the sandbox", teledeck, baseline)
    print(f"  teledeck, first run ever (seeds the sandbox state)  {first:6.3f} s")
    _line("teledeck, warm cache", warm, baseline)
    print(f"  ratio warm / cold                  {med_w / med_t:6.2f}x")
    print(f"  requests before first paint: cold {max(cold_sent)}, warm cache {max(warm_sent)} (goal: 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--headless", action="store_true", help="the headless in-process measure instead")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="(headless) seconds each list call takes, to stand in for a slow SSH/VPN link (default 0)",
    )
    args = parser.parse_args()
    # An installed wheel has its bytecode compiled at install time (as textual's has here); a
    # checkout run with PYTHONDONTWRITEBYTECODE set would compile teledeck's own modules from
    # source on every launch, which no installed copy does.
    for package in ("tui", "providers"):
        compileall.compile_dir(ROOT / package, quiet=1)
    with tempfile.TemporaryDirectory() as data:
        env = dict(
            os.environ,
            TELEDECK_DATA_DIR=data,
            TELEDECK_CONFIG_DIR=data,
            TELEDECK_LOG_DIR=data,
            TEXTUAL_ANIMATIONS="none",
        )
        if args.headless or args.latency:
            headless_measure(args.runs, args.latency, env)
        else:
            pty_measure(args.runs, env)


if __name__ == "__main__":
    main()
