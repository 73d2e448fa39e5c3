"""A local emulator of Huawei Cloud PrivateNumber (隐私保护通话), AXB, AX, AXE and AXYB modes.

Same URIs, methods and JSON as the platform (docs/reference/huawei_volcengine.md, Part A):

    POST/DELETE/PUT/GET  /rest/caas/relationnumber/partners/v1.0     AXB bind / unbind / modify / query
    POST/DELETE/GET      /rest/provision/caas/privatenumber/v1.0     AX bind / unbind / query
    POST/DELETE/PUT/GET  /rest/caas/extendnumber/v1.0                 AXE bind / unbind / modify / query
    GET                  /rest/caas/extendnumber/v2.0                 AXE query, cursor-paged per X
    POST/DELETE/GET      /rest/omp/xyrelationnumber/v1.0?app_key=...  AXYB bind (AX, then YB) / unbind / query
    GET                  /rest/provision/voice/record/v1.0           recording URL (301 + Location)

Like the platform, every app has one mode: the emulator has an AXB, an AX, an AXE and an AXYB
app, each with its own APP_Key/APP_Secret and its own X numbers; calling another mode's API
answers 1010040 (so does an AXYB call whose `app_key` parameter is not the signing app's).
Every request must carry valid X-AKSK headers (checked by providers.huawei.auth.verify): a wrong
secret answers 401/1010010 "Invalid digest.", a Created more than `max_skew` seconds off the
emulator's clock 401/1010013 "Time out limit.", an unknown key 403/1010003, missing header parts
400/1023xxx, and a nonce used twice 400/1023006.

Business rules enforced: global number format (+86 + mobile, or +86 + area code without its 0 +
local number), areaCode "0755"-style; an X holds at most `max_pairs_per_x` AXB pairs and a user
number at most once (A-X-B with B-X-C answers 403/1012010); X drawn from the app's numbers in the
area (areaMatchMode 1 falls back to any area), none left answers 1012008 (AXB) / 1011002 (AX);
duration 0 or 60..7776000 s, maxDuration 0..1440 min; AX: an X serves one A (1011005), an A has at
most 5 X (1011003), areaCode needs privateNumType "mobile-virtual"; recording only where the app
has it (1012012); a blacklisted X answers 1012102; an unknown binding 1012007 (AXB) / 1016001 (AX).
AXE: bindNum (A) on virtualNum or a number of areaCode, the extension extendNum (4 digits, 0001..9999,
the app's setting) chosen or the lowest free one, one A per X; bindExpiredTime in hours (timeUnit 0,
default 168) or minutes (1), at most 720 hours, 0 = never; a modify that sends it restarts the
timer, and the query shows the bind's value (as documented); the query has no subscribeTime.
AXYB: without subscriptionId origNum (A) gets X (one A per X, at most 5 X per A); with it,
origNum (B) gets a Y on that relation (a Y serves one relation once, at most 1000 relations);
duration (default 7200) ends everything, ybDuration only its YB relation.
A binding whose duration has run out (by the injected `clock`) is removed, as the platform does.

Where the emulator had to choose (the reference is silent):

- HTTP statuses follow the result-code tables: 400 for header problems, 401 for digest and clock,
  403 for every business refusal (1010002, 1012xxx, 1011xxx, 1010010 flow control), 500 internal.
- A query that finds nothing answers 1012007 / 1016001 (public clients treat it as "no binding");
  a page past the end is an empty list.
- A nonce replayed within twice the skew window answers 1023006 (the generic auth failure).
- A == B is refused as 1010002 naming calleeNum.
- subscribeTime ("yyyy-MM-dd HH:mm:ss", UTC) is the bind or last-modify time; the expiry timer
  restarts only when a modify sends `duration`. A modify that sends recordFlag is refused (1010002):
  the reference could not confirm it is modifiable.
- AXE and AXYB: an unknown binding answers 1012007; an extension or Y already taken answers
  1012010; no X (or E, or Y) left answers 1012008; X of another app answers 1012001.
- AXE v2.0 pages are listed under `bindInfoList` with `nextCursor` ("" on the last page); a cursor
  is `<13 digits>_<index>`; `limit` 1..100 (default 20).
- Optional flow control (`rate_limit` requests per minute per app, off by default) answers
  403/1010010.
- A recording's download link (the 301's Location) says `Expires` = now + 3 days, the lifetime
  Huawei's change log gives; the recording itself goes 7 days after its CDR push.
- Simulated calls (`simulate_call`, POST /_sandbox/calls) push what providers/huawei/pushes.py
  reads: call events, then one CDR, signed with the app of the binding's mode; the codes each
  outcome carries are in docs/decisions.md ("Huawei call pushes").
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Unpack, cast

from providers.accounts import Account
from providers.huawei.auth import DEFAULT_MAX_SKEW, AkskRejected, NonceCache, format_created, new_nonce, verify
from providers.sandbox.base import (
    SIMULATED_OUTCOMES,
    Call,
    ControlOutcome,
    ControlRefusal,
    Emulator,
    EmulatorOptions,
    SimulatedCall,
)
from providers.sandbox.credentials import Setting, shown
from providers.sandbox.faults import Fault
from providers.sandbox.http import SandboxRequest, SandboxResponse
from providers.sandbox.limits import FixedWindow
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.sandbox.huawei")

SCHEMA_VERSION = 2  # 2: AXE and AXYB apps
JSON_TYPE = "application/json;charset=UTF-8"

APP_KEY_ENV = "TELEDECK_SANDBOX_HUAWEI_APP_KEY"
APP_SECRET_ENV = "TELEDECK_SANDBOX_HUAWEI_APP_SECRET"
AX_APP_KEY_ENV = "TELEDECK_SANDBOX_HUAWEI_AX_APP_KEY"
AX_APP_SECRET_ENV = "TELEDECK_SANDBOX_HUAWEI_AX_APP_SECRET"
AXE_APP_KEY_ENV = "TELEDECK_SANDBOX_HUAWEI_AXE_APP_KEY"
AXE_APP_SECRET_ENV = "TELEDECK_SANDBOX_HUAWEI_AXE_APP_SECRET"
AXYB_APP_KEY_ENV = "TELEDECK_SANDBOX_HUAWEI_AXYB_APP_KEY"
AXYB_APP_SECRET_ENV = "TELEDECK_SANDBOX_HUAWEI_AXYB_APP_SECRET"
RATE_LIMIT_ENV = "TELEDECK_SANDBOX_HUAWEI_RATE_LIMIT"
# Public on purpose: they protect nothing but a local emulator.
DEFAULT_APP_KEY = "TeledeckSandboxAXBKey0000000001"
DEFAULT_APP_SECRET = "TeledeckSandboxAXBSecret0public"
DEFAULT_AX_APP_KEY = "TeledeckSandboxAXKey00000000001"
DEFAULT_AX_APP_SECRET = "TeledeckSandboxAXSecret00public"
DEFAULT_AXE_APP_KEY = "TeledeckSandboxAXEKey0000000001"
DEFAULT_AXE_APP_SECRET = "TeledeckSandboxAXESecret0public"
DEFAULT_AXYB_APP_KEY = "TeledeckSandboxAXYBKey000000001"
DEFAULT_AXYB_APP_SECRET = "TeledeckSandboxAXYBSecretpublic"
# A base URL for in-process clients; `.invalid` never resolves.
IN_PROCESS_BASE_URL = "https://huawei.sandbox.invalid"

AXB_PATH = "/rest/caas/relationnumber/partners/v1.0"
AX_PATH = "/rest/provision/caas/privatenumber/v1.0"
AXE_PATH = "/rest/caas/extendnumber/v1.0"
AXE_V2_PATH = "/rest/caas/extendnumber/v2.0"
AXYB_PATH = "/rest/omp/xyrelationnumber/v1.0"
RECORD_PATH = "/rest/provision/voice/record/v1.0"

MAX_PAIRS_PER_X = 5000
MAX_X_PER_A = 5
AXE_DEFAULT_HOURS = 168
AXE_MAX_HOURS = 720
AXYB_DEFAULT_DURATION = 7200
MAX_RELATIONS_PER_Y = 1000
_EXTENSION = re.compile(r"^\d{4}$")
_CURSOR = re.compile(r"^\d{13}_\d{1,20}$")
RECORDING_RETENTION = 7 * 86400  # the platform keeps a recording 7 days after its CDR push
RECORD_LINK_LIFETIME = 3 * 86400  # a download URL lives 3 days (the API's change log, 2018)
WIRE_TIME = "%Y-%m-%d %H:%M:%S"

_GLOBAL_NUMBER = re.compile(r"^\+86(1[3-9]\d{9}|(10|2\d|[3-9]\d{2})\d{7,8})$")
_AREA_CODE = re.compile(r"^0\d{2,3}$")
_TONE = re.compile(r"^[\w.@-]{1,128}$")

# X numbers in clearly fake ranges (+86 170/171 0000 ....), per area code. 020's only X is
# blacklisted; 0571 has one X, to run out of numbers quickly.
AXB_POOLS: dict[str, list[str]] = {
    "010": ["+8617000000101", "+8617000000102", "+8617000000103"],
    "021": ["+8617000000211", "+8617000000212"],
    "0755": ["+8617000007551", "+8617000007552", "+8617000007553"],
    "0571": ["+8617000005711"],
    "020": ["+8617000000201"],
}
AX_POOLS: dict[str, list[str]] = {
    "0755": ["+8617100007551", "+8617100007552", "+8617100007553", "+8617100007554"],
    "010": ["+8617100000101"],
    "021": ["+8617100000211"],
}
# AXE: one X per city; AXYB: X and Y come from the same app's numbers.
AXE_POOLS: dict[str, list[str]] = {
    "0755": ["+8617200007551", "+8617200007552"],
    "010": ["+8617200000101"],
}
AXYB_POOLS: dict[str, list[str]] = {
    "0755": ["+8617300007551", "+8617300007552", "+8617300007553", "+8617300007554"],
    "021": ["+8617300000211", "+8617300000212"],
}
POOLS = {"AXB": AXB_POOLS, "AX": AX_POOLS, "AXE": AXE_POOLS, "AXYB": AXYB_POOLS}
BLACKLISTED = {"+8617000000201"}
RECORD_DOMAIN = "record.sandbox.invalid"
RECORD_BUCKET = "sandbox-recordings"
SESSION_HOST = "callenabler.sandbox.invalid"  # where the platform's sessionIds say the call ran
OUTSIDE_CALLER = "+8613800000990"  # user_number(990), bound nowhere: who calls AX, AXE and unbound X


def user_number(n: int) -> str:
    """The n-th fake user (A/B) number: +86 138 0000 nnnn."""
    return f"+86138{n:08d}"


class HuaweiError(Exception):
    """Raised below `handle`; becomes a {resultcode, resultdesc} answer."""

    def __init__(self, status: int, code: str, desc: str) -> None:
        super().__init__(f"{status} {code} {desc}")
        self.status = status
        self.code = code
        self.desc = desc

    def response(self) -> SandboxResponse:
        return _answer(self.status, {"resultcode": self.code, "resultdesc": self.desc})


def _answer(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> SandboxResponse:
    data = json.dumps(dict(body), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return SandboxResponse(
        status, {"content-type": JSON_TYPE, **{k.lower(): v for k, v in (headers or {}).items()}}, data
    )


def _ok(**fields: Any) -> SandboxResponse:
    return _answer(200, {"resultcode": "0", "resultdesc": "Success", **fields})


def invalid(param: str, why: str) -> HuaweiError:
    """1010002, naming the parameter in resultdesc (as the platform does)."""
    return HuaweiError(403, "1010002", f"Invalid request. Parameter {param}: {why}")


def _wire_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(WIRE_TIME)


def _derived_id(name: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(f"huawei-sandbox:{name}".encode()).digest()[:16], version=4))


# ---------------------------------------------------------------------------------------------
# Field checks


def _number(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise invalid(name, "is required")
        return None
    if not isinstance(value, str) or not _GLOBAL_NUMBER.match(value):
        raise invalid(name, "must be in global format, e.g. +8613800000021 or +8675528000001")
    return value


def _int(body: Mapping[str, Any], name: str, low: int, high: int, *, zero_ok: bool = False) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid(name, "must be an integer")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int):
        raise invalid(name, "must be an integer")
    if not (low <= value <= high or (zero_ok and value == 0)):
        bound = f"0 or {low}..{high}" if zero_ok else f"{low}..{high}"
        raise invalid(name, f"must be {bound}, got {value}")
    return value


def _flag(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(name, 'must be "true" or "false"')


def _str(body: Mapping[str, Any], name: str, max_len: int, pattern: re.Pattern[str] | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not (1 <= len(value) <= max_len):
        raise invalid(name, f"must be a string of 1 to {max_len} characters")
    if pattern is not None and not pattern.match(value):
        raise invalid(name, "has characters that are not allowed")
    return value


def _area(body: Mapping[str, Any]) -> str | None:
    value = body.get("areaCode")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _AREA_CODE.match(value):
        raise invalid("areaCode", "must be a city code with its leading 0, e.g. 0755 or 010")
    return value


def _match_mode(body: Mapping[str, Any]) -> str:
    value = body.get("areaMatchMode")
    if value is None or value == "":
        return "0"
    if str(value) not in ("0", "1"):
        raise invalid("areaMatchMode", "must be 0 (strict) or 1 (other cities allowed)")
    return str(value)


def _pre_voice(body: Mapping[str, Any]) -> dict[str, str] | None:
    value = body.get("preVoice")
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"callerHintTone", "calleeHintTone"}:
        raise invalid("preVoice", "must be an object with callerHintTone and/or calleeHintTone")
    for key, tone in value.items():
        if not isinstance(tone, str) or not _TONE.match(tone):
            raise invalid("preVoice", f"{key} must be a tone file name")
    return dict(value)


# ---------------------------------------------------------------------------------------------
# Seed data


def build_seed(now: float, *, seeded: bool = True) -> dict[str, Any]:
    """The first-start state, with times relative to `now` (the emulator clock at seeding)."""
    numbers: dict[str, dict[str, dict[str, str]]] = {mode: {} for mode in POOLS}
    for mode, pools in POOLS.items():
        for area, xs in pools.items():
            for x in xs:
                numbers[mode][x] = {"area": area, "status": "abnormal" if x in BLACKLISTED else "normal"}
    state: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "seeded": seeded,
        "seq": 0,
        "numbers": numbers,
        "axb": [],
        "ax": [],
        "axe": [],
        "axyb": [],
        "expired": [],
        "recordings": [],
    }
    if not seeded:
        return state

    def axb(
        seq: int, x: str, a: int, b: int, *, age: float, duration: int, record: bool = False, user_data: str = ""
    ) -> dict[str, Any]:
        subscribed = now - age
        record_ = {
            "subscriptionId": _derived_id(f"seed:axb:{seq}"),
            "relationNum": x,
            "callerNum": user_number(a),
            "calleeNum": user_number(b),
            "callDirection": 0,
            "duration": duration,
            "maxDuration": 0,
            "recordFlag": record,
            "_subscribed": subscribed,
            "_expires": subscribed + duration if duration else None,
        }
        if user_data:
            record_["userData"] = user_data
        return record_

    day = 86400.0
    state["axb"] = [
        axb(1, "+8617000007551", 1, 2, age=3 * day, duration=0, record=True, user_data="order-1001"),
        axb(2, "+8617000007551", 3, 4, age=110 * 60, duration=7200, user_data="order-1002"),  # ~10 min left
        axb(3, "+8617000000101", 5, 6, age=2 * day, duration=30 * 86400, user_data="ride-2001"),
        axb(4, "+8617000000101", 7, 8, age=58 * 60, duration=3600),  # ~2 min left
        axb(5, "+8617000000211", 9, 10, age=20 * 60, duration=86400),
        axb(6, "+8617000000212", 11, 12, age=7 * day, duration=0, user_data="landline-callee"),
    ]
    state["axb"][5]["calleeNum"] = "+8675500000001"  # a Shenzhen landline (area 755, fake local number)
    # Expired before the emulator first started: kept only in the "expired" archive.
    state["expired"] = [axb(7, "+8617000000211", 13, 14, age=2 * 3600, duration=600, user_data="expired-3001")]
    state["ax"] = [
        {
            "subscriptionId": _derived_id("seed:ax:1"),
            "origNum": user_number(21),
            "privateNum": "+8617100007551",
            "privateNumType": "mobile-virtual",
            "recordFlag": False,
            "calleeNumDisplay": "0",
            "maxDuration": 0,
            "_subscribed": now - 5 * day,
        }
    ]
    state["axe"] = [
        {
            "subscriptionId": _derived_id("seed:axe:1"),
            "virtualNum": "+8617200007551",
            "extendNum": "0001",
            "bindNum": user_number(31),
            "displayNumMode": "0",
            "recordFlag": False,
            "timeUnit": "0",
            "bindExpiredTime": 168,
            "userData": "parcel-4001",
            "_subscribed": now - day,
            "_expires": now - day + 168 * 3600,
        }
    ]
    state["axyb"] = [
        {
            "subscriptionId": _derived_id("seed:axyb:1"),
            "numA": user_number(41),
            "numX": "+8617300007551",
            "callDirection": 0,
            "duration": 30 * 86400,
            "ybDuration": 0,
            "recordFlag": False,
            "userData": "match-5001",
            "_subscribed": now - 2 * day,
            "_expires": now - 2 * day + 30 * 86400,
            "yb": [{"numB": user_number(42), "numY": "+8617300007552", "_subscribed": now - 2 * day, "_expires": None}],
        }
    ]
    state["recordings"] = [
        {"fileName": f"sandbox_0001_{_stamp(now - day)}.wav", "recordDomain": RECORD_DOMAIN, "pushed_at": now - day},
        {
            "fileName": f"sandbox_0002_{_stamp(now - 8 * day)}.wav",
            "recordDomain": RECORD_DOMAIN,
            "pushed_at": now - 8 * day,
        },  # older than the 7-day retention: gone
    ]
    return state


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d%H%M%S")


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A binding as the API shows it (internal keys start with "_")."""
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    for key in ("recordFlag", "privateSms"):
        if isinstance(out.get(key), bool):
            out[key] = "true" if out[key] else "false"
    out["subscribeTime"] = _wire_time(record["_subscribed"])
    return out


