"""One provider account as the vendor registry connects it: plain values, no config files.

tui/config.py reads profiles and resolves credentials; the sandbox emulators describe their own
accounts. Both hand the session factory an `Account`, so providers/ never reads a config file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Account:
    kind: str  # a vendor descriptor's kind, e.g. "aliyun-pls"
    label: str  # the profile's name for this account
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)  # field -> value, never logged
    endpoint: str = ""  # "" = the endpoint variable, else the vendor's default
    region: str = ""  # "" = the vendor's default region
    # Vendor settings by name (pool_key, number_pool_no, cust_space_id); "" or absent = unset.
    settings: Mapping[str, str] = field(default_factory=dict)
    # X numbers whose bindings a refresh looks up, each with the pool to look in ("" = none).
    watch: tuple[tuple[str, str], ...] = ()

    def setting(self, name: str) -> str:
        return self.settings.get(name, "").strip()

    @property
    def watch_numbers(self) -> tuple[str, ...]:
        return tuple(x for x, _ in self.watch)
