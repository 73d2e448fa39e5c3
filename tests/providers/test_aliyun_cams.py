"""CamsClient against the CAMS sandbox, in process: parsing, errors, throttling and THE limiter."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from providers import vendors
from providers.aliyun import signing
from providers.aliyun.cams import (
    CODE_VERIFICATION_STATUSES,
    DEFAULT_ENDPOINT,
    DOCUMENTED_QPS,
    ENDPOINT_ENV,
    MESSAGING_LIMIT_TIERS,
    QUALITY_RATINGS,
    STATUSES,
    THROTTLE_RETRY,
    CamsClient,
    WabaNumber,
)
from providers.errors import AuthError, MalformedResponse, ProviderError, RateLimited, ValidationError
from providers.sandbox.aliyun_cams import (
    CUST_SPACE_ID_ENV,
    DEFAULT_CUST_SPACE_ID,
    ISV_CUST_SPACE_ID,
    THROTTLE_CODE,
    THROTTLE_MESSAGE,
    THROTTLE_STATUS,
    CamsSandbox,
)
from providers.sandbox.aliyun_gateway import (
    ACCESS_KEY_ID_ENV,
    ACCESS_KEY_SECRET_ENV,
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
)
from providers.sandbox.cli import available
from providers.sandbox.http import AsyncInProcessTransport, SandboxRequest, SandboxResponse, SyncInProcessTransport
from providers.sandbox.state import StateStore
from providers.transport import RetryPolicy

SYNC = "ChatappSyncPhoneNumber"
QUERY = "QueryChatappPhoneNumbers"
WIRE = {
    "phone_number": "PhoneNumber",
    "verified_name": "VerifiedName",
    "status": "Status",
    "quality_rating": "QualityRating",
    "code_verification_status": "CodeVerificationStatus",
    "name_status": "NameStatus",
    "new_name_status": "NewNameStatus",
    "messaging_limit_tier": "MessagingLimitTier",
    "status_callback_url": "StatusCallbackUrl",
    "up_callback_url": "UpCallbackUrl",
    "status_queue": "StatusQueue",
    "up_queue": "UpQueue",
}


class Sleeps:
    """A stand-in for asyncio.sleep that records the waits (and can move a fake clock)."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.waits: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.now += seconds
        await asyncio.sleep(0)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> CamsSandbox:
    for name in (ACCESS_KEY_ID_ENV, ACCESS_KEY_SECRET_ENV, CUST_SPACE_ID_ENV):
        monkeypatch.delenv(name, raising=False)
    return CamsSandbox()


@pytest.fixture
def endpoint() -> str:
    """A fresh endpoint per test, so each test has its own account limiter (limiters are
    process-wide, keyed by AccessKeyId and endpoint)."""
    return f"https://cams-{uuid.uuid4().hex[:10]}.sandbox.invalid"


