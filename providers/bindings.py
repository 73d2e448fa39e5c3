"""The vendor-neutral privacy-number binding, and the interface each vendor adapter implements.

None of Alibaba Dypls, Huawei PrivateNumber or Volcengine VMS can list all bindings of an
account, so teledeck keeps a local ledger (providers/ledger.py) of the bindings it created or
imported, and refreshes each one from its provider through a `BindingProvider`.

Times are timezone-aware UTC datetimes everywhere in this module; each adapter converts to and
from its vendor's wire format (Alibaba: "yyyy-MM-dd HH:mm:ss" in China time, UTC+8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from providers.calls import Recording, RecordingLink

MODES = ("AXB", "AXN", "AXN_EXT", "AX", "AXE", "AXYB")
# Modes with a B number: AXB (A and B through X), AXYB (A calls B through Y, B calls A through X).
B_MODES = ("AXB", "AXYB")

# Binding.status values
ACTIVE = "active"
EXPIRED = "expired"
REMOVED = "removed"  # unbound, or no longer known to the provider
UNKNOWN = "unknown"  # not refreshed yet, or the last refresh failed


@dataclass(frozen=True)
class Binding:
    provider: str  # a privacy-number vendor's provider name (providers.vendors.binding_vendors())
    mode: str  # one of MODES
    subscription_id: str  # Aliyun SubsId, Huawei subscriptionId, Volcengine SubId
    x: str  # the privacy (middle) number
    a: str = ""
    b: str = ""
    extension: str = ""  # AXN_EXT and Huawei AXE: the extension (E) dialled after X
    expires_at: datetime | None = None  # aware, UTC
    recording: bool | None = None
    status: str = UNKNOWN
    pool: str = ""  # Aliyun PoolKey, Volcengine NumberPoolNo, Huawei: "" or the area code
    user_data: str = ""  # Aliyun OutId, Huawei userData, Volcengine UserData
    account: str = ""  # which configured account it belongs to (profile account label)
    y: str = ""  # Huawei AXYB only: the second privacy number, through which A reaches B
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the vendor's last answer

    @property
    def key(self) -> str:
        """Unique across providers: the ledger's primary key."""
        return f"{self.provider}:{self.subscription_id}"

    def seconds_left(self, now: datetime | None = None) -> float | None:
        if self.expires_at is None:
            return None
        now = now or datetime.now(UTC)
        return (self.expires_at - now).total_seconds()


@dataclass(frozen=True)
class BindRequest:
    """What the user asked to bind. Fields a vendor does not use are ignored by its adapter."""

    mode: str
    a: str
    # Aware; None where the mode takes no lifetime (Huawei AX) or the binding is to last until
    # unbound. An adapter whose vendor needs an expiry refuses None as a field problem.
    expires_at: datetime | None = None
    b: str = ""
    x: str = ""  # a specific X number, when the vendor lets you choose
    pool: str = ""
    area_code: str = ""  # city code to draw X from (Aliyun ExpectCity, Huawei areaCode)
    extension: str = ""  # Huawei AXE: a chosen extension ("" = the platform picks one)
    recording: bool = False
    user_data: str = ""
    # Set once per bind by providers.outcomes.tagged: sent where the vendor takes one (Volcengine
    # IdempotentId), so a re-send after a lost answer cannot bind twice.
    idempotency_key: str = ""


@dataclass(frozen=True)
class NumberPool:
    """A pool a bind may draw its X number from, as the bind form offers it."""

    pool: str  # what the vendor takes: Aliyun PoolKey, Volcengine NumberPoolNo
    name: str = ""
    modes: tuple[str, ...] = ()  # the modes it serves; () = the vendor does not say
    numbers: int | None = None  # how many numbers it holds, where the vendor says
    source: str = ""  # how it is known: "listed by NumberPoolList", "the account's pool_key"

    def serves(self, mode: str) -> bool:
        return not self.modes or mode in self.modes

    def describe(self) -> str:
        """One line for a picker: 'NP2026… · AXB · teledeck sandbox AXB · 12 numbers'."""
        parts = [self.pool, "/".join(self.modes), self.name]
        if self.numbers is not None:
            parts.append(f"{self.numbers} number{'' if self.numbers == 1 else 's'}")
        if self.source:
            parts.append(self.source)
        return " · ".join(part for part in parts if part)


async def pools_of(provider: BindingProvider) -> list[NumberPool]:
    """The pools `provider` offers, its account's default first; [] for a vendor without pools
    (Huawei draws X by area code). An adapter offers them with an optional `pools()`."""
    listing = getattr(provider, "pools", None)
    return list(await listing()) if listing is not None else []


def default_pool_of(provider: BindingProvider) -> str:
    """The pool `provider`'s account binds in when a request names none ("" without pools)."""
    return str(getattr(provider, "default_pool", "") or "")


def best_pool(pools: list[NumberPool], mode: str, default: str = "") -> str:
    """The pool a bind in `mode` should use: the account's default when it serves the mode, else
    the first listed pool that does, else the default (the vendor will say what is wrong)."""
    fitting = [p.pool for p in pools if p.serves(mode)]
    if default and (default in fitting or not any(p.pool == default for p in pools)):
        return default
    return fitting[0] if fitting else default


@dataclass(frozen=True)
class BindingChange:
    """A modification; None leaves a field as it is."""

    expires_at: datetime | None = None
    a: str | None = None
    b: str | None = None
    recording: bool | None = None


class BindingProvider(Protocol):
    """One vendor account, as the Bindings screen and the ledger use it.

    Every method raises `providers.errors.ProviderError` subclasses carrying the vendor's code.
    `bind` is never re-sent after a timeout: it raises `Timeout(maybe_applied=True)` and the
    caller uses `find_after_timeout` before deciding anything.
    """

    provider: str
    account: str
    modes: tuple[str, ...]  # which of MODES this vendor supports
    # An adapter with pools also has `default_pool: str` (the account's) and
    # `async pools() -> list[NumberPool]`, the default first (see `pools_of`).

    async def bind(self, request: BindRequest) -> Binding: ...

    async def update(self, binding: Binding, change: BindingChange) -> Binding: ...

    async def unbind(self, binding: Binding) -> None: ...

    async def refresh(self, binding: Binding) -> Binding:
        """The binding as the provider knows it now; status REMOVED when it no longer exists."""
        ...

    async def lookup(self, *, x: str = "", subscription_id: str = "", pool: str = "") -> list[Binding]:
        """Bindings the provider has for an X number or a subscription id (for import)."""
        ...

    async def find_after_timeout(self, request: BindRequest) -> list[Binding]:
        """Bindings matching a bind whose answer was lost, by what that very request sent (its
        numbers, the exact expiry sent, its user-data tag), never by values recomputed later.
        Raises `providers.outcomes.CannotCheck` when absence cannot be proved.

        An adapter may also offer `rebind_is_idempotent(request) -> bool`: True when the vendor
        honours the request's idempotency key, so a re-send is the check (providers.outcomes)."""
        ...

    async def recording_link(self, recording: Recording) -> RecordingLink:
        """Where the recording of a call can be downloaded now, asked of the vendor on demand
        from what its push said (`Recording.locator`), and how long that link lives. Never
        follows the link (Huawei answers a redirect whose Location is the link)."""
        ...

    async def aclose(self) -> None: ...
