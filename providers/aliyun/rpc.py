"""An async client base for Alibaba Cloud RPC-style ("POP") APIs over `providers.transport`.

Every call is `POST https://<endpoint>/` with the business parameters in the query string and an
empty body, exactly as the official SDK sends them, signed with either

- V3 `ACS3-HMAC-SHA256` (the SDK's default; Action and Version travel as x-acs-* headers), or
- the legacy RPC 1.0 `HMAC-SHA1` (the SDK's `signature_algorithm='v2'`; Action, Version,
  Timestamp, SignatureNonce, ... and Signature travel in the query).

Signing happens in the Transport's signer callback, so a request the Transport re-sends (when it
provably never reached the server, for idempotent calls, or when `retry_advice` calls the answer a
refusal before processing) gets a fresh nonce and timestamp.

Success is HTTP 2xx with `Code == "OK"` (and, where present, `Success` not false). Everything else
becomes a `providers.errors` error carrying Alibaba's Code, Message and RequestId:

| class            | codes                                                                        |
|------------------|------------------------------------------------------------------------------|
| AuthError        | SignatureDoesNotMatch, IncompleteSignature, InvalidAccessKeyId*, InvalidSecurityToken*, SignatureNonceUsed, InvalidTimeStamp*, Forbidden*, *RAM_PERMISSION_DENY, Ram.PermissionDeny, product not subscribed, account in arrears / abnormal, isv.SUBS_NOT_BELONG |
| RateLimited      | Throttling*, FlowLimited, isv.FLOW_LIMIT, isv.BUSINESS_LIMIT_CONTROL, System.LimitControl, HTTP 429 |
| ValidationError  | isv.*_ILLEGAL, isv.ILLEGAL_ARGUMENT, isv.INVALID_PARAMETERS, Missing*, Invalid*  (a FieldProblem names the parameter) |
| Conflict         | isv.BIND_CONFLICT, isv.UPDATE_CONFLICT, isv.NO_AVAILABLE_NUMBER, isv.NO_USED_BY_OTHERS, isv.FORBIDDEN_ACTION, isv.BUY_NUM_OVER_LIMIT |
| NotFound         | isv.SUBS_NOT_EXIST, isv.NO_NOT_EXIST, isv.POOLKEY_NOT_EXISTS, isv.PARTNER_NOT_EXIST, InvalidAction.NotFound |
| Unavailable      | isp.*, InternalError, ServiceUnavailable, isv.VENDOR_BIND_FAILED, HTTP 5xx     |
| MalformedResponse| a body that is not a JSON object, or one without a Code                      |

isv.NO_AVAILABLE_NUMBER is a Conflict, not Unavailable: Alibaba answers it when the pool has no X
left that A and B are not already bound to (or no X in the asked city of a strict pool). That is
the state of the account's own pool, not an outage: re-sending changes nothing until numbers are
bought or bindings removed, and Unavailable would invite the automatic retry that must not happen.

SignatureNonceUsed is re-sent once with a fresh nonce (the gateway refused it before processing,
so even a bind is safe to repeat): `retry_advice` tells the Transport so, and a product client
adds its own refusals there (CAMS: throttling); every other failure is left to the Transport.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Unpack
from urllib.parse import parse_qsl, urlsplit

import httpx

from providers.aliyun import signing
from providers.endpoints import check_endpoint
from providers.errors import (
    CodeSet,
    CodeTable,
    FieldProblem,
    MalformedResponse,
    NotFound,
    ProviderError,
    RateLimited,
    Unavailable,
    ValidationError,
)
from providers.records import UnreadableJson, load_json, parse_json
from providers.transport import (
    ClientOptions,
    RateLimiter,
    RetryAdvice,
    RetryPolicy,
    TransportClient,
    redact_text,
    redact_url,
)

SIGNATURE_V3 = "v3"  # ACS3-HMAC-SHA256
SIGNATURE_RPC = "v1"  # RPC signature version 1.0, HMAC-SHA1
SIGNATURES = (SIGNATURE_V3, SIGNATURE_RPC)
_SIGNATURE_ALIASES = {
    "v3": SIGNATURE_V3,
    "acs3": SIGNATURE_V3,
    "acs3-hmac-sha256": SIGNATURE_V3,
    "v1": SIGNATURE_RPC,
    "v2": SIGNATURE_RPC,
    "rpc": SIGNATURE_RPC,
    "hmac-sha1": SIGNATURE_RPC,
}

REQUEST_ID_HEADERS = ("x-acs-request-id",)
# SignatureNonceUsed: one re-send at once, with a fresh nonce.
NONCE_RETRY = RetryPolicy(max_retries=1, initial_delay=0.0, max_delay=0.0)
_SERVER_STRING_TO_SIGN = "server string to sign is:"


# ---------------------------------------------------------------------------------------------
# Endpoints


def normalise_endpoint(endpoint: str) -> str:
    """`https://host[:port]` from a bare host ("dyplsapi.aliyuncs.com") or a URL, under the one
    endpoint rule (`providers.endpoints`). The origin only: RPC-style APIs are served at "/"."""
    text = (endpoint or "").strip()
    if text and "://" not in text:
        text = "https://" + text
    origin = urlsplit(check_endpoint(text, vendor="Alibaba Cloud", bare_origin=True))
    return f"{origin.scheme.lower()}://{origin.netloc.lower()}"


def wire_value(value: Any) -> str | None:
    """How a parameter value travels: bool as true/false (not Python's True/False), numbers as
    decimals, None dropped."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        raise TypeError("convert datetimes to the API's own format before calling")
    return str(value)


# ---------------------------------------------------------------------------------------------
# Error mapping

_AUTH_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeySecret",
        "SignatureNonceUsed",
        "IllegalTimestamp",
        "isp.RAM_PERMISSION_DENY",
        "Ram.PermissionDeny",
        "Forbidden.RAM",
        "isv.OUT_OF_SERVICE",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "Product.Unsubscript",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.PARTNER_IS_CLOSED",
        "isv.SUBS_NOT_BELONG",
        "MissingSecurityToken",
        "MissingAccessKeyId",
        "MissingSignature",
        "InvalidSignatureMethod",
        "InvalidSignatureVersion",
        "UnsupportedSignatureMethod",
    }
)
_AUTH_PREFIXES = ("InvalidAccessKeyId", "InvalidSecurityToken", "InvalidTimeStamp", "Forbidden")
_RATE_CODES = frozenset(
    {
        "FlowLimited",
        "isv.FLOW_LIMIT",
        "isv.BUSINESS_LIMIT_CONTROL",
        "System.LimitControl",
        "ServiceUnavailable.Throttling",
    }
)
_CONFLICT_CODES = frozenset(
    {
        "isv.BIND_CONFLICT",
        "isv.UPDATE_CONFLICT",
        "isv.NO_AVAILABLE_NUMBER",
        "isv.NO_USED_BY_OTHERS",
        "isv.FORBIDDEN_ACTION",
        "isv.BUY_NUM_OVER_LIMIT",
    }
)
_NOT_FOUND_CODES = frozenset(
    {
        "isv.SUBS_NOT_EXIST",
        "isv.NO_NOT_EXIST",
        "isv.POOLKEY_NOT_EXISTS",
        "isv.PARTNER_NOT_EXIST",
        "InvalidAction.NotFound",
        "InvalidApi.NotFound",
    }
)
_VALIDATION_CODES = frozenset(
    {
        "isv.ILLEGAL_ARGUMENT",
        "isv.INVALID_PARAMETERS",
        "MissingParameter",
        "InvalidParameter",
        "InvalidVersion",
        "UnsupportedHTTPMethod",
    }
)
_UNAVAILABLE_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "isv.VENDOR_BIND_FAILED", "ServiceTimeout", "UnknownError"}
)