@pytest.fixture
async def make_client(sandbox: CamsSandbox, endpoint: str) -> AsyncIterator[Callable[..., CamsClient]]:
    made: list[CamsClient] = []

    def make(**kw: Any) -> CamsClient:
        kw.setdefault("endpoint", endpoint)
        kw.setdefault("http_transport", AsyncInProcessTransport(kw.pop("handler", sandbox)))
        client = CamsClient(
            kw.pop("access_key_id", DEFAULT_ACCESS_KEY_ID), kw.pop("access_key_secret", DEFAULT_ACCESS_KEY_SECRET), **kw
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def _as_wire(number: WabaNumber) -> dict[str, str]:
    return {wire: getattr(number, attr) for attr, wire in WIRE.items()}


# ---------------------------------------------------------------------------------------------
# Parsing and the seeded numbers


@pytest.mark.parametrize("signature", ["v3", "v1"])
async def test_sync_parses_every_field(sandbox: CamsSandbox, make_client, signature: str) -> None:
    client = make_client(signature=signature)
    numbers = await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    expected = sandbox.numbers()
    assert len(numbers) == len(expected) == 13
    for number, item in zip(numbers, expected, strict=True):
        assert _as_wire(number) == item
        assert number.raw == item
    assert sandbox.action_counts == {SYNC: 1}


async def test_seed_covers_every_status_rating_tier_and_review_state(make_client) -> None:
    numbers = await make_client().query_phone_numbers(DEFAULT_CUST_SPACE_ID)
    assert {n.status for n in numbers} == set(STATUSES)
    assert {n.quality_rating for n in numbers} == set(QUALITY_RATINGS)
    assert {n.messaging_limit_tier for n in numbers} == set(MESSAGING_LIMIT_TIERS)
    assert {n.code_verification_status for n in numbers} == set(CODE_VERIFICATION_STATUSES)
    assert {"APPROVED", "PENDING_REVIEW", "DECLINED"} <= {n.name_status for n in numbers}
    assert {"NONE", "PENDING_REVIEW", "DECLINED"} <= {n.new_name_status for n in numbers}
    kinds = {frozenset(k for k in n.callbacks) for n in numbers}
    assert frozenset() in kinds  # neither
    assert frozenset({"status_callback_url", "up_callback_url"}) in kinds  # HTTP only
    assert frozenset({"status_queue", "up_queue"}) in kinds  # MNS queues only
    assert frozenset({"status_callback_url", "up_callback_url", "status_queue", "up_queue"}) in kinds
    by_number = {n.phone_number: n for n in numbers}
    assert by_number["447700900123"].messaging_limit is None  # TIER_UNLIMITED
    assert by_number["14155550101"].messaging_limit == 100_000
    assert by_number["14155550101"].status_queue.startswith("alicom-")


async def test_query_shows_meta_changes_only_after_a_sync(sandbox: CamsSandbox, make_client) -> None:
    client = make_client()
    before = {n.phone_number: n for n in await client.query_phone_numbers()}
    assert before["14155550102"].new_name_status == "PENDING_REVIEW"
    assert before["14155550102"].verified_name == "Northwind Sales"
    sandbox.meta_change("447700900456", QualityRating="YELLOW")
    synced = {n.phone_number: n for n in await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)}
    assert synced["14155550102"].new_name_status == "APPROVED"
    assert synced["14155550102"].verified_name == "Northwind Sales & Service"
    assert synced["447700900456"].quality_rating == "YELLOW"
    after = {n.phone_number: n for n in await client.query_phone_numbers(DEFAULT_CUST_SPACE_ID)}
    assert after == synced


async def test_query_filters_by_status_and_space(make_client) -> None:
    client = make_client()
    connected = await client.query_phone_numbers(status="connected")
    assert connected and {n.status for n in connected} == {"CONNECTED"}
    assert [n.phone_number for n in await client.query_phone_numbers(status="BANNED")] == ["61491570157"]
    isv = await client.query_phone_numbers(ISV_CUST_SPACE_ID, isv_code="isv-check-code")
    assert [n.phone_number for n in isv] == ["61491570158", "61491570159"]
    assert isv[0].name_status == "Approval"  # kept as CAMS says it (the doc's own example value)


async def test_unknown_space_points_at_cust_space_id(make_client) -> None:
    with pytest.raises(ValidationError) as refused:
        await make_client().sync_phone_numbers("cams-no-such-space")
    assert refused.value.code == "InvalidParameter" and refused.value.status == 400
    assert refused.value.pointer == "CustSpaceId"
    assert refused.value.request_id


async def test_sync_without_a_space_is_refused_before_sending(sandbox: CamsSandbox, make_client) -> None:
    with pytest.raises(ValidationError) as refused:
        await make_client().sync_phone_numbers("  ")
    assert refused.value.pointer == "CustSpaceId"
    assert sandbox.requests_handled == 0


