"""The Telnyx v2 gateway in front of the resources: Bearer auth, per-key rate limits with
x-ratelimit-* headers, `Idempotency-Key` on POSTs, faults and control endpoints under /v2/_sandbox,
and Telnyx's `{"errors": [...]}` envelope for every refusal."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any, Unpack

from providers.accounts import Account
from providers.sandbox.base import Call, ControlOutcome, ControlRefusal, EmulatorOptions
from providers.sandbox.credentials import Setting, shown
from providers.sandbox.faults import Fault
from providers.sandbox.http import SandboxRequest, SandboxResponse
from providers.sandbox.limits import FixedWindow
from providers.sandbox.state import StateStore
from providers.sandbox.telnyx.errors import (
    E_AUTH,
    E_BAD_REQUEST,
    E_INVALID_JSON,
    E_NOT_FOUND,
    E_RATE,
    ApiError,
    default_error_body,
    problem,
)
from providers.sandbox.telnyx.records import SCHEMA_VERSION, derived_uuid
from providers.sandbox.telnyx.routes import TelnyxRoutes
from providers.sandbox.telnyx.seed import build_seed, empty_state

DEFAULT_TELNYX_API_KEY = "KEYTELEDECKSANDBOX_local_only_0000"
API_KEY_ENV = "TELEDECK_SANDBOX_TELNYX_API_KEY"
RATE_LIMIT_ENV = "TELEDECK_SANDBOX_TELNYX_RATE_LIMIT"
DEFAULT_RATE_LIMIT = 100  # requests per window per API key (Telnyx does not publish its numbers)
BASE_PATH = "/v2"
# A base URL for in-process clients; `.invalid` never resolves, so nothing can leak to a network.
IN_PROCESS_BASE_URL = "http://telnyx.sandbox.invalid/v2"
IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_:-]{1,255}$")
NOT_FOUND_DETAIL = "The requested resource or URL could not be found."


def _relative(path: str) -> str | None:
    """The path below /v2 (no trailing slash), or None outside the API."""
    if path == BASE_PATH or path.startswith(BASE_PATH + "/"):
        rel = path[len(BASE_PATH) :] or "/"
        return rel.rstrip("/") or "/"
    return None


class TelnyxOptions(EmulatorOptions, total=False):
    """`TelnyxSandbox`'s keywords beyond its own: the common options and its settings."""

    api_key: str | None
    rate_limit: int | None  # requests per window per API key; 0 turns rate limiting off


