"""The headless CLI's `main()` in this process, where a test needs the emulators' fault queues
(a lost answer, a provider error) or many runs that a child process each would make slow: the
whole resource x format matrix, every bind field check, each subcommand's --help."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import httpx
import pytest

from providers.sandbox import TelnyxSandbox
from providers.sandbox.huawei import HuaweiSandbox
from providers.sandbox.volcengine import VolcSandbox
from providers.session import sandbox_session
from tests.cli.test_headless import EXPECTED_FIELDS, FORMATS, RESOURCES, keys_anywhere, parse
from tui import cli, headless
from tui.resources import REGISTRY

FIXED_NOW = 1_790_000_000.0
HUAWEI_AXB = "/rest/caas/relationnumber/partners/v1.0"


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def run(*args: str, session=None, stdin: str = "") -> Ran:
    out, err = io.StringIO(), io.StringIO()
    code = headless.main(list(args), session=session, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture
def telnyx() -> TelnyxSandbox:
    return TelnyxSandbox(clock=lambda: FIXED_NOW)


def test_the_dispatch_in_tui_cli_names_every_headless_command():
    assert set(cli.HEADLESS_COMMANDS) == set(headless.COMMANDS)


def test_every_resource_in_every_format():
    first: dict[str, list[str]] = {}
    for resource in RESOURCES:
        for fmt in FORMATS:
            done = run("get", resource, "--sandbox", "-o", fmt)
            assert done.code == 0, f"{resource} {fmt}: {done.stderr}"
            if fmt == "table":
                lines = done.stdout.splitlines()
                assert len(lines) > 1 and "\x1b" not in done.stdout  # not a terminal: no colour
                if resource in REGISTRY:
                    assert lines[0].split()[0] == REGISTRY[resource].columns[0].label.split()[0]
                continue
            rows = parse(fmt, done.stdout)
            assert rows and EXPECTED_FIELDS[resource] <= set(rows[0]), f"{resource} {fmt}"
            assert not [k for k in keys_anywhere(rows) if k in ("token", "password", "value", "sip_password")]
            names = first.setdefault(resource, list(rows[0]))
            assert list(rows[0]) == names, f"{resource} {fmt}: the same field names in every format"


def test_filter_uses_the_consoles_rule_and_describe_shows_every_field():
    groups = json.loads(run("get", "billing", "--sandbox", "-o", "json").stdout)
    names = [g["name"] for g in groups]
    for text in ("emea", "EMEA", "!emea", "!", "zz-nothing"):
        shown = [g["name"] for g in json.loads(run("get", "bg", "--sandbox", "-o", "json", "--filter", text).stdout)]
        needle, invert = text.lstrip("!").lower(), text.startswith("!")
        assert shown == [n for n in names if not needle or (needle in n.lower()) != invert], text
    # The filter looks at the row's cells, as the console's does: the ID column is one of them.
    by_id = json.loads(run("get", "billing", "--sandbox", "-o", "json", "--filter", groups[3]["id"][:13]).stdout)
    assert [g["id"] for g in by_id] == [groups[3]["id"]]
    described = run("describe", "billing_groups", groups[3]["id"], "--sandbox", "-o", "json")
    assert json.loads(described.stdout) == groups[3]
    text = run("describe", "billing", groups[3]["id"], "--sandbox").stdout
    assert {line.split()[0] for line in text.splitlines()} == set(groups[3])


def test_filter_takes_the_consoles_regex_and_column_forms():
    ips = json.loads(run("get", "allowlist", "--sandbox", "-o", "json").stdout)
    pending = [ip["ip_address"] for ip in ips if ip["status"] == "pending"]
    assert pending and len(pending) < len(ips)
    by_column = json.loads(run("get", "allowlist", "--sandbox", "-o", "json", "--filter", "status:pending").stdout)
    assert [ip["ip_address"] for ip in by_column] == pending
    not_pending = json.loads(run("get", "ip", "--sandbox", "-o", "json", "--filter", "!status:pending").stdout)
    assert len(not_pending) == len(ips) - len(pending)
    v6 = json.loads(run("get", "allowlist", "--sandbox", "-o", "json", "--filter", "~^2001:db8:").stdout)
    assert v6 and all(ip["ip_address"].startswith("2001:db8:") for ip in v6)
    for bad in ("~(office", "colour:red"):
        refused = run("get", "allowlist", "--sandbox", "-o", "json", "--filter", bad)
        assert refused.code == 2 and refused.stdout == "" and "--filter" in refused.stderr, bad


def test_bindings_get_and_describe_by_subscription_id():
    bindings = json.loads(run("get", "bindings", "--sandbox", "-o", "json").stdout)
    huawei = next(b for b in bindings if b["provider"] == "huawei" and b["status"] == "active")
    one = json.loads(run("describe", "binding", huawei["subscription_id"], "--sandbox", "-o", "json").stdout)
    assert one["subscription_id"] == huawei["subscription_id"] and one["x"] == huawei["x"]
    by_key = run("describe", "axb", f"huawei:{huawei['subscription_id']}", "--sandbox", "-o", "json")
    assert json.loads(by_key.stdout)["subscription_id"] == huawei["subscription_id"]
    cut = parse("tsv", run("get", "bindings", "--sandbox", "--max-items", "3", "--filter", "huawei").stdout)
    assert len(cut) == 3 and {b["provider"] for b in cut} == {"huawei"}


def test_a_listing_the_provider_refuses_is_exit_1_with_its_code_and_no_data(telnyx):
    telnyx.faults.respond(
        "GET",
        "/billing_groups",
        403,
        {
            "errors": [
                {"code": "10010", "title": "Authorization failed", "detail": "not allowed to list billing groups"}
            ]
        },
        times=None,
    )
    done = run("get", "billing", "-o", "json", session=sandbox_session(handler=telnyx))
    assert done.code == 1 and done.stdout == ""
    assert "[10010]" in done.stderr and "listing billing groups" in done.stderr


def test_every_bind_field_problem_is_said_at_its_flag_before_sending():
    cases = {
        ("huawei", "--mode", "AXB", "--a", "13900001111", "--b", "+8613900002222"): "--a: not a Huawei number",
        ("aliyun", "--mode", "AXB", "--a", "13900001111"): "--b: required",
        ("aliyun", "--mode", "AXB", "--a", "1", "--b", "13900002222", "--expires", "+0m"): "--a: not an Aliyun number",
        ("aliyun", "--mode", "AXN", "--a", "13900001111", "--expires", "tomorrow"): "--expires: use +30m",
        ("aliyun", "--mode", "AXN", "--a", "13900001111", "--expires", "+0m"): "--expires: must be more than",
        ("volcengine", "--mode", "AXE", "--a", "13900001111"): "--mode: volcengine supports",
        ("volcengine", "--mode", "AXN", "--a", "13900001111", "--b", "13900002222"): "--b: not used by volcengine AXN",
        ("huawei", "--mode", "AX", "--a", "+8613900001111", "--pool", "P1"): "--pool: not used by huawei AX",
        (
            "volcengine",
            "--mode",
            "AXN",
            "--a",
            "13900001111",
            "--pool",
            "NP202601050000000201",
        ): "--pool: NP202601050000000201 is an AXB pool",
    }
    for args, said in cases.items():
        done = run("bind", *args, "--sandbox", "--yes")
        assert done.code == 2 and said in done.stderr and not done.stdout, (args, done.stderr)
        assert "nothing" in done.stderr or "before sending" in done.stderr


def test_each_subcommand_has_its_help(capsys):
    for command in cli.HEADLESS_COMMANDS:
        assert headless.main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert f"usage: teledeck {command}" in text and "--profile" in text and "exit status" in text
    assert headless.main(["get"]) == 2  # the resource is missing: argparse's usage error
    assert "the following arguments are required: RESOURCE" in capsys.readouterr().err


def _huawei_session(telnyx, huawei, tmp_path, **options):
    return sandbox_session(
        handler=telnyx, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "ledger.sqlite3", **options
    )


def _free_x(huawei: HuaweiSandbox) -> str:
    return next(
        x
        for x, n in huawei.state["numbers"]["AXB"].items()
        if n["status"] == "normal" and not any(r["relationNum"] == x for r in huawei.state["axb"])
    )


def test_a_bind_whose_answer_is_lost_is_found_by_what_was_sent_never_sent_twice(telnyx, tmp_path):
    huawei = HuaweiSandbox()
    x = _free_x(huawei)
    before = len(huawei.state["axb"])
    huawei.faults.reset("POST", HUAWEI_AXB, apply=True)  # bound, and the answer lost
    session = _huawei_session(telnyx, huawei, tmp_path)
    done = run(
        "bind",
        "huawei",
        "--mode",
        "AXB",
        "--a",
        "+8613800000041",
        "--b",
        "+8613800000042",
        "--x",
        x,
        "--yes",
        "-o",
        "json",
        session=session,
    )
    assert done.code == 0, done.stderr
    assert len(huawei.state["axb"]) == before + 1  # one binding: the check found it, nothing re-sent
    assert "a check found it by what was sent" in done.stderr
    [made] = json.loads(done.stdout)
    assert made["x"] == x and made["subscription_id"] == huawei.state["axb"][-1]["subscriptionId"]
    again = _huawei_session(telnyx, huawei, tmp_path)
    assert again.ledger.get(f"huawei:{made['subscription_id']}") is not None
    [entry] = [e for e in again.audit.entries() if e.verb == "bind"]
    assert entry.outcome == "done" and entry.id == made["subscription_id"]


def test_a_lost_volcengine_answer_is_re_sent_with_its_idempotent_id(telnyx, tmp_path):
    volc = VolcSandbox()
    volc.faults.reset("*", "/SelectNumberAndBindAXB", apply=True)
    session = sandbox_session(handler=telnyx, binding_handlers={"volcengine": volc}, ledger_path=tmp_path / "l.sqlite3")
    done = run(
        "bind",
        "volcengine",
        "--mode",
        "AXB",
        "--a",
        "13700080001",
        "--b",
        "13600080001",
        "--yes",
        "-o",
        "json",
        session=session,
    )
    assert done.code == 0, done.stderr
    assert volc.faults.fired.get("reset+apply") == 1  # the answer was lost
    made = [s for s in volc.state["subscriptions"] if s["PhoneNoA"] == "13700080001"]
    assert len(made) == 1  # re-sent with its IdempotentId: the vendor answered with the one it made
    assert json.loads(done.stdout)[0]["subscription_id"] == made[0]["SubId"]


def test_a_bind_of_unknown_outcome_waits_in_the_ledger_and_the_next_get_settles_it(telnyx, tmp_path):
    import asyncio

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    huawei = HuaweiSandbox()
    x = _free_x(huawei)
    before = len(huawei.state["axb"])
    huawei.faults.reset("POST", HUAWEI_AXB, apply=True)
    huawei.faults.respond("GET", HUAWEI_AXB, 503, times=None)  # and no check can tell
    options = {"client_options": {"huawei": {"sleep": no_wait}}}
    done = run(
        "bind",
        "huawei",
        "--mode",
        "AXB",
        "--a",
        "+8613800000051",
        "--b",
        "+8613800000052",
        "--x",
        x,
        "--yes",
        session=_huawei_session(telnyx, huawei, tmp_path, **options),
    )
    assert done.code == 1 and done.stdout == ""
    assert "outcome unknown" in done.stderr and "pending bind" in done.stderr
    assert len(_huawei_session(telnyx, huawei, tmp_path).ledger.pending_binds()) == 1
    huawei.faults.clear()
    listed = run("get", "bindings", "-o", "json", session=_huawei_session(telnyx, huawei, tmp_path, **options))
    assert listed.code == 0, listed.stderr
    assert "bind of unknown outcome settled" in listed.stderr
    assert len(huawei.state["axb"]) == before + 1  # bound once, never sent again
    made = huawei.state["axb"][-1]["subscriptionId"]
    assert made in {b["subscription_id"] for b in json.loads(listed.stdout)}
    assert _huawei_session(telnyx, huawei, tmp_path).ledger.pending_binds() == []


def test_the_recorder_lets_reads_through_stops_the_change_and_masks_credentials():
    """Reads reach the transport below (here a mock that counts them), the change stops before
    it, and what is shown of it has every credential masked."""
    from providers.dryrun import DryRunTransport, mask_body, mask_header, mask_url

    reached: list[httpx.Request] = []
    below = httpx.MockTransport(lambda request: reached.append(request) or httpx.Response(200, json={"data": []}))
    recorder = DryRunTransport("telnyx", below)

    async def go() -> None:
        client = httpx.AsyncClient(transport=recorder)
        await client.get("https://api.example/v2/billing_groups")
        with pytest.raises(Exception) as stopped:
            await client.delete("https://api.example/v2/billing_groups/1", headers={"Authorization": "Bearer KEY123"})
        assert type(stopped.value).__name__ == "DryRunStop"
        await client.aclose()

    import asyncio

    asyncio.run(go())
    assert [r.method for r in reached] == ["GET"]
    assert (
        recorder.captured[0].method == "DELETE" and dict(recorder.captured[0].headers)["authorization"] == "Bearer ***"
    )
    assert mask_header("X-WSSE", 'UsernameToken Username="k",PasswordDigest="d"') == "UsernameToken ***"
    assert mask_header("X-AKSK", "secret") == "***" and mask_header("Content-Type", "a/b") == "a/b"
    shown = mask_url("https://h/?Action=Bind&Signature=abc&AccessKeyId=AK1&SecretNo=17000000001&SignatureNonce=n")
    assert "abc" not in shown and "AK1" not in shown and "SecretNo=17000000001" in shown
    form = mask_body(b"Signature=xyz&PhoneNoA=139&AccessKeySecret=s", "application/x-www-form-urlencoded")
    assert form == {"Signature": "***", "PhoneNoA": "139", "AccessKeySecret": "***"}
    assert mask_body(b'{"token": "t", "a": {"password": "p", "b": 1}}', "application/json") == {
        "token": "***",
        "a": {"password": "***", "b": 1},
    }


def test_what_cannot_be_done_as_asked_is_exit_2():
    cases = {
        ("get", "profiles", "--sandbox"): "Profiles is a console screen, not a resource",
        ("get", "billing", "--sandbox", "--max-items", "0"): "must be at least 1",
        ("delete", "whatsapp", "123", "--sandbox", "--yes"): "cannot delete WhatsApp numbers",
        ("delete", "bindings", "123", "--sandbox", "--yes"): "teledeck unbind PROVIDER ID",
        ("unbind", "telnyx", "123", "--sandbox", "--yes"): "not a privacy-number provider",
        ("get", "billing", "--sandbox", "--profile", "x"): "not allowed with argument",
    }
    for args, said in cases.items():
        done = run(*args)
        assert done.code == 2 and said in done.stderr and not done.stdout, (args, done.stderr)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bind_asks_first_saying_what_it_worked_out():
    out, err = io.StringIO(), io.StringIO()
    args = ["bind", "volcengine", "--mode", "AXB", "--a", "13900001111", "--b", "13900002222", "--sandbox"]
    code = headless.main(args, stdin=_Terminal("n\n"), stdout=out, stderr=err)
    assert code == 1 and out.getvalue() == "" and "cancelled; nothing was sent" in err.getvalue()
    question = err.getvalue().splitlines()[0]
    # The AXB pool the form would pick (the account's own serves AXN), and the expiry from +2h.
    assert question.startswith("Bind volcengine AXB for A 13900001111, B 13900002222, X chosen by the provider")
    assert "in pool NP202601050000000201" in question and "expires 20" in question and "? [y/N] " in question
    assert run(*args).code == 2  # stdin not a terminal, no --yes


def test_a_profile_without_the_account_is_a_config_error_and_sends_nothing(monkeypatch):
    import os
    from pathlib import Path

    config = Path(os.environ["TELEDECK_CONFIG_DIR"]) / "config.toml"
    config.write_text(
        '[profiles.prod]\n\n[[profiles.prod.accounts]]\nkind = "telnyx"\nlabel = "telnyx-main"\n'
        'endpoint = "http://127.0.0.1:9/v2"\ncredentials = { api_key = "env:TD_TEST_KEY" }\n'
    )
    monkeypatch.setenv("TD_TEST_KEY", "KEY-test")
    for args, said in {
        ("get", "whatsapp", "--profile", "prod"): "profile 'prod' has no aliyun-cams account",
        ("bind", "huawei", "--mode", "AXB", "--a", "1", "--profile", "prod", "--yes"): "no huawei account",
        ("unbind", "aliyun", "1", "--profile", "prod", "--yes"): "no aliyun account",
    }.items():
        done = run(*args)
        assert done.code == 2 and said in done.stderr and not done.stdout, (args, done.stderr)


def test_a_dry_run_on_a_real_account_reads_through_the_network_and_stops_the_change(monkeypatch):
    """No transport below (a configured account): reads go out through an httpx client of the
    recorder's own; the change never reaches the server."""
    import asyncio
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from providers.dryrun import DryRunStop, DryRunTransport

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"GET {self.path}")
            body = b'{"data": []}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_DELETE(self) -> None:
            seen.append(f"DELETE {self.path}")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def go() -> None:
        recorder = DryRunTransport("telnyx")
        async with httpx.AsyncClient(transport=recorder) as client:
            answer = await client.get(f"{base}/v2/billing_groups")
            assert answer.json() == {"data": []}
            with pytest.raises(DryRunStop):
                await client.delete(f"{base}/v2/billing_groups/1", headers={"Authorization": "Bearer KEY123"})
        assert recorder.captured[0].url == f"{base}/v2/billing_groups/1"

    try:
        asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["GET /v2/billing_groups"]
