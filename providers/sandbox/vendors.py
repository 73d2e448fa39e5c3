"""The registry of vendor emulators `teledeck sandbox serve` knows, imported lazily by name.

Every emulator class follows one contract (see TelnyxSandbox for the reference implementation):
- `vendor` (the name below), `base_path` (URL prefix it serves under, "" for root), and
  `STATE_FILE` (its file name inside the sandbox state directory);
- `__init__(store: StateStore | None = None, *, clock=time.time, seed_data=True)`: in-memory when
  store is None; credentials and seeded identifiers from the TELEDECK_SANDBOX_* environment or
  public defaults;
- `handle(req: SandboxRequest) -> SandboxResponse`, thread-safe; optional `delay_for` and
  `connect_fails` hooks and a `faults` FaultInjector;
- `credentials() -> list[tuple[str, str]]`: the (label, value) pairs `serve` prints, never
  showing a secret that came from the environment in full;
- `reset()`: back to the seed data.
"""

from __future__ import annotations

import importlib

VENDORS: dict[str, tuple[str, str]] = {
    "telnyx": ("providers.sandbox.telnyx", "TelnyxSandbox"),
    "aliyun-pls": ("providers.sandbox.aliyun_pls", "DyplsSandbox"),
    "aliyun-cams": ("providers.sandbox.aliyun_cams", "CamsSandbox"),
    "huawei": ("providers.sandbox.huawei", "HuaweiSandbox"),
    "volcengine": ("providers.sandbox.volcengine", "VolcSandbox"),
}


def load(name: str) -> type:
    module, cls = VENDORS[name]
    return getattr(importlib.import_module(module), cls)


def available() -> list[str]:
    """The vendors whose emulator is present in this build."""
    names = []
    for name, (module, _) in VENDORS.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        names.append(name)
    return names
