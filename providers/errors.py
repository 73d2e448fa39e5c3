"""One error tree for every vendor.

Every failure a provider call can end in is a `ProviderError`: the UI shows `str(error)`,
which always names the vendor code and message, never a traceback. Nothing here may carry a
secret: messages are built from vendor answers and redacted URLs only.
"""

from __future__ import annotations

from collections.abc import Collection, Container
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One problem the provider reported against one request field."""

    pointer: str  # JSON pointer such as "/ip_address", or a query parameter name
    message: str
    code: str = ""

    @property
    def field(self) -> str:
        """The top-level field name the pointer refers to ("/settings/idp_entity_id" -> "settings")."""
        parts = [p for p in self.pointer.strip().split("/") if p]
        return parts[0] if parts else self.pointer.strip()


class ProviderError(Exception):
    """A call to a provider failed. Carries what the vendor said, and to which request."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        code: str = "",
        title: str = "",
        detail: str = "",
        request_id: str = "",
        method: str = "",
        url: str = "",
        problems: tuple[FieldProblem, ...] = (),
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        # A write that may have been applied although it failed (it reached the server and the
        # answer was lost or was a 5xx); see providers.outcomes.
        self.maybe_applied = maybe_applied
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.method = method
        self.url = url
        self.problems = tuple(problems)

    @property
    def pointer(self) -> str:
        """The first field pointer the provider named, if any."""
        return self.problems[0].pointer if self.problems else ""

    def summary(self) -> str:
        """One line for a notification: vendor code first, then what it said."""
        head = f"[{self.code}] " if self.code else ""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{head}{self.message}{status}"

    def __str__(self) -> str:
        return self.summary()


class AuthError(ProviderError):
    kind = "auth"


class NotFound(ProviderError):
    kind = "not_found"


class Conflict(ProviderError):
    kind = "conflict"


class ValidationError(ProviderError):
    """The provider refused the input; `problems` point at the fields."""

    kind = "validation"


class RateLimited(ProviderError):
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """5xx, a refused connection, or any other failure to reach the provider."""

    kind = "unavailable"


class Timeout(ProviderError):
    """No answer in time. For a write, `maybe_applied` says the provider may have acted."""

    kind = "timeout"

    def __init__(self, message: str, *, maybe_applied: bool = False, **kw: Any) -> None:
        super().__init__(message, maybe_applied=maybe_applied, **kw)


class CannotCheck(ProviderError):
    """A check after an ambiguous write cannot be made at all (the vendor has no way to look the
    write up with what the client knows); the outcome stays unknown (providers.outcomes)."""

    kind = "cannot_check"


class MalformedResponse(ProviderError):
    """The provider answered, but not in a shape we can read."""

    kind = "malformed"


class Offline(ProviderError):
    """The session is offline (`--offline`); nothing was sent."""

    kind = "offline"


class ReadOnlyRefused(ProviderError):
    """A change was asked for while the session is read-only; nothing was sent."""

    kind = "read_only"


class MissingAccount(ProviderError):
    """The profile has no account of the kind a screen or command asked for; nothing was sent."""

    kind = "missing_account"


@dataclass
class RateLimitInfo:
    """What the provider last said about its rate limit (x-ratelimit-* headers)."""

    limit: int | None = None
    remaining: int | None = None
    reset_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# From a vendor's answer to a class of the tree. Each vendor reads its own code and message out of
# its body and knows its own codes; what an HTTP status means by itself is the same for all.

# What a 4xx says on its own; any 5xx is Unavailable.
STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: ValidationError,
    401: AuthError,
    403: AuthError,
    404: NotFound,
    409: Conflict,
    422: ValidationError,
    429: RateLimited,
}


@dataclass(frozen=True)
class CodeSet:
    """Error codes: these `codes`, and any code that starts with one of `prefixes` or ends with one
    of `suffixes` (for a vendor whose codes come in families, such as Alibaba's `isp.*`)."""

    codes: Collection[str] = ()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        return code in self.codes or code.startswith(self.prefixes) or code.endswith(self.suffixes)


@dataclass(frozen=True)
class CodeTable:
    """A vendor's error codes by what they mean. `error_class` tries them in the order of the
    fields; a code in none of them is judged by its HTTP status alone (`status_error_class`, with
    the vendor's `trusted` statuses)."""

    auth: Container[str] = ()
    rate_limited: Container[str] = ()
    conflict: Container[str] = ()
    not_found: Container[str] = ()
    validation: Container[str] = ()
    unavailable: Container[str] = ()
    trusted: Collection[int] | None = None

    def error_class(self, code: str, status: int | None) -> type[ProviderError]:
        """The class `code` means, else what `status` says."""
        for codes, cls in (
            (self.auth, AuthError),
            (self.rate_limited, RateLimited),
            (self.conflict, Conflict),
            (self.not_found, NotFound),
            (self.validation, ValidationError),
            (self.unavailable, Unavailable),
        ):
            if code in codes:
                return cls
        return status_error_class(status, trusted=self.trusted)


def status_error_class(
    status: int | None,
    *,
    trusted: Collection[int] | None = None,
    default: type[ProviderError] = ProviderError,
) -> type[ProviderError]:
    """What the HTTP `status` alone says: Unavailable for 5xx, else `STATUS_ERRORS`, limited to the
    4xx statuses in `trusted` for a vendor whose bare statuses mean less (None: all of them);
    `default` for anything else."""
    if status is None:
        return default
    if status >= 500:
        return Unavailable
    if trusted is not None and status not in trusted:
        return default
    return STATUS_ERRORS.get(status, default)
