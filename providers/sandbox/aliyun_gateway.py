"""The Alibaba Cloud POP gateway as the sandbox emulators see it: who signed a request, and whether
they signed it right. Shared by the Dypls (aliyun_pls) and CAMS (aliyun_cams) emulators, so both
answer a bad request alike.

Verification only, built on the pure functions of `providers.aliyun.signing` that the client signs
with:

- V3 `ACS3-HMAC-SHA256` (Authorization header; host and every x-acs-* header must be signed; the
  payload line is the SHA-256 of the body actually received, so a changed body fails);
- RPC 1.0 `HMAC-SHA1` (Signature parameter over the query and form fields).

Refusals raise `AliyunError`: SignatureDoesNotMatch (400; the message quotes the server's
StringToSign, as Alibaba's does), IncompleteSignature (400), InvalidSignatureMethod /
InvalidSignatureVersion (400), InvalidAccessKeyId.NotFound (404), InvalidTimeStamp.Format /
InvalidTimeStamp.Expired (400; more than 15 minutes off the emulator's clock), SignatureNonceUsed
(400; a nonce is remembered for 15 minutes per AccessKeyId, and only once its signature checked
out), Missing<Param> (400) for a missing RPC common parameter.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from providers.accounts import Account
from providers.aliyun import signing
from providers.sandbox.base import Call, ControlOutcome, ControlRefusal, Emulator, EmulatorOptions
from providers.sandbox.credentials import Setting, masked
from providers.sandbox.faults import Fault
from providers.sandbox.http import SandboxRequest, SandboxResponse
from providers.sandbox.limits import SlidingWindow
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.sandbox")

MAX_SKEW = signing.MAX_CLOCK_SKEW_SECONDS
SEED = 20260105  # request ids derive from it, as the seed data of both emulators do

# One Alibaba Cloud account serves both products, so both emulators take the same credentials.
ACCESS_KEY_ID_ENV = "TELEDECK_SANDBOX_ALIYUN_ACCESS_KEY_ID"
ACCESS_KEY_SECRET_ENV = "TELEDECK_SANDBOX_ALIYUN_ACCESS_KEY_SECRET"
# Public on purpose: the sandbox protects nothing. Not shaped like real Alibaba keys (LTAI...).
DEFAULT_ACCESS_KEY_ID = "TeledeckSandboxAliyunKeyId"
DEFAULT_ACCESS_KEY_SECRET = "TeledeckSandboxAliyunSecret-public-not-a-secret"


class AliyunError(Exception):
    """Raised below an emulator's `handle`; becomes an Alibaba error answer (gateway shape when
    status != 200)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _mismatch(string_to_sign: str) -> AliyunError:
    return AliyunError(
        400,
        "SignatureDoesNotMatch",
        f"Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}",
    )


def _incomplete(why: str) -> AliyunError:
    return AliyunError(400, "IncompleteSignature", f"The request signature does not conform to Aliyun standards: {why}")


