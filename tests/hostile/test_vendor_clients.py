"""Every binding and CAMS vendor's client against the hostile modes that apply to any vendor.

Each account is the sandbox's own (credentials, pool, watched numbers) with its endpoint moved
to the hostile server, opened by the one session factory; the read is the vendor's own probe
(`t` on the Profiles screen), a bind is the write. Errors under 200 are not among these modes:
for Alibaba, Huawei and Volcengine a vendor error code in a 200 answer is the vendor's own error
channel, and comes back as the vendor's typed error (their own test files cover that).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from providers.bindings import BindRequest
from providers.cache import ResultCache
from providers.errors import MalformedResponse, ProviderError, Timeout
from providers.session import SandboxBackend, open_session
from providers.vendors import descriptor
from tests.hostile.conftest import SMALL, measure
from tests.hostile.server import HostileServer

KINDS = ("aliyun-pls", "aliyun-cams", "huawei", "volcengine")
MODES = {
    "gzip_bomb": (MalformedResponse, "larger than 4 MiB decompressed"),
    "endless": (MalformedResponse, "larger than 1 MiB"),
    "deep": (MalformedResponse, "nested deeper than 64 levels"),
    "slow": (Timeout, f"no complete answer within {SMALL.deadline:g} s"),
    "null": (MalformedResponse, "null"),
    "wrong_shape": (MalformedResponse, ""),
}


def hostile_session(kind: str, server: HostileServer, tmp_path):
    vendor = descriptor(kind)
    account = SandboxBackend(tmp_path, {}, persist=False).emulator(vendor).session_account()
    account = replace(account, endpoint=server.url)
    session = open_session(
        "hostile",
        [account],
        cache=ResultCache(persist=False),
        ledger_path=tmp_path / "ledger.sqlite3",
        client_options={vendor.provider: {"limits": SMALL}},
    )
    return vendor, account, session


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("kind", KINDS)
async def test_a_read_ends_in_a_named_error(hostile, tmp_path, kind, mode):
    hostile.mode = mode
    expected, words = MODES[mode]
    vendor, account, session = hostile_session(kind, hostile, tmp_path)
    client = session.client(vendor.provider)
    try:
        with measure(f"{kind} probe, {mode}") as measured, pytest.raises(ProviderError) as caught:
            await vendor.probe(client, account)
    finally:
        await session.aclose()
    error = caught.value
    assert isinstance(error, expected), repr(error)
    assert words in error.message
    assert error.provider == vendor.provider
    assert "Traceback" not in error.summary()
    print(f"{kind} {mode}: {type(error).__name__}: {error.summary()}")
    measured.assert_bounded()
    assert measured.seconds < SMALL.deadline + 3


@pytest.mark.parametrize("kind", ("aliyun-pls", "huawei", "volcengine"))
async def test_a_bind_cut_off_by_the_deadline_may_have_been_applied(hostile, tmp_path, kind):
    hostile.mode = "slow"
    vendor, account, session = hostile_session(kind, hostile, tmp_path)
    provider = session.client(vendor.provider)
    x = account.watch[0][0] if account.watch else ""
    request = BindRequest(
        mode="AXB",
        a="+8613800000001" if kind != "volcengine" else "13800000001",
        b="+8613800000002" if kind != "volcengine" else "13800000002",
        x=x,
        pool=account.watch[0][1] if account.watch else "",
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    try:
        with pytest.raises(Timeout) as caught:
            await provider.bind(request)
    finally:
        await session.aclose()
    assert caught.value.maybe_applied
    assert len(hostile.requests) == 1  # never re-sent
