"""Async client for Volcengine VMS number privacy (隐私号), API version 2022-01-01, and the
`BindingProvider` adapter built on it.

Wire format (docs/reference/huawei_volcengine.md, Part B): every call goes to the endpoint's
root with `?Action=<Action>&Version=2022-01-01`, signed with HMAC-SHA256 (signing.py). Actions are
POSTed as `application/x-www-form-urlencoded` bodies, as the official SDK sends them, except
NumberList, which the SDK sends as GET with its parameters in the query. Answers are
`{"ResponseMetadata": {..., "Error"?}, "Result": ...}`; the number service reports its own errors
under HTTP 200, so `ResponseMetadata.Error` is checked on every answer, whatever its status.

Times on the wire are unix seconds (UTC by definition); they become aware UTC datetimes here.

Binds, updates and unbinds are never re-sent once they may have reached the server (unlike the
SDK, which retries every call once): after `Timeout(maybe_applied=True)` use
`VolcBindings.find_after_timeout`, which looks the binding up with QuerySubscriptionForList.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypedDict, Unpack
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from providers.bindings import ACTIVE, EXPIRED, REMOVED, UNKNOWN, Binding, BindingChange, BindRequest
from providers.bindings import NumberPool as PoolChoice
from providers.calls import Recording, RecordingLink
from providers.endpoints import check_endpoint
from providers.errors import (
    CodeTable,
    Conflict,
    FieldProblem,
    MalformedResponse,
    NotFound,
    ProviderError,
    ValidationError,
)
from providers.pagination import DEFAULT_CONCURRENCY, offset_pages
from providers.records import OffsetPage, integer, load_object, parse_json, read_record, text
from providers.transport import ClientOptions, TransportClient, redact_text, redact_url
from providers.volcengine import signing
from providers.volcengine.vendor import VOLCENGINE

PROVIDER = "volcengine"
VENDOR = "Volcengine"  # as people name it, in messages
API_VERSION = "2022-01-01"
# Stated once, in the vendor descriptor.
DEFAULT_ENDPOINT = VOLCENGINE.endpoint.default
ENDPOINT_ENV = VOLCENGINE.endpoint.env
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# The vendor's docs and console speak Beijing time; a "YYYY-MM-DD HH:MM:SS" time is read in it.
CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")
MAX_PAGES = 1000

UPDATE_FIELDS = {
    "updateExpireTime": "ExpireTime",
    "updateUserData": "UserData",
    "updateOutId": "OutId",
    "updatePhoneNoA": "PhoneNoA",
    "updatePhoneNoB": "PhoneNoB",
}

# ---------------------------------------------------------------------------------------------
# Endpoint


def endpoint_from_env() -> str:
    """TELEDECK_VOLC_ENDPOINT, else the public endpoint, under the one endpoint rule. A bare
    origin: the signature covers the path, which is always "/"."""
    return check_endpoint(os.environ.get(ENDPOINT_ENV, "").strip() or DEFAULT_ENDPOINT, vendor=VENDOR, bare_origin=True)


# ---------------------------------------------------------------------------------------------
# Times


def to_wire_time(when: datetime | int) -> int:
    """Unix seconds for an aware datetime (or seconds already); a naive datetime is refused."""
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("a naive datetime is ambiguous; give an aware one (e.g. UTC)")
        return int(when.timestamp())
    if isinstance(when, bool) or not isinstance(when, int):
        raise ValueError(f"expected an aware datetime or unix seconds, got {when!r}")
    return when


def parse_wire_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a wire time: unix seconds as a number or digit string (the
    documented form; 13-digit values are read as milliseconds), "YYYY-MM-DD HH:MM:SS" read in
    Beijing time, or ISO 8601 with an offset. None for absent, zero or unreadable values."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        if re.fullmatch(r"\d+(\.\d+)?", raw):
            value = float(raw)
        else:
            try:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=CHINA_TZ)
            try:
                return parsed.astimezone(UTC)
            except OverflowError:  # year 1 east of UTC, year 9999 west of it
                return None
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds <= 0:
            return None
        if seconds >= 1e11:  # milliseconds
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


# ---------------------------------------------------------------------------------------------
# Records, and the wire key of each field read by `read_record` (record field -> wire key)

_SUBSCRIPTION_KEYS = {
    "phone_no_x": "PhoneNoX",
    "phone_no_a": "PhoneNoA",
    "phone_no_b": "PhoneNoB",
    "status": "Status",
    "user_data": "UserData",
    "out_id": "OutId",
    "call_display_type": "CallDisplayType",
    "x_city_code": "PhoneNoXCityCode",
    "a_city_code": "PhoneNoACityCode",
    "b_city_code": "PhoneNoBCityCode",
}
_NUMBER_POOL_KEYS = {
    "number_pool_no": "NumberPoolNo",
    "name": "NumberPoolName",
    "service_type": "ServiceType",
    "sub_service_type": "SubServiceType",
    "sub_service_type_name": "SubServiceTypeName",
    "number_count": "NumberCount",
}
_POOL_NUMBER_KEYS = {
    "number": "Number",
    "number_pool_no": "NumberPoolNo",
    "number_pool_name": "NumberPoolName",
    "status_code": "NumberStatusCode",
    "status": "NumberStatusDesc",
    "type_code": "NumberTypeCode",
    "location": "NumberLocation",
    "pool_type_code": "NumberPoolTypeCode",
}


@dataclass(frozen=True)
class Subscription:
    """One binding as Volcengine describes it (bind result, QuerySubscription, list record)."""

    sub_id: str
    phone_no_x: str = ""
    phone_no_a: str = ""
    phone_no_b: str = ""
    status: int | None = None  # 1 bound, 0 unbound (or expired), 2 bind error
    record: bool | None = None
    enable_time: datetime | None = None
    expire_time: datetime | None = None
    user_data: str = ""
    out_id: str = ""
    call_display_type: int | None = None
    x_city_code: str = ""
    a_city_code: str = ""
    b_city_code: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def bound(self) -> bool:
        return self.status == 1

    @classmethod
    def from_wire(cls, data: Any, *, what: str) -> Subscription:
        if not isinstance(data, dict):
            raise MalformedResponse(f"{what}: the answer's Result is not an object", provider=PROVIDER)
        sub_id = text(data, "SubId")
        if not sub_id:
            raise MalformedResponse(f"{what}: the answer carries no SubId", provider=PROVIDER)
        record = integer(data, "RecordFlag")
        return read_record(
            cls,
            data,
            _SUBSCRIPTION_KEYS,
            sub_id=sub_id,
            record=None if record is None else record == 1,
            enable_time=parse_wire_time(data.get("EnableTime")),
            expire_time=parse_wire_time(data.get("ExpireTime")),
            raw=dict(data),
        )


PRIVACY_SERVICE_TYPE = "200"  # NumberPoolList's ServiceType for privacy numbers (100 is voice)


@dataclass(frozen=True)
class NumberPool:
    number_pool_no: str
    name: str = ""
    service_type: str = ""  # 100 voice, 200 privacy number
    sub_service_type: str = ""  # 201 AXB, 202 AXN, 203 AXNE, 204 AXYB, 205 PAXYB
    sub_service_type_name: str = ""
    number_count: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def mode(self) -> str:
        """ "AXB" or "AXN" for the pool types teledeck binds in, else ""."""
        return {"201": "AXB", "202": "AXN"}.get(self.sub_service_type, "")

    @classmethod
    def from_wire(cls, data: Any) -> NumberPool:
        return read_record(cls, data, _NUMBER_POOL_KEYS, raw=dict(data) if isinstance(data, dict) else {})


@dataclass(frozen=True)
class PoolNumber:
    number: str
    number_pool_no: str = ""
    number_pool_name: str = ""
    status_code: int | None = None  # 1 in use, 2 user-disabled, 3 platform-disabled, 4 cancelled
    status: str = ""
    type_code: int | None = None  # 0 mobile, 1 fixed line
    location: str = ""
    purchased_at: datetime | None = None
    pool_type_code: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: Any) -> PoolNumber:
        return read_record(
            cls,
            data,
            _POOL_NUMBER_KEYS,
            purchased_at=parse_wire_time(data.get("NumberPurchaseTime")) if isinstance(data, dict) else None,
            raw=dict(data) if isinstance(data, dict) else {},
        )


@dataclass(frozen=True)
class AudioRecordUrls:
    call_id: str
    url: str = ""
    left_url: str = ""
    right_url: str = ""

    @property
    def available(self) -> bool:
        return bool(self.url or self.left_url or self.right_url)


# Presigned links say when they stop working in their query: an absolute Unix time (`Expires`,
# OSS and CDN style) or a lifetime in seconds after a signing time (TOS, Volcengine's object
# storage: X-Tos-Date + X-Tos-Expires; the gateway's own X-Date + X-Expires; S3's X-Amz-*).
_RELATIVE_EXPIRY = (("x-tos-date", "x-tos-expires"), ("x-date", "x-expires"), ("x-amz-date", "x-amz-expires"))


def link_expiry(url: str) -> tuple[datetime | None, int | None]:
    """When a presigned link stops working, and its lifetime in seconds when it states one; (None,
    None) when its query says neither (or says it in a way that cannot be true)."""
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    for date_key, seconds_key in _RELATIVE_EXPIRY:
        signed, lifetime = query.get(date_key, ""), query.get(seconds_key, "")
        if signed and lifetime.isdigit() and len(lifetime) <= 9:  # at most ~31 years: a time UTC can hold
            try:
                start = signing.parse_x_date(signed)
            except signing.SignatureFormatError:
                continue
            return start + timedelta(seconds=int(lifetime)), int(lifetime)
    absolute = query.get("expires", "")
    if absolute.isdigit() and len(absolute) <= 11:
        return datetime.fromtimestamp(int(absolute), UTC), None
    return None, None


def lifetime_words(seconds: int) -> str:
    """3600 -> "1 hour", 5400 -> "90 minutes", 604800 -> "7 days"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