class Gateway:
    """Signature checks for one AccessKeyId. It holds the nonce memory (15 minutes per AccessKeyId)."""

    def __init__(self, access_key_id: str, access_key_secret: str, clock: Callable[[], float]) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.clock = clock
        self.nonces: dict[tuple[str, str], float] = {}

    def verify(self, req: SandboxRequest, form: list[tuple[str, str]]) -> tuple[str, str, str]:
        """(AccessKeyId, Action, Version) of a correctly signed request; AliyunError otherwise.
        `form` holds the fields of an application/x-www-form-urlencoded body (RPC signs them)."""
        if req.header("authorization", "").strip().startswith("ACS3-"):
            return self._verify_v3(req)
        return self._verify_rpc(req, form)

    def _secret_for(self, access_key_id: str) -> str:
        if access_key_id != self.access_key_id:
            raise AliyunError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        return self.access_key_secret

    def _check_time(self, value: str, what: str) -> None:
        try:
            moment = signing.parse_timestamp(value).timestamp()
        except ValueError:
            raise AliyunError(
                400, "InvalidTimeStamp.Format", f"Specified time stamp or date value is not well formatted ({what})."
            ) from None
        if abs(moment - self.clock()) > MAX_SKEW:
            raise AliyunError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _use_nonce(self, access_key_id: str, nonce: str) -> None:
        now = self.clock()
        for key in [k for k, seen in self.nonces.items() if now - seen > MAX_SKEW]:
            del self.nonces[key]
        if (access_key_id, nonce) in self.nonces:
            raise AliyunError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self.nonces[(access_key_id, nonce)] = now

    def _verify_v3(self, req: SandboxRequest) -> tuple[str, str, str]:
        try:
            auth = signing.parse_v3_authorization(req.header("authorization", ""))
        except ValueError as exc:
            raise _incomplete(f"{exc}.") from None
        if auth.algorithm != signing.ACS3_HMAC_SHA256:
            raise AliyunError(
                400,
                "InvalidSignatureMethod",
                f"Specified signature method {auth.algorithm} is not supported by this sandbox.",
            )
        for name in ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"):
            if not req.header(name):
                raise _incomplete(f"header {name} is missing.")
        unsigned = sorted(
            n for n in req.headers if (n == "host" or n.startswith("x-acs-")) and n not in auth.signed_headers
        )
        if unsigned:
            raise _incomplete(f"header(s) {', '.join(unsigned)} must be signed.")
        secret = self._secret_for(auth.access_key_id)
        self._check_time(req.header("x-acs-date", ""), "x-acs-date")
        try:
            canonical = signing.v3_canonical_request(
                req.method, req.path or "/", req.query, req.headers, auth.signed_headers, signing.sha256_hex(req.body)
            )
        except KeyError as exc:
            raise _incomplete(f"signed header {exc.args[0]} is missing.") from None
        string_to_sign = signing.v3_string_to_sign(canonical, auth.algorithm)
        if not signing.constant_time_equal(signing.v3_signature(secret, string_to_sign), auth.signature.lower()):
            raise _mismatch(string_to_sign)
        self._use_nonce(auth.access_key_id, req.header("x-acs-signature-nonce", ""))
        return auth.access_key_id, req.header("x-acs-action", ""), req.header("x-acs-version", "")

    def _verify_rpc(self, req: SandboxRequest, form: list[tuple[str, str]]) -> tuple[str, str, str]:
        pairs = list(req.query) + form
        params = dict(pairs)
        for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp", "Action", "Version"):
            if not params.get(name):
                if name == "AccessKeyId" and not params:
                    raise _incomplete("no Authorization header and no Signature.")
                raise AliyunError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["SignatureMethod"] != signing.RPC_SIGNATURE_METHOD:
            raise AliyunError(400, "InvalidSignatureMethod", "Specified signature method is not valid.")
        if params.get("SignatureVersion", signing.RPC_SIGNATURE_VERSION) != signing.RPC_SIGNATURE_VERSION:
            raise AliyunError(400, "InvalidSignatureVersion", "Specified signature version is not valid.")
        secret = self._secret_for(params["AccessKeyId"])
        self._check_time(params["Timestamp"], "Timestamp")
        string_to_sign = signing.rpc_string_to_sign(req.method, pairs)
        if not signing.constant_time_equal(signing.rpc_signature(secret, string_to_sign), params["Signature"]):
            raise _mismatch(string_to_sign)
        self._use_nonce(params["AccessKeyId"], params["SignatureNonce"])
        return params["AccessKeyId"], params["Action"], params["Version"]


def form_fields(req: SandboxRequest) -> list[tuple[str, str]]:
    """The fields of an application/x-www-form-urlencoded body (RPC signs them with the query)."""
    if req.content_type != "application/x-www-form-urlencoded" or not req.body:
        return []
    try:
        return parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise AliyunError(400, "InvalidParameter", "The request body is not UTF-8.") from None


def action_of(req: SandboxRequest) -> str:
    """The Action a request names (V3 header, query or form), before any check: what faults match."""
    action = req.header("x-acs-action") or req.query_dict.get("Action")
    if not action and req.content_type == "application/x-www-form-urlencoded":
        action = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)).get("Action")
    return action or ""


