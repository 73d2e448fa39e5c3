"""Form fields, validation and formatting for privacy-number bindings (vendor-aware).

Phone formats differ per provider (from the vendor references): Alibaba Dypls takes mainland
numbers without a country prefix (11-digit mobiles, or landlines with an area code); Huawei
PrivateNumber takes E.164 with +86; Volcengine takes 11-digit mainland numbers. Expiry is typed
in the user's local time or as a relative duration, and checked against each vendor's range.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.bindings import B_MODES, MODES, BindingChange, BindRequest, NumberPool, best_pool
from providers.errors import ProviderError
from providers.vendors import BindingRules, binding_vendors
from tui.resources import FieldSpec, Suggestions
from tui.wording import with_article

# A provider's pools (its account's default first), by provider name; may raise ProviderError.
ListPools = Callable[[str], Awaitable[list[NumberPool]]]

MIN_AHEAD = timedelta(minutes=1)  # when no vendor is chosen yet


def rules(provider: str) -> BindingRules | None:
    """The binding rules of a privacy-number vendor (providers/vendors.py), by provider name."""
    vendor = binding_vendors().get(provider)
    return vendor.bindings if vendor is not None else None


def _title(provider: str) -> str:
    """The vendor's short name for messages ("Aliyun"), else the provider name as given."""
    vendor = binding_vendors().get(provider)
    return vendor.short_title if vendor is not None else provider


def takes_expiry(provider: str, mode: str) -> bool:
    """Whether a `mode` binding of `provider` has a lifetime the form sets (Huawei AX has none)."""
    found = rules(provider)
    return found is None or found.takes_expiry(mode)


def _mode_rule(rule: str):
    """A field's `visible=`: the chosen provider's BindingRules method `rule` says yes for the mode."""

    def visible(values: Mapping[str, str]) -> bool:
        found = rules(values.get("provider", ""))
        return found is None or bool(getattr(found, rule)(values.get("mode", "")))

    return visible


def _offers_extension(values: Mapping[str, str]) -> bool:
    found = rules(values.get("provider", ""))
    return found is not None and values.get("mode", "") in found.chosen_extension_modes


def supported_modes(provider: str) -> tuple[str, ...]:
    found = rules(provider)
    return found.modes if found is not None else ()


_RELATIVE = re.compile(r"^\+([0-9]{1,9})\s*([mhd])$")
EXPIRY_FORMAT = "use +30m, +2h, +7d, or YYYY-MM-DD HH:MM (your local time)"


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """'+30m', '+2h', '+7d', or 'YYYY-MM-DD HH:MM[:SS]' in the local time zone -> aware UTC.

    Anything else, or a time the calendar cannot hold ('+999999999d', year 1 in a zone east of
    UTC), is a ValueError saying what to type: never another exception."""
    now = now or datetime.now(UTC)
    text = text.strip()
    try:
        match = _RELATIVE.match(text)
        if match:
            amount, unit = int(match.group(1)), match.group(2)
            step = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[unit]
            return now + step * amount
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                local = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return local.astimezone().astimezone(UTC)  # naive = the user's local time
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"out of range: {EXPIRY_FORMAT}") from None
    raise ValueError(EXPIRY_FORMAT)


def expiry_problem(text: str, provider: str, now: datetime | None = None) -> str | None:
    now = now or datetime.now(UTC)
    try:
        when = parse_expiry(text, now)
    except ValueError as error:
        return str(error)
    found = rules(provider)
    if found is not None:
        return found.expiry_problem(when, now)
    return "must be more than a minute from now" if when < now + MIN_AHEAD else None


def phone_problem(value: str, provider: str) -> str | None:
    found = rules(provider)
    problem = found.number_problem(value) if found is not None else None
    return f"not {with_article(_title(provider))} number: {problem}" if problem else None


def _phone(name: str, label: str, *, required: bool, visible=None) -> FieldSpec:
    return FieldSpec(
        name,
        label,
        required=required,
        visible=visible,
        cross_check=lambda value, values: phone_problem(value, values.get("provider", "")) if value.strip() else None,
    )


