"""Volcengine VMS in the vendor registry: privacy numbers (AXB, AXN) in number pools.

Numbers are 11-digit mainland numbers without +86; ExpireTime must be before 2038-01-01 00:00
Beijing time (UTC+8). The endpoint is a bare origin: the signature covers the path.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from providers.accounts import Account
from providers.vendors import BindingRules, ConnectOptions, EmulatorSpec, EndpointRule, VendorDescriptor

BEIJING_TIME = timezone(timedelta(hours=8), "UTC+08:00")


def connect(account: Account, options: ConnectOptions) -> Any:
    from providers.volcengine.vms import VmsClient, VolcBindings

    client = VmsClient(
        account.credentials["access_key_id"],
        account.credentials["secret_access_key"],
        endpoint=options.endpoint,
        region=options.region,
        http_transport=options.http_transport,
        read_only=options.read_only,
        clock=options.clock,
        **options.extra,
    )
    return VolcBindings(
        client, account=account.label, default_pool=account.setting("number_pool_no"), clock=options.clock
    )


async def probe(provider: Any, account: Account) -> str:
    pools = await provider.client.number_pool_list()
    return f"Volcengine answered: {len(getattr(pools, 'items', pools))} number pool(s)"


VOLCENGINE = VendorDescriptor(
    kind="volcengine",
    title="Volcengine VMS (privacy numbers)",
    short_title="Volcengine",
    credentials=("access_key_id", "secret_access_key"),
    # The console's AuthToken (基础设置, 10-20 characters) that signs the callbacks a receiver
    # takes (providers/volcengine/pushes.py); only a receiver needs it.
    optional_credentials=("callback_auth_token",),
    connect=connect,
    probe=probe,
    emulator=EmulatorSpec("providers.sandbox.volcengine", "VolcSandbox", default_port=4514),
    endpoint=EndpointRule(
        "https://cloud-vms.volcengineapi.com", "TELEDECK_VOLC_ENDPOINT", bare_origin=True, region="cn-north-1"
    ),
    settings=("endpoint", "region", "number_pool_no", "watch_x"),
    required=("number_pool_no",),
    suggested_env={"access_key_id": "VOLC_ACCESSKEY", "secret_access_key": "VOLC_SECRETKEY"},
    bindings=BindingRules(
        modes=("AXB", "AXN"),
        number_pattern=r"1[3-9]\d{9}|0\d{9,11}",
        number_hint="11-digit mainland number, no +86",
        time_zone=BEIJING_TIME,
        expires_before=datetime(2038, 1, 1, tzinfo=BEIJING_TIME),
        pool_required=True,
        pool_setting="number_pool_no",
        pool_label="NumberPoolNo",
    ),
)

DESCRIPTORS = (VOLCENGINE,)
