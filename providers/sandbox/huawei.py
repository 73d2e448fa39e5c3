"""A local emulator of Huawei Cloud PrivateNumber (隐私保护通话), AXB and AX modes.

Same URIs, methods and JSON as the platform (docs/reference/huawei_volcengine.md, Part A):

    POST/DELETE/PUT/GET  /rest/caas/relationnumber/partners/v1.0     AXB bind / unbind / modify / query
    POST/DELETE/GET      /rest/provision/caas/privatenumber/v1.0     AX bind / unbind / query
    GET                  /rest/provision/voice/record/v1.0           recording URL (301 + Location)

Like the platform, every app has one mode: the emulator has an AXB app and an AX app, each with
its own APP_Key/APP_Secret and its own X numbers; calling the other mode's API answers 1010040.
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
- Optional flow control (`rate_limit` requests per minute per app, off by default) answers
  403/1010010.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Unpack, cast

from providers.accounts import Account
from providers.huawei.auth import DEFAULT_MAX_SKEW, AkskRejected, NonceCache, verify
from providers.sandbox.base import Call, ControlOutcome, ControlRefusal, Emulator, EmulatorOptions
from providers.sandbox.credentials import Setting, shown
from providers.sandbox.faults import Fault
from providers.sandbox.http import SandboxRequest, SandboxResponse
from providers.sandbox.limits import FixedWindow
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.sandbox.huawei")

SCHEMA_VERSION = 1
JSON_TYPE = "application/json;charset=UTF-8"

APP_KEY_ENV = "TELEDECK_SANDBOX_HUAWEI_APP_KEY"
APP_SECRET_ENV = "TELEDECK_SANDBOX_HUAWEI_APP_SECRET"
AX_APP_KEY_ENV = "TELEDECK_SANDBOX_HUAWEI_AX_APP_KEY"
AX_APP_SECRET_ENV = "TELEDECK_SANDBOX_HUAWEI_AX_APP_SECRET"
RATE_LIMIT_ENV = "TELEDECK_SANDBOX_HUAWEI_RATE_LIMIT"
# Public on purpose: they protect nothing but a local emulator.
DEFAULT_APP_KEY = "TeledeckSandboxAXBKey0000000001"
DEFAULT_APP_SECRET = "TeledeckSandboxAXBSecret0public"
DEFAULT_AX_APP_KEY = "TeledeckSandboxAXKey00000000001"
DEFAULT_AX_APP_SECRET = "TeledeckSandboxAXSecret00public"
# A base URL for in-process clients; `.invalid` never resolves.
IN_PROCESS_BASE_URL = "https://huawei.sandbox.invalid"

AXB_PATH = "/rest/caas/relationnumber/partners/v1.0"
AX_PATH = "/rest/provision/caas/privatenumber/v1.0"
RECORD_PATH = "/rest/provision/voice/record/v1.0"

MAX_PAIRS_PER_X = 5000
MAX_X_PER_A = 5
RECORDING_RETENTION = 7 * 86400
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
BLACKLISTED = {"+8617000000201"}
RECORD_DOMAIN = "record.sandbox.invalid"


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
    numbers: dict[str, dict[str, dict[str, str]]] = {"AXB": {}, "AX": {}}
    for mode, pools in (("AXB", AXB_POOLS), ("AX", AX_POOLS)):
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
# The emulator


class HuaweiOptions(EmulatorOptions, total=False):
    """`HuaweiSandbox`'s keywords beyond its own: the common options and its settings."""

    app_key: str | None
    app_secret: str | None
    ax_app_key: str | None
    ax_app_secret: str | None
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
        if self.app_key == self.ax_app_key:
            raise ValueError("the AXB and AX apps need different app keys")
        # app key -> (mode, secret, recording enabled)
        self.apps: dict[str, tuple[str, str, bool]] = {
            self.app_key: ("AXB", self.app_secret, True),
            self.ax_app_key: ("AX", self.ax_app_secret, False),
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
            RECORD_PATH: {"GET": self._record_url},
        }
        self._load_state()

    def pool_numbers(self, mode: str = "AXB") -> list[str]:
        """The X numbers of the AXB or the AX app, as seeded (the order of the pools above)."""
        with self._lock:
            return list(self.state["numbers"][mode])

    def session_account(self) -> Account:
        """The account a sandbox session connects with: both apps, watching every seeded X number."""
        numbers = [*self.pool_numbers("AXB"), *self.pool_numbers("AX")]
        keys = ("app_key", "app_secret", "ax_app_key", "ax_app_secret")
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
        """Remove AXB bindings whose time is up (archived under "expired"); True if any were."""
        now = self.clock()
        live: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        for record in self.state["axb"]:
            (gone if record.get("_expires") is not None and record["_expires"] <= now else live).append(record)
        if gone:
            self.state["axb"] = live
            self.state["expired"] = (self.state.get("expired", []) + gone)[-200:]
        return bool(gone)

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
        needed = {AXB_PATH: "AXB", AX_PATH: "AX"}.get(path)
        if needed is not None and mode != needed:
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
            if mode == "AXB":
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
                expires = int(now) + 3600
                token = hashlib.sha256(f"{name}:{expires}".encode()).hexdigest()[:32]
                location = f"https://{domain}/{name}?Expires={expires}&Signature={token}"
                return SandboxResponse(301, {"location": location}, b"")
        raise HuaweiError(403, "1012007", "The record does not exist.")

    # -- control endpoints (/_sandbox), for loopback use ----------------------------------------

    def fault_specs(self, req: SandboxRequest) -> list[Any]:
        try:
            spec = json.loads(req.body.decode("utf-8") or "[]")
        except (UnicodeDecodeError, ValueError):
            raise self.control_refusal("body", "") from None
        return spec if isinstance(spec, list) else [spec]

    def control_reply(self, outcome: ControlOutcome, faults: list[dict[str, Any]], call: Call) -> SandboxResponse:
        if outcome in ("added", "listed"):
            return _ok(faults=faults)
        if outcome == "cleared":
            return _ok()
        return _ok(seeded=self.seed_data)

    def control_refusal(self, reason: ControlRefusal, detail: str) -> HuaweiError:
        if reason == "body":
            return HuaweiError(400, "1010002", "Invalid request. The fault is not valid JSON.")
        if reason == "fault":
            return HuaweiError(400, "1010002", f"Invalid request. Invalid fault: {detail}")
        return HuaweiError(404, "1010002", f"Invalid request. {detail}")


__all__ = [
    "AXB_POOLS",
    "AX_POOLS",
    "BLACKLISTED",
    "DEFAULT_APP_KEY",
    "DEFAULT_APP_SECRET",
    "DEFAULT_AX_APP_KEY",
    "DEFAULT_AX_APP_SECRET",
    "IN_PROCESS_BASE_URL",
    "RECORD_DOMAIN",
    "HuaweiError",
    "HuaweiSandbox",
    "build_seed",
    "user_number",
]
