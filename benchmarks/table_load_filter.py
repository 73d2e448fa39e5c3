"""VirtualTable vs Textual's DataTable: load, scroll, filter and sort N rows.

    python benchmarks/table_load_filter.py [--rows 100000] [--datatable-timeout 60]

Each widget runs in a fresh subprocess with a headless app (`App.run_test`),
doing the same steps in order; every step is timed until the screen has been
repainted with its result. Also reported: the longest stall of the event loop
during the step (how long the UI was frozen), from a 10 ms heartbeat timer.
Any step that takes longer than the budget ends that widget's run; the step
is reported as "did not finish in X s".

Plain script, no pytest. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import queue
import random
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS = [("id", "ID"), ("cidr", "IP/CIDR"), ("source", "Source"), ("status", "Status"), ("created", "Created")]
SOURCES = ["api", "portal", "sso", "terraform", "csv-import", "console", "cli", "sync", "webhook", "migration"]
STATUSES = ["active", "pending", "disabled", "revoked"]

# (stage id, label). Filters: "terraform" is one source in ten; "2024-" is one
# year of two in the created column.
STAGES = [
    ("load", "load rows + first paint"),
    ("scroll_end", "cursor to last row + paint"),
    ("filter_10", 'filter "terraform" (~10% kept)'),
    ("filter_50", 'filter "2024-" (~50% kept)'),
    ("filter_clear", "clear filter (100% shown)"),
    ("sort", "sort by created"),
]
FILTERS = {"filter_10": "terraform", "filter_50": "2024-", "filter_clear": ""}
HEARTBEAT = 0.01


def make_data(count: int) -> list[tuple[str, str, str, str, str]]:
    """Deterministic, realistic rows: id, IPv4 address or CIDR, source, status, ISO date."""
    rng = random.Random(20240501)
    start = 1_704_067_200  # 2024-01-01T00:00:00Z
    two_years = 731 * 86_400
    rows = []
    for index in range(count):
        a, b, c = rng.randrange(1, 224), rng.randrange(256), rng.randrange(256)
        prefix = rng.choice((32, 32, 32, 29, 28, 24, 16))
        if prefix == 32:
            cidr = f"{a}.{b}.{c}.{rng.randrange(256)}/32"
        elif prefix >= 24:
            cidr = f"{a}.{b}.{c}.{rng.randrange(0, 256, 2 ** (32 - prefix))}/{prefix}"
        else:
            cidr = f"{a}.{b}.0.0/16"
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + (index * two_years) // max(count, 1)))
        rows.append(
            (
                str(100_000 + index),
                cidr,
                SOURCES[index % len(SOURCES)],
                STATUSES[rng.randrange(len(STATUSES))],
                created,
            )
        )
    rng.shuffle(rows)  # dates not in order, so sorting has work to do
    return rows


# --------------------------------------------------------------------- child


async def wait_painted(widget: Any, ready: Callable[[], bool]) -> None:
    """Return after a screen refresh that started once `ready()` was true."""
    while True:
        was_ready = ready()
        await widget.wait_for_refresh()
        if was_ready:
            return


class VirtualTableDriver:
    name = "VirtualTable"

    def __init__(self, app: Any, data: list[tuple[str, ...]]) -> None:
        self.app, self.data = app, data

    async def load(self) -> None:
        from tui.widgets import Column, Row, VirtualTable

        self.table = table = VirtualTable([Column(key, label) for key, label in COLUMNS])
        await self.app.mount(table)
        table.focus()
        table.set_rows([Row(cells[0], cells) for cells in self.data])
        await wait_painted(table, lambda: True)

    async def scroll_end(self) -> None:
        self.table.action_cursor_last()
        await wait_painted(self.table, lambda: True)

    async def apply_filter(self, text: str) -> None:
        self.table.set_filter(text)
        await wait_painted(self.table, lambda: True)

    async def sort(self) -> None:
        self.table.sort_by("created")
        await wait_painted(self.table, lambda: True)

    def visible(self) -> int:
        return self.table.visible_count

    def line(self, y: int) -> str:
        return self.table.render_line(y).text


class DataTableDriver:
    """Textual's DataTable, filtered the realistic way: clear() + add_rows(matching)."""

    name = "DataTable"

    def __init__(self, app: Any, data: list[tuple[str, ...]]) -> None:
        self.app, self.data = app, data
        self.search: list[str] | None = None

    def _ready(self) -> bool:
        table = self.table
        return not table._require_update_dimensions and not table._new_rows

    async def load(self) -> None:
        from textual.widgets import DataTable

        self.table = table = DataTable(cursor_type="row")
        await self.app.mount(table)
        table.focus()
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.add_rows(self.data)
        await wait_painted(table, self._ready)

    async def scroll_end(self) -> None:
        self.table.move_cursor(row=self.table.row_count - 1, animate=False)
        await wait_painted(self.table, self._ready)

    async def apply_filter(self, text: str) -> None:
        if self.search is None:  # like VirtualTable: lower-cased text made once, lazily
            self.search = ["\x1f".join(cells).lower() for cells in self.data]
        needle = text.lower()
        rows = [cells for cells, hay in zip(self.data, self.search, strict=False) if needle in hay]
        self.table.clear()
        self.table.add_rows(rows)
        await wait_painted(self.table, self._ready)

    async def sort(self) -> None:
        self.table.sort("created")
        await wait_painted(self.table, self._ready)

    def visible(self) -> int:
        return self.table.row_count

    def line(self, y: int) -> str:
        return self.table.render_line(y).text


