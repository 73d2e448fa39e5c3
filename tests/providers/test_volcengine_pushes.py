"""Volcengine callbacks: the authCode check (the docs' worked example), reading the three message
types, decoding callResult, and the sandbox's simulated calls through the same checks, over
POST /_sandbox/calls, and to a recording link."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers import calls
from providers.calls import ANSWER, CDR, END, RECORDING, RING, START, CallEvent, Recording, merge
from providers.pushes import MalformedPush, NonceBook, PushRefused, PushReply, PushRequest, ReceiverKey, push_spec
from providers.sandbox.http import AsyncInProcessTransport
from providers.sandbox.volcengine import (
    CALLBACK_TOKEN_ENV,
    DEFAULT_CALLBACK_TOKEN,
    DEFAULT_NUMBER_POOL_NO,
    IN_PROCESS_ENDPOINT,
    VolcError,
    VolcSandbox,
)
from providers.volcengine import pushes, signing
from providers.volcengine.pushes import CALL_RESULTS, PUSHES, auth_code, authenticate, decode, parse, sign
from providers.volcengine.vms import VmsClient, VolcBindings, lifetime_words, link_expiry

T0 = 1767600000.0  # 2026-01-05T08:00:00Z
NOW = datetime.fromtimestamp(T0, UTC)
TOKEN = "teledeckToken01"
KEY = ReceiverKey("volc-prod", {"callback_auth_token": TOKEN})

# The docs' worked example (volcengine.com/docs/6358/173362), byte for byte.
DOC_BODY = b'{"callId":"abcdefg","accountId":"123456789"}'
DOC_TIMESTAMP = "1622539884"
DOC_TOKEN = "8D202AC288"
DOC_AUTH_CODE = "8090de7b7bab3d9e626280f635a60a8453d2ba75403f13aac3f4d5dccf6c2264"

# Samples in the documented shapes (6358/187779 status, 6358/173380 CDR, 6358/187780 recording).
STATUS = {
    "accountId": "000000001",
    "callId": "NM20010115474511150001012500007a8c",
    "serviceType": 200,
    "caller": "13100001111",
    "callee": "13100002222",
    "eventTime": "1607588903",
    "allEventType": [1, 2, 3, 4],
    "eventType": 2,
    "phoneNoX": "13100003333",
    "phoneNoA": "13100001111",
    "phoneNoB": "13100002222",
    "messageType": 1,
    "userData": "order-7",
    "subscriptionId": "S16835274297570c8802a6",
}
RECORD = {
    "accountId": "1",
    "callId": "NM20010115474511150001012500007a8c",
    "serviceType": 200,
    "subServiceType": 201,
    "numberPoolNo": "NP160102116501911493",
    "caller": "13100001111",
    "callee": "13100002222",
    "beginCallTime": 1607588903000,
    "ringTime": 1607588905000,
    "startTime": 0,
    "endTime": 1607588933000,
    "releaseType": 1,
    "callDuration": 0,
    "callResult": 7,
    "audioRecordFlag": 0,
    "cdrCreateTime": 1607588934000,
    "userData": "",
    "subscriptionId": "S16835274297570c8802a6",
    "phoneNoX": "13100003333",
    "phoneNoA": "13100001111",
    "phoneNoB": "13100002222",
    "secretCallType": 11,
    "messageType": 2,
}
RECORDING_MESSAGE = {
    "accountId": "2000000001",
    "callId": "NM20010115474511150001012500007a8c",
    "serviceType": 200,
    "audioRecordUrl": "https://xx/xx/S1111111021.wav?X-Tos-Signature=abc",
    "audioRecordLeftUrl": "https://xx/xx/S1111111021_l.wav",
    "audioRecordRightUrl": "https://xx/xx/S1111111021_r.wav",
    "messageType": 3,
    "audioRecordModel": 3,
    "userData": "",
}


def body_of(message: object) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


def push(body: bytes, *, token: str = TOKEN, at: float = T0, query: dict[str, str] | None = None) -> PushRequest:
    return PushRequest(
        pushes.ROUTE,
        body,
        query=sign(body, token, timestamp=int(at)) if query is None else query,
        headers={"content-type": "application/json"},
    )


def events_of(message: object, account: str = "volc-prod") -> list[CallEvent]:
    return parse(body_of(message), received_at=NOW, account=account)


# ---------------------------------------------------------------------------------------------
# The authCode


def test_the_docs_worked_example_reproduces_exactly():
    assert auth_code(DOC_TIMESTAMP, DOC_BODY, DOC_TOKEN) == DOC_AUTH_CODE
    request = PushRequest(pushes.ROUTE, DOC_BODY, query={"timestamp": DOC_TIMESTAMP, "authCode": DOC_AUTH_CODE})
    key = ReceiverKey("doc", {"callback_auth_token": DOC_TOKEN})
    at = datetime.fromtimestamp(int(DOC_TIMESTAMP) + 30, UTC)
    assert authenticate(request, [key], now=at, nonces=NonceBook()) is key
    assert sign(DOC_BODY, DOC_TOKEN, timestamp=int(DOC_TIMESTAMP)) == {
        "timestamp": DOC_TIMESTAMP,
        "authCode": DOC_AUTH_CODE,
    }


def test_a_good_callback_names_the_account_whose_token_signed_it():
    other = ReceiverKey("volc-other", {"callback_auth_token": "anotherToken9"})
    nameless = ReceiverKey("volc-no-token", {"access_key_id": "AK"})
    request = push(body_of(STATUS))
    assert authenticate(request, [nameless, other, KEY], now=NOW, nonces=NonceBook()) is KEY
    upper = push(request.body, query={**request.query, "authCode": request.query["authCode"].upper()})
    assert authenticate(upper, [KEY], now=NOW, nonces=NonceBook()) is KEY  # hex is hex, in either case


def refusal(request: PushRequest, keys=(KEY,), *, now: datetime = NOW, nonces: NonceBook | None = None) -> str:
    with pytest.raises(PushRefused) as refused:
        authenticate(request, list(keys), now=now, nonces=nonces or NonceBook())
    reason = str(refused.value)
    assert TOKEN not in reason and "anotherToken9" not in reason
    return reason


def test_a_wrong_token_or_an_altered_body_is_refused():
    assert "matches no account's callback_auth_token" in refusal(push(body_of(STATUS), token="notTheToken1"))
    signed = push(body_of(STATUS))
    altered = PushRequest(pushes.ROUTE, signed.body.replace(b"order-7", b"order-8"), query=signed.query)
    assert "matches no account's callback_auth_token" in refusal(altered)


def test_a_stale_or_future_timestamp_is_refused():
    assert "+301 s from the receiver's clock" in refusal(push(body_of(STATUS), at=T0 - 301))
    assert "-301 s from the receiver's clock" in refusal(push(body_of(STATUS), at=T0 + 301))
    for edge in (T0 - 300, T0 + 300):  # the window's edges are inside it
        assert authenticate(push(body_of(STATUS), at=edge), [KEY], now=NOW, nonces=NonceBook()) is KEY


def test_a_replay_within_the_window_is_refused_and_a_new_signature_is_not():
    book = NonceBook()
    request = push(body_of(STATUS))
    assert authenticate(request, [KEY], now=NOW, nonces=book) is KEY
    assert "a replay" in refusal(request, now=NOW + timedelta(seconds=5), nonces=book)
    resent = push(request.body, at=T0 + 10)  # Volcengine re-sending: a new timestamp, a new authCode
    assert authenticate(resent, [KEY], now=NOW + timedelta(seconds=10), nonces=book) is KEY


def test_missing_or_unreadable_parameters_are_refused_by_name():
    good = push(body_of(STATUS)).query
    assert "no timestamp and no authCode" in refusal(push(b"{}", query={}))
    assert "no authCode" in refusal(push(b"{}", query={"timestamp": good["timestamp"]}))
    assert "no timestamp" in refusal(push(b"{}", query={"authCode": good["authCode"]}))
    assert "not Unix seconds" in refusal(push(b"{}", query={**good, "timestamp": "2026-01-05"}))
    assert "not a hex SHA-256" in refusal(push(b"{}", query={**good, "authCode": "xyz"}))
    assert "no Volcengine account" in refusal(push(body_of(STATUS)), keys=[ReceiverKey("a", {})])


# ---------------------------------------------------------------------------------------------
# Reading the three message types


def test_a_status_message_is_one_event_per_state():
    (ringing,) = events_of(STATUS)
    assert (ringing.kind, ringing.stage, ringing.at) == (
        "call status: ringing",
        RING,
        datetime(2020, 12, 10, 8, 28, 23, tzinfo=UTC),
    )
    assert (ringing.call_id, ringing.subscription_id, ringing.x) == (
        STATUS["callId"],
        STATUS["subscriptionId"],
        "13100003333",
    )
    assert (ringing.caller, ringing.callee, ringing.account) == ("13100001111", "13100002222", "volc-prod")
    assert ringing.fields["userData"] == "order-7" and ringing.provider == "volcengine"
    stages = {events_of({**STATUS, "eventType": n})[0].stage for n in (1, 2, 3, 4)}
    assert stages == {START, RING, ANSWER, END}
    kinds = {events_of({**STATUS, "eventType": n})[0].dedupe_key for n in (1, 2, 3, 4)}
    assert len(kinds) == 4, "each state is its own event, so a re-sent state is stored once"


def test_a_call_record_is_the_cdr_with_times_in_milliseconds():
    (record,) = events_of(RECORD)
    assert (record.kind, record.stage) == ("call record", CDR)
    assert record.at == datetime.fromtimestamp(1607588933, UTC)  # endTime
    assert record.fields["callResult"] == 7 and record.fields["releaseType"] == 1
    assert (record.caller, record.callee) == ("13100001111", "13100002222")
    no_end = events_of({**RECORD, "endTime": None})[0]
    assert no_end.at == datetime.fromtimestamp(1607588934, UTC)  # cdrCreateTime
    partless = events_of({**RECORD, "caller": "", "callee": "", "secretCallType": 10})[0]
    assert (partless.caller, partless.callee) == ("13100002222", "13100001111"), "10 is B calling A"


def test_a_recording_message_keeps_its_call_id_not_its_links():
    (recording,) = events_of(RECORDING_MESSAGE)
    assert (recording.kind, recording.stage, recording.at) == ("call recording", RECORDING, None)
    assert recording.fields["callId"] == RECORDING_MESSAGE["callId"]
    assert not any("Url" in name for name in recording.fields)
    assert "X-Tos-Signature" not in json.dumps(dict(recording.fields))


def test_a_list_of_messages_is_read_too():
    found = parse(body_of([STATUS, RECORD, RECORDING_MESSAGE]), received_at=NOW, account="a")
    assert [e.stage for e in found] == [RING, CDR, RECORDING]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON"),
        (b"[]", "empty list"),
        (b'"text"', "not a JSON object"),
        (b"[1]", "not a JSON object"),
        (body_of({"callId": "c1"}), "no messageType"),
        (body_of({"messageType": 1, "eventType": 1}), "no callId"),
        (body_of({"messageType": 9, "callId": "c1"}), "messageType 9 is not a call message"),
        (body_of({**STATUS, "eventType": 7}), "eventType is 7"),
        (body_of({**STATUS, "eventType": None}), "eventType is None"),
        (body_of({**STATUS, "eventTime": "yesterday"}), "eventTime is not a whole number"),
        (body_of({**STATUS, "eventTime": -5}), "eventTime is before 1970"),
        (body_of({**STATUS, "messageType": "status"}), "messageType is not a whole number"),
        (body_of({**STATUS, "caller": {"n": 1}}), "caller is not text"),
        (body_of({**STATUS, "phoneNoX": True}), "phoneNoX is not text"),
        (body_of({**STATUS, "callId": "x" * 129}), "callId is not an id"),
        (body_of({**STATUS, "callId": "a\x1bb"}), "callId is not an id"),
        (body_of({**RECORD, "callResult": "busy"}), "callResult is not a whole number"),
        (body_of({**RECORD, "endTime": 10**30}), "endTime is not a time"),
        (b"[" * 100 + b"]" * 100, "nested deeper"),
    ],
)
def test_malformed_callbacks_say_why(body, why):
    with pytest.raises(MalformedPush, match=why):
        parse(body, received_at=NOW, account="a")


# ---------------------------------------------------------------------------------------------
# Outcomes


def cdr(result: int | None, **extra: object) -> CallEvent:
    fields = {**RECORD, **extra}
    if result is None:
        fields.pop("callResult")
    else:
        fields["callResult"] = result
    return events_of(fields)[0]


@pytest.mark.parametrize(
    ("result", "outcome", "cause"),
    [
        (1, calls.ANSWERED, "answered"),
        (8, calls.BUSY, "callee busy"),
        (7, calls.NO_ANSWER, "rang, nobody answered"),
        (5, calls.NO_ANSWER, "caller hung up before the answer"),
        (22, calls.NO_ANSWER, "callee rang and hung up, or did not pick up in time"),
        (9, calls.REJECTED, "callee rejected the call"),
        (13, calls.NO_BINDING, "no binding on this X number"),
        (23, calls.BLOCKED, "A calling B: B barred by Volcengine risk control"),
        (29, calls.BLOCKED, "callee is blacklisted"),
        (4, calls.FAILED, "callee's number does not exist"),
        (-1, calls.FAILED, "other (Volcengine matched no cause)"),
        (99, calls.FAILED, "callResult 99 (not in Volcengine's table)"),
    ],
)
def test_call_result_decodes_to_an_outcome_and_cause(result, outcome, cause):
    verdict = decode([cdr(result)])
    assert (verdict.outcome, verdict.cause_code, verdict.cause) == (outcome, str(result), cause)


def test_the_decode_table_covers_the_documented_codes_with_known_outcomes():
    assert set(CALL_RESULTS) == {*range(1, 38), -1}
    assert {outcome for outcome, _ in CALL_RESULTS.values()} <= set(calls.OUTCOMES)


def test_without_a_call_result_the_record_and_the_states_say_what_they_can():
    assert decode([cdr(None, callDuration=30)]).outcome == calls.ANSWERED
    assert decode([cdr(None)]).cause == "the call record has no callResult"
    connected = events_of({**STATUS, "eventType": 3})
    ended = events_of({**STATUS, "eventType": 4})
    assert decode(connected + ended).outcome == calls.ANSWERED
    assert decode(ended).outcome == calls.FAILED and "call record will say why" in decode(ended).cause
    assert decode(events_of(STATUS)) is None  # ringing: still in progress


def test_the_push_module_is_registered_and_merge_uses_its_decoder():
    assert push_spec("volcengine") is PUSHES
    assert (PUSHES.route, PUSHES.receive_credentials) == ("/volcengine/callback", ("callback_auth_token",))
    record = merge([cdr(13)])
    assert (record.outcome, record.cause_code, record.cause) == (calls.NO_BINDING, "13", "no binding on this X number")


def test_the_reply_is_a_200_with_a_small_json_body():
    answer = PUSHES.reply(events_of(STATUS))
    assert isinstance(answer, PushReply) and answer.status == 200 and answer.content_type == "application/json"
    assert json.loads(answer.body) == {"code": 0, "message": "ok"}


# ---------------------------------------------------------------------------------------------
# The sandbox's simulated calls, through the receiver's checks


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox() -> VolcSandbox:
    return VolcSandbox(clock=Clock())


def sandbox_key(sandbox: VolcSandbox) -> ReceiverKey:
    return ReceiverKey("sandbox", {"callback_auth_token": sandbox.session_account().credentials["callback_auth_token"]})


def receive(sandbox: VolcSandbox, requests, *, book: NonceBook | None = None) -> list[CallEvent]:
    """What a receiver holding the sandbox account's token takes from `requests`."""
    book = book or NonceBook()
    taken = []
    for request in requests:
        assert request.route == PUSHES.route
        key = authenticate(request, [sandbox_key(sandbox)], now=NOW, nonces=book)
        taken.extend(parse(request.body, received_at=NOW, account=key.account))
    return taken


