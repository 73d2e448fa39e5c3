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

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from providers.aliyun import signing
from providers.sandbox.http import SandboxRequest, SandboxResponse

log = logging.getLogger("teledeck.sandbox")

MAX_SKEW = signing.MAX_CLOCK_SKEW_SECONDS


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


__all__ = ["MAX_SKEW", "AliyunError", "Gateway"]


class AliyunEmulator:
    """What both Alibaba RPC emulators share: fault hooks keyed by the action name, and the entry
    point that turns an AliyunError (or an emulator bug) into Alibaba's error answer.

    A subclass provides `_lock`, `faults`, `clock`, `requests_handled`, `_gateway`, `_handlers`,
    `action_counts`, `_flow_control(key_id)`, `_fault_response(fault, request_id)`,
    `_error(error, request_id)`, `_ok(request_id, body)`, `_request_id(name)`, `_internal_error()`,
    and the class attributes PRODUCT, VERSION, REQUIRED (action -> parameter names) and RPC_COMMON.
    """

    PRODUCT: str
    VERSION: str
    REQUIRED: dict
    RPC_COMMON: frozenset

    def _handle(self, req: SandboxRequest, request_id: str) -> SandboxResponse:
        """One RPC call as the gateway takes it: path and method, signature, flow control,
        injected faults, action and version, required parameters, then the action itself."""
        if req.path not in ("", "/"):
            raise AliyunError(
                404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
            )
        if req.method not in ("GET", "POST"):
            raise AliyunError(400, "UnsupportedHTTPMethod", f"The HTTP method {req.method} is not supported.")
        form: list[tuple[str, str]] = []
        if req.content_type == "application/x-www-form-urlencoded" and req.body:
            try:
                form = parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise AliyunError(400, "InvalidParameter", "The request body is not UTF-8.") from None
        key_id, action, version = self._gateway.verify(req, form)

        self._flow_control(key_id)
        fault = self.faults.take(("status", "malformed"), req.method, "/" + action)
        if fault is not None:
            return self._fault_response(fault, request_id)
        handler = self._handlers.get(action)
        if handler is None:
            raise AliyunError(
                404,
                "InvalidAction.NotFound",
                f"Specified api is not found, please check your url and method. (Action {action!r})",
            )
        if version != self.VERSION:
            raise AliyunError(
                400,
                "InvalidVersion",
                f"Specified parameter Version {version!r} is not valid; {self.PRODUCT} serves {self.VERSION}.",
            )
        params = {k: v for k, v in list(req.query) + form if k not in self.RPC_COMMON}
        for name in self.REQUIRED[action]:
            if not params.get(name, "").strip():
                raise AliyunError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        self.action_counts[action] += 1
        return SandboxResponse.json_response(200, self._ok(request_id, handler(params)))

    @staticmethod
    def _action_of(req: SandboxRequest) -> str:
        action = req.header("x-acs-action") or req.query_dict.get("Action")
        if not action and req.content_type == "application/x-www-form-urlencoded":
            action = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)).get("Action")
        return action or ""

    def delay_for(self, req: SandboxRequest) -> tuple[float, bool]:
        fault = self.faults.take(("delay",), req.method, "/" + self._action_of(req))
        return (fault.seconds, fault.apply) if fault else (0.0, False)

    def connect_fails(self, req: SandboxRequest) -> bool:
        return self.faults.take(("connect_error",), req.method, "/" + self._action_of(req)) is not None

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        with self._lock:
            self.requests_handled += 1
            request_id = self._request_id(f"request:{self.requests_handled}:{self.clock()}")
            try:
                response = self._handle(req, request_id)
            except AliyunError as error:
                response = self._error(error, request_id)
            except Exception:  # a bug in the emulator: answer like the gateway would, and log it
                log.exception("sandbox failed on %s %s", req.method, req.path)
                response = self._error(self._internal_error(), request_id)
            response.headers.setdefault("x-acs-request-id", request_id)
            return response