async def test_env_sets_the_seeded_space_id(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv(CUST_SPACE_ID_ENV, "cams-from-env-42")
    sandbox = CamsSandbox()
    assert ("CustSpaceId", f"cams-from-env-42 (from ${CUST_SPACE_ID_ENV})") in sandbox.credentials()
    async with CamsClient(
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
        endpoint=endpoint,
        http_transport=AsyncInProcessTransport(sandbox),
    ) as client:
        assert len(await client.sync_phone_numbers("cams-from-env-42")) == 13
        assert len(await client.query_phone_numbers()) == 13  # the default space is the env's
        with pytest.raises(ValidationError):
            await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)


async def test_lenient_items_and_malformed_envelopes(sandbox: CamsSandbox, make_client) -> None:
    client = make_client()
    odd = {
        "Code": "OK",
        "RequestId": "r-1",
        "Success": True,
        "PhoneNumbers": [
            {
                "PhoneNumber": 8613800001234,
                "Status": " connected ",
                "QualityRating": None,
                "MessagingLimitTier": ["x"],
                "VerifiedName": {"nested": 1},
                "IsOfficial": True,
                "Extra": "kept",
            },
            "not an object",
            None,
            7,
            {},
        ],
    }
    sandbox.faults.respond("*", f"/{QUERY}", 200, odd)
    numbers = await client.query_phone_numbers()
    assert len(numbers) == 2
    first, empty = numbers
    assert (first.phone_number, first.status, first.quality_rating, first.messaging_limit_tier) == (
        "8613800001234",
        "CONNECTED",
        "",
        "",
    )
    assert first.verified_name == "" and first.is_official == "true" and first.raw["Extra"] == "kept"
    assert first.messaging_limit is None and first.callbacks == {}
    assert empty == WabaNumber(phone_number="")

    sandbox.faults.respond("*", f"/{QUERY}", 200, {"Code": "OK", "RequestId": "r-2"})
    assert await client.query_phone_numbers() == []  # no PhoneNumbers: none
    for body in (
        {"Code": "OK", "PhoneNumbers": "nope"},
        {"Code": "OK", "PhoneNumbers": {"PhoneNumber": []}},
        {"PhoneNumbers": []},
        "<html>gateway</html>",
        [1, 2],
    ):
        sandbox.faults.respond("*", f"/{SYNC}", 200, body)
        with pytest.raises(MalformedResponse):
            await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)


async def test_business_failure_with_success_false(sandbox: CamsSandbox, make_client) -> None:
    sandbox.fail_next(SYNC, "Product.Unsubscript")
    with pytest.raises(AuthError) as refused:
        await make_client().sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    assert refused.value.code == "Product.Unsubscript" and refused.value.status == 400
    sandbox.faults.respond(
        "*",
        f"/{QUERY}",
        200,
        {"Code": "OK", "Success": False, "Message": "denied", "AccessDeniedDetail": "cams:QueryChatappPhoneNumbers"},
    )
    with pytest.raises(ProviderError) as failed:
        await make_client().query_phone_numbers()
    assert "AccessDeniedDetail" in failed.value.detail


# ---------------------------------------------------------------------------------------------
# Authentication


@pytest.mark.parametrize("signature", ["v3", "v1"])
async def test_wrong_secret_is_an_auth_error_with_the_vendor_code(
    sandbox: CamsSandbox, make_client, signature: str
) -> None:
    secret = "definitely-the-wrong-secret"
    client = make_client(access_key_secret=secret, signature=signature)
    with pytest.raises(AuthError) as refused:
        await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    error = refused.value
    assert error.code == "SignatureDoesNotMatch" and error.status == 400 and error.request_id
    assert secret not in str(error) and secret not in error.detail
    assert "server string to sign is:" in error.detail  # kept for debugging, out of the summary
    assert sandbox.action_counts == {} and sandbox.requests_handled == 1  # never re-sent


async def test_unknown_access_key_id(make_client) -> None:
    with pytest.raises(AuthError) as refused:
        await make_client(access_key_id="LTAI-nobody").query_phone_numbers()
    assert refused.value.code == "InvalidAccessKeyId.NotFound" and refused.value.status == 404


