"""The Telnyx emulator's first-start state: fixed seed, fixed 2026 timestamps, no real secrets,
fictional businesses, and phone numbers only from ranges reserved for fiction."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from providers.sandbox import seed_data
from providers.sandbox.telnyx.records import SCHEMA_VERSION, SEED, derived_uuid, iso_time
from providers.sandbox.telnyx.validation import validate_address_fields

_T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).timestamp()

_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "business_name",
    "street_address",
    "extended_address",
    "locality",
    "administrative_area",
    "postal_code",
    "country_code",
    "phone_number",
)
_EMERGENCY = {0, 1, 3, 8, 11, 14, 23, 27}
_NOT_IN_ADDRESS_BOOK = {5, 20, 29}
_PENDING_SUGGESTION = {2, 6, 9, 16, 25}
_ACCEPTED_SUGGESTION = {23}

FINGERPRINT_BYTES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

_BILLING_IN_USE = {0, 1}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _as_range(access_ip: Mapping[str, Any]) -> dict[str, Any]:
    """An access-list entry that is a CIDR block, as the access IP range Telnyx keeps it as."""
    fields = {k: v for k, v in access_ip.items() if k not in ("ip_address", "source")}
    return {"id": fields.pop("id"), "cidr_block": access_ip["ip_address"], **fields}


def build_seed(seed: int = SEED) -> dict[str, Any]:
    """The deterministic first-start state."""
    # Names, addresses, labels: providers/sandbox/seed_data/telnyx.json, read at first use (a
    # first start or a reset), never when the emulator is imported.
    seed_fiction = seed_data.load("telnyx")
    rng = random.Random(seed)
    user_id = _uuid(rng)
    organization_id = _uuid(rng)

    access_ips = []
    ip_ranges: list[dict[str, Any]] = []
    seen: set[str] = set()
    sources = ["api"] * 9 + ["portal"] * 7 + ["cloudflare"] * 4
    for i in range(57):
        while True:
            pick = rng.random()
            if pick < 0.30:
                ip = f"198.51.100.{rng.randrange(1, 255)}"
            elif pick < 0.55:
                ip = f"203.0.113.{rng.randrange(1, 255)}"
            elif pick < 0.70:
                ip = f"192.0.2.{rng.randrange(1, 255)}"
            elif pick < 0.80:
                ip = f"203.0.113.{rng.randrange(0, 16) * 16}/28"
            elif pick < 0.92:
                ip = f"2001:db8:{rng.randrange(0x10, 0xFFF):x}::{rng.randrange(1, 0xFFFF):x}"
            else:
                ip = f"2001:db8:{rng.randrange(0x10, 0xFFF):x}::/48"
            if ip not in seen:
                seen.add(ip)
                break
        created = _T0 + i * 2.5 * 86400 + rng.randrange(0, 8 * 3600)
        pending = i % 7 == 3
        entry = {
            "id": _uuid(rng),
            "ip_address": ip,
            "source": rng.choice(sources),
            "status": "pending" if pending else "added",
            "description": rng.choice(seed_fiction["access_ip_labels"]),
            "user_id": user_id,
            "created_at": iso_time(created),
            "updated_at": iso_time(created if pending else created + rng.randrange(30, 600)),
        }
        if "/" in ip:
            # Telnyx keeps CIDR blocks apart, at /access_ip_ranges (with no source); the draws are
            # the same either way, so everything seeded after the access list is unchanged.
            ip_ranges.append(_as_range(entry))
        else:
            access_ips.append(entry)
    for i, fiction in enumerate(seed_fiction["access_ip_ranges"]):
        created = _T0 + 86400 * (4 + 29 * i) + 3600 * (i % 7)
        ip_ranges.append(
            {
                "id": derived_uuid(f"access_ip_range:{i}"),
                "cidr_block": fiction["cidr_block"],
                "status": "pending" if fiction.get("pending") else "added",
                "description": fiction["description"],
                "user_id": user_id,
                "created_at": iso_time(created),
                "updated_at": iso_time(created if fiction.get("pending") else created + 300),
            }
        )

    addresses = []
    address_id = 1493120874522000000
    for i, fiction in enumerate(seed_fiction["addresses"]):
        address_id += 4_194_304_000 + rng.randrange(0, 4_000_000)
        created = _T0 + 86400 * 3 + i * 4 * 86400 + rng.randrange(0, 9 * 3600)
        business = fiction["business_name"]
        record: dict[str, Any] = {
            "id": str(address_id),
            "record_type": "address",
            **{field: fiction[field] for field in _ADDRESS_FIELDS},
            "borough": "",
            "neighborhood": "",
            "customer_reference": f"{fiction['region']}-{business.split()[0].upper()}-{i + 1:03d}",
            "address_book": i not in _NOT_IN_ADDRESS_BOOK,
            "validate_address": True,
            "created_at": iso_time(created),
            "updated_at": iso_time(created + 3600 * (i % 5)),
            "_location_id": _uuid(rng),
            "_used_as_emergency": i in _EMERGENCY,
        }
        if i in _PENDING_SUGGESTION or i in _ACCEPTED_SUGGESTION:
            suggested = validate_address_fields(record)["suggested"]
            changes = {k: v for k, v in suggested.items() if record.get(k) != v}
            record["_suggestion"] = {"state": "accepted" if i in _ACCEPTED_SUGGESTION else "pending", "fields": changes}
        addresses.append(record)

    providers = []
    for i, fiction in enumerate(seed_fiction["sso_providers"]):
        algorithm, active = fiction["algorithm"], fiction["active"]
        created = _T0 + 86400 * (10 + 21 * i) + rng.randrange(0, 6 * 3600)
        fingerprint = ":".join(f"{rng.randrange(256):02X}" for _ in range(FINGERPRINT_BYTES[algorithm]))
        providers.append(
            provider_record(
                id=_uuid(rng),
                organization_id=organization_id,
                name=fiction["name"],
                short_name=fiction["short_name"],
                active=active,
                settings={
                    "idp_entity_id": fiction["idp_entity_id"],
                    "idp_sso_target_url": fiction["idp_sso_target_url"],
                    "idp_cert_fingerprint": fingerprint,
                    "idp_cert_fingerprint_algorithm": algorithm,
                },
                created_at=iso_time(created),
                updated_at=iso_time(created + 86400 * 2),
                activated_at=iso_time(created + 3600) if active else None,
            )
        )

    billing_groups = []
    for i, name in enumerate(seed_fiction["billing_groups"]):
        created = _T0 + i * 9 * 86400 + rng.randrange(0, 8 * 3600)
        billing_groups.append(
            {
                "id": _uuid(rng),
                "record_type": "billing_group",
                "name": name,
                "organization_id": organization_id,
                "created_at": iso_time(created),
                "updated_at": iso_time(created + 86400 * (i % 3)),
                "deleted_at": None,
                "_in_use": i in _BILLING_IN_USE,
            }
        )

    secrets = []
    for i, fiction in enumerate(seed_fiction["integration_secrets"]):
        kind = fiction["type"]
        created = _T0 + 86400 * (20 + 11 * i) + rng.randrange(0, 8 * 3600)
        value = (
            {"token": f"sandbox-bearer-placeholder-{i:02d}"}
            if kind == "bearer"
            else {"username": f"sandbox-user-{i:02d}", "password": f"sandbox-password-placeholder-{i:02d}"}
        )
        secrets.append(
            {
                "id": _uuid(rng),
                "record_type": "integration_secret",
                "identifier": fiction["identifier"],
                "created_at": iso_time(created),
                "updated_at": iso_time(created),
                "_secret": {"type": kind, **value},
            }
        )

    credentials = []
    connection_ids = [str(1684641123236054000 + rng.randrange(10**6)) for _ in range(3)]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    for i, fiction in enumerate(seed_fiction["credentials"]):
        expired = fiction["expired"]
        created = _T0 + 86400 * (15 + 17 * i) + rng.randrange(0, 8 * 3600)
        connection_id = connection_ids[i % len(connection_ids)]
        expires = (
            iso_time(datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC).timestamp())
            if expired
            else iso_time(datetime(2031, 1, 1 + i, 0, 0, tzinfo=UTC).timestamp())
        )
        credentials.append(
            {
                "id": _uuid(rng),
                "record_type": "credential",
                "name": fiction["name"],
                "sip_username": "gencred" + "".join(rng.choice(alphabet) for _ in range(26)),
                "connection_id": connection_id,
                "resource_id": f"connection:{connection_id}",
                "tag": fiction["tag"],
                "expired": expired,
                "expires_at": expires,
                "user_id": user_id,
                "created_at": iso_time(created),
                "updated_at": iso_time(created + 86400),
            }
        )

    return {
        "schema": SCHEMA_VERSION,
        "seeded": True,
        "user_id": user_id,
        "organization_id": organization_id,
        "next_address_id": str(address_id + 4_194_304_000),
        "access_ips": access_ips,
        "access_ip_ranges": ip_ranges,
        "addresses": addresses,
        "auth_providers": providers,
        "billing_groups": billing_groups,
        "integration_secrets": secrets,
        "credentials": credentials,
        "idempotency": {},
    }


def empty_state(seed: int = SEED) -> dict[str, Any]:
    state = build_seed(seed)
    for key in (
        "access_ips",
        "access_ip_ranges",
        "addresses",
        "auth_providers",
        "billing_groups",
        "integration_secrets",
        "credentials",
    ):
        state[key] = []
    state["seeded"] = False
    return state


def provider_record(
    *,
    id: str,
    organization_id: str,
    name: str,
    short_name: str,
    active: bool,
    settings: Mapping[str, Any],
    created_at: str,
    updated_at: str,
    activated_at: str | None,
) -> dict[str, Any]:
    record = {
        "id": id,
        "record_type": "authentication_provider",
        "name": name,
        "short_name": short_name,
        "active": active,
        "organization_id": organization_id,
        "settings": {},
        "created_at": created_at,
        "updated_at": updated_at,
    }
    if activated_at:
        record["activated_at"] = activated_at
    set_provider_settings(record, settings)
    return record


IDP_SETTINGS = ("idp_entity_id", "idp_sso_target_url", "idp_cert_fingerprint", "idp_cert_fingerprint_algorithm")


def set_provider_settings(record: dict[str, Any], settings: Mapping[str, Any] | None) -> None:
    """Store new IdP settings (None keeps the current ones) and derive the service-provider half
    from the short name."""
    short = record["short_name"]
    current = record.get("settings", {})
    merged = {k: current[k] for k in IDP_SETTINGS if k in current} if settings is None else dict(settings)
    merged.setdefault("idp_cert_fingerprint_algorithm", "sha1")
    merged.update(
        {
            "assertion_consumer_service_url": f"https://api.telnyx.com/sso/saml/auth/{short}",
            "service_provider_entity_id": f"https://api.telnyx.com/sso/saml/metadata/{short}",
            "service_provider_login_url": f"https://api.telnyx.com/sso/{short}",
            "name_identifier_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "idp_attribute_names": {"email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"},
            "provision_groups": False,
        }
    )
    record["settings"] = merged


__all__ = ["FINGERPRINT_BYTES", "build_seed", "empty_state", "provider_record", "set_provider_settings"]
