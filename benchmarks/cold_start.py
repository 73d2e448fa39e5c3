"""Cold start to first painted rows on the sandbox, against a trivial Textual app as baseline.

Each run is a fresh interpreter (imports included), started by this script; the clock runs from
just before the spawn until the child reports its first painted frame that shows rows. The
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
from providers.session import sandbox_session
from tui.app import TeledeckApp

class Probe(TeledeckApp):
    def on_mount(self):
        super().on_mount()
        self.set_interval(0.002, self.check)

    def check(self):
        table = self.screen.query("#resource-table")
        if table and table.first().total_count > 0 and not table.first().loading:
            self.call_after_refresh(self.done)

    def done(self):
        sys.stdout.write("PAINTED %d\n" % self.screen.query_one("#resource-table").total_count)
        sys.stdout.flush()
        self.exit()

Probe(sandbox_session()).run(headless=True, size=(140, 40))
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
        sys.stdout.write("PAINTED 0\n")
        sys.stdout.flush()
        self.exit()

Trivial().run(headless=True, size=(140, 40))
"""


def one_run(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    if "PAINTED" not in proc.stdout:
        raise SystemExit(f"child failed:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, TELEDECK_DATA_DIR=data, TEXTUAL_ANIMATIONS="none")
        first = one_run(TELEDECK_CHILD, env)  # seeds the sandbox state file
        one_run(BASELINE_CHILD, env)  # warm the OS file cache for both
        teledeck, baseline = [], []
        for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
            baseline.append(one_run(BASELINE_CHILD, env))
            teledeck.append(one_run(TELEDECK_CHILD, env))
    med_t, med_b = statistics.median(teledeck), statistics.median(baseline)
    print(f"cold start to first painted rows, {args.runs} runs each, median (min-max), fresh interpreter each")
    print(f"  trivial Textual app (baseline)   {med_b:6.3f} s  ({min(baseline):.3f}-{max(baseline):.3f})")
    print(f"  teledeck on the sandbox          {med_t:6.3f} s  ({min(teledeck):.3f}-{max(teledeck):.3f})")
    print(f"  teledeck, first run ever (seeds the sandbox state)  {first:6.3f} s")
    print(f"  ratio teledeck / baseline        {med_t / med_b:6.2f}x")


if __name__ == "__main__":
    main()
