"""Fixtures for the hostile-server tests: the server, small limits, and memory measurement."""

from __future__ import annotations

import contextlib
import re
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from providers.transport import MiB, ResponseLimits
from tests.hostile.server import HostileServer

# Small caps so each hostile answer is cut off at once; the defaults are tested on their own.
SMALL = ResponseLimits(max_body=1 * MiB, max_decoded=4 * MiB, deadline=3.0)
# The acceptance bound: a hostile answer must not take the app past this.
MEMORY_BOUND = 300 * MiB


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer(slow_interval=0.5) as server:
        yield server


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _rss_kib(field: str) -> int | None:
    try:
        found = re.search(rf"{field}:\s+(\d+)", _STATUS.read_text())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _reset_rss_peak() -> bool:
    """Linux lets a process reset its own peak RSS (VmHWM) by writing 5 to clear_refs."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Measured:
    python_peak: int = 0  # bytes, tracemalloc's peak while measuring
    rss_before: int | None = None  # bytes
    rss_peak: int | None = None  # bytes, the process's peak RSS while measuring (Linux)
    seconds: float = 0.0

    @property
    def rss_growth(self) -> int | None:
        if self.rss_before is None or self.rss_peak is None:
            return None
        return self.rss_peak - self.rss_before

    def line(self, what: str) -> str:
        rss = f", RSS peak {self.rss_peak / MiB:.0f} MiB (+{(self.rss_growth or 0) / MiB:.0f})" if self.rss_peak else ""
        return f"{what}: Python peak {self.python_peak / MiB:.1f} MiB{rss}, {self.seconds:.2f} s"

    def assert_bounded(self) -> None:
        assert self.python_peak < MEMORY_BOUND, self.line("over the bound")
        if self.rss_growth is not None:
            assert self.rss_growth < MEMORY_BOUND, self.line("over the bound")


@contextlib.contextmanager
def measure(what: str, report: list[str] | None = None) -> Iterator[Measured]:
    """Python allocations (tracemalloc) and the process's RSS peak while the block runs."""
    measured = Measured()
    reset = _reset_rss_peak()
    before = _rss_kib("VmRSS")
    measured.rss_before = before * 1024 if before is not None and reset else None
    started = time.monotonic()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield measured
    finally:
        measured.python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        measured.seconds = time.monotonic() - started
        peak = _rss_kib("VmHWM")
        measured.rss_peak = peak * 1024 if peak is not None and reset else None
        print(measured.line(what))
