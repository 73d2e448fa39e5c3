"""Local emulators of the vendor APIs teledeck talks to, over a shared JSON state store.

Use one in process (`httpx.AsyncClient(transport=AsyncInProcessTransport(TelnyxSandbox()))`) or on
loopback (`serve(TelnyxSandbox())`, or `teledeck sandbox serve` from a shell).

Every emulator is a `base.Emulator`: one request pipeline (control endpoints, authentication, rate
and flow control, injected faults, dispatch, the vendor's error envelope) with hooks the vendor
fills in. Faults come from `faults`, rate limits from `limits`, HTTP plumbing from `http`, saved
state from `state`.
"""

from providers.sandbox.http import AsyncInProcessTransport, SyncInProcessTransport, serve
from providers.sandbox.state import StateStore, default_state_dir
from providers.sandbox.telnyx import DEFAULT_TELNYX_API_KEY, TelnyxSandbox

__all__ = [
    "DEFAULT_TELNYX_API_KEY",
    "AsyncInProcessTransport",
    "StateStore",
    "SyncInProcessTransport",
    "TelnyxSandbox",
    "default_state_dir",
    "serve",
]
