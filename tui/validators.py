"""Field validators for create and edit forms.

Each takes the text typed and returns an error message, or None when the value is acceptable.
They run before anything is sent, so a bad value never reaches a provider. None of them raises,
whatever the string (tests/unit/test_validators_fuzz.py).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from providers.formats import ISO_3166_ALPHA2

Validator = Callable[[str], "str | None"]


_SHORT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
_FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2})+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def ip_or_cidr(value: str) -> str | None:
    value = value.strip()
    try:
        if "/" in value:
            ipaddress.ip_network(value, strict=True)
        else:
            ipaddress.ip_address(value)
    except ValueError as exc:
        if "/" in value and "has host bits set" in str(exc):
            network = ipaddress.ip_network(value, strict=False)
            return f"host bits set: did you mean {network}?"
        return "not an IP address or CIDR block (e.g. 203.0.113.7 or 198.51.100.0/24)"
    return None


def cidr_block(value: str) -> str | None:
    """A CIDR block with its prefix length and no host bits set; a single address is pointed
    to the allowlist, where Telnyx keeps single addresses."""
    value = value.strip()
    if "/" not in value:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return "not a CIDR block (e.g. 198.51.100.0/24 or 2001:db8:4a00::/40)"
        return f"a single address: add it on :allowlist, or write {address}/{address.max_prefixlen}"
    return ip_or_cidr(value)


def country_code(value: str) -> str | None:
    if value.strip().upper() not in ISO_3166_ALPHA2:
        return "not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)"
    if value.strip() != value.strip().upper():
        return "use capitals, e.g. " + value.strip().upper()
    return None


def _split(text: str) -> SplitResult | None:
    """`text` split into URL parts, or None when it is not one (an unclosed "[", a bad port)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return None
    return parts


def url(value: str) -> str | None:
    text = value.strip()
    parts = _split(text)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not text.isprintable():
        return "not an http(s) URL (e.g. https://idp.example.com/saml)"
    return None


def uri(value: str) -> str | None:
    """An entity id: an absolute URI such as https://… or urn:…"""
    text = value.strip()
    parts = _split(text)
    if (
        parts is None
        or not parts.scheme
        or not text.isprintable()
        or " " in text
        or (parts.scheme in ("http", "https") and not parts.hostname)
    ):
        return "not an absolute URI (e.g. https://idp.example.com/entity or urn:example:idp)"
    return None


def uuid_value(value: str) -> str | None:
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return "not a UUID (e.g. 6a09cdc3-8948-47f0-aa62-74ac943d6c58)"
    return None


def _matching(pattern: re.Pattern[str], problem: str) -> Validator:
    """A validator that accepts what `pattern` matches (white space around it ignored)."""

    def check(value: str) -> str | None:
        return None if pattern.match(value.strip()) else problem

    return check


short_name = _matching(_SHORT_NAME, "2–63 lower-case letters, digits, - or _ (it becomes part of the login URL)")
fingerprint = _matching(_FINGERPRINT, "hex bytes, optionally colon-separated (e.g. 13:38:C7:BB:C9:FF)")
e164 = _matching(_E164, "not an E.164 number (e.g. +13125550123)")


def max_length(limit: int) -> Validator:
    def check(value: str) -> str | None:
        return f"at most {limit} characters" if len(value) > limit else None

    return check


def min_length(limit: int) -> Validator:
    def check(value: str) -> str | None:
        return f"at least {limit} characters" if len(value.strip()) < limit else None

    return check
