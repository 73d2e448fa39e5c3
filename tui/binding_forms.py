"""Form fields, validation and formatting for privacy-number bindings (vendor-aware).

Phone formats differ per provider (from the vendor references): Alibaba Dypls takes mainland
numbers without a country prefix (11-digit mobiles, or landlines with an area code); Huawei
PrivateNumber takes E.164 with +86; Volcengine takes 11-digit mainland numbers. Expiry is typed
in the user's local time or as a relative duration, and checked against each vendor's range.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.bindings import BindingChange, BindRequest
from tui.resources import FieldSpec

PHONE_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "aliyun": (re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$"), "11-digit mainland mobile or 0-prefixed landline, no +86"),
    "huawei": (re.compile(r"^\+86(1[3-9]\d{9}|[2-9]\d{8,10})$"), "E.164 with +86, e.g. +8613800000001"),
    "volcengine": (re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$"), "11-digit mainland number, no +86"),
}

# The latest expiry each vendor accepts (Volcengine: before 2038).
MAX_EXPIRY = {"volcengine": datetime(2038, 1, 1, tzinfo=UTC)}
MIN_AHEAD = timedelta(minutes=1)

MODES_BY_PROVIDER = {"aliyun": ("AXB", "AXN", "AXN_EXT"), "huawei": ("AXB", "AX"), "volcengine": ("AXB", "AXN")}
POOL_REQUIRED = {"aliyun", "volcengine"}

_RELATIVE = re.compile(r"^\+(\d+)\s*([mhd])$")


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """'+30m', '+2h', '+7d', or 'YYYY-MM-DD HH:MM[:SS]' in the local time zone -> aware UTC."""
    now = now or datetime.now(UTC)
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now + {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.astimezone().astimezone(UTC)  # naive = the user's local time
    raise ValueError("use +30m, +2h, +7d, or YYYY-MM-DD HH:MM (your local time)")


def expiry_problem(text: str, provider: str, now: datetime | None = None) -> str | None:
    now = now or datetime.now(UTC)
    try:
        when = parse_expiry(text, now)
    except ValueError as error:
        return str(error)
    if when < now + MIN_AHEAD:
        return "must be more than a minute from now"
    limit = MAX_EXPIRY.get(provider)
    if limit and when >= limit:
        return f"{provider} accepts expiry times before {limit:%Y-%m-%d}"
    return None


def phone_problem(value: str, provider: str) -> str | None:
    rule = PHONE_RULES.get(provider)
    if rule and not rule[0].match(value.strip()):
        return f"not a {provider} number: {rule[1]}"
    return None


def _phone(name: str, label: str, *, required: bool, visible=None) -> FieldSpec:
    return FieldSpec(
        name,
        label,
        required=required,
        visible=visible,
        cross_check=lambda value, values: phone_problem(value, values.get("provider", "")) if value.strip() else None,
    )


def bind_fields(providers: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    def has_b(values: Mapping[str, str]) -> bool:
        return values.get("mode") == "AXB"

    return (
        FieldSpec("provider", "Provider", kind="choice", choices=providers, default=providers[0], required=True),
        FieldSpec(
            "mode",
            "Mode",
            kind="choice",
            choices=("AXB", "AXN", "AXN_EXT", "AX"),
            default="AXB",
            required=True,
            cross_check=lambda value, values: (
                None
                if value in MODES_BY_PROVIDER.get(values.get("provider", ""), ())
                else f"{values.get('provider')} supports {', '.join(MODES_BY_PROVIDER.get(values.get('provider', ''), ()))}"
            ),
        ),
        _phone("a", "A number", required=True),
        _phone("b", "B number", required=True, visible=has_b),
        _phone("x", "X number (optional: a specific one)", required=False),
        FieldSpec(
            "pool",
            "Pool (Aliyun PoolKey / Volcengine NumberPoolNo)",
            required=False,
            cross_check=lambda value, values: (
                "required for this provider" if not value.strip() and values.get("provider") in POOL_REQUIRED else None
            ),
        ),
        FieldSpec("area_code", "City / area code for X (optional)", required=False),
        FieldSpec(
            "expires",
            "Expires",
            required=True,
            default="+2h",
            placeholder="+2h, +7d or 2026-12-01 18:00",
            cross_check=lambda value, values: expiry_problem(value, values.get("provider", "")),
        ),
        FieldSpec("recording", "Record calls", kind="bool", default="false"),
        FieldSpec("user_data", "User data / out id (optional)", required=False),
    )


def bind_request(values: Mapping[str, str]) -> BindRequest:
    return BindRequest(
        mode=values["mode"],
        a=values["a"].strip(),
        b=values.get("b", "").strip() if values["mode"] == "AXB" else "",
        x=values.get("x", "").strip(),
        pool=values.get("pool", "").strip(),
        area_code=values.get("area_code", "").strip(),
        expires_at=parse_expiry(values["expires"]),
        recording=values.get("recording") == "true",
        user_data=values.get("user_data", "").strip(),
    )


def modify_fields(provider: str, mode: str) -> tuple[FieldSpec, ...]:
    def check_phone(value: str, values: Mapping[str, str]) -> str | None:
        return phone_problem(value, provider) if value.strip() else None

    fields = [
        FieldSpec(
            "expires",
            "New expiry (empty: unchanged)",
            placeholder="+2h, +7d or 2026-12-01 18:00",
            cross_check=lambda value, values: expiry_problem(value, provider) if value.strip() else None,
        ),
        FieldSpec("a", "New A number (empty: unchanged)", cross_check=check_phone),
    ]
    if mode == "AXB":
        fields.append(FieldSpec("b", "New B number (empty: unchanged)", cross_check=check_phone))
    fields.append(
        FieldSpec("recording", "Record calls", kind="choice", choices=("unchanged", "on", "off"), default="unchanged")
    )
    return tuple(fields)


def binding_change(values: Mapping[str, str]) -> BindingChange:
    recording = {"on": True, "off": False}.get(values.get("recording", "unchanged"))
    return BindingChange(
        expires_at=parse_expiry(values["expires"]) if values.get("expires", "").strip() else None,
        a=values.get("a", "").strip() or None,
        b=values.get("b", "").strip() or None,
        recording=recording,
    )


def import_fields(providers: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    return (
        FieldSpec("provider", "Provider", kind="choice", choices=providers, default=providers[0], required=True),
        FieldSpec(
            "x",
            "X number",
            cross_check=lambda value, values: (
                phone_problem(value, values.get("provider", ""))
                if value.strip()
                else (None if values.get("subscription_id", "").strip() else "give an X number or a subscription id")
            ),
        ),
        FieldSpec("subscription_id", "or subscription id"),
        FieldSpec("pool", "Pool (if the provider needs it)"),
    )


def countdown(seconds: float | None) -> str:
    """'1d 02:03:04', '12:03', 'expired 3m ago'."""
    if seconds is None:
        return "—"
    if seconds <= 0:
        ago = -int(seconds)
        if ago < 3600:
            return f"expired {ago // 60}m ago"
        if ago < 86400:
            return f"expired {ago // 3600}h ago"
        return f"expired {ago // 86400}d ago"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def local_time(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M %Z") if when else ""


def short_local_time(when: datetime | None) -> str:
    """'MM-DD HH:MM' in the user's time zone (the detail view has the full date and zone)."""
    return when.astimezone().strftime("%m-%d %H:%M") if when else ""


def describe(binding: Any) -> str:
    ext = f" ext {binding.extension}" if binding.extension else ""
    return f"{binding.provider} {binding.mode} binding X {binding.x}{ext} (A {binding.a}{', B ' + binding.b if binding.b else ''})"
