"""Huawei Cloud PrivateNumber pushes: call events and CDRs, checked, read and decoded.

The platform POSTs two kinds of JSON to the URLs an app is configured with
(docs/reference/huawei_volcengine.md A.5, A.6); teledeck's receiver takes both at `/huawei/events`:

    call events  {"eventType": "callin"|"callout"|"alerting"|"answer"|"disconnect"|"collectInfo",
                  "statusInfo": {"sessionId", "timestamp", "caller", "called", "subscriptionId", ...}}
    CDRs         {"eventType": "fee", "feeLst": [FeeInfo, ... at most 50]}

Both carry the X-AKSK header of API requests, signed with the app's own key pair
(providers/huawei/auth.py); the `Authorization` header may be absent on pushes. A push is taken
when its app key is one of the receiving profile's (any mode's app), its digest matches, its
`Created` is within `DEFAULT_MAX_SKEW` of the receiver's clock and its nonce was not seen before
for that app key. The platform retries a push it got no 200 for (up to 6 times), so the same
sessionId + eventType may come again: the ledger keeps it once.

Decoding (`decode`) reads, in this order: the CDR's tear-down point `ulFailReason` (the official
"呼叫拆线点说明" table, privatenumber_02_0019), its Q.850 cause `fwdUnaswRsn`, its
`sipStatusCode`, `direction` 2 ("abnormal", e.g. no binding), and without a CDR the disconnect
event's `stateCode`/`stateDesc` (which uses the same codes as ulFailReason). Where one code says
"no binding" or "blocked" it wins; otherwise the Q.850 cause, being the network's own word for
busy / no answer / rejected, comes before the platform's tear-down point. The choices are in
docs/decisions.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from providers import calls
from providers.calls import ANSWER, CDR, END, RECORDING, RING, START, CallEvent, Verdict
from providers.huawei.auth import (
    AUTHORIZATION,
    DEFAULT_MAX_SKEW,
    AkskRejected,
    parse_params,
    verify,
    x_aksk_value,
)
from providers.huawei.vendor import OPTIONAL_APPS
from providers.pushes import MalformedPush, NonceBook, PushRefused, PushReply, PushRequest, PushSpec, ReceiverKey

PROVIDER = "huawei"
ROUTE = "/huawei/events"
CONTENT_TYPE = "application/json;charset=UTF-8"
WIRE_TIME = "%Y-%m-%d %H:%M:%S"  # every push time, UTC ("8 hours behind Beijing time")
MAX_FEES = 50  # CDRs merged into one push, at most (A.6)
MAX_TEXT = 256  # the longest text field Huawei documents (sessionId, userData: String(1-256))
RECORDING_KIND = "recording"  # the CallEvent a recorded CDR adds (Huawei pushes no recording event)

# eventType -> stage. collectInfo (AXE: the extension the caller keyed in) comes before the
# platform forwards the call, so it belongs to the call's start.
EVENT_STAGES = {
    "callin": START,
    "callout": START,
    "collectInfo": START,
    "alerting": RING,
    "answer": ANSWER,
    "disconnect": END,
}
FEE = "fee"


# ---------------------------------------------------------------------------------------------
# Cause tables

# ulFailReason (呼叫拆线点) and the disconnect event's stateCode (通话挂机原因值), which share their
# codes: the official PrivateNumber tables (privatenumber_02_0019 and the FAQ's hang-up cause
# table), in words, with the outcome each means when the call was not answered.
TEAR_DOWN: dict[int, tuple[str, str]] = {
    0: (calls.ANSWERED, "hung up after the call was answered"),
    522: (calls.FAILED, "the platform had no free voice port"),
    7001: (calls.BLOCKED, "developer call-rate control"),
    7002: (calls.BLOCKED, "app call-rate control"),
    7003: (calls.BLOCKED, "display-number call-rate control"),
    7004: (calls.BLOCKED, "callee is on a blacklist"),
    7005: (calls.BLOCKED, "caller is on a blacklist"),
    7100: (calls.FAILED, "the app does not exist"),
    7101: (calls.FAILED, "the app has no privacy numbers"),
    7102: (calls.FAILED, "internal error on the platform"),
    7103: (calls.NO_BINDING, "the caller's number is unknown to the platform"),
    7104: (calls.NO_BINDING, "no AX binding for this X"),
    7105: (calls.FAILED, "the service type does not match the app"),
    7106: (calls.FAILED, "the app has no privacy-call capability"),
    7107: (calls.FAILED, "the security notice could not be played"),
    7108: (calls.BLOCKED, "the account is frozen"),
    7109: (calls.FAILED, "the platform had no free voice port"),
    7500: (calls.BLOCKED, "the call prefix is restricted"),
    7501: (calls.FAILED, "the caller hung up before the callee rang"),
    7502: (calls.NO_ANSWER, "the caller hung up while the callee was ringing"),
    7503: (calls.REJECTED, "the callee declined"),
    7504: (calls.REJECTED, "the call was rejected (declined, do-not-disturb or a blocking app)"),
    7505: (calls.FAILED, "network fault on the caller's side"),
    7506: (calls.FAILED, "network fault on the callee's side (e.g. a badly formatted bound number)"),
    7507: (calls.FAILED, "a tone file is missing"),
    7508: (calls.FAILED, "routing failed"),
    7516: (calls.FAILED, "the caller hung up before the call was forwarded (e.g. no AXE extension keyed)"),
    8002: (calls.FAILED, "the far end answered with a failure announcement"),
    8003: (calls.NO_ANSWER, "ringing timed out"),
    8004: (calls.REJECTED, "the callee hung up while ringing"),
    8005: (calls.FAILED, "text-to-speech failed"),
    8006: (calls.FAILED, "a tone file does not exist"),
    8007: (calls.FAILED, "an announcement could not be played"),
    8008: (calls.FAILED, "collecting digits failed"),
    8009: (calls.NO_ANSWER, "the caller hung up before the call was answered"),
    8010: (calls.ANSWERED, "ended at the binding's maximum call duration"),
    8011: (calls.FAILED, "internal error on the platform"),
    8012: (calls.FAILED, "invalid app_key"),
    8013: (calls.NO_BINDING, "AX binding without a temporary callee"),
    8014: (calls.NO_BINDING, "no binding for this X and these numbers (or a badly formatted number)"),
    8015: (calls.FAILED, "recording the call failed"),
    8016: (calls.BLOCKED, "the binding does not allow this call direction"),
    8018: (calls.NO_BINDING, "not permitted: no AX binding"),
    8019: (calls.NO_BINDING, "no call-back record (AX/AXE, A called X)"),
    8020: (calls.FAILED, "service error on the platform"),
    8022: (calls.NO_BINDING, "the AXE binding does not exist or has expired"),
    8023: (calls.BLOCKED, "a landline cannot be the caller"),
    8024: (calls.BLOCKED, "showing the real caller number is not allowed"),
    8025: (calls.NO_BINDING, "the X called does not exist (AXE)"),
    8030: (calls.NO_BINDING, "no AXYB binding"),
    8031: (calls.FAILED, "no Y could be allocated during the call"),
    8032: (calls.FAILED, "the caller dialled their own privacy number (AXYB)"),
    8033: (calls.FAILED, "no extension was keyed in"),
    8035: (calls.NO_ANSWER, "the callee did not answer (ringing timed out)"),
    8040: (calls.FAILED, "internal error on the platform"),
    8041: (calls.FAILED, "recording the call failed"),
    8042: (calls.BLOCKED, "international incoming calls are restricted"),
    8043: (calls.BLOCKED, "international outgoing calls are restricted"),
    8044: (calls.BLOCKED, "abnormal call-duration control"),
    8046: (calls.BLOCKED, "abnormal answer-rate control"),
    8047: (calls.BLOCKED, "caller call-rate control"),
    8048: (calls.BLOCKED, "callee call-rate control"),
    8049: (calls.BLOCKED, "service-number call-rate control"),
    8050: (calls.BLOCKED, "calls are not allowed at this time of day"),
    8051: (calls.BLOCKED, "the sub-enterprise is suspended"),
    8055: (calls.BLOCKED, "the X has no call or SMS permission (check its status)"),
    8056: (calls.BLOCKED, "test-call number control"),
    8057: (calls.BLOCKED, "call-direction control"),
    8058: (calls.BLOCKED, "the practitioner has no real-name registration"),
    8059: (calls.BLOCKED, "intercepted by the carrier"),
    8100: (calls.FAILED, "the callee's number does not exist"),
    8101: (calls.NO_ANSWER, "the callee did not answer"),
    8102: (calls.BUSY, "the callee is busy"),
    8103: (calls.FAILED, "the callee is temporarily unreachable"),
    8104: (calls.FAILED, "the callee's phone is off (or in flight mode, or without network)"),
    8105: (calls.FAILED, "the callee's line is out of service"),
}

# ITU-T Q.850 cause values (fwdUnaswRsn), in words, with the outcome each means for a call that
# was not answered. Huawei's own table ("Q850原因值说明") lists the same values.
Q850: dict[int, tuple[str, str]] = {
    1: (calls.FAILED, "unallocated (unassigned) number"),
    2: (calls.FAILED, "no route to the specified transit network"),
    3: (calls.FAILED, "no route to destination"),
    4: (calls.FAILED, "special information tone sent"),
    5: (calls.FAILED, "misdialled trunk prefix"),
    6: (calls.FAILED, "channel unacceptable"),
    7: (calls.FAILED, "call awarded, delivered in an established channel"),
    8: (calls.BUSY, "preemption"),
    9: (calls.BUSY, "preemption, circuit reserved for reuse"),
    16: (calls.ANSWERED, "normal call clearing"),
    17: (calls.BUSY, "user busy"),
    18: (calls.NO_ANSWER, "no user responding"),
    19: (calls.NO_ANSWER, "no answer from user (user alerted)"),
    20: (calls.FAILED, "subscriber absent"),
    21: (calls.REJECTED, "call rejected"),
    22: (calls.FAILED, "number changed"),
    23: (calls.FAILED, "redirection to a new destination"),
    25: (calls.FAILED, "exchange routing error"),
    26: (calls.FAILED, "non-selected user clearing"),
    27: (calls.FAILED, "destination out of order"),
    28: (calls.FAILED, "invalid number format (address incomplete)"),
    29: (calls.FAILED, "facility rejected"),
    30: (calls.FAILED, "response to STATUS ENQUIRY"),
    31: (calls.FAILED, "normal, unspecified"),
    34: (calls.FAILED, "no circuit or channel available"),
    38: (calls.FAILED, "network out of order"),
    41: (calls.FAILED, "temporary failure"),
    42: (calls.FAILED, "switching equipment congestion"),
    43: (calls.FAILED, "access information discarded"),
    44: (calls.FAILED, "requested circuit or channel not available"),
    47: (calls.FAILED, "resource unavailable, unspecified"),
    49: (calls.FAILED, "quality of service not available"),
    50: (calls.BLOCKED, "requested facility not subscribed"),
    53: (calls.BLOCKED, "outgoing calls barred within the closed user group"),
    55: (calls.BLOCKED, "incoming calls barred within the closed user group"),
    57: (calls.BLOCKED, "bearer capability not authorised"),
    58: (calls.FAILED, "bearer capability not presently available"),
    62: (calls.BLOCKED, "inconsistent outgoing access information and subscriber class"),
    63: (calls.FAILED, "service or option not available, unspecified"),
    65: (calls.FAILED, "bearer capability not implemented"),
    66: (calls.FAILED, "channel type not implemented"),
    69: (calls.FAILED, "requested facility not implemented"),
    70: (calls.FAILED, "only restricted digital information bearer capability available"),
    79: (calls.FAILED, "service or option not implemented, unspecified"),
    81: (calls.FAILED, "invalid call reference value"),
    82: (calls.FAILED, "identified channel does not exist"),
    83: (calls.FAILED, "a suspended call exists, but not with this call identity"),
    84: (calls.FAILED, "call identity in use"),
    85: (calls.FAILED, "no call suspended"),
    86: (calls.FAILED, "the call with the requested identity has been cleared"),
    87: (calls.BLOCKED, "user not a member of the closed user group"),
    88: (calls.FAILED, "incompatible destination"),
    90: (calls.FAILED, "non-existent closed user group"),
    91: (calls.FAILED, "invalid transit network selection"),
    95: (calls.FAILED, "invalid message, unspecified"),
    96: (calls.FAILED, "mandatory information element missing"),
    97: (calls.FAILED, "message type non-existent or not implemented"),
    98: (calls.FAILED, "message not compatible with the call state"),
    99: (calls.FAILED, "information element or parameter non-existent or not implemented"),
    100: (calls.FAILED, "invalid information element contents"),
    101: (calls.FAILED, "message not compatible with the call state"),
    102: (calls.FAILED, "recovery on timer expiry"),
    103: (calls.FAILED, "parameter non-existent or not implemented, passed on"),
    110: (calls.FAILED, "message with an unrecognised parameter discarded"),
    111: (calls.FAILED, "protocol error, unspecified"),
    127: (calls.FAILED, "interworking, unspecified"),
}

# sipStatusCode, for a failed call whose CDR gives neither cause (RFC 3261 reason phrases).
SIP: dict[int, tuple[str, str]] = {
    403: (calls.BLOCKED, "forbidden"),
    404: (calls.FAILED, "not found"),
    408: (calls.NO_ANSWER, "request timeout"),
    410: (calls.FAILED, "gone"),
    480: (calls.NO_ANSWER, "temporarily unavailable"),
    484: (calls.FAILED, "address incomplete"),
    486: (calls.BUSY, "busy here"),
    487: (calls.NO_ANSWER, "request terminated (the caller gave up)"),
    500: (calls.FAILED, "server internal error"),
    503: (calls.FAILED, "service unavailable"),
    600: (calls.BUSY, "busy everywhere"),
    603: (calls.REJECTED, "declined"),
}

# Outcomes that say more than any other code of the same call does.
_DECISIVE = (calls.NO_BINDING, calls.BLOCKED)


# ---------------------------------------------------------------------------------------------
# Signing (the sandbox's side) and checking


def push_headers(app_key: str, app_secret: str, *, created: str, nonce: str) -> dict[str, str]:
    """The headers a push signed with one app key pair carries (names lower-case, as a
    `PushRequest` holds them)."""
    return {
        "content-type": CONTENT_TYPE,
        "authorization": AUTHORIZATION,
        "x-aksk": x_aksk_value(app_key, app_secret, nonce, created),
    }


def push_request(body: Mapping[str, Any], app_key: str, app_secret: str, *, created: str, nonce: str) -> PushRequest:
    """A push of `body` as the platform sends it, signed with the app key pair."""
    data = json.dumps(dict(body), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return PushRequest(ROUTE, data, headers=push_headers(app_key, app_secret, created=created, nonce=nonce))


def app_pairs(credentials: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every app key pair of one account: the AXB app's and the optional AX, AXE and AXYB apps'."""
    names = [("app_key", "app_secret")] + [
        (OPTIONAL_APPS[i], OPTIONAL_APPS[i + 1]) for i in range(0, len(OPTIONAL_APPS), 2)
    ]
    pairs = [(credentials.get(key, ""), credentials.get(secret, "")) for key, secret in names]
    return [(key, secret) for key, secret in pairs if key and secret]


