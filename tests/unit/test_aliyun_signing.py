"""Alibaba Cloud signing against the public documentation examples, and the encoding rules."""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta, timezone

import pytest

from providers.aliyun import signing

# -- V3 (ACS3-HMAC-SHA256): the worked example of "V3 request structure and signature" ------------

V3_QUERY = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}
V3_SIGNATURE = "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
V3_SIGNED = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"


def _v3_example(**overrides):
    args = dict(
        method="POST",
        host="ecs.cn-shanghai.aliyuncs.com",
        action="RunInstances",
        version="2014-05-26",
        access_key_id="YourAccessKeyId",
        access_key_secret="YourAccessKeySecret",
        query=V3_QUERY,
        date="2023-10-26T09:01:01Z",
        nonce="d410180a5abf7fe235dd9b74aca91fc0",
    )
    args.update(overrides)
    return signing.sign_v3(**args)


def test_v3_public_example_signature():
    headers = _v3_example()
    assert headers["authorization"] == (
        f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={V3_SIGNED},Signature={V3_SIGNATURE}"
    )
    assert headers["x-acs-content-sha256"] == signing.EMPTY_BODY_SHA256
    assert headers["x-acs-date"] == "2023-10-26T09:01:01Z"


def test_v3_public_example_step_by_step():
    headers = {k: v for k, v in _v3_example().items() if k != "authorization"}
    canonical = signing.v3_canonical_request("POST", "/", V3_QUERY, headers, None, signing.EMPTY_BODY_SHA256)
    lines = canonical.split("\n")
    assert lines[:3] == [
        "POST",
        "/",
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai",
    ]
    assert lines[3] == "host:ecs.cn-shanghai.aliyuncs.com"
    assert lines[-2:] == [V3_SIGNED, signing.EMPTY_BODY_SHA256]
    string_to_sign = signing.v3_string_to_sign(canonical)
    assert string_to_sign.startswith("ACS3-HMAC-SHA256\n") and len(string_to_sign.split("\n")[1]) == 64
    assert signing.v3_signature("YourAccessKeySecret", string_to_sign) == V3_SIGNATURE


@pytest.mark.parametrize(
    "change",
    [
        {"query": {**V3_QUERY, "RegionId": "cn-hangzhou"}},
        {"access_key_secret": "YourAccessKeySecreT"},
        {"nonce": "d410180a5abf7fe235dd9b74aca91fc1"},
        {"date": "2023-10-26T09:01:02Z"},
        {"body": b"x", "content_type": "application/x-www-form-urlencoded"},
        {"method": "GET"},
    ],
)
def test_v3_any_change_changes_the_signature(change):
    assert _v3_example(**change)["authorization"] != _v3_example()["authorization"]


def test_v3_body_hash_content_type_and_sts_headers_are_signed():
    headers = _v3_example(body=b"A=1", content_type="application/x-www-form-urlencoded", security_token="sts-token")
    auth = signing.parse_v3_authorization(headers["authorization"])
    assert "content-type" in auth.signed_headers and "x-acs-security-token" in auth.signed_headers
    assert "x-acs-accesskey-id" in auth.signed_headers
    assert headers["x-acs-content-sha256"] == signing.sha256_hex(b"A=1")


def test_v3_extra_x_acs_headers_are_signed_others_are_not():
    headers = _v3_example(extra_headers={"x-acs-credentials-provider": "static_ak", "User-Agent": "teledeck"})
    auth = signing.parse_v3_authorization(headers["authorization"])
    assert "x-acs-credentials-provider" in auth.signed_headers
    assert "user-agent" not in auth.signed_headers


def test_parse_v3_authorization():
    auth = signing.parse_v3_authorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=Host;X-Acs-Date,Signature=ab")
    assert auth == signing.Acs3Authorization("ACS3-HMAC-SHA256", "AK", ("host", "x-acs-date"), "ab")
    for bad in ("", "Bearer abc", "ACS3-HMAC-SHA256 Credential=AK,Signature=ab", "ACS3-HMAC-SHA256 Credential"):
        with pytest.raises(ValueError):
            signing.parse_v3_authorization(bad)


def test_canonical_query_string_sorts_encodes_and_keeps_empty_values():
    query = [("b", "x y"), ("a", "1+1"), ("c", ""), ("d", None), ("a", "0")]
    assert signing.canonical_query_string(query) == "a=0&a=1%2B1&b=x%20y&c="
    assert signing.canonical_query_string({}) == ""


def test_canonical_headers_lowercases_trims_and_joins_repeats():
    canonical, signed = signing.canonical_headers([("X-Acs-B", " 2 "), ("host", "h"), ("x-acs-b", "1")])
    assert canonical == "host:h\nx-acs-b:1,2\n"
    assert signed == "host;x-acs-b"
    canonical, signed = signing.canonical_headers({"host": "h", "accept": "*/*"}, ["HOST"])
    assert (canonical, signed) == ("host:h\n", "host")
    with pytest.raises(KeyError):
        signing.canonical_headers({"host": "h"}, ["host", "x-acs-date"])


# -- RPC signature 1.0 (HMAC-SHA1): the ECS DescribeRegions example of the RPC signature doc ------

RPC_PARAMS = {
    "Action": "DescribeRegions",
    "Format": "XML",
    "Version": "2014-05-26",
    "AccessKeyId": "testid",
    "SignatureMethod": "HMAC-SHA1",
    "Timestamp": "2016-02-23T12:46:24Z",
    "SignatureVersion": "1.0",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
}
RPC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
)


