"""Calls made through privacy numbers: what the vendors push, and one row per call.

None of the three vendors can list a binding's calls; they push them: Huawei call events
(`callin`, `callout`, `alerting`, `answer`, `disconnect`) and CDRs (`fee`), Volcengine callbacks
(message types 1 status, 2 CDR, 3 recording), Alibaba Dypls receipts (SecretStartReport,
SecretRingReport, SecretPickUpReport, SecretReport, SecretRecording). Each push record becomes a
`CallEvent` (vendor-neutral keys, the vendor's own record kept as received); the events of one
call merge into one `CallRecord` with its outcome and cause in words.

Nothing here imports the UI or a vendor client; the vendors' decoding of causes is registered per
provider (`register_decoder`), so the merge stays one function for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The outcomes a call can have, in the words the UI and the CLI show.
ANSWERED = "answered"
BUSY = "busy"
NO_ANSWER = "no answer"
REJECTED = "rejected"
NO_BINDING = "no binding"  # a call to an X with no binding: the commonest triage answer
BLOCKED = "blocked"
FAILED = "failed"
IN_PROGRESS = "in progress"  # events seen, no end yet
OUTCOMES = (ANSWERED, BUSY, NO_ANSWER, REJECTED, NO_BINDING, BLOCKED, FAILED, IN_PROGRESS)

# What a CallEvent is, vendor-neutral: the start, ringing, answer, end of a call, its CDR (the
# authoritative record), or a recording being ready.
START, RING, ANSWER, END, CDR, RECORDING = "start", "ring", "answer", "end", "cdr", "recording"
STAGES = (START, RING, ANSWER, END, CDR, RECORDING)


@dataclass(frozen=True)
class CallEvent:
    """One pushed record. `kind` is the vendor's own name for it (Huawei eventType, Volcengine
    message type, Alibaba MessageType); `stage` the vendor-neutral one. Times are UTC."""

    provider: str  # the BindingProvider name: "huawei", "volcengine", "aliyun"
    call_id: str  # Huawei sessionId, Volcengine CallId, Alibaba call_id
    kind: str
    stage: str  # one of STAGES
    received_at: datetime
    at: datetime | None = None  # the event's own time, when the record says it
    subscription_id: str = ""  # Huawei subscriptionId, Volcengine SubId, Alibaba sub_id
    x: str = ""
    caller: str = ""
    callee: str = ""
    account: str = ""  # the profile's account the push was accepted for
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False)  # as received (no secrets)

    @property
    def dedupe_key(self) -> str:
        """The key a push delivered twice shares (vendors retry: Huawei up to 6 times)."""
        return f"{self.provider}:{self.call_id}:{self.kind}"


@dataclass(frozen=True)
class Recording:
    """Where a call's recording can be asked for (the link itself is fetched on demand)."""

    provider: str
    call_id: str
    # What the vendor's download-URL call needs: Alibaba CallId, CallTime, PoolKey; Huawei
    # fileName (recordObjectName) and recordDomain; Volcengine CallId.
    locator: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RecordingLink:
    """A recording's download link as the vendor gave it, and when it stops working."""

    url: str = field(repr=False)  # signed: never logged or cached
    expires_at: datetime | None = None  # UTC; None when the vendor does not say
    lifetime: str = ""  # how long the vendor says links live, in words ("2 hours")


@dataclass(frozen=True)
class CallRecord:
    """One call, its events and CDR merged. Field names are what `teledeck get calls` prints."""

    provider: str
    call_id: str
    subscription_id: str = ""
    x: str = ""
    caller: str = ""
    callee: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | None = None
    outcome: str = IN_PROGRESS
    cause_code: str = ""
    cause: str = ""
    recording: Recording | None = None
    binding_key: str = ""  # the ledger key of the binding it was made through, "" when unknown
    events: tuple[CallEvent, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Verdict:
    """A vendor decoder's reading of a call's events: its outcome and cause, and the call's times
    where its CDR states them (a CDR alone, with no events before it, still says when the call
    started, was answered and ended; the CDR's times win over the events')."""

    outcome: str
    cause_code: str = ""
    cause: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None


Decoder = Callable[[Sequence[CallEvent]], Verdict | None]
_DECODERS: dict[str, Decoder] = {}


def register_decoder(provider: str, decoder: Decoder) -> None:
    """The vendor's reading of outcomes and causes (each vendor package registers its own)."""
    _DECODERS[provider] = decoder


def _decoder(provider: str) -> Decoder | None:
    """The decoder registered for `provider`, else its push module's (providers/pushes.py)."""
    if provider not in _DECODERS:
        from providers.pushes import PUSH_MODULES, push_spec

        if provider in PUSH_MODULES:
            _DECODERS[provider] = push_spec(provider).decode
    return _DECODERS.get(provider)


def merge(events: Sequence[CallEvent], *, binding_key: str = "") -> CallRecord:
    """The call that `events` (all of one provider and call_id) tell of. A CDR's values win over
    the events' (the vendors say the events' numbers may not be the real ones)."""
    if not events:
        raise ValueError("merge needs at least one event")
    ordered = sorted(events, key=lambda e: (e.stage == CDR, e.at or e.received_at))
    first = ordered[0]

    def latest(name: str) -> str:
        return next((getattr(e, name) for e in reversed(ordered) if getattr(e, name)), "")

    def when(stage: str) -> datetime | None:
        return next((e.at for e in ordered if e.stage == stage and e.at is not None), None)

    decoder = _decoder(first.provider)
    verdict = decoder(ordered) if decoder is not None else None
    started = when(START) or min((e.at for e in ordered if e.at is not None), default=None)
    answered = when(ANSWER)
    ended = when(END) or when(CDR)
    if verdict is not None:
        started = verdict.started_at or started
        answered = verdict.answered_at or answered
        ended = verdict.ended_at or ended
    else:
        verdict = Verdict(ANSWERED if answered else (FAILED if ended else IN_PROGRESS))
    duration = int((ended - answered).total_seconds()) if answered and ended and ended >= answered else None
    recording = next(
        (
            Recording(e.provider, e.call_id, {k: str(v) for k, v in e.fields.items()})
            for e in ordered
            if e.stage == RECORDING
        ),
        None,
    )
    return CallRecord(
        provider=first.provider,
        call_id=first.call_id,
        subscription_id=latest("subscription_id"),
        x=latest("x"),
        caller=latest("caller"),
        callee=latest("callee"),
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        duration_s=duration,
        outcome=verdict.outcome,
        cause_code=verdict.cause_code,
        cause=verdict.cause,
        recording=recording,
        binding_key=binding_key,
        events=tuple(ordered),
    )
