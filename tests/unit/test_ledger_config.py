"""`[ledger]` in config.toml, its password where every credential lives, the sessions that use it,
and `teledeck ledger migrate|status` against a real PostgreSQL server and a file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui.config import (
    ConfigError,
    LedgerConfig,
    MissingCredentialError,
    SecretInConfigError,
    load_config,
    load_secrets,
    resolve_profile,
    save_config,
    save_secret,
    secrets_path,
)
from tui.sessions import ledger_target, open_profile_session

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "providers" / "data"


def write_config(text: str) -> Path:
    path = Path(os.environ["TELEDECK_CONFIG_DIR"]) / "config.toml"
    path.write_text(text)
    return path


TEAM = """
default_profile = "team"

[ledger]
url = "{url}"
password = "{password}"

[profiles.team]
"""


def test_the_ledger_table_loads_and_survives_a_save():
    path = write_config(TEAM.format(url="postgresql://team@db.example:5432/teledeck", password="env:LEDGER_PW"))
    config = load_config()
    assert config.ledger == LedgerConfig("postgresql://team@db.example:5432/teledeck", "env:LEDGER_PW")
    save_config(config)  # e.g. the Profiles screen saving a profile
    assert load_config().ledger == config.ledger
    assert "[ledger]" in path.read_text()


@pytest.mark.parametrize(
    ("url", "password", "refused", "said"),
    [
        ("postgresql://team:hunter2pw@db.example/teledeck", "env:LEDGER_PW", SecretInConfigError, "holds a password"),
        ("postgresql://team@db.example/teledeck", "hunter2pw", SecretInConfigError, "never the password"),
        ("postgresql://team@db.example", "env:LEDGER_PW", ConfigError, "name the database"),
        ("http://db.example/teledeck", "env:LEDGER_PW", ConfigError, "expected postgresql://"),
        ("postgresql://team@db.example/teledeck", "env:1BAD", ConfigError, "not an environment variable name"),
    ],
)
def test_a_ledger_table_config_refuses_is_one_line_without_the_password(url, password, refused, said):
    write_config(TEAM.format(url=url, password=password))
    with pytest.raises(refused) as error:
        load_config()
    assert said in str(error.value) and "hunter2pw" not in str(error.value) and "\n" not in str(error.value)


def test_unknown_keys_in_the_ledger_table_are_refused():
    write_config('[ledger]\nurl = "postgresql://t@h/db"\nschema = "x"\n')
    with pytest.raises(ConfigError, match="ledger: unknown key schema"):
        load_config()


def test_the_password_from_the_environment_or_the_secrets_file():
    ledger = LedgerConfig("postgresql://team@db.example/teledeck", "env:LEDGER_PW")
    team = resolve_profile("team", config=_config(ledger))
    with pytest.raises(MissingCredentialError, match="environment variable LEDGER_PW"):
        ledger_target(team, _config(ledger))
    os.environ["LEDGER_PW"] = "pw-from-env"
    try:
        target = ledger_target(team, _config(ledger))
        assert (target.url, target.password, target.shown) == (ledger.url, "pw-from-env", ledger.url)
        assert "pw-from-env" not in repr(target)
    finally:
        del os.environ["LEDGER_PW"]
    in_file = LedgerConfig(ledger.url, "secrets-file")
    with pytest.raises(MissingCredentialError, match=r"expected \[ledger\] password"):
        ledger_target(team, _config(in_file))
    save_secret("ledger", "", "password", "pw-from-file")
    save_secret("team", "telnyx-main", "api_key", "KEY123")  # another secret rewrites the file
    assert ledger_target(team, _config(in_file)).password == "pw-from-file"
    assert '[ledger]\npassword = "pw-from-file"' in secrets_path().read_text()
    assert load_secrets()["team"]["telnyx-main"] == {"api_key": "KEY123"}
    assert ledger_target(resolve_profile("sandbox", config=_config(in_file)), _config(in_file)) is None


def _config(ledger: LedgerConfig):
    from tui.config import Config, Profile

    return Config(profiles={"team": Profile("team")}, ledger=ledger)


def test_sessions_of_configured_profiles_use_the_shared_ledger_the_sandbox_never(monkeypatch):
    write_config(TEAM.format(url="postgresql://team@db.example:5432/teledeck", password="env:LEDGER_PW"))
    with pytest.raises(ConfigError, match="LEDGER_PW"):
        open_profile_session(resolve_profile("team", config=load_config()))
    monkeypatch.setenv("LEDGER_PW", "pw")
    session = open_profile_session(resolve_profile("team", config=load_config()))
    assert session.ledger_target.shown == "postgresql://team@db.example:5432/teledeck"
    assert session.ledger_target.password == "pw"
    assert open_profile_session(resolve_profile("sandbox", config=load_config())).ledger_target is None


# ---- teledeck ledger migrate | status --------------------------------------------------------------


def teledeck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_migrate_creates_then_finds_the_shared_schema_up_to_date(pg_target):
    write_config(TEAM.format(url=pg_target.url, password="env:TEAM_LEDGER_PW"))
    env = {"TEAM_LEDGER_PW": pg_target.password}
    status = teledeck("ledger", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"ledger {pg_target.shown}: schema 0; `teledeck ledger migrate` would apply 1 ")
    done = teledeck("ledger", "migrate", "--profile", "team", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"ledger {pg_target.shown}: schema 0 -> 5 (5 migrations)\n",
        "",
    )
    again = teledeck("ledger", "migrate", env=env)
    assert again.stdout == f"ledger {pg_target.shown}: schema 5, up to date\n"
    assert teledeck("ledger", "status", env=env).stdout == f"ledger {pg_target.shown}: schema 5, up to date\n"


def test_migrate_with_a_wrong_password_or_a_bad_url_exits_2_with_one_line(pg_target):
    write_config(TEAM.format(url=pg_target.url, password="env:TEAM_LEDGER_PW"))
    wrong = teledeck("ledger", "migrate", env={"TEAM_LEDGER_PW": "wrong-pw-1234"})
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.count("\n") == 1 and "password authentication failed" in wrong.stderr
    assert "wrong-pw-1234" not in wrong.stderr and pg_target.password not in wrong.stderr
    unset = teledeck("ledger", "migrate")
    assert unset.returncode == 2 and "TEAM_LEDGER_PW" in unset.stderr and unset.stderr.count("\n") == 1
    write_config(TEAM.format(url=pg_target.url.replace("postgres@", "postgres:inline-pw@"), password=""))
    inline = teledeck("ledger", "migrate")
    assert inline.returncode == 2 and "holds a password" in inline.stderr and "inline-pw" not in inline.stderr
    assert inline.stderr.count("\n") == 1


def test_migrate_upgrades_an_old_file_and_the_sandbox_keeps_its_own(tmp_path):
    data = Path(os.environ["TELEDECK_DATA_DIR"])
    shutil.copy(DATA / "ledger-schema3.sqlite3", data / "bindings.sqlite3")
    write_config('[profiles.mine]\ndescription = "no [ledger]: my own file"\n')
    done = teledeck("ledger", "migrate", "--profile", "mine")
    assert done.stdout == f"ledger {data / 'bindings.sqlite3'}: schema 3 -> 5 (2 migrations)\n", done.stderr
    sandbox = teledeck("ledger", "status", "--sandbox")
    assert sandbox.returncode == 0 and "sandbox" in sandbox.stdout and "schema 0;" in sandbox.stdout
    assert not (data / "sandbox" / "bindings.sqlite3").exists()  # status changes nothing


# ---- acceptance: two processes on one PostgreSQL ledger ---------------------------------------------

CONSOLE = r"""
import json, sys
from datetime import UTC, datetime, timedelta
from providers.bindings import ACTIVE, Binding
from providers.calls import START, CallEvent
from tui.config import load_config, resolve_profile
from tui.sessions import open_profile_session

