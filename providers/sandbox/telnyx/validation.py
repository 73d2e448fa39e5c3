"""What the Telnyx emulator accepts: field and query checks (422/400 with `source.pointer` or
`source.parameter`, as Telnyx answers), page parameters, and the sandbox's address validation."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from providers.sandbox.http import SandboxRequest
from providers.sandbox.telnyx.errors import E_BAD_REQUEST, E_MISSING, ApiError, problem

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 250
SHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2})*$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(value: str) -> bool:
    return bool(UUID_PATTERN.match(value))


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


# Postal codes the emulator writes in two parts, as a layout: a digit or letter per "#", and the
# separator where it goes. A GB code's inward part is its last three characters whatever its
# length, so GB is handled on its own.
_POSTAL_LAYOUTS = {
    "CA": "### ###",
    "NL": "#### ##",
    "IE": "### ####",
    "SE": "### ##",
    "JP": "###-####",
    "BR": "#####-###",
}


def _normalise_postal(country: str, postal: str) -> str:
    compact = re.sub(r"[\s-]", "", postal).upper()
    if country == "GB" and len(compact) >= 5:
        return f"{compact[:-3]} {compact[-3:]}"
    layout = _POSTAL_LAYOUTS.get(country)
    if layout is not None and len(compact) == len(layout) - 1:
        at = layout.index(layout.strip("#"))  # where the separator stands
        return f"{compact[:at]}{layout[at]}{compact[at:]}"
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


def is_uri(value: str) -> bool:
    """An absolute URI (RFC 3986 shape: scheme ":" rest, no whitespace); SAML entity ids may be URNs."""
    if not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.netloc)
    return bool(parts.netloc or parts.path)


def is_http_url(value: str) -> bool:
    if not value or any(c.isspace() for c in value) or len(value) > 2000:
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def normalise_ip(value: str) -> str | None:
    """The canonical text of one IP address, or None when it is not one (a CIDR block is not)."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def normalise_cidr(value: str) -> str | None:
    """The canonical text of a CIDR block written with its prefix length and no host bits set
    ("2001:DB8::/32" -> "2001:db8::/32"), or None when it is not one (a bare address is not)."""
    text = value.strip()
    if "/" not in text:
        return None
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        return None


def cidr_problem(value: str) -> str:
    """Why `value` is not a CIDR block (normalise_cidr returned None), saying what would be."""
    text = value.strip()
    if normalise_ip(text) is not None:
        return (
            f"{text!r} is a single address, not a CIDR block; write it as a block (e.g. {text}/"
            f"{ipaddress.ip_address(text).max_prefixlen}) or add it with POST /access_ip_address."
        )
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"{text!r} is not a CIDR block (an IPv4 or IPv6 network with its prefix length)."
    return f"{text!r} has host bits set; the block is {network}."


def page_params(req: SandboxRequest, status: int) -> tuple[int, int]:
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


def require_str(
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


def require_bool(body: Mapping[str, Any], name: str, errors: list[dict[str, Any]]) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        errors.append(problem(E_BAD_REQUEST, f"The '{name}' parameter must be a boolean.", pointer=f"/{name}"))
        return None
    return value


def choice_param(
    req: SandboxRequest, name: str, choices: tuple[str, str], status: int = 400, *, fold_case: bool = False
) -> str | None:
    """The query parameter `name`, which must be one of two `choices` (None when absent)."""
    raw = req.query_dict.get(name)
    value = raw.lower() if raw is not None and fold_case else raw
    if value is None or value in choices:
        return value
    detail = f"{name} must be '{choices[0]}' or '{choices[1]}', got {raw!r}."
    raise ApiError(status, problem(E_BAD_REQUEST, detail, parameter=name))


def bool_param(req: SandboxRequest, name: str, status: int) -> bool | None:
    raw = choice_param(req, name, ("true", "false"), status, fold_case=True)
    return None if raw is None else raw == "true"
