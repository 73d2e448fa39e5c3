"""Issue 13's acceptance, end to end: two `teledeck receiver serve` processes of one team on one
PostgreSQL ledger, each vendor's push sent over HTTP the vendor's way (a good one and one with a
wrong secret), a binding recorded by a third process, and `teledeck get calls -o json` from a
fourth. Nothing here is mocked: the receivers are the real program under uvicorn, the ledger a
real PostgreSQL server (tests/pg_server.py), the pushes signed by the vendors' formulas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.huawei import pushes as huawei_pushes
from providers.huawei.auth import format_created, new_nonce
from providers.volcengine import pushes as volc_pushes

ROOT = Path(__file__).resolve().parents[2]

HW_KEY, HW_SECRET = "teamHuaweiAppKey000000000000001", "teamHuaweiAppSecret00000000001"
VOLC_TOKEN = "teamVolcCb000001"
PLS_TOKEN = "team-receipts-0123456789"

CONFIG = """
default_profile = "team"

[ledger]
url = "{url}"
password = "env:TEAM_LEDGER_PW"

[profiles.team]
[[profiles.team.accounts]]
kind = "huawei"
label = "hw-team"
credentials = {{ app_key = "env:TEAM_HW_KEY", app_secret = "env:TEAM_HW_SECRET" }}

[[profiles.team.accounts]]
kind = "volcengine"
label = "volc-team"
number_pool_no = "NP202601050000000202"
credentials = {{ access_key_id = "env:TEAM_VOLC_AK", secret_access_key = "env:TEAM_VOLC_SK", callback_auth_token = "env:TEAM_VOLC_CB" }}

[[profiles.team.accounts]]
kind = "aliyun-pls"
label = "pls-team"
pool_key = "FC100000000000001"
credentials = {{ access_key_id = "env:TEAM_PLS_AK", access_key_secret = "env:TEAM_PLS_SK", receipt_token = "env:TEAM_PLS_TOKEN" }}
"""

# A busy call through a binding the team recorded (its subscriptionId), as Huawei's CDR says it.
HUAWEI_CDR: dict[str, Any] = {
    "eventType": "fee",
    "feeLst": [
        {
            "direction": 0,
            "spId": "sp01",
            "appKey": HW_KEY,
            "icid": "ba171f34e6953fcd751edc77127748f4.3757285803.338666679.5",
            "bindNum": "+8617000000101",
            "sessionId": "1200_1827_4294967295_20261202023003@callenabler246.huaweicaas.com",
            "subscriptionId": "sub-team-1",
            "callerNum": "+8613800000021",
            "calleeNum": "+8617000000101",
            "fwdDisplayNum": "+8617000000101",
            "fwdDstNum": "+8613800000022",
            "callInTime": "2026-12-02 02:30:03",
            "fwdStartTime": "2026-12-02 02:30:03",
            "fwdAlertingTime": "2026-12-02 02:30:04",
            "fwdAnswerTime": "",
            "callEndTime": "2026-12-02 02:30:09",
            "fwdUnaswRsn": 17,
            "ulFailReason": 0,
            "sipStatusCode": 486,
            "recordFlag": 0,
            "serviceType": "003",
            "hostName": "callenabler246.huaweicaas.com",
        }
    ],
}
VOLC_CDR = {
    "accountId": "1",
    "callId": "NM20261202023000000001012500007a8c",
    "serviceType": 200,
    "subServiceType": 201,
    "numberPoolNo": "NP202601050000000202",
    "caller": "13100001111",
    "callee": "13100002222",
    "beginCallTime": 1764642600000,
    "ringTime": 1764642602000,
    "startTime": 0,
    "endTime": 1764642630000,
    "releaseType": 1,
    "callDuration": 0,
    "callResult": 7,
    "audioRecordFlag": 0,
    "cdrCreateTime": 1764642631000,
    "userData": "",
    "subscriptionId": "S1683527429757",
    "phoneNoX": "13100003333",
    "phoneNoA": "13100001111",
    "phoneNoB": "13100002222",
    "secretCallType": 11,
    "messageType": 2,
}
# A call to an X with no binding: the commonest triage answer.
PLS_RECEIPTS = [
    {
        "pool_key": "FC100000000000001",
        "sub_id": 0,
        "call_id": "c-team-1",
        "phone_no": "13800000031",
        "secret_no": "17000001002",
        "peer_no": "",
        "call_type": 0,
        "call_time": "2026-12-02 10:40:00",
        "control_msg": "NO_SUBS_EXIST",
        "unconnected_cause": 2,
    }
]

RECORD_BINDING = r"""
from providers.bindings import ACTIVE, Binding
from tui.config import load_config, resolve_profile
from tui.sessions import open_profile_session

session = open_profile_session(resolve_profile("team", config=load_config()))
session.ledger.record_created(Binding(provider="huawei", mode="AXB", subscription_id="sub-team-1",
                                      x="+8617000000101", a="+8613800000021", b="+8613800000022", status=ACTIVE))
