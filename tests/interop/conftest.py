"""Shared fixtures for the interop tests.

`prism_url`: a Prism mock server (`@stoplight/prism-cli`, installed by tests/interop/prism/install.sh
into .cache/prism) serving the official Telnyx OpenAPI subset vendored at
docs/reference/telnyx-account-access.openapi.json, on a free loopback port. One server per test
session (per xdist worker); its whole process group is killed at teardown. Tests that use it are
skipped, with the reason, when Node or Prism is missing; a missing spec is a failure (it is part of
the repo).

Prism serves the spec's paths at the root: the spec's `servers` entry (https://api.telnyx.com/v2)
is not part of the mock's paths, so the base URL is http://127.0.0.1:PORT with no /v2.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs/reference/telnyx-account-access.openapi.json"
PRISM = REPO / ".cache/prism/node_modules/.bin/prism"
START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Kill Prism's whole process group (node and anything it started), then reap it."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    else:
        # The leader exited; make sure nothing it started is left behind.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(PRISM), "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"Prism exited with {proc.returncode}")
            try:
                answer = httpx.get(f"{url}/access_ip_address", headers={"Authorization": "Bearer probe"}, timeout=1.0)
                if answer.status_code == 200:
                    return proc, url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Prism did not answer within {START_TIMEOUT:.0f} s")
    except BaseException:
        _stop(proc)
        raise


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running Prism mock of the official Telnyx spec (no /v2 prefix)."""
    if not SPEC.is_file():
        pytest.fail(f"the vendored official spec is missing: {SPEC} (see docs/reference/README.md)")
    if not PRISM.exists():
        pytest.skip("Prism is not installed: run `bash tests/interop/prism/install.sh` (needs npm)")
    if shutil.which("node") is None:
        pytest.skip("Prism is installed but `node` is not on PATH")
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    problem = ""
    for _ in range(3):  # a new port each time, in case another process took the free one first
        try:
            proc, url = _start(log_path)
            break
        except RuntimeError as error:
            problem = f"{error}; log tail:\n{log_path.read_text(errors='replace')[-2000:]}"
    else:
        pytest.fail(f"could not start Prism: {problem}")
    try:
        yield url
    finally:
        _stop(proc)