# ---------------------------------------------------------------------------------------------
# Simulated calls


@dataclass(frozen=True)
class _Leg:
    """A simulated call's parties: `caller` dials `x`, which the platform forwards to `callee`."""

    mode: str
    x: str
    caller: str
    callee: str
    subscription_id: str  # "" for a call to an X without a binding
    recorded: bool
    extension: str = ""  # AXE
    user_data: str = ""


@dataclass(frozen=True)
class _CallPlan:
    """What happens on a simulated call: its events (seconds before the end) and its causes."""

    events: tuple[tuple[str, float], ...]
    state: tuple[int, str]  # the disconnect event's stateCode and stateDesc
    q850: int = 0  # fwdUnaswRsn
    tear_down: int = 0  # ulFailReason
    sip: int = 0  # sipStatusCode


_CALL_PLANS = {
    "answered": _CallPlan(
        (("callin", 103), ("callout", 102), ("alerting", 101), ("answer", 95), ("disconnect", 0)),
        (0, "The user releases the call."),
    ),
    "busy": _CallPlan((("callin", 4), ("callout", 3), ("disconnect", 0)), (8102, "The callee is busy."), 17, 8102, 486),
    "no answer": _CallPlan(
        (("callin", 92), ("callout", 91), ("alerting", 90), ("disconnect", 0)),
        (8035, "The callee did not answer."),
        19,
        8035,
        480,
    ),
    "no binding": _CallPlan((("callin", 2), ("disconnect", 0)), (8014, "Invalid AXB call."), 0, 8014, 0),
}


