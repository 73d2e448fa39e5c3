"""The retry policy, rate limiter and redaction in providers/transport.py."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from providers.errors import ProviderError, RateLimited, ReadOnlyRefused, Timeout, Unavailable
from providers.telnyx.errors import error_from_response
from providers.transport import (
    RateLimiter,
    RetryAdvice,
    RetryPolicy,
    Transport,
    parse_retry_after,
    redact_text,
    redact_url,
)


class Script:
    """An httpx transport that answers from a list of steps and records each request."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def make(script: Script, **kw):
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = Transport(
        provider="telnyx",
        base_url="https://api.example/v2",
        error_mapper=error_from_response,
        http_transport=httpx.MockTransport(script),
        sleep=fake_sleep,
        **kw,
    )
    return transport, sleeps


def ok(body=None):
    return httpx.Response(200, json=body or {"data": []})


async def test_get_is_retried_on_5xx_then_succeeds():
    script = Script(httpx.Response(503), httpx.Response(502), ok())
    transport, sleeps = make(script)
    response = await transport.request("GET", "/x")
    assert response.status_code == 200
    assert len(script.requests) == 3
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1] <= 8.0


async def test_backoff_is_capped_with_jitter():
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    delays = [policy.backoff(n) for n in range(10)]
    assert all(d <= 8.0 for d in delays)
    assert 0.375 <= delays[0] <= 0.5
    assert 6.0 <= delays[9] <= 8.0


async def test_get_gives_up_after_max_retries_with_vendor_error():
    body = {"errors": [{"code": "10007", "title": "Unexpected error", "detail": "try later"}]}
    script = Script(*(httpx.Response(500, json=body) for _ in range(3)))
    transport, _ = make(script)
    with pytest.raises(Unavailable) as caught:
        await transport.request("GET", "/x")
    assert caught.value.code == "10007" and "try later" in str(caught.value)
    assert len(script.requests) == 3


async def test_delete_is_retried_on_429_honouring_retry_after():
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), ok())
    transport, sleeps = make(script)
    await transport.request("DELETE", "/x/1")
    assert sleeps == [2.0]


async def test_post_is_not_resent_after_a_5xx():
    script = Script(httpx.Response(500), ok())
    transport, _ = make(script)
    with pytest.raises(Unavailable):
        await transport.request("POST", "/x", json={"a": 1})
    assert len(script.requests) == 1


async def test_post_read_timeout_is_not_resent_and_says_it_may_have_applied():
    script = Script(httpx.ReadTimeout("slow"), ok())
    transport, _ = make(script)
    with pytest.raises(Timeout) as caught:
        await transport.request("POST", "/x", json={})
    assert caught.value.maybe_applied is True
    assert len(script.requests) == 1


async def test_post_connect_error_is_resent_because_nothing_reached_the_server():
    script = Script(httpx.ConnectError("refused"), ok())
    transport, _ = make(script)
    response = await transport.request("POST", "/x", json={})
    assert response.status_code == 200 and len(script.requests) == 2


async def test_get_read_timeout_is_retried():
    script = Script(httpx.ReadTimeout("slow"), ok())
    transport, _ = make(script)
    assert (await transport.request("GET", "/x")).status_code == 200


async def test_long_retry_after_surfaces_as_rate_limited():
    body = {"errors": [{"code": "10011", "title": "Too many requests"}]}
    script = Script(httpx.Response(429, json=body, headers={"Retry-After": "600"}))
    transport, sleeps = make(script)
    with pytest.raises(RateLimited) as caught:
        await transport.request("GET", "/x")
    assert caught.value.retry_after == 600 and caught.value.code == "10011"
    assert sleeps == []


async def test_read_only_transport_refuses_writes_before_sending():
    script = Script(ok())
    transport, _ = make(script, read_only=True)
    with pytest.raises(ReadOnlyRefused):
        await transport.request("DELETE", "/x/1")
    assert script.requests == []
    # A POST that changes nothing (address validation) is allowed when the caller says so.
    await transport.request("POST", "/validate", json={}, mutates=False)
    assert len(script.requests) == 1


async def test_rate_limit_headers_are_read():
    script = Script(
        httpx.Response(
            200, json={}, headers={"x-ratelimit-limit": "100", "x-ratelimit-remaining": "7", "x-ratelimit-reset": "3"}
        )
    )
    transport, _ = make(script)
    await transport.request("GET", "/x")
    assert (transport.rate_limit.limit, transport.rate_limit.remaining, transport.rate_limit.reset_seconds) == (
        100,
        7,
        3,
    )


def test_parse_retry_after_forms():
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert parse_retry_after({"x-ratelimit-reset": "4"}) == 4.0
    assert parse_retry_after({}) is None


