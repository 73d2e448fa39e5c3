"""A local emulator of Alibaba Cloud Chat App Message Service (CAMS, version 2020-06-06): the
WhatsApp Business numbers of a customer space.

It is an RPC-style ("POP") endpoint served at "/", like cams.ap-southeast-1.aliyuncs.com: POST (as
the official SDK sends it) or GET, parameters in the query and/or a form body. Operations:

    ChatappSyncPhoneNumber    CustSpaceId (required)   pull the numbers' state from "Meta", answer it
    QueryChatappPhoneNumbers  CustSpaceId, Status, IsvCode   the state CAMS last synced

Both answer `{RequestId, Code: "OK", Message, Success: true, AccessDeniedDetail, PhoneNumbers: [...]}`
with the item fields of the reference (§3.2): PhoneNumber, VerifiedName, Status, QualityRating,
CodeVerificationStatus, NameStatus, NewNameStatus, MessagingLimitTier, StatusCallbackUrl,
UpCallbackUrl, StatusQueue, UpQueue.

Gateway. Every request is authenticated by the gateway the Dypls emulator uses too
(`providers.sandbox.aliyun_gateway`: same checks, codes and statuses), with the pure functions of
`providers.aliyun.signing` that the client signs with: V3 `ACS3-HMAC-SHA256` (host and every
x-acs-* header signed; the payload hash is taken from the body received) or RPC 1.0 `HMAC-SHA1`;
SignatureDoesNotMatch (400, quoting the server's StringToSign), IncompleteSignature (400),
InvalidAccessKeyId.NotFound (404), InvalidTimeStamp.Format / .Expired (400, beyond 15 minutes),
SignatureNonceUsed (400), Missing<Param> (400), InvalidAction.NotFound (404), InvalidVersion (400).

Flow control. The documented limit is 10 calls per second per account. The emulator admits at
most `qps` (default 10) calls per AccessKeyId into any 1-second window (sliding, on `rate_clock`);
the next one is refused with what CAMS documents for these operations: HTTP 400,
`System.LimitControl`, "The system is under flow control." A refused call does not count
towards the window. The limit is per AccessKeyId across both operations (stricter than per
operation; the client's limiter is shared the same way).

Where the emulator had to choose (the documentation is silent):

- the flow-control answer carries no `x-acs-retry-after` header (none is documented);
- a CustSpaceId the account does not own answers HTTP 400 `InvalidParameter`, naming CustSpaceId;
- QueryChatappPhoneNumbers without CustSpaceId answers the default space (a direct customer's
  instance); `Status` filters case-insensitively; `IsvCode` is accepted and not checked;
- "Meta" is a list of pending changes per number (`meta_change()`; one is seeded: a display-name
  review that has completed). Sync applies them and answers the result; Query shows them only
  after a Sync.

Seed data: two spaces; the default one holds a number in every Status the reference lists, all
three quality ratings, every messaging tier and several name-review states; callbacks by HTTP, by
MNS queue, both, or neither. Numbers come from ranges reserved for fiction (NANP 555-01xx, Ofcom's
drama ranges, ACMA's 0491 570), in CAMS's international format without "+".

Faults: `faults` is the shared FaultInjector with the action as the path (`faults.delay("*",
"/ChatappSyncPhoneNumber", 5)`, or `POST /_sandbox/faults` signed like any request), and
`fail_next(action, code)` answers any vendor code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Unpack, cast

from providers.accounts import Account
from providers.sandbox import seed_data
from providers.sandbox.aliyun_gateway import (
    AliyunEmulator,
    AliyunError,
    AliyunOptions,
)
from providers.sandbox.credentials import Setting
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.sandbox.aliyun_cams")

VENDOR = "aliyun-cams"
SCHEMA_VERSION = 1
SEED = 20260105
VERSION = "2020-06-06"
HOST_ID = "cams.ap-southeast-1.aliyuncs.com"
# For in-process clients; `.invalid` never resolves, so nothing can leak to a network.
IN_PROCESS_ENDPOINT = "https://cams.sandbox.invalid"

CUST_SPACE_ID_ENV = "TELEDECK_SANDBOX_CAMS_CUST_SPACE_ID"
QPS_ENV = "TELEDECK_SANDBOX_ALIYUN_CAMS_QPS"
DEFAULT_CUST_SPACE_ID = "cams-teledeck-sandbox-01"
ISV_CUST_SPACE_ID = "cams-teledeck-sandbox-isv-02"
DEFAULT_QPS = 10  # the documented limit: calls per second per account (0: off)
RATE_WINDOW = 1.0

THROTTLE_CODE = "System.LimitControl"
THROTTLE_STATUS = 400
THROTTLE_MESSAGE = "The system is under flow control."

SYNC = "ChatappSyncPhoneNumber"
QUERY = "QueryChatappPhoneNumbers"
REQUIRED = {SYNC: ("CustSpaceId",), QUERY: ()}

# Vendor codes `fail_next` knows: code -> (HTTP status, message). Others answer HTTP 200.
KNOWN_ERRORS: dict[str, tuple[int, str]] = {
    THROTTLE_CODE: (THROTTLE_STATUS, THROTTLE_MESSAGE),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Product.Unsubscript": (400, "You have not subscribed to the specified product."),
    "Ram.PermissionDeny": (400, "You are not authorized to perform this operation (RAM)."),
    "InvalidParameter": (400, "The specified parameter is not valid."),
    "InternalError": (500, "The request processing has failed due to some unknown error, exception or failure."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
}
_STATUS_ERRORS = {
    400: "InvalidParameter",
    403: "Ram.PermissionDeny",
    404: "InvalidAction.NotFound",
    429: "Throttling.User",
    500: "InternalError",
    503: "ServiceUnavailable",
}

_FIELDS = (
    "PhoneNumber",
    "VerifiedName",
    "Status",
    "QualityRating",
    "CodeVerificationStatus",
    "NameStatus",
    "NewNameStatus",
    "MessagingLimitTier",
    "StatusCallbackUrl",
    "UpCallbackUrl",
    "StatusQueue",
    "UpQueue",
)

# Seed numbers per customer space and what "Meta" holds that CAMS has not synced yet (a new
# display name already approved): providers/sandbox/seed_data/aliyun_cams.json.


def _queue_id(number: str) -> str:
    return hashlib.sha256(f"{SEED}:queue:{number}".encode()).hexdigest()[:8]


def _number(fiction: dict[str, str]) -> dict[str, str]:
    """A seed number as CAMS stores it; `callbacks` says which callbacks it has (http, queue, both)."""
    number, callbacks = fiction["PhoneNumber"], fiction["callbacks"]
    http = callbacks in ("http", "both")
    queue = callbacks in ("queue", "both")
    return {
        **{field: fiction[field] for field in _FIELDS[:8]},
        "StatusCallbackUrl": f"https://hooks.teledeck.example/cams/{number}/status" if http else "",
        "UpCallbackUrl": f"https://hooks.teledeck.example/cams/{number}/inbound" if http else "",
        "StatusQueue": f"alicom-{_queue_id(number)}-status-queue" if queue else "",
        "UpQueue": f"alicom-{_queue_id(number)}-up-queue" if queue else "",
    }


def build_seed(cust_space_id: str = DEFAULT_CUST_SPACE_ID) -> dict[str, Any]:
    """The first-start state: two spaces (the default one configurable) and one pending Meta change."""
    seed_fiction = seed_data.load("aliyun_cams")  # read at first use, never when the emulator is imported
    spaces = {
        cust_space_id: {
            "name": "teledeck sandbox (direct customer)",
            "numbers": [_number(n) for n in seed_fiction["default_space_numbers"]],
        },
        ISV_CUST_SPACE_ID: {
            "name": "teledeck sandbox (ISV sub-customer)",
            "numbers": [_number(n) for n in seed_fiction["isv_space_numbers"]],
        },
    }
    return {
        "schema": SCHEMA_VERSION,
        "seeded": True,
        "default_space": cust_space_id,
        "spaces": spaces,
        "meta_changes": copy.deepcopy(seed_fiction["meta_changes"]),
    }


def empty_state(cust_space_id: str = DEFAULT_CUST_SPACE_ID) -> dict[str, Any]:
    state = build_seed(cust_space_id)
    for space in state["spaces"].values():
        space["numbers"] = []
    state.update(meta_changes={}, seeded=False)
    return state


# ---------------------------------------------------------------------------------------------
# The emulator


class CamsOptions(AliyunOptions, total=False):
    """The keywords of `CamsSandbox` beyond its own: the Alibaba options and its default space
    (else $TELEDECK_SANDBOX_CAMS_CUST_SPACE_ID, blanks around it not counting, else the default)."""

    cust_space_id: str | None


class CamsSandbox(AliyunEmulator):
    """The CAMS emulator. Thread-safe; state lives in a `StateStore` under "aliyun_cams".

    Saved state whose default space id differs from the configured one (TELEDECK_SANDBOX_CAMS_CUST_SPACE_ID
    changed between runs) is re-seeded, so the printed CustSpaceId always answers.
    """

    PRODUCT = "cams"
    VERSION = VERSION
    HOST_ID = HOST_ID
    REQUIRED = REQUIRED
    BUSINESS_ERROR_FIELDS = {"Success": False}

    vendor = VENDOR
    SCHEMA_VERSION = SCHEMA_VERSION
    RATE_WINDOW = RATE_WINDOW

    cust_space_id = Setting(CUST_SPACE_ID_ENV, DEFAULT_CUST_SPACE_ID, strip=True)
    qps = Setting(QPS_ENV, DEFAULT_QPS)

    def __init__(
        self,
        store: StateStore | None = None,
        *,
        rate_clock: Callable[[], float] = time.monotonic,
        **options: Unpack[CamsOptions],
    ) -> None:
        self.rate_clock = rate_clock
        super().__init__(store, **options)
        self.throttled = 0  # calls refused with System.LimitControl by the flow control
        self._handlers = {SYNC: self._sync, QUERY: self._query}
        self._load_state()

    # -- state -----------------------------------------------------------------------------------

    def fresh_state(self, seed_data: bool) -> dict[str, Any]:
        return build_seed(self.cust_space_id) if seed_data else empty_state(self.cust_space_id)

    def state_is_current(self, saved: dict[str, Any]) -> bool:
        """Saved state of another default space (the configured one changed) is re-seeded."""
        return super().state_is_current(saved) and saved.get("default_space") == self.cust_space_id

    def forget(self) -> None:
        """Nonces, the flow-control window and the counters go with the state."""
        super().forget()
        self.action_counts.clear()
        self.throttled = 0

    def session_account(self) -> Account:
        """The account a sandbox session connects with: its default CustSpaceId."""
        return self._access_key_account(
            settings={"cust_space_id": self.cust_space_id},
        )

    def credentials(self) -> list[tuple[str, str]]:
        """What `teledeck sandbox serve` prints. A secret from the environment is never shown whole."""
        space = self.cust_space_id + (f" (from ${CUST_SPACE_ID_ENV})" if self.from_env("cust_space_id") else "")
        return [
            *self._access_key_lines(),
            ("CustSpaceId", space),
            ("CustSpaceId (ISV sub-customer)", ISV_CUST_SPACE_ID),
            ("limit", f"{self.qps}/s per AccessKeyId" if self.qps > 0 else "off"),
        ]

    def numbers(self, cust_space_id: str | None = None) -> list[dict[str, str]]:
        """A copy of a space's numbers as CAMS last synced them (the default space when None)."""
        with self._lock:
            space = self.state["spaces"].get(cust_space_id or self.cust_space_id) or {"numbers": []}
            return cast("list[dict[str, str]]", json.loads(json.dumps(space["numbers"])))

    def meta_change(self, phone_number: str, **fields: str) -> None:
        """Change a number on "Meta's" side (e.g. `QualityRating="RED"`): CAMS shows it after a Sync."""
        unknown = set(fields) - set(_FIELDS[1:])
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        with self._lock:
            if not any(n["PhoneNumber"] == phone_number for s in self.state["spaces"].values() for n in s["numbers"]):
                raise KeyError(phone_number)
            self.state["meta_changes"].setdefault(phone_number, {}).update(fields)
            self.store.save()

    def vendor_error_answer(self, action: str, code: str, message: str, status: int | None) -> tuple[int, Any]:
        """The status defaults to the one CAMS uses for a known code (System.LimitControl: 400),
        else 200 (a business error)."""
        known_status, known_message = KNOWN_ERRORS.get(code, (200, code))
        status = known_status if status is None else status
        body: dict[str, Any] = {"Code": code, "Message": message or known_message}
        if status == 200:
            body["Success"] = False
        else:
            body["HostId"] = HOST_ID
        return status, body

    # -- the gateway's vendor hooks (AliyunEmulator) -------------------------------------------

    def internal_error(self) -> AliyunError:
        return AliyunError(500, "InternalError", KNOWN_ERRORS["InternalError"][1])

    def status_error(self, status: int) -> AliyunError:
        code = _STATUS_ERRORS.get(status, "InternalError" if status >= 500 else "InvalidParameter")
        message = KNOWN_ERRORS.get(code, (0, "Specified api is not found, please check your url and method."))[1]
        return AliyunError(status, code, message)

    def _ok(self, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "RequestId": request_id,
            "Code": "OK",
            "Message": "OK",
            "Success": True,
            "AccessDeniedDetail": "",
            **body,
        }

    def _ok_fault(self, request_id: str) -> dict[str, Any]:
        return {"RequestId": request_id, "Code": "OK", "Message": "OK", "Success": True}

    def _flow_control(self, access_key_id: str) -> None:
        """At most `qps` admitted calls per AccessKeyId in any RATE_WINDOW; refused ones don't count."""
        if self._recent.enabled and not self._recent.admit(access_key_id, self.rate_clock()):
            self.throttled += 1
            raise AliyunError(THROTTLE_STATUS, THROTTLE_CODE, THROTTLE_MESSAGE)

    # -- operations --------------------------------------------------------------------------------

    def _space(self, params: Mapping[str, str], *, required: bool) -> tuple[str, dict[str, Any]]:
        space_id = params.get("CustSpaceId", "").strip()
        if not space_id and not required:
            space_id = self.cust_space_id
        space = self.state["spaces"].get(space_id)
        if space is None:
            raise AliyunError(
                400,
                "InvalidParameter",
                f'The specified parameter "CustSpaceId" is not valid: no space {space_id!r} in this account.',
            )
        return space_id, space

    def _sync(self, params: dict[str, str]) -> dict[str, Any]:
        _, space = self._space(params, required=True)
        changes = self.state["meta_changes"]
        applied = False
        for number in space["numbers"]:
            pending = changes.pop(number["PhoneNumber"], None)
            if pending:
                number.update(pending)
                applied = True
        if applied:
            self.store.save()  # only real changes touch the disk: a burst of reads must stay cheap
        return {"PhoneNumbers": copy.deepcopy(space["numbers"])}

    def _query(self, params: dict[str, str]) -> dict[str, Any]:
        _, space = self._space(params, required=False)
        wanted = params.get("Status", "").strip().upper()
        numbers = [n for n in space["numbers"] if not wanted or n["Status"].upper() == wanted]
        return {"PhoneNumbers": copy.deepcopy(numbers), "Data": ""}


__all__ = [
    "CUST_SPACE_ID_ENV",
    "DEFAULT_CUST_SPACE_ID",
    "DEFAULT_QPS",
    "IN_PROCESS_ENDPOINT",
    "ISV_CUST_SPACE_ID",
    "QPS_ENV",
    "THROTTLE_CODE",
    "THROTTLE_MESSAGE",
    "THROTTLE_STATUS",
    "CamsSandbox",
    "build_seed",
]