who = sys.argv[1]
session = open_profile_session(resolve_profile("team", config=load_config()))
ledger = session.ledger
T0 = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
ledger.record_created(Binding(provider="huawei", mode="AX", subscription_id=f"by-{who}", x="+8617000000001",
                              a="+8613800000001", status=ACTIVE))
sys.stdin.readline()  # both bound
push = CallEvent(provider="huawei", call_id="shared-call", kind="callin", stage=START, at=T0, received_at=T0,
                 subscription_id="by-a")
print(json.dumps({"new": ledger.add_call_events([push, push])}), flush=True)
sys.stdin.readline()
print(json.dumps({"bindings": sorted(b.key for b in ledger.all()),
                  "calls": [(c.call_id, c.binding_key) for c in ledger.calls()],
                  "events": len(ledger.call_events("huawei", "shared-call"))}), flush=True)
session.audit.record(profile="team", account="hw", verb="bind", resource="bindings", record_id=f"by-{who}",
                     outcome="done")
"""


def test_two_processes_on_one_postgresql_ledger_see_each_others_bindings_and_calls(pg_ledger_target):
    write_config(TEAM.format(url=pg_ledger_target.url, password="env:TEAM_LEDGER_PW"))
    env = {**os.environ, "TEAM_LEDGER_PW": pg_ledger_target.password}
    children = {
        who: subprocess.Popen(
            [sys.executable, "-c", CONSOLE, who],
            cwd=ROOT,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for who in ("a", "b")
    }
    for child in children.values():
        child.stdin.write("pushes\n")
        child.stdin.flush()
    first = {who: json.loads(child.stdout.readline() or "{}") for who, child in children.items()}
    for child in children.values():
        child.stdin.write("look\n")
        child.stdin.flush()
    seen = {who: json.loads(child.stdout.readline() or "{}") for who, child in children.items()}
    for child in children.values():
        child.communicate(timeout=60)
    assert [c.returncode for c in children.values()] == [0, 0], [c.stderr for c in children.values()]
    assert sorted(r["new"] for r in first.values()) == [0, 1]  # the same push twice, from two: stored once
    expected = {"bindings": ["huawei:by-a", "huawei:by-b"], "calls": [["shared-call", "huawei:by-a"]], "events": 1}
    assert seen == {"a": expected, "b": expected}
    from providers.ledger import BindingLedger

    with BindingLedger(postgres=pg_ledger_target) as led:
        assert sorted(e.id for e in led.audit_entries()) == ["by-a", "by-b"]  # one audit for the team