def test_rpc_public_example():
    string_to_sign = signing.rpc_string_to_sign("GET", RPC_PARAMS)
    assert string_to_sign == RPC_STRING_TO_SIGN
    assert signing.rpc_signature("testsecret", string_to_sign) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_rpc_public_example_old_timestamp_spelling():
    params = dict(RPC_PARAMS)
    params["TimeStamp"] = params.pop("Timestamp")
    assert (
        signing.rpc_signature("testsecret", signing.rpc_string_to_sign("GET", params)) == "CT9X0VtwR86fNWSnsc6v8YGOjuE="
    )


def test_sign_rpc_builds_the_common_parameters_and_signs_them():
    pairs = signing.sign_rpc(
        method="GET",
        action="DescribeRegions",
        version="2014-05-26",
        access_key_id="testid",
        access_key_secret="testsecret",
        date="2016-02-23T12:46:24Z",
        nonce="3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        response_format="XML",
    )
    assert pairs[-1] == ("Signature", "OLeaidS1JvxuMvnyHOwuJ+uX5qY=")
    assert dict(pairs[:-1]) == RPC_PARAMS
    # On the wire the base64 signature is percent-encoded: "+" would otherwise read as a space.
    assert signing.encode_query(pairs).endswith("Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D")


def test_rpc_signature_excludes_signature_and_covers_every_other_parameter():
    base = signing.rpc_string_to_sign("POST", RPC_PARAMS)
    assert signing.rpc_string_to_sign("POST", {**RPC_PARAMS, "Signature": "zzz"}) == base
    assert signing.rpc_string_to_sign("POST", {**RPC_PARAMS, "PoolKey": "FC1"}) != base
    assert signing.rpc_string_to_sign("GET", RPC_PARAMS) != base
    assert signing.rpc_signature("testsecret", base) != signing.rpc_signature("testsecreT", base)


def test_rpc_sts_token_is_a_signed_parameter():
    pairs = dict(
        signing.sign_rpc(
            method="POST",
            action="A",
            version="1",
            access_key_id="k",
            access_key_secret="s",
            date="2020-01-01T00:00:00Z",
            nonce="n",
            security_token="tok",
        )
    )
    assert pairs["SecurityToken"] == "tok"


# -- encoding and time rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, encoded",
    [
        ("AZaz09-_.~", "AZaz09-_.~"),
        ("a b", "a%20b"),
        ("a+b", "a%2Bb"),
        ("*", "%2A"),
        ("/", "%2F"),
        (":", "%3A"),
        ("=&", "%3D%26"),
        ('"', "%22"),
        ("杭州", "%E6%9D%AD%E5%B7%9E"),
    ],
)
def test_percent_encode(raw, encoded):
    assert signing.percent_encode(raw) == encoded


def test_timestamps_are_utc_whole_seconds():
    cst = timezone(timedelta(hours=8))
    assert signing.timestamp(datetime(2023, 10, 26, 17, 1, 1, 999, tzinfo=cst)) == "2023-10-26T09:01:01Z"
    assert signing.timestamp(0) == "1970-01-01T00:00:00Z"
    with pytest.raises(ValueError):
        signing.timestamp(datetime(2023, 10, 26, 9, 1, 1))
    assert signing.parse_timestamp("2023-10-26T09:01:01Z") == datetime(2023, 10, 26, 9, 1, 1, tzinfo=UTC)
    assert signing.parse_timestamp("2023-10-26T09:01:01.5Z").microsecond == 500000
    for bad in ("2023-10-26 09:01:01", "2023-10-26T09:01:01+08:00", ""):
        with pytest.raises(ValueError):
            signing.parse_timestamp(bad)


def test_nonces_are_fresh_hex():
    nonces = {signing.new_nonce() for _ in range(50)}
    assert len(nonces) == 50 and all(len(n) == 32 and int(n, 16) >= 0 for n in nonces)


# -- the official SDK's own signing helpers agree (test-only dependency) ---------------------------


def test_matches_the_official_sdk_helpers():
    sdk = pytest.importorskip("alibabacloud_tea_openapi.utils")
    params = {
        "PoolKey": "FC100000000000001",
        "OutId": "a b+c*~/杭州",
        "Expiration": "2030-01-01 12:00:00",
        "Action": "BindAxb",
        "Version": "2017-05-25",
        "AccessKeyId": "k",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "n1",
        "Timestamp": "2030-01-01T00:00:00Z",
        "Format": "json",
    }
    ours = signing.rpc_signature("secret", signing.rpc_string_to_sign("POST", params))
    assert ours == sdk.Utils.get_rpcsignature(params, "POST", "secret")

    query = {"PoolKey": "FC100000000000001", "OutId": "a b+c*~/杭州", "IsRecordingEnabled": "true"}
    headers = signing.sign_v3(
        method="POST",
        host="dyplsapi.aliyuncs.com",
        action="BindAxb",
        version="2017-05-25",
        access_key_id="k",
        access_key_secret="secret",
        query=query,
        date="2030-01-01T00:00:00Z",
        nonce="n2",
    )
    unsigned = {k: v for k, v in headers.items() if k != "authorization"}
    request = types.SimpleNamespace(pathname="/", method="POST", query=query, headers=unsigned)
    expected = sdk.Utils.get_authorization(request, "ACS3-HMAC-SHA256", signing.EMPTY_BODY_SHA256, "k", "secret")
    assert headers["authorization"] == expected
