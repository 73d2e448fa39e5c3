"""Huawei Cloud PrivateNumber (隐私保护通话) client, AXB, AX, AXE and AXYB modes, and its `BindingProvider`.

Wire facts (docs/reference/huawei_volcengine.md, Part A):

- one base URL per app ("APP接入地址"), JSON bodies, `Content-Type: application/json;charset=UTF-8`
  on every call, X-AKSK headers (providers/huawei/auth.py) signed afresh for every send;
- AXB `/rest/caas/relationnumber/partners/v1.0`: POST bind, DELETE unbind (query params), PUT
  modify, GET query (by subscriptionId, or by relationNum with optional callerNum/calleeNum,
  paged with pageIndex/pageSize 10..100);
- AX `/rest/provision/caas/privatenumber/v1.0`: POST bind, DELETE unbind, GET query;
- AXE `/rest/caas/extendnumber/v1.0`: POST bind, DELETE unbind, PUT modify, GET query (one
  binding); `/rest/caas/extendnumber/v2.0` GET lists one X, cursor-paged;
- AXYB `/rest/omp/xyrelationnumber/v1.0?app_key=...`: POST bind (A gets X; then, with the
  subscription id, B gets Y), DELETE unbind (all, or one YB), GET query; no modify
  (docs/decisions.md);
- recording URL: GET `/rest/provision/voice/record/v1.0` answers 301/302, and the download URL is
  the `Location` header (never followed: the Transport has follow_redirects=False);
- success is `resultcode == "0"`; anything else is mapped by `error_for_result` below, keeping the
  vendor code and `resultdesc`.

Every app has one mode, so an account with AXB and AX bindings has two apps (two key pairs);
`HuaweiBindings` takes one client per mode.

Times. Huawei gives no expiry timestamp: an AXB binding lives `duration` seconds (0 = forever,
else 60..7776000) from `subscribeTime`, the time of the bind or of the last modify (a modify that
sends `duration` restarts the timer). `subscribeTime` is "yyyy-MM-dd HH:mm:ss" with no zone (the
docs even show "2018-2-24 15:15:15"). The platform's other timestamps (CDRs) are documented as UTC
("8 hours behind Beijing time"), so we read it as UTC by default; `wire_tz` lets a deployment that
finds otherwise say so (e.g. UTC+8). AX bindings never expire (`expires_at` None). An AXE binding
lives `bindExpiredTime` (teledeck sends minutes) from its bind or last modify, and the platform
never says when that was, so its expiry is the one teledeck set. An AXYB binding lives `duration`
from its `subscribeTime`, like AXB.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypedDict, TypeVar, Unpack

import httpx

from providers.bindings import ACTIVE, EXPIRED, REMOVED, Binding, BindingChange, BindRequest
from providers.calls import Recording, RecordingLink
from providers.endpoints import check_endpoint
from providers.errors import (
    AuthError,
    CannotCheck,
    CodeTable,
    FieldProblem,
    MalformedResponse,
    NotFound,
    ProviderError,
    RateLimited,
    ValidationError,
    status_error_class,
)
from providers.huawei.auth import AkskSigner
from providers.huawei.vendor import HUAWEI
from providers.pagination import DEFAULT_CONCURRENCY, numbered_pages
from providers.records import Page, integer, load_object, parse_json, read_record, text
from providers.transport import ClientOptions, RateLimiter, TransportClient

PROVIDER = "huawei"
KnownX = Callable[[str], Iterable[str]] | Iterable[str]
# Stated once, in the vendor descriptor.
DEFAULT_BASE_URL = HUAWEI.endpoint.default
BASE_URL_ENV = HUAWEI.endpoint.env
CONTENT_TYPE = "application/json;charset=UTF-8"

AXB_PATH = "/rest/caas/relationnumber/partners/v1.0"
AX_PATH = "/rest/provision/caas/privatenumber/v1.0"
AXE_PATH = "/rest/caas/extendnumber/v1.0"
AXE_V2_PATH = "/rest/caas/extendnumber/v2.0"  # GET only: one X's bindings, cursor-paged
AXYB_PATH = "/rest/omp/xyrelationnumber/v1.0"  # every call also carries app_key in the query
RECORD_PATH = "/rest/provision/voice/record/v1.0"
# How long the platform says a download link lives ("录音下载地址有效期变更为3天", the recording
# API's change log); the recording itself is kept 7 days after its CDR was pushed.
RECORD_LINK_LIFETIME = "3 days (the recording is kept 7 days after its CDR)"

MIN_DURATION = 60
MAX_DURATION = 7_776_000  # 90 days
PAGE_SIZE_MIN, PAGE_SIZE_MAX = 10, 100
# AXE: bindExpiredTime counts hours (timeUnit "0", the default) or minutes ("1"); 0 = never. At
# most 720 hours (docs/decisions.md); teledeck sends minutes, to the minute the user asked for.
AXE_MINUTES = "1"
AXE_MAX_MINUTES = 720 * 60
AXE_FIRST_CURSOR = "0000000000000_0"
AXE_LIMIT_MAX = 100
# Wait the docs recommend after flow control (1010010: "please try again in a minute").
FLOW_CONTROL_WAIT = 60.0

_WIRE_TIME = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?\s*(Z)?\s*$")

# Every request parameter name we send; a 1010002 "Invalid request." names the offending one.
PARAMETERS = (
    "subscriptionId",
    "relationNum",
    "callerNum",
    "calleeNum",
    "areaCode",
    "areaMatchMode",
    "callDirection",
    "duration",
    "maxDuration",
    "lastMinVoice",
    "recordFlag",
    "recordHintTone",
    "privateSms",
    "preVoice",
    "userData",
    "pageIndex",
    "pageSize",
    "origNum",
    "privateNum",
    "privateNumType",
    "calleeNumDisplay",
    "fileName",
    "recordDomain",
    "virtualNum",
    "extendNum",
    "bindNum",
    "displayNumMode",
    "timeUnit",
    "bindExpiredTime",
    "callbackExpiredTime",
    "callbackNum",
    "cursor",  # not "limit": the word is in descriptions ("the upper limit") that name no parameter
    "ybDuration",
    "yNum",
    "bNum",
    "app_key",
)


# ---------------------------------------------------------------------------------------------
# Base URL


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL to use: `base_url`, else $TELEDECK_HUAWEI_BASE_URL, else the current public
    endpoint, under the one endpoint rule (`providers.endpoints`): the app secret signs every
    call, and numbers are personal data."""
    return check_endpoint(base_url or os.environ.get(BASE_URL_ENV, "") or DEFAULT_BASE_URL, vendor="Huawei")


# ---------------------------------------------------------------------------------------------
# Times


def parse_wire_time(value: Any, wire_tz: tzinfo = UTC) -> datetime | None:
    """Huawei's "yyyy-MM-dd HH:mm:ss" (unpadded month/day accepted, a trailing Z means UTC) as an
    aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    match = _WIRE_TIME.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=UTC if match.group(7) else wire_tz)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # no such date, or one UTC cannot hold (year 1 east of it)
        return None


def format_wire_time(moment: datetime, wire_tz: tzinfo = UTC) -> str:
    """An aware datetime in Huawei's "yyyy-MM-dd HH:mm:ss" (in `wire_tz`)."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(wire_tz).strftime("%Y-%m-%d %H:%M:%S")


def duration_until(expires_at: datetime, now: datetime) -> int:
    """Whole seconds from `now` to `expires_at` (rounded up, so the binding never ends early)."""
    if expires_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("both instants must be timezone-aware")
    return math.ceil((expires_at - now).total_seconds())


# ---------------------------------------------------------------------------------------------
# Numbers


