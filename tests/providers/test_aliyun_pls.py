"""teledeck's Alibaba Dypls client and bindings adapter against the in-process sandbox.

Every operation under both signature schemes, every vendor error path, China-time conversion,
timeouts that are never re-sent, and read-only refusal. The sandbox and the client share one fake
clock, so expiry and the 15-minute signature window are driven without sleeping.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from providers.aliyun import signing
from providers.aliyun.pls import (
    CHINA_TZ,
    DEFAULT_ENDPOINT,
    ENDPOINT_ENV,
    AliyunBindings,
    DyplsClient,
    endpoint_from_env,
    from_china_time,
    to_china_time,
)
from providers.aliyun.rpc import AliyunRpcClient, classify, normalise_endpoint
from providers.bindings import ACTIVE, EXPIRED, REMOVED, Binding, BindingChange, BindRequest
from providers.errors import (
    AuthError,
    CannotCheck,
    Conflict,
    MalformedResponse,
    NotFound,
    RateLimited,
    ReadOnlyRefused,
    Timeout,
    Unavailable,
    ValidationError,
)
from providers.sandbox.aliyun_gateway import ACCESS_KEY_SECRET_ENV, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from providers.sandbox.aliyun_pls import (
    DEFAULT_POOL_KEY,
    IN_PROCESS_ENDPOINT,
    STRICT_POOL_KEY,
    DyplsSandbox,
)
from providers.sandbox.http import AsyncInProcessTransport
from providers.sandbox.state import StateStore
from providers.transport import RetryPolicy

FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)
T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC).timestamp()
SCHEMES = ["v3", "v1"]
A, B = "13900000021", "13900000022"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def utc(self, seconds: float = 0.0) -> datetime:
        return datetime.fromtimestamp(self.now + seconds, UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock) -> DyplsSandbox:
    return DyplsSandbox(clock=clock, qps=0)


def client_for(
    sandbox,
    clock,
    *,
    signature="v3",
    key=None,
    secret=None,
    read_only=False,
    timeout=None,
    nonce=None,
    client_clock=None,
) -> DyplsClient:
    extra = {"nonce": nonce} if nonce is not None else {}
    return DyplsClient(
        key or sandbox.access_key_id,
        secret or sandbox.access_key_secret,
        endpoint=IN_PROCESS_ENDPOINT,
        signature=signature,
        http_transport=AsyncInProcessTransport(sandbox),
        retry=FAST,
        timeout=timeout,
        read_only=read_only,
        rate_limit=None,
        clock=client_clock or clock,
        **extra,
    )


@pytest.fixture(params=SCHEMES)
async def client(request, sandbox, clock):
    c = client_for(sandbox, clock, signature=request.param)
    yield c
    await c.aclose()


def _detail_of(sandbox, subs_id):
    return next(b for b in sandbox.bindings() if b["subs_id"] == subs_id)


# ---------------------------------------------------------------------------------------------
# Every operation


async def test_every_operation(client, sandbox, clock):
    P = DEFAULT_POOL_KEY
    bound = await client.bind_axb(
        P, A, clock.utc(86400), phone_no_b=B, expect_city="Beijing", recording=True, out_id="order 42"
    )
    assert bound.subs_id and bound.secret_no.startswith("1700000200") and bound.request_id
    stored = _detail_of(sandbox, bound.subs_id)
    assert (stored["a"], stored["b"], stored["need_record"], stored["out_id"]) == (A, B, True, "order 42")

    detail = await client.query_subscription_detail(P, bound.subs_id, bound.secret_no)
    assert (detail.phone_no_a, detail.phone_no_b, detail.phone_no_x) == (A, B, bound.secret_no)
    assert detail.active is True and detail.need_record is True and detail.expires_at == clock.utc(86400)
    assert await client.query_subs_id(bound.secret_no, P) == bound.subs_id

    await client.update_expiration(P, bound.subs_id, bound.secret_no, clock.utc(2 * 86400))
    await client.update_phone_no_a(P, bound.subs_id, bound.secret_no, "13900000023")
    await client.update_phone_no_b(P, bound.subs_id, bound.secret_no, "057100000024")
    await client.update_recording(P, bound.subs_id, bound.secret_no, False)
    detail = await client.query_subscription_detail(P, bound.subs_id, bound.secret_no)
    assert (detail.phone_no_a, detail.phone_no_b, detail.need_record) == ("13900000023", "057100000024", False)
    assert detail.expires_at == clock.utc(2 * 86400)

    axn = await client.bind_axn(P, "13900000031", clock.utc(3600))
    assert _detail_of(sandbox, axn.subs_id)["mode"] == "AXN"
    ext = await client.bind_axn_extension(P, "13900000041", clock.utc(3600), phone_no_x="17000003001")
    assert ext.secret_no == "17000003001" and ext.extension == "100"  # 101 is the seeded one
    chosen = await client.bind_axn_extension(P, "13900000042", clock.utc(3600), phone_no_x="17000003001", extension="7")
    assert chosen.extension == "7"

    url = await client.query_record_file_download_url(P, "c0ffee0000000001@17000001001", clock.utc(-3600))
    assert url.startswith("https://dypls-record.sandbox.invalid/") and "Expires=" in url

    await client.unbind_subscription(P, bound.subs_id, bound.secret_no)
    with pytest.raises(NotFound) as caught:
        await client.query_subscription_detail(P, bound.subs_id, bound.secret_no)
    assert caught.value.code == "isv.SUBS_NOT_EXIST" and caught.value.pointer == "SubsId"
    assert await client.query_subs_id("17000004001", P) is None  # no binding on that X


async def test_wire_format_matches_the_sdk(sandbox, clock):
    seen = []
    original = sandbox.handle

    def spy(req):
        seen.append(req)
        return original(req)

    sandbox.handle = spy
    for scheme in SCHEMES:
        async with client_for(sandbox, clock, signature=scheme) as c:
            await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B, recording=True, out_id="a b+c")
    v3, v1 = seen
    for req in seen:
        assert req.method == "POST" and req.path == "/" and req.body == b""
        query = req.query_dict
        assert (query["PoolKey"], query["IsRecordingEnabled"], query["OutId"]) == (DEFAULT_POOL_KEY, "true", "a b+c")
        assert req.header("x-acs-action") == "BindAxb" and req.header("x-acs-version") == "2017-05-25"
    assert "Action" not in v3.query_dict and v3.header("authorization").startswith("ACS3-HMAC-SHA256 Credential=")
    assert v3.header("x-acs-content-sha256") == signing.EMPTY_BODY_SHA256
    assert v3.header("x-acs-date") == "2026-03-01T02:00:00Z"
    assert v1.header("authorization") is None
    common = {k: v1.query_dict[k] for k in ("Action", "Version", "SignatureMethod", "SignatureVersion", "Timestamp")}
    assert common == {
        "Action": "BindAxb",
        "Version": "2017-05-25",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "Timestamp": "2026-03-01T02:00:00Z",
    }
    assert v1.query_dict["AccessKeyId"] == sandbox.access_key_id and v1.query_dict["Signature"]


# ---------------------------------------------------------------------------------------------
# China time


def test_china_time_conversion():
    moment = datetime(2026, 3, 1, 17, 30, 5, 999_000, tzinfo=UTC)
    assert to_china_time(moment) == "2026-03-02 01:30:05"
    assert to_china_time(moment.astimezone(timezone(timedelta(hours=-5)))) == "2026-03-02 01:30:05"
    assert from_china_time("2026-03-02 01:30:05") == datetime(2026, 3, 1, 17, 30, 5, tzinfo=UTC)
    assert from_china_time("2026-03-02 01:30:05").tzinfo == UTC
    assert CHINA_TZ.utcoffset(None) == timedelta(hours=8)
    with pytest.raises(ValueError):
        to_china_time(datetime(2026, 3, 1, 17, 30))
    for bad in ("2026-03-02T01:30:05", "2026-03-02 01:30", ""):
        with pytest.raises(ValueError):
            from_china_time(bad)


async def test_expiration_travels_as_china_time(client, sandbox, clock):
    wanted = datetime(2026, 3, 1, 20, 15, 0, tzinfo=UTC)  # 04:15 on 2 March in Beijing
    bound = await client.bind_axb(DEFAULT_POOL_KEY, A, wanted, phone_no_b=B)
    assert _detail_of(sandbox, bound.subs_id)["expire"] == wanted.timestamp()
    detail = await client.query_subscription_detail(DEFAULT_POOL_KEY, bound.subs_id, bound.secret_no)
    assert detail.raw["SecretBindDetailDTO"]["ExpireDate"] == "2026-03-02 04:15:00"
    assert detail.expires_at == wanted


# ---------------------------------------------------------------------------------------------
# Business rules and vendor errors


async def test_expiry_must_be_more_than_a_minute_ahead(client, clock):
    with pytest.raises(ValidationError) as caught:
        await client.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(60), phone_no_b=B)
    error = caught.value
    assert error.code == "isv.EXPIRE_DATE_ILLEGAL" and error.pointer == "Expiration" and error.request_id
    assert (await client.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(61), phone_no_b=B)).subs_id


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("PhoneNoA", {"phone_no_a": "139-0000-0021"}),
        ("PhoneNoB", {"phone_no_b": "1390000abcd"}),
        ("PhoneNoB", {"phone_no_b": "23900000022"}),
    ],
)
async def test_number_formats(sandbox, clock, field, kwargs):
    args = {"phone_no_a": A, "phone_no_b": B, **kwargs}
    async with client_for(sandbox, clock) as c:
        with pytest.raises(ValidationError) as caught:
            await c.bind_axb(DEFAULT_POOL_KEY, args.pop("phone_no_a"), clock.utc(600), **args)
    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert caught.value.pointer == field


async def test_landline_numbers_are_accepted(client, clock):
    assert (await client.bind_axb(DEFAULT_POOL_KEY, "057100000031", clock.utc(600), phone_no_b=B)).subs_id


async def test_a_b_conflict_on_one_x(client, clock):
    # Seeded: 13900000001 <-> 13900000101 on 17000001001.
    with pytest.raises(Conflict) as caught:
        await client.bind_axb(DEFAULT_POOL_KEY, "13900000001", clock.utc(600), phone_no_b=B, phone_no_x="17000001001")
    assert caught.value.code == "isv.BIND_CONFLICT" and caught.value.request_id
    # Other numbers may share that X; the same A goes to another X when X is left to the pool.
    assert (await client.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B, phone_no_x="17000001001")).subs_id
    other = await client.bind_axb(DEFAULT_POOL_KEY, "13900000001", clock.utc(600), phone_no_b=B)
    assert other.secret_no != "17000001001"
    with pytest.raises(Conflict) as caught:  # an AXN X belongs to one A
        await client.bind_axn(DEFAULT_POOL_KEY, "13900000051", clock.utc(600), phone_no_x="17000002001")
    assert caught.value.code == "isv.BIND_CONFLICT"


async def test_x_outside_the_pool_is_forbidden(client, clock):
    with pytest.raises(Conflict) as caught:
        await client.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B, phone_no_x="17100005001")
    assert caught.value.code == "isv.FORBIDDEN_ACTION" and "createSubs" in caught.value.message


async def test_pool_exhaustion_and_expect_city(client, clock):
    first = await client.bind_axn(STRICT_POOL_KEY, "13900000061", clock.utc(600), expect_city="深圳")
    assert first.secret_no == "17100004001"
    with pytest.raises(Conflict) as caught:  # a strict pool never falls back to another city
        await client.bind_axn(STRICT_POOL_KEY, "13900000062", clock.utc(600), expect_city="0755")
    assert caught.value.code == "isv.NO_AVAILABLE_NUMBER"
    assert classify("isv.NO_AVAILABLE_NUMBER", None) is Conflict
    # The main pool is not strict: an exhausted city falls back to another one.
    await client.bind_axn(DEFAULT_POOL_KEY, "13900000063", clock.utc(600), expect_city="Shenzhen")
    fallback = await client.bind_axn(DEFAULT_POOL_KEY, "13900000064", clock.utc(600), expect_city="Shenzhen")
    assert not fallback.secret_no.startswith("1700000400")


async def test_unknown_pool(client, clock):
    with pytest.raises(NotFound) as caught:
        await client.bind_axb("FC199999999999999", A, clock.utc(600), phone_no_b=B)
    assert caught.value.code == "isv.POOLKEY_NOT_EXISTS" and caught.value.pointer == "PoolKey"


async def test_expiry_turns_a_binding_inactive(client, sandbox, clock):
    bound = await client.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(120), phone_no_b=B, phone_no_x="17000001003")
    clock.advance(121)
    detail = await client.query_subscription_detail(DEFAULT_POOL_KEY, bound.subs_id, bound.secret_no)
    assert detail.status == 0 and detail.active is False
    with pytest.raises(Conflict) as caught:
        await client.update_expiration(DEFAULT_POOL_KEY, bound.subs_id, bound.secret_no, clock.utc(3600))
    assert caught.value.code == "isv.FORBIDDEN_ACTION"
    assert await client.query_subs_id("17000001003", DEFAULT_POOL_KEY) is None
    again = await client.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B, phone_no_x="17000001003")
    assert again.subs_id != bound.subs_id


async def test_seeded_expired_binding_reads_as_expired(client, sandbox):
    expired = next(b for b in sandbox.bindings() if b["out_id"] == "ride-0999")
    detail = await client.query_subscription_detail(DEFAULT_POOL_KEY, expired["subs_id"], expired["x"])
    assert detail.status == 0 and detail.phone_no_a == "13900000006"


async def test_flow_limit(clock):
    sandbox = DyplsSandbox(clock=clock, qps=3)
    async with client_for(sandbox, clock) as c:
        for _ in range(3):
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        with pytest.raises(RateLimited) as caught:
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        assert caught.value.code == "isv.FLOW_LIMIT" and caught.value.request_id
        clock.advance(1.5)
        assert await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)


async def test_missing_required_parameter(client):
    with pytest.raises(ValidationError) as caught:
        await client.query_record_file_download_url(DEFAULT_POOL_KEY, "", "2026-03-01 10:00:00")
    assert caught.value.code == "MissingCallId" and caught.value.pointer == "CallId" and caught.value.status == 400


async def test_unknown_call_id(client):
    with pytest.raises(ValidationError) as caught:
        await client.query_record_file_download_url(DEFAULT_POOL_KEY, "nope@1", "2026-03-01 10:00:00")
    assert caught.value.code == "isv.INVALID_PARAMETERS" and caught.value.pointer == "CallId"


# ---------------------------------------------------------------------------------------------
# Authentication


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_wrong_secret_is_refused_and_never_shown(sandbox, clock, scheme, caplog):
    wrong = "WrongSecretValue-0123456789"
    caplog.set_level(logging.DEBUG)
    async with client_for(sandbox, clock, signature=scheme, secret=wrong) as c:
        with pytest.raises(AuthError) as caught:
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
    error = caught.value
    assert error.code == "SignatureDoesNotMatch" and error.status == 400 and error.request_id
    assert error.detail.startswith("server string to sign is:")
    shown = " ".join([str(error), error.detail, error.url, caplog.text])
    assert wrong not in shown and sandbox.access_key_secret not in shown
    assert sandbox.action_counts["QuerySubsId"] == 0


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_unknown_access_key(sandbox, clock, scheme):
    async with client_for(sandbox, clock, signature=scheme, key="NoSuchKeyId") as c:
        with pytest.raises(AuthError) as caught:
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
    assert caught.value.code == "InvalidAccessKeyId.NotFound" and caught.value.status == 404


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_stale_timestamp(sandbox, clock, scheme):
    late = Clock(clock.now - 16 * 60)
    async with client_for(sandbox, clock, signature=scheme, client_clock=late) as c:
        with pytest.raises(AuthError) as caught:
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        assert caught.value.code == "InvalidTimeStamp.Expired"
        late.now = clock.now - 14 * 60  # inside the 15-minute window
        assert await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_reused_nonce_is_refused_and_retried_once_with_a_fresh_one(sandbox, clock, scheme):
    nonces = iter(["n-1", "n-1", "n-2"])
    async with client_for(sandbox, clock, signature=scheme, nonce=lambda: next(nonces)) as c:
        await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        assert await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
    assert sandbox.requests_handled == 3 and sandbox.action_counts["QuerySubsId"] == 2
    async with client_for(sandbox, clock, signature=scheme, nonce=lambda: "always-the-same") as c:
        await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B)
        with pytest.raises(AuthError) as caught:
            await c.bind_axb(DEFAULT_POOL_KEY, "13900000071", clock.utc(600), phone_no_b=B)
    assert caught.value.code == "SignatureNonceUsed"
    assert sandbox.action_counts["BindAxb"] == 1


# -- the sandbox gateway, driven by hand: GET and form POST, tampering --------------------------


def _raw(sandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox), base_url=IN_PROCESS_ENDPOINT)


def _rpc_pairs(clock, nonce, **params):
    return signing.sign_rpc(
        method="GET",
        action="QuerySubsId",
        version="2017-05-25",
        access_key_id=DEFAULT_ACCESS_KEY_ID,
        access_key_secret=DEFAULT_ACCESS_KEY_SECRET,
        params=params,
        date=clock(),
        nonce=nonce,
    )


async def test_gateway_accepts_get_and_form_post_and_refuses_tampering(sandbox, clock):
    async with _raw(sandbox) as http:
        # RPC 1.0 over GET, everything in the query.
        pairs = _rpc_pairs(clock, "g1", PhoneNoX="17000001001", PoolKey=DEFAULT_POOL_KEY)
        ok = await http.get("/?" + signing.encode_query(pairs))
        assert ok.status_code == 200 and ok.json()["Code"] == "OK" and ok.json()["SubsId"]
        assert ok.headers["x-acs-request-id"] == ok.json()["RequestId"]

        # ...with one parameter changed after signing.
        pairs = _rpc_pairs(clock, "g2", PhoneNoX="17000001001", PoolKey=DEFAULT_POOL_KEY)
        tampered = [(k, "17000002001" if k == "PhoneNoX" else v) for k, v in pairs]
        refused = await http.get("/?" + signing.encode_query(tampered))
        body = refused.json()
        assert refused.status_code == 400 and body["Code"] == "SignatureDoesNotMatch"
        assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}

        # RPC 1.0 as a form POST: the form fields are signed with the query.
        common = signing.rpc_common_params(
            action="QuerySubsId", version="2017-05-25", access_key_id=DEFAULT_ACCESS_KEY_ID, date=clock(), nonce="f1"
        )
        form = {"PhoneNoX": "17000001001", "PoolKey": DEFAULT_POOL_KEY}
        signature = signing.rpc_signature(
            DEFAULT_ACCESS_KEY_SECRET, signing.rpc_string_to_sign("POST", {**common, **form})
        )
        query = signing.encode_query({**common, "Signature": signature})
        headers = {"content-type": "application/x-www-form-urlencoded"}
        ok = await http.post("/?" + query, content=signing.encode_query(form).encode(), headers=headers)
        assert ok.json()["Code"] == "OK"
        common["SignatureNonce"] = "f2"
        signature = signing.rpc_signature(
            DEFAULT_ACCESS_KEY_SECRET, signing.rpc_string_to_sign("POST", {**common, **form})
        )
        query = signing.encode_query({**common, "Signature": signature})
        changed = signing.encode_query({**form, "PhoneNoX": "17000002001"}).encode()
        refused = await http.post("/?" + query, content=changed, headers=headers)
        assert refused.status_code == 400 and refused.json()["Code"] == "SignatureDoesNotMatch"

        # V3 with a form body: the body is covered by x-acs-content-sha256.
        body = signing.encode_query(form).encode()
        signed = signing.sign_v3(
            method="POST",
            host="dyplsapi.sandbox.invalid",
            action="QuerySubsId",
            version="2017-05-25",
            access_key_id=DEFAULT_ACCESS_KEY_ID,
            access_key_secret=DEFAULT_ACCESS_KEY_SECRET,
            body=body,
            content_type="application/x-www-form-urlencoded",
            date=clock(),
            nonce="v1",
        )
        ok = await http.post("/", content=body, headers=signed)
        assert ok.json()["Code"] == "OK"
        signed = signing.sign_v3(
            method="POST",
            host="dyplsapi.sandbox.invalid",
            action="QuerySubsId",
            version="2017-05-25",
            access_key_id=DEFAULT_ACCESS_KEY_ID,
            access_key_secret=DEFAULT_ACCESS_KEY_SECRET,
            body=body,
            content_type="application/x-www-form-urlencoded",
            date=clock(),
            nonce="v2",
        )
        refused = await http.post("/", content=changed, headers=signed)
        assert refused.status_code == 400 and refused.json()["Code"] == "SignatureDoesNotMatch"

        # V3 with an x-acs-* header left out of SignedHeaders.
        signed = signing.sign_v3(
            method="GET",
            host="dyplsapi.sandbox.invalid",
            action="QuerySubsId",
            version="2017-05-25",
            access_key_id=DEFAULT_ACCESS_KEY_ID,
            access_key_secret=DEFAULT_ACCESS_KEY_SECRET,
            query=form,
            date=clock(),
            nonce="v3",
        )
        refused = await http.get("/?" + signing.encode_query(form), headers={**signed, "x-acs-extra": "1"})
        assert refused.status_code == 400 and refused.json()["Code"] == "IncompleteSignature"

        # No signature at all.
        refused = await http.get("/?" + signing.encode_query(form))
        assert refused.status_code == 400 and refused.json()["Code"] in ("MissingAccessKeyId", "IncompleteSignature")
    assert sandbox.action_counts["QuerySubsId"] == 3


async def test_unknown_action_and_version(sandbox, clock):
    async with client_for(sandbox, clock) as c:
        with pytest.raises(NotFound) as caught:
            await c.call("QueryNothing", {}, idempotent=True, mutates=False)
        assert caught.value.code == "InvalidAction.NotFound" and caught.value.status == 404
    other = AliyunRpcClient(
        endpoint=IN_PROCESS_ENDPOINT,
        version="2099-01-01",
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        http_transport=AsyncInProcessTransport(sandbox),
        clock=clock,
    )
    with pytest.raises(ValidationError) as caught:
        await other.call("QuerySubsId", {"PhoneNoX": "17000001001"}, idempotent=True, mutates=False)
    assert caught.value.code == "InvalidVersion"
    await other.aclose()


# ---------------------------------------------------------------------------------------------
# Transport-level failures


async def test_bind_timeout_is_never_resent(sandbox, clock):
    sandbox.faults.delay("*", "/BindAxb", 5.0, apply=True)
    async with client_for(sandbox, clock, timeout=httpx.Timeout(0.2)) as c:
        with pytest.raises(Timeout) as caught:
            await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B, phone_no_x="17000001003")
        assert caught.value.maybe_applied is True
        assert c.transport.requests_sent == 1
    assert sandbox.action_counts["BindAxb"] == 1  # applied once, and only once


async def test_idempotent_query_is_resent_after_a_timeout(sandbox, clock):
    sandbox.faults.delay("*", "/QuerySubsId", 5.0, apply=False)
    async with client_for(sandbox, clock, timeout=httpx.Timeout(0.2)) as c:
        assert await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        assert c.transport.requests_sent == 2


async def test_server_errors(sandbox, clock):
    async with client_for(sandbox, clock) as c:
        sandbox.faults.respond("*", "/QuerySubsId", 503, times=3)
        with pytest.raises(Unavailable) as caught:
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        assert caught.value.code == "ServiceUnavailable" and caught.value.status == 503
        assert c.transport.requests_sent == 3  # first try + FAST's two retries
        sandbox.faults.respond("*", "/BindAxb", 500)
        with pytest.raises(Unavailable):
            await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B)
        assert c.transport.requests_sent == 4  # a write is not re-sent on 5xx
        sandbox.faults.connect_error("*", "/BindAxb")  # never reached the server: safe to re-send
        assert (await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B)).subs_id


async def test_malformed_answers(sandbox, clock):
    async with client_for(sandbox, clock) as c:
        sandbox.faults.respond("*", "/QuerySubsId", 200, "<html>gateway hiccup</html>", content_type="text/html")
        with pytest.raises(MalformedResponse):
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        sandbox.faults.malformed("*", "/QuerySubscriptionDetail")
        with pytest.raises(MalformedResponse):
            await c.query_subscription_detail(DEFAULT_POOL_KEY, "1", "17000001001")
        sandbox.faults.respond("*", "/BindAxb", 200, {"Code": "OK", "Message": "OK"})
        with pytest.raises(MalformedResponse):
            await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B)
        sandbox.faults.respond("*", "/QuerySubsId", 502, b"Bad gateway", content_type="text/plain", times=3)
        with pytest.raises(Unavailable):
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)


@pytest.mark.parametrize(
    "code, status, cls",
    [
        ("isv.NO_AVAILABLE_NUMBER", 200, Conflict),
        ("isv.BIND_CONFLICT", 200, Conflict),
        ("isv.FLOW_LIMIT", 200, RateLimited),
        ("Throttling.User", 400, RateLimited),
        ("FlowLimited", 400, RateLimited),
        ("isp.SYSTEM_ERROR", 200, Unavailable),
        ("isv.SUBS_NOT_EXIST", 200, NotFound),
        ("isv.EXPIRE_DATE_ILLEGAL", 200, ValidationError),
        ("isp.RAM_PERMISSION_DENY", 200, AuthError),
        ("Forbidden.RAM", 403, AuthError),
        ("isv.OUT_OF_SERVICE", 200, AuthError),
    ],
)
async def test_vendor_code_classification(sandbox, clock, code, status, cls):
    sandbox.fail_next("BindAxb", code, f"sandbox says {code}", status=status)
    async with client_for(sandbox, clock) as c:
        with pytest.raises(cls) as caught:
            await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B)
    error = caught.value
    assert error.code == code and error.message == f"sandbox says {code}" and error.request_id
    assert error.provider == "aliyun" and error.method == "POST"
    assert error.status == (None if status == 200 else status)


async def test_retry_after_header_on_throttling(sandbox, clock):
    sandbox.faults.respond(
        "*",
        "/QuerySubsId",
        400,
        {"Code": "Throttling.User", "Message": "slow down"},
        headers={"x-acs-retry-after": "1500"},
    )
    async with client_for(sandbox, clock) as c:
        with pytest.raises(RateLimited) as caught:
            await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
    assert caught.value.retry_after == 1.5


async def test_read_only_refuses_writes_before_sending(sandbox, clock):
    async with client_for(sandbox, clock, read_only=True) as c:
        for attempt in (
            c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B),
            c.bind_axn(DEFAULT_POOL_KEY, A, clock.utc(600)),
            c.bind_axn_extension(DEFAULT_POOL_KEY, A, clock.utc(600)),
            c.unbind_subscription(DEFAULT_POOL_KEY, "1", "17000001001"),
            c.update_expiration(DEFAULT_POOL_KEY, "1", "17000001001", clock.utc(600)),
        ):
            with pytest.raises(ReadOnlyRefused):
                await attempt
        assert sandbox.requests_handled == 0
        assert await c.query_subs_id("17000001001", DEFAULT_POOL_KEY)
        assert sandbox.requests_handled == 1


def test_endpoint_rules(monkeypatch):
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    assert endpoint_from_env() == DEFAULT_ENDPOINT == "https://dyplsapi.aliyuncs.com"
    monkeypatch.setenv(ENDPOINT_ENV, "http://127.0.0.1:4511")
    assert normalise_endpoint(endpoint_from_env()) == "http://127.0.0.1:4511"
    assert normalise_endpoint("dyplsapi.aliyuncs.com") == "https://dyplsapi.aliyuncs.com"
    assert normalise_endpoint("http://[::1]:8080/") == "http://[::1]:8080"
    assert normalise_endpoint("http://localhost") == "http://localhost"
    for bad in ("http://dyplsapi.aliyuncs.com", "ftp://x", "https://user:pw@host", "https://host/path", ""):
        with pytest.raises(ValueError):
            normalise_endpoint(bad)
    monkeypatch.setenv(ENDPOINT_ENV, "http://example.com")
    with pytest.raises(ValueError):
        DyplsClient("k", "s")


def test_client_refuses_unknown_signature_scheme():
    with pytest.raises(ValueError):
        DyplsClient("k", "s", endpoint=IN_PROCESS_ENDPOINT, signature="md5")


# ---------------------------------------------------------------------------------------------
# AliyunBindings (the BindingProvider)


@pytest.fixture
async def bindings(sandbox, clock):
    adapter = AliyunBindings(
        client_for(sandbox, clock),
        pool=DEFAULT_POOL_KEY,
        account="sandbox",
        known_x=lambda pool: sandbox.pool_numbers(pool),
    )
    yield adapter
    await adapter.aclose()


async def test_bindings_lifecycle(bindings, sandbox, clock):
    expires = clock.utc(3600).replace(microsecond=123456)
    axb = await bindings.bind(
        BindRequest(mode="AXB", a=A, b=B, expires_at=expires, area_code="010", recording=True, user_data="ticket-9")
    )
    assert isinstance(axb, Binding) and axb.provider == "aliyun" and axb.status == ACTIVE
    assert axb.x.startswith("1700000200") and axb.pool == DEFAULT_POOL_KEY and axb.account == "sandbox"
    assert axb.expires_at == expires.replace(microsecond=0) and axb.key == f"aliyun:{axb.subscription_id}"

    later = clock.utc(7200)
    changed = await bindings.update(axb, BindingChange(expires_at=later, b="13900000029", recording=False))
    assert (changed.expires_at, changed.b, changed.recording, changed.a) == (later, "13900000029", False, A)
    fresh = await bindings.refresh(axb)
    assert (fresh.expires_at, fresh.b, fresh.recording, fresh.status) == (later, "13900000029", False, ACTIVE)
    assert fresh.user_data == "ticket-9"  # kept from the ledger: the detail has no OutId

    found = await bindings.lookup(x=axb.x)
    assert [b.subscription_id for b in found] == [axb.subscription_id]
    assert await bindings.lookup(x=axb.x, subscription_id=axb.subscription_id) == found

    clock.advance(7201)
    assert (await bindings.refresh(fresh)).status == EXPIRED
    await bindings.unbind(fresh)
    assert (await bindings.refresh(fresh)).status == REMOVED
    assert await bindings.lookup(x="17000004001") == []


async def test_bindings_axn_and_extension(bindings, clock):
    axn = await bindings.bind(BindRequest(mode="AXN", a="13900000081", expires_at=clock.utc(600)))
    assert axn.mode == "AXN" and axn.b == "" and axn.extension == ""
    ext = await bindings.bind(
        BindRequest(mode="AXN_EXT", a="13900000082", expires_at=clock.utc(600), x="17000003001", extension="55")
    )
    assert (ext.mode, ext.x, ext.extension) == ("AXN_EXT", "17000003001", "55")
    looked = await bindings.lookup(x=axn.x)
    assert looked[0].mode == "AXN" and looked[0].a == "13900000081"


async def test_bindings_refusals(bindings, clock):
    with pytest.raises(ValidationError) as caught:
        await bindings.bind(BindRequest(mode="AX", a=A, expires_at=clock.utc(600)))
    assert caught.value.pointer == "mode"
    with pytest.raises(ValidationError) as caught:
        await bindings.lookup(subscription_id="1000000000000101")
    assert caught.value.pointer == "x"
    with pytest.raises(ValidationError) as caught:
        await bindings.bind(BindRequest(mode="AXB", a=A, b=B, expires_at=datetime(2030, 1, 1, 12, 0)))
    assert caught.value.pointer == "expires_at"


async def test_bindings_update_reports_what_was_already_applied(bindings, sandbox, clock):
    axb = await bindings.bind(BindRequest(mode="AXB", a=A, b=B, expires_at=clock.utc(600), x="17000001001"))
    # 13900000101 is B of the seeded binding on the same X: the second step conflicts.
    with pytest.raises(Conflict) as caught:
        await bindings.update(axb, BindingChange(expires_at=clock.utc(900), b="13900000101"))
    assert caught.value.code == "isv.BIND_CONFLICT" and "already applied: updateExpire" in caught.value.message
    assert _detail_of(sandbox, axb.subscription_id)["expire"] == clock.now + 900


async def test_find_after_timeout(sandbox, clock):
    sandbox.faults.delay("*", "/BindAxb", 5.0, apply=True, times=2)
    bindings = AliyunBindings(
        client_for(sandbox, clock, timeout=httpx.Timeout(0.2)),
        pool=DEFAULT_POOL_KEY,
        known_x=lambda pool: sandbox.pool_numbers(pool),
    )
    asked = BindRequest(mode="AXB", a=A, b=B, expires_at=clock.utc(600), x="17000001003")
    with pytest.raises(Timeout) as caught:
        await bindings.bind(asked)
    assert caught.value.maybe_applied
    found = await bindings.find_after_timeout(asked)
    assert [(b.a, b.b, b.x, b.status) for b in found] == [(A, B, "17000001003", ACTIVE)]

    # X left to the pool: found by probing the pool's known X numbers.
    pooled = BindRequest(mode="AXB", a="13900000091", b="13900000092", expires_at=clock.utc(600))
    with pytest.raises(Timeout):
        await bindings.bind(pooled)
    found = await bindings.find_after_timeout(pooled)
    assert len(found) == 1 and found[0].a == "13900000091"
    assert sandbox.action_counts["BindAxb"] == 2

    # An AXB bind that never happened is not found, but Alibaba shows only the newest binding of
    # each X, so its absence cannot be proved: the check says it cannot tell.
    with pytest.raises(CannotCheck):
        await bindings.find_after_timeout(
            BindRequest(mode="AXB", a="13900000093", b=B, expires_at=clock.utc(600), x="17000001003")
        )
    await bindings.aclose()


async def test_find_after_timeout_without_any_x_says_it_cannot_tell(sandbox, clock):
    adapter = AliyunBindings(client_for(sandbox, clock), pool=DEFAULT_POOL_KEY)
    with pytest.raises(CannotCheck) as caught:
        await adapter.find_after_timeout(BindRequest(mode="AXB", a=A, b=B, expires_at=clock.utc(600)))
    assert caught.value.maybe_applied and "X number" in caught.value.message
    await adapter.aclose()


# ---------------------------------------------------------------------------------------------
# The sandbox itself: credentials, seed data, persistence


def test_sandbox_credentials_and_seed(monkeypatch, clock):
    monkeypatch.delenv(ACCESS_KEY_SECRET_ENV, raising=False)
    sandbox = DyplsSandbox(clock=clock)
    shown = dict(sandbox.credentials())
    assert shown["AccessKeyId"] == DEFAULT_ACCESS_KEY_ID and shown["AccessKeySecret"] == DEFAULT_ACCESS_KEY_SECRET
    assert shown["PoolKey"] == DEFAULT_POOL_KEY and shown["PoolKey (strict city)"] == STRICT_POOL_KEY
    seeded = sandbox.bindings()
    left = sorted(b["expire"] - clock.now for b in seeded)
    assert any(s < 0 for s in left) and any(0 < s < 3600 for s in left)
    assert len(sandbox.pool_numbers()) == 8 and len(sandbox.pool_numbers(STRICT_POOL_KEY)) == 3

    monkeypatch.setenv(ACCESS_KEY_SECRET_ENV, "MyOwnSandboxSecret-987654")
    monkeypatch.setenv("TELEDECK_SANDBOX_ALIYUN_POOL_KEY", "FC100000000000077")
    custom = DyplsSandbox(clock=clock)
    shown = dict(custom.credentials())
    assert "MyOwnSandboxSecret-987654" not in " ".join(v for _, v in custom.credentials())
    assert shown["AccessKeySecret"].startswith("MyOw...") and shown["PoolKey"] == "FC100000000000077"
    assert custom.access_key_secret == "MyOwnSandboxSecret-987654" and custom.pool_numbers("FC100000000000077")


async def test_sandbox_state_persists_and_resets(tmp_path, clock):
    path = tmp_path / "aliyun_pls.json"
    first = DyplsSandbox(StateStore(path), clock=clock, qps=0)
    async with client_for(first, clock) as c:
        bound = await c.bind_axb(DEFAULT_POOL_KEY, A, clock.utc(600), phone_no_b=B)
    second = DyplsSandbox(StateStore(path), clock=clock, qps=0)
    assert any(b["subs_id"] == bound.subs_id for b in second.bindings())
    second.reset()
    assert all(b["subs_id"] != bound.subs_id for b in second.bindings())
    assert not DyplsSandbox(clock=clock, seed_data=False).bindings()
