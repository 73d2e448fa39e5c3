"""Huawei Cloud PrivateNumber X-AKSK authentication: building the headers, and checking them.

Every request carries two headers (docs/reference/huawei_volcengine.md, A.2):

    Authorization: AKSK realm="SDP",profile="UsernameToken",type="Appkey"
    X-AKSK: UsernameToken Username="<app key>",PasswordDigest="<digest>",Nonce="<nonce>",Created="<created>"

    digest  = Base64(HMAC-SHA256(key=app secret, message=nonce + created))   (raw MAC, padded)
    nonce   = 1..128 characters of [0-9A-Za-z]; we send uuid4().hex
    created = UTC, "%Y-%m-%dT%H:%M:%SZ"

`Created` is always computed from an aware UTC datetime here. Huawei's own Python sample formats
`time.strftime(...)`, i.e. *local* time with a literal "Z", which is wrong by the UTC offset on any
host not running in UTC (and then fails the server's clock-skew check); see
tests/unit/test_huawei_auth.py.

The checking half (`verify`) is what the sandbox runs; it answers with the result codes and HTTP
statuses of Huawei's published result-code table (1023xxx header problems with 400, 1010010
"Invalid digest." and 1010013 "Time out limit." with 401, 1010003 "Invalid app_key." with 403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from providers.signing import utc_instant

AUTH_SCHEME = "AKSK"
REALM = "SDP"
PROFILE = "UsernameToken"
TYPE = "Appkey"
AUTHORIZATION = f'{AUTH_SCHEME} realm="{REALM}",profile="{PROFILE}",type="{TYPE}"'
CREATED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The server's tolerance is not published; five minutes is the common choice for WSSE tokens.
DEFAULT_MAX_SKEW = 300.0

_NONCE = re.compile(r"^[0-9A-Za-z]{1,128}$")
_CREATED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*"([^"]*)"\s*')


# ---------------------------------------------------------------------------------------------
# Building


def password_digest(app_secret: str, nonce: str, created: str) -> str:
    """Base64(HMAC-SHA256(app_secret, nonce + created)): 44 characters, standard alphabet, padded."""
    mac = hmac.new(app_secret.encode("utf-8"), (nonce + created).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def format_created(moment: datetime | float | int) -> str:
    """`Created` for an instant: an aware datetime or a Unix timestamp, always rendered in UTC.

    A naive datetime is refused: its zone is exactly the ambiguity that breaks the vendor sample.
    """
    return utc_instant(moment, "Created").strftime(CREATED_FORMAT)


def created_now(clock: Callable[[], float] = time.time) -> str:
    """`Created` for now (UTC whatever the host's TZ)."""
    return format_created(clock())


def parse_created(value: str) -> datetime:
    """An aware UTC datetime from a `Created` value; ValueError when it is not in the documented shape."""
    if not _CREATED.match(value or ""):
        raise ValueError(f"Created must look like 2018-02-12T15:30:20Z, got {value!r}")
    return datetime.strptime(value, CREATED_FORMAT).replace(tzinfo=UTC)


def new_nonce() -> str:
    """32 lower-case hex characters (what Huawei's samples send)."""
    return uuid.uuid4().hex


def x_aksk_value(app_key: str, app_secret: str, nonce: str, created: str, *, separator: str = ",") -> str:
    """The X-AKSK header value. Huawei's samples join the fields with "," (the prose shows ", ")."""
    digest = password_digest(app_secret, nonce, created)
    fields = [("Username", app_key), ("PasswordDigest", digest), ("Nonce", nonce), ("Created", created)]
    return "UsernameToken " + separator.join(f'{name}="{value}"' for name, value in fields)


def aksk_headers(
    app_key: str,
    app_secret: str,
    *,
    nonce: str | None = None,
    created: str | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, str]:
    """Both authentication headers, with a fresh nonce and the current UTC time unless given."""
    nonce = nonce if nonce is not None else new_nonce()
    if not _NONCE.match(nonce):
        raise ValueError("a nonce is 1 to 128 letters and digits")
    created = created if created is not None else created_now(clock)
    return {"Authorization": AUTHORIZATION, "X-AKSK": x_aksk_value(app_key, app_secret, nonce, created)}


class AkskSigner:
    """A `Transport` signer: sets fresh X-AKSK headers on every request it is given (also on
    re-sends, so a retried request never reuses a nonce)."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], str] = new_nonce,
    ) -> None:
        if not app_key or not app_secret:
            raise ValueError("Huawei PrivateNumber needs both an APP_Key and an APP_Secret")
        self.app_key = app_key
        self._secret = app_secret
        self._clock = clock
        self._nonce_factory = nonce_factory

    def __call__(self, request: httpx.Request) -> None:
        headers = aksk_headers(self.app_key, self._secret, nonce=self._nonce_factory(), clock=self._clock)
        request.headers.update(headers)

    def __repr__(self) -> str:  # never show the secret
        return f"AkskSigner(app_key={self.app_key!r})"


# ---------------------------------------------------------------------------------------------
# Checking (the sandbox's side)


class AkskRejected(Exception):
    """A request failed X-AKSK authentication: Huawei's result code, HTTP status and description."""

    def __init__(self, code: str, status: int, desc: str) -> None:
        super().__init__(code, status, desc)
        self.code = code
        self.status = status
        self.desc = desc

    def __str__(self) -> str:
        return f"[{self.code}] {self.desc} (HTTP {self.status})"


def _reject(code: str, status: int, desc: str) -> AkskRejected:
    return AkskRejected(code, status, desc)


def parse_params(text: str) -> dict[str, str]:
    """`name="value"` pairs separated by commas (with or without spaces); names kept as sent."""
    params: dict[str, str] = {}
    rest = text.strip()
    while rest:
        match = _PARAM.match(rest)
        if match is None:
            raise ValueError(f"cannot read {rest[:40]!r}")
        params[match.group(1)] = match.group(2)
        rest = rest[match.end() :]
        if rest.startswith(","):
            rest = rest[1:]
        elif rest:
            raise ValueError(f"expected ',' before {rest[:40]!r}")
    return params


def _lookup(params: dict[str, str], name: str) -> str | None:
    for key, value in params.items():
        if key.lower() == name.lower():
            return value
    return None


class NonceCache:
    """Nonces seen recently, per app key, so a replayed request is refused. Thread-safe."""

    def __init__(self, ttl: float = 2 * DEFAULT_MAX_SKEW) -> None:
        self.ttl = ttl
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def seen(self, app_key: str, nonce: str, now: float) -> bool:
        """True when (app_key, nonce) was used within the TTL; otherwise records it and says False."""
        with self._lock:
            for key in [k for k, t in self._seen.items() if t <= now - self.ttl]:
                del self._seen[key]
            if (app_key, nonce) in self._seen:
                return True
            self._seen[(app_key, nonce)] = now
            return False

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def verify(
    authorization: str | None,
    x_aksk: str | None,
    *,
    secret_for: Callable[[str], str | None],
    now: float,
    max_skew: float = DEFAULT_MAX_SKEW,
    nonces: NonceCache | None = None,
) -> str:
    """Check one request's headers the way the platform does; return the app key, or raise `AkskRejected`.

    `secret_for(app_key)` gives the app's secret (None: unknown key); `now` is the server clock
    (Unix seconds); `Created` may differ from it by at most `max_skew` seconds either way.
    """
    if not authorization or not authorization.strip():
        raise _reject("1023006", 400, "Authorization not contained in the HTTP header.")
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != AUTH_SCHEME:
        raise _reject("1023006", 400, f"Authentication failed: the Authorization scheme must be {AUTH_SCHEME}.")
    try:
        auth = parse_params(rest)
    except ValueError:
        raise _reject("1023006", 400, "Authentication failed: the Authorization header cannot be parsed.") from None
    for name, missing, wrong, expected in (
        ("realm", "1023007", "1023009", REALM),
        ("profile", "1023008", "1023010", PROFILE),
        ("type", "1023012", "1023011", TYPE),
    ):
        value = _lookup(auth, name)
        if value is None:
            raise _reject(missing, 400, f"{name} not contained in Authorization.")
        if value != expected:
            text = "app_key" if name == "type" else expected
            raise _reject(wrong, 400, f"The value of {name} in Authorization must be {text}.")

    if not x_aksk or not x_aksk.strip():
        raise _reject("1023033", 400, "HTTP header not found X-AKSK field.")
    token, _, rest = x_aksk.strip().partition(" ")
    if token != "UsernameToken":
        raise _reject("1023006", 400, "Authentication failed: X-AKSK must start with UsernameToken.")
    try:
        fields = parse_params(rest)
    except ValueError:
        raise _reject("1023006", 400, "Authentication failed: the X-AKSK header cannot be parsed.") from None
    username = _lookup(fields, "Username")
    nonce = _lookup(fields, "Nonce")
    created = _lookup(fields, "Created")
    digest = _lookup(fields, "PasswordDigest")
    for value, code, name in (
        (username, "1023034", "UserName"),
        (nonce, "1023035", "Nonce"),
        (created, "1023036", "Created"),
        (digest, "1023037", "PasswordDigest"),
    ):
        if not value:
            raise _reject(code, 400, f"{name} not contained in X-AKSK.")
    assert username is not None and nonce is not None and created is not None and digest is not None

    secret = secret_for(username)
    if secret is None:
        raise _reject("1010003", 403, "Invalid app_key.")
    if not _NONCE.match(nonce):
        raise _reject("1023006", 400, "Authentication failed: Nonce must be 1 to 128 letters and digits.")
    try:
        moment = parse_created(created).timestamp()
    except ValueError:
        raise _reject("1010013", 401, "Time out limit. Created must be UTC like 2018-02-12T15:30:20Z.") from None
    if abs(now - moment) > max_skew:
        raise _reject("1010013", 401, "Time out limit.")
    expected = password_digest(secret, nonce, created)
    if not hmac.compare_digest(expected.encode("ascii"), digest.encode("utf-8", "replace")):
        raise _reject("1010010", 401, "Invalid digest.")
    if nonces is not None and nonces.seen(username, nonce, now):
        raise _reject("1023006", 400, "Authentication failed: the Nonce was already used.")
    return username


__all__ = [
    "AUTHORIZATION",
    "CREATED_FORMAT",
    "DEFAULT_MAX_SKEW",
    "AkskRejected",
    "AkskSigner",
    "NonceCache",
    "aksk_headers",
    "created_now",
    "format_created",
    "new_nonce",
    "parse_created",
    "parse_params",
    "password_digest",
    "verify",
    "x_aksk_value",
]