def normalize_number(value: str) -> str:
    """A Chinese number in Huawei's global format: "+86" + mobile, or "+86" + area code without its
    leading 0 + local number. Accepts "138 0000 0021", "8613800000021", "075528000001"; anything
    else is returned stripped, for the platform to judge."""
    compact = re.sub(r"[\s()-]", "", value or "")
    if compact.startswith("+"):
        return compact
    if compact.startswith("0086"):
        return "+" + compact[2:]
    if re.fullmatch(r"1\d{10}", compact):
        return "+86" + compact
    if re.fullmatch(r"0[1-9]\d{8,10}", compact):
        return "+86" + compact[1:]
    if re.fullmatch(r"86\d{10,12}", compact):
        return "+" + compact
    return compact


# ---------------------------------------------------------------------------------------------
# Records


_BindingT = TypeVar("_BindingT", "AxbBinding", "AxBinding", "AxeBinding", "AxybBinding")

# Record field -> wire key, for both modes' records (each reads the fields it has).
_WIRE_KEYS = {
    "subscription_id": "subscriptionId",
    "record": "recordFlag",
    "user_data": "userData",
    "relation_num": "relationNum",
    "caller": "callerNum",
    "callee": "calleeNum",
    "call_direction": "callDirection",
    "max_duration": "maxDuration",
    "orig": "origNum",
    "private_num": "privateNum",
    "private_num_type": "privateNumType",
    "virtual_num": "virtualNum",
    "extend_num": "extendNum",
    "bind_num": "bindNum",
    "display_num_mode": "displayNumMode",
    "time_unit": "timeUnit",
    "bind_expired_time": "bindExpiredTime",
    "callback_num": "callbackNum",
    "num_a": "numA",
    "num_x": "numX",
    "num_y": "numY",
    "num_b": "numB",
    "yb_duration": "ybDuration",
}


def _read_binding(cls: type[_BindingT], data: Any, wire_tz: tzinfo) -> _BindingT:
    """An AXB or AX binding read from one answer or query item; the fields both modes share are
    read alike in both."""
    return read_record(
        cls,
        data,
        _WIRE_KEYS,
        subscribe_time=parse_wire_time(data.get("subscribeTime") if isinstance(data, dict) else None, wire_tz),
        raw=dict(data) if isinstance(data, dict) else {},
    )


@dataclass(frozen=True)
class AxbBinding:
    """One AXB binding as Huawei reports it (bind answer or query item)."""

    subscription_id: str
    relation_num: str  # X
    caller: str = ""  # A
    callee: str = ""  # B
    call_direction: int | None = None
    duration: int | None = None  # seconds; 0 = never expires
    max_duration: int | None = None  # minutes per call
    record: bool | None = None
    subscribe_time: datetime | None = None  # aware UTC: bind or last modify
    user_data: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any, wire_tz: tzinfo = UTC) -> AxbBinding:
        return _read_binding(cls, data, wire_tz)

    @property
    def expires_at(self) -> datetime | None:
        """subscribeTime + duration; None when it never expires or the platform did not say."""
        if not self.duration or self.subscribe_time is None:
            return None
        return self.subscribe_time + timedelta(seconds=self.duration)


@dataclass(frozen=True)
class AxBinding:
    """One AX binding (A owns X until unbound; AX bindings do not expire)."""

    subscription_id: str
    orig: str  # A
    private_num: str  # X
    private_num_type: str = ""
    record: bool | None = None
    subscribe_time: datetime | None = None
    user_data: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any, wire_tz: tzinfo = UTC) -> AxBinding:
        return _read_binding(cls, data, wire_tz)


@dataclass(frozen=True)
class AxeBinding:
    """One AXE binding: A is reached by dialling X, then the extension E. The platform reports no
    bind time, so its expiry cannot be read back (`HuaweiBindings` keeps the one it set)."""

    subscription_id: str
    virtual_num: str  # X
    extend_num: str = ""  # E
    bind_num: str = ""  # A
    display_num_mode: str = ""
    record: bool | None = None
    time_unit: str = ""  # "0" hours, "1" minutes
    bind_expired_time: int | None = None  # as configured at the bind, in `time_unit`
    callback_num: str = ""
    user_data: str = ""
    subscribe_time: datetime | None = None  # never sent by the platform; kept for the shared reader
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any, wire_tz: tzinfo = UTC) -> AxeBinding:
        return _read_binding(cls, data, wire_tz)


@dataclass(frozen=True)
class AxybBinding:
    """One AXYB relation: A and X (A's number towards B), B and Y (B's number towards A). A bind
    answer names one of them (`relationNumber`); a query item (`bindId`, numA, numX, numY, numB)
    names all four."""

    subscription_id: str
    num_a: str = ""
    num_x: str = ""
    num_y: str = ""
    num_b: str = ""
    record: bool | None = None
    call_direction: int | None = None
    duration: int | None = None  # seconds, the AX relation's; 0 = never
    yb_duration: int | None = None  # 0 = the YB relation ends with the AX one
    subscribe_time: datetime | None = None
    user_data: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any, wire_tz: tzinfo = UTC) -> AxybBinding:
        if isinstance(data, dict) and "subscriptionId" not in data and "bindId" in data:
            data = {**data, "subscriptionId": data["bindId"]}  # query items name it bindId
        return _read_binding(cls, data, wire_tz)

    @property
    def expires_at(self) -> datetime | None:
        if not self.duration or self.subscribe_time is None:
            return None
        return self.subscribe_time + timedelta(seconds=self.duration)


def _with_sent(binding: _BindingT, *, record: bool | None, user_data: str | None, **sent: str) -> _BindingT:
    """`binding` from a bind answer, completed from the request: the answer does not echo the
    numbers bound (`sent`, by field name), and may leave out recordFlag and userData."""
    filled: dict[str, Any] = {name: getattr(binding, name) or value for name, value in sent.items()}
    filled["record"] = binding.record if binding.record is not None else record
    filled["user_data"] = binding.user_data or (user_data or "")
    return replace(binding, **filled)


# ---------------------------------------------------------------------------------------------
# Errors

# Result codes, from Huawei's published result-code tables and FAQ (see the reference, A.2-A.4).
# An unknown code is kept, and its meaning not guessed from a status that may mean many.
_CODES = CodeTable(
    auth={
        "1010003",  # Invalid app_key.
        "1010008",  # app_key status unavailable
        "1010013",  # Time out limit. (Created too far from the server clock)
        "1010029",  # The subscriber status is frozen. (arrears)
        "1010040",  # The app_key is not allowed to invoke the API. (another mode's app)
        "1020166",  # client IP not in the whitelist
        "1020176",  # too many authentication failures: IP blocked for ~30 minutes
        *(f"10230{n:02d}" for n in range(6, 38)),  # 1023006..1023037: Authorization / X-AKSK problems
    },
    not_found={"1012007", "1016001"},  # "The record does not exist."
    conflict={
        "1012010",  # The relation number has been bound. (A or B already on this X)
        "1012009",  # this X already holds its maximum number of pairs
        "1011003",  # A already holds 5 X numbers (AX)
        "1011005",  # X already bound to another A (AX)
        "1012102",  # X status abnormal (blacklisted after complaints or arrears)
        # No number available. Conflict, not Unavailable: nothing is wrong with the platform and a
        # retry changes nothing; every suitable X is taken in the current state. The fix is a change
        # of request (another areaCode, areaMatchMode=1, another X) or of state (unbind, buy numbers).
        "1012008",  # Insufficient number of resources (AXB)
        "1011002",  # Insufficient number resources (AX)
    },
    validation={
        "1010002",  # Invalid request. (resultdesc names the parameter)
        "1020001",  # Parameter error.
        "1012001",  # Resource of number is not to be applied. (X is not this app's number)
        "1011001",  # The account does not exist. (X is not one of the app's numbers)
        "1011004",  # The number is not applied for binding application.
        "1012012",  # Application does not open recording function.
    },
    unavailable={"1010001", "1023001", "1023002"},
    trusted=(404, 429),
)
FLOW_CONTROL = "1010010"  # with HTTP 401 it means "Invalid digest."; otherwise flow control

