"""The chaos run: teledeck's own clients against every emulator, in process, under random faults.

`run_chaos` opens the sandbox session the app uses (the same session factory, clients, Transport,
retry hooks, outcome settling and ledger) over fresh emulators whose fault injectors draw a fault
for each request (`RandomFaults`: by default 20% 429 with Retry-After, 5% 5xx before and 5% 5xx
after the change was applied, 5% connection resets and 5% lost answers). It then does what a user
would: full listings of every Telnyx resource, access IP and billing group creates (some billing
groups named like ones that already exist) and their deletes, binds on each privacy-number vendor
(Alibaba Dypls AXN on a chosen X, Huawei AXB on a chosen X, Volcengine AXB half on a chosen X and
half picked by the platform with an IdempotentId) and their unbinds, recording each settled bind
and unbind in a ledger as the Bindings screen does.

Afterwards it reads the emulators' state and the ledger, and counts per vendor:

- duplicates: more records on the server than requests that asked for them;
- lost: applied on the server but not known to teledeck as done (outcome not DONE, or no ledger
  row), or reported "not done" while the server had applied it (checked the moment it is
  reported, before the run sends it again as the message invites); a bind or unbind whose ledger
  row disagrees with the server counts too;
- phantoms: reported DONE but not on the server;
- crashes: an exception other than a `ProviderError` out of a client or the outcome layer.

Time is virtual: the emulators read a clock that the Transport's waits (backoff, Retry-After)
advance, so a run takes seconds and is the same for the same seed. The official telnyx SDK, when
installed, is run under the same faults against its own emulator for comparison (its duplicates are
reported separately and are not counted against teledeck).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from providers.bindings import REMOVED, Binding, BindingProvider, BindRequest
from providers.errors import ProviderError
from providers.ledger import BindingLedger, refresh_all
from providers.outcomes import (
    WriteOutcome,
    new_key,
    reconcile_bind,
    settle_bind,
    settle_create,
    settle_delete,
    settle_unbind,
    tagged,
)
from providers.sandbox.faults import RandomFaults
from providers.sandbox.state import StateStore

log = logging.getLogger("teledeck.chaos")

KINDS = ("telnyx", "aliyun-pls", "huawei", "volcengine")
VOLC_AXB_POOL = "NP202601050000000201"
RESENDS_AFTER_NOT_DONE = 3


@dataclass
class Tally:
    """What one vendor's part of the run did and found."""

    vendor: str
    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    writes: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # done / not done / unknown
    reconciled: int = 0  # writes whose answer was lost or ambiguous and that a check settled
    # Full listings: "asked" (each one), "refreshed" (a refresh after one failed), "failed" (three times)
    listings: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    lost: int = 0
    phantoms: int = 0
    crashes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def fault_count(self) -> int:
        return sum(self.faults.values())


@dataclass
class SdkTally:
    """The official telnyx SDK under the same faults (not teledeck: reported apart)."""

    requests: int = 0
    faults: int = 0
    creates: int = 0
    failed: int = 0
    duplicates: int = 0
    available: bool = True