def sub_where(sandbox: VolcSandbox, **wanted: object) -> dict:
    return next(s for s in sandbox.state["subscriptions"] if all(s[k] == v for k, v in wanted.items()))


@pytest.mark.parametrize(
    ("outcome", "kinds", "result"),
    [
        ("answered", ["started", "ringing", "connected", "ended"], "1"),
        ("busy", ["started", "ended"], "8"),
        ("no answer", ["started", "ringing", "ended"], "7"),
    ],
)
def test_each_simulated_outcome_arrives_signed_and_merges_to_itself(sandbox, outcome, kinds, result):
    sub = sub_where(sandbox, Mode="AXB", RecordFlag=1)
    simulated = sandbox.simulate_call(outcome=outcome, binding_id=sub["SubId"])
    events = receive(sandbox, simulated.pushes)
    expected = (
        [f"call status: {k}" for k in kinds] + ["call record"] + (["call recording"] if outcome == "answered" else [])
    )
    assert [e.kind for e in events] == expected, "in Volcengine's order"
    record = merge(events)
    assert (record.outcome, record.cause_code, record.call_id) == (outcome, result, simulated.call_id)
    assert (record.subscription_id, record.x) == (sub["SubId"], sub["PhoneNoX"]) == (simulated.binding_id, simulated.x)
    assert (record.caller, record.callee) == (sub["PhoneNoA"], sub["PhoneNoB"])
    assert record.ended_at == NOW
    if outcome == "answered":
        assert record.answered_at == NOW - timedelta(seconds=64) and record.duration_s == 64
        assert record.recording is not None and record.recording.locator["callId"] == simulated.call_id
    else:
        assert record.answered_at is None and record.recording is None