_HINTS = {
    "1012008": "no free X number matches; try another area code, areaMatchMode=1, or free or buy numbers",
    "1011002": "no free X number matches; try another area code, or free or buy numbers",
    "1012010": "A or B is already bound on this X number; use another X, or unbind the existing pair",
    "1010013": "the request's Created time is too far from the platform clock; check this machine's clock",
    "1010040": "this app_key belongs to an app of another mode (AXB, AX, ...)",
    "1020176": "too many failed authentications: this IP is blocked for about 30 minutes",
}


def _request_json(request: httpx.Request | None) -> dict[str, Any]:
    if request is None:
        return {}
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, httpx.RequestNotRead):
        return {}
    return body if isinstance(body, dict) else {}


def _sent(request: httpx.Request | None) -> set[str]:
    """Names of the parameters a request sent (body and query)."""
    names = set(_request_json(request))
    if request is not None:
        names.update(k for k, _ in request.url.params.multi_items())
    return names


def _x_param(request: httpx.Request | None) -> str:
    path = request.url.path if request is not None else ""
    if path.endswith(AX_PATH):
        return "privateNum"
    if path.endswith((AXE_PATH, AXE_V2_PATH)):
        return "virtualNum"
    return "relationNum"


def _problems(code: str, desc: str, request: httpx.Request | None) -> tuple[FieldProblem, ...]:
    # The first parameter the description names is the offending one.
    named = sorted((m.start(), name) for name in PARAMETERS if (m := re.search(rf"\b{name}\b", desc)))
    if named:
        pointer = named[0][1]
    elif code in ("1012001", "1011001", "1011004", "1012009", "1011005", "1012102"):
        pointer = _x_param(request)
    elif code in ("1012008", "1011002"):
        sent = _sent(request)
        x_name = _x_param(request)
        pointer = x_name if x_name in sent else "areaCode"
    elif code == "1012012":
        pointer = "recordFlag"
    elif code == "1011003":
        pointer = "origNum"
    else:
        return ()
    return (FieldProblem(pointer=pointer, message=desc, code=code),)


def error_for_result(status: int, code: str, desc: str, request: httpx.Request | None = None) -> ProviderError:
    """The typed error for a Huawei result code, keeping code and description."""
    if code == FLOW_CONTROL:
        if status == 401:
            cls: type[ProviderError] = AuthError
        else:
            return RateLimited(
                desc or "The flow control upper limit is reached on the platform.",
                retry_after=FLOW_CONTROL_WAIT,
                provider=PROVIDER,
                status=status,
                code=code,
                detail="wait a minute before trying again",
            )
    else:
        cls = _CODES.error_class(code, status)
    message = desc or f"result code {code}"
    return cls(
        message,
        provider=PROVIDER,
        status=status,
        code=code,
        detail=_HINTS.get(code, ""),
        problems=_problems(code, desc, request),
    )


def error_from_response(response: httpx.Response) -> ProviderError:
    """The Transport's error mapper (non-2xx answers)."""
    status = response.status_code
    body = parse_json(response.content)
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built by hand, with no request attached
        request = None
    if isinstance(body, dict) and text(body, "resultcode"):
        return error_for_result(status, text(body, "resultcode"), text(body, "resultdesc"), request)
    # No result code: a gateway or proxy answered, or the body is unreadable.
    what = (
        "an empty body"
        if not response.content
        else (
            "no resultcode"
            if isinstance(body, dict)
            else f"an unreadable body ({response.headers.get('content-type', 'no content type')})"
        )
    )
    cls = status_error_class(status, trusted=(401, 403, 404, 429), default=MalformedResponse)
    return cls(f"HTTP {status} with {what}", provider=PROVIDER, status=status)


