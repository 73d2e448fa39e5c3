"""Local emulators of the vendor APIs teledeck talks to, over a shared JSON state store.

Use one in process (`httpx.AsyncClient(transport=AsyncInProcessTransport(TelnyxSandbox()))`) or on
loopback (`serve(TelnyxSandbox())`, or `teledeck sandbox serve` from a shell).

Every emulator is a `base.Emulator`: one request pipeline (control endpoints, authentication, rate
and flow control, injected faults, dispatch, the vendor's error envelope) with hooks the vendor
fills in. Faults come from `faults`, rate limits from `limits`, HTTP plumbing from `http`, saved
state from `state`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.sandbox.http import AsyncInProcessTransport, SyncInProcessTransport
    from providers.sandbox.loopback import serve
    from providers.sandbox.state import StateStore, default_state_dir
    from providers.sandbox.telnyx import DEFAULT_TELNYX_API_KEY, TelnyxSandbox

# Each name is imported from its module on first use (PEP 562): importing one submodule (the
# state store, the seed data) does not import httpx and the Telnyx emulator with it.
_EXPORTS = {
    "AsyncInProcessTransport": "providers.sandbox.http",
    "SyncInProcessTransport": "providers.sandbox.http",
    "serve": "providers.sandbox.loopback",
    "StateStore": "providers.sandbox.state",
    "default_state_dir": "providers.sandbox.state",
    "DEFAULT_TELNYX_API_KEY": "providers.sandbox.telnyx",
    "TelnyxSandbox": "providers.sandbox.telnyx",
}

__all__ = [
    "DEFAULT_TELNYX_API_KEY",
    "AsyncInProcessTransport",
    "StateStore",
    "SyncInProcessTransport",
    "TelnyxSandbox",
    "default_state_dir",
    "serve",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