def test_a_call_to_an_x_without_a_binding_is_no_binding(sandbox):
    held = {s["PhoneNoX"] for s in sandbox.state["subscriptions"] if s["Status"] == 1 and s["ExpireTime"] > T0}
    simulated = sandbox.simulate_call(outcome="no binding")
    assert simulated.x not in held and simulated.x.startswith("170") and simulated.binding_id == ""
    assert any(
        n["Number"] == simulated.x and n["NumberPoolNo"] == DEFAULT_NUMBER_POOL_NO for n in sandbox.state["numbers"]
    )
    (record_event,) = receive(sandbox, simulated.pushes)
    record = merge([record_event])
    assert (record.outcome, record.cause_code, record.x, record.subscription_id) == (
        calls.NO_BINDING,
        "13",
        simulated.x,
        "",
    )
    chosen = sandbox.simulate_call(outcome="no binding", x="01055500101")
    assert merge(receive(sandbox, chosen.pushes)).x == "01055500101"


def test_a_simulated_call_is_refused_for_what_cannot_be_called(sandbox):
    live = sub_where(sandbox, Mode="AXB", RecordFlag=1)
    with pytest.raises(VolcError, match="has a binding"):
        sandbox.simulate_call(outcome="no binding", x=live["PhoneNoX"])
    with pytest.raises(VolcError, match="not a number of this account"):
        sandbox.simulate_call(outcome="no binding", x="13900000000")
    with pytest.raises(VolcError, match="no binding with SubId"):
        sandbox.simulate_call(outcome="busy", binding_id="S-nope")
    unbound = sub_where(sandbox, Status=0)
    with pytest.raises(VolcError, match="no longer bound"):
        sandbox.simulate_call(outcome="busy", binding_id=unbound["SubId"])
    with pytest.raises(VolcError, match="outcome"):
        sandbox.simulate_call(outcome="hung up", binding_id=live["SubId"])