@dataclass
class ChaosReport:
    seed: int
    tallies: list[Tally]
    sdk: SdkTally | None
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(t.requests for t in self.tallies)

    @property
    def faults(self) -> int:
        return sum(t.fault_count for t in self.tallies)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for t in self.tallies)

    @property
    def lost(self) -> int:
        return sum(t.lost + t.phantoms for t in self.tallies)

    @property
    def crashes(self) -> int:
        return sum(t.crashes for t in self.tallies)

    def summary(self) -> str:
        return (
            f"chaos: {self.requests} requests, {self.faults} faults, {self.duplicates} duplicates, "
            f"{self.lost} lost, {self.crashes} crashes"
        )

    def table(self) -> str:
        head = (
            f"{'vendor':<12}{'requests':>9}{'faults':>8}{'writes':>8}{'done':>6}{'not':>5}{'unk':>5}"
            f"{'reconc':>8}{'lists':>7}{'dup':>5}{'lost':>6}{'phant':>7}{'crash':>7}"
        )
        lines = [head, "-" * len(head)]
        for t in self.tallies:
            asked = t.listings["asked"]
            lists = f"{asked - t.listings['failed']}/{asked}" if asked else "-"
            lines.append(
                f"{t.vendor:<12}{t.requests:>9}{t.fault_count:>8}{t.writes:>8}{t.outcomes['done']:>6}"
                f"{t.outcomes['not done']:>5}{t.outcomes['unknown']:>5}{t.reconciled:>8}{lists:>7}"
                f"{t.duplicates:>5}{t.lost:>6}{t.phantoms:>7}{t.crashes:>7}"
            )
        for t in self.tallies:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(t.faults.items()))
            lines.append(f"  {t.vendor}: faults fired: {kinds or 'none'}")
            if t.listings["refreshed"]:
                lines.append(f"  {t.vendor}: listings refreshed after a failure: {t.listings['refreshed']}")
            lines.extend(f"  {t.vendor}: {note}" for note in t.notes)
        if self.sdk is not None:
            if self.sdk.available:
                lines.append(
                    f"official telnyx SDK (comparison, not counted): {self.sdk.requests} requests, "
                    f"{self.sdk.faults} faults, {self.sdk.creates} creates, {self.sdk.failed} raised, "
                    f"{self.sdk.duplicates} duplicates"
                )
            else:
                lines.append("official telnyx SDK: not installed, comparison skipped")
        return "\n".join(lines)


class VirtualClock:
    """The emulators' clock; waits advance it instead of sleeping. Each reading moves it on by a
    little, so request timestamps differ and rate windows see time pass."""

    def __init__(self, start: float, step: float = 0.002) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def chaos_faults(seed: int) -> RandomFaults:
    """The default mix: 20% 429, 5% 5xx, 5% 5xx after applying, 5% resets, 5% lost answers."""
    return RandomFaults(throttle=0.20, error=0.05, applied_error=0.05, reset=0.05, lost=0.05, seed=seed)


def _emulators(clock: VirtualClock, seed: int) -> dict[str, Any]:
    from providers.vendors import descriptor

    made: dict[str, Any] = {}
    for n, kind in enumerate(KINDS):
        spec = descriptor(kind)
        cls = spec.emulator.load()
        emulator = cls(StateStore(None), clock=clock)
        made[spec.provider] = emulator
        emulator.faults.random = chaos_faults(seed * 100 + n)
    return made


