"""The bounds on answers: caps on wire and decoded size, the total deadline, and the JSON reader."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import httpx
import pytest

from providers.errors import MalformedResponse, Timeout, Unavailable
from providers.records import MAX_JSON_DEPTH, UnreadableJson, load_json, parse_json
from providers.telnyx.errors import error_from_response
from providers.telnyx.models import read_meta
from providers.transport import ACCEPT_ENCODING, MiB, ResponseLimits, RetryPolicy, Transport


class Chunks(httpx.AsyncByteStream):
    """A body that arrives in pieces, as from a socket (not already read, as MockTransport's are)."""

    def __init__(self, *chunks: bytes, pause: float = 0.0) -> None:
        self.chunks = chunks
        self.pause = pause
        self.sent = 0

    async def __aiter__(self):
        for chunk in self.chunks:
            if self.pause:
                await asyncio.sleep(self.pause)
            self.sent += 1
            yield chunk


def transport_for(handler, limits: ResponseLimits, **kw) -> Transport:
    return Transport(
        provider="telnyx",
        base_url="https://api.example/v2",
        error_mapper=error_from_response,
        http_transport=httpx.MockTransport(handler),
        limits=limits,
        **kw,
    )


def streamed(body: Chunks, encoding: str = "", status: int = 200):
    headers = {"content-type": "application/json"}
    if encoding:
        headers["content-encoding"] = encoding
    return lambda request: httpx.Response(status, headers=headers, stream=body)


LIMITS = ResponseLimits(max_body=64 * 1024, max_decoded=256 * 1024, deadline=5.0)
DOC = json.dumps({"data": [{"id": str(i)} for i in range(100)]}).encode()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda b: b),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # the zlib stream the RFC means
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, as some servers send
    ],
)
async def test_an_answer_within_the_caps_is_decoded_here(encoding, encode):
    body = encode(DOC)
    transport = transport_for(streamed(Chunks(body[:10], body[10:]), encoding), LIMITS)
    response = await transport.request("GET", "/x")
    assert json.loads(response.content) == json.loads(DOC)
    assert "content-encoding" not in response.headers  # decoded: nothing left for httpx to do
    await transport.aclose()


async def test_we_ask_only_for_the_encodings_we_decode():
    seen: list[str] = []

    def handler(request):
        seen.append(request.headers["accept-encoding"])
        return httpx.Response(200, json={})

    await transport_for(handler, LIMITS).request("GET", "/x")
    assert seen == [ACCEPT_ENCODING] == ["gzip, deflate"]


async def test_reading_stops_at_the_wire_cap_without_reading_the_rest():
    body = Chunks(*([b"x" * 16 * 1024] * 100))
    transport = transport_for(streamed(body), LIMITS)
    with pytest.raises(MalformedResponse) as caught:
        await transport.request("GET", "/access_ip_address?page[number]=1")
    assert caught.value.message == "GET /access_ip_address: the answer is larger than 65536 bytes; stopped reading"
    assert body.sent <= 8  # at most one 64 KiB read past the cap, then stopped; not 100
    assert caught.value.provider == "telnyx"


async def test_a_bomb_stops_at_the_decoded_cap_within_one_small_chunk():
    bomb = gzip.compress(b"\0" * (64 * MiB))  # ~64 KiB that inflates to 64 MiB
    limits = ResponseLimits(max_body=1 * MiB, max_decoded=256 * 1024, deadline=5.0)
    transport = transport_for(streamed(Chunks(bomb), "gzip"), limits)
    with pytest.raises(MalformedResponse) as caught:
        await transport.request("GET", "/x", call="ListThings")
    assert caught.value.message == "ListThings: the answer is larger than 262144 bytes decompressed; stopped reading"


@pytest.mark.parametrize(
    ("encoding", "body", "words"),
    [
        ("gzip", b"certainly not gzip", "the gzip body is corrupt"),
        ("br", b"...", "an encoding we did not ask for ('br')"),
        ("gzip, gzip", b"...", "an encoding we did not ask for"),
    ],
)
async def test_an_undecodable_body_is_malformed(encoding, body, words):
    transport = transport_for(streamed(Chunks(body), encoding), LIMITS)
    with pytest.raises(MalformedResponse) as caught:
        await transport.request("GET", "/x")
    assert words in caught.value.message


