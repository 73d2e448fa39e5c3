"""Async client for Telnyx v2 account access.

Wire details follow the official OpenAPI subset (docs/reference/): bracketed `page[...]` and
`filter[...]` query parameters, `{"data": ...}` envelopes except for access IP addresses and
ranges (bare objects), integration-secret create 201 / delete 204, and the access token as text/plain.

Creates are never re-sent after the request may have reached Telnyx (see transport.py); after a
`Timeout(maybe_applied=True)` callers use the `find_*` methods to check what exists.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any, TypeVar, Unpack

import httpx

from providers.endpoints import check_endpoint
from providers.errors import MalformedResponse
from providers.outcomes import current_idempotency_key
from providers.pagination import DEFAULT_CONCURRENCY, numbered_pages
from providers.records import Page, UnreadableJson, load_json, text
from providers.telnyx.errors import PROVIDER, error_from_response
from providers.telnyx.models import (
    AccessIp,
    AccessIpRange,
    AccessToken,
    Address,
    AddressValidation,
    AuthProvider,
    BillingGroup,
    IntegrationSecret,
    SuggestionAcceptance,
    TelephonyCredential,
    read_meta,
)
from providers.telnyx.vendor import TELNYX
from providers.transport import ClientOptions, RateLimiter, TransportClient, account_key, shared_limiter

# Where the API is, and the variable that moves it: stated once, in the vendor descriptor.
DEFAULT_BASE_URL = TELNYX.endpoint.default
MAX_PAGE_SIZE = 250

T = TypeVar("T")


def base_url_from_env() -> str:
    """TELEDECK_TELNYX_BASE_URL overrides the API base URL (any server that speaks Telnyx v2)."""
    return os.environ.get(TELNYX.endpoint.env, "").strip() or DEFAULT_BASE_URL


# A JWT: three base64url parts (so no markup or escape sequence can ride in a token).
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _shape(body: Any) -> str:
    """What a body was instead, in a word or two, for an error message."""
    if body is None:
        return "null or empty"
    if isinstance(body, dict):
        return "an object with " + (", ".join(repr(k)[:30] for k in list(body)[:4]) or "no keys")
    if isinstance(body, list):
        return "a list"
    return "a string" if isinstance(body, str) else "a boolean" if isinstance(body, bool) else "a number"


def _drop_empty(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _created_at_filter(created_at: Mapping[str, str] | str | None) -> dict[str, str]:
    """`filter[created_at]`: an exact date-time, or bounds keyed gt, gte, lt, lte."""
    if isinstance(created_at, str):
        return {"filter[created_at]": created_at}
    params: dict[str, str] = {}
    for op, value in (created_at or {}).items():
        if op not in ("gt", "gte", "lt", "lte"):
            raise ValueError(f"created_at filter operator must be gt, gte, lt or lte, not {op!r}")
        params[f"filter[created_at][{op}]"] = value
    return params


def _with_type(secret: IntegrationSecret, kind: str) -> IntegrationSecret:
    return secret if secret.type else dataclasses.replace(secret, type=kind)


class TelnyxClient(TransportClient):
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        limiter: RateLimiter | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.base_url = check_endpoint(base_url or base_url_from_env(), vendor="Telnyx")
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.concurrency = concurrency  # pages of one listing in flight at most (providers.pagination)
        super().__init__(
            provider=PROVIDER,
            base_url=self.base_url,
            error_mapper=error_from_response,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json", "User-Agent": "teledeck"},
            secrets=(api_key,),
            # Telnyx limits requests per API key and says how many are left in every answer's
            # x-ratelimit-* headers; one limiter per key and origin, whichever client sends.
            limiter=limiter or shared_limiter(PROVIDER, account_key(api_key, self.base_url)),
            **options,
        )

    # ---- plumbing -------------------------------------------------------------------------

    def _malformed(self, method: str, path: str, why: str, response: httpx.Response | None = None) -> MalformedResponse:
        """The error for an answer we cannot read, naming the call."""
        return MalformedResponse(
            f"{method} {path}: {why}",
            provider=PROVIDER,
            status=response.status_code if response is not None else None,
            request_id=self.transport.request_id(response) if response is not None else "",
            method=method,
            url=path,
        )

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        """The JSON body of a successful answer (None when it is empty). A body that is not JSON,
        nests too deep, or is an error document under a 2xx status is a MalformedResponse."""
        key = current_idempotency_key()
        if method == "POST" and key:
            # A create settled by providers.outcomes: every attempt carries the same key, so a
            # re-send after a lost answer replays the first answer instead of creating again.
            kw["headers"] = {**(kw.get("headers") or {}), "Idempotency-Key": key}
            kw.setdefault("idempotent", True)  # so the Transport may re-send it too
        response = await self.transport.request(method, path, **kw)
        if not response.content:
            return None
        try:
            body = load_json(response.content)
        except UnreadableJson as why:
            raise self._malformed(method, path, f"the answer is {why}", response) from None
        if isinstance(body, dict) and body.get("errors"):
            # An error document with a success status: say what the vendor said, but never take
            # it as the thing asked for.
            said = error_from_response(response)
            error = self._malformed(
                method, path, f"HTTP {response.status_code} but the answer is an error: {said.message}", response
            )
            error.code, error.title, error.detail, error.problems = said.code, said.title, said.detail, said.problems
            raise error
        return body

    async def _data(self, method: str, path: str, *, need_id: bool = True, **kw: Any) -> Any:
        """The object inside a `{"data": ...}` envelope; with `need_id`, one that names its id."""
        body = await self._json(method, path, **kw)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise self._malformed(method, path, f"the answer has no 'data' object ({_shape(body)})")
        if need_id and not text(body["data"], "id"):
            raise self._malformed(method, path, "the answer's object has no id")
        return body["data"]

    async def _bare(self, method: str, path: str, **kw: Any) -> Any:
        """An access IP address or range, which Telnyx sends bare; tolerate a `data` envelope too."""
        body = await self._json(method, path, **kw)
        if isinstance(body, dict) and isinstance(body.get("data"), dict) and "id" not in body:
            body = body["data"]
        if not isinstance(body, dict):
            raise self._malformed(method, path, f"the answer is not an object ({_shape(body)})")
        if not text(body, "id"):
            raise self._malformed(method, path, "the answer's object has no id")
        return body

    async def _page(
        self, path: str, params: Mapping[str, Any], parse: Callable[[Any], T], number: int, size: int
    ) -> Page:
        query = dict(params)
        query["page[number]"] = number
        query["page[size]"] = size
        body = await self._json("GET", path, params=query)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise self._malformed("GET", path, f"the answer has no 'data' list ({_shape(body)})")
        odd = next((i for i, item in enumerate(body["data"]) if not isinstance(item, dict)), None)
        if odd is not None:
            raise self._malformed("GET", path, f"item {odd} of the 'data' list is not an object")
        try:
            page_number, page_size, total_pages, total_results = read_meta(body, number)
        except ValueError as why:
            raise self._malformed("GET", path, f"page {number}: {why}") from None
        return Page(
            items=[parse(item) for item in body["data"]],
            page_number=page_number,
            page_size=page_size,
            total_pages=total_pages,
            total_results=total_results,
        )

    def _pages(self, path: str, params: Mapping[str, Any], parse: Callable[[Any], T]) -> AsyncGenerator[Page, None]:
        return numbered_pages(
            lambda n: self._page(path, params, parse, n, self.page_size),
            provider=PROVIDER,
            concurrency=self.concurrency,
        )

    async def collect(self, pages: AsyncIterator[Page]) -> list[Any]:
        """Every item of every page."""
        items: list[Any] = []
        async for page in pages:
            items.extend(page.items)
        return items

    # ---- access IP addresses --------------------------------------------------------------

    def access_ip_pages(
        self,
        *,
        ip_source: str | None = None,
        ip_address: str | None = None,
        created_at: Mapping[str, str] | str | None = None,
    ) -> AsyncIterator[Page]:
        params = _drop_empty({"filter[ip_source]": ip_source, "filter[ip_address]": ip_address})
        return self._pages("/access_ip_address", params | _created_at_filter(created_at), AccessIp.from_api)

    async def create_access_ip(self, ip_address: str, description: str | None = None) -> AccessIp:
        body = _drop_empty({"ip_address": ip_address, "description": description})
        return AccessIp.from_api(await self._bare("POST", "/access_ip_address", json=body))

    async def get_access_ip(self, access_ip_id: str) -> AccessIp:
        return AccessIp.from_api(await self._bare("GET", f"/access_ip_address/{access_ip_id}"))

    async def delete_access_ip(self, access_ip_id: str) -> AccessIp:
        return AccessIp.from_api(await self._bare("DELETE", f"/access_ip_address/{access_ip_id}"))

    async def find_access_ips(self, ip_address: str) -> list[AccessIp]:
        return await self.collect(self.access_ip_pages(ip_address=ip_address))

    # ---- access IP ranges (CIDR blocks) ---------------------------------------------------
    # Telnyx keeps blocks apart from single addresses: `/access_ip_address` takes one address,
    # `/access_ip_ranges` takes `cidr_block`. The spec has list, create and delete only.

    def access_ip_range_pages(
        self,
        *,
        cidr_block: str | None = None,
        startswith: str | None = None,
        endswith: str | None = None,
        contains: str | None = None,
        created_at: Mapping[str, str] | str | None = None,
    ) -> AsyncIterator[Page]:
        params = _drop_empty(
            {
                "filter[cidr_block]": cidr_block,
                "filter[cidr_block][startswith]": startswith,
                "filter[cidr_block][endswith]": endswith,
                "filter[cidr_block][contains]": contains,
            }
        )
        return self._pages("/access_ip_ranges", params | _created_at_filter(created_at), AccessIpRange.from_api)

    async def create_access_ip_range(self, cidr_block: str, description: str | None = None) -> AccessIpRange:
        body = _drop_empty({"cidr_block": cidr_block, "description": description})
        return AccessIpRange.from_api(await self._bare("POST", "/access_ip_ranges", json=body))

    async def delete_access_ip_range(self, range_id: str) -> AccessIpRange:
        return AccessIpRange.from_api(await self._bare("DELETE", f"/access_ip_ranges/{range_id}"))

    async def find_access_ip_ranges(self, cidr_block: str) -> list[AccessIpRange]:
        return await self.collect(self.access_ip_range_pages(cidr_block=cidr_block))

    # ---- addresses ------------------------------------------------------------------------

    def address_pages(
        self,
        *,
        customer_reference: str | None = None,
        street_address_contains: str | None = None,
        used_as_emergency: bool | None = None,
        address_book: str | None = None,
        sort: str | None = None,
    ) -> AsyncIterator[Page]:
        params = _drop_empty(
            {
                "filter[customer_reference]": customer_reference,
                "filter[street_address][contains]": street_address_contains,
                "filter[used_as_emergency]": None if used_as_emergency is None else str(used_as_emergency).lower(),
                "filter[address_book][eq]": address_book,
                "sort": sort,
            }
        )
        return self._pages("/addresses", params, Address.from_api)

    async def create_address(self, **fields: Any) -> Address:
        return Address.from_api(await self._data("POST", "/addresses", json=_drop_empty(fields)))

    async def get_address(self, address_id: str) -> Address:
        return Address.from_api(await self._data("GET", f"/addresses/{address_id}"))

    async def delete_address(self, address_id: str) -> Address:
        return Address.from_api(await self._data("DELETE", f"/addresses/{address_id}"))

    async def validate_address(self, **fields: Any) -> AddressValidation:
        # Validation changes nothing, so it is allowed in read-only mode.
        data = await self._data(
            "POST", "/addresses/actions/validate", json=_drop_empty(fields), mutates=False, need_id=False
        )
        return AddressValidation.from_api(data)

    async def accept_address_suggestions(self, address_id: str) -> SuggestionAcceptance:
        path = f"/addresses/{address_id}/actions/accept_suggestions"
        response = await self.transport.request("POST", path, json={"id": address_id})
        try:
            body = load_json(response.content)
        except UnreadableJson as why:
            raise self._malformed("POST", path, f"the answer is {why}", response) from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise self._malformed("POST", path, f"the answer has no 'data' object ({_shape(body)})", response)
        return SuggestionAcceptance(
            id=str(data.get("id", address_id)),
            accepted=bool(data.get("accepted")),
            newly_accepted=response.status_code == 202,
        )

    async def find_addresses(self, street_address: str, customer_reference: str = "") -> list[Address]:
        found = await self.collect(
            self.address_pages(street_address_contains=street_address if len(street_address) >= 3 else None)
        )
        return [
            a
            for a in found
            if a.street_address.lower() == street_address.lower()
            and (not customer_reference or a.customer_reference == customer_reference)
        ]

    # ---- SSO authentication providers -----------------------------------------------------

    def auth_provider_pages(self, *, sort: str | None = None) -> AsyncIterator[Page]:
        return self._pages("/authentication_providers", _drop_empty({"sort": sort}), AuthProvider.from_api)

    async def create_auth_provider(
        self,
        *,
        name: str,
        short_name: str,
        settings: Mapping[str, Any],
        active: bool = True,
        settings_url: str | None = None,
    ) -> AuthProvider:
        body = _drop_empty(
            {
                "name": name,
                "short_name": short_name,
                "settings": dict(settings),
                "active": active,
                "settings_url": settings_url,
            }
        )
        return AuthProvider.from_api(await self._data("POST", "/authentication_providers", json=body))

    async def get_auth_provider(self, provider_id: str) -> AuthProvider:
        return AuthProvider.from_api(await self._data("GET", f"/authentication_providers/{provider_id}"))

    async def update_auth_provider(self, provider_id: str, **fields: Any) -> AuthProvider:
        body = {k: v for k, v in fields.items() if v is not None}
        return AuthProvider.from_api(await self._data("PATCH", f"/authentication_providers/{provider_id}", json=body))

    async def delete_auth_provider(self, provider_id: str) -> AuthProvider:
        return AuthProvider.from_api(await self._data("DELETE", f"/authentication_providers/{provider_id}"))

    async def find_auth_providers(self, short_name: str) -> list[AuthProvider]:
        return [p for p in await self.collect(self.auth_provider_pages()) if p.short_name == short_name]

    # ---- billing groups -------------------------------------------------------------------

    def billing_group_pages(self) -> AsyncIterator[Page]:
        return self._pages("/billing_groups", {}, BillingGroup.from_api)

    async def create_billing_group(self, name: str | None = None) -> BillingGroup:
        return BillingGroup.from_api(await self._data("POST", "/billing_groups", json=_drop_empty({"name": name})))

    async def get_billing_group(self, group_id: str) -> BillingGroup:
        return BillingGroup.from_api(await self._data("GET", f"/billing_groups/{group_id}"))

    async def update_billing_group(self, group_id: str, name: str) -> BillingGroup:
        return BillingGroup.from_api(await self._data("PATCH", f"/billing_groups/{group_id}", json={"name": name}))

    async def delete_billing_group(self, group_id: str) -> BillingGroup:
        return BillingGroup.from_api(await self._data("DELETE", f"/billing_groups/{group_id}"))

    async def find_billing_groups(self, name: str) -> list[BillingGroup]:
        return [g for g in await self.collect(self.billing_group_pages()) if g.name == name]

    # ---- integration secrets --------------------------------------------------------------

    def integration_secret_pages(self, *, type: str | None = None) -> AsyncGenerator[Page, None]:
        # The spec gives this list no page-size maximum; we ask for the same 250 as elsewhere.
        parse = IntegrationSecret.from_api
        if type:
            # The API's secret objects carry no type; when we filtered by it, we know it.
            parse = lambda data: _with_type(IntegrationSecret.from_api(data), type)  # noqa: E731
        return self._pages("/integration_secrets", _drop_empty({"filter[type]": type}), parse)

    async def typed_integration_secret_pages(self) -> AsyncIterator[Page]:
        """Every secret with its type: one filtered listing per type (the objects do not say)."""
        for kind in ("bearer", "basic"):
            # Closed here, not left to the collector, so no page fetch outlives this one.
            async with contextlib.aclosing(self.integration_secret_pages(type=kind)) as pages:
                async for page in pages:
                    yield page

    async def create_integration_secret(
        self,
        *,
        identifier: str,
        type: str,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> IntegrationSecret:
        body = _drop_empty(
            {"identifier": identifier, "type": type, "token": token, "username": username, "password": password}
        )
        return _with_type(IntegrationSecret.from_api(await self._data("POST", "/integration_secrets", json=body)), type)

    async def delete_integration_secret(self, secret_id: str) -> None:
        # 204 with no body; a body, if any, must not be an error document or unreadable.
        await self._json("DELETE", f"/integration_secrets/{secret_id}")

    async def find_integration_secrets(self, identifier: str) -> list[IntegrationSecret]:
        return [s for s in await self.collect(self.typed_integration_secret_pages()) if s.identifier == identifier]

    # ---- telephony credentials and access tokens -----------------------------------------

    def telephony_credential_pages(self) -> AsyncIterator[Page]:
        return self._pages("/telephony_credentials", {}, TelephonyCredential.from_api)

    async def create_access_token(self, credential_id: str) -> AccessToken:
        """A new JWT for a telephony credential. Sends an Idempotency-Key (the newest spec accepts
        one here), so a replay after a lost answer returns the same token instead of a new one."""
        response = await self.transport.request(
            "POST",
            f"/telephony_credentials/{credential_id}/token",
            headers={"Accept": "text/plain", "Idempotency-Key": current_idempotency_key() or uuid.uuid4().hex},
        )
        token = response.text.strip()
        if not token or token.startswith("{") or token.count(".") != 2 or not _JWT.fullmatch(token):
            path = f"/telephony_credentials/{credential_id}/token"
            raise self._malformed("POST", path, "the answer is not a JWT", response)
        return AccessToken(credential_id=credential_id, value=token)