async def _guard(tally: Tally, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """Run one step; anything but a ProviderError out of teledeck's code is a crash."""
    try:
        return await call()
    except ProviderError:
        raise
    except Exception as exc:
        tally.crashes += 1
        tally.notes.append(f"CRASH in {what}: {type(exc).__name__}")
        log.error("chaos: crash in %s:\n%s", what, traceback.format_exc())
        return None


def _check_not_done(tally: Tally, outcome: WriteOutcome[Any] | None, applied: Callable[[], bool]) -> None:
    """A "not done" must be true at the moment it is reported: the server must not have it."""
    if outcome is not None and outcome.not_done and applied():
        tally.lost += 1
        tally.notes.append(f"reported not done, but applied: {outcome.what}")


def _has(emulator: Any, state_key: str, field_name: str, value: str, more_than: int) -> bool:
    """The server holds more than `more_than` records of `state_key` with `field_name` == `value`."""
    held: int = sum(item[field_name] == value for item in emulator.state[state_key])
    return held > more_than


def _gone(emulator: Any, state_key: str, record_id: str) -> bool:
    return not any(item["id"] == record_id for item in emulator.state[state_key])


def _tag_on_server(provider: str, emulator: Any, tag: str) -> bool:
    return any(found == tag for _, found, _ in _server_bindings(provider, emulator))


def _unbound_on_server(provider: str, emulator: Any, subscription_id: str) -> bool:
    return not any(sid == subscription_id and live for sid, _, live in _server_bindings(provider, emulator))


async def _send_until_settled(
    tally: Tally, what: str, settle: Callable[[], Awaitable[WriteOutcome[Any]]], applied: Callable[[], bool]
) -> WriteOutcome[Any] | None:
    """Settle one write as a user would: "not done" is safe to send again, so send the same
    request again, at most RESENDS_AFTER_NOT_DONE more times. Each outcome is counted, and a
    "not done" that `applied` contradicts is counted lost."""
    outcome: WriteOutcome[Any] | None = None
    for _ in range(RESENDS_AFTER_NOT_DONE + 1):
        outcome = await _guard(tally, what, settle)
        _count(tally, outcome)
        _check_not_done(tally, outcome, applied)
        if outcome is None or not outcome.not_done:
            break
    if outcome is not None and not outcome.done:
        tally.notes.append(outcome.message())
    return outcome


def _count(tally: Tally, outcome: WriteOutcome[Any] | None) -> None:
    tally.writes += 1
    if outcome is None:
        return
    tally.outcomes[outcome.outcome.value] += 1
    if outcome.checked:
        tally.reconciled += 1


# -- Telnyx ------------------------------------------------------------------------------------------


async def _telnyx(session: Any, emulator: Any, tally: Tally, creates: int, groups: int) -> None:
    client = session.client("telnyx")

    async def list_everything() -> None:
        listings: list[tuple[str, Callable[[], Any], str]] = [
            ("access IPs", client.access_ip_pages, "access_ips"),
            ("addresses", client.address_pages, "addresses"),
            ("SSO providers", client.auth_provider_pages, "auth_providers"),
            ("billing groups", client.billing_group_pages, "billing_groups"),
            ("integration secrets", client.typed_integration_secret_pages, "integration_secrets"),
            ("telephony credentials", client.telephony_credential_pages, "credentials"),
        ]
        for name, pages, state_key in listings:
            tally.listings["asked"] += 1
            for _ in range(3):  # what a user does when a listing fails: refresh
                try:
                    rows = await _guard(tally, f"listing {name}", functools.partial(client.collect, pages()))
                except ProviderError:
                    tally.listings["refreshed"] += 1
                    continue
                if rows is not None and len(rows) != len(emulator.state[state_key]):
                    have = len(emulator.state[state_key])
                    tally.notes.append(f"listing {name}: {len(rows)} rows, the server has {have}")
                break
            else:
                tally.listings["failed"] += 1
                tally.notes.append(f"listing {name} failed three times")

    await list_everything()
    before_groups = Counter(g["name"] for g in emulator.state["billing_groups"])
    seeded_name = next(iter(before_groups))  # a name that already exists: a name lookup would be fooled
    before_ips = Counter(ip["ip_address"] for ip in emulator.state["access_ips"])
    fresh = (f"10.{64 + i // 250}.{i // 250 % 250}.{i % 250 + 1}" for i in range(10 * creates + 10))
    ip_requests = [ip for ip in fresh if ip not in before_ips][:creates]
    group_requests = [seeded_name if i % 5 == 0 else f"chaos group {i:02d}" for i in range(groups)]

    made: list[tuple[str, Any]] = []  # (resource, record) for every create settled DONE
    ip_done: Counter[str] = Counter()
    group_done: Counter[str] = Counter()

    async def create(
        what: str, send: Callable[[], Awaitable[Any]], applied: Callable[[], bool]
    ) -> WriteOutcome[Any] | None:
        """Settle one create; "not done" is safe to send again, so send it again (as a user would,
        with the same key: the form keeps it for the same values), at most three times."""
        key = new_key()
        return await _send_until_settled(
            tally, what, lambda: settle_create(send, what=what, resend=True, key=key), applied
        )

    for ip in ip_requests:
        outcome = await create(
            f"create access IP {ip}",
            functools.partial(client.create_access_ip, ip, "chaos"),
            functools.partial(_has, emulator, "access_ips", "ip_address", ip, 0),
        )
        if outcome is not None and outcome.done and outcome.value is not None:
            ip_done[ip] += 1
            made.append(("ip", outcome.value))
    for name in group_requests:
        outcome = await create(
            f"create billing group {name}",
            functools.partial(client.create_billing_group, name),
            functools.partial(_has, emulator, "billing_groups", "name", name, before_groups[name] + group_done[name]),
        )
        if outcome is not None and outcome.done and outcome.value is not None:
            group_done[name] += 1
            made.append(("group", outcome.value))

    # What the server made, against what was asked for and what teledeck says it made.
    ips_after = Counter(ip["ip_address"] for ip in emulator.state["access_ips"])
    groups_after = Counter(g["name"] for g in emulator.state["billing_groups"])
    for asked, after, before, done in (
        (Counter(ip_requests), ips_after, before_ips, ip_done),
        (Counter(group_requests), groups_after, before_groups, group_done),
    ):
        for name, wanted in asked.items():
            applied = after[name] - before[name]
            tally.duplicates += max(0, applied - wanted)
            tally.lost += max(0, min(applied, wanted) - done[name])
            tally.phantoms += max(0, done[name] - applied)
            if applied != wanted or done[name] != wanted:
                tally.notes.append(f"{name}: asked {wanted}, made {applied}, settled done {done[name]}")

    await list_everything()  # the lists again, with everything made
    for kind, record in made:
        delete = client.delete_access_ip if kind == "ip" else client.delete_billing_group
        key = "access_ips" if kind == "ip" else "billing_groups"
        outcome = await _send_until_settled(
            tally,
            "delete",
            functools.partial(settle_delete, functools.partial(delete, record.id), what=f"delete {record.id}"),
            functools.partial(_gone, emulator, key, record.id),
        )
        present = any(item["id"] == record.id for item in emulator.state[key])
        if outcome is not None and outcome.done and present:
            tally.phantoms += 1
        elif (outcome is None or not outcome.done) and not present:
            tally.lost += 1


# -- privacy-number vendors ----------------------------------------------------------------------------


def _prepare_aliyun(emulator: Any, count: int) -> list[str]:
    """Give the pool `count` more X numbers for AXN (one A per X), and return them."""
    pool = emulator.state["pools"][emulator.pool_key]
    numbers = [f"1700009{i:04d}" for i in range(count)]
    pool["numbers"].extend({"x": x, "city": "杭州", "area_code": "0571"} for x in numbers)
    return numbers


def _requests(provider: str, emulator: Any, count: int, now: datetime) -> list[BindRequest]:
    expiry = now + timedelta(hours=2)
    out: list[BindRequest] = []
    if provider == "aliyun":
        for i, x in enumerate(_prepare_aliyun(emulator, count)):
            out.append(BindRequest(mode="AXN", a=f"1390000{i + 5000:04d}", x=x, expires_at=expiry))
    elif provider == "huawei":
        numbers = [x for x, n in emulator.state["numbers"]["AXB"].items() if n["status"] == "normal"]
        for i in range(count):
            out.append(
                BindRequest(
                    mode="AXB",
                    a=f"+86138{i + 10000:08d}",
                    b=f"+86139{i + 10000:08d}",
                    x=numbers[i % len(numbers)],
                    expires_at=expiry,
                )
            )
    else:
        numbers = emulator.pool_numbers(VOLC_AXB_POOL)
        for i in range(count):
            chosen = numbers[i % len(numbers)] if i % 2 else ""  # half picked by the platform
            out.append(
                BindRequest(
                    mode="AXB",
                    a=f"1370{i + 5000:07d}",
                    b=f"1360{i + 5000:07d}",
                    x=chosen,
                    pool=VOLC_AXB_POOL,
                    expires_at=expiry,
                )
            )
    return out


def _server_bindings(provider: str, emulator: Any) -> list[tuple[str, str, bool]]:
    """(subscription id, user data, active) for every binding the server holds."""
    if provider == "aliyun":
        return [(b["subs_id"], b["out_id"], True) for b in emulator.bindings()]
    if provider == "huawei":
        return [(b["subscriptionId"], b.get("userData", ""), True) for b in emulator.state["axb"]]
    return [(s["SubId"], s["UserData"], s["Status"] == 1) for s in emulator.state["subscriptions"]]


async def _screen_refresh(
    provider: str,
    adapter: BindingProvider,
    ledger: BindingLedger,
    tally: Tally,
    watched: tuple[tuple[str, str], ...],
) -> None:
    """What the Bindings screen does when it opens and after a change: check the binds of unknown
    outcome again, look up every watched X number and import what is found, then refresh every
    live binding of the ledger."""
    for item in ledger.pending_binds():
        known = {b.key for b in ledger.all()}
        settled = await _guard(
            tally, "pending bind", functools.partial(reconcile_bind, adapter, item.request, known=known)
        )
        if settled is not None and settled.value is not None:
            ledger.record_created(settled.value)
        if settled is not None and not settled.unknown:
            ledger.resolve_pending_bind(item.id)
            tally.notes.append(f"pending bind settled later: {settled.message()}")
    found: list[Binding] = []
    failed = 0
    for x, pool in watched:
        try:
            found += await _guard(tally, "lookup", functools.partial(adapter.lookup, x=x, pool=pool)) or []
        except ProviderError:
            failed += 1
    ledger.record_imported(found)
    report = await _guard(tally, "refresh", lambda: refresh_all(ledger, {provider: adapter}))
    refresh_failed = report.failed if report is not None else 0
    if failed or refresh_failed:
        tally.notes.append(
            f"screen refresh: {failed} of {len(watched)} lookups and {refresh_failed} refreshes failed (shown, not lost)"
        )


async def _bind_once(adapter: BindingProvider, request: BindRequest, ledger: BindingLedger) -> WriteOutcome[Binding]:
    """One send of a bind, knowing the bindings the ledger holds at that moment."""
    return await settle_bind(adapter, request, known={b.key for b in ledger.all()})


async def _binds(
    provider: str,
    adapter: BindingProvider,
    emulator: Any,
    ledger: BindingLedger,
    tally: Tally,
    count: int,
    now: datetime,
    watched: tuple[tuple[str, str], ...],
) -> None:
    await _screen_refresh(provider, adapter, ledger, tally, watched)
    requests = [tagged(r) for r in _requests(provider, emulator, count, now)]
    settled: list[tuple[BindRequest, WriteOutcome[Binding] | None]] = []
    for request in requests:
        outcome = await _send_until_settled(
            tally,
            "bind",
            functools.partial(_bind_once, adapter, request, ledger),
            functools.partial(_tag_on_server, provider, emulator, request.user_data),
        )
        if outcome is not None and outcome.value is not None:
            ledger.record_created(outcome.value)
        if outcome is not None and outcome.unknown:  # as the Bindings screen does
            ledger.record_pending_bind(provider, adapter.account, request, "; ".join(outcome.checked))
        settled.append((request, outcome))

    await _screen_refresh(provider, adapter, ledger, tally, watched)

    on_server = _server_bindings(provider, emulator)
    for request, outcome in settled:
        matches = [sid for sid, tag, _ in on_server if tag == request.user_data]
        tally.duplicates += max(0, len(matches) - 1)
        done = outcome is not None and outcome.done and outcome.value is not None
        if matches and not done:
            # Unknown at first, then settled by the screen refresh: in the ledger now, not lost.
            if not any(ledger.get(f"{provider}:{sid}") is not None for sid in matches):
                tally.lost += 1
        elif done and outcome is not None and outcome.value is not None:
            if outcome.value.subscription_id not in matches:
                tally.phantoms += 1
            elif ledger.get(outcome.value.key) is None:
                tally.lost += 1

    await _screen_refresh(provider, adapter, ledger, tally, watched)
    for _request, outcome in settled:
        if outcome is None or outcome.value is None:
            continue
        binding = outcome.value
        result = await _send_until_settled(
            tally,
            "unbind",
            functools.partial(settle_unbind, adapter, binding),
            functools.partial(_unbound_on_server, provider, emulator, binding.subscription_id),
        )
        if result is not None and result.done:
            ledger.mark_unbound(binding.key)
        active = any(sid == binding.subscription_id and live for sid, _, live in _server_bindings(provider, emulator))
        stored = ledger.get(binding.key)
        removed_in_ledger = stored is not None and stored.status == REMOVED
        if result is not None and result.done and active:
            tally.phantoms += 1
        elif not active and not removed_in_ledger:
            tally.lost += 1  # unbound on the server, still live in the ledger


# -- the official SDK, for comparison -----------------------------------------------------------------


def _sdk_comparison(seed: int, creates: int, groups: int) -> SdkTally:
    try:
        import httpx
        import telnyx
    except ImportError:
        return SdkTally(available=False)
    from providers.sandbox.http import SyncInProcessTransport
    from providers.sandbox.telnyx.sandbox import TelnyxSandbox

    clock = VirtualClock(time.time())
    emulator = TelnyxSandbox(StateStore(None), clock=clock)
    emulator.faults.random = chaos_faults(seed * 100 + 99)
    tally = SdkTally()
    http = httpx.Client(transport=SyncInProcessTransport(emulator))
    sdk = telnyx.Telnyx(api_key=emulator.api_key, base_url="http://sandbox.invalid/v2", http_client=http)
    # The SDK's own retry policy, without its real waits (the emulator's clock moves instead).
    sdk._sleep_for_retry = lambda **kw: None  # type: ignore[method-assign]
    ips = [f"198.51.{100 + i // 250}.{i % 250 + 1}" for i in range(creates)]
    names = [f"sdk group {i:02d}" for i in range(groups)]
    sends: list[Callable[[], Any]] = [
        *(functools.partial(sdk.access_ip_address.create, ip_address=ip) for ip in ips),
        *(functools.partial(sdk.billing_groups.create, name=name) for name in names),
    ]
    for send in sends:
        tally.creates += 1
        try:
            send()
        except Exception:  # the SDK's own errors, whatever their class: counted, not teledeck's
            tally.failed += 1
    after = Counter(ip["ip_address"] for ip in emulator.state["access_ips"])
    after.update(g["name"] for g in emulator.state["billing_groups"])
    tally.duplicates = sum(max(0, after[name] - 1) for name in (*ips, *names))
    tally.requests = emulator.faults.drawn_for
    tally.faults = sum(emulator.faults.fired.values())
    http.close()
    return tally


# -- the run -----------------------------------------------------------------------------------------


async def run_chaos(
    seed: int = 1,
    *,
    creates: int = 50,
    groups: int = 20,
    binds: int = 30,
    sdk: bool = True,
    workdir: Path | None = None,
) -> ChaosReport:
    """One chaos run (see the module docstring); deterministic for a given seed and sizes."""
    from providers.session import sandbox_session
    from providers.vendors import descriptor

    started = time.perf_counter()
    clock = VirtualClock(1_800_000_000.0)
    emulators = _emulators(clock, seed)
    options: dict[str, dict[str, Any]] = {}
    import random

    for n, provider in enumerate(emulators):
        options[provider] = {"sleep": clock.sleep, "rng": random.Random(seed * 1000 + n)}
    # Telnyx's account limiter waits for 429 blocks and window resets: on the same virtual clock
    # as the waits that advance it, not the process's monotonic one.
    from providers.transport import RateLimiter

    options[descriptor("telnyx").provider]["limiter"] = RateLimiter(clock=clock)
    with tempfile.TemporaryDirectory(prefix="teledeck-chaos-") as scratch:
        base = workdir or Path(scratch)
        # The Aliyun pool gets its extra X numbers before the session reads its watch list.
        telnyx_provider = descriptor("telnyx").provider
        session = sandbox_session(
            handler=emulators[telnyx_provider],
            binding_handlers={p: e for p, e in emulators.items() if p != telnyx_provider},
            state_dir=base,
            ledger_path=base / "ledger.sqlite3",
            clock=clock,
            client_options=options,
            kinds=KINDS,
        )
        tallies: list[Tally] = []
        try:
            tally = Tally("telnyx")
            await _telnyx(session, emulators[telnyx_provider], tally, creates, groups)
            tallies.append(tally)
            ledger = session.ledger
            now = datetime.fromtimestamp(clock.now, UTC)
            for provider, adapter in sorted(session.binding_providers.items()):
                tally = Tally(provider)
                watched = session.watch_x.get(provider, ())
                await _binds(provider, adapter, emulators[provider], ledger, tally, binds, now, watched)
                tallies.append(tally)
        finally:
            await session.aclose()
        for tally in tallies:
            faults = emulators[tally.vendor].faults
            tally.requests = faults.drawn_for
            tally.faults.update(faults.fired)
    report = ChaosReport(seed, tallies, _sdk_comparison(seed, creates, groups) if sdk else None)
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["ChaosReport", "SdkTally", "Tally", "VirtualClock", "chaos_faults", "run_chaos"]