class SubscriptionKeys(TypedDict, total=False):
    """What QuerySubscriptionForList looks subscriptions up by, besides the pool, as
    `VmsClient.query_subscription_for_list` takes them (which rejects any other keyword)."""

    sub_id: str
    phone_no_a: str
    phone_no_b: str
    phone_no_x: str
    out_id: str
    status: int | None  # 1 bound, 0 unbound (or expired), 2 bind error


# ---------------------------------------------------------------------------------------------
# Errors

AUTH_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "InvalidAccessKey",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
        "MissingSignature",
        "InvalidAuthorization",
        "InvalidCredential",
        "InvalidTimestamp",
        "InvalidSecretToken",
        "MissingRequestInfo",
        "AccessDenied",
        "LackPolicy",
        "LackProjectPolicy",
        "UnauthenticatedRequest",
        "AccountFrozen",
    }
)
RATE_CODES = frozenset(
    {
        "FlowLimitExceeded",
        "RequestLimitExceeded",
        "Throttling",
        "OverQpsLimit",
        "CallerFrequencyLimit",
        "CalleeFrequencyLimit",
    }
)
# NumberNotEnough is a Conflict: the request is well formed but clashes with the pool's current
# state (no free X number), and re-sending it will not help until a number is freed or another
# pool or city is chosen -- so neither ValidationError (nothing to fix in the input as such),
# nor Unavailable / RateLimited (which invite a retry).
CONFLICT_CODES = frozenset(
    {
        "ConflictWithExisting",
        "PhoneNoXOccupied",
        "PhoneNoEOccupied",
        "PhoneNoXBConflicted",
        "PhoneNoYAConflicted",
        "ConcurrencyConflict",
        "ExceedMaxBindCount",
        "CanNotUpdate",
        "NumberNotEnough",
    }
)
VALIDATION_CODES = frozenset(
    {
        "IllegalArgument",
        "IllegalPhoneNoX",
        "IllegalPhoneNoY",
        "XCanNotEqualsY",
        "CanNotUsedAsPhoneNoX",
        "CanNotUsedAsPhoneNoY",
        "MissingParameter",
        "InvalidParameter",
        "BlockNumber",
        "PhoneNoARiskFrozen",
        "PhoneNoBRiskFrozen",
        "CallerRiskFrozen",
        "CalleeRiskFrozen",
        "UnsupportedOperation",
        "UpgradeError",
        "BindAXBError",
        "UnbindAXError",
    }
)
NOT_FOUND_CODES = frozenset({"SubscriptionEmpty"})
UNAVAILABLE_CODES = frozenset(
    {
        "SystemError",
        "ProviderException",
        "InternalError",
        "ServiceUnavailableTemp",
        "FailToConnect",
        "InternalServiceTimeout",
        "InternalServiceError",
        "AccountSubServiceException",
        "UndefinedError",
    }
)

