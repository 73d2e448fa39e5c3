"""`teledeck receiver serve` (a real uvicorn in a child process) and `teledeck sandbox serve
--receiver`, through the fixture push modules (tests/providers/push_fixture.py), which each child
installs before the CLI starts."""

from __future__ import annotations

import http.server
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from providers.huawei.auth import aksk_headers
from providers.ledger import BindingLedger
from providers.pushes import PushRequest
from providers.sandbox.huawei import HuaweiSandbox
from providers.sandbox.push_sink import HttpPushSink
from tests.providers.push_fixture import FixtureHuawei, body_of, record, signed_push

ROOT = Path(__file__).resolve().parents[2]
BOOT = (
    "import sys\n"
    "from tests.providers.push_fixture import install_emulator_for_process, install_for_process\n"
    "install_for_process(); install_emulator_for_process()\n"
    "from tui.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
APP_KEY, APP_SECRET = "prod-hw-key-1", "prod-hw-secret-never-printed"
CONFIG = """
default = "prod"

[profiles.prod]

[[profiles.prod.accounts]]
kind = "huawei"
label = "hw-prod"
credentials = { app_key = "env:HW_KEY", app_secret = "env:HW_SECRET" }

[[profiles.prod.accounts]]
kind = "aliyun-pls"
label = "ali-prod"
pool_key = "FC100000000000001"
credentials = { access_key_id = "env:ALI_ID", access_key_secret = "env:ALI_SECRET" }

[profiles.telnyx-only]

[[profiles.telnyx-only.accounts]]
kind = "telnyx"
label = "tx"
credentials = { api_key = "env:TX_KEY" }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    folders = {
        name: tmp_path / name.lower()
        for name in ("TELEDECK_CONFIG_DIR", "TELEDECK_DATA_DIR", "TELEDECK_CACHE_DIR", "TELEDECK_LOG_DIR")
    }
    for folder in folders.values():
        folder.mkdir()
    (folders["TELEDECK_CONFIG_DIR"] / "config.toml").write_text(CONFIG)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TELEDECK_")}
    environ.update({name: str(path) for name, path in folders.items()})
    environ.update(HW_KEY=APP_KEY, HW_SECRET=APP_SECRET, ALI_ID="LTAI-test", ALI_SECRET="ali-secret", TX_KEY="KEYx")
    return environ


class Child:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BOOT, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        self.out = b""

    def wait_for(self, marker: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while marker.encode() not in self.out and time.monotonic() < deadline and self.proc.poll() is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                self.out += os.read(self.proc.stdout.fileno(), 65536)
        assert marker.encode() in self.out, self.out.decode() + self.proc.stderr.read().decode()
        return self.out.decode()

    def interrupt(self) -> tuple[int, str, str]:
        """ctrl+c, as a terminal sends it; (exit status, stdout, stderr)."""
        os.killpg(self.proc.pid, signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, (self.out + out).decode(), err.decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate(timeout=10)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BOOT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_receiver_serve_answers_healthz_refuses_a_bad_push_and_stores_a_good_one(env):
    port = free_port()
    child = Child(["receiver", "serve", "--port", str(port), "--profile", "prod"], env)
    try:
        shown = child.wait_for("GET  /healthz")
        base = f"http://127.0.0.1:{port}"
        assert f"listening on {base}" in shown
        assert re.search(r"POST /huawei/events\s+huawei\s+hw-prod \(app_key prod…, app_secret set\)", shown), shown
        assert APP_SECRET not in shown
        # The Alibaba account has no receipt_token: said, and its route is not served.
        assert (httpx.post(base + "/aliyun/receipts/x", content=b"{}", timeout=5)).status_code == 404
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        bad = signed_push(body_of(record()), app_key=APP_KEY, app_secret="guess", at=time.time(), nonce="n1")
        assert httpx.post(base + bad.route, content=bad.body, headers=dict(bad.headers), timeout=5).status_code == 401
        good = signed_push(body_of(record()), app_key=APP_KEY, app_secret=APP_SECRET, at=time.time(), nonce="n2")
        answer = httpx.post(base + good.route, content=good.body, headers=dict(good.headers), timeout=5)
        assert (answer.status_code, answer.content) == (200, b'{"ok":true}')
        status, out, err = child.interrupt()
    finally:
        child.kill()
    assert status == 0, err
    assert "teledeck receiver: stopped" in out
    assert "refused /huawei/events from 127.0.0.1: 401 signature does not match" in err
    assert "left out: account 'ali-prod' (aliyun-pls) has no receipt_token" in err
    for secret in (APP_SECRET, "guess"):
        assert secret not in err + out
    with BindingLedger(Path(env["TELEDECK_DATA_DIR"]) / "bindings.sqlite3") as ledger:
        assert [e.account for e in ledger.call_events("huawei", "c1")] == ["hw-prod"]


def test_receiver_serve_refuses_to_start_when_no_account_can_receive(env):
    done = run(["receiver", "serve", "--profile", "prod", "--port", "0"], {**env, "HW_SECRET": ""})
    assert done.returncode == 2
    assert "not started: no account of profile 'prod' can receive call pushes" in done.stderr
    assert "HW_SECRET (app_secret) is not set" in done.stderr
    assert "account 'ali-prod' (aliyun-pls) has no receipt_token" in done.stderr
    done = run(["receiver", "serve", "--profile", "telnyx-only", "--port", "0"], env)
    assert done.returncode == 2
    assert "profile 'telnyx-only' has no account of a vendor that pushes calls" in done.stderr


# ---- sandbox serve --receiver --------------------------------------------------------------------


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    server.shutdown()
    server.server_close()


def test_the_http_sink_sends_route_rest_query_and_headers(recorder):
    url, seen = recorder
    sink = HttpPushSink(url + "/base/")
    push = PushRequest(
        "/aliyun/receipts", b'{"a":1}', rest="/tok", query={"q": "1"}, headers={"x-sign": "s", "host": "x"}
    )
    reply = sink(push)
    sink.close()
    assert (reply.status, reply.body) == (200, b"ok")
    path, headers, body = seen[0]
    assert (path, headers["x-sign"], body) == ("/base/aliyun/receipts/tok?q=1", "s", b'{"a":1}')
    assert headers["host"] != "x"


def test_a_receiver_that_is_down_is_reported_not_raised():
    emulator = FixtureHuawei(None)
    emulator.push_sink = HttpPushSink(f"http://127.0.0.1:{free_port()}", timeout=2)
    _, deliveries = emulator.place_call(outcome="busy", binding_id="b1")
    assert [(d.status, d.detail) for d in deliveries] == [(None, "not delivered: ConnectError")] * 2


def _place_call(base: str) -> httpx.Response:
    credentials = HuaweiSandbox(None, seed_data=False).session_account().credentials
    headers = aksk_headers(credentials["app_key"], credentials["app_secret"])
    return httpx.post(
        base + "/_sandbox/calls", json={"outcome": "busy", "binding_id": "b1"}, headers=headers, timeout=10
    )


def test_sandbox_serve_pushes_simulated_calls_to_the_receiver_url(env, recorder, tmp_path):
    url, seen = recorder
    child = Child(
        [
            "sandbox",
            "serve",
            "--vendor",
            "huawei",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "s"),
            "--receiver",
            url,
        ],
        env,
    )
    try:
        shown = child.wait_for("state:")
        base = re.search(r"^huawei\s+(http://127\.0\.0\.1:\d+\S*)", shown, re.MULTILINE).group(1).rstrip("/")
        assert f"simulated calls push to {url}" in shown
        assert re.search(r"huawei: POST /huawei/events\s+app_key Tele…, app_secret set", shown), shown
        answer = _place_call(base)
        assert answer.status_code in (200, 201), answer.text
    finally:
        child.kill()
    assert [path for path, _, _ in seen] == ["/huawei/events", "/huawei/events"]
    assert [json.loads(body)["records"][0]["kind"] for _, _, body in seen] == ["callin", "disconnect"]
    assert all("x-test-signature" in headers for _, headers, _ in seen)


def test_sandbox_serve_and_receiver_serve_sandbox_store_a_simulated_call(env, tmp_path):
    port = free_port()
    receiver = Child(["receiver", "serve", "--sandbox", "--port", str(port)], env)
    sandbox = Child(
        ["sandbox", "serve", "--vendor", "huawei", "--port", "0", "--state-dir", str(tmp_path / "s")], {**env}
    )
    try:
        receiver.wait_for("GET  /healthz")
        shown = sandbox.wait_for("state:")
        assert "simulated calls push to http://127.0.0.1:8790" in shown  # the default
        sandbox.kill()
        sandbox = Child(["sandbox", "serve", "--vendor", "huawei", "--port", "0", "--state-dir", str(tmp_path / "s"),
                         "--receiver", f"http://127.0.0.1:{port}"], env)  # fmt: skip
        base = re.search(r"^huawei\s+(http://\S+)", sandbox.wait_for("state:"), re.MULTILINE).group(1).rstrip("/")
        assert _place_call(base).status_code in (200, 201)
        status, _, err = receiver.interrupt()
    finally:
        sandbox.kill()
        receiver.kill()
    assert status == 0, err
    with BindingLedger(Path(env["TELEDECK_DATA_DIR"]) / "sandbox" / "bindings.sqlite3") as ledger:
        calls = ledger.calls()
    assert len(calls) == 1  # its two pushes, each taken (200) and stored
    assert "took /huawei/events push from 127.0.0.1 for huawei: 1 records, 1 new" in err
