"""A session's clients are built once, on first use, and may be built in a worker thread
(`ProviderSession.aconnection`) while the event loop asks for the same one."""

from __future__ import annotations

import asyncio
import threading

import pytest

from providers.accounts import Account
from providers.errors import MissingAccount
from providers.session import Connection, ProviderSession
from providers.vendors import descriptor


def counting_session(connect_started: threading.Event | None = None, release: threading.Event | None = None):
    """A session with one Telnyx account whose connect records each call and its thread, and
    can be held until `release` is set."""
    calls: list[threading.Thread] = []
    account = Account(kind="telnyx", label="t", credentials={"api_key": "k"})

    def connect() -> tuple[Account, object]:
        calls.append(threading.current_thread())
        if connect_started is not None:
            connect_started.set()
        if release is not None:
            assert release.wait(30)
        return account, object()

    session = ProviderSession("p", sandbox=False, read_only=False)
    session.connections.append(Connection(descriptor("telnyx"), account, connect))
    return session, calls


def test_one_client_however_many_threads_ask_at_once():
    started, release = threading.Event(), threading.Event()
    session, calls = counting_session(started, release)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(session.client("telnyx"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert started.wait(30)
    release.set()  # every other thread is now waiting for the one connecting
    for thread in threads:
        thread.join(30)
    assert len(calls) == 1 and len(got) == 8 and len({id(client) for client in got}) == 1


def test_aconnection_builds_the_client_in_a_worker_thread_once():
    session, calls = counting_session()

    async def twice() -> tuple[object, object]:
        first = await session.aconnection("telnyx")
        second = await session.aconnection("telnyx")
        return first.client, second.client

    first, second = asyncio.run(twice())
    assert first is second is session.client("telnyx")
    assert len(calls) == 1 and calls[0] is not threading.main_thread()


def test_aconnection_for_a_provider_without_an_account_says_so():
    session, calls = counting_session()
    with pytest.raises(MissingAccount, match="no aliyun-cams account"):
        asyncio.run(session.aconnection("aliyun-cams"))
    assert calls == []
