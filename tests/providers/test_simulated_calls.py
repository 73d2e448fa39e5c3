"""The console's sandbox session: simulated calls pushed to its in-process receiver and stored in
its own ledger (ProviderSession.place_simulated_call), refused where nothing may be written."""

from __future__ import annotations

import asyncio

import pytest

from providers.accounts import Account
from providers.errors import Offline, ProviderError, ReadOnlyRefused, ValidationError
from providers.pushes import push_spec
from providers.session import open_session, sandbox_session
from tests.providers.push_fixture import FixtureHuawei, install

T0 = 1_900_000_000.0


@pytest.fixture(autouse=True)
def _fixture_pushes(monkeypatch):
    install(monkeypatch)
    yield
    push_spec.cache_clear()


def session_of(tmp_path, **kw):
    emulator = FixtureHuawei(None, clock=lambda: T0)
    return sandbox_session(
        state_dir=tmp_path, binding_handlers={"huawei": emulator}, kinds=["huawei"], clock=lambda: T0, **kw
    )


def test_a_simulated_call_is_pushed_to_the_in_process_receiver_and_stored(tmp_path):
    session = session_of(tmp_path)
    simulated, deliveries = asyncio.run(session.place_simulated_call("huawei", outcome="busy", binding_id="b1"))
    assert [d.status for d in deliveries] == [200, 200]
    events = session.ledger.call_events("huawei", simulated.call_id)
    assert sorted(e.kind for e in events) == ["callin", "disconnect"]
    assert {e.account for e in events} == {"huawei"}  # the sandbox profile's label for the account
    assert (tmp_path / "bindings.sqlite3").exists()  # the sandbox's own ledger


def test_simulated_calls_and_the_sessions_own_ledger_use_share_one_ledger(tmp_path):
    session = session_of(tmp_path)

    async def go():
        calls = [session.place_simulated_call("huawei", outcome="answered", binding_id=f"b{i}") for i in range(6)]
        reads = [asyncio.to_thread(session.ledger.calls) for _ in range(6)]
        return await asyncio.gather(*calls, *reads)

    results = asyncio.run(go())
    placed = results[:6]
    assert all(d.status == 200 for _, deliveries in placed for d in deliveries)
    assert {c.call_id for c in session.ledger.calls()} == {s.call_id for s, _ in placed}


@pytest.mark.parametrize(("flags", "refusal"), [({"read_only": True}, ReadOnlyRefused), ({"offline": True}, Offline)])
def test_a_read_only_or_offline_sandbox_refuses_a_simulated_call(tmp_path, flags, refusal):
    session = session_of(tmp_path, **flags)
    with pytest.raises(refusal, match="no call was made"):
        asyncio.run(session.place_simulated_call("huawei", outcome="busy", binding_id="b1"))
    assert not (tmp_path / "bindings.sqlite3").exists()  # nothing opened, nothing written


def test_a_real_profile_has_no_simulated_calls(tmp_path):
    session = open_session(
        "prod", [Account(kind="huawei", label="hw", credentials={"app_key": "k", "app_secret": "s"})]
    )
    with pytest.raises(ProviderError, match="built-in sandbox's"):
        asyncio.run(session.place_simulated_call("huawei", outcome="busy", binding_id="b1"))


def test_an_outcome_the_sandbox_does_not_simulate_is_refused_first(tmp_path):
    session = session_of(tmp_path)
    with pytest.raises(ValidationError, match="one of answered, busy, no answer, no binding"):
        asyncio.run(session.place_simulated_call("huawei", outcome="exploded", binding_id="b1"))