# Which request parameter an *_ILLEGAL code is about, when the message does not say.
_ILLEGAL_FIELDS = {
    "isv.EXPIRE_DATE_ILLEGAL": ("Expiration",),
    "isv.MOBILE_NUMBER_ILLEGAL": ("PhoneNoA", "PhoneNoB", "PhoneNoX", "SecretNo"),
    "isv.EXTENSION_ILLEGAL": ("Extension",),
    "isv.CITY_ILLEGAL": ("ExpectCity",),
}
_FIELD_HINTS = {"isv.POOLKEY_NOT_EXISTS": "PoolKey", "isv.SUBS_NOT_EXIST": "SubsId", "isv.NO_NOT_EXIST": "PhoneNoX"}


_CODES = CodeTable(
    auth=CodeSet(_AUTH_CODES, prefixes=_AUTH_PREFIXES),
    rate_limited=CodeSet(_RATE_CODES, prefixes=("Throttling",)),
    conflict=_CONFLICT_CODES,
    not_found=_NOT_FOUND_CODES,
    validation=CodeSet(_VALIDATION_CODES, prefixes=("Missing", "Invalid", "isv.INVALID"), suffixes=("_ILLEGAL",)),
    unavailable=CodeSet(_UNAVAILABLE_CODES, prefixes=("isp.",)),
)