def _signed(
    action: str,
    *,
    query: dict[str, str] | None = None,
    secret: str = DEFAULT_ACCESS_KEY_SECRET,
    key_id: str = DEFAULT_ACCESS_KEY_ID,
    date: float | None = None,
    nonce: str | None = None,
    host: str = "cams.sandbox.invalid",
    version: str = "2020-06-06",
) -> httpx.Request:
    pairs = sorted((query or {}).items())
    headers = signing.sign_v3(
        method="POST",
        host=host,
        action=action,
        version=version,
        access_key_id=key_id,
        access_key_secret=secret,
        query=pairs,
        date=date,
        nonce=nonce,
    )
    url = f"https://{host}/" + (f"?{signing.encode_query(pairs)}" if pairs else "")
    return httpx.Request("POST", url, headers=headers, content=b"")


def _bad_requests(now: float) -> dict[str, list[httpx.Request]]:
    """Requests the gateway must refuse; the last of each list is the one compared."""
    good = _signed(SYNC, query={"CustSpaceId": DEFAULT_CUST_SPACE_ID}, date=now)
    unsigned = _signed(SYNC, date=now)
    unsigned.headers["x-acs-extra"] = "not signed"
    missing_date = _signed(SYNC, date=now)
    del missing_date.headers["x-acs-date"]
    tampered = _signed(SYNC, query={"CustSpaceId": "a"}, date=now)
    tampered.url = tampered.url.copy_with(query=b"CustSpaceId=b")
    rpc = signing.sign_rpc(
        method="POST",
        action=SYNC,
        version="2020-06-06",
        access_key_id=DEFAULT_ACCESS_KEY_ID,
        access_key_secret="wrong",
        params=[("CustSpaceId", "x")],
        date=now,
    )
    rpc_no_sig = [(k, v) for k, v in rpc if k != "Signature"]
    return {
        "wrong secret": [_signed(SYNC, secret="wrong", date=now)],
        "unknown key": [_signed(SYNC, key_id="nobody", date=now)],
        "stale date": [_signed(SYNC, date=now - 16 * 60)],
        "bad authorization": [
            httpx.Request(
                "POST", "https://cams.sandbox.invalid/", headers={"authorization": "ACS3-HMAC-SHA256 Credential=x"}
            )
        ],
        "unsigned x-acs header": [unsigned],
        "missing x-acs-date": [missing_date],
        "tampered query": [tampered],
        "nonce reused": [
            good,
            _signed(
                SYNC,
                query={"CustSpaceId": DEFAULT_CUST_SPACE_ID},
                date=now,
                nonce=good.headers["x-acs-signature-nonce"],
            ),
        ],
        "rpc wrong secret": [httpx.Request("POST", "https://cams.sandbox.invalid/?" + signing.encode_query(rpc))],
        "rpc no signature": [
            httpx.Request("POST", "https://cams.sandbox.invalid/?" + signing.encode_query(rpc_no_sig))
        ],
        "no credentials": [httpx.Request("POST", "https://cams.sandbox.invalid/")],
    }


def test_gateway_refusals_match_the_dypls_emulator() -> None:
    """The CAMS gateway checks signatures exactly as the Dypls emulator does (same codes, same
    statuses), case by case."""
    aliyun_pls = pytest.importorskip("providers.sandbox.aliyun_pls")
    clock = FakeClock(1_767_600_000.0)
    answers: dict[str, dict[str, tuple[int, str]]] = {}
    for name, emulator in (
        ("cams", CamsSandbox(clock=clock, qps=0)),
        (
            "dypls",
            aliyun_pls.DyplsSandbox(
                clock=clock, qps=0, access_key_id=DEFAULT_ACCESS_KEY_ID, access_key_secret=DEFAULT_ACCESS_KEY_SECRET
            ),
        ),
    ):
        with httpx.Client(transport=SyncInProcessTransport(emulator)) as http:
            for case, requests in _bad_requests(clock.now).items():
                for request in requests:
                    response = http.send(request)
                answers.setdefault(case, {})[name] = (response.status_code, response.json()["Code"])
    for case, by_emulator in answers.items():
        assert by_emulator["cams"] == by_emulator["dypls"], case
        assert by_emulator["cams"][0] >= 400, case
    assert answers["wrong secret"]["cams"] == (400, "SignatureDoesNotMatch")
    assert answers["nonce reused"]["cams"] == (400, "SignatureNonceUsed")