class TelnyxSandbox(TelnyxRoutes):
    """The Telnyx account-access emulator. Thread-safe; state lives in a `StateStore`."""

    vendor = "telnyx"
    base_path = BASE_PATH
    SCHEMA_VERSION = SCHEMA_VERSION
    REQUEST_ID_HEADER = "x-request-id"
    error_type = ApiError

    api_key = Setting(API_KEY_ENV, DEFAULT_TELNYX_API_KEY)
    rate_limit = Setting(RATE_LIMIT_ENV, DEFAULT_RATE_LIMIT)

    def __init__(
        self, store: StateStore | None = None, *, rate_window: float = 1.0, **options: Unpack[TelnyxOptions]
    ) -> None:
        super().__init__(store, **options)
        self.rate_window = float(rate_window)
        self._windows = FixedWindow(self.rate_limit, self.rate_window)
        self._routes = self._build_routes()
        self._load_state()

    def fresh_state(self, seed_data: bool) -> dict[str, Any]:
        return build_seed() if seed_data else empty_state()

    def forget(self) -> None:
        self._windows.clear()

    def session_account(self) -> Account:
        """The account a sandbox session connects with (what a real profile's config would say)."""
        return self._account({"api_key": self.api_key})

    def credentials(self) -> list[tuple[str, str]]:
        """What `teledeck sandbox serve` prints: the public default key in full, a chosen one not."""
        return [("api key", shown(self.api_key, DEFAULT_TELNYX_API_KEY, API_KEY_ENV))]

    # -- pipeline hooks --------------------------------------------------------------------------

    def begin(self, req: SandboxRequest) -> Call:
        return Call(request_id=derived_uuid(f"request:{self.requests_handled}"))

    def fault_path(self, req: SandboxRequest) -> str | None:
        return _relative(req.path)

    def preflight(self, req: SandboxRequest, call: Call) -> None:
        if _relative(req.path) is None:
            raise ApiError(404, problem(E_NOT_FOUND, NOT_FOUND_DETAIL))

    def authenticate(self, req: SandboxRequest, call: Call) -> str:
        auth = req.header("authorization") or ""
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            detail = "The required authentication headers were either invalid or not included in the request."
            raise ApiError(401, problem(E_AUTH, detail), {"www-authenticate": 'Bearer realm="telnyx-sandbox"'})
        if not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            raise ApiError(
                401,
                problem(E_AUTH, "The API key provided is not valid for this account."),
                {"www-authenticate": 'Bearer realm="telnyx-sandbox", error="invalid_token"'},
            )
        return self.api_key

    def admit(self, req: SandboxRequest, call: Call) -> None:
        """Per-key rate limit; every answer after it carries the x-ratelimit-* headers."""
        if not self._windows.enabled:
            return
        verdict = self._windows.admit(call.principal, self.clock())
        limit = str(self.rate_limit)
        if not verdict.admitted:
            reset = str(verdict.reset_seconds)
            headers = {
                "x-ratelimit-limit": limit,
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": reset,
                "retry-after": reset,
            }
            raise ApiError(429, problem(E_RATE, "You have exceeded the maximum number of allowed requests."), headers)
        call.headers.update(
            {
                "x-ratelimit-limit": limit,
                "x-ratelimit-remaining": str(verdict.remaining),
                "x-ratelimit-reset": str(verdict.reset_seconds),
            }
        )

    def fault_response(self, fault: Fault, call: Call) -> SandboxResponse:
        if fault.kind == "status" and fault.body is None and fault.status >= 400:
            headers = {k.lower(): v for k, v in fault.headers.items()}
            if fault.status == 429:
                headers.setdefault("retry-after", "1")
            return SandboxResponse.json_response(fault.status, default_error_body(fault.status), headers)
        return fault.response()

    def dispatch(self, req: SandboxRequest, call: Call, page: int | None) -> SandboxResponse:
        rel = _relative(req.path) or "/"
        if page is not None:
            query = [(k, v) for k, v in req.query if k != "page[number]"]
            req = SandboxRequest(
                req.method, req.path, [*query, ("page[number]", str(page))], dict(req.headers), req.body
            )
        allowed = []
        for method, pattern, view in self._routes:
            match = pattern.fullmatch(rel)
            if match is None:
                continue
            if method != req.method:
                allowed.append(method)
                continue
            if method == "POST" and req.header("idempotency-key") is not None:
                return self._idempotent(req, rel, functools.partial(view, req, **match.groupdict()))
            response: SandboxResponse = view(req, **match.groupdict())
            return response
        if allowed:
            raise ApiError(
                405,
                problem(E_BAD_REQUEST, f"{req.method} is not supported on {rel}."),
                {"allow": ", ".join(sorted(set(allowed)))},
            )
        raise ApiError(404, problem(E_NOT_FOUND, NOT_FOUND_DETAIL))

    def render_error(self, error: ApiError, call: Call) -> SandboxResponse:
        return error.response()

    def internal_error(self) -> ApiError:
        return ApiError(500, default_error_body(500)["errors"])

    # -- control endpoints (/v2/_sandbox) --------------------------------------------------------

    def control_body(self, outcome: ControlOutcome, payload: Any) -> Any:
        return {"data": payload}

    def control_refusal(self, reason: ControlRefusal, detail: str) -> ApiError:
        if reason == "body":
            return ApiError(400, problem(E_INVALID_JSON, detail))
        if reason == "fault":
            return ApiError(422, problem(E_BAD_REQUEST, f"invalid fault: {detail}"))
        return ApiError(404, problem(E_NOT_FOUND, detail))

    # -- idempotency -----------------------------------------------------------------------------

    def _idempotent(self, req: SandboxRequest, rel: str, run: Callable[[], SandboxResponse]) -> SandboxResponse:
        key = req.header("idempotency-key") or ""
        if not IDEMPOTENCY_KEY.match(key):
            raise ApiError(
                400,
                problem(
                    E_BAD_REQUEST,
                    "The Idempotency-Key header must be 1 to 255 letters, digits, '-', '_' or ':'.",
                    parameter="Idempotency-Key",
                ),
            )
        records: dict[str, Any] = self.state.setdefault("idempotency", {})
        now = self.clock()
        for stale in [k for k, r in records.items() if r["expires"] <= now]:
            del records[stale]
        scope = hashlib.sha256(f"{self.api_key}\n{key}\n{req.method}\n{rel}".encode()).hexdigest()
        fingerprint = hashlib.sha256(req.query_string.encode() + b"\n" + req.body).hexdigest()
        record = records.get(scope)
        if record is not None:
            if record["fingerprint"] != fingerprint:
                raise ApiError(
                    422,
                    problem(
                        E_BAD_REQUEST,
                        "This Idempotency-Key was already used with a different request "
                        "(query or body); use a new key for a new request.",
                        parameter="Idempotency-Key",
                    ),
                )
            headers = dict(record["headers"])
            headers["idempotent-replayed"] = "true"
            return SandboxResponse(record["status"], headers, record["body"].encode("utf-8"))
        response = run()
        if 200 <= response.status < 300:  # only successful answers are replayed
            records[scope] = {
                "fingerprint": fingerprint,
                "status": response.status,
                "expires": now + IDEMPOTENCY_TTL,
                "headers": {k: v for k, v in response.headers.items() if k == "content-type"},
                "body": response.body.decode("utf-8"),
            }
            self._save()
        return response