def classify(code: str, status: int | None) -> type[ProviderError]:
    """The error class for an Alibaba `Code` (and the HTTP status, when the code is unknown)."""
    return _CODES.error_class(code, status)


def _values_look_bad(code: str, value: str) -> bool:
    if code == "isv.MOBILE_NUMBER_ILLEGAL":
        return not re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}", value or "")
    return True


def field_problems(code: str, message: str, params: Mapping[str, str] | None) -> tuple[FieldProblem, ...]:
    """Point at the request parameter a validation code is about: a parameter named in the message
    (`Missing<Name>`, `"Name"` quoted, or a sent parameter's name), else the code's usual field."""
    params = dict(params or {})
    name = ""
    if code.startswith("Missing") and len(code) > len("Missing") and code != "MissingParameter":
        name = code[len("Missing") :]
    if not name:
        quoted = re.search(r'"([A-Za-z][A-Za-z0-9.]*)"', message or "")
        if quoted:
            name = quoted.group(1)
    if not name and params:
        mentioned = [p for p in params if re.search(rf"\b{re.escape(p)}\b", message or "", re.IGNORECASE)]
        if mentioned:
            name = max(mentioned, key=len)
    if not name and code in _ILLEGAL_FIELDS:
        candidates = _ILLEGAL_FIELDS[code]
        sent = [c for c in candidates if c in params]
        bad = [c for c in sent if _values_look_bad(code, params[c])]
        name = (bad or sent or list(candidates))[0]
    if not name:
        name = _FIELD_HINTS.get(code, "")
    if not name:
        return ()
    return (FieldProblem(pointer=name, message=message or code, code=code),)


def error_from_body(
    body: Any,
    *,
    status: int | None,
    provider: str,
    params: Mapping[str, str] | None = None,
    request_id: str = "",
) -> ProviderError:
    """The typed error for an Alibaba error body (gateway or business)."""
    if not isinstance(body, dict):
        return MalformedResponse(
            f"HTTP {status}: the answer is not an Alibaba JSON object" if status else "the answer is not a JSON object",
            provider=provider,
            status=status,
            request_id=request_id,
        )
    code = str(body.get("Code") or body.get("code") or "")
    message = str(body.get("Message") or body.get("message") or "")
    detail = ""
    if _SERVER_STRING_TO_SIGN in message:
        # The gateway quotes its StringToSign: useful for debugging, too long for a notification.
        head, _, tail = message.partition(_SERVER_STRING_TO_SIGN)
        message, detail = head.strip(), _SERVER_STRING_TO_SIGN + tail
    if body.get("AccessDeniedDetail"):
        detail = (detail + "\n" if detail else "") + f"AccessDeniedDetail: {body['AccessDeniedDetail']}"
    rid = str(body.get("RequestId") or body.get("requestId") or request_id or "")
    cls = classify(code, status)
    if not code and cls is ProviderError:
        cls = MalformedResponse
        message = message or "the answer has no Code"
    problems = field_problems(code, message, params) if cls in (ValidationError, NotFound) else ()
    kwargs: dict[str, Any] = {}
    if cls is RateLimited:
        kwargs["retry_after"] = None
    error = cls(
        message or code or f"HTTP {status}",
        provider=provider,
        status=status if status and status != 200 else None,
        code=code,
        title=code,
        detail=detail,
        request_id=rid,
        problems=problems,
        **kwargs,
    )
    return error