# AkskRejected result code -> the check that failed, in words (never the secret or the digest).
_REFUSALS = {
    "1023033": "missing X-AKSK header",
    "1023034": "X-AKSK has no Username",
    "1023035": "X-AKSK has no Nonce",
    "1023036": "X-AKSK has no Created",
    "1023037": "X-AKSK has no PasswordDigest",
    "1010003": "unknown app key",
    "1010013": "stale Created (outside the allowed clock skew, or not UTC like 2018-02-12T15:30:20Z)",
    "1010010": "wrong digest",
}


def authenticate(request: PushRequest, keys: Sequence[ReceiverKey], *, now: datetime, nonces: NonceBook) -> ReceiverKey:
    """The account whose app key signed `request`, or `PushRefused` naming the failed check."""
    x_aksk = request.header("x-aksk")
    if not x_aksk.strip():
        raise PushRefused("Huawei push refused: missing X-AKSK header")
    owners: dict[str, tuple[ReceiverKey, str]] = {}
    for key in keys:
        for app_key, secret in app_pairs(key.credentials):
            owners.setdefault(app_key, (key, secret))
    moment = now.timestamp()
    try:
        app_key = verify(
            request.header("authorization") or AUTHORIZATION,  # pushes may leave Authorization out
            x_aksk,
            secret_for=lambda name: owners[name][1] if name in owners else None,
            now=moment,
            max_skew=DEFAULT_MAX_SKEW,
        )
    except AkskRejected as exc:
        why = _REFUSALS.get(exc.code, "malformed X-AKSK or Authorization header")
        raise PushRefused(f"Huawei push refused: {why}") from None
    nonce = _nonce(x_aksk)
    if not nonces.first_use(app_key, nonce, now=moment, keep_for=2 * DEFAULT_MAX_SKEW):
        raise PushRefused("Huawei push refused: nonce reused (a replayed push)")
    return owners[app_key][0]


