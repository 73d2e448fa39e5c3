"""What start-up imports, pinned (as Harlequin's and Posting's import-hygiene tests do).

The first frame with rows must not wait for code it does not need: importing the entry module
and the app loads no HTTP stack, no vendor package and no emulator, and a start from a warm cache
writes its rows to the terminal before httpx, any vendor client or the sandbox's emulators are
imported (they load afterwards, in a worker thread, to revalidate). Each check runs in a fresh
interpreter, so what this test process has imported cannot hide anything.
"""

from __future__ import annotations

import inspect
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path

import pytest

from providers.cache import ResultCache
from providers.sandbox.telnyx.seed import build_seed
from tui.resources import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def watched(name: str) -> bool:
    """The families pinned: the HTTP stack, the Transport built on it, the emulators, and the
    vendor packages (their descriptors and record types too)."""
    parts = name.split(".")
    return parts[0] in ("httpx", "httpcore", "h11", "h2", "anyio") or ".".join(parts[:2]) in (
        "providers.transport",
        "providers.sandbox",
        "providers.telnyx",
        "providers.aliyun",
        "providers.huawei",
        "providers.volcengine",
    )


def heavy(name: str) -> bool:
    """What a start from the cache must not wait for: every watched module but the vendor
    descriptors (`<vendor>.vendor`, the registry the session opens with) and the record types the
    start screen's cached rows are made of (the allowlist's, `telnyx.access_list`: not the other
    Telnyx records in `telnyx.models`), with their packages."""
    parts = name.split(".")
    vendor_package = parts[:2] in (
        ["providers", "telnyx"],
        ["providers", "aliyun"],
        ["providers", "huawei"],
        ["providers", "volcengine"],
    )
    return watched(name) and not (vendor_package and (len(parts) == 2 or parts[2] in ("vendor", "access_list")))


# Both rules run in the children too: their source is sent along.
RULES = "from __future__ import annotations\n" + inspect.getsource(watched) + inspect.getsource(heavy)


def loaded_after(code: str) -> list[str]:
    """The watched modules `code` leaves imported in a fresh interpreter."""
    script = f"{RULES}\n{code}\nimport sys, json\nprint(json.dumps(sorted(m for m, mod in sys.modules.items() if mod is not None and watched(m))))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("module", ["tui.cli", "tui.app", "tui.resources"])
def test_importing_the_entry_the_app_or_the_registry_loads_no_vendor_code_and_no_http(module):
    # Not even the vendor descriptors: the registry of resources names its record types and
    # clients without importing them.
    assert loaded_after(f"import {module}") == []


def test_the_entry_module_imports_no_ui_and_no_metadata_machinery():
    script = "import sys, tui.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') or m == 'importlib.metadata'))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_importing_an_emulator_reads_no_seed_and_the_sandbox_package_imports_nothing_eagerly():
    code = (
        "import providers.sandbox.state, sys\n"
        "assert 'providers.sandbox.telnyx' not in sys.modules and 'httpx' not in sys.modules, sorted(sys.modules)\n"
        "import providers.sandbox.telnyx, providers.sandbox.aliyun_cams\n"
        "from providers.sandbox import seed_data\n"
        "print(seed_data.load.cache_info().currsize)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"  # the seed fiction is read when a seed is built, not at import


# ---- a real start in a terminal -------------------------------------------------------------------

CHILD = (
    RULES
    + r"""
import json, os, sys
from textual.drivers.linux_driver import LinuxDriver
from tui.screens.resource import ResourceScreen

ROWS = json.loads(os.environ["STARTUP_ROWS"])
REPORT = os.environ["STARTUP_REPORT"]
seen = {}


def note(what):
    seen[what] = sorted(m for m, mod in sys.modules.items() if mod is not None and heavy(m))
    with open(REPORT, "w") as out:
        json.dump(seen, out)


write = LinuxDriver.write


def watched_write(driver, data):
    write(driver, data)  # queued for the terminal before anything else happens in this thread
    if "painted" not in seen and any(row in data for row in ROWS):
        note("painted")


LinuxDriver.write = watched_write
store = ResourceScreen._store_in_cache


async def revalidated(screen, records):
    await store(screen, records)
    if "painted" in seen and "revalidated" not in seen:
        note("revalidated")
        screen.app.exit()


ResourceScreen._store_in_cache = revalidated
from tui.cli import main

sys.exit(main(["--sandbox"]))
"""
)


def run_in_terminal(env: dict[str, str], report: Path, deadline: float = 90.0) -> dict[str, list[str]]:
    """Run CHILD in a pseudo-terminal until it exits (it exits once revalidated); what it reported."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        try:
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-c", CHILD], env)
        finally:
            os._exit(127)
    ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    screen = b""
    try:
        end = time.monotonic() + deadline  # a guard against a hang, not a measure
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                screen = (screen + chunk)[-20000:]
            if os.waitpid(pid, os.WNOHANG)[0]:
                pid = 0
                break
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert report.exists(), f"the app never painted a cached row; its terminal ended with {screen[-2000:]!r}"
    return json.loads(report.read_text())


def test_a_warm_start_paints_cached_rows_in_the_terminal_before_httpx_vendor_clients_or_emulators_load(tmp_path):
    # The cache as a previous run left it: the sandbox's allowlist, written under the sandbox profile.
    spec = REGISTRY["allowlist"]
    items = build_seed()["access_ips"]
    ResultCache(tmp_path / "cache").put("sandbox", spec.provider, spec.cache_key, items)
    report = tmp_path / "report.json"
    env = dict(
        os.environ,
        TERM="xterm-256color",
        TELEDECK_CACHE_DIR=str(tmp_path / "cache"),
        TELEDECK_DATA_DIR=str(tmp_path / "data"),
        TELEDECK_CONFIG_DIR=str(tmp_path / "config"),
        TELEDECK_LOG_DIR=str(tmp_path / "log"),
        STARTUP_ROWS=json.dumps([item["ip_address"] for item in items]),
        STARTUP_REPORT=str(report),
    )
    seen = run_in_terminal(env, report)
    assert seen["painted"] == []
    # Not vacuous: the same run then built the client and revalidated through the emulator.
    assert "revalidated" in seen, seen
    assert {"httpx", "providers.transport", "providers.telnyx.client", "providers.sandbox.telnyx"} <= set(
        seen["revalidated"]
    )


def test_the_http_stack_loads_without_httpx_command_line_client():
    # uvicorn brings click, and with click installed httpx imports its CLI (click, rich.progress,
    # pygments) at import; providers/ keeps it out, so reaching a vendor costs only httpx itself.
    code = (
        "import sys\n"
        "import providers.transport\n"
        "import httpx\n"
        "assert 'httpx' in sys.modules\n"
        "print(sorted(m for m, mod in sys.modules.items() if mod is not None and (m == 'click' or m.startswith(('httpx._main', 'pygments')))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert callable(__import__("httpx").main)  # httpx's fallback stands in for its CLI
