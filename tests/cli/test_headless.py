"""The headless CLI in a child process, as a script would run it: every resource in every format,
--filter and --max-items, describe, delete, bind and unbind on each binding vendor, --dry-run,
read-only and offline refusal, and the exit codes (0 done, 1 provider error, 2 usage/config)."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys

from providers.cache import is_secret_field
from tests.cli.conftest import ROOT, Cli
from tui.resources import REGISTRY

RESOURCES = [*REGISTRY, "bindings"]
FORMATS = ["table", "json", "jsonl", "csv", "tsv"]
# Field names each resource's records carry, by the vendor's own words.
EXPECTED_FIELDS = {
    "allowlist": {"id", "ip_address", "status", "created_at"},
    "ranges": {"id", "cidr_block", "status"},
    "addresses": {"id", "street_address", "country_code"},
    "sso": {"id", "name", "short_name", "settings"},
    "billing": {"id", "name", "record_type"},
    "secrets": {"id", "identifier", "type"},
    "credentials": {"id", "name", "sip_username"},
    "whatsapp": {"PhoneNumber", "Status", "QualityRating"},
    "bindings": {"provider", "mode", "subscription_id", "a", "x", "expires_at", "status"},
}
LEAK = "LEAKED-VALUE-0000"
HOSTILE_NAME = "Lobby \x1b[31mred\x1b]0;owned\x07 kiosk \x9b2J \u202eevil"
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def parse(fmt: str, text: str) -> list[dict]:
    if fmt == "json":
        data = json.loads(text)
        assert isinstance(data, list)
        return data
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "tsv":
        lines = text.splitlines()
        header = lines[0].split("\t")
        rows = [line.split("\t") for line in lines[1:]]
        assert all(len(row) == len(header) for row in rows), "a tab or line break inside a cell split it"
        return [dict(zip(header, row, strict=True)) for row in rows]
    raise AssertionError(fmt)


def keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def telnyx_state(cli: Cli) -> dict:
    """The Telnyx emulator's saved state (what a get would list), read without a run."""
    return json.loads(cli.sandbox_state("telnyx").read_text())["telnyx"]


def billing_ids(cli: Cli) -> set[str]:
    return {g["id"] for g in telnyx_state(cli)["billing_groups"]}


def make_hostile(cli: Cli) -> None:
    """The server sends secret fields it should not (a token, a SIP password) and a credential
    name full of terminal control: none of it may reach the output as it is."""
    path = cli.sandbox_state("telnyx")
    state = json.loads(path.read_text())
    telnyx = state["telnyx"]
    telnyx["credentials"][0]["sip_password"] = LEAK
    telnyx["credentials"][0]["name"] = HOSTILE_NAME
    telnyx["integration_secrets"][0]["token"] = LEAK
    telnyx["integration_secrets"][0]["value"] = LEAK
    path.write_text(json.dumps(state))


def test_every_resource_and_every_format_from_a_shell_with_no_secret_and_no_control(cli):
    """Each resource in a child process, every format among them (tests/cli/test_headless_inprocess.py
    runs every pair in process), against a server that sends secrets and terminal control."""
    make_hostile(cli)
    combos = [
        ("allowlist", "json"),
        ("ranges", "jsonl"),
        ("addresses", "csv"),
        ("sso", "tsv"),
        ("billing", "table"),
        ("secrets", "csv"),
        ("credentials", "table"),
        ("credentials", "json"),
        ("whatsapp", "jsonl"),
        ("bindings", "json"),
    ]
    assert {r for r, _ in combos} == set(RESOURCES) and {f for _, f in combos} == set(FORMATS)
    results = dict(zip(combos, cli.run_all([("get", r, "--sandbox", "-o", f) for r, f in combos]), strict=True))
    for (resource, fmt), done in results.items():
        where = f"get {resource} -o {fmt}"
        assert done.returncode == 0, f"{where}: {done.stderr}"
        assert LEAK not in done.stdout and LEAK not in done.stderr, where
        assert not TERMINAL_CONTROL.search(done.stdout.replace("\n", "").replace("\t", "")), where
        if fmt == "table":
            lines = done.stdout.splitlines()
            assert lines[0].split() == " ".join(c.label for c in REGISTRY[resource].columns).split(), where
            assert len(lines) > 1, where
            continue
        rows = parse(fmt, done.stdout)
        assert rows, where
        assert EXPECTED_FIELDS[resource] <= set(rows[0]), f"{where}: {list(rows[0])}"
        secret = {k for k in keys_anywhere(rows) if is_secret_field(k)}
        assert not secret, f"{where}: secret fields {secret}"
    # The hostile name is shown, with its control characters made visible; JSON keeps it escaped.
    assert "Lobby ␛[31mred␛]0;owned␇ kiosk" in results[("credentials", "table")].stdout
    as_json = results[("credentials", "json")].stdout
    assert HOSTILE_NAME in {row["name"] for row in json.loads(as_json)}
    assert "\\u001b[31m" in as_json and "\\u009b" in as_json and "\\u202e" in as_json
    # An integration secret's type is known only from the filter it was listed by: it is kept.
    assert {row["type"] for row in parse("csv", results[("secrets", "csv")].stdout)} <= {"bearer", "basic"}


