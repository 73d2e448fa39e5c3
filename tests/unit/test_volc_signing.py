"""Volcengine HMAC-SHA256 signing: the reference's known answer, the canonical pieces, a sign/verify
round trip, and tampering with every signed part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from providers.volcengine import signing
from providers.volcengine.signing import Credentials, SignatureFormatError

# docs/reference/huawei_volcengine.md, B.2, vector `bind_axn_basic` (AKTEST/SKTEST, official host).
VECTOR_BODY = (
    b"PhoneNoA=13700000001&PhoneNoB=13700000002&PhoneNoX=17000000003&NumberPoolNo=NP162981168404095092"
    b"&ExpireTime=1735689600&AudioRecordFlag=1&UserData=order-42"
)
VECTOR_QUERY = [("Action", "BindAXN"), ("Version", "2022-01-01")]
VECTOR_HEADERS = {"Host": "cloud-vms.volcengineapi.com", "Content-Type": "application/x-www-form-urlencoded"}
VECTOR_X_DATE = "20240102T030405Z"
VECTOR_SHA = "ccc96699d1b9cd008d348553608054b4ddd7140fbc88d54e48d279744eb5c015"
VECTOR_AUTH = (
    "HMAC-SHA256 Credential=AKTEST/20240102/cn-north-1/vms/request, "
    "SignedHeaders=content-type;host;x-content-sha256;x-date, "
    "Signature=0aa6b238e03ddc4add6e627f14cebafb70a9f455c111baa373644c11e3d8b3ef"
)
CREDS = Credentials("AKTEST", "SKTEST")


def _sign(
    body=VECTOR_BODY, query=VECTOR_QUERY, headers=VECTOR_HEADERS, creds=CREDS, x_date=VECTOR_X_DATE, method="POST"
):
    return signing.sign(signing.SignedRequest(method, "/", query, headers, body), creds, x_date=x_date)


def _verify(method, path, query, headers, body, secret_key):
    return signing.verify(signing.SignedRequest(method, path, query, headers, body), secret_key)


def _received(added, body=VECTOR_BODY, query=VECTOR_QUERY, headers=VECTOR_HEADERS, method="POST"):
    """What a server sees: the request's own headers plus the signing ones, plus unsigned extras."""
    return method, "/", list(query), {**headers, **added, "User-Agent": "test", "Accept": "*/*"}, body


def test_reference_vector_bind_axn_basic():
    added = _sign()
    assert added == {"X-Date": VECTOR_X_DATE, "X-Content-Sha256": VECTOR_SHA, "Authorization": VECTOR_AUTH}


def test_empty_body_hash_is_the_sha256_of_nothing():
    assert signing.EMPTY_BODY_SHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    added = _sign(body=b"", method="GET", headers={"Host": "cloud-vms.volcengineapi.com"})
    assert added["X-Content-Sha256"] == signing.EMPTY_BODY_SHA256
    assert "SignedHeaders=host;x-content-sha256;x-date," in added["Authorization"]


def test_canonical_query_sorts_by_key_and_uses_rfc3986_encoding():
    query = [("Version", "2022-01-01"), ("Action", "NumberList"), ("UserData", "a b+c~d/é"), ("Limit", "5")]
    assert signing.canonical_query(query) == (
        "Action=NumberList&Limit=5&UserData=a%20b%2Bc~d%2F%C3%A9&Version=2022-01-01"
    )
    assert signing.canonical_query({"B": "", "A": "1"}) == "A=1&B="


def test_only_content_type_md5_host_and_x_headers_are_signed():
    names = signing.signed_header_names(
        {
            "Host": "h",
            "Content-Type": "t",
            "Content-MD5": "m",
            "X-Date": "d",
            "X-Custom": "c",
            "User-Agent": "u",
            "Accept": "a",
            "Content-Length": "3",
            "Authorization": "x",
        }
    )
    assert names == ("content-md5", "content-type", "host", "x-custom", "x-date")


