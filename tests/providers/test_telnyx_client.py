"""teledeck's Telnyx client against the in-process sandbox: every operation and error path."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from providers.errors import (
    AuthError,
    Conflict,
    MalformedResponse,
    NotFound,
    RateLimited,
    ReadOnlyRefused,
    Timeout,
    Unavailable,
    ValidationError,
)
from providers.pagination import PaginationStalled
from providers.sandbox import AsyncInProcessTransport, TelnyxSandbox
from providers.telnyx.client import TelnyxClient
from providers.telnyx.models import AccessIp, AccessIpRange, Address, AuthProvider, BillingGroup, IntegrationSecret
from providers.transport import RateLimiter, RetryPolicy

FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)


@pytest.fixture
def sandbox():
    return TelnyxSandbox()


def client_for(sandbox, *, key=None, page_size=250, timeout=None, read_only=False):
    return TelnyxClient(
        key or sandbox.api_key,
        base_url="https://sandbox.test/v2",
        http_transport=AsyncInProcessTransport(sandbox),
        retry=FAST,
        page_size=page_size,
        timeout=timeout,
        read_only=read_only,
    )


@pytest.fixture
async def client(sandbox):
    c = client_for(sandbox)
    yield c
    await c.aclose()


async def test_access_ips_list_follow_pages_and_filters(sandbox):
    c = client_for(sandbox, page_size=20)
    pages = [page async for page in c.access_ip_pages()]
    assert [p.page_number for p in pages] == [1, 2, 3]
    items = [i for p in pages for i in p.items]
    assert len(items) == 51 and all(isinstance(i, AccessIp) and i.id for i in items)
    portal = await c.collect(c.access_ip_pages(ip_source="portal"))
    assert portal and all(i.source == "portal" for i in portal)
    newest = max(items, key=lambda i: i.created_at)
    after = await c.collect(c.access_ip_pages(created_at={"gte": newest.created_at}))
    assert [i.id for i in after] == [newest.id]
    with pytest.raises(ValueError):
        c.access_ip_pages(created_at={"after": "x"})
    await c.aclose()


async def test_access_ip_create_get_delete_and_find(client):
    created = await client.create_access_ip("198.51.100.77", "test address")
    assert created.ip_address == "198.51.100.77" and created.description == "test address"
    assert (await client.get_access_ip(created.id)).id == created.id
    assert [i.id for i in await client.find_access_ips("198.51.100.77")] == [created.id]
    assert (await client.delete_access_ip(created.id)).id == created.id
    with pytest.raises(NotFound) as caught:
        await client.get_access_ip(created.id)
    assert caught.value.code and caught.value.status == 404


async def test_access_ip_refuses_a_cidr_block_with_the_vendor_code(client):
    with pytest.raises(ValidationError) as caught:
        await client.create_access_ip("198.51.100.0/24")
    error = caught.value
    assert (error.status, error.code) == (422, "10015") and "/access_ip_ranges" in error.detail
    assert [p.pointer for p in error.problems] == ["/ip_address"]


async def test_access_ip_ranges_list_filters_create_find_delete(sandbox):
    c = client_for(sandbox, page_size=4)
    pages = [page async for page in c.access_ip_range_pages()]
    assert [p.page_number for p in pages] == [1, 2, 3] and pages[0].total_results == 11
    items = [i for p in pages for i in p.items]
    assert len({i.id for i in items}) == 11 and all(isinstance(i, AccessIpRange) and "/" in i.cidr_block for i in items)
    assert {i.cidr_block for i in await c.collect(c.access_ip_range_pages(endswith="/28"))} == {
        "203.0.113.128/28",
        "203.0.113.48/28",
        "192.0.2.192/28",
    }
    assert [i.cidr_block for i in await c.collect(c.access_ip_range_pages(startswith="2001:db8:4a"))] == [
        "2001:db8:4a00::/40"
    ]
    assert len(await c.collect(c.access_ip_range_pages(contains="198.51.100"))) == 2
    newest = max(items, key=lambda i: i.created_at)
    assert [i.id for i in await c.collect(c.access_ip_range_pages(created_at={"gte": newest.created_at}))] == [
        newest.id
    ]
    with pytest.raises(ValueError):
        c.access_ip_range_pages(created_at={"since": "x"})

    created = await c.create_access_ip_range("198.51.100.0/28", "test range")
    assert (created.cidr_block, created.status, created.description) == ("198.51.100.0/28", "pending", "test range")
    assert created.raw["id"] == created.id and created.user_id
    assert [i.id for i in await c.find_access_ip_ranges("198.51.100.0/28")] == [created.id]
    removed = await c.delete_access_ip_range(created.id)
    assert removed.id == created.id and removed.cidr_block == "198.51.100.0/28"
    assert await c.find_access_ip_ranges("198.51.100.0/28") == []
    with pytest.raises(NotFound) as caught:
        await c.delete_access_ip_range(created.id)
    assert (caught.value.status, caught.value.code) == (404, "10005")
    await c.aclose()


@pytest.mark.parametrize(
    "block,code,says",
    [
        ("192.0.2.7", "10015", "single address"),
        ("192.0.2.7/24", "10015", "192.0.2.0/24"),
        ("203.0.113.48/28", "10012", "already"),
    ],
)
async def test_access_ip_range_refusals_carry_code_message_and_pointer(client, block, code, says):
    with pytest.raises(ValidationError) as caught:
        await client.create_access_ip_range(block)
    error = caught.value
    assert (error.status, error.code) == (422, code) and says in error.detail
    assert [p.pointer for p in error.problems] == ["/cidr_block"]
    assert f"[{code}]" in str(error)


async def test_access_ip_range_read_only_refuses_create_and_delete_before_sending(sandbox):
    c = client_for(sandbox, read_only=True)
    before = sandbox.requests_handled
    with pytest.raises(ReadOnlyRefused):
        await c.create_access_ip_range("198.51.100.0/28")
    with pytest.raises(ReadOnlyRefused):
        await c.delete_access_ip_range(sandbox.state["access_ip_ranges"][0]["id"])
    assert sandbox.requests_handled == before and len(sandbox.state["access_ip_ranges"]) == 11
    await c.aclose()


async def test_access_ip_validation_error_points_at_the_field(client):
    with pytest.raises(ValidationError) as caught:
        await client.create_access_ip("not-an-ip")
    assert caught.value.status == 422 and caught.value.problems[0].field == "ip_address"


async def test_addresses_crud_validate_and_accept_suggestions(client, sandbox):
    fields = dict(
        first_name="Ada",
        last_name="Lovelace",
        business_name="Analytical Engines Ltd",
        street_address="12 St James's Square",
        locality="London",
        country_code="GB",
        postal_code="SW1Y 4LB",
    )
    created = await client.create_address(**fields)
    assert isinstance(created, Address) and created.country_code == "GB" and created.id
    assert (await client.get_address(created.id)).street_address == fields["street_address"]
    assert [a.id for a in await client.find_addresses(fields["street_address"])] == [created.id]
    result = await client.validate_address(
        country_code="GB", street_address=fields["street_address"], postal_code="SW1Y 4LB"
    )
    assert result.result in ("valid", "invalid") and isinstance(result.suggested, dict)
    sorted_names = [a.business_name async for p in client.address_pages(sort="business_name") for a in p.items]
    assert sorted_names == sorted(sorted_names, key=str.lower) or sorted_names == sorted(sorted_names)
    pending = next(a for a in sandbox.state["addresses"] if (a.get("_suggestion") or {}).get("state") == "pending")
    first = await client.accept_address_suggestions(pending["id"])
    again = await client.accept_address_suggestions(pending["id"])
    assert (first.accepted, first.newly_accepted) == (True, True)
    assert (again.accepted, again.newly_accepted) == (True, False)
    await client.delete_address(created.id)


async def test_address_missing_required_fields_are_each_pointed_at(client):
    with pytest.raises(ValidationError) as caught:
        await client.create_address(first_name="Ada", country_code="ZZ")
    fields = {p.field for p in caught.value.problems}
    assert {"last_name", "street_address", "locality"} <= fields


async def test_sso_providers_create_update_delete(client):
    created = await client.create_auth_provider(
        name="Acme Okta",
        short_name="acme-okta-test",
        settings={
            "idp_entity_id": "https://idp.acme.test/entity",
            "idp_sso_target_url": "https://idp.acme.test/sso",
            "idp_cert_fingerprint": "13:38:C7:BB:C9:FF:4A:70",
            "idp_cert_fingerprint_algorithm": "sha256",
        },
    )
    assert isinstance(created, AuthProvider) and created.short_name == "acme-okta-test"
    updated = await client.update_auth_provider(created.id, name="Acme Okta (prod)", active=False)
    assert updated.name == "Acme Okta (prod)" and updated.active is False
    assert [p.id for p in await client.find_auth_providers("acme-okta-test")] == [created.id]
    with pytest.raises(ValidationError):  # short_name is unique
        await client.create_auth_provider(
            name="Dup",
            short_name="acme-okta-test",
            settings={
                "idp_entity_id": "https://x.test/e",
                "idp_sso_target_url": "https://x.test/s",
                "idp_cert_fingerprint": "AA:BB",
            },
        )
    await client.delete_auth_provider(created.id)
    with pytest.raises(NotFound):
        await client.get_auth_provider(created.id)


async def test_billing_groups_and_the_in_use_conflict(client, sandbox):
    group = await client.create_billing_group("Test group")
    assert isinstance(group, BillingGroup) and group.name == "Test group"
    assert (await client.update_billing_group(group.id, "Renamed")).name == "Renamed"
    deleted = await client.delete_billing_group(group.id)
    assert deleted.deleted_at
    in_use = next(g for g in sandbox.state["billing_groups"] if g.get("_in_use"))
    before = sandbox.requests_handled
    with pytest.raises(Conflict) as caught:
        await client.delete_billing_group(in_use["id"])
    assert caught.value.status == 409
    assert sandbox.requests_handled - before == 1  # a 409 on delete is never retried
    with pytest.raises(ValidationError):
        await client.get_billing_group("not-a-uuid")


async def test_integration_secrets_value_is_write_only(client):
    made = await client.create_integration_secret(identifier="crm_token_t", type="bearer", token="s3cr3t-value")
    assert isinstance(made, IntegrationSecret) and made.type == "bearer"
    assert "s3cr3t-value" not in repr(made.raw)
    basic = await client.collect(client.integration_secret_pages(type="basic"))
    assert basic and all(s.type == "basic" for s in basic)
    with pytest.raises(ValidationError):
        await client.create_integration_secret(identifier="x_basic", type="basic", username="u")
    await client.delete_integration_secret(made.id)
    assert not await client.find_integration_secrets("crm_token_t")


async def test_access_token_is_a_masked_jwt(client, sandbox):
    active = next(c for c in sandbox.state["credentials"] if not c["expired"])
    token = await client.create_access_token(active["id"])
    assert token.value.count(".") == 2
    assert token.value not in repr(token) and token.value not in str(token)
    with pytest.raises(NotFound):
        await client.create_access_token("00000000-0000-0000-0000-000000000000")


async def test_wrong_key_is_an_auth_error_that_never_shows_the_key(sandbox):
    c = client_for(sandbox, key="KEYwrong_0123456789abcdef")
    with pytest.raises(AuthError) as caught:
        await c.collect(c.billing_group_pages())
    assert caught.value.status == 401 and "KEYwrong_0123456789abcdef" not in str(caught.value)
    await c.aclose()


async def test_get_is_retried_through_5xx_but_a_create_is_not(client, sandbox):
    sandbox.faults.respond("GET", "/billing_groups", 500, times=2)
    groups = await client.collect(client.billing_group_pages())
    assert len(groups) == 12
    sandbox.faults.respond("POST", "/billing_groups", 503, times=1)
    before = len(sandbox.state["billing_groups"])
    with pytest.raises(Unavailable):
        await client.create_billing_group("once only")
    assert len(sandbox.state["billing_groups"]) == before


async def test_429_is_retried_then_surfaced(client, sandbox):
    sandbox.faults.respond("GET", "/access_ip_address", 429, times=1, headers={"Retry-After": "0"})
    assert len(await client.collect(client.access_ip_pages())) == 51
    sandbox.faults.respond("GET", "/access_ip_address", 429, times=None, headers={"Retry-After": "0"})
    with pytest.raises(RateLimited) as caught:
        await client.collect(client.access_ip_pages())
    assert caught.value.code == "10011"


async def test_a_create_that_times_out_is_not_resent_and_can_be_found(sandbox):
    c = client_for(sandbox, timeout=httpx.Timeout(0.2))
    sandbox.faults.delay("POST", "/access_ip_address", 5, apply=True)
    with pytest.raises(Timeout) as caught:
        await c.create_access_ip("192.0.2.250")
    assert caught.value.maybe_applied
    found = await c.find_access_ips("192.0.2.250")
    assert len(found) == 1  # created once, not twice
    await c.aclose()


async def test_empty_and_malformed_answers_become_typed_errors(client, sandbox):
    sandbox.faults.respond("GET", "/addresses", 500, body=b"", times=3)
    with pytest.raises(Unavailable) as caught:
        await client.collect(client.address_pages())
    assert "empty body" in caught.value.message
    sandbox.faults.malformed("GET", "/addresses", times=1)
    with pytest.raises(MalformedResponse):
        await client.collect(client.address_pages())
    sandbox.faults.respond(
        "POST", "/telephony_credentials", 201, body='{"data": "not a jwt"}', times=1, content_type="application/json"
    )
    active = next(c for c in sandbox.state["credentials"] if not c["expired"])
    with pytest.raises(MalformedResponse):
        await client.create_access_token(active["id"])


async def test_a_server_that_repeats_pages_is_stopped(sandbox):
    c = client_for(sandbox, page_size=20)
    sandbox.faults.repeat_page("/access_ip_address", page_number=1)
    seen = []
    with pytest.raises(PaginationStalled):
        async for page in c.access_ip_pages():
            seen.extend(page.items)
    assert len(seen) == 20
    await c.aclose()


async def test_read_only_client_sends_no_change(sandbox):
    c = client_for(sandbox, read_only=True)
    before = sandbox.requests_handled
    with pytest.raises(ReadOnlyRefused):
        await c.create_access_ip("192.0.2.1")
    with pytest.raises(ReadOnlyRefused):
        await c.delete_billing_group("6a09cdc3-8948-47f0-aa62-74ac943d6c58")
    assert sandbox.requests_handled == before
    # validation changes nothing, so read-only may still do it
    await c.validate_address(country_code="US", street_address="600 Congress Avenue", postal_code="78701")
    await c.aclose()


# ---- long listings: concurrent pages, the account's rate limit --------------------------------


def add_access_ips(sandbox, count: int) -> None:
    """`count` more allowlisted addresses beside the seeded ones."""
    template = sandbox.state["access_ips"][0]
    sandbox.state["access_ips"].extend(
        {
            **template,
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "ip_address": f"10.{n // 65536}.{n // 256 % 256}.{n % 256}",
        }
        for n in range(count)
    )


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox, one loop turn late, counting what is in flight and every
    status answered."""

    def __init__(self, sandbox, refuse_page: int | None = None, retry_after: str = "2"):
        self.inner = AsyncInProcessTransport(sandbox)
        self.in_flight = 0
        self.most_in_flight = 0
        self.statuses: list[int] = []
        self.pages: list[str] = []
        self.refuse_page, self.retry_after = refuse_page, retry_after

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # so requests of one window are in flight together
            page = request.url.params.get("page[number]", "")
            self.pages.append(page)
            if self.refuse_page is not None and page == str(self.refuse_page):
                self.refuse_page = None  # once
                response = httpx.Response(
                    429,
                    headers={"Retry-After": self.retry_after},
                    json={"errors": [{"code": "10011", "title": "Too many requests"}]},
                )
            else:
                response = await self.inner.handle_async_request(request)
            self.statuses.append(response.status_code)
            return response
        finally:
            self.in_flight -= 1


