"""Volcengine request signing ("HMAC-SHA256", the gateway's V4 scheme), as pure functions.

The same functions sign a request (the client) and check one (the sandbox), so both sides agree
by construction; known-answer tests pin them to the official SDK's output.

The scheme (docs/reference/huawei_volcengine.md, Part B.2):

1. ``X-Date`` is the UTC time as ``YYYYMMDDTHHMMSSZ``; the credential date is its first 8 chars.
2. ``X-Content-Sha256`` is the lowercase hex SHA-256 of the exact body bytes.
3. Signed headers are ``Content-Type``, ``Content-Md5``, ``Host`` and every ``X-*`` header,
   names lower-cased and sorted; a ``:80``/``:443`` port is dropped from Host.
4. Canonical request: method, URI, canonical query (pairs sorted by key, RFC 3986 encoded),
   ``name:value\\n`` lines, the signed-header list, and the body hash, joined by newlines.
5. String to sign: ``HMAC-SHA256``, X-Date, ``date/region/service/request``, and the hex
   SHA-256 of the canonical request.
6. The key is derived by chained HMACs over date, region, service and ``request``.
7. ``Authorization: HMAC-SHA256 Credential=AK/scope, SignedHeaders=..., Signature=...``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from providers.signing import sha256_hex as sha256_hex  # part of this scheme's API too
from providers.signing import utc_instant

ALGORITHM = "HMAC-SHA256"
SERVICE = "vms"
DEFAULT_REGION = "cn-north-1"
TERMINATOR = "request"
X_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
# Lifetime of a signature when the request carries no X-Expires (public-parameter docs).
DEFAULT_EXPIRES_SECONDS = 900

_ALWAYS_SIGNED = frozenset({"content-type", "content-md5", "host"})
_X_DATE = re.compile(r"^\d{8}T\d{6}Z$")
_AUTHORIZATION = re.compile(r"^(?P<algorithm>\S+)\s+(?P<rest>.*)$", re.DOTALL)


class SignatureFormatError(ValueError):
    """An Authorization header or X-Date that cannot be read; `part` says which piece."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part  # "authorization", "credential", "signature", "x-date"


@dataclass(frozen=True)
class Credentials:
    """What a request is signed with. The secret never appears in repr()."""

    access_key: str
    secret_key: str = field(repr=False)
    region: str = DEFAULT_REGION
    service: str = SERVICE
    session_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class ParsedAuthorization:
    """The pieces of an Authorization header."""

    algorithm: str
    access_key: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return credential_scope(self.date, self.region, self.service)


# ---------------------------------------------------------------------------------------------
# Pieces


def format_x_date(when: datetime | float) -> str:
    """X-Date for an aware datetime or a unix timestamp (a naive datetime is refused)."""
    return utc_instant(when, "X-Date").strftime(X_DATE_FORMAT)


def parse_x_date(value: str) -> datetime:
    """The aware UTC moment an X-Date names; SignatureFormatError if it is not one."""
    text = (value or "").strip()
    if not _X_DATE.match(text):
        raise SignatureFormatError(f"X-Date {value!r} is not of the form YYYYMMDDTHHMMSSZ", "x-date")
    try:
        return datetime.strptime(text, X_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureFormatError(f"X-Date {value!r} is not a valid date", "x-date") from None


def uri_encode(value: str) -> str:
    """Percent-encode everything but the RFC 3986 unreserved set (space becomes %20)."""
    return quote(value, safe="-_.~")


def canonical_query(query: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """Decoded query pairs, sorted by key (repeats keep their order), each side encoded, joined."""
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
    ordered = sorted(((str(k), str(v)) for k, v in pairs), key=lambda kv: kv[0])
    return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in ordered)


def canonical_uri(path: str) -> str:
    return quote(path or "/", safe="/-_.~")


def is_signed_header(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in _ALWAYS_SIGNED or lowered.startswith("x-")


def _normalise_host(value: str) -> str:
    """Host as signed: a default port (80, 443) is dropped, as the SDK does."""
    host, sep, port = value.rpartition(":")
    if sep and host and port in ("80", "443"):
        return host
    return value


def _lower_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k).lower(): str(v) for k, v in items}