def test_simulated_calls_on_an_axn_without_b_and_without_recording(sandbox):
    sub = sub_where(sandbox, Mode="AXN", PhoneNoB="")
    assert sub["RecordFlag"] == 0
    simulated = sandbox.simulate_call(outcome="answered", binding_id=sub["SubId"])
    events = receive(sandbox, simulated.pushes)
    assert "call recording" not in [e.kind for e in events]
    record = merge(events)
    assert record.callee == sub["PhoneNoA"] and record.caller != sub["PhoneNoA"] and record.recording is None


def test_pushes_signed_with_the_sandbox_token_fail_with_another(sandbox, monkeypatch):
    simulated = sandbox.simulate_call(outcome="busy", binding_id=sub_where(sandbox, Mode="AXB")["SubId"])
    wrong = ReceiverKey("sandbox", {"callback_auth_token": "notTheSandboxToken"})
    with pytest.raises(PushRefused, match="matches no account"):
        authenticate(simulated.pushes[0], [wrong], now=NOW, nonces=NonceBook())
    monkeypatch.setenv(CALLBACK_TOKEN_ENV, "myOwnToken42")
    mine = VolcSandbox(clock=Clock())
    assert mine.session_account().credentials["callback_auth_token"] == "myOwnToken42"
    own = mine.simulate_call(outcome="busy", binding_id=sub_where(mine, Mode="AXB")["SubId"])
    assert [e.kind for e in receive(mine, own.pushes)][-1] == "call record"