def listing_client(sandbox, wire, **kw):
    return TelnyxClient(
        sandbox.api_key, base_url="https://sandbox.test/v2", http_transport=wire, page_size=50, retry=FAST, **kw
    )


async def sequential_ids(sandbox) -> list[str]:
    """The listing as one page after the other fetches it: what the concurrent one must equal."""
    c = listing_client(sandbox, AsyncInProcessTransport(sandbox), concurrency=1)
    ids = [i.id for i in await c.collect(c.access_ip_pages())]
    await c.aclose()
    assert len(ids) == len(set(ids)) == len(sandbox.state["access_ips"])
    return ids


async def test_a_long_listing_is_fetched_concurrently_complete_and_in_order(sandbox):
    add_access_ips(sandbox, 1949)  # 2,000 rows, 40 pages of 50
    expected = await sequential_ids(sandbox)
    wire = Recording(sandbox)
    c = listing_client(sandbox, wire, concurrency=4)
    pages = [page async for page in c.access_ip_pages()]
    assert [p.page_number for p in pages] == list(range(1, 41))
    assert [i.id for p in pages for i in p.items] == expected  # every row once, in the server's order
    assert sorted(wire.pages, key=int) == [str(n) for n in range(1, 41)]  # every page asked once
    assert wire.most_in_flight == 4  # concurrent, never past the cap
    await c.aclose()


