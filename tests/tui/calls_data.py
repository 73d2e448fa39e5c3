"""Calls for the console's tests, fed to the ledger as the receiver feeds it (add_call_events).

The vendors' decoders (their push modules) are not what these tests are about: `fake_decoders`
stands in for them, reading the outcome and cause a test put in the events' fields, so the
ledger's merge gives exactly the calls a test wants, for any provider.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from providers import calls as calls_module
from providers.calls import ANSWER, CDR, END, RECORDING, RING, START, CallEvent, Verdict

T0 = datetime(2026, 9, 21, 8, 30, 0, tzinfo=UTC)
X_UNBOUND = "+8617000009999"


def _verdict(events: Sequence[CallEvent]) -> Verdict | None:
    for event in reversed(events):
        if "test_outcome" in event.fields:
            return Verdict(
                event.fields["test_outcome"], event.fields.get("test_code", ""), event.fields.get("test_cause", "")
            )
    return None


@contextlib.contextmanager
def fake_decoders(providers: Sequence[str] = ("huawei", "volcengine", "aliyun")) -> Iterator[None]:
    saved = {p: calls_module._DECODERS.get(p) for p in providers}
    for provider in providers:
        calls_module._DECODERS[provider] = _verdict
    try:
        yield
    finally:
        for provider, decoder in saved.items():
            if decoder is None:
                calls_module._DECODERS.pop(provider, None)
            else:
                calls_module._DECODERS[provider] = decoder


def call_events(
    provider: str,
    call_id: str,
    start: datetime,
    outcome: str,
    *,
    x: str,
    caller: str,
    callee: str,
    subscription_id: str = "",
    talk: int = 0,
    code: str = "",
    cause: str = "",
    recording: bool = False,
) -> list[CallEvent]:
    """The records a vendor pushes about one call: start, ring, (answer), end, CDR (with the
    outcome the test decoder reads), and a recording when asked."""
    common = {"x": x, "caller": caller, "callee": callee, "subscription_id": subscription_id}

    def pushed(kind: str, stage: str, at: datetime | None, **fields: object) -> CallEvent:
        return CallEvent(provider, call_id, kind, stage, received_at=at or start, at=at, fields=fields, **common)  # type: ignore[arg-type]

    events = [
        pushed("callin", START, start, eventType="callin"),
        pushed("alerting", RING, start + timedelta(seconds=3), eventType="alerting"),
    ]
    end = start + timedelta(seconds=20)
    if talk:
        events.append(pushed("answer", ANSWER, start + timedelta(seconds=6), eventType="answer"))
        end = start + timedelta(seconds=6 + talk)
    events.append(pushed("disconnect", END, end, eventType="disconnect", stateCode=code or "0"))
    events.append(pushed("fee", CDR, end, test_outcome=outcome, test_code=code, test_cause=cause))
    if recording:  # a record without a time of its own, pushed once the file is ready
        ready = CallEvent(
            provider, call_id, "recording", RECORDING, received_at=end + timedelta(seconds=30),
            fields={"fileName": f"{call_id}.wav", "recordDomain": "record.example.com"}, **common,  # type: ignore[arg-type]
        )  # fmt: skip
        events.append(ready)
    return events


def seed_calls(ledger, *, huawei_binding=None, start: datetime = T0) -> int:
    """Six calls: Huawei 3 answered (one with a recording) and 1 busy, Volcengine 1 no binding,
    Aliyun 1 no answer; the Huawei ones on `huawei_binding` when given. How many events went in."""
    hx, ha, hb, sub = "+8617000000101", "+8613800000101", "+8613900000101", ""
    if huawei_binding is not None:
        hx, ha, hb, sub = huawei_binding.x, huawei_binding.a, huawei_binding.b or hb, huawei_binding.subscription_id
    on = {"x": hx, "caller": ha, "callee": hb, "subscription_id": sub}
    events = [
        *call_events("huawei", "hw-0001", start, "answered", talk=65, recording=True, **on),
        *call_events("huawei", "hw-0002", start + timedelta(minutes=7), "busy", code="17", cause="user busy", **on),
        *call_events("huawei", "hw-0003", start + timedelta(minutes=15), "answered", talk=12, **on),
        *call_events("huawei", "hw-0004", start + timedelta(minutes=31), "answered", talk=3725, **on),
        *call_events(
            "volcengine", "vc-7f3a", start + timedelta(minutes=40), "no binding",
            code="8014", cause="the X number has no binding", x=X_UNBOUND, caller="+8613800000202", callee=X_UNBOUND,
        ),
        *call_events(
            "aliyun", "al-55e1", start + timedelta(minutes=52), "no answer",
            code="ring_timeout", cause="no answer before the ring timed out",
            x="+8617100000303", caller="+8613800000303", callee="+8617100000303", subscription_id="sub-al-1",
        ),
    ]  # fmt: skip
    with fake_decoders():
        return ledger.add_call_events(events)