def acs_retry_after(headers: httpx.Headers) -> float | None:
    """Alibaba's `x-acs-retry-after` (positive integer milliseconds in tea-openapi), if present."""
    value = headers.get("x-acs-retry-after")
    if not value:
        return None
    try:
        ms = float(value)
    except ValueError:
        return None
    return ms / 1000.0 if ms > 0 else None


def response_code(response: httpx.Response) -> str:
    """The Alibaba `Code` an answer carries ("" when it has none or is not JSON)."""
    body = parse_json(response.content)
    return str(body.get("Code") or body.get("code") or "") if isinstance(body, dict) else ""


def _sent_params(request: httpx.Request) -> dict[str, str]:
    """The business parameters a request carried in its query (RPC 1.0 common ones left out)."""
    pairs = parse_qsl(request.url.query.decode("ascii", "replace"), keep_blank_values=True)
    return {k: v for k, v in pairs if k not in signing.RPC_COMMON}


# ---------------------------------------------------------------------------------------------
# The client


class RpcOptions(ClientOptions, total=False):
    """What every Alibaba product client takes besides its credentials, endpoint and rate limit,
    and hands to `AliyunRpcClient` as they are."""

    signature: str  # SIGNATURES, or an alias such as "acs3-hmac-sha256"
    security_token: str | None  # with STS credentials
    clock: Callable[[], float]  # for the signature's timestamp
    nonce: Callable[[], str]  # for the signature's nonce