async def test_a_429_mid_listing_slows_it_down_and_the_page_is_asked_again(sandbox):
    add_access_ips(sandbox, 1949)
    expected = await sequential_ids(sandbox)
    wire = Recording(sandbox, refuse_page=12, retry_after="2")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = RateLimiter()
    c = listing_client(sandbox, wire, sleep=sleep, limiter=limiter)
    rows = await c.collect(c.access_ip_pages())
    assert [r.id for r in rows] == expected  # complete, no page lost or repeated
    assert wire.statuses.count(429) == 1 and wire.pages.count("12") == 2
    assert 2.0 in waits  # the Retry-After was waited out before page 12 went again
    await c.aclose()


async def test_a_listing_keeps_within_the_servers_rate_limit_by_its_headers():
    from providers.sandbox.chaos import VirtualClock

    clock = VirtualClock(1_800_000_000.0)
    sandbox = TelnyxSandbox(rate_limit=5, rate_window=1.0, clock=clock)  # 5 requests a second
    add_access_ips(sandbox, 1949)
    wire = Recording(sandbox)
    limiter = RateLimiter(clock=clock)
    c = listing_client(sandbox, wire, sleep=clock.sleep, limiter=limiter)
    started = clock.now
    rows = await c.collect(c.access_ip_pages())
    assert len(rows) == 2000 and len({r.id for r in rows}) == 2000
    # The limiter read x-ratelimit-remaining and waited for each reset: the sandbox never had to
    # refuse, and 40 requests took at least 7 of its one-second windows after the first.
    assert wire.statuses == [200] * 40
    assert limiter.waits >= 7 and clock.now - started >= 7
    await c.aclose()


async def test_clients_of_one_api_key_share_one_limiter(sandbox):
    one, two = client_for(sandbox), client_for(sandbox)
    other = client_for(sandbox, key="KEYsomeoneelse_000000000000")
    assert one.transport.limiter is two.transport.limiter is not None
    assert other.transport.limiter is not one.transport.limiter
    for c in (one, two, other):
        await c.aclose()
