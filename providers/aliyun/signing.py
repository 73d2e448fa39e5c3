"""Alibaba Cloud request signing: ACS3-HMAC-SHA256 (V3) and the legacy RPC "signature 1.0".

Pure functions, product-neutral (they take an action, a version, parameters and a method), used
both to sign (providers/aliyun/rpc.py) and to verify (the sandbox emulators). Nothing here reads a
clock or a random source unless it is asked to fill in a missing timestamp or nonce.

V3, ACS3-HMAC-SHA256 (what the official Python runtime uses by default)::

    CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n HexSHA256(body)
    StringToSign     = "ACS3-HMAC-SHA256" \\n HexSHA256(CanonicalRequest)
    Signature        = Hex(HMAC-SHA256(AccessKeySecret, StringToSign))
    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=<hex>

- the canonical query sorts the parameters by name and joins `name=value` with `&`, both
  percent-encoded (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are, space is %20);
- each canonical header is `lower-case name:trimmed value\\n`; repeated names join their
  (sorted) values with ","; SignedHeaders are the sorted names joined with ";";
- what we sign: host, every x-acs-* header and, when there is a body, content-type.

RPC signature version 1.0, HMAC-SHA1 (the SDK's `signature_algorithm='v2'`)::

    CanonicalizedQueryString = sorted pct(name)=pct(value) joined with "&" (Signature excluded)
    StringToSign             = METHOD & pct("/") & pct(CanonicalizedQueryString)
    Signature                = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))

where the parameters are the query and, for a form POST, the form fields too; `Signature` is then
added to the query (percent-encoded: base64 holds "+", "/" and "=").

Both are checked against the public documentation examples in tests/unit/test_aliyun_signing.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from providers.signing import sha256_hex as sha256_hex  # part of this scheme's API too
from providers.signing import utc_instant

ACS3_HMAC_SHA256 = "ACS3-HMAC-SHA256"
RPC_SIGNATURE_METHOD = "HMAC-SHA1"
RPC_SIGNATURE_VERSION = "1.0"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # both schemes: ISO 8601, UTC, whole seconds
# How far a request's timestamp may be from the server's clock, either way.
MAX_CLOCK_SKEW_SECONDS = 15 * 60

# The RPC 1.0 common parameters, which every request carries for the gateway; the rest are the
# action's own (what a client means by "the parameters it sent", and what the gateway hands on).
RPC_COMMON = frozenset(
    {
        "Action",
        "Format",
        "Version",
        "Timestamp",
        "SignatureNonce",
        "SignatureMethod",
        "SignatureVersion",
        "AccessKeyId",
        "SecurityToken",
        "Signature",
        "RegionId",
    }
)

# Parameters may be given as a mapping or as (name, value) pairs (a repeated name is kept).
Params = Mapping[str, str | None] | Iterable[tuple[str, str | None]]


# ---------------------------------------------------------------------------------------------
# Shared pieces


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of the UTF-8 bytes: A-Z a-z 0-9 - _ . ~ unchanged, everything else %XX
    (upper-case hex); a space is %20, never "+"; "*" is %2A."""
    return quote(value, safe="~", encoding="utf-8")


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(k), str(v)) for k, v in items if v is not None]


