"""A made-up privacy-number vendor, "Acme Numbers", registered only by test_vendor_registry.

It is a whole vendor as the registry sees one: a descriptor, a client (a BindingProvider that
keeps its bindings in memory) and an emulator. Nothing else in the repo knows it, so whatever
config, forms, `sandbox serve` and sessions do with it, they learned from the registry.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

from providers.accounts import Account
from providers.bindings import ACTIVE, REMOVED, Binding, BindingChange, BindRequest
from providers.vendors import (
    BindingRules,
    ConnectOptions,
    EmulatorSpec,
    EndpointRule,
    VendorDescriptor,
)


class AcmeEmulator:
    vendor = "acme"
    base_path = ""
    STATE_FILE = "acme.json"

    def __init__(self, store: Any = None, *, clock: Callable[[], float] = time.time, seed_data: bool = True) -> None:
        self.store = store
        self.clock = clock
        self.token = "acme-sandbox-token"

    def session_account(self) -> Account:
        return Account(kind="acme", label="sandbox", credentials={"token": self.token}, watch=(("5550100", ""),))

    def credentials(self) -> list[tuple[str, str]]:
        return [("token", self.token)]

    def reset(self) -> None:
        pass

    def handle(self, request: Any) -> Any:
        from providers.sandbox.http import SandboxResponse

        return SandboxResponse.json_response(200, {"ok": True})


class AcmeBindings:
    """An in-memory BindingProvider: what a real adapter would do over HTTP."""

    provider = "acme"
    modes = ("AXB",)

    def __init__(self, token: str, *, account: str, endpoint: str, read_only: bool, transport: Any) -> None:
        self.token, self.account, self.endpoint, self.read_only, self.transport = (
            token,
            account,
            endpoint,
            read_only,
            transport,
        )
        self.bound: dict[str, Binding] = {}
        self.closed = False

    async def bind(self, request: BindRequest) -> Binding:
        binding = Binding(
            "acme", request.mode, f"acme-{len(self.bound) + 1}", request.x or "5550100", request.a, request.b
        )
        self.bound[binding.subscription_id] = binding
        return binding

    async def update(self, binding: Binding, change: BindingChange) -> Binding:
        return binding

    async def unbind(self, binding: Binding) -> None:
        self.bound.pop(binding.subscription_id, None)

    async def refresh(self, binding: Binding) -> Binding:
        found = self.bound.get(binding.subscription_id)
        return found if found is not None else dataclasses.replace(binding, status=REMOVED)

    async def lookup(self, *, x: str = "", subscription_id: str = "", pool: str = "") -> list[Binding]:
        return [b for b in self.bound.values() if b.x == x or b.subscription_id == subscription_id]

    async def find_after_timeout(self, request: BindRequest) -> list[Binding]:
        return [b for b in self.bound.values() if (b.a, b.b) == (request.a, request.b) and b.status == ACTIVE]

    async def aclose(self) -> None:
        self.closed = True


def connect(account: Account, options: ConnectOptions) -> AcmeBindings:
    return AcmeBindings(
        account.credentials["token"],
        account=account.label,
        endpoint=options.endpoint,
        read_only=options.read_only,
        transport=options.http_transport,
    )


ACME = VendorDescriptor(
    kind="acme",
    title="Acme Numbers (privacy numbers)",
    short_title="Acme",
    provider="acme",
    credentials=("token",),
    connect=connect,
    emulator=EmulatorSpec("tests.unit.fake_vendor", "AcmeEmulator", default_port=4599),
    endpoint=EndpointRule("https://api.acme.invalid", "TELEDECK_ACME_ENDPOINT"),
    settings=("endpoint", "watch_x"),
    suggested_env={"token": "ACME_TOKEN"},
    bindings=BindingRules(modes=("AXB",), number_pattern=r"555\d{4}", number_hint="555 and four digits", time_zone=UTC),
)

DESCRIPTORS = (ACME,)
