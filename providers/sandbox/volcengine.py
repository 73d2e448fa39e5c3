"""A local emulator of Volcengine VMS number privacy (隐私号), version 2022-01-01.

It answers at the root path, like cloud-vms.volcengineapi.com, with `?Action=...&Version=2022-01-01`
and the vendor's envelope `{"ResponseMetadata": {RequestId, Action, Version, Service, Region,
Error?}, "Result": ...}`:

    BindAXN  SelectNumberAndBindAXN  UpdateAXN  UnbindAXN
    BindAXB  SelectNumberAndBindAXB  UpdateAXB  UnbindAXB
    QuerySubscription  QuerySubscriptionForList  NumberPoolList  NumberList (GET)
    QueryAudioRecordFileUrl

and simulates calls on its bindings (`simulate_call`, POST /_sandbox/calls): the callbacks
Volcengine would send about them (call status, call record, call recording), each signed with
the emulator's callback AuthToken the vendor's way (providers/volcengine/pushes.py).

Like the gateway it checks every request's HMAC-SHA256 signature (providers/volcengine/signing.py,
the same functions the client signs with) and answers its errors with HTTP 4xx and the gateway's
codes; number-service (business) errors come back under HTTP 200 with `ResponseMetadata.Error`.

It is a `providers.sandbox.http.Handler`: in process through `AsyncInProcessTransport`, or on
loopback with `serve()`, where the official `volcengine` Python SDK can talk to it. `faults`
(the shared FaultInjector; paths are "/<Action>") injects failures; `fail_next` queues a
vendor error envelope for one action.

Where the emulator had to choose (the reference or the docs are silent or disagree):

- Gateway statuses follow the Volcengine common-error table: SignatureDoesNotMatch, InvalidAccessKey,
  MissingAuthenticationToken and MissingSignature 401; InvalidAuthorization, InvalidCredential and
  MissingParameter 400; InvalidTimestamp 403 (some product pages say 400); InvalidActionOrVersion
  404; FlowLimitExceeded 429; InternalError 500. `CodeN` is sent where the table gives one.
- A signature is valid for X-Expires seconds (default 900) after X-Date, and X-Date may be at most
  900 s ahead of the emulator's clock. The body hash is taken from the bytes received, never from
  the X-Content-Sha256 header, which must match them when present. `host` and `x-date` must be
  among the signed headers. The credential scope must name service `vms` and the configured
  region (default cn-north-1; whether the live gateway also takes cn-beijing is unknown).
- Business errors: a malformed or missing body field is `IllegalArgument` whose message starts
  with the parameter name; an X number outside the pool or disabled is `IllegalPhoneNoX`; an A or
  B number already bound on that X (AXB), or the same A on that X (AXN), is `ConflictWithExisting`;
  an AXN X already serving another A is `PhoneNoXOccupied`; an unknown, unbound or expired SubId is
  `SubscriptionEmpty`; no free X for SelectNumberAndBind* is `NumberNotEnough`; an action that
  does not fit the pool's type (BindAXN on an AXB pool) or `updatePhoneNoB` on an AX binding is
  `UnsupportedOperation`.
- ExpireTime must be more than 60 s after now and before 2038-01-01 00:00:00 Beijing time
  (UTC+8, the time zone of the vendor's docs and console): 2145888000.
- A binding past its ExpireTime reads as Status 0 (unbound) and frees its X, by `clock`.
- QuerySubscription sends EnableTime/ExpireTime as integers, QuerySubscriptionForList as strings
  (the reference's table says Long, its list example shows strings; clients must take both).
- QuerySubscriptionForList needs one of SubId, PhoneNoA, PhoneNoB, PhoneNoX, OutId; Limit is
  1..100 (default 20). NumberList's Limit is 1..500. NumberPoolList's Limit is 1..100.
- AXN without PhoneNoB is stored with an empty B (the live platform adds a placeholder number).
- QueryAudioRecordFileUrl for an unknown or unrecorded CallId answers empty URLs, not an error
  (the docs list no such error, and recordings appear asynchronously).
- QueryAudioRecordFileUrl answers TOS-style presigned links (X-Tos-Date, X-Tos-Expires=3600):
  Volcengine keeps recordings in its object storage, whose presigned URLs say their lifetime;
  what the live service answers is not documented.
- A simulated call: A calls X and reaches B (AXB, and AXN with a B); on an AXN without B a
  made-up number calls X and reaches A. Answered: status started, ringing, connected, ended,
  then the call record (callResult 1), then the recording message when the binding records
  (RecordFlag 1), whose CallId QueryAudioRecordFileUrl then answers. Busy: started, ended,
  record with callResult 8. No answer: started, ringing, ended, callResult 7. A call to an X
  with no binding: only the call record, callResult 13, no subscriptionId (the platform has no
  binding to tell of). Times end at the clock's now; releaseType is sent as 1 and not read
  (its table was not readable in the docs).
- Every action is taken by GET or POST; a POST body may be a form (what the SDK sends) or JSON.
- `IdempotentId` (SelectNumberAndBindAXN/AXB, at most 64 characters): a second request with an
  IdempotentId already used in that pool for that mode binds nothing and answers the first one's
  result again (the vendor's SDK models carry the field; its docs state no window, so it is kept
  as long as the state is).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Unpack, cast, overload
from urllib.parse import parse_qsl

from providers.accounts import Account
from providers.pushes import PushRequest
from providers.sandbox.base import (
    SIMULATED_OUTCOMES,
    Call,
    ControlOutcome,
    ControlRefusal,
    Emulator,
    EmulatorOptions,
    SimulatedCall,
)
from providers.sandbox.credentials import Setting, masked
from providers.sandbox.faults import Fault
from providers.sandbox.http import BodyError, SandboxRequest, SandboxResponse
from providers.sandbox.state import StateStore
from providers.volcengine import pushes, signing

log = logging.getLogger("teledeck.sandbox.volcengine")

# Public on purpose: the emulator accepts them, and `teledeck sandbox serve` prints them.
DEFAULT_ACCESS_KEY = "AKLTteledeckSandboxLocalOnly0000"
DEFAULT_SECRET_KEY = "teledeck-volc-sandbox-secret-public-not-secret"
DEFAULT_NUMBER_POOL_NO = "NP202601050000000202"  # the AXN pool
AXB_POOL_NO = "NP202601050000000201"
FULL_POOL_NO = "NP202601050000000299"  # an AXN pool whose only number is taken
ACCESS_KEY_ENV = "TELEDECK_SANDBOX_VOLC_ACCESS_KEY"
SECRET_KEY_ENV = "TELEDECK_SANDBOX_VOLC_SECRET_KEY"
NUMBER_POOL_ENV = "TELEDECK_SANDBOX_VOLC_NUMBER_POOL_NO"
# The console's AuthToken that signs callbacks (10-20 characters); public like the keys above.
DEFAULT_CALLBACK_TOKEN = "teledeckVolcCb0001"
CALLBACK_TOKEN_ENV = "TELEDECK_SANDBOX_VOLC_CALLBACK_TOKEN"
SANDBOX_ACCOUNT_ID = "2100000001"  # the accountId the emulator's callbacks carry
RECORD_ORIGIN = "https://vms-record.sandbox.teledeck.invalid"
RECORD_LINK_SECONDS = 3600
PRIVACY_SERVICE_TYPE = 200
# For in-process clients: `.invalid` never resolves, so nothing can leak to a network.
IN_PROCESS_ENDPOINT = "https://vms.sandbox.teledeck.invalid"
SCHEMA_VERSION = 1
API_VERSION = "2022-01-01"
SERVICE = "vms"
REGION = "cn-north-1"
FUTURE_SKEW_SECONDS = 900
MIN_EXPIRY_LEAD = 60
EXPIRY_LIMIT = 2145888000  # 2038-01-01T00:00:00+08:00
USER_DATA_MAX = 2048
OUT_ID_MAX = 128
IDEMPOTENT_ID_MAX = 64

ACTIONS = (
    "BindAXN",
    "SelectNumberAndBindAXN",
    "UpdateAXN",
    "UnbindAXN",
    "BindAXB",
    "SelectNumberAndBindAXB",
    "UpdateAXB",
    "UnbindAXB",
    "QuerySubscription",
    "QuerySubscriptionForList",
    "NumberPoolList",
    "NumberList",
    "QueryAudioRecordFileUrl",
)

# Gateway errors: code -> (HTTP status, CodeN or None, message)
GATEWAY_ERRORS: dict[str, tuple[int, int | None, str]] = {
    "MissingParameter": (400, 100002, "The request is missing {} parameter."),
    "MissingAuthenticationToken": (401, 100003, "Request is missing Authentication Token."),
    "MissingRequestInfo": (400, 100004, "The request is missing {} information."),
    "MissingSignature": (401, 100005, "The request is missing signature."),
    "InvalidTimestamp": (403, 100006, "The Signature of the request is expired."),
    "InvalidActionOrVersion": (404, 100008, "Could not find operation {}."),
    "InvalidAccessKey": (401, 100009, "The accesskey [{}] included in the request is invalid."),
    "SignatureDoesNotMatch": (
        401,
        100010,
        "The request signature we calculated does not match the signature "
        "you provided. Check your Secret Access Key and signing method. "
        "Consult the service documentation for details.",
    ),
    "AccessDenied": (403, 100013, "User is not authorized to perform: {}."),
    "InternalError": (500, 100014, "Service has some internal Error. Pls Contact With Admin."),
    "InvalidAuthorization": (400, None, "Invalid 'Authorization' header, Pls check authorization header."),
    "InvalidCredential": (
        400,
        None,
        "Invalid credential in 'Authorization', Pls check credential in authorization header.",
    ),
    "MethodNotAllowed": (405, None, "Http method {} is not allowed."),
    "FlowLimitExceeded": (429, None, "Too many requests: the basic rate limit was exceeded."),
    "ServiceUnavailableTemp": (503, None, "Service is temporarily unavailable."),
}
_STATUS_CODES = {
    400: "MissingParameter",
    401: "SignatureDoesNotMatch",
    403: "AccessDenied",
    404: "InvalidActionOrVersion",
    405: "MethodNotAllowed",
    429: "FlowLimitExceeded",
    500: "InternalError",
    502: "InternalError",
    503: "ServiceUnavailableTemp",
    504: "InternalError",
}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")  # area code with its 0, then 7-8 digits
_INTEGER = re.compile(r"^-?\d+$")

CITY_NAMES = {"010": "北京", "021": "上海", "020": "广州", "0755": "深圳", "0571": "杭州"}
# A made-up mobile segment table, for the sandbox's A/B city codes (real platforms use a
# number-segment database). Unknown segments have no city code.
MOBILE_SEGMENTS = {"13700000": "010", "13700001": "021", "13700002": "020", "13700003": "0755", "13700004": "0571"}
SUB_SERVICE_NAMES = {"201": "AXB", "202": "AXN"}
NUMBER_STATUS = {1: "在用", 2: "用户停用", 3: "平台停用", 4: "已注销"}
NUMBER_TYPES = {0: "移动", 1: "固话"}
CALL_DISPLAY_TYPES = {
    1: "不显示真实号码",
    2: "被叫看到主叫真实号码",
    3: "主叫看到被叫真实号码",
    4: "双方都看到真实号码",
}


class VolcError(Exception):
    """Raised below `handle`; becomes a vendor error envelope."""

    def __init__(self, code: str, message: str = "", *, status: int | None = None) -> None:
        known = GATEWAY_ERRORS.get(code)
        self.code = code
        self.status = status if status is not None else (known[0] if known else 200)
        self.code_n = known[1] if known else None
        self.message = message or (known[2].replace("{}", "").strip() if known else code)
        super().__init__(f"{code}: {self.message}")

    @classmethod
    def gateway(cls, code: str, *args: str) -> VolcError:
        status, _, template = GATEWAY_ERRORS[code]
        return cls(
            code, template.format(*args) if args else template.replace(" {}", "").replace("{}", ""), status=status
        )


def illegal(parameter: str, why: str) -> VolcError:
    """The emulator's parameter error: the message starts with the parameter's name."""
    return VolcError("IllegalArgument", f"{parameter} {why}")


# ---------------------------------------------------------------------------------------------
# Seed data (numbers from made-up ranges: X numbers 170 + zero-padded area code + 4 digits,
# A/B numbers 137000000xx as in the vendor's own examples; landlines with a 5550 exchange)


def _city_prefix(city: str) -> str:
    return "170" + city.zfill(4)


def build_seed(now: float, pool_no: str = DEFAULT_NUMBER_POOL_NO) -> dict[str, Any]:
    """The first-start state; binding times are relative to `now`, so some always expire soon."""
    bought = int(now) - 90 * 86400
    pools = [
        {
            "NumberPoolNo": pool_no,
            "NumberPoolName": "teledeck sandbox AXN",
            "ServiceType": "200",
            "SubServiceType": "202",
        },
        {
            "NumberPoolNo": AXB_POOL_NO,
            "NumberPoolName": "teledeck sandbox AXB",
            "ServiceType": "200",
            "SubServiceType": "201",
        },
        {
            "NumberPoolNo": FULL_POOL_NO,
            "NumberPoolName": "teledeck sandbox AXN (full)",
            "ServiceType": "200",
            "SubServiceType": "202",
        },
    ]
    numbers: list[dict[str, Any]] = []

    def add(number: str, pool: str, city: str, kind: int = 0, status: int = 1) -> None:
        numbers.append(
            {
                "Number": number,
                "NumberPoolNo": pool,
                "CityCode": city,
                "NumberTypeCode": kind,
                "NumberStatusCode": status,
                "NumberPurchaseTime": bought + len(numbers) * 600,
            }
        )

    for city in ("010", "021", "020", "0755", "0571"):
        for n in range(1, 5):
            status = 2 if (city, n) == ("010", 4) else 1  # one user-disabled number
            add(f"{_city_prefix(city)}{n:04d}", pool_no, city, status=status)
    add("01055500101", pool_no, "010", kind=1)
    add("02155500101", pool_no, "021", kind=1)
    for city in ("010", "021", "0755"):
        for n in range(101, 104):
            add(f"{_city_prefix(city)}{n:04d}", AXB_POOL_NO, city)
    add(f"{_city_prefix('020')}0901", FULL_POOL_NO, "020")

    t = int(now)
    day = 86400
    subs = [
        # pool, mode, A, B, X, enabled, expires, status, record, user data, out id
        (
            pool_no,
            "AXN",
            "13700000001",
            "13700000002",
            "17000100001",
            t - 3 * day,
            t + 30 * day,
            1,
            1,
            "order-1001",
            "",
        ),
        (pool_no, "AXN", "13700000003", "13700000004", "17000100002", t - day, t + 10 * 60, 1, 1, "order-1002", ""),
        (pool_no, "AXN", "13700001005", "", "17000210001", t - day, t + 2 * 3600, 1, 0, "courier-77", ""),
        (pool_no, "AXN", "13700002006", "13700002007", "17000200001", t - 9 * day, t - day, 1, 1, "order-0999", ""),
        (
            pool_no,
            "AXN",
            "13700003008",
            "13700003009",
            "17007550001",
            t - 5 * day,
            t + 20 * day,
            0,
            1,
            "order-0950",
            "",
        ),
        (
            AXB_POOL_NO,
            "AXB",
            "13700000011",
            "13700000012",
            "17000100101",
            t - 2 * day,
            t + 7 * day,
            1,
            1,
            "ride-501",
            "out-501",
        ),
        (
            AXB_POOL_NO,
            "AXB",
            "13700000013",
            "13700000014",
            "17000100101",
            t - 2 * day,
            t + 7 * day,
            1,
            1,
            "ride-502",
            "out-502",
        ),
        (
            AXB_POOL_NO,
            "AXB",
            "13700001015",
            "13700001016",
            "17000210101",
            t - day,
            t + 30 * 60,
            1,
            0,
            "ride-503",
            "out-503",
        ),
        (FULL_POOL_NO, "AXN", "13700002017", "13700002018", "17000200901", t - day, t + 14 * day, 1, 1, "", ""),
    ]
    subscriptions = []
    for i, (pool, mode, a, b, x, enabled, expires, status, record, user_data, out_id) in enumerate(subs, start=1):
        subscriptions.append(
            {
                "SubId": _sub_id(enabled, i),
                "NumberPoolNo": pool,
                "Mode": mode,
                "PhoneNoA": a,
                "PhoneNoB": b,
                "PhoneNoX": x,
                "Status": status,
                "RecordFlag": record,
                "EnableTime": enabled,
                "ExpireTime": expires,
                "UserData": user_data,
                "OutId": out_id,
                "CallDisplayType": 1,
                "Seq": i,
            }
        )
    calls = [
        {"CallId": "SBXCALL202601050000000001", "SubId": subscriptions[0]["SubId"], "Recorded": True},
        {"CallId": "SBXCALL202601050000000002", "SubId": subscriptions[5]["SubId"], "Recorded": True},
        {"CallId": "SBXCALL202601050000000003", "SubId": subscriptions[2]["SubId"], "Recorded": False},
    ]
    return {
        "schema": SCHEMA_VERSION,
        "seeded": True,
        "seq": len(subscriptions),
        "pools": pools,
        "numbers": numbers,
        "subscriptions": subscriptions,
        "calls": calls,
    }


def empty_state(now: float, pool_no: str = DEFAULT_NUMBER_POOL_NO) -> dict[str, Any]:
    state = build_seed(now, pool_no)
    state["subscriptions"], state["calls"], state["seeded"] = [], [], False
    return state


def _sub_id(enabled: float, seq: int) -> str:
    """S + enable time in ms + 8 hex digits derived from a counter (the vendor's SubId shape)."""
    return f"S{int(enabled) * 1000}{hashlib.sha256(f'volc-sub:{seq}'.encode()).hexdigest()[:8]}"


def city_code_of(number: str, numbers: list[dict[str, Any]] | None = None) -> str:
    """The area code a number belongs to ("" when the sandbox cannot tell)."""
    for record in numbers or ():
        if record["Number"] == number:
            return cast("str", record["CityCode"])
    if _LANDLINE.match(number):
        return number[:3] if number[1] in "12" else number[:4]
    return MOBILE_SEGMENTS.get(number[:8], "")


# ---------------------------------------------------------------------------------------------
# The emulator


class Params:
    """An action's parameters: query (less Action/Version) and then the body, body winning."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self.values = dict(pairs)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name] != ""

    def getlist(self, name: str) -> list[str]:
        items: list[str] = []
        for key, value in self.pairs:
            if key == name or re.fullmatch(re.escape(name) + r"\.\d+", key):
                items.extend(v.strip() for v in value.split(",") if v.strip())
        return items


class VolcOptions(EmulatorOptions, total=False):
    """`VolcSandbox`'s keywords beyond its own: the common options and its settings."""

    access_key: str | None
    secret_key: str | None
    number_pool_no: str | None
    callback_token: str | None


class VolcSandbox(Emulator[VolcError]):
    """The Volcengine VMS emulator. Thread-safe; state lives in a `StateStore`."""

    vendor = "volcengine"
    SCHEMA_VERSION = SCHEMA_VERSION
    REQUEST_ID_HEADER = "x-tt-logid"
    error_type = VolcError

    access_key = Setting(ACCESS_KEY_ENV, DEFAULT_ACCESS_KEY)
    secret_key = Setting(SECRET_KEY_ENV, DEFAULT_SECRET_KEY)
    number_pool_no = Setting(NUMBER_POOL_ENV, DEFAULT_NUMBER_POOL_NO)
    callback_token = Setting(CALLBACK_TOKEN_ENV, DEFAULT_CALLBACK_TOKEN, strip=True)

    def __init__(
        self, store: StateStore | None = None, *, region: str = REGION, **options: Unpack[VolcOptions]
    ) -> None:
        super().__init__(store, **options)
        self.axb_pool_no = AXB_POOL_NO
        self.full_pool_no = FULL_POOL_NO
        self.region = region
        self.actions_received: Counter[str] = Counter()  # every request, by Action, before any check
        self.actions_applied: Counter[str] = Counter()  # requests that passed the gateway and ran
        self._load_state()

    # -- state ---------------------------------------------------------------------------------

    def fresh_state(self, seed_data: bool) -> dict[str, Any]:
        now = self.clock()
        return build_seed(now, self.number_pool_no) if seed_data else empty_state(now, self.number_pool_no)

    def forget(self) -> None:
        self.actions_received.clear()
        self.actions_applied.clear()

    def numbers_by_pool(self) -> list[tuple[str, str]]:
        """Every number of every pool, as (number, NumberPoolNo)."""
        with self._lock:
            return [(n["Number"], n["NumberPoolNo"]) for n in self.state["numbers"]]

    def pool_numbers(self, pool_no: str | None = None) -> list[str]:
        """The numbers of one pool (the default AXN pool when None)."""
        wanted = pool_no or self.number_pool_no
        return [number for number, pool in self.numbers_by_pool() if pool == wanted]

    def session_account(self) -> Account:
        """The account a sandbox session connects with: the AXN pool by default, watching every
        seeded number in its own pool."""
        return self._account(
            {
                "access_key_id": self.access_key,
                "secret_access_key": self.secret_key,
                "callback_auth_token": self.callback_token,
            },
            region=self.region,
            settings={"number_pool_no": self.number_pool_no},
            watch=tuple(self.numbers_by_pool()),
        )

    def credentials(self) -> list[tuple[str, str]]:
        """What `teledeck sandbox serve` prints; a key set through the environment is not shown whole."""
        ak = masked(self.access_key, ACCESS_KEY_ENV) if self.from_env("access_key") else self.access_key
        sk = f"(from ${SECRET_KEY_ENV})" if self.from_env("secret_key") else self.secret_key
        token = (
            masked(self.callback_token, CALLBACK_TOKEN_ENV) if self.from_env("callback_token") else self.callback_token
        )
        return [
            ("access key", ak),
            ("secret key", sk),
            ("callback AuthToken", token),
            ("callback route", pushes.ROUTE),
            ("region", self.region),
            ("service", SERVICE),
            ("AXN number pool", self.number_pool_no),
            ("AXB number pool", self.axb_pool_no),
        ]

    def subscription(self, sub_id: str) -> dict[str, Any] | None:
        """A copy of a stored subscription (for tests), or None."""
        with self._lock:
            for sub in self.state["subscriptions"]:
                if sub["SubId"] == sub_id:
                    return cast("dict[str, Any]", copy.deepcopy(sub))
        return None

    # -- faults --------------------------------------------------------------------------------

    def vendor_error_answer(self, action: str, code: str, message: str, status: int | None) -> tuple[int, Any]:
        """HTTP 200 for a business code, the gateway's status for a gateway code."""
        error = VolcError(code, message, status=status)
        return error.status, self._envelope(action, "", error=error)

    def repeat_offset(self, action: str, offset: int = 0, *, times: int | None = None) -> Fault:
        """Serve `offset` whatever Offset is asked for (a server whose pages never advance)."""
        return self.faults.add(
            {"kind": "repeat_page", "method": "*", "path": "/" + action, "page_number": int(offset), "times": times}
        )

    # -- pipeline hooks --------------------------------------------------------------------------

    def begin(self, req: SandboxRequest) -> Call:
        action = req.query_dict.get("Action", "")
        self.actions_received[action] += 1
        return Call(request_id=self._request_id(), action=action)

    def fault_path(self, req: SandboxRequest) -> str:
        return "/" + req.query_dict.get("Action", "")

    def preflight(self, req: SandboxRequest, call: Call) -> None:
        if req.path not in ("/", ""):
            raise VolcError.gateway("InvalidActionOrVersion", f"{call.action or '(none)'} at path {req.path}")
        if req.method not in ("GET", "POST"):
            raise VolcError.gateway("MethodNotAllowed", req.method)
        query = req.query_dict
        if not query.get("Action"):
            raise VolcError.gateway("MissingParameter", "Action")
        if not query.get("Version"):
            raise VolcError.gateway("MissingParameter", "Version")

    def admit(self, req: SandboxRequest, call: Call) -> None:
        """No flow control (the gateway's FlowLimitExceeded comes only as a fault); an unknown
        action or version is refused once the signature has checked out."""
        version = req.query_dict["Version"]
        if call.action not in ACTIONS or version != API_VERSION:
            raise VolcError.gateway("InvalidActionOrVersion", f"{call.action} for version {version}")

    def fault_response(self, fault: Fault, call: Call) -> SandboxResponse:
        if fault.kind == "status" and fault.body is None:
            code = _STATUS_CODES.get(fault.status, "InternalError" if fault.status >= 500 else "MissingParameter")
            error = VolcError(code, f"HTTP {fault.status} (injected by the sandbox)", status=fault.status)
            return SandboxResponse.json_response(
                fault.status, self._envelope(call.action, call.request_id, error=error), fault.headers
            )
        return fault.response()

    def dispatch(self, req: SandboxRequest, call: Call, page: int | None) -> SandboxResponse:
        params = self._params(req)
        if page is not None:
            params = Params([(k, v) for k, v in params.pairs if k != "Offset"] + [("Offset", str(page))])
        action = call.action
        self.actions_applied[action] += 1
        result = getattr(self, "_do_" + action)(params)
        if action.startswith(("Bind", "SelectNumberAndBind", "Update", "Unbind")):
            self.store.save()
        return SandboxResponse.json_response(200, self._envelope(action, call.request_id, result=result))

    def render_error(self, error: VolcError, call: Call) -> SandboxResponse:
        return SandboxResponse.json_response(error.status, self._envelope(call.action, call.request_id, error=error))

    def internal_error(self) -> VolcError:
        return VolcError.gateway("InternalError")

    def _request_id(self) -> str:
        stamp = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y%m%d%H%M%S")
        return stamp + hashlib.sha256(f"volc-request:{self.requests_handled}".encode()).hexdigest()[:20].upper()

    def _envelope(
        self, action: str, request_id: str, *, result: Any = None, error: VolcError | None = None
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "RequestId": request_id,
            "Action": action,
            "Version": API_VERSION,
            "Service": SERVICE,
            "Region": self.region,
        }
        if error is not None:
            err: dict[str, Any] = {"Code": error.code, "Message": error.message}
            if error.code_n is not None:
                err = {"CodeN": error.code_n, **err}
            meta["Error"] = err
            return {"ResponseMetadata": meta}
        return {"ResponseMetadata": meta, "Result": result}

    # -- the gateway: signature ------------------------------------------------------------------

    def authenticate(self, req: SandboxRequest, call: Call) -> str:
        header = req.header("authorization")
        if not header or not header.strip():
            raise VolcError.gateway("MissingAuthenticationToken")
        try:
            auth = signing.parse_authorization(header)
        except signing.SignatureFormatError as exc:
            code = {"signature": "MissingSignature", "credential": "InvalidCredential"}.get(
                exc.part, "InvalidAuthorization"
            )
            error = VolcError.gateway(code)
            error.message = f"{error.message} ({exc})"
            raise error from None
        if auth.algorithm != signing.ALGORITHM:
            raise VolcError(
                "InvalidAuthorization",
                f"Unsupported signing algorithm {auth.algorithm!r}; use {signing.ALGORITHM}.",
                status=400,
            )
        if "host" not in auth.signed_headers or "x-date" not in auth.signed_headers:
            raise VolcError("InvalidAuthorization", "SignedHeaders must include host and x-date.", status=400)
        if not hmac.compare_digest(auth.access_key.encode(), self.access_key.encode()):
            raise VolcError.gateway("InvalidAccessKey", auth.access_key)
        if auth.service != SERVICE or auth.region != self.region:
            raise VolcError(
                "InvalidCredential",
                f"The credential scope names {auth.region}/{auth.service}; this "
                f"endpoint serves {self.region}/{SERVICE}.",
                status=400,
            )
        x_date = req.header("x-date") or req.query_dict.get("X-Date", "")
        if not x_date:
            raise VolcError.gateway("MissingRequestInfo", "X-Date")
        try:
            signed_at = signing.parse_x_date(x_date).timestamp()
        except signing.SignatureFormatError as exc:
            raise VolcError("InvalidTimestamp", f"{exc}.", status=403) from None
        if x_date[:8] != auth.date:
            raise VolcError(
                "InvalidCredential", f"The credential date {auth.date} is not the date of X-Date {x_date}.", status=400
            )
        expires = req.query_dict.get("X-Expires", "")
        lifetime = int(expires) if expires.isdigit() else signing.DEFAULT_EXPIRES_SECONDS
        now = self.clock()
        if now - signed_at > lifetime or signed_at - now > FUTURE_SKEW_SECONDS:
            raise VolcError(
                "InvalidTimestamp",
                f"The Signature of the request is expired: X-Date {x_date} is "
                f"{now - signed_at:+.0f} s from the server's time.",
                status=403,
            )
        claimed = req.header("x-content-sha256")
        if claimed is not None and claimed.strip().lower() != signing.sha256_hex(req.body):
            raise VolcError.gateway("SignatureDoesNotMatch")
        received = signing.SignedRequest(req.method, req.path or "/", req.query, req.headers, req.body)
        expected = signing.expected_signature(received, auth, self.secret_key)
        if not hmac.compare_digest(expected, auth.signature):
            raise VolcError.gateway("SignatureDoesNotMatch")
        return auth.access_key

    # -- simulated calls ---------------------------------------------------------------------------

    def simulate_call(self, *, outcome: str, binding_id: str = "", x: str = "") -> SimulatedCall:
        """A call with `outcome` on the binding whose SubId is `binding_id` (or, for "no
        binding", to the X `x`, else the first of the emulator's numbers no binding holds), and
        the callbacks Volcengine would send about it, in its order, signed with `callback_token`."""
        now = int(self.clock())
        sub: dict[str, Any] | None = None
        if outcome == "no binding":
            x = self._unbound_x(x)
        elif outcome in SIMULATED_OUTCOMES:
            sub = self._live_sub(binding_id)
            x = sub["PhoneNoX"]
        else:
            raise illegal("outcome", f"must be one of {', '.join(SIMULATED_OUTCOMES)}, got {outcome!r}")
        seq = self.state["call_seq"] = self.state.get("call_seq", 0) + 1
        call_id = (
            "NM"
            + datetime.fromtimestamp(now, UTC).strftime("%y%m%d%H%M%S")
            + hashlib.sha256(f"volc-call:{self.clock()!r}:{seq}".encode()).hexdigest()[:20]
        )
        messages = self._call_messages(call_id, outcome, sub, x, now)
        if sub is not None and outcome == "answered" and sub["RecordFlag"] == 1:
            mixed, left, right = self._record_links(call_id)
            messages.append(
                {
                    "accountId": SANDBOX_ACCOUNT_ID,
                    "callId": call_id,
                    "serviceType": PRIVACY_SERVICE_TYPE,
                    "audioRecordUrl": mixed,
                    "audioRecordLeftUrl": left,
                    "audioRecordRightUrl": right,
                    "messageType": pushes.CALL_RECORDING,
                    "audioRecordModel": 3,
                    "userData": sub["UserData"],
                }
            )
            self.state["calls"].append({"CallId": call_id, "SubId": sub["SubId"], "Recorded": True})
        self.store.save()
        return SimulatedCall(
            call_id=call_id,
            outcome=outcome,
            binding_id=sub["SubId"] if sub is not None else "",
            x=x,
            pushes=tuple(self._callback(message, now) for message in messages),
        )

    def _live_sub(self, sub_id: str) -> dict[str, Any]:
        if not sub_id:
            raise illegal("binding_id", "is required for a call on a binding")
        for sub in self.state["subscriptions"]:
            if sub["SubId"] == sub_id:
                if not self._active(sub):
                    raise VolcError(
                        "SubscriptionEmpty",
                        f"SubId {sub_id} is no longer bound; simulate a call with no binding on its X instead",
                    )
                return cast("dict[str, Any]", sub)
        raise VolcError("SubscriptionEmpty", f"no binding with SubId {sub_id}")

    def _unbound_x(self, x: str) -> str:
        """`x`, checked to be one of the emulator's numbers that no live binding holds; or the
        first such number (the default pool's mobiles first) when `x` is ""."""
        held = {s["PhoneNoX"] for s in self.state["subscriptions"] if self._active(s)}
        usable = [n for n in self.state["numbers"] if n["NumberStatusCode"] == 1]
        if x:
            if not any(n["Number"] == x for n in self.state["numbers"]):
                raise VolcError("IllegalPhoneNoX", f"PhoneNoX {x} is not a number of this account")
            if x in held:
                raise VolcError("ConflictWithExisting", f"PhoneNoX {x} has a binding; a call to it would connect")
            return x
        free = sorted(
            (n for n in usable if n["Number"] not in held),
            key=lambda n: (n["NumberPoolNo"] != self.number_pool_no, n["NumberTypeCode"], n["Number"]),
        )
        if not free:
            raise VolcError("NumberNotEnough", "every number of this account has a binding")
        return cast("str", free[0]["Number"])

    def _call_messages(
        self, call_id: str, outcome: str, sub: dict[str, Any] | None, x: str, now: int
    ) -> list[dict[str, Any]]:
        """The status messages and the call record of one call that ended at `now`."""
        a, b = (sub["PhoneNoA"], sub["PhoneNoB"]) if sub is not None else ("", "")
        if sub is None:
            caller, callee, direction = "13700009999", "", 11
        elif b:
            caller, callee, direction = a, b, 11
        else:  # an AXN without B: anyone calling X reaches A
            caller, callee, direction = "13700009998", a, 10
        # seconds before `now` of: begin, ringing, answer (None: did not happen)
        plan: dict[str, tuple[int, int | None, int | None, int]] = {
            "answered": (70, 68, 64, 1),
            "busy": (3, None, None, 8),
            "no answer": (35, 33, None, 7),
            "no binding": (1, None, None, 13),
        }
        begin, ring, answer, result = plan[outcome]
        status_common = {
            "accountId": SANDBOX_ACCOUNT_ID,
            "callId": call_id,
            "serviceType": PRIVACY_SERVICE_TYPE,
            "caller": caller,
            "callee": callee,
            "phoneNoX": x,
            "phoneNoA": a,
            "phoneNoB": b,
            "messageType": pushes.STATUS,
            "userData": sub["UserData"] if sub is not None else "",
            "subscriptionId": sub["SubId"] if sub is not None else "",
        }
        messages: list[dict[str, Any]] = []
        if sub is not None:
            steps = [(1, begin), (2, ring), (3, answer), (4, 0)]
            happened = [(kind, ago) for kind, ago in steps if ago is not None]
            for kind, ago in happened:
                messages.append(
                    {
                        **status_common,
                        "eventTime": str(now - ago),
                        "allEventType": [k for k, _ in happened] if outcome == "answered" else [],
                        "eventType": kind,
                    }
                )

        def ms(ago: int | None) -> int:
            return 0 if ago is None else (now - ago) * 1000

        pool = sub["NumberPoolNo"] if sub is not None else self._pool_of(x)
        messages.append(
            {
                **{k: v for k, v in status_common.items() if k != "messageType"},
                "subServiceType": 201 if sub is not None and sub["Mode"] == "AXB" else 202,
                "numberPoolNo": pool,
                "beginCallTime": ms(begin),
                "ringTime": ms(ring),
                "startTime": ms(answer),
                "endTime": ms(0),
                "releaseType": 1,
                "callDuration": answer if answer is not None else 0,
                "callResult": result,
                "audioRecordFlag": 0,
                "cdrCreateTime": ms(0),
                "secretCallType": direction,
                "messageType": pushes.CALL_RECORD,
            }
        )
        return messages

    def _pool_of(self, number: str) -> str:
        return next((n["NumberPoolNo"] for n in self.state["numbers"] if n["Number"] == number), "")

    def _callback(self, message: dict[str, Any], now: int) -> PushRequest:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        return PushRequest(
            route=pushes.ROUTE,
            body=body,
            query=pushes.sign(body, self.callback_token, timestamp=now),
            headers={"content-type": "application/json"},
        )

    # -- control endpoints (/_sandbox), signed like any request ---------------------------------

    def control_body(self, outcome: ControlOutcome, payload: Any) -> Any:
        if outcome == "called":
            return {"call": payload}
        return payload if outcome == "reset" else {"faults": payload}

    def control_refusal(self, reason: ControlRefusal, detail: str) -> VolcError:
        if reason == "unknown":
            return VolcError("InvalidActionOrVersion", detail, status=404)
        return VolcError("IllegalArgument", f"invalid fault: {detail}", status=400)

    # -- parameters ------------------------------------------------------------------------------

    def _params(self, req: SandboxRequest) -> Params:
        skip = {"Action", "Version", "X-Expires"}
        pairs = [(k, v) for k, v in req.query if k not in skip]
        if req.body.strip():
            if req.content_type == "application/json" or req.content_type.endswith("+json"):
                try:
                    body = req.json()
                except BodyError as exc:
                    raise VolcError("IllegalArgument", f"body {exc}") from None
                if not isinstance(body, dict):
                    raise VolcError("IllegalArgument", "body must be a JSON object")
                for key, value in body.items():
                    if isinstance(value, list):
                        pairs.extend((key, _wire_text(v)) for v in value)
                    elif value is not None:
                        pairs.append((key, _wire_text(value)))
            else:
                try:
                    text = req.body.decode("utf-8")
                except UnicodeDecodeError:
                    raise VolcError("IllegalArgument", "body is not UTF-8") from None
                pairs.extend(parse_qsl(text, keep_blank_values=True))
        return Params(pairs)

    def _pool(self, p: Params, mode: str | None = None) -> dict[str, Any]:
        pool_no = p.get("NumberPoolNo").strip()
        if not pool_no:
            raise illegal("NumberPoolNo", "is required")
        for pool in self.state["pools"]:
            if pool["NumberPoolNo"] == pool_no:
                kind = SUB_SERVICE_NAMES.get(pool["SubServiceType"], "")
                if mode is not None and kind != mode:
                    raise VolcError(
                        "UnsupportedOperation",
                        f"NumberPoolNo {pool_no} is an {kind or 'other'} pool; this action needs an {mode} pool",
                    )
                return cast("dict[str, Any]", pool)
        raise illegal("NumberPoolNo", f"{pool_no} does not exist in this account")

    @staticmethod
    def _phone(p: Params, name: str, *, required: bool) -> str:
        value = p.get(name).strip()
        if not value:
            if required:
                raise illegal(name, "is required")
            return ""
        if value.startswith("+") or (value.startswith("86") and len(value) == 13):
            raise illegal(name, f"{value!r} must be domestic digits without the +86 country code")
        if not (_MOBILE.match(value) or _LANDLINE.match(value)):
            raise illegal(
                name,
                f"{value!r} is neither an 11-digit mobile number nor a landline with its area code (e.g. 02131075869)",
            )
        return value

    @overload
    @staticmethod
    def _int(p: Params, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int: ...
    @overload
    @staticmethod
    def _int(
        p: Params, name: str, default: None = None, *, low: int | None = None, high: int | None = None
    ) -> int | None: ...
    @staticmethod
    def _int(
        p: Params, name: str, default: int | None = None, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        """An integer parameter within [low, high], else `default` when it is absent."""
        raw = p.get(name).strip()
        if raw == "":
            return default
        if not _INTEGER.match(raw):
            raise illegal(name, f"must be an integer, got {raw!r}")
        value = int(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise illegal(name, f"must be {bounds}, got {value}")
        return value

    def _expire_time(self, p: Params) -> int:
        value = self._int(p, "ExpireTime")
        if value is None:
            raise illegal("ExpireTime", "is required (unix seconds)")
        if value <= self.clock() + MIN_EXPIRY_LEAD:
            raise illegal("ExpireTime", "must be more than 1 minute after the current time")
        if value >= EXPIRY_LIMIT:
            raise illegal("ExpireTime", "must be before 2038-01-01 00:00:00")
        return value

    @staticmethod
    def _text(p: Params, name: str, limit: int) -> str:
        value = p.get(name)
        if len(value) > limit:
            raise illegal(name, f"is longer than {limit} characters")
        return value

    # -- subscriptions -------------------------------------------------------------------------

    def _active(self, sub: dict[str, Any]) -> bool:
        return bool(sub["Status"] == 1 and sub["ExpireTime"] > self.clock())

    def _active_on(self, pool_no: str, x: str, *, excluding: str = "") -> list[dict[str, Any]]:
        return [
            s
            for s in self.state["subscriptions"]
            if s["NumberPoolNo"] == pool_no and s["PhoneNoX"] == x and s["SubId"] != excluding and self._active(s)
        ]

    def _conflict(self, mode: str, pool_no: str, x: str, a: str, b: str, *, excluding: str = "") -> VolcError | None:
        """Why (a, b) cannot be bound on x now, or None."""
        for sub in self._active_on(pool_no, x, excluding=excluding):
            if mode == "AXN":
                if sub["PhoneNoA"] == a:
                    return VolcError(
                        "ConflictWithExisting", f"PhoneNoA {a} is already bound to PhoneNoX {x} (SubId {sub['SubId']})"
                    )
                return VolcError(
                    "PhoneNoXOccupied",
                    f"PhoneNoX {x} already serves another A number in an AXN binding (SubId {sub['SubId']})",
                )
            taken = {sub["PhoneNoA"], sub["PhoneNoB"]} - {""}
            clash = sorted(({a, b} - {""}) & taken)
            if clash:
                return VolcError(
                    "ConflictWithExisting",
                    f"{', '.join(clash)} already bound on PhoneNoX {x} "
                    f"(SubId {sub['SubId']}); an A or B number may be "
                    "bound only once per X",
                )
        return None

    def _number(self, pool_no: str, x: str) -> dict[str, Any] | None:
        for record in self.state["numbers"]:
            if record["Number"] == x and record["NumberPoolNo"] == pool_no:
                return cast("dict[str, Any]", record)
        return None

    def _select(self, p: Params, mode: str, pool_no: str, a: str, b: str) -> str:
        numbers = [n for n in self.state["numbers"] if n["NumberPoolNo"] == pool_no and n["NumberStatusCode"] == 1]
        free = [
            n for n in numbers if n["Number"] not in (a, b) and self._conflict(mode, pool_no, n["Number"], a, b) is None
        ]
        wanted: list[str] = []
        if p.has("CityCode"):
            wanted.append(p.get("CityCode").strip())
        else:
            by = p.get("CityCodeByPhoneNo", "A").strip().upper() or "A"
            if by not in ("A", "B"):
                raise illegal("CityCodeByPhoneNo", f"must be A or B, got {by!r}")
            city = city_code_of(b if by == "B" and b else a, self.state["numbers"])
            if city:
                wanted.append(city)
        degrade = p.getlist("DegradeCityList")
        if len(degrade) > 5:
            raise illegal("DegradeCityList", "may name at most 5 cities")
        wanted.extend(degrade)
        if not wanted:
            if free:
                return cast("str", sorted(free, key=lambda n: n["Number"])[0]["Number"])
            raise VolcError("NumberNotEnough", f"no free X number is left in NumberPoolNo {pool_no}")
        for city in wanted:
            in_city = sorted((n for n in free if n["CityCode"] == city), key=lambda n: n["Number"])
            if in_city:
                return cast("str", in_city[0]["Number"])
        raise VolcError(
            "NumberNotEnough", f"no free X number in NumberPoolNo {pool_no} for city code(s) {', '.join(wanted)}"
        )

    def _bind(self, p: Params, mode: str, *, select: bool) -> dict[str, Any]:
        pool = self._pool(p, mode)
        pool_no = pool["NumberPoolNo"]
        idempotent_id = self._text(p, "IdempotentId", IDEMPOTENT_ID_MAX) if select else ""
        replays: dict[str, Any] = self.state.setdefault("idempotent", {})
        replay_key = f"{pool_no}:{mode}:{idempotent_id}"
        if idempotent_id and replay_key in replays:
            return cast("dict[str, Any]", copy.deepcopy(replays[replay_key]))
        result = self._bind_new(p, mode, pool_no, select=select)
        if idempotent_id:
            replays[replay_key] = copy.deepcopy(result)
        return result

    def _bind_new(self, p: Params, mode: str, pool_no: str, *, select: bool) -> dict[str, Any]:
        a = self._phone(p, "PhoneNoA", required=True)
        b = self._phone(p, "PhoneNoB", required=False)
        expire = self._expire_time(p)
        record = self._int(p, "AudioRecordFlag", 1, low=0, high=1)
        user_data = self._text(p, "UserData", USER_DATA_MAX)
        out_id = self._text(p, "OutId", OUT_ID_MAX)
        display = self._int(p, "CallDisplayType", 1, low=1, high=4)
        if b and a == b:
            raise illegal("PhoneNoB", "must differ from PhoneNoA")
        if select:
            x = self._select(p, mode, pool_no, a, b)
        else:
            x = p.get("PhoneNoX").strip()
            if not x:
                raise illegal("PhoneNoX", "is required")
            number = self._number(pool_no, x)
            if number is None:
                raise VolcError("IllegalPhoneNoX", f"PhoneNoX {x} is not a number of NumberPoolNo {pool_no}")
            if number["NumberStatusCode"] != 1:
                raise VolcError(
                    "IllegalPhoneNoX",
                    f"PhoneNoX {x} is {NUMBER_STATUS.get(number['NumberStatusCode'])} (disabled) and cannot be bound",
                )
            if x in (a, b):
                raise illegal("PhoneNoX", "must differ from PhoneNoA and PhoneNoB")
            conflict = self._conflict(mode, pool_no, x, a, b)
            if conflict is not None:
                raise conflict
        now = int(self.clock())
        self.state["seq"] += 1
        sub = {
            "SubId": _sub_id(now, self.state["seq"]),
            "NumberPoolNo": pool_no,
            "Mode": mode,
            "PhoneNoA": a,
            "PhoneNoB": b,
            "PhoneNoX": x,
            "Status": 1,
            "RecordFlag": record,
            "EnableTime": now,
            "ExpireTime": expire,
            "UserData": user_data,
            "OutId": out_id,
            "CallDisplayType": display,
            "Seq": self.state["seq"],
        }
        self.state["subscriptions"].append(sub)
        numbers = self.state["numbers"]
        return {
            "SubId": sub["SubId"],
            "PhoneNoX": x,
            "Status": 1,
            "PhoneNoXCityCode": city_code_of(x, numbers),
            "PhoneNoA": a,
            "PhoneNoACityCode": city_code_of(a, numbers),
            "PhoneNoB": b,
            "PhoneNoBCityCode": city_code_of(b, numbers) if b else "",
        }

    def _find_sub(self, p: Params, pool_no: str, *, active: bool) -> dict[str, Any]:
        sub_id = p.get("SubId").strip()
        if not sub_id:
            raise illegal("SubId", "is required")
        for sub in self.state["subscriptions"]:
            if sub["SubId"] == sub_id and sub["NumberPoolNo"] == pool_no:
                if active and not self._active(sub):
                    raise VolcError("SubscriptionEmpty", f"SubId {sub_id} is no longer bound (unbound or expired)")
                return cast("dict[str, Any]", sub)
        raise VolcError("SubscriptionEmpty", f"no binding with SubId {sub_id} in NumberPoolNo {pool_no}")

    def _update(self, p: Params, mode: str) -> bool:
        pool = self._pool(p, mode)
        sub = self._find_sub(p, pool["NumberPoolNo"], active=True)
        kind = p.get("UpdateType").strip()
        allowed = ("updateExpireTime", "updateUserData", "updateOutId", "updatePhoneNoA", "updatePhoneNoB")
        if not kind:
            raise illegal("UpdateType", "is required")
        if kind not in allowed:
            raise illegal("UpdateType", f"must be one of {', '.join(allowed)}, got {kind!r}")
        if kind == "updateExpireTime":
            sub["ExpireTime"] = self._expire_time(p)
        elif kind == "updateUserData":
            sub["UserData"] = self._text(p, "UserData", USER_DATA_MAX)
        elif kind == "updateOutId":
            sub["OutId"] = self._text(p, "OutId", OUT_ID_MAX)
        else:
            field = "PhoneNoA" if kind == "updatePhoneNoA" else "PhoneNoB"
            if field == "PhoneNoB" and mode == "AXB" and not sub["PhoneNoB"]:
                raise VolcError(
                    "UnsupportedOperation", "updatePhoneNoB is not supported for an AX binding (use UpgradeAXToAXB)"
                )
            number = self._phone(p, field, required=True)
            a = number if field == "PhoneNoA" else sub["PhoneNoA"]
            b = number if field == "PhoneNoB" else sub["PhoneNoB"]
            if number == sub["PhoneNoX"]:
                raise illegal(field, "must differ from PhoneNoX")
            if b and a == b:
                raise illegal(field, "would make PhoneNoA and PhoneNoB equal")
            conflict = self._conflict(mode, sub["NumberPoolNo"], sub["PhoneNoX"], a, b, excluding=sub["SubId"])
            if conflict is not None:
                raise conflict
            sub[field] = number
        return True

    def _unbind(self, p: Params, mode: str) -> bool:
        pool = self._pool(p, mode)
        sub = self._find_sub(p, pool["NumberPoolNo"], active=True)
        sub["Status"] = 0
        sub["UnbindTime"] = int(self.clock())
        return True

    def _record(self, sub: dict[str, Any], *, times_as_text: bool) -> dict[str, Any]:
        display = sub.get("CallDisplayType", 1)

        def when(value: int) -> int | str:
            return str(value) if times_as_text else value

        return {
            "SubId": sub["SubId"],
            "PhoneNoA": sub["PhoneNoA"],
            "PhoneNoB": sub["PhoneNoB"],
            "PhoneNoX": sub["PhoneNoX"],
            "PhoneNoY": "",
            "PhoneNoE": "",
            "Status": 1 if self._active(sub) else 0,
            "RecordFlag": sub["RecordFlag"],
            "EnableTime": when(sub["EnableTime"]),
            "ExpireTime": when(sub["ExpireTime"]),
            "CallDisplayType": display,
            "CallDisplayTypeName": CALL_DISPLAY_TYPES.get(display, ""),
            "UserData": sub["UserData"],
            "OutId": sub["OutId"],
        }

    # -- actions ---------------------------------------------------------------------------------

    def _do_BindAXN(self, p: Params) -> dict[str, Any]:
        return self._bind(p, "AXN", select=False)

    def _do_SelectNumberAndBindAXN(self, p: Params) -> dict[str, Any]:
        return self._bind(p, "AXN", select=True)

    def _do_BindAXB(self, p: Params) -> dict[str, Any]:
        return self._bind(p, "AXB", select=False)

    def _do_SelectNumberAndBindAXB(self, p: Params) -> dict[str, Any]:
        return self._bind(p, "AXB", select=True)

    def _do_UpdateAXN(self, p: Params) -> bool:
        return self._update(p, "AXN")

    def _do_UpdateAXB(self, p: Params) -> bool:
        return self._update(p, "AXB")

    def _do_UnbindAXN(self, p: Params) -> bool:
        return self._unbind(p, "AXN")

    def _do_UnbindAXB(self, p: Params) -> bool:
        return self._unbind(p, "AXB")

    def _do_QuerySubscription(self, p: Params) -> dict[str, Any]:
        pool = self._pool(p)
        return self._record(self._find_sub(p, pool["NumberPoolNo"], active=False), times_as_text=False)

    def _do_QuerySubscriptionForList(self, p: Params) -> dict[str, Any]:
        pool = self._pool(p)
        keys = ("SubId", "PhoneNoA", "PhoneNoB", "PhoneNoX", "OutId")
        if not any(p.has(k) for k in keys):
            raise illegal("SubId", "or one of PhoneNoA, PhoneNoB, PhoneNoX, OutId is required")
        status = self._int(p, "Status", None, low=0, high=1)
        offset = self._int(p, "Offset", 0, low=0)
        limit = self._int(p, "Limit", 20, low=1, high=100)
        items = [s for s in self.state["subscriptions"] if s["NumberPoolNo"] == pool["NumberPoolNo"]]
        for key in keys:
            if p.has(key):
                items = [s for s in items if s[key] == p.get(key).strip()]
        if status is not None:
            items = [s for s in items if (1 if self._active(s) else 0) == status]
        items.sort(key=lambda s: (s["EnableTime"], s.get("Seq", 0)))
        page = items[offset : offset + limit]
        return {
            "Records": [self._record(s, times_as_text=True) for s in page],
            "Offset": offset,
            "Limit": limit,
            "Total": len(items),
        }

    def _do_NumberPoolList(self, p: Params) -> dict[str, Any]:
        offset = self._int(p, "Offset", 0, low=0)
        limit = self._int(p, "Limit", 20, low=1, high=100)
        pools = list(self.state["pools"])
        for key in ("ServiceType", "SubServiceType", "NumberPoolNo"):
            if p.has(key):
                pools = [x for x in pools if x[key] == p.get(key).strip()]
        if p.has("NumberPoolName"):
            pools = [x for x in pools if p.get("NumberPoolName").strip() in x["NumberPoolName"]]
        records = []
        for pool in pools[offset : offset + limit]:
            count = sum(1 for n in self.state["numbers"] if n["NumberPoolNo"] == pool["NumberPoolNo"])
            records.append(
                {
                    **pool,
                    "ServiceTypeName": "隐私号",
                    "SubServiceTypeName": SUB_SERVICE_NAMES.get(pool["SubServiceType"], ""),
                    "NumberCount": count,
                }
            )
        return {"Records": records, "Offset": offset, "Limit": limit, "Total": len(pools)}

    def _do_NumberList(self, p: Params) -> dict[str, Any]:
        offset = self._int(p, "Offset", 0, low=0)
        limit = self._int(p, "Limit", 20, low=1, high=500)
        pools = {x["NumberPoolNo"]: x for x in self.state["pools"]}
        numbers = list(self.state["numbers"])
        if p.has("Number"):
            numbers = [n for n in numbers if n["Number"] == p.get("Number").strip()]
        wanted = p.getlist("NumberList")
        if wanted:
            if len(wanted) > 500:
                raise illegal("NumberList", "may name at most 500 numbers")
            numbers = [n for n in numbers if n["Number"] in wanted]
        if p.has("NumberPoolNo"):
            numbers = [n for n in numbers if n["NumberPoolNo"] == p.get("NumberPoolNo").strip()]
        if p.has("NumberPoolTypeCode"):
            code = str(self._int(p, "NumberPoolTypeCode"))
            numbers = [n for n in numbers if pools[n["NumberPoolNo"]]["SubServiceType"] == code]
        for key, high in (("NumberStatusCode", 4), ("NumberTypeCode", 1)):
            if p.has(key):
                value = self._int(p, key, low=0, high=high)
                numbers = [n for n in numbers if n[key] == value]
        records = []
        for n in numbers[offset : offset + limit]:
            pool = pools[n["NumberPoolNo"]]
            records.append(
                {
                    "Number": n["Number"],
                    "NumberStatusCode": n["NumberStatusCode"],
                    "NumberStatusDesc": NUMBER_STATUS.get(n["NumberStatusCode"], ""),
                    "NumberTypeCode": n["NumberTypeCode"],
                    "NumberTypeDesc": NUMBER_TYPES.get(n["NumberTypeCode"], ""),
                    "NumberLocation": CITY_NAMES.get(n["CityCode"], ""),
                    "NumberPurchaseTime": n["NumberPurchaseTime"],
                    "NumberPoolNo": pool["NumberPoolNo"],
                    "NumberPoolName": pool["NumberPoolName"],
                    "NumberPoolTypeCode": int(pool["SubServiceType"]),
                    "NumberPoolTypeDesc": SUB_SERVICE_NAMES.get(pool["SubServiceType"], ""),
                    "ServiceTypeCode": int(pool["ServiceType"]),
                    "ServiceTypeDesc": "隐私号",
                    "QualificationNo": "QA-SANDBOX-0001",
                    "QualificationEntity": "teledeck sandbox (fictional)",
                }
            )
        return {"Records": records, "Offset": offset, "Limit": limit, "Total": len(numbers)}

    def _do_QueryAudioRecordFileUrl(self, p: Params) -> dict[str, Any]:
        call_id = p.get("CallId").strip()
        if not call_id:
            raise illegal("CallId", "is required")
        for call in self.state["calls"]:
            if call["CallId"] == call_id and call["Recorded"]:
                mixed, left, right = self._record_links(call_id)
                return {"AudioRecordFileUrl": mixed, "AudioRecordLeftFileUrl": left, "AudioRecordRightFileUrl": right}
        return {"AudioRecordFileUrl": "", "AudioRecordLeftFileUrl": "", "AudioRecordRightFileUrl": ""}

    def _record_links(self, call_id: str) -> tuple[str, str, str]:
        """The mixed, left and right recording links of a call, presigned now for an hour (the
        vendor's naming: callId.mp3, callId-left.wav, callId-right.wav)."""
        x_date = signing.format_x_date(self.clock())
        signature = hashlib.sha256(f"volc-record:{call_id}:{x_date}".encode()).hexdigest()
        query = (
            f"X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={x_date}"
            f"&X-Tos-Expires={RECORD_LINK_SECONDS}&X-Tos-Signature={signature}"
        )
        mixed, left, right = (f"{RECORD_ORIGIN}/{call_id}{end}?{query}" for end in (".mp3", "-left.wav", "-right.wav"))
        return mixed, left, right


def _wire_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


__all__ = [
    "ACTIONS",
    "AXB_POOL_NO",
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_NUMBER_POOL_NO",
    "DEFAULT_SECRET_KEY",
    "EXPIRY_LIMIT",
    "FULL_POOL_NO",
    "GATEWAY_ERRORS",
    "IN_PROCESS_ENDPOINT",
    "VolcError",
    "VolcSandbox",
    "build_seed",
    "city_code_of",
]