def signed_header_names(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The lower-cased, sorted names of the headers that get signed."""
    return tuple(sorted(name for name in _lower_headers(headers) if is_signed_header(name)))


def canonical_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]], names: Iterable[str]) -> str:
    """`name:value\\n` for each signed header, in sorted order; a missing header is signed empty."""
    lowered = _lower_headers(headers)
    lines = []
    for name in sorted(n.lower() for n in names):
        value = lowered.get(name, "")
        if name == "host":
            value = _normalise_host(value)
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str] | Iterable[tuple[str, str]],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    signed_headers: Iterable[str],
    body_sha256: str,
) -> str:
    names = sorted(n.lower() for n in signed_headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers(headers, names),
            ";".join(names),
            body_sha256,
        ]
    )


def credential_scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/{TERMINATOR}"


def string_to_sign(x_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, x_date, scope, sha256_hex(canonical)])


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = secret_key.encode("utf-8")
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def signature(secret_key: str, x_date: str, region: str, service: str, canonical: str) -> str:
    date = x_date[:8]
    to_sign = string_to_sign(x_date, credential_scope(date, region, service), canonical)
    return hmac.new(signing_key(secret_key, date, region, service), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(access_key: str, scope: str, signed_headers: Iterable[str], sig: str) -> str:
    return f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(signed_headers)}, Signature={sig}"


def parse_authorization(value: str) -> ParsedAuthorization:
    """Read an Authorization header; SignatureFormatError says which part is wrong."""
    match = _AUTHORIZATION.match((value or "").strip())
    if match is None:
        raise SignatureFormatError("the Authorization header is empty or has no algorithm", "authorization")
    fields: dict[str, str] = {}
    for item in match.group("rest").split(","):
        name, sep, content = item.strip().partition("=")
        if not sep:
            raise SignatureFormatError(f"Authorization part {item.strip()!r} is not name=value", "authorization")
        fields[name.strip()] = content.strip()
    if "Credential" not in fields or "SignedHeaders" not in fields:
        raise SignatureFormatError("the Authorization header needs Credential and SignedHeaders", "authorization")
    if not fields.get("Signature"):
        raise SignatureFormatError("the Authorization header carries no Signature", "signature")
    parts = fields["Credential"].split("/")
    if len(parts) != 5 or not all(parts):
        raise SignatureFormatError("Credential must be AccessKey/YYYYMMDD/region/service/request", "credential")
    access_key, date, region, service, terminator = parts
    if not re.fullmatch(r"\d{8}", date) or terminator != TERMINATOR:
        raise SignatureFormatError("Credential must be AccessKey/YYYYMMDD/region/service/request", "credential")
    names = tuple(n.strip().lower() for n in fields["SignedHeaders"].split(";") if n.strip())
    if not names:
        raise SignatureFormatError("SignedHeaders is empty", "authorization")
    return ParsedAuthorization(
        algorithm=match.group("algorithm"),
        access_key=access_key,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=names,
        signature=fields["Signature"].lower(),
    )


# ---------------------------------------------------------------------------------------------
# Signing and checking


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that the signature covers, as sent or as received."""

    method: str
    path: str
    query: Mapping[str, str] | Iterable[tuple[str, str]]
    headers: Mapping[str, str] | Iterable[tuple[str, str]]
    body: bytes = b""


def sign(request: SignedRequest, credentials: Credentials, *, x_date: str) -> dict[str, str]:
    """The headers to add to `request` so the gateway accepts it: X-Date, X-Content-Sha256,
    X-Security-Token (with STS credentials only) and Authorization.

    `request.headers` are those the request will carry (at least Host; Content-Type for a body);
    every one of them that is signable is signed, together with the added X- headers.
    """
    parse_x_date(x_date)
    body_hash = sha256_hex(request.body)
    added = {"X-Date": x_date, "X-Content-Sha256": body_hash}
    if credentials.session_token:
        added["X-Security-Token"] = credentials.session_token
    merged = _lower_headers(request.headers)
    merged.update({k.lower(): v for k, v in added.items()})
    names = signed_header_names(merged)
    canonical = canonical_request(request.method, request.path, request.query, merged, names, body_hash)
    sig = signature(credentials.secret_key, x_date, credentials.region, credentials.service, canonical)
    scope = credential_scope(x_date[:8], credentials.region, credentials.service)
    added["Authorization"] = authorization_header(credentials.access_key, scope, names, sig)
    return added


def expected_signature(request: SignedRequest, auth: ParsedAuthorization, secret_key: str) -> str:
    """The signature a gateway computes for a received request: over the headers the client
    said it signed, and the hash of the body actually received (never the header's claim)."""
    lowered = _lower_headers(request.headers)
    x_date = lowered.get("x-date", "")
    body_hash = sha256_hex(request.body)
    canonical = canonical_request(request.method, request.path, request.query, lowered, auth.signed_headers, body_hash)
    return signature(secret_key, x_date, auth.region, auth.service, canonical)


def verify(request: SignedRequest, secret_key: str) -> bool:
    """True when the request's Authorization is a valid signature by `secret_key`.

    Checks signature only (not the access key, the clock or the scope's region): the sandbox
    does those one by one to answer with the gateway's distinct error codes.
    """
    lowered = _lower_headers(request.headers)
    try:
        auth = parse_authorization(lowered.get("authorization", ""))
        x_date = lowered.get("x-date", "")
        parse_x_date(x_date)
    except SignatureFormatError:
        return False
    if auth.algorithm != ALGORITHM or x_date[:8] != auth.date:
        return False
    return hmac.compare_digest(expected_signature(request, auth, secret_key), auth.signature)


__all__ = [
    "ALGORITHM",
    "DEFAULT_EXPIRES_SECONDS",
    "DEFAULT_REGION",
    "EMPTY_BODY_SHA256",
    "SERVICE",
    "Credentials",
    "ParsedAuthorization",
    "SignatureFormatError",
    "SignedRequest",
    "authorization_header",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "credential_scope",
    "expected_signature",
    "format_x_date",
    "is_signed_header",
    "parse_authorization",
    "parse_x_date",
    "sha256_hex",
    "sign",
    "signature",
    "signed_header_names",
    "signing_key",
    "string_to_sign",
    "uri_encode",
    "verify",
]
