"""The audit log: one JSON line per change, 0600, newest first, never a secret."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

from providers import audit
from providers.audit import AuditLog, collect_request_ids, note_request_id
from providers.errors import ProviderError
from providers.outcomes import Outcome, WriteOutcome
from providers.session import sandbox_session


def test_lines_are_appended_0600_and_read_newest_first(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    for n in range(5):
        log.record(profile="p", account="acc", verb="delete", resource="billing", record_id=f"id{n}", outcome="done")
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.path.parent).st_mode) == 0o700
    lines = log.path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["id0", "id1", "id2", "id3", "id4"]
    assert [e.id for e in log.entries(limit=3)] == ["id4", "id3", "id2"]


def test_an_unknown_outcome_word_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AuditLog(tmp_path / "x.jsonl").record(
            profile="p", account="a", verb="v", resource="r", record_id="i", outcome="maybe"
        )


def test_credentials_in_a_detail_are_masked(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(
        profile="p",
        account="a",
        verb="bind",
        resource="bindings",
        record_id="1",
        outcome="failed",
        detail="refused: Authorization: Bearer KEYabc123 token=s3cr3t\x1b[31m",
    )
    text = log.path.read_text()
    assert "KEYabc123" not in text and "s3cr3t" not in text and "\x1b" not in text
    assert "***" in text


def test_unreadable_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('not json\n[1,2]\n{"at":"2026-01-01T00:00:00Z","verb":"delete","outcome":"done"}\n')
    log = AuditLog(path)
    entries = log.entries()
    assert [e.verb for e in entries] == ["delete"]
    assert log.unreadable == 2


def test_a_full_file_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "MAX_BYTES", 200)
    log = AuditLog(tmp_path / "audit.jsonl")
    for n in range(10):
        log.record(profile="p", account="a", verb="delete", resource="r", record_id=str(n), outcome="done")
    assert (tmp_path / "audit.jsonl.1").exists()
    assert log.path.stat().st_size < 400


def test_request_ids_reach_the_collector_from_child_tasks() -> None:
    async def child() -> None:
        await asyncio.sleep(0)
        note_request_id("r1")

    async def main() -> list[str]:
        with collect_request_ids() as ids:
            await asyncio.gather(child())
            note_request_id("r2")
        note_request_id("outside")
        return ids

    assert asyncio.run(main()) == ["r1", "r2"]


async def test_session_audited_records_outcome_and_request_id(tmp_path: Path) -> None:
    session = sandbox_session(state_dir=tmp_path / "state")
    session.audit_path = tmp_path / "audit.jsonl"

    async def write() -> WriteOutcome[None]:
        note_request_id("req-42")
        return WriteOutcome(
            Outcome.NOT_DONE, "delete", error=ProviderError("Bad request", code="10015", status=400, provider="telnyx")
        )

    outcome = await session.audited("telnyx", write, verb="delete", resource="billing", record_id="bg-1")
    assert outcome.not_done
    (entry,) = session.audit.entries()
    assert (entry.verb, entry.resource, entry.id, entry.outcome, entry.request_id) == (
        "delete",
        "billing",
        "bg-1",
        "failed",
        "req-42",
    )
    assert "10015" in entry.detail
    assert entry.profile == session.profile
    await session.aclose()


async def test_a_cancelled_write_is_recorded_unknown(tmp_path: Path) -> None:
    session = sandbox_session(state_dir=tmp_path / "state")
    session.audit_path = tmp_path / "audit.jsonl"

    async def write() -> WriteOutcome[None]:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await session.audited("telnyx", write, verb="delete", resource="billing", record_id="bg-2")
    (entry,) = session.audit.entries()
    assert entry.outcome == "unknown" and entry.id == "bg-2"
    await session.aclose()


async def test_an_action_that_raises_is_recorded_done_failed_unknown_or_interrupted(tmp_path: Path) -> None:
    from providers.errors import Timeout

    session = sandbox_session(state_dir=tmp_path / "state")
    session.audit_path = tmp_path / "audit.jsonl"

    async def rotate() -> str:
        note_request_id("req-7")
        return "rotated"

    async def refused() -> str:
        raise ProviderError("Forbidden", code="10010", status=403, provider="telnyx")

    async def lost() -> str:
        raise Timeout("no answer in 10 s", provider="telnyx", maybe_applied=True)

    async def interrupted() -> str:
        raise asyncio.CancelledError

    kw = {"verb": "rotate", "resource": "secrets"}
    assert await session.audited_call("telnyx", rotate, record_id="s-1", **kw) == "rotated"
    with pytest.raises(ProviderError):
        await session.audited_call("telnyx", refused, record_id="s-2", **kw)
    with pytest.raises(Timeout):
        await session.audited_call("telnyx", lost, record_id="s-3", **kw)
    with pytest.raises(asyncio.CancelledError):
        await session.audited_call("telnyx", interrupted, record_id="s-4", **kw)
    entries = {e.id: e for e in session.audit.entries()}
    assert {k: e.outcome for k, e in entries.items()} == {
        "s-1": "done",
        "s-2": "failed",
        "s-3": "unknown",
        "s-4": "unknown",
    }
    assert entries["s-1"].request_id == "req-7" and "10010" in entries["s-2"].detail
    assert entries["s-4"].detail == "interrupted: CancelledError"
    await session.aclose()