def _answer_list(answer: Mapping[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    """The objects of the answer's `key` list (absent means none); a non-list is malformed."""
    items = answer.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise MalformedResponse(f"{what}: {key} is not a list", provider=PROVIDER)
    return [i for i in items if isinstance(i, dict)]


def _the_one(found: Sequence[_BindingT], subscription_id: str) -> _BindingT:
    """The binding a query by `subscription_id` asked for, else the first the platform answered
    with; NotFound when it answered with none."""
    found = [i for i in found if i.subscription_id == subscription_id] or found
    if not found:
        raise NotFound("no such binding", provider=PROVIDER)
    return found[0]


def _bool_text(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class AxeSettings(TypedDict, total=False):
    """The AXE settings a bind sets and a modify changes (None or absent: not sent)."""

    display_num_mode: str | None
    record: bool | None
    record_hint_tone: str | None
    callback_tone: str | None
    callback_num: str | None
    time_unit: str | None
    bind_expired_time: int | None
    callback_expired_time: int | None
    user_data: str | None


_AXE_SETTINGS = {
    "display_num_mode": "displayNumMode",
    "record": "recordFlag",
    "record_hint_tone": "recordHintTone",
    "callback_tone": "callbackTone",
    "callback_num": "callbackNum",
    "time_unit": "timeUnit",
    "bind_expired_time": "bindExpiredTime",
    "callback_expired_time": "callbackExpiredTime",
    "user_data": "userData",
}


def _axe_settings(settings: AxeSettings) -> dict[str, Any]:
    """`settings` by wire name (recordFlag as "true" / "false")."""
    values: dict[str, Any] = dict(settings)
    values["record"] = _bool_text(settings.get("record"))
    return {wire: values.get(name) for name, wire in _AXE_SETTINGS.items()}


def _axe_one(subscription_id: str | None, virtual_num: str | None, extend_num: str | None) -> dict[str, Any]:
    """The query naming one AXE binding: its subscription id, or X and E together."""
    if not subscription_id and not (virtual_num and extend_num):
        raise ValueError("give subscription_id, or virtual_num and extend_num")
    return {"subscriptionId": subscription_id, "virtualNum": virtual_num, "extendNum": extend_num}


# ---------------------------------------------------------------------------------------------
# The client


class HuaweiPrivateNumberClient(TransportClient):
    """One PrivateNumber app (one APP_Key/APP_Secret, one mode) over the shared Transport.

    Binds (POST) are never re-sent once they may have reached the platform: a lost answer raises
    `Timeout(maybe_applied=True)`. Modify (PUT), unbind (DELETE) and queries are idempotent and
    may be retried by the Transport.
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        base_url: str | None = None,
        clock: Callable[[], float] = time.time,
        wire_tz: tzinfo = UTC,
        limiter: RateLimiter | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.app_key = app_key
        self.concurrency = concurrency  # pages of one listing in flight at most (providers.pagination)
        self.base_url = resolve_base_url(base_url)
        self.wire_tz = wire_tz
        super().__init__(
            provider=PROVIDER,
            base_url=self.base_url,
            error_mapper=error_from_response,
            headers={"Content-Type": CONTENT_TYPE, "Accept": "application/json", "User-Agent": "teledeck"},
            secrets=(app_secret,),
            signer=AkskSigner(app_key, app_secret, clock=clock),
            limiter=limiter,
            **options,
        )

    # ---- plumbing -------------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.transport.request(
            method,
            path,
            params=_drop_none(params) if params else None,
            json=_drop_none(body) if body is not None else None,
            call=f"{method} {path}",
        )
        return self._result(response, f"{method} {path}")

    async def _bind(self, mode: str, path: str, x_name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a bind; its answer, which must name the new binding and its X number."""
        answer = await self._call("POST", path, body=body)
        if not text(answer, "subscriptionId") or not text(answer, x_name):
            raise MalformedResponse(f"{mode} bind: the answer has no subscriptionId or {x_name}", provider=PROVIDER)
        return answer

    async def _unbind(
        self, path: str, subscription_id: str | None, x_name: str, x: str | None, neither_given: str
    ) -> None:
        """DELETE a binding by subscription id or by its X number (`x_name` on the wire)."""
        if not subscription_id and not x:
            raise ValueError(neither_given)
        await self._call("DELETE", path, params={"subscriptionId": subscription_id, x_name: x})

    def _result(self, response: httpx.Response, what: str) -> dict[str, Any]:
        body, unreadable = load_object(response.content)
        if body is None:
            raise MalformedResponse(
                f"{what}: the answer is {unreadable}", provider=PROVIDER, status=response.status_code
            )
        code = text(body, "resultcode")
        if not code:
            raise MalformedResponse(
                f"{what}: the answer has no resultcode", provider=PROVIDER, status=response.status_code
            )
        if code != "0":  # an error in a 2xx answer
            raise error_for_result(response.status_code, code, text(body, "resultdesc"), response.request)
        return body

    # ---- AXB --------------------------------------------------------------------------------

    async def axb_bind(
        self,
        caller: str,
        callee: str,
        *,
        relation_num: str | None = None,
        area_code: str | None = None,
        area_match_mode: int | None = None,
        call_direction: int | None = None,
        duration: int | None = None,
        max_duration: int | None = None,
        record: bool | None = None,
        record_hint_tone: str | None = None,
        last_min_voice: str | None = None,
        private_sms: bool | None = None,
        pre_voice: Mapping[str, str] | None = None,
        user_data: str | None = None,
    ) -> AxbBinding:
        """CreateAXBBinding. `relation_num` (X) wins over `area_code`; `duration` in seconds."""
        body = {
            "relationNum": relation_num,
            "areaCode": area_code,
            "areaMatchMode": None if area_match_mode is None else str(area_match_mode),
            "callerNum": caller,
            "calleeNum": callee,
            "callDirection": call_direction,
            "duration": duration,
            "maxDuration": max_duration,
            "lastMinVoice": last_min_voice,
            "recordFlag": _bool_text(record),
            "recordHintTone": record_hint_tone,
            "privateSms": _bool_text(private_sms),
            "preVoice": dict(pre_voice) if pre_voice else None,
            "userData": user_data,
        }
        answer = await self._bind("AXB", AXB_PATH, "relationNum", body)
        binding = AxbBinding.from_api(answer, self.wire_tz)
        return _with_sent(binding, record=record, user_data=user_data, caller=caller, callee=callee)

    async def axb_unbind(self, *, subscription_id: str | None = None, relation_num: str | None = None) -> None:
        """DeleteAXBBinding. With only `relation_num`, every pair on that X is unbound."""
        await self._unbind(
            AXB_PATH,
            subscription_id,
            "relationNum",
            relation_num,
            "give subscription_id, or relation_num to unbind every pair on an X",
        )

    async def axb_modify(
        self,
        subscription_id: str,
        *,
        caller: str | None = None,
        callee: str | None = None,
        call_direction: int | None = None,
        duration: int | None = None,
        max_duration: int | None = None,
        last_min_voice: str | None = None,
        private_sms: bool | None = None,
        user_data: str | None = None,
    ) -> None:
        """ModifyAXBBinding; None leaves a field as it is. A new `duration` restarts the timer."""
        if not subscription_id:
            raise ValueError("subscription_id is required")
        body = {
            "subscriptionId": subscription_id,
            "callerNum": caller,
            "calleeNum": callee,
            "callDirection": call_direction,
            "duration": duration,
            "maxDuration": max_duration,
            "lastMinVoice": last_min_voice,
            "privateSms": _bool_text(private_sms),
            "userData": user_data,
        }
        await self._call("PUT", AXB_PATH, body=body)

    async def axb_query(
        self,
        *,
        subscription_id: str | None = None,
        relation_num: str | None = None,
        caller: str | None = None,
        callee: str | None = None,
        page_index: int | None = None,
        page_size: int | None = None,
    ) -> Page:
        """QueryAXBBinding. One binding by `subscription_id`; or the bindings on X (`relation_num`),
        narrowed by `caller`/`callee`, paged. Nothing found raises NotFound (1012007)."""
        if not subscription_id and not relation_num:
            raise ValueError("give subscription_id or relation_num")
        if page_size is not None:
            page_size = max(PAGE_SIZE_MIN, min(PAGE_SIZE_MAX, page_size))
        answer = await self._call(
            "GET",
            AXB_PATH,
            params={
                "subscriptionId": subscription_id,
                "relationNum": relation_num,
                "callerNum": caller,
                "calleeNum": callee,
                "pageIndex": page_index,
                "pageSize": page_size,
            },
        )
        items = _answer_list(answer, "relationNumList", "AXB query")
        number = integer(answer, "pageIndex") or page_index or 1
        size = integer(answer, "pageSize") or page_size
        total = integer(answer, "totalCount")
        if (total is None and answer.get("totalCount") is not None) or (total is not None and total < 0):
            raise MalformedResponse(
                f"AXB query: totalCount is not a count ({str(answer.get('totalCount'))[:40]!r})", provider=PROVIDER
            )
        pages = math.ceil(total / size) if total is not None and size else None
        return Page(
            items=[AxbBinding.from_api(i, self.wire_tz) for i in items],
            page_number=number,
            page_size=size,
            total_pages=pages,
            total_results=total,
        )

    def axb_pages(self, relation_num: str, *, page_size: int = PAGE_SIZE_MAX) -> AsyncIterator[Page]:
        """Every page of the bindings on one X (stops on a page that does not advance)."""

        async def fetch(number: int) -> Page:
            try:
                return await self.axb_query(relation_num=relation_num, page_index=number, page_size=page_size)
            except NotFound:
                return Page(items=[], page_number=number, page_size=page_size, total_pages=0, total_results=0)

        return numbered_pages(fetch, provider=PROVIDER, concurrency=self.concurrency)

    async def axb_list(self, relation_num: str, *, page_size: int = PAGE_SIZE_MAX) -> list[AxbBinding]:
        items: list[AxbBinding] = []
        async for page in self.axb_pages(relation_num, page_size=page_size):
            items.extend(page.items)
        return items

    # ---- AX ---------------------------------------------------------------------------------

    async def ax_bind(
        self,
        orig: str,
        *,
        private_num: str | None = None,
        area_code: str | None = None,
        area_match_mode: int | None = None,
        private_num_type: str | None = None,
        record: bool | None = None,
        record_hint_tone: str | None = None,
        callee_num_display: str | None = None,
        private_sms: bool | None = None,
        max_duration: int | None = None,
        last_min_voice: str | None = None,
        user_data: str | None = None,
    ) -> AxBinding:
        """AX bind. `private_num` (X) or `area_code`; with an area code, `privateNumType` is
        required by the platform and defaults to "mobile-virtual" here."""
        if area_code and not private_num and private_num_type is None:
            private_num_type = "mobile-virtual"
        body = {
            "origNum": orig,
            "privateNum": private_num,
            "areaCode": area_code,
            "areaMatchMode": None if area_match_mode is None else str(area_match_mode),
            "privateNumType": private_num_type,
            "recordFlag": _bool_text(record),
            "recordHintTone": record_hint_tone,
            "calleeNumDisplay": callee_num_display,
            "privateSms": _bool_text(private_sms),
            "maxDuration": max_duration,
            "lastMinVoice": last_min_voice,
            "userData": user_data,
        }
        answer = await self._bind("AX", AX_PATH, "privateNum", body)
        return _with_sent(AxBinding.from_api(answer, self.wire_tz), record=record, user_data=user_data, orig=orig)

    async def ax_unbind(self, *, subscription_id: str | None = None, private_num: str | None = None) -> None:
        await self._unbind(AX_PATH, subscription_id, "privateNum", private_num, "give subscription_id or private_num")

    async def ax_query(
        self, *, subscription_id: str | None = None, orig: str | None = None, private_num: str | None = None
    ) -> list[AxBinding]:
        """AX query by one of subscription id > A > X (the platform's precedence)."""
        if not (subscription_id or orig or private_num):
            raise ValueError("give subscription_id, orig or private_num")
        answer = await self._call(
            "GET", AX_PATH, params={"subscriptionId": subscription_id, "origNum": orig, "privateNum": private_num}
        )
        return [AxBinding.from_api(i, self.wire_tz) for i in _answer_list(answer, "privateNumList", "AX query")]

    # ---- AXE --------------------------------------------------------------------------------

    async def axe_bind(
        self,
        bind_num: str,
        *,
        virtual_num: str | None = None,
        area_code: str | None = None,
        area_match_mode: int | None = None,
        extend_num: str | None = None,
        **settings: Unpack[AxeSettings],
    ) -> AxeBinding:
        """CreateAXEBinding: A (`bind_num`) on X (`virtual_num`, or one from `area_code`), with the
        extension `extend_num` or one the platform picks. `bind_expired_time` counts `time_unit`s."""
        body = {
            "virtualNum": virtual_num,
            "areaCode": area_code,
            "areaMatchMode": None if area_match_mode is None else str(area_match_mode),
            "bindNum": bind_num,
            "extendNum": extend_num,
            **_axe_settings(settings),
        }
        answer = await self._bind("AXE", AXE_PATH, "virtualNum", body)
        if not text(answer, "extendNum"):
            raise MalformedResponse("AXE bind: the answer has no extendNum", provider=PROVIDER)
        made = AxeBinding.from_api(answer, self.wire_tz)
        return _with_sent(made, record=settings.get("record"), user_data=settings.get("user_data"), bind_num=bind_num)

    async def axe_unbind(
        self, *, subscription_id: str | None = None, virtual_num: str | None = None, extend_num: str | None = None
    ) -> None:
        """DeleteAXEBinding, by subscription id or by X and E together."""
        await self._call("DELETE", AXE_PATH, params=_axe_one(subscription_id, virtual_num, extend_num))

    async def axe_modify(self, subscription_id: str, **settings: Unpack[AxeSettings]) -> None:
        """ModifyAXEBinding; an absent setting is left as it is. A, X and E cannot be changed."""
        if not subscription_id:
            raise ValueError("subscription_id is required")
        await self._call("PUT", AXE_PATH, body={"subscriptionId": subscription_id, **_axe_settings(settings)})

    async def axe_query(
        self, *, subscription_id: str | None = None, virtual_num: str | None = None, extend_num: str | None = None
    ) -> AxeBinding:
        """QueryAXEBinding (v1.0): one binding, by subscription id or by X and E. NotFound when none."""
        answer = await self._call("GET", AXE_PATH, params=_axe_one(subscription_id, virtual_num, extend_num))
        if not text(answer, "subscriptionId"):
            raise MalformedResponse("AXE query: the answer has no subscriptionId", provider=PROVIDER)
        return AxeBinding.from_api(answer, self.wire_tz)

    async def axe_page(
        self, virtual_num: str, *, cursor: str = AXE_FIRST_CURSOR, limit: int = AXE_LIMIT_MAX
    ) -> tuple[list[AxeBinding], str]:
        """QueryAXEBinding (v2.0): one page of the bindings on X from `cursor`, and the cursor of
        the next page ("" at the end)."""
        limit = max(1, min(AXE_LIMIT_MAX, limit))
        answer = await self._call(
            "GET", AXE_V2_PATH, params={"virtualNum": virtual_num, "cursor": cursor, "limit": limit}
        )
        items = _answer_list(answer, "bindInfoList", "AXE query")
        following = text(answer, "nextCursor")
        if following and not re.fullmatch(r"\d{13}_\d{1,20}", following):
            raise MalformedResponse(f"AXE query: nextCursor {following[:40]!r} is not a cursor", provider=PROVIDER)
        return [AxeBinding.from_api(i, self.wire_tz) for i in items], following

    async def axe_list(self, virtual_num: str, *, limit: int = AXE_LIMIT_MAX) -> list[AxeBinding]:
        """Every binding on one X, page by page; stops at the end, or on a cursor already seen."""
        found: list[AxeBinding] = []
        cursor, seen = AXE_FIRST_CURSOR, set()
        while cursor and cursor not in seen:
            seen.add(cursor)
            try:
                page, cursor = await self.axe_page(virtual_num, cursor=cursor, limit=limit)
            except NotFound:
                break
            found.extend(page)
            if not page:
                break
        return found

    # ---- AXYB -------------------------------------------------------------------------------

    async def axyb_bind(
        self,
        orig: str,
        *,
        subscription_id: str | None = None,
        area_code: str | None = None,
        area_match_mode: int | None = None,
        call_direction: int | None = None,
        duration: int | None = None,
        yb_duration: int | None = None,
        record: bool | None = None,
        record_hint_tone: str | None = None,
        pre_voice_x: str | None = None,
        pre_voice_y: str | None = None,
        user_data: str | None = None,
    ) -> tuple[str, str]:
        """The AXYB bind, in its two forms: without `subscription_id`, A (`orig`) gets X (the AX
        relation); with it, B (`orig`) gets Y on that relation (the YB one). Returns the
        subscription id and the number bound (`relationNumber`: X, or Y)."""
        body = {
            "origNum": orig,
            "subscriptionId": subscription_id,
            "areaCode": area_code,
            "areaMatchMode": None if area_match_mode is None else str(area_match_mode),
            "callDirection": call_direction,
            "duration": duration,
            "ybDuration": yb_duration,
            "recordFlag": _bool_text(record),
            "recordHintTone": record_hint_tone,
            "preVoiceX": pre_voice_x,
            "preVoiceY": pre_voice_y,
            "userData": user_data,
        }
        answer = await self._call("POST", AXYB_PATH, params={"app_key": self.app_key}, body=body)
        if not text(answer, "subscriptionId") or not text(answer, "relationNumber"):
            raise MalformedResponse("AXYB bind: the answer has no subscriptionId or relationNumber", provider=PROVIDER)
        return text(answer, "subscriptionId"), text(answer, "relationNumber")

    async def axyb_unbind(self, subscription_id: str, *, y_num: str | None = None, b_num: str | None = None) -> None:
        """The AXYB unbind: the whole relation (AX and every YB), or with `y_num` / `b_num` one YB."""
        if not subscription_id:
            raise ValueError("subscription_id is required")
        params = {"app_key": self.app_key, "subscriptionId": subscription_id, "yNum": y_num, "bNum": b_num}
        await self._call("DELETE", AXYB_PATH, params=params)

    async def axyb_query(
        self, *, subscription_id: str | None = None, relation_num: str | None = None
    ) -> list[AxybBinding]:
        """The AXYB query: the relations of one subscription, or every relation on X. NotFound when none."""
        if not subscription_id and not relation_num:
            raise ValueError("give subscription_id or relation_num")
        params = {"app_key": self.app_key, "subscriptionId": subscription_id, "relationNum": relation_num}
        answer = await self._call("GET", AXYB_PATH, params=params)
        return [AxybBinding.from_api(i, self.wire_tz) for i in _answer_list(answer, "xyRelationNumList", "AXYB query")]

    # ---- recordings -------------------------------------------------------------------------

    async def record_download_url(self, file_name: str, record_domain: str) -> str:
        """The download URL of a call recording (`recordObjectName`, `recordDomain` from the CDR):
        the Location of the platform's 301/302, which is not followed. Recordings are kept 7 days."""
        response = await self.transport.request(
            "GET",
            RECORD_PATH,
            params={"fileName": file_name, "recordDomain": record_domain},
            ok_statuses=(301, 302),
        )
        if response.status_code in (301, 302):
            location = str(response.headers.get("location", "")).strip()
            if not location:
                raise MalformedResponse(
                    f"recording: HTTP {response.status_code} without a Location header",
                    provider=PROVIDER,
                    status=response.status_code,
                )
            return location
        self._result(response, f"GET {RECORD_PATH}")  # a 2xx with a failure code raises here
        raise MalformedResponse(
            "recording: expected a redirect to the download URL", provider=PROVIDER, status=response.status_code
        )


# ---------------------------------------------------------------------------------------------
# BindingProvider


def _is_foreign_number(error: ProviderError) -> bool:
    """The X number belongs to another app (so to the other mode's client)."""
    return error.code in ("1012001", "1011001", "1011004")


def _same_tag(found: str, sent: str) -> bool:
    """The userData a found binding carries is the one the lost bind sent (when it sent one; the
    platform echoes userData in queries since 2022-05)."""
    return not sent or found == sent


class HuaweiBindings:
    """Huawei PrivateNumber as a `providers.bindings.BindingProvider`, modes AXB, AX, AXE and AXYB.

    Each mode is its own app, hence its own client: pass `axb=`, `ax=`, `axe=` and/or `axyb=` (or
    use `connect`). `known_x` lists the X numbers the account owns (from configuration), or is a
    callable giving them for an area code ("" = all): Huawei cannot list bindings by account, nor
    AXB bindings by A, so these are what `lookup()` browses and what `find_after_timeout` searches
    when a bind let the platform pick X.

    What `find_after_timeout` can find after a lost bind answer:
      - AXB with X given: exactly, by querying A+X+B on that X;
      - AXB, AXE and AXYB with X picked by the platform: only on the `known_x` numbers (their
        bindings listed, matched by A, B, the extension and the user-data tag sent); with no
        `known_x` it raises rather than answer "nothing" (an empty answer would invite a
        duplicate bind on another X);
      - AXE with X given: exactly, by listing that X (v2.0 query, cursor-paged);
      - AX: always, by querying A (origNum), which lists A's (at most 5) X numbers.

    An AXYB binding is one subscription: A with X (the AX relation) and B with Y (the YB relation),
    made by two binds; `Binding.y` keeps Y. Huawei has no AXYB modify, so a change of B binds the
    new B (another Y) on the subscription first and then unbinds the old YB.
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        axb: HuaweiPrivateNumberClient | None = None,
        ax: HuaweiPrivateNumberClient | None = None,
        axe: HuaweiPrivateNumberClient | None = None,
        axyb: HuaweiPrivateNumberClient | None = None,
        account: str = "",
        known_x: KnownX = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clients = {m: c for m, c in (("AXB", axb), ("AX", ax), ("AXE", axe), ("AXYB", axyb)) if c is not None}
        if not self.clients:
            raise ValueError("HuaweiBindings needs a client for at least one mode (AXB, AX, AXE, AXYB)")
        self.axb, self.ax, self.axe, self.axyb = axb, ax, axe, axyb
        self.account = account
        self._known_x = known_x if callable(known_x) else tuple(normalize_number(x) for x in known_x)
        self.modes: tuple[str, ...] = tuple(self.clients)
        self._clock = clock

    @classmethod
    def connect(
        cls,
        app_key: str = "",
        app_secret: str = "",
        *,
        ax_app_key: str = "",
        ax_app_secret: str = "",
        axe_app_key: str = "",
        axe_app_secret: str = "",
        axyb_app_key: str = "",
        axyb_app_secret: str = "",
        ax_base_url: str | None = None,
        account: str = "",
        known_x: KnownX = (),
        clock: Callable[[], float] = time.time,
        **client_options: Any,
    ) -> HuaweiBindings:
        """Build the clients too: the AXB app from `app_key`/`app_secret`, the AX, AXE and AXYB apps
        from their own key pairs (any may be left out). `client_options` are
        HuaweiPrivateNumberClient's keyword arguments, shared by all; `ax_base_url` overrides the
        base URL for the AX app when its access address differs."""

        def app(key: str, secret: str, **options: Any) -> HuaweiPrivateNumberClient | None:
            return HuaweiPrivateNumberClient(key, secret, clock=clock, **options) if key else None

        ax_options = {**client_options, **({"base_url": ax_base_url} if ax_base_url else {})}
        return cls(
            axb=app(app_key, app_secret, **client_options),
            ax=app(ax_app_key, ax_app_secret, **ax_options),
            axe=app(axe_app_key, axe_app_secret, **client_options),
            axyb=app(axyb_app_key, axyb_app_secret, **client_options),
            account=account,
            known_x=known_x,
            clock=clock,
        )

    def known_numbers(self, area_code: str = "") -> tuple[str, ...]:
        """The account's X numbers (for `area_code` when `known_x` is a callable that can tell)."""
        if callable(self._known_x):
            return tuple(normalize_number(x) for x in self._known_x(area_code))
        return self._known_x

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _client(self, mode: str) -> HuaweiPrivateNumberClient:
        client = self.clients.get(mode)
        if client is None:
            raise ValidationError(
                f"Huawei mode {mode} is not configured for this account (configured: {', '.join(self.modes)})",
                provider=PROVIDER,
                problems=(FieldProblem("mode", f"choose one of {', '.join(self.modes)}"),),
            )
        return client

    def _seconds(self, expires_at: datetime | None, now: datetime, *, mode: str, limit: int) -> int:
        """Whole seconds from `now` to `expires_at` (0 = None: the binding lasts until unbound),
        within 60 s .. `limit`."""
        if expires_at is None:
            return 0
        if expires_at.tzinfo is None:
            raise ValidationError(
                "the expiry time has no time zone",
                provider=PROVIDER,
                problems=(FieldProblem("expires_at", "give an aware date and time"),),
            )
        seconds = duration_until(expires_at, now)
        if seconds < MIN_DURATION or seconds > limit:
            days = limit // 86400
            raise ValidationError(
                f"Huawei {mode} bindings last 60 s to {days} days; this expiry is {seconds} s from now",
                provider=PROVIDER,
                problems=(FieldProblem("expires_at", f"must be between 1 minute and {days} days from now"),),
            )
        return seconds

    def _duration(self, expires_at: datetime | None, now: datetime, mode: str = "AXB") -> int:
        return self._seconds(expires_at, now, mode=mode, limit=MAX_DURATION)

    def _axe_minutes(self, expires_at: datetime | None, now: datetime) -> int:
        return math.ceil(self._seconds(expires_at, now, mode="AXE", limit=AXE_MAX_MINUTES * 60) / 60)

    @staticmethod
    def _refuse_change(mode: str, field_name: str, why: str) -> ValidationError:
        return ValidationError(
            f"Huawei {mode}: {why}", provider=PROVIDER, problems=(FieldProblem(field_name, "cannot be changed"),)
        )

    # ---- conversions --------------------------------------------------------------------------

    def _binding(self, item: Any, pool: str, **by_mode: Any) -> Binding:
        """`item` as a `Binding`: the fields every mode fills alike, and those `by_mode`."""
        return Binding(
            provider=PROVIDER,
            subscription_id=item.subscription_id,
            recording=item.record,
            pool=pool,
            user_data=item.user_data,
            account=self.account,
            raw=item.raw,
            **by_mode,
        )

    @staticmethod
    def _status(expires: datetime | None, now: datetime) -> str:
        return EXPIRED if expires is not None and expires <= now else ACTIVE

    def _from_axb(self, item: AxbBinding, *, pool: str = "", now: datetime | None = None) -> Binding:
        expires = item.expires_at
        return self._binding(
            item,
            pool,
            mode="AXB",
            x=item.relation_num,
            a=item.caller,
            b=item.callee,
            expires_at=expires,
            status=self._status(expires, now or self._now()),
        )

    def _from_ax(self, item: AxBinding, *, pool: str = "") -> Binding:
        # AX bindings last until unbound.
        return self._binding(item, pool, mode="AX", x=item.private_num, a=item.orig, expires_at=None, status=ACTIVE)

    def _from_axe(self, item: AxeBinding, *, pool: str = "", expires_at: datetime | None = None) -> Binding:
        # The platform does not say when an AXE binding was made, so its expiry is the one we set.
        return self._binding(
            item,
            pool,
            mode="AXE",
            x=item.virtual_num,
            extension=item.extend_num,
            a=item.bind_num,
            expires_at=expires_at,
            status=self._status(expires_at, self._now()),
        )

    def _from_axyb(self, items: Sequence[AxybBinding], *, b: str = "", pool: str = "") -> Binding:
        """One AXYB subscription from its relations: the YB relation of `b` when there is one, else
        the first with a B (or the AX relation alone)."""
        item = next((i for i in items if b and i.num_b == b), None) or next((i for i in items if i.num_b), items[0])
        expires = item.expires_at
        return self._binding(
            item,
            pool,
            mode="AXYB",
            x=item.num_x,
            a=item.num_a,
            b=item.num_b,
            y=item.num_y,
            expires_at=expires,
            status=self._status(expires, self._now()),
        )

    # ---- BindingProvider ------------------------------------------------------------------------

    async def bind(self, request: BindRequest) -> Binding:
        """Bind; never re-sent after a timeout (`Timeout(maybe_applied=True)`, then use
        `find_after_timeout`). AX ignores `expires_at`: AX bindings last until unbound; for the
        other modes None means the same."""
        client = self._client(request.mode)
        a = normalize_number(request.a)
        x = normalize_number(request.x) if request.x else None
        area = request.area_code.strip() or None
        user_data = request.user_data or None
        if request.mode in ("AXB", "AXYB") and not request.b:
            raise ValidationError(
                f"{request.mode} needs a B number",
                provider=PROVIDER,
                problems=(FieldProblem("b", f"required for {request.mode}"),),
            )
        now = self._now()
        if request.mode == "AXB":
            duration = self._duration(request.expires_at, now)
            made = await client.axb_bind(
                a,
                normalize_number(request.b),
                relation_num=x,
                area_code=None if x else area,
                duration=duration,
                record=request.recording or None,
                user_data=user_data,
            )
            binding = self._from_axb(made, pool=area or "", now=now)
            lasts = made.duration or duration
            return replace(binding, expires_at=now + timedelta(seconds=lasts) if lasts else None, status=ACTIVE)
        if request.mode == "AXE":
            minutes = self._axe_minutes(request.expires_at, now)
            made_axe = await client.axe_bind(
                a,
                virtual_num=x,
                area_code=None if x else area,
                extend_num=request.extension.strip() or None,
                record=request.recording or None,
                time_unit=AXE_MINUTES,
                bind_expired_time=minutes,
                user_data=user_data,
            )
            expires = now + timedelta(minutes=minutes) if minutes else None
            return self._from_axe(made_axe, pool=area or "", expires_at=expires)
        if request.mode == "AXYB":
            return await self._axyb_bind(client, request, a, area, now)
        made_ax = await client.ax_bind(
            a,
            private_num=x,
            area_code=None if x else area,
            record=request.recording or None,
            user_data=user_data,
        )
        return self._from_ax(made_ax, pool=area or "")

    async def _axyb_bind(
        self, client: HuaweiPrivateNumberClient, request: BindRequest, a: str, area: str | None, now: datetime
    ) -> Binding:
        """The AX relation (the platform picks X), then B's YB relation on it. A refused YB bind
        undoes the AX one, so nothing half-made is left; a lost YB answer is left to
        `find_after_timeout`, which finds the subscription by A on X."""
        duration = self._duration(request.expires_at, now, "AXYB")
        sid, x = await client.axyb_bind(
            a,
            area_code=area,
            duration=duration,
            yb_duration=0,  # the YB relation ends with the AX one
            record=request.recording or None,
            user_data=request.user_data or None,
        )
        b = normalize_number(request.b)
        try:
            _, y = await client.axyb_bind(b, subscription_id=sid)
        except ProviderError as error:
            if not error.maybe_applied:
                await client.axyb_unbind(sid)
            raise
        return Binding(
            provider=PROVIDER,
            mode="AXYB",
            subscription_id=sid,
            x=x,
            a=a,
            b=b,
            y=y,
            expires_at=now + timedelta(seconds=duration) if duration else None,
            recording=request.recording,
            status=ACTIVE,
            pool=area or "",
            user_data=request.user_data,
            account=self.account,
        )

    async def update(self, binding: Binding, change: BindingChange) -> Binding:
        client = self._client(binding.mode)
        if binding.mode == "AX":
            raise ValidationError(
                "Huawei AX bindings are not changed here: unbind and bind again",
                provider=PROVIDER,
                problems=(FieldProblem("mode", "AX bindings cannot be modified"),),
            )
        if binding.mode == "AXE":
            return await self._axe_update(client, binding, change)
        if binding.mode == "AXYB":
            return await self._axyb_update(client, binding, change)
        if change.recording is not None and change.recording != binding.recording:
            raise self._refuse_change("AXB", "recording", "recording cannot be switched; unbind and bind again")
        now = self._now()
        if change.expires_at is not None:
            duration: int | None = self._duration(change.expires_at, now)
        else:
            # Every modify moves subscribeTime, from which expiry is computed (subscribeTime +
            # duration). Re-sending the time left keeps the true expiry and that sum in step,
            # whether or not the platform restarts its timer on a modify without `duration`.
            duration = None
            if binding.expires_at is not None:
                left = duration_until(binding.expires_at, now)
                duration = left if MIN_DURATION <= left <= MAX_DURATION else None
        await client.axb_modify(
            binding.subscription_id,
            caller=normalize_number(change.a) if change.a is not None else None,
            callee=normalize_number(change.b) if change.b is not None else None,
            duration=duration,
        )
        return await self.refresh(binding)

    async def _axe_update(self, client: HuaweiPrivateNumberClient, binding: Binding, change: BindingChange) -> Binding:
        """ModifyAXEBinding changes the lifetime (restarted from now) and recording; A, X and E stay."""
        if change.a is not None or change.b is not None:
            raise self._refuse_change("AXE", "a" if change.a is not None else "b", "A (and X, E) cannot be changed")
        now = self._now()
        minutes = self._axe_minutes(change.expires_at, now) if change.expires_at is not None else None
        await client.axe_modify(
            binding.subscription_id,
            record=change.recording,
            time_unit=AXE_MINUTES if minutes is not None else None,
            bind_expired_time=minutes,
        )
        expires = binding.expires_at if minutes is None else (now + timedelta(minutes=minutes) if minutes else None)
        return await self.refresh(replace(binding, expires_at=expires))

    async def _axyb_update(self, client: HuaweiPrivateNumberClient, binding: Binding, change: BindingChange) -> Binding:
        """Huawei has no AXYB modify: a new B is bound on the subscription (another Y) before the
        old YB relation is unbound, so B is reachable throughout."""
        refused = next(
            (name for name in ("expires_at", "a", "recording") if getattr(change, name) is not None),
            None,
        )
        if refused is not None:
            raise self._refuse_change("AXYB", refused, "only B can be changed (Huawei has no AXYB modify)")
        if change.b is None:
            return await self.refresh(binding)
        b = normalize_number(change.b)
        if b == binding.b:
            return await self.refresh(binding)
        _, y = await client.axyb_bind(b, subscription_id=binding.subscription_id)
        if binding.y:
            try:
                await client.axyb_unbind(binding.subscription_id, y_num=binding.y)
            except NotFound:
                pass  # that YB relation had already ended
        return await self.refresh(replace(binding, b=b, y=y))

    async def unbind(self, binding: Binding) -> None:
        """Unbind one binding. Already gone (NotFound, e.g. expired, or a retried DELETE whose
        first answer was lost) counts as done."""
        client = self._client(binding.mode)
        sid = binding.subscription_id
        try:
            if binding.mode == "AXB":
                await client.axb_unbind(subscription_id=sid)
            elif binding.mode == "AXE":
                await client.axe_unbind(subscription_id=sid)
            elif binding.mode == "AXYB":
                await client.axyb_unbind(sid)
            else:
                await client.ax_unbind(subscription_id=sid)
        except NotFound:
            return

    async def refresh(self, binding: Binding) -> Binding:
        client = self._client(binding.mode)
        now = self._now()
        sid = binding.subscription_id
        try:
            if binding.mode == "AXB":
                page = await client.axb_query(subscription_id=sid)
                fresh = self._from_axb(_the_one(page.items, sid), pool=binding.pool, now=now)
            elif binding.mode == "AXE":
                item = await client.axe_query(subscription_id=sid)
                fresh = self._from_axe(item, pool=binding.pool, expires_at=binding.expires_at)
            elif binding.mode == "AXYB":
                items = [i for i in await client.axyb_query(subscription_id=sid) if i.subscription_id == sid]
                if not items:
                    raise NotFound("no such binding", provider=PROVIDER)
                fresh = self._from_axyb(items, b=binding.b, pool=binding.pool)
            else:
                found = await client.ax_query(subscription_id=sid)
                fresh = self._from_ax(_the_one(found, sid), pool=binding.pool)
        except NotFound:
            # Huawei removes a binding when its lifetime ends, so "gone" after the known expiry
            # means it expired; otherwise it was unbound (here or elsewhere).
            expired = binding.expires_at is not None and binding.expires_at <= now
            return replace(binding, status=EXPIRED if expired else REMOVED)
        return replace(fresh, account=binding.account or self.account, user_data=fresh.user_data or binding.user_data)

    async def lookup(self, *, x: str = "", subscription_id: str = "", pool: str = "") -> list[Binding]:
        """By subscription id, by X, or (neither given) on every `known_x` number. `pool` (an
        area code) only labels the results: Huawei cannot search by area."""
        if subscription_id:
            for mode in self.modes:
                probe = Binding(
                    provider=PROVIDER, mode=mode, subscription_id=subscription_id, x="", pool=pool, account=self.account
                )
                fresh = await self.refresh(probe)
                if fresh.status != REMOVED:
                    return [fresh]
            return []
        numbers = [normalize_number(x)] if x else list(self.known_numbers(pool))
        found: list[Binding] = []
        for number in numbers:
            found.extend(await self._on_x(number, pool))
        return found

    async def _on_x(self, number: str, pool: str, modes: Iterable[str] | None = None) -> list[Binding]:
        """The bindings each mode's app has on X (a number of another app is skipped)."""
        found: list[Binding] = []
        now = self._now()
        for mode in self.modes if modes is None else modes:
            client = self.clients.get(mode)
            if client is None:
                continue
            try:
                if mode == "AXB":
                    found += [self._from_axb(i, pool=pool, now=now) for i in await client.axb_list(number)]
                elif mode == "AX":
                    found += [self._from_ax(i, pool=pool) for i in await client.ax_query(private_num=number)]
                elif mode == "AXE":
                    found += [self._from_axe(i, pool=pool) for i in await client.axe_list(number)]
                else:
                    relations = await client.axyb_query(relation_num=number)
                    for sid in dict.fromkeys(i.subscription_id for i in relations):
                        found.append(self._from_axyb([i for i in relations if i.subscription_id == sid], pool=pool))
            except NotFound:
                continue
            except (ValidationError, AuthError) as exc:
                if not _is_foreign_number(exc):
                    raise
        return found

    async def find_after_timeout(self, request: BindRequest) -> list[Binding]:
        """Bindings matching a bind whose answer was lost (same A, B, extension and X or area, and
        the user-data tag sent); see the class docstring for what can and cannot be found."""
        client = self._client(request.mode)
        a = normalize_number(request.a)
        area = request.area_code.strip()
        if request.mode == "AX":
            try:
                items = await client.ax_query(orig=a)
            except NotFound:
                return []
            x = normalize_number(request.x) if request.x else ""
            return [
                self._from_ax(i, pool=area)
                for i in items
                if i.orig == a and (not x or i.private_num == x) and _same_tag(i.user_data, request.user_data)
            ]
        b = normalize_number(request.b) if request.b else ""
        chosen_x = request.x and request.mode != "AXYB"  # AXYB's X is always the platform's pick
        candidates: Sequence[str] = [normalize_number(request.x)] if chosen_x else self.known_numbers(area)
        if not candidates:
            raise CannotCheck(
                f"cannot check whether the {request.mode} bind was applied: the platform picked X, and Huawei "
                "can only be queried per X number; add this account's X numbers to its configuration",
                provider=PROVIDER,
            )
        found: list[Binding] = []
        for number in candidates:
            if request.mode == "AXB":
                found += await self._axb_on(client, number, a, b, request.user_data, area)
                continue
            for binding in await self._on_x(number, area, modes=(request.mode,)):
                if binding.a != a or not _same_tag(binding.user_data, request.user_data):
                    continue
                if request.extension and binding.extension != request.extension.strip():
                    continue
                found.append(binding)
        return found

    async def _axb_on(
        self, client: HuaweiPrivateNumberClient, number: str, a: str, b: str, tag: str, area: str
    ) -> list[Binding]:
        """The AXB bindings of A+X+B on one X with the tag sent (none when X is another app's)."""
        try:
            page = await client.axb_query(relation_num=number, caller=a, callee=b)
        except NotFound:
            return []
        except (ValidationError, AuthError) as exc:
            if _is_foreign_number(exc):
                return []
            raise
        now = self._now()
        return [
            self._from_axb(i, pool=area, now=now)
            for i in page.items
            if i.caller == a and i.callee == b and _same_tag(i.user_data, tag)
        ]

    async def recording_link(self, recording: Recording) -> RecordingLink:
        """The download link of a recorded call, asked of the app that pushed its CDR (its
        `appKey`, else the AXB app, else any), from the fileName and recordDomain its CDR named.
        The platform answers a redirect whose Location is the link; it is not followed."""
        locator = recording.locator
        name = locator.get("fileName") or locator.get("recordObjectName", "")
        domain = locator.get("recordDomain", "")
        if not name or not domain:
            raise ValidationError(
                "this call's CDR named no recording file (recordObjectName and recordDomain)",
                provider=PROVIDER,
                problems=(FieldProblem("recording", "no fileName or recordDomain in the CDR"),),
            )
        by_key = {client.app_key: client for client in self.clients.values()}
        client = by_key.get(locator.get("appKey", "")) or self.axb or next(iter(self.clients.values()))
        url = await client.record_download_url(name, domain)
        return RecordingLink(url, link_expiry(url), RECORD_LINK_LIFETIME)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def link_expiry(url: str) -> datetime | None:
    """When a signed download URL stops working, where its query says: `Expires` (Unix seconds,
    OBS/S3 V2 query signing) or `X-Obs-Date`/`X-Amz-Date` with `X-Obs-Expires`/`X-Amz-Expires`
    (V4); None otherwise."""
    query = {k.lower(): v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)}
    expires = query.get("expires", "")
    if expires.isdigit() and len(expires) <= 12:
        return datetime.fromtimestamp(int(expires), UTC)
    signed = query.get("x-obs-date") or query.get("x-amz-date") or ""
    lasts = query.get("x-obs-expires") or query.get("x-amz-expires") or ""
    if signed and lasts.isdigit() and len(lasts) <= 9:
        try:
            return datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) + timedelta(seconds=int(lasts))
        except ValueError:
            return None
    return None


__all__ = [
    "AXB_PATH",
    "AXE_PATH",
    "AXE_V2_PATH",
    "AXYB_PATH",
    "AX_PATH",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "RECORD_LINK_LIFETIME",
    "RECORD_PATH",
    "AxBinding",
    "AxbBinding",
    "AxeBinding",
    "AxybBinding",
    "HuaweiBindings",
    "HuaweiPrivateNumberClient",
    "duration_until",
    "error_for_result",
    "error_from_response",
    "format_wire_time",
    "link_expiry",
    "normalize_number",
    "parse_wire_time",
    "resolve_base_url",
]
