"""Volcengine VMS callbacks (消息回执) for privacy-number calls: how a receiver checks, reads,
acknowledges and decodes them.

Volcengine POSTs each message to the callback URL set in the console (隐私号设置 > 回调设置) with
two query parameters (volcengine.com/docs/6358/173362):

    ?timestamp=<Unix seconds>&authCode=<hex>
    authCode = hex(SHA256(timestamp + hex(SHA256(raw body)) + AuthToken))

where AuthToken is the account's token from the console's 基础设置 page (10-20 characters;
the account credential `callback_auth_token`). The body is one JSON object, a message of one
of three types (`messageType`):

1. call status (呼叫状态, docs 6358/187779): `eventType` 1 call started, 2 callee ringing,
   3 call connected, 4 call ended, at `eventTime` (Unix seconds, as text);
2. call record, the CDR (呼叫记录, docs 6358/173380): times in Unix milliseconds
   (`beginCallTime`, `ringTime`, `startTime`, `endTime`), `callDuration`, `callResult` (the
   outcome, docs 6358/173383), `releaseType`, `secretCallType` (11 A called B, 10 B called A);
3. call recording (呼叫录音, docs 6358/187780): the recording's download addresses.

Every message has `callId`; status and CDR messages have `subscriptionId` (the binding's
SubId) and `phoneNoX`. The choices made where the docs are silent are in docs/decisions.md
("Volcengine callbacks").
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from providers.cache import scrub
from providers.calls import (
    ANSWER,
    ANSWERED,
    BLOCKED,
    BUSY,
    CDR,
    END,
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
    NonceBook,
    PushRefused,
    PushReply,
    PushRequest,
    PushSpec,
    ReceiverKey,
    pushed_integer,
    pushed_text,
)
from providers.records import UnreadableJson, integer, load_json
from providers.signing import sha256_hex

PROVIDER = "volcengine"
ROUTE = "/volcengine/callback"
TOKEN_FIELD = "callback_auth_token"
# How far a callback's timestamp may be from the receiver's clock, either way. The docs name no
# window; five minutes covers clocks that NTP keeps within seconds with room to spare, and bounds
# how long a captured callback could be replayed (the NonceBook refuses a repeat within it).
FRESH_SECONDS = 300
# Volcengine sends one message per callback (each well under 4 KB: userData is at most 2048
# characters); a list is accepted too, so this leaves room for a few dozen.
MAX_BODY = 64 * 1024
MAX_CALL_ID = 128

STATUS, CALL_RECORD, CALL_RECORDING = 1, 2, 3
# eventType of a status message: (its words in the event's kind, the vendor-neutral stage)
STATUS_EVENTS: dict[int, tuple[str, str]] = {
    1: ("started", START),  # 开始呼叫
    2: ("ringing", RING),  # 被叫振铃
    3: ("connected", ANSWER),  # 呼叫建立
    4: ("ended", END),  # 呼叫结束
}
CALL_RECORD_KIND = "call record"
RECORDING_KIND = "call recording"
# A recording message's download addresses: fetched fresh on demand (QueryAudioRecordFileUrl),
# never kept with the event, since a link may be signed and outlives nothing.
_RECORDING_URL_FIELDS = ("audioRecordUrl", "audioRecordLeftUrl", "audioRecordRightUrl")

# callResult (通话结果, docs 6358/173383) -> (outcome, cause in words)
CALL_RESULTS: dict[int, tuple[str, str]] = {
    1: (ANSWERED, "answered"),
    2: (FAILED, "callee's phone is switched off"),
    3: (FAILED, "callee's number is suspended"),
    4: (FAILED, "callee's number does not exist"),
    5: (NO_ANSWER, "caller hung up before the answer"),
    6: (FAILED, "callee temporarily unreachable (out of coverage)"),
    7: (NO_ANSWER, "rang, nobody answered"),
    8: (BUSY, "callee busy"),
    9: (REJECTED, "callee rejected the call"),
    10: (FAILED, "callee not reachable"),
    11: (FAILED, "no circuit available (line busy)"),
    12: (BLOCKED, "caller is not allowed to call"),
    13: (NO_BINDING, "no binding on this X number"),
    14: (FAILED, "network busy or out of order"),
    15: (FAILED, "routing failed"),
    16: (FAILED, "the X number's state at the carrier is abnormal"),
    17: (BLOCKED, "outgoing calls barred"),
    18: (BLOCKED, "incoming calls barred"),
    19: (FAILED, "response timeout"),
    20: (FAILED, "carrier platform error"),
    21: (FAILED, "released before the callee rang"),
    22: (NO_ANSWER, "callee rang and hung up, or did not pick up in time"),
    23: (BLOCKED, "A calling B: B barred by Volcengine risk control"),
    24: (BLOCKED, "A calling B: A barred by Volcengine risk control"),
    25: (BLOCKED, "B calling A: B barred by Volcengine risk control"),
    26: (BLOCKED, "B calling A: A barred by Volcengine risk control"),
    27: (BLOCKED, "carrier blacklist or call frequency limit"),
    28: (NO_ANSWER, "not picked up in time"),
    29: (BLOCKED, "callee is blacklisted"),
    30: (BLOCKED, "call frequency limit exceeded"),
    31: (BLOCKED, "account concurrency limit exceeded"),
    32: (FAILED, "trunk concurrency limit exceeded"),
    33: (FAILED, "account, service or number check failed"),
    34: (FAILED, "no X number could be selected"),
    35: (FAILED, "decryption failed"),
    36: (FAILED, "carrier released before ringing"),
    37: (FAILED, "callee number malformed"),
    -1: (FAILED, "other (Volcengine matched no cause)"),
}

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


# ---------------------------------------------------------------------------------------------
# Signing: what the vendor computes, the receiver checks and the sandbox sends


def auth_code(timestamp: str, body: bytes, token: str) -> str:
    """The authCode Volcengine puts on a callback: hex SHA-256 of timestamp + the body's hex
    SHA-256 + AuthToken (docs 6358/173362)."""
    return sha256_hex(timestamp + sha256_hex(body) + token)


def sign(body: bytes, token: str, *, timestamp: int) -> dict[str, str]:
    """The query a callback with `body` carries when Volcengine sends it at `timestamp`."""
    stamp = str(int(timestamp))
    return {"timestamp": stamp, "authCode": auth_code(stamp, body, token)}


def authenticate(request: PushRequest, keys: Sequence[ReceiverKey], *, now: datetime, nonces: NonceBook) -> ReceiverKey:
    """The account whose callback_auth_token signed `request`, once its timestamp is fresh and
    the (timestamp, authCode) pair is new; else PushRefused naming the check that failed."""
    timestamp = request.query.get("timestamp", "")
    code = request.query.get("authCode", "")
    if not timestamp or not code:
        missing = [name for name, value in (("timestamp", timestamp), ("authCode", code)) if not value]
        raise PushRefused(f"the callback's query has no {' and no '.join(missing)} (Volcengine signs every callback)")
    if not _TIMESTAMP.match(timestamp):
        raise PushRefused("the callback's timestamp is not Unix seconds")
    if not _HEX_SHA256.match(code):
        raise PushRefused("the callback's authCode is not a hex SHA-256")
    holders = [key for key in keys if key.credentials.get(TOKEN_FIELD)]
    if not holders:
        raise PushRefused(f"no Volcengine account of this receiver has a {TOKEN_FIELD}")
    body_hash = sha256_hex(request.body)
    wanted = code.lower().encode()
    signer = None
    for key in holders:  # every key is tried, so the time taken does not tell which one matched
        expected = sha256_hex(timestamp + body_hash + key.credentials[TOKEN_FIELD]).encode()
        if hmac.compare_digest(expected, wanted) and signer is None:
            signer = key
    if signer is None:
        raise PushRefused(f"the authCode matches no account's {TOKEN_FIELD} (wrong token, or the body was altered)")
    skew = now.timestamp() - int(timestamp)
    if abs(skew) > FRESH_SECONDS:
        raise PushRefused(
            f"the callback's timestamp is {skew:+.0f} s from the receiver's clock (at most {FRESH_SECONDS} s either way)"
        )
    if not nonces.first_use(
        f"{PROVIDER}:{signer.account}", f"{timestamp}:{code.lower()}", now=now.timestamp(), keep_for=2 * FRESH_SECONDS
    ):
        raise PushRefused("a replay: a callback with this timestamp and authCode was already taken")
    return signer


# ---------------------------------------------------------------------------------------------
# Reading messages


def parse(body: bytes, *, received_at: datetime, account: str) -> list[CallEvent]:
    """The call events a callback body carries: one message (what the docs show) or a list of
    them; MalformedPush for anything else."""
    try:
        value = load_json(body)
    except UnreadableJson as why:
        raise MalformedPush(f"the callback body is {why}") from None
    messages = value if isinstance(value, list) else [value]
    if not messages:
        raise MalformedPush("the callback body is an empty list")
    return [_event(message, received_at=received_at, account=account) for message in messages]


def _event(message: Any, *, received_at: datetime, account: str) -> CallEvent:
    if not isinstance(message, dict):
        raise MalformedPush("a callback message is not a JSON object")
    message_type = _number(message, "messageType")
    if message_type is None:
        raise MalformedPush("a callback message has no messageType")
    call_id = _text(message, "callId")
    if not call_id:
        raise MalformedPush("a callback message has no callId")
    if len(call_id) > MAX_CALL_ID or not call_id.isprintable():
        raise MalformedPush(f"a callback message's callId is not an id (printable, at most {MAX_CALL_ID} characters)")
    fields = scrub({k: v for k, v in message.items() if k not in _RECORDING_URL_FIELDS})
    common: dict[str, Any] = dict(
        provider=PROVIDER,
        call_id=call_id,
        received_at=received_at,
        subscription_id=_text(message, "subscriptionId"),
        x=_text(message, "phoneNoX"),
        caller=_text(message, "caller"),
        callee=_text(message, "callee"),
        account=account,
        fields=fields,
    )
    if message_type == STATUS:
        event_type = _number(message, "eventType")
        if event_type not in STATUS_EVENTS:
            raise MalformedPush(f"a call status message's eventType is {message.get('eventType')!r}, not 1 to 4")
        words, stage = STATUS_EVENTS[event_type]
        return CallEvent(kind=f"call status: {words}", stage=stage, at=_moment(message, "eventTime"), **common)
    if message_type == CALL_RECORD:
        for name in ("callResult", "callDuration", "releaseType", "secretCallType"):
            _number(message, name)  # present or not, never text that is no number
        when = _moment(message, "endTime") or _moment(message, "cdrCreateTime")
        for name in ("beginCallTime", "ringTime", "startTime"):
            _moment(message, name)
        if not common["caller"] and not common["callee"]:
            common["caller"], common["callee"] = _parties(message)
        return CallEvent(kind=CALL_RECORD_KIND, stage=CDR, at=when, **common)
    if message_type == CALL_RECORDING:
        return CallEvent(kind=RECORDING_KIND, stage=RECORDING, **common)
    raise MalformedPush(f"messageType {message_type} is not a call message (1 status, 2 record, 3 recording)")


def _text(message: Mapping[str, Any], name: str) -> str:
    return pushed_text(message, name, where="a callback message's ")


def _number(message: Mapping[str, Any], name: str) -> int | None:
    return pushed_integer(message, name, where="a callback message's ")


def _moment(message: Mapping[str, Any], name: str) -> datetime | None:
    """A time field as UTC: Unix seconds (status eventTime) or milliseconds (CDR times), told
    apart by size (seconds pass 10^11 only in the year 5138); 0 or absent is no time."""
    value = _number(message, name)
    if not value:
        return None
    if value < 0:
        raise MalformedPush(f"a callback message's {name} is before 1970")
    seconds = value / 1000 if value >= 10**11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedPush(f"a callback message's {name} is not a time") from None


def _parties(message: Mapping[str, Any]) -> tuple[str, str]:
    """(caller, callee) from the binding's numbers when a CDR does not say them: secretCallType
    11 is A calling B, 10 B calling A."""
    a, b = _text(message, "phoneNoA"), _text(message, "phoneNoB")
    direction = _number(message, "secretCallType")
    if direction == 11:
        return a, b
    if direction == 10:
        return b, a
    return "", ""


# ---------------------------------------------------------------------------------------------
# The answer, and what a call's messages say


def reply(events: Sequence[CallEvent]) -> PushReply:
    """Volcengine takes any 2xx as delivered and reads no body (docs 6358/173360); a small JSON
    body says so to a person reading the exchange."""
    return PushReply(200, json.dumps({"code": 0, "message": "ok"}).encode(), "application/json")


def _timed(verdict: Verdict, record: Mapping[str, Any]) -> Verdict:
    """`verdict` with the call's times as its call record states them (beginCallTime, startTime:
    0 when unanswered, endTime), which may come with no status message before it."""
    try:
        started, answered, ended = (_moment(record, n) for n in ("beginCallTime", "startTime", "endTime"))
    except MalformedPush:  # stored fields are data: unreadable times leave the events' times
        return verdict
    return replace(verdict, started_at=started, answered_at=answered, ended_at=ended)


def decode(events: Sequence[CallEvent]) -> Verdict | None:
    """A call's outcome: the CDR's callResult in words; without a CDR (status messages are not
    re-sent, CDRs are), connected means answered, an end without it waits for the CDR's cause."""
    records = [e for e in events if e.stage == CDR]
    if records:
        record = max(records, key=lambda e: e.received_at)
        result = integer(record.fields, "callResult")
        if result is None:
            duration = integer(record.fields, "callDuration") or 0
            return Verdict(ANSWERED if duration > 0 else FAILED, "", "the call record has no callResult")
        outcome, cause = CALL_RESULTS.get(result, (FAILED, f"callResult {result} (not in Volcengine's table)"))
        return _timed(Verdict(outcome, str(result), cause), record.fields)
    if any(e.stage == ANSWER for e in events):
        return Verdict(ANSWERED)
    if any(e.stage == END for e in events):
        return Verdict(FAILED, "", "ended without an answer; the call record will say why")
    return None


PUSHES = PushSpec(
    provider=PROVIDER,
    route=ROUTE,
    receive_credentials=(TOKEN_FIELD,),
    authenticate=authenticate,
    parse=parse,
    reply=reply,
    decode=decode,
    max_body=MAX_BODY,
)

__all__ = [
    "CALL_RECORD_KIND",
    "CALL_RESULTS",
    "FRESH_SECONDS",
    "PUSHES",
    "RECORDING_KIND",
    "ROUTE",
    "STATUS_EVENTS",
    "TOKEN_FIELD",
    "auth_code",
    "authenticate",
    "decode",
    "parse",
    "reply",
    "sign",
]
