"""Push modules for the receiver's tests, in the shape of providers/pushes.py's contract, so the
receiver is tested through a real PushSpec and a real ledger rather than a mock of either.

Two made-up vendors' rules on real routes (the vendor push modules are tested on their own):

- `SIGNED` on /huawei/events: headers x-test-key (the account's app_key), x-test-time (epoch
  seconds), x-test-nonce and x-test-signature = HMAC-SHA256(app_secret, "time\\nnonce\\nbody");
  a push over 5 minutes old is stale, a nonce seen before is a replay;
- `TOKEN` on /aliyun/receipts: the account's receipt_token is the rest of the path.

The body is JSON {"records": [{"call_id", "kind", "stage", "x", "caller", "callee"}]}.
`install(monkeypatch)` registers both (monkeypatch `PUSH_MODULES`, `push_spec.cache_clear()`);
`install_for_process()` does the same in a child process (tests/cli bootstraps).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from providers.calls import CallEvent, Verdict
from providers.pushes import (
    MalformedPush,
    NonceBook,
    Parse,
    PushRefused,
    PushReply,
    PushRequest,
    PushSpec,
    ReceiverKey,
)
from providers.sandbox.base import SimulatedCall
from providers.sandbox.huawei import HuaweiSandbox

SIGNED_MODULE = "tests.providers.push_fixture_signed"
TOKEN_MODULE = "tests.providers.push_fixture_token"
FRESH_S = 300


def body_of(*records: dict[str, Any]) -> bytes:
    return json.dumps({"records": list(records)}).encode()


def record(call_id: str = "c1", kind: str = "callin", stage: str = "start", **kw: str) -> dict[str, str]:
    return {"call_id": call_id, "kind": kind, "stage": stage, "x": "+8617000000001", "caller": "+8613800000001",
            "callee": "+8617000000001", **kw}  # fmt: skip


def signed_headers(body: bytes, *, app_key: str, app_secret: str, at: float, nonce: str) -> dict[str, str]:
    text = f"{int(at)}\n{nonce}\n".encode() + body
    signature = hmac.new(app_secret.encode(), text, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "x-test-key": app_key,
        "x-test-time": str(int(at)),
        "x-test-nonce": nonce,
        "x-test-signature": signature,
    }


def signed_push(
    body: bytes, *, app_key: str, app_secret: str, at: float, nonce: str, route: str = "/huawei/events"
) -> PushRequest:
    headers = signed_headers(body, app_key=app_key, app_secret=app_secret, at=at, nonce=nonce)
    return PushRequest(route=route, body=body, headers=headers)


def authenticate_signed(
    request: PushRequest, keys: Sequence[ReceiverKey], *, now: datetime, nonces: NonceBook
) -> ReceiverKey:
    key = next((k for k in keys if k.credentials.get("app_key") == request.header("x-test-key")), None)
    if key is None:
        raise PushRefused("no account has this app key")
    when = request.header("x-test-time")
    nonce = request.header("x-test-nonce")
    expected = signed_headers(
        request.body, app_key=key.credentials["app_key"], app_secret=key.credentials["app_secret"],
        at=float(when) if when.isdigit() else 0, nonce=nonce,
    )["x-test-signature"]  # fmt: skip
    if not hmac.compare_digest(expected, request.header("x-test-signature")):
        raise PushRefused("signature does not match")
    if abs(now.timestamp() - int(when)) > FRESH_S:
        raise PushRefused("stale push")
    if not nonces.first_use(key.account, nonce, now=now.timestamp(), keep_for=2 * FRESH_S):
        raise PushRefused("nonce replayed")
    return key


def authenticate_token(
    request: PushRequest, keys: Sequence[ReceiverKey], *, now: datetime, nonces: NonceBook
) -> ReceiverKey:
    for key in keys:
        if hmac.compare_digest("/" + key.credentials.get("receipt_token", ""), request.rest):
            return key
    raise PushRefused("no account has this receipt token")


def parser(provider: str) -> Parse:
    def parse(body: bytes, *, received_at: datetime, account: str) -> list[CallEvent]:
        try:
            document = json.loads(body)
            records = document["records"]
            return [
                CallEvent(
                    provider=provider,
                    call_id=r["call_id"],
                    kind=r["kind"],
                    stage=r["stage"],
                    received_at=received_at,
                    x=r.get("x", ""),
                    caller=r.get("caller", ""),
                    callee=r.get("callee", ""),
                    account=account,
                    fields=dict(r),
                )
                for r in records
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedPush(f"not a test push ({type(exc).__name__})") from None

    return parse


def reply(events: Sequence[CallEvent]) -> PushReply:
    return PushReply(200, b'{"ok":true}', "application/json")


def decode(events: Sequence[CallEvent]) -> Verdict | None:
    return None


def spec(provider: str, route: str, token: bool) -> PushSpec:
    return PushSpec(
        provider=provider,
        route=route,
        receive_credentials=("receipt_token",) if token else ("app_key", "app_secret"),
        authenticate=authenticate_token if token else authenticate_signed,
        parse=parser(provider),
        reply=reply,
        decode=decode,
        max_body=4096,
    )


def install(monkeypatch: Any) -> None:
    """Register the fixture modules for huawei and aliyun in this test (undone after it)."""
    import providers.calls
    import providers.pushes

    monkeypatch.setitem(providers.pushes.PUSH_MODULES, "huawei", SIGNED_MODULE)
    monkeypatch.setitem(providers.pushes.PUSH_MODULES, "aliyun", TOKEN_MODULE)
    monkeypatch.delitem(providers.pushes.PUSH_MODULES, "volcengine", raising=False)
    monkeypatch.setattr(providers.calls, "_DECODERS", {})  # merge caches the decoders it finds
    providers.pushes.push_spec.cache_clear()


def install_for_process() -> None:
    """The same for a whole child process."""
    import providers.pushes

    providers.pushes.PUSH_MODULES.clear()
    providers.pushes.PUSH_MODULES.update({"huawei": SIGNED_MODULE, "aliyun": TOKEN_MODULE})
    providers.pushes.push_spec.cache_clear()


_calls = itertools.count(1)


def simulate(emulator: Any, *, outcome: str, binding_id: str = "", x: str = "") -> SimulatedCall:
    """A Huawei emulator's simulated call in the signed fixture vendor's pushes: a start and an
    end, signed with the emulator's own app key and secret at its clock's time."""
    credentials = emulator.session_account().credentials
    call_id = f"sim-{next(_calls)}"
    at = emulator.clock()
    pushes = tuple(
        signed_push(
            body_of(record(call_id, kind, stage)),
            app_key=credentials["app_key"],
            app_secret=credentials["app_secret"],
            at=at,
            nonce=f"{call_id}-{kind}",
        )
        for kind, stage in (("callin", "start"), ("disconnect", "end"))
    )
    return SimulatedCall(call_id, outcome, binding_id, x or "+8617000000001", pushes)


class FixtureHuawei(HuaweiSandbox):
    """The Huawei emulator, simulating calls in the fixture vendor's pushes."""

    def simulate_call(self, *, outcome: str, binding_id: str = "", x: str = "") -> SimulatedCall:
        return simulate(self, outcome=outcome, binding_id=binding_id, x=x)


def install_emulator_for_process() -> None:
    """A child process's Huawei emulator simulates calls in the fixture's pushes."""
    HuaweiSandbox.simulate_call = FixtureHuawei.simulate_call  # type: ignore[method-assign]