async def run_probe(kind: str, rows: int, size: tuple[int, int]) -> None:
    from textual.app import App

    def emit(**record: Any) -> None:
        print(json.dumps(record), flush=True)

    class BenchApp(App[None]):
        def on_mount(self) -> None:
            self.last_beat = time.perf_counter()
            self.max_gap = 0.0
            self.set_interval(HEARTBEAT, self.beat)

        def beat(self) -> None:
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - self.last_beat)
            self.last_beat = now

        def reset_stall(self) -> None:
            self.last_beat = time.perf_counter()
            self.max_gap = 0.0

        def stall(self) -> float:
            gap = max(self.max_gap, time.perf_counter() - self.last_beat)
            return max(0.0, gap - HEARTBEAT)

    data = make_data(rows)
    app = BenchApp()
    driver_class = VirtualTableDriver if kind == "virtual" else DataTableDriver
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        driver = driver_class(app, data)
        steps: dict[str, Callable[[], Awaitable[None]]] = {
            "load": driver.load,
            "scroll_end": driver.scroll_end,
            "sort": driver.sort,
        }
        emit(stage="ready")
        for stage, _label in STAGES:
            step = steps.get(stage) or (lambda text=FILTERS[stage]: driver.apply_filter(text))
            await pilot.pause()
            app.reset_stall()
            started = time.perf_counter()
            await step()
            seconds = time.perf_counter() - started
            emit(
                stage=stage,
                seconds=seconds,
                stall=app.stall(),
                visible=driver.visible(),
                first_line=driver.line(1).strip()[:60],
            )
        emit(stage="done")


# -------------------------------------------------------------------- parent


