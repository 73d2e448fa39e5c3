"""Huawei X-AKSK: the formula on the public examples, UTC `Created`, and the sandbox-side check.

Huawei has no official Python SDK for PrivateNumber, so the ground truth is the documented formula
and the worked examples in docs/reference/huawei_volcengine.md (A.2), which were cross-checked
with openssl when the reference was written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from providers.huawei.auth import (
    AUTHORIZATION,
    AkskRejected,
    AkskSigner,
    NonceCache,
    aksk_headers,
    created_now,
    format_created,
    new_nonce,
    parse_created,
    parse_params,
    password_digest,
    verify,
    x_aksk_value,
)

# The reference's public vectors.
DOC_KEY, DOC_SECRET = "a1d1f50cad21415fbdd13d8f53d36d60", "cfc881cc704c4fba8d8fef5788e03e6b"
DOC_NONCE, DOC_CREATED = "66C92B11FF8A425FB8D4CCFE0ED9ED1F", "2018-02-12T15:30:20Z"
DOC_DIGEST = "qMO+SlJCBqpyYcBSyVkLNzXkk6yh2B+TA9kH8I2GG8Q="
TEST_NONCE, TEST_CREATED = "0123456789abcdef0123456789abcdef", "2024-01-02T03:04:05Z"
TEST_DIGEST = "9w9CWrr+phw8kgZ5bww06o6b7Grw35n8juEzXjnDd3w="

SECRETS = {DOC_KEY: DOC_SECRET, "AKTEST": "SKTEST"}
DOC_NOW = datetime(2018, 2, 12, 15, 30, 20, tzinfo=UTC).timestamp()


def secret_for(key: str) -> str | None:
    return SECRETS.get(key)


def test_digest_matches_the_documented_example():
    assert password_digest(DOC_SECRET, DOC_NONCE, DOC_CREATED) == DOC_DIGEST


def test_digest_matches_the_second_vector():
    assert password_digest("SKTEST", TEST_NONCE, TEST_CREATED) == TEST_DIGEST


def test_digest_is_the_raw_mac_base64_not_the_hex_or_the_legacy_sha256():
    digest = password_digest(DOC_SECRET, DOC_NONCE, DOC_CREATED)
    raw = hmac.new(DOC_SECRET.encode(), (DOC_NONCE + DOC_CREATED).encode(), hashlib.sha256).digest()
    assert base64.b64decode(digest) == raw and len(digest) == 44 and digest.endswith("=")
    hex_variant = base64.b64encode(
        hmac.new(DOC_SECRET.encode(), (DOC_NONCE + DOC_CREATED).encode(), hashlib.sha256).hexdigest().encode()
    ).decode()
    legacy = base64.b64encode(hashlib.sha256((DOC_NONCE + DOC_CREATED + DOC_SECRET).encode()).digest()).decode()
    assert digest not in (hex_variant, legacy)


def test_header_values_have_the_documented_shape():
    headers = aksk_headers(DOC_KEY, DOC_SECRET, nonce=DOC_NONCE, created=DOC_CREATED)
    assert headers["Authorization"] == 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"'
    assert headers["X-AKSK"] == (
        f'UsernameToken Username="{DOC_KEY}",PasswordDigest="{DOC_DIGEST}",Nonce="{DOC_NONCE}",Created="{DOC_CREATED}"'
    )
    assert parse_params(headers["X-AKSK"].partition(" ")[2]) == {
        "Username": DOC_KEY,
        "PasswordDigest": DOC_DIGEST,
        "Nonce": DOC_NONCE,
        "Created": DOC_CREATED,
    }


def test_nonce_is_32_hex_and_fresh():
    first, second = new_nonce(), new_nonce()
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    with pytest.raises(ValueError):
        aksk_headers(DOC_KEY, DOC_SECRET, nonce="not allowed!")


def test_format_created_is_utc_for_aware_datetimes_and_timestamps():
    beijing = timezone(timedelta(hours=8))
    assert format_created(datetime(2018, 2, 12, 23, 30, 20, tzinfo=beijing)) == DOC_CREATED
    assert format_created(DOC_NOW) == DOC_CREATED
    assert parse_created(DOC_CREATED).timestamp() == DOC_NOW
    with pytest.raises(ValueError):
        format_created(datetime(2018, 2, 12, 15, 30, 20))  # naive: zone unknown
    with pytest.raises(ValueError):
        parse_created("2018-02-12 15:30:20")


@pytest.fixture
def beijing_tz(monkeypatch):
    """Run the test with the process in UTC+8, then restore the original zone."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _sample_created() -> str:
    """What Huawei's Python sample does: local time with a literal Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_created_is_utc_on_a_machine_not_in_utc(beijing_tz):
    assert time.localtime(0).tm_hour == 8  # the zone change took effect
    fixed = 1_700_000_000.0
    # Ours: UTC whatever the local zone.
    assert created_now(lambda: fixed) == "2023-11-14T22:13:20Z"
    # The sample's recipe on this machine is eight hours ahead of the truth.
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.localtime(fixed)) == "2023-11-15T06:13:20Z"
    # With the real clock: ours parses back to about now; the sample's to about now + 8 h.
    now = time.time()
    assert abs(parse_created(created_now()).timestamp() - now) < 60
    assert abs(parse_created(_sample_created()).timestamp() - now - 8 * 3600) < 60


def test_only_our_created_passes_the_servers_clock_check_off_utc(beijing_tz):
    now = time.time()
    ours = aksk_headers("AKTEST", "SKTEST")
    assert verify(ours["Authorization"], ours["X-AKSK"], secret_for=secret_for, now=now) == "AKTEST"
    theirs = aksk_headers("AKTEST", "SKTEST", created=_sample_created())
    with pytest.raises(AkskRejected) as caught:
        verify(theirs["Authorization"], theirs["X-AKSK"], secret_for=secret_for, now=now)
    assert (caught.value.code, caught.value.status) == ("1010013", 401)


def test_signer_sets_fresh_headers_on_every_request():
    nonces = iter(["a1", "b2"])
    signer = AkskSigner("AKTEST", "SKTEST", clock=lambda: DOC_NOW, nonce_factory=lambda: next(nonces))
    first = httpx.Request("GET", "https://example.invalid/x")
    second = httpx.Request("GET", "https://example.invalid/x")
    signer(first)
    signer(second)
    assert first.headers["authorization"] == AUTHORIZATION
    assert first.headers["x-aksk"] == x_aksk_value("AKTEST", "SKTEST", "a1", DOC_CREATED)
    assert 'Nonce="b2"' in second.headers["x-aksk"]
    assert "SKTEST" not in repr(signer)
    with pytest.raises(ValueError):
        AkskSigner("AKTEST", "")


def test_verify_accepts_the_documented_example_with_either_separator():
    for separator in (",", ", "):
        value = x_aksk_value(DOC_KEY, DOC_SECRET, DOC_NONCE, DOC_CREATED, separator=separator)
        assert verify(AUTHORIZATION, value, secret_for=secret_for, now=DOC_NOW + 10) == DOC_KEY


def _rejection(authorization, x_aksk, **kw) -> tuple[str, int]:
    kw.setdefault("now", DOC_NOW)
    with pytest.raises(AkskRejected) as caught:
        verify(authorization, x_aksk, secret_for=secret_for, **kw)
    return caught.value.code, caught.value.status


GOOD = x_aksk_value(DOC_KEY, DOC_SECRET, DOC_NONCE, DOC_CREATED)


@pytest.mark.parametrize(
    ("authorization", "x_aksk", "expected"),
    [
        (None, GOOD, ("1023006", 400)),
        ('WSSE realm="SDP",profile="UsernameToken",type="Appkey"', GOOD, ("1023006", 400)),
        ('AKSK profile="UsernameToken",type="Appkey"', GOOD, ("1023007", 400)),
        ('AKSK realm="SDP",type="Appkey"', GOOD, ("1023008", 400)),
        ('AKSK realm="SDP",profile="UsernameToken"', GOOD, ("1023012", 400)),
        ('AKSK realm="XYZ",profile="UsernameToken",type="Appkey"', GOOD, ("1023009", 400)),
        ('AKSK realm="SDP",profile="Other",type="Appkey"', GOOD, ("1023010", 400)),
        ('AKSK realm="SDP",profile="UsernameToken",type="Token"', GOOD, ("1023011", 400)),
        (AUTHORIZATION, None, ("1023033", 400)),
        (AUTHORIZATION, GOOD.replace(f'Username="{DOC_KEY}",', ""), ("1023034", 400)),
        (AUTHORIZATION, GOOD.replace(f',Nonce="{DOC_NONCE}"', ""), ("1023035", 400)),
        (AUTHORIZATION, GOOD.replace(f',Created="{DOC_CREATED}"', ""), ("1023036", 400)),
        (AUTHORIZATION, GOOD.replace(f'PasswordDigest="{DOC_DIGEST}",', ""), ("1023037", 400)),
        (AUTHORIZATION, GOOD.replace(DOC_KEY, "someone-else"), ("1010003", 403)),
        (AUTHORIZATION, x_aksk_value(DOC_KEY, "wrong-secret", DOC_NONCE, DOC_CREATED), ("1010010", 401)),
    ],
)
def test_verify_refuses_with_the_vendor_code(authorization, x_aksk, expected):
    assert _rejection(authorization, x_aksk) == expected


def test_verify_refuses_stale_and_future_created_but_allows_the_skew():
    assert verify(AUTHORIZATION, GOOD, secret_for=secret_for, now=DOC_NOW + 299, max_skew=300) == DOC_KEY
    assert _rejection(AUTHORIZATION, GOOD, now=DOC_NOW + 301, max_skew=300) == ("1010013", 401)
    assert _rejection(AUTHORIZATION, GOOD, now=DOC_NOW - 301, max_skew=300) == ("1010013", 401)
    local_time = x_aksk_value(DOC_KEY, DOC_SECRET, DOC_NONCE, "2018-02-12 15:30:20")
    assert _rejection(AUTHORIZATION, local_time) == ("1010013", 401)


def test_verify_refuses_a_reused_nonce():
    cache = NonceCache(ttl=600)
    assert verify(AUTHORIZATION, GOOD, secret_for=secret_for, now=DOC_NOW, nonces=cache) == DOC_KEY
    assert _rejection(AUTHORIZATION, GOOD, nonces=cache) == ("1023006", 400)
    # A different nonce from the same app is fine; after the TTL the old one is forgotten.
    other = x_aksk_value(DOC_KEY, DOC_SECRET, "ABC123", DOC_CREATED)
    assert verify(AUTHORIZATION, other, secret_for=secret_for, now=DOC_NOW, nonces=cache) == DOC_KEY
    assert cache.seen(DOC_KEY, DOC_NONCE, DOC_NOW + 601) is False


def test_a_wrong_digest_does_not_burn_the_nonce():
    cache = NonceCache()
    bad = x_aksk_value(DOC_KEY, "wrong-secret", DOC_NONCE, DOC_CREATED)
    assert _rejection(AUTHORIZATION, bad, nonces=cache) == ("1010010", 401)
    assert verify(AUTHORIZATION, GOOD, secret_for=secret_for, now=DOC_NOW, nonces=cache) == DOC_KEY
