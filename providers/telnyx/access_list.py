"""Typed records of the Telnyx access list: access IPs and access IP ranges.

Apart from the other Telnyx records (providers.telnyx.models, which re-exports these) because the
allowlist is the screen teledeck opens on: its cached rows are parsed before the first frame, and
making a record class costs about a millisecond (dataclasses compile each class's methods), so
that frame waits for these three classes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.records import ApiRecord


@dataclass(frozen=True)
class AllowlistEntry(ApiRecord):
    """What an access IP and an access IP range share: Telnyx's sync status, the label, who added it."""

    id: str
    status: str
    description: str
    user_id: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class AccessIp(AllowlistEntry):
    """One address on the access list (`/access_ip_address`)."""

    ip_address: str
    source: str


@dataclass(frozen=True)
class AccessIpRange(AllowlistEntry):
    """A CIDR block on the access list (`/access_ip_ranges`); single addresses are `AccessIp`s."""

    cidr_block: str