print("recorded", flush=True)
"""


def teledeck_env(pg) -> dict[str, str]:
    return {
        **os.environ,
        "TEAM_LEDGER_PW": pg.password,
        "TEAM_HW_KEY": HW_KEY,
        "TEAM_HW_SECRET": HW_SECRET,
        "TEAM_VOLC_AK": "AKLTteamAccessKey0000000000000",
        "TEAM_VOLC_SK": "team-volc-secret-key-0000000000",
        "TEAM_VOLC_CB": VOLC_TOKEN,
        "TEAM_PLS_AK": "TeamAliyunKeyId",
        "TEAM_PLS_SK": "TeamAliyunSecret0000000000",
        "TEAM_PLS_TOKEN": PLS_TOKEN,
    }


def start_receiver(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A `teledeck receiver serve` on a free port, and its base URL once it listens."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "receiver", "serve", "--port", "0"],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    for _ in range(20):
        line = child.stdout.readline()
        if line.startswith("listening on "):
            return child, line.split()[2]
        if not line:
            break
    child.kill()
    raise AssertionError(f"the receiver did not start: {child.communicate()[1]}")


def huawei_push(client: httpx.Client, base: str, secret: str) -> httpx.Response:
    """Huawei's push, signed anew for each delivery (a retry carries a fresh nonce and time)."""
    request = huawei_pushes.push_request(
        HUAWEI_CDR, HW_KEY, secret, created=format_created(time.time()), nonce=new_nonce()
    )
    return client.post(base + request.route, content=request.body, headers=dict(request.headers))


def volc_push(client: httpx.Client, base: str, token: str) -> httpx.Response:
    body = json.dumps(VOLC_CDR).encode()
    query = volc_pushes.sign(body, token, timestamp=int(time.time()))
    return client.post(base + "/volcengine/callback", params=query, content=body)


def pls_push(client: httpx.Client, base: str, token: str) -> httpx.Response:
    body = json.dumps(PLS_RECEIPTS, ensure_ascii=False).encode()
    return client.post(f"{base}/aliyun/receipts/{token}", content=body)


def get_calls(env: dict[str, str]) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "get", "calls", "-o", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


@pytest.fixture
def team(pg_ledger_target):
    from tui.config import config_path

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG.format(url=pg_ledger_target.url))
    return teledeck_env(pg_ledger_target)


def test_pushes_checked_the_vendors_way_reach_get_calls_once_with_their_causes_in_words(team, pg_ledger_target):
    recorded = subprocess.run(
        [sys.executable, "-c", RECORD_BINDING], cwd=ROOT, env=team, capture_output=True, text=True, timeout=120
    )
    assert recorded.stdout.strip() == "recorded", recorded.stderr
    first, first_url = start_receiver(team)
    second, second_url = start_receiver(team)
    try:
        with httpx.Client(timeout=10) as client:
            # Huawei: the CDR taken by one receiver, its retry by the other: 200 with an empty body.
            for base in (first_url, second_url):
                answer = huawei_push(client, base, HW_SECRET)
                assert (answer.status_code, answer.content) == (200, b"")
            wrong = huawei_push(client, first_url, "not-the-app-secret-0000000000")
            assert wrong.status_code == 401
            # Volcengine: a good authCode, then the same callback with another AuthToken's.
            assert volc_push(client, second_url, VOLC_TOKEN).status_code == 200
            assert volc_push(client, first_url, "wrongToken000001").status_code == 401
            # Alibaba: the receipt URL's token is the check; the answer is the one Dypls reads.
            answer = pls_push(client, first_url, PLS_TOKEN)
            assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "接收成功"}
            assert pls_push(client, second_url, "team-receipts-guessed-000").status_code == 401
    finally:
        for child in (first, second):
            child.terminate()
        logs = [child.communicate(timeout=30)[1] for child in (first, second)]
    for log in logs:  # refusals logged, never with a secret
        assert "401" in log or "refused" in log.lower()
        for secret in (HW_SECRET, VOLC_TOKEN, PLS_TOKEN, "team-receipts-guessed-000", "wrongToken000001"):
            assert secret not in log

    calls = {str(row["provider"]): row for row in get_calls(team)}
    assert sorted(calls) == ["aliyun", "huawei", "volcengine"]  # the refused pushes stored nothing
    huawei = calls["huawei"]
    assert (huawei["outcome"], huawei["cause"]) == ("busy", "user busy")
    assert huawei["binding"] == "huawei:sub-team-1"  # the binding another process recorded
    assert huawei["started_at"] == "2026-12-02T02:30:03+00:00" and huawei["x"] == "+8617000000101"
    assert (huawei["answered_at"], huawei["ended_at"]) == (None, "2026-12-02T02:30:09+00:00")  # the CDR alone says so
    assert calls["aliyun"]["outcome"] == "no binding" and "NO_SUBS_EXIST" in str(calls["aliyun"]["cause"])
    assert calls["volcengine"]["outcome"] != "in progress" and calls["volcengine"]["cause"]
    assert set(huawei) >= {
        "provider", "call_id", "subscription_id", "x", "caller", "callee", "started_at", "answered_at",
        "ended_at", "duration_s", "outcome", "cause_code", "cause",
    }  # fmt: skip

    from providers.ledger import BindingLedger

    with BindingLedger(postgres=pg_ledger_target) as ledger:  # the CDR delivered twice is one event
        events = ledger.call_events("huawei", HUAWEI_CDR["feeLst"][0]["sessionId"])
        assert [e.kind for e in events] == ["fee"]
