"""Alibaba Dypls receipts by HTTP batch push (providers/aliyun/pushes.py) and the Dypls emulator's
simulated calls: the token in the path, the five message types read from JSON arrays, causes in
words, and every simulated outcome through authenticate, parse and merge (and the ledger)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from providers import calls
from providers.aliyun import pushes, signing
from providers.aliyun.pls import AliyunBindings, DyplsClient
from providers.aliyun.pushes import PUSHES, message_type
from providers.aliyun.vendor import DYPLS
from providers.calls import ANSWER, CDR, RECORDING, RING, START, CallEvent, Recording, merge
from providers.errors import ProviderError, ValidationError
from providers.ledger import BindingLedger
from providers.pushes import MalformedPush, NonceBook, PushRefused, PushReply, PushRequest, ReceiverKey, push_spec
from providers.sandbox.aliyun_gateway import AliyunError
from providers.sandbox.aliyun_pls import (
    DEFAULT_POOL_KEY,
    DEFAULT_RECEIPT_TOKEN,
    IN_PROCESS_ENDPOINT,
    RECEIPT_TOKEN_ENV,
    DyplsSandbox,
)
from providers.sandbox.base import SimulatedCall
from providers.sandbox.http import AsyncInProcessTransport
from providers.transport import RetryPolicy

T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 3, 1, 2, 5, 0, tzinfo=UTC)
TOKEN = "acct-one-receipts-0123456789"
OTHER = "acct-two-receipts-9876543210"
KEYS = [ReceiverKey("one", {"receipt_token": TOKEN}), ReceiverKey("two", {"receipt_token": OTHER})]

# Samples shaped like the official HTTP batch push pages (numbers made fictional).
START_SAMPLE = {
    "phone_no": "13900000001",
    "pool_key": "FC100000000000001",
    "city": "杭州",
    "sub_id": 1000000000000101,
    "out_id": "ride-1001",
    "unconnected_cause": 0,
    "call_time": "2026-03-01 10:00:00",
    "peer_no": "13900000101",
    "called_display_no": "17000001001",
    "call_id": "c-1",
    "partner_key": "FC100000000000001",
    "id": "1014075900001",
    "secret_no": "17000001001",
    "call_type": 0,
    "control_type": "CONTINUE",
}
RING_SAMPLE = {
    "phone_no": "13900000001",
    "secret_no": "17000001001",
    "peer_no": "13900000101",
    "call_type": "0",
    "call_id": "c-1",
    "call_time": "2026-03-01 10:00:00",
    "pool_key": "FC100000000000001",
    "ring_time": "2026-03-01 10:00:03",
    "sub_id": "1000000000000101",
    "city": "杭州",
    "out_id": "ride-1001",
}
PICKUP_SAMPLE = {**RING_SAMPLE, "start_time": "2026-03-01 10:00:08"}
REPORT_SAMPLE = {
    **START_SAMPLE,
    "call_out_time": "2026-03-01 10:00:01",
    "ring_time": "2026-03-01 10:00:03",
    "free_ring_time": "2026-03-01 10:00:03",
    "start_time": "2026-03-01 10:00:08",
    "release_time": "2026-03-01 10:01:13",
    "release_dir": 1,
    "release_cause": 16,
    "control_msg": "OK",
    "record_url": "https://record.example.invalid/c-1.mp3?Signature=s3cr3t",
    "ring_record_url": "https://record.example.invalid/c-1-ring.mp3?Signature=s3cr3t",
}
RECORDING_SAMPLE = {
    "pool_key": "FC100000000000001",
    "call_time": 1772330400000,  # 2026-03-01 02:00:00 UTC, 10:00:00 China time
    "sub_id": 1000000000000101,
    "out_id": "ride-1001",
    "call_id": "c-1",
}


def body(*records: object) -> bytes:
    return json.dumps(list(records), ensure_ascii=False).encode("utf-8")


def parse(*records: object) -> list[CallEvent]:
    return PUSHES.parse(body(*records), received_at=RECEIVED, account="one")


def receipt(token: str | None = TOKEN, data: bytes = b"[]") -> PushRequest:
    return PushRequest(pushes.ROUTE, data, rest="" if token is None else "/" + token)


def accept(request: PushRequest, keys: list[ReceiverKey] = KEYS) -> ReceiverKey:
    return PUSHES.authenticate(request, keys, now=RECEIVED, nonces=NonceBook())


# ---------------------------------------------------------------------------------------------
# parse


def test_the_push_module_is_registered_for_aliyun() -> None:
    spec = push_spec("aliyun")
    assert spec is PUSHES
    assert (spec.provider, spec.route, spec.receive_credentials) == ("aliyun", "/aliyun/receipts", ("receipt_token",))
    assert "receipt_token" in DYPLS.optional_credentials


def test_each_message_type_is_known_by_its_own_fields() -> None:
    assert [message_type(r) for r in (START_SAMPLE, RING_SAMPLE, PICKUP_SAMPLE, REPORT_SAMPLE, RECORDING_SAMPLE)] == [
        "SecretStartReport",
        "SecretRingReport",
        "SecretPickUpReport",
        "SecretReport",
        "SecretRecording",
    ]
    # The older HTTP page names SecretRecording's binding subs_id; a digits call_time is still epoch ms.
    legacy = {"pool_key": "FC1", "call_time": "1772330400000", "subs_id": 42, "call_id": "c-9"}
    assert message_type(legacy) == "SecretRecording"
    [event] = parse(legacy)
    assert event.subscription_id == "42" and event.fields["CallTime"] == "2026-03-01 10:00:00"


def test_a_batch_of_every_type_becomes_events_in_utc() -> None:
    second_call = {**START_SAMPLE, "call_id": "c-2", "call_type": 1, "peer_no": "13900009999"}
    events = parse(START_SAMPLE, RING_SAMPLE, PICKUP_SAMPLE, REPORT_SAMPLE, RECORDING_SAMPLE, second_call)
    by_kind = {(e.call_id, e.kind): e for e in events}
    assert [(e.call_id, e.kind, e.stage) for e in events] == [
        ("c-1", "SecretStartReport", START),
        ("c-1", "SecretRingReport", RING),
        ("c-1", "SecretPickUpReport", ANSWER),
        ("c-1", "SecretReport", CDR),  # the derived start and answer give way to the vendor's own
        ("c-1", "SecretRecording", RECORDING),
        ("c-2", "SecretStartReport", START),
    ]
    start = by_kind["c-1", "SecretStartReport"]
    assert start.at == T0 and start.received_at == RECEIVED and start.account == "one"
    assert (start.subscription_id, start.x, start.caller, start.callee) == (
        "1000000000000101",
        "17000001001",
        "13900000001",
        "13900000101",
    )
    assert by_kind["c-1", "SecretRingReport"].at == T0 + timedelta(seconds=3)
    assert by_kind["c-1", "SecretPickUpReport"].at == T0 + timedelta(seconds=8)
    assert by_kind["c-1", "SecretReport"].at == T0 + timedelta(seconds=73)
    # call_type 1: the peer called A.
    assert (by_kind["c-2", "SecretStartReport"].caller, by_kind["c-2", "SecretStartReport"].callee) == (
        "13900009999",
        "13900000001",
    )
    recording = by_kind["c-1", "SecretRecording"]
    assert recording.at is None
    assert {k: recording.fields[k] for k in ("CallId", "CallTime", "PoolKey")} == {
        "CallId": "c-1",
        "CallTime": "2026-03-01 10:00:00",
        "PoolKey": "FC100000000000001",
    }
    record = merge(events[:5])
    assert (record.started_at, record.answered_at, record.ended_at, record.duration_s) == (
        T0,
        T0 + timedelta(seconds=8),
        T0 + timedelta(seconds=73),
        65,
    )
    assert record.outcome == calls.ANSWERED and record.recording is not None
    assert record.recording.locator["CallTime"] == "2026-03-01 10:00:00"


def test_signed_links_in_a_report_are_never_kept() -> None:
    [report, *_] = parse(REPORT_SAMPLE)
    assert "record_url" not in report.fields and "ring_record_url" not in report.fields
    assert report.fields["has_record_url"] is True
    assert "s3cr3t" not in json.dumps(dict(report.fields))


def test_a_report_alone_stands_for_the_start_and_the_answer_of_its_call() -> None:
    events = parse(REPORT_SAMPLE)
    assert [(e.kind, e.stage, e.fields.get("derived_from")) for e in events] == [
        ("SecretReport", CDR, None),
        ("SecretStartReport", START, "SecretReport"),
        ("SecretPickUpReport", ANSWER, "SecretReport"),
    ]
    record = merge(events)
    assert (record.started_at, record.answered_at, record.duration_s) == (T0, T0 + timedelta(seconds=8), 65)
    unanswered = {**REPORT_SAMPLE, "start_time": "2026-03-01 10:00:33", "release_time": "2026-03-01 10:00:33"}
    assert [e.kind for e in parse(unanswered)] == ["SecretReport", "SecretStartReport"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON"),
        (b'{"call_id": "c-1"}', "JSON array, not a JSON dict"),
        (body(START_SAMPLE, "text"), "element 1: not a JSON object"),
        (body({**START_SAMPLE, "call_id": ""}), "element 0: SecretStartReport: call_id is missing"),
        (body({**START_SAMPLE, "call_id": "c" * 101}), "longer than 100"),
        (body(RING_SAMPLE, {**REPORT_SAMPLE, "release_time": "01/03/2026"}), "element 1: SecretReport: release_time"),
        (body({**START_SAMPLE, "call_time": None}), "element 0: SecretStartReport: call_time is missing"),
        (body({**START_SAMPLE, "call_type": "caller"}), "call_type is not a whole number"),
        (body({**START_SAMPLE, "call_type": "--5"}), "call_type is not a whole number"),
        (body({**RECORDING_SAMPLE, "pool_key": ""}), "element 0: SecretRecording: pool_key is missing"),
        (body({**START_SAMPLE, "secret_no": {"x": 1}}), "secret_no is not text"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper"),
    ],
)
def test_a_receipt_that_cannot_be_read_is_malformed_and_names_its_element(data: bytes, expected: str) -> None:
    with pytest.raises(MalformedPush, match="Alibaba receipts") as caught:
        PUSHES.parse(data, received_at=RECEIVED, account="one")
    assert expected in str(caught.value)


def test_an_empty_batch_is_nothing_to_store() -> None:
    assert parse() == []


# ---------------------------------------------------------------------------------------------
# decode


def report(**changes: object) -> dict[str, object]:
    unanswered = {"start_time": "2026-03-01 10:00:20", "release_time": "2026-03-01 10:00:20"}
    return {**REPORT_SAMPLE, **unanswered, **changes}


@pytest.mark.parametrize(
    ("record", "outcome", "code", "words"),
    [
        (REPORT_SAMPLE, calls.ANSWERED, "release_cause=16", "normal call clearing; released by the caller"),
        (report(release_cause=17, release_dir=2), calls.BUSY, "release_cause=17", "user busy; released by the callee"),
        (report(release_cause=19, release_dir=0), calls.NO_ANSWER, "release_cause=19", "no answer from user"),
        (report(release_cause=18), calls.NO_ANSWER, "release_cause=18", "no user responding"),
        (report(release_cause=21), calls.REJECTED, "release_cause=21", "call rejected"),
        (report(release_cause=7), calls.REJECTED, "release_cause=7", "who rejected it"),
        (report(release_cause=26), calls.BLOCKED, "release_cause=26", "call barring"),
        (report(release_cause=16, release_dir=1), calls.NO_ANSWER, "release_cause=16", "released by the caller"),
        (report(release_cause=16, release_dir=2), calls.REJECTED, "release_cause=16", "released by the callee"),
        (report(release_cause=1, release_dir=0), calls.FAILED, "release_cause=1", "unallocated (unassigned) number"),
        (report(release_cause=250), calls.FAILED, "release_cause=250", "release cause 250"),
        (report(release_cause=34, unconnected_cause=4), calls.FAILED, "release_cause=34", "unconnected_cause 4"),
        (
            report(control_msg="NO_SUBS_EXIST", unconnected_cause=2, call_type=4),
            calls.NO_BINDING,
            "NO_SUBS_EXIST",
            "no binding on this X number",
        ),
        (report(unconnected_cause="2"), calls.NO_BINDING, "unconnected_cause=2", "no binding on this X number"),
        (report(unconnected_cause=1), calls.BLOCKED, "unconnected_cause=1", "blacklist"),
        (
            report(unconnected_cause=3, control_msg="CONTROL_AX_DISABLE"),
            calls.BLOCKED,
            "unconnected_cause=3",
            "call restriction (unconnected_cause 3); control_msg CONTROL_AX_DISABLE",
        ),
        (report(call_type=4), calls.BLOCKED, "call_type=4", "intercepted"),
    ],
)
def test_causes_in_words(record: dict[str, object], outcome: str, code: str, words: str) -> None:
    verdict = PUSHES.decode(parse(record))
    assert verdict is not None
    assert (verdict.outcome, verdict.cause_code) == (outcome, code)
    assert words in verdict.cause


def test_a_start_alone_is_in_progress_unless_it_says_there_is_no_binding() -> None:
    assert PUSHES.decode(parse(START_SAMPLE)) is None
    assert merge(parse(START_SAMPLE)).outcome == calls.IN_PROGRESS
    assert merge(parse(START_SAMPLE, PICKUP_SAMPLE)).outcome == calls.ANSWERED
    refused = {**START_SAMPLE, "control_msg": "NO_SUBS_EXIST", "unconnected_cause": 2}
    record = merge(parse(refused))
    assert (record.outcome, record.cause_code) == (calls.NO_BINDING, "NO_SUBS_EXIST")


def test_the_reply_is_what_dypls_checks() -> None:
    answer = PUSHES.reply(parse(START_SAMPLE))
    assert answer.status == 200 and answer.content_type == "application/json; charset=utf-8"
    assert json.loads(answer.body.decode("utf-8")) == {"code": 0, "msg": "接收成功"}


# ---------------------------------------------------------------------------------------------
# authenticate


def test_the_token_in_the_path_names_the_account() -> None:
    assert accept(receipt(TOKEN)).account == "one"
    assert accept(receipt(OTHER)).account == "two"


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (receipt(None), "no receipt token in the path"),
        (receipt(""), "no receipt token in the path"),
        (receipt("short-token"), "not a receipt token"),
        (receipt(TOKEN + "x"), "matches no account"),
        (receipt(TOKEN[:-1] + "!"), "not a receipt token"),
        (receipt("SecretReport/" + TOKEN), "more than one segment"),
    ],
)
def test_a_missing_short_or_unknown_token_is_refused_without_echoing_it(request_: PushRequest, why: str) -> None:
    with pytest.raises(PushRefused, match=why) as caught:
        accept(request_)
    token = request_.rest.removeprefix("/")
    assert not token or token not in str(caught.value)
    assert TOKEN not in str(caught.value) and OTHER not in str(caught.value)


def test_an_account_whose_own_token_is_too_short_never_matches() -> None:
    weak = [ReceiverKey("weak", {"receipt_token": "tiny"}), ReceiverKey("none", {})]
    with pytest.raises(PushRefused, match="matches no account"):
        accept(receipt("tiny".ljust(16, "-")), weak)
    with pytest.raises(PushRefused):
        accept(receipt("tiny"), weak)


def test_the_account_form_rule_refuses_a_short_token() -> None:
    assert "at least 16" in (DYPLS.credential_problem("receipt_token", "short") or "")
    assert "URL" in (DYPLS.credential_problem("receipt_token", "a token with spaces!!") or "")
    assert DYPLS.credential_problem("receipt_token", TOKEN) is None
    assert DYPLS.credential_problem("access_key_secret", "x") is None  # no rule: anything set is fine


# ---------------------------------------------------------------------------------------------
# the emulator's simulated calls


@pytest.fixture
def sandbox() -> DyplsSandbox:
    return DyplsSandbox(qps=0)


def received(sandbox: DyplsSandbox, simulated: SimulatedCall) -> list[CallEvent]:
    key = ReceiverKey("sandbox", sandbox.session_account().credentials)
    events: list[CallEvent] = []
    for push in simulated.pushes:
        assert push.route == "/aliyun/receipts" and push.rest == "/" + DEFAULT_RECEIPT_TOKEN
        assert push.header("content-type").startswith("application/json")
        assert isinstance(json.loads(push.body), list)  # every push is a JSON array
        now = datetime.fromtimestamp(sandbox.clock(), UTC)  # the call has just ended
        account = PUSHES.authenticate(push, [key], now=now, nonces=NonceBook()).account
        events += PUSHES.parse(push.body, received_at=now, account=account)
    return events


def own_kinds(events: list[CallEvent]) -> list[str]:
    return [e.kind for e in events if "derived_from" not in e.fields]


def binding_of(sandbox: DyplsSandbox, out_id: str) -> dict[str, object]:
    return next(b for b in sandbox.bindings() if b["out_id"] == out_id)


@pytest.mark.parametrize(
    ("outcome", "out_id", "kinds", "code"),
    [
        (
            "answered",
            "ride-1001",  # AXB, recorded
            ["SecretStartReport", "SecretRingReport", "SecretPickUpReport", "SecretReport", "SecretRecording"],
            "release_cause=16",
        ),
        ("answered", "courier-2001", [*pushes.MESSAGE_TYPES[:4]], "release_cause=16"),  # AXN, not recorded
        ("busy", "ride-1001", ["SecretStartReport", "SecretReport"], "release_cause=17"),
        ("no answer", "store-3001", ["SecretStartReport", "SecretRingReport", "SecretReport"], "release_cause=19"),
    ],
)
def test_each_simulated_outcome_reaches_the_same_outcome_through_the_receiver_path(
    sandbox: DyplsSandbox, outcome: str, out_id: str, kinds: list[str], code: str
) -> None:
    binding = binding_of(sandbox, out_id)
    simulated = sandbox.simulate_call(outcome=outcome, binding_id=str(binding["subs_id"]))
    assert (simulated.outcome, simulated.binding_id, simulated.x) == (outcome, binding["subs_id"], binding["x"])
    events = received(sandbox, simulated)
    assert own_kinds(events) == kinds
    record = merge(events)
    assert (record.outcome, record.cause_code) == (outcome, code)
    assert (record.call_id, record.subscription_id, record.x) == (simulated.call_id, binding["subs_id"], binding["x"])
    if binding["mode"] == "AXB":
        assert (record.caller, record.callee) == (binding["a"], binding["b"])
    else:
        assert record.callee == binding["a"] and record.caller
    assert (record.duration_s == 65) is (outcome == "answered")
    assert (record.recording is not None) is ("SecretRecording" in kinds)


def test_a_call_to_an_x_with_no_binding(sandbox: DyplsSandbox) -> None:
    simulated = sandbox.simulate_call(outcome="no binding")
    bound = {b["x"] for b in sandbox.bindings() if b["expire"] > time.time()}
    assert simulated.binding_id == "" and simulated.x in sandbox.pool_numbers() and simulated.x not in bound
    events = received(sandbox, simulated)
    assert own_kinds(events) == ["SecretStartReport", "SecretReport"]
    start = next(e for e in events if e.kind == "SecretStartReport")
    assert (start.fields["control_msg"], start.fields["unconnected_cause"], start.subscription_id) == (
        "NO_SUBS_EXIST",
        2,
        "",
    )
    record = merge(events)
    assert (record.outcome, record.cause_code, record.x) == (calls.NO_BINDING, "NO_SUBS_EXIST", simulated.x)
    chosen = sandbox.simulate_call(outcome="no binding", x="17100005002")
    assert chosen.x == "17100005002"


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"outcome": "answered", "binding_id": "404"}, "No binding has SubsId"),
        ({"outcome": "dropped", "binding_id": "1000000000000101"}, "outcome must be one of"),
        ({"outcome": "no binding", "x": "17000001001"}, "has a binding in effect"),
        ({"outcome": "no binding", "x": "13900000001"}, "not in any pool"),
    ],
)
def test_a_call_the_sandbox_cannot_make_is_refused(sandbox: DyplsSandbox, kwargs: dict[str, str], why: str) -> None:
    with pytest.raises(AliyunError, match=why):
        sandbox.simulate_call(**kwargs)


def test_a_call_on_an_expired_binding_is_refused(sandbox: DyplsSandbox) -> None:
    expired = binding_of(sandbox, "ride-0999")
    with pytest.raises(AliyunError, match="has expired"):
        sandbox.simulate_call(outcome="answered", binding_id=str(expired["subs_id"]))


def test_the_ledger_keeps_each_receipt_once_and_links_the_call(sandbox: DyplsSandbox, tmp_path: Path) -> None:
    binding = binding_of(sandbox, "ride-1001")
    simulated = sandbox.simulate_call(outcome="answered", binding_id=str(binding["subs_id"]))
    events = received(sandbox, simulated)
    ledger = BindingLedger(tmp_path / "ledger.sqlite3")
    try:
        assert ledger.add_call_events(events) == 5  # the derived start and answer were the vendor's own
        assert ledger.add_call_events(received(sandbox, simulated)) == 0  # delivered again: stored once
        record = ledger.call("aliyun", simulated.call_id)
        assert record is not None
        assert (record.outcome, record.duration_s, record.subscription_id) == ("answered", 65, binding["subs_id"])
        assert [e.kind for e in ledger.call_events("aliyun", simulated.call_id)] == list(pushes.MESSAGE_TYPES)
    finally:
        ledger.close()


def test_the_receipt_token_setting_and_what_serve_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    default = DyplsSandbox()
    assert default.session_account().credentials["receipt_token"] == DEFAULT_RECEIPT_TOKEN
    assert ("Receipt token", DEFAULT_RECEIPT_TOKEN) in default.credentials()
    secret = "my-own-receipt-token-from-env"
    monkeypatch.setenv(RECEIPT_TOKEN_ENV, f"  {secret} ")
    chosen = DyplsSandbox()
    assert chosen.receipt_token == secret and chosen.session_account().credentials["receipt_token"] == secret
    printed = dict(chosen.credentials())["Receipt token"]
    assert secret not in printed and RECEIPT_TOKEN_ENV in printed
    monkeypatch.setenv(RECEIPT_TOKEN_ENV, "short")
    assert "unusable: at least 16" in dict(DyplsSandbox().credentials())["Receipt token"]
    assert DyplsSandbox(receipt_token="x" * 20).receipt_token == "x" * 20


# ---------------------------------------------------------------------------------------------
# POST /_sandbox/calls over the in-process transport, and the recording link


def _signed_query(sandbox: DyplsSandbox, method: str) -> list[tuple[str, str]]:
    """RPC 1.0 parameters signed as the official SDK signs them (the control endpoints are
    signed like any request)."""
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
    return [
        *pairs,
        ("Signature", signing.rpc_signature(sandbox.access_key_secret, signing.rpc_string_to_sign(method, pairs))),
    ]


async def test_post_sandbox_calls_simulates_and_delivers_in_the_alibaba_envelope(sandbox: DyplsSandbox) -> None:
    delivered: list[list[CallEvent]] = []
    key = ReceiverKey("sandbox", sandbox.session_account().credentials)

    def sink(push: PushRequest) -> PushReply:
        PUSHES.authenticate(push, [key], now=RECEIVED, nonces=NonceBook())
        events = PUSHES.parse(push.body, received_at=RECEIVED, account="sandbox")
        delivered.append(events)
        return PUSHES.reply(events)

    sandbox.push_sink = sink
    binding = binding_of(sandbox, "ride-1001")
    async with httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox), base_url=IN_PROCESS_ENDPOINT) as http:
        answer = await http.post(
            "/_sandbox/calls",
            params=_signed_query(sandbox, "POST"),
            json={"outcome": "busy", "binding_id": binding["subs_id"]},
        )
        assert answer.status_code == 200
        document = answer.json()
        assert document["Code"] == "OK" and document["RequestId"]
        call = document["Call"]
        assert (call["outcome"], call["binding_id"], call["x"]) == ("busy", binding["subs_id"], binding["x"])
        assert [p["status"] for p in call["pushes"]] == [200, 200]
        assert merge([e for batch in delivered for e in batch]).outcome == calls.BUSY

        unbound = await http.post(
            "/_sandbox/calls", params=_signed_query(sandbox, "POST"), json={"outcome": "no binding"}
        )
        assert unbound.status_code == 200 and unbound.json()["Call"]["outcome"] == "no binding"

        refused = await http.post(
            "/_sandbox/calls", params=_signed_query(sandbox, "POST"), json={"outcome": "answered", "binding_id": "404"}
        )
        assert refused.status_code == 400 and refused.json()["Code"] == "InvalidParameter"

        unsigned = await http.post("/_sandbox/calls", json={"outcome": "no binding"})
        assert unsigned.status_code == 400 and unsigned.json()["Code"] == "IncompleteSignature"
    sandbox.push_sink = None
    nowhere = sandbox.place_call(outcome="no binding")[1]
    assert [d.status for d in nowhere] == [None, None]


async def test_recording_link_of_a_simulated_recorded_call() -> None:
    now = [T0.timestamp()]
    sandbox = DyplsSandbox(qps=0, clock=lambda: now[0])
    binding = binding_of(sandbox, "ride-1001")
    simulated = sandbox.simulate_call(outcome="answered", binding_id=str(binding["subs_id"]))
    record = merge(received(sandbox, simulated))
    assert record.recording is not None
    client = DyplsClient(
        sandbox.access_key_id,
        sandbox.access_key_secret,
        endpoint=IN_PROCESS_ENDPOINT,
        http_transport=AsyncInProcessTransport(sandbox),
        retry=RetryPolicy(max_retries=0),
        rate_limit=None,
        clock=lambda: now[0],
    )
    adapter = AliyunBindings(client, pool=DEFAULT_POOL_KEY, account="sandbox")
    try:
        now[0] += 600  # asked ten minutes later
        link = await adapter.recording_link(record.recording)
        asked = datetime.fromtimestamp(now[0], UTC)
        assert link.url.startswith("https://dypls-record.sandbox.invalid/") and "token=" in link.url
        assert link.lifetime == "2 hours" and link.expires_at == asked + timedelta(hours=2)
        assert "token=" not in repr(link)  # the signed URL is never in a repr (logs)
        gone = Recording(
            "aliyun", "nope@17000001001", {"CallId": "nope@17000001001", "CallTime": "2026-03-01 10:00:00"}
        )
        with pytest.raises(ProviderError, match="CallId"):
            await adapter.recording_link(gone)
        with pytest.raises(ValidationError, match="CallTime"):
            await adapter.recording_link(Recording("aliyun", "c-1", {"CallId": "c-1"}))
    finally:
        await adapter.aclose()


class _LinkOnly:
    """A Dypls client that answers one download URL (the adapter's one call) at a fixed time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.asked: tuple[str, str, str] | None = None

    def now(self) -> float:
        return T0.timestamp()

    async def query_record_file_download_url(self, pool_key: str, call_id: str, call_time: str) -> str:
        self.asked = (pool_key, call_id, call_time)
        return self.url


async def test_a_link_that_does_not_say_when_it_expires_lives_two_hours_from_now() -> None:
    stub = _LinkOnly("https://secret-axb-record.example.invalid/1.mp3?OSSAccessKeyId=k&Signature=s")
    adapter = AliyunBindings(stub, pool="FC-default")  # type: ignore[arg-type]
    link = await adapter.recording_link(
        Recording("aliyun", "c-1", {"CallId": "c-1", "CallTime": "2026-03-01 10:00:00"})
    )
    assert stub.asked == ("FC-default", "c-1", "2026-03-01 10:00:00")  # no PoolKey in the locator: the account's
    assert (link.expires_at, link.lifetime) == (T0 + timedelta(hours=2), "2 hours")
    stub.url = "https://secret-axb-record.example.invalid/1.mp3?Expires=1772334000&Signature=s"
    link = await adapter.recording_link(
        Recording("aliyun", "c-1", {"CallId": "c-1", "CallTime": "x", "PoolKey": "FC9"})
    )
    assert stub.asked[0] == "FC9" and link.expires_at == datetime.fromtimestamp(1772334000, UTC)
