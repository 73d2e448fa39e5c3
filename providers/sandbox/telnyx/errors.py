"""Telnyx's error answers: the codes of its API error catalogue and the `{"errors": [...]}` envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.sandbox.http import SandboxResponse

E_INVALID_URL = ("10003", "Invalid URL")
E_MISSING = ("10004", "Missing required parameter")
E_NOT_FOUND = ("10005", "Resource not found")
E_INVALID_ID = ("10006", "Invalid ID")
E_UNEXPECTED = ("10007", "Unexpected error")
E_TIMEOUT = ("10008", "Request timeout")
E_AUTH = ("10009", "Authentication failed")
E_FORBIDDEN = ("10010", "Authorization failed")
E_RATE = ("10011", "Too many requests")
E_DUPLICATE = ("10012", "Duplicate resource")
E_MEDIA_TYPE = ("10014", "Unsupported Media Type")
E_BAD_REQUEST = ("10015", "Bad Request")
E_E164 = ("10016", "Phone number must be in +E.164 format")
E_IN_USE = ("10021", "Resource in use")
E_INVALID_JSON = ("10023", "Invalid JSON")

_STATUS_DEFAULT_ERROR = {
    400: E_BAD_REQUEST,
    401: E_AUTH,
    403: E_FORBIDDEN,
    404: E_NOT_FOUND,
    408: E_TIMEOUT,
    409: E_IN_USE,
    415: E_MEDIA_TYPE,
    422: E_BAD_REQUEST,
    429: E_RATE,
    504: E_TIMEOUT,
}


def problem(
    kind: tuple[str, str], detail: str, *, pointer: str | None = None, parameter: str | None = None
) -> dict[str, Any]:
    """One Telnyx error object."""
    code, title = kind
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    source = {k: v for k, v in (("pointer", pointer), ("parameter", parameter)) if v is not None}
    if source:
        error["source"] = source
    error["meta"] = {"url": f"https://developers.telnyx.com/docs/overview/errors/{code}"}
    return error


class ApiError(Exception):
    """Raised anywhere below `handle`; becomes a Telnyx error response."""

    def __init__(
        self, status: int, errors: list[dict[str, Any]] | dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.errors = errors if isinstance(errors, list) else [errors]
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {self.errors}")

    def response(self) -> SandboxResponse:
        return SandboxResponse.json_response(self.status, {"errors": self.errors}, self.headers)


def default_error_body(status: int) -> dict[str, Any]:
    kind = _STATUS_DEFAULT_ERROR.get(status, E_UNEXPECTED if status >= 500 else E_BAD_REQUEST)
    detail = "An unexpected error occured." if kind == E_UNEXPECTED else f"HTTP {status} (injected by the sandbox)."
    return {"errors": [problem(kind, detail)]}


__all__ = ["ApiError", "default_error_body", "problem"]
