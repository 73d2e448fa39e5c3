"""One row per call from its pushed events: the CDR's numbers win, duration from answer to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from providers import calls
from providers.calls import ANSWER, CDR, END, START, CallEvent, Verdict, merge

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def event(kind: str, stage: str, seconds: int, **values: str) -> CallEvent:
    return CallEvent(
        "huawei",
        "s-1",
        kind,
        stage,
        received_at=T0 + timedelta(seconds=seconds + 1),
        at=T0 + timedelta(seconds=seconds),
        **values,
    )


def test_an_answered_call_has_its_duration_and_the_cdr_numbers() -> None:
    record = merge(
        [
            event("disconnect", END, 95, caller="+86***"),
            event("callin", START, 0, caller="+86***", x="+8617000000001"),
            event("answer", ANSWER, 5),
            event("fee", CDR, 95, caller="+8613800000001", callee="+8613800000002"),
        ]
    )
    assert (record.started_at, record.answered_at, record.ended_at) == (
        T0,
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=95),
    )
    assert record.duration_s == 90
    assert (record.caller, record.callee, record.x) == ("+8613800000001", "+8613800000002", "+8617000000001")
    assert record.outcome == calls.ANSWERED


def test_a_registered_decoder_says_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(calls._DECODERS, "huawei", lambda events: Verdict(calls.NO_BINDING, "8014", "no binding for X"))
    record = merge([event("fee", CDR, 3)])
    assert (record.outcome, record.cause_code, record.cause) == (calls.NO_BINDING, "8014", "no binding for X")
    assert record.duration_s is None


def test_events_of_a_call_delivered_twice_share_a_key() -> None:
    assert event("fee", CDR, 3).dedupe_key == event("fee", CDR, 9).dedupe_key != event("answer", ANSWER, 3).dedupe_key
    with pytest.raises(ValueError):
        merge([])
