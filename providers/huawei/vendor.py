"""Huawei Cloud PrivateNumber in the vendor registry: an AXB app and, optionally, AX, AXE and AXYB apps.

Every Huawei app has one mode, so each mode is its own app with its own key pair. Numbers are
E.164 with +86; an AXB or AXYB binding lives at most 90 days (`duration` 60..7776000 s), an AXE
one at most 720 hours (`bindExpiredTime`); AX bindings have no lifetime (only a per-call
`maxDuration`), so the forms ask no expiry for them.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from providers.accounts import Account
from providers.vendors import (
    BindingRules,
    ConnectOptions,
    EmulatorSpec,
    EndpointRule,
    VendorDescriptor,
)


def connect(account: Account, options: ConnectOptions) -> Any:
    from providers.huawei.privatenumber import HuaweiBindings

    credentials = account.credentials
    return HuaweiBindings.connect(
        credentials.get("app_key", ""),
        credentials.get("app_secret", ""),
        **{name: credentials.get(name, "") for name in OPTIONAL_APPS},
        account=account.label,
        known_x=account.watch_numbers,
        clock=options.clock,
        base_url=options.endpoint,
        http_transport=options.http_transport,
        read_only=options.read_only,
        **options.extra,
    )


# The optional apps' key pairs (the AXB app's are `app_key` / `app_secret`).
OPTIONAL_APPS = tuple(f"{mode}_app_{part}" for mode in ("ax", "axe", "axyb") for part in ("key", "secret"))

HUAWEI = VendorDescriptor(
    kind="huawei",
    title="Huawei Cloud PrivateNumber",
    short_title="Huawei",
    credentials=("app_key", "app_secret"),
    # The AX, AXE and AXYB modes are separate applications, each with its own key pair.
    optional_credentials=OPTIONAL_APPS,
    connect=connect,
    emulator=EmulatorSpec("providers.sandbox.huawei", "HuaweiSandbox", default_port=4513),
    endpoint=EndpointRule("https://rtcpns.cn-north-1.myhuaweicloud.com", "TELEDECK_HUAWEI_BASE_URL"),
    settings=("endpoint", "watch_x"),
    bindings=BindingRules(
        modes=("AXB", "AX", "AXE", "AXYB"),
        # AX has no modify here (its modify changes only per-call settings): unbind and bind again.
        modifiable_modes=("AXB", "AXE", "AXYB"),
        expiry_modes=("AXB", "AXE", "AXYB"),  # AX has no binding lifetime
        chosen_x_modes=("AXB", "AX", "AXE"),  # AXYB's X and Y are always the platform's pick
        chosen_extension_modes=("AXE",),
        # AXE modify: lifetime and recording (not A); AXYB has no modify: a new B replaces the old.
        changeable={"AXE": ("expires_at", "recording"), "AXYB": ("b",)},
        number_pattern=r"\+86(1[3-9]\d{9}|[2-9]\d{8,10})",
        number_hint="E.164 with +86, e.g. +8613800000001",
        time_zone=UTC,
        max_lifetime=timedelta(seconds=7_776_000),
    ),
)

DESCRIPTORS = (HUAWEI,)
