"""Two processes on one sandbox state file (the app beside `teledeck sandbox serve`) lose no write."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from providers.sandbox import TelnyxSandbox
from providers.sandbox.http import SandboxRequest
from providers.sandbox.state import StateStore

KEY = {"authorization": f"Bearer {TelnyxSandbox().api_key}", "content-type": "application/json"}


def create_group(sandbox: TelnyxSandbox, name: str) -> int:
    body = json.dumps({"name": name}).encode()
    return sandbox.handle(SandboxRequest("POST", "/v2/billing_groups", headers=KEY, body=body)).status


def group_names(sandbox: TelnyxSandbox) -> set[str]:
    answer = sandbox.handle(SandboxRequest("GET", "/v2/billing_groups", [("page[size]", "250")], headers=KEY))
    return {g["name"] for g in json.loads(answer.body)["data"]}


def test_two_emulators_on_one_file_see_each_others_writes(tmp_path):
    path = tmp_path / TelnyxSandbox.STATE_FILE
    app_side = TelnyxSandbox(StateStore(path))
    served = TelnyxSandbox(StateStore(path))  # opened while the other runs, as `sandbox serve` would be
    assert create_group(app_side, "made in the app") == 200
    assert "made in the app" in group_names(served)
    assert create_group(served, "made through serve") == 200
    assert {"made in the app", "made through serve"} <= group_names(app_side)
    assert create_group(app_side, "made in the app again") == 200
    reread = TelnyxSandbox(StateStore(path))
    assert {"made in the app", "made through serve", "made in the app again"} <= group_names(reread)


def test_a_reset_by_one_process_is_seen_by_the_other(tmp_path):
    path = tmp_path / TelnyxSandbox.STATE_FILE
    one, other = TelnyxSandbox(StateStore(path)), TelnyxSandbox(StateStore(path))
    create_group(one, "gone after reset")
    assert "gone after reset" in group_names(other)
    other.reset()
    assert "gone after reset" not in group_names(one)


WRITER = textwrap.dedent(
    """
    import json, sys
    from providers.sandbox import TelnyxSandbox
    from providers.sandbox.http import SandboxRequest
    from providers.sandbox.state import StateStore
    sandbox = TelnyxSandbox(StateStore(sys.argv[1]))
    headers = {"authorization": f"Bearer {sandbox.api_key}", "content-type": "application/json"}
    for n in range(int(sys.argv[3])):
        body = json.dumps({"name": f"{sys.argv[2]}-{n}"}).encode()
        assert sandbox.handle(SandboxRequest("POST", "/v2/billing_groups", headers=headers, body=body)).status == 200
    """
)


def test_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / TelnyxSandbox.STATE_FILE
    TelnyxSandbox(StateStore(path))  # seeded once, before both start
    root = Path(__file__).resolve().parents[2]
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, "25"], cwd=root) for tag in ("app", "serve")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    names = group_names(TelnyxSandbox(StateStore(path)))
    for tag in ("app", "serve"):
        assert {f"{tag}-{n}" for n in range(25)} <= names
