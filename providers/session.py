"""The one interface the UI uses to reach providers: a `ProviderSession` per profile.

It holds the vendor clients of one profile, says whether they talk to the sandbox, and carries
the read-only flag down to every transport, so a change is refused before anything is sent
even if a screen forgot to check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from providers.telnyx.client import TelnyxClient, base_url_from_env

SANDBOX_BASE_URL = "https://sandbox.teledeck.invalid/v2"


@dataclass
class ProviderSession:
    profile: str
    telnyx: TelnyxClient
    sandbox: bool
    read_only: bool
    # What the header shows as the provider endpoint (never a credential).
    endpoint: str = ""

    async def aclose(self) -> None:
        await self.telnyx.aclose()


def sandbox_session(
    *,
    read_only: bool = False,
    handler=None,
    state_dir=None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    page_size: int = 250,
    timeout: httpx.Timeout | None = None,
) -> ProviderSession:
    """A session on the built-in sandbox, in process: no server, no network.

    `handler` lets tests pass their own TelnyxSandbox (faults, seeded state); otherwise state
    lives in the user data dir and persists across runs.
    """
    from providers.sandbox import AsyncInProcessTransport, StateStore, TelnyxSandbox, default_state_dir

    if handler is None:
        directory = state_dir or default_state_dir()
        handler = TelnyxSandbox(store=StateStore(directory / "telnyx.json"))
    transport = http_transport or AsyncInProcessTransport(handler)
    client = TelnyxClient(
        handler.api_key, base_url=SANDBOX_BASE_URL, http_transport=transport, read_only=read_only,
        page_size=page_size, timeout=timeout,
    )
    return ProviderSession(profile="sandbox", telnyx=client, sandbox=True, read_only=read_only, endpoint="built-in sandbox")


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