# Parameters an error message may name; the first one found becomes the FieldProblem pointer.
PARAMETERS = (
    "NumberPoolNo",
    "PhoneNoA",
    "PhoneNoB",
    "PhoneNoX",
    "PhoneNoY",
    "PhoneNoE",
    "ExpireTime",
    "SubId",
    "UpdateType",
    "UserData",
    "OutId",
    "AudioRecordFlag",
    "CityCodeByPhoneNo",
    "CityCode",
    "DegradeCityList",
    "CallDisplayType",
    "Offset",
    "Limit",
    "Status",
    "CallId",
    "NumberList",
    "NumberPoolTypeCode",
    "NumberStatusCode",
    "NumberTypeCode",
    "NumberPoolName",
    "SubServiceType",
    "ServiceType",
    "Number",
    "Action",
    "Version",
)
_DEFAULT_FIELD = {
    "IllegalPhoneNoX": "PhoneNoX",
    "IllegalPhoneNoY": "PhoneNoY",
    "CanNotUsedAsPhoneNoX": "PhoneNoX",
    "CanNotUsedAsPhoneNoY": "PhoneNoY",
    "XCanNotEqualsY": "PhoneNoY",
    "PhoneNoARiskFrozen": "PhoneNoA",
    "PhoneNoBRiskFrozen": "PhoneNoB",
    "CallerRiskFrozen": "PhoneNoA",
    "CalleeRiskFrozen": "PhoneNoB",
    "PhoneNoXOccupied": "PhoneNoX",
    "ConflictWithExisting": "PhoneNoX",
    "NumberNotEnough": "NumberPoolNo",
    "SubscriptionEmpty": "SubId",
    "UnsupportedOperation": "NumberPoolNo",
}
_HINTS = {
    "NumberNotEnough": "no free X number is left for this request (every candidate is bound or disabled, or "
    "none is in the wanted city); free one, or choose another pool or city -- re-sending "
    "will not help",
    "SignatureDoesNotMatch": "check the secret key",
    "InvalidAccessKey": "check the access key",
    "InvalidTimestamp": "check this machine's clock",
}
_PARAM_PATTERN = re.compile(r"\b(" + "|".join(sorted(PARAMETERS, key=len, reverse=True)) + r")\b")


_CODES = CodeTable(
    auth=AUTH_CODES,
    rate_limited=RATE_CODES,
    conflict=CONFLICT_CODES,
    not_found=NOT_FOUND_CODES,
    validation=VALIDATION_CODES,
    unavailable=UNAVAILABLE_CODES,
    # The bare statuses that mean one thing here. Not 404: the gateway also answers an unknown
    # Action or Version with it (InvalidActionOrVersion), which is no missing record; an answer
    # with another status and no known code stays a plain ProviderError rather than a guess.
    trusted=(400, 401, 403, 429),
)


def vendor_error(code: str, message: str, *, status: int, request_id: str = "", code_n: str = "") -> ProviderError:
    """The typed error for a Volcengine error code, keeping its code, message and request id.

    Parameter errors get a FieldProblem naming the parameter the message names (or the one the
    code implies, such as PhoneNoX for IllegalPhoneNoX)."""
    cls = _CODES.error_class(code, status)
    problems: tuple[FieldProblem, ...] = ()
    if cls in (ValidationError, Conflict, NotFound):
        match = _PARAM_PATTERN.search(message)
        pointer = match.group(1) if match else _DEFAULT_FIELD.get(code, "")
        if pointer:
            problems = (FieldProblem(pointer=pointer, message=message, code=code),)
    hint = _HINTS.get(code)
    shown = message or code or f"HTTP {status}"
    if hint:
        shown = f"{shown} ({hint})"
    return cls(
        shown,
        provider=PROVIDER,
        status=status,
        code=code,
        title=f"CodeN {code_n}" if code_n else "",
        detail=message,
        request_id=request_id,
        problems=problems,
    )