def test_redaction_of_urls_and_text():
    assert "s3cr3t" not in redact_url("https://h/x?Signature=s3cr3t&page[number]=2")
    assert "page[number]=2" in redact_url("https://h/x?Signature=s3cr3t&page[number]=2")
    assert redact_text("key KEY123456 in message", ["KEY123456"]) == "key *** in message"


async def test_logs_never_contain_the_api_key(caplog):
    key = "KEYverysecret_0123456789"
    script = Script(httpx.Response(401, json={"errors": [{"code": "10009", "title": f"bad key {key}"}]}))
    transport, _ = make(script, headers={"Authorization": f"Bearer {key}"}, secrets=[key])
    caplog.set_level(logging.DEBUG, logger="teledeck.http")
    with pytest.raises(Exception) as caught:
        await transport.request("GET", "/x?token=abc")
    assert key not in str(caught.value)
    assert key not in caplog.text and "abc" not in caplog.text


async def test_rate_limiter_never_exceeds_rate_in_any_window():
    now = [0.0]
    limiter = RateLimiter(10, 1.0, clock=lambda: now[0])
    stamps: list[float] = []

    async def fake_sleep_forward():
        for _ in range(25):
            await limiter.acquire()
            stamps.append(now[0])
            now[0] += 0.01

    real_sleep = asyncio.sleep

    async def advancing_sleep(seconds):
        now[0] += seconds
        await real_sleep(0)

    asyncio.sleep = advancing_sleep  # the limiter waits with asyncio.sleep
    try:
        await fake_sleep_forward()
    finally:
        asyncio.sleep = real_sleep
    for t in stamps:
        assert sum(1 for s in stamps if t <= s < t + 1.0) <= 10


async def test_offline_transport_sends_nothing():
    from providers.errors import Offline
    from providers.transport import OfflineTransport

    transport = Transport(
        provider="telnyx",
        base_url="https://api.example/v2",
        error_mapper=error_from_response,
        http_transport=OfflineTransport(),
    )
    with pytest.raises(Offline):
        await transport.request("GET", "/x")
    assert transport.requests_sent == 0


def test_a_shared_limiter_works_across_event_loops():
    limiter = RateLimiter(1, 0.01)

    async def burst():
        await asyncio.gather(limiter.acquire(), limiter.acquire(), limiter.acquire())

    asyncio.run(burst())
    asyncio.run(burst())  # a second loop: the lock must not be tied to the first one


# ---- the vendor's retry hook ---------------------------------------------------------------

SLOW_DOWN = RetryPolicy(max_retries=2, initial_delay=0.5, max_delay=1.0, max_retry_after=5.0)


def slow_down_hook(response: httpx.Response) -> RetryAdvice | None:
    """A vendor that says "slow down" with HTTP 400 (or even 200) and a code in the body."""
    try:
        code = response.json().get("code")
    except ValueError:
        return None
    if code != "SlowDown":
        return None
    wait = response.headers.get("x-wait")
    return RetryAdvice("throttled", SLOW_DOWN, retry_after=float(wait) if wait else None)


