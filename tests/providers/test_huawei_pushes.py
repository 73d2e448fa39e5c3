"""Huawei PrivateNumber pushes: the X-AKSK check, reading call events and CDRs, decoding causes,
and the sandbox's simulated calls pushing exactly what the receiver checks and reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers import calls
from providers.calls import ANSWER, CDR, END, RECORDING, RING, START, CallEvent, merge
from providers.errors import NotFound, ValidationError
from providers.huawei import pushes
from providers.huawei.auth import aksk_headers, format_created
from providers.huawei.privatenumber import (
    RECORD_LINK_LIFETIME,
    HuaweiBindings,
    HuaweiPrivateNumberClient,
    link_expiry,
)
from providers.huawei.pushes import PUSHES, push_request
from providers.ledger import BindingLedger
from providers.pushes import MalformedPush, NonceBook, PushRefused, PushReply, PushRequest, ReceiverKey, push_spec
from providers.sandbox.http import AsyncInProcessTransport
from providers.sandbox.huawei import (
    AXB_POOLS,
    IN_PROCESS_BASE_URL,
    OUTSIDE_CALLER,
    RECORD_DOMAIN,
    HuaweiError,
    HuaweiSandbox,
)
from providers.transport import RetryPolicy

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RECEIVED = T0 + timedelta(seconds=30)
KEY, SECRET = "a1d1f50cad21415fbdd13d8f53d36d60", "cfc881cc704c4fba8d8fef5788e03e6b"
AX_KEY, AX_SECRET = "axKey0000000000000000000000000001", "axSecret00000000000000000000000001"
FAST = RetryPolicy(max_retries=0, initial_delay=0.001, max_delay=0.002)

# Reference-shaped samples: the CDR of Huawei's developer guide (privatenumber_04_0010) and the
# disconnect event of its Node.js sample, with the masked numbers filled in.
SAMPLE_FEE = {
    "direction": 1,
    "spId": "sp01",
    "appKey": KEY,
    "icid": "ba171f34e6953fcd751edc77127748f4.3757285803.338666679.5",
    "bindNum": "+8613800000022",
    "sessionId": "1200_1827_4294967295_20190124023003@callenabler246.huaweicaas.com",
    "subscriptionId": "sub-1",
    "callerNum": "+8613800000021",
    "calleeNum": "+8613800000022",
    "fwdDisplayNum": "+8613800000022",
    "fwdDstNum": "+8613800007021",
    "callInTime": "2019-01-24 02:30:03",
    "fwdStartTime": "2019-01-24 02:30:03",
    "fwdAlertingTime": "2019-01-24 02:30:04",
    "fwdAnswerTime": "2019-01-24 02:30:06",
    "callEndTime": "2019-01-24 02:30:22",
    "fwdUnaswRsn": 0,
    "ulFailReason": 0,
    "sipStatusCode": 0,
    "callOutUnaswRsn": 0,
    "recordFlag": 1,
    "recordStartTime": "2019-01-24 02:30:06",
    "recordDomain": "record.example.com",
    "recordBucketName": "bucket",
    "recordObjectName": "1200_1827.wav",
    "ttsPlayTimes": 0,
    "ttsTransDuration": 0,
    "mptyId": "m-1",
    "serviceType": "003",
    "hostName": "callenabler246.huaweicaas.com",
}
SAMPLE_DISCONNECT = {
    "eventType": "disconnect",
    "statusInfo": {
        "sessionId": "1202_1051_4294967295_20190124070250@callenabler246.huaweicaas.com",
        "timestamp": "2019-01-24 07:03:28",
        "caller": "+8613800000022",
        "called": "+8613800007021",
        "stateCode": 0,
        "stateDesc": "The user releases the call.",
        "subscriptionId": "sub-2",
    },
}


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def parse(data: object) -> list[CallEvent]:
    return pushes.parse(body(data), received_at=RECEIVED, account="acct")


def fee(**changes: object) -> dict[str, object]:
    return {**SAMPLE_FEE, **changes}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------------------------------------
# The module is the registry's, and the receiver's answer


def test_the_registry_finds_this_module_and_merge_uses_its_decoder() -> None:
    spec = push_spec("huawei")
    assert spec is PUSHES and (spec.provider, spec.route) == ("huawei", "/huawei/events")
    assert calls._decoder("huawei") is pushes.decode
    assert PUSHES.reply([]) == PushReply(200, b"")


# ---------------------------------------------------------------------------------------------
# Reading


def test_a_reference_cdr_is_one_cdr_event_and_one_recording() -> None:
    cdr, recording = parse({"eventType": "fee", "feeLst": [SAMPLE_FEE]})
    assert (cdr.provider, cdr.kind, cdr.stage, cdr.call_id) == ("huawei", "fee", CDR, SAMPLE_FEE["sessionId"])
    assert cdr.at == datetime(2019, 1, 24, 2, 30, 22, tzinfo=UTC)  # callEndTime, read as UTC
    assert (cdr.x, cdr.caller, cdr.callee) == ("+8613800000022", "+8613800000021", "+8613800007021")
    assert (cdr.subscription_id, cdr.account, cdr.received_at) == ("sub-1", "acct", RECEIVED)
    assert dict(cdr.fields) == SAMPLE_FEE  # kept as received
    assert (recording.kind, recording.stage, recording.call_id) == ("recording", RECORDING, cdr.call_id)
    assert dict(recording.fields) == {"fileName": "1200_1827.wav", "recordDomain": "record.example.com", "appKey": KEY}
    assert recording.at == datetime(2019, 1, 24, 2, 30, 6, tzinfo=UTC)


def test_a_cdr_without_a_recording_adds_none_and_failed_calls_end_at_fail_time() -> None:
    (only,) = parse(
        {
            "eventType": "fee",
            "feeLst": [
                fee(recordFlag=0, fwdAnswerTime="", callEndTime="", failTime="2019-01-24 02:30:09", ulFailReason=8102)
            ],
        }
    )
    assert only.stage == CDR and only.at == datetime(2019, 1, 24, 2, 30, 9, tzinfo=UTC)


def test_a_reference_disconnect_event_and_the_other_event_types() -> None:
    (event,) = parse(SAMPLE_DISCONNECT)
    assert (event.kind, event.stage, event.subscription_id) == ("disconnect", END, "sub-2")
    assert event.at == datetime(2019, 1, 24, 7, 3, 28, tzinfo=UTC)
    assert (event.x, event.callee) == ("+8613800000022", "+8613800007021")  # X calling the callee
    assert dict(event.fields) == SAMPLE_DISCONNECT["statusInfo"]
    info = {"sessionId": "s", "timestamp": "2019-01-24 07:03:20", "caller": "+8613800000021", "called": "+86170"}
    (callin,) = parse({"eventType": "callin", "statusInfo": info})
    assert (callin.stage, callin.caller, callin.x, callin.callee) == (START, "+8613800000021", "+86170", "")
    epoch = parse({"eventType": "answer", "statusInfo": {**info, "timestamp": "1548313408000"}})[0]
    assert epoch.at == datetime(2019, 1, 24, 7, 3, 28, tzinfo=UTC)  # Unix milliseconds are read too
    stages = {k: parse({"eventType": k, "statusInfo": info})[0].stage for k in pushes.EVENT_STAGES}
    assert stages == {
        "callin": START,
        "callout": START,
        "collectInfo": START,
        "alerting": RING,
        "answer": ANSWER,
        "disconnect": END,
    }


def test_fifty_cdrs_in_one_push_are_fifty_calls_and_fifty_one_are_refused() -> None:
    many = [fee(sessionId=f"s-{n}", recordFlag=0) for n in range(50)]
    events = parse({"eventType": "fee", "feeLst": many})
    assert [e.call_id for e in events] == [f"s-{n}" for n in range(50)]
    assert len({e.dedupe_key for e in events}) == 50
    with pytest.raises(MalformedPush, match="51 CDRs"):
        parse({"eventType": "fee", "feeLst": [*many, fee(sessionId="s-50")]})


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "no eventType"),
        (body({"eventType": "hangup", "statusInfo": {}}), "unknown eventType 'hangup'"),
        (body({"eventType": "answer"}), "statusInfo"),
        (body({"eventType": "answer", "statusInfo": {"timestamp": "2019-01-24 07:03:28"}}), "no sessionId"),
        (body({"eventType": "answer", "statusInfo": {"sessionId": "s", "timestamp": "24/01/2019"}}), "timestamp"),
        (body({"eventType": "answer", "statusInfo": {"sessionId": 7}}), "sessionId must be text"),
        (body({"eventType": "fee", "feeLst": []}), "1 to 50"),
        (body({"eventType": "fee", "feeLst": {"sessionId": "s"}}), "1 to 50"),
        (body({"eventType": "fee", "feeLst": ["s"]}), "feeLst[0] must be an object"),
        (body({"eventType": "fee", "feeLst": [fee(callEndTime=1548297022)]}), "callEndTime"),
        (body({"eventType": "fee", "feeLst": [fee(recordFlag="yes")]}), "recordFlag must be a number"),
        (b"[" * 100_000, "nest"),
        (body({"eventType": "answer", "statusInfo": {"sessionId": "s" * 257}}), "at most 256"),
        (body({"eventType": "fee", "feeLst": [fee(ulFailReason="9" * 40)]}), "ulFailReason must be a number"),
    ],
)
def test_what_is_not_a_push_is_malformed_and_says_why(raw: bytes, says: str) -> None:
    with pytest.raises(MalformedPush) as caught:
        pushes.parse(raw, received_at=RECEIVED, account="acct")
    assert says in str(caught.value) and "Traceback" not in str(caught.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from([*SAMPLE_FEE, "eventType", "statusInfo", "feeLst", "timestamp", "stateCode"])


@given(
    kind=st.sampled_from([*pushes.EVENT_STAGES, "fee", "other"]),
    changes=st.dictionaries(FIELDS, JSON, max_size=6),
)
def test_any_push_shaped_json_is_read_or_refused_as_malformed_never_an_error(kind: str, changes: dict) -> None:
    if kind == "fee":
        data: object = {"eventType": kind, "feeLst": [{**SAMPLE_FEE, **changes}]}
    else:
        data = {"eventType": kind, "statusInfo": {**SAMPLE_DISCONNECT["statusInfo"], **changes}}
    try:
        events = parse(data)
    except MalformedPush:
        return
    assert pushes.decode(events) is not None and merge(events).outcome in calls.OUTCOMES


# ---------------------------------------------------------------------------------------------
# Decoding


def fee_event(**changes: object) -> CallEvent:
    return parse({"eventType": "fee", "feeLst": [fee(recordFlag=0, **changes)]})[0]


UNANSWERED = {"fwdAnswerTime": "", "callEndTime": "2019-01-24 02:30:20"}


@pytest.mark.parametrize(
    ("changes", "outcome", "code", "words"),
    [
        ({}, calls.ANSWERED, "0", "hung up after the call was answered"),
        ({"ulFailReason": 8010}, calls.ANSWERED, "8010", "maximum call duration"),
        ({"fwdUnaswRsn": 16}, calls.ANSWERED, "Q.850 16", "normal call clearing"),
        ({**UNANSWERED, "ulFailReason": 8014, "direction": 2}, calls.NO_BINDING, "8014", "no binding"),
        ({**UNANSWERED, "direction": 2}, calls.NO_BINDING, "direction 2", "no binding"),
        ({**UNANSWERED, "fwdUnaswRsn": 17, "ulFailReason": 8102}, calls.BUSY, "Q.850 17", "user busy"),
        ({**UNANSWERED, "fwdUnaswRsn": 18}, calls.NO_ANSWER, "Q.850 18", "no user responding"),
        ({**UNANSWERED, "fwdUnaswRsn": 19}, calls.NO_ANSWER, "Q.850 19", "no answer from user"),
        ({**UNANSWERED, "fwdUnaswRsn": 21}, calls.REJECTED, "Q.850 21", "call rejected"),
        ({**UNANSWERED, "fwdUnaswRsn": 16}, calls.NO_ANSWER, "Q.850 16", "normal call clearing"),
        ({**UNANSWERED, "fwdUnaswRsn": 1}, calls.FAILED, "Q.850 1", "unallocated"),
        ({**UNANSWERED, "fwdUnaswRsn": 34}, calls.FAILED, "Q.850 34", "no circuit"),
        ({**UNANSWERED, "ulFailReason": 7004, "fwdUnaswRsn": 21}, calls.BLOCKED, "7004", "blacklist"),
        ({**UNANSWERED, "ulFailReason": 8102}, calls.BUSY, "8102", "busy"),
        ({**UNANSWERED, "ulFailReason": 8104}, calls.FAILED, "8104", "phone is off"),
        ({**UNANSWERED, "ulFailReason": 8016}, calls.BLOCKED, "8016", "call direction"),
        ({**UNANSWERED, "ulFailReason": 9999}, calls.FAILED, "9999", "not in Huawei's published table"),
        ({**UNANSWERED, "sipStatusCode": 486}, calls.BUSY, "SIP 486", "busy here"),
        ({**UNANSWERED, "sipStatusCode": 603}, calls.REJECTED, "SIP 603", "declined"),
        ({**UNANSWERED, "ulFailReason": "8014"}, calls.NO_BINDING, "8014", "no binding"),  # a quoted code
        (UNANSWERED, calls.FAILED, "", "no cause"),
    ],
)
def test_a_cdr_decodes_to_its_outcome_and_cause_in_words(
    changes: dict[str, object], outcome: str, code: str, words: str
) -> None:
    verdict = pushes.decode([fee_event(**changes)])
    assert verdict is not None
    assert (verdict.outcome, verdict.cause_code) == (outcome, code)
    assert words in verdict.cause


def test_the_tables_cover_the_common_causes_in_words() -> None:
    for code in (1, 16, 17, 18, 19, 20, 21, 22, 27, 28, 31, 34, 38, 41, 42, 47, 127):
        assert pushes.Q850[code][1] and not pushes.Q850[code][1][0].isdigit()
    assert pushes.TEAR_DOWN[8014][0] == calls.NO_BINDING and pushes.TEAR_DOWN[0][0] == calls.ANSWERED
    assert all(outcome in calls.OUTCOMES for outcome, _ in [*pushes.TEAR_DOWN.values(), *pushes.Q850.values()])


def event(kind: str, seconds: int, **info: object) -> CallEvent:
    status = {"sessionId": "s-1", "timestamp": (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")}
    return parse({"eventType": kind, "statusInfo": {**status, **info}})[0]


def test_a_call_with_no_cdr_yet_is_decoded_from_its_events() -> None:
    ringing = [event("callin", 0), event("callout", 1), event("alerting", 2)]
    assert pushes.decode(ringing) == calls.Verdict(calls.IN_PROGRESS, "", "ringing, no end yet")
    talking = merge([*ringing, event("answer", 5)])
    assert (talking.outcome, talking.cause) == (calls.IN_PROGRESS, "talking, no end yet")
    hung_up = merge([*ringing, event("answer", 5), event("disconnect", 65, stateCode=0, stateDesc="Released.")])
    assert (hung_up.outcome, hung_up.cause_code, hung_up.cause, hung_up.duration_s) == (
        calls.ANSWERED,
        "0",
        "Released.",
        60,
    )
    unbound = merge([event("callin", 0), event("disconnect", 2, stateCode=8014, stateDesc="Invalid AXB call.")])
    assert (unbound.outcome, unbound.cause_code) == (calls.NO_BINDING, "8014")
    busy = merge([*ringing[:2], event("disconnect", 3, stateCode=8102)])
    assert (busy.outcome, busy.cause) == (calls.BUSY, "the callee is busy")


def test_the_cdr_wins_over_the_events() -> None:
    events = [event("callin", 0), event("disconnect", 3, stateCode=8102), fee_event(**UNANSWERED, fwdUnaswRsn=19)]
    record = merge(events)
    assert (record.outcome, record.cause_code) == (calls.NO_ANSWER, "Q.850 19")


# ---------------------------------------------------------------------------------------------
# Authentication

KEYS = [
    ReceiverKey("other", {"app_key": "someoneElse000000000000000000001", "app_secret": "s" * 32}),
    ReceiverKey("shop", {"app_key": KEY, "app_secret": SECRET, "ax_app_key": AX_KEY, "ax_app_secret": AX_SECRET}),
]
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def signed(key: str = KEY, secret: str = SECRET, *, created: datetime = NOW, nonce: str = "n0nce1") -> PushRequest:
    return push_request(SAMPLE_DISCONNECT, key, secret, created=format_created(created), nonce=nonce)


def refusal(request: PushRequest, book: NonceBook | None = None) -> str:
    with pytest.raises(PushRefused) as caught:
        pushes.authenticate(request, KEYS, now=NOW, nonces=book or NonceBook())
    text = str(caught.value)
    digest = request.header("x-aksk").partition('PasswordDigest="')[2][:44]
    assert SECRET not in text and (not digest or digest not in text)
    return text


def test_a_push_signed_with_one_of_the_profiles_app_keys_is_taken_for_its_account() -> None:
    book = NonceBook()
    assert pushes.authenticate(signed(), KEYS, now=NOW, nonces=book).account == "shop"
    # the optional AX app's pair is the same account's
    assert pushes.authenticate(signed(AX_KEY, AX_SECRET), KEYS, now=NOW, nonces=book).account == "shop"
    # the platform may leave Authorization out; X-AKSK alone is checked
    bare = signed(nonce="n0nce2")
    bare = PushRequest(bare.route, bare.body, headers={"x-aksk": bare.header("x-aksk")})
    assert pushes.authenticate(bare, KEYS, now=NOW, nonces=book).account == "shop"
    # a Created within the skew either way is fresh
    late = signed(created=NOW - timedelta(seconds=290), nonce="n0nce3")
    assert pushes.authenticate(late, KEYS, now=NOW, nonces=book).account == "shop"


def test_a_push_failing_a_check_is_refused_naming_the_check() -> None:
    assert "wrong digest" in refusal(signed(secret="not-the-secret"))
    assert "unknown app key" in refusal(signed(key="noSuchKey"))
    assert "stale Created" in refusal(signed(created=NOW - timedelta(seconds=301)))
    assert "stale Created" in refusal(signed(created=NOW + timedelta(hours=8)))  # Beijing time sent as UTC
    no_header = PushRequest("/huawei/events", signed().body, headers={"content-type": pushes.CONTENT_TYPE})
    assert "missing X-AKSK header" in refusal(no_header)
    garbled = PushRequest("/huawei/events", b"{}", headers={"x-aksk": "UsernameToken Username=oops"})
    assert "malformed X-AKSK" in refusal(garbled)


def test_a_replayed_push_is_refused_per_app_key() -> None:
    book = NonceBook()
    pushes.authenticate(signed(), KEYS, now=NOW, nonces=book)
    assert "nonce reused" in refusal(signed(), book)
    # the same nonce from another app is another push
    assert pushes.authenticate(signed(AX_KEY, AX_SECRET), KEYS, now=NOW, nonces=book).account == "shop"


# ---------------------------------------------------------------------------------------------
# The sandbox's simulated calls


@pytest.fixture
def clock() -> Clock:
    return Clock(T0.timestamp())


@pytest.fixture
def sandbox(clock: Clock) -> HuaweiSandbox:
    return HuaweiSandbox(clock=clock)


def sandbox_keys(sandbox: HuaweiSandbox) -> list[ReceiverKey]:
    return [ReceiverKey("sandbox", sandbox.session_account().credentials)]


def receive(sandbox: HuaweiSandbox, request: PushRequest, book: NonceBook) -> list[CallEvent]:
    """What a receiver does with one push: check it, then read it."""
    now = datetime.fromtimestamp(sandbox.clock(), UTC)
    key = pushes.authenticate(request, sandbox_keys(sandbox), now=now, nonces=book)
    return pushes.parse(request.body, received_at=now, account=key.account)


def binding_id(sandbox: HuaweiSandbox, kind: str, index: int = 0) -> str:
    return str(sandbox.state[kind][index]["subscriptionId"])


@pytest.mark.parametrize(
    ("outcome", "kinds", "code", "cause"),
    [
        ("answered", ["callin", "callout", "alerting", "answer", "disconnect", "fee", "recording"], "0", "answered"),
        ("busy", ["callin", "callout", "disconnect", "fee"], "Q.850 17", "user busy"),
        ("no answer", ["callin", "callout", "alerting", "disconnect", "fee"], "Q.850 19", "no answer from user"),
    ],
)
def test_each_simulated_outcome_pushes_signed_events_and_a_cdr_that_merge_to_it(
    sandbox: HuaweiSandbox, clock: Clock, outcome: str, kinds: list[str], code: str, cause: str
) -> None:
    sid = binding_id(sandbox, "axb")  # the first seeded AXB binding records its calls
    simulated = sandbox.simulate_call(outcome=outcome, binding_id=sid)
    book = NonceBook()
    events = [e for push in simulated.pushes for e in receive(sandbox, push, book)]
    assert [e.kind for e in events] == kinds and all(p.route == "/huawei/events" for p in simulated.pushes)
    record = merge(events)
    assert (record.outcome, record.cause_code) == (outcome, code) and cause in record.cause
    seeded = sandbox.state["axb"][0]
    assert (record.call_id, record.subscription_id, record.x) == (simulated.call_id, sid, seeded["relationNum"])
    assert (record.caller, record.callee) == (seeded["callerNum"], seeded["calleeNum"])
    assert record.ended_at == T0  # the call ends at the emulator clock's now
    assert record.started_at is not None and record.started_at < T0
    assert (simulated.binding_id, simulated.x, simulated.outcome) == (sid, seeded["relationNum"], outcome)
    if outcome == "answered":
        assert record.duration_s == 95 and record.recording is not None
    else:
        assert record.answered_at is None and record.recording is None


def test_a_call_to_an_x_without_a_binding_is_no_binding(sandbox: HuaweiSandbox) -> None:
    simulated = sandbox.simulate_call(outcome="no binding")
    bound = {r["relationNum"] for r in sandbox.state["axb"]}
    assert simulated.x in AXB_POOLS["010"] and simulated.x not in bound and simulated.binding_id == ""
    book = NonceBook()
    events = [e for push in simulated.pushes for e in receive(sandbox, push, book)]
    (cdr,) = (e for e in events if e.kind == "fee")
    assert cdr.fields["direction"] == 2 and "subscriptionId" not in cdr.fields and cdr.subscription_id == ""
    record = merge(events)
    assert (record.outcome, record.cause_code, record.x, record.caller) == (
        calls.NO_BINDING,
        "8014",
        simulated.x,
        OUTSIDE_CALLER,
    )
    assert "no binding" in record.cause
    chosen = sandbox.simulate_call(outcome="no binding", x=AXB_POOLS["0571"][0])
    assert chosen.x == AXB_POOLS["0571"][0]
    with pytest.raises(HuaweiError) as caught:  # an X with a binding cannot be called "unbound"
        sandbox.simulate_call(outcome="no binding", x=AXB_POOLS["0755"][0])
    assert caught.value.code == "1010002" and "x" in caught.value.desc


@pytest.mark.parametrize(("kind", "mode"), [("ax", "AX"), ("axe", "AXE"), ("axyb", "AXYB")])
def test_every_mode_signs_with_its_own_app(sandbox: HuaweiSandbox, kind: str, mode: str) -> None:
    simulated = sandbox.simulate_call(outcome="busy", binding_id=binding_id(sandbox, kind))
    app_key = next(key for key, app in sandbox.apps.items() if app[0] == mode)
    assert all(f'Username="{app_key}"' in p.header("x-aksk") for p in simulated.pushes)
    book = NonceBook()
    events = [e for push in simulated.pushes for e in receive(sandbox, push, book)]
    assert merge(events).outcome == calls.BUSY
    # only that app's pair opens it: a profile with the AXB app alone refuses it
    axb_only = [ReceiverKey("axb", {"app_key": sandbox.app_key, "app_secret": sandbox.app_secret})]
    with pytest.raises(PushRefused, match="unknown app key"):
        pushes.authenticate(simulated.pushes[0], axb_only, now=T0, nonces=NonceBook())


def test_unknown_bindings_and_outcomes_are_refused_as_the_vendor_would(sandbox: HuaweiSandbox, clock: Clock) -> None:
    with pytest.raises(HuaweiError) as caught:
        sandbox.simulate_call(outcome="busy", binding_id="no-such-binding")
    assert caught.value.code == "1012007"
    with pytest.raises(HuaweiError) as caught:
        sandbox.simulate_call(outcome="dropped", binding_id=binding_id(sandbox, "axb"))
    assert "outcome" in caught.value.desc
    soon = sandbox.state["axb"][3]  # about 2 minutes left
    clock.now += 600
    with pytest.raises(HuaweiError):  # expired meanwhile: gone, as on the platform
        sandbox.simulate_call(outcome="answered", binding_id=soon["subscriptionId"])


def signed_control(sandbox: HuaweiSandbox, clock: Clock) -> dict[str, str]:
    return aksk_headers(sandbox.app_key, sandbox.app_secret, clock=clock)


async def test_the_calls_control_endpoint_delivers_each_push_to_the_receiver(
    sandbox: HuaweiSandbox, clock: Clock
) -> None:
    book, taken = NonceBook(), []

    def receiver(push: PushRequest) -> PushReply:
        taken.extend(receive(sandbox, push, book))
        return PUSHES.reply(taken)

    sandbox.push_sink = receiver
    sid = binding_id(sandbox, "axb", 1)
    async with httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox), base_url=IN_PROCESS_BASE_URL) as http:
        answer = await http.post(
            "/_sandbox/calls", json={"outcome": "busy", "binding_id": sid}, headers=signed_control(sandbox, clock)
        )
        assert answer.status_code == 200
        report = answer.json()
        assert (report["resultcode"], report["outcome"], report["binding_id"]) == ("0", "busy", sid)
        assert [p["status"] for p in report["pushes"]] == [200, 200, 200, 200]
        assert merge(taken).outcome == calls.BUSY and merge(taken).call_id == report["call_id"]
        unbound = await http.post(
            "/_sandbox/calls", json={"outcome": "no binding", "x": ""}, headers=signed_control(sandbox, clock)
        )
        assert unbound.status_code == 200 and unbound.json()["binding_id"] == ""
        unknown = await http.post(
            "/_sandbox/calls", json={"outcome": "busy", "binding_id": "nope"}, headers=signed_control(sandbox, clock)
        )
        assert unknown.status_code == 403 and unknown.json()["resultcode"] == "1012007"
        bad = await http.post("/_sandbox/calls", json={"outcome": "dropped"}, headers=signed_control(sandbox, clock))
        assert bad.status_code == 400 and "a call needs an outcome" in bad.json()["resultdesc"]
        assert "fault" not in bad.json()["resultdesc"]
        unsigned = await http.post("/_sandbox/calls", json={"outcome": "busy", "binding_id": sid})
        assert unsigned.status_code == 400
    sandbox.push_sink = None
    lost = sandbox.place_call(outcome="busy", binding_id=sid)[1]
    assert [d.status for d in lost] == [None] * 4 and "no receiver" in lost[0].detail


# ---------------------------------------------------------------------------------------------
# Recording links


async def test_a_simulated_recorded_call_gives_a_link_that_expires_in_three_days(
    sandbox: HuaweiSandbox, clock: Clock
) -> None:
    simulated = sandbox.simulate_call(outcome="answered", binding_id=binding_id(sandbox, "axb"))
    book = NonceBook()
    record = merge([e for push in simulated.pushes for e in receive(sandbox, push, book)])
    assert record.recording is not None and record.recording.locator["recordDomain"] == RECORD_DOMAIN
    wire = AsyncInProcessTransport(sandbox)
    client = HuaweiPrivateNumberClient(
        sandbox.app_key, sandbox.app_secret, base_url=IN_PROCESS_BASE_URL, http_transport=wire, retry=FAST, clock=clock
    )
    ax = HuaweiPrivateNumberClient(
        sandbox.ax_app_key, sandbox.ax_app_secret, base_url=IN_PROCESS_BASE_URL, http_transport=wire, clock=clock
    )
    provider = HuaweiBindings(axb=client, ax=ax, account="sandbox", clock=clock)
    clock.now += 3600
    link = await provider.recording_link(record.recording)
    assert link.url.startswith(f"https://{RECORD_DOMAIN}/{record.recording.locator['fileName']}?")
    assert link.expires_at == T0 + timedelta(hours=1) + timedelta(days=3)
    assert link.lifetime == RECORD_LINK_LIFETIME and "3 days" in link.lifetime
    assert wire.requests_seen == 1  # the redirect was not followed
    assert "url" not in repr(link)
    clock.now += 8 * 86400  # past the 7-day retention
    with pytest.raises(NotFound) as gone:
        await provider.recording_link(record.recording)
    assert gone.value.code == "1012007"
    with pytest.raises(ValidationError) as unnamed:
        await provider.recording_link(calls.Recording("huawei", "s", {}))
    assert "recording" in str(unnamed.value)
    await provider.aclose()


async def test_a_recorded_call_in_the_ledger_keeps_what_its_link_needs(
    sandbox: HuaweiSandbox, clock: Clock, tmp_path: Path
) -> None:
    simulated = sandbox.simulate_call(outcome="answered", binding_id=binding_id(sandbox, "axb"))
    book = NonceBook()
    events = [e for push in simulated.pushes for e in receive(sandbox, push, book)]
    with BindingLedger(tmp_path / "ledger.db", clock=lambda: T0) as ledger:
        assert ledger.add_call_events(events) == len(events)
        assert ledger.add_call_events(events) == 0  # the platform's retries are stored once
        (stored,) = ledger.calls(provider="huawei")
    assert (stored.outcome, stored.cause_code, stored.duration_s) == (calls.ANSWERED, "0", 95)
    assert stored.recording is not None
    client = HuaweiPrivateNumberClient(
        sandbox.app_key,
        sandbox.app_secret,
        base_url=IN_PROCESS_BASE_URL,
        http_transport=AsyncInProcessTransport(sandbox),
        clock=clock,
    )
    provider = HuaweiBindings(axb=client, account="sandbox", clock=clock)
    link = await provider.recording_link(stored.recording)
    assert stored.recording.locator["fileName"] in link.url and link.expires_at == T0 + timedelta(days=3)
    await provider.aclose()


def test_link_expiry_reads_the_signed_urls_expiry_when_it_says_one() -> None:
    assert link_expiry("https://obs.example.com/a.wav?AccessKeyId=K&Expires=1767225600&Signature=S") == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    v4 = "https://obs.example.com/a.wav?X-Amz-Date=20260101T000000Z&X-Amz-Expires=259200&X-Amz-Signature=S"
    assert link_expiry(v4) == datetime(2026, 1, 4, tzinfo=UTC)
    assert link_expiry("https://obs.example.com/a.wav") is None
    assert link_expiry("https://obs.example.com/a.wav?Expires=soon") is None


def test_a_cdr_alone_says_when_the_call_started_was_answered_and_ended():
    # Huawei sends CDRs to their own URL; an app may subscribe to no call events at all.
    (cdr,) = [e for e in parse({"eventType": "fee", "feeLst": [fee(recordFlag=0)]}) if e.stage == CDR]
    call = merge([cdr])
    assert (call.started_at, call.answered_at, call.ended_at) == (
        datetime(2019, 1, 24, 2, 30, 3, tzinfo=UTC),
        datetime(2019, 1, 24, 2, 30, 6, tzinfo=UTC),
        datetime(2019, 1, 24, 2, 30, 22, tzinfo=UTC),
    )
    assert (call.outcome, call.duration_s) == (calls.ANSWERED, 16)
    (unanswered,) = parse({"eventType": "fee", "feeLst": [fee(recordFlag=0, fwdAnswerTime="", fwdUnaswRsn=17)]})
    busy = merge([unanswered])
    assert (busy.outcome, busy.answered_at, busy.duration_s) == (calls.BUSY, None, None)
    assert busy.started_at == datetime(2019, 1, 24, 2, 30, 3, tzinfo=UTC)