def derived_uuid(name: str) -> str:
    """A request id shaped like Alibaba's (upper-case UUID), computed from `name`, never random."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"{SEED}:{name}".encode()).digest()[:16], version=4)).upper()


Operation = Callable[[dict[str, str]], dict[str, Any]]


class AliyunOptions(EmulatorOptions, total=False):
    """The options both Alibaba emulators take: the common ones, the AccessKey pair (each else
    from the TELEDECK_SANDBOX_ALIYUN_* environment, else the public default) and the product's
    flow-control limit `qps`."""

    access_key_id: str | None
    access_key_secret: str | None
    qps: int | None


class AliyunEmulator(Emulator[AliyunError]):
    """What both Alibaba RPC emulators share: the POP gateway in front of the actions (path,
    method, signature, flow control, faults keyed by the action name, version and required
    parameters) and Alibaba's two error shapes: the gateway's (HTTP 4xx/5xx, with HostId and
    Recommend) and the business one (HTTP 200, Code other than "OK").

    A subclass sets PRODUCT, VERSION, HOST_ID, REQUIRED (action -> parameter names),
    BUSINESS_ERROR_FIELDS, its `qps` setting (RATE_WINDOW where 1 s does not fit) and `_handlers`,
    and implements `_ok`, `status_error`,
    `_flow_control` and `internal_error`.
    """

    PRODUCT: ClassVar[str]
    VERSION: ClassVar[str]
    HOST_ID: ClassVar[str]
    REQUIRED: ClassVar[dict[str, tuple[str, ...]]]
    BUSINESS_ERROR_FIELDS: ClassVar[dict[str, Any]] = {}  # added to a business error's body
    REQUEST_ID_HEADER = "x-acs-request-id"
    error_type = AliyunError

    RATE_WINDOW: ClassVar[float] = 1.0  # the flow-control window, in seconds

    access_key_id = Setting(ACCESS_KEY_ID_ENV, DEFAULT_ACCESS_KEY_ID)
    access_key_secret = Setting(ACCESS_KEY_SECRET_ENV, DEFAULT_ACCESS_KEY_SECRET)
    qps: ClassVar[Setting[int]]  # each product's own: admitted requests per AccessKeyId per RATE_WINDOW (0: off)

    _handlers: dict[str, Operation]

    def __init__(self, store: StateStore | None = None, **options: Any) -> None:
        """`options`: the subclass's (typed by its AliyunOptions), handed on to `Emulator`."""
        super().__init__(store, **options)
        self.action_counts: Counter[str] = Counter()  # actions that reached the business layer
        self._gateway = Gateway(self.access_key_id, self.access_key_secret, self.clock)
        self._recent = SlidingWindow(self.qps, self.RATE_WINDOW)

    def forget(self) -> None:
        """Nonces and the flow-control window go with the state."""
        self._gateway.nonces.clear()
        self._recent.clear()

    def _access_key_account(self, extra_credentials: Mapping[str, str] | None = None, **fields: Any) -> Account:
        """A sandbox session's account: this emulator's AccessKey pair and the product's other
        credentials (`extra_credentials`; `fields`: Account's own)."""
        pair = {"access_key_id": self.access_key_id, "access_key_secret": self.access_key_secret}
        return self._account({**pair, **(extra_credentials or {})}, **fields)

    def _access_key_lines(self) -> list[tuple[str, str]]:
        """The AccessKey pair as `teledeck sandbox serve` prints it: the id says where it came from;
        a secret from the environment is never shown whole."""
        key_id = self.access_key_id + (f" (from ${ACCESS_KEY_ID_ENV})" if self.from_env("access_key_id") else "")
        secret = (
            masked(self.access_key_secret, ACCESS_KEY_SECRET_ENV)
            if self.from_env("access_key_secret")
            else self.access_key_secret
        )
        return [("AccessKeyId", key_id), ("AccessKeySecret", secret)]

    # -- vendor hooks ------------------------------------------------------------------------------

    def _ok(self, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A successful answer's body around the action's own fields."""
        raise NotImplementedError

    def _ok_fault(self, request_id: str) -> dict[str, Any]:
        """The body of an injected plain 200 (no fields of any action)."""
        raise NotImplementedError

    def status_error(self, status: int) -> AliyunError:
        """The gateway error that goes with an injected HTTP status."""
        raise NotImplementedError

    def _flow_control(self, access_key_id: str) -> None:
        raise NotImplementedError

    # -- pipeline hooks --------------------------------------------------------------------------

    def begin(self, req: SandboxRequest) -> Call:
        return Call(request_id=derived_uuid(f"request:{self.requests_handled}:{self.clock()}"))

    def fault_path(self, req: SandboxRequest) -> str:
        return "/" + action_of(req)

    def preflight(self, req: SandboxRequest, call: Call) -> None:
        if req.path not in ("", "/"):
            raise AliyunError(
                404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
            )
        if req.method not in ("GET", "POST"):
            raise AliyunError(400, "UnsupportedHTTPMethod", f"The HTTP method {req.method} is not supported.")

    def authenticate(self, req: SandboxRequest, call: Call) -> str:
        key_id, call.action, call.version = self._gateway.verify(req, form_fields(req))
        return key_id

    def admit(self, req: SandboxRequest, call: Call) -> None:
        self._flow_control(call.principal)

    def dispatch(self, req: SandboxRequest, call: Call, page: int | None) -> SandboxResponse:
        """Action and version, required parameters, then the action itself."""
        action = call.action
        handler = self._handlers.get(action)
        if handler is None:
            raise AliyunError(
                404,
                "InvalidAction.NotFound",
                f"Specified api is not found, please check your url and method. (Action {action!r})",
            )
        if call.version != self.VERSION:
            raise AliyunError(
                400,
                "InvalidVersion",
                f"Specified parameter Version {call.version!r} is not valid; {self.PRODUCT} serves {self.VERSION}.",
            )
        params = {k: v for k, v in list(req.query) + form_fields(req) if k not in signing.RPC_COMMON}
        for name in self.REQUIRED[action]:
            if not params.get(name, "").strip():
                raise AliyunError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        self.action_counts[action] += 1
        return SandboxResponse.json_response(200, self._ok(call.request_id, handler(params)))

    def _recommend(self, code: str, request_id: str) -> str:
        return f"https://api.aliyun.com/troubleshoot?q={code}&product={self.PRODUCT}&requestId={request_id}"

    def render_error(self, error: AliyunError, call: Call) -> SandboxResponse:
        request_id = call.request_id
        if error.status == 200:
            body: dict[str, Any] = {
                "Code": error.code,
                "Message": error.message,
                "RequestId": request_id,
                **self.BUSINESS_ERROR_FIELDS,
            }
        else:
            body = {
                "RequestId": request_id,
                "HostId": self.HOST_ID,
                "Code": error.code,
                "Message": error.message,
                "Recommend": self._recommend(error.code, request_id),
            }
        return SandboxResponse.json_response(error.status, body)

    def fault_response(self, fault: Fault, call: Call) -> SandboxResponse:
        if fault.kind == "malformed":
            return fault.response()
        if fault.body is None:
            if fault.status == 200:
                return SandboxResponse.json_response(200, self._ok_fault(call.request_id), fault.headers)
            response = self.render_error(self.status_error(fault.status), call)
            response.headers.update({k.lower(): v for k, v in fault.headers.items()})
            return response
        try:
            parsed = json.loads(fault.body)
        except ValueError:
            return fault.response()
        if isinstance(parsed, dict):
            parsed.setdefault("RequestId", call.request_id)
            if fault.status != 200 and "HostId" in parsed:
                parsed.setdefault("Recommend", self._recommend(str(parsed.get("Code", "")), call.request_id))
            return SandboxResponse.json_response(fault.status, parsed, fault.headers)
        return fault.response()

    # -- control endpoints (/_sandbox), signed like any request ------------------------------------

    def control_reply(self, outcome: ControlOutcome, faults: list[dict[str, Any]], call: Call) -> SandboxResponse:
        if outcome in ("added", "listed"):
            return SandboxResponse.json_response(200, self._ok(call.request_id, {"Faults": faults}))
        if outcome == "cleared":
            return SandboxResponse.json_response(200, self._ok(call.request_id, {}))
        if outcome == "called":  # the simulated call's report, in the product's own envelope
            return SandboxResponse.json_response(200, self._ok(call.request_id, {"Call": faults[0]}))
        return SandboxResponse.json_response(200, self._ok(call.request_id, {"Seeded": self.seed_data}))

    def control_refusal(self, reason: ControlRefusal, detail: str) -> AliyunError:
        if reason == "unknown":
            return AliyunError(404, "InvalidAction.NotFound", detail)
        return AliyunError(400, "InvalidParameter", f"Invalid fault: {detail}")


__all__ = [
    "MAX_SKEW",
    "AliyunEmulator",
    "AliyunError",
    "Gateway",
    "action_of",
    "derived_uuid",
    "form_fields",
]