def slow_down(status: int = 400, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": "SlowDown"}, headers=headers)


async def test_a_write_the_hook_calls_a_refusal_is_resent_with_its_own_backoff():
    script = Script(slow_down(), slow_down(200), ok())
    transport, sleeps = make(script, retry_hook=slow_down_hook)
    response = await transport.request("POST", "/x", json={"a": 1})
    assert response.status_code == 200 and len(script.requests) == 3
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


async def test_the_hook_budget_runs_out_into_the_vendor_error_saying_how_often():
    script = Script(*(slow_down() for _ in range(3)))
    transport, sleeps = make(script, retry_hook=slow_down_hook)
    with pytest.raises(ProviderError) as caught:
        await transport.request("POST", "/x", json={})
    assert len(script.requests) == 3 and len(sleeps) == 2
    assert "still throttled after 3 attempts" in caught.value.detail


async def test_the_hook_honours_a_short_server_wait_and_surfaces_a_long_one():
    script = Script(slow_down(**{"x-wait": "0.25"}), ok(), slow_down(**{"x-wait": "60"}))
    transport, sleeps = make(script, retry_hook=slow_down_hook)
    await transport.request("GET", "/x")
    assert sleeps == [0.25]
    with pytest.raises(ProviderError):
        await transport.request("GET", "/x")
    assert sleeps == [0.25] and len(script.requests) == 3


async def test_the_hook_never_sees_what_the_transport_retries_itself_nor_a_post_5xx_it_does_not_know():
    seen: list[int] = []

    def hook(response: httpx.Response) -> RetryAdvice | None:
        seen.append(response.status_code)
        return None

    script = Script(httpx.Response(429), httpx.Response(503), ok(), httpx.Response(500))
    transport, _ = make(script, retry_hook=hook)
    await transport.request("GET", "/x")
    with pytest.raises(Unavailable):
        await transport.request("POST", "/x", json={})
    assert seen == [200, 500] and len(script.requests) == 4


# ---- the account's limiter: the server's word and 429 blocks -----------------------------------


class Clock:
    """A clock that only the waits move (each wait is recorded)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


async def test_the_limiter_waits_for_the_reset_once_the_server_says_nothing_is_left():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    ticket = await limiter.acquire(clock.sleep)
    limiter.observe(ticket, remaining=1, reset_seconds=5, limit=3)
    await limiter.acquire(clock.sleep)  # the one left
    assert clock.waits == []
    await limiter.acquire(clock.sleep)  # none left: waits for the reset
    assert clock.waits == [5.0]


async def test_the_limiter_counts_what_was_sent_after_the_answer_it_weighs():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    first = await limiter.acquire(clock.sleep)
    await limiter.acquire(clock.sleep)
    await limiter.acquire(clock.sleep)
    # The first answer says 2 were left, but two more requests went since: none is left.
    limiter.observe(first, remaining=2, reset_seconds=4)
    assert limiter.budget == 0
    await limiter.acquire(clock.sleep)
    assert clock.waits == [4.0]


async def test_an_older_answer_never_overrides_a_newer_one():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    tickets = [await limiter.acquire(clock.sleep) for _ in range(3)]
    limiter.observe(tickets[2], remaining=50, reset_seconds=1)
    limiter.observe(tickets[0], remaining=0, reset_seconds=1)  # arrived late, said earlier
    assert limiter.budget == 50
    await limiter.acquire(clock.sleep)
    assert clock.waits == []


async def test_after_a_reset_a_windows_worth_goes_then_the_limiter_waits_again():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    ticket = await limiter.acquire(clock.sleep)
    limiter.observe(ticket, remaining=0, reset_seconds=2, limit=3)
    for _ in range(3):
        await limiter.acquire(clock.sleep)  # the first waits for the reset; three go in the new window
    assert clock.waits == [2.0]
    await limiter.acquire(clock.sleep)  # no word yet on the new window: the longest one it named
    assert clock.waits == [2.0, 2.0]


async def test_a_429_holds_every_request_of_the_account_until_its_retry_after():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    refused = asyncio.Event()

    def first_answers(request: httpx.Request) -> httpx.Response:
        if not refused.is_set():
            refused.set()
            return httpx.Response(429, headers={"Retry-After": "4"})
        return ok()

    a_waits: list[float] = []
    b_waits: list[float] = []

    async def a_sleep(seconds: float) -> None:
        a_waits.append(seconds)
        await asyncio.sleep(0)  # B asks while A waits
        clock.now += seconds

    def client(handler, sleep) -> Transport:
        return Transport(
            provider="telnyx",
            base_url="https://api.example/v2",
            error_mapper=error_from_response,
            http_transport=httpx.MockTransport(handler),
            sleep=sleep,
            limiter=limiter,  # two clients of one account share its limiter
        )

    async def b_sleep(seconds: float) -> None:
        b_waits.append(seconds)
        await asyncio.sleep(0)

    a = client(first_answers, a_sleep)
    b_sent: list[httpx.Request] = []
    b = client(lambda request: b_sent.append(request) or ok(), b_sleep)

    async def b_after_the_refusal():
        await refused.wait()
        await b.request("GET", "/y")

    await asyncio.gather(a.request("GET", "/x"), b_after_the_refusal())
    assert a_waits == [4.0] and a.requests_sent == 2  # refused, waited, re-sent once
    assert b_waits == [4.0] and len(b_sent) == 1  # held for the same 4 s, though never refused


async def test_429s_are_resent_up_to_their_own_bound_then_surface():
    script = Script(*(httpx.Response(429, headers={"Retry-After": "0"}) for _ in range(4)), ok())
    transport, _ = make(script, retry=RetryPolicy(max_retries=1, max_throttled=3))
    with pytest.raises(RateLimited):
        await transport.request("GET", "/x")
    assert len(script.requests) == 4  # 1 + 3 re-sends, whatever max_retries says of 5xx
    script = Script(httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(503), ok())
    transport, _ = make(script, retry=RetryPolicy(max_retries=1, max_throttled=3))
    assert (await transport.request("GET", "/x")).status_code == 200


def test_a_shared_limiter_is_one_per_account_and_names_no_secret():
    from providers.transport import account_key, shared_limiter

    name = account_key("KEYsecret_0123456789", "https://api.telnyx.com/v2")
    assert "KEYsecret" not in name and name.endswith("@https://api.telnyx.com")
    assert shared_limiter("telnyx", name) is shared_limiter("telnyx", name)
    other = account_key("KEYsecret_0123456789", "http://127.0.0.1:4510/v2")
    assert shared_limiter("telnyx", other) is not shared_limiter("telnyx", name)