def encode_query(params: Params) -> str:
    """`params` as a query string with `percent_encode` on names and values, in the order given
    (None values dropped). What we send is exactly what we signed."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in _pairs(params))


def timestamp(when: datetime | float) -> str:
    """A signing timestamp: `yyyy-MM-ddTHH:mm:ssZ` in UTC (an aware datetime or epoch seconds)."""
    return utc_instant(when, "a signing timestamp").strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: str) -> datetime:
    """The inverse of `timestamp` (also accepting fractional seconds, as some SDKs send);
    raises ValueError on anything else."""
    text = (value or "").strip()
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z", text)
    if not match:
        raise ValueError(f"not an ISO 8601 UTC timestamp (yyyy-MM-ddTHH:mm:ssZ): {value!r}")
    parsed = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    if match.group(2):
        parsed = parsed.replace(microsecond=int(match.group(2)[1:].ljust(6, "0")))
    return parsed


def new_nonce() -> str:
    """A fresh signature nonce: 32 random hex digits (the SDK's shape)."""
    return _secrets.token_hex(16)


# ---------------------------------------------------------------------------------------------
# V3: ACS3-HMAC-SHA256


def canonical_query_string(params: Params) -> str:
    """V3 CanonicalQueryString: pairs sorted by name (then value), both percent-encoded.

    The documentation encodes names and values; the official Python SDK encodes only values.
    The two agree for every parameter name Alibaba uses (ASCII letters, digits and dots)."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in _pairs(params))
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], signed: Iterable[str] | None = None
) -> tuple[str, str]:
    """(CanonicalHeaders, SignedHeaders) for the headers named in `signed` (all when None).

    Names are lower-cased, values trimmed; a repeated name joins its sorted values with ",".
    A signed name missing from `headers` raises KeyError (the request is incompletely signed)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        if value is None:
            continue
        grouped.setdefault(name.strip().lower(), []).append(str(value).strip())
    names = sorted(grouped) if signed is None else sorted({n.strip().lower() for n in signed if n.strip()})
    lines = []
    for name in names:
        if name not in grouped:
            raise KeyError(name)
        lines.append(f"{name}:{','.join(sorted(grouped[name]))}\n")
    return "".join(lines), ";".join(names)


def v3_canonical_request(
    method: str,
    path: str,
    query: Params,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    signed_headers: Iterable[str] | None,
    payload_hash: str,
) -> str:
    """The V3 CanonicalRequest. `path` is the URI path as sent ("/" for RPC-style APIs)."""
    canonical, signed = canonical_headers(headers, signed_headers)
    uri = quote(path or "/", safe="/~", encoding="utf-8")
    return "\n".join([method.upper(), uri, canonical_query_string(query), canonical, signed, payload_hash])


def v3_string_to_sign(canonical_request: str, algorithm: str = ACS3_HMAC_SHA256) -> str:
    return f"{algorithm}\n{sha256_hex(canonical_request.encode('utf-8'))}"


def v3_signature(access_key_secret: str, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 keyed with the secret itself (no "&" suffix, unlike RPC 1.0)."""
    return hmac.new(access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v3_authorization(access_key_id: str, signed_headers: str, signature: str, algorithm: str = ACS3_HMAC_SHA256) -> str:
    return f"{algorithm} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"


@dataclass(frozen=True)
class Acs3Authorization:
    """A parsed V3 Authorization header."""

    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_v3_authorization(value: str) -> Acs3Authorization:
    """Parse `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`; ValueError if malformed."""
    algorithm, _, rest = (value or "").strip().partition(" ")
    if not algorithm.startswith("ACS3-") or not rest:
        raise ValueError("not an ACS3 Authorization header")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if not sep:
            raise ValueError(f"malformed Authorization field {part.strip()!r}")
        fields[name.strip()] = val.strip()
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not fields.get(n)]
    if missing:
        raise ValueError(f"Authorization lacks {', '.join(missing)}")
    signed = tuple(h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip())
    return Acs3Authorization(algorithm, fields["Credential"], signed, fields["Signature"])


def v3_headers_to_sign(headers: Mapping[str, str]) -> list[str]:
    """Which headers we sign: host, every x-acs-* header, and content-type when present."""
    names = {n.lower() for n in headers}
    return sorted(n for n in names if n == "host" or n.startswith("x-acs-") or n == "content-type")


def sign_v3(
    *,
    method: str,
    host: str,
    action: str,
    version: str,
    access_key_id: str,
    access_key_secret: str,
    query: Params = (),
    body: bytes = b"",
    content_type: str | None = None,
    path: str = "/",
    date: datetime | float | str | None = None,
    nonce: str | None = None,
    security_token: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers (lower-case names) that make a request V3-signed, Authorization included.

    Send `query` exactly as given (see `encode_query`), and `body` byte for byte. `date` defaults
    to now and `nonce` to a fresh one; pass both to reproduce a known signature. Extra headers
    named x-acs-* are signed too; others (user-agent, accept) are sent unsigned."""
    if date is None:
        date = datetime.now(UTC)
    headers: dict[str, str] = {k.lower(): str(v) for k, v in (extra_headers or {}).items()}
    headers.update(
        {
            "host": host,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": date if isinstance(date, str) else timestamp(date),
            "x-acs-signature-nonce": nonce or new_nonce(),
            "x-acs-content-sha256": sha256_hex(body),
        }
    )
    if body and content_type:
        headers["content-type"] = content_type
    if security_token:
        headers["x-acs-accesskey-id"] = access_key_id
        headers["x-acs-security-token"] = security_token
    signed = v3_headers_to_sign(headers)
    canonical = v3_canonical_request(method, path, query, headers, signed, headers["x-acs-content-sha256"])
    signature = v3_signature(access_key_secret, v3_string_to_sign(canonical))
    headers["authorization"] = v3_authorization(access_key_id, ";".join(signed), signature)
    return headers


# ---------------------------------------------------------------------------------------------
# RPC signature version 1.0: HMAC-SHA1


def rpc_canonicalized_query(params: Params) -> str:
    """All parameters but `Signature`, sorted by name (code point order), pct(name)=pct(value)."""
    pairs = sorted((k, v) for k, v in _pairs(params) if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def rpc_string_to_sign(method: str, params: Params) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(rpc_canonicalized_query(params))}"


def rpc_signature(access_key_secret: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA1 keyed with the secret plus "&"."""
    key = (access_key_secret + "&").encode("utf-8")
    return base64.b64encode(hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha1).digest()).decode("ascii")


def rpc_common_params(
    *,
    action: str,
    version: str,
    access_key_id: str,
    date: datetime | float | str | None = None,
    nonce: str | None = None,
    security_token: str | None = None,
    response_format: str = "json",
) -> dict[str, str]:
    """The common parameters of an RPC 1.0 request (everything but Signature), as the SDK sends
    them: Action, Format, Version, Timestamp, SignatureNonce, SignatureMethod, SignatureVersion,
    AccessKeyId (and SecurityToken for STS credentials)."""
    if date is None:
        date = datetime.now(UTC)
    common = {
        "Action": action,
        "Format": response_format,
        "Version": version,
        "Timestamp": date if isinstance(date, str) else timestamp(date),
        "SignatureNonce": nonce or new_nonce(),
        "SignatureMethod": RPC_SIGNATURE_METHOD,
        "SignatureVersion": RPC_SIGNATURE_VERSION,
        "AccessKeyId": access_key_id,
    }
    if security_token:
        common["SecurityToken"] = security_token
    return common


def sign_rpc(
    *,
    method: str,
    action: str,
    version: str,
    access_key_id: str,
    access_key_secret: str,
    params: Params = (),
    date: datetime | float | str | None = None,
    nonce: str | None = None,
    security_token: str | None = None,
    response_format: str = "json",
) -> list[tuple[str, str]]:
    """The full RPC 1.0 parameter list, `Signature` last: send it as the query (`encode_query`).

    `params` are the business parameters; for a form POST whose fields are signed but sent in
    the body, compute `rpc_string_to_sign` over query and form fields together instead."""
    pairs = _pairs(params) + list(
        rpc_common_params(
            action=action,
            version=version,
            access_key_id=access_key_id,
            date=date,
            nonce=nonce,
            security_token=security_token,
            response_format=response_format,
        ).items()
    )
    signature = rpc_signature(access_key_secret, rpc_string_to_sign(method, pairs))
    return [*pairs, ("Signature", signature)]


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


__all__ = [
    "ACS3_HMAC_SHA256",
    "EMPTY_BODY_SHA256",
    "MAX_CLOCK_SKEW_SECONDS",
    "RPC_SIGNATURE_METHOD",
    "RPC_SIGNATURE_VERSION",
    "Acs3Authorization",
    "Params",
    "canonical_headers",
    "canonical_query_string",
    "constant_time_equal",
    "encode_query",
    "new_nonce",
    "parse_timestamp",
    "parse_v3_authorization",
    "percent_encode",
    "rpc_canonicalized_query",
    "rpc_common_params",
    "rpc_signature",
    "rpc_string_to_sign",
    "sha256_hex",
    "sign_rpc",
    "sign_v3",
    "timestamp",
    "v3_authorization",
    "v3_canonical_request",
    "v3_headers_to_sign",
    "v3_signature",
    "v3_string_to_sign",
]
