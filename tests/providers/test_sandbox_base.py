"""The pieces every sandbox emulator shares: the control endpoints (now on the Alibaba emulators
too), the rate-limit windows, and the state file written with paths.atomic_write."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from providers.aliyun import signing
from providers.sandbox.aliyun_cams import CamsSandbox
from providers.sandbox.aliyun_pls import DyplsSandbox
from providers.sandbox.http import SandboxRequest, SandboxResponse
from providers.sandbox.limits import FixedWindow, SlidingWindow
from providers.sandbox.state import StateStore


def _rpc(sandbox: DyplsSandbox | CamsSandbox, method: str, path: str, body: object = None) -> SandboxResponse:
    """A request signed with RPC 1.0, as the official SDK would sign it."""
    params = {
        "AccessKeyId": sandbox.access_key_id,
        "SignatureMethod": signing.RPC_SIGNATURE_METHOD,
        "SignatureVersion": signing.RPC_SIGNATURE_VERSION,
        "SignatureNonce": signing.new_nonce(),
        "Timestamp": signing.timestamp(time.time()),
        "Action": "QuerySubsId",
        "Version": sandbox.VERSION,
        "Format": "JSON",
    }
    pairs = sorted(params.items())
    signature = signing.rpc_signature(sandbox.access_key_secret, signing.rpc_string_to_sign(method, pairs))
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    return sandbox.handle(SandboxRequest(method, path, [*pairs, ("Signature", signature)], headers, raw))


@pytest.mark.parametrize("cls", [DyplsSandbox, CamsSandbox])
def test_alibaba_control_endpoints_queue_list_and_clear_faults(cls: type[DyplsSandbox | CamsSandbox]) -> None:
    sandbox = cls()
    added = _rpc(sandbox, "POST", "/_sandbox/faults", {"kind": "status", "path": "/QuerySubsId", "status": 503})
    assert added.status == 200 and added.json()["Code"] == "OK"
    assert [f["path"] for f in added.json()["Faults"]] == ["/QuerySubsId"]
    assert [f.path for f in sandbox.faults.pending()] == ["/QuerySubsId"]
    assert len(_rpc(sandbox, "GET", "/_sandbox/faults").json()["Faults"]) == 1
    assert _rpc(sandbox, "DELETE", "/_sandbox/faults").status == 200
    assert len(sandbox.faults) == 0
    assert _rpc(sandbox, "POST", "/_sandbox/reset").json()["Seeded"] is True


def test_alibaba_control_endpoints_are_signed_and_refuse_what_they_cannot_take() -> None:
    sandbox = DyplsSandbox()
    unsigned = sandbox.handle(SandboxRequest("GET", "/_sandbox/faults"))
    assert unsigned.status == 400 and unsigned.json()["Code"] == "IncompleteSignature"
    bad = _rpc(sandbox, "POST", "/_sandbox/faults", {"kind": "no-such-kind"})
    assert bad.status == 400 and bad.json()["Code"] == "InvalidParameter"
    assert _rpc(sandbox, "POST", "/_sandbox/nothing-here").status == 404
    assert len(sandbox.faults) == 0


def test_fixed_window_counts_down_and_reopens() -> None:
    window = FixedWindow(2, 10.0)
    first, second, third = (window.admit("k", 100.0) for _ in range(3))
    assert (first.admitted, first.remaining, first.reset_seconds) == (True, 1, 10)
    assert (second.admitted, second.remaining) == (True, 0)
    assert (third.admitted, third.reset_seconds) == (False, 10)
    assert window.admit("other", 100.0).admitted  # per key
    assert window.admit("k", 110.0).admitted  # a new window


def test_sliding_window_does_not_count_refusals() -> None:
    window = SlidingWindow(2, 1.0)
    assert [window.admit("k", t) for t in (0.0, 0.1, 0.2, 0.9)] == [True, True, False, False]
    assert window.admit("k", 1.05)  # 0.0 has left the window; the refusals never counted


def test_state_file_is_private_and_written_whole(tmp_path) -> None:
    path = tmp_path / "sandbox" / "state.json"
    store = StateStore(path)
    store.set("k", {"v": 1})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(path.parent) == ["state.json"]  # no temporary file left behind
    assert StateStore(path).get("k") == {"v": 1}


def test_settings_are_declared_once_and_resolved_by_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `Setting`: the keyword, else its variable, else the default; inherited ones too."""
    assert set(DyplsSandbox.SETTINGS) == {"access_key_id", "access_key_secret", "pool_key", "qps", "receipt_token"}
    assert set(CamsSandbox.SETTINGS) == {"access_key_id", "access_key_secret", "cust_space_id", "qps"}
    monkeypatch.delenv("TELEDECK_SANDBOX_ALIYUN_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("TELEDECK_SANDBOX_ALIYUN_POOL_KEY", " FC9 ")
    monkeypatch.setenv("TELEDECK_SANDBOX_CAMS_CUST_SPACE_ID", " space-9 ")
    monkeypatch.setenv("TELEDECK_SANDBOX_ALIYUN_PLS_QPS", " ")
    monkeypatch.setenv("TELEDECK_SANDBOX_ALIYUN_CAMS_QPS", " 4 ")
    pls, cams = DyplsSandbox(), CamsSandbox()
    assert pls.pool_key == " FC9 " and pls.from_env("pool_key")  # text is taken as it stands ...
    assert cams.cust_space_id == "space-9" and cams.from_env("cust_space_id")  # ... unless it strips
    assert (pls.qps, cams.qps) == (50, 4)  # a blank number is unset
    assert not pls.from_env("qps") and cams.from_env("qps")
    chosen = DyplsSandbox(pool_key="FC1", qps=0, access_key_id="")
    assert (chosen.pool_key, chosen.qps) == ("FC1", 0) and not chosen.from_env("pool_key")
    assert chosen.access_key_id == "TeledeckSandboxAliyunKeyId"  # an empty keyword counts as unset
    with pytest.raises(TypeError, match="no_such_setting"):
        DyplsSandbox(no_such_setting="x")  # type: ignore[call-arg]