def error_in_envelope(body: Any, status: int) -> ProviderError | None:
    """The error `ResponseMetadata.Error` reports, or None when there is none."""
    meta = body.get("ResponseMetadata") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return None
    error = meta.get("Error")
    if error is None or error == {}:
        return None
    if not isinstance(error, dict):
        return vendor_error(
            "", f"unreadable ResponseMetadata.Error: {error!r}"[:200], status=status, request_id=text(meta, "RequestId")
        )
    code = text(error, "Code")
    if not code and not text(error, "Message"):
        return None
    return vendor_error(
        code, text(error, "Message"), status=status, request_id=text(meta, "RequestId"), code_n=text(error, "CodeN")
    )


def error_from_response(response: httpx.Response) -> ProviderError:
    """For the transport: a non-2xx answer as a typed error (gateway envelope, or bare status)."""
    status = response.status_code
    error = error_in_envelope(parse_json(response.content), status)
    if error is not None:
        return error
    kind = response.headers.get("content-type", "no content type")
    message = (
        f"HTTP {status} with an empty body"
        if not response.content
        else f"HTTP {status} ({kind}) without a Volcengine error envelope"
    )
    return _CODES.error_class("", status)(message, provider=PROVIDER, status=status)


# ---------------------------------------------------------------------------------------------
# The client


class _Sent(str):
    """A value sent even when empty (clearing a text field)."""


