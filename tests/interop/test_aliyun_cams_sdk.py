"""The official Alibaba CAMS Python SDK (alibabacloud-cams20200606==5.3.1, runtime
alibabacloud-tea-openapi 0.4.6) against `teledeck sandbox serve --vendor aliyun-cams`.

The sandbox runs as a real subprocess on a free loopback port, exactly as a user starts it, with
TELEDECK_SANDBOX_CAMS_CUST_SPACE_ID set; the SDK is pointed at the printed address over plain
HTTP. The SDK signs with V3 ACS3-HMAC-SHA256 by default and with RPC HMAC-SHA1 when
`signature_algorithm='v2'`; it never retries (no runtime retry options), so a burst of 15 calls
shows the emulator's flow control as the SDK's own typed error.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

cams_client = pytest.importorskip("alibabacloud_cams20200606.client")

from alibabacloud_cams20200606 import models as cams_models  # noqa: E402
from alibabacloud_tea_openapi import models as openapi_models  # noqa: E402
from alibabacloud_tea_openapi.exceptions import ClientException  # noqa: E402

from providers.aliyun.cams import CODE_VERIFICATION_STATUSES, MESSAGING_LIMIT_TIERS, QUALITY_RATINGS, STATUSES  # noqa: E402
from providers.sandbox.aliyun_cams import (  # noqa: E402
    CUST_SPACE_ID_ENV,
    ISV_CUST_SPACE_ID,
    QPS_ENV,
    THROTTLE_CODE,
    THROTTLE_STATUS,
    CamsSandbox,
)
from providers.sandbox.aliyun_gateway import (  # noqa: E402
    ACCESS_KEY_ID_ENV,
    ACCESS_KEY_SECRET_ENV,
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
)

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
SPACE = "cams-interop-space-77"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`host:port` of a running `teledeck sandbox serve --vendor aliyun-cams`."""
    state_dir = tmp_path_factory.mktemp("cams-sdk-sandbox")
    env = {k: v for k, v in os.environ.items() if k not in (ACCESS_KEY_ID_ENV, ACCESS_KEY_SECRET_ENV, QPS_ENV)}
    env[CUST_SPACE_ID_ENV] = SPACE
    env["TELEDECK_DATA_DIR"] = str(state_dir)
    stderr = (state_dir / "stderr.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "sandbox",
            "serve",
            "--vendor",
            "aliyun-cams",
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )
    stderr.close()
    try:
        address = None
        printed = b""
        deadline = time.monotonic() + START_TIMEOUT
        while address is None and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                printed += os.read(proc.stdout.fileno(), 4096)
                match = re.search(rb"^aliyun-cams\s+http://(127\.0\.0\.1:\d+)\s.*\n", printed, re.MULTILINE)
                if match:
                    address = match.group(1).decode()
        if address is None:
            log = (state_dir / "stderr.log").read_text(errors="replace")
            pytest.fail(f"sandbox did not print its address; stdout={printed!r} stderr={log[-2000:]}")
        assert f"AccessKeyId: {DEFAULT_ACCESS_KEY_ID}".encode() in printed
        assert f"AccessKeySecret: {DEFAULT_ACCESS_KEY_SECRET}".encode() in printed
        assert f"CustSpaceId: {SPACE} (from ${CUST_SPACE_ID_ENV})".encode() in printed
        yield address
    finally:
        _stop(proc)