def run_child(kind: str, args: argparse.Namespace, timeout: float) -> dict[str, dict[str, Any]]:
    """Run one widget's probe in a fresh interpreter, with a budget per step."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--probe",
        kind,
        "--rows",
        str(args.rows),
        "--size",
        f"{args.size[0]}x{args.size[1]}",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def reader() -> None:
        assert process.stdout is not None
        for text in process.stdout:
            lines.put(text)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    results: dict[str, dict[str, Any]] = {}
    stage_names = [stage for stage, _ in STAGES]
    position = 0
    # Start-up (interpreter, imports, making the data) has its own budget.
    deadline = time.monotonic() + max(timeout, 120.0)
    try:
        while position < len(stage_names):
            remaining = deadline - time.monotonic()
            try:
                text = lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                results[stage_names[position]] = {"timeout": timeout}
                break
            if text is None:
                stderr = process.stderr.read() if process.stderr else ""
                results[stage_names[position]] = {"error": stderr.strip().splitlines()[-1:] or ["exited"]}
                break
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                continue
            if record.get("stage") == "done":
                break
            if record.get("stage") == "ready":
                deadline = time.monotonic() + timeout
                continue
            results[record["stage"]] = record
            position += 1
            deadline = time.monotonic() + timeout
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    return results


def fmt_seconds(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_result(result: dict[str, Any] | None) -> tuple[str, str]:
    if result is None:
        return "not run", ""
    if "timeout" in result:
        return f"did not finish in {result['timeout']:g} s", ""
    if "error" in result:
        return "error: " + " ".join(result["error"])[:40], ""
    return fmt_seconds(result["seconds"]), fmt_seconds(result["stall"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to load (default 100000)")
    parser.add_argument(
        "--datatable-timeout",
        type=float,
        default=60.0,
        help="budget in seconds for each DataTable step (default 60)",
    )
    parser.add_argument("--virtual-timeout", type=float, default=60.0, help="budget per VirtualTable step (default 60)")
    parser.add_argument(
        "--size",
        default="160x50",
        type=lambda text: tuple(int(part) for part in text.lower().split("x")),
        help="headless terminal size, WxH (default 160x50)",
    )
    parser.add_argument("--skip-datatable", action="store_true", help="only run the VirtualTable")
    parser.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    parser.add_argument("--probe", choices=["virtual", "datatable"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.probe:
        asyncio.run(run_probe(args.probe, args.rows, args.size))
        return 0

    import textual

    print(
        f"{args.rows:,} rows x {len(COLUMNS)} columns, headless {args.size[0]}x{args.size[1]}; "
        f"Python {platform.python_version()}, textual {textual.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    print("Each widget runs in a fresh subprocess; times are until the screen is repainted.\n")

    virtual = run_child("virtual", args, args.virtual_timeout)
    datatable: dict[str, dict[str, Any]] = {}
    if not args.skip_datatable:
        datatable = run_child("datatable", args, args.datatable_timeout)

    header = ("step", "VirtualTable", "max stall", "DataTable", "max stall", "DT / VT")
    table_rows = []
    for stage, label in STAGES:
        vt, dt = virtual.get(stage), datatable.get(stage)
        vt_time, vt_stall = fmt_result(vt)
        dt_time, dt_stall = fmt_result(dt) if not args.skip_datatable else ("skipped", "")
        ratio = ""
        if vt and "seconds" in vt:
            if dt and "seconds" in dt:
                ratio = f"{dt['seconds'] / max(vt['seconds'], 1e-9):.0f}x"
            elif dt and "timeout" in dt:
                ratio = f">{dt['timeout'] / max(vt['seconds'], 1e-9):.0f}x"
        table_rows.append((label, vt_time, vt_stall, dt_time, dt_stall, ratio))
    widths = [max(len(str(row[i])) for row in [header, *table_rows]) for i in range(len(header))]
    aligns = ["<", ">", ">", ">", ">", ">"]

    def render(row: tuple[str, ...]) -> str:
        return "  ".join(f"{cell:{align}{width}}" for cell, align, width in zip(row, aligns, widths, strict=False))

    print(render(header))
    print("  ".join("-" * width for width in widths))
    for row in table_rows:
        print(render(row))

    mismatches = [
        stage
        for stage, _ in STAGES
        if stage in virtual
        and stage in datatable
        and "visible" in virtual[stage]
        and "visible" in datatable[stage]
        and virtual[stage]["visible"] != datatable[stage]["visible"]
    ]
    visible = {stage: record.get("visible") for stage, record in virtual.items()}
    print(f"\nrows shown after each step (VirtualTable): {visible}")
    if mismatches:
        print(f"WARNING: the widgets showed different row counts after: {mismatches}")
    print("max stall = longest time the event loop was blocked during the step (UI frozen).")
    if args.json:
        print(json.dumps({"rows": args.rows, "virtual": virtual, "datatable": datatable}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
