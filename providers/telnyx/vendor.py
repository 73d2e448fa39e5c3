"""Telnyx in the vendor registry: one API key, account resources (API v2)."""

from __future__ import annotations

from typing import Any

from providers.accounts import Account
from providers.vendors import ConnectOptions, EmulatorSpec, EndpointRule, VendorDescriptor


def connect(account: Account, options: ConnectOptions) -> Any:
    from providers.telnyx.client import TelnyxClient

    return TelnyxClient(
        account.credentials["api_key"],
        base_url=options.endpoint,
        http_transport=options.http_transport,
        read_only=options.read_only,
        **options.extra,
    )


async def probe(client: Any, account: Account) -> str:
    page = await anext(client.billing_group_pages())
    return f"Telnyx answered: {page.total_results or len(page.items)} billing groups visible"


TELNYX = VendorDescriptor(
    kind="telnyx",
    title="Telnyx",
    short_title="Telnyx",
    credentials=("api_key",),
    connect=connect,
    probe=probe,
    emulator=EmulatorSpec("providers.sandbox.telnyx", "TelnyxSandbox", default_port=4510, base_path="/v2"),
    endpoint=EndpointRule("https://api.telnyx.com/v2", "TELEDECK_TELNYX_BASE_URL"),
    suggested_env={"api_key": "TELNYX_API_KEY"},
)

DESCRIPTORS = (TELNYX,)
