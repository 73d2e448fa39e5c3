"""Typed records for Telnyx account access, built leniently from API JSON (the access list's
own are in providers.telnyx.access_list, re-exported here).

Each record keeps `raw` (the vendor's object as received) for the detail view. Secrets are
never part of a record: the API never returns integration secret values, and access tokens
are returned to the caller as `AccessToken`, whose repr masks the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from providers.records import ApiRecord, integer, mapping, read_record, text
from providers.telnyx.access_list import AccessIp as AccessIp
from providers.telnyx.access_list import AccessIpRange as AccessIpRange
from providers.telnyx.access_list import AllowlistEntry as AllowlistEntry


@dataclass(frozen=True)
class Address(ApiRecord):
    id: str
    first_name: str
    last_name: str
    business_name: str
    street_address: str
    extended_address: str
    locality: str
    administrative_area: str
    postal_code: str
    country_code: str
    customer_reference: str
    phone_number: str
    address_book: bool | None
    created_at: str

    @property
    def name(self) -> str:
        person = " ".join(p for p in (self.first_name, self.last_name) if p)
        return self.business_name or person


@dataclass(frozen=True)
class AddressValidation:
    result: str  # "valid" or "invalid"
    suggested: dict[str, Any]
    problems: tuple[tuple[str, str, str], ...]  # (code, field pointer, message)
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_api(cls, data: Any) -> AddressValidation:
        problems = []
        errors = data.get("errors") if isinstance(data, dict) else None
        for item in errors if isinstance(errors, list) else []:
            pointer = text(mapping(item, "source"), "pointer")
            message = text(item, "description") or text(item, "detail") or text(item, "title")
            problems.append((text(item, "code"), pointer, message))
        return cls(
            result=text(data, "result") or "unknown",
            suggested=mapping(data, "suggested"),
            problems=tuple(problems),
            raw=data if isinstance(data, dict) else {},
        )


@dataclass(frozen=True)
class SuggestionAcceptance:
    id: str
    accepted: bool
    newly_accepted: bool  # 202 (accepted now) versus 200 (accepted before)


@dataclass(frozen=True)
class AuthProvider(ApiRecord):
    id: str
    name: str
    short_name: str
    active: bool | None
    organization_id: str
    idp_entity_id: str
    idp_sso_target_url: str
    idp_cert_fingerprint: str
    idp_cert_fingerprint_algorithm: str
    login_url: str
    created_at: str
    updated_at: str

    @classmethod
    def from_api(cls, data: Any) -> Self:
        settings = mapping(data, "settings")
        return read_record(
            cls,
            data,
            idp_entity_id=text(settings, "idp_entity_id"),
            idp_sso_target_url=text(settings, "idp_sso_target_url"),
            idp_cert_fingerprint=text(settings, "idp_cert_fingerprint"),
            idp_cert_fingerprint_algorithm=text(settings, "idp_cert_fingerprint_algorithm"),
            login_url=text(settings, "service_provider_login_url"),
        )


@dataclass(frozen=True)
class BillingGroup(ApiRecord):
    id: str
    name: str
    organization_id: str
    created_at: str
    updated_at: str
    deleted_at: str


@dataclass(frozen=True)
class IntegrationSecret(ApiRecord):
    id: str
    identifier: str
    type: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class TelephonyCredential(ApiRecord):
    id: str
    name: str
    sip_username: str
    connection_id: str
    resource_id: str
    tag: str
    expired: bool | None
    expires_at: str
    created_at: str


@dataclass(frozen=True)
class AccessToken:
    """A new access token (a JWT). Its value is masked in repr and str."""

    credential_id: str
    value: str = field(repr=False)

    def __str__(self) -> str:
        return mask(self.value)


def mask(secret: str, keep: int = 4) -> str:
    """A secret shown as bullets with only its last few characters."""
    if not secret:
        return ""
    if len(secret) <= keep * 3:
        return "•" * 8
    return "•" * 8 + secret[-keep:]


_META_KEYS = ("page_number", "page_size", "total_pages", "total_results")


def read_meta(body: Any, requested: int) -> tuple[int, int | None, int | None, int | None]:
    """A list answer's page meta (page_number, page_size, total_pages, total_results); a missing
    number is None (page_number: the one `requested`). Meta that is there but cannot be true
    raises ValueError saying why: not an object, a number that is not a whole number, a negative
    one, or more pages than the results fill."""
    if not isinstance(body, dict) or body.get("meta") is None:
        return requested, None, None, None
    meta = body["meta"]
    if not isinstance(meta, dict):
        raise ValueError("its meta is not an object")
    numbers: dict[str, int | None] = {}
    for key in _META_KEYS:
        value = integer(meta, key)
        if value is None and meta.get(key) is not None:
            raise ValueError(f"its meta.{key} is not a whole number ({str(meta[key])[:40]!r})")
        if value is not None and value < 0:
            raise ValueError(f"its meta.{key} is negative ({value})")
        numbers[key] = value
    number, size, pages, results = (numbers[key] for key in _META_KEYS)
    if pages is not None and results is not None and size:
        if pages > -(-results // size) + 1:
            raise ValueError(f"its meta claims {pages} pages of {size} for {results} results")
    return number if number is not None else requested, size, pages, results