# Each mode's binding -> (X, who calls it, who it is forwarded to). AXB: A calls X to reach B; AX
# and AXE: an outside number calls X (AXE: and keys the extension) to reach A; AXYB: B calls X to
# reach A (an outside number while the subscription has no YB relation yet).
_PARTIES: dict[str, Callable[[Mapping[str, Any]], tuple[str, str, str]]] = {
    "AXB": lambda r: (r["relationNum"], r["callerNum"], r["calleeNum"]),
    "AX": lambda r: (r["privateNum"], OUTSIDE_CALLER, r["origNum"]),
    "AXE": lambda r: (r["virtualNum"], OUTSIDE_CALLER, r["bindNum"]),
    "AXYB": lambda r: (r["numX"], r["yb"][0]["numB"] if r["yb"] else OUTSIDE_CALLER, r["numA"]),
}


# ---------------------------------------------------------------------------------------------
# The emulator


class HuaweiOptions(EmulatorOptions, total=False):
    """`HuaweiSandbox`'s keywords beyond its own: the common options and its settings."""

    app_key: str | None
    app_secret: str | None
    ax_app_key: str | None
    ax_app_secret: str | None
    axe_app_key: str | None
    axe_app_secret: str | None
    axyb_app_key: str | None
    axyb_app_secret: str | None
    rate_limit: int | None  # requests per minute per app; 0 = off


