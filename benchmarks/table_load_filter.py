"""VirtualTable vs Textual's DataTable at N rows: each step's time, the event loop's longest
stall during it, keystroke to painted, and memory.

    python benchmarks/table_load_filter.py [--rows 100000] [--datatable-timeout 60]

Each widget runs in a fresh subprocess with a headless app (`App.run_test`), doing the same
steps in order; every step is timed until the screen has been repainted with its result. The
longest stall of the event loop during the step (how long the UI was frozen: no key read, no
repaint) comes from a 10 ms heartbeat timer. Keystroke to painted is timed from a key event
handed to the app (as the terminal driver hands it) to the repaint that shows the filter's
result, the filter box wired to the table as teledeck's list screens wire it. Memory is
measured in two more subprocesses, with tracemalloc: what the table holds after the load, and
after a filter and a typed sort, above the same table mounted empty, the source records made
before (they exist whatever shows them). Any step over its budget ends that widget's run
("did not finish in X s").

Plain script, no pytest. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import queue
import random
import re
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

COLUMNS = [
    ("id", "ID"),
    ("cidr", "IP/CIDR"),
    ("source", "Source"),
    ("status", "Status"),
    ("created", "Created"),
    ("expires", "Expires in"),
]
SOURCES = ["api", "portal", "sso", "terraform", "csv-import", "console", "cli", "sync", "webhook", "migration"]
STATUSES = ["active", "pending", "disabled", "revoked"]
KEYS = ["t", "e", "r", "r", "a", "backspace", "backspace"]  # typed into the filter box, one by one

# (stage id, label). "2024-" is one year of two in the created column; "2024-03" one month of 24;
# "terraform" one source in ten. Typed sorts are issue 8's: a number, an IP address, time left.
STAGES = [
    ("load", "load rows, all painted"),
    ("load_first", "  first rows painted"),
    ("scroll_end", "cursor to last row + paint"),
    ("filter_50", 'filter "2024-" (~50% kept)'),
    ("filter_narrow", 'narrow to "2024-03" (~4%)'),
    ("filter_widen", 'widen to "terraform" (~10%)'),
    ("filter_regex", r'regex "~^1\d\d\." (~45%)'),
    ("filter_column", 'column "status:pending" (~25%)'),
    ("filter_clear", "clear filter (100% shown)"),
    ("sort_text", "sort by created (text)"),
    ("sort_number", "sort by id (typed number)"),
    ("sort_ip", "sort by IP/CIDR (typed address)"),
    ("sort_time", "sort by expires in (typed time)"),
    ("sort_reverse", "reverse it"),
    ("keys", "keystroke to painted, worst of 7"),
    ("keys_first", '  first key "t" (100% kept)'),
]
FILTERS = {
    "filter_50": "2024-",
    "filter_narrow": "2024-03",
    "filter_widen": "terraform",
    "filter_regex": r"~^1\d\d\.",  # an address from 100. to 199. (a cell's start, not any text)
    "filter_column": "status:pending",
    "filter_clear": "",
}
SORTS = {
    "sort_text": ("created", False),
    "sort_number": ("id", False),
    "sort_ip": ("cidr", False),
    "sort_time": ("expires", False),
    "sort_reverse": ("expires", True),
}
HEARTBEAT = 0.01

Record = tuple[str, str, str, str, str, str, int | None]


def countdown(seconds: int | None) -> str:
    """Time left as the Bindings screen shows it: "13d 23:46", "23:26:41", "expired"."""
    if seconds is None:
        return "expired"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}d {hours:02d}:{minutes:02d}" if days else f"{hours:02d}:{minutes:02d}:{secs:02d}"


def make_data(count: int) -> list[Record]:
    """Deterministic, realistic records: id, IPv4 address or CIDR, source, status, ISO date, the
    time left as shown, and in seconds (None: expired)."""
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
        left = None if rng.random() < 0.05 else rng.randrange(60, 30 * 86_400)
        rows.append(
            (
                str(100_000 + index),
                cidr,
                SOURCES[index % len(SOURCES)],
                STATUSES[rng.randrange(len(STATUSES))],
                created,
                countdown(left),
                left,
            )
        )
    rng.shuffle(rows)  # ids and dates not in order, so sorting has work to do
    return rows


def ip_key(text: str) -> Any:
    from tui.resources import _ip_order  # the app's own typed key for addresses (issue 8)

    return _ip_order(text)


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


# --------------------------------------------------------------------- child


async def wait_painted(widget: Any, ready: Callable[[], bool], nudge: bool = True) -> None:
    """Return when the app has composed a frame (its screen update, `App._display`) at a moment
    `ready()` was true: the first frame that shows the result. `nudge`: ask for a repaint of
    `widget`, for a step that may change nothing on the screen (a key always changes the box,
    and a nudge would add a whole table's repaint to the time measured)."""
    app = widget.app
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def check() -> None:
        if not done.done() and ready():
            done.set_result(None)

    app.paint_hooks.append(check)
    if nudge:
        widget.refresh()  # so a frame comes even when the step changed nothing on screen
    try:
        await done
    finally:
        app.paint_hooks.remove(check)


class VirtualTableDriver:
    """teledeck's table, fed the way its list screens feed it: a Row per record, typed columns
    ordered from the record (Column.order) only when sorted."""

    name = "VirtualTable"

    def __init__(self, app: Any, data: list[Record]) -> None:
        self.app, self.data = app, data

    async def mount(self) -> None:
        from tui.resources import _ip_order
        from tui.widgets import Column, VirtualTable

        order = {
            "id": lambda row: int(row.data[0]),
            "cidr": lambda row: _ip_order(row.data[1]),
            "expires": lambda row: row.data[6],
        }
        columns = [Column(key, label, order=order.get(key)) for key, label in COLUMNS]
        self.table = table = VirtualTable(columns)
        await self.app.mount(table, before=self.app.query_one("#filter"))
        table.focus()
        await wait_painted(table, lambda: True)

    async def load(self, first_painted: Callable[[], None]) -> None:
        from tui.widgets import Row

        table = self.table
        table.set_rows(Row(record[0], record[:6], data=record) for record in self.data)
        await wait_painted(table, lambda: table.visible_count > 0)
        first_painted()
        await wait_painted(table, lambda: not table.busy)

    async def scroll_end(self) -> None:
        self.table.action_cursor_last()
        await wait_painted(self.table, lambda: True)

    async def apply_filter(self, text: str) -> None:
        self.table.set_filter(text)
        await wait_painted(self.table, lambda: not self.table.busy)

    def filter_typed(self, text: str) -> None:
        self.table.set_filter(text)

    def filtered(self, text: str) -> bool:
        return not self.table.busy and self.table.filter_text == text

    async def sort(self, column: str, reverse: bool) -> None:
        self.table.sort_by(column, reverse)
        await wait_painted(self.table, lambda: not self.table.busy)

    def visible(self) -> int:
        return self.table.visible_count

    def line(self, y: int) -> str:
        return self.table.render_line(y).text


class DataTableDriver:
    """Textual's DataTable, filtered the realistic way: clear() + add_rows(matching); typed
    sorts with a key function on the cells."""

    name = "DataTable"

    def __init__(self, app: Any, data: list[Record]) -> None:
        self.app, self.data = app, data
        self.search: list[str] | None = None
        self.query = ""

    def _ready(self) -> bool:
        table = self.table
        return not table._require_update_dimensions and not table._new_rows

    async def mount(self) -> None:
        from textual.widgets import DataTable

        self.table = table = DataTable(cursor_type="row")
        await self.app.mount(table, before=self.app.query_one("#filter"))
        table.focus()
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        await wait_painted(table, self._ready)

    async def load(self, first_painted: Callable[[], None]) -> None:
        self.table.add_rows(record[:6] for record in self.data)
        await wait_painted(self.table, self._ready)
        first_painted()

    async def scroll_end(self) -> None:
        self.table.move_cursor(row=self.table.row_count - 1, animate=False)
        await wait_painted(self.table, self._ready)

    def filter_typed(self, text: str) -> None:
        if self.search is None:  # like VirtualTable: lower-cased text made once
            self.search = ["\n".join(record[:6]).lower() for record in self.data]
        if text.startswith("~"):  # a regex, per cell (^ at each cell's start), as VirtualTable's
            pattern = re.compile(text[1:], re.IGNORECASE | re.MULTILINE)
            rows = [record[:6] for record, hay in zip(self.data, self.search, strict=True) if pattern.search(hay)]
        elif ":" in text:  # column:value
            name, _, value = text.partition(":")
            position = [key for key, _label in COLUMNS].index(name)
            rows = [record[:6] for record in self.data if value in record[position].lower()]
        else:
            needle = text.lower()
            rows = [record[:6] for record, hay in zip(self.data, self.search, strict=True) if needle in hay]
        self.table.clear()
        self.table.add_rows(rows)
        self.query = text

    def filtered(self, text: str) -> bool:
        return self.query == text and self._ready()

    async def apply_filter(self, text: str) -> None:
        self.filter_typed(text)
        await wait_painted(self.table, self._ready)

    async def sort(self, column: str, reverse: bool) -> None:
        keys: dict[str, Callable[[Any], Any]] = {
            "id": int,
            "cidr": lambda text: ip_key(text) or 0,
            "expires": lambda text: seconds_left(text),
        }
        if column in keys:
            self.table.sort(column, key=keys[column], reverse=reverse)
        else:
            self.table.sort(column, reverse=reverse)
        await wait_painted(self.table, self._ready)

    def visible(self) -> int:
        return self.table.row_count

    def line(self, y: int) -> str:
        return self.table.render_line(y).text


def seconds_left(text: str) -> int:
    """The DataTable's typed key for "Expires in": the seconds its text says (expired last)."""
    if text == "expired":
        return 10**12
    days = 0
    if "d " in text:
        day, text = text.split("d ")
        days = int(day)
        text += ":00"
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return days * 86_400 + hours * 3600 + minutes * 60 + seconds


def make_app(driver_class: type) -> Any:
    from textual.app import App, ComposeResult

    from tui.widgets.literal import FilterInput

    class BenchApp(App[None]):
        CSS = "VirtualTable, DataTable { height: 1fr; } Input { height: 3; }"

        def compose(self) -> ComposeResult:
            # As TableScreen does: every edit of the filter box filters the table, inside the key.
            yield FilterInput(id="filter", on_edit=self.filter_typed)

        def filter_typed(self, text: str) -> None:
            self.driver.filter_typed(text)

        paint_hooks: list[Callable[[], None]] = []

        def _display(self, screen: Any, renderable: Any) -> None:
            # The frame is composed (every widget's lines rendered) by now; headless, it is not
            # written anywhere, a terminal would get it next.
            super()._display(screen, renderable)
            if renderable is not None:
                for hook in list(self.paint_hooks):
                    hook()

        def on_mount(self) -> None:
            self.gc_pauses: list[float] = []
            gc.callbacks.append(self.gc_timer)
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
            self.gc_pauses.clear()

        def gc_timer(self, phase: str, info: dict[str, int]) -> None:
            # Python's own collector pauses everything; long ones at 100k objects show as stalls.
            if phase == "start":
                self.gc_started = time.perf_counter()
            elif info.get("generation") == 2:
                self.gc_pauses.append(time.perf_counter() - self.gc_started)

        def stall(self) -> float:
            gap = max(self.max_gap, time.perf_counter() - self.last_beat)
            return max(0.0, gap - HEARTBEAT)

    return BenchApp()


async def press(app: Any, key: str) -> None:
    """Hand one key to the app as its terminal driver does."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


def emit(**record: Any) -> None:
    """One line of JSON to the parent process, which reads the probe's stdout."""
    print(json.dumps(record), flush=True)


async def run_probe(kind: str, rows: int, size: tuple[int, int]) -> None:
    data = make_data(rows)
    driver_class = VirtualTableDriver if kind == "virtual" else DataTableDriver
    app = make_app(driver_class)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        driver = app.driver = driver_class(app, data)
        await driver.mount()
        emit(stage="ready")

        async def load() -> None:
            started = time.perf_counter()

            def first_painted() -> None:
                emit(stage="load_first", seconds=time.perf_counter() - started, stall=app.stall())

            before = rss_bytes()
            await driver.load(first_painted)
            load_rss[0] = rss_bytes() - before

        async def keys() -> None:
            box = app.query_one("#filter")
            app.set_focus(box)
            await pilot.pause()
            typed = ""
            worst = 0.0
            each = []
            for key in KEYS:
                typed = typed[:-1] if key == "backspace" else typed + key
                started = time.perf_counter()
                await press(app, key)
                await wait_painted(
                    driver.table, lambda text=typed: box.value == text and driver.filtered(text), nudge=False
                )
                seconds = time.perf_counter() - started
                each.append(seconds)
                worst = max(worst, seconds)
                if key == KEYS[0] and len(each) == 1:
                    emit(stage="keys_first", seconds=seconds, stall=app.stall(), visible=driver.visible())
            keys_each[:] = each
            keys_worst[0] = worst

        load_rss = [0]
        keys_each: list[float] = []
        keys_worst = [0.0]
        steps: dict[str, Callable[[], Awaitable[None]]] = {
            "load": load,
            "scroll_end": driver.scroll_end,
            "keys": keys,
        }
        for stage, _label in STAGES:
            if stage in ("load_first", "keys_first"):
                continue  # reported from inside the step before
            if stage in FILTERS:
                step = lambda text=FILTERS[stage]: driver.apply_filter(text)  # noqa: E731
            elif stage in SORTS:
                step = lambda how=SORTS[stage]: driver.sort(*how)  # noqa: E731
            else:
                step = steps[stage]
            await pilot.pause()
            app.reset_stall()
            started = time.perf_counter()
            await step()
            seconds = time.perf_counter() - started
            record = {
                "stage": stage,
                "seconds": seconds if stage != "keys" else keys_worst[0],
                "stall": app.stall(),
                "visible": driver.visible(),
                "first_line": driver.line(1).strip()[:60],
            }
            record["gc"] = max(app.gc_pauses, default=0.0)
            if stage == "load":
                record["rss"] = load_rss[0]
            if stage == "keys":
                record["each"] = keys_each
            emit(**record)
        emit(stage="done")


async def run_memory_probe(kind: str, rows: int, size: tuple[int, int]) -> None:
    """What the table holds (tracemalloc) after the load, and after a filter and a typed sort,
    above the same table mounted empty; the records are made before tracing starts."""
    import tracemalloc

    data = make_data(rows)
    driver_class = VirtualTableDriver if kind == "virtual" else DataTableDriver
    app = make_app(driver_class)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        driver = app.driver = driver_class(app, data)
        await driver.mount()
        await pilot.pause()
        emit(stage="ready")
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await driver.load(lambda: None)
        await pilot.pause()
        gc.collect()
        emit(stage="memory_load", bytes=tracemalloc.get_traced_memory()[0] - base)
        await driver.apply_filter("2024-")
        await driver.sort("cidr", False)
        await driver.apply_filter("")
        await pilot.pause()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        emit(stage="memory_sorted", bytes=current - base, peak=peak - base)
        tracemalloc.stop()
        emit(stage="done")


# -------------------------------------------------------------------- parent


def run_child(kind: str, args: argparse.Namespace, timeout: float, probe: str = "--probe") -> dict[str, dict[str, Any]]:
    """Run one widget's probe in a fresh interpreter, with a budget per step."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        probe,
        kind,
        "--rows",
        str(args.rows),
        "--size",
        f"{args.size[0]}x{args.size[1]}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    lines: queue.Queue[str | None] = queue.Queue()

    def reader() -> None:
        assert process.stdout is not None
        for text in process.stdout:
            lines.put(text)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    results: dict[str, dict[str, Any]] = {}
    expected = [stage for stage, _ in STAGES] if probe == "--probe" else ["memory_load", "memory_sorted"]
    # Start-up (interpreter, imports, making the data) has its own budget.
    deadline = time.monotonic() + max(timeout, 120.0)
    try:
        while True:
            waiting = next((stage for stage in expected if stage not in results), None)
            if waiting is None:
                break
            remaining = deadline - time.monotonic()
            try:
                text = lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                results[waiting] = {"timeout": timeout}
                break
            if text is None:
                stderr = process.stderr.read() if process.stderr else ""
                results[waiting] = {"error": stderr.strip().splitlines()[-1:] or ["exited"]}
                break
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                continue
            if record.get("stage") == "done":
                break
            if record.get("stage") != "ready":
                results[record["stage"]] = record
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


def fmt_bytes(result: dict[str, Any] | None, field: str = "bytes") -> str:
    if result is None:
        return "not run"
    if "timeout" in result:
        return f"did not finish in {result['timeout']:g} s"
    if "error" in result:
        return "error: " + " ".join(result["error"])[:40]
    return f"+{result[field] / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to load (default 100000)")
    parser.add_argument(
        "--datatable-timeout", type=float, default=60.0, help="budget in seconds for each DataTable step (default 60)"
    )
    parser.add_argument("--virtual-timeout", type=float, default=60.0, help="budget per VirtualTable step (default 60)")
    parser.add_argument(
        "--size",
        default="160x50",
        type=lambda text: tuple(int(part) for part in text.lower().split("x")),
        help="headless terminal size, WxH (default 160x50)",
    )
    parser.add_argument("--skip-datatable", action="store_true", help="only run the VirtualTable")
    parser.add_argument("--skip-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    parser.add_argument("--probe", choices=["virtual", "datatable"], help=argparse.SUPPRESS)
    parser.add_argument("--probe-memory", choices=["virtual", "datatable"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.probe:
        asyncio.run(run_probe(args.probe, args.rows, args.size))
        return 0
    if args.probe_memory:
        asyncio.run(run_memory_probe(args.probe_memory, args.rows, args.size))
        return 0

    import textual

    print(
        f"{args.rows:,} rows x {len(COLUMNS)} columns, headless {args.size[0]}x{args.size[1]}; "
        f"Python {platform.python_version()}, textual {textual.__version__}, "
        f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
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
    print_table(header, table_rows, ["<", ">", ">", ">", ">", ">"])

    keys_each = virtual.get("keys", {}).get("each")
    if keys_each:
        shown = ", ".join(f"{key} {fmt_seconds(s)}" for key, s in zip(KEYS, keys_each, strict=False))
        print(f"\nkeystroke to painted, VirtualTable, each key: {shown}")
    dt_keys = datatable.get("keys", {}).get("each")
    if dt_keys:
        shown = ", ".join(f"{key} {fmt_seconds(s)}" for key, s in zip(KEYS, dt_keys, strict=False))
        print(f"keystroke to painted, DataTable, each key: {shown}")

    memory: dict[str, dict[str, dict[str, Any]]] = {"virtual": {}, "datatable": {}}
    if not args.skip_memory:
        print()
        memory["virtual"] = run_child("virtual", args, args.virtual_timeout, probe="--probe-memory")
        if not args.skip_datatable:
            memory["datatable"] = run_child("datatable", args, args.datatable_timeout * 2, probe="--probe-memory")
        dt_skip = "skipped" if args.skip_datatable else None
        rows_out = [
            (
                f"held after the load ({args.rows:,} rows)",
                fmt_bytes(memory["virtual"].get("memory_load")),
                dt_skip or fmt_bytes(memory["datatable"].get("memory_load")),
            ),
            (
                "held after a filter and a typed sort (IP)",
                fmt_bytes(memory["virtual"].get("memory_sorted")),
                dt_skip or fmt_bytes(memory["datatable"].get("memory_sorted")),
            ),
            (
                "  peak, load to here",
                fmt_bytes(memory["virtual"].get("memory_sorted"), "peak"),
                dt_skip or fmt_bytes(memory["datatable"].get("memory_sorted"), "peak"),
            ),
            (
                "RSS growth over the load (timing run)",
                fmt_bytes(virtual.get("load"), "rss"),
                dt_skip or fmt_bytes(datatable.get("load"), "rss"),
            ),
        ]
        print_table(("memory, above the table mounted empty", "VirtualTable", "DataTable"), rows_out, ["<", ">", ">"])

    visible = {stage: record.get("visible") for stage, record in virtual.items() if "visible" in record}
    print(f"\nrows shown after each step (VirtualTable): {visible}")
    mismatches = [
        stage
        for stage in visible
        if stage in datatable and "visible" in datatable[stage] and datatable[stage]["visible"] != visible[stage]
    ]
    if mismatches:
        print(f"WARNING: the widgets showed different row counts after: {mismatches}")
    stalls = [record["stall"] for stage, record in virtual.items() if "stall" in record]
    if stalls and all(stage in virtual and "seconds" in virtual[stage] for stage, _ in STAGES):
        print(
            f"VirtualTable: longest stall of any step {fmt_seconds(max(stalls))} (goal <= 50 ms); "
            f"worst keystroke to painted {fmt_seconds(virtual['keys']['seconds'])} (goal <= 50 ms)"
        )
    print("max stall = longest time the event loop was blocked during the step (UI frozen).")
    if args.json:
        print(json.dumps({"rows": args.rows, "virtual": virtual, "datatable": datatable, "memory": memory}, indent=2))
    return 0


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]], aligns: list[str]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def render(row: tuple[str, ...]) -> str:
        return "  ".join(f"{cell:{align}{width}}" for cell, align, width in zip(row, aligns, widths, strict=False))

    print(render(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(render(row))


if __name__ == "__main__":
    raise SystemExit(main(argv=None))