def _sdk(address: str, *, secret: str = DEFAULT_ACCESS_KEY_SECRET, algorithm: str | None = None) -> cams_client.Client:
    config = openapi_models.Config(
        access_key_id=DEFAULT_ACCESS_KEY_ID,
        access_key_secret=secret,
        endpoint=address,
        protocol="http",
        read_timeout=10000,
        connect_timeout=5000,
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return cams_client.Client(config)


def _sync(client: cams_client.Client, space: str = SPACE):
    return client.chatapp_sync_phone_number(cams_models.ChatappSyncPhoneNumberRequest(cust_space_id=space))


def test_sdk_syncs_the_seeded_numbers(served: str) -> None:
    response = _sync(_sdk(served))
    body = response.body
    assert response.status_code == 200 and body.code == "OK" and body.success is True and body.request_id
    numbers = body.phone_numbers
    assert len(numbers) == 13
    assert {n.status for n in numbers} == set(STATUSES)
    assert {n.quality_rating for n in numbers} == set(QUALITY_RATINGS)
    assert {n.messaging_limit_tier for n in numbers} == set(MESSAGING_LIMIT_TIERS)
    assert {n.code_verification_status for n in numbers} == set(CODE_VERIFICATION_STATUSES)
    first = numbers[0]
    assert (first.phone_number, first.verified_name, first.name_status) == (
        "14155550101",
        "Northwind Support",
        "APPROVED",
    )
    assert first.status_callback_url.startswith("https://") and first.up_callback_url.startswith("https://")
    assert first.status_queue.startswith("alicom-") and first.up_queue.startswith("alicom-")
    renamed = next(n for n in numbers if n.phone_number == "14155550102")
    assert (renamed.verified_name, renamed.new_name_status) == ("Northwind Sales & Service", "APPROVED")


def test_sdk_queries_with_filters(served: str) -> None:
    client = _sdk(served)
    banned = client.query_chatapp_phone_numbers(
        cams_models.QueryChatappPhoneNumbersRequest(cust_space_id=SPACE, status="BANNED")
    ).body
    assert banned.code == "OK" and [n.phone_number for n in banned.phone_numbers] == ["61491570157"]
    assert banned.phone_numbers[0].quality_rating == "RED"
    isv = client.query_chatapp_phone_numbers(
        cams_models.QueryChatappPhoneNumbersRequest(cust_space_id=ISV_CUST_SPACE_ID, isv_code="isv-code")
    ).body
    assert [n.phone_number for n in isv.phone_numbers] == ["61491570158", "61491570159"]


def test_sdk_rpc_signature_v1(served: str) -> None:
    body = _sync(_sdk(served, algorithm="v2")).body
    assert body.code == "OK" and len(body.phone_numbers) == 13


def test_sdk_wrong_secret_is_refused(served: str) -> None:
    for algorithm in (None, "v2"):
        with pytest.raises(ClientException) as refused:
            _sync(_sdk(served, secret="not-the-sandbox-secret", algorithm=algorithm))
        assert refused.value.code == "SignatureDoesNotMatch" and refused.value.status_code == 400
        assert refused.value.request_id


def test_sdk_unknown_space_is_refused(served: str) -> None:
    with pytest.raises(ClientException) as refused:
        _sync(_sdk(served), "cams-teledeck-sandbox-01")  # the default id; the env replaced it
    assert refused.value.code == "InvalidParameter" and "CustSpaceId" in refused.value.message


def _burst(address: str, size: int = 15) -> tuple[float, list[object]]:
    """`size` SDK calls released together from as many threads: (seconds taken, outcomes)."""
    clients = [_sdk(address) for _ in range(size)]
    barrier = threading.Barrier(size + 1)
    outcomes: list[object] = [None] * size

    def call(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = _sync(clients[index]).body.code
        except ClientException as error:
            outcomes[index] = (error.code, error.status_code)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(size)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout=20)
    return time.monotonic() - started, outcomes


def test_sdk_burst_of_fifteen_calls_in_one_second_is_throttled() -> None:
    """The documented 10 calls per second, whatever this machine's speed: the emulator's clock is
    held still (the flow-control window's too), so all 15 calls fall in one window by construction."""
    from providers.sandbox import serve

    now = time.time()
    emulator = CamsSandbox(clock=lambda: now, rate_clock=lambda: 0.0, cust_space_id=SPACE)
    server = serve(emulator, port=0)
    try:
        _elapsed, outcomes = _burst(f"127.0.0.1:{server.port}")
    finally:
        server.shutdown()
    throttled_answer = (THROTTLE_CODE, THROTTLE_STATUS)
    assert all(o in ("OK", throttled_answer) for o in outcomes), outcomes
    assert outcomes.count("OK") == 10, outcomes
    assert outcomes.count(throttled_answer) == 5, outcomes
