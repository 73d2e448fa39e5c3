"""teledeck's Volcengine VMS client and BindingProvider against the in-process sandbox: every
action, the gateway's and the number service's error paths, time zones, timeouts, read-only
mode and malformed answers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl

import httpx
import pytest

from providers.bindings import ACTIVE, EXPIRED, REMOVED, Binding, BindingChange, BindRequest, best_pool
from providers.errors import (
    AuthError,
    Conflict,
    MalformedResponse,
    NotFound,
    ProviderError,
    RateLimited,
    ReadOnlyRefused,
    Timeout,
    Unavailable,
    ValidationError,
)
from providers.pagination import PaginationStalled
from providers.sandbox.http import AsyncInProcessTransport
from providers.sandbox.state import StateStore
from providers.sandbox.volcengine import (
    AXB_POOL_NO,
    DEFAULT_ACCESS_KEY,
    DEFAULT_NUMBER_POOL_NO,
    DEFAULT_SECRET_KEY,
    FULL_POOL_NO,
    IN_PROCESS_ENDPOINT,
    VolcSandbox,
)
from providers.transport import RetryPolicy
from providers.volcengine import vms
from providers.volcengine.vms import (
    CHINA_TZ,
    Subscription,
    VmsClient,
    VolcBindings,
    parse_wire_time,
    to_wire_time,
    vendor_error,
)

T0 = 1767600000.0  # 2026-01-05T08:00:00Z
FAST = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)
POOL = DEFAULT_NUMBER_POOL_NO


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder(AsyncInProcessTransport):
    """The in-process transport, keeping every request it was handed."""

    def __init__(self, handler, mutate=None) -> None:
        super().__init__(handler)
        self.seen: list[httpx.Request] = []
        self.mutate = mutate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mutate is not None:
            request = self.mutate(request)
        self.seen.append(request)
        return await super().handle_async_request(request)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sandbox(clock):
    return VolcSandbox(clock=clock)


def client_for(
    sandbox, clock, *, secret=None, access_key=None, read_only=False, timeout=None, region="cn-north-1", transport=None
):
    return VmsClient(
        access_key or sandbox.access_key,
        secret or sandbox.secret_key,
        endpoint=IN_PROCESS_ENDPOINT,
        http_transport=transport or AsyncInProcessTransport(sandbox),
        retry=FAST,
        read_only=read_only,
        timeout=timeout,
        clock=clock,
        region=region,
    )


@pytest.fixture
async def client(sandbox, clock):
    c = client_for(sandbox, clock)
    yield c
    await c.aclose()


@pytest.fixture
async def bindings(client, clock):
    return VolcBindings(client, account="volc-test", default_pool=POOL, clock=clock)


def later(seconds: float = 3600) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


# ---------------------------------------------------------------------------------------------
# Every action


async def test_number_pool_list_shows_the_seeded_pools_and_their_modes(client):
    page = await client.number_pool_list()
    assert page.total == 3 and page.offset == 0
    modes = {p.number_pool_no: p.mode for p in page.items}
    assert modes == {POOL: "AXN", AXB_POOL_NO: "AXB", FULL_POOL_NO: "AXN"}
    assert {p.number_pool_no: p.number_count for p in page.items}[POOL] == 22
    only_axb = await client.number_pool_list(sub_service_type="201")
    assert [p.number_pool_no for p in only_axb.items] == [AXB_POOL_NO]


async def test_the_adapter_lists_every_privacy_pool_the_default_first_across_pages(sandbox, client, clock):
    for n in range(150):  # more than one page of 100, and a voice pool that is not offered
        sandbox.state["pools"].append(
            {"NumberPoolNo": f"NPX{n:03d}", "NumberPoolName": "", "ServiceType": "200", "SubServiceType": "201"}
        )
    sandbox.state["pools"].append(
        {"NumberPoolNo": "NPVOICE", "NumberPoolName": "", "ServiceType": "100", "SubServiceType": "101"}
    )
    bindings = VolcBindings(client, account="volc-test", default_pool=FULL_POOL_NO, clock=clock)
    pools = await bindings.pools()
    assert len(pools) == 153 and "NPVOICE" not in {p.pool for p in pools}
    assert pools[0].pool == FULL_POOL_NO and "number_pool_no" in pools[0].source
    modes = {p.pool: p.modes for p in pools}
    assert modes[POOL] == ("AXN",) and modes[AXB_POOL_NO] == ("AXB",)
    assert best_pool(pools, "AXB", FULL_POOL_NO) == AXB_POOL_NO  # the default serves AXN only
    assert best_pool(pools, "AXN", FULL_POOL_NO) == FULL_POOL_NO
    assert await bindings.pool_mode(AXB_POOL_NO) == "AXB"  # remembered: no second listing needed


async def test_number_list_is_a_signed_get_with_its_filters_in_the_query(sandbox, clock):
    recorder = Recorder(sandbox)
    c = client_for(sandbox, clock, transport=recorder)
    page = await c.number_list(number_pool_no=POOL, number_type_code=1)
    await c.aclose()
    request = recorder.seen[-1]
    assert request.method == "GET" and request.content == b""
    assert dict(httpx.QueryParams(request.url.query))["NumberPoolNo"] == POOL
    assert "content-type" not in request.headers
    assert "SignedHeaders=host;x-content-sha256;x-date," in request.headers["authorization"]
    assert [(n.number, n.type_code, n.location) for n in page.items] == [
        ("01055500101", 1, "北京"),
        ("02155500101", 1, "上海"),
    ]
    assert page.items[0].purchased_at is not None and page.items[0].purchased_at.tzinfo == UTC


async def test_number_list_pages_and_status_filter(client):
    first = await client.number_list(number_pool_no=POOL, limit=10)
    second = await client.number_list(number_pool_no=POOL, limit=10, offset=10)
    assert first.total == 22 and len(first.items) == 10 and second.offset == 10
    assert not {n.number for n in first.items} & {n.number for n in second.items}
    disabled = await client.number_list(number_pool_no=POOL, number_status_code=2)
    assert [n.number for n in disabled.items] == ["17000100004"]
    some = await client.number_list(numbers=["17000100001", "17000210002"])
    assert sorted(n.number for n in some.items) == ["17000100001", "17000210002"]


async def test_bind_axn_query_update_and_unbind(client, clock):
    expires = datetime(2026, 1, 5, 18, 30, tzinfo=CHINA_TZ)  # 10:30 UTC
    sub = await client.bind_axn(
        number_pool_no=POOL,
        phone_no_a="13700000021",
        phone_no_b="13700000022",
        phone_no_x="17000100003",
        expire_time=expires,
        audio_record=False,
        user_data="订单 42&x",
    )
    assert sub.sub_id.startswith("S") and sub.bound and sub.phone_no_x == "17000100003"
    assert (sub.x_city_code, sub.a_city_code) == ("010", "010")
    got = await client.query_subscription(number_pool_no=POOL, sub_id=sub.sub_id)
    assert got.expire_time == datetime(2026, 1, 5, 10, 30, tzinfo=UTC)
    assert got.enable_time == datetime.fromtimestamp(T0, UTC)
    assert (got.record, got.user_data, got.phone_no_b) == (False, "订单 42&x", "13700000022")

    await client.update_axn(
        number_pool_no=POOL, sub_id=sub.sub_id, update_type="updatePhoneNoB", phone_no_b="13700000023"
    )
    await client.update_axn(
        number_pool_no=POOL, sub_id=sub.sub_id, update_type="updateExpireTime", expire_time=int(T0) + 7200
    )
    await client.update_axn(number_pool_no=POOL, sub_id=sub.sub_id, update_type="updateUserData", user_data="")
    got = await client.query_subscription(number_pool_no=POOL, sub_id=sub.sub_id)
    assert (got.phone_no_b, got.expire_time, got.user_data) == ("13700000023", later(7200), "")

    await client.unbind_axn(number_pool_no=POOL, sub_id=sub.sub_id)
    gone = await client.query_subscription(number_pool_no=POOL, sub_id=sub.sub_id)
    assert gone.status == 0 and not gone.bound


async def test_bind_axb_update_and_unbind(client):
    sub = await client.bind_axb(
        number_pool_no=AXB_POOL_NO,
        phone_no_a="13700000041",
        phone_no_b="13700000042",
        phone_no_x="17000100101",
        expire_time=later(),
        out_id="trip-9",
    )
    got = await client.query_subscription(number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id)
    assert (got.phone_no_a, got.phone_no_b, got.out_id, got.record) == ("13700000041", "13700000042", "trip-9", True)
    await client.update_axb(
        number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id, update_type="updatePhoneNoA", phone_no_a="13700000043"
    )
    await client.update_axb(number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id, update_type="updateOutId", out_id="trip-10")
    got = await client.query_subscription(number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id)
    assert (got.phone_no_a, got.out_id) == ("13700000043", "trip-10")
    await client.unbind_axb(number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id)
    with pytest.raises(NotFound):
        await client.unbind_axb(number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id)


async def test_ax_binding_has_no_b_and_cannot_update_b(client):
    sub = await client.bind_axb(
        number_pool_no=AXB_POOL_NO, phone_no_a="13700000044", phone_no_x="17000210102", expire_time=later()
    )
    assert sub.phone_no_b == ""
    with pytest.raises(ValidationError) as caught:
        await client.update_axb(
            number_pool_no=AXB_POOL_NO, sub_id=sub.sub_id, update_type="updatePhoneNoB", phone_no_b="13700000045"
        )
    assert caught.value.code == "UnsupportedOperation"


async def test_update_needs_a_known_type_and_its_value(client):
    with pytest.raises(ValueError):
        await client.update_axn(number_pool_no=POOL, sub_id="S1", update_type="updateColour")
    with pytest.raises(ValueError):
        await client.update_axn(number_pool_no=POOL, sub_id="S1", update_type="updatePhoneNoA")


async def test_select_number_and_bind_picks_a_free_x_in_the_wanted_city(client):
    sub = await client.select_number_and_bind_axn(
        number_pool_no=POOL, phone_no_a="13700000051", expire_time=later(), city_code="0755"
    )
    assert sub.phone_no_x.startswith("1700755") and sub.x_city_code == "0755"
    by_a = await client.select_number_and_bind_axn(number_pool_no=POOL, phone_no_a="13700001052", expire_time=later())
    assert by_a.x_city_code == "021"  # 1370000 1xxx is a Shanghai number in the sandbox's segment table
    degraded = await client.select_number_and_bind_axb(
        number_pool_no=AXB_POOL_NO,
        phone_no_a="13700000053",
        phone_no_b="13700000054",
        expire_time=later(),
        city_code="0571",
        degrade_city_list=["0755"],
    )
    assert degraded.x_city_code == "0755"


async def test_query_subscription_for_list_pages_with_offset_and_limit(client):
    created = []
    for i in range(23):
        sub = await client.bind_axb(
            number_pool_no=AXB_POOL_NO,
            phone_no_a=f"139000001{i:02d}",
            phone_no_b=f"139000002{i:02d}",
            phone_no_x="17000210103",
            expire_time=later(),
        )
        created.append(sub.sub_id)
    first = await client.query_subscription_for_list(number_pool_no=AXB_POOL_NO, phone_no_x="17000210103", limit=10)
    assert (first.offset, first.limit, first.total, len(first.items)) == (0, 10, 23, 10)
    assert all(isinstance(s.expire_time, datetime) and s.expire_time == later() for s in first.items)
    everything = await client.all_subscriptions(number_pool_no=AXB_POOL_NO, phone_no_x="17000210103", page_size=10)
    assert [s.sub_id for s in everything] == created
    one = await client.query_subscription_for_list(number_pool_no=AXB_POOL_NO, phone_no_a="13900000105")
    assert [s.sub_id for s in one.items] == [created[5]]


async def test_list_filters_by_status(client, clock):
    seeded = await client.all_subscriptions(number_pool_no=POOL, phone_no_a="13700002006")
    assert len(seeded) == 1 and seeded[0].status == 0  # the seeded expired binding
    assert await client.all_subscriptions(number_pool_no=POOL, phone_no_a="13700002006", status=1) == []


async def test_query_audio_record_file_url(client):
    urls = await client.query_audio_record_file_url("SBXCALL202601050000000001")
    assert urls.available and urls.left_url.split("?")[0].endswith("-left.wav") and urls.right_url
    assert vms.link_expiry(urls.url) == (datetime.fromtimestamp(T0 + 3600, UTC), 3600)
    assert not (await client.query_audio_record_file_url("SBXCALL202601050000000003")).available
    assert not (await client.query_audio_record_file_url("no-such-call")).available
    with pytest.raises(ValidationError) as caught:
        await client.query_audio_record_file_url("")
    assert caught.value.pointer == "CallId"


# ---------------------------------------------------------------------------------------------
# Gateway errors (HTTP 4xx)


async def test_wrong_secret_is_signature_does_not_match(sandbox, clock):
    c = client_for(sandbox, clock, secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        await c.number_pool_list()
    await c.aclose()
    error = caught.value
    assert (error.code, error.status, error.title) == ("SignatureDoesNotMatch", 401, "CodeN 100010")
    assert error.request_id and "does not match" in error.message and "not-the-secret" not in str(error)
    assert sandbox.actions_applied["NumberPoolList"] == 0


async def test_unknown_access_key_is_invalid_access_key(sandbox, clock):
    c = client_for(sandbox, clock, access_key="AKLTnobody")
    with pytest.raises(AuthError) as caught:
        await c.query_subscription(number_pool_no=POOL, sub_id="S1")
    await c.aclose()
    assert (caught.value.code, caught.value.status) == ("InvalidAccessKey", 401)
    assert "AKLTnobody" in caught.value.message


async def test_stale_or_future_x_date_is_invalid_timestamp(sandbox):
    for skew in (-20 * 60, +20 * 60):
        c = client_for(sandbox, Clock(T0 + skew))
        with pytest.raises(AuthError) as caught:
            await c.number_pool_list()
        await c.aclose()
        assert (caught.value.code, caught.value.status) == ("InvalidTimestamp", 403)
    c = client_for(sandbox, Clock(T0 - 10 * 60))  # inside the 15-minute window
    assert (await c.number_pool_list()).total == 3
    await c.aclose()


async def test_wrong_region_in_the_scope_is_invalid_credential(sandbox, clock):
    c = client_for(sandbox, clock, region="cn-shanghai")
    with pytest.raises(AuthError) as caught:
        await c.number_pool_list()
    await c.aclose()
    assert (caught.value.code, caught.value.status) == ("InvalidCredential", 400)


def _tamper_body(request: httpx.Request) -> httpx.Request:
    body = request.content.replace(b"13700000061", b"13700000069")
    return httpx.Request(
        request.method, request.url, headers=request.headers, content=body, extensions=request.extensions
    )


def _tamper_query(request: httpx.Request) -> httpx.Request:
    return httpx.Request(
        request.method,
        request.url.copy_add_param("Limit", "5"),
        headers=request.headers,
        content=request.content,
        extensions=request.extensions,
    )


@pytest.mark.parametrize("tamper", [_tamper_body, _tamper_query])
async def test_tampered_request_is_refused_and_not_applied(sandbox, clock, tamper):
    c = client_for(sandbox, clock, transport=Recorder(sandbox, mutate=tamper))
    with pytest.raises(AuthError) as caught:
        await c.bind_axn(number_pool_no=POOL, phone_no_a="13700000061", phone_no_x="17000100003", expire_time=later())
    await c.aclose()
    assert caught.value.code == "SignatureDoesNotMatch"
    assert sandbox.actions_applied["BindAXN"] == 0


async def test_unsigned_request_is_missing_authentication_token(sandbox):
    async with httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox), base_url=IN_PROCESS_ENDPOINT) as raw:
        answer = await raw.get("/", params={"Action": "NumberPoolList", "Version": "2022-01-01"})
    error = vms.error_from_response(answer)
    assert isinstance(error, AuthError) and (error.code, error.status) == ("MissingAuthenticationToken", 401)
    body = answer.json()
    assert body["ResponseMetadata"]["Error"]["CodeN"] == 100003 and "Result" not in body


async def test_unknown_action_or_version(client):
    with pytest.raises(ProviderError) as caught:
        await client.call("QueryEverything")
    assert (caught.value.code, caught.value.status) == ("InvalidActionOrVersion", 404)
    assert type(caught.value) is ProviderError


async def test_gateway_throttling_is_retried_then_surfaces_as_rate_limited(sandbox, client):
    sandbox.fail_next("NumberPoolList", "FlowLimitExceeded", times=1)
    assert (await client.number_pool_list()).total == 3  # one 429, re-sent, answered
    sandbox.fail_next("NumberPoolList", "FlowLimitExceeded", times=3)
    with pytest.raises(RateLimited) as caught:
        await client.number_pool_list()
    assert (caught.value.code, caught.value.status) == ("FlowLimitExceeded", 429)


async def test_server_errors_are_unavailable(sandbox, client):
    sandbox.faults.respond("*", "/QuerySubscription", 503, times=3)
    with pytest.raises(Unavailable) as caught:
        await client.query_subscription(number_pool_no=POOL, sub_id="S1")
    assert caught.value.code == "ServiceUnavailableTemp"
    sandbox.faults.respond(
        "*", "/NumberPoolList", 502, body="<html>bad gateway</html>", content_type="text/html", times=3
    )
    with pytest.raises(Unavailable) as caught:
        await client.number_pool_list()
    assert "without a Volcengine error envelope" in caught.value.message


# ---------------------------------------------------------------------------------------------
# Number-service errors under HTTP 200


async def test_conflict_with_existing_on_one_x_under_http_200(sandbox, client):
    # The seed binds 13700000011 <-> 13700000012 on 17000100101.
    with pytest.raises(Conflict) as caught:
        await client.bind_axb(
            number_pool_no=AXB_POOL_NO,
            phone_no_a="13700000012",
            phone_no_b="13700000099",
            phone_no_x="17000100101",
            expire_time=later(),
        )
    error = caught.value
    assert (error.code, error.status) == ("ConflictWithExisting", 200)
    assert error.request_id and error.pointer == "PhoneNoX" and "13700000012" in error.message
    other_x = await client.bind_axb(
        number_pool_no=AXB_POOL_NO,
        phone_no_a="13700000012",
        phone_no_b="13700000099",
        phone_no_x="17000210101",
        expire_time=later(),
    )
    assert other_x.bound


async def test_axn_x_serving_another_a_is_occupied(client):
    with pytest.raises(Conflict) as caught:
        await client.bind_axn(
            number_pool_no=POOL, phone_no_a="13700000071", phone_no_x="17000100001", expire_time=later()
        )
    assert caught.value.code == "PhoneNoXOccupied" and caught.value.pointer == "PhoneNoX"
    with pytest.raises(Conflict) as caught:
        await client.bind_axn(
            number_pool_no=POOL, phone_no_a="13700000001", phone_no_x="17000100001", expire_time=later()
        )
    assert caught.value.code == "ConflictWithExisting"


@pytest.mark.parametrize(
    ("offset", "fragment"),
    [
        (30, "more than 1 minute"),
        (60, "more than 1 minute"),
        (2145888000 - T0, "before 2038"),
    ],
)
async def test_expiry_rules_name_expire_time(client, offset, fragment):
    with pytest.raises(ValidationError) as caught:
        await client.bind_axn(
            number_pool_no=POOL, phone_no_a="13700000072", phone_no_x="17000100003", expire_time=int(T0 + offset)
        )
    error = caught.value
    assert (error.code, error.status, error.pointer) == ("IllegalArgument", 200, "ExpireTime")
    assert fragment in error.message


async def test_expiry_just_over_a_minute_ahead_is_accepted(client):
    sub = await client.bind_axn(
        number_pool_no=POOL, phone_no_a="13700000072", phone_no_x="17000100003", expire_time=int(T0 + 61)
    )
    assert sub.bound


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_no_a", "+8613700000073"),
        ("phone_no_a", "1370000007"),
        ("phone_no_a", "2131075869"),
        ("phone_no_b", "12345678901"),
        ("phone_no_b", "137-0000-0073"),
    ],
)
async def test_number_formats_are_checked_and_named(client, field, value):
    kwargs = {"phone_no_a": "13700000074", "phone_no_b": "13700000075", field: value}
    with pytest.raises(ValidationError) as caught:
        await client.bind_axn(number_pool_no=POOL, phone_no_x="17000100003", expire_time=later(), **kwargs)
    wire = {"phone_no_a": "PhoneNoA", "phone_no_b": "PhoneNoB"}[field]
    assert caught.value.code == "IllegalArgument" and caught.value.pointer == wire


async def test_landline_numbers_are_accepted(client):
    sub = await client.bind_axn(
        number_pool_no=POOL, phone_no_a="02131075869", phone_no_x="02155500101", expire_time=later()
    )
    assert (sub.a_city_code, sub.x_city_code) == ("021", "021")


async def test_x_outside_the_pool_or_disabled_is_illegal_phone_no_x(client):
    for x in ("17000100101", "17000100004"):  # the AXB pool's number; a user-disabled number
        with pytest.raises(ValidationError) as caught:
            await client.bind_axn(number_pool_no=POOL, phone_no_a="13700000076", phone_no_x=x, expire_time=later())
        assert caught.value.code == "IllegalPhoneNoX" and caught.value.pointer == "PhoneNoX"


async def test_action_on_the_wrong_kind_of_pool_is_unsupported(client):
    with pytest.raises(ValidationError) as caught:
        await client.bind_axn(
            number_pool_no=AXB_POOL_NO, phone_no_a="13700000077", phone_no_x="17000100101", expire_time=later()
        )
    assert caught.value.code == "UnsupportedOperation" and caught.value.pointer == "NumberPoolNo"
    with pytest.raises(ValidationError) as caught:
        await client.query_subscription(number_pool_no="NP000000000000000000", sub_id="S1")
    assert caught.value.pointer == "NumberPoolNo"


async def test_pool_exhaustion_is_number_not_enough(client):
    with pytest.raises(Conflict) as caught:
        await client.select_number_and_bind_axn(
            number_pool_no=FULL_POOL_NO, phone_no_a="13700000078", expire_time=later()
        )
    error = caught.value
    assert (error.code, error.status, error.pointer) == ("NumberNotEnough", 200, "NumberPoolNo")
    assert "re-sending will not help" in error.message
    with pytest.raises(Conflict) as caught:
        await client.select_number_and_bind_axn(
            number_pool_no=POOL, phone_no_a="13700000078", expire_time=later(), city_code="0999"
        )
    assert caught.value.code == "NumberNotEnough" and "0999" in caught.value.message


async def test_unknown_sub_id_is_subscription_empty(client):
    with pytest.raises(NotFound) as caught:
        await client.query_subscription(number_pool_no=POOL, sub_id="S0000")
    assert (caught.value.code, caught.value.status, caught.value.pointer) == ("SubscriptionEmpty", 200, "SubId")


async def test_list_without_a_key_is_refused(client):
    with pytest.raises(ValidationError) as caught:
        await client.query_subscription_for_list(number_pool_no=POOL)
    assert caught.value.pointer == "SubId"
    with pytest.raises(ValidationError) as caught:
        await client.query_subscription_for_list(number_pool_no=POOL, phone_no_x="17000100001", limit=101)
    assert caught.value.pointer == "Limit"


async def test_business_throttling_and_system_errors_under_http_200(sandbox, client):
    sandbox.fail_next("BindAXN", "OverQpsLimit", "qps over limit")
    with pytest.raises(RateLimited) as caught:
        await client.bind_axn(
            number_pool_no=POOL, phone_no_a="13700000079", phone_no_x="17000100003", expire_time=later()
        )
    assert (caught.value.code, caught.value.status) == ("OverQpsLimit", 200)
    assert sandbox.actions_received["BindAXN"] == 1  # a write refused under 200 is not re-sent
    sandbox.fail_next("QuerySubscription", "SystemError", "system busy")
    with pytest.raises(Unavailable) as caught:
        await client.query_subscription(number_pool_no=POOL, sub_id="S1")
    assert caught.value.code == "SystemError" and caught.value.status == 200


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("SignatureDoesNotMatch", 401, AuthError),
        ("InvalidAccessKey", 401, AuthError),
        ("MissingAuthenticationToken", 401, AuthError),
        ("InvalidTimestamp", 403, AuthError),
        ("InvalidAuthorization", 400, AuthError),
        ("InvalidCredential", 400, AuthError),
        ("UnauthenticatedRequest", 200, AuthError),
        ("AccountFrozen", 200, AuthError),
        ("AccessDenied", 403, AuthError),
        ("FlowLimitExceeded", 429, RateLimited),
        ("OverQpsLimit", 200, RateLimited),
        ("CallerFrequencyLimit", 200, RateLimited),
        ("ConflictWithExisting", 200, Conflict),
        ("PhoneNoXOccupied", 200, Conflict),
        ("PhoneNoXBConflicted", 200, Conflict),
        ("ConcurrencyConflict", 200, Conflict),
        ("ExceedMaxBindCount", 200, Conflict),
        ("NumberNotEnough", 200, Conflict),
        ("IllegalArgument", 200, ValidationError),
        ("IllegalPhoneNoX", 200, ValidationError),
        ("IllegalPhoneNoY", 200, ValidationError),
        ("XCanNotEqualsY", 200, ValidationError),
        ("BlockNumber", 200, ValidationError),
        ("PhoneNoARiskFrozen", 200, ValidationError),
        ("UnsupportedOperation", 200, ValidationError),
        ("MissingParameter", 400, ValidationError),
        ("SubscriptionEmpty", 200, NotFound),
        ("SystemError", 200, Unavailable),
        ("ProviderException", 200, Unavailable),
        ("InternalError", 500, Unavailable),
        ("ServiceUnavailableTemp", 503, Unavailable),
        ("SomethingNew", 200, ProviderError),
        ("SomethingNew", 403, AuthError),
        ("SomethingNew", 502, Unavailable),
    ],
)
def test_vendor_codes_map_to_the_error_tree(code, status, cls):
    error = vendor_error(code, "vendor says no", status=status, request_id="rid-1")
    assert type(error) is cls
    assert (error.code, error.status, error.request_id, error.provider) == (code, status, "rid-1", "volcengine")
    assert "vendor says no" in error.message


@pytest.mark.parametrize(
    ("code", "message", "pointer"),
    [
        ("IllegalArgument", "ExpireTime must be more than 1 minute after the current time", "ExpireTime"),
        ("IllegalArgument", "PhoneNoB must differ from PhoneNoA", "PhoneNoB"),
        ("IllegalArgument", "CityCodeByPhoneNo must be A or B", "CityCodeByPhoneNo"),
        ("IllegalPhoneNoX", "illegal x", "PhoneNoX"),
        ("PhoneNoBRiskFrozen", "frozen", "PhoneNoB"),
        ("IllegalArgument", "something is wrong", ""),
    ],
)
def test_parameter_errors_point_at_the_parameter(code, message, pointer):
    assert vendor_error(code, message, status=200).pointer == pointer


# ---------------------------------------------------------------------------------------------
# Time zones


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (1767600000, datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        ("1767600000", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        (1767600000123, datetime(2026, 1, 5, 8, 0, 0, 123000, tzinfo=UTC)),
        ("2026-01-05 16:00:00", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),  # Beijing wall time
        ("2026-01-05T16:00:00+08:00", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        ("2026-01-05T08:00:00Z", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        (0, None),
        ("", None),
        (None, None),
        ("soon", None),
        (True, None),
        ({"s": 1}, None),
    ],
)
def test_wire_times_become_aware_utc(wire, expected):
    parsed = parse_wire_time(wire)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_times_go_out_as_unix_seconds_whatever_the_zone():
    beijing = datetime(2026, 1, 5, 16, 0, tzinfo=CHINA_TZ)
    new_york = datetime(2026, 1, 5, 3, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert to_wire_time(beijing) == to_wire_time(new_york) == 1767600000
    with pytest.raises(ValueError):
        to_wire_time(datetime(2026, 1, 5, 16, 0))
    with pytest.raises(ValueError):
        to_wire_time("1767600000")  # type: ignore[arg-type]


async def test_integer_and_string_times_read_the_same(client):
    one = await client.query_subscription_for_list(number_pool_no=POOL, phone_no_a="13700000001")
    raw_list = one.items[0].raw
    assert isinstance(raw_list["ExpireTime"], str)
    single = await client.query_subscription(number_pool_no=POOL, sub_id=one.items[0].sub_id)
    assert isinstance(single.raw["ExpireTime"], int)
    assert single.expire_time == one.items[0].expire_time == datetime.fromtimestamp(T0 + 30 * 86400, UTC)


async def test_expiry_by_the_clock_turns_a_binding_inactive_and_frees_x(sandbox, client, bindings, clock):
    soon = (await client.all_subscriptions(number_pool_no=POOL, phone_no_a="13700000003"))[0]
    binding = Binding(provider="volcengine", mode="AXN", subscription_id=soon.sub_id, x=soon.phone_no_x, pool=POOL)
    assert (await bindings.refresh(binding)).status == ACTIVE
    with pytest.raises(Conflict):
        await client.bind_axn(
            number_pool_no=POOL, phone_no_a="13700000081", phone_no_x=soon.phone_no_x, expire_time=later(86400)
        )
    clock.advance(11 * 60)
    refreshed = await bindings.refresh(binding)
    assert refreshed.status == EXPIRED and refreshed.expires_at == datetime.fromtimestamp(T0 + 600, UTC)
    # the client signs with the same advanced clock, so the gateway still accepts it
    again = await client.bind_axn(
        number_pool_no=POOL, phone_no_a="13700000081", phone_no_x=soon.phone_no_x, expire_time=later(86400)
    )
    assert again.bound
    with pytest.raises(NotFound):
        await client.unbind_axn(number_pool_no=POOL, sub_id=soon.sub_id)


# ---------------------------------------------------------------------------------------------
# Timeouts, read-only, malformed answers


def _request(**kw) -> BindRequest:
    values = dict(
        mode="AXN",
        a="13700000091",
        b="13700000092",
        x="17000100003",
        expires_at=later(7200),
        pool=POOL,
        user_data="after-timeout",
    )
    values.update(kw)
    return BindRequest(**values)


async def test_bind_is_not_resent_after_a_timeout_and_is_found_afterwards(sandbox, clock):
    c = client_for(sandbox, clock, timeout=httpx.Timeout(5.0, read=0.05))
    adapter = VolcBindings(c, default_pool=POOL, clock=clock)
    sandbox.faults.delay("POST", "/BindAXN", 30.0, apply=True)
    with pytest.raises(Timeout) as caught:
        await adapter.bind(_request())
    assert caught.value.maybe_applied
    assert sandbox.actions_received["BindAXN"] == 1 and sandbox.actions_applied["BindAXN"] == 1
    found = await adapter.find_after_timeout(_request())
    assert len(found) == 1
    assert (found[0].a, found[0].b, found[0].x, found[0].status, found[0].expires_at) == (
        "13700000091",
        "13700000092",
        "17000100003",
        ACTIVE,
        later(7200),
    )
    assert await adapter.find_after_timeout(_request(expires_at=later(7300))) == []
    assert await adapter.find_after_timeout(_request(b="13700000093")) == []
    assert sandbox.actions_received["BindAXN"] == 1
    await c.aclose()


async def test_a_timed_out_bind_that_never_applied_is_not_found(sandbox, clock):
    c = client_for(sandbox, clock, timeout=httpx.Timeout(5.0, read=0.05))
    adapter = VolcBindings(c, default_pool=POOL, clock=clock)
    sandbox.faults.delay("POST", "/SelectNumberAndBindAXN", 30.0, apply=False)
    request = _request(x="", area_code="0571")
    with pytest.raises(Timeout):
        await adapter.bind(request)
    assert sandbox.actions_applied["SelectNumberAndBindAXN"] == 0
    assert await adapter.find_after_timeout(request) == []
    await c.aclose()


async def test_read_only_refuses_every_change_before_sending(sandbox, clock):
    c = client_for(sandbox, clock, read_only=True)
    adapter = VolcBindings(c, default_pool=POOL, clock=clock)
    seeded = Binding(provider="volcengine", mode="AXN", subscription_id="S1", x="17000100001", pool=POOL)
    before = sandbox.requests_handled
    with pytest.raises(ReadOnlyRefused):
        await adapter.bind(_request())
    with pytest.raises(ReadOnlyRefused):
        await adapter.update(seeded, BindingChange(expires_at=later(9000)))
    with pytest.raises(ReadOnlyRefused):
        await adapter.unbind(seeded)
    with pytest.raises(ReadOnlyRefused):
        await c.select_number_and_bind_axb(number_pool_no=AXB_POOL_NO, phone_no_a="13700000094", expire_time=later())
    assert sandbox.requests_handled == before
    assert (await c.number_pool_list()).total == 3  # reads still work
    assert (await c.number_list(number_pool_no=POOL)).total == 22
    await c.aclose()


async def test_malformed_answers_raise_malformed_response(sandbox, client):
    sandbox.faults.malformed("*", "/QuerySubscription")
    with pytest.raises(MalformedResponse):
        await client.query_subscription(number_pool_no=POOL, sub_id="S1")
    sandbox.faults.respond("*", "/NumberPoolList", 200, body="not json at all")
    with pytest.raises(MalformedResponse):
        await client.number_pool_list()
    envelope = {"ResponseMetadata": {"RequestId": "r1", "Action": "BindAXN"}, "Result": {"Status": 1}}
    sandbox.faults.respond("*", "/BindAXN", 200, body=envelope)
    with pytest.raises(MalformedResponse) as caught:
        await client.bind_axn(
            number_pool_no=POOL, phone_no_a="13700000095", phone_no_x="17000100003", expire_time=later()
        )
    assert "SubId" in caught.value.message
    sandbox.faults.respond("*", "/NumberList", 200, body={"ResponseMetadata": {}, "Result": {"Records": "many"}})
    with pytest.raises(MalformedResponse):
        await client.number_list()
    sandbox.faults.respond("*", "/UnbindAXN", 200, body={"ResponseMetadata": {}, "Result": "maybe"})
    with pytest.raises(MalformedResponse):
        await client.unbind_axn(number_pool_no=POOL, sub_id="S1")
    sandbox.faults.respond("*", "/UnbindAXN", 200, body={"ResponseMetadata": {}, "Result": False})
    with pytest.raises(ProviderError):
        await client.unbind_axn(number_pool_no=POOL, sub_id="S1")
    sandbox.faults.respond("*", "/NumberPoolList", 200, body={"Result": {"Records": []}})
    with pytest.raises(MalformedResponse):
        await client.number_pool_list()
    sandbox.faults.respond("*", "/QuerySubscription", 200, body={"ResponseMetadata": {"Error": "boom"}})
    with pytest.raises(ProviderError) as caught:
        await client.query_subscription(number_pool_no=POOL, sub_id="S1")
    assert "boom" in caught.value.message


async def test_a_list_whose_offset_never_advances_stops(sandbox, client):
    for i in range(3):
        await client.bind_axb(
            number_pool_no=AXB_POOL_NO,
            phone_no_a=f"139000003{i:02d}",
            phone_no_b=f"139000004{i:02d}",
            phone_no_x="17007550103",
            expire_time=later(),
        )
    sandbox.repeat_offset("QuerySubscriptionForList", 0)
    with pytest.raises(PaginationStalled):
        await client.all_subscriptions(number_pool_no=AXB_POOL_NO, phone_no_x="17007550103", page_size=2)


async def test_a_connection_refused_read_is_retried(sandbox, client):
    sandbox.faults.connect_error("*", "/NumberPoolList", times=1)
    assert (await client.number_pool_list()).total == 3


# ---------------------------------------------------------------------------------------------
# VolcBindings


async def test_binding_provider_bind_with_a_chosen_x(bindings, sandbox):
    made = await bindings.bind(
        _request(recording=True, expires_at=datetime(2026, 1, 5, 18, 0, 30, 999, tzinfo=CHINA_TZ))
    )
    assert (made.provider, made.mode, made.x, made.a, made.b, made.pool, made.account) == (
        "volcengine",
        "AXN",
        "17000100003",
        "13700000091",
        "13700000092",
        POOL,
        "volc-test",
    )
    assert made.status == ACTIVE and made.recording is True and made.user_data == "after-timeout"
    assert made.expires_at == datetime(2026, 1, 5, 10, 0, 30, tzinfo=UTC)
    stored = sandbox.subscription(made.subscription_id)
    assert stored["ExpireTime"] == 1767607230 and stored["RecordFlag"] == 1
    assert made.key == f"volcengine:{made.subscription_id}"


async def test_binding_provider_bind_without_x_selects_by_area_code(bindings):
    made = await bindings.bind(_request(mode="AXB", x="", area_code="021", pool=AXB_POOL_NO))
    assert made.mode == "AXB" and made.x.startswith("1700021") and made.status == ACTIVE


async def test_binding_provider_refuses_what_volcengine_cannot_do(bindings, sandbox):
    before = sandbox.requests_handled
    with pytest.raises(ValidationError) as caught:
        await bindings.bind(_request(mode="AXN_EXT"))
    assert caught.value.pointer == "mode"
    with pytest.raises(ValidationError) as caught:
        await bindings.bind(_request(mode="AXB", b="", pool=AXB_POOL_NO))
    assert caught.value.pointer == "b"
    with pytest.raises(ValidationError) as caught:
        await bindings.bind(_request(expires_at=datetime(2026, 1, 5, 12, 0)))
    assert caught.value.pointer == "expires_at"
    no_pool = VolcBindings(bindings.client)
    with pytest.raises(ValidationError) as caught:
        await no_pool.bind(_request(pool=""))
    assert caught.value.pointer == "pool"
    binding = Binding(
        provider="volcengine", mode="AXN", subscription_id="S1", x="17000100001", pool=POOL, recording=True
    )
    with pytest.raises(ValidationError) as caught:
        await bindings.update(binding, BindingChange(recording=False))
    assert caught.value.pointer == "recording"
    assert sandbox.requests_handled == before


async def test_binding_provider_update_sends_one_call_per_changed_field(bindings, sandbox, clock):
    made = await bindings.bind(_request())
    new_expiry = datetime(2026, 1, 6, 8, 0, tzinfo=CHINA_TZ)
    updated = await bindings.update(made, BindingChange(expires_at=new_expiry, b="13700000096", a=made.a))
    assert sandbox.actions_applied["UpdateAXN"] == 2
    assert updated.b == "13700000096" and updated.expires_at == datetime(2026, 1, 6, 0, 0, tzinfo=UTC)
    assert updated.expires_at.tzinfo == UTC
    stored = sandbox.subscription(made.subscription_id)
    assert (stored["PhoneNoB"], stored["ExpireTime"]) == ("13700000096", int(new_expiry.timestamp()))
    assert await bindings.update(updated, BindingChange()) == updated
    assert sandbox.actions_applied["UpdateAXN"] == 2


async def test_binding_provider_refresh_unbind_and_removed(bindings):
    made = await bindings.bind(_request())
    fresh = await bindings.refresh(made)
    assert fresh.status == ACTIVE and fresh.expires_at == made.expires_at and fresh.raw["SubId"] == made.subscription_id
    await bindings.unbind(made)
    assert (await bindings.refresh(made)).status == REMOVED
    ghost = Binding(provider="volcengine", mode="AXN", subscription_id="S404", x="17000100001", pool=POOL)
    assert (await bindings.refresh(ghost)).status == REMOVED
    with pytest.raises(NotFound):
        await bindings.unbind(made)


async def test_binding_provider_unbinds_axb_with_the_axb_action(bindings, sandbox):
    made = await bindings.bind(_request(mode="AXB", x="17000100102", pool=AXB_POOL_NO))
    await bindings.unbind(made)
    assert sandbox.actions_applied["UnbindAXB"] == 1 and sandbox.actions_applied["UnbindAXN"] == 0


async def test_binding_provider_lookup_imports_with_the_pool_mode(bindings, sandbox):
    shared = await bindings.lookup(x="17000100101", pool=AXB_POOL_NO)
    assert len(shared) == 2 and {b.mode for b in shared} == {"AXB"}
    assert {(b.a, b.b) for b in shared} == {("13700000011", "13700000012"), ("13700000013", "13700000014")}
    assert all(b.status == ACTIVE and b.expires_at.tzinfo == UTC for b in shared)
    by_id = await bindings.lookup(subscription_id=shared[0].subscription_id, pool=AXB_POOL_NO)
    assert [b.subscription_id for b in by_id] == [shared[0].subscription_id]
    expired = await bindings.lookup(x="17000200001")
    assert [b.status for b in expired] == [EXPIRED] and expired[0].mode == "AXN"
    unbound = await bindings.lookup(x="17007550001")
    assert [b.status for b in unbound] == [REMOVED]
    assert await bindings.lookup(subscription_id="S404") == []
    assert sandbox.actions_applied["NumberPoolList"] == 2  # one per pool, then cached
    with pytest.raises(ValidationError):
        await bindings.lookup()


# ---------------------------------------------------------------------------------------------
# Endpoint and sandbox plumbing


def test_endpoint_defaults_to_https_and_env_overrides_refuse_plain_http(monkeypatch):
    monkeypatch.delenv(vms.ENDPOINT_ENV, raising=False)
    assert vms.endpoint_from_env() == "https://cloud-vms.volcengineapi.com"
    monkeypatch.setenv(vms.ENDPOINT_ENV, "http://127.0.0.1:4510/")
    assert vms.endpoint_from_env() == "http://127.0.0.1:4510"
    for url in ("http://localhost:4510", "http://[::1]:4510", "https://vms.example.test"):
        monkeypatch.setenv(vms.ENDPOINT_ENV, url)
        assert vms.endpoint_from_env() == url
    for url in ("http://cloud-vms.volcengineapi.com", "http://10.0.0.5:4510", "ftp://127.0.0.1", "https://x.test/v2"):
        monkeypatch.setenv(vms.ENDPOINT_ENV, url)
        with pytest.raises(ValueError):
            vms.endpoint_from_env()
        with pytest.raises(ValueError):
            VmsClient("ak", "sk")
    with pytest.raises(ValueError):
        VmsClient("ak", "sk", endpoint="http://192.0.2.1")


def test_sandbox_credentials_defaults_and_env_overrides(monkeypatch):
    monkeypatch.delenv("TELEDECK_SANDBOX_VOLC_ACCESS_KEY", raising=False)
    monkeypatch.delenv("TELEDECK_SANDBOX_VOLC_SECRET_KEY", raising=False)
    monkeypatch.delenv("TELEDECK_SANDBOX_VOLC_NUMBER_POOL_NO", raising=False)
    shown = dict(VolcSandbox(clock=Clock()).credentials())
    assert shown["access key"] == DEFAULT_ACCESS_KEY and shown["secret key"] == DEFAULT_SECRET_KEY
    assert shown["AXN number pool"] == DEFAULT_NUMBER_POOL_NO and shown["region"] == "cn-north-1"
    monkeypatch.setenv("TELEDECK_SANDBOX_VOLC_ACCESS_KEY", "AKLTmine12345")
    monkeypatch.setenv("TELEDECK_SANDBOX_VOLC_SECRET_KEY", "my-own-secret-value")
    monkeypatch.setenv("TELEDECK_SANDBOX_VOLC_NUMBER_POOL_NO", "NP999999999999999999")
    sandbox = VolcSandbox(clock=Clock())
    pairs = sandbox.credentials()
    text = " ".join(v for _, v in pairs)
    assert "my-own-secret-value" not in text and "AKLTmine12345" not in text and "AKLT..." in text
    assert sandbox.secret_key == "my-own-secret-value" and dict(pairs)["AXN number pool"] == "NP999999999999999999"
    assert any(p["NumberPoolNo"] == "NP999999999999999999" for p in sandbox.state["pools"])


async def test_sandbox_state_persists_and_resets(tmp_path, clock):
    path = tmp_path / "volcengine.json"
    first = VolcSandbox(StateStore(path), clock=clock)
    c = client_for(first, clock)
    sub = await c.bind_axn(number_pool_no=POOL, phone_no_a="13700000097", phone_no_x="17000100003", expire_time=later())
    await c.aclose()
    second = VolcSandbox(StateStore(path), clock=clock)
    assert second.subscription(sub.sub_id)["PhoneNoA"] == "13700000097"
    second.reset()
    assert second.subscription(sub.sub_id) is None
    assert json.loads(path.read_text())["volcengine"]["seeded"] is True
    assert VolcSandbox(clock=clock, seed_data=False).state["subscriptions"] == []


def test_seeded_bindings_include_expiring_soon_and_expired(sandbox, clock):
    subs = sandbox.state["subscriptions"]
    left = sorted(s["ExpireTime"] - clock() for s in subs if s["Status"] == 1)
    assert left[0] < 0  # one expired
    assert sum(1 for s in left if 0 < s <= 2 * 3600) >= 3  # several expiring within two hours
    numbers = sandbox.state["numbers"]
    assert {n["CityCode"] for n in numbers} >= {"010", "021", "020", "0755", "0571"}
    assert all(n["Number"].startswith(("1700", "0105550", "0215550")) for n in numbers)


def test_subscription_record_reads_bind_results():
    sub = Subscription.from_wire({"SubId": "S1", "Status": "1", "RecordFlag": 0}, what="t")
    assert sub.bound and sub.record is False
    with pytest.raises(MalformedResponse):
        Subscription.from_wire(["S1"], what="t")


class Overlapping(AsyncInProcessTransport):
    """The in-process transport, one loop turn late, counting the requests in flight together."""

    def __init__(self, handler) -> None:
        super().__init__(handler)
        self.in_flight = 0
        self.most_in_flight = 0
        self.offsets: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            self.offsets.append(dict(parse_qsl(request.content.decode())).get("Offset", ""))
            return await super().handle_async_request(request)
        finally:
            self.in_flight -= 1


async def test_a_long_offset_listing_comes_concurrently_complete_and_in_order(sandbox, client, clock):
    created = []
    for i in range(75):
        sub = await client.bind_axb(
            number_pool_no=AXB_POOL_NO,
            phone_no_a=f"139100001{i:02d}",
            phone_no_b=f"139100002{i:02d}",
            phone_no_x="17000210103",
            expire_time=later(),
        )
        created.append(sub.sub_id)
    wire = Overlapping(sandbox)
    c = client_for(sandbox, clock, transport=wire)
    everything = await c.all_subscriptions(number_pool_no=AXB_POOL_NO, phone_no_x="17000210103", page_size=10)
    assert [s.sub_id for s in everything] == created  # every row once, in the server's order
    assert sorted(wire.offsets, key=int) == [str(n) for n in range(0, 75, 10)]  # each offset asked once
    assert wire.most_in_flight > 1  # the pages after the first went together
    await c.aclose()
