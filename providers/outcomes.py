"""The outcome of a write, known before anything is sent again.

A write (create, bind, delete, unbind) ends in one of three outcomes, and the UI says which:

- DONE: the provider applied it (it answered, or a check found it, by what was sent);
- NOT_DONE: it was not applied, so sending it again is safe (the provider refused it before acting,
  or a check proved that nothing was made);
- UNKNOWN: the answer was lost and the checks could not tell; `checked` says what was tried. Never
  a guess either way: the user looks before sending again.

An answer is *ambiguous* when the change may have been applied without the client learning so: a
timeout or broken connection after sending, a 5xx (a gateway can answer 5xx after the backend
applied the change), or a 2xx that could not be read. Such a write is reconciled at once:

- where the vendor has idempotency (Telnyx `Idempotency-Key` on POST, Volcengine `IdempotentId` on
  SelectNumberAndBind*), by re-sending the *same* request with the *same* key: the provider answers
  with what the first one made, or makes it once;
- otherwise by looking for what was sent, exactly as it was sent (`find`: the numbers, the expiry
  sent, a tag the client generated), never for values recomputed later, and never counting what
  existed before (`known`);
- a delete or unbind is re-sent: NotFound on the re-send means the first one was applied (DONE).

Nothing here imports the UI; the forms read `WriteOutcome.message()` and `outcome`.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from providers.bindings import Binding, BindingProvider, BindRequest
from providers.errors import CannotCheck, MalformedResponse, NotFound, ProviderError, Timeout, Unavailable

T = TypeVar("T")

DEFAULT_CHECKS = 3  # reconciliation attempts after an ambiguous answer (each one retried by the Transport)


class Outcome(enum.Enum):
    DONE = "done"
    NOT_DONE = "not done"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class WriteOutcome(Generic[T]):
    """What became of one write. `value` is the record when DONE (None for a delete); `how` says
    how that is known; `checked` lists the checks made after an ambiguous answer; `error` is the
    last error seen (the refusal, for NOT_DONE)."""

    outcome: Outcome
    what: str  # "create billing group", "bind", "unbind 1234"
    value: T | None = None
    how: str = ""
    checked: tuple[str, ...] = ()
    error: ProviderError | None = None
    resent: int = 0  # how many times the write itself was sent again (same key, or a delete)

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.DONE

    @property
    def not_done(self) -> bool:
        return self.outcome is Outcome.NOT_DONE

    @property
    def unknown(self) -> bool:
        return self.outcome is Outcome.UNKNOWN

    def message(self) -> str:
        """One honest sentence or two for the user, following the outcome."""
        if self.outcome is Outcome.DONE:
            return f"{self.what}: done ({self.how})." if self.how else f"{self.what}: done."
        if self.outcome is Outcome.NOT_DONE:
            why = self.error.summary() if self.error is not None else self.how
            return f"{self.what}: not done ({why}). Nothing was applied; it is safe to send again."
        checked = "; ".join(self.checked) if self.checked else "no check was possible"
        return (
            f"{self.what}: outcome unknown. The answer was lost and the checks could not tell "
            f"(checked: {checked}). Look at the provider before sending again."
        )


def is_ambiguous(error: ProviderError) -> bool:
    """Whether a write that ended in `error` may have been applied."""
    if isinstance(error, Timeout):
        return error.maybe_applied
    if error.maybe_applied:
        return True
    if isinstance(error, MalformedResponse):
        return True  # the provider answered (2xx) but not in a shape we can read
    # A 5xx (or a vendor's internal-error code) is an answer from something that received the
    # request; a connection that never opened has no status.
    return isinstance(error, Unavailable) and error.status is not None


_IDEMPOTENCY_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("teledeck_idempotency_key", default=None)


def new_key() -> str:
    """A fresh idempotency key (letters and digits: valid for every vendor)."""
    return uuid.uuid4().hex


def current_idempotency_key() -> str | None:
    """The key a client should put on the write it sends now, if a caller set one."""
    return _IDEMPOTENCY_KEY.get()


@contextlib.contextmanager
def idempotency_key(key: str) -> Iterator[str]:
    """Every idempotent-capable write sent inside carries `key` (a client reads it with
    `current_idempotency_key`)."""
    token = _IDEMPOTENCY_KEY.set(key)
    try:
        yield key
    finally:
        _IDEMPOTENCY_KEY.reset(token)


def _failed(step: str, error: ProviderError) -> str:
    return f"{step}: {error.summary()}"


async def settle_create(
    send: Callable[[], Awaitable[T]],
    *,
    what: str,
    resend: bool = False,
    key: str | None = None,
    find: Callable[[], Awaitable[T | None]] | None = None,
    checks: int = DEFAULT_CHECKS,
) -> WriteOutcome[T]:
    """Send a create and settle its outcome.

    `resend=True`: the vendor honours an idempotency key on this write, so an ambiguous answer is
    reconciled by sending it again with the same `key` (set for every attempt through
    `idempotency_key`; a new one when None). Otherwise `find` looks for what was sent (None: not
    there, which proves it was not made; raise `CannotCheck` when absence cannot be proved)."""
    key = key or new_key()

    async def attempt() -> T:
        with idempotency_key(key):
            return await send()

    try:
        return WriteOutcome(Outcome.DONE, what, await attempt(), how="answered")
    except ProviderError as error:
        if not is_ambiguous(error):
            return WriteOutcome(Outcome.NOT_DONE, what, error=error)
        first = error
    return await _reconcile(attempt, what=what, resend=resend, find=find, checks=checks, first=first)


async def _reconcile(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    resend: bool,
    find: Callable[[], Awaitable[T | None]] | None,
    checks: int,
    first: ProviderError | None,
    checked: tuple[str, ...] = (),
) -> WriteOutcome[T]:
    """Settle a write whose answer was ambiguous (`first`), without sending it again unless the
    vendor honours its key (`resend`)."""
    steps: list[str] = [*checked, *([_failed("sent", first)] if first is not None else [])]
    for n in range(1, checks + 1):
        if resend:
            try:
                value = await attempt()
            except ProviderError as error:
                steps.append(_failed(f"re-sent with the same idempotency key ({n})", error))
                if is_ambiguous(error) or error.kind == "rate_limited":
                    continue
                # A definite refusal of the replay does not say whether the first one was applied.
                return WriteOutcome(Outcome.UNKNOWN, what, checked=tuple(steps), error=error, resent=n)
            how = "the answer was lost; re-sent with the same idempotency key and the provider answered"
            return WriteOutcome(Outcome.DONE, what, value, how=how, checked=tuple(steps), resent=n)
        if find is None:
            break
        try:
            found = await find()
        except CannotCheck as error:
            steps.append(error.message)
            break
        except ProviderError as error:
            steps.append(_failed(f"check {n}", error))
            continue
        if found is not None:
            how = "the answer was lost; a check found it by what was sent"
            return WriteOutcome(Outcome.DONE, what, found, how=how, checked=tuple(steps))
        steps.append("checked by what was sent: nothing matching exists")
        return WriteOutcome(
            Outcome.NOT_DONE,
            what,
            how="the answer was lost, and a check by what was sent proved nothing was made",
            checked=tuple(steps),
            error=first,
        )
    return WriteOutcome(Outcome.UNKNOWN, what, checked=tuple(steps), error=first)


async def settle_delete(
    send: Callable[[], Awaitable[object]],
    *,
    what: str,
    gone: Callable[[ProviderError], bool] = lambda error: isinstance(error, NotFound),
    checks: int = DEFAULT_CHECKS,
) -> WriteOutcome[None]:
    """Send a delete or unbind and settle its outcome: after an ambiguous answer it is sent again,
    and `gone` (NotFound by default) on that re-send means the first one was applied. NotFound on
    the first send: it was already gone, which is done as far as anyone can tell."""
    try:
        await send()
        return WriteOutcome(Outcome.DONE, what, how="answered")
    except ProviderError as error:
        if gone(error):
            return WriteOutcome(Outcome.DONE, what, how=f"it was already gone: {error.summary()}", error=error)
        if not is_ambiguous(error):
            return WriteOutcome(Outcome.NOT_DONE, what, error=error)
        first = error
    checked: list[str] = [_failed("sent", first)]
    for n in range(1, checks + 1):
        try:
            await send()
        except ProviderError as error:
            if gone(error):
                how = "the answer was lost; sent again, and the provider no longer has it"
                return WriteOutcome(Outcome.DONE, what, how=how, checked=tuple(checked), error=error, resent=n)
            checked.append(_failed(f"sent again ({n})", error))
            if is_ambiguous(error) or error.kind == "rate_limited":
                continue
            return WriteOutcome(Outcome.UNKNOWN, what, checked=tuple(checked), error=error, resent=n)
        how = "the answer was lost; sent again and the provider answered"
        return WriteOutcome(Outcome.DONE, what, how=how, checked=tuple(checked), resent=n)
    return WriteOutcome(Outcome.UNKNOWN, what, checked=tuple(checked), error=first, resent=checks)


# -- bindings ---------------------------------------------------------------------------------------


def tagged(request: BindRequest) -> BindRequest:
    """The request as it will be sent, fixed once: an idempotency key of its own, and (when the user
    gave no user data) a generated tag in the vendor's user-data field, so that a check after a lost
    answer matches what this very request sent."""
    key = request.idempotency_key or new_key()
    user_data = request.user_data or f"td-{key[:16]}"
    return replace(request, idempotency_key=key, user_data=user_data)


def _bind_parts(
    provider: BindingProvider, request: BindRequest, known: Collection[str]
) -> tuple[Callable[[], Awaitable[Binding]], bool, Callable[[], Awaitable[Binding | None]], str]:
    resend = bool(getattr(provider, "rebind_is_idempotent", lambda r: False)(request))

    async def find() -> Binding | None:
        found = [b for b in await provider.find_after_timeout(request) if b.key not in known]
        return found[0] if found else None

    return (lambda: provider.bind(request)), resend, find, f"bind {request.mode} for {request.a}"


async def settle_bind(
    provider: BindingProvider,
    request: BindRequest,
    *,
    known: Collection[str] = (),
    checks: int = DEFAULT_CHECKS,
) -> WriteOutcome[Binding]:
    """Bind and settle the outcome. `request` should come from `tagged` (kept by the caller, so a
    user's second send after UNKNOWN carries the same key and tag). `known` are binding keys that
    existed before (the ledger's): a check never counts one of them as this bind's result. An
    UNKNOWN outcome belongs in the ledger's pending binds (`BindingLedger.record_pending_bind`)."""
    send, resend, find, what = _bind_parts(provider, request, known)
    return await settle_create(
        send, what=what, resend=resend, key=request.idempotency_key or None, find=find, checks=checks
    )


async def reconcile_bind(
    provider: BindingProvider,
    request: BindRequest,
    *,
    known: Collection[str] = (),
    checks: int = DEFAULT_CHECKS,
    earlier: str = "",
) -> WriteOutcome[Binding]:
    """Settle a bind whose outcome was unknown (a pending bind), later: checked by what it sent,
    or re-sent with its own key where the vendor honours one; never sent again otherwise."""
    send, resend, find, what = _bind_parts(provider, request, known)

    async def attempt() -> Binding:
        with idempotency_key(request.idempotency_key or new_key()):
            return await send()

    return await _reconcile(
        attempt,
        what=what,
        resend=resend,
        find=find,
        checks=checks,
        first=None,
        checked=(f"earlier: {earlier}",) if earlier else (),
    )


async def settle_unbind(
    provider: BindingProvider, binding: Binding, *, checks: int = DEFAULT_CHECKS
) -> WriteOutcome[None]:
    """Unbind and settle the outcome: "no such binding" on a re-send (NotFound, or what the
    adapter's `is_gone(error)` says) means done."""
    gone: Callable[[ProviderError], bool] = getattr(provider, "is_gone", lambda error: isinstance(error, NotFound))
    return await settle_delete(
        lambda: provider.unbind(binding), what=f"unbind {binding.subscription_id}", gone=gone, checks=checks
    )


__all__ = [
    "CannotCheck",
    "Outcome",
    "WriteOutcome",
    "current_idempotency_key",
    "idempotency_key",
    "is_ambiguous",
    "new_key",
    "reconcile_bind",
    "settle_bind",
    "settle_create",
    "settle_delete",
    "settle_unbind",
    "tagged",
]
