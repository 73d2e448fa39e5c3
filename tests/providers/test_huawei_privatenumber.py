"""teledeck's Huawei PrivateNumber client and BindingProvider against the in-process sandbox.

Huawei publishes no Python SDK for PrivateNumber, so there is no interop suite: the signing side is
pinned to the documented formula and example in tests/unit/test_huawei_auth.py, and here every
operation and every vendor error path runs through the real client, Transport and X-AKSK headers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from providers.bindings import ACTIVE, EXPIRED, REMOVED, Binding, BindingChange, BindRequest
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
from providers.huawei.auth import AUTHORIZATION, aksk_headers, format_created, x_aksk_value
from providers.huawei.privatenumber import (
    AX_PATH,
    AXB_PATH,
    AXE_PATH,
    AXE_V2_PATH,
    AXYB_PATH,
    RECORD_PATH,
    AxbBinding,
    HuaweiBindings,
    HuaweiPrivateNumberClient,
    error_for_result,
    error_from_response,
    normalize_number,
    parse_wire_time,
    resolve_base_url,
)
from providers.pagination import PaginationStalled
from providers.sandbox.http import AsyncInProcessTransport, serve
from providers.sandbox.huawei import (
    AX_POOLS,
    AXB_POOLS,
    AXE_POOLS,
    AXYB_POOLS,
    DEFAULT_APP_KEY,
    DEFAULT_APP_SECRET,
    IN_PROCESS_BASE_URL,
    RECORD_DOMAIN,
    HuaweiSandbox,
    user_number,
)
from providers.sandbox.state import StateStore
from providers.transport import RetryPolicy

UTC = UTC
BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).timestamp()
FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)
X_SZ1, X_SZ2 = AXB_POOLS["0755"][0], AXB_POOLS["0755"][1]
X_BJ1, X_BJ2, X_BJ3 = AXB_POOLS["010"]
X_HZ = AXB_POOLS["0571"][0]
X_GZ_BLACKLISTED = AXB_POOLS["020"][0]


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sandbox(clock):
    return HuaweiSandbox(clock=clock)


def make_client(
    sandbox,
    clock,
    *,
    mode="AXB",
    key=None,
    secret=None,
    timeout=None,
    read_only=False,
    retry=FAST,
    wire_tz=UTC,
    client_clock=None,
    transport=None,
):
    prefix = "" if mode == "AXB" else f"{mode.lower()}_"
    key = key or getattr(sandbox, f"{prefix}app_key")
    secret = secret or getattr(sandbox, f"{prefix}app_secret")
    return HuaweiPrivateNumberClient(
        key,
        secret,
        base_url=IN_PROCESS_BASE_URL,
        http_transport=transport or AsyncInProcessTransport(sandbox),
        retry=retry,
        timeout=timeout,
        read_only=read_only,
        clock=client_clock or clock,
        wire_tz=wire_tz,
    )


@pytest.fixture
async def axb(sandbox, clock):
    client = make_client(sandbox, clock)
    yield client
    await client.aclose()


@pytest.fixture
async def ax(sandbox, clock):
    client = make_client(sandbox, clock, mode="AX")
    yield client
    await client.aclose()


@pytest.fixture
async def bindings(axb, ax, clock):
    provider = HuaweiBindings(axb=axb, ax=ax, account="sandbox", clock=clock)
    yield provider


def sent(client: HuaweiPrivateNumberClient) -> int:
    return client.transport.requests_sent


# ---------------------------------------------------------------------------------------------
# Seed data and sandbox contract


def test_seed_has_pools_by_area_and_bindings_some_expiring_soon_one_expired(sandbox, clock):
    state = sandbox.state
    areas = {info["area"] for info in state["numbers"]["AXB"].values()}
    assert {"010", "021", "0755", "0571", "020"} <= areas
    assert all(x.startswith("+86170") for x in state["numbers"]["AXB"])
    left = sorted((r["_expires"] - clock()) for r in state["axb"] if r["_expires"] is not None)
    assert left[0] < 5 * 60 and left[1] < 15 * 60  # two expire within minutes
    assert any(r["_expires"] is None for r in state["axb"])  # and some never
    assert len(state["expired"]) == 1 and state["expired"][0]["_expires"] < clock()
    assert state["ax"] and state["recordings"]
    assert (
        HuaweiSandbox.vendor == "huawei" and HuaweiSandbox.base_path == "" and HuaweiSandbox.STATE_FILE == "huawei.json"
    )


def test_credentials_print_public_defaults_and_mask_env_secrets(monkeypatch, clock):
    labels = dict(HuaweiSandbox(clock=clock).credentials())
    assert labels["AXB app_key"] == DEFAULT_APP_KEY and labels["AXB app_secret"] == DEFAULT_APP_SECRET
    monkeypatch.setenv("TELEDECK_SANDBOX_HUAWEI_APP_KEY", "envKey123")
    monkeypatch.setenv("TELEDECK_SANDBOX_HUAWEI_APP_SECRET", "envSecretValue987")
    sandbox = HuaweiSandbox(clock=clock)
    labels = dict(sandbox.credentials())
    assert labels["AXB app_key"] == "envKey123"
    assert (
        "envSecretValue987" not in labels["AXB app_secret"]
        and "TELEDECK_SANDBOX_HUAWEI_APP_SECRET" in labels["AXB app_secret"]
    )
    assert sandbox.app_secret == "envSecretValue987"


async def test_env_credentials_are_the_ones_the_sandbox_accepts(monkeypatch, clock):
    monkeypatch.setenv("TELEDECK_SANDBOX_HUAWEI_APP_KEY", "envKey123")
    monkeypatch.setenv("TELEDECK_SANDBOX_HUAWEI_APP_SECRET", "envSecretValue987")
    sandbox = HuaweiSandbox(clock=clock)
    good = make_client(sandbox, clock, key="envKey123", secret="envSecretValue987")
    assert (await good.axb_query(relation_num=X_SZ1)).total_results == 2
    stale = make_client(sandbox, clock, key=DEFAULT_APP_KEY, secret=DEFAULT_APP_SECRET)
    with pytest.raises(AuthError) as caught:
        await stale.axb_query(relation_num=X_SZ1)
    assert caught.value.code == "1010003"


async def test_state_persists_in_its_file(tmp_path, clock):
    path = tmp_path / "huawei.json"
    first = HuaweiSandbox(StateStore(path), clock=clock)
    client = make_client(first, clock)
    made = await client.axb_bind(user_number(501), user_number(502), relation_num=X_BJ3, duration=600)
    again = HuaweiSandbox(StateStore(path), clock=clock)
    client = make_client(again, clock)
    assert (await client.axb_query(subscription_id=made.subscription_id)).items[0].caller == user_number(501)
    again.reset()
    with pytest.raises(NotFound):
        await client.axb_query(subscription_id=made.subscription_id)


# ---------------------------------------------------------------------------------------------
# AXB operations


async def test_axb_bind_query_modify_unbind(axb, clock):
    made = await axb.axb_bind(
        user_number(101),
        user_number(102),
        relation_num=X_BJ3,
        duration=3600,
        record=True,
        user_data="ticket-7",
        max_duration=30,
        call_direction=1,
    )
    assert made.relation_num == X_BJ3 and made.subscription_id and made.duration == 3600 and made.call_direction == 1
    page = await axb.axb_query(subscription_id=made.subscription_id)
    item = page.items[0]
    assert (item.caller, item.callee, item.record, item.user_data, item.max_duration) == (
        user_number(101),
        user_number(102),
        True,
        "ticket-7",
        30,
    )
    assert item.subscribe_time == datetime.fromtimestamp(T0, UTC) and item.subscribe_time.tzinfo is not None
    assert item.expires_at == datetime.fromtimestamp(T0 + 3600, UTC)

    clock.advance(120)
    await axb.axb_modify(made.subscription_id, callee=user_number(103), duration=600)
    item = (await axb.axb_query(subscription_id=made.subscription_id)).items[0]
    assert item.callee == user_number(103) and item.expires_at == datetime.fromtimestamp(T0 + 120 + 600, UTC)

    await axb.axb_unbind(subscription_id=made.subscription_id)
    with pytest.raises(NotFound) as caught:
        await axb.axb_query(subscription_id=made.subscription_id)
    assert caught.value.code == "1012007" and caught.value.status == 403 and "does not exist" in caught.value.message
    with pytest.raises(NotFound):
        await axb.axb_unbind(subscription_id=made.subscription_id)
    with pytest.raises(NotFound):
        await axb.axb_modify(made.subscription_id, callee=user_number(104))


async def test_axb_bind_by_area_code_draws_x_from_that_pool(axb):
    made = await axb.axb_bind(user_number(111), user_number(112), area_code="021", duration=600)
    assert made.relation_num in AXB_POOLS["021"]


async def test_pool_exhaustion_is_a_conflict_pointing_at_the_area_code(axb):
    await axb.axb_bind(user_number(121), user_number(122), area_code="0571", duration=600)
    with pytest.raises(Conflict) as caught:  # Hangzhou's only X already carries A
        await axb.axb_bind(user_number(121), user_number(123), area_code="0571", duration=600)
    error = caught.value
    assert error.code == "1012008" and error.status == 403 and error.pointer == "areaCode"
    assert "another area code" in error.detail
    fallback = await axb.axb_bind(user_number(121), user_number(123), area_code="0571", area_match_mode=1, duration=600)
    assert fallback.relation_num != X_HZ
    with pytest.raises(Conflict) as caught:
        await axb.axb_bind(user_number(121), user_number(124), area_code="0999", duration=600)
    assert caught.value.code == "1012008"


async def test_a_user_number_may_appear_only_once_per_x(axb):
    # Seed: A=user 1, B=user 2 on X_SZ1. A-X-C and C-X-B are both refused; C-X-D is fine.
    for caller, callee in (
        (user_number(1), user_number(131)),
        (user_number(131), user_number(2)),
        (user_number(2), user_number(132)),
    ):
        with pytest.raises(Conflict) as caught:
            await axb.axb_bind(caller, callee, relation_num=X_SZ1, duration=600)
        assert caught.value.code == "1012010" and caught.value.status == 403
    assert (
        await axb.axb_bind(user_number(133), user_number(134), relation_num=X_SZ1, duration=600)
    ).relation_num == X_SZ1
    # The same A and B on another X is allowed.
    assert (await axb.axb_bind(user_number(1), user_number(2), relation_num=X_SZ2, duration=600)).relation_num == X_SZ2


async def test_modify_into_a_conflict_is_refused(axb):
    made = await axb.axb_bind(user_number(141), user_number(142), relation_num=X_SZ1, duration=600)
    with pytest.raises(Conflict) as caught:
        await axb.axb_modify(made.subscription_id, caller=user_number(1))
    assert caught.value.code == "1012010"


async def test_x_limits_blacklist_and_foreign_numbers(sandbox, clock):
    small = HuaweiSandbox(clock=clock, max_pairs_per_x=1)
    client = make_client(small, clock)
    await client.axb_bind(user_number(151), user_number(152), relation_num=X_BJ3, duration=600)
    with pytest.raises(Conflict) as caught:
        await client.axb_bind(user_number(153), user_number(154), relation_num=X_BJ3, duration=600)
    assert caught.value.code == "1012009" and caught.value.pointer == "relationNum"
    with pytest.raises(Conflict) as caught:
        await client.axb_bind(user_number(155), user_number(156), relation_num=X_GZ_BLACKLISTED, duration=600)
    assert caught.value.code == "1012102"
    with pytest.raises(ValidationError) as caught:  # an AX number is not this AXB app's
        await client.axb_bind(user_number(157), user_number(158), relation_num=AX_POOLS["0755"][1], duration=600)
    assert caught.value.code == "1012001" and caught.value.pointer == "relationNum"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"caller": "13800000001"}, "callerNum"),  # no +86
        ({"callee": "+86075528000001"}, "calleeNum"),  # landline with its leading 0
        ({"callee": "+8613800000161"}, "calleeNum"),  # same as A
        ({"duration": 30}, "duration"),
        ({"duration": 7_776_001}, "duration"),
        ({"max_duration": 1441}, "maxDuration"),
        ({"area_code": "755", "relation_num": None}, "areaCode"),
        ({"call_direction": 3}, "callDirection"),
        ({"user_data": "x" * 257}, "userData"),
        ({"last_min_voice": "last.wav"}, "lastMinVoice"),  # needs maxDuration
    ],
)
async def test_parameter_errors_name_the_parameter(axb, kwargs, field):
    args = {"caller": "+8613800000161", "callee": "+8613800000162", "relation_num": X_BJ3, "duration": 600}
    args.update(kwargs)
    caller, callee = args.pop("caller"), args.pop("callee")
    with pytest.raises(ValidationError) as caught:
        await axb.axb_bind(caller, callee, **args)
    error = caught.value
    assert error.code == "1010002" and error.status == 403
    assert error.problems[0].field == field and error.problems[0].code == "1010002"
    assert field in str(error)


async def test_landline_numbers_in_global_format_are_accepted(axb):
    made = await axb.axb_bind(user_number(171), "+8675528000001", relation_num=X_BJ3, duration=600)
    assert made.callee == "+8675528000001"


async def test_paged_query_of_one_x(axb, sandbox):
    for n in range(25):
        await axb.axb_bind(user_number(1000 + 2 * n), user_number(1001 + 2 * n), relation_num=X_BJ2, duration=3600)
    first = await axb.axb_query(relation_num=X_BJ2, page_index=1, page_size=10)
    assert (first.page_number, first.page_size, first.total_results, first.total_pages, len(first.items)) == (
        1,
        10,
        25,
        3,
        10,
    )
    pages = [page async for page in axb.axb_pages(X_BJ2, page_size=10)]
    assert [len(p.items) for p in pages] == [10, 10, 5]
    everything = await axb.axb_list(X_BJ2)
    assert len({b.subscription_id for b in everything}) == 25
    assert all(isinstance(b, AxbBinding) and b.expires_at is not None for b in everything)
    # A page size outside 10..100 is clamped by the client (the platform would fall back to 50).
    assert (await axb.axb_query(relation_num=X_BJ2, page_size=500)).page_size == 100
    # Past the end: an empty page, not an error.
    assert (await axb.axb_query(relation_num=X_BJ2, page_index=9, page_size=10)).items == []
    # Narrowed to A+X and A+X+B.
    only = await axb.axb_query(relation_num=X_BJ2, caller=user_number(1000))
    assert [b.callee for b in only.items] == [user_number(1001)]
    with pytest.raises(NotFound):
        await axb.axb_query(relation_num=X_BJ2, caller=user_number(1000), callee=user_number(1003))


async def test_pages_that_never_advance_are_stopped(axb, sandbox):
    for n in range(12):
        await axb.axb_bind(user_number(2000 + 2 * n), user_number(2001 + 2 * n), relation_num=X_BJ2, duration=3600)
    sandbox.faults.repeat_page(AXB_PATH, page_number=1)
    with pytest.raises(PaginationStalled):
        await axb.axb_list(X_BJ2, page_size=10)


async def test_listing_an_x_with_no_bindings_is_empty(axb):
    assert await axb.axb_list(X_BJ3) == []
    with pytest.raises(NotFound):
        await axb.axb_query(relation_num=X_BJ3)


async def test_unbind_by_relation_num_removes_every_pair_on_that_x(axb):
    await axb.axb_bind(user_number(181), user_number(182), relation_num=X_BJ3, duration=600)
    await axb.axb_bind(user_number(183), user_number(184), relation_num=X_BJ3, duration=600)
    await axb.axb_unbind(relation_num=X_BJ3)
    assert await axb.axb_list(X_BJ3) == []


async def test_expiry_by_the_injected_clock_removes_the_binding(axb, clock):
    made = await axb.axb_bind(user_number(191), user_number(192), relation_num=X_BJ3, duration=60)
    clock.advance(59)
    assert (await axb.axb_query(subscription_id=made.subscription_id)).items
    clock.advance(1)
    with pytest.raises(NotFound):
        await axb.axb_query(subscription_id=made.subscription_id)
    # Its numbers are free again on that X.
    assert (
        await axb.axb_bind(user_number(191), user_number(192), relation_num=X_BJ3, duration=60)
    ).relation_num == X_BJ3
    # The seeded binding with about two minutes left goes the same way.
    before = {b.subscription_id for b in await axb.axb_list(X_BJ1)}
    clock.advance(5 * 60)
    after = {b.subscription_id for b in await axb.axb_list(X_BJ1)}
    assert len(before) == 2 and len(after) == 1 and after < before


async def test_modify_sending_recording_is_refused(axb):
    made = await axb.axb_bind(user_number(195), user_number(196), relation_num=X_BJ3, duration=600)
    # The client never offers it; a raw request shows the sandbox's answer.
    response = await axb.transport.request(
        "PUT", AXB_PATH, json={"subscriptionId": made.subscription_id, "recordFlag": "true"}, ok_statuses=(403,)
    )
    assert response.json()["resultcode"] == "1010002" and "recordFlag" in response.json()["resultdesc"]


# ---------------------------------------------------------------------------------------------
# AX operations


async def test_ax_bind_query_unbind(ax, sandbox):
    made = await ax.ax_bind(user_number(301), private_num=AX_POOLS["0755"][1], user_data="courier-9")
    assert made.private_num == AX_POOLS["0755"][1] and made.orig == user_number(301)
    by_a = await ax.ax_query(orig=user_number(301))
    assert [b.subscription_id for b in by_a] == [made.subscription_id]
    assert by_a[0].subscribe_time == datetime.fromtimestamp(T0, UTC) and by_a[0].user_data == "courier-9"
    assert (await ax.ax_query(private_num=made.private_num))[0].orig == user_number(301)
    assert (await ax.ax_query(subscription_id=made.subscription_id))[0].private_num == made.private_num
    await ax.ax_unbind(subscription_id=made.subscription_id)
    with pytest.raises(NotFound) as caught:
        await ax.ax_query(subscription_id=made.subscription_id)
    assert caught.value.code == "1016001"
    by_area = await ax.ax_bind(user_number(302), area_code="021")
    assert by_area.private_num in AX_POOLS["021"]
    await ax.ax_unbind(private_num=by_area.private_num)
    with pytest.raises(NotFound):
        await ax.ax_unbind(private_num=by_area.private_num)


async def test_ax_business_rules(ax):
    with pytest.raises(Conflict) as caught:  # the seeded AX binding holds this X
        await ax.ax_bind(user_number(311), private_num=AX_POOLS["0755"][0])
    assert caught.value.code == "1011005" and caught.value.pointer == "privateNum"
    await ax.ax_bind(user_number(312), area_code="010")
    with pytest.raises(Conflict) as caught:  # Beijing's only AX number is taken
        await ax.ax_bind(user_number(313), area_code="010")
    assert caught.value.code == "1011002" and caught.value.pointer == "areaCode"
    for _ in range(4):
        await ax.ax_bind(user_number(314), area_code="010", area_match_mode=1)
    with pytest.raises(Conflict) as caught:
        await ax.ax_bind(user_number(314), area_code="0755", area_match_mode=1)
    assert caught.value.code in ("1011003", "1011002")
    with pytest.raises(ValidationError) as caught:  # this AX app has no recording
        await ax.ax_bind(user_number(315), area_code="0755", record=True)
    assert caught.value.code == "1012012" and caught.value.pointer == "recordFlag"
    with pytest.raises(ValidationError) as caught:
        await ax.ax_bind(user_number(315), area_code="0755", private_num_type="fixed")
    assert caught.value.problems[0].field == "privateNumType"
    with pytest.raises(ValidationError) as caught:
        await ax.ax_bind(user_number(315), private_num=AXB_POOLS["0755"][2])
    assert caught.value.code == "1011001"


async def test_an_a_number_holds_at_most_five_x(sandbox, clock):
    roomy = HuaweiSandbox(clock=clock, seed_data=False)
    roomy.state["numbers"]["AX"].update(
        {f"+86171000099{n:02d}": {"area": "0755", "status": "normal"} for n in range(6)}
    )
    client = make_client(roomy, clock, mode="AX")
    for _ in range(5):
        await client.ax_bind(user_number(320), area_code="0755")
    with pytest.raises(Conflict) as caught:
        await client.ax_bind(user_number(320), area_code="0755")
    assert caught.value.code == "1011003" and caught.value.pointer == "origNum"


async def test_each_app_may_call_only_its_own_mode(ax, axb):
    with pytest.raises(AuthError) as caught:
        await ax.axb_query(relation_num=X_SZ1)
    assert caught.value.code == "1010040" and "another mode" in caught.value.detail
    with pytest.raises(AuthError):
        await axb.ax_query(orig=user_number(21))


# ---------------------------------------------------------------------------------------------
# Recordings


async def test_recording_url_is_the_location_of_the_redirect_not_followed(sandbox, clock):
    wire = AsyncInProcessTransport(sandbox)
    axb = HuaweiPrivateNumberClient(
        sandbox.app_key, sandbox.app_secret, base_url=IN_PROCESS_BASE_URL, http_transport=wire, retry=FAST, clock=clock
    )
    fresh, old = sandbox.state["recordings"]
    url = await axb.record_download_url(fresh["fileName"], fresh["recordDomain"])
    assert url.startswith(f"https://{RECORD_DOMAIN}/{fresh['fileName']}?")
    assert wire.requests_seen == 1  # one request: the redirect was not followed
    with pytest.raises(NotFound) as caught:  # older than the 7-day retention
        await axb.record_download_url(old["fileName"], old["recordDomain"])
    assert caught.value.code == "1012007"
    with pytest.raises(ValidationError) as caught:
        await axb.record_download_url("", RECORD_DOMAIN)
    assert caught.value.pointer == "fileName"
    await axb.aclose()


async def test_a_redirect_without_location_is_malformed(axb, sandbox):
    sandbox.faults.respond("GET", RECORD_PATH, 302, b"")
    with pytest.raises(MalformedResponse):
        await axb.record_download_url("a.wav", RECORD_DOMAIN)


# ---------------------------------------------------------------------------------------------
# Authentication through the client, and raw HTTP


async def test_wrong_secret_unknown_key_and_clock_skew(sandbox, clock):
    wrong = make_client(sandbox, clock, secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        await wrong.axb_query(relation_num=X_SZ1)
    assert (caught.value.code, caught.value.status, caught.value.message) == ("1010010", 401, "Invalid digest.")
    assert "not-the-secret" not in str(caught.value)
    unknown = make_client(sandbox, clock, key="nobody")
    with pytest.raises(AuthError) as caught:
        await unknown.axb_query(relation_num=X_SZ1)
    assert caught.value.code == "1010003"
    skewed = make_client(sandbox, clock, client_clock=lambda: clock() - 600)
    with pytest.raises(AuthError) as caught:
        await skewed.axb_query(relation_num=X_SZ1)
    assert caught.value.code == "1010013" and "clock" in caught.value.detail


async def test_raw_http_wrongly_signed_stale_and_replayed_requests(sandbox, clock):
    url = f"{IN_PROCESS_BASE_URL}{AXB_PATH}?relationNum=%2B8617000007551"
    async with httpx.AsyncClient(transport=AsyncInProcessTransport(sandbox)) as http:
        created = format_created(clock())
        base = {"Content-Type": "application/json;charset=UTF-8"}

        wrong = {**base, **aksk_headers(sandbox.app_key, "wrong-secret", nonce="abc123", created=created)}
        response = await http.get(url, headers=wrong)
        assert response.status_code == 401 and response.json() == {
            "resultcode": "1010010",
            "resultdesc": "Invalid digest.",
        }

        stale = {**base, **aksk_headers(sandbox.app_key, sandbox.app_secret, created=format_created(clock() - 3600))}
        response = await http.get(url, headers=stale)
        assert response.status_code == 401 and response.json()["resultcode"] == "1010013"

        good = {**base, **aksk_headers(sandbox.app_key, sandbox.app_secret, nonce="replay1", created=created)}
        first = await http.get(url, headers=good)
        assert first.status_code == 200 and first.json()["resultcode"] == "0" and first.json()["totalCount"] == 2
        replay = await http.get(url, headers=good)
        assert replay.status_code == 400 and replay.json()["resultcode"] == "1023006"

        response = await http.get(url, headers={**base, "Authorization": AUTHORIZATION})
        assert response.status_code == 400 and response.json()["resultcode"] == "1023033"

        spaced = x_aksk_value(sandbox.app_key, sandbox.app_secret, "spaced1", created, separator=", ")
        response = await http.get(url, headers={**base, "Authorization": AUTHORIZATION, "X-AKSK": spaced})
        assert response.json()["resultcode"] == "0"


# ---------------------------------------------------------------------------------------------
# Error mapping, flow control, malformed answers


def test_1010010_means_invalid_digest_with_401_and_flow_control_otherwise():
    assert isinstance(error_for_result(401, "1010010", "Invalid digest."), AuthError)
    limited = error_for_result(403, "1010010", "The flow control upper limit is reached on the platform.")
    assert isinstance(limited, RateLimited) and limited.retry_after == 60 and limited.code == "1010010"
    assert isinstance(error_for_result(500, "1023001", "Internal error."), Unavailable)
    assert type(error_for_result(403, "1099999", "Something new.")) is ProviderError
    assert error_for_result(403, "1099999", "Something new.").code == "1099999"


def test_error_mapper_without_a_result_code_falls_back_to_the_status():
    request = httpx.Request("GET", f"{IN_PROCESS_BASE_URL}{AXB_PATH}")
    assert isinstance(error_from_response(httpx.Response(502, content=b"<html>", request=request)), Unavailable)
    assert isinstance(error_from_response(httpx.Response(403, json={"error": "nope"}, request=request)), AuthError)
    assert isinstance(error_from_response(httpx.Response(400, content=b"", request=request)), MalformedResponse)


async def test_flow_control_surfaces_as_rate_limited(clock):
    limited = HuaweiSandbox(clock=clock, rate_limit=2)
    client = make_client(limited, clock)
    for _ in range(2):
        await client.axb_query(relation_num=X_SZ1)
    with pytest.raises(RateLimited) as caught:
        await client.axb_query(relation_num=X_SZ1)
    assert caught.value.code == "1010010" and caught.value.status == 403 and caught.value.retry_after == 60
    clock.advance(61)
    assert (await client.axb_query(relation_num=X_SZ1)).items


async def test_malformed_answers(axb, sandbox):
    sandbox.faults.malformed("GET", AXB_PATH)  # JSON without resultcode
    with pytest.raises(MalformedResponse):
        await axb.axb_query(relation_num=X_SZ1)
    sandbox.faults.respond("GET", AXB_PATH, 200, "<html>gateway</html>", content_type="text/html")
    with pytest.raises(MalformedResponse):
        await axb.axb_query(relation_num=X_SZ1)
    sandbox.faults.respond("POST", AXB_PATH, 200, {"resultdesc": "Success"})
    with pytest.raises(MalformedResponse):
        await axb.axb_bind(user_number(401), user_number(402), relation_num=X_BJ3, duration=600)
    sandbox.faults.respond("POST", AXB_PATH, 200, {"resultcode": "0", "resultdesc": "Success"})
    with pytest.raises(MalformedResponse):  # success without a subscriptionId
        await axb.axb_bind(user_number(401), user_number(402), relation_num=X_BJ3, duration=600)
    sandbox.faults.respond("GET", AXB_PATH, 200, {"resultcode": "0", "relationNumList": "nope"})
    with pytest.raises(MalformedResponse):
        await axb.axb_query(relation_num=X_SZ1)
    # A failure code inside a 200 is still a failure.
    sandbox.faults.respond("GET", AXB_PATH, 200, {"resultcode": "1012007", "resultdesc": "The record does not exist."})
    with pytest.raises(NotFound):
        await axb.axb_query(relation_num=X_SZ1)


async def test_server_errors_are_retried_for_reads_and_then_reported(axb, sandbox):
    sandbox.faults.respond("GET", AXB_PATH, 500, times=1)
    assert (await axb.axb_query(relation_num=X_SZ1)).total_results == 2
    sandbox.faults.respond("GET", AXB_PATH, 503, "<html>busy</html>", content_type="text/html", times=None)
    with pytest.raises(Unavailable) as caught:
        await axb.axb_query(relation_num=X_SZ1)
    assert caught.value.status == 503
    sandbox.faults.clear()
    sandbox.faults.respond("POST", AXB_PATH, 500, times=1)
    with pytest.raises(Unavailable) as caught:  # a bind is not re-sent on a 5xx either
        await axb.axb_bind(user_number(411), user_number(412), relation_num=X_BJ3, duration=600)
    assert caught.value.code == "1010001"
    assert (await axb.axb_bind(user_number(411), user_number(412), relation_num=X_BJ3, duration=600)).subscription_id


# ---------------------------------------------------------------------------------------------
# Lost answers, read-only


async def test_axb_bind_is_not_resent_after_a_timeout_and_can_be_found(sandbox, clock):
    client = make_client(sandbox, clock, timeout=httpx.Timeout(0.05))
    provider = HuaweiBindings(axb=client, clock=clock)
    sandbox.faults.delay("POST", AXB_PATH, 1.0, apply=True)
    request = BindRequest(
        mode="AXB", a=user_number(501), b=user_number(502), x=X_BJ3, expires_at=datetime.fromtimestamp(T0 + 3600, UTC)
    )
    before = len(sandbox.state["axb"])
    with pytest.raises(Timeout) as caught:
        await provider.bind(request)
    assert caught.value.maybe_applied is True
    assert sent(client) == 1 and len(sandbox.state["axb"]) == before + 1  # applied once, sent once
    found = await provider.find_after_timeout(request)
    assert [(b.a, b.b, b.x, b.status) for b in found] == [(user_number(501), user_number(502), X_BJ3, ACTIVE)]
    assert found[0].expires_at == datetime.fromtimestamp(T0 + 3600, UTC)


async def test_find_after_timeout_when_the_platform_picked_x(sandbox, clock):
    client = make_client(sandbox, clock, timeout=httpx.Timeout(0.05))
    request = BindRequest(
        mode="AXB",
        a=user_number(511),
        b=user_number(512),
        area_code="021",
        expires_at=datetime.fromtimestamp(T0 + 600, UTC),
    )
    sandbox.faults.delay("POST", AXB_PATH, 1.0, apply=True)
    blind = HuaweiBindings(axb=client, clock=clock)
    with pytest.raises(Timeout):
        await blind.bind(request)
    with pytest.raises(ProviderError) as caught:  # no X numbers configured: refuse to guess
        await blind.find_after_timeout(request)
    assert "X numbers" in caught.value.message
    informed = HuaweiBindings(axb=client, clock=clock, known_x=[*AXB_POOLS["010"], *AXB_POOLS["021"]])
    found = await informed.find_after_timeout(request)
    assert len(found) == 1 and found[0].x in AXB_POOLS["021"] and found[0].pool == "021"
    asked: list[str] = []
    by_area = HuaweiBindings(
        axb=client, clock=clock, known_x=lambda area: asked.append(area) or AXB_POOLS.get(area, [])
    )
    assert [b.subscription_id for b in await by_area.find_after_timeout(request)] == [found[0].subscription_id]
    assert asked == ["021"]


async def test_ax_bind_after_timeout_is_found_by_a(sandbox, clock):
    client = make_client(sandbox, clock, mode="AX", timeout=httpx.Timeout(0.05))
    provider = HuaweiBindings(ax=client, clock=clock)
    sandbox.faults.delay("POST", AX_PATH, 1.0, apply=True)
    request = BindRequest(mode="AX", a=user_number(521), area_code="021", expires_at=datetime.fromtimestamp(T0, UTC))
    with pytest.raises(Timeout):
        await provider.bind(request)
    assert sent(client) == 1
    found = await provider.find_after_timeout(request)
    assert [(b.a, b.x, b.mode) for b in found] == [(user_number(521), AX_POOLS["021"][0], "AX")]
    assert (
        await provider.find_after_timeout(BindRequest(mode="AX", a=user_number(522), expires_at=request.expires_at))
        == []
    )


async def test_read_only_refuses_changes_without_sending(sandbox, clock):
    client = make_client(sandbox, clock, read_only=True)
    provider = HuaweiBindings(axb=client, clock=clock)
    handled = sandbox.requests_handled
    with pytest.raises(ReadOnlyRefused):
        await client.axb_bind(user_number(601), user_number(602), relation_num=X_BJ3, duration=600)
    with pytest.raises(ReadOnlyRefused):
        await client.axb_modify("any", callee=user_number(603))
    seeded = Binding(provider="huawei", mode="AXB", subscription_id=sandbox.state["axb"][0]["subscriptionId"], x=X_SZ1)
    with pytest.raises(ReadOnlyRefused):
        await provider.unbind(seeded)
    assert sandbox.requests_handled == handled
    assert (await client.axb_query(relation_num=X_SZ1)).total_results == 2  # reads still work


# ---------------------------------------------------------------------------------------------
# Times and numbers


def test_wire_times_become_aware_utc():
    assert parse_wire_time("2018-2-24 15:15:15") == datetime(2018, 2, 24, 15, 15, 15, tzinfo=UTC)
    assert parse_wire_time("2019-01-24 07:03:28", BEIJING) == datetime(2019, 1, 23, 23, 3, 28, tzinfo=UTC)
    assert parse_wire_time("2019-01-24T07:03:28Z", BEIJING) == datetime(2019, 1, 24, 7, 3, 28, tzinfo=UTC)
    assert parse_wire_time("2019-13-24 07:03:28") is None and parse_wire_time(None) is None
    assert parse_wire_time("yesterday") is None


async def test_binding_times_are_aware_utc_whatever_zone_was_asked_in(bindings, sandbox):
    in_beijing = datetime.fromtimestamp(T0 + 7200, BEIJING)  # 18:00 in Beijing = 10:00 UTC
    made = await bindings.bind(
        BindRequest(mode="AXB", a=user_number(701), b=user_number(702), x=X_BJ3, expires_at=in_beijing)
    )
    assert made.expires_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC) and made.expires_at.utcoffset() == timedelta(0)
    stored = next(r for r in sandbox.state["axb"] if r["subscriptionId"] == made.subscription_id)
    assert stored["duration"] == 7200
    fresh = await bindings.refresh(made)
    assert fresh.expires_at == made.expires_at and fresh.status == ACTIVE
    assert fresh.raw["subscribeTime"] == "2026-01-05 08:00:00"


async def test_wire_zone_is_configurable(sandbox, clock):
    as_beijing = make_client(sandbox, clock, wire_tz=BEIJING)
    item = (await as_beijing.axb_query(subscription_id=sandbox.state["axb"][0]["subscriptionId"])).items[0]
    utc_client = make_client(sandbox, clock)
    same = (await utc_client.axb_query(subscription_id=item.subscription_id)).items[0]
    assert same.subscribe_time - item.subscribe_time == timedelta(hours=8)


def test_numbers_are_normalised_to_global_format():
    assert normalize_number("138 0000 0021") == "+8613800000021"
    assert normalize_number("075528000001") == "+8675528000001"
    assert normalize_number("8613800000021") == "+8613800000021"
    assert normalize_number("+8613800000021") == "+8613800000021"


def test_base_url_from_env_and_the_http_rule(monkeypatch):
    monkeypatch.delenv("TELEDECK_HUAWEI_BASE_URL", raising=False)
    assert resolve_base_url() == "https://rtcpns.cn-north-1.myhuaweicloud.com"
    monkeypatch.setenv("TELEDECK_HUAWEI_BASE_URL", "https://rtcapi.cn-north-1.myhuaweicloud.com:12543/")
    assert resolve_base_url() == "https://rtcapi.cn-north-1.myhuaweicloud.com:12543"
    assert HuaweiPrivateNumberClient("k", "s").base_url == "https://rtcapi.cn-north-1.myhuaweicloud.com:12543"
    assert resolve_base_url("http://127.0.0.1:4513") == "http://127.0.0.1:4513"
    assert resolve_base_url("http://localhost:4513") == "http://localhost:4513"
    for bad in (
        "http://rtcpns.cn-north-1.myhuaweicloud.com",
        "ftp://127.0.0.1",
        "not a url",
        "https://user:pw@example.com",
        "https://example.com/?a=1",
    ):
        with pytest.raises(ValueError):
            resolve_base_url(bad)
    monkeypatch.setenv("TELEDECK_HUAWEI_BASE_URL", "http://example.com")
    with pytest.raises(ValueError):
        HuaweiPrivateNumberClient("k", "s")


async def test_client_over_loopback_http():
    sandbox = HuaweiSandbox()  # the real clock: the client signs with time.time too
    with serve(sandbox) as server:
        client = HuaweiPrivateNumberClient(sandbox.app_key, sandbox.app_secret, base_url=server.url, retry=FAST)
        try:
            page = await client.axb_query(relation_num=X_SZ1)
            assert page.total_results == 2
            fresh = sandbox.state["recordings"][0]
            assert (await client.record_download_url(fresh["fileName"], fresh["recordDomain"])).startswith("https://")
        finally:
            await client.aclose()


# ---------------------------------------------------------------------------------------------
# HuaweiBindings (BindingProvider)


async def test_provider_bind_update_refresh_unbind(bindings, sandbox, clock):
    assert bindings.provider == "huawei" and bindings.modes == ("AXB", "AX")
    made = await bindings.bind(
        BindRequest(
            mode="AXB",
            a="138 0000 0801",
            b=user_number(802),
            area_code="0755",
            expires_at=datetime.fromtimestamp(T0 + 3600, UTC),
            recording=True,
            user_data="order-801",
        )
    )
    assert (made.provider, made.mode, made.a, made.b, made.status, made.pool, made.account) == (
        "huawei",
        "AXB",
        user_number(801),
        user_number(802),
        ACTIVE,
        "0755",
        "sandbox",
    )
    assert made.x in AXB_POOLS["0755"] and made.recording is True and made.user_data == "order-801"

    clock.advance(600)
    changed = await bindings.update(made, BindingChange(b=user_number(803)))
    assert changed.b == user_number(803) and changed.expires_at == made.expires_at  # expiry kept
    longer = await bindings.update(changed, BindingChange(expires_at=datetime.fromtimestamp(T0 + 7200, UTC)))
    assert longer.expires_at == datetime.fromtimestamp(T0 + 7200, UTC)

    handled = sandbox.requests_handled
    with pytest.raises(ValidationError) as caught:
        await bindings.update(longer, BindingChange(recording=False))
    assert caught.value.pointer == "recording"
    with pytest.raises(ValidationError) as caught:
        await bindings.update(longer, BindingChange(expires_at=datetime.fromtimestamp(clock() + 30, UTC)))
    assert caught.value.pointer == "expires_at"
    assert sandbox.requests_handled == handled  # refused locally

    await bindings.unbind(longer)
    assert (await bindings.refresh(longer)).status == REMOVED
    await bindings.unbind(longer)  # already gone: done


async def test_provider_refresh_marks_expired_bindings(bindings, clock):
    made = await bindings.bind(
        BindRequest(
            mode="AXB",
            a=user_number(811),
            b=user_number(812),
            x=X_BJ3,
            expires_at=datetime.fromtimestamp(T0 + 120, UTC),
        )
    )
    clock.advance(121)
    assert (await bindings.refresh(made)).status == EXPIRED


async def test_provider_refuses_impossible_requests_locally(bindings, sandbox):
    handled = sandbox.requests_handled
    soon = datetime.fromtimestamp(T0 + 30, UTC)
    for request, field in (
        (BindRequest(mode="AXB", a=user_number(821), b=user_number(822), expires_at=soon), "expires_at"),
        (
            BindRequest(
                mode="AXB",
                a=user_number(821),
                b=user_number(822),
                expires_at=datetime.fromtimestamp(T0 + 91 * 86400, UTC),
            ),
            "expires_at",
        ),
        (BindRequest(mode="AXB", a=user_number(821), expires_at=datetime.fromtimestamp(T0 + 600, UTC)), "b"),
        (
            BindRequest(
                mode="AXN", a=user_number(821), b=user_number(822), expires_at=datetime.fromtimestamp(T0 + 600, UTC)
            ),
            "mode",
        ),
    ):
        with pytest.raises(ValidationError) as caught:
            await bindings.bind(request)
        assert caught.value.pointer == field
    assert sandbox.requests_handled == handled


async def test_provider_ax_bind_lookup_and_unbind(bindings):
    made = await bindings.bind(
        BindRequest(mode="AX", a=user_number(831), area_code="0755", expires_at=datetime.fromtimestamp(T0, UTC))
    )
    assert made.mode == "AX" and made.x in AX_POOLS["0755"] and made.expires_at is None and made.b == ""
    assert [b.subscription_id for b in await bindings.lookup(subscription_id=made.subscription_id)] == [
        made.subscription_id
    ]
    assert [b.a for b in await bindings.lookup(x=made.x)] == [user_number(831)]
    with pytest.raises(ValidationError):
        await bindings.update(made, BindingChange(a=user_number(832)))
    await bindings.unbind(made)
    assert (await bindings.refresh(made)).status == REMOVED
    assert await bindings.lookup(subscription_id="no-such-id") == []


async def test_provider_lookup_by_x_and_across_known_numbers(axb, ax, clock, sandbox):
    provider = HuaweiBindings(axb=axb, ax=ax, clock=clock, known_x=[X_SZ1, AX_POOLS["0755"][0], X_BJ3])
    on_x = await provider.lookup(x=X_SZ1, pool="0755")
    assert len(on_x) == 2 and {b.pool for b in on_x} == {"0755"} and all(b.mode == "AXB" for b in on_x)
    never = next(b for b in on_x if b.user_data == "order-1001")
    assert never.expires_at is None and never.recording is True
    everything = await provider.lookup()
    assert {b.mode for b in everything} == {"AXB", "AX"} and len(everything) == 3
    expired_id = sandbox.state["expired"][0]["subscriptionId"]
    gone = await provider.refresh(
        Binding(
            provider="huawei",
            mode="AXB",
            subscription_id=expired_id,
            x=AXB_POOLS["021"][0],
            expires_at=datetime.fromtimestamp(T0 - 3600, UTC),
        )
    )
    assert gone.status == EXPIRED


async def test_connect_builds_one_client_per_app(sandbox, clock):
    provider = HuaweiBindings.connect(
        sandbox.app_key,
        sandbox.app_secret,
        ax_app_key=sandbox.ax_app_key,
        ax_app_secret=sandbox.ax_app_secret,
        account="lab",
        clock=clock,
        base_url=IN_PROCESS_BASE_URL,
        http_transport=AsyncInProcessTransport(sandbox),
    )
    assert provider.modes == ("AXB", "AX") and provider.account == "lab"
    assert len(await provider.lookup(x=X_SZ1)) == 2 and len(await provider.lookup(x=AX_POOLS["0755"][0])) == 1
    await provider.aclose()
    only_ax = HuaweiBindings.connect(
        ax_app_key=sandbox.ax_app_key,
        ax_app_secret=sandbox.ax_app_secret,
        clock=clock,
        base_url=IN_PROCESS_BASE_URL,
        http_transport=AsyncInProcessTransport(sandbox),
    )
    assert only_ax.modes == ("AX",)
    await only_ax.aclose()


async def test_provider_needs_a_client_and_closes_both(axb, ax):
    with pytest.raises(ValueError):
        HuaweiBindings()
    provider = HuaweiBindings(axb=axb)
    assert provider.modes == ("AXB",)
    with pytest.raises(ValidationError):
        await provider.bind(BindRequest(mode="AX", a=user_number(841), expires_at=datetime.fromtimestamp(T0, UTC)))
    await HuaweiBindings(axb=axb, ax=ax).aclose()
    for _client, call in ((axb, axb.axb_query(relation_num=X_SZ1)), (ax, ax.ax_query(orig=user_number(21)))):
        with pytest.raises(RuntimeError):  # httpx: the client has been closed
            await call


# ---------------------------------------------------------------------------------------------
# AXE and AXYB: each its own app


class Recording(httpx.AsyncBaseTransport):
    """The in-process sandbox, keeping every request sent (the wire shape)."""

    def __init__(self, sandbox) -> None:
        self.inner = AsyncInProcessTransport(sandbox)
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)


def body_of(request: httpx.Request) -> dict:
    import json

    return json.loads(request.content)


@pytest.fixture
async def axe(sandbox, clock):
    client = make_client(sandbox, clock, mode="AXE")
    yield client
    await client.aclose()


@pytest.fixture
async def axyb(sandbox, clock):
    client = make_client(sandbox, clock, mode="AXYB")
    yield client
    await client.aclose()


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


async def test_axe_bind_wire_shape_query_and_expiry(sandbox, clock):
    wire = Recording(sandbox)
    client = make_client(sandbox, clock, mode="AXE", transport=wire)
    provider = HuaweiBindings(axe=client, clock=clock)
    made = await provider.bind(
        BindRequest(mode="AXE", a="138 0000 0701", x=AXE_POOLS["0755"][1], extension="0042", expires_at=at(90 * 60))
    )
    request = wire.seen[-1]
    assert (request.method, request.url.path) == ("POST", AXE_PATH)
    assert body_of(request) == {
        "virtualNum": AXE_POOLS["0755"][1],
        "bindNum": "+8613800000701",
        "extendNum": "0042",
        "timeUnit": "1",
        "bindExpiredTime": 90,
    }
    assert (made.mode, made.x, made.extension, made.a, made.b) == (
        "AXE",
        AXE_POOLS["0755"][1],
        "0042",
        user_number(701),
        "",
    )
    assert made.expires_at == at(90 * 60) and made.status == ACTIVE
    # The query (v1.0) answers by subscription id or by X and E, and reports no bind time.
    item = await client.axe_query(virtual_num=AXE_POOLS["0755"][1], extend_num="0042")
    assert item.subscription_id == made.subscription_id and "subscribeTime" not in item.raw
    assert (await provider.refresh(made)).expires_at == made.expires_at  # kept: the platform cannot tell
    # The platform picks the lowest free extension when none is asked for; one A per X.
    picked = await client.axe_bind(user_number(702), virtual_num=AXE_POOLS["0755"][1])
    assert picked.extend_num == "0001"
    with pytest.raises(Conflict) as caught:
        await client.axe_bind(user_number(701), virtual_num=AXE_POOLS["0755"][1])
    assert caught.value.code == "1012010"
    clock.advance(91 * 60)
    assert (await provider.refresh(made)).status == EXPIRED  # the platform removed it at its time


async def test_axe_validation_errors_name_the_field(axe):
    with pytest.raises(ValidationError) as caught:
        await axe.axe_bind(user_number(711), virtual_num=AXE_POOLS["010"][0], extend_num="12345")
    assert caught.value.code == "1010002" and caught.value.problems[0].pointer == "extendNum"
    with pytest.raises(ValidationError) as caught:
        await axe.axe_bind(user_number(711), area_code="010", time_unit="0", bind_expired_time=721)
    assert caught.value.problems[0].pointer == "bindExpiredTime"
    with pytest.raises(ValidationError) as caught:
        await axe.axe_bind("13800000711", area_code="010")
    assert caught.value.problems[0].pointer == "bindNum"


async def test_axe_modify_changes_lifetime_and_recording_and_v2_pages(sandbox, clock, axe):
    provider = HuaweiBindings(axe=axe, clock=clock)
    made = await provider.bind(BindRequest(mode="AXE", a=user_number(721), area_code="010", expires_at=at(3600)))
    changed = await provider.update(made, BindingChange(expires_at=at(7200), recording=True))
    assert changed.expires_at == at(7200) and changed.recording is True
    with pytest.raises(ValidationError):  # A, X and E of an AXE binding cannot change
        await provider.update(made, BindingChange(a=user_number(722)))
    for n in range(3):
        await axe.axe_bind(user_number(730 + n), virtual_num=AXE_POOLS["0755"][0])
    first, cursor = await axe.axe_page(AXE_POOLS["0755"][0], limit=2)
    assert len(first) == 2 and cursor
    assert len(await axe.axe_list(AXE_POOLS["0755"][0], limit=2)) == 4  # the seeded one and three
    await provider.unbind(changed)
    assert (await provider.refresh(changed)).status == REMOVED


async def test_axyb_binds_ax_then_yb_with_app_key_on_the_wire(sandbox, clock):
    wire = Recording(sandbox)
    client = make_client(sandbox, clock, mode="AXYB", transport=wire)
    provider = HuaweiBindings(axyb=client, clock=clock)
    made = await provider.bind(
        BindRequest(mode="AXYB", a=user_number(801), b=user_number(802), area_code="021", expires_at=at(3600))
    )
    ax_step, yb_step = wire.seen[-2:]
    assert ax_step.url.path == AXYB_PATH and ax_step.url.params["app_key"] == sandbox.axyb_app_key
    assert body_of(ax_step) == {"origNum": user_number(801), "areaCode": "021", "duration": 3600, "ybDuration": 0}
    assert body_of(yb_step) == {"origNum": user_number(802), "subscriptionId": made.subscription_id}
    assert made.x in AXYB_POOLS["021"] and made.y in AXYB_POOLS["021"] and made.x != made.y
    fresh = await provider.refresh(made)
    assert (fresh.a, fresh.x, fresh.b, fresh.y, fresh.expires_at) == (made.a, made.x, made.b, made.y, at(3600))
    # No AXYB modify: a new B gets another Y first, then the old YB relation is unbound.
    moved = await provider.update(made, BindingChange(b=user_number(803)))
    assert moved.b == user_number(803) and moved.y and moved.y != made.y
    items = await client.axyb_query(subscription_id=made.subscription_id)
    assert [i.num_b for i in items] == [user_number(803)]
    with pytest.raises(ValidationError):
        await provider.update(moved, BindingChange(expires_at=at(7200)))
    await provider.unbind(moved)
    assert (await provider.refresh(moved)).status == REMOVED


async def test_axyb_needs_its_app_key_parameter_and_validates(sandbox, clock, axyb):
    signed = make_client(sandbox, clock, mode="AXYB")
    with pytest.raises(ValidationError) as caught:  # app_key missing from the query
        await signed._call("GET", AXYB_PATH, params={"subscriptionId": "x"})
    assert caught.value.code == "1010002" and caught.value.problems[0].pointer == "app_key"
    with pytest.raises(ValidationError) as caught:
        await axyb.axyb_bind("8613800000811", area_code="0755")
    assert caught.value.problems[0].pointer == "origNum"
    with pytest.raises(ValidationError) as caught:
        await axyb.axyb_bind(user_number(811), duration=30)
    assert caught.value.problems[0].pointer == "duration"
    with pytest.raises(NotFound):
        await axyb.axyb_query(subscription_id="no-such")


@pytest.mark.parametrize(("mode", "path"), [("AXE", AXE_PATH), ("AXYB", AXYB_PATH), ("AXB", AXE_V2_PATH)])
async def test_another_modes_app_answers_1010040(sandbox, clock, mode, path):
    wrong = make_client(sandbox, clock, mode="AX" if mode != "AXB" else "AXB")
    params = {"subscriptionId": "s", "app_key": wrong.app_key}
    with pytest.raises(AuthError) as caught:
        await wrong._call("GET", path, params=params)
    assert caught.value.code == "1010040"
    # AXYB with its own signature but another app's key in app_key: refused the same way.
    own = make_client(sandbox, clock, mode="AXYB")
    with pytest.raises(AuthError) as caught:
        await own._call("GET", AXYB_PATH, params={"subscriptionId": "s", "app_key": sandbox.app_key})
    assert caught.value.code == "1010040"


@pytest.mark.parametrize("mode", ["AXE", "AXYB"])
async def test_lost_bind_answer_is_found_by_what_was_sent(sandbox, clock, mode):
    client = make_client(sandbox, clock, mode=mode, timeout=httpx.Timeout(0.05))
    pools = AXE_POOLS if mode == "AXE" else AXYB_POOLS
    known = [x for xs in pools.values() for x in xs]
    provider = HuaweiBindings(**{mode.lower(): client}, clock=clock, known_x=known)
    request = BindRequest(
        mode=mode, a=user_number(901), b=user_number(902) if mode == "AXYB" else "", area_code="0755",
        expires_at=at(3600), user_data="td-lost-answer",
    )  # fmt: skip
    path = AXE_PATH if mode == "AXE" else AXYB_PATH
    sandbox.faults.delay("POST", path, 1.0, apply=True)
    with pytest.raises(Timeout) as caught:
        await provider.bind(request)
    assert caught.value.maybe_applied
    found = await provider.find_after_timeout(request)
    assert [(b.mode, b.a, b.user_data) for b in found] == [(mode, user_number(901), "td-lost-answer")]
    other = BindRequest(mode=mode, a=user_number(903), b=request.b, area_code="0755", expires_at=at(3600))
    assert await provider.find_after_timeout(other) == []
    with pytest.raises(ProviderError):  # no X numbers known: it cannot prove absence
        await HuaweiBindings(**{mode.lower(): client}, clock=clock).find_after_timeout(request)


class Overlapping(AsyncInProcessTransport):
    """The in-process transport, one loop turn late, counting the requests in flight together."""

    def __init__(self, handler) -> None:
        super().__init__(handler)
        self.in_flight = 0
        self.most_in_flight = 0
        self.pages: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if request.method == "GET":
                self.pages.append(request.url.params.get("pageIndex", ""))
            return await super().handle_async_request(request)
        finally:
            self.in_flight -= 1


async def test_a_long_paged_query_comes_concurrently_complete_and_in_order(axb, sandbox, clock):
    for n in range(95):
        await axb.axb_bind(user_number(3000 + 2 * n), user_number(3001 + 2 * n), relation_num=X_BJ2, duration=3600)
    one_by_one = make_client(sandbox, clock)
    one_by_one.concurrency = 1
    expected = [b.subscription_id for b in await one_by_one.axb_list(X_BJ2, page_size=10)]
    assert len(expected) == len(set(expected)) == 95
    wire = Overlapping(sandbox)
    c = make_client(sandbox, clock, transport=wire)
    pages = [page async for page in c.axb_pages(X_BJ2, page_size=10)]
    assert [p.page_number for p in pages] == list(range(1, 11))
    assert [b.subscription_id for p in pages for b in p.items] == expected  # every binding once, in order
    assert sorted(wire.pages, key=int) == [str(n) for n in range(1, 11)]  # each page asked once
    assert wire.most_in_flight > 1
    for client in (one_by_one, c):
        await client.aclose()
