"""The push receiver (providers/receiver.py) and its HTTP app (providers/receiver_http.py), through
real push specs (tests/providers/push_fixture.py) and a real SQLite ledger."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from providers.ledger import BindingLedger
from providers.pushes import NonceBook, PushRequest, ReceiverKey, push_spec
from providers.receiver import Receiver, RefusalLog
from providers.receiver_http import create_app
from tests.providers.push_fixture import body_of, install, record, signed_push

T0 = 1_900_000_000.0
APP_KEY, APP_SECRET = "hwkey-0001", "hw-secret-never-logged"
TOKEN = "ali-token-never-logged-77"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _fixture_pushes(monkeypatch):
    install(monkeypatch)
    yield
    push_spec.cache_clear()


@pytest.fixture
def ledger(tmp_path: Path):
    with BindingLedger(tmp_path / "ledger.sqlite3") as led:
        yield led


@pytest.fixture
def clock() -> Clock:
    return Clock()


KEYS = {
    "huawei": [ReceiverKey("hw-prod", {"app_key": APP_KEY, "app_secret": APP_SECRET})],
    "aliyun": [ReceiverKey("ali-prod", {"receipt_token": TOKEN})],
}


@pytest.fixture
def receiver(ledger, clock) -> Receiver:
    return Receiver(ledger, KEYS, clock=clock)


def push(*records, nonce="n1", secret=APP_SECRET, at=T0) -> PushRequest:
    return signed_push(body_of(*(records or (record(),))), app_key=APP_KEY, app_secret=secret, at=at, nonce=nonce)


def receipt(token: str = TOKEN, *records) -> PushRequest:
    return PushRequest("/aliyun/receipts", body_of(*(records or (record("a1"),))), rest="/" + token)


def stored(ledger: BindingLedger, provider: str = "huawei", call_id: str = "c1") -> int:
    return len(ledger.call_events(provider, call_id))


# ---- the core ------------------------------------------------------------------------------------


def test_a_good_push_is_stored_before_the_answer(receiver, ledger):
    reply = receiver.handle(push(record(), record(kind="answer", stage="answer")), peer="10.0.0.5")
    assert (reply.status, reply.body) == (200, b'{"ok":true}')
    events = ledger.call_events("huawei", "c1")
    assert sorted(e.kind for e in events) == ["answer", "callin"]
    assert {e.account for e in events} == {"hw-prod"}
    assert ledger.call("huawei", "c1") is not None


def test_a_receipt_is_taken_by_the_token_in_its_path(receiver, ledger):
    assert receiver.handle(receipt()).status == 200
    assert stored(ledger, "aliyun", "a1") == 1
    assert ledger.call_events("aliyun", "a1")[0].account == "ali-prod"


def test_a_bad_signature_is_401_and_stores_nothing(receiver, ledger, caplog):
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        reply = receiver.handle(push(secret="not-the-secret"), peer="10.0.0.5")
    assert reply.status == 401
    assert stored(ledger) == 0
    assert "refused /huawei/events from 10.0.0.5: 401 signature does not match" in caplog.text


def test_a_wrong_token_is_401_and_the_log_holds_no_token(receiver, ledger, caplog):
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        reply = receiver.handle(receipt("guessed-token-123"), peer="10.0.0.6")
        assert receiver.handle(receipt()).status == 200
    assert reply.status == 401
    assert stored(ledger, "aliyun", "a1") == 1  # only the good one
    assert "refused /aliyun/receipts from 10.0.0.6: 401" in caplog.text
    for secret in ("guessed-token-123", TOKEN, APP_SECRET):
        assert secret not in caplog.text


def test_a_replayed_nonce_is_refused_but_a_resend_with_a_new_one_is_stored_once(receiver, ledger):
    assert receiver.handle(push(nonce="n1")).status == 200
    assert receiver.handle(push(nonce="n1")).status == 401  # the very same push again: a replay
    assert receiver.handle(push(nonce="n2")).status == 200  # the vendor's re-send, signed again
    assert stored(ledger) == 1


def test_a_malformed_push_is_400(receiver, ledger):
    bad = signed_push(b'{"records": [{"call_id": 1}]}', app_key=APP_KEY, app_secret=APP_SECRET, at=T0, nonce="m")
    assert receiver.handle(bad).status == 400
    not_json = signed_push(b"<xml/>", app_key=APP_KEY, app_secret=APP_SECRET, at=T0, nonce="m2")
    assert receiver.handle(not_json).status == 400
    assert ledger.calls() == []


def test_a_body_over_the_cap_is_413_unread(receiver, ledger):
    big = push(*(record(f"c{i}") for i in range(200)))
    assert len(big.body) > 4096
    assert receiver.handle(big).status == 413
    assert ledger.calls() == []


def test_an_unknown_route_is_404_and_logs_its_first_segment_only(receiver, caplog):
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        reply = receiver.handle(PushRequest("/aliyun/receipt/" + TOKEN, b"{}"), peer="10.0.0.7")
    assert reply.status == 404
    assert "refused /aliyun/… from 10.0.0.7: 404" in caplog.text
    assert TOKEN not in caplog.text


def test_a_route_whose_vendor_has_no_account_is_404(ledger, clock):
    only_huawei = Receiver(ledger, {"huawei": KEYS["huawei"], "aliyun": []}, clock=clock)
    assert only_huawei.handle(receipt()).status == 404
    assert list(only_huawei.specs) == ["/huawei/events"]


def test_a_ledger_failure_is_503_and_the_resend_is_taken(tmp_path, clock, caplog):
    path = tmp_path / "ledger.sqlite3"
    ledger = BindingLedger(path)
    nonces = NonceBook()
    broken = Receiver(ledger, KEYS, clock=clock, nonces=nonces)
    ledger.close()  # the ledger goes away under the receiver
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        assert broken.handle(push(nonce="n1"), peer="10.0.0.8").status == 503
    assert "refused /huawei/events from 10.0.0.8: 503 ledger: ProgrammingError" in caplog.text
    with BindingLedger(path) as reopened:
        assert stored(reopened) == 0
        # The vendor sends the same push again (same nonce): not a replay, since it was not taken.
        again = Receiver(reopened, KEYS, clock=clock, nonces=nonces)
        assert again.handle(push(nonce="n1")).status == 200
        assert stored(reopened) == 1


def test_nothing_a_client_sends_gets_past_handle(receiver, caplog):
    hostile = push()
    odd = PushRequest(hostile.route, hostile.body, headers={**hostile.headers, "x-test-time": "soon\x1b[31m"})
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        reply = receiver.handle(odd, peer="10.0.0.9")
    assert reply.status in (401, 500)
    assert "\x1b" not in caplog.text
    assert APP_SECRET not in caplog.text


def test_a_bug_in_a_push_module_is_500_said_by_type(ledger, clock, caplog, monkeypatch):
    import tests.providers.push_fixture_signed as module

    def broken_reply(events):
        raise RuntimeError(f"leaks {APP_SECRET}")

    spec = replace(push_spec("huawei"), reply=broken_reply)
    monkeypatch.setattr(module, "PUSHES", spec)
    push_spec.cache_clear()
    receiver = Receiver(ledger, KEYS, clock=clock)
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        assert receiver.handle(push(), peer="10.0.0.10").status == 500
    assert "500 receiver failed: RuntimeError" in caplog.text
    assert APP_SECRET not in caplog.text


def test_no_line_of_the_log_holds_a_secret(receiver, caplog):
    with caplog.at_level(logging.DEBUG):
        receiver.handle(push(nonce="a"), peer="p")
        receiver.handle(push(nonce="a"), peer="p")
        receiver.handle(push(secret=APP_SECRET + "x", nonce="b"), peer="p")
        receiver.handle(receipt(), peer="p")
        receiver.handle(receipt(TOKEN[:-1]), peer="p")
        receiver.handle(PushRequest("/aliyun/receipts", b"{}", rest="/" + TOKEN, query={"t": TOKEN}), peer="p")
    assert caplog.records
    for secret in (APP_SECRET, TOKEN, TOKEN[:-1]):
        assert secret not in caplog.text


def test_a_refusal_flood_writes_a_bounded_log(receiver, clock, caplog):
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        for i in range(1000):
            receiver.handle(push(secret="wrong", nonce=f"f{i}"), peer="10.0.0.66")
        flood = [r for r in caplog.records if "10.0.0.66" in r.getMessage()]
        assert len(flood) == 5
        clock.now += 61  # a minute later the count is said, once
        receiver.handle(push(secret="wrong", nonce="late"), peer="10.0.0.66")
    lines = [r.getMessage() for r in caplog.records if "10.0.0.66" in r.getMessage()]
    assert "refused /huawei/events from 10.0.0.66: 401, 995 more like it not logged each" in lines
    assert len(lines) == 7


def test_refusals_from_many_peers_are_bounded_too(clock, caplog):
    refusals = RefusalLog(clock=clock)
    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        for i in range(5000):
            refusals.refused(route="/huawei/events", peer=f"10.1.{i // 250}.{i % 250}", status=401, reason="x")
        refusals.flush()
    assert len(caplog.records) <= 60 + 2
    assert "4940 more refusals not logged each (log limit)" in caplog.text


# ---- the HTTP app --------------------------------------------------------------------------------


def _client(receiver: Receiver) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(receiver), client=("10.0.0.20", 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://receiver")


def test_the_app_stores_a_push_and_answers_the_vendor_reply(receiver, ledger):
    async def go():
        async with _client(receiver) as client:
            one = push()
            answer = await client.post("/huawei/events", content=one.body, headers=dict(one.headers))
            assert (answer.status_code, answer.content) == (200, b'{"ok":true}')
            token = receipt()
            answer = await client.post("/aliyun/receipts/" + TOKEN, content=token.body, params={"a": "b"})
            assert answer.status_code == 200
            assert (await client.get("/healthz")).status_code == 200

    asyncio.run(go())
    assert stored(ledger) == 1
    assert stored(ledger, "aliyun", "a1") == 1


def test_the_app_refuses_what_is_not_a_push(receiver, caplog):
    async def go():
        async with _client(receiver) as client:
            assert (await client.post("/nowhere/" + TOKEN, content=b"{}")).status_code == 404
            assert (await client.get("/huawei/events")).status_code == 405
            assert (await client.post("/aliyun/receipts/wrong", content=receipt().body)).status_code == 401
            big = b"x" * 5000
            assert (await client.post("/huawei/events", content=big)).status_code == 413

            async def chunks():  # no Content-Length at all: counted as it streams
                for _ in range(10):
                    yield b"x" * 1000

            assert (await client.post("/huawei/events", content=chunks())).status_code == 413

    with caplog.at_level(logging.INFO, "teledeck.receiver"):
        asyncio.run(go())
    assert "refused /nowhere/… from 10.0.0.20: 404" in caplog.text
    assert "refused /huawei/events from 10.0.0.20: 413 body over 4096 bytes" in caplog.text
    assert TOKEN not in caplog.text


def test_a_lying_content_length_does_not_get_a_body_past_the_cap(receiver, ledger):
    """The app reads what arrives, not what Content-Length says: 40 KB sent under a claim of 10 bytes."""
    app = create_app(receiver)
    sent: list[dict] = []
    parts = [b"x" * 4000 for _ in range(10)]

    async def receive():
        if parts:
            return {"type": "http.request", "body": parts.pop(), "more_body": bool(parts)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/huawei/events", "raw_path": b"/huawei/events", "query_string": b"",
        "root_path": "", "headers": [(b"content-length", b"10")], "client": ("10.0.0.21", 1),
        "server": ("receiver", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert len(parts) == 8  # reading stopped at the cap: the rest was never asked for
    assert ledger.calls() == []


def test_healthz_says_when_the_ledger_is_gone(tmp_path, clock):
    ledger = BindingLedger(tmp_path / "l.sqlite3")
    receiver = Receiver(ledger, KEYS, clock=clock)
    ledger.close()

    async def go():
        async with _client(receiver) as client:
            return await client.get("/healthz")

    answer = asyncio.run(go())
    assert answer.status_code == 503
    assert str(tmp_path) not in answer.text