# ---------------------------------------------------------------------------------------------
# Throttling


@pytest.mark.parametrize("code", ["System.LimitControl", "Throttling.User"])
async def test_throttling_is_retried_with_backoff(sandbox: CamsSandbox, make_client, code: str) -> None:
    sleeps = Sleeps()
    sandbox.fail_next(SYNC, code, times=2)
    numbers = await make_client(sleep=sleeps).sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    assert len(numbers) == 13
    assert sandbox.requests_handled == 3
    assert len(sleeps.waits) == 2
    assert 0.375 <= sleeps.waits[0] <= 0.5 and 0.75 <= sleeps.waits[1] <= 1.0  # capped exponential, jittered


async def test_persistent_throttling_surfaces_as_rate_limited(sandbox: CamsSandbox, make_client) -> None:
    sleeps = Sleeps()
    sandbox.fail_next("*", THROTTLE_CODE, times=None)
    client = make_client(sleep=sleeps)
    with pytest.raises(RateLimited) as throttled:
        await client.query_phone_numbers()
    error = throttled.value
    assert error.code == THROTTLE_CODE and error.status == THROTTLE_STATUS and error.request_id
    assert THROTTLE_MESSAGE in str(error) and "after 4 attempts" in error.detail
    attempts = THROTTLE_RETRY.max_retries + 1
    assert sandbox.requests_handled == attempts and client.throttled_attempts == attempts
    assert len(sleeps.waits) == THROTTLE_RETRY.max_retries
    assert all(0 < w <= THROTTLE_RETRY.max_delay for w in sleeps.waits)
    assert sleeps.waits == sorted(sleeps.waits)


async def test_server_retry_after_is_honoured(sandbox: CamsSandbox, make_client) -> None:
    sleeps = Sleeps()
    sandbox.fail_next(SYNC, THROTTLE_CODE, headers={"x-acs-retry-after": "300"})  # milliseconds
    await make_client(sleep=sleeps).sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    assert sleeps.waits == [0.3]
    sandbox.fail_next(SYNC, THROTTLE_CODE, headers={"x-acs-retry-after": "60000"})  # too long to wait inline
    with pytest.raises(RateLimited) as throttled:
        await make_client(sleep=sleeps).sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    assert throttled.value.retry_after == 60.0 and sleeps.waits == [0.3]


async def test_a_429_retried_by_the_transport_is_not_retried_again(sandbox: CamsSandbox, make_client) -> None:
    sleeps = Sleeps()
    sandbox.fail_next(QUERY, "Throttling.User", status=429, times=None)
    client = make_client(sleep=sleeps, retry=RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02))
    with pytest.raises(RateLimited) as throttled:
        await client.query_phone_numbers()
    assert throttled.value.code == "Throttling.User" and throttled.value.status == 429
    # The Transport's 3 attempts with its own two waits, not 3 x 4: the throttle hook never saw them.
    assert sandbox.requests_handled == 3 and client.throttled_attempts == 0
    assert len(sleeps.waits) == 2 and all(w <= 0.02 for w in sleeps.waits)


