"""Huawei Cloud PrivateNumber in the vendor registry: an AXB app and, optionally, an AX app.

Numbers are E.164 with +86; an AXB binding lives at most 90 days (`duration` 60..7776000 s).
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
        ax_app_key=credentials.get("ax_app_key", ""),
        ax_app_secret=credentials.get("ax_app_secret", ""),
        account=account.label,
        known_x=account.watch_numbers,
        clock=options.clock,
        base_url=options.endpoint,
        http_transport=options.http_transport,
        read_only=options.read_only,
        **options.extra,
    )


HUAWEI = VendorDescriptor(
    kind="huawei",
    title="Huawei Cloud PrivateNumber",
    short_title="Huawei",
    credentials=("app_key", "app_secret"),
    # The AX mode is a separate application with its own key pair.
    optional_credentials=("ax_app_key", "ax_app_secret"),
    connect=connect,
    emulator=EmulatorSpec("providers.sandbox.huawei", "HuaweiSandbox", default_port=4513),
    endpoint=EndpointRule("https://rtcpns.cn-north-1.myhuaweicloud.com", "TELEDECK_HUAWEI_BASE_URL"),
    settings=("endpoint", "watch_x"),
    bindings=BindingRules(
        modes=("AXB", "AX"),
        modifiable_modes=("AXB",),  # AX has no modify: unbind and bind again
        number_pattern=r"\+86(1[3-9]\d{9}|[2-9]\d{8,10})",
        number_hint="E.164 with +86, e.g. +8613800000001",
        time_zone=UTC,
        max_lifetime=timedelta(seconds=7_776_000),
    ),
)

DESCRIPTORS = (HUAWEI,)
