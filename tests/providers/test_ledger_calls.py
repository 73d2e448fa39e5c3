"""Calls in the ledger, on both backends: pushes stored once, calls merged and linked to their
binding, and two processes writing overlapping batches at once lose nothing and count nothing twice."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from providers.bindings import ACTIVE, REMOVED, Binding
from providers.calls import ANSWER, ANSWERED, CDR, END, RECORDING, RING, START, CallEvent, merge
from providers.ledger_calls import same_number

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
X, A, B = "+8617000000001", "+8613800000001", "+8613900000001"


def event(call_id: str, kind: str, stage: str, at: datetime | None, provider: str = "huawei", **kw) -> CallEvent:
    kw.setdefault("x", X)
    kw.setdefault("caller", A)
    kw.setdefault("callee", X)
    return CallEvent(
        provider=provider, call_id=call_id, kind=kind, stage=stage, at=at, received_at=kw.pop("received_at", T0), **kw
    )


def answered_call(call_id: str, start: datetime = T0, **kw) -> list[CallEvent]:
    return [
        event(call_id, "callin", START, start, **kw),
        event(call_id, "alerting", RING, start + timedelta(seconds=2), **kw),
        event(call_id, "answer", ANSWER, start + timedelta(seconds=5), **kw),
        event(call_id, "disconnect", END, start + timedelta(seconds=65), **kw),
    ]


def binding(sub: str, **kw) -> Binding:
    kw.setdefault("expires_at", T0 + timedelta(days=1))
    return Binding(provider="huawei", mode="AXB", subscription_id=sub, x=kw.pop("x", X), a=kw.pop("a", A),
                   b=kw.pop("b", B), status=kw.pop("status", ACTIVE), **kw)  # fmt: skip


@pytest.fixture
def ledger(backend):
    with backend.open(clock=lambda: T0 - timedelta(hours=1)) as led:
        yield led


def test_a_push_delivered_twice_is_stored_once(ledger):
    pushes = answered_call("c1")
    assert ledger.add_call_events(pushes) == 4
    assert ledger.add_call_events(pushes) == 0  # the vendor retried: nothing new
    assert ledger.add_call_events([pushes[0], replace(pushes[0], caller="other"), pushes[1]]) == 0
    assert ledger.add_call_events([]) == 0
    assert len(ledger.call_events("huawei", "c1")) == 4
    (call,) = ledger.calls()
    assert call == replace(merge(pushes), events=())
    assert (call.outcome, call.duration_s, call.started_at) == (ANSWERED, 60, T0)


def test_duplicates_inside_one_batch_count_once_and_the_first_wins(ledger):
    first = event("c1", "callin", START, T0, caller="+8613800000111")
    assert ledger.add_call_events([first, replace(first, caller="+8613800000222")]) == 1
    assert [e.caller for e in ledger.call_events("huawei", "c1")] == ["+8613800000111"]


def test_events_arriving_one_by_one_merge_into_one_call(ledger):
    pushes = answered_call("c1")
    for push in reversed(pushes):  # the vendor's order is not the call's
        assert ledger.add_call_events([push]) == 1
    cdr = event("c1", "fee", CDR, T0 + timedelta(seconds=66), caller="+8613800000009", fields={"fee": 3, "n": None})
    assert ledger.add_call_events([cdr]) == 1
    call = ledger.call("huawei", "c1")
    assert call.caller == "+8613800000009"  # the CDR's numbers win
    assert [e.kind for e in call.events] == ["callin", "alerting", "answer", "disconnect", "fee"]
    assert call.events[-1].fields == {"fee": 3, "n": None}
    assert call == merge([*pushes, cdr])
    assert [e.kind for e in ledger.call_events("huawei", "c1")] == ["callin", "alerting", "answer", "disconnect", "fee"]
    assert ledger.call("huawei", "nope") is None and ledger.call_events("huawei", "nope") == []


def test_every_field_of_a_call_and_its_events_round_trips(ledger):
    pushes = [
        *answered_call("c1", subscription_id="sub-9", account="prod"),
        event("c1", "recording", RECORDING, None, received_at=T0 + timedelta(minutes=2),
              fields={"fileName": "rec-1.wav", "recordDomain": "ostor.example", "字": "ü"}),
    ]  # fmt: skip
    ledger.add_call_events(pushes)
    call = ledger.call("huawei", "c1")
    assert call.recording is not None
    assert call.recording.locator == {"fileName": "rec-1.wav", "recordDomain": "ostor.example", "字": "ü"}
    assert call.subscription_id == "sub-9"
    stored = {e.kind: e for e in call.events}
    assert stored["recording"].at is None and stored["recording"].received_at == T0 + timedelta(minutes=2)
    assert stored["callin"].account == "prod" and stored["callin"].at.tzinfo is not None
    assert {e.kind: e for e in merge(pushes).events} == stored


def test_calls_are_listed_newest_first_and_filtered(ledger):
    ledger.record_created(binding("s1"))
    ledger.add_call_events(answered_call("old", T0, subscription_id="s1"))
    ledger.add_call_events(answered_call("new", T0 + timedelta(hours=1), subscription_id="s1"))
    ledger.add_call_events(answered_call("other", T0 + timedelta(minutes=30), provider="volcengine"))
    assert [c.call_id for c in ledger.calls()] == ["new", "other", "old"]
    assert [c.call_id for c in ledger.calls(binding_key="huawei:s1")] == ["new", "old"]
    assert [c.call_id for c in ledger.calls(provider="volcengine")] == ["other"]
    assert [c.call_id for c in ledger.calls(limit=1)] == ["new"]
    assert ledger.calls(binding_key="huawei:none") == []
    assert all(c.events == () for c in ledger.calls())


def test_calls_since_a_time_and_without_a_limit(ledger):
    for n in range(4):
        ledger.add_call_events(answered_call(f"c{n}", T0 + timedelta(hours=n)))
    assert [c.call_id for c in ledger.calls(since=T0 + timedelta(hours=2))] == ["c3", "c2"]
    assert [c.call_id for c in ledger.calls(since=T0 + timedelta(hours=2, seconds=1))] == ["c3"]
    assert [c.call_id for c in ledger.calls(since=T0 + timedelta(days=1))] == []
    assert len(ledger.calls(limit=None)) == 4
    assert [c.call_id for c in ledger.calls(since=T0, limit=2)] == ["c3", "c2"]


def test_the_calls_stamp_moves_only_when_a_push_is_stored(ledger):
    assert ledger.calls_stamp() == 0
    pushes = answered_call("c1")
    ledger.add_call_events(pushes[:2])
    first = ledger.calls_stamp()
    assert first > 0
    ledger.add_call_events(pushes[:2])  # delivered again: nothing stored, nothing to read again
    assert ledger.calls_stamp() == first
    ledger.add_call_events(pushes[2:])
    assert ledger.calls_stamp() > first


def test_an_event_the_ledger_cannot_keep_stores_nothing(ledger):
    good = answered_call("c1")
    with pytest.raises(ValueError, match="stage"):
        ledger.add_call_events([*good, event("c1", "odd", "weird", T0)])
    with pytest.raises(ValueError, match="naive"):
        ledger.add_call_events([*good, event("c1", "odd", START, datetime(2031, 1, 1))])
    with pytest.raises(ValueError, match="call_id"):
        ledger.add_call_events([event("", "callin", START, T0)])
    assert ledger.calls() == [] and ledger.call_events("huawei", "c1") == []


# ---- which binding a call went through -----------------------------------------------------------


def test_a_call_is_linked_by_its_subscription_id(ledger):
    ledger.record_created(binding("s1"))
    ledger.add_call_events(answered_call("c1", subscription_id="s1", x=""))
    assert ledger.call("huawei", "c1").binding_key == "huawei:s1"


def test_without_a_subscription_id_by_x_party_and_time(ledger):
    ledger.record_created(binding("s1"))  # created T0-1h, expires T0+1d
    ledger.add_call_events(answered_call("during", T0, x="17000000001", caller="13800000001"))  # written without +86
    ledger.add_call_events(answered_call("stranger", T0, caller="+8613800000777", callee="+8613900000777"))
    ledger.add_call_events(answered_call("after", T0 + timedelta(days=2)))
    ledger.add_call_events(answered_call("before", T0 - timedelta(hours=3)))
    ledger.add_call_events(answered_call("elsewhere", T0, x="+8617000000999"))
    links = {c.call_id: c.binding_key for c in ledger.calls()}
    assert links == {"during": "huawei:s1", "stranger": "", "after": "", "before": "", "elsewhere": ""}


def test_a_removed_binding_explains_calls_until_its_removal_and_the_newest_binding_wins(ledger, backend):
    with backend.open(clock=lambda: T0 - timedelta(days=2)) as early:
        early.record_created(binding("gone"))
        early.mark_unbound("huawei:gone")  # removed at T0-2d
    ledger.record_created(binding("older", expires_at=None))  # T0-1h
    with backend.open(clock=lambda: T0 - timedelta(minutes=30)) as later:
        later.record_created(binding("newer", expires_at=None))
    ledger.add_call_events(answered_call("now", T0))
    ledger.add_call_events(answered_call("then", T0 - timedelta(days=2, minutes=1)))
    assert ledger.call("huawei", "now").binding_key == "huawei:newer"
    assert ledger.call("huawei", "then").binding_key == "huawei:gone"
    assert ledger.get("huawei:gone").status == REMOVED


def test_a_binding_recorded_after_its_calls_is_linked_by_the_next_push(ledger):
    ledger.add_call_events(answered_call("c1")[:2])
    assert ledger.call("huawei", "c1").binding_key == ""
    ledger.record_imported([binding("s1")])  # imported: its start is not known
    ledger.add_call_events(answered_call("c1")[2:])
    assert ledger.call("huawei", "c1").binding_key == "huawei:s1"


def test_numbers_written_two_ways():
    assert same_number("+8613800000001", "13800000001")
    assert same_number("+86 138-0000-0001", "8613800000001")
    assert not same_number("+8613800000001", "+8613800000002")
    assert not same_number("0001", "+8613800000001")  # too short to stand for a number
    assert not same_number("", "")


# ---- two processes -------------------------------------------------------------------------------

CHILD = r"""
import json, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from providers.bindings import ACTIVE, Binding
from providers.calls import ANSWER, CDR, END, RING, START, CallEvent
from providers.ledger import BindingLedger
from providers.ledger_store import PostgresTarget