def has_pools(provider: str) -> bool:
    """Whether binds on `provider` draw X from a pool (Huawei draws it by area code)."""
    found = rules(provider)
    return found is not None and bool(found.pool_setting)


class PoolSuggestions:
    """The bind form's Pool field: the pools each provider lists, fetched once per form, offered
    for the chosen mode (the account's default first), and a pool of another mode refused at the
    field before anything is sent."""

    def __init__(self, list_pools: ListPools | None, defaults: Mapping[str, str]) -> None:
        self.list_pools = list_pools
        self.defaults = dict(defaults)
        self.listed: dict[str, list[NumberPool]] = {}

    async def suggest(self, values: Mapping[str, str]) -> Suggestions:
        provider, mode = values.get("provider", ""), values.get("mode", "")
        default = self.defaults.get(provider, "")
        found = rules(provider)
        if found is None or not has_pools(provider):
            return Suggestions()
        label = found.pool_label
        if provider not in self.listed and self.list_pools is not None:
            try:
                self.listed[provider] = await self.list_pools(provider)
            except ProviderError as error:
                shown = ((default, f"{default} · the account's {label}"),) if default else ()
                return Suggestions(shown, note=f"could not list pools: {error.summary()}")
        pools = self.listed.get(provider, [])
        if not pools and default:
            pools = [NumberPool(default, source=f"the account's {label}")]
        first = best_pool(pools, mode, default)
        fitting = sorted((p for p in pools if p.serves(mode)), key=lambda p: p.pool != first)
        if not fitting:
            return Suggestions(note=f"no pool listed serves {mode}: {len(pools)} pool(s) serve other modes")
        return Suggestions(tuple((p.pool, p.describe()) for p in fitting), note=f"{len(fitting)} pool(s) serve {mode}")

    def problem(self, value: str, values: Mapping[str, str]) -> str | None:
        """A pool the vendor listed for another mode, said at the field."""
        mode = values.get("mode", "")
        listed = {p.pool: p for p in self.listed.get(values.get("provider", ""), [])}
        pool = listed.get(value.strip())
        if pool is None or pool.serves(mode):
            return None
        return f"{pool.pool} is {with_article('/'.join(pool.modes))} pool; {mode} needs {with_article(mode)} pool (ctrl+o picks one)"