class HuaweiSandbox(Emulator[HuaweiError]):
    """The PrivateNumber emulator. Thread-safe; state lives in a `StateStore`."""

    vendor = "huawei"
    SCHEMA_VERSION = SCHEMA_VERSION
    error_type = HuaweiError

    app_key = Setting(APP_KEY_ENV, DEFAULT_APP_KEY)
    app_secret = Setting(APP_SECRET_ENV, DEFAULT_APP_SECRET)
    ax_app_key = Setting(AX_APP_KEY_ENV, DEFAULT_AX_APP_KEY)
    ax_app_secret = Setting(AX_APP_SECRET_ENV, DEFAULT_AX_APP_SECRET)
    axe_app_key = Setting(AXE_APP_KEY_ENV, DEFAULT_AXE_APP_KEY)
    axe_app_secret = Setting(AXE_APP_SECRET_ENV, DEFAULT_AXE_APP_SECRET)
    axyb_app_key = Setting(AXYB_APP_KEY_ENV, DEFAULT_AXYB_APP_KEY)
    axyb_app_secret = Setting(AXYB_APP_SECRET_ENV, DEFAULT_AXYB_APP_SECRET)
    rate_limit = Setting(RATE_LIMIT_ENV, 0)

    def __init__(
        self,
        store: StateStore | None = None,
        *,
        max_skew: float = DEFAULT_MAX_SKEW,
        max_pairs_per_x: int = MAX_PAIRS_PER_X,
        **options: Unpack[HuaweiOptions],
    ) -> None:
        super().__init__(store, **options)
        keys = (self.app_key, self.ax_app_key, self.axe_app_key, self.axyb_app_key)
        if len(set(keys)) != len(keys):
            raise ValueError("the AXB, AX, AXE and AXYB apps need different app keys")
        # app key -> (mode, secret, recording enabled)
        self.apps: dict[str, tuple[str, str, bool]] = {
            self.app_key: ("AXB", self.app_secret, True),
            self.ax_app_key: ("AX", self.ax_app_secret, False),
            self.axe_app_key: ("AXE", self.axe_app_secret, True),
            self.axyb_app_key: ("AXYB", self.axyb_app_secret, True),
        }
        self.max_skew = float(max_skew)
        self.max_pairs_per_x = int(max_pairs_per_x)
        self.nonces = NonceCache(ttl=2 * self.max_skew)
        self._windows = FixedWindow(self.rate_limit, 60.0)
        self._routes: dict[str, dict[str, Callable[[SandboxRequest, str], SandboxResponse]]] = {
            AXB_PATH: {
                "POST": self._axb_bind,
                "DELETE": self._axb_unbind,
                "PUT": self._axb_modify,
                "GET": self._axb_query,
            },
            AX_PATH: {"POST": self._ax_bind, "DELETE": self._ax_unbind, "GET": self._ax_query},
            AXE_PATH: {
                "POST": self._axe_bind,
                "DELETE": self._axe_unbind,
                "PUT": self._axe_modify,
                "GET": self._axe_query,
            },
            AXE_V2_PATH: {"GET": self._axe_page},
            AXYB_PATH: {"POST": self._axyb_bind, "DELETE": self._axyb_unbind, "GET": self._axyb_query},
            RECORD_PATH: {"GET": self._record_url},
        }
        self._load_state()

    def pool_numbers(self, mode: str = "AXB") -> list[str]:
        """The X numbers of one mode's app, as seeded (the order of the pools above)."""
        with self._lock:
            return list(self.state["numbers"][mode])

    def session_account(self) -> Account:
        """The account a sandbox session connects with: every app, watching every seeded X number."""
        numbers = [x for mode in POOLS for x in self.pool_numbers(mode)]
        keys = ("app_key", "app_secret", *(f"{m}_app_{p}" for m in ("ax", "axe", "axyb") for p in ("key", "secret")))
        return self._account(
            {name: getattr(self, name) for name in keys},
            watch=tuple((x, "") for x in numbers),
        )

    def credentials(self) -> list[tuple[str, str]]:
        """What `teledeck sandbox serve` prints. Secrets chosen through the environment are not
        shown in full."""
        return [
            ("AXB app_key", self.app_key),
            ("AXB app_secret", shown(self.app_secret, DEFAULT_APP_SECRET, APP_SECRET_ENV)),
            ("AX app_key", self.ax_app_key),
            ("AX app_secret", shown(self.ax_app_secret, DEFAULT_AX_APP_SECRET, AX_APP_SECRET_ENV)),
            ("AXE app_key", self.axe_app_key),
            ("AXE app_secret", shown(self.axe_app_secret, DEFAULT_AXE_APP_SECRET, AXE_APP_SECRET_ENV)),
            ("AXYB app_key", self.axyb_app_key),
            ("AXYB app_secret", shown(self.axyb_app_secret, DEFAULT_AXYB_APP_SECRET, AXYB_APP_SECRET_ENV)),
        ]

    # -- state ---------------------------------------------------------------------------------

    def fresh_state(self, seed_data: bool) -> dict[str, Any]:
        return build_seed(self.clock(), seeded=seed_data)

    def forget(self) -> None:
        self.nonces.clear()
        self._windows.clear()

    def _new_id(self, kind: str) -> str:
        seq = int(self.state.get("seq", 0)) + 1
        self.state["seq"] = seq
        return _derived_id(f"{kind}:{seq}")

    def _expire(self) -> bool:
        """Remove AXB, AXE and AXYB bindings (and AXYB's YB relations) whose time is up (archived
        under "expired"); True if any were."""
        now = self.clock()

        def over(record: Mapping[str, Any]) -> bool:
            return record.get("_expires") is not None and record["_expires"] <= now

        gone: list[dict[str, Any]] = []
        changed = False
        for kind in ("axb", "axe", "axyb"):
            records = self.state.setdefault(kind, [])
            gone += [r for r in records if over(r)]
            self.state[kind] = [r for r in records if not over(r)]
        for record in self.state["axyb"]:
            relations = record.get("yb", [])
            if any(over(r) for r in relations):
                record["yb"], changed = [r for r in relations if not over(r)], True
        if gone:
            self.state["expired"] = (self.state.get("expired", []) + gone)[-200:]
        return bool(gone) or changed

    # -- pipeline hooks --------------------------------------------------------------------------

    def authenticate(self, req: SandboxRequest, call: Call) -> str:
        def secret_for(key: str) -> str | None:
            app = self.apps.get(key)
            return app[1] if app else None

        try:
            return verify(
                req.header("authorization"),
                req.header("x-aksk"),
                secret_for=secret_for,
                now=self.clock(),
                max_skew=self.max_skew,
                nonces=self.nonces,
            )
        except AkskRejected as exc:
            raise HuaweiError(exc.status, exc.code, exc.desc) from None

    def admit(self, req: SandboxRequest, call: Call) -> None:
        """Optional flow control: `rate_limit` requests per minute per app."""
        if self._windows.enabled and not self._windows.admit(call.principal, self.clock()).admitted:
            raise HuaweiError(403, "1010010", "The flow control upper limit is reached on the platform.")

    def fault_response(self, fault: Fault, call: Call) -> SandboxResponse:
        if fault.kind == "status" and fault.body is None:
            if fault.status >= 500:
                code, desc = "1010001", "Internal system error. (injected by the sandbox)"
            elif fault.status >= 400:
                code, desc = "1010002", f"Invalid request. HTTP {fault.status} injected by the sandbox."
            else:
                code, desc = "0", "Success"
            return _answer(fault.status, {"resultcode": code, "resultdesc": desc}, fault.headers)
        return fault.response()

    def dispatch(self, req: SandboxRequest, call: Call, page: int | None) -> SandboxResponse:
        if page is not None:
            query = [(k, v) for k, v in req.query if k != "pageIndex"] + [("pageIndex", str(page))]
            req = SandboxRequest(req.method, req.path, query, dict(req.headers), req.body)
        app_key = call.principal
        mode = self.apps[app_key][0]
        path = req.path.rstrip("/") or "/"
        methods = self._routes.get(path)
        if methods is None:
            raise HuaweiError(404, "1010002", f"Invalid request. No API at {req.path}.")
        view = methods.get(req.method)
        if view is None:
            raise HuaweiError(405, "1010002", f"Invalid request. {req.method} is not supported on {path}.")
        needed = {AXB_PATH: "AXB", AX_PATH: "AX", AXE_PATH: "AXE", AXE_V2_PATH: "AXE", AXYB_PATH: "AXYB"}.get(path)
        if needed is not None and mode != needed:
            raise HuaweiError(403, "1010040", "The app_key is not allowed to invoke the API.")
        if path == AXYB_PATH:
            named = req.query_dict.get("app_key", "")
            if not named:
                raise invalid("app_key", "is required")
            if named != app_key:
                raise HuaweiError(403, "1010040", "The app_key is not allowed to invoke the API.")
        if self._expire():
            self.store.save()
        return view(req, app_key)

    def render_error(self, error: HuaweiError, call: Call) -> SandboxResponse:
        return error.response()

    def internal_error(self) -> HuaweiError:
        return HuaweiError(500, "1010001", "Internal system error.")

    @staticmethod
    def _body(req: SandboxRequest) -> dict[str, Any]:
        if not req.body.strip():
            raise HuaweiError(403, "1010002", "Invalid request. The message body is empty.")
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise HuaweiError(403, "1010002", "Invalid request. The message body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise HuaweiError(403, "1010002", "Invalid request. The message body must be a JSON object.")
        return body

    def _owned(self, mode: str, x: str) -> dict[str, str]:
        number = self.state["numbers"][mode].get(x)
        if number is None:
            if mode != "AX":
                raise HuaweiError(403, "1012001", "Resource of number is not to be applied.")
            raise HuaweiError(403, "1011001", "The account does not exist.")
        return cast("dict[str, str]", number)

    # -- AXB -----------------------------------------------------------------------------------

    def _axb_pairs(self, x: str, *, exclude: str = "") -> list[dict[str, Any]]:
        return [r for r in self.state["axb"] if r["relationNum"] == x and r["subscriptionId"] != exclude]

    def _axb_conflict(self, x: str, numbers: set[str], *, exclude: str = "") -> bool:
        return any({r["callerNum"], r["calleeNum"]} & numbers for r in self._axb_pairs(x, exclude=exclude))

    def _axb_usable(self, x: str, numbers: set[str]) -> bool:
        info = self.state["numbers"]["AXB"][x]
        return (
            info["status"] == "normal"
            and not self._axb_conflict(x, numbers)
            and len(self._axb_pairs(x)) < self.max_pairs_per_x
        )

    def _axb_fields(self, body: Mapping[str, Any], app_key: str) -> dict[str, Any]:
        """The optional fields shared by bind and modify, checked; None for absent ones."""
        fields = {
            "callDirection": _int(body, "callDirection", 0, 2),
            "duration": _int(body, "duration", 60, 7_776_000, zero_ok=True),
            "maxDuration": _int(body, "maxDuration", 1, 1440, zero_ok=True),
            "lastMinVoice": _str(body, "lastMinVoice", 128, _TONE),
            "privateSms": _flag(body, "privateSms"),
            "preVoice": _pre_voice(body),
            "userData": _str(body, "userData", 256),
        }
        return fields

    def _axb_bind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        body = self._body(req)
        caller = _number(body, "callerNum", required=True)
        callee = _number(body, "calleeNum", required=True)
        if caller == callee:
            raise invalid("calleeNum", "must differ from callerNum")
        x = _number(body, "relationNum", required=False)
        area = _area(body)
        match_mode = _match_mode(body)
        fields = self._axb_fields(body, app_key)
        record = _flag(body, "recordFlag")
        hint = _str(body, "recordHintTone", 128, _TONE)
        if fields["lastMinVoice"] and not fields["maxDuration"]:
            raise invalid("lastMinVoice", "needs a maxDuration other than 0")
        if record and not self.apps[app_key][2]:
            raise HuaweiError(403, "1012012", "Application does not open recording function.")
        assert caller is not None and callee is not None  # both are required above
        users = {caller, callee}
        if x is not None:  # relationNum wins over areaCode
            info = self._owned("AXB", x)
            if info["status"] != "normal":
                raise HuaweiError(403, "1012102", "The number status is abnormal.")
            if self._axb_conflict(x, users):
                raise HuaweiError(403, "1012010", "The relation number has been bound.")
            if len(self._axb_pairs(x)) >= self.max_pairs_per_x:
                raise HuaweiError(403, "1012009", "Maximum number of resources has been exceeded.")
        else:
            numbers = self.state["numbers"]["AXB"]
            in_area = sorted(n for n, info in numbers.items() if area is None or info["area"] == area)
            usable = [n for n in in_area if self._axb_usable(n, users)]
            if not usable and area is not None and match_mode == "1":
                usable = [n for n in sorted(numbers) if self._axb_usable(n, users)]
            if not usable:
                raise HuaweiError(403, "1012008", "Insufficient number of resources")
            x = usable[0]
        now = self.clock()
        duration = fields["duration"] or 0
        record_ = {
            "subscriptionId": self._new_id("axb"),
            "relationNum": x,
            "callerNum": caller,
            "calleeNum": callee,
            "callDirection": fields["callDirection"] or 0,
            "duration": duration,
            "maxDuration": fields["maxDuration"] or 0,
            "recordFlag": bool(record),
            "_subscribed": now,
            "_expires": now + duration if duration else None,
        }
        for key in ("lastMinVoice", "privateSms", "preVoice", "userData"):
            if fields[key] is not None:
                record_[key] = fields[key]
        if hint:
            record_["recordHintTone"] = hint
        self.state["axb"].append(record_)
        self.store.save()
        return _ok(
            subscriptionId=record_["subscriptionId"],
            relationNum=x,
            callDirection=record_["callDirection"],
            duration=duration,
            maxDuration=record_["maxDuration"],
        )

    def _axb_find(self, subscription_id: str) -> dict[str, Any]:
        for record in self.state["axb"]:
            if record["subscriptionId"] == subscription_id:
                return cast("dict[str, Any]", record)
        raise HuaweiError(403, "1012007", "The record does not exist.")

    def _axb_unbind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        sid, x = query.get("subscriptionId"), query.get("relationNum")
        if sid:
            self.state["axb"].remove(self._axb_find(sid))
        elif x:
            _number(query, "relationNum", required=True)
            self._owned("AXB", x)
            pairs = self._axb_pairs(x)
            if not pairs:
                raise HuaweiError(403, "1012007", "The record does not exist.")
            self.state["axb"] = [r for r in self.state["axb"] if r["relationNum"] != x]
        else:
            raise invalid("subscriptionId", "subscriptionId or relationNum is required")
        self.store.save()
        return _ok()

    def _axb_modify(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        body = self._body(req)
        sid = body.get("subscriptionId")
        if not isinstance(sid, str) or not sid:
            raise invalid("subscriptionId", "is required")
        record = self._axb_find(sid)
        caller = _number(body, "callerNum", required=False) or record["callerNum"]
        callee = _number(body, "calleeNum", required=False) or record["calleeNum"]
        if caller == callee:
            raise invalid("calleeNum", "must differ from callerNum")
        fields = self._axb_fields(body, app_key)
        if "recordFlag" in body:
            raise invalid("recordFlag", "cannot be modified; unbind and bind again")
        max_duration = fields["maxDuration"] if fields["maxDuration"] is not None else record.get("maxDuration", 0)
        if fields["lastMinVoice"] and not max_duration:
            raise invalid("lastMinVoice", "needs a maxDuration other than 0")
        changed = {caller, callee} - {record["callerNum"], record["calleeNum"]}
        if changed and self._axb_conflict(record["relationNum"], changed, exclude=sid):
            raise HuaweiError(403, "1012010", "The relation number has been bound.")
        now = self.clock()
        record["callerNum"], record["calleeNum"] = caller, callee
        for key, value in fields.items():
            if value is not None:
                record[key] = value
        if fields["duration"] is not None:  # a new duration restarts the timer
            record["_expires"] = now + fields["duration"] if fields["duration"] else None
        record["_subscribed"] = now
        self.store.save()
        return _ok()

    def _axb_query(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        sid, x = query.get("subscriptionId"), query.get("relationNum")
        page_index, page_size = 1, 50
        if sid:
            items = [self._axb_find(sid)]
        elif x:
            _number(query, "relationNum", required=True)
            caller = _number(query, "callerNum", required=False)
            callee = _number(query, "calleeNum", required=False)
            self._owned("AXB", x)
            items = sorted(self._axb_pairs(x), key=lambda r: (r["_subscribed"], r["subscriptionId"]))
            if caller:
                items = [r for r in items if r["callerNum"] == caller]
            if callee:
                items = [r for r in items if r["calleeNum"] == callee]
            if not items:
                raise HuaweiError(403, "1012007", "The record does not exist.")
            if not caller and not callee:
                raw_index = query.get("pageIndex", "")
                if raw_index:
                    if not raw_index.isdigit() or int(raw_index) < 1:
                        raise invalid("pageIndex", "must be an integer from 1")
                    page_index = int(raw_index)
                raw_size = query.get("pageSize", "")
                if raw_size.isdigit() and 10 <= int(raw_size) <= 100:
                    page_size = int(raw_size)  # otherwise the documented default, 50
        else:
            raise invalid("subscriptionId", "subscriptionId or relationNum is required")
        total = len(items)
        start = (page_index - 1) * page_size
        return _ok(
            app_key=app_key,
            pageIndex=page_index,
            pageSize=page_size,
            totalCount=total,
            relationNumList=[_public(r) for r in items[start : start + page_size]],
        )

    # -- AX ------------------------------------------------------------------------------------

    def _ax_lookup(self, query: Mapping[str, str], *, by_orig: bool) -> list[dict[str, Any]]:
        """The AX bindings a query names: by subscriptionId, else origNum (where `by_orig`), else
        privateNum (which must be one of this app's X); none found answers 1016001."""
        sid, orig, x = query.get("subscriptionId"), query.get("origNum"), query.get("privateNum")
        items = self.state["ax"]
        if sid:
            found = [r for r in items if r["subscriptionId"] == sid]
        elif by_orig and orig:
            _number(query, "origNum", required=True)
            found = [r for r in items if r["origNum"] == orig]
        elif x:
            _number(query, "privateNum", required=True)
            self._owned("AX", x)
            found = [r for r in items if r["privateNum"] == x]
        elif by_orig:
            raise invalid("subscriptionId", "one of subscriptionId, origNum or privateNum is required")
        else:
            raise invalid("subscriptionId", "subscriptionId or privateNum is required")
        if not found:
            raise HuaweiError(403, "1016001", "The record does not exist.")
        return found

    def _ax_bind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        body = self._body(req)
        orig = _number(body, "origNum", required=True)
        x = _number(body, "privateNum", required=False)
        area = _area(body)
        match_mode = _match_mode(body)
        kind = body.get("privateNumType")
        if x is None and area is not None and kind != "mobile-virtual":
            raise invalid("privateNumType", 'must be "mobile-virtual" when areaCode is given')
        record = _flag(body, "recordFlag")
        hint = _str(body, "recordHintTone", 128, _TONE)
        display = body.get("calleeNumDisplay")
        if display is not None and display not in ("0", "1"):
            raise invalid("calleeNumDisplay", 'must be "0" or "1"')
        max_duration = _int(body, "maxDuration", 1, 1440, zero_ok=True)
        last_min = _str(body, "lastMinVoice", 128, _TONE)
        if last_min and not max_duration:
            raise invalid("lastMinVoice", "needs a maxDuration other than 0")
        user_data = _str(body, "userData", 256)
        private_sms = _flag(body, "privateSms")
        pre_voice = _pre_voice(body)
        if record and not self.apps[app_key][2]:
            raise HuaweiError(403, "1012012", "Application does not open recording function.")
        if sum(r["origNum"] == orig for r in self.state["ax"]) >= MAX_X_PER_A:
            raise HuaweiError(403, "1011003", "Exceeded the upper limit of resources that can be applied for.")
        taken = {r["privateNum"] for r in self.state["ax"]}
        numbers = self.state["numbers"]["AX"]
        if x is not None:
            self._owned("AX", x)
            if x in taken:
                raise HuaweiError(403, "1011005", "The number has been allocated.")
        else:
            free = sorted(
                n
                for n, info in numbers.items()
                if n not in taken and info["status"] == "normal" and (area is None or info["area"] == area)
            )
            if not free and area is not None and match_mode == "1":
                free = sorted(n for n, info in numbers.items() if n not in taken and info["status"] == "normal")
            if not free:
                raise HuaweiError(403, "1011002", "Insufficient number resources.")
            x = free[0]
        record_: dict[str, Any] = {
            "subscriptionId": self._new_id("ax"),
            "origNum": orig,
            "privateNum": x,
            "privateNumType": kind or "mobile-virtual",
            "recordFlag": bool(record),
            "calleeNumDisplay": display or "0",
            "maxDuration": max_duration or 0,
            "_subscribed": self.clock(),
        }
        for key, value in (
            ("recordHintTone", hint),
            ("lastMinVoice", last_min),
            ("userData", user_data),
            ("privateSms", private_sms),
            ("preVoice", pre_voice),
        ):
            if value is not None:
                record_[key] = value
        self.state["ax"].append(record_)
        self.store.save()
        return _ok(origNum=orig, privateNum=x, subscriptionId=record_["subscriptionId"])

    def _ax_unbind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        found = self._ax_lookup(query, by_orig=False)
        self.state["ax"] = [r for r in self.state["ax"] if r not in found]
        self.store.save()
        return _ok()

    def _ax_query(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        found = self._ax_lookup(query, by_orig=True)
        return _ok(privateNumList=[_public(r) for r in found])

    # -- shared by AXE and AXYB -------------------------------------------------------------------

    def _pick(self, mode: str, area: str | None, match_mode: str, usable: Callable[[str], bool]) -> str:
        """The first usable normal X of `mode`'s app in `area` (any area with areaMatchMode 1);
        none answers 1012008."""
        numbers = self.state["numbers"][mode]
        normal = sorted(n for n, info in numbers.items() if info["status"] == "normal" and usable(n))
        found = [n for n in normal if area is None or numbers[n]["area"] == area]
        if not found and area is not None and match_mode == "1":
            found = normal
        if not found:
            raise HuaweiError(403, "1012008", "Insufficient number of resources")
        return str(found[0])

    def _find(self, kind: str, subscription_id: str) -> dict[str, Any]:
        for record in self.state[kind]:
            if record["subscriptionId"] == subscription_id:
                return cast("dict[str, Any]", record)
        raise HuaweiError(403, "1012007", "The record does not exist.")

    def _recording(self, body: Mapping[str, Any], app_key: str) -> bool | None:
        record = _flag(body, "recordFlag")
        if record and not self.apps[app_key][2]:
            raise HuaweiError(403, "1012012", "Application does not open recording function.")
        return record

    # -- AXE -----------------------------------------------------------------------------------

    @staticmethod
    def _axe_seconds(body: Mapping[str, Any], unit: str) -> int | None:
        """bindExpiredTime in seconds (None when absent; 0 = never), in `unit` (0 hours, 1 minutes)."""
        per = 3600 if unit == "0" else 60
        amount = _int(body, "bindExpiredTime", 0, AXE_MAX_HOURS * 3600 // per)
        return None if amount is None else amount * per

    @staticmethod
    def _time_unit(body: Mapping[str, Any]) -> str | None:
        unit = body.get("timeUnit")
        if unit is None or unit == "":
            return None
        if str(unit) not in ("0", "1"):
            raise invalid("timeUnit", "must be 0 (hours) or 1 (minutes)")
        return str(unit)

    def _axe_record(self, query: Mapping[str, str]) -> dict[str, Any]:
        """The binding a query names: subscriptionId wins, else virtualNum and extendNum together."""
        sid, x, ext = query.get("subscriptionId"), query.get("virtualNum"), query.get("extendNum")
        if sid:
            return self._find("axe", sid)
        if not x or not ext:
            raise invalid("subscriptionId", "subscriptionId, or virtualNum with extendNum, is required")
        _number(query, "virtualNum", required=True)
        self._owned("AXE", x)
        for record in self.state["axe"]:
            if record["virtualNum"] == x and record["extendNum"] == ext:
                return cast("dict[str, Any]", record)
        raise HuaweiError(403, "1012007", "The record does not exist.")

    def _axe_bind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        body = self._body(req)
        a = _number(body, "bindNum", required=True)
        x = _number(body, "virtualNum", required=False)
        area = _area(body)
        match_mode = _match_mode(body)
        ext = body.get("extendNum")
        if ext is not None and ext != "" and (not isinstance(ext, str) or not _EXTENSION.match(ext) or ext == "0000"):
            raise invalid("extendNum", "must be 4 digits, 0001 to 9999 (this app's extension length)")
        display = body.get("displayNumMode")
        if display is not None and str(display) not in ("0", "1"):
            raise invalid("displayNumMode", 'must be "0" or "1"')
        unit = self._time_unit(body) or "0"
        seconds = self._axe_seconds(body, unit)
        callback = _number(body, "callbackNum", required=False)
        if callback and body.get("callbackTone"):
            raise invalid("callbackNum", "callbackNum and callbackTone cannot both be given")
        record = self._recording(body, app_key)
        user_data = _str(body, "userData", 256)
        records = self.state["axe"]

        def free_extension(number: str) -> bool:
            return any(
                str(n).zfill(4) not in {r["extendNum"] for r in records if r["virtualNum"] == number}
                for n in range(1, 10000)
            )

        def usable(number: str) -> bool:
            mine = [r for r in records if r["virtualNum"] == number]
            return all(r["bindNum"] != a for r in mine) and (not ext or all(r["extendNum"] != ext for r in mine))

        if x is not None:  # virtualNum wins over areaCode
            if self._owned("AXE", x)["status"] != "normal":
                raise HuaweiError(403, "1012102", "The number status is abnormal.")
            if not usable(x):
                raise HuaweiError(403, "1012010", "The relation number has been bound.")
        else:
            x = self._pick("AXE", area, match_mode, lambda n: usable(n) and free_extension(n))
        taken = {r["extendNum"] for r in records if r["virtualNum"] == x}
        ext = ext or next((e for e in (f"{n:04d}" for n in range(1, 10000)) if e not in taken), None)
        if ext is None:
            raise HuaweiError(403, "1012008", "Insufficient number of resources")
        now = self.clock()
        lasts = AXE_DEFAULT_HOURS * 3600 if seconds is None else seconds
        record_: dict[str, Any] = {
            "subscriptionId": self._new_id("axe"),
            "virtualNum": x,
            "extendNum": ext,
            "bindNum": a,
            "displayNumMode": str(display) if display is not None else "0",
            "recordFlag": bool(record),
            "timeUnit": unit,
            "bindExpiredTime": lasts // (3600 if unit == "0" else 60),
            "_subscribed": now,
            "_expires": now + lasts if lasts else None,
        }
        for key, value in (
            ("callbackNum", callback),
            ("userData", user_data),
            ("callbackTone", body.get("callbackTone")),
        ):
            if value:
                record_[key] = value
        records.append(record_)
        self.store.save()
        return _ok(subscriptionId=record_["subscriptionId"], virtualNum=x, extendNum=ext, bindNum=a)

    def _axe_unbind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        record = self._axe_record(req.query_dict)
        self.state["axe"].remove(record)
        self.store.save()
        return _ok()

    def _axe_modify(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        body = self._body(req)
        record = self._axe_record({k: str(v) for k, v in body.items() if isinstance(v, str)})
        for fixed in ("bindNum", "areaCode"):
            if fixed in body:
                raise invalid(fixed, "cannot be modified; unbind and bind again")
        display = body.get("displayNumMode")
        if display is not None and str(display) not in ("0", "1"):
            raise invalid("displayNumMode", 'must be "0" or "1"')
        self._time_unit(body)  # checked; the unit in force is the bind's (as the query shows)
        seconds = self._axe_seconds(body, record["timeUnit"])
        callback = _number(body, "callbackNum", required=False)
        flag = self._recording(body, app_key)
        now = self.clock()
        if seconds is not None:  # restarts the timer; the query keeps showing the bind's value
            record["_expires"] = now + seconds if seconds else None
        if flag is not None:
            record["recordFlag"] = flag
        if display is not None:
            record["displayNumMode"] = str(display)
        if callback:
            record["callbackNum"] = callback
        user_data = _str(body, "userData", 256)
        if user_data is not None:
            record["userData"] = user_data
        record["_subscribed"] = now
        self.store.save()
        return _ok()

    @staticmethod
    def _axe_public(record: Mapping[str, Any]) -> dict[str, Any]:
        out = _public(record)
        out.pop("subscribeTime", None)  # the AXE query reports no bind time
        return out

    def _axe_query(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        return _ok(**self._axe_public(self._axe_record(req.query_dict)))

    def _axe_page(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        if query.get("subscriptionId") or query.get("extendNum"):
            return _ok(bindInfoList=[self._axe_public(self._axe_record(query))], nextCursor="")
        x = query.get("virtualNum")
        if not x:
            raise invalid("virtualNum", "virtualNum, or subscriptionId, is required")
        _number(query, "virtualNum", required=True)
        self._owned("AXE", x)
        cursor = query.get("cursor") or "0000000000000_0"
        if not _CURSOR.match(cursor):
            raise invalid("cursor", r"must match \d{13}_\d{1,20}")
        raw_limit = query.get("limit", "")
        if raw_limit and (not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100):
            raise invalid("limit", "must be 1..100")
        limit = int(raw_limit) if raw_limit else 20
        start = int(cursor.split("_")[1])
        items = sorted((r for r in self.state["axe"] if r["virtualNum"] == x), key=lambda r: r["extendNum"])
        page = items[start : start + limit]
        following = f"{int(self.clock() * 1000) % 10**13:013d}_{start + limit}" if start + limit < len(items) else ""
        return _ok(bindInfoList=[self._axe_public(r) for r in page], nextCursor=following)

    # -- AXYB ----------------------------------------------------------------------------------

    def _axyb_bind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        body = self._body(req)
        orig = _number(body, "origNum", required=True)
        assert orig is not None
        area = _area(body)
        match_mode = _match_mode(body)
        record = self._recording(body, app_key)
        sid = body.get("subscriptionId")
        now = self.clock()
        relations = self.state["axyb"]
        if sid:  # B gets a Y on an existing AX relation
            if not isinstance(sid, str):
                raise invalid("subscriptionId", "must be a string")
            ax = self._find("axyb", sid)
            if orig == ax["numA"] or any(r["numB"] == orig for r in ax["yb"]):
                raise HuaweiError(403, "1012010", "The relation number has been bound.")
            yb_seconds = _int(body, "ybDuration", 60, 7_776_000, zero_ok=True)

            def usable_y(number: str) -> bool:
                uses = sum(number == r["numY"] for rel in relations for r in rel["yb"])
                return (
                    number != ax["numX"] and uses < MAX_RELATIONS_PER_Y and all(r["numY"] != number for r in ax["yb"])
                )

            y = self._pick("AXYB", area, match_mode, usable_y)
            lasts = ax["ybDuration"] if yb_seconds is None else yb_seconds
            ax["yb"].append({"numB": orig, "numY": y, "_subscribed": now, "_expires": now + lasts if lasts else None})
            self.store.save()
            return _ok(subscriptionId=sid, relationNumber=y)
        duration = _int(body, "duration", 60, 7_776_000, zero_ok=True)
        yb_duration = _int(body, "ybDuration", 60, 7_776_000, zero_ok=True)
        direction = _int(body, "callDirection", 0, 2)
        user_data = _str(body, "userData", 256)
        if sum(r["numA"] == orig for r in relations) >= MAX_X_PER_A:
            raise HuaweiError(403, "1011003", "Exceeded the upper limit of resources that can be applied for.")
        taken = {r["numX"] for r in relations}
        x = self._pick("AXYB", area, match_mode, lambda n: n not in taken)
        lasts = AXYB_DEFAULT_DURATION if duration is None else duration
        record_: dict[str, Any] = {
            "subscriptionId": self._new_id("axyb"),
            "numA": orig,
            "numX": x,
            "callDirection": direction or 0,
            "duration": lasts,
            "ybDuration": min(yb_duration or 0, lasts) if lasts else (yb_duration or 0),
            "recordFlag": bool(record),
            "_subscribed": now,
            "_expires": now + lasts if lasts else None,
            "yb": [],
        }
        if user_data is not None:
            record_["userData"] = user_data
        relations.append(record_)
        self.store.save()
        return _ok(subscriptionId=record_["subscriptionId"], relationNumber=x)

    def _axyb_unbind(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        sid = query.get("subscriptionId")
        if not sid:
            raise invalid("subscriptionId", "is required")
        record = self._find("axyb", sid)
        y, b = query.get("yNum"), query.get("bNum")
        if y or b:  # one YB relation alone; yNum wins over bNum
            key, value = ("numY", y) if y else ("numB", b)
            _number(query, "yNum" if y else "bNum", required=True)
            left = [r for r in record["yb"] if r[key] != value]
            if len(left) == len(record["yb"]):
                raise HuaweiError(403, "1012007", "The record does not exist.")
            record["yb"] = left
        else:
            self.state["axyb"].remove(record)
        self.store.save()
        return _ok()

    @staticmethod
    def _axyb_items(record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A subscription's relations as the query lists them: one per YB, or the AX alone."""
        base = {
            "bindId": record["subscriptionId"],
            "numA": record["numA"],
            "numX": record["numX"],
            "recordFlag": "true" if record["recordFlag"] else "false",
            "subscribeTime": _wire_time(record["_subscribed"]),
            "callDirection": record["callDirection"],
            "duration": str(record["duration"]),
            "ybDuration": str(record["ybDuration"]),
            **({"userData": record["userData"]} if record.get("userData") else {}),
        }
        return [{**base, "numY": r["numY"], "numB": r["numB"]} for r in record["yb"]] or [base]

    def _axyb_query(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        sid, x = query.get("subscriptionId"), query.get("relationNum")
        if sid:
            found = [self._find("axyb", sid)]
        elif x:
            _number(query, "relationNum", required=True)
            self._owned("AXYB", x)
            found = [r for r in self.state["axyb"] if r["numX"] == x]
            if not found:
                raise HuaweiError(403, "1012007", "The record does not exist.")
        else:
            raise invalid("subscriptionId", "subscriptionId or relationNum is required")
        return _ok(xyRelationNumList=[item for record in found for item in self._axyb_items(record)])

    # -- recordings ----------------------------------------------------------------------------

    def _record_url(self, req: SandboxRequest, app_key: str) -> SandboxResponse:
        query = req.query_dict
        name, domain = query.get("fileName", ""), query.get("recordDomain", "")
        if not name:
            raise invalid("fileName", "is required")
        if not domain:
            raise invalid("recordDomain", "is required")
        now = self.clock()
        for item in self.state.get("recordings", []):
            if item["fileName"] == name and item["recordDomain"] == domain:
                if now - item["pushed_at"] > RECORDING_RETENTION:
                    break
                expires = int(now) + RECORD_LINK_LIFETIME
                token = hashlib.sha256(f"{name}:{expires}".encode()).hexdigest()[:32]
                location = f"https://{domain}/{name}?Expires={expires}&Signature={token}"
                return SandboxResponse(301, {"location": location}, b"")
        raise HuaweiError(403, "1012007", "The record does not exist.")

    # -- simulated calls -----------------------------------------------------------------------

    def simulate_call(self, *, outcome: str, binding_id: str = "", x: str = "") -> SimulatedCall:
        """A call on a binding (or, for "no binding", on an X without one) and the pushes the
        platform would send about it: its call events, then its CDR, each signed with the app key
        pair of the binding's mode (of the X's app for "no binding"). The call ends now (the
        emulator clock). An answered call on a recording binding is recorded: its CDR names the
        file, which GET /rest/provision/voice/record/v1.0 then finds."""
        from providers.huawei.pushes import push_request  # the push contract loads with a call, not the emulator

        if outcome not in SIMULATED_OUTCOMES:
            raise invalid("outcome", f"must be one of {', '.join(SIMULATED_OUTCOMES)}")
        if self._expire():
            self.store.save()
        leg = self._unbound_leg(x) if outcome == "no binding" else self._binding_leg(binding_id)
        now = self.clock()
        seq = int(self.state.get("call_seq", 0)) + 1
        self.state["call_seq"] = seq
        plan = _CALL_PLANS[outcome]
        at = {event: now - seconds for event, seconds in plan.events}
        session = f"{1200 + seq % 100}_{seq:04d}_4294967295_{_stamp(at['callin'])}@{SESSION_HOST}"
        app_key, secret = next((k, v[1]) for k, v in self.apps.items() if v[0] == leg.mode)
        bodies: list[dict[str, Any]] = []
        for event, _ in plan.events:
            info: dict[str, Any] = {"sessionId": session, "timestamp": _wire_time(at[event])}
            info["caller"], info["called"] = (leg.caller, leg.x) if event == "callin" else (leg.x, leg.callee)
            if leg.subscription_id and leg.mode != "AXE":  # AXE events carry no subscriptionId
                info["subscriptionId"] = leg.subscription_id
            if event == "callin" and leg.user_data:
                info["userData"] = leg.user_data
            if event == "disconnect":
                info["stateCode"], info["stateDesc"] = plan.state
            bodies.append({"eventType": event, "statusInfo": info})
        fee = self._fee(leg, plan, at, session, app_key, now)
        bodies.append({"eventType": "fee", "feeLst": [fee]})
        created = format_created(now)
        pushes = tuple(push_request(body, app_key, secret, created=created, nonce=new_nonce()) for body in bodies)
        self.store.save()
        return SimulatedCall(session, outcome, leg.subscription_id, leg.x, pushes)

    def _fee(
        self, leg: _Leg, plan: _CallPlan, at: Mapping[str, float], session: str, app_key: str, now: float
    ) -> dict[str, Any]:
        """The CDR (FeeInfo) of a simulated call, with the fields of Huawei's sample."""
        bound = bool(leg.subscription_id)
        fee: dict[str, Any] = {
            # 2: abnormal (no binding); 1: A called out through X (AXB); 0: someone called A.
            "direction": (1 if leg.mode == "AXB" else 0) if bound else 2,
            "spId": "sandbox",
            "appKey": app_key,
            "icid": hashlib.sha256(session.encode()).hexdigest()[:32],
            "bindNum": leg.x,
            "sessionId": session,
            "callerNum": leg.caller,
            "calleeNum": leg.x,
            "callInTime": _wire_time(at["callin"]),
            "callEndTime": _wire_time(now),
            "fwdUnaswRsn": plan.q850,
            "ulFailReason": plan.tear_down,
            "sipStatusCode": plan.sip,
            "recordFlag": 0,
            "serviceType": "003",
            "hostName": SESSION_HOST,
        }
        if bound:
            fee["subscriptionId"] = leg.subscription_id
            fee["fwdDisplayNum"], fee["fwdDstNum"] = leg.x, leg.callee
        for name, event in (("fwdStartTime", "callout"), ("fwdAlertingTime", "alerting"), ("fwdAnswerTime", "answer")):
            if event in at:
                fee[name] = _wire_time(at[event])
        if "answer" not in at:
            fee["failTime"] = _wire_time(now)
        if leg.extension:
            fee["extendNum"] = leg.extension
        if leg.user_data:
            fee["userData"] = leg.user_data
        if leg.recorded and "answer" in at:
            name = f"call_{int(self.state['call_seq']):05d}_{_stamp(at['answer'])}.wav"
            fee.update(
                recordFlag=1,
                recordStartTime=_wire_time(at["answer"]),
                recordObjectName=name,
                recordBucketName=RECORD_BUCKET,
                recordDomain=RECORD_DOMAIN,
            )
            self.state.setdefault("recordings", []).append(
                {"fileName": name, "recordDomain": RECORD_DOMAIN, "pushed_at": now}
            )
        return fee

    def _binding_leg(self, binding_id: str) -> _Leg:
        """Who calls whom through binding `binding_id` (any mode's subscriptionId)."""
        for mode, parties in _PARTIES.items():
            record = next((r for r in self.state[mode.lower()] if r["subscriptionId"] == binding_id), None)
            if record is not None:
                x, caller, callee = parties(record)
                extension, user_data = record.get("extendNum", ""), record.get("userData", "")
                return _Leg(mode, x, caller, callee, binding_id, bool(record["recordFlag"]), extension, user_data)
        raise HuaweiError(403, "1012007", "The record does not exist.")

    def _bound_numbers(self) -> set[str]:
        state = self.state
        bound = {r["relationNum"] for r in state["axb"]} | {r["privateNum"] for r in state["ax"]}
        bound |= {r["virtualNum"] for r in state["axe"]} | {r["numX"] for r in state["axyb"]}
        return bound | {yb["numY"] for r in state["axyb"] for yb in r["yb"]}

    def _unbound_leg(self, x: str) -> _Leg:
        """A call from a number bound nowhere to `x` (else to the first normal X without a
        binding), which the platform tears down with 8014."""
        bound = self._bound_numbers()
        owner = {number: mode for mode in POOLS for number in self.state["numbers"][mode]}
        if x:
            if x not in owner:
                raise HuaweiError(403, "1012001", "Resource of number is not to be applied.")
            if x in bound:
                raise invalid("x", "has a binding; choose an X without one for a no-binding call")
        else:
            free = [n for n in owner if n not in bound and self.state["numbers"][owner[n]][n]["status"] == "normal"]
            if not free:
                raise HuaweiError(403, "1012008", "Insufficient number of resources")
            x = free[0]
        return _Leg(owner[x], x, OUTSIDE_CALLER, "", "", False)

    # -- control endpoints (/_sandbox), for loopback use ----------------------------------------

    def fault_specs(self, req: SandboxRequest) -> list[Any]:
        try:
            spec = json.loads(req.body.decode("utf-8") or "[]")
        except (UnicodeDecodeError, ValueError):
            raise self.control_refusal("body", "") from None
        return spec if isinstance(spec, list) else [spec]

    def control_reply(self, outcome: ControlOutcome, faults: list[dict[str, Any]], call: Call) -> SandboxResponse:
        if outcome == "called":  # the report's fields beside resultcode, as the platform's answers put them
            return _ok(**faults[0])
        if outcome in ("added", "listed"):
            return _ok(faults=faults)
        if outcome == "cleared":
            return _ok()
        return _ok(seeded=self.seed_data)

    def control_refusal(self, reason: ControlRefusal, detail: str) -> HuaweiError:
        if reason == "body":
            return HuaweiError(400, "1010002", "Invalid request. The fault is not valid JSON.")
        if reason == "fault":
            return HuaweiError(400, "1010002", f"Invalid request. {detail}")
        return HuaweiError(404, "1010002", f"Invalid request. {detail}")


__all__ = [
    "AXB_POOLS",
    "AXE_POOLS",
    "AXYB_POOLS",
    "AX_POOLS",
    "BLACKLISTED",
    "DEFAULT_APP_KEY",
    "DEFAULT_APP_SECRET",
    "DEFAULT_AXE_APP_KEY",
    "DEFAULT_AXE_APP_SECRET",
    "DEFAULT_AXYB_APP_KEY",
    "DEFAULT_AXYB_APP_SECRET",
    "DEFAULT_AX_APP_KEY",
    "DEFAULT_AX_APP_SECRET",
    "IN_PROCESS_BASE_URL",
    "RECORD_DOMAIN",
    "HuaweiError",
    "HuaweiSandbox",
    "build_seed",
    "user_number",
]