def test_the_sandbox_prints_its_callback_token_masked_when_it_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(CALLBACK_TOKEN_ENV, raising=False)
    shown = dict(VolcSandbox(clock=Clock()).credentials())
    assert shown["callback AuthToken"] == DEFAULT_CALLBACK_TOKEN and shown["callback route"] == "/volcengine/callback"
    assert 10 <= len(DEFAULT_CALLBACK_TOKEN) <= 20, "the console's AuthToken is 10 to 20 characters"
    monkeypatch.setenv(CALLBACK_TOKEN_ENV, "mySecretToken77")
    printed = " ".join(value for _, value in VolcSandbox(clock=Clock()).credentials())
    assert "mySecretToken77" not in printed and f"(from ${CALLBACK_TOKEN_ENV})" in printed


# ---------------------------------------------------------------------------------------------
# POST /_sandbox/calls over the in-process transport


def signed_control(sandbox: VolcSandbox, path: str, spec: object) -> httpx.Request:
    body = json.dumps(spec).encode()
    host = httpx.URL(IN_PROCESS_ENDPOINT).host
    headers = {"host": host, "content-type": "application/json"}
    added = signing.sign(
        signing.SignedRequest("POST", path, [], headers, body),
        signing.Credentials(sandbox.access_key, sandbox.secret_key),
        x_date=signing.format_x_date(T0),
    )
    return httpx.Request("POST", IN_PROCESS_ENDPOINT + path, headers={**headers, **added}, content=body)


