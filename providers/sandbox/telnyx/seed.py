"""The Telnyx emulator's first-start state: fixed seed, fixed 2026 timestamps, no real secrets,
fictional businesses, and phone numbers only from ranges reserved for fiction."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from providers.sandbox.telnyx.records import SCHEMA_VERSION, SEED, iso_time
from providers.sandbox.telnyx.validation import validate_address_fields

_T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).timestamp()

_ACCESS_IP_LABELS = [
    "Frankfurt office NAT",
    "London office egress",
    "CI runners (GitHub Actions)",
    "Billing service",
    "VPN concentrator",
    "Ops bastion",
    "Sao Paulo contact centre",
    "Tokyo dev office",
    "Cloudflare WARP egress",
    "Kubernetes egress (eu-west-1)",
    "Kubernetes egress (us-east-1)",
    "Partner SFTP",
    "Home office - on-call",
    "Monitoring probes",
    "Backup site (Dublin)",
    "Toronto support floor",
    "Sydney sales office",
    "Data warehouse loader",
    "QA lab",
    "Load balancer pool",
]

# (first, last, business, street, extended, locality, admin area, postal, country, phone, region)
_ADDRESSES = [
    (
        "Alice",
        "Morgan",
        "Northwind Traders",
        "120 Hudson Street",
        "Floor 4",
        "New York",
        "NY",
        "10013",
        "US",
        "+12125550142",
        "AMER",
    ),
    (
        "Ben",
        "Carter",
        "Blue Harbor Labs",
        "500 Brannan Street",
        "Suite 210",
        "San Francisco",
        "CA",
        "94107",
        "US",
        "+14155550118",
        "AMER",
    ),
    (
        "Carla",
        "Ruiz",
        "Lone Star Dental",
        "301 congress avenue",
        "",
        "Austin",
        "TX",
        "78701",
        "US",
        "+15125550177",
        "AMER",
    ),
    (
        "Daniel",
        "Okafor",
        "Lakeside Logistics",
        "233 South Wacker Drive",
        "Suite 8400",
        "Chicago",
        "IL",
        "60606",
        "US",
        "+13125550190",
        "AMER",
    ),
    (
        "Emma",
        "Lindqvist",
        "Evergreen Clinics",
        "710 2nd Avenue",
        "",
        "Seattle",
        "WA",
        "98104",
        "US",
        "+12065550123",
        "AMER",
    ),
    (
        "Frank",
        "Novak",
        "Front Range Realty",
        "1600 Glenarm Place",
        "Unit 12",
        "Denver",
        "CO",
        "80202",
        "US",
        "+13035550164",
        "AMER",
    ),
    (
        "Grace",
        "Tremblay",
        "Maple Leaf Analytics",
        "290 Bremner Boulevard",
        "",
        "Toronto",
        "ON",
        "m5v3l9",
        "CA",
        "+14165550109",
        "AMER",
    ),
    (
        "Hugo",
        "Gagnon",
        "Vieux-Port Media",
        "1250 Boulevard Rene-Levesque Ouest",
        "Bureau 900",
        "Montreal",
        "QC",
        "H3B 4W8",
        "CA",
        "+15145550138",
        "AMER",
    ),
    (
        "Isla",
        "Campbell",
        "Thames Ledger Ltd",
        "25 Old Broad Street",
        "",
        "London",
        "",
        "EC2N 1HQ",
        "GB",
        "+442079460123",
        "EMEA",
    ),
    (
        "Jack",
        "Whitfield",
        "Northern Quarter Studios",
        "57 Deansgate",
        "Second floor",
        "Manchester",
        "",
        "m3 2bw",
        "GB",
        "+441614960456",
        "EMEA",
    ),
    (
        "Kirsty",
        "MacLeod",
        "Firth Software",
        "44 George Street",
        "",
        "Edinburgh",
        "",
        "EH2 2LE",
        "GB",
        "+441314960789",
        "EMEA",
    ),
    ("Lukas", "Becker", "Spree Telekom GmbH", "Friedrichstrasse 68", "", "Berlin", "Berlin", "10117", "DE", "", "EMEA"),
    ("Marie", "Schneider", "Isar Cloud AG", "Leopoldstrasse 50", "", "Muenchen", "Bayern", "80802", "DE", "", "EMEA"),
    (
        "Niklas",
        "Fischer",
        "Hafenblick Reederei",
        "Grosse Elbstrasse 145",
        "",
        "Hamburg",
        "Hamburg",
        "22767",
        "DE",
        "",
        "EMEA",
    ),
    (
        "Oceane",
        "Martin",
        "Lumiere Conseil SARL",
        "18 Rue Vivienne",
        "",
        "Paris",
        "Ile-de-France",
        "75002",
        "FR",
        "+33199001234",
        "EMEA",
    ),
    (
        "Pierre",
        "Dubois",
        "Rhone Vocal",
        "12 Quai Saint-Antoine",
        "",
        "Lyon",
        "Auvergne-Rhone-Alpes",
        "69002",
        "FR",
        "+33199005678",
        "EMEA",
    ),
    (
        "Sanne",
        "de Vries",
        "Grachten Data B.V.",
        "Herengracht 420",
        "",
        "Amsterdam",
        "Noord-Holland",
        "1017bz",
        "NL",
        "",
        "EMEA",
    ),
    (
        "Daan",
        "Bakker",
        "Maas Connect",
        "Wilhelminakade 91",
        "",
        "Rotterdam",
        "Zuid-Holland",
        "3072 AP",
        "NL",
        "",
        "EMEA",
    ),
    ("Aoife", "Byrne", "Liffey Support Ltd", "1 Grand Canal Square", "", "Dublin", "", "D02 P820", "IE", "", "EMEA"),
    ("Lucia", "Garcia", "Sol Telecom SL", "Calle de Alcala 45", "", "Madrid", "Madrid", "28014", "ES", "", "EMEA"),
    (
        "Jordi",
        "Puig",
        "Mediterrania Apps",
        "Carrer de Balmes 150",
        "",
        "Barcelona",
        "Catalunya",
        "08008",
        "ES",
        "",
        "EMEA",
    ),
    ("Giulia", "Rossi", "Navigli Voce Srl", "Via Torino 61", "", "Milano", "MI", "20123", "IT", "", "EMEA"),
    ("Erik", "Johansson", "Nordljus AB", "Drottninggatan 33", "", "Stockholm", "", "111 51", "SE", "", "EMEA"),
    (
        "Olivia",
        "Nguyen",
        "Harbourside Health",
        "200 George Street",
        "Level 12",
        "Sydney",
        "NSW",
        "2000",
        "AU",
        "+61255501234",
        "APAC",
    ),
    (
        "Liam",
        "Walker",
        "Yarra Retail Group",
        "80 Collins Street",
        "",
        "Melbourne",
        "VIC",
        "3000",
        "AU",
        "+61355504321",
        "APAC",
    ),
    ("Haruto", "Sato", "Sakura Systems KK", "1-9-1 Marunouchi", "", "Chiyoda-ku", "Tokyo", "1000005", "JP", "", "APAC"),
    (
        "Ana",
        "Souza",
        "Paulista Contact Center",
        "Avenida Paulista 1578",
        "Conjunto 41",
        "Sao Paulo",
        "SP",
        "01310-200",
        "BR",
        "",
        "AMER",
    ),
    (
        "Maria",
        "Lopez",
        "Biscayne Travel",
        "1450 Brickell Avenue",
        "Suite 1900",
        "Miami",
        "FL",
        "33131",
        "US",
        "+13055550181",
        "AMER",
    ),
    (
        "Nathan",
        "Brooks",
        "Beacon Hill Legal",
        "1 Federal Street",
        "",
        "Boston",
        "MA",
        "02110",
        "US",
        "+16175550135",
        "AMER",
    ),
    ("Sophie", "Meier", "Limmat Finanz AG", "Bahnhofstrasse 45", "", "Zuerich", "ZH", "8001", "CH", "", "EMEA"),
]
_EMERGENCY = {0, 1, 3, 8, 11, 14, 23, 27}
_NOT_IN_ADDRESS_BOOK = {5, 20, 29}
_PENDING_SUGGESTION = {2, 6, 9, 16, 25}
_ACCEPTED_SUGGESTION = {23}

_SSO_PROVIDERS = [
    # name, short_name, active, algorithm, entity id, sso url
    (
        "Okta",
        "northwind",
        True,
        "sha256",
        "http://www.okta.com/exk1tdsandbox0northwind",
        "https://northwind-traders.okta.com/app/northwind_telnyx/exk1tdsandbox0northwind/sso/saml",
    ),
    (
        "Microsoft Entra ID",
        "blueharbor",
        True,
        "sha1",
        "https://sts.windows.net/0b8c7a4e-5d2f-4e51-9a3c-7f1d2e6b9c01/",
        "https://login.microsoftonline.com/0b8c7a4e-5d2f-4e51-9a3c-7f1d2e6b9c01/saml2",
    ),
    (
        "Google Workspace",
        "thames-ledger",
        False,
        "sha256",
        "https://accounts.google.com/o/saml2?idpid=C02sandbx1",
        "https://accounts.google.com/o/saml2/idp?idpid=C02sandbx1",
    ),
    (
        "OneLogin",
        "lakeside",
        True,
        "sha512",
        "https://app.onelogin.com/saml/metadata/7d2f9c1e-sandbox",
        "https://lakeside-logistics.onelogin.com/trust/saml2/http-post/sso/7d2f9c1e-sandbox",
    ),
]
FINGERPRINT_BYTES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

_BILLING_GROUPS = [
    "Default",
    "EMEA Voice",
    "AMER Messaging",
    "APAC SIP Trunking",
    "Contact Centre - London",
    "Engineering Sandbox",
    "Marketing Campaigns",
    "Customer Support",
    "Operator Connect",
    "Partner Resale",
    "Disaster Recovery",
    "Q3 Pilot - Retail",
]
_BILLING_IN_USE = {0, 1}

_INTEGRATION_SECRETS = [
    ("zendesk_webhook", "bearer"),
    ("hubspot_crm", "bearer"),
    ("salesforce_sandbox", "basic"),
    ("jira_service_desk", "basic"),
    ("slack_alerts", "bearer"),
    ("pagerduty_events", "bearer"),
    ("legacy_pbx_provisioning", "basic"),
    ("datadog_logs", "bearer"),
]

_CREDENTIALS = [
    ("Web softphone - London", "webrtc", False),
    ("Mobile app (iOS)", "mobile", False),
    ("Mobile app (Android)", "mobile", False),
    ("Lobby kiosk", "kiosk", False),
    ("QA automation", "qa", False),
    ("Retail pilot 2026-Q1", "pilot", True),
]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_seed(seed: int = SEED) -> dict[str, Any]:
    """The deterministic first-start state."""
    rng = random.Random(seed)
    user_id = _uuid(rng)
    organization_id = _uuid(rng)

    access_ips = []
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
        access_ips.append(
            {
                "id": _uuid(rng),
                "ip_address": ip,
                "source": rng.choice(sources),
                "status": "pending" if pending else "added",
                "description": rng.choice(_ACCESS_IP_LABELS),
                "user_id": user_id,
                "created_at": iso_time(created),
                "updated_at": iso_time(created if pending else created + rng.randrange(30, 600)),
            }
        )

    addresses = []
    address_id = 1493120874522000000
    for i, (first, last, business, street, extended, locality, area, postal, country, phone, region) in enumerate(
        _ADDRESSES
    ):
        address_id += 4_194_304_000 + rng.randrange(0, 4_000_000)
        created = _T0 + 86400 * 3 + i * 4 * 86400 + rng.randrange(0, 9 * 3600)
        record: dict[str, Any] = {
            "id": str(address_id),
            "record_type": "address",
            "first_name": first,
            "last_name": last,
            "business_name": business,
            "street_address": street,
            "extended_address": extended,
            "locality": locality,
            "administrative_area": area,
            "postal_code": postal,
            "country_code": country,
            "borough": "",
            "neighborhood": "",
            "phone_number": phone,
            "customer_reference": f"{region}-{business.split()[0].upper()}-{i + 1:03d}",
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
    for i, (name, short, active, algorithm, entity_id, sso_url) in enumerate(_SSO_PROVIDERS):
        created = _T0 + 86400 * (10 + 21 * i) + rng.randrange(0, 6 * 3600)
        fingerprint = ":".join(f"{rng.randrange(256):02X}" for _ in range(FINGERPRINT_BYTES[algorithm]))
        providers.append(
            provider_record(
                id=_uuid(rng),
                organization_id=organization_id,
                name=name,
                short_name=short,
                active=active,
                settings={
                    "idp_entity_id": entity_id,
                    "idp_sso_target_url": sso_url,
                    "idp_cert_fingerprint": fingerprint,
                    "idp_cert_fingerprint_algorithm": algorithm,
                },
                created_at=iso_time(created),
                updated_at=iso_time(created + 86400 * 2),
                activated_at=iso_time(created + 3600) if active else None,
            )
        )

    billing_groups = []
    for i, name in enumerate(_BILLING_GROUPS):
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
    for i, (identifier, kind) in enumerate(_INTEGRATION_SECRETS):
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
                "identifier": identifier,
                "created_at": iso_time(created),
                "updated_at": iso_time(created),
                "_secret": {"type": kind, **value},
            }
        )

    credentials = []
    connection_ids = [str(1684641123236054000 + rng.randrange(10**6)) for _ in range(3)]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    for i, (name, tag, expired) in enumerate(_CREDENTIALS):
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
                "name": name,
                "sip_username": "gencred" + "".join(rng.choice(alphabet) for _ in range(26)),
                "connection_id": connection_id,
                "resource_id": f"connection:{connection_id}",
                "tag": tag,
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
        "addresses": addresses,
        "auth_providers": providers,
        "billing_groups": billing_groups,
        "integration_secrets": secrets,
        "credentials": credentials,
        "idempotency": {},
    }


def empty_state(seed: int = SEED) -> dict[str, Any]:
    state = build_seed(seed)
    for key in ("access_ips", "addresses", "auth_providers", "billing_groups", "integration_secrets", "credentials"):
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
