"""Alibaba Dypls receipts ("回执消息") by HTTP batch push: checked, read and acknowledged.

Dypls POSTs each subscribed message type to the callback URL set in its console as a JSON array
(one request may carry several records) and signs nothing, so the URL is the secret: teledeck
serves them at `/aliyun/receipts/<token>`, where the token is the account's `receipt_token`
credential (at least 16 URL-safe characters). The answer is HTTP 200 with
`{"code":0,"msg":"接收成功"}` (only the numeric code is checked); anything else, or no answer
within 700 ms, is pushed again after 1, 5 and 10 minutes.

The five call message types and what each becomes (providers.calls stages):

    SecretStartReport   the call was placed          START   at call_time
    SecretRingReport    the callee's phone rang      RING    at ring_time   (some carriers only)
    SecretPickUpReport  the callee answered          ANSWER  at start_time  (some carriers only)
    SecretReport        the call detail record       CDR     at release_time
    SecretRecording     the recording is ready       RECORDING (its locator: CallId, CallTime, PoolKey)

No record names its message type (each type has its own URL in the console, and teledeck takes
them all at one), so each element's type is read from the fields only it has; see `message_type`
and docs/decisions.md. Times are `yyyy-MM-dd HH:mm:ss` China time (UTC+8), except
SecretRecording's call_time, which is epoch milliseconds; all become UTC.

Since Ring and PickUp reports come from some carriers only, a SecretReport also stands for the
start (call_time) and, when answered (start_time before release_time), the answer of its call:
`parse` adds those as SecretStartReport / SecretPickUpReport events marked `derived_from`, which
the ledger's one row per (call_id, message type) keeps only when the vendor's own is not there.

Causes (`decode`), from the Dypls receipt and call-record error-code pages: `unconnected_cause`
(0 normal, 1 blacklist, 2 no binding, 3 call restriction, 4 other), `control_msg` (NO_SUBS_EXIST
when the X has no binding), `call_type` 4 (intercepted), `release_cause` (Q.850 numbering, with
Alibaba's own reading of 7, 8, 9 and 26) and `release_dir` (0 the platform, 1 the caller, 2 the
callee released).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from providers.aliyun.vendor import CHINA_TIME, receipt_token_problem
from providers.calls import (
    ANSWER,
    ANSWERED,
    BLOCKED,
    BUSY,
    CDR,
    FAILED,
    NO_ANSWER,
    NO_BINDING,
    RECORDING,
    REJECTED,
    RING,
    START,
    CallEvent,
    Verdict,
)
from providers.pushes import (
    MalformedPush,
    PushRefused,
    PushReply,
    PushRequest,
    PushSpec,
    ReceiverKey,
    pushed_integer,
    pushed_text,
)
from providers.records import UnreadableJson, load_json

PROVIDER = "aliyun"
ROUTE = "/aliyun/receipts"
TOKEN_FIELD = "receipt_token"

START_REPORT = "SecretStartReport"
RING_REPORT = "SecretRingReport"
PICKUP_REPORT = "SecretPickUpReport"
CALL_REPORT = "SecretReport"
RECORDING_REPORT = "SecretRecording"
MESSAGE_TYPES = (START_REPORT, RING_REPORT, PICKUP_REPORT, CALL_REPORT, RECORDING_REPORT)
STAGE_OF = {
    START_REPORT: START,
    RING_REPORT: RING,
    PICKUP_REPORT: ANSWER,
    CALL_REPORT: CDR,
    RECORDING_REPORT: RECORDING,
}
# The field holding each type's own moment (SecretRecording's is the call's, not the event's).
_MOMENT_OF = {
    START_REPORT: "call_time",
    RING_REPORT: "ring_time",
    PICKUP_REPORT: "start_time",
    CALL_REPORT: "release_time",
}

WIRE_TIME = "%Y-%m-%d %H:%M:%S"
MAX_CALL_ID = 100  # "call_id长度限制在100个字符以内"
NO_SUBS_EXIST = "NO_SUBS_EXIST"
# Signed download links valid for days: never kept in the ledger, a cache or a log.
_LINK_FIELDS = ("record_url", "ring_record_url")

REPLY = PushReply(
    200,
    json.dumps({"code": 0, "msg": "接收成功"}, ensure_ascii=False).encode("utf-8"),
    "application/json; charset=utf-8",
)

UNCONNECTED_CAUSES = {0: "normal call", 1: "blocked by a blacklist", 2: "no binding", 3: "call restriction", 4: "other"}
RELEASE_DIRECTIONS = {0: "released by the platform", 1: "released by the caller", 2: "released by the callee"}
# release_cause: Alibaba's call-record error codes, which follow ITU-T Q.850 (the older Alibaba
# table names the same causes); 7, 8, 9 and 26 in Alibaba's own reading.
RELEASE_CAUSES = {
    0: "no cause recorded",
    1: "unallocated (unassigned) number",
    2: "no route to the transit network",
    3: "no route to destination",
    4: "special information tone sent (callee unreachable)",
    5: "misdialled trunk prefix",
    6: "channel unacceptable",
    7: "the call reached the callee, who rejected it",
    8: "preemption (callee busy)",
    9: "preemption, circuit reserved (callee busy)",
    16: "normal call clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer from user (user alerted)",
    20: "subscriber absent",
    21: "call rejected",
    22: "number changed",
    23: "redirected to a new destination",
    24: "the callee cannot be reached at the moment",
    25: "exchange routing error",
    26: "the callee does not accept calls (call barring)",
    27: "destination out of order",
    28: "invalid number format (address incomplete)",
    29: "facility rejected",
    30: "response to status enquiry",
    31: "normal, unspecified",
    34: "no circuit or channel available",
    38: "network out of order",
    41: "temporary failure",
    42: "switching equipment congestion",
    44: "requested circuit or channel not available",
    47: "resource unavailable",
    50: "requested facility not subscribed",
    53: "outgoing calls barred within the closed user group",
    55: "incoming calls barred within the closed user group",
    57: "bearer capability not authorized",
    58: "bearer capability not presently available",
    65: "bearer capability not implemented",
    69: "requested facility not implemented",
    87: "user not a member of the closed user group",
    88: "incompatible destination",
    90: "non-existent closed user group",
    91: "invalid transit network selection",
    95: "invalid message, unspecified",
    97: "message type non-existent or not implemented",
    99: "parameter non-existent or not implemented",
    102: "recovery on timer expiry",
    103: "parameter non-existent or not implemented, passed on",
    110: "message with an unrecognized parameter, discarded",
    111: "protocol error, unspecified",
    127: "interworking, unspecified",
}
# The outcome of an unanswered call by its release cause (others: failed).
_UNANSWERED = {
    **dict.fromkeys((8, 9, 17), BUSY),
    **dict.fromkeys((18, 19), NO_ANSWER),
    **dict.fromkeys((7, 21), REJECTED),
    **dict.fromkeys((26, 53, 55, 87), BLOCKED),
}
_NORMAL_CLEARING = (16, 31)


# ---------------------------------------------------------------------------------------------
# authenticate


def _digest(token: str) -> bytes:
    # Compared as digests, so the comparison takes as long whatever the lengths.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def authenticate(
    request: PushRequest, keys: Sequence[ReceiverKey], *, now: datetime, nonces: object = None
) -> ReceiverKey:
    """The account whose `receipt_token` is the last path segment (`request.rest` is "/<token>").
    Each account's token is compared in constant time; an account whose own token breaks the
    rule (too short) never matches. PushRefused says why without repeating the token."""
    del now, nonces  # nothing is signed, so there is no time or nonce to check
    token = request.rest.removeprefix("/")
    if not token:
        raise PushRefused(f"no receipt token in the path: Alibaba receipts go to {ROUTE}/<receipt_token>")
    if "/" in token:
        raise PushRefused(f"the receipt path has more than one segment after {ROUTE}")
    if receipt_token_problem(token) is not None:
        raise PushRefused("the receipt token in the path is not a receipt token (at least 16 URL-safe characters)")
    presented = _digest(token)
    found: ReceiverKey | None = None
    for key in keys:  # every key is compared, so the time taken does not say which one matched
        mine = key.credentials.get(TOKEN_FIELD, "")
        same = hmac.compare_digest(presented, _digest(mine))
        if same and found is None and receipt_token_problem(mine) is None:
            found = key
    if found is None:
        raise PushRefused("the receipt token matches no account's receipt_token")
    return found


# ---------------------------------------------------------------------------------------------
# parse


def message_type(record: Mapping[str, Any]) -> str:
    """Which message type a receipt is, from the fields only it has (the documented field sets):
    release_time / release_dir / release_cause only in SecretReport; start_time (the answer)
    then only in SecretPickUpReport; ring_time then only in SecretRingReport; SecretRecording has
    an epoch-millisecond call_time and none of the numbers; the rest is SecretStartReport."""
    if any(name in record for name in ("release_time", "release_dir", "release_cause")):
        return CALL_REPORT
    if "start_time" in record:
        return PICKUP_REPORT
    if "ring_time" in record:
        return RING_REPORT
    numbers = any(name in record for name in ("phone_no", "secret_no", "peer_no"))
    if _is_epoch_ms(record.get("call_time")) or not numbers:
        return RECORDING_REPORT
    return START_REPORT


def _is_epoch_ms(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isascii() and value.isdigit()
    )


def _moment(record: Mapping[str, Any], name: str, *, required: bool = False) -> datetime | None:
    """A receipt time as aware UTC: `yyyy-MM-dd HH:mm:ss` China time, or epoch milliseconds."""
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise MalformedPush(f"{name} is missing")
        return None
    if _is_epoch_ms(value):
        try:
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedPush(f"{name} is out of range") from None
    if not isinstance(value, str):
        raise MalformedPush(f"{name} is not a time")
    try:
        return datetime.strptime(value.strip(), WIRE_TIME).replace(tzinfo=CHINA_TIME).astimezone(UTC)
    except (ValueError, OverflowError):
        raise MalformedPush(f"{name} is not yyyy-MM-dd HH:mm:ss (China time) or epoch milliseconds") from None


def china_wall_time(moment: datetime) -> str:
    """An aware time as Dypls writes it: `yyyy-MM-dd HH:mm:ss` in China time."""
    return moment.astimezone(CHINA_TIME).strftime(WIRE_TIME)


def _parties(record: Mapping[str, Any]) -> tuple[str, str]:
    """(caller, callee): call_type 0 is phone_no (A) calling peer_no, 1 is peer_no calling A; for
    an intercepted call (4) and any other the one who dialled is in phone_no."""
    phone, peer = pushed_text(record, "phone_no"), pushed_text(record, "peer_no")
    return (peer, phone) if pushed_integer(record, "call_type") == 1 else (phone, peer)


def _events_of(item: Any, *, received_at: datetime, account: str) -> list[CallEvent]:
    if not isinstance(item, dict):
        raise MalformedPush("not a JSON object")
    kind = message_type(item)
    try:
        return _record_events(kind, item, received_at=received_at, account=account)
    except MalformedPush as why:
        raise MalformedPush(f"{kind}: {why}") from None


def _record_events(kind: str, item: dict[str, Any], *, received_at: datetime, account: str) -> list[CallEvent]:
    call_id = pushed_text(item, "call_id")
    if not call_id:
        raise MalformedPush("call_id is missing")
    if len(call_id) > MAX_CALL_ID:
        raise MalformedPush(f"call_id is longer than {MAX_CALL_ID} characters")
    caller, callee = _parties(item)
    for name in ("call_type", "unconnected_cause", "release_cause", "release_dir"):
        pushed_integer(item, name)  # each one that is there must be a number
    for name in ("pool_key", "secret_no", "control_msg", "out_id"):
        pushed_text(item, name)
    fields = {k: v for k, v in item.items() if k not in _LINK_FIELDS}
    fields.update({f"has_{k}": True for k in _LINK_FIELDS if item.get(k)})
    common: dict[str, Any] = dict(
        provider=PROVIDER,
        call_id=call_id,
        received_at=received_at,
        subscription_id=pushed_text(item, "sub_id") or pushed_text(item, "subs_id"),
        x=pushed_text(item, "secret_no"),
        caller=caller,
        callee=callee,
        account=account,
    )
    if kind == RECORDING_REPORT:
        called_at = _moment(item, "call_time", required=True)
        assert called_at is not None
        pool_key = pushed_text(item, "pool_key")
        if not pool_key:
            raise MalformedPush("pool_key is missing (QueryRecordFileDownloadUrl needs it)")
        # The locator of QueryRecordFileDownloadUrl, whose CallTime is documented as wall time.
        locator = {"CallId": call_id, "CallTime": china_wall_time(called_at), "PoolKey": pool_key}
        return [CallEvent(kind=kind, stage=RECORDING, at=None, fields={**fields, **locator}, **common)]
    times = {name: _moment(item, name) for name in ("call_time", "ring_time", "start_time", "release_time")}
    at = times[_MOMENT_OF[kind]]
    if at is None:
        raise MalformedPush(f"{_MOMENT_OF[kind]} is missing")
    events = [CallEvent(kind=kind, stage=STAGE_OF[kind], at=at, fields=fields, **common)]
    if kind == CALL_REPORT:
        derived = {**fields, "derived_from": CALL_REPORT}
        if times["call_time"] is not None:
            events.append(CallEvent(kind=START_REPORT, stage=START, at=times["call_time"], fields=derived, **common))
        answered_at, released_at = times["start_time"], times["release_time"]
        if answered_at is not None and released_at is not None and answered_at < released_at:
            events.append(CallEvent(kind=PICKUP_REPORT, stage=ANSWER, at=answered_at, fields=derived, **common))
    return events


def parse(body: bytes, *, received_at: datetime, account: str) -> list[CallEvent]:
    """The CallEvents of one push: a JSON array of receipts of any of the five types. A record
    that cannot be read makes the whole push MalformedPush naming its index (nothing is kept, and
    the vendor pushes it again). A derived event gives way to the vendor's own in the same push."""
    try:
        value = load_json(body)
    except UnreadableJson as why:
        raise MalformedPush(f"Alibaba receipts: {why}") from None
    if not isinstance(value, list):
        raise MalformedPush(f"Alibaba receipts are a JSON array, not a JSON {type(value).__name__}")
    events: list[CallEvent] = []
    for index, item in enumerate(value):
        try:
            events.extend(_events_of(item, received_at=received_at, account=account))
        except MalformedPush as why:
            raise MalformedPush(f"Alibaba receipts: element {index}: {why}") from None
    own = {e.dedupe_key for e in events if "derived_from" not in e.fields}
    kept: list[CallEvent] = []
    for event in events:
        if "derived_from" in event.fields and event.dedupe_key in own:
            continue
        own.add(event.dedupe_key)  # a second SecretReport of the call derives nothing more
        kept.append(event)
    return kept


