"""Cold start to first painted rows on the sandbox, against a trivial Textual app as baseline.

Each run is a fresh interpreter (imports included), started by this script; the clock runs from
just before the spawn until the moment the child stamps its first painted frame that shows rows
(shutdown is not counted). The
baseline child is the smallest Textual app (Header, Static, Footer) measured the same way, so
the ratio says what teledeck costs on top of Textual itself on this machine.

    python benchmarks/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TELEDECK_CHILD = r"""
import sys
from tui.app import TeledeckApp
from tui.config import sandbox_profile
from tui.sessions import open_profile_session

from tui.widgets.virtual_table import VirtualTable

# Requests sent at the moment the first rows reach the table: "before first paint".
_set_rows = VirtualTable.set_rows
FIRST_ROWS = []


def recording_set_rows(table, rows):
    rows = list(rows)
    if rows and not FIRST_ROWS and table.id == "resource-table":
        FIRST_ROWS.append(table.app.session.client("telnyx").transport.requests_sent)
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
    # A slow link: every list call answers `latency` seconds late (the sandbox's delay fault).
    session.client("telnyx").transport._client._transport.handler.faults.delay("GET", "/", latency, times=None)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds each list call takes, to stand in for a slow SSH/VPN link (default 0)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as warm_cache:
        env = dict(
            os.environ,
            TELEDECK_DATA_DIR=data,
            TEXTUAL_ANIMATIONS="none",
            TELEDECK_CONFIG_DIR=data,
            BENCH_LATENCY=str(args.latency),
        )
        first = one_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=tempfile.mkdtemp()))  # seeds the sandbox
        one_run(BASELINE_CHILD, env)  # warm the OS file cache for both
        one_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=warm_cache))  # fills the warm cache
        teledeck, baseline, warm, cold_sent, warm_sent = [], [], [], [], []
        for _ in range(args.runs):  # interleaved, so load on the machine hits all alike
            baseline.append(one_run(BASELINE_CHILD, env))
            seconds, sent = measured_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=tempfile.mkdtemp()))
            teledeck.append(seconds)
            cold_sent.append(sent)
            seconds, sent = measured_run(TELEDECK_CHILD, dict(env, TELEDECK_CACHE_DIR=warm_cache))
            warm.append(seconds)
            warm_sent.append(sent)
    med_t, med_b, med_w = statistics.median(teledeck), statistics.median(baseline), statistics.median(warm)
    link = f", each list call {args.latency:g} s late" if args.latency else ", in-process sandbox (no latency)"
    print(f"cold start to first painted rows, {args.runs} runs each, median (min-max), fresh interpreter each{link}")
    print(f"  trivial Textual app (baseline)   {med_b:6.3f} s  ({min(baseline):.3f}-{max(baseline):.3f})")
    print(f"  teledeck on the sandbox          {med_t:6.3f} s  ({min(teledeck):.3f}-{max(teledeck):.3f})")
    print(f"  teledeck, first run ever (seeds the sandbox state)  {first:6.3f} s")
    print(f"  ratio teledeck / baseline        {med_t / med_b:6.2f}x")
    print(f"  teledeck, warm cache             {med_w:6.3f} s  ({min(warm):.3f}-{max(warm):.3f})")
    print(f"  ratio warm / cold                {med_w / med_t:6.2f}x")
    print(f"  requests before first paint: cold {max(cold_sent)}, warm cache {max(warm_sent)} (goal: 0)")


if __name__ == "__main__":
    main()
