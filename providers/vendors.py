"""The vendor registry: one `VendorDescriptor` per account kind, each declared by its vendor package.

Everything that differs between vendors and is not the wire protocol itself lives in a
descriptor: the kind's name and title, its credential fields and settings, the default endpoint
and the environment variable that overrides it, how to connect a client from an `Account`, a
cheap probe for "test this account", the binding rules (modes, number format, expiry limits in
the vendor's own time zone, pools) and its emulator. Config kinds, the Profiles account forms,
the bind form, `teledeck sandbox serve` and every session are derived from it, so a new vendor is
one package with a `vendor.py` plus one line in `VENDOR_MODULES` below.

Descriptor modules import their clients lazily (inside `connect`), so reading the registry costs
no httpx import and no vendor stack: start-up stays fast.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any

from providers.accounts import Account
from providers.endpoints import check_endpoint

if TYPE_CHECKING:
    import httpx

# The registry: one line per vendor package. Each module defines DESCRIPTORS (a tuple).
VENDOR_MODULES = (
    "providers.telnyx.vendor",
    "providers.aliyun.vendor",
    "providers.huawei.vendor",
    "providers.volcengine.vendor",
)

# Where the in-process sandbox pretends to live (never resolved: its transport answers in process).
SANDBOX_ORIGIN = "https://sandbox.teledeck.invalid"


@dataclass(frozen=True)
class ConnectOptions:
    """What the session factory decided for one client: the checked endpoint, the change guard,
    and the transport (offline, in-process sandbox, or None for the network)."""

    endpoint: str
    region: str
    read_only: bool
    clock: Callable[[], float]
    http_transport: httpx.AsyncBaseTransport | None = None
    # Keyword arguments a test passes through to every client (timeout, page_size ...).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BindingRules:
    """What a privacy-number vendor accepts in a bind, checked at the form before anything is sent."""

    modes: tuple[str, ...]  # the modes its adapter implements (the connected account may offer fewer)
    number_pattern: str  # a full-match regular expression for A, B and X
    number_hint: str  # how to write one, for the field's message
    time_zone: tzinfo  # the vendor's own zone, in which its limits are stated
    expires_before: datetime | None = None  # an absolute limit (aware, in `time_zone`)
    max_lifetime: timedelta | None = None  # a limit relative to now
    min_ahead: timedelta = timedelta(minutes=1)
    pool_required: bool = False
    pool_setting: str = ""  # the account setting that supplies the default pool ("" = none)
    pool_label: str = "Pool"  # the vendor's name for a pool
    modifiable_modes: tuple[str, ...] | None = None  # the modes its adapter can modify (None = all)
    # The modes whose bindings have a lifetime the bind sets (None = all). A mode left out takes
    # no expiry at all (Huawei AX: only a per-call maxDuration), so the forms do not ask for one.
    expiry_modes: tuple[str, ...] | None = None
    # The modes in which the user may choose X (None = all); in the others the platform picks it.
    chosen_x_modes: tuple[str, ...] | None = None
    # The modes in which the user may choose the extension E (the platform picks it otherwise).
    chosen_extension_modes: tuple[str, ...] = ()
    # What a modify can change, by mode: names of `providers.bindings.BindingChange` fields. A mode
    # not listed can change its expiry (where it has one), A, B (where it has one) and recording.
    changeable: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def can_modify(self, mode: str) -> bool:
        return mode in (self.modes if self.modifiable_modes is None else self.modifiable_modes)

    def takes_expiry(self, mode: str) -> bool:
        return self.expiry_modes is None or mode in self.expiry_modes

    def takes_x(self, mode: str) -> bool:
        return self.chosen_x_modes is None or mode in self.chosen_x_modes

    def can_change(self, mode: str, name: str) -> bool:
        """Whether a modify of a `mode` binding can change BindingChange field `name`."""
        if mode in self.changeable:
            return name in self.changeable[mode]
        if name == "expires_at":
            return self.takes_expiry(mode)
        from providers.bindings import B_MODES  # the bindings model is not needed to start

        return name != "b" or mode in B_MODES

    def number_problem(self, value: str) -> str | None:
        # ASCII: \d would take other scripts' digits, which no vendor does.
        if re.fullmatch(self.number_pattern, value.strip(), flags=re.ASCII):
            return None
        return self.number_hint

    def expiry_problem(self, when: datetime, now: datetime) -> str | None:
        """Why an aware `when` is outside what the vendor accepts at `now`, or None."""
        if when < now + self.min_ahead:
            return f"must be more than {int(self.min_ahead.total_seconds() // 60)} minute(s) from now"
        if self.max_lifetime is not None and when > now + self.max_lifetime:
            return f"at most {self.max_lifetime.days} days from now"
        if self.expires_before is not None and when >= self.expires_before:
            return f"must be before {self.expires_before:%Y-%m-%d %H:%M} ({self.expires_before:%z} time)"
        return None


@dataclass(frozen=True)
class EmulatorSpec:
    """The vendor's emulator in providers/sandbox, imported only when a sandbox needs it.

    Every emulator class keeps one contract:
    - `vendor` (its kind), `base_path` (the URL prefix it serves under) and `STATE_FILE` (its file
      in the sandbox state directory);
    - `__init__(store=None, *, clock=time.time, seed_data=True)`: in memory when store is None;
      credentials and seeded identifiers from the TELEDECK_SANDBOX_* environment or public defaults;
    - `handle(request) -> response`, thread-safe, with a `faults` injector;
    - `session_account() -> Account`: what a sandbox session connects with;
    - `credentials() -> [(label, value)]`: what `teledeck sandbox serve` prints, never a secret that
      came from the environment in full;
    - `reset()`: back to the seed data.
    """

    module: str
    cls: str
    default_port: int  # `teledeck sandbox serve` serves it here
    base_path: str = ""  # the URL prefix it serves under (the API version, for Telnyx)

    def load(self) -> type[Any]:
        return getattr(importlib.import_module(self.module), self.cls)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class EndpointRule:
    """Where a vendor's API is and how it may be reached: the default endpoint, the variable that
    overrides it, and the one endpoint rule (providers/endpoints.py) every choice must pass."""

    default: str
    env: str  # e.g. TELEDECK_VOLC_ENDPOINT
    bare_origin: bool = False  # no path allowed (the vendor's signature covers the path)
    region: str = ""  # the default region, for vendors that sign or route by one

    def resolve(self, explicit: str, *, vendor: str) -> str:
        """`explicit` (an account's endpoint), else the variable, else the default; checked
        (EndpointRefused names the vendor and why)."""
        chosen = explicit.strip() or os.environ.get(self.env, "").strip() or self.default
        return check_endpoint(chosen, vendor=vendor, bare_origin=self.bare_origin)


Connect = Callable[[Account, ConnectOptions], Any]
Probe = Callable[[Any, Account], Awaitable[str]]


async def probe_watched_binding(provider: Any, account: Account) -> str:
    """The binding vendors' cheap read: a lookup of the first watched X number, which proves the
    credentials, the endpoint and the pool at once."""
    if not account.watch:
        return "credentials are set; add an X number to watch_x so the test can make a real call"
    x, pool = account.watch[0]
    found = await provider.lookup(x=x, pool=pool)
    return f"{account.kind} answered: {len(found)} binding(s) on {x}"


@dataclass(frozen=True)
class VendorDescriptor:
    kind: str  # the config kind, e.g. "aliyun-pls"
    title: str
    credentials: tuple[str, ...]  # required credential fields
    connect: Connect
    emulator: EmulatorSpec
    endpoint: EndpointRule
    # The cheap read behind "test this account"; binding vendors may keep the watched-number lookup.
    probe: Probe = probe_watched_binding
    # The name records and screens use (Binding.provider, ResourceSpec.provider); "" = the kind.
    provider: str = ""
    short_title: str = ""  # a word for labels where the full title is too long ("Aliyun")
    optional_credentials: tuple[str, ...] = ()
    settings: tuple[str, ...] = ("endpoint",)  # the account settings this kind uses
    required: tuple[str, ...] = ()  # settings that must be set
    # Environment variables the vendor's own tools use, offered as suggestions in forms only.
    suggested_env: Mapping[str, str] = field(default_factory=dict)
    bindings: BindingRules | None = None  # set for privacy-number vendors
    # How to rebuild this vendor's records from the vendor objects the cache keeps, by record type.
    record_parsers: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    # A credential's own rule beyond being set (Alibaba's receipt token: at least 16 URL-safe
    # characters), by field: the problem with a value, or None. The Profiles account form checks
    # a typed value at its field before anything is saved.
    credential_rules: Mapping[str, Callable[[str], str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.probe is probe_watched_binding and self.bindings is None:
            raise TypeError(f"vendor {self.kind!r} has no bindings, so it needs a probe of its own")
        if not self.provider:
            object.__setattr__(self, "provider", self.kind)

    @property
    def credential_fields(self) -> tuple[str, ...]:
        return self.credentials + self.optional_credentials

    def credential_problem(self, name: str, value: str) -> str | None:
        """What is wrong with `value` for credential `name` by the kind's own rule, or None."""
        rule = self.credential_rules.get(name)
        return rule(value) if rule is not None else None

    @property
    def default_endpoint(self) -> str:
        return self.endpoint.default

    @property
    def default_region(self) -> str:
        return self.endpoint.region

    def endpoint_for(self, account: Account) -> str:
        """The account's endpoint, else the override variable, else the default; checked."""
        return self.endpoint.resolve(account.endpoint, vendor=self.title)

    def sandbox_endpoint(self) -> str:
        return SANDBOX_ORIGIN + self.emulator.base_path


@cache
def descriptors() -> tuple[VendorDescriptor, ...]:
    """Every descriptor, in registry order."""
    found: list[VendorDescriptor] = []
    for module in VENDOR_MODULES:
        found.extend(importlib.import_module(module).DESCRIPTORS)
    return tuple(found)


def by_kind() -> dict[str, VendorDescriptor]:
    return {d.kind: d for d in descriptors()}


def by_provider() -> dict[str, VendorDescriptor]:
    return {d.provider: d for d in descriptors()}


def descriptor(kind: str) -> VendorDescriptor:
    """The descriptor of a config kind; KeyError naming the known kinds."""
    try:
        return by_kind()[kind]
    except KeyError:
        raise KeyError(f"unknown account kind {kind!r}; known: {', '.join(by_kind())}") from None


def parse_record(provider: str, record_type: str, item: Mapping[str, Any]) -> Any:
    """One cached vendor object as its vendor's record, parsed by the vendor's own code."""
    return by_provider()[provider].record_parsers[record_type](item)


def binding_vendors() -> dict[str, VendorDescriptor]:
    """Privacy-number vendors by provider name."""
    return {d.provider: d for d in descriptors() if d.bindings is not None}
