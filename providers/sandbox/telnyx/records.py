"""How the Telnyx emulator's records look: timestamps, derived ids, and the API's view of a record."""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

SEED = 20260105
SCHEMA_VERSION = 2  # 2: access IP ranges (CIDR blocks) kept apart from access IPs


def iso_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def parse_datetime(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def public_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the API shows it: internal keys start with "_"."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def derived_uuid(name: str) -> str:
    """A version-4-shaped UUID computed from `name` (and the seed), never drawn at random."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"{SEED}:{name}".encode()).digest()[:16], version=4))