def bind_fields(
    providers: tuple[str, ...],
    modes: Mapping[str, tuple[str, ...]] | None = None,
    *,
    list_pools: ListPools | None = None,
    default_pools: Mapping[str, str] | None = None,
) -> tuple[FieldSpec, ...]:
    """The bind form for `providers`; `modes` are the modes each connected account offers (by
    default every mode its vendor's adapter implements); `list_pools` and `default_pools` feed
    the Pool field's suggestions (without them it is free text)."""
    offered = {name: (modes or {}).get(name) or supported_modes(name) for name in providers}
    pools = PoolSuggestions(list_pools, default_pools or {})

    def has_b(values: Mapping[str, str]) -> bool:
        return values.get("mode") in B_MODES

    def modes_offered(values: Mapping[str, str]) -> tuple[str, ...]:
        return offered.get(values.get("provider", ""), ()) or MODES

    def mode_problem(value: str, values: Mapping[str, str]) -> str | None:
        provider = values.get("provider", "")
        allowed = offered.get(provider, ())
        return None if value in allowed else f"{provider} supports {', '.join(allowed)}"

    def pool_problem(value: str, values: Mapping[str, str]) -> str | None:
        found = rules(values.get("provider", ""))
        if not value.strip():
            return "required for this provider" if found and found.pool_required else None
        return pools.problem(value, values)

    def pool_shown(values: Mapping[str, str]) -> bool:
        return has_pools(values.get("provider", ""))

    pool_names = " / ".join(
        f"{vendor.short_title} {vendor.bindings.pool_label}"
        for name, vendor in binding_vendors().items()
        if name in providers and vendor.bindings is not None and vendor.bindings.pool_required
    )
    first = providers[0]

    return (
        FieldSpec("provider", "Provider", kind="choice", choices=providers, default=first, required=True),
        FieldSpec(
            "mode",
            "Mode",
            kind="choice",
            choices=MODES,
            choices_for=modes_offered,
            default=offered.get(first, MODES)[0] if offered.get(first) else "AXB",
            required=True,
            cross_check=mode_problem,
        ),
        _phone("a", "A number", required=True),
        _phone("b", "B number", required=True, visible=has_b),
        _phone("x", "X number (optional: a specific one)", required=False, visible=_mode_rule("takes_x")),
        FieldSpec("extension", "Extension E (optional: a specific one)", required=False, visible=_offers_extension),
        FieldSpec(
            "pool",
            f"Pool ({pool_names})" if pool_names else "Pool",
            required=False,
            default=(default_pools or {}).get(first, ""),
            visible=pool_shown,
            cross_check=pool_problem,
            suggest=pools.suggest,
            suggest_after=("provider", "mode"),
        ),
        FieldSpec("area_code", "City / area code for X (optional)", required=False),
        FieldSpec(
            "expires",
            "Expires",
            required=True,
            default="+2h",
            placeholder="+2h, +7d or 2026-12-01 18:00",
            cross_check=lambda value, values: expiry_problem(value, values.get("provider", "")),
            visible=_mode_rule("takes_expiry"),  # only where the mode has a lifetime
        ),
        FieldSpec("recording", "Record calls", kind="bool", default="false"),
        FieldSpec("user_data", "User data / out id (optional)", required=False),
    )


def bind_request(values: Mapping[str, str]) -> BindRequest:
    """The request for the form's values; only what the chosen mode takes (the rest stays empty)."""
    mode, found = values["mode"], rules(values.get("provider", ""))
    return BindRequest(
        mode=mode,
        a=values["a"].strip(),
        b=values.get("b", "").strip() if mode in B_MODES else "",
        x=values.get("x", "").strip() if found is None or found.takes_x(mode) else "",
        extension=values.get("extension", "").strip() if found and mode in found.chosen_extension_modes else "",
        pool=values.get("pool", "").strip() if has_pools(values.get("provider", "")) else "",
        area_code=values.get("area_code", "").strip(),
        expires_at=parse_expiry(values["expires"]) if takes_expiry(values.get("provider", ""), mode) else None,
        recording=values.get("recording") == "true",
        user_data=values.get("user_data", "").strip(),
    )


def modify_fields(provider: str, mode: str) -> tuple[FieldSpec, ...]:
    def check_phone(value: str, values: Mapping[str, str]) -> str | None:
        return phone_problem(value, provider) if value.strip() else None

    found = rules(provider)
    fields = (
        FieldSpec(
            "expires",
            "New expiry (empty: unchanged)",
            placeholder="+2h, +7d or 2026-12-01 18:00",
            cross_check=lambda value, values: expiry_problem(value, provider) if value.strip() else None,
        ),
        FieldSpec("a", "New A number (empty: unchanged)", cross_check=check_phone),
        FieldSpec("b", "New B number (empty: unchanged)", cross_check=check_phone),
        FieldSpec("recording", "Record calls", kind="choice", choices=("unchanged", "on", "off"), default="unchanged"),
    )
    # Only what a modify of this mode can change (a mode without a lifetime is never offered one).
    changes = {"expires": "expires_at"}
    if found is None:
        return tuple(f for f in fields if f.name != "b" or mode in B_MODES)
    return tuple(f for f in fields if found.can_change(mode, changes.get(f.name, f.name)))


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
    b = f", B {binding.b}" if binding.b else ""
    y = f" via Y {binding.y}" if getattr(binding, "y", "") else ""
    return f"{binding.provider} {binding.mode} binding X {binding.x}{ext} (A {binding.a}{b}{y})"
