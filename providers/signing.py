"""What the vendors' request signatures have in common: the instant a signature is made for, and
the SHA-256 of a payload. Each vendor's own scheme (Alibaba ACS3 and RPC 1.0, Volcengine
HMAC-SHA256, Huawei X-AKSK) builds on these in its own module."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def utc_instant(when: datetime | float, what: str) -> datetime:
    """`when` (an aware datetime or Unix seconds) as an aware UTC datetime. A naive datetime is
    refused (ValueError naming `what`): its zone is the ambiguity that breaks a signature."""
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"{what} needs an aware datetime; a naive one has no defined zone")
        return when.astimezone(UTC)
    return datetime.fromtimestamp(float(when), UTC)


def sha256_hex(data: bytes | str) -> str:
    """The lower-case hex SHA-256 of `data` (text as UTF-8)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()
