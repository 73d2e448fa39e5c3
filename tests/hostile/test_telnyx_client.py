"""The Telnyx client against every hostile mode: each ends in a bounded, readable error."""

from __future__ import annotations

import pytest

from providers.errors import MalformedResponse, ProviderError, Timeout
from providers.pagination import PaginationStalled
from providers.telnyx.client import TelnyxClient
from providers.transport import DEFAULT_LIMITS, MiB, ResponseLimits
from tests.hostile.conftest import SMALL, measure
from tests.hostile.server import ESCAPES, MARKUP, HostileServer

# mode -> (the error a listing ends in, words its message must carry)
LISTING = {
    "gzip_bomb": (MalformedResponse, "larger than 4 MiB decompressed"),
    "endless": (MalformedResponse, "larger than 1 MiB"),
    "deep": (MalformedResponse, "nested deeper than 64 levels"),
    "garbage_meta": (MalformedResponse, "meta.page_number is not a whole number"),
    "huge_meta": (PaginationStalled, "claims 1000000000 pages"),
    "repeat_meta": (PaginationStalled, "repeat the rows before them"),
    "slow": (Timeout, f"no complete answer within {SMALL.deadline:g} s"),
    "error200": (MalformedResponse, "HTTP 200 but the answer is an error: Invalid value"),
    "null": (MalformedResponse, "no 'data' list (null or empty)"),
    "wrong_shape": (MalformedResponse, "no 'data' list"),
    "empty_object": (MalformedResponse, "no 'data' list (an object with no keys)"),
}

# mode -> (the error a create ends in, words its message must carry)
CREATING = {
    "gzip_bomb": (MalformedResponse, "larger than 4 MiB decompressed"),
    "endless": (MalformedResponse, "larger than 1 MiB"),
    "deep": (MalformedResponse, "nested deeper"),
    "slow": (Timeout, "may or may not have been applied"),
    "error200": (MalformedResponse, "the answer is an error"),
    "null": (MalformedResponse, "not an object (null or empty)"),
    "wrong_shape": (MalformedResponse, "has no id"),
    "empty_object": (MalformedResponse, "has no id"),
}


def client(server: HostileServer, limits: ResponseLimits = SMALL) -> TelnyxClient:
    return TelnyxClient("KEYhostile0000", base_url=server.url, limits=limits)


@pytest.mark.parametrize("mode", sorted(LISTING))
async def test_a_listing_ends_in_a_named_error(hostile, mode):
    hostile.mode = mode
    expected, words = LISTING[mode]
    async with client(hostile) as telnyx:
        with measure(f"telnyx list, {mode}") as measured, pytest.raises(ProviderError) as caught:
            await telnyx.collect(telnyx.access_ip_pages())
    error = caught.value
    assert type(error) is expected, error
    assert words in error.message
    assert error.provider == "telnyx"
    assert "/access_ip_address" in error.message or isinstance(error, PaginationStalled)
    measured.assert_bounded()
    assert measured.seconds < SMALL.deadline + 3
    # Never past a page or two: the guards end it, not the page cap.
    assert len(hostile.requests) <= 2


@pytest.mark.parametrize("mode", sorted(CREATING))
async def test_a_create_ends_in_a_named_error(hostile, mode):
    hostile.mode = mode
    expected, words = CREATING[mode]
    async with client(hostile) as telnyx:
        with measure(f"telnyx create, {mode}") as measured, pytest.raises(ProviderError) as caught:
            await telnyx.create_access_ip("198.51.100.9")
    error = caught.value
    assert type(error) is expected, error
    assert words in error.message
    assert "POST /access_ip_address" in error.message
    if isinstance(error, Timeout):
        assert error.maybe_applied  # a write cut off by the deadline may have been applied
    measured.assert_bounded()
    assert len(hostile.requests) == 1  # a write is never re-sent


async def test_an_error_under_200_keeps_the_vendor_code_and_field():
    with HostileServer("error200") as server:
        async with client(server) as telnyx:
            with pytest.raises(MalformedResponse) as caught:
                await telnyx.create_access_ip("198.51.100.9")
    assert caught.value.code == "10015"
    assert caught.value.pointer == "/ip_address"
    assert caught.value.summary().startswith("[10015] POST /access_ip_address: HTTP 200 but")


async def test_markup_and_escapes_come_back_as_plain_data(hostile):
    hostile.mode = "markup"
    async with client(hostile) as telnyx:
        rows = await telnyx.collect(telnyx.access_ip_pages())
        created = await telnyx.create_access_ip("198.51.100.9")
    assert [r.ip_address for r in rows] == [MARKUP + ESCAPES] * 3
    assert created.description == MARKUP + ESCAPES


async def test_the_deadline_is_total_not_per_read(hostile):
    """httpx's read timeout (here 1.5 s) never fires on a byte every 0.5 s; the deadline does."""
    import httpx

    hostile.mode = "slow"
    limits = ResponseLimits(deadline=1.0)
    async with TelnyxClient("KEYhostile0000", base_url=hostile.url, limits=limits, timeout=httpx.Timeout(1.5)) as t:
        with measure("telnyx get, slow, 1 s deadline") as measured, pytest.raises(Timeout):
            await t.get_access_ip("x")
    assert 0.9 < measured.seconds < 4.0


# ---- the defaults ----------------------------------------------------------------------------


def test_the_default_limits_are_the_recorded_ones():
    # docs/decisions.md records these; a change there and here goes together.
    assert DEFAULT_LIMITS.max_body == 16 * MiB
    assert DEFAULT_LIMITS.max_decoded == 64 * MiB
    # Long enough for any vendor call and its re-sends; short enough that a stalled answer is
    # shown within 25 s, as the app promises.
    assert 10 <= DEFAULT_LIMITS.deadline <= 25


@pytest.mark.parametrize(
    ("mode", "words"), [("gzip_bomb", "larger than 64 MiB decompressed"), ("endless", "larger than 16 MiB")]
)
async def test_the_default_caps_hold_a_bomb_and_an_endless_body_under_the_bound(hostile, mode, words):
    hostile.mode = mode
    async with client(hostile, DEFAULT_LIMITS) as telnyx:
        with measure(f"telnyx list, {mode}, default limits") as measured, pytest.raises(MalformedResponse) as caught:
            await telnyx.collect(telnyx.access_ip_pages())
    assert words in caught.value.message
    measured.assert_bounded()


@pytest.mark.parametrize("mode", ["error200", "deep", "gzip_bomb"])
async def test_a_delete_without_an_object_to_read_still_refuses_a_bad_answer(hostile, mode):
    hostile.mode = mode
    async with client(hostile) as telnyx:
        with pytest.raises(MalformedResponse) as caught:
            await telnyx.delete_integration_secret("abc")
    assert caught.value.message.startswith("DELETE /integration_secrets/abc: ")