async def test_the_control_endpoint_simulates_a_call_and_delivers_its_pushes(sandbox):
    taken: list[CallEvent] = []
    book = NonceBook()

    def receiver(request: PushRequest) -> PushReply:
        taken.extend(receive(sandbox, [request], book=book))
        return PUSHES.reply(taken)

    sandbox.push_sink = receiver
    sub = sub_where(sandbox, Mode="AXB", RecordFlag=1)
    async with httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox)) as http:
        answer = await http.send(
            signed_control(sandbox, "/_sandbox/calls", {"outcome": "busy", "binding_id": sub["SubId"]})
        )
        assert answer.status_code == 201
        report = answer.json()["call"]
        assert (report["outcome"], report["binding_id"], report["x"]) == ("busy", sub["SubId"], sub["PhoneNoX"])
        assert [p["status"] for p in report["pushes"]] == [200, 200, 200]
        assert {p["route"] for p in report["pushes"]} == {"/volcengine/callback"}
        assert merge(taken).outcome == calls.BUSY and merge(taken).call_id == report["call_id"]

        unbound = await http.send(signed_control(sandbox, "/_sandbox/calls", {"outcome": "no binding"}))
        assert unbound.status_code == 201 and unbound.json()["call"]["pushes"][0]["status"] == 200
        refused = await http.send(
            signed_control(sandbox, "/_sandbox/calls", {"outcome": "busy", "binding_id": "S-nope"})
        )
        assert refused.status_code == 200 and refused.json()["ResponseMetadata"]["Error"]["Code"] == "SubscriptionEmpty"
        bad = await http.send(signed_control(sandbox, "/_sandbox/calls", {"outcome": "maybe"}))
        assert bad.status_code == 400 and "outcome" in bad.json()["ResponseMetadata"]["Error"]["Message"]
        unsigned = await http.post(IN_PROCESS_ENDPOINT + "/_sandbox/calls", json={"outcome": "no binding"})
        assert unsigned.status_code == 401


async def test_a_call_with_no_receiver_is_reported_undelivered(sandbox):
    async with httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox)) as http:
        answer = await http.send(signed_control(sandbox, "/_sandbox/calls", {"outcome": "no binding"}))
    assert answer.json()["call"]["pushes"] == [
        {"route": "/volcengine/callback", "status": None, "detail": "no receiver is set"}
    ]


# ---------------------------------------------------------------------------------------------
# The recording link


@pytest.fixture
async def adapter(sandbox):
    client = VmsClient(
        sandbox.access_key,
        sandbox.secret_key,
        endpoint=IN_PROCESS_ENDPOINT,
        http_transport=AsyncInProcessTransport(sandbox),
        clock=sandbox.clock,
    )
    yield VolcBindings(client, account="sandbox", default_pool=DEFAULT_NUMBER_POOL_NO, clock=sandbox.clock)
    await client.aclose()