def test_a_get_caches_the_list_and_offline_reads_it_saying_how_old(cli):
    online = cli.run("get", "billing", "--sandbox", "-o", "json")
    assert online.returncode == 0, online.stderr
    requests = cli.log().count(" -> ")
    offline = cli.run("get", "billing", "--offline", "-o", "json")  # the sandbox profile, by default
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout) == json.loads(online.stdout)
    assert re.search(r"offline: billing groups from the cache, \d+ s old", offline.stderr)
    assert cli.log().count(" -> ") == requests  # nothing was sent


def test_max_items_stops_paging_early(cli):
    # The allowlist is three pages at the default page size: one row needs only the first.
    assert len(telnyx_state(cli)["access_ips"]) > 2 * 20
    done = cli.run("get", "allowlist", "--sandbox", "-o", "tsv", "--max-items", "1")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2  # the header and one row
    requests = [line for line in cli.log().splitlines() if "GET " in line and "/access_ip_address" in line]
    assert len(requests) == 1, requests


def test_delete_asks_refuses_on_a_pipe_settles_each_id_and_audits(cli):
    groups = telnyx_state(cli)["billing_groups"]
    in_use = next(g for g in groups if g.get("_in_use"))  # the sandbox refuses it: still in use
    free = [g for g in groups if not g.get("_in_use")][:2]
    unknown = "00000000-0000-4000-8000-000000000000"

    asked = cli.run("delete", "billing", free[0]["id"], "--sandbox")  # stdin is a pipe
    assert asked.returncode == 2 and "--yes" in asked.stderr and not asked.stdout
    assert cli.audit() == []

    done = cli.run("delete", "bg", free[0]["id"], free[1]["id"], unknown, in_use["id"], "--sandbox", "--yes")
    assert done.returncode == 1, done.stderr
    assert not done.stdout  # messages on stderr only
    assert "Deleted billing group" in done.stderr
    assert "[10005]" in done.stderr  # the unknown id: the vendor's code
    assert "[10021]" in done.stderr  # in use
    assert done.stderr.strip().splitlines()[-1] == "done 2, failed 2, unknown 0"
    left = billing_ids(cli)
    assert free[0]["id"] not in left and free[1]["id"] not in left and in_use["id"] in left
    audit = {(e["id"], e["outcome"]) for e in cli.audit()}
    assert audit == {(free[0]["id"], "done"), (free[1]["id"], "done"), (unknown, "failed"), (in_use["id"], "failed")}
    assert all(e["verb"] == "delete" and e["resource"] == "billing" for e in cli.audit())
    failed = next(e for e in cli.audit() if e["id"] == in_use["id"])
    assert failed["detail"].startswith("[10021]") and failed["request_id"]

    gone = cli.run("delete", "billing", unknown, "--sandbox", "--yes", "--ignore-not-found")
    assert gone.returncode == 0, gone.stderr


