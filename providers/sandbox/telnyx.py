"""A local emulator of the Telnyx v2 "account access" API.

It serves, under `/v2`, the 24 operations of the trimmed official OpenAPI document
(docs/reference/telnyx-account-access.openapi.json) with the same paths, methods, envelopes and
status codes, plus `GET /telephony_credentials` so a UI can list credentials:

    access_ip_address        list / create / retrieve / delete      (single objects come bare)
    addresses                list / create / retrieve / delete, actions/validate,
                             {id}/actions/accept_suggestions (202 first time, 200 after)
    authentication_providers list / create / retrieve / PATCH / delete
    billing_groups           list / create / retrieve / PATCH / delete (409 while in use)
    integration_secrets      list / create (201) / delete (204, empty body)
    telephony_credentials    list, POST {id}/token (201, text/plain JWT)

It behaves like the real service where a client can tell: Bearer auth (401, code 10009), per-key
rate limits with x-ratelimit-* headers (429, code 10011, Retry-After), `Idempotency-Key` on POSTs,
`page[number]`/`page[size]` pagination with the same `meta`, the documented filters and sorts, and
422 validation errors whose `source.pointer` names the field.

It is a `providers.sandbox.http.Handler`: use it in process through `AsyncInProcessTransport`, or on
loopback with `serve()` / `teledeck sandbox serve`. `sandbox.faults` injects failures for tests.

Where the emulator had to choose (the spec is silent or contradicts itself):

- Error `code` is always a string, also for billing groups, whose spec schema says integer (Telnyx
  sends strings in practice; see tests/interop/test_openapi_conformance.py).
- Invalid list parameters (page, sort, filters) answer with the status each operation declares:
  422 for access_ip_address (its only declared error), 400 for the others.
- A billing-group id that is not a UUID answers 422, code 10006, source.parameter "id".
- accept_suggestions takes the location UUID the spec names, and also the address id, because the
  Address object does not expose the location UUID; an address with no suggestion answers 404.
- Deleting an address that is some number's emergency address answers 422 (code 10021).
- A token for an expired telephony credential is refused with 422.
- Idempotency keys follow developers.telnyx.com: ^[A-Za-z0-9_:-]{1,255}$; only 2xx answers are
  stored and replayed; the same key with another query or body answers 422. (A second request
  while the first is still in flight, 409/10036 at Telnyx, cannot happen: requests are serialised.)
- Codes come from Telnyx's API error catalogue: 10004 for a missing field, 10015 for a value of the
  wrong type or shape, 10003 for a bad URL, 10012 for a duplicate, 10023 for malformed JSON.
  Address-validation results use 20207 (the spec's own example) and 20209 (postal code, our pick).
- An SSO provider update that sends `settings` must send all three IdP fields (the update body
  reuses the create body's `settings` schema); they replace the old ones.
- A new access IP is "pending" and turns "added" ACCESS_IP_SYNC_SECONDS later (by `clock`).
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from providers.accounts import Account
from providers.sandbox.credentials import setting, shown
from providers.sandbox.http import JSON_CONTENT_TYPE, BodyError, SandboxRequest, SandboxResponse
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.sandbox.telnyx")

DEFAULT_TELNYX_API_KEY = "KEYTELEDECKSANDBOX_local_only_0000"
API_KEY_ENV = "TELEDECK_SANDBOX_TELNYX_API_KEY"
RATE_LIMIT_ENV = "TELEDECK_SANDBOX_TELNYX_RATE_LIMIT"
DEFAULT_RATE_LIMIT = 100  # requests per window per API key (Telnyx does not publish its numbers)
BASE_PATH = "/v2"
# A base URL for in-process clients; `.invalid` never resolves, so nothing can leak to a network.
IN_PROCESS_BASE_URL = "http://telnyx.sandbox.invalid/v2"
STATE_KEY = "telnyx"
STATE_FILE = "telnyx.json"
SCHEMA_VERSION = 1
SEED = 20260105
# Signs the sandbox's telephony JWTs. Public on purpose: it protects nothing.
JWT_SECRET = b"teledeck-sandbox-telephony-jwt-hs256 (public, not a secret)"
TOKEN_LIFETIME = 24 * 3600
ACCESS_IP_SYNC_SECONDS = 5.0  # a new access IP is "pending" this long, then "added"
IDEMPOTENCY_TTL = 24 * 3600
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 250
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_:-]{1,255}$")
_SHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2})*$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# ---------------------------------------------------------------------------------------------
# Errors


E_INVALID_URL = ("10003", "Invalid URL")
E_MISSING = ("10004", "Missing required parameter")
E_NOT_FOUND = ("10005", "Resource not found")
E_INVALID_ID = ("10006", "Invalid ID")
E_UNEXPECTED = ("10007", "Unexpected error")
E_TIMEOUT = ("10008", "Request timeout")
E_AUTH = ("10009", "Authentication failed")
E_FORBIDDEN = ("10010", "Authorization failed")
E_RATE = ("10011", "Too many requests")
E_DUPLICATE = ("10012", "Duplicate resource")
E_MEDIA_TYPE = ("10014", "Unsupported Media Type")
E_BAD_REQUEST = ("10015", "Bad Request")
E_E164 = ("10016", "Phone number must be in +E.164 format")
E_IN_USE = ("10021", "Resource in use")
E_INVALID_JSON = ("10023", "Invalid JSON")

_STATUS_DEFAULT_ERROR = {
    400: E_BAD_REQUEST,
    401: E_AUTH,
    403: E_FORBIDDEN,
    404: E_NOT_FOUND,
    408: E_TIMEOUT,
    409: E_IN_USE,
    415: E_MEDIA_TYPE,
    422: E_BAD_REQUEST,
    429: E_RATE,
    504: E_TIMEOUT,
}


def problem(
    kind: tuple[str, str], detail: str, *, pointer: str | None = None, parameter: str | None = None
) -> dict[str, Any]:
    """One Telnyx error object."""
    code, title = kind
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    source = {k: v for k, v in (("pointer", pointer), ("parameter", parameter)) if v is not None}
    if source:
        error["source"] = source
    error["meta"] = {"url": f"https://developers.telnyx.com/docs/overview/errors/{code}"}
    return error


class ApiError(Exception):
    """Raised anywhere below `handle`; becomes a Telnyx error response."""

    def __init__(
        self, status: int, errors: list[dict[str, Any]] | dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.errors = errors if isinstance(errors, list) else [errors]
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {self.errors}")

    def response(self) -> SandboxResponse:
        return SandboxResponse.json_response(self.status, {"errors": self.errors}, self.headers)


def default_error_body(status: int) -> dict[str, Any]:
    kind = _STATUS_DEFAULT_ERROR.get(status, E_UNEXPECTED if status >= 500 else E_BAD_REQUEST)
    detail = "An unexpected error occured." if kind == E_UNEXPECTED else f"HTTP {status} (injected by the sandbox)."
    return {"errors": [problem(kind, detail)]}


# ---------------------------------------------------------------------------------------------
# Fault injection

FAULT_KINDS = ("status", "malformed", "delay", "connect_error", "repeat_page")
MALFORMED_BODY = {"data": "not what you expected", "meta": "nope"}


@dataclass
class Fault:
    """One queued fault: matches requests by method and path prefix (relative to /v2)."""

    kind: str
    method: str = "*"
    path: str = "/"
    times: int | None = 1  # None: until cleared
    status: int = 200
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    apply: bool = False
    page_number: int = 1
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def matches(self, method: str, rel_path: str) -> bool:
        if self.method not in ("*", method):
            return False
        prefix = self.path.rstrip("/")
        return not prefix or rel_path == prefix or rel_path.startswith(prefix + "/")

    def response(self) -> SandboxResponse:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.kind == "malformed":
            body = self.body if self.body is not None else json.dumps(MALFORMED_BODY).encode()
            return SandboxResponse(
                self.status, {"content-type": self.content_type or JSON_CONTENT_TYPE, **headers}, body
            )
        if self.body is None:
            if self.status >= 400:
                if self.status == 429:
                    headers.setdefault("retry-after", "1")
                return SandboxResponse.json_response(self.status, default_error_body(self.status), headers)
            return SandboxResponse.json_response(self.status, {}, headers)
        if self.body:
            headers.setdefault("content-type", self.content_type or "text/plain; charset=utf-8")
        elif self.content_type:
            headers.setdefault("content-type", self.content_type)
        return SandboxResponse(self.status, headers, self.body)

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["body"] = None if self.body is None else self.body.decode("utf-8", "replace")
        return out


def _as_body(body: Any) -> tuple[bytes | None, str | None]:
    """Raw body bytes and a content type guess: dict/list become JSON, str/bytes stay raw."""
    if body is None:
        return None, None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), None
    return json.dumps(body).encode("utf-8"), JSON_CONTENT_TYPE


def _norm_fault_path(path: str) -> str:
    path = "/" + path.strip().lstrip("/")
    if path == BASE_PATH or path.startswith(BASE_PATH + "/"):
        path = path[len(BASE_PATH) :] or "/"
    return path


class FaultInjector:
    """Queue of faults; each fires for the first `times` matching requests, in the order queued.

    Every method takes `method` ("GET", ..., or "*") and `path`, a prefix relative to the base
    URL such as "/access_ip_address" (a leading "/v2" is accepted and ignored).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def _queue(self, fault: Fault) -> Fault:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1 (or None for until cleared)")
        fault.method = fault.method.upper()
        fault.path = _norm_fault_path(fault.path)
        with self._lock:
            self._faults.append(fault)
        return fault

    def respond(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        times: int | None = 1,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer with `status` instead of handling the request. `body=None` gives a Telnyx error
        body for 4xx/5xx (`{}` otherwise); `b""` gives an empty body; str/bytes are sent raw."""
        raw, guessed = _as_body(body)
        return self._queue(
            Fault(
                "status",
                method,
                path,
                times,
                status=status,
                body=raw,
                content_type=content_type or guessed,
                headers=dict(headers or {}),
            )
        )

    def malformed(self, method: str, path: str, *, times: int | None = 1, body: Any = None, status: int = 200) -> Fault:
        """Answer 200 with well-formed JSON of the wrong shape (or `body`), without handling."""
        raw, guessed = _as_body(body)
        return self._queue(Fault("malformed", method, path, times, status=status, body=raw, content_type=guessed))

    def delay(self, method: str, path: str, seconds: float, *, apply: bool = False, times: int | None = 1) -> Fault:
        """Answer `seconds` late. `apply=True`: act on the request first (a client that times out
        has had its change applied); `apply=False`: wait first (a timed-out request never applies)."""
        return self._queue(Fault("delay", method, path, times, seconds=float(seconds), apply=apply))

    def connect_error(self, method: str, path: str, *, times: int | None = 1) -> Fault:
        """Fail before the request reaches the emulator (httpx.ConnectError in process)."""
        return self._queue(Fault("connect_error", method, path, times))

    def repeat_page(self, path: str, *, page_number: int = 1, method: str = "GET", times: int | None = None) -> Fault:
        """Serve page `page_number` whatever page is asked for, so `meta.page_number` never
        advances (the static Prism mock does this); by default until cleared."""
        return self._queue(Fault("repeat_page", method, path, times, page_number=int(page_number)))

    def add(self, spec: Mapping[str, Any]) -> Fault:
        """Queue a fault from its JSON form (what `POST /_sandbox/faults` accepts):
        {"kind", "method", "path", "times", "status", "body" | "json", "content_type", "headers",
        "seconds", "apply", "page_number"}."""
        spec = dict(spec)
        kind = str(spec.pop("kind", "status"))
        kind = {"respond": "status", "connect": "connect_error", "timeout": "delay"}.get(kind, kind)
        if "json" in spec:
            raw, guessed = _as_body(spec.pop("json"))
            spec.pop("body", None)
        else:
            raw, guessed = _as_body(spec.pop("body", None))
        known = {"method", "path", "times", "status", "content_type", "headers", "seconds", "apply", "page_number"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if kind == "repeat_page":
            spec.setdefault("times", None)
            spec.setdefault("method", "GET")
        fault = Fault(
            kind,
            str(spec.pop("method", "*")),
            str(spec.pop("path", "/")),
            spec.pop("times", 1),
            body=raw,
            content_type=spec.pop("content_type", None) or guessed,
            **spec,
        )
        fault.status = int(fault.status)
        fault.seconds = float(fault.seconds)
        fault.apply = bool(fault.apply)
        fault.headers = {str(k): str(v) for k, v in (fault.headers or {}).items()}
        return self._queue(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self, kinds: tuple[str, ...], method: str, rel_path: str) -> Fault | None:
        """Consume one firing of the first queued fault of `kinds` matching the request."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, rel_path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


# ---------------------------------------------------------------------------------------------
# Small helpers


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def _parse_dt(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the API shows it: internal keys start with "_"."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def _is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(claims: Mapping[str, Any], secret: bytes = JWT_SECRET) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def decode_token(token: str, secret: bytes = JWT_SECRET) -> dict[str, Any]:
    """Check a sandbox JWT's HS256 signature and return its claims (ValueError if it is not valid)."""
    try:
        header, payload, signature = token.strip().split(".")
    except ValueError:
        raise ValueError("not a JWT: expected three dot-separated parts") from None
    expected = _b64url(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise ValueError("bad JWT signature")
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


ISO_3166_ALPHA2 = frozenset(
    """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH
ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT
HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS
LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI
NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG
SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split()
)

# Postal-code shapes the emulator's address validation knows; other countries need any value.
POSTAL_PATTERNS = {
    "US": r"\d{5}(-\d{4})?",
    "CA": r"[A-Za-z]\d[A-Za-z][ -]?\d[A-Za-z]\d",
    "GB": r"[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}",
    "IE": r"[A-Za-z]\d[\dWw]\s?[A-Za-z\d]{4}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "MX": r"\d{5}",
    "NL": r"\d{4}\s?[A-Za-z]{2}",
    "AU": r"\d{4}",
    "CH": r"\d{4}",
    "AT": r"\d{4}",
    "BE": r"\d{4}",
    "DK": r"\d{4}",
    "NO": r"\d{4}",
    "SE": r"\d{3}\s?\d{2}",
    "JP": r"\d{3}-?\d{4}",
    "BR": r"\d{5}-?\d{3}",
    "PL": r"\d{2}-\d{3}",
    "PT": r"\d{4}-\d{3}",
    "IN": r"\d{6}",
    "SG": r"\d{6}",
}


def _normalise_postal(country: str, postal: str) -> str:
    compact = re.sub(r"[\s-]", "", postal).upper()
    if country == "GB" and len(compact) >= 5:
        return f"{compact[:-3]} {compact[-3:]}"
    if country == "CA" and len(compact) == 6:
        return f"{compact[:3]} {compact[3:]}"
    if country == "NL" and len(compact) == 6:
        return f"{compact[:4]} {compact[4:]}"
    if country == "IE" and len(compact) == 7:
        return f"{compact[:3]} {compact[3:]}"
    if country == "SE" and len(compact) == 5:
        return f"{compact[:3]} {compact[3:]}"
    if country == "JP" and len(compact) == 7:
        return f"{compact[:3]}-{compact[3:]}"
    if country == "BR" and len(compact) == 8:
        return f"{compact[:5]}-{compact[5:]}"
    return " ".join(postal.split()).upper()


def _tidy(text: str) -> str:
    """Collapse whitespace; give all-lower-case or all-upper-case text title case."""
    text = " ".join(text.split())
    return text.title() if text and (text.islower() or text.isupper()) and any(c.isalpha() for c in text) else text


def validate_address_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The sandbox's address check: a `ValidateAddressResult` body for (already type-checked) fields."""
    country = str(fields.get("country_code") or "").upper()
    street = str(fields.get("street_address") or "")
    postal = str(fields.get("postal_code") or "")
    suggested: dict[str, Any] = {
        "country_code": country,
        "street_address": _tidy(street),
        "postal_code": _normalise_postal(country, postal),
    }
    for name in ("extended_address", "locality"):
        if fields.get(name):
            suggested[name] = _tidy(str(fields[name]))
    if fields.get("administrative_area"):
        area = " ".join(str(fields["administrative_area"]).split())
        suggested["administrative_area"] = (
            area.upper() if country in ("US", "CA", "AU") and len(area) <= 3 else _tidy(area)
        )
    errors = []
    if not re.search(r"\d", street):
        errors.append(
            {
                "code": "20207",
                "title": "Invalid street address",
                "description": "The street address provided is invalid: no building number was found.",
                "source": {"pointer": "/street_address"},
            }
        )
    pattern = POSTAL_PATTERNS.get(country)
    if not postal.strip() or (pattern and not re.fullmatch(pattern, postal.strip())):
        errors.append(
            {
                "code": "20209",
                "title": "Invalid postal code",
                "description": f"The postal code {postal!r} is not valid for country {country}.",
                "source": {"pointer": "/postal_code"},
            }
        )
    return {
        "record_type": "address_validation",
        "result": "invalid" if errors else "valid",
        "suggested": suggested,
        "errors": errors,
    }


def _is_uri(value: str) -> bool:
    """An absolute URI (RFC 3986 shape: scheme ":" rest, no whitespace); SAML entity ids may be URNs."""
    if not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.netloc)
    return bool(parts.netloc or parts.path)


def _is_http_url(value: str) -> bool:
    if not value or any(c.isspace() for c in value) or len(value) > 2000:
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# ---------------------------------------------------------------------------------------------
# Seed data (fixed seed, fixed 2026 timestamps; no real secrets, fictional businesses, phone
# numbers only from ranges reserved for fiction)

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
_FINGERPRINT_BYTES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

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


def _derived_uuid(name: str) -> str:
    """A version-4-shaped UUID computed from `name` (and the seed), never drawn at random."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"{SEED}:{name}".encode()).digest()[:16], version=4))


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
                "created_at": _iso(created),
                "updated_at": _iso(created if pending else created + rng.randrange(30, 600)),
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
            "created_at": _iso(created),
            "updated_at": _iso(created + 3600 * (i % 5)),
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
        fingerprint = ":".join(f"{rng.randrange(256):02X}" for _ in range(_FINGERPRINT_BYTES[algorithm]))
        providers.append(
            _provider_record(
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
                created_at=_iso(created),
                updated_at=_iso(created + 86400 * 2),
                activated_at=_iso(created + 3600) if active else None,
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
                "created_at": _iso(created),
                "updated_at": _iso(created + 86400 * (i % 3)),
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
                "created_at": _iso(created),
                "updated_at": _iso(created),
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
            _iso(datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC).timestamp())
            if expired
            else _iso(datetime(2031, 1, 1 + i, 0, 0, tzinfo=UTC).timestamp())
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
                "created_at": _iso(created),
                "updated_at": _iso(created + 86400),
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


def _provider_record(
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
    _set_provider_settings(record, settings)
    return record


_IDP_SETTINGS = ("idp_entity_id", "idp_sso_target_url", "idp_cert_fingerprint", "idp_cert_fingerprint_algorithm")


def _set_provider_settings(record: dict[str, Any], settings: Mapping[str, Any] | None) -> None:
    """Store new IdP settings (None keeps the current ones) and derive the service-provider half
    from the short name."""
    short = record["short_name"]
    current = record.get("settings", {})
    merged = {k: current[k] for k in _IDP_SETTINGS if k in current} if settings is None else dict(settings)
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


# ---------------------------------------------------------------------------------------------
# Request helpers


def _page(req: SandboxRequest, status: int) -> tuple[int, int]:
    """page[number] and page[size], refused with `status` (and source.parameter) when invalid."""
    query = req.query_dict

    def number(name: str, default: int, maximum: int | None) -> int:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(
                status, problem(E_BAD_REQUEST, f"{name} must be an integer, got {raw!r}.", parameter=name)
            ) from None
        if value < 1 or (maximum is not None and value > maximum):
            bound = f"between 1 and {maximum}" if maximum else "at least 1"
            raise ApiError(status, problem(E_BAD_REQUEST, f"{name} must be {bound}, got {value}.", parameter=name))
        return value

    return number("page[number]", 1, None), number("page[size]", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)


def _paginate(items: list[dict[str, Any]], req: SandboxRequest, status: int) -> dict[str, Any]:
    page_number, page_size = _page(req, status)
    total = len(items)
    start = (page_number - 1) * page_size
    return {
        "data": [_public(item) for item in items[start : start + page_size]],
        "meta": {
            "page_number": page_number,
            "page_size": page_size,
            "total_pages": math.ceil(total / page_size),
            "total_results": total,
        },
    }


def _newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda r: (r.get("created_at", ""), r["id"]), reverse=True)


def _sorted(items: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")

    def sort_key(record: dict[str, Any]) -> tuple[Any, ...]:
        value = record.get(key)
        if isinstance(value, str):
            value = value.casefold()
        return (value is None, value if value is not None else "", record["id"])

    return sorted(items, key=sort_key, reverse=descending)


def _require_str(
    body: Mapping[str, Any], name: str, errors: list[dict[str, Any]], *, required: bool, pointer_prefix: str = ""
) -> str | None:
    """Type-check one string field, adding a 10004 (missing) or 10015 (wrong type) error."""
    pointer = f"{pointer_prefix}/{name}"
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip() and required):
        if required:
            errors.append(problem(E_MISSING, f"The '{name}' parameter is required.", pointer=pointer))
        return None
    if not isinstance(value, str):
        errors.append(problem(E_BAD_REQUEST, f"The '{name}' parameter must be a string.", pointer=pointer))
        return None
    return value


def _require_bool(body: Mapping[str, Any], name: str, errors: list[dict[str, Any]]) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        errors.append(problem(E_BAD_REQUEST, f"The '{name}' parameter must be a boolean.", pointer=f"/{name}"))
        return None
    return value


def _bool_param(req: SandboxRequest, name: str, status: int) -> bool | None:
    raw = req.query_dict.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise ApiError(
            status, problem(E_BAD_REQUEST, f"{name} must be 'true' or 'false', got {raw!r}.", parameter=name)
        )
    return raw.lower() == "true"


Route = tuple[str, re.Pattern[str], Callable[..., SandboxResponse]]


# ---------------------------------------------------------------------------------------------
# The emulator


class TelnyxSandbox:
    """The Telnyx account-access emulator. Thread-safe; state lives in a `StateStore`."""

    base_path = BASE_PATH
    vendor = "telnyx"
    STATE_FILE = STATE_FILE

    def __init__(
        self,
        store: StateStore | None = None,
        api_key: str | None = None,
        rate_limit: int | None = None,
        rate_window: float = 1.0,
        clock: Callable[[], float] = time.time,
        seed_data: bool = True,
    ) -> None:
        self.store = store if store is not None else StateStore(None)
        self.api_key = setting(api_key, API_KEY_ENV, DEFAULT_TELNYX_API_KEY)
        if rate_limit is None:
            env = os.environ.get(RATE_LIMIT_ENV, "").strip()
            rate_limit = int(env) if env else DEFAULT_RATE_LIMIT
        self.rate_limit = int(rate_limit)  # 0 turns rate limiting off
        self.rate_window = float(rate_window)
        self.clock = clock
        self.seed_data = seed_data
        self.faults = FaultInjector()
        self.requests_handled = 0
        self._lock = threading.RLock()
        self._windows: dict[str, list[float]] = {}  # api key -> [window start, count]
        self._routes = self._build_routes()
        with self._lock:
            state = self.store.get(STATE_KEY)
            if not isinstance(state, dict) or state.get("schema") != SCHEMA_VERSION:
                self._install(build_seed() if seed_data else empty_state())

    def session_account(self) -> Account:
        """The account a sandbox session connects with (what a real profile's config would say)."""
        return Account(kind="telnyx", label="sandbox", credentials={"api_key": self.api_key})

    def credentials(self) -> list[tuple[str, str]]:
        """What `teledeck sandbox serve` prints: the public default key in full, a chosen one not."""
        return [("api key", shown(self.api_key, DEFAULT_TELNYX_API_KEY, API_KEY_ENV))]

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """The live state document (internal fields start with "_"). Hold no reference across calls."""
        return self.store.data[STATE_KEY]

    def _install(self, state: dict[str, Any]) -> None:
        with self.store.transaction() as data:
            data[STATE_KEY] = state

    def _save(self) -> None:
        self.store.save()

    def reset(self, seed_data: bool | None = None) -> None:
        """Back to the first-start state; also clears faults, rate-limit windows and idempotency."""
        with self._lock:
            use_seed = self.seed_data if seed_data is None else seed_data
            self._install(build_seed() if use_seed else empty_state())
            self.faults.clear()
            self._windows.clear()

    def location_id(self, address_id: str) -> str | None:
        """The location UUID behind an address (what accept_suggestions takes in its path)."""
        with self._lock:
            for record in self.state["addresses"]:
                if record["id"] == address_id:
                    return record["_location_id"]
        return None

    def _now(self) -> str:
        return _iso(self.clock())

    def _new_id(self) -> str:
        """A new UUID, derived from a counter kept in the state: unique across restarts, and the
        same on every run that makes the same calls (so fixed-clock tests and snapshots repeat)."""
        seq = int(self.state.get("id_seq", 0)) + 1
        self.state["id_seq"] = seq
        return _derived_uuid(f"id:{seq}")

    # -- transport hooks -------------------------------------------------------------------------

    @staticmethod
    def _relative(path: str) -> str | None:
        if path == BASE_PATH or path.startswith(BASE_PATH + "/"):
            rel = path[len(BASE_PATH) :] or "/"
            return rel.rstrip("/") or "/"
        return None

    def delay_for(self, req: SandboxRequest) -> tuple[float, bool]:
        rel = self._relative(req.path)
        fault = self.faults.take(("delay",), req.method, rel) if rel is not None else None
        return (fault.seconds, fault.apply) if fault else (0.0, False)

    def connect_fails(self, req: SandboxRequest) -> bool:
        rel = self._relative(req.path)
        return rel is not None and self.faults.take(("connect_error",), req.method, rel) is not None

    # -- entry point -----------------------------------------------------------------------------

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        with self._lock:
            self.requests_handled += 1
            try:
                response = self._handle(req)
            except ApiError as exc:
                response = exc.response()
            except Exception:  # a bug in the emulator: answer like Telnyx would, and say so in the log
                log.exception("sandbox failed on %s %s", req.method, req.path)
                response = SandboxResponse.json_response(500, default_error_body(500))
            response.headers.setdefault("x-request-id", _derived_uuid(f"request:{self.requests_handled}"))
            return response

    def _handle(self, req: SandboxRequest) -> SandboxResponse:
        control = req.path.removeprefix(BASE_PATH)
        if control.startswith("/_sandbox/") or control == "/_sandbox":
            self._authenticate(req)
            return self._control(req, control[len("/_sandbox") :].rstrip("/"))
        rel = self._relative(req.path)
        if rel is None:
            raise ApiError(404, problem(E_NOT_FOUND, "The requested resource or URL could not be found."))
        self._authenticate(req)
        limit_headers = self._rate_limit()
        try:
            response = self._serve(req, rel)
        except ApiError as exc:
            exc.headers = {**limit_headers, **exc.headers}
            raise
        for name, value in limit_headers.items():
            response.headers.setdefault(name, value)
        return response

    def _authenticate(self, req: SandboxRequest) -> None:
        auth = req.header("authorization") or ""
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            detail = "The required authentication headers were either invalid or not included in the request."
            raise ApiError(401, problem(E_AUTH, detail), {"www-authenticate": 'Bearer realm="telnyx-sandbox"'})
        if not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            raise ApiError(
                401,
                problem(E_AUTH, "The API key provided is not valid for this account."),
                {"www-authenticate": 'Bearer realm="telnyx-sandbox", error="invalid_token"'},
            )

    def _rate_limit(self) -> dict[str, str]:
        if self.rate_limit <= 0:
            return {}
        now = self.clock()
        window = self._windows.setdefault(self.api_key, [now, 0])
        if now >= window[0] + self.rate_window or now < window[0]:
            window[0], window[1] = now, 0
        reset = max(1, math.ceil(window[0] + self.rate_window - now))
        if window[1] >= self.rate_limit:
            headers = {
                "x-ratelimit-limit": str(self.rate_limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
                "retry-after": str(reset),
            }
            raise ApiError(429, problem(E_RATE, "You have exceeded the maximum number of allowed requests."), headers)
        window[1] += 1
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(self.rate_limit - window[1]),
            "x-ratelimit-reset": str(reset),
        }

    def _serve(self, req: SandboxRequest, rel: str) -> SandboxResponse:
        fault = self.faults.take(("status", "malformed"), req.method, rel)
        if fault is not None:
            return fault.response()
        repeat = self.faults.take(("repeat_page",), req.method, rel)
        if repeat is not None:
            query = [(k, v) for k, v in req.query if k != "page[number]"]
            req = SandboxRequest(
                req.method, req.path, [*query, ("page[number]", str(repeat.page_number))], dict(req.headers), req.body
            )
        allowed = []
        for method, pattern, view in self._routes:
            match = pattern.fullmatch(rel)
            if match is None:
                continue
            if method != req.method:
                allowed.append(method)
                continue
            if method == "POST" and req.header("idempotency-key") is not None:
                return self._idempotent(req, rel, functools.partial(view, req, **match.groupdict()))
            return view(req, **match.groupdict())
        if allowed:
            raise ApiError(
                405,
                problem(E_BAD_REQUEST, f"{req.method} is not supported on {rel}."),
                {"allow": ", ".join(sorted(set(allowed)))},
            )
        raise ApiError(404, problem(E_NOT_FOUND, "The requested resource or URL could not be found."))

    def _build_routes(self) -> list[Route]:
        table = [
            ("GET", "/access_ip_address", self._list_access_ips),
            ("POST", "/access_ip_address", self._create_access_ip),
            ("GET", "/access_ip_address/(?P<id>[^/]+)", self._get_access_ip),
            ("DELETE", "/access_ip_address/(?P<id>[^/]+)", self._delete_access_ip),
            ("GET", "/addresses", self._list_addresses),
            ("POST", "/addresses", self._create_address),
            ("POST", "/addresses/actions/validate", self._validate_address),
            ("GET", "/addresses/(?P<id>[^/]+)", self._get_address),
            ("DELETE", "/addresses/(?P<id>[^/]+)", self._delete_address),
            ("POST", "/addresses/(?P<id>[^/]+)/actions/accept_suggestions", self._accept_suggestions),
            ("GET", "/authentication_providers", self._list_providers),
            ("POST", "/authentication_providers", self._create_provider),
            ("GET", "/authentication_providers/(?P<id>[^/]+)", self._get_provider),
            ("PATCH", "/authentication_providers/(?P<id>[^/]+)", self._update_provider),
            ("DELETE", "/authentication_providers/(?P<id>[^/]+)", self._delete_provider),
            ("GET", "/billing_groups", self._list_billing_groups),
            ("POST", "/billing_groups", self._create_billing_group),
            ("GET", "/billing_groups/(?P<id>[^/]+)", self._get_billing_group),
            ("PATCH", "/billing_groups/(?P<id>[^/]+)", self._update_billing_group),
            ("DELETE", "/billing_groups/(?P<id>[^/]+)", self._delete_billing_group),
            ("GET", "/integration_secrets", self._list_secrets),
            ("POST", "/integration_secrets", self._create_secret),
            ("DELETE", "/integration_secrets/(?P<id>[^/]+)", self._delete_secret),
            ("GET", "/telephony_credentials", self._list_credentials),
            ("POST", "/telephony_credentials/(?P<id>[^/]+)/token", self._create_token),
        ]
        return [(method, re.compile(pattern), view) for method, pattern, view in table]

    # -- idempotency -----------------------------------------------------------------------------

    def _idempotent(self, req: SandboxRequest, rel: str, run: Callable[[], SandboxResponse]) -> SandboxResponse:
        key = req.header("idempotency-key") or ""
        if not _IDEMPOTENCY_KEY.match(key):
            raise ApiError(
                400,
                problem(
                    E_BAD_REQUEST,
                    "The Idempotency-Key header must be 1 to 255 letters, digits, '-', '_' or ':'.",
                    parameter="Idempotency-Key",
                ),
            )
        records: dict[str, Any] = self.state.setdefault("idempotency", {})
        now = self.clock()
        for stale in [k for k, r in records.items() if r["expires"] <= now]:
            del records[stale]
        scope = hashlib.sha256(f"{self.api_key}\n{key}\n{req.method}\n{rel}".encode()).hexdigest()
        fingerprint = hashlib.sha256(req.query_string.encode() + b"\n" + req.body).hexdigest()
        record = records.get(scope)
        if record is not None:
            if record["fingerprint"] != fingerprint:
                raise ApiError(
                    422,
                    problem(
                        E_BAD_REQUEST,
                        "This Idempotency-Key was already used with a different request "
                        "(query or body); use a new key for a new request.",
                        parameter="Idempotency-Key",
                    ),
                )
            headers = dict(record["headers"])
            headers["idempotent-replayed"] = "true"
            return SandboxResponse(record["status"], headers, record["body"].encode("utf-8"))
        response = run()
        if 200 <= response.status < 300:  # only successful answers are replayed
            records[scope] = {
                "fingerprint": fingerprint,
                "status": response.status,
                "expires": now + IDEMPOTENCY_TTL,
                "headers": {k: v for k, v in response.headers.items() if k == "content-type"},
                "body": response.body.decode("utf-8"),
            }
            self._save()
        return response

    # -- control endpoints (/_sandbox) ------------------------------------------------------------

    def _control(self, req: SandboxRequest, sub: str) -> SandboxResponse:
        if sub == "/faults" and req.method == "POST":
            try:
                spec = req.json()
            except BodyError as exc:
                raise ApiError(400, problem(E_INVALID_JSON, str(exc))) from None
            specs = spec if isinstance(spec, list) else [spec]
            try:
                added = [self.faults.add(s) for s in specs]
            except (TypeError, ValueError, AttributeError) as exc:
                raise ApiError(422, problem(E_BAD_REQUEST, f"invalid fault: {exc}")) from None
            return SandboxResponse.json_response(201, {"data": [f.describe() for f in added]})
        if sub == "/faults" and req.method == "GET":
            return SandboxResponse.json_response(200, {"data": [f.describe() for f in self.faults.pending()]})
        if sub == "/faults" and req.method == "DELETE":
            self.faults.clear()
            return SandboxResponse.empty(204)
        if sub == "/reset" and req.method == "POST":
            self.reset()
            return SandboxResponse.json_response(200, {"data": {"reset": True, "seeded": self.seed_data}})
        raise ApiError(404, problem(E_NOT_FOUND, "Unknown sandbox control endpoint."))

    # -- shared pieces ---------------------------------------------------------------------------

    @staticmethod
    def _body(req: SandboxRequest) -> dict[str, Any]:
        """The JSON object body; an empty body is {}. Malformed JSON -> 400 (code 10023)."""
        if not req.body.strip():
            return {}
        media = req.content_type
        if media and media != "application/json" and not media.endswith("+json"):
            raise ApiError(
                415, problem(E_MEDIA_TYPE, f"Content-Type {media!r} is not supported; send application/json.")
            )
        try:
            body = req.json()
        except BodyError as exc:
            raise ApiError(400, problem(E_INVALID_JSON, f"The supplied JSON was invalid: {exc}.")) from None
        if not isinstance(body, dict):
            raise ApiError(400, problem(E_BAD_REQUEST, "The request body must be a JSON object."))
        return body

    @staticmethod
    def _find(items: list[dict[str, Any]], id: str, what: str) -> dict[str, Any]:
        for record in items:
            if record["id"] == id:
                return record
        raise ApiError(404, problem(E_NOT_FOUND, f"No {what} with id {id!r} was found.", pointer="/id"))

    @staticmethod
    def _check(errors: list[dict[str, Any]]) -> None:
        if errors:
            raise ApiError(422, errors)

    # -- access IP addresses -----------------------------------------------------------------------

    def _sync_access_ips(self) -> None:
        """Pending access IPs created through the API turn "added" ACCESS_IP_SYNC_SECONDS later."""
        now = self.clock()
        changed = False
        for record in self.state["access_ips"]:
            due = record.get("_sync_at")
            if due is not None and now >= due:
                record["status"] = "added"
                record["updated_at"] = _iso(due)
                del record["_sync_at"]
                changed = True
        if changed:
            self._save()

    def _list_access_ips(self, req: SandboxRequest) -> SandboxResponse:
        self._sync_access_ips()
        query = req.query_dict
        items = self.state["access_ips"]
        source = query.get("filter[ip_source]")
        if source is not None:
            items = [r for r in items if r["source"] == source]
        ip_filter = query.get("filter[ip_address]")
        if ip_filter is not None:
            wanted = _normalise_ip(ip_filter) or ip_filter.strip()
            items = [r for r in items if r["ip_address"] == wanted]
        for name, value in query.items():
            if not name.startswith("filter[created_at]"):
                continue
            op = name[len("filter[created_at]") :]
            compare = {
                "": lambda a, b: a == b,
                "[gt]": lambda a, b: a > b,
                "[gte]": lambda a, b: a >= b,
                "[lt]": lambda a, b: a < b,
                "[lte]": lambda a, b: a <= b,
            }.get(op)
            if compare is None:
                detail = "filter[created_at] takes a date-time, or [gt], [gte], [lt] or [lte]."
                raise ApiError(422, problem(E_BAD_REQUEST, detail, parameter=name))
            try:
                bound = _parse_dt(value)
            except ValueError:
                detail = f"{name} must be an ISO 8601 date-time, got {value!r}."
                raise ApiError(422, problem(E_BAD_REQUEST, detail, parameter=name)) from None
            items = [r for r in items if compare(_parse_dt(r["created_at"]), bound)]
        return SandboxResponse.json_response(200, _paginate(_newest_first(items), req, 422))

    def _create_access_ip(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        errors: list[dict[str, Any]] = []
        raw_ip = _require_str(body, "ip_address", errors, required=True)
        description = _require_str(body, "description", errors, required=False)
        ip = None
        if raw_ip is not None:
            ip = _normalise_ip(raw_ip)
            if ip is None:
                errors.append(
                    problem(
                        E_BAD_REQUEST, f"{raw_ip!r} is not an IPv4/IPv6 address or CIDR block.", pointer="/ip_address"
                    )
                )
            elif any(r["ip_address"] == ip for r in self.state["access_ips"]):
                errors.append(
                    problem(E_DUPLICATE, f"The IP address {ip} is already on the access list.", pointer="/ip_address")
                )
        self._check(errors)
        now = self.clock()
        record = {
            "id": self._new_id(),
            "ip_address": ip,
            "source": "api",
            "status": "pending",
            "description": description or "",
            "user_id": self.state["user_id"],
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "_sync_at": now + ACCESS_IP_SYNC_SECONDS,
        }
        self.state["access_ips"].append(record)
        self._save()
        return SandboxResponse.json_response(200, _public(record))  # bare object, and 200, as the spec says

    def _get_access_ip(self, req: SandboxRequest, id: str) -> SandboxResponse:
        self._sync_access_ips()
        return SandboxResponse.json_response(
            200, _public(self._find(self.state["access_ips"], id, "access IP address"))
        )

    def _delete_access_ip(self, req: SandboxRequest, id: str) -> SandboxResponse:
        self._sync_access_ips()
        record = self._find(self.state["access_ips"], id, "access IP address")
        self.state["access_ips"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, _public(record))

    # -- addresses -------------------------------------------------------------------------------

    ADDRESS_SORTS = ("created_at", "first_name", "last_name", "business_name", "street_address")
    ADDRESS_STRINGS = (
        "administrative_area",
        "borough",
        "business_name",
        "country_code",
        "customer_reference",
        "extended_address",
        "first_name",
        "last_name",
        "locality",
        "neighborhood",
        "phone_number",
        "postal_code",
        "street_address",
    )
    ADDRESS_REQUIRED = ("first_name", "last_name", "business_name", "street_address", "locality", "country_code")

    def _list_addresses(self, req: SandboxRequest) -> SandboxResponse:
        query = req.query_dict
        items = list(self.state["addresses"])
        plain = query.get("filter[customer_reference]")
        if plain is not None:
            items = [r for r in items if plain.casefold() in r["customer_reference"].casefold()]
        eq = query.get("filter[customer_reference][eq]")
        if eq is not None:
            items = [r for r in items if r["customer_reference"] == eq]
        contains = query.get("filter[customer_reference][contains]")
        if contains is not None:
            items = [r for r in items if contains.casefold() in r["customer_reference"].casefold()]
        street = query.get("filter[street_address][contains]")
        if street is not None:
            if len(street.strip()) < 3:
                raise ApiError(
                    400,
                    problem(
                        E_BAD_REQUEST,
                        "filter[street_address][contains] needs at least 3 characters.",
                        parameter="filter[street_address][contains]",
                    ),
                )
            items = [r for r in items if street.casefold() in r["street_address"].casefold()]
        emergency = _bool_param(req, "filter[used_as_emergency]", 400)
        if emergency is not None:
            items = [r for r in items if r["_used_as_emergency"] == emergency]
        book = _bool_param(req, "filter[address_book][eq]", 400)
        if book is not None:
            items = [r for r in items if r["address_book"] == book]
        sort = query.get("sort")
        if sort is None or sort == "":
            items = _newest_first(items)  # documented default: created_at, descending
        elif sort.lstrip("-") in self.ADDRESS_SORTS and sort.count("-") <= 1:
            items = _sorted(items, sort)
        else:
            raise ApiError(
                400,
                problem(
                    E_BAD_REQUEST,
                    f"sort must be one of {', '.join(self.ADDRESS_SORTS)}, optionally prefixed with '-', got {sort!r}.",
                    parameter="sort",
                ),
            )
        return SandboxResponse.json_response(200, _paginate(items, req, 400))

    def _address_errors(
        self, body: Mapping[str, Any], required: tuple[str, ...]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        errors: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        for name in self.ADDRESS_STRINGS:
            value = _require_str(body, name, errors, required=name in required)
            if value is not None:
                values[name] = value
        country = values.get("country_code")
        if country is not None and country.upper() not in ISO_3166_ALPHA2:
            errors.append(
                problem(
                    E_BAD_REQUEST, f"{country!r} is not an ISO 3166-1 alpha-2 country code.", pointer="/country_code"
                )
            )
        phone = values.get("phone_number")
        if phone and not _E164.match(phone):
            errors.append(problem(E_E164, "The phone_number must be in +E.164 format.", pointer="/phone_number"))
        return values, errors

    def _create_address(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        values, errors = self._address_errors(body, self.ADDRESS_REQUIRED)
        address_book = _require_bool(body, "address_book", errors)
        validate = _require_bool(body, "validate_address", errors)
        self._check(errors)
        validate = True if validate is None else validate
        suggestion = None
        if validate:
            result = validate_address_fields(values)
            if result["result"] == "invalid":
                raise ApiError(
                    422,
                    [
                        problem((e["code"], e["title"]), e["description"], pointer=e["source"]["pointer"])
                        for e in result["errors"]
                    ],
                )
            changes = {k: v for k, v in result["suggested"].items() if values.get(k, "") != v}
            if changes:
                suggestion = {"state": "pending", "fields": changes}
        next_id = int(self.state["next_address_id"])
        self.state["next_address_id"] = str(next_id + 4_194_304_000)
        now = self._now()
        record: dict[str, Any] = {"id": str(next_id), "record_type": "address"}
        record.update({name: values.get(name, "") for name in self.ADDRESS_STRINGS})
        record.update(
            {
                "address_book": True if address_book is None else address_book,
                "validate_address": validate,
                "created_at": now,
                "updated_at": now,
                "_location_id": self._new_id(),
                "_used_as_emergency": False,
            }
        )
        if suggestion:
            record["_suggestion"] = suggestion
        self.state["addresses"].append(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _validate_address(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        values, errors = self._address_errors(
            {
                k: body.get(k)
                for k in (
                    "country_code",
                    "street_address",
                    "postal_code",
                    "administrative_area",
                    "extended_address",
                    "locality",
                )
            },
            ("country_code", "street_address", "postal_code"),
        )
        self._check(errors)
        return SandboxResponse.json_response(200, {"data": validate_address_fields(values)})

    def _get_address(self, req: SandboxRequest, id: str) -> SandboxResponse:
        return SandboxResponse.json_response(200, {"data": _public(self._find(self.state["addresses"], id, "address"))})

    def _delete_address(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["addresses"], id, "address")
        if record["_used_as_emergency"]:
            raise ApiError(
                422,
                problem(
                    E_IN_USE,
                    "The address is the emergency address of at least one active "
                    "phone number; remove it from those numbers first.",
                    pointer="/id",
                ),
            )
        self.state["addresses"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _accept_suggestions(self, req: SandboxRequest, id: str) -> SandboxResponse:
        def not_found(detail: str) -> ApiError:
            return ApiError(404, problem(E_NOT_FOUND, detail, pointer="/id"))

        body = self._body(req)
        record = next((r for r in self.state["addresses"] if id in (r["_location_id"], r["id"])), None)
        if record is None:
            raise not_found("Address not found or not accessible by the user.")
        if body.get("id") is not None and str(body["id"]) != record["id"]:
            raise not_found(f"Address {body['id']!r} does not belong to location {id}.")
        suggestion = record.get("_suggestion")
        if suggestion is None:
            raise not_found("There is no address suggestion to accept for this address.")
        status = 200
        if suggestion["state"] != "accepted":
            record.update(suggestion["fields"])
            record["updated_at"] = self._now()
            suggestion["state"] = "accepted"
            self._save()
            status = 202
        data = {"id": record["_location_id"], "accepted": True, "record_type": "address_suggestion"}
        return SandboxResponse.json_response(status, {"data": data})

    # -- authentication providers ------------------------------------------------------------------

    PROVIDER_SORTS = ("name", "short_name", "active", "created_at", "updated_at")

    def _list_providers(self, req: SandboxRequest) -> SandboxResponse:
        sort = req.query_dict.get("sort") or "-created_at"
        if sort.lstrip("-") not in self.PROVIDER_SORTS or sort.count("-") > 1:
            allowed = ", ".join(f"{s}, -{s}" for s in self.PROVIDER_SORTS)
            raise ApiError(
                400, problem(E_BAD_REQUEST, f"sort must be one of {allowed}; got {sort!r}.", parameter="sort")
            )
        items = _sorted(self.state["auth_providers"], sort)
        return SandboxResponse.json_response(200, _paginate(items, req, 400))

    def _provider_errors(
        self, body: Mapping[str, Any], *, creating: bool, record_id: str | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        errors: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        name = _require_str(body, "name", errors, required=creating)
        if name is not None:
            if not name.strip():
                errors.append(problem(E_BAD_REQUEST, "The 'name' parameter must not be blank.", pointer="/name"))
            values["name"] = name
        short = _require_str(body, "short_name", errors, required=creating)
        if short is not None:
            if not _SHORT_NAME.match(short):
                detail = (
                    "The 'short_name' must be URL-safe: letters, digits, '-' and '_', "
                    "starting with a letter or digit, at most 63 characters."
                )
                errors.append(problem(E_BAD_REQUEST, detail, pointer="/short_name"))
            elif any(
                r["short_name"].casefold() == short.casefold() and r["id"] != record_id
                for r in self.state["auth_providers"]
            ):
                errors.append(
                    problem(E_DUPLICATE, f"The short_name {short!r} is already taken.", pointer="/short_name")
                )
            values["short_name"] = short
        active = _require_bool(body, "active", errors)
        if active is not None:
            values["active"] = active
        settings_url = _require_str(body, "settings_url", errors, required=False)
        if settings_url is not None:
            if not _is_http_url(settings_url):
                errors.append(
                    problem(
                        E_INVALID_URL, "The 'settings_url' must be an absolute http(s) URL.", pointer="/settings_url"
                    )
                )
            values["settings_url"] = settings_url
        settings = body.get("settings")
        if settings is None:
            if creating:
                errors.append(problem(E_MISSING, "The 'settings' parameter is required.", pointer="/settings"))
        elif not isinstance(settings, dict):
            errors.append(problem(E_BAD_REQUEST, "The 'settings' parameter must be an object.", pointer="/settings"))
        else:
            clean: dict[str, Any] = {}
            # Create and update share one `settings` schema: whenever settings are sent, all three
            # IdP fields are required, and they replace the previous settings as a whole.
            for key in ("idp_entity_id", "idp_sso_target_url", "idp_cert_fingerprint"):
                value = _require_str(settings, key, errors, required=True, pointer_prefix="/settings")
                if value is not None:
                    clean[key] = value
            if "idp_entity_id" in clean and not _is_uri(clean["idp_entity_id"]):
                errors.append(
                    problem(
                        E_INVALID_URL, "The 'idp_entity_id' must be an absolute URI.", pointer="/settings/idp_entity_id"
                    )
                )
            if "idp_sso_target_url" in clean and not _is_http_url(clean["idp_sso_target_url"]):
                errors.append(
                    problem(
                        E_INVALID_URL,
                        "The 'idp_sso_target_url' must be an absolute http(s) URL.",
                        pointer="/settings/idp_sso_target_url",
                    )
                )
            if "idp_cert_fingerprint" in clean and not _FINGERPRINT.match(clean["idp_cert_fingerprint"]):
                errors.append(
                    problem(
                        E_BAD_REQUEST,
                        "The 'idp_cert_fingerprint' must be hexadecimal bytes, optionally separated by ':'.",
                        pointer="/settings/idp_cert_fingerprint",
                    )
                )
            algorithm = settings.get("idp_cert_fingerprint_algorithm")
            if algorithm is not None:
                if algorithm not in _FINGERPRINT_BYTES:
                    detail = "The 'idp_cert_fingerprint_algorithm' must be one of sha1, sha256, sha384, sha512."
                    errors.append(problem(E_BAD_REQUEST, detail, pointer="/settings/idp_cert_fingerprint_algorithm"))
                else:
                    clean["idp_cert_fingerprint_algorithm"] = algorithm
            values["settings"] = clean
        return values, errors

    def _create_provider(self, req: SandboxRequest) -> SandboxResponse:
        values, errors = self._provider_errors(self._body(req), creating=True)
        self._check(errors)
        now = self._now()
        active = values.get("active", True)
        record = _provider_record(
            id=self._new_id(),
            organization_id=self.state["organization_id"],
            name=values["name"],
            short_name=values["short_name"],
            active=active,
            settings=values["settings"],
            created_at=now,
            updated_at=now,
            activated_at=now if active else None,
        )
        self.state["auth_providers"].append(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _get_provider(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["auth_providers"], id, "authentication provider")
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _update_provider(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["auth_providers"], id, "authentication provider")
        values, errors = self._provider_errors(self._body(req), creating=False, record_id=id)
        self._check(errors)
        now = self._now()
        for key in ("name", "short_name"):
            if key in values:
                record[key] = values[key]
        if "active" in values:
            if values["active"] and not record["active"]:
                record["activated_at"] = now
            record["active"] = values["active"]
        _set_provider_settings(record, values.get("settings"))  # also re-derives URLs from short_name
        record["updated_at"] = now
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _delete_provider(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["auth_providers"], id, "authentication provider")
        self.state["auth_providers"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    # -- billing groups --------------------------------------------------------------------------

    def _billing_group(self, id: str) -> dict[str, Any]:
        if not _is_uuid(id):
            raise ApiError(
                422, problem(E_INVALID_ID, f"The billing group id must be a UUID, got {id!r}.", parameter="id")
            )
        return self._find(self.state["billing_groups"], id, "billing group")

    def _billing_name(self, req: SandboxRequest) -> str | None:
        errors: list[dict[str, Any]] = []
        name = _require_str(self._body(req), "name", errors, required=False)
        self._check(errors)
        return name

    def _list_billing_groups(self, req: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json_response(200, _paginate(_newest_first(self.state["billing_groups"]), req, 400))

    def _create_billing_group(self, req: SandboxRequest) -> SandboxResponse:
        name = self._billing_name(req)
        now = self._now()
        record = {
            "id": self._new_id(),
            "record_type": "billing_group",
            "name": name or "",
            "organization_id": self.state["organization_id"],
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
            "_in_use": False,
        }
        self.state["billing_groups"].append(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _get_billing_group(self, req: SandboxRequest, id: str) -> SandboxResponse:
        return SandboxResponse.json_response(200, {"data": _public(self._billing_group(id))})

    def _update_billing_group(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._billing_group(id)
        name = self._billing_name(req)
        if name is not None:
            record["name"] = name
        record["updated_at"] = self._now()
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    def _delete_billing_group(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._billing_group(id)
        if record["_in_use"]:
            raise ApiError(
                409,
                problem(
                    E_IN_USE,
                    "The billing group can not be removed as it is still in use by phone numbers or connections.",
                    pointer="/id",
                ),
            )
        self.state["billing_groups"].remove(record)
        now = self._now()
        record["deleted_at"] = now
        record["updated_at"] = now
        self._save()
        return SandboxResponse.json_response(200, {"data": _public(record)})

    # -- integration secrets ---------------------------------------------------------------------

    def _list_secrets(self, req: SandboxRequest) -> SandboxResponse:
        kind = req.query_dict.get("filter[type]")
        items = self.state["integration_secrets"]
        if kind is not None:
            if kind not in ("bearer", "basic"):
                raise ApiError(
                    400,
                    problem(
                        E_BAD_REQUEST,
                        f"filter[type] must be 'bearer' or 'basic', got {kind!r}.",
                        parameter="filter[type]",
                    ),
                )
            items = [r for r in items if r["_secret"]["type"] == kind]
        return SandboxResponse.json_response(200, _paginate(_newest_first(items), req, 400))

    def _create_secret(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        errors: list[dict[str, Any]] = []
        identifier = _require_str(body, "identifier", errors, required=True)
        if identifier is not None:
            if not _IDENTIFIER.match(identifier):
                errors.append(
                    problem(
                        E_BAD_REQUEST,
                        "The 'identifier' may hold letters, digits, '.', '-' and '_' only.",
                        pointer="/identifier",
                    )
                )
            elif any(r["identifier"] == identifier for r in self.state["integration_secrets"]):
                errors.append(
                    problem(
                        E_DUPLICATE, f"A secret with identifier {identifier!r} already exists.", pointer="/identifier"
                    )
                )
        kind = body.get("type")
        secret: dict[str, Any] = {}
        if kind is None:
            errors.append(problem(E_MISSING, "The 'type' parameter is required.", pointer="/type"))
        elif kind not in ("bearer", "basic"):
            errors.append(problem(E_BAD_REQUEST, "The 'type' must be 'bearer' or 'basic'.", pointer="/type"))
        else:
            needed = ("token",) if kind == "bearer" else ("username", "password")
            secret["type"] = kind
            for name in needed:  # the other type's fields are ignored, as documented
                value = _require_str(body, name, errors, required=True)
                if value is not None:
                    secret[name] = value
        self._check(errors)
        now = self._now()
        record = {
            "id": self._new_id(),
            "record_type": "integration_secret",
            "identifier": identifier,
            "created_at": now,
            "updated_at": now,
            "_secret": secret,
        }
        self.state["integration_secrets"].append(record)
        self._save()
        return SandboxResponse.json_response(201, {"data": _public(record)})

    def _delete_secret(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["integration_secrets"], id, "integration secret")
        self.state["integration_secrets"].remove(record)
        self._save()
        return SandboxResponse.empty(204)

    # -- telephony credentials -------------------------------------------------------------------

    def _credential_view(self, record: dict[str, Any]) -> dict[str, Any]:
        view = _public(record)
        expires = record.get("expires_at")
        view["expired"] = bool(record.get("expired")) or bool(
            expires and _parse_dt(expires).timestamp() <= self.clock()
        )
        return view

    def _list_credentials(self, req: SandboxRequest) -> SandboxResponse:
        query = req.query_dict
        items = [self._credential_view(r) for r in _newest_first(self.state["credentials"])]
        for name in ("tag", "name", "resource_id", "sip_username"):
            value = query.get(f"filter[{name}]")
            if value is not None:
                items = [r for r in items if r[name] == value]
        status = query.get("filter[status]")
        if status is not None:
            if status not in ("active", "expired"):
                raise ApiError(
                    400,
                    problem(
                        E_BAD_REQUEST,
                        f"filter[status] must be 'active' or 'expired', got {status!r}.",
                        parameter="filter[status]",
                    ),
                )
            items = [r for r in items if r["expired"] == (status == "expired")]
        return SandboxResponse.json_response(200, _paginate(items, req, 400))

    def _create_token(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["credentials"], id, "telephony credential")
        if self._credential_view(record)["expired"]:
            raise ApiError(
                422,
                problem(
                    E_BAD_REQUEST,
                    "The credential has expired; access tokens can only be created for active credentials.",
                    parameter="id",
                ),
            )
        now = int(self.clock())
        claims = {
            "aud": "telnyx_telephony",
            "iss": "telnyx_telephony",
            "sub": record["id"],
            "iat": now,
            "nbf": now - 1,
            "exp": now + TOKEN_LIFETIME,
            "jti": self._new_id(),
            "typ": "access",
            "credential_id": record["id"],
            "sip_username": record["sip_username"],
        }
        self._save()  # the token's jti used the id counter
        return SandboxResponse.text_response(201, make_token(claims))


def _normalise_ip(value: str) -> str | None:
    """The canonical text of an IP address or (strict) CIDR block, or None when it is neither."""
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        return None


__all__ = [
    "DEFAULT_TELNYX_API_KEY",
    "IN_PROCESS_BASE_URL",
    "JWT_SECRET",
    "ApiError",
    "Fault",
    "FaultInjector",
    "TelnyxSandbox",
    "build_seed",
    "decode_token",
    "make_token",
    "problem",
    "validate_address_fields",
]