@pytest.mark.parametrize(
    ("host", "signed"),
    [
        ("cloud-vms.volcengineapi.com:443", "cloud-vms.volcengineapi.com"),
        ("cloud-vms.volcengineapi.com:80", "cloud-vms.volcengineapi.com"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("[::1]:443", "[::1]"),
    ],
)
def test_default_ports_are_dropped_from_the_signed_host(host, signed):
    assert signing.canonical_headers({"Host": host}, ["host"]) == f"host:{signed}\n"


def test_default_port_signs_like_no_port():
    plain = _sign()
    with_port = _sign(headers={**VECTOR_HEADERS, "Host": "cloud-vms.volcengineapi.com:443"})
    assert with_port["Authorization"] == plain["Authorization"]


def test_canonical_request_layout_has_an_empty_line_before_signed_headers():
    canonical = signing.canonical_request(
        "post", "/", VECTOR_QUERY, {"Host": "h", "X-Date": "d"}, ["x-date", "host"], "abc"
    )
    assert canonical == "POST\n/\nAction=BindAXN&Version=2022-01-01\nhost:h\nx-date:d\n\nhost;x-date\nabc"


def test_security_token_is_added_and_signed():
    added = _sign(creds=Credentials("AKTEST", "SKTEST", session_token="STS2token"))
    assert added["X-Security-Token"] == "STS2token"
    assert "SignedHeaders=content-type;host;x-content-sha256;x-date;x-security-token," in added["Authorization"]
    assert added["Authorization"] != VECTOR_AUTH


def test_region_and_service_are_part_of_the_scope_and_the_key():
    other = _sign(creds=Credentials("AKTEST", "SKTEST", region="cn-beijing"))
    assert "Credential=AKTEST/20240102/cn-beijing/vms/request" in other["Authorization"]
    assert other["Authorization"].split("Signature=")[1] != VECTOR_AUTH.split("Signature=")[1]


def test_signing_key_chain():
    key = signing.signing_key("SKTEST", "20240102", "cn-north-1", "vms")
    assert len(key) == 32
    assert key != signing.signing_key("SKTEST", "20240103", "cn-north-1", "vms")


def test_round_trip_verifies():
    added = _sign()
    assert _verify(*_received(added), "SKTEST")


def test_round_trip_with_utf8_and_reserved_characters():
    body = b"PhoneNoA=13700000001&UserData=%E8%AE%A2%E5%8D%95+42%26x%3Dy"
    query = [("Action", "BindAXN"), ("Version", "2022-01-01"), ("Note", "a b&c")]
    added = _sign(body=body, query=query)
    assert _verify(*_received(added, body=body, query=query), "SKTEST")


def test_wrong_secret_does_not_verify():
    assert not _verify(*_received(_sign()), "SKTEST2")


def test_tampered_body_does_not_verify_even_with_the_original_hash_header():
    added = _sign()
    method, path, query, headers, _ = _received(added)
    assert not _verify(method, path, query, headers, VECTOR_BODY.replace(b"order-42", b"order-43"), "SKTEST")


def test_tampered_query_does_not_verify():
    method, path, _, headers, body = _received(_sign())
    assert not _verify(method, path, [("Action", "UnbindAXN"), ("Version", "2022-01-01")], headers, body, "SKTEST")
    assert not _verify(method, path, [*VECTOR_QUERY, ("Extra", "1")], headers, body, "SKTEST")


@pytest.mark.parametrize("header", ["Host", "Content-Type", "X-Date"])
def test_tampered_signed_header_does_not_verify(header):
    method, path, query, headers, body = _received(_sign())
    headers = {**headers, header: headers[header] + "0" if header != "X-Date" else "20240102T030406Z"}
    assert not _verify(method, path, query, headers, body, "SKTEST")


def test_unsigned_headers_may_change():
    method, path, query, headers, body = _received(_sign())
    headers = {**headers, "User-Agent": "something else"}
    assert _verify(method, path, query, headers, body, "SKTEST")


def test_tampered_method_or_signature_does_not_verify():
    method, path, query, headers, body = _received(_sign())
    assert not _verify("PUT", path, query, headers, body, "SKTEST")
    sig = headers["Authorization"]
    forged = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert not _verify(method, path, query, {**headers, "Authorization": forged}, body, "SKTEST")


def test_credential_date_must_match_x_date():
    added = _sign()
    auth = added["Authorization"].replace("AKTEST/20240102/", "AKTEST/20240103/")
    assert not _verify(*_received({**added, "Authorization": auth}), "SKTEST")


def test_parse_authorization_reads_every_part():
    auth = signing.parse_authorization(VECTOR_AUTH)
    assert (auth.algorithm, auth.access_key, auth.date, auth.region, auth.service, auth.terminator) == (
        "HMAC-SHA256",
        "AKTEST",
        "20240102",
        "cn-north-1",
        "vms",
        "request",
    )
    assert auth.signed_headers == ("content-type", "host", "x-content-sha256", "x-date")
    assert auth.signature.startswith("0aa6b238")
    assert auth.scope == "20240102/cn-north-1/vms/request"


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("", "authorization"),
        ("HMAC-SHA256", "authorization"),
        ("HMAC-SHA256 Credential=AKTEST/20240102/cn-north-1/vms/request, SignedHeaders=host", "signature"),
        ("HMAC-SHA256 Credential=AKTEST/20240102/cn-north-1/vms, SignedHeaders=host, Signature=ab", "credential"),
        (
            "HMAC-SHA256 Credential=AKTEST/2024-01-02/cn-north-1/vms/request, SignedHeaders=host, Signature=ab",
            "credential",
        ),
        ("HMAC-SHA256 Credential=AKTEST/20240102/cn-north-1/vms/request, Signature=ab", "authorization"),
        ("HMAC-SHA256 garbage", "authorization"),
    ],
)
def test_parse_authorization_says_which_part_is_wrong(value, part):
    with pytest.raises(SignatureFormatError) as info:
        signing.parse_authorization(value)
    assert info.value.part == part


def test_x_date_formatting_and_parsing():
    moment = datetime(2024, 1, 2, 11, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    assert signing.format_x_date(moment) == "20240102T030405Z"
    assert signing.format_x_date(moment.timestamp()) == "20240102T030405Z"
    assert signing.parse_x_date("20240102T030405Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with pytest.raises(ValueError):
        signing.format_x_date(datetime(2024, 1, 2, 3, 4, 5))
    for bad in ("2024-01-02T03:04:05Z", "20241302T030405Z", "20240102T030405"):
        with pytest.raises(SignatureFormatError):
            signing.parse_x_date(bad)


def test_sign_refuses_a_malformed_x_date():
    with pytest.raises(SignatureFormatError):
        _sign(x_date="yesterday")


def test_credentials_repr_hides_the_secret():
    shown = repr(Credentials("AKTEST", "very-secret-value", session_token="tok-secret"))
    assert "AKTEST" in shown and "very-secret-value" not in shown and "tok-secret" not in shown
