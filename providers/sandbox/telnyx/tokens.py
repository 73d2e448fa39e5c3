"""The telephony-credential JWTs the Telnyx emulator issues (HS256, signed with a public key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

# Signs the sandbox's telephony JWTs. Public on purpose: it protects nothing.
JWT_SECRET = b"teledeck-sandbox-telephony-jwt-hs256 (public, not a secret)"
TOKEN_LIFETIME = 24 * 3600


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
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


__all__ = ["JWT_SECRET", "TOKEN_LIFETIME", "decode_token", "make_token"]