spec, who = json.loads(sys.argv[1]), sys.argv[2]
if "url" in spec:
    ledger = BindingLedger(postgres=PostgresTarget(spec["url"], spec["password"]))
else:
    ledger = BindingLedger(Path(spec["path"]))
T0 = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
STAGES = [("callin", START), ("alerting", RING), ("answer", ANSWER), ("disconnect", END), ("fee", CDR)]

def pushes(n, kinds):
    return [
        CallEvent(provider="huawei", call_id=f"c{n:03d}", kind=kind, stage=stage,
                  at=T0 + timedelta(minutes=n, seconds=10 * k), received_at=T0,
                  subscription_id=f"s{n % 4}", x="+8617000000001", caller="+8613800000001")
        for k, (kind, stage) in enumerate(STAGES) if kind in kinds
    ]

def push(order, kinds, size):
    new, batch = 0, []
    for n in order:
        batch.extend(pushes(n, kinds))
        if len(batch) >= size:
            new += ledger.add_call_events(batch)
            batch = []
    return new + ledger.add_call_events(batch)

calls = list(range(40))
ledger.record_created(Binding(provider="huawei", mode="AXB", subscription_id=f"bound-by-{who}",
                              x="+8617000000001", a="+8613800000001", status=ACTIVE))
sys.stdin.readline()  # both start together
# Every call has its first record already. First each pushes its own records of every call, and
# both the CDR (a receiver each, the vendor delivering to both), in the same order: the two add
# to the same calls at about the same time.
# Then each pushes everything again (the vendor's retries), in opposite orders.
own = {"a": ("answer", "fee"), "b": ("alerting", "disconnect", "fee")}[who]
first = push(calls, own, 7 if who == "a" else 11)
print(json.dumps({"new": first}), flush=True)
sys.stdin.readline()  # both have pushed their own
again = push(calls if who == "a" else calls[::-1], [kind for kind, _ in STAGES], 9)
print(json.dumps({"new": again}), flush=True)
sys.stdin.readline()  # the other has finished: what does this one see?
other = "b" if who == "a" else "a"
print(json.dumps({
    "sees_other_binding": ledger.get(f"huawei:bound-by-{other}") is not None,
    "calls": len(ledger.calls()),
    "events": sum(len(ledger.call_events("huawei", f"c{n:03d}")) for n in calls),
}), flush=True)
"""


def test_two_processes_writing_overlapping_batches_lose_nothing_and_count_nothing_twice(backend):
    with backend.open(clock=lambda: T0 - timedelta(days=1)) as led:
        for n in range(4):
            led.record_created(binding(f"s{n}", expires_at=None))
        starts = [event(f"c{n:03d}", "callin", START, T0 + timedelta(minutes=n), subscription_id=f"s{n % 4}")
                  for n in range(40)]  # fmt: skip
        assert led.add_call_events(starts) == 40
    spec = json.dumps(backend.spec())
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, spec, who],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    try:
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        said = []
        for phase in ("own", "again", "look"):
            said.append([json.loads(child.stdout.readline() or "{}") for child in children])
            for child in children if phase != "look" else ():
                child.stdin.write("next\n")
                child.stdin.flush()
        first, again, seen = said
        for child in children:
            child.wait(timeout=120)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    errors = [child.stderr.read() for child in children]
    assert [child.returncode for child in children] == [0, 0], errors
    # Every event counted once, by one of them: their own records each, the CDR by one or the other.
    assert sum(r["new"] for r in first) == 40 * 4
    assert first[0]["new"] >= 40 and first[1]["new"] >= 40 * 2
    assert again == [{"new": 0}, {"new": 0}]  # everything again, at once: nothing new
    assert seen == [{"sees_other_binding": True, "calls": 40, "events": 200}] * 2
    with backend.open() as led:
        calls = led.calls()
        assert len(calls) == 40
        for call in calls:
            events = led.call_events("huawei", call.call_id)
            assert len(events) == 5
            assert call == replace(merge(events, binding_key=call.binding_key), events=())  # no merge lost
            assert call.binding_key == f"huawei:{call.subscription_id}"


def test_a_writer_adding_to_a_call_another_is_merging_waits_and_sees_both(pg_server, pg_ledger_target, monkeypatch):
    """The interleaving the row lock is for, forced: writer A has read the call's events and not
    yet written its merge when writer B adds another event to the same call. B must wait for A
    (the row lock) and then merge A's event with its own; without the lock, A's late write would
    drop B's event from the call."""
    import threading
    import time

    from providers.ledger import BindingLedger
    from providers.ledger_calls import CallBook

    one, two = BindingLedger(postgres=pg_ledger_target), BindingLedger(postgres=pg_ledger_target)
    start, _ring, answer, end = answered_call("c1")
    assert one.add_call_events([start]) == 1  # the call's row exists
    paused, release = threading.Event(), threading.Event()
    real = CallBook._read_events

    def reading(self, conn, provider, call_id):
        events = real(self, conn, provider, call_id)
        if threading.current_thread().name == "A":
            paused.set()
            release.wait(60)  # a safety net, not a timing
        return events

    monkeypatch.setattr(CallBook, "_read_events", reading)
    a = threading.Thread(name="A", target=one.add_call_events, args=([answer],))
    b = threading.Thread(name="B", target=two.add_call_events, args=([end],))
    a.start()
    assert paused.wait(60)
    b.start()
    database = pg_ledger_target.url.split("/")[-1].split("?")[0]
    watcher = BindingLedger(postgres=pg_ledger_target)
    try:
        while b.is_alive():  # until B waits on A's lock (or, without one, has finished)
            with watcher._store.read() as conn:
                waiting = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND wait_event_type = 'Lock'", (database,)
                ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.005)
    finally:
        release.set()
        a.join(60)
        b.join(60)
        watcher.close()
    call = one.call("huawei", "c1")
    assert [e.kind for e in call.events] == ["callin", "answer", "disconnect"]
    assert call == merge([start, answer, end])
    assert (call.ended_at, call.duration_s) == (end.at, 60)
    one.close()
    two.close()


def test_calls_pushed_before_their_binding_was_recorded_are_linked_when_it_is(ledger):
    ledger.add_call_events(answered_call("early", subscription_id="s1", x=""))
    ledger.add_call_events(answered_call("other", subscription_id="s2", x=""))
    assert ledger.call("huawei", "early").binding_key == ""
    ledger.record_created(binding("s1"))
    ledger.record_imported([binding("s2")])
    assert ledger.call("huawei", "early").binding_key == "huawei:s1"
    assert ledger.call("huawei", "other").binding_key == "huawei:s2"
