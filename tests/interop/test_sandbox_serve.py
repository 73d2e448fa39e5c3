"""`teledeck sandbox serve` with no --vendor serves every emulator on its own port, as a table."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]


def test_serve_without_vendor_prints_one_row_per_emulator_and_each_answers(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox", "serve", "--port", "0", "--state-dir", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        printed = b""
        deadline = time.monotonic() + 30
        while b"state:" not in printed and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                printed += os.read(proc.stdout.fileno(), 65536)
        text = printed.decode()
        rows = dict(
            re.findall(
                r"^(telnyx|aliyun-pls|aliyun-cams|huawei|volcengine)\s+(http://127\.0\.0\.1:\d+\S*)", text, re.MULTILINE
            )
        )
        assert set(rows) == {"telnyx", "aliyun-pls", "aliyun-cams", "huawei", "volcengine"}, text
        assert len({url.split("/")[2] for url in rows.values()}) == 5  # five different ports
        # Each one answers, and refuses an unauthenticated call rather than serving it.
        for vendor, url in rows.items():
            answer = httpx.get(url.rstrip("/") + "/", timeout=5)
            assert answer.status_code in (400, 401, 403, 404, 405), (vendor, answer.status_code)
        assert "api key: KEYTELEDECKSANDBOX_local_only_0000" in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