async def test_sandbox_throttles_the_eleventh_call_in_one_second() -> None:
    clock = FakeClock()
    sandbox = CamsSandbox(rate_clock=clock)
    with httpx.Client(transport=SyncInProcessTransport(sandbox)) as http:
        # A refused signature does not count towards the window.
        assert http.send(_signed(QUERY, secret="wrong")).status_code == 400
        first = clock.now + 0.09
        for i in range(DOCUMENTED_QPS):
            clock.now += 0.09
            assert http.send(_signed(QUERY)).status_code == 200, i
        refused = http.send(_signed(QUERY))
        assert refused.status_code == THROTTLE_STATUS
        body = refused.json()
        assert body["Code"] == THROTTLE_CODE and body["Message"] == THROTTLE_MESSAGE
        assert body["HostId"] and body["RequestId"] and THROTTLE_CODE in body["Recommend"]
        assert "x-acs-retry-after" not in refused.headers
        # Across both operations, and a refused call does not count either.
        assert http.send(_signed(SYNC, query={"CustSpaceId": DEFAULT_CUST_SPACE_ID})).status_code == THROTTLE_STATUS
        clock.now = first + 1.0 + 1e-6  # the first admitted call leaves the window
        assert http.send(_signed(SYNC, query={"CustSpaceId": DEFAULT_CUST_SPACE_ID})).status_code == 200
        assert http.send(_signed(SYNC, query={"CustSpaceId": DEFAULT_CUST_SPACE_ID})).status_code == THROTTLE_STATUS
    assert sandbox.throttled == 3 and sum(sandbox.action_counts.values()) == DOCUMENTED_QPS + 1


async def test_real_sandbox_throttling_is_absorbed_by_retries(make_client) -> None:
    """A stricter server than the documented limit: its System.LimitControl answers are re-sent
    after backoff (on a fake clock the waits move) until every call succeeds."""
    clock = FakeClock()
    strict = CamsSandbox(qps=3, rate_clock=clock)
    client = make_client(handler=strict, sleep=Sleeps(clock))
    results = await asyncio.gather(*(client.query_phone_numbers() for _ in range(5)))
    assert all(len(r) == 13 for r in results)
    assert strict.throttled >= 2 and sum(strict.action_counts.values()) == 5


# ---------------------------------------------------------------------------------------------
# THE limiter: one per account, shared by every caller and client instance


class RecordingSandbox(CamsSandbox):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.arrivals: list[float] = []

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        self.arrivals.append(time.monotonic())
        return super().handle(req)


async def test_forty_concurrent_calls_through_two_clients_never_exceed_ten_per_second(endpoint: str) -> None:
    sandbox = RecordingSandbox()
    transport = AsyncInProcessTransport(sandbox)
    first = CamsClient(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, endpoint=endpoint, http_transport=transport)
    second = CamsClient(
        DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, endpoint=endpoint, http_transport=transport, signature="v1"
    )
    assert first.transport.limiter is second.transport.limiter  # same account, same limiter

    async def screen(index: int) -> int:
        calls = 0
        for n in range(5):
            client = first if (index + n) % 2 else second
            if n % 2:
                await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
            else:
                await client.query_phone_numbers()
            calls += 1
        return calls

    try:
        done = await asyncio.gather(*(screen(i) for i in range(8)))
    finally:
        await first.aclose()
        await second.aclose()
    assert sum(done) == 40
    assert len(sandbox.arrivals) == 40 and sandbox.throttled == 0  # nothing was refused, nothing re-sent
    arrivals = sorted(sandbox.arrivals)
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= DOCUMENTED_QPS, f"{busiest} calls inside one second"


async def test_other_accounts_have_their_own_limiter(endpoint: str) -> None:
    a = CamsClient("key-a", "s", endpoint=endpoint)
    b = CamsClient("key-a", "s", endpoint=endpoint.replace("https://", ""))  # same origin, spelled differently
    c = CamsClient("key-b", "s", endpoint=endpoint)
    d = CamsClient("key-a", "s", endpoint="http://127.0.0.1:4512")
    try:
        assert a.transport.limiter is b.transport.limiter
        assert a.transport.limiter is not c.transport.limiter and a.transport.limiter is not d.transport.limiter
        assert a.transport.limiter.rate == DOCUMENTED_QPS and a.transport.limiter.per >= 1.0
    finally:
        for client in (a, b, c, d):
            await client.aclose()
    with pytest.raises(ValueError):
        CamsClient("key-a", "s", endpoint=endpoint, rate_limit=DOCUMENTED_QPS + 1)


# ---------------------------------------------------------------------------------------------
# Configuration, credentials, persistence