def test_dry_run_prints_the_signed_request_masked_and_changes_nothing(cli):
    target = next(g for g in telnyx_state(cli)["billing_groups"] if not g.get("_in_use"))
    shown, as_json = cli.run_all(
        [
            ("delete", "billing", target["id"], "--sandbox", "--dry-run"),
            ("delete", "billing", target["id"], "--sandbox", "--dry-run", "-o", "json"),
        ]
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"DELETE https://sandbox.teledeck.invalid/v2/billing_groups/{target['id']}")
    assert re.search(r"^authorization: Bearer \*\*\*$", shown.stdout, re.M | re.I)
    assert "KEYTELEDECKSANDBOX" not in shown.stdout and "KEYTELEDECKSANDBOX" not in as_json.stdout
    assert "nothing was sent" in shown.stderr
    request = json.loads(as_json.stdout)[0]
    assert request["method"] == "DELETE" and request["headers"]["authorization"] == "Bearer ***"
    assert target["id"] in billing_ids(cli)
    assert cli.audit() == []  # a dry run appends nothing
    assert "DELETE" not in cli.log()


# The three binding vendors, with numbers of their own formats (the sandbox's pools and cities).
BIND = {
    "aliyun": ("--a", "13900001111", "--b", "13900002222"),
    "huawei": ("--a", "+8613900001111", "--b", "+8613900002222"),
    "volcengine": ("--a", "13900001111", "--b", "13900002222"),
}
# What a dry run of each must mask: its credential header, and no secret or key id in clear.
MASKED = {
    "aliyun": ("authorization: ACS3-HMAC-SHA256 ***", "TeledeckSandboxAliyunSecret", "TeledeckSandboxAliyunKeyId"),
    "huawei": ("x-aksk: UsernameToken ***", "TeledeckSandboxAXBSecret0public", "PasswordDigest"),
    "volcengine": ("authorization: HMAC-SHA256 ***", "teledeck-volc-sandbox-secret", "AKLTteledeckSandbox"),
}


def test_bind_then_unbind_on_each_binding_vendor_with_dry_runs(cli):
    vendors = sorted(BIND)
    dry = cli.run_all([("bind", v, "--mode", "AXB", *BIND[v], "--sandbox", "--dry-run") for v in vendors])
    for vendor, done in zip(vendors, dry, strict=True):
        assert done.returncode == 0, done.stderr
        header, clear_secret, clear_id = MASKED[vendor]
        assert done.stdout.startswith("POST ") and header.lower() in done.stdout.lower(), done.stdout
        assert clear_secret not in done.stdout and clear_id not in done.stdout
    assert cli.audit() == []

    bound = cli.run_all([("bind", v, "--mode", "AXB", *BIND[v], "--sandbox", "--yes", "-o", "json") for v in vendors])
    made = {}
    for vendor, done in zip(vendors, bound, strict=True):
        assert done.returncode == 0, done.stderr
        [binding] = json.loads(done.stdout)
        assert binding["provider"] == vendor and binding["mode"] == "AXB" and binding["status"] == "active"
        assert binding["a"] == BIND[vendor][1] and f"subscription {binding['subscription_id']}" in done.stderr
        made[vendor] = binding["subscription_id"]

    dry_unbind = cli.run_all([("unbind", v, made[v], "--sandbox", "--dry-run", "-o", "json") for v in vendors])
    for done in dry_unbind:
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)[0]["method"] in ("POST", "DELETE")
    refused = cli.run("unbind", "huawei", made["huawei"], "--sandbox")  # no --yes, stdin a pipe
    assert refused.returncode == 2 and "--yes" in refused.stderr

    unbound = cli.run_all([("unbind", v, made[v], "--sandbox", "--yes") for v in vendors])
    for done in unbound:
        assert done.returncode == 0 and "done 1, failed 0, unknown 0" in done.stderr, done.stderr
    ledger = {b["subscription_id"]: b for b in json.loads(cli.run("get", "bindings", "--offline", "-o", "json").stdout)}
    assert all(ledger[made[v]]["status"] == "removed" for v in vendors)
    audit = sorted((e["verb"], e["id"], e["outcome"]) for e in cli.audit())
    assert audit == sorted(
        [("bind", made[v], "done") for v in vendors] + [("unbind", made[v], "done") for v in vendors]
    )


def test_bind_with_bad_input_is_exit_2_with_the_fields_message(cli):
    bad = cli.run(
        "bind", "huawei", "--mode", "AXB", "--a", "13900001111", "--b", "+8613900002222", "--sandbox", "--yes"
    )
    assert bad.returncode == 2 and not bad.stdout
    assert "--a: not a Huawei number" in bad.stderr
    assert cli.audit() == [] and "relationnumber" not in cli.log()  # nothing was sent