def reply(events: Sequence[CallEvent]) -> PushReply:
    """What Dypls expects once the push is taken: 200 and a numeric code 0."""
    return REPLY


# ---------------------------------------------------------------------------------------------
# decode


def _words(table: Mapping[int, str], code: int, what: str) -> str:
    return table.get(code, f"{what} {code}")


def decode(events: Sequence[CallEvent]) -> Verdict | None:
    """The outcome and cause of one call's receipts, in words; None while nothing says yet."""
    own = [e for e in events if "derived_from" not in e.fields]
    reports = [e for e in own if e.kind == CALL_REPORT]
    report = reports[-1] if reports else None
    starts = [e for e in own if e.kind == START_REPORT]
    sources = [e.fields for e in ([report] if report else []) + starts[-1:]]

    def first(name: str) -> Any:
        return next((f.get(name) for f in sources if f.get(name) not in (None, "")), None)

    control = str(first("control_msg") or "").strip()
    unconnected = _safe_number(first("unconnected_cause"))
    if control == NO_SUBS_EXIST:
        return Verdict(NO_BINDING, NO_SUBS_EXIST, "no binding on this X number (control_msg NO_SUBS_EXIST)")
    if unconnected == 2:
        return Verdict(NO_BINDING, "unconnected_cause=2", "no binding on this X number (unconnected_cause 2)")
    if unconnected in (1, 3):
        suffix = f"; control_msg {control}" if control and control != "OK" else ""
        reason = UNCONNECTED_CAUSES[unconnected]
        return Verdict(
            BLOCKED, f"unconnected_cause={unconnected}", f"{reason} (unconnected_cause {unconnected}){suffix}"
        )
    if _safe_number(first("call_type")) == 4:
        return Verdict(BLOCKED, "call_type=4", "intercepted by the platform (call_type 4)")
    if report is None:
        return None  # still going (or its SecretReport is not here yet): providers.calls decides
    fields = report.fields
    cause = _safe_number(fields.get("release_cause"))
    direction = _safe_number(fields.get("release_dir"))
    parts = [_words(RELEASE_CAUSES, cause, "release cause")] if cause is not None else []
    if direction is not None:
        parts.append(_words(RELEASE_DIRECTIONS, direction, "release direction"))
    if unconnected == 4:
        parts.append("not connected: other cause (unconnected_cause 4)")
    words = "; ".join(parts)
    code = f"release_cause={cause}" if cause is not None else ""
    answered = any(e.stage == ANSWER for e in events) or _report_answered(fields)
    if answered:
        return Verdict(ANSWERED, code, words)
    if cause in _UNANSWERED:
        return Verdict(_UNANSWERED[cause], code, words)
    if cause in _NORMAL_CLEARING or cause is None:
        # Cleared before anyone answered: the caller gave up, or the callee refused it.
        if direction == 1:
            return Verdict(NO_ANSWER, code, words or "the caller hung up before the answer")
        if direction == 2:
            return Verdict(REJECTED, code, words or "the callee hung up before the answer")
    return Verdict(FAILED, code, words or "not connected")


def _safe_number(value: Any) -> int | None:
    try:
        return pushed_integer({"v": value}, "v")
    except MalformedPush:
        return None


def _report_answered(fields: Mapping[str, Any]) -> bool:
    """A SecretReport says the call was answered when start_time (the answer) is before
    release_time ("release_time − start_time is the duration; 0 means not connected")."""
    try:
        start, end = _moment(fields, "start_time"), _moment(fields, "release_time")
    except MalformedPush:
        return False
    return start is not None and end is not None and start < end


PUSHES = PushSpec(
    provider=PROVIDER,
    route=ROUTE,
    receive_credentials=(TOKEN_FIELD,),
    authenticate=authenticate,
    parse=parse,
    reply=reply,
    decode=decode,
)

__all__ = [
    "CALL_REPORT",
    "MESSAGE_TYPES",
    "NO_SUBS_EXIST",
    "PICKUP_REPORT",
    "PUSHES",
    "RECORDING_REPORT",
    "RELEASE_CAUSES",
    "RING_REPORT",
    "ROUTE",
    "START_REPORT",
    "authenticate",
    "china_wall_time",
    "decode",
    "message_type",
    "parse",
    "reply",
]