async def test_an_error_answer_is_capped_too():
    transport = transport_for(streamed(Chunks(*([b"e" * 32 * 1024] * 10)), status=500), LIMITS, retry=RetryPolicy(0))
    with pytest.raises(MalformedResponse):
        await transport.request("GET", "/x")


async def test_an_answer_built_in_process_is_held_to_the_decoded_cap():
    transport = transport_for(lambda r: httpx.Response(200, content=b"x" * (300 * 1024)), LIMITS)
    with pytest.raises(MalformedResponse):
        await transport.request("GET", "/x")


async def test_the_deadline_cuts_off_a_trickle_that_no_read_timeout_would():
    body = Chunks(*([b" "] * 1000), pause=0.05)  # every piece well within any read timeout
    limits = ResponseLimits(deadline=0.3)
    transport = transport_for(streamed(body), limits)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Timeout) as caught:
        await transport.request("GET", "/x")
    assert loop.time() - started < 1.0
    assert not caught.value.maybe_applied
    assert "no complete answer within 0.3 s" in caught.value.message


async def test_a_write_cut_off_by_the_deadline_may_have_been_applied():
    transport = transport_for(streamed(Chunks(*([b" "] * 1000), pause=0.05)), ResponseLimits(deadline=0.2))
    with pytest.raises(Timeout) as caught:
        await transport.request("POST", "/access_ip_address", json={})
    assert caught.value.maybe_applied
    assert "may or may not have been applied" in caught.value.message


async def test_the_deadline_covers_re_sends_and_no_wait_is_begun_past_it():
    sent: list[httpx.Request] = []
    slept: list[float] = []

    def handler(request):
        sent.append(request)
        return httpx.Response(503, json={})

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    # Each backoff (10 s) would end past the 1 s deadline, so none is waited for.
    transport = transport_for(
        handler, ResponseLimits(deadline=1.0), retry=RetryPolicy(max_retries=5, initial_delay=10.0), sleep=sleep
    )
    with pytest.raises(Unavailable):
        await transport.request("GET", "/x")
    assert len(sent) == 1 and slept == []


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        ResponseLimits(deadline=0)
    with pytest.raises(ValueError):
        ResponseLimits(max_body=0)


# ---- the JSON reader -----------------------------------------------------------------------------


def test_json_nested_past_the_interpreter_is_unreadable_not_a_recursion_error():
    with pytest.raises(UnreadableJson, match="nested deeper"):
        load_json(b"[" * 200_000 + b"]" * 200_000)
    assert parse_json(b'{"a":' * 100_000) is None


def test_json_just_past_the_depth_cap_is_unreadable_and_at_it_is_read():
    at = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert load_json(at) is not None
    with pytest.raises(UnreadableJson, match=f"deeper than {MAX_JSON_DEPTH}"):
        load_json(b"[" + at + b"]")
    deep_in_an_object = b'{"data": [' + b'{"x":' * MAX_JSON_DEPTH + b"1" + b"}" * MAX_JSON_DEPTH + b"]}"
    with pytest.raises(UnreadableJson):
        load_json(deep_in_an_object)


@pytest.mark.parametrize(("content", "why"), [(b"", "empty"), (b"<html>", "not JSON"), (b"\xff\xfe", "not JSON")])
def test_json_that_is_not_there_says_why(content, why):
    with pytest.raises(UnreadableJson, match=why):
        load_json(content)


# ---- Telnyx page meta ------------------------------------------------------------------------------


def test_meta_that_is_missing_is_not_malformed():
    assert read_meta({"data": []}, 3) == (3, None, None, None)
    assert read_meta({"data": [], "meta": {"page_number": "2", "total_pages": 5}}, 1) == (2, None, 5, None)


@pytest.mark.parametrize(
    ("meta", "words"),
    [
        ([], "not an object"),
        ({"page_number": "494x"}, "meta.page_number is not a whole number"),
        ({"total_pages": 2.5}, "meta.total_pages is not a whole number"),
        ({"total_results": -1}, "meta.total_results is negative"),
        ({"page_size": 250, "total_pages": 494, "total_results": 10}, "claims 494 pages of 250 for 10 results"),
    ],
)
def test_meta_that_cannot_be_true_is_refused(meta, words):
    with pytest.raises(ValueError, match=words):
        read_meta({"data": [], "meta": meta}, 1)