async def test_a_simulated_recorded_call_has_a_recording_link_that_says_when_it_expires(sandbox, adapter):
    sub = sub_where(sandbox, Mode="AXB", RecordFlag=1)
    simulated = sandbox.simulate_call(outcome="answered", binding_id=sub["SubId"])
    record = merge(receive(sandbox, simulated.pushes))
    link = await adapter.recording_link(record.recording)
    assert link.url.startswith(f"https://vms-record.sandbox.teledeck.invalid/{simulated.call_id}.mp3?")
    assert (link.expires_at, link.lifetime) == (NOW + timedelta(hours=1), "1 hour")
    assert link.url not in repr(link), "the signed link stays out of repr"


async def test_no_recording_yet_is_not_found(sandbox, adapter):
    from providers.errors import NotFound

    with pytest.raises(NotFound, match="no recording for call NM-unknown"):
        await adapter.recording_link(Recording("volcengine", "NM-unknown", {}))


async def test_a_link_that_states_no_lifetime_has_none(sandbox, adapter, monkeypatch):
    sub = sub_where(sandbox, Mode="AXB", RecordFlag=1)
    simulated = sandbox.simulate_call(outcome="answered", binding_id=sub["SubId"])
    monkeypatch.setattr(
        sandbox, "_record_links", lambda call_id: (f"https://cdn.invalid/{call_id}.mp3?Expires={int(T0) + 60}", "", "")
    )
    link = await adapter.recording_link(Recording("volcengine", simulated.call_id, {"callId": simulated.call_id}))
    assert (link.expires_at, link.lifetime) == (NOW + timedelta(minutes=1), "")


def test_link_expiry_reads_the_presigned_forms():
    assert link_expiry("https://b.tos-cn-beijing.volces.com/o?X-Tos-Date=20260105T080000Z&X-Tos-Expires=86400") == (
        NOW + timedelta(days=1),
        86400,
    )
    assert link_expiry("https://h/o?x-date=20260105T080000Z&x-expires=900") == (NOW + timedelta(minutes=15), 900)
    assert link_expiry(f"https://h/o.mp3?Expires={int(T0)}&Signature=s") == (NOW, None)
    assert link_expiry("https://h/o.mp3") == (None, None)
    assert link_expiry("https://h/o?X-Tos-Date=garbage&X-Tos-Expires=60") == (None, None)
    assert link_expiry("https://h/o?X-Tos-Date=20260105T080000Z&X-Tos-Expires=" + "9" * 40) == (None, None)
    assert [lifetime_words(s) for s in (3600, 7200, 5400, 604800, 61)] == [
        "1 hour",
        "2 hours",
        "90 minutes",
        "7 days",
        "61 seconds",
    ]


def test_every_simulated_call_has_its_own_call_id_and_stays_in_the_saved_state(sandbox):
    sub = sub_where(sandbox, Mode="AXB", RecordFlag=1)
    ids = {sandbox.simulate_call(outcome="busy", binding_id=sub["SubId"]).call_id for _ in range(5)}
    assert len(ids) == 5 and all(i.startswith("NM260105080000") and len(i) == 34 for i in ids)
    recorded = sandbox.simulate_call(outcome="answered", binding_id=sub["SubId"])
    assert any(c["CallId"] == recorded.call_id and c["Recorded"] for c in sandbox.state["calls"])


def test_a_call_record_alone_says_when_the_call_started_was_answered_and_ended():
    answered = {**RECORD, "startTime": 1607588908000, "callDuration": 25, "callResult": 1}
    call = merge(events_of(answered))
    assert (call.started_at, call.answered_at, call.ended_at) == (
        datetime(2020, 12, 10, 8, 28, 23, tzinfo=UTC),
        datetime(2020, 12, 10, 8, 28, 28, tzinfo=UTC),
        datetime(2020, 12, 10, 8, 28, 53, tzinfo=UTC),
    )
    assert call.duration_s == 25
    unanswered = merge(events_of(RECORD))  # startTime 0: never answered
    assert (unanswered.answered_at, unanswered.duration_s) == (None, None)
    assert unanswered.started_at == datetime(2020, 12, 10, 8, 28, 23, tzinfo=UTC)
