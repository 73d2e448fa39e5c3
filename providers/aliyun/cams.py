"""Alibaba Cloud Chat App Message Service (CAMS, API version 2020-06-06): WhatsApp Business numbers.

`CamsClient` wraps the two reads a dashboard needs, with typed results:

- `sync_phone_numbers(cust_space_id)`: ChatappSyncPhoneNumber, which makes CAMS pull the numbers'
  current state from Meta and answers it;
- `query_phone_numbers(cust_space_id=None, status=None, isv_code=None)`: QueryChatappPhoneNumbers,
  the last state CAMS holds (cheaper; the better call for periodic refresh).

Both answer `PhoneNumbers: [...]`, parsed into `WabaNumber` records leniently: an item with
missing or oddly typed fields becomes a record with empty fields (its raw dict kept for a detail
view), and an item that is not an object is skipped; only a malformed envelope (not a JSON
object, no Code, or `PhoneNumbers` that is not a list) raises `MalformedResponse`.

Rate limit. The documented limit is 10 calls per second per account, for each of the two calls.
teledeck never exceeds it: every `CamsClient` of one account (AccessKeyId and endpoint) shares
one sliding-window limiter (`providers.transport.shared_limiter`), which admits at most 10 calls,
of both kinds together, into any 1.1-second window (1 s plus a guard for the time between
admission and arrival, see ARRIVAL_GUARD_SECONDS), however many screens, refreshes and client
instances ask at once. Every attempt, retries included, passes through it.

Throttling. CAMS answers flow control with HTTP 400 and `System.LimitControl` (the gateway may
also say `Throttling.User` and friends), which the Transport's own rules do not re-send (they
cover 429 and, for idempotent calls, 5xx). So the client's `retry_advice` tells the Transport
that such an answer is a refusal before processing, to be re-sent with capped exponential backoff
and jitter (`THROTTLE_RETRY`: at most 3 re-sends, waits of about 0.5, 1 and 2 s, or the server's
`x-acs-retry-after` when it gives one), each attempt signed afresh and admitted by the limiter
again; when throttling persists the Transport raises `RateLimited` carrying the vendor code,
message and RequestId. A 429 or 5xx throttling answer is re-sent under the Transport's own policy
and never shown to the hook, so attempts never multiply.

Both calls are idempotent (repeating them is harmless). Sync is a write: Alibaba's RAM table
classes `cams:ChatappSyncPhoneNumber` as an "update" action (it rewrites CAMS's copy of what Meta
holds), so a read-only or offline session refuses it like any change; Query is the read, and
it is what a refresh uses.

Endpoint: `cams.ap-southeast-1.aliyuncs.com` (the only one Alibaba documents), overridable with
`TELEDECK_ALIYUN_CAMS_ENDPOINT` (a URL; http:// only to a loopback host, e.g. the sandbox).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Unpack

import httpx

from providers.aliyun.rpc import (
    AliyunRpcClient,
    RpcOptions,
    acs_retry_after,
    classify,
    normalise_endpoint,
    response_code,
)
from providers.aliyun.vendor import CAMS
from providers.errors import FieldProblem, MalformedResponse, RateLimited, ValidationError
from providers.records import text
from providers.transport import RetryAdvice, RetryPolicy, shared_limiter

log = logging.getLogger("teledeck.aliyun.cams")

PROVIDER = "aliyun-cams"
VERSION = "2020-06-06"
# Stated once, in the vendor descriptor.
DEFAULT_ENDPOINT = CAMS.endpoint.default
ENDPOINT_ENV = CAMS.endpoint.env
# Documented: 10 calls per second per account (ChatappSyncPhoneNumber, QueryChatappPhoneNumbers).
DOCUMENTED_QPS = 10
# The vendor counts calls as they arrive, the limiter as it admits them; what lies between (signing,
# queueing, the network) varies by milliseconds in process and more on a real network. With a window
# of exactly 1 s the sandbox saw 11 arrivals inside one second about once in 25 bursts of calls, so
# the limiter's window is 1 s plus this guard: 10 calls per 1.1 s (9.1/s), never 11 in a vendor second.
ARRIVAL_GUARD_SECONDS = 0.1
RATE_WINDOW_SECONDS = 1.0 + ARRIVAL_GUARD_SECONDS

SYNC_ACTION = "ChatappSyncPhoneNumber"
QUERY_ACTION = "QueryChatappPhoneNumbers"

# Re-sending a throttled call: at most 3 more attempts, waits ~0.5, 1, 2 s (jitter 0.75-1.0).
# A server-requested wait above max_retry_after is not waited inline; it surfaces at once.
THROTTLE_RETRY = RetryPolicy(max_retries=3, initial_delay=0.5, max_delay=2.0, max_retry_after=5.0)

# The values Alibaba documents (reference §3.2). Others may appear; records keep them as given.
STATUSES = (
    "CONNECTED",
    "PENDING",
    "UNVERIFIED",
    "MIGRATED",
    "FLAGGED",
    "RATE_LIMITED",
    "RESTRICTED",
    "DISCONNECTED",
    "BANNED",
    "DELETED",
    "UNKNOWN",
)
QUALITY_RATINGS = ("GREEN", "YELLOW", "RED")
CODE_VERIFICATION_STATUSES = ("VERIFIED", "MORE_INFORMATION_REQUESTED", "REJECTED", "REVOKED")
MESSAGING_LIMIT_TIERS = ("TIER_50", "TIER_250", "TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
# Business-initiated conversations per rolling 24 h that each tier allows (None: unlimited).
TIER_LIMITS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}


def endpoint_from_env() -> str:
    """TELEDECK_ALIYUN_CAMS_ENDPOINT (a URL; http:// only to loopback) or the public endpoint."""
    return os.environ.get(ENDPOINT_ENV, "").strip() or DEFAULT_ENDPOINT


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class WabaNumber:
    """One WhatsApp Business number as CAMS reports it. Enumerations are upper-cased, other text
    stripped; a missing field is ""; `raw` is the item exactly as received."""

    phone_number: str
    verified_name: str = ""
    status: str = ""  # STATUSES
    quality_rating: str = ""  # GREEN / YELLOW / RED
    code_verification_status: str = ""  # CODE_VERIFICATION_STATUSES
    name_status: str = ""  # review of the display name (e.g. APPROVED, PENDING_REVIEW, DECLINED)
    new_name_status: str = ""  # review of a requested new display name
    messaging_limit_tier: str = ""  # MESSAGING_LIMIT_TIERS
    status_callback_url: str = ""  # HTTP callback for delivery status reports
    up_callback_url: str = ""  # HTTP callback for inbound (MO) messages
    status_queue: str = ""  # MNS queue for delivery status reports
    up_queue: str = ""  # MNS queue for inbound (MO) messages
    is_official: str = ""  # official business account flag, as sent
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def messaging_limit(self) -> int | None:
        """Conversations per 24 h the tier allows; None for TIER_UNLIMITED or an unknown tier."""
        return TIER_LIMITS.get(self.messaging_limit_tier)

    @property
    def callbacks(self) -> dict[str, str]:
        """Where reports go: the configured ones of status/inbound URL and queue."""
        found = {
            "status_callback_url": self.status_callback_url,
            "up_callback_url": self.up_callback_url,
            "status_queue": self.status_queue,
            "up_queue": self.up_queue,
        }
        return {k: v for k, v in found.items() if v}


def _enum(item: Mapping[str, Any], key: str) -> str:
    return text(item, key).strip().upper()


def parse_number(item: Mapping[str, Any]) -> WabaNumber:
    """One `PhoneNumbers` item as a record; never raises for a dict."""
    return WabaNumber(
        phone_number=text(item, "PhoneNumber").strip(),
        verified_name=text(item, "VerifiedName").strip(),
        status=_enum(item, "Status"),
        quality_rating=_enum(item, "QualityRating"),
        code_verification_status=_enum(item, "CodeVerificationStatus"),
        name_status=text(item, "NameStatus").strip(),
        new_name_status=text(item, "NewNameStatus").strip(),
        messaging_limit_tier=_enum(item, "MessagingLimitTier"),
        status_callback_url=text(item, "StatusCallbackUrl").strip(),
        up_callback_url=text(item, "UpCallbackUrl").strip(),
        status_queue=text(item, "StatusQueue").strip(),
        up_queue=text(item, "UpQueue").strip(),
        is_official=text(item, "IsOfficial").strip(),
        raw=dict(item),
    )


def parse_phone_numbers(body: Any, action: str) -> list[WabaNumber]:
    """The `PhoneNumbers` of a successful answer. A missing or null list is empty; a list item that
    is not an object is skipped (and logged); anything else but a list is a MalformedResponse."""
    if not isinstance(body, dict):
        raise MalformedResponse(f"{action}: the answer is not a JSON object", provider=PROVIDER)
    items = body.get("PhoneNumbers")
    if items is None:
        return []
    if not isinstance(items, list):
        raise MalformedResponse(
            f"{action}: PhoneNumbers is {type(items).__name__}, not a list",
            provider=PROVIDER,
            request_id=text(body, "RequestId"),
        )
    numbers = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            log.warning("%s: PhoneNumbers[%d] is %s, not an object; skipped", action, index, type(item).__name__)
            continue
        numbers.append(parse_number(item))
    return numbers


# ---------------------------------------------------------------------------------------------
# The client


class CamsClient(AliyunRpcClient):
    """CAMS for one account. Every method raises `providers.errors.ProviderError` subclasses."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        *,
        endpoint: str | None = None,
        throttle_retry: RetryPolicy = THROTTLE_RETRY,
        rate_limit: int = DOCUMENTED_QPS,
        **options: Unpack[RpcOptions],
    ) -> None:
        if not 1 <= int(rate_limit) <= DOCUMENTED_QPS:
            raise ValueError(f"rate_limit must be 1..{DOCUMENTED_QPS} calls per second (the documented limit)")
        origin = normalise_endpoint(endpoint or endpoint_from_env())
        # One limiter per account: the same AccessKeyId on the same endpoint, whichever instance.
        limiter = shared_limiter(PROVIDER, f"{access_key_id}@{origin}", int(rate_limit), RATE_WINDOW_SECONDS)
        super().__init__(
            endpoint=origin,
            version=VERSION,
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            provider=PROVIDER,
            limiter=limiter,
            **options,
        )
        self.throttle_retry = throttle_retry
        self.throttled_attempts = 0  # throttling answers the hook was shown (re-sent or surfaced)

    def retry_advice(self, response: httpx.Response) -> RetryAdvice | None:
        """A throttled call is re-sent under `throttle_retry`; the base client's refusals as there."""
        if classify(response_code(response), None) is RateLimited:
            self.throttled_attempts += 1
            return RetryAdvice("throttled", self.throttle_retry, retry_after=acs_retry_after(response.headers))
        return super().retry_advice(response)

    # ---- calls -----------------------------------------------------------------------------------

    async def sync_phone_numbers(self, cust_space_id: str) -> list[WabaNumber]:
        """ChatappSyncPhoneNumber: have CAMS pull the numbers of `cust_space_id` (the ISV
        sub-customer's space id, or a direct customer's instance id) from Meta, and return them."""
        space = (cust_space_id or "").strip()
        if not space:
            raise ValidationError(
                "CustSpaceId is required",
                provider=PROVIDER,
                code="MissingCustSpaceId",
                problems=(FieldProblem("CustSpaceId", "CustSpaceId is required", "MissingCustSpaceId"),),
            )
        body = await self.call(SYNC_ACTION, {"CustSpaceId": space}, idempotent=True, mutates=True)
        return parse_phone_numbers(body, SYNC_ACTION)

    async def query_phone_numbers(
        self,
        cust_space_id: str | None = None,
        *,
        status: str | None = None,
        isv_code: str | None = None,
    ) -> list[WabaNumber]:
        """QueryChatappPhoneNumbers: the numbers CAMS holds for the space (all of the account's when
        None), optionally only those with `status` (one of STATUSES)."""
        params = {
            "CustSpaceId": (cust_space_id or "").strip() or None,
            "Status": (status or "").strip().upper() or None,
            "IsvCode": (isv_code or "").strip() or None,
        }
        body = await self.call(QUERY_ACTION, params, idempotent=True, mutates=False)
        return parse_phone_numbers(body, QUERY_ACTION)


__all__ = [
    "ARRIVAL_GUARD_SECONDS",
    "CODE_VERIFICATION_STATUSES",
    "DEFAULT_ENDPOINT",
    "DOCUMENTED_QPS",
    "ENDPOINT_ENV",
    "MESSAGING_LIMIT_TIERS",
    "QUALITY_RATINGS",
    "RATE_WINDOW_SECONDS",
    "STATUSES",
    "THROTTLE_RETRY",
    "TIER_LIMITS",
    "VERSION",
    "CamsClient",
    "WabaNumber",
    "endpoint_from_env",
    "parse_number",
    "parse_phone_numbers",
]
