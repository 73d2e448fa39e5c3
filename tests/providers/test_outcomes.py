"""Every write settles to a known outcome before anything is sent again (providers/outcomes.py),
against the emulators, with the faults the chaos run draws at random aimed at one request here."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from providers.bindings import ACTIVE, REMOVED, Binding, BindRequest
from providers.errors import Unavailable
from providers.ledger import BindingLedger
from providers.outcomes import (
    Outcome,
    is_ambiguous,
    reconcile_bind,
    settle_bind,
    settle_create,
    settle_delete,
    settle_unbind,
    tagged,
)
from providers.sandbox.chaos import run_chaos
from providers.sandbox.faults import RandomFaults
from providers.session import sandbox_session
from providers.vendors import descriptor

HUAWEI_AXB = "/rest/caas/relationnumber/partners/v1.0"
VOLC_AXB_POOL = "NP202601050000000201"


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
def world(tmp_path):
    """A sandbox session over fresh emulators (no seed of its own state dir), and the emulators."""
    emulators = {}
    for kind in ("telnyx", "aliyun-pls", "huawei", "volcengine"):
        spec = descriptor(kind)
        emulators[spec.provider] = spec.emulator.load()(None)
    session = sandbox_session(
        handler=emulators["telnyx"],
        binding_handlers={p: e for p, e in emulators.items() if p != "telnyx"},
        state_dir=tmp_path,
        ledger_path=tmp_path / "ledger.sqlite3",
        kinds=("telnyx", "aliyun-pls", "huawei", "volcengine"),
        client_options={p: {"sleep": no_wait} for p in emulators},
    )
    return session, emulators


def expiry() -> datetime:
    return (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)


# -- a lost bind answer is found by what that request sent, on every vendor ------------------------


async def test_lost_aliyun_bind_is_found_by_what_was_sent(world):
    session, emu = world
    aliyun = emu["aliyun"]
    x = next(n for n in aliyun.pool_numbers() if not any(b["x"] == n for b in aliyun.bindings()))
    request = tagged(BindRequest(mode="AXN", a="13900007001", x=x, expires_at=expiry()))
    aliyun.faults.reset("*", "/BindAxn", apply=True)  # applied, answer lost
    outcome = await settle_bind(session.binding_providers["aliyun"], request)
    assert outcome.outcome is Outcome.DONE and "found it by what was sent" in outcome.how
    assert [b["out_id"] for b in aliyun.bindings()].count(request.user_data) == 1
    assert aliyun.action_counts["BindAxn"] == 1  # looked up, never re-sent
    await session.aclose()


async def test_lost_huawei_bind_is_found_by_its_user_data_tag(world):
    session, emu = world
    huawei = emu["huawei"]
    x = huawei.pool_numbers("AXB")[0]
    request = tagged(BindRequest(mode="AXB", a="+8613800070001", b="+8613800070002", x=x, expires_at=expiry()))
    assert request.user_data.startswith("td-")
    before = len(huawei.state["axb"])
    huawei.faults.reset("POST", HUAWEI_AXB, apply=True)
    outcome = await settle_bind(session.binding_providers["huawei"], request)
    assert outcome.outcome is Outcome.DONE
    assert len(huawei.state["axb"]) == before + 1
    assert outcome.value is not None and outcome.value.subscription_id == huawei.state["axb"][-1]["subscriptionId"]
    await session.aclose()


async def test_lost_volcengine_bind_matches_the_expiry_sent_not_one_recomputed(world):
    session, emu = world
    volc = emu["volcengine"]
    adapter = session.binding_providers["volcengine"]
    x = volc.pool_numbers(VOLC_AXB_POOL)[0]
    sent = tagged(
        BindRequest(mode="AXB", a="13700070001", b="13600070001", x=x, pool=VOLC_AXB_POOL, expires_at=expiry())
    )
    volc.faults.reset("*", "/BindAXB", apply=True)
    outcome = await settle_bind(adapter, sent)
    assert outcome.outcome is Outcome.DONE and volc.actions_applied["BindAXB"] == 1
    # The form used to rebuild the request from "+2h" at check time: that one matches nothing.
    recomputed = BindRequest(
        mode="AXB", a=sent.a, b=sent.b, x=x, pool=VOLC_AXB_POOL, expires_at=sent.expires_at + timedelta(seconds=7)
    )
    assert await adapter.find_after_timeout(recomputed) == []
    assert [b.subscription_id for b in await adapter.find_after_timeout(sent)] == [outcome.value.subscription_id]
    await session.aclose()


async def test_volcengine_select_number_replays_its_idempotent_id(world):
    session, emu = world
    volc = emu["volcengine"]
    request = tagged(BindRequest(mode="AXB", a="13700070002", b="13600070002", pool=VOLC_AXB_POOL, expires_at=expiry()))
    volc.faults.reset("*", "/SelectNumberAndBindAXB", apply=True, times=2)
    outcome = await settle_bind(session.binding_providers["volcengine"], request)
    assert outcome.outcome is Outcome.DONE
    made = [s for s in volc.state["subscriptions"] if s["UserData"] == request.user_data]
    assert len(made) == 1 and made[0]["SubId"] == outcome.value.subscription_id
    assert volc.actions_applied["SelectNumberAndBindAXB"] == 3  # sent three times, bound once
    await session.aclose()


# -- a 5xx after the change was applied is not "not applied", and is not re-sent ----------------------


async def test_5xx_after_apply_is_found_not_resent(world):
    session, emu = world
    huawei = emu["huawei"]
    request = tagged(
        BindRequest(
            mode="AXB", a="+8613800070011", b="+8613800070012", x=huawei.pool_numbers("AXB")[1], expires_at=expiry()
        )
    )
    before = len(huawei.state["axb"])
    huawei.faults.applied_status("POST", HUAWEI_AXB, 502)
    outcome = await settle_bind(session.binding_providers["huawei"], request)
    assert outcome.outcome is Outcome.DONE and outcome.checked[0].startswith("sent:")
    assert len(huawei.state["axb"]) == before + 1
    assert huawei.faults.fired == {"applied_status": 1}
    await session.aclose()


async def test_a_plain_refusal_is_not_done_and_a_bare_5xx_on_a_read_is_not_ambiguous():
    async def refused() -> None:
        raise Unavailable("down", status=None)  # never connected: nothing reached the server

    outcome = await settle_create(refused, what="create")
    assert outcome.outcome is Outcome.NOT_DONE and "safe to send again" in outcome.message()
    assert not is_ambiguous(Unavailable("x"))
    assert is_ambiguous(Unavailable("x", status=502))


# -- a delete or unbind whose re-send meets NotFound is done, and the ledger says so -----------------


@pytest.mark.parametrize("vendor", ["aliyun", "volcengine"])
async def test_unbind_whose_answer_is_lost_is_done_when_the_resend_finds_it_gone(world, vendor):
    session, emu = world
    adapter = session.binding_providers[vendor]
    server = emu[vendor]
    if vendor == "aliyun":
        x = next(n for n in server.pool_numbers() if not any(b["x"] == n for b in server.bindings()))
        request = tagged(BindRequest(mode="AXN", a="13900007021", x=x, expires_at=expiry()))
        unbind_path = "/UnbindSubscription"
    else:
        request = tagged(
            BindRequest(mode="AXB", a="13700070021", b="13600070021", pool=VOLC_AXB_POOL, expires_at=expiry())
        )
        unbind_path = "/UnbindAXB"
    bound = await settle_bind(adapter, request)
    assert bound.done and bound.value is not None
    ledger = session.ledger
    ledger.record_created(bound.value)
    server.faults.reset("*", unbind_path, apply=True)  # unbound, answer lost
    outcome = await settle_unbind(adapter, bound.value)
    assert outcome.outcome is Outcome.DONE
    ledger.mark_unbound(bound.value.key)
    assert ledger.get(bound.value.key).status == REMOVED
    assert server.faults.fired == {"reset+apply": 1}
    await session.aclose()


async def test_telnyx_delete_5xx_after_apply_then_not_found_is_done(world):
    session, emu = world
    telnyx = emu["telnyx"]
    client = session.client("telnyx")
    made = await settle_create(lambda: client.create_access_ip("10.99.0.1"), what="create", resend=True)
    assert made.done
    telnyx.faults.applied_status("DELETE", f"/access_ip_address/{made.value.id}", 503)
    outcome = await settle_delete(lambda: client.delete_access_ip(made.value.id), what="delete")
    assert outcome.outcome is Outcome.DONE
    assert "10.99.0.1" not in [ip["ip_address"] for ip in telnyx.state["access_ips"]]
    await session.aclose()


# -- a billing group create is settled by its idempotency key, never by its name --------------------


@pytest.mark.parametrize("applied", [True, False])
async def test_billing_group_create_is_settled_by_idempotency_not_name(world, applied):
    session, emu = world
    telnyx = emu["telnyx"]
    client = session.client("telnyx")
    existing = telnyx.state["billing_groups"][0]
    name = existing["name"]  # a same-named group already there: a lookup by name would be fooled
    telnyx.faults.reset("POST", "/billing_groups", apply=applied)
    outcome = await settle_create(lambda: client.create_billing_group(name), what="create", resend=True)
    # The Transport re-sent it with the same Idempotency-Key: replayed when the first was applied.
    assert outcome.outcome is Outcome.DONE
    assert telnyx.faults.fired == {"reset+apply" if applied else "reset": 1}
    assert len(telnyx.state["idempotency"]) == 1
    same = [g for g in telnyx.state["billing_groups"] if g["name"] == name]
    assert len(same) == 2  # the old one, and exactly one new one
    assert outcome.value.id != existing["id"] and outcome.value.id in [g["id"] for g in same]
    await session.aclose()


# -- the ledger never loses a binding --------------------------------------------------------------------


def a_binding(n: int) -> Binding:
    return Binding(
        provider="huawei",
        mode="AXB",
        subscription_id=f"sub-{n}",
        x="+8617000000101",
        a=f"+861380000{n:04d}",
        b="+8613900000001",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        status=ACTIVE,
    )


def test_a_locked_ledger_journals_the_write_and_replays_it_on_open(tmp_path: Path):
    path = tmp_path / "ledger.sqlite3"
    ledger = BindingLedger(path, busy_timeout=0.05, lock_retries=1, lock_retry_wait=0.01)
    ledger.record_created(a_binding(1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        returned = ledger.record_created(a_binding(2))
        assert returned.key == "huawei:sub-2" and ledger.journaled == 1
        assert os.stat(ledger.journal_path).st_mode & 0o777 == 0o600
        assert ledger.mark_unbound("huawei:sub-1").status == REMOVED
        assert ledger.pending_journal() == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    ledger.close()
    reopened = BindingLedger(path)
    assert reopened.replayed == 2 and not reopened.journal_path.exists()
    assert reopened.get("huawei:sub-2") is not None
    assert reopened.get("huawei:sub-1").status == REMOVED
    reopened.close()


def test_bad_rows_are_skipped_and_reported_the_others_still_show(tmp_path: Path):
    path = tmp_path / "ledger.sqlite3"
    ledger = BindingLedger(path)
    for n in range(4):
        ledger.record_created(a_binding(n))
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("UPDATE bindings SET a = CAST(X'FFFE41' AS TEXT) WHERE key = 'huawei:sub-1'")
    raw.execute("UPDATE bindings SET expires_at = 'yesterday-ish' WHERE key = 'huawei:sub-2'")
    raw.close()
    shown = ledger.all()
    assert sorted(b.key for b in shown) == ["huawei:sub-0", "huawei:sub-3"]
    skipped = {row.key: row.reason for row in ledger.skipped_rows}
    assert set(skipped) == {"huawei:sub-1", "huawei:sub-2"}
    assert "UTF-8" in skipped["huawei:sub-1"]
    assert len(ledger.entries()) == 2
    ledger.close()


# -- the fault kinds and a small chaos run ------------------------------------------------------------


def test_random_faults_are_reproducible_and_bounded():
    draws = [RandomFaults(throttle=0.2, error=0.1, lost=0.1, seed=4).draw("POST", "/x") for _ in range(1)]
    again = [RandomFaults(throttle=0.2, error=0.1, lost=0.1, seed=4).draw("POST", "/x") for _ in range(1)]
    assert [(d.kind, d.status, d.apply) if d else None for d in draws] == [
        (d.kind, d.status, d.apply) if d else None for d in again
    ]
    with pytest.raises(ValueError):
        RandomFaults(throttle=0.6, error=0.6)


async def test_a_small_chaos_run_has_no_duplicates_no_lost_writes_and_no_crashes():
    report = await run_chaos(11, creates=6, groups=4, binds=4, sdk=False)
    assert report.requests > 100 and report.faults > 20
    assert (report.duplicates, report.lost, report.crashes) == (0, 0, 0), report.table()
    assert all(t.outcomes["unknown"] == 0 for t in report.tallies), report.table()
    assert report.summary().startswith(f"chaos: {report.requests} requests, {report.faults} faults, 0 duplicates")


async def test_an_unknown_bind_is_kept_pending_and_settled_later_by_what_it_sent(world):
    session, emu = world
    huawei = emu["huawei"]
    adapter = session.binding_providers["huawei"]
    ledger = session.ledger
    x = huawei.pool_numbers("AXB")[2]
    request = tagged(BindRequest(mode="AXB", a="+8613800070031", b="+8613800070032", x=x, expires_at=expiry()))
    before = len(huawei.state["axb"])
    huawei.faults.reset("POST", HUAWEI_AXB, apply=True)  # bound, answer lost
    huawei.faults.respond("GET", HUAWEI_AXB, 503, times=None)  # and every check fails
    outcome = await settle_bind(adapter, request)
    assert outcome.outcome is Outcome.UNKNOWN and "outcome unknown" in outcome.message()
    assert len(outcome.checked) == 4  # the send, then three checks, each said
    ledger.record_pending_bind("huawei", adapter.account, request, "; ".join(outcome.checked))
    (pending,) = ledger.pending_binds()
    assert pending.request == request  # kept exactly as sent: expiry, key, tag
    huawei.faults.clear()
    later = await reconcile_bind(adapter, pending.request, earlier=pending.detail)
    assert later.outcome is Outcome.DONE and later.checked[0].startswith("earlier:")
    ledger.record_created(later.value)
    assert ledger.resolve_pending_bind(pending.id) and ledger.pending_binds() == []
    assert len(huawei.state["axb"]) == before + 1  # never sent again
    await session.aclose()
