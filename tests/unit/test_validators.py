"""Form validators catch bad input before anything is sent."""

from __future__ import annotations

import pytest

from tui import validators as v
from tui.resources import REGISTRY


@pytest.mark.parametrize("good", ["203.0.113.7", "198.51.100.0/24", "2001:db8::1", "2001:db8::/32", "10.0.0.1/32"])
def test_ip_or_cidr_accepts(good):
    assert v.ip_or_cidr(good) is None


@pytest.mark.parametrize("bad", ["", "300.1.1.1", "10.0.0.0/33", "example.com", "1.2.3"])
def test_ip_or_cidr_refuses(bad):
    assert v.ip_or_cidr(bad)


def test_cidr_with_host_bits_suggests_the_network():
    assert "198.51.100.0/24" in v.ip_or_cidr("198.51.100.7/24")


@pytest.mark.parametrize("good", ["198.51.100.0/24", " 2001:db8::/32 ", "192.0.2.7/32", "2001:db8::1/128"])
def test_cidr_block_accepts_blocks(good):
    assert v.cidr_block(good) is None


@pytest.mark.parametrize(
    "bad,says",
    [
        ("192.0.2.7", ":allowlist, or write 192.0.2.7/32"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("192.0.2.7/24", "did you mean 192.0.2.0/24"),
        ("10.0.0.0/33", "not an IP address or CIDR block"),
        ("office", "not a CIDR block"),
    ],
)
def test_cidr_block_refuses_with_what_would_do(bad, says):
    assert says in (v.cidr_block(bad) or "")


def test_country_codes():
    assert v.country_code("US") is None and v.country_code("GB") is None
    assert v.country_code("XX") and v.country_code("USA")
    assert "US" in v.country_code("us")


def test_urls_uris_uuids_short_names_fingerprints_e164():
    assert v.url("https://idp.example.com/sso") is None and v.url("idp.example.com")
    assert v.uri("urn:example:idp") is None and v.uri("not a uri")
    assert v.uuid_value("6a09cdc3-8948-47f0-aa62-74ac943d6c58") is None and v.uuid_value("abc")
    assert v.short_name("acme-okta") is None and v.short_name("Acme Okta")
    assert v.fingerprint("13:38:C7:BB:C9:FF") is None and v.fingerprint("zz")
    assert v.e164("+13125550123") is None and v.e164("3125550123")


def test_hidden_fields_are_not_required():
    fields = {f.name: f for f in REGISTRY["secrets"].create_fields}
    basic = {"identifier": "x", "type": "basic", "token": "", "username": "", "password": ""}
    assert fields["token"].check("", basic) is None  # token is hidden for basic
    assert fields["username"].check("", basic) == "required"
    bearer = dict(basic, type="bearer")
    assert fields["token"].check("", bearer) == "required"
