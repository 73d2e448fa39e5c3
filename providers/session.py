"""The one interface the UI uses to reach providers: a `ProviderSession` per profile.

It holds the vendor clients of one profile, says whether they talk to the sandbox, and carries
the read-only flag down to every transport, so a change is refused before anything is sent
even if a screen forgot to check.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx

from providers.telnyx.client import TelnyxClient, base_url_from_env

SANDBOX_BASE_URL = "https://sandbox.teledeck.invalid/v2"
SANDBOX_VENDOR_URL = "https://sandbox.teledeck.invalid"


@dataclass
class ProviderSession:
    profile: str
    telnyx: TelnyxClient | None  # None when the profile has no Telnyx account
    sandbox: bool
    read_only: bool
    # What the header shows as the provider endpoint (never a credential).
    endpoint: str = ""
    # Privacy-number binding accounts by provider name ("aliyun", "huawei", "volcengine").
    binding_providers: dict[str, Any] = field(default_factory=dict)
    # Alibaba CAMS (WhatsApp Business numbers) and the CustSpaceId it lists.
    cams: Any = None
    cams_space: str = ""
    # X numbers whose bindings a refresh looks up and imports, by provider (profile "watch_x");
    # each entry is an X number, or (X number, pool) where the provider looks up per pool.
    watch_x: dict[str, tuple] = field(default_factory=dict)
    # The local ledger of bindings (providers.ledger.BindingLedger), opened on first use.
    ledger_path: Any = None
    # The wall clock (epoch seconds) for countdowns and signing; tests fix it.
    clock: Callable[[], float] = time.time
    # `--offline`: every client refuses to send; screens show the cache only.
    offline: bool = False
    # providers.cache.ResultCache of list results, or None for no caching.
    cache: Any = None
    # Clients built on first use (the sandbox defers its vendor stacks so start-up stays fast).
    pending: list[Callable[[ProviderSession], None]] = field(default_factory=list)
    _ledger: Any = None

    @property
    def ledger(self):
        if self._ledger is None:
            from datetime import datetime

            from providers.ledger import BindingLedger, default_ledger_path

            # The session's clock, so "expired" in the ledger agrees with the countdown on screen.
            self._ledger = BindingLedger(
                self.ledger_path if self.ledger_path is not None else default_ledger_path(),
                clock=lambda: datetime.fromtimestamp(self.clock(), UTC),
            )
        return self._ledger

    def load_pending(self) -> None:
        while self.pending:
            self.pending.pop(0)(self)

    def has(self, provider: str) -> bool:
        """Whether this profile has an account for `provider` (a ResourceSpec.provider name)."""
        self.load_pending()
        if provider == "telnyx":
            return self.telnyx is not None
        if provider == "aliyun-cams":
            return self.cams is not None
        return provider in self.binding_providers

    @property
    def read_only_reason(self) -> str:
        return "offline" if self.offline else "read-only"

    async def aclose(self) -> None:
        if self.telnyx is not None:
            await self.telnyx.aclose()
        if self.cams is not None:
            await self.cams.aclose()
        for provider in self.binding_providers.values():
            await provider.aclose()


def sandbox_session(
    *,
    read_only: bool = False,
    handler=None,
    state_dir=None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    page_size: int = 250,
    timeout: httpx.Timeout | None = None,
    binding_handlers: dict | None = None,
    ledger_path=None,
    clock: Callable[[], float] = time.time,
) -> ProviderSession:
    """A session on the built-in sandbox, in process: no server, no network.

    `handler` lets tests pass their own TelnyxSandbox (faults, seeded state); otherwise state
    lives in the user data dir and persists across runs.
    """
    from providers.sandbox import AsyncInProcessTransport, StateStore, TelnyxSandbox, default_state_dir

    if handler is None:
        handler = TelnyxSandbox(store=StateStore((state_dir or default_state_dir()) / "telnyx.json"))
    transport = http_transport or AsyncInProcessTransport(handler)
    client = TelnyxClient(
        handler.api_key,
        base_url=SANDBOX_BASE_URL,
        http_transport=transport,
        read_only=read_only,
        page_size=page_size,
        timeout=timeout,
    )
    directory = state_dir or default_state_dir()
    handlers = binding_handlers or {}

    def load_bindings(session: ProviderSession) -> None:
        providers, watch = _sandbox_binding_providers(
            directory, handlers, read_only=read_only, timeout=timeout, clock=clock
        )
        session.binding_providers.update(providers)
        session.watch_x.update(watch)

    def load_cams(session: ProviderSession) -> None:
        from providers.aliyun.cams import CamsClient
        from providers.sandbox.aliyun_cams import CamsSandbox

        emulator = handlers.get("aliyun-cams") or CamsSandbox(StateStore(directory / CamsSandbox.STATE_FILE))
        session.cams = CamsClient(
            emulator.access_key_id,
            emulator.access_key_secret,
            endpoint=SANDBOX_VENDOR_URL,
            http_transport=AsyncInProcessTransport(emulator),
            read_only=read_only,
            clock=clock,
        )
        session.cams_space = emulator.cust_space_id

    return ProviderSession(
        profile="sandbox",
        telnyx=client,
        sandbox=True,
        read_only=read_only,
        endpoint="built-in sandbox",
        clock=clock,
        pending=[load_bindings, load_cams],
        ledger_path=ledger_path if ledger_path is not None else directory / "bindings.sqlite3",
    )


def _sandbox_binding_providers(directory, handlers: dict, *, read_only: bool, timeout=None, clock=time.time):
    """The binding adapters of the built-in profile, each talking in process to its emulator.

    The sandbox profile watches every seeded X number, as a real profile lists its X numbers in
    `watch_x`, so a refresh discovers the bindings that already exist there.
    """
    from providers.sandbox import AsyncInProcessTransport, StateStore

    providers: dict[str, Any] = {}
    watch: dict[str, tuple[str, ...]] = {}
    options: dict[str, Any] = {"read_only": read_only, "clock": clock}
    if timeout is not None:
        options["timeout"] = timeout

    from providers.aliyun.pls import AliyunBindings
    from providers.sandbox.aliyun_pls import DyplsSandbox

    aliyun = handlers.get("aliyun") or DyplsSandbox(StateStore(directory / DyplsSandbox.STATE_FILE))
    aliyun_x = tuple(aliyun.pool_numbers())
    providers["aliyun"] = AliyunBindings.connect(
        aliyun.access_key_id,
        aliyun.access_key_secret,
        pool=aliyun.pool_key,
        account="sandbox",
        known_x=aliyun_x,
        endpoint=SANDBOX_VENDOR_URL,
        http_transport=AsyncInProcessTransport(aliyun),
        **options,
    )
    watch["aliyun"] = tuple((x, aliyun.pool_key) for x in aliyun_x)

    from providers.huawei.privatenumber import HuaweiBindings
    from providers.sandbox.huawei import HuaweiSandbox

    huawei = handlers.get("huawei") or HuaweiSandbox(StateStore(directory / HuaweiSandbox.STATE_FILE))
    axb_x = tuple(huawei.state["numbers"]["AXB"])
    providers["huawei"] = HuaweiBindings.connect(
        huawei.app_key,
        huawei.app_secret,
        ax_app_key=huawei.ax_app_key,
        ax_app_secret=huawei.ax_app_secret,
        account="sandbox",
        known_x=axb_x,
        base_url=SANDBOX_VENDOR_URL,
        http_transport=AsyncInProcessTransport(huawei),
        **options,
    )
    watch["huawei"] = axb_x + tuple(huawei.state["numbers"]["AX"])

    from providers.sandbox.volcengine import VolcSandbox
    from providers.volcengine.vms import VmsClient, VolcBindings

    volc = handlers.get("volcengine") or VolcSandbox(StateStore(directory / VolcSandbox.STATE_FILE))
    vms = VmsClient(
        volc.access_key,
        volc.secret_key,
        endpoint=SANDBOX_VENDOR_URL,
        region=volc.region,
        http_transport=AsyncInProcessTransport(volc),
        **options,
    )
    providers["volcengine"] = VolcBindings(vms, account="sandbox", default_pool=volc.number_pool_no, clock=clock)
    state = volc.store.data["volcengine"]
    watch["volcengine"] = tuple((n["Number"], n["NumberPoolNo"]) for n in state["numbers"])
    return providers, watch


def environment_session(*, read_only: bool = False) -> ProviderSession | None:
    """A Telnyx session from TELNYX_API_KEY (as the official SDK reads it), or None."""
    api_key = os.environ.get("TELNYX_API_KEY", "").strip()
    if not api_key:
        return None
    base_url = base_url_from_env()
    client = TelnyxClient(api_key, base_url=base_url, read_only=read_only)
    return ProviderSession(profile="env", telnyx=client, sandbox=False, read_only=read_only, endpoint=base_url)


def open_session(*, sandbox: bool = False, read_only: bool = False) -> ProviderSession:
    """The session `teledeck` starts with: the environment's Telnyx key unless told to use the sandbox."""
    if not sandbox:
        session = environment_session(read_only=read_only)
        if session is not None:
            return session
    return sandbox_session(read_only=read_only)
