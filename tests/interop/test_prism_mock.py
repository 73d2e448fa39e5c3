"""Our Telnyx client against Prism, an independent mock built from the official OpenAPI subset.

Every operation in docs/reference/telnyx-account-access.openapi.json is called through
`TelnyxClient`. Prism validates each request against the spec (a violation comes back as a 422
with an `sl-violations` header, which `Recorder` collects) and answers with the spec's own
examples, so these tests check both what we send and that we read what the spec says Telnyx sends.

Prism's static examples repeat the same list meta forever (addresses, SSO providers and billing
groups always say page 2 of 3; integration secrets page 1 of 10; access IPs page 0 of 0), so a
list must end, normally or with `PaginationStalled`, within a few requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from providers.errors import (
    AuthError,
    Conflict,
    NotFound,
    ProviderError,
    Unavailable,
    ValidationError,
)
from providers.pagination import PaginationStalled
from providers.telnyx.client import TelnyxClient
from providers.telnyx.errors import error_from_response
from providers.telnyx.models import (
    AccessIp,
    AccessToken,
    Address,
    AddressValidation,
    AuthProvider,
    BillingGroup,
    IntegrationSecret,
    SuggestionAcceptance,
    read_meta,
)
from providers.transport import NO_RETRY

pytestmark = pytest.mark.interop

# Ids in the spec's examples; billing groups and accept_suggestions require a uuid in the path.
UUID = "f5586561-8ff0-4291-a0ac-84fe544797bd"
MAX_LIST_REQUESTS = 3
JWT_PREFIX = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    violations: str  # Prism's `sl-violations` header: what in our request broke the spec


class Recorder(httpx.AsyncBaseTransport):
    """A real HTTP transport that records every exchange and can add headers (Prism's `Prefer`)."""

    def __init__(self, extra_headers: dict[str, str] | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.extra_headers = dict(extra_headers or {})
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for name, value in self.extra_headers.items():
            request.headers[name] = value
        response = await self.inner.handle_async_request(request)
        self.exchanges.append(
            Exchange(request.method, request.url.path, response.status_code, response.headers.get("sl-violations", ""))
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def violations(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.violations]


@pytest.fixture
async def make_client(prism_url: str) -> AsyncIterator[Callable[..., tuple[TelnyxClient, Recorder]]]:
    """Build TelnyxClients on Prism (optionally forcing a status with `Prefer: code=N`)."""
    made: list[TelnyxClient] = []

    def make(prefer: str | None = None) -> tuple[TelnyxClient, Recorder]:
        recorder = Recorder({"Prefer": prefer} if prefer else None)
        client = TelnyxClient("test-key", base_url=prism_url, http_transport=recorder, retry=NO_RETRY)
        made.append(client)
        return client, recorder

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def telnyx(make_client) -> AsyncIterator[TelnyxClient]:
    """A client on Prism; at the end, asserts Prism found nothing wrong in any request we sent."""
    client, recorder = make_client()
    yield client
    assert recorder.exchanges, "the test sent nothing"
    assert recorder.violations() == []


# ---- lists --------------------------------------------------------------------------------------

LISTS: dict[str, tuple[Callable[[TelnyxClient], AsyncIterator], type]] = {
    "access_ips": (lambda c: c.access_ip_pages(), AccessIp),
    "addresses": (lambda c: c.address_pages(), Address),
    "auth_providers": (lambda c: c.auth_provider_pages(), AuthProvider),
    "billing_groups": (lambda c: c.billing_group_pages(), BillingGroup),
    "integration_secrets": (lambda c: c.integration_secret_pages(), IntegrationSecret),
}


async def drain(client: TelnyxClient, pages: AsyncIterator) -> tuple[list, ProviderError | None, int]:
    """Every item until the list ends, with the error it ended on (if any) and the requests sent."""
    before = client.transport.requests_sent
    items: list = []
    error: ProviderError | None = None

    async def run() -> None:
        nonlocal error
        try:
            async for page in pages:
                items.extend(page.items)
                assert client.transport.requests_sent - before <= MAX_LIST_REQUESTS, "list did not stop"
        except PaginationStalled as stalled:
            error = stalled

    await asyncio.wait_for(run(), timeout=10)
    return items, error, client.transport.requests_sent - before


@pytest.mark.parametrize("name", LISTS)
async def test_list_ends_within_a_few_requests(telnyx: TelnyxClient, name: str) -> None:
    pages, record_type = LISTS[name]
    items, error, requests = await drain(telnyx, pages(telnyx))
    assert 1 <= requests <= MAX_LIST_REQUESTS
    assert error is None or isinstance(error, PaginationStalled)
    if error is not None:
        assert error.provider == "telnyx" and "stopped" in error.message
    assert all(isinstance(item, record_type) for item in items)


@pytest.mark.parametrize(
    "name",
    list(LISTS),
)
async def test_list_yields_the_records_the_mock_sent(telnyx: TelnyxClient, name: str) -> None:
    pages, record_type = LISTS[name]
    items, _, _ = await drain(telnyx, pages(telnyx))
    assert items, "the mock sent a record but the list yielded none"
    assert all(isinstance(item, record_type) and item.id for item in items)
    ids = [item.id for item in items]
    assert len(ids) == len(set(ids)), f"a page was yielded twice: {ids}"


async def test_list_records_parse_the_spec_examples(telnyx: TelnyxClient) -> None:
    """Field by field, from one raw page each (independent of the paging rule)."""

    async def first(path: str, parse):
        body = (await telnyx.transport.request("GET", path, params={"page[number]": 1, "page[size]": 250})).json()
        return parse(body["data"][0]), read_meta(body, 1)

    address, meta = await first("/addresses", Address.from_api)
    assert (address.id, address.street_address, address.locality, address.country_code) == (
        "1293384261075731499",
        "600 Congress Avenue",
        "Austin",
        "US",
    )
    assert address.address_book is True and address.name == "Toy-O'Kon"
    assert meta == (2, 25, 3, 55)

    sso, _ = await first("/authentication_providers", AuthProvider.from_api)
    assert (sso.short_name, sso.active, sso.idp_cert_fingerprint_algorithm) == ("myorg", True, "sha1")
    assert sso.idp_entity_id == "https://myorg.myidp.com/saml/metadata"
    assert sso.login_url == "https://api.telnyx.com/sso/myorg"

    group, _ = await first("/billing_groups", BillingGroup.from_api)
    assert (group.id, group.name, group.deleted_at) == (UUID, "My billing group name", "")

    access_ip, meta = await first("/access_ip_address", AccessIp.from_api)
    assert access_ip.status == "pending" and meta == (0, 0, 0, 0)
    secret, meta = await first("/integration_secrets", IntegrationSecret.from_api)
    assert secret.identifier == "string" and meta == (1, 25, 10, 250)


async def test_list_filters_and_sorts_are_spec_conformant(telnyx: TelnyxClient) -> None:
    """Every filter and sort we can send passes Prism's request validation (checked at teardown)."""
    lists = [
        telnyx.access_ip_pages(
            ip_source="cloudflare",
            ip_address="192.0.2.1",
            created_at={"gte": "2023-01-01T00:00:00Z", "lt": "2024-01-01T00:00:00Z"},
        ),
        telnyx.access_ip_pages(created_at="2023-01-01T00:00:00Z"),
        telnyx.address_pages(
            customer_reference="MY REF",
            street_address_contains="Congress",
            used_as_emergency=True,
            address_book="true",
            sort="street_address",
        ),
        telnyx.auth_provider_pages(sort="-short_name"),
        telnyx.integration_secret_pages(type="basic"),
    ]
    for pages in lists:
        _, error, requests = await drain(telnyx, pages)
        assert requests <= MAX_LIST_REQUESTS
        assert error is None or isinstance(error, PaginationStalled)


# ---- create / retrieve / update / delete ---------------------------------------------------------


async def test_access_ip_create_get_delete(telnyx: TelnyxClient) -> None:
    created = await telnyx.create_access_ip("203.0.113.7", "office")
    fetched = await telnyx.get_access_ip("some-id")
    deleted = await telnyx.delete_access_ip("some-id")
    for record in (created, fetched, deleted):  # bare objects, no data envelope
        assert isinstance(record, AccessIp)
        assert (record.id, record.status, record.created_at) == ("string", "pending", "2019-08-24T14:15:22Z")


async def test_address_create_get_delete(telnyx: TelnyxClient) -> None:
    created = await telnyx.create_address(
        first_name="Alfred",
        last_name="Foster",
        business_name="Toy-O'Kon",
        street_address="600 Congress Avenue",
        extended_address="14th Floor",
        locality="Austin",
        administrative_area="TX",
        postal_code="78701",
        country_code="US",
        customer_reference="MY REF 001",
        phone_number="+12125559000",
        address_book=True,
    )
    fetched = await telnyx.get_address(created.id)
    deleted = await telnyx.delete_address(created.id)
    for record in (created, fetched, deleted):
        assert isinstance(record, Address)
        assert (record.id, record.postal_code, record.administrative_area) == ("1293384261075731499", "78701", "TX")


async def test_address_validate(telnyx: TelnyxClient) -> None:
    result = await telnyx.validate_address(
        street_address="600 Congress",
        locality="Austin",
        administrative_area="TX",
        postal_code="78701",
        country_code="US",
    )
    assert isinstance(result, AddressValidation)
    assert result.result == "valid"
    assert result.suggested["street_address"] == "600 Congress Avenue"
    assert result.problems == (("20207", "/street_address", "The street address provided is invalid."),)


async def test_address_accept_suggestions_200_and_202(make_client) -> None:
    for prefer, newly in ((None, False), ("code=202", True)):
        client, recorder = make_client(prefer)
        result = await client.accept_address_suggestions(UUID)
        assert isinstance(result, SuggestionAcceptance)
        assert (result.accepted, result.newly_accepted) == (True, newly)
        assert result.id == "497f6eca-6276-4993-bfeb-53cbbbba6f08"
        assert [e.status for e in recorder.exchanges] == [202 if newly else 200]
        assert recorder.violations() == []


async def test_auth_provider_create_get_update_delete(telnyx: TelnyxClient) -> None:
    settings = {
        "idp_entity_id": "https://myorg.myidp.com/saml/metadata",
        "idp_sso_target_url": "https://myorg.myidp.com/trust/saml2/http-post/sso",
        "idp_cert_fingerprint": "13:38:C7:BB:C9:FF:4A:70:38:3A:E3:D9:5C:CD:DB:2E:50:1E:80:A7",
        "idp_cert_fingerprint_algorithm": "sha1",
    }
    created = await telnyx.create_auth_provider(name="Okta", short_name="myorg", settings=settings)
    fetched = await telnyx.get_auth_provider(created.id)
    # The spec's update schema reuses the create settings, so a PATCH that sends `settings` must
    # carry idp_entity_id, idp_sso_target_url and idp_cert_fingerprint again.
    updated = await telnyx.update_auth_provider(
        created.id, name="Okta 2", active=False, settings={**settings, "idp_cert_fingerprint_algorithm": "sha256"}
    )
    deleted = await telnyx.delete_auth_provider(created.id)
    for record in (created, fetched, updated, deleted):
        assert isinstance(record, AuthProvider)
        assert (record.id, record.short_name) == ("35146afd-df93-4963-b1e9-1a085e2ae874", "myorg")
        assert record.organization_id == "24b4a4bb-c4df-46ad-bbcb-23fc741c5ad7"


async def test_billing_group_create_get_update_delete(telnyx: TelnyxClient) -> None:
    created = await telnyx.create_billing_group("My billing group name")
    fetched = await telnyx.get_billing_group(created.id)
    updated = await telnyx.update_billing_group(created.id, "Renamed")
    deleted = await telnyx.delete_billing_group(created.id)
    for record in (created, fetched, updated, deleted):
        assert isinstance(record, BillingGroup)
        assert (record.id, record.name) == (UUID, "My billing group name")


async def test_integration_secret_create_and_delete(make_client) -> None:
    client, recorder = make_client()
    bearer = await client.create_integration_secret(identifier="my_bearer", type="bearer", token="s3cr3t-token")
    basic = await client.create_integration_secret(identifier="my_basic", type="basic", username="u", password="p4ss")
    for record in (bearer, basic):
        assert isinstance(record, IntegrationSecret)
        assert (record.id, record.identifier) == ("string", "string")
        assert "s3cr3t" not in repr(record) and "p4ss" not in repr(record)
    assert await client.delete_integration_secret("some-id") is None
    assert [(e.method, e.status) for e in recorder.exchanges] == [("POST", 201), ("POST", 201), ("DELETE", 204)]
    assert recorder.violations() == []


async def test_create_access_token_reads_text_plain_jwt(make_client) -> None:
    client, recorder = make_client()
    token = await client.create_access_token("some-credential")
    assert isinstance(token, AccessToken)
    assert token.credential_id == "some-credential"
    assert token.value.startswith(JWT_PREFIX) and token.value.count(".") == 2
    assert token.value not in repr(token) and token.value not in str(token)
    assert [(e.method, e.status) for e in recorder.exchanges] == [("POST", 201)]
    assert recorder.violations() == []


# ---- errors -------------------------------------------------------------------------------------

# Each call with Prism forced to answer 404 from the spec's example. `vendor` is (code, title,
# detail, first problem pointer) from that example; None where the spec's 404 has no body, EMPTY
# where it is `{}`.
STRING_ERROR = ("string", "string", "string", "string")
EMPTY = ("", "", "", "")
NOT_FOUND_CALLS: list[tuple[str, Callable[[TelnyxClient], Awaitable[Any]], tuple | None]] = [
    ("get_access_ip", lambda c: c.get_access_ip("x"), STRING_ERROR),
    ("delete_access_ip", lambda c: c.delete_access_ip("x"), STRING_ERROR),
    ("get_address", lambda c: c.get_address("x"), None),
    ("delete_address", lambda c: c.delete_address("x"), None),
    ("accept_address_suggestions", lambda c: c.accept_address_suggestions(UUID), ("string", "string", "string", "")),
    ("get_auth_provider", lambda c: c.get_auth_provider("x"), EMPTY),
    ("update_auth_provider", lambda c: c.update_auth_provider("x", name="n"), EMPTY),
    ("delete_auth_provider", lambda c: c.delete_auth_provider("x"), EMPTY),
    ("get_billing_group", lambda c: c.get_billing_group(UUID), ("-2147483648", "string", "string", "string")),
    (
        "update_billing_group",
        lambda c: c.update_billing_group(UUID, "n"),
        ("-2147483648", "string", "string", "string"),
    ),
    ("delete_billing_group", lambda c: c.delete_billing_group(UUID), ("-2147483648", "string", "string", "string")),
    ("delete_integration_secret", lambda c: c.delete_integration_secret("x"), ("string", "string", "string", "")),
    ("create_access_token", lambda c: c.create_access_token("x"), None),
]


@pytest.mark.parametrize("name,call,vendor", NOT_FOUND_CALLS, ids=[c[0] for c in NOT_FOUND_CALLS])
async def test_forced_404_is_a_typed_not_found(make_client, name, call, vendor) -> None:
    client, recorder = make_client("code=404")
    with pytest.raises(NotFound) as caught:
        await call(client)
    error = caught.value
    assert (error.provider, error.status, error.kind) == ("telnyx", 404, "not_found")
    assert error.method and error.url.startswith(client.base_url)
    if vendor is None:
        assert error.code == "" and "empty body" in error.message
    else:
        code, title, detail, pointer = vendor
        assert (error.code, error.title, error.detail) == (code, title, detail)
        assert error.pointer == pointer
        assert error.summary().startswith(f"[{code}] " if code else "HTTP 404")
    assert len(recorder.exchanges) == 1 and recorder.violations() == []


async def test_forced_404_through_the_transport(telnyx: TelnyxClient) -> None:
    """The transport's own `headers=` reaches Prism and the mapper reads the vendor body."""
    with pytest.raises(NotFound) as caught:
        await telnyx.transport.request("GET", "/access_ip_address/x", headers={"Prefer": "code=404"})
    assert (caught.value.code, caught.value.title, caught.value.status) == ("string", "string", 404)
    raw = await telnyx.transport.request(
        "GET", "/access_ip_address/x", headers={"Prefer": "code=404"}, ok_statuses=[404]
    )
    assert isinstance(error_from_response(raw), NotFound)


@pytest.mark.parametrize(
    "prefer,call,expected,code",
    [
        ("code=422", lambda c: c.create_access_ip("203.0.113.7"), ValidationError, "string"),
        ("code=409", lambda c: c.create_billing_group("dup"), Conflict, "-2147483648"),
        ("code=403", lambda c: c.get_billing_group(UUID), AuthError, "-2147483648"),
        ("code=401", lambda c: c.get_auth_provider("x"), AuthError, None),
        ("code=500", lambda c: c.get_billing_group(UUID), Unavailable, "string"),
    ],
    ids=["422-validation", "409-conflict", "403-forbidden", "401-auth", "500-unavailable"],
)
async def test_other_forced_errors_are_typed(make_client, prefer, call, expected, code) -> None:
    client, _ = make_client(prefer)
    with pytest.raises(expected) as caught:
        await call(client)
    assert caught.value.status == int(prefer.split("=")[1])
    if code is not None:
        assert caught.value.code == code
    if expected is ValidationError:
        assert caught.value.problems and caught.value.problems[0].pointer == "string"


async def test_prism_request_validation_maps_to_validation_error(make_client) -> None:
    """A request that breaks the spec (not a uuid) gets Prism's 422: a typed ValidationError."""
    client, recorder = make_client()
    with pytest.raises(ValidationError) as caught:
        await client.get_billing_group("not-a-uuid")
    assert caught.value.status == 422
    assert "uuid" in recorder.exchanges[0].violations