class AliyunRpcClient(TransportClient):
    """One Alibaba Cloud account talking to one RPC-style product (endpoint + version).

    `call(action, params, idempotent=..., mutates=...)` returns the JSON body of a successful
    answer, or raises a `ProviderError` (see the module docstring). Product clients (Dypls, CAMS)
    wrap it with typed methods.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        version: str,
        access_key_id: str,
        access_key_secret: str,
        provider: str = "aliyun",
        limiter: RateLimiter | None = None,
        user_agent: str = "teledeck",
        signature: str = SIGNATURE_V3,
        security_token: str | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = signing.new_nonce,
        **options: Unpack[ClientOptions],
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("an AccessKeyId and an AccessKeySecret are needed")
        scheme = _SIGNATURE_ALIASES.get((signature or "").strip().lower())
        if scheme is None:
            raise ValueError(f"unknown signature scheme {signature!r}; expected one of {', '.join(SIGNATURES)}")
        self.endpoint = normalise_endpoint(endpoint)
        self.version = version
        self.signature = scheme
        self.provider = provider
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self._security_token = security_token or None
        self._clock = clock
        self._nonce = nonce
        super().__init__(
            provider=provider,
            base_url=self.endpoint,
            error_mapper=self._map_http_error,
            headers={"Accept": "application/json", "User-Agent": user_agent},
            secrets=(access_key_secret, security_token or ""),
            signer=self._sign,
            limiter=limiter,
            request_id_headers=REQUEST_ID_HEADERS,
            retry_hook=self.retry_advice,
            **options,
        )

    # ---- signing (the Transport calls this for every attempt) ------------------------------

    def _sign(self, request: httpx.Request) -> None:
        query = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
        now = self._clock()
        if self.signature == SIGNATURE_V3:
            signed = signing.sign_v3(
                method=request.method,
                host=request.headers["host"],
                action=request.headers["x-acs-action"],
                version=request.headers["x-acs-version"],
                access_key_id=self.access_key_id,
                access_key_secret=self._secret,
                query=query,
                body=request.content,
                content_type=request.headers.get("content-type"),
                path=request.url.path or "/",
                date=now,
                nonce=self._nonce(),
                security_token=self._security_token,
            )
            for name, value in signed.items():
                request.headers[name] = value
            return
        business = [(k, v) for k, v in query if k not in signing.RPC_COMMON]
        pairs = signing.sign_rpc(
            method=request.method,
            action=request.headers["x-acs-action"],
            version=request.headers["x-acs-version"],
            access_key_id=self.access_key_id,
            access_key_secret=self._secret,
            params=business,
            date=now,
            nonce=self._nonce(),
            security_token=self._security_token,
        )
        request.url = request.url.copy_with(query=signing.encode_query(pairs).encode("ascii"))

    # ---- errors ------------------------------------------------------------------------------

    def _map_http_error(self, response: httpx.Response) -> ProviderError:
        body = parse_json(response.content)
        if body is None and response.status_code >= 500:
            return Unavailable(
                f"HTTP {response.status_code} from {self.provider}", provider=self.provider, status=response.status_code
            )
        error = error_from_body(
            body,
            status=response.status_code,
            provider=self.provider,
            params=_sent_params(response.request),
            request_id=response.headers.get("x-acs-request-id", ""),
        )
        if isinstance(error, RateLimited) and error.retry_after is None:
            error.retry_after = acs_retry_after(response.headers)
        return error

    # ---- re-sends (the Transport asks for every answer its own policy does not re-send) -----

    def retry_advice(self, response: httpx.Response) -> RetryAdvice | None:
        """A reused nonce was refused before processing: one re-send, signed with a fresh one."""
        if response_code(response) == "SignatureNonceUsed":
            return RetryAdvice("refusing a reused nonce", NONCE_RETRY)
        return None

    # ---- calls -------------------------------------------------------------------------------

    def now(self) -> float:
        """The client's clock (the one its signatures are timed by), in epoch seconds."""
        return self._clock()

    async def call(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool,
        mutates: bool,
    ) -> dict[str, Any]:
        """Call `action` with business `params` (None values dropped; bools as true/false).

        `idempotent` lets the Transport re-send after a timeout or 5xx; a non-idempotent call
        that may have reached the server raises `Timeout(maybe_applied=True)` instead.
        `mutates` calls are refused before sending when the client is read-only.
        """
        wire = {k: v for k, v in ((str(k), wire_value(v)) for k, v in (params or {}).items()) if v is not None}
        path = "/?" + signing.encode_query(sorted(wire.items())) if wire else "/"
        headers = {"x-acs-action": action, "x-acs-version": self.version}
        response = await self.transport.request(
            "POST",
            path,
            content=b"",
            headers=headers,
            idempotent=idempotent,
            mutates=mutates,
            call=action,
        )
        request_id = self.transport.request_id(response)
        shown_url = redact_url(response.request.url)
        try:
            body = load_json(response.content)
        except UnreadableJson as why:
            body, unreadable = None, f"{why}"
        else:
            unreadable = "null" if body is None else f"a JSON {type(body).__name__}, not an object"
        if not isinstance(body, dict):
            raise MalformedResponse(
                f"{action}: the answer is {unreadable}",
                provider=self.provider,
                status=response.status_code,
                request_id=request_id,
                method="POST",
                url=shown_url,
            )
        code = body.get("Code")
        if code is None:
            raise MalformedResponse(
                f"{action}: the answer has no Code",
                provider=self.provider,
                request_id=str(body.get("RequestId") or request_id),
                method="POST",
                url=shown_url,
            )
        if code != "OK" or body.get("Success") is False:
            error = error_from_body(
                body, status=response.status_code, provider=self.provider, params=wire, request_id=request_id
            )
            error.method, error.url = "POST", shown_url
            error.message = redact_text(error.message, self.transport.secrets)
            error.detail = redact_text(error.detail, self.transport.secrets)
            if isinstance(error, RateLimited) and error.retry_after is None:
                error.retry_after = acs_retry_after(response.headers)
            raise error
        return body


__all__ = [
    "NONCE_RETRY",
    "SIGNATURES",
    "SIGNATURE_RPC",
    "SIGNATURE_V3",
    "AliyunRpcClient",
    "RpcOptions",
    "acs_retry_after",
    "classify",
    "error_from_body",
    "field_problems",
    "normalise_endpoint",
    "response_code",
    "wire_value",
]
