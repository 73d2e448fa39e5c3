"""What only a PostgreSQL ledger has: a server to reach, a password never shown, a connection that
can break, a NUL it cannot store, and the audit a team shares."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from providers.audit import AuditLog
from providers.bindings import ACTIVE, Binding
from providers.ledger import BindingLedger, LedgerError
from providers.ledger_store import PostgresTarget, shown_url, url_problem

T0 = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


def a_binding(sub: str = "s1", **kw) -> Binding:
    return Binding(provider="huawei", mode="AX", subscription_id=sub, x="+8617000000001", status=ACTIVE, **kw)


def test_a_wrong_password_is_one_line_naming_the_server_never_the_password(pg_ledger_target):
    wrong = PostgresTarget(pg_ledger_target.url, "not-the-password-7f3a")
    with pytest.raises(LedgerError) as refused:
        BindingLedger(postgres=wrong)
    text = str(refused.value)
    assert text.startswith(f"cannot open the ledger {pg_ledger_target.shown}: ")
    assert "password authentication failed" in text
    assert "not-the-password-7f3a" not in text and pg_ledger_target.password not in text
    assert "\n" not in text and "options=" not in text


def test_a_server_that_is_not_there_is_a_ledger_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    target = PostgresTarget(f"postgresql://teledeck@127.0.0.1:{port}/ledger", "pw-never-shown")
    with pytest.raises(
        LedgerError, match=rf"cannot open the ledger postgresql://teledeck@127.0.0.1:{port}/ledger: .*refused"
    ):
        BindingLedger(postgres=target)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u:s3cr3tpw@db.example:5432/ledger", "holds a password"),
        ("postgresql://u@db.example/ledger?password=s3cr3tpw", "holds a password"),
        ("mysql://u@db.example/ledger", "expected postgresql://"),
        ("postgresql://u@db.example:5432", "name the database"),
        ("postgresql://u@db.example/ledger#x", "fragment"),
    ],
)
def test_urls_a_ledger_refuses(url, problem):
    assert problem in (url_problem(url) or "")
    with pytest.raises(LedgerError) as refused:
        PostgresTarget(url)
    assert "s3cr3tpw" not in str(refused.value)


def test_urls_as_shown():
    assert (
        shown_url("postgresql://team@db.example:5432/ledger?sslmode=require")
        == "postgresql://team@db.example:5432/ledger"
    )
    assert shown_url("postgres://u:secret@h/db") == "postgres://u@h/db"
    assert url_problem("postgresql://team@db.example:5432/ledger?sslmode=verify-full") is None
    assert url_problem("postgresql:///ledger?host=/var/run/postgresql") is None


def test_a_connection_cut_while_idle_is_replaced_before_the_next_read_and_write(pg_server, pg_ledger_target):
    with BindingLedger(postgres=pg_ledger_target) as led:
        led.record_created(a_binding("before"))
        database = pg_ledger_target.url.split("/")[-1].split("?")[0]
        pg_server.admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
            "AND application_name = 'teledeck'",
            database=database,
        )
        assert [b.key for b in led.all()] == ["huawei:before"]  # a read on a new connection
        pg_server.admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
            "AND application_name = 'teledeck'",
            database=database,
        )
        led.record_created(a_binding("after"))  # BEGIN on a new connection
        assert {b.key for b in led.all()} == {"huawei:before", "huawei:after"}


def test_text_postgresql_cannot_hold_is_refused_like_any_unstorable_value(pg_ledger_target):
    with BindingLedger(postgres=pg_ledger_target) as led:
        with pytest.raises(ValueError, match="PostgreSQL"):
            led.record_created(a_binding(user_data="nul\x00byte"))
        assert led.all() == []
        led.record_created(a_binding())  # the connection is still good
        assert len(led.all()) == 1


def test_two_consoles_on_one_ledger_share_one_audit(tmp_path, pg_ledger_target):
    one_ledger, two_ledger = BindingLedger(postgres=pg_ledger_target), BindingLedger(postgres=pg_ledger_target)
    one = AuditLog(tmp_path / "one" / "audit.jsonl", shared=lambda: one_ledger, actor="ana@console")
    two = AuditLog(tmp_path / "two" / "audit.jsonl", shared=lambda: two_ledger, actor="bo@server")
    one.record(profile="prod", account="hw", verb="bind", resource="bindings", record_id="s1", outcome="done", at=T0)
    two.record(
        profile="prod", account="hw", verb="unbind", resource="bindings", record_id="s1", outcome="unknown",
        detail="timeout; token=abc123", at=T0.replace(second=9),
    )  # fmt: skip
    for log in (one, two):
        entries = log.entries()
        assert [(e.verb, e.actor, e.at) for e in entries] == [
            ("unbind", "bo@server", "2031-03-04T05:06:09Z"),
            ("bind", "ana@console", "2031-03-04T05:06:07Z"),
        ]
        assert "abc123" not in entries[0].detail
        assert log.problem == ""
    # each machine's file keeps its own lines
    assert [e.verb for e in one._file_entries(10)] == ["bind"] and [e.verb for e in two._file_entries(10)] == ["unbind"]
    one_ledger.close()
    two_ledger.close()


def test_a_shared_audit_whose_ledger_is_down_keeps_the_line_in_the_file(tmp_path):
    def down() -> BindingLedger:
        raise LedgerError("cannot open the ledger postgresql://t@h/db: connection refused")

    log = AuditLog(tmp_path / "audit.jsonl", shared=down, actor="ana@console")
    log.record(profile="p", account="a", verb="delete", resource="ips", record_id="1", outcome="done")
    assert log.unshared == 1
    assert [e.id for e in log.entries()] == ["1"]  # the file, and why
    assert "could not be read" in log.problem and "connection refused" in log.problem


def test_a_binding_made_while_the_server_is_away_waits_in_the_journal(pg_ledger_target, monkeypatch):
    from contextlib import contextmanager

    from providers.ledger_store import LedgerUnavailable

    led = BindingLedger(postgres=pg_ledger_target, lock_retries=1, lock_retry_wait=0.01)
    led.record_created(a_binding("known"))
    real = (led._store.transaction, led._store.read)

    @contextmanager
    def away(*args, **kw):
        raise LedgerUnavailable(f"cannot write to the ledger {pg_ledger_target.shown}: server closed the connection")
        yield

    monkeypatch.setattr(led._store, "transaction", away)
    monkeypatch.setattr(led._store, "read", away)
    made = a_binding("made-meanwhile")
    assert led.record_created(made) == made  # the vendor made it: kept here until the server is back
    with pytest.raises(LedgerUnavailable, match="the unbind of huawei:known is kept in"):
        led.mark_unbound("huawei:known")
    assert led.journaled == 2 and led.pending_journal() == 2
    assert oct(led.journal_path.stat().st_mode & 0o777) == "0o600"
    assert led.replay_journal() == 0 and led.journal_path.exists()  # still away: kept
    led._store.transaction, led._store.read = real
    led.close()
    with BindingLedger(postgres=pg_ledger_target) as back:
        assert back.replayed == 2 and not back.journal_path.exists()
        assert back.get("huawei:made-meanwhile") == made
        assert back.get("huawei:known").status == "removed"


def test_a_session_on_a_shared_ledger_audits_to_it_and_says_where(tmp_path, pg_ledger_target):
    from providers.session import open_session

    session = open_session("team", [], ledger_target=pg_ledger_target, audit_path=tmp_path / "audit.jsonl")
    assert session.audit.location == f"the team's ledger {pg_ledger_target.shown}"
    assert session.note_change("huawei", "unbind", "bindings", "s9", "done", ["req-1"], "")
    assert [(e.id, e.request_id) for e in session.ledger.audit_entries()] == [("s9", "req-1")]
    assert [e.id for e in session.audit.entries()] == ["s9"]
    assert open_session("me", [], audit_path=tmp_path / "mine.jsonl").audit.location == str(tmp_path / "mine.jsonl")
    session.ledger.close()