def test_read_only_and_offline_refuse_every_change_before_anything_is_built(cli):
    cli.folder("config").mkdir(parents=True, exist_ok=True)
    (cli.folder("config") / "config.toml").write_text(
        '[profiles.prod]\nread_only = true\n\n[[profiles.prod.accounts]]\nkind = "telnyx"\n'
        'label = "telnyx-main"\nendpoint = "http://127.0.0.1:9/v2"\ncredentials = { api_key = "env:TD_TEST_KEY" }\n'
    )
    target = next(g["id"] for g in telnyx_state(cli)["billing_groups"] if not g.get("_in_use"))
    runs = cli.run_all(
        [
            ("delete", "billing", target, "--sandbox", "--read-only", "--yes"),
            ("delete", "billing", target, "--sandbox", "--offline", "--yes"),
            ("delete", "billing", target, "--sandbox", "--read-only", "--dry-run"),
            ("bind", "huawei", "--mode", "AXB", *BIND["huawei"], "--sandbox", "--read-only", "--yes"),
            ("unbind", "huawei", "anything", "--sandbox", "--offline", "--yes"),
        ]
    )
    for done in runs:
        assert done.returncode == 2 and not done.stdout, done.stderr
        assert "refused" in done.stderr and ("nothing was sent" in done.stderr or "sends nothing" in done.stderr)
    prod = cli.run("delete", "billing", target, "--profile", "prod", "--yes", env={"TD_TEST_KEY": "KEYsecret"})
    assert prod.returncode == 2 and "profile 'prod' is read-only" in prod.stderr
    assert target in billing_ids(cli)
    assert cli.audit() == [] and " -> " not in cli.log()  # no request at all


def test_usage_and_config_errors_are_exit_2_and_say_why(cli):
    unknown, fmt, no_profile, never_cached = cli.run_all(
        [
            ("get", "nonsense", "--sandbox"),
            ("get", "billing", "--sandbox", "-o", "yaml"),
            ("get", "billing", "--profile", "nope"),
            ("get", "billing", "--profile", "sandbox", "--offline", "-o", "json"),
        ]
    )
    for done in (unknown, fmt, no_profile):
        assert done.returncode == 2 and not done.stdout, done.stderr
    assert "unknown resource 'nonsense'" in unknown.stderr and "billing" in unknown.stderr
    assert "invalid choice: 'yaml'" in fmt.stderr
    assert "no profile named 'nope'" in no_profile.stderr
    assert never_cached.returncode == 1 and "nothing is cached" in never_cached.stderr


def test_help_lists_the_subcommands():
    top = subprocess.run([sys.executable, "-m", "tui.cli", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert top.returncode == 0
    for command in (
        "teledeck get RESOURCE",
        "teledeck describe",
        "teledeck delete",
        "teledeck bind",
        "teledeck unbind",
    ):
        assert command in top.stdout


def _on_a_terminal(cli: Cli, *args: str, env: dict[str, str] | None = None, answer: bytes = b"") -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pseudo-terminal; what it showed, and the exit."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env={**cli.env, **(env or {}), "TERM": "xterm"},
        stdin=child,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    if answer:
        os.write(main, answer)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    return process.wait(timeout=60), shown.decode("utf-8", "replace")


def test_on_a_terminal_a_table_in_colour_unless_no_color_and_a_question_first(cli):
    code, shown = _on_a_terminal(cli, "get", "billing", "--sandbox")
    assert code == 0
    assert "\x1b[1mNAME" in shown  # the default on a terminal: a table, its header in bold
    code, plain = _on_a_terminal(cli, "get", "billing", "--sandbox", env={"NO_COLOR": "1"})
    assert code == 0 and "NAME" in plain and "\x1b[" not in plain
    target = next(g for g in telnyx_state(cli)["billing_groups"] if not g.get("_in_use"))
    code, asked = _on_a_terminal(cli, "delete", "billing", target["id"], "--sandbox", answer=b"n\n")
    assert f"Delete 1 billing group: {target['name']}? [y/N]" in asked  # named from the cache
    assert code == 1 and "cancelled; nothing was sent" in asked
    assert target["id"] in billing_ids(cli)
