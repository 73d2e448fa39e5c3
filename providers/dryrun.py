"""Dry runs: the change a command would send, signed exactly as it would be, recorded and not sent.

`DryRunTransport` sits under a client's Transport as its httpx transport (through
`open_session(wrap_transport=...)`): a read (the Transport marks each request with
`MUTATES_EXTENSION`) goes through to the transport below, so a dry run can still look things
up; the first change is recorded as a `CapturedRequest`, with every credential masked, and
`DryRunStop` is raised in its place, so nothing reaches the server.

`DryRunStop` is deliberately not a ProviderError: no settle function (providers/outcomes.py)
catches it and mistakes it for a lost answer, and the audit log is never involved, because a
dry run calls the write itself, never `ProviderSession.audited`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from providers.cache import is_secret_field
from providers.transport import MUTATES_EXTENSION

MASK = "***"
MAX_BODY_SHOWN = 64 * 1024  # a body is shown up to this many characters

# Headers whose values are credentials, or are made from one: Telnyx `Authorization: Bearer`,
# Volcengine's HMAC-SHA256 `Authorization`, Huawei's `X-WSSE` and `X-AKSK`, signatures, tokens.
_SECRET_HEADER = re.compile(
    r"(authorization|signature|token|secret|password|credential|wsse|aksk|api[-_]?key|access[-_]?key|cookie)",
    re.IGNORECASE,
)
# Query and form fields whose values are never shown: signatures and key ids (Alibaba's RPC
# `Signature`, `AccessKeyId`), and whatever `is_secret_field` calls a secret (not Alibaba's
# `SecretNo`, which is the X number).
_SIGNING_PARAM = re.compile(r"(signature|accesskey|access_key|api[-_]?key|credential|token|password)", re.I)
# "Bearer abc", "HMAC-SHA256 Credential=...", "UsernameToken Username=...": the scheme may show.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]{1,30})\s+\S")


def _secret_param(name: str) -> bool:
    return is_secret_field(name) or bool(_SIGNING_PARAM.search(name))


def mask_url(url: str | httpx.URL) -> str:
    """The URL with the values of signing and secret query parameters masked."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    pairs = [(k, MASK if _secret_param(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="[]:,*")))


def mask_header(name: str, value: str) -> str:
    """A header's value as a dry run shows it: a credential masked after its scheme word."""
    if not _SECRET_HEADER.search(name):
        return value
    scheme = _SCHEME.match(value)
    return f"{scheme.group(1)} {MASK}" if scheme else MASK


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if is_secret_field(str(k)) else _mask_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    return value


def mask_body(content: bytes, content_type: str) -> Any:
    """The body as a dry run shows it: JSON as a value, a form as its fields (secrets masked in
    both), anything else as text (a credential in free text cannot be told apart: none is sent)."""
    if not content:
        return None
    text = content.decode("utf-8", "replace")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return _mask_json(json.loads(text))
        except ValueError:
            pass
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True)
        return {k: (MASK if _secret_param(k) else v) for k, v in pairs}
    return text[:MAX_BODY_SHOWN]


@dataclass(frozen=True)
class CapturedRequest:
    """One change as it would have been sent, credentials masked."""

    provider: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: Any = None

    @classmethod
    def of(cls, provider: str, request: httpx.Request) -> CapturedRequest:
        headers = tuple((name, mask_header(name, value)) for name, value in request.headers.items())
        body = mask_body(request.content, request.headers.get("content-type", ""))
        return cls(provider, request.method, mask_url(request.url), headers, body)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.body,
        }

    def lines(self) -> list[str]:
        """The request as HTTP-like text: the request line, the headers, a blank line, the body."""
        out = [f"{self.method} {self.url}", *(f"{name}: {value}" for name, value in self.headers)]
        if self.body is not None:
            body = self.body if isinstance(self.body, str) else json.dumps(self.body, ensure_ascii=False, indent=2)
            out += ["", *body.splitlines()]
        return out


class DryRunStop(Exception):
    """Raised where a dry run's change would have been sent; carries what it would have sent."""

    def __init__(self, captured: CapturedRequest) -> None:
        super().__init__(f"dry run: {captured.method} {captured.url} not sent")
        self.captured = captured


@dataclass
class DryRunTransport(httpx.AsyncBaseTransport):
    """Reads through to `inner`; the first change is recorded in `captured` and stopped with
    DryRunStop. With no `inner` (a real account), reads go out through an httpx client of its
    own, which honours the proxy variables as the client it stands under would have."""

    provider: str
    inner: httpx.AsyncBaseTransport | None = None
    captured: list[CapturedRequest] = field(default_factory=list)
    _network: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        mutates = request.extensions.get(MUTATES_EXTENSION)
        if mutates is None:  # not sent by a Transport: judge by the method
            mutates = request.method not in ("GET", "HEAD", "OPTIONS")
        if mutates:
            await request.aread()
            captured = CapturedRequest.of(self.provider, request)
            self.captured.append(captured)
            raise DryRunStop(captured)
        if self.inner is not None:
            return await self.inner.handle_async_request(request)
        if self._network is None:
            # Given a transport, an AsyncClient mounts no proxies from the environment; a client
            # of our own does, and its answer's stream is handed up unread (the Transport above
            # reads it within its limits).
            self._network = httpx.AsyncClient(follow_redirects=False)
        return await self._network.send(request, stream=True)

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()
        if self._network is not None:
            await self._network.aclose()


def dry_run_wrapper() -> Callable[[str, httpx.AsyncBaseTransport | None], httpx.AsyncBaseTransport]:
    """A `wrap_transport` for open_session: every client's transport under a recorder."""

    def wrap(provider: str, inner: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
        return DryRunTransport(provider, inner)

    return wrap