async def test_endpoint_default_and_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    async with CamsClient("k", "s") as client:
        assert client.endpoint == DEFAULT_ENDPOINT == "https://cams.ap-southeast-1.aliyuncs.com"
    monkeypatch.setenv(ENDPOINT_ENV, "http://127.0.0.1:4512")
    async with CamsClient("k", "s") as client:
        assert client.endpoint == "http://127.0.0.1:4512"
    monkeypatch.setenv(ENDPOINT_ENV, "http://cams.example.com")
    with pytest.raises(ValueError, match="plain http is allowed only for localhost"):
        CamsClient("k", "s")


def test_credentials_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ACCESS_KEY_ID_ENV, ACCESS_KEY_SECRET_ENV, CUST_SPACE_ID_ENV):
        monkeypatch.delenv(name, raising=False)
    shown = dict(CamsSandbox().credentials())
    assert shown["AccessKeyId"] == DEFAULT_ACCESS_KEY_ID and shown["AccessKeySecret"] == DEFAULT_ACCESS_KEY_SECRET
    assert shown["CustSpaceId"] == DEFAULT_CUST_SPACE_ID and shown["limit"] == "10/s per AccessKeyId"
    monkeypatch.setenv(ACCESS_KEY_ID_ENV, "MyKeyId")
    monkeypatch.setenv(ACCESS_KEY_SECRET_ENV, "my-very-private-secret")
    sandbox = CamsSandbox()
    shown = dict(sandbox.credentials())
    assert sandbox.access_key_secret == "my-very-private-secret"
    assert "my-very-private-secret" not in " ".join(shown.values())
    assert shown["AccessKeyId"].startswith("MyKeyId")


def test_one_access_key_serves_both_aliyun_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers.sandbox.aliyun_pls import DyplsSandbox

    pair = lambda e: (e.access_key_id, e.access_key_secret)  # noqa: E731
    assert pair(CamsSandbox()) == pair(DyplsSandbox()) == (DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
    monkeypatch.setenv(ACCESS_KEY_ID_ENV, "LTAIfromenv")
    monkeypatch.setenv(ACCESS_KEY_SECRET_ENV, "secret-from-env-0123456789")
    assert pair(CamsSandbox()) == pair(DyplsSandbox()) == ("LTAIfromenv", "secret-from-env-0123456789")
    for emulator in (CamsSandbox(), DyplsSandbox()):
        printed = dict(emulator.credentials())
        assert printed["AccessKeyId"] == f"LTAIfromenv (from ${ACCESS_KEY_ID_ENV})"
        assert "secret-from-env-0123456789" not in printed["AccessKeySecret"]


def test_registered_in_the_emulator_registry() -> None:
    cls = vendors.descriptor("aliyun-cams").emulator.load()
    assert cls is CamsSandbox and cls.vendor == "aliyun-cams" and cls.base_path == ""
    assert cls.STATE_FILE == "aliyun_cams.json" and "aliyun-cams" in available()


async def test_state_persists_and_resets(tmp_path, endpoint: str) -> None:
    path = tmp_path / "aliyun_cams.json"
    sandbox = CamsSandbox(StateStore(path))
    async with CamsClient(
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
        endpoint=endpoint,
        http_transport=AsyncInProcessTransport(sandbox),
    ) as client:
        await client.sync_phone_numbers(DEFAULT_CUST_SPACE_ID)
    saved = json.loads(path.read_text())["aliyun_cams"]
    assert saved["meta_changes"] == {}
    again = CamsSandbox(StateStore(path))
    assert {n["PhoneNumber"]: n["NewNameStatus"] for n in again.numbers()}["14155550102"] == "APPROVED"
    again.reset()
    assert {n["PhoneNumber"]: n["NewNameStatus"] for n in again.numbers()}["14155550102"] == "PENDING_REVIEW"
    empty = CamsSandbox(seed_data=False)
    assert empty.numbers() == [] and empty.numbers(ISV_CUST_SPACE_ID) == []
