"""Alibaba Cloud in the vendor registry: Dypls privacy numbers and CAMS WhatsApp numbers.

Both sign with an AccessKey pair (optionally an STS token). Dypls numbers are mainland numbers
written without +86, and its times are China time (UTC+8).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone
from typing import Any

from providers.accounts import Account
from providers.vendors import (
    BindingRules,
    ConnectOptions,
    EmulatorSpec,
    EndpointRule,
    VendorDescriptor,
)

CHINA_TIME = timezone(timedelta(hours=8), "UTC+08:00")
# Both products sign with the same AccessKey pair (and an optional STS token), which Alibaba's own
# tools read from these variables.
ACCESS_KEY: dict[str, Any] = {
    "credentials": ("access_key_id", "access_key_secret"),
    "optional_credentials": ("security_token",),
    "suggested_env": {
        "access_key_id": "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "access_key_secret": "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "security_token": "ALIBABA_CLOUD_SECURITY_TOKEN",
    },
}


# Dypls receipts (HTTP batch push) are signed by nothing: the receipt URL itself is the secret, so
# its last path segment is a per-account token (`receipt_token`), long enough not to be guessed
# and made only of characters a URL path carries as they are.
RECEIPT_TOKEN_MIN = 16
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def receipt_token_problem(value: str) -> str | None:
    """Why `value` cannot be a receipt token, or None. The message never repeats the value."""
    if len(value) < RECEIPT_TOKEN_MIN:
        return f"at least {RECEIPT_TOKEN_MIN} characters (it is the secret last part of the receipt URL)"
    if not set(value) <= _URL_SAFE:
        return "letters, digits and - . _ ~ only (it is part of the receipt URL's path)"
    return None


def _client_keywords(account: Account, options: ConnectOptions) -> dict[str, Any]:
    return {
        "endpoint": options.endpoint,
        "security_token": account.credentials.get("security_token") or None,
        "http_transport": options.http_transport,
        "read_only": options.read_only,
        "clock": options.clock,
        **options.extra,
    }


def connect_pls(account: Account, options: ConnectOptions) -> Any:
    from providers.aliyun.pls import AliyunBindings

    return AliyunBindings.connect(
        account.credentials["access_key_id"],
        account.credentials["access_key_secret"],
        pool=account.setting("pool_key"),
        account=account.label,
        known_x=account.watch_numbers,
        other_pools=[pool for _, pool in account.watch if pool],
        **_client_keywords(account, options),
    )


def connect_cams(account: Account, options: ConnectOptions) -> Any:
    from providers.aliyun.cams import CamsClient

    return CamsClient(
        account.credentials["access_key_id"],
        account.credentials["access_key_secret"],
        **_client_keywords(account, options),
    )


def parse_whatsapp_number(item: Mapping[str, Any]) -> Any:
    from providers.aliyun.cams import parse_number

    return parse_number(item)


async def probe_cams(client: Any, account: Account) -> str:
    space = account.setting("cust_space_id")
    numbers = await client.query_phone_numbers(space)
    return f"CAMS answered: {len(numbers)} WhatsApp numbers in {space}"


DYPLS = VendorDescriptor(
    kind="aliyun-pls",
    title="Alibaba Cloud Dypls (privacy numbers)",
    short_title="Aliyun",
    provider="aliyun",
    credentials=ACCESS_KEY["credentials"],
    optional_credentials=(*ACCESS_KEY["optional_credentials"], "receipt_token"),
    suggested_env=ACCESS_KEY["suggested_env"],
    credential_rules={"receipt_token": receipt_token_problem},
    connect=connect_pls,
    emulator=EmulatorSpec("providers.sandbox.aliyun_pls", "DyplsSandbox", default_port=4511),
    endpoint=EndpointRule("https://dyplsapi.aliyuncs.com", "TELEDECK_ALIYUN_PLS_ENDPOINT", region="cn-hangzhou"),
    settings=("endpoint", "region", "pool_key", "watch_x"),
    required=("pool_key",),
    bindings=BindingRules(
        modes=("AXB", "AXN", "AXN_EXT"),
        number_pattern=r"1[3-9]\d{9}|0\d{9,11}",
        number_hint="11-digit mainland mobile or 0-prefixed landline, no +86",
        time_zone=CHINA_TIME,
        pool_required=True,
        pool_setting="pool_key",
        pool_label="PoolKey",
    ),
)

CAMS = VendorDescriptor(
    kind="aliyun-cams",
    title="Alibaba Cloud CAMS (WhatsApp numbers)",
    short_title="Aliyun CAMS",
    **ACCESS_KEY,
    connect=connect_cams,
    probe=probe_cams,
    emulator=EmulatorSpec("providers.sandbox.aliyun_cams", "CamsSandbox", default_port=4512),
    endpoint=EndpointRule(
        "https://cams.ap-southeast-1.aliyuncs.com", "TELEDECK_ALIYUN_CAMS_ENDPOINT", region="ap-southeast-1"
    ),
    settings=("endpoint", "region", "cust_space_id"),
    required=("cust_space_id",),
    record_parsers={"whatsapp_number": parse_whatsapp_number},
)

DESCRIPTORS = (DYPLS, CAMS)
