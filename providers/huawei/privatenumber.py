"""Huawei Cloud PrivateNumber (隐私保护通话) client, AXB and AX modes, and its `BindingProvider`.

Wire facts (docs/reference/huawei_volcengine.md, Part A):

- one base URL per app ("APP接入地址"), JSON bodies, `Content-Type: application/json;charset=UTF-8`
  on every call, X-AKSK headers (providers/huawei/auth.py) signed afresh for every send;
- AXB `/rest/caas/relationnumber/partners/v1.0`: POST bind, DELETE unbind (query params), PUT
  modify, GET query (by subscriptionId, or by relationNum with optional callerNum/calleeNum,
  paged with pageIndex/pageSize 10..100);
- AX `/rest/provision/caas/privatenumber/v1.0`: POST bind, DELETE unbind, GET query;
- recording URL: GET `/rest/provision/voice/record/v1.0` answers 301/302, and the download URL is
  the `Location` header (never followed: the Transport has follow_redirects=False);
- success is `resultcode == "0"`; anything else is mapped by `error_for_result` below, keeping the
  vendor code and `resultdesc`.

Every app has one mode, so an account with both AXB and AX bindings has two apps (two key pairs);
`HuaweiBindings` takes one client per mode.

Times. Huawei gives no expiry timestamp: an AXB binding lives `duration` seconds (0 = forever,
else 60..7776000) from `subscribeTime`, the time of the bind or of the last modify (a modify that
sends `duration` restarts the timer). `subscribeTime` is "yyyy-MM-dd HH:mm:ss" with no zone (the
docs even show "2018-2-24 15:15:15"). The platform's other timestamps (CDRs) are documented as UTC
("8 hours behind Beijing time"), so we read it as UTC by default; `wire_tz` lets a deployment that
finds otherwise say so (e.g. UTC+8). AX bindings never expire (`expires_at` None).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar, Unpack

import httpx

from providers.bindings import ACTIVE, EXPIRED, REMOVED, Binding, BindingChange, BindRequest
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
from providers.pagination import numbered_pages
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
RECORD_PATH = "/rest/provision/voice/record/v1.0"

MIN_DURATION = 60
MAX_DURATION = 7_776_000  # 90 days
PAGE_SIZE_MIN, PAGE_SIZE_MAX = 10, 100
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


_BindingT = TypeVar("_BindingT", "AxbBinding", "AxBinding")

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
    return "privateNum" if path.endswith(AX_PATH) else "relationNum"


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
        **options: Unpack[ClientOptions],
    ) -> None:
        self.app_key = app_key
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

        return numbered_pages(fetch, provider=PROVIDER)

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
    """Huawei PrivateNumber as a `providers.bindings.BindingProvider`, modes AXB and AX.

    Each mode is its own app, hence its own client: pass `axb=` and/or `ax=` (or use `connect`).
    `known_x` lists the X numbers the account owns (from configuration), or is a callable giving
    them for an area code ("" = all): Huawei cannot list bindings by account, nor AXB bindings by
    A, so these are what `lookup()` browses and what `find_after_timeout` searches when a bind let
    the platform pick X.

    What `find_after_timeout` can find after a lost bind answer:
      - AXB with X given: exactly, by querying A+X+B on that X;
      - AXB with X picked by area code: only on the `known_x` numbers (A+X+B on each); with no
        `known_x` it raises rather than answer "nothing" (an empty answer would invite a
        duplicate bind on another X);
      - AX: always, by querying A (origNum), which lists A's (at most 5) X numbers.
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        axb: HuaweiPrivateNumberClient | None = None,
        ax: HuaweiPrivateNumberClient | None = None,
        account: str = "",
        known_x: KnownX = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if axb is None and ax is None:
            raise ValueError("HuaweiBindings needs an AXB client, an AX client, or both")
        self.axb = axb
        self.ax = ax
        self.account = account
        self._known_x = known_x if callable(known_x) else tuple(normalize_number(x) for x in known_x)
        self.modes: tuple[str, ...] = tuple(m for m, c in (("AXB", axb), ("AX", ax)) if c is not None)
        self._clock = clock

    @classmethod
    def connect(
        cls,
        app_key: str = "",
        app_secret: str = "",
        *,
        ax_app_key: str = "",
        ax_app_secret: str = "",
        ax_base_url: str | None = None,
        account: str = "",
        known_x: KnownX = (),
        clock: Callable[[], float] = time.time,
        **client_options: Any,
    ) -> HuaweiBindings:
        """Build the clients too: the AXB app from `app_key`/`app_secret`, the AX app from
        `ax_app_key`/`ax_app_secret` (either may be left out). `client_options` are
        HuaweiPrivateNumberClient's keyword arguments, shared by both; `ax_base_url` overrides the
        base URL for the AX app when its access address differs."""
        axb = HuaweiPrivateNumberClient(app_key, app_secret, clock=clock, **client_options) if app_key else None
        ax_options = dict(client_options)
        if ax_base_url:
            ax_options["base_url"] = ax_base_url
        ax = HuaweiPrivateNumberClient(ax_app_key, ax_app_secret, clock=clock, **ax_options) if ax_app_key else None
        return cls(axb=axb, ax=ax, account=account, known_x=known_x, clock=clock)

    def known_numbers(self, area_code: str = "") -> tuple[str, ...]:
        """The account's X numbers (for `area_code` when `known_x` is a callable that can tell)."""
        if callable(self._known_x):
            return tuple(normalize_number(x) for x in self._known_x(area_code))
        return self._known_x

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _client(self, mode: str) -> HuaweiPrivateNumberClient:
        client = {"AXB": self.axb, "AX": self.ax}.get(mode)
        if client is None:
            raise ValidationError(
                f"Huawei mode {mode} is not configured for this account (configured: {', '.join(self.modes)})",
                provider=PROVIDER,
                problems=(FieldProblem("mode", f"choose one of {', '.join(self.modes)}"),),
            )
        return client

    def _duration(self, expires_at: datetime, now: datetime) -> int:
        if expires_at.tzinfo is None:
            raise ValidationError(
                "the expiry time has no time zone",
                provider=PROVIDER,
                problems=(FieldProblem("expires_at", "give an aware date and time"),),
            )
        seconds = duration_until(expires_at, now)
        if seconds < MIN_DURATION or seconds > MAX_DURATION:
            raise ValidationError(
                f"Huawei AXB bindings last 60 s to 90 days; this expiry is {seconds} s from now",
                provider=PROVIDER,
                problems=(FieldProblem("expires_at", "must be between 1 minute and 90 days from now"),),
            )
        return seconds

    # ---- conversions --------------------------------------------------------------------------

    def _binding(self, item: AxbBinding | AxBinding, pool: str, **by_mode: Any) -> Binding:
        """`item` as a `Binding`: the fields both modes fill alike, and those `by_mode`."""
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

    def _from_axb(self, item: AxbBinding, *, pool: str = "", now: datetime | None = None) -> Binding:
        expires = item.expires_at
        status = EXPIRED if expires is not None and expires <= (now or self._now()) else ACTIVE
        return self._binding(
            item, pool, mode="AXB", x=item.relation_num, a=item.caller, b=item.callee, expires_at=expires, status=status
        )

    def _from_ax(self, item: AxBinding, *, pool: str = "") -> Binding:
        # AX bindings last until unbound.
        return self._binding(item, pool, mode="AX", x=item.private_num, a=item.orig, expires_at=None, status=ACTIVE)

    # ---- BindingProvider ------------------------------------------------------------------------

    async def bind(self, request: BindRequest) -> Binding:
        """Bind; never re-sent after a timeout (`Timeout(maybe_applied=True)`, then use
        `find_after_timeout`). AX ignores `expires_at`: AX bindings last until unbound."""
        client = self._client(request.mode)
        a = normalize_number(request.a)
        x = normalize_number(request.x) if request.x else None
        area = request.area_code.strip() or None
        if request.mode == "AXB":
            if not request.b:
                raise ValidationError(
                    "AXB needs a B number", provider=PROVIDER, problems=(FieldProblem("b", "required for AXB"),)
                )
            now = self._now()
            duration = self._duration(request.expires_at, now)
            made = await client.axb_bind(
                a,
                normalize_number(request.b),
                relation_num=x,
                area_code=None if x else area,
                duration=duration,
                record=request.recording or None,
                user_data=request.user_data or None,
            )
            binding = self._from_axb(made, pool=area or "", now=now)
            return replace(binding, expires_at=now + timedelta(seconds=made.duration or duration), status=ACTIVE)
        made_ax = await client.ax_bind(
            a,
            private_num=x,
            area_code=None if x else area,
            record=request.recording or None,
            user_data=request.user_data or None,
        )
        return self._from_ax(made_ax, pool=area or "")

    async def update(self, binding: Binding, change: BindingChange) -> Binding:
        client = self._client(binding.mode)
        if binding.mode != "AXB":
            raise ValidationError(
                "Huawei AX bindings are not changed here: unbind and bind again",
                provider=PROVIDER,
                problems=(FieldProblem("mode", "AX bindings cannot be modified"),),
            )
        if change.recording is not None and change.recording != binding.recording:
            raise ValidationError(
                "Huawei AXB cannot switch recording on an existing binding: unbind and bind again",
                provider=PROVIDER,
                problems=(FieldProblem("recording", "cannot be changed"),),
            )
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

    async def unbind(self, binding: Binding) -> None:
        """Unbind one binding. Already gone (NotFound, e.g. expired, or a retried DELETE whose
        first answer was lost) counts as done."""
        client = self._client(binding.mode)
        try:
            if binding.mode == "AXB":
                await client.axb_unbind(subscription_id=binding.subscription_id)
            else:
                await client.ax_unbind(subscription_id=binding.subscription_id)
        except NotFound:
            return

    async def refresh(self, binding: Binding) -> Binding:
        client = self._client(binding.mode)
        now = self._now()
        try:
            if binding.mode == "AXB":
                page = await client.axb_query(subscription_id=binding.subscription_id)
                fresh = self._from_axb(_the_one(page.items, binding.subscription_id), pool=binding.pool, now=now)
            else:
                found = await client.ax_query(subscription_id=binding.subscription_id)
                fresh = self._from_ax(_the_one(found, binding.subscription_id), pool=binding.pool)
        except NotFound:
            # Huawei removes an AXB binding when its duration ends, so "gone" after the known
            # expiry means it expired; otherwise it was unbound (here or elsewhere).
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

    async def _on_x(self, number: str, pool: str) -> list[Binding]:
        found: list[Binding] = []
        now = self._now()
        if self.axb is not None:
            try:
                found += [self._from_axb(i, pool=pool, now=now) for i in await self.axb.axb_list(number)]
            except (ValidationError, AuthError) as exc:
                if not _is_foreign_number(exc):
                    raise
        if self.ax is not None:
            try:
                found += [self._from_ax(i, pool=pool) for i in await self.ax.ax_query(private_num=number)]
            except NotFound:
                pass
            except (ValidationError, AuthError) as exc:
                if not _is_foreign_number(exc):
                    raise
        return found

    async def find_after_timeout(self, request: BindRequest) -> list[Binding]:
        """Bindings matching a bind whose answer was lost (same A, B and X or area); see the class
        docstring for what can and cannot be found."""
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
        b = normalize_number(request.b)
        candidates: Sequence[str] = [normalize_number(request.x)] if request.x else self.known_numbers(area)
        if not candidates:
            raise CannotCheck(
                "cannot check whether the AXB bind was applied: the platform picked X, and Huawei can only "
                "be queried per X number; add this account's X numbers to its configuration",
                provider=PROVIDER,
            )
        now = self._now()
        found: list[Binding] = []
        for number in candidates:
            try:
                page = await client.axb_query(relation_num=number, caller=a, callee=b)
            except NotFound:
                continue
            except (ValidationError, AuthError) as exc:
                if _is_foreign_number(exc):
                    continue
                raise
            found += [
                self._from_axb(i, pool=area, now=now)
                for i in page.items
                if i.caller == a and i.callee == b and _same_tag(i.user_data, request.user_data)
            ]
        return found

    async def aclose(self) -> None:
        for client in (self.axb, self.ax):
            if client is not None:
                await client.aclose()


__all__ = [
    "AXB_PATH",
    "AX_PATH",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "RECORD_PATH",
    "AxBinding",
    "AxbBinding",
    "HuaweiBindings",
    "HuaweiPrivateNumberClient",
    "duration_until",
    "error_for_result",
    "error_from_response",
    "format_wire_time",
    "normalize_number",
    "parse_wire_time",
    "resolve_base_url",
]