def _nonce(x_aksk: str) -> str:
    """The Nonce of an X-AKSK value `verify` accepted."""
    fields = parse_params(x_aksk.strip().partition(" ")[2])
    return next(value for name, value in fields.items() if name.lower() == "nonce")


# ---------------------------------------------------------------------------------------------
# Reading


def parse_time(value: Any, name: str) -> datetime | None:
    """A push time ("yyyy-MM-dd HH:mm:ss", UTC) as an aware datetime; None when absent or empty.
    Unix seconds or milliseconds in digits are taken too: the event table calls `timestamp` a
    "UNIX时间" although every sample formats it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedPush(f"{name} must be a time like 2019-01-24 02:30:03, got a {type(value).__name__}")
    if value.isascii() and value.isdigit() and len(value) in (10, 13):
        return datetime.fromtimestamp(int(value) / (1000 if len(value) == 13 else 1), UTC)
    try:
        return datetime.strptime(value.strip(), WIRE_TIME).replace(tzinfo=UTC)
    except ValueError:
        raise MalformedPush(f"{name} must be a time like 2019-01-24 02:30:03, got {value[:40]!r}") from None


def _text(record: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> str:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise MalformedPush(f"{where} has no {name}")
        return ""
    if not isinstance(value, str):
        raise MalformedPush(f"{where}: {name} must be text, got a {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise MalformedPush(f"{where}: {name} is {len(value)} characters; Huawei's fields hold at most {MAX_TEXT}")
    return value


def _code(record: Mapping[str, Any], name: str, where: str = "") -> int:
    """An integer field (the platform sends numbers; some samples quote them); 0 when absent."""
    value = record.get(name)
    if value is None or value == "" or isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    digits = value.strip().lstrip("-") if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(value)
    raise MalformedPush(f"{where + ': ' if where else ''}{name} must be a number, got {str(value)[:40]!r}")


def parse(body: bytes, *, received_at: datetime, account: str) -> list[CallEvent]:
    """The CallEvents of one push: one per call event, one per CDR (plus one per recording a CDR
    names). `MalformedPush` says what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedPush("the body is not UTF-8") from None
    except RecursionError:
        raise MalformedPush("the body nests too deeply to be a push") from None
    except json.JSONDecodeError as exc:
        raise MalformedPush(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise MalformedPush("the body must be a JSON object with eventType")
    kind = data.get("eventType")
    if not isinstance(kind, str) or not kind:
        raise MalformedPush("the body has no eventType")
    if kind == FEE:
        fees = data.get("feeLst")
        if not isinstance(fees, list) or not fees:
            raise MalformedPush("a fee push needs feeLst, a list of 1 to 50 CDRs")
        if len(fees) > MAX_FEES:
            raise MalformedPush(f"feeLst holds {len(fees)} CDRs; the platform sends at most {MAX_FEES}")
        events: list[CallEvent] = []
        for index, fee in enumerate(fees):
            events += _read_fee(fee, f"feeLst[{index}]", received_at, account)
        return events
    if kind not in EVENT_STAGES:
        known = ", ".join([*EVENT_STAGES, FEE])
        raise MalformedPush(f"unknown eventType {kind[:40]!r} (expected one of {known})")
    info = data.get("statusInfo")
    if not isinstance(info, dict):
        raise MalformedPush(f"a {kind} event needs statusInfo, an object")
    return [_read_event(kind, info, received_at, account)]


def _read_event(kind: str, info: Mapping[str, Any], received_at: datetime, account: str) -> CallEvent:
    where = f"{kind} statusInfo"
    caller, called = _text(info, "caller", where), _text(info, "called", where)
    # callin is A dialling X (called is X); callout, alerting, answer and disconnect are the
    # forwarded leg, X calling the callee; collectInfo names no leg. The CDR's numbers replace
    # these (the platform says the events' numbers may not be the real ones).
    if kind == "callin":
        x, caller, callee = called, caller, ""
    elif kind == "collectInfo":
        x, caller, callee = "", "", ""
    else:
        x, caller, callee = caller, "", called
    return CallEvent(
        provider=PROVIDER,
        call_id=_text(info, "sessionId", where, required=True),
        kind=kind,
        stage=EVENT_STAGES[kind],
        received_at=received_at,
        at=parse_time(info.get("timestamp"), f"{where} timestamp"),
        subscription_id=_text(info, "subscriptionId", where),
        x=x,
        caller=caller,
        callee=callee,
        account=account,
        fields=dict(info),
    )


def _read_fee(fee: Any, where: str, received_at: datetime, account: str) -> list[CallEvent]:
    if not isinstance(fee, dict):
        raise MalformedPush(f"{where} must be an object")
    times = {name: parse_time(fee.get(name), f"{where} {name}") for name in _FEE_TIMES}
    for name in _FEE_CODES:  # read again by decode; a code that is not a number is refused here
        _code(fee, name, where)
    session = _text(fee, "sessionId", where, required=True)
    ended = times["callEndTime"] or times["failTime"] or times["fwdAnswerTime"] or times["callInTime"]
    cdr = CallEvent(
        provider=PROVIDER,
        call_id=session,
        kind=FEE,
        stage=CDR,
        received_at=received_at,
        at=ended,
        subscription_id=_text(fee, "subscriptionId", where),
        x=_text(fee, "bindNum", where),
        caller=_text(fee, "callerNum", where),
        # calleeNum is the first leg's callee (X when A dialled X); fwdDstNum the real callee.
        callee=_text(fee, "fwdDstNum", where) or _text(fee, "calleeNum", where),
        account=account,
        fields=dict(fee),
    )
    events = [cdr]
    name, domain = _text(fee, "recordObjectName", where), _text(fee, "recordDomain", where)
    if _code(fee, "recordFlag", where) == 1 and name and domain:
        locator = {"fileName": name, "recordDomain": domain}
        if _text(fee, "appKey", where):  # which app's client may fetch it
            locator["appKey"] = fee["appKey"]
        events.append(
            CallEvent(
                provider=PROVIDER,
                call_id=session,
                kind=RECORDING_KIND,
                stage=RECORDING,
                received_at=received_at,
                at=times["recordStartTime"] or ended,
                subscription_id=cdr.subscription_id,
                x=cdr.x,
                account=account,
                fields=locator,
            )
        )
    return events


_FEE_CODES = ("direction", "fwdUnaswRsn", "ulFailReason", "sipStatusCode", "recordFlag")
_FEE_TIMES = (
    "callInTime",
    "fwdStartTime",
    "fwdAlertingTime",
    "fwdAnswerTime",
    "callEndTime",
    "failTime",
    "recordStartTime",
)


def reply(events: Sequence[CallEvent]) -> PushReply:
    """Taken: HTTP 200 with an empty body (Notify mode)."""
    return PushReply(200)


# ---------------------------------------------------------------------------------------------
# Decoding


def _looked_up(table: Mapping[int, tuple[str, str]], code: int, label: str, shown: str) -> Verdict:
    outcome, words = table.get(code, (calls.FAILED, f"{label} {code} (not in Huawei's published table)"))
    return Verdict(outcome, shown, words)


def tear_down(code: int) -> Verdict:
    """ulFailReason / stateCode `code` in words."""
    return _looked_up(TEAR_DOWN, code, "tear-down point", str(code))


def q850(code: int) -> Verdict:
    """Q.850 cause `code` in words."""
    return _looked_up(Q850, code, "Q.850 cause", f"Q.850 {code}")


def sip_status(code: int) -> Verdict:
    return _looked_up(SIP, code, "SIP status", f"SIP {code}")


def decode(events: Sequence[CallEvent]) -> Verdict | None:
    """A call's outcome and cause in words, from its CDR, else from its events."""
    fees = [e for e in events if e.kind == FEE]
    answered_event = any(e.stage == ANSWER for e in events)
    disconnect = next((e for e in reversed(events) if e.kind == "disconnect"), None)
    state = _code(disconnect.fields, "stateCode") if disconnect is not None else 0
    if fees:
        return _timed(_from_fee(fees[-1].fields, answered_event, state), fees[-1].fields)
    if disconnect is None:
        stage = max((e.stage for e in events), key=(START, RING, ANSWER).index, default=START)
        doing = {START: "calling", RING: "ringing", ANSWER: "talking"}[stage]
        return Verdict(calls.IN_PROGRESS, "", f"{doing}, no end yet")
    if state:
        verdict = tear_down(state)
        if answered_event and verdict.outcome not in _DECISIVE:
            return Verdict(calls.ANSWERED, verdict.cause_code, verdict.cause)
        return verdict
    words = _text(disconnect.fields, "stateDesc", "disconnect") or "released normally"
    if answered_event:
        return Verdict(calls.ANSWERED, "0", words)
    return Verdict(calls.FAILED, "0", f"ended before it was answered ({words})")


def _timed(verdict: Verdict, fee: Mapping[str, Any]) -> Verdict:
    """`verdict` with the call's times as its CDR states them (a CDR may come with no events)."""
    try:
        times = {
            name: parse_time(fee.get(name), name) for name in ("callInTime", "fwdAnswerTime", "callEndTime", "failTime")
        }
    except MalformedPush:  # stored fields are data: unreadable times leave the events' times
        return verdict
    return replace(
        verdict,
        started_at=times["callInTime"],
        answered_at=times["fwdAnswerTime"],
        ended_at=times["callEndTime"] or times["failTime"],
    )


def _from_fee(fee: Mapping[str, Any], answered_event: bool, state: int) -> Verdict:
    try:
        ul, cause, sip, direction = (
            _code(fee, n) for n in ("ulFailReason", "fwdUnaswRsn", "sipStatusCode", "direction")
        )
    except MalformedPush:  # stored fields are data: an unreadable code decodes as none given
        ul = cause = sip = direction = 0
    answered = bool(fee.get("fwdAnswerTime")) or answered_event
    found = [v for v in (tear_down(ul) if ul else None, q850(cause) if cause else None) if v is not None]
    decisive = next((v for v in found if v.outcome in _DECISIVE), None)
    if decisive is not None:
        return decisive
    if answered:
        reason = next(iter(found), None) or (tear_down(state) if state else tear_down(0))
        return Verdict(calls.ANSWERED, reason.cause_code, reason.cause)
    if cause:
        verdict = q850(cause)
        # Normal clearing before an answer is the caller giving up, not an answered call.
        return (
            verdict
            if verdict.outcome != calls.ANSWERED
            else Verdict(calls.NO_ANSWER, verdict.cause_code, verdict.cause)
        )
    if ul:
        return tear_down(ul)
    if direction == 2:
        return Verdict(calls.NO_BINDING, "direction 2", "abnormal call: usually no binding for this X")
    if sip:
        return sip_status(sip)
    if state:
        return tear_down(state)
    return Verdict(calls.FAILED, "", "not answered; the CDR gives no cause")


PUSHES = PushSpec(
    provider=PROVIDER,
    route=ROUTE,
    receive_credentials=("app_key", "app_secret"),
    authenticate=authenticate,
    parse=parse,
    reply=reply,
    decode=decode,
)

__all__ = [
    "CONTENT_TYPE",
    "MAX_FEES",
    "PUSHES",
    "Q850",
    "RECORDING_KIND",
    "ROUTE",
    "TEAR_DOWN",
    "app_pairs",
    "authenticate",
    "decode",
    "parse",
    "parse_time",
    "push_headers",
    "push_request",
    "q850",
    "reply",
    "tear_down",
]
