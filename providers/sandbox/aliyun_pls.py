"""A local emulator of Alibaba Cloud Phone Number Privacy Protection (Dypls, version 2017-05-25).

It is an RPC-style ("POP") endpoint served at "/": GET with the parameters in the query, or POST
with them in the query and/or an application/x-www-form-urlencoded body, as the official SDK sends
them. Operations:

    BindAxb  BindAxn  BindAxnExtension  UnbindSubscription  UpdateSubscription
    QuerySubscriptionDetail  QuerySubsId  QueryRecordFileDownloadUrl

Like the real gateway, it authenticates every request with either signature scheme, verified by
`providers.sandbox.aliyun_gateway` (shared with the CAMS emulator) with `providers.aliyun.signing`
(the same pure functions the client signs with, themselves checked against Alibaba's published
examples and the official SDK):

- V3 `ACS3-HMAC-SHA256` (Authorization header; host and every x-acs-* header must be signed; the
  payload line is the SHA-256 of the body actually received, so a changed body fails);
- RPC 1.0 `HMAC-SHA1` (Signature parameter over the query and form fields).

Gateway failures answer 4xx with `{RequestId, HostId, Code, Message, Recommend}`:
SignatureDoesNotMatch (400; the message quotes the server's StringToSign, as Alibaba's does),
IncompleteSignature (400), InvalidAccessKeyId.NotFound (404), InvalidTimeStamp.Format /
InvalidTimeStamp.Expired (400; more than 15 minutes off the sandbox clock), SignatureNonceUsed
(400; a nonce is remembered for 15 minutes per AccessKeyId, and only once its signature checked
out), Missing<Param> (400, for the parameters the API metadata marks required),
InvalidAction.NotFound (404), InvalidVersion (400).

Business outcomes answer HTTP 200 with `{Code, Message, RequestId, ...}`; success is Code "OK":

- isv.EXPIRE_DATE_ILLEGAL: Expiration not `yyyy-MM-dd HH:mm:ss` (China time), or not more than one
  minute ahead of the sandbox clock;
- isv.MOBILE_NUMBER_ILLEGAL: digits only; a mobile number (11 digits, 1[3-9]...) or a landline
  with its area code (0 + 9-11 digits); the message names the parameter;
- isv.BIND_CONFLICT: on one X, a number may be A or B of one active AXB binding only; an AXN X
  belongs to one A; an AXN-extension X gives each A and each extension once;
- isv.NO_AVAILABLE_NUMBER: no X of the pool can take the binding (preferring ExpectCity, which
  matches a city's name, its pinyin or its area code; a "strict" pool uses that city only);
- isv.FORBIDDEN_ACTION: a PhoneNoX outside the pool (createSubs), or changing an expired binding;
- isv.SUBS_NOT_EXIST, isv.NO_NOT_EXIST, isv.POOLKEY_NOT_EXISTS, isv.INVALID_PARAMETERS;
- isv.FLOW_LIMIT: more than `qps` requests within one second (sandbox clock) for one AccessKeyId.

A binding turns inactive (Status 0) when the sandbox clock passes its expiry; expired bindings no
longer count for conflicts or pool availability and can no longer be changed (only unbound).

Where the emulator had to choose (the documentation is silent):

- QuerySubsId returns the newest active binding on X; with none, isv.SUBS_NOT_EXIST;
- an unknown CallId for QueryRecordFileDownloadUrl answers isv.INVALID_PARAMETERS naming CallId;
- Bind* without PoolKey (the metadata does not mark it required) answers isv.POOLKEY_NOT_EXISTS;
- the flow limit answers with the business code isv.FLOW_LIMIT (HTTP 200), not the gateway's
  Throttling.User.

Fault injection is the shared `providers.sandbox.faults.FaultInjector`, with the action name as
the path (also over HTTP: `POST /_sandbox/faults`, signed like any request):
`sandbox.faults.delay("*", "/BindAxb", 5, apply=True)`, `sandbox.faults.connect_error("*", "/")`,
`sandbox.faults.respond("*", "/QuerySubsId", 503)`, and `sandbox.fail_next("BindAxb",
"isv.VENDOR_BIND_FAILED")` for any vendor code.

Seed data uses clearly fake numbers: China reserves no range for fiction, so X numbers are
170/171-0000-xxxx and A/B numbers 139-0000-0xxx.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Unpack, cast

from providers.accounts import Account
from providers.aliyun import pushes as receipts
from providers.aliyun.vendor import receipt_token_problem
from providers.pushes import PushRequest
from providers.sandbox.aliyun_gateway import (
    AliyunEmulator,
    AliyunError,
    AliyunOptions,
)
from providers.sandbox.base import SIMULATED_OUTCOMES, SimulatedCall
from providers.sandbox.credentials import Setting, masked
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.sandbox.aliyun_pls")

VENDOR = "aliyun-pls"
SCHEMA_VERSION = 1
SEED = 20260105
VERSION = "2017-05-25"
HOST_ID = "dyplsapi.aliyuncs.com"
# For in-process clients; `.invalid` never resolves, so nothing can leak to a network.
IN_PROCESS_ENDPOINT = "https://dyplsapi.sandbox.invalid"

POOL_KEY_ENV = "TELEDECK_SANDBOX_ALIYUN_POOL_KEY"
QPS_ENV = "TELEDECK_SANDBOX_ALIYUN_PLS_QPS"
RECEIPT_TOKEN_ENV = "TELEDECK_SANDBOX_ALIYUN_RECEIPT_TOKEN"
# Public on purpose, like the AccessKey pair: the last path segment of the receipt URL.
DEFAULT_RECEIPT_TOKEN = "teledeck-sandbox-receipts-public"
DEFAULT_POOL_KEY = "FC100000000000001"
STRICT_POOL_KEY = "FC100000000000002"
DEFAULT_QPS = 50  # requests per second per AccessKeyId before isv.FLOW_LIMIT (0: off)

CHINA_TZ = timezone(timedelta(hours=8), "China Standard Time")
WIRE_TIME = "%Y-%m-%d %H:%M:%S"
MIN_EXPIRY_LEAD = 60  # seconds an Expiration must be ahead of now
RECORDING_URL_TTL = 2 * 3600
RECORDING_RETENTION = 30 * 86400

# Simulated calls: who calls an AXN X (any number may), and how a call's seconds go by
# (from the call being placed).
SIMULATED_CALLER = "13900009999"
RINGS_AFTER = 3  # the callee's phone rings
ANSWERED_AFTER = 8  # the callee answers
TALK_SECONDS = 65
BUSY_AFTER = 2  # the callee's network answers busy
GIVES_UP_AFTER = 33  # the platform stops ringing an unanswered callee
NO_BINDING_AFTER = 1  # the platform refuses a call to an X with no binding
RECEIPT_HEADERS = {"content-type": "application/json;charset=UTF-8", "user-agent": "teledeck-sandbox-dypls"}

# City name -> (pinyin, area code)
CITIES = {
    "杭州": ("Hangzhou", "0571"),
    "北京": ("Beijing", "010"),
    "上海": ("Shanghai", "021"),
    "深圳": ("Shenzhen", "0755"),
    "广州": ("Guangzhou", "020"),
}

# (pool key or None for the configurable default, name, strict city matching, [(X, city)])
POOLS: list[tuple[str | None, str, bool, list[tuple[str, str]]]] = [
    (
        None,
        "teledeck-main",
        False,
        [
            ("17000001001", "杭州"),
            ("17000001002", "杭州"),
            ("17000001003", "杭州"),
            ("17000002001", "北京"),
            ("17000002002", "北京"),
            ("17000003001", "上海"),
            ("17000003002", "上海"),
            ("17000004001", "深圳"),
        ],
    ),
    (
        STRICT_POOL_KEY,
        "teledeck-south-strict",
        True,
        [
            ("17100005001", "广州"),
            ("17100005002", "广州"),
            ("17100004001", "深圳"),
        ],
    ),
]

# (pool index, mode, A, B, X, extension, expires in seconds from seeding, recording, out id)
SEED_BINDINGS: list[tuple[int, str, str, str, str, str, int, bool, str]] = [
    (0, "AXB", "13900000001", "13900000101", "17000001001", "", 30 * 86400, True, "ride-1001"),
    (0, "AXB", "13900000002", "13900000102", "17000001001", "", 20 * 60, False, "ride-1002"),
    (0, "AXN", "13900000003", "", "17000002001", "", 3 * 3600, False, "courier-2001"),
    (0, "AXN_EXT", "13900000004", "", "17000003001", "101", 7 * 86400, False, "store-3001"),
    (0, "AXB", "13900000005", "057100000005", "17000002002", "", 45 * 60, True, "ride-1005"),
    (0, "AXB", "13900000006", "13900000106", "17000001002", "", -86400, False, "ride-0999"),
    (1, "AXB", "13900000007", "13900000107", "17100005001", "", 10 * 86400, False, "delivery-7001"),
]

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")
_EXTENSION = re.compile(r"\d{1,3}")

# Parameters the API metadata (SDK 2.5.1) marks required, with the reference's corrections
# (ProductType is for legacy accounts only; UpdateSubscription needs only the four below).
REQUIRED = {
    "BindAxb": ("PhoneNoA", "Expiration"),
    "BindAxn": ("PhoneNoA", "Expiration"),
    "BindAxnExtension": ("PhoneNoA", "Expiration"),
    "UnbindSubscription": ("PoolKey", "SubsId", "SecretNo"),
    "UpdateSubscription": ("PoolKey", "SubsId", "PhoneNoX", "OperateType"),
    "QuerySubscriptionDetail": ("PoolKey", "SubsId", "PhoneNoX"),
    "QuerySubsId": ("PhoneNoX",),
    "QueryRecordFileDownloadUrl": ("CallId", "PoolKey"),
}

GATEWAY_MESSAGES = {
    400: ("InvalidParameter", "The specified parameter is not valid."),
    403: ("Forbidden", "User not authorized to operate on the specified resource."),
    404: ("InvalidAction.NotFound", "Specified api is not found, please check your url and method."),
    429: ("Throttling.User", "Request was denied due to user flow control."),
    500: ("InternalError", "The request processing has failed due to some unknown error, exception or failure."),
    503: ("ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
}


def _business(code: str, message: str) -> AliyunError:
    return AliyunError(200, code, message)


def _china(ts: float) -> str:
    return datetime.fromtimestamp(ts, CHINA_TZ).strftime(WIRE_TIME)


def _parse_china(value: str) -> float:
    return datetime.strptime(value.strip(), WIRE_TIME).replace(tzinfo=CHINA_TZ).timestamp()


def _bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):  # the Python SDK sends True/False; Java and Go true/false
        raise _business("isv.INVALID_PARAMETERS", f"{name} must be true or false, got {raw!r}.")
    return raw.lower() == "true"


def build_seed(now: float, pool_key: str = DEFAULT_POOL_KEY) -> dict[str, Any]:
    """The first-start state: two pools, seven bindings (some expiring soon, one expired) and two
    recorded calls. Expiries are relative to `now` (rounded down to the minute)."""
    base = int(now // 60 * 60)
    pools = {}
    keys = []
    for key, name, strict, numbers in POOLS:
        key = key or pool_key
        keys.append(key)
        pools[key] = {
            "name": name,
            "strict_city": strict,
            "numbers": [{"x": x, "city": city, "area_code": CITIES[city][1]} for x, city in numbers],
        }
    bindings = []
    subs_seq = 1000000000000100
    for i, (pool_index, mode, a, b, x, ext, expires_in, record, out_id) in enumerate(SEED_BINDINGS):
        subs_seq += 1
        bindings.append(
            {
                "subs_id": str(subs_seq),
                "pool_key": keys[pool_index],
                "mode": mode,
                "a": a,
                "b": b,
                "x": x,
                "extension": ext,
                "expire": base + expires_in,
                "created": base - (2 + i) * 86400,
                "need_record": record,
                "call_restrict": "",
                "out_id": out_id,
                "out_order_id": "",
                "asr_status": False,
                "asr_model_id": "",
                "call_display_type": "",
            }
        )
    calls = [
        {
            "call_id": "c0ffee0000000001@17000001001",
            "pool_key": keys[0],
            "subs_id": bindings[0]["subs_id"],
            "call_time": base - 3600,
        },
        {
            "call_id": "c0ffee0000000002@17000001001",
            "pool_key": keys[0],
            "subs_id": bindings[0]["subs_id"],
            "call_time": base - 1800,
        },
    ]
    return {
        "schema": SCHEMA_VERSION,
        "seeded": True,
        "pools": pools,
        "bindings": bindings,
        "calls": calls,
        "next_subs_id": subs_seq + 1,
    }


def empty_state(pool_key: str = DEFAULT_POOL_KEY) -> dict[str, Any]:
    state = build_seed(0, pool_key)
    state.update(bindings=[], calls=[], seeded=False)
    return state


class DyplsOptions(AliyunOptions, total=False):
    """The keywords of `DyplsSandbox`: the Alibaba options, its default pool (else
    $TELEDECK_SANDBOX_ALIYUN_POOL_KEY, else the default) and the receipt token its simulated
    calls' receipts are pushed with (else $TELEDECK_SANDBOX_ALIYUN_RECEIPT_TOKEN, else the
    public default)."""

    pool_key: str | None
    receipt_token: str | None


class DyplsSandbox(AliyunEmulator):
    """The Dypls emulator. Thread-safe; state lives in a `StateStore` under "aliyun_pls"."""

    PRODUCT = "Dyplsapi"
    VERSION = VERSION
    HOST_ID = HOST_ID
    REQUIRED = REQUIRED

    vendor = VENDOR
    SCHEMA_VERSION = SCHEMA_VERSION

    pool_key = Setting(POOL_KEY_ENV, DEFAULT_POOL_KEY)
    qps = Setting(QPS_ENV, DEFAULT_QPS)
    receipt_token = Setting(RECEIPT_TOKEN_ENV, DEFAULT_RECEIPT_TOKEN, strip=True)

    def __init__(self, store: StateStore | None = None, **options: Unpack[DyplsOptions]) -> None:
        super().__init__(store, **options)
        self._handlers = {
            "BindAxb": self._bind_axb,
            "BindAxn": self._bind_axn,
            "BindAxnExtension": self._bind_axn_extension,
            "UnbindSubscription": self._unbind,
            "UpdateSubscription": self._update,
            "QuerySubscriptionDetail": self._detail,
            "QuerySubsId": self._subs_id,
            "QueryRecordFileDownloadUrl": self._record_url,
        }
        self._load_state()

    # -- state -----------------------------------------------------------------------------------

    def fresh_state(self, seed_data: bool) -> dict[str, Any]:
        """The seed (expiries relative to the clock now), or the same pools with no bindings."""
        return build_seed(self.clock(), self.pool_key) if seed_data else empty_state(self.pool_key)

    def session_account(self) -> Account:
        """The account a sandbox session connects with: the default pool, watching its X numbers."""
        return self._access_key_account(
            {"receipt_token": self.receipt_token},
            settings={"pool_key": self.pool_key},
            watch=tuple((x, self.pool_key) for x in self.pool_numbers()),
        )

    def credentials(self) -> list[tuple[str, str]]:
        """What `teledeck sandbox serve` prints. A secret from the environment is never shown whole."""
        token = masked(self.receipt_token, RECEIPT_TOKEN_ENV) if self.from_env("receipt_token") else self.receipt_token
        problem = receipt_token_problem(self.receipt_token)
        return [
            *self._access_key_lines(),
            ("PoolKey", self.pool_key),
            ("PoolKey (strict city)", STRICT_POOL_KEY),
            ("Receipt token", token + (f" (unusable: {problem})" if problem else "")),
        ]

    def pool_numbers(self, pool_key: str | None = None) -> list[str]:
        """The X numbers of a pool (the default one when None)."""
        with self._lock:
            pool = self.state["pools"].get(pool_key or self.pool_key) or {"numbers": []}
            return [n["x"] for n in pool["numbers"]]

    def bindings(self) -> list[dict[str, Any]]:
        """A copy of every stored binding (internal shape), for tests and debugging."""
        with self._lock:
            return cast("list[dict[str, Any]]", json.loads(json.dumps(self.state["bindings"])))

    def vendor_error_answer(self, action: str, code: str, message: str, status: int | None) -> tuple[int, Any]:
        """Dypls answers a business error with HTTP 200; a gateway status adds the HostId."""
        status = 200 if status is None else status
        body = {"Code": code, "Message": message or code}
        if status != 200:
            body["HostId"] = HOST_ID
        return status, body

    # -- simulated calls (POST /_sandbox/calls, the Bindings screen's key) -----------------------

    def simulate_call(self, *, outcome: str, binding_id: str = "", x: str = "") -> SimulatedCall:
        """A call on the binding whose SubsId is `binding_id` (answered, busy, no answer) or to an
        X with no binding ("no binding"; `x` "" takes the default pool's first free number), and
        its receipts as Dypls pushes them: one POST per message type, each a JSON array, to
        /aliyun/receipts/<receipt_token>, in the order the call makes them. An answered call on a
        recording binding also gets a recording QueryRecordFileDownloadUrl can find."""
        if outcome not in SIMULATED_OUTCOMES:
            raise AliyunError(400, "InvalidParameter", f"outcome must be one of {', '.join(SIMULATED_OUTCOMES)}.")
        with self._lock, self.store.exclusive():
            seq = int(self.state.get("next_call_seq", 1))
            self.state["next_call_seq"] = seq + 1
            if outcome == "no binding":
                x = self._unbound_x(x)
                call_id = f"5a1d{seq:012d}@{x}"
                records = self._no_binding_receipts(call_id, x, seq)
                binding_id = ""
            else:
                binding = self._binding_for_call(binding_id)
                x = binding["x"]
                call_id = f"5a1d{seq:012d}@{x}"
                records = self._bound_receipts(call_id, binding, outcome, seq)
            self.store.save()
        pushes = tuple(self._receipt_push([record]) for record in records)
        return SimulatedCall(call_id=call_id, outcome=outcome, binding_id=binding_id, x=x, pushes=pushes)

    def _receipt_push(self, records: list[dict[str, Any]]) -> PushRequest:
        body = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return PushRequest(receipts.ROUTE, body, rest="/" + self.receipt_token, headers=dict(RECEIPT_HEADERS))

    def _binding_for_call(self, subs_id: str) -> dict[str, Any]:
        binding = cast(
            "dict[str, Any] | None", next((b for b in self.state["bindings"] if b["subs_id"] == subs_id), None)
        )
        if binding is None:
            raise AliyunError(400, "InvalidParameter", f"No binding has SubsId {subs_id!r}.")
        if not self._active(binding):
            raise AliyunError(
                400,
                "InvalidParameter",
                f"The binding {subs_id} has expired: a call to its X now finds no binding "
                f"(simulate outcome 'no binding' with x {binding['x']}).",
            )
        return binding

    def _unbound_x(self, x: str) -> str:
        """`x` when it is a pool number with no binding in effect; "" picks the default pool's first."""
        owners = {n["x"]: key for key, pool in self.state["pools"].items() for n in pool["numbers"]}
        if not x:
            free = [n for n in self.pool_numbers() if not self._on_x(self.pool_key, n)]
            if not free:
                raise AliyunError(400, "InvalidParameter", f"Every X of pool {self.pool_key} has a binding.")
            return free[0]
        if x not in owners:
            raise AliyunError(400, "InvalidParameter", f"The number {x} is not in any pool of this account.")
        if self._on_x(owners[x], x):
            raise AliyunError(400, "InvalidParameter", f"The number {x} has a binding in effect.")
        return x

    def _city(self, x: str) -> str:
        return next((n["city"] for p in self.state["pools"].values() for n in p["numbers"] if n["x"] == x), "")

    def _bound_receipts(self, call_id: str, b: dict[str, Any], outcome: str, seq: int) -> list[dict[str, Any]]:
        """The receipts of a call on binding `b`: AXB is A calling B; AXN and AXN-extension are
        someone calling A. The call has just ended (the clock now is its end)."""
        now = int(self.clock())
        span = {"answered": ANSWERED_AFTER + TALK_SECONDS, "busy": BUSY_AFTER, "no answer": GIVES_UP_AFTER}[outcome]
        placed = now - span
        outgoing = b["mode"] == "AXB"
        common: dict[str, Any] = {
            "pool_key": b["pool_key"],
            "sub_id": int(b["subs_id"]),
            "call_id": call_id,
            "phone_no": b["a"],
            "secret_no": b["x"],
            "peer_no": b["b"] if outgoing else SIMULATED_CALLER,
            "call_type": 0 if outgoing else 1,
            "call_time": _china(placed),
            "out_id": b["out_id"],
            "city": self._city(b["x"]),
        }
        shown = {"called_display_no": b["x"], "partner_key": b["pool_key"]}
        start = {**common, **shown, "id": 1014000000 + seq, "unconnected_cause": 0, "control_type": "CONTINUE"}
        ring_at = placed + RINGS_AFTER
        ring = {**common, "ring_time": _china(ring_at)}
        if b["extension"]:
            ring["extension"] = b["extension"]
        if outcome == "answered":
            answered_at, released_at, direction, cause = placed + ANSWERED_AFTER, now, 1, 16
        elif outcome == "busy":  # the callee's side answers busy before any ringing
            ring_at, answered_at, released_at, direction, cause = placed + 1, now, now, 2, 17
        else:  # rang until the platform gave up
            answered_at, released_at, direction, cause = now, now, 0, 19
        report = {
            **common,
            **shown,
            "id": 1014500000 + seq,
            "call_out_time": _china(placed + 1),
            "ring_time": _china(ring_at),
            "free_ring_time": _china(ring_at),
            "start_time": _china(answered_at),
            "release_time": _china(released_at),
            "release_dir": direction,
            "release_cause": cause,
            "unconnected_cause": 0,
            "control_type": "CONTINUE",
            "control_msg": "OK",
            "sms_number": 0,
        }
        records = [start]
        if outcome != "busy":
            records.append(ring)
        if outcome == "answered":
            records.append({**ring, "start_time": _china(answered_at)})
        recorded = outcome == "answered" and b["need_record"]
        if recorded:
            report["record_url"] = f"https://dypls-record.sandbox.invalid/{b['pool_key']}/{call_id.split('@')[0]}.mp3"
            self.state["calls"].append(
                {"call_id": call_id, "pool_key": b["pool_key"], "subs_id": b["subs_id"], "call_time": placed}
            )
        records.append(report)
        if recorded:
            records.append(
                {
                    "pool_key": b["pool_key"],
                    "call_time": placed * 1000,
                    "sub_id": int(b["subs_id"]),
                    "out_id": b["out_id"],
                    "call_id": call_id,
                }
            )
        return records

    def _no_binding_receipts(self, call_id: str, x: str, seq: int) -> list[dict[str, Any]]:
        """Someone calls `x`, which has no binding: the platform intercepts the call (call_type
        4) and says why in both receipts (control_msg NO_SUBS_EXIST, unconnected_cause 2)."""
        now = int(self.clock())
        placed = now - NO_BINDING_AFTER
        pool_key = next(k for k, p in self.state["pools"].items() if any(n["x"] == x for n in p["numbers"]))
        common: dict[str, Any] = {
            "pool_key": pool_key,
            "call_id": call_id,
            "phone_no": SIMULATED_CALLER,
            "secret_no": x,
            "peer_no": "",
            "call_type": 4,
            "call_time": _china(placed),
            "city": self._city(x),
            "partner_key": pool_key,
            "unconnected_cause": 2,
            "control_type": "REJECT",
            "control_msg": "NO_SUBS_EXIST",
        }
        report = {
            **common,
            "id": 1014500000 + seq,
            "called_display_no": "",
            "call_out_time": _china(placed),
            "ring_time": _china(placed),
            "free_ring_time": _china(placed),
            "start_time": _china(now),
            "release_time": _china(now),
            "release_dir": 0,
            "release_cause": 31,
            "sms_number": 0,
        }
        return [{**common, "id": 1014000000 + seq}, report]

    # -- the gateway's vendor hooks (AliyunEmulator) -------------------------------------------

    def internal_error(self) -> AliyunError:
        return AliyunError(500, *GATEWAY_MESSAGES[500])

    def status_error(self, status: int) -> AliyunError:
        code, message = GATEWAY_MESSAGES.get(status, GATEWAY_MESSAGES[500 if status >= 500 else 400])
        return AliyunError(status, code, message)

    def _ok(self, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"Code": "OK", "Message": "OK", "RequestId": request_id, **body}

    def _ok_fault(self, request_id: str) -> dict[str, Any]:
        return self._ok(request_id, {})

    def _flow_control(self, access_key_id: str) -> None:
        """At most `qps` admitted requests per AccessKeyId in any second (sandbox clock)."""
        if self._recent.enabled and not self._recent.admit(access_key_id, self.clock()):
            raise _business(
                "isv.FLOW_LIMIT", f"Business flow control: more than {self.qps} requests per second for this account."
            )

    # -- business helpers ---------------------------------------------------------------------------

    def _pool(self, params: Mapping[str, str], *, required: bool = True) -> tuple[str, dict[str, Any]] | None:
        key = params.get("PoolKey", "").strip()
        if not key:
            if required:
                raise _business("isv.POOLKEY_NOT_EXISTS", "PoolKey is empty.")
            return None
        pool = self.state["pools"].get(key)
        if pool is None:
            raise _business("isv.POOLKEY_NOT_EXISTS", f"The pool {key} does not exist for this account.")
        return key, pool

    def _active(self, binding: Mapping[str, Any]) -> bool:
        return bool(binding["expire"] > self.clock())

    def _expiry(self, params: Mapping[str, str]) -> int:
        raw = params.get("Expiration", "")
        try:
            expire = _parse_china(raw)
        except ValueError:
            raise _business("isv.EXPIRE_DATE_ILLEGAL", f"Expiration {raw!r} is not yyyy-MM-dd HH:mm:ss.") from None
        if expire - self.clock() <= MIN_EXPIRY_LEAD:
            raise _business(
                "isv.EXPIRE_DATE_ILLEGAL", "expireDate less than 1 minutes from now (Expiration is China time, UTC+8)."
            )
        return int(expire)

    @staticmethod
    def _number(params: Mapping[str, str], name: str, *, required: bool = False) -> str:
        value = params.get(name, "").strip()
        if not value and not required:
            return ""
        if not (_MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value)):
            raise _business(
                "isv.MOBILE_NUMBER_ILLEGAL",
                f"{name} {value!r} is not a valid number: digits only, a "
                f"mobile number or a landline with its area code.",
            )
        return value

    def _on_x(self, pool_key: str, x: str, *, exclude: str = "") -> list[dict[str, Any]]:
        return [
            b
            for b in self.state["bindings"]
            if b["pool_key"] == pool_key and b["x"] == x and b["subs_id"] != exclude and self._active(b)
        ]

    @staticmethod
    def _conflict(mode: str, a: str, b: str, extension: str, existing: list[dict[str, Any]]) -> str:
        """Why (mode, a, b, extension) cannot go on an X carrying `existing`; "" when it can."""
        if not existing:
            return ""
        if mode == "AXN":
            return "the X number is dedicated to another A (AXN)"
        modes = {e["mode"] for e in existing}
        if mode == "AXB":
            if modes - {"AXB"}:
                return "the X number is in use for AXN bindings"
            mine = {n for n in (a, b) if n}
            for e in existing:
                if mine & {n for n in (e["a"], e["b"]) if n}:
                    return "A or B is already bound with this X"
            return ""
        if modes - {"AXN_EXT"}:
            return "the X number is in use for AXB or AXN bindings"
        if any(e["a"] == a for e in existing):
            return "A is already bound with this X"
        if extension and any(e["extension"] == extension for e in existing):
            return f"extension {extension} is already taken on this X"
        return ""

    @staticmethod
    def _city_matches(number: Mapping[str, Any], wanted: str) -> bool:
        pinyin, code = CITIES.get(number["city"], ("", number.get("area_code", "")))
        w = wanted.strip().casefold()
        return w in (number["city"].casefold(), pinyin.casefold(), code) or w.rstrip("市") == number["city"]

    def _next_extension(self, existing: list[dict[str, Any]]) -> str:
        taken = {e["extension"] for e in existing}
        for n in range(100, 1000):
            if str(n) not in taken:
                return str(n)
        raise _business("isv.NO_AVAILABLE_NUMBER", "No extension is left on this X number.")

    def _new_binding(self, params: dict[str, str], mode: str) -> dict[str, Any]:
        key, pool = self._pool(params)  # type: ignore[misc]
        a = self._number(params, "PhoneNoA", required=True)
        b = self._number(params, "PhoneNoB")
        x_asked = params.get("PhoneNoX", "").strip()
        if x_asked:
            self._number(params, "PhoneNoX")
        if a and b and a == b:
            raise _business("isv.INVALID_PARAMETERS", "PhoneNoA and PhoneNoB must be different numbers.")
        expire = self._expiry(params)
        extension = params.get("Extension", "").strip()
        if mode == "AXN_EXT" and extension:
            if not _EXTENSION.fullmatch(extension):
                raise _business("isv.INVALID_PARAMETERS", f"Extension {extension!r} must be 1 to 3 digits.")
            if not x_asked:
                raise _business("isv.INVALID_PARAMETERS", "PhoneNoX is required when Extension is set.")
        record = _bool(params, "IsRecordingEnabled")
        asr = _bool(params, "ASRStatus")
        restrict = params.get("CallRestrict", "")
        if restrict and restrict not in ("CONTROL_AX_DISABLE", "CONTROL_BX_DISABLE"):
            raise _business("isv.INVALID_PARAMETERS", f"CallRestrict {restrict!r} is not valid.")
        display = params.get("CallDisplayType", "")
        if display and display != "1":
            raise _business("isv.INVALID_PARAMETERS", "CallDisplayType only accepts 1.")
        timeout = params.get("CallTimeout", "")
        if timeout and (not timeout.isdigit() or not 5 <= int(timeout) <= 20):
            raise _business("isv.INVALID_PARAMETERS", "CallTimeout must be 5 to 20 seconds.")

        numbers = pool["numbers"]
        if x_asked:
            if x_asked not in {n["x"] for n in numbers}:
                raise _business("isv.FORBIDDEN_ACTION", f"createSubs: the X number {x_asked} is not in pool {key}.")
            reason = self._conflict(mode, a, b, extension, self._on_x(key, x_asked))
            if reason:
                raise _business("isv.BIND_CONFLICT", f"Binding conflict: {reason}.")
            x = x_asked
        else:
            city = params.get("ExpectCity", "").strip()
            ordered = numbers
            if city:
                local = [n for n in numbers if self._city_matches(n, city)]
                ordered = local if pool["strict_city"] else local + [n for n in numbers if n not in local]
            x = next((n["x"] for n in ordered if not self._conflict(mode, a, b, "", self._on_x(key, n["x"]))), "")
            if not x:
                where = f" in {city}" if city else ""
                raise _business(
                    "isv.NO_AVAILABLE_NUMBER", f"No X number{where} is available in pool {key} for these numbers."
                )
        if mode == "AXN_EXT" and not extension:
            extension = self._next_extension(self._on_x(key, x))

        subs_id = str(self.state["next_subs_id"])
        self.state["next_subs_id"] += 1
        binding = {
            "subs_id": subs_id,
            "pool_key": key,
            "mode": mode,
            "a": a,
            "b": b,
            "x": x,
            "extension": extension,
            "expire": expire,
            "created": int(self.clock()),
            "need_record": bool(record),
            "call_restrict": restrict,
            "out_id": params.get("OutId", ""),
            "out_order_id": params.get("OutOrderId", ""),
            "asr_status": bool(asr),
            "asr_model_id": params.get("ASRModelId", ""),
            "call_display_type": display,
        }
        self.state["bindings"].append(binding)
        self.store.save()
        return {"SecretBindDTO": {"SubsId": subs_id, "SecretNo": x, "Extension": extension}}

    def _bind_axb(self, params: dict[str, str]) -> dict[str, Any]:
        return self._new_binding(params, "AXB")

    def _bind_axn(self, params: dict[str, str]) -> dict[str, Any]:
        return self._new_binding(params, "AXN")

    def _bind_axn_extension(self, params: dict[str, str]) -> dict[str, Any]:
        return self._new_binding(params, "AXN_EXT")

    def _find(self, pool_key: str, subs_id: str, x: str) -> dict[str, Any]:
        for binding in self.state["bindings"]:
            if binding["pool_key"] == pool_key and binding["subs_id"] == subs_id and binding["x"] == x:
                return cast("dict[str, Any]", binding)
        raise _business("isv.SUBS_NOT_EXIST", f"The subscription {subs_id} does not exist on X {x} in pool {pool_key}.")

    # -- operations ------------------------------------------------------------------------------

    def _unbind(self, params: dict[str, str]) -> dict[str, Any]:
        key, _ = self._pool(params)  # type: ignore[misc]
        binding = self._find(key, params["SubsId"], params["SecretNo"])
        self.state["bindings"].remove(binding)
        self.store.save()
        return {}

    def _update(self, params: dict[str, str]) -> dict[str, Any]:
        key, _ = self._pool(params)  # type: ignore[misc]
        binding = self._find(key, params["SubsId"], params["PhoneNoX"])
        operate = params["OperateType"]
        fields = {
            "updateNoA": "PhoneNoA",
            "updateNoB": "PhoneNoB",
            "updateExpire": "Expiration",
            "updateIsRecordingEnabled": "IsRecordingEnabled",
            "updateCallRestrict": "CallRestrict",
            "updateOutId": "OutId",
            "updateCallDisplayType": "CallDisplayType",
            "updateAxgGroup": "GroupId",
        }
        if operate not in fields:
            raise _business("isv.INVALID_PARAMETERS", f"OperateType {operate!r} is not valid.")
        if operate == "updateAxgGroup":
            raise _business("isv.FORBIDDEN_ACTION", "updateAxgGroup: the binding is not an AXG binding.")
        if not self._active(binding):
            raise _business("isv.FORBIDDEN_ACTION", "updateEndDate|updateNoB|updateNoA: the binding has expired.")
        name = fields[operate]
        if name not in params:
            raise _business("isv.INVALID_PARAMETERS", f"{name} is required for OperateType {operate}.")
        if operate == "updateExpire":
            binding["expire"] = self._expiry(params)
        elif operate in ("updateNoA", "updateNoB"):
            number = self._number(params, name, required=True)
            a, b = (number, binding["b"]) if operate == "updateNoA" else (binding["a"], number)
            if a == b:
                raise _business("isv.INVALID_PARAMETERS", "PhoneNoA and PhoneNoB must be different numbers.")
            others = self._on_x(key, binding["x"], exclude=binding["subs_id"])
            reason = self._conflict(binding["mode"], a, b, binding["extension"], others)
            if reason:
                raise _business("isv.BIND_CONFLICT", f"Binding conflict: {reason}.")
            binding["a"], binding["b"] = a, b
        elif operate == "updateIsRecordingEnabled":
            binding["need_record"] = bool(_bool(params, name))
        elif operate == "updateCallRestrict":
            value = params[name]
            if value not in ("CONTROL_AX_DISABLE", "CONTROL_BX_DISABLE", "CONTROL_CLEAR_DISABLE"):
                raise _business("isv.INVALID_PARAMETERS", f"CallRestrict {value!r} is not valid.")
            binding["call_restrict"] = "" if value == "CONTROL_CLEAR_DISABLE" else value
        elif operate == "updateCallDisplayType":
            if params[name] != "1":
                raise _business("isv.INVALID_PARAMETERS", "CallDisplayType only accepts 1.")
            binding["call_display_type"] = "1"
        else:
            binding["out_id"] = params[name]
        self.store.save()
        return {}

    def _detail(self, params: dict[str, str]) -> dict[str, Any]:
        key, _ = self._pool(params)  # type: ignore[misc]
        b = self._find(key, params["SubsId"], params["PhoneNoX"])
        dto: dict[str, Any] = {
            "SubsId": b["subs_id"],
            "PhoneNoA": b["a"],
            "PhoneNoB": b["b"],
            "PhoneNoX": b["x"],
            "Extension": b["extension"],
            "Status": 1 if self._active(b) else 0,
            "ExpireDate": _china(b["expire"]),
            "GmtCreate": _china(b["created"]),
            "NeedRecord": b["need_record"],
            "ASRStatus": b["asr_status"],
            "ASRModelId": b["asr_model_id"],
        }
        if b["call_restrict"]:
            dto["CallRestrict"] = b["call_restrict"]
        return {"SecretBindDetailDTO": dto}

    def _subs_id(self, params: dict[str, str]) -> dict[str, Any]:
        found = self._pool(params, required=False)
        keys = [found[0]] if found else list(self.state["pools"])
        x = params["PhoneNoX"]
        if not any(n["x"] == x for k in keys for n in self.state["pools"][k]["numbers"]):
            raise _business(
                "isv.NO_NOT_EXIST", f"The number {x} is not in {'pool ' + keys[0] if found else 'any pool'}."
            )
        active = [b for k in keys for b in self._on_x(k, x)]
        if not active:
            raise _business("isv.SUBS_NOT_EXIST", f"No binding is in effect on {x}.")
        newest = max(active, key=lambda b: (b["created"], int(b["subs_id"])))
        return {"SubsId": newest["subs_id"]}

    def _record_url(self, params: dict[str, str]) -> dict[str, Any]:
        key, _ = self._pool(params)  # type: ignore[misc]
        call_time = params.get("CallTime", "").strip()
        if call_time and not call_time.isdigit():
            try:
                _parse_china(call_time)
            except ValueError:
                raise _business(
                    "isv.INVALID_PARAMETERS",
                    f"CallTime {call_time!r} is not yyyy-MM-dd HH:mm:ss or epoch milliseconds.",
                ) from None
        call_id = params["CallId"]
        call = next((c for c in self.state["calls"] if c["pool_key"] == key and c["call_id"] == call_id), None)
        now = self.clock()
        if call is None or now - call["call_time"] > RECORDING_RETENTION:
            raise _business(
                "isv.INVALID_PARAMETERS",
                f"CallId {call_id!r} has no recording in pool {key} (recordings are kept for 30 days).",
            )
        token = hashlib.sha256(f"{call_id}:{int(now)}".encode()).hexdigest()[:16]
        url = (
            f"https://dypls-record.sandbox.invalid/{key}/{call_id.split('@')[0]}.mp3"
            f"?Expires={int(now) + RECORDING_URL_TTL}&token={token}"
        )
        return {"DownloadUrl": url}


__all__ = [
    "DEFAULT_POOL_KEY",
    "IN_PROCESS_ENDPOINT",
    "POOL_KEY_ENV",
    "QPS_ENV",
    "STRICT_POOL_KEY",
    "VENDOR",
    "DyplsSandbox",
    "build_seed",
]