def _form(values: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Wire pairs: None and "" dropped (unless _Sent), booleans as 1/0, datetimes as unix seconds."""
    pairs = []
    for key, value in values:
        if value is None or (value == "" and not isinstance(value, _Sent)):
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, datetime):
            value = str(to_wire_time(value))
        pairs.append((key, str(value)))
    return pairs


def _bind_action(verb: str, mode: str, out_id: str) -> str:
    """The action `verb` + `mode` ("AXN" or "AXB"); an OutId is refused for AXN, which has no such field."""
    if mode not in ("AXN", "AXB"):
        raise ValueError(f"mode must be AXN or AXB, got {mode!r}")
    if out_id and mode != "AXB":
        raise ValueError(f"{verb}{mode} takes no OutId")
    return f"{verb}{mode}"


class VmsClient(TransportClient):
    """One Volcengine account's VMS number-privacy API."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        endpoint: str | None = None,
        region: str = signing.DEFAULT_REGION,
        session_token: str = "",
        clock: Callable[[], float] = time.time,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.endpoint = check_endpoint(endpoint, vendor=VENDOR, bare_origin=True) if endpoint else endpoint_from_env()
        self.concurrency = concurrency  # pages of one listing in flight at most (providers.pagination)
        self.credentials = signing.Credentials(access_key, secret_key, region, signing.SERVICE, session_token)
        self._clock = clock
        super().__init__(
            provider=PROVIDER,
            base_url=self.endpoint,
            error_mapper=error_from_response,
            headers={"Accept": "application/json", "User-Agent": "teledeck"},
            secrets=(secret_key, session_token),
            signer=self._sign,
            request_id_headers=("x-tt-logid", "x-request-id"),
            **options,
        )

    # ---- plumbing -------------------------------------------------------------------------

    def _sign(self, request: httpx.Request) -> None:
        query = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
        headers = {name: value for name, value in request.headers.items() if signing.is_signed_header(name)}
        parts = signing.SignedRequest(request.method, request.url.path or "/", query, headers, request.content)
        added = signing.sign(parts, self.credentials, x_date=signing.format_x_date(self._clock()))
        for name, value in added.items():
            request.headers[name] = value

    async def call(
        self,
        action: str,
        params: Sequence[tuple[str, Any]] = (),
        *,
        method: str = "POST",
        mutates: bool = False,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one action and return its `Result`; raises the typed error the answer carries.

        POST sends `params` as a form body; GET puts them in the query. Writes (`mutates`) are
        refused when read-only and never re-sent once they may have been received, unless
        `idempotent` says a re-send is safe (an unbind, a bind with an IdempotentId); reads are
        retried by the transport's policy."""
        pairs = _form(params)
        query: list[tuple[str, str]] = [("Action", action), ("Version", API_VERSION)]
        content: bytes | None = None
        headers: dict[str, str] = {}
        if method == "GET":
            query += pairs
        else:
            content = urlencode(pairs).encode("utf-8")
            headers["Content-Type"] = FORM_CONTENT_TYPE
        response = await self.transport.request(
            method,
            "/",
            params=query,
            content=content,
            headers=headers,
            mutates=mutates,
            idempotent=(not mutates) if idempotent is None else idempotent,
            call=action,
        )
        shown_url = redact_url(response.request.url)
        body, unreadable = load_object(response.content)
        request_id = self.transport.request_id(response)
        where: dict[str, Any] = {
            "provider": PROVIDER,
            "status": response.status_code,
            "request_id": request_id,
            "method": method,
            "url": shown_url,
        }
        if body is None:
            raise MalformedResponse(f"{action}: the answer is {unreadable}", **where)
        error = error_in_envelope(body, response.status_code)
        if error is not None:
            error.method, error.url = method, shown_url
            error.request_id = error.request_id or request_id
            error.message = redact_text(error.message, self.transport.secrets)
            raise error
        if not isinstance(body.get("ResponseMetadata"), dict) or "Result" not in body:
            raise MalformedResponse(f"{action}: the answer has no ResponseMetadata/Result envelope", **where)
        return body["Result"]

    async def _done(self, action: str, params: Sequence[tuple[str, Any]], *, idempotent: bool = False) -> None:
        result = await self.call(action, params, mutates=True, idempotent=idempotent)
        if result is True or (isinstance(result, str) and result.lower() == "true"):
            return
        if result is False or (isinstance(result, str) and result.lower() == "false"):
            raise ProviderError(f"{action}: Volcengine answered Result=false without an error", provider=PROVIDER)
        raise MalformedResponse(f"{action}: expected Result true, got {str(result)[:80]!r}", provider=PROVIDER)

    @staticmethod
    def _page(action: str, result: Any, parse: Callable[[Any], Any]) -> OffsetPage:
        if not isinstance(result, dict) or not isinstance(result.get("Records", []), list):
            raise MalformedResponse(f"{action}: the Result has no Records list", provider=PROVIDER)
        records = result.get("Records") or []
        for key in ("Offset", "Limit", "Total"):
            value = integer(result, key)
            if (value is None and result.get(key) is not None) or (value is not None and value < 0):
                raise MalformedResponse(
                    f"{action}: the Result's {key} is not a count ({str(result.get(key))[:40]!r})", provider=PROVIDER
                )
        return OffsetPage(
            items=[parse(r) for r in records],
            offset=integer(result, "Offset"),
            limit=integer(result, "Limit"),
            total=integer(result, "Total"),
        )

    async def collect(
        self, fetch: Callable[[int], Awaitable[OffsetPage]], *, page_size: int, max_pages: int = MAX_PAGES
    ) -> list[Any]:
        """Every item of an Offset/Limit listing, the pages after the first fetched concurrently
        (`providers.pagination.offset_pages`); stops with PaginationStalled instead of looping
        when the server answers another offset than the one asked for."""
        items: list[Any] = []
        pages = offset_pages(
            fetch, page_size=page_size, provider=PROVIDER, max_pages=max_pages, concurrency=self.concurrency
        )
        async for page in pages:
            items.extend(page.items)
        return items

    # ---- bindings -------------------------------------------------------------------------

    async def bind_on_x(
        self,
        mode: str,
        *,
        number_pool_no: str,
        phone_no_a: str,
        phone_no_x: str,
        expire_time: datetime | int,
        phone_no_b: str = "",
        audio_record: bool | None = None,
        user_data: str = "",
        out_id: str = "",
    ) -> Subscription:
        """BindAXN or BindAXB (`mode` "AXN" or "AXB") on the X given. AXB without `phone_no_b` is an
        AX binding; `out_id` is an AXB field (BindAXN has none)."""
        action = _bind_action("Bind", mode, out_id)
        params = [
            ("PhoneNoA", phone_no_a),
            ("PhoneNoB", phone_no_b),
            ("PhoneNoX", phone_no_x),
            ("NumberPoolNo", number_pool_no),
            ("ExpireTime", to_wire_time(expire_time)),
            ("AudioRecordFlag", audio_record),
            ("UserData", user_data),
            ("OutId", out_id),
        ]
        return Subscription.from_wire(await self.call(action, params, mutates=True), what=action)

    async def select_number_and_bind(
        self,
        mode: str,
        *,
        number_pool_no: str,
        phone_no_a: str,
        expire_time: datetime | int,
        phone_no_b: str = "",
        city_code: str = "",
        city_code_by_phone_no: str = "",
        degrade_city_list: Sequence[str] = (),
        audio_record: bool | None = None,
        user_data: str = "",
        out_id: str = "",
        idempotent_id: str = "",
    ) -> Subscription:
        """SelectNumberAndBindAXN or ...AXB: a binding on an X the platform picks from the pool (by
        city, falling back along `degrade_city_list`). `out_id` is an AXB field. With an
        `idempotent_id`, sending the same request again after a lost answer binds nothing new:
        the platform answers with the binding the first one made."""
        action = _bind_action("SelectNumberAndBind", mode, out_id)
        params: list[tuple[str, Any]] = [
            ("PhoneNoA", phone_no_a),
            ("PhoneNoB", phone_no_b),
            ("NumberPoolNo", number_pool_no),
            ("ExpireTime", to_wire_time(expire_time)),
            ("CityCode", city_code),
            ("CityCodeByPhoneNo", city_code_by_phone_no),
            ("AudioRecordFlag", audio_record),
            ("UserData", user_data),
            ("OutId", out_id),
            ("IdempotentId", idempotent_id),
        ]
        params += [("DegradeCityList", city) for city in degrade_city_list]
        # With an IdempotentId a re-send binds nothing new, so the Transport may re-send it.
        result = await self.call(action, params, mutates=True, idempotent=bool(idempotent_id))
        return Subscription.from_wire(result, what=action)

    async def bind_axn(self, **fields: Any) -> Subscription:
        """BindAXN: `bind_on_x("AXN", ...)`."""
        return await self.bind_on_x("AXN", **fields)

    async def bind_axb(self, **fields: Any) -> Subscription:
        """BindAXB: `bind_on_x("AXB", ...)`."""
        return await self.bind_on_x("AXB", **fields)

    async def select_number_and_bind_axn(self, **fields: Any) -> Subscription:
        """SelectNumberAndBindAXN: `select_number_and_bind("AXN", ...)`."""
        return await self.select_number_and_bind("AXN", **fields)

    async def select_number_and_bind_axb(self, **fields: Any) -> Subscription:
        """SelectNumberAndBindAXB: `select_number_and_bind("AXB", ...)`."""
        return await self.select_number_and_bind("AXB", **fields)

    async def _update(
        self, action: str, number_pool_no: str, sub_id: str, update_type: str, values: Mapping[str, Any]
    ) -> None:
        wanted = UPDATE_FIELDS.get(update_type)
        if wanted is None:
            raise ValueError(f"update_type must be one of {', '.join(UPDATE_FIELDS)}, got {update_type!r}")
        if values.get(wanted) is None:
            raise ValueError(f"{update_type} needs a value for {wanted}")
        value = values[wanted]
        wire = str(to_wire_time(value)) if wanted == "ExpireTime" else str(value)
        # Sent even when empty: clearing UserData or OutId is a valid update.
        params = [("NumberPoolNo", number_pool_no), ("SubId", sub_id), ("UpdateType", update_type)]
        await self._done(action, [*params, (wanted, _Sent(wire))])

    async def update_subscription(
        self,
        mode: str,
        *,
        number_pool_no: str,
        sub_id: str,
        update_type: str,
        phone_no_a: str | None = None,
        phone_no_b: str | None = None,
        expire_time: datetime | int | None = None,
        user_data: str | None = None,
        out_id: str | None = None,
    ) -> None:
        """UpdateAXN or UpdateAXB (`mode` "AXN" or "AXB"), which take the same fields. One change
        per call: `update_type` (a key of UPDATE_FIELDS) names the field sent."""
        await self._update(
            _bind_action("Update", mode, ""),
            number_pool_no,
            sub_id,
            update_type,
            {
                "PhoneNoA": phone_no_a,
                "PhoneNoB": phone_no_b,
                "ExpireTime": expire_time,
                "UserData": user_data,
                "OutId": out_id,
            },
        )

    async def update_axn(self, **change: Any) -> None:
        """UpdateAXN: `update_subscription("AXN", ...)`."""
        await self.update_subscription("AXN", **change)

    async def update_axb(self, **change: Any) -> None:
        """UpdateAXB: `update_subscription("AXB", ...)`."""
        await self.update_subscription("AXB", **change)

    # An unbind sent twice unbinds once: the second answers SubscriptionEmpty (NotFound), which
    # providers.outcomes reads as done. So the Transport may re-send it like a DELETE.
    async def unbind_axn(self, *, number_pool_no: str, sub_id: str) -> None:
        await self._done("UnbindAXN", [("NumberPoolNo", number_pool_no), ("SubId", sub_id)], idempotent=True)

    async def unbind_axb(self, *, number_pool_no: str, sub_id: str) -> None:
        await self._done("UnbindAXB", [("NumberPoolNo", number_pool_no), ("SubId", sub_id)], idempotent=True)

    # ---- browsing -------------------------------------------------------------------------

    async def query_subscription(self, *, number_pool_no: str, sub_id: str) -> Subscription:
        result = await self.call("QuerySubscription", [("NumberPoolNo", number_pool_no), ("SubId", sub_id)])
        return Subscription.from_wire(result, what="QuerySubscription")

    async def query_subscription_for_list(
        self,
        *,
        number_pool_no: str,
        sub_id: str = "",
        phone_no_a: str = "",
        phone_no_b: str = "",
        phone_no_x: str = "",
        out_id: str = "",
        status: int | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> OffsetPage:
        """One page; the vendor needs at least one of sub_id, phone_no_a/b/x, out_id (the keys
        `SubscriptionKeys` names for `all_subscriptions`)."""
        params = [
            ("NumberPoolNo", number_pool_no),
            ("SubId", sub_id),
            ("PhoneNoA", phone_no_a),
            ("PhoneNoB", phone_no_b),
            ("PhoneNoX", phone_no_x),
            ("OutId", out_id),
            ("Status", status),
            ("Offset", offset),
            ("Limit", limit),
        ]
        result = await self.call("QuerySubscriptionForList", params)
        return self._page(
            "QuerySubscriptionForList",
            result,
            lambda r: Subscription.from_wire(r, what="QuerySubscriptionForList record"),
        )

    async def all_subscriptions(
        self, *, number_pool_no: str, page_size: int = 20, **keys: Unpack[SubscriptionKeys]
    ) -> list[Subscription]:
        """Every record QuerySubscriptionForList has for these keys, page by page."""
        return await self.collect(
            lambda offset: self.query_subscription_for_list(
                number_pool_no=number_pool_no, offset=offset, limit=page_size, **keys
            ),
            page_size=page_size,
        )

    async def number_pool_list(
        self,
        *,
        service_type: str = "",
        sub_service_type: str = "",
        number_pool_no: str = "",
        number_pool_name: str = "",
        offset: int = 0,
        limit: int = 20,
    ) -> OffsetPage:
        params = [
            ("ServiceType", service_type),
            ("SubServiceType", sub_service_type),
            ("NumberPoolNo", number_pool_no),
            ("NumberPoolName", number_pool_name),
            ("Offset", offset),
            ("Limit", limit),
        ]
        return self._page("NumberPoolList", await self.call("NumberPoolList", params), NumberPool.from_wire)

    async def number_list(
        self,
        *,
        number_pool_no: str = "",
        number: str = "",
        numbers: Sequence[str] = (),
        number_pool_type_code: int | None = None,
        number_status_code: int | None = None,
        number_type_code: int | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> OffsetPage:
        """NumberList, sent as GET like the SDK does (at most 500 per page)."""
        params = [
            ("Number", number),
            ("NumberList", ",".join(numbers)),
            ("NumberPoolNo", number_pool_no),
            ("NumberPoolTypeCode", number_pool_type_code),
            ("NumberStatusCode", number_status_code),
            ("NumberTypeCode", number_type_code),
            ("Offset", offset),
            ("Limit", limit),
        ]
        return self._page("NumberList", await self.call("NumberList", params, method="GET"), PoolNumber.from_wire)

    async def query_audio_record_file_url(self, call_id: str) -> AudioRecordUrls:
        result = await self.call("QueryAudioRecordFileUrl", [("CallId", call_id)])
        if not isinstance(result, dict):
            raise MalformedResponse("QueryAudioRecordFileUrl: the Result is not an object", provider=PROVIDER)
        return AudioRecordUrls(
            call_id=call_id,
            url=text(result, "AudioRecordFileUrl"),
            left_url=text(result, "AudioRecordLeftFileUrl"),
            right_url=text(result, "AudioRecordRightFileUrl"),
        )


# ---------------------------------------------------------------------------------------------
# The BindingProvider adapter


def binding_status(sub: Subscription, now: datetime) -> str:
    """ACTIVE while bound and not past ExpireTime; EXPIRED once past it; REMOVED when unbound early."""
    expired = sub.expire_time is not None and sub.expire_time <= now
    if sub.status == 1:
        return EXPIRED if expired else ACTIVE
    if sub.status == 0:
        return EXPIRED if expired else REMOVED
    return UNKNOWN


def _refused(message: str, pointer: str) -> ValidationError:
    return ValidationError(message, provider=PROVIDER, problems=(FieldProblem(pointer=pointer, message=message),))


class VolcBindings:
    """The Volcengine account as the Bindings screen and the ledger use it (AXN and AXB).

    `default_pool` is the NumberPoolNo used when a request or binding names none. A pool's mode
    (AXN or AXB) is read once from NumberPoolList (SubServiceType 202/201) when needed, or given
    in `pool_modes`.
    """

    provider = PROVIDER
    modes = ("AXN", "AXB")

    def __init__(
        self,
        client: VmsClient,
        *,
        account: str = "",
        default_pool: str = "",
        pool_modes: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.account = account
        self.default_pool = default_pool
        self._pool_modes: dict[str, str] = dict(pool_modes or {})
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _pool(self, pool: str) -> str:
        chosen = pool or self.default_pool
        if not chosen:
            raise _refused("a Volcengine number pool (NumberPoolNo) is needed", "pool")
        return chosen

    async def pools(self) -> list[PoolChoice]:
        """Every privacy-number pool NumberPoolList answers (ServiceType 200), the account's
        default first; each pool's mode is remembered for binds."""
        listed = await self.client.collect(
            lambda offset: self.client.number_pool_list(service_type=PRIVACY_SERVICE_TYPE, offset=offset, limit=100),
            page_size=100,
        )
        found = []
        for pool in listed:
            self._pool_modes[pool.number_pool_no] = pool.mode
            found.append(
                PoolChoice(
                    pool.number_pool_no,
                    name=pool.name,
                    modes=(pool.mode,) if pool.mode else (pool.sub_service_type_name or pool.sub_service_type,),
                    numbers=pool.number_count,
                    source="the account's number_pool_no" if pool.number_pool_no == self.default_pool else "",
                )
            )
        found.sort(key=lambda p: p.pool != self.default_pool)
        return found

    async def pool_mode(self, pool: str) -> str:
        """AXN or AXB, from NumberPoolList; "" for another kind of pool."""
        if pool not in self._pool_modes:
            page = await self.client.number_pool_list(number_pool_no=pool, limit=1)
            match = [p for p in page.items if p.number_pool_no == pool]
            if not match:
                raise NotFound(
                    f"number pool {pool} is not in this account",
                    provider=PROVIDER,
                    problems=(FieldProblem(pointer="pool", message="unknown number pool"),),
                )
            self._pool_modes[pool] = match[0].mode
        return self._pool_modes[pool]

    def to_binding(self, sub: Subscription, *, mode: str, pool: str, fallback: Binding | None = None) -> Binding:
        base = fallback
        return Binding(
            provider=PROVIDER,
            mode=mode,
            subscription_id=sub.sub_id,
            x=sub.phone_no_x or (base.x if base else ""),
            a=sub.phone_no_a or (base.a if base else ""),
            b=sub.phone_no_b if (sub.phone_no_b or base is None) else base.b,
            expires_at=sub.expire_time or (base.expires_at if base else None),
            recording=sub.record if sub.record is not None else (base.recording if base else None),
            status=binding_status(sub, self._now()),
            pool=pool,
            user_data=sub.user_data or (base.user_data if base else ""),
            account=self.account,
            raw=dict(sub.raw),
        )

    async def bind(self, request: BindRequest) -> Binding:
        if request.mode not in self.modes:
            raise _refused(f"Volcengine binds {' and '.join(self.modes)}, not {request.mode}", "mode")
        expires_at = request.expires_at
        if expires_at is None:
            raise _refused("Volcengine bindings need an expiry time (ExpireTime)", "expires_at")
        if expires_at.tzinfo is None or expires_at.utcoffset() is None:
            raise _refused("the expiry time has no time zone; give an aware time", "expires_at")
        if request.mode == "AXB" and not request.b:
            raise _refused("an AXB binding needs a B number", "b")
        pool = self._pool(request.pool)
        common: dict[str, Any] = dict(
            number_pool_no=pool,
            phone_no_a=request.a,
            phone_no_b=request.b,
            expire_time=expires_at,
            audio_record=request.recording,
            user_data=request.user_data,
        )
        if request.x:
            sub = await self.client.bind_on_x(request.mode, phone_no_x=request.x, **common)
        else:
            sub = await self.client.select_number_and_bind(
                request.mode, city_code=request.area_code, idempotent_id=request.idempotency_key, **common
            )
        self._pool_modes.setdefault(pool, request.mode)
        sent = datetime.fromtimestamp(to_wire_time(expires_at), UTC)
        binding = Binding(
            provider=PROVIDER,
            mode=request.mode,
            subscription_id=sub.sub_id,
            x=sub.phone_no_x or request.x,
            a=request.a,
            b=request.b,
            expires_at=sent,
            recording=request.recording,
            status=UNKNOWN,
            pool=pool,
            user_data=request.user_data,
            account=self.account,
            raw=dict(sub.raw),
        )
        status = {1: ACTIVE, 0: REMOVED}.get(sub.status, UNKNOWN) if sub.status is not None else ACTIVE
        return dataclasses.replace(binding, status=status)

    async def update(self, binding: Binding, change: BindingChange) -> Binding:
        """One Update call per changed field (the API takes one UpdateType at a time). If a later
        call fails, the earlier ones have been applied: refresh to see the binding as it is."""
        if change.recording is not None and change.recording != binding.recording:
            raise _refused(
                "Volcengine cannot switch recording on an existing binding; unbind and bind again", "recording"
            )
        if change.expires_at is not None and (
            change.expires_at.tzinfo is None or change.expires_at.utcoffset() is None
        ):
            raise _refused("the expiry time has no time zone; give an aware time", "expires_at")
        if change.b is not None and binding.mode == "AXB" and not binding.b:
            raise _refused("an AX binding cannot get a B number by update", "b")
        pool = self._pool(binding.pool)
        call = self.client.update_axn if binding.mode == "AXN" else self.client.update_axb
        updated = binding
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        if change.expires_at is not None and change.expires_at != binding.expires_at:
            sent = datetime.fromtimestamp(to_wire_time(change.expires_at), UTC)
            steps.append(("updateExpireTime", {"expire_time": change.expires_at}, {"expires_at": sent}))
        if change.a is not None and change.a != binding.a:
            steps.append(("updatePhoneNoA", {"phone_no_a": change.a}, {"a": change.a}))
        if change.b is not None and change.b != binding.b:
            steps.append(("updatePhoneNoB", {"phone_no_b": change.b}, {"b": change.b}))
        for update_type, values, fields in steps:
            await call(number_pool_no=pool, sub_id=binding.subscription_id, update_type=update_type, **values)
            updated = dataclasses.replace(updated, **fields)
        return updated

    async def unbind(self, binding: Binding) -> None:
        pool = self._pool(binding.pool)
        call = self.client.unbind_axn if binding.mode == "AXN" else self.client.unbind_axb
        await call(number_pool_no=pool, sub_id=binding.subscription_id)

    async def refresh(self, binding: Binding) -> Binding:
        pool = self._pool(binding.pool)
        try:
            sub = await self.client.query_subscription(number_pool_no=pool, sub_id=binding.subscription_id)
        except NotFound:
            return dataclasses.replace(binding, status=REMOVED)
        return self.to_binding(sub, mode=binding.mode, pool=pool, fallback=binding)

    async def lookup(self, *, x: str = "", subscription_id: str = "", pool: str = "") -> list[Binding]:
        chosen = self._pool(pool)
        if not x and not subscription_id:
            raise _refused("give an X number or a subscription id to look up", "x")
        mode = await self.pool_mode(chosen)
        if subscription_id:
            try:
                subs = [await self.client.query_subscription(number_pool_no=chosen, sub_id=subscription_id)]
            except NotFound:
                return []
            if x:
                subs = [s for s in subs if s.phone_no_x == x]
        else:
            subs = await self.client.all_subscriptions(number_pool_no=chosen, phone_no_x=x)
        return [self.to_binding(s, mode=mode, pool=chosen) for s in subs]

    def rebind_is_idempotent(self, request: BindRequest) -> bool:
        """SelectNumberAndBind* carries the request's IdempotentId: re-sending it is the check."""
        return not request.x and bool(request.idempotency_key)

    async def find_after_timeout(self, request: BindRequest) -> list[Binding]:
        """Bound subscriptions in the pool with the request's A (and B, X when given), the exact
        ExpireTime it sent and its UserData: what a bind whose answer was lost would have
        created. `request` must be the one sent, not one rebuilt from the form later."""
        pool = self._pool(request.pool)
        subs = await self.client.all_subscriptions(
            number_pool_no=pool, phone_no_a=request.a, phone_no_b=request.b, phone_no_x=request.x, status=1
        )
        expiry = request.expires_at
        sent = to_wire_time(expiry) if expiry is not None and expiry.tzinfo is not None else None
        found = []
        for sub in subs:
            if sub.phone_no_a != request.a or (sub.phone_no_b or "") != (request.b or ""):
                continue
            if request.x and sub.phone_no_x != request.x:
                continue
            if sent is not None and (sub.expire_time is None or int(sub.expire_time.timestamp()) != sent):
                continue
            if request.user_data and sub.user_data != request.user_data:
                continue
            found.append(self.to_binding(sub, mode=request.mode, pool=pool))
        return found

    async def recording_link(self, recording: Recording) -> RecordingLink:
        """The recording's link from QueryAudioRecordFileUrl (the mixed file, else a channel's),
        asked now by its CallId. Volcengine's docs state no lifetime; the link's own query does
        when it is presigned (TOS: X-Tos-Date + X-Tos-Expires), else `lifetime` is "" (an
        absolute `Expires` gives `expires_at` alone)."""
        call_id = recording.locator.get("callId") or recording.call_id
        urls = await self.client.query_audio_record_file_url(call_id)
        url = urls.url or urls.left_url or urls.right_url
        if not url:
            raise NotFound(
                f"{VENDOR} has no recording for call {call_id} (yet: recordings appear some time after the call)",
                provider=PROVIDER,
            )
        expires_at, seconds = link_expiry(url)
        return RecordingLink(url=url, expires_at=expires_at, lifetime=lifetime_words(seconds) if seconds else "")

    async def aclose(self) -> None:
        await self.client.aclose()


__all__ = [
    "API_VERSION",
    "CHINA_TZ",
    "DEFAULT_ENDPOINT",
    "ENDPOINT_ENV",
    "UPDATE_FIELDS",
    "AudioRecordUrls",
    "NumberPool",
    "OffsetPage",
    "PoolNumber",
    "Subscription",
    "VmsClient",
    "VolcBindings",
    "binding_status",
    "endpoint_from_env",
    "error_from_response",
    "error_in_envelope",
    "lifetime_words",
    "link_expiry",
    "parse_wire_time",
    "to_wire_time",
    "vendor_error",
]
