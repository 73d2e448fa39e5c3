"""The official Volcengine Python SDK (`volcengine`, VmsService) against the VMS sandbox on
loopback, unchanged: it binds, queries, updates and unbinds, and is refused with the vendor's
own error when it signs with a wrong secret or a stale clock. Its signer also cross-checks ours.

The SDK is pointed at the sandbox only through its public setters (`set_host`, `set_scheme`,
`set_ak`, `set_sk`); `session.trust_env = False` keeps a proxy from the environment out of a
loopback call.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime

import pytest

from providers.sandbox.http import serve
from providers.sandbox.volcengine import AXB_POOL_NO, FULL_POOL_NO, VolcSandbox
from providers.volcengine import signing
from providers.volcengine.vms import VmsClient

pytestmark = pytest.mark.interop

VmsService = pytest.importorskip("volcengine.vms.VmsService").VmsService
SignerV4 = pytest.importorskip("volcengine.auth.SignerV4").SignerV4
SignParam = pytest.importorskip("volcengine.auth.SignParam").SignParam
SdkCredentials = pytest.importorskip("volcengine.Credentials").Credentials


class ShiftedClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock():
    return ShiftedClock()


@pytest.fixture
def sandbox(clock):
    return VolcSandbox(clock=clock)


@pytest.fixture
def server(sandbox):
    with serve(sandbox, port=0) as running:
        yield running


def sdk_for(server, sandbox, *, secret=None):
    service = VmsService()
    service.set_host(f"127.0.0.1:{server.port}")
    service.set_scheme("http")
    service.set_ak(sandbox.access_key)
    service.set_sk(secret or sandbox.secret_key)
    service.session.trust_env = False
    return service


def expires(seconds: int = 3600) -> str:
    return str(int(time.time()) + seconds)


def test_sdk_binds_queries_updates_and_unbinds_axn(server, sandbox):
    sdk = sdk_for(server, sandbox)
    pool = sandbox.number_pool_no
    answer = sdk.bind_axn(
        {
            "NumberPoolNo": pool,
            "PhoneNoA": "13700000031",
            "PhoneNoB": "13700000032",
            "PhoneNoX": "17000100003",
            "ExpireTime": expires(),
            "UserData": "订单 42 & more+",
        }
    )
    assert "Error" not in answer["ResponseMetadata"]
    assert answer["ResponseMetadata"]["Action"] == "BindAXN" and answer["ResponseMetadata"]["Service"] == "vms"
    sub_id = answer["Result"]["SubId"]
    assert answer["Result"]["PhoneNoX"] == "17000100003" and answer["Result"]["Status"] == 1

    got = sdk.query_subscription({"NumberPoolNo": pool, "SubId": sub_id})["Result"]
    assert (got["PhoneNoA"], got["UserData"], got["Status"]) == ("13700000031", "订单 42 & more+", 1)

    listed = sdk.query_subscription_for_list(
        {"NumberPoolNo": pool, "PhoneNoX": "17000100003", "Status": 1, "Offset": 0, "Limit": 20}
    )["Result"]
    assert [r["SubId"] for r in listed["Records"]] == [sub_id] and listed["Total"] == 1

    updated = sdk.update_axn(
        {"NumberPoolNo": pool, "SubId": sub_id, "UpdateType": "updatePhoneNoB", "PhoneNoB": "13700000033"}
    )
    assert updated["Result"] is True
    assert sandbox.subscription(sub_id)["PhoneNoB"] == "13700000033"

    assert sdk.unbind_axn({"NumberPoolNo": pool, "SubId": sub_id})["Result"] is True
    assert sdk.query_subscription({"NumberPoolNo": pool, "SubId": sub_id})["Result"]["Status"] == 0
    assert sandbox.actions_applied["BindAXN"] == 1 and sandbox.actions_applied["UnbindAXN"] == 1


def test_sdk_binds_and_unbinds_axb_and_selects_a_number(server, sandbox):
    sdk = sdk_for(server, sandbox)
    bound = sdk.bind_axb(
        {
            "NumberPoolNo": AXB_POOL_NO,
            "PhoneNoA": "13700000034",
            "PhoneNoB": "13700000035",
            "PhoneNoX": "17000100102",
            "ExpireTime": expires(),
            "OutId": "trip-1",
        }
    )["Result"]
    picked = sdk.select_number_and_bind_axb(
        {
            "NumberPoolNo": AXB_POOL_NO,
            "PhoneNoA": "13700000036",
            "PhoneNoB": "13700000037",
            "ExpireTime": expires(),
            "CityCode": "0571",
            "DegradeCityList": ["0755"],
        }
    )["Result"]
    assert picked["PhoneNoXCityCode"] == "0755"
    for sub_id in (bound["SubId"], picked["SubId"]):
        assert sdk.unbind_axb({"NumberPoolNo": AXB_POOL_NO, "SubId": sub_id})["Result"] is True


def test_sdk_lists_pools_and_numbers_including_the_get_action(server, sandbox):
    sdk = sdk_for(server, sandbox)
    pools = sdk.number_pool_list({"SubServiceType": "202"})["Result"]
    assert {p["NumberPoolNo"] for p in pools["Records"]} == {sandbox.number_pool_no, FULL_POOL_NO}
    numbers = sdk.number_list({"NumberPoolNo": sandbox.number_pool_no, "NumberTypeCode": 1, "Limit": 5, "Offset": 0})
    assert [n["Number"] for n in numbers["Result"]["Records"]] == ["01055500101", "02155500101"]
    urls = sdk.query_audio_record_file_url({"CallId": "SBXCALL202601050000000001"})["Result"]
    assert urls["AudioRecordFileUrl"].startswith("https://vms-record.sandbox.teledeck.invalid/")


def test_sdk_gets_business_errors_under_http_200(server, sandbox):
    sdk = sdk_for(server, sandbox)
    answer = sdk.bind_axb(
        {
            "NumberPoolNo": AXB_POOL_NO,
            "PhoneNoA": "13700000012",
            "PhoneNoB": "13700000038",
            "PhoneNoX": "17000100101",
            "ExpireTime": expires(),
        }
    )
    assert answer["ResponseMetadata"]["Error"]["Code"] == "ConflictWithExisting"
    assert "Result" not in answer


def test_sdk_with_a_wrong_secret_is_refused_with_the_vendor_error(server, sandbox):
    sdk = sdk_for(server, sandbox, secret="definitely-not-the-secret")
    before = len(sandbox.state["subscriptions"])
    answer = sdk.bind_axn(
        {
            "NumberPoolNo": sandbox.number_pool_no,
            "PhoneNoA": "13700000039",
            "PhoneNoX": "17000100003",
            "ExpireTime": expires(),
        }
    )
    error = answer["ResponseMetadata"]["Error"]
    assert (error["Code"], error["CodeN"]) == ("SignatureDoesNotMatch", 100010)
    assert len(sandbox.state["subscriptions"]) == before and sandbox.actions_applied["BindAXN"] == 0
    listing = sdk.number_list({"NumberPoolNo": sandbox.number_pool_no})
    assert listing["ResponseMetadata"]["Error"]["Code"] == "SignatureDoesNotMatch"


def test_sdk_with_a_stale_clock_is_refused_with_invalid_timestamp(server, sandbox, clock):
    clock.offset = 3600.0  # the server is an hour ahead of the SDK's X-Date
    answer = sdk_for(server, sandbox).number_pool_list({})
    assert answer["ResponseMetadata"]["Error"]["Code"] == "InvalidTimestamp"


def test_teledeck_client_over_loopback_http(server, sandbox):
    import asyncio

    async def run() -> list[str]:
        client = VmsClient(sandbox.access_key, sandbox.secret_key, endpoint=server.url)
        try:
            page = await client.number_pool_list()
            sub = await client.bind_axn(
                number_pool_no=sandbox.number_pool_no,
                phone_no_a="13700000040",
                phone_no_x="17000100003",
                expire_time=int(time.time()) + 600,
            )
            await client.unbind_axn(number_pool_no=sandbox.number_pool_no, sub_id=sub.sub_id)
            return [p.number_pool_no for p in page.items]
        finally:
            await client.aclose()

    assert sandbox.number_pool_no in asyncio.run(run())


@pytest.mark.parametrize(
    ("method", "query", "headers", "body", "region", "token"),
    [
        (
            "POST",
            [("Action", "BindAXN"), ("Version", "2022-01-01")],
            {"Host": "cloud-vms.volcengineapi.com", "Content-Type": "application/x-www-form-urlencoded"},
            "PhoneNoA=13700000001&PhoneNoB=13700000002&PhoneNoX=17000000003&NumberPoolNo=NP162981168404095092"
            "&ExpireTime=1735689600&AudioRecordFlag=1&UserData=order-42",
            "cn-north-1",
            "",
        ),
        (
            "POST",
            [("Action", "BindAXN"), ("Version", "2022-01-01")],
            {"Host": "cloud-vms.volcengineapi.com", "Content-Type": "application/x-www-form-urlencoded"},
            "PhoneNoA=13700000001&UserData=%E8%AE%A2%E5%8D%95+42%26x%3Dy",
            "cn-north-1",
            "",
        ),
        (
            "GET",
            [
                ("Action", "NumberList"),
                ("Version", "2022-01-01"),
                ("NumberPoolNo", "NP1"),
                ("Limit", "5"),
                ("Offset", "0"),
                ("Note", "a b~c/d"),
            ],
            {"Host": "127.0.0.1:4510"},
            "",
            "cn-north-1",
            "",
        ),
        (
            "POST",
            [("Action", "QuerySubscriptionForList"), ("Version", "2022-01-01")],
            {"Host": "cloud-vms.volcengineapi.com", "Content-Type": "application/x-www-form-urlencoded"},
            "NumberPoolNo=NP1&PhoneNoX=17000000003&Status=1&Offset=0&Limit=20",
            "cn-beijing",
            "STS2sessiontoken",
        ),
        (
            "POST",
            [("Action", "BindAXG"), ("Version", "2022-01-01")],
            {"Host": "cloud-vms.volcengineapi.com", "Content-Type": "application/json"},
            '{"GroupId":"G1","PhoneNoA":"13700000001"}',
            "cn-north-1",
            "",
        ),
    ],
)
def test_our_signer_matches_the_sdk_signer(method, query, headers, body, region, token):
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    param = SignParam()
    param.set_method(method)
    param.set_host(headers["Host"])
    param.set_path("/")
    param.set_query(OrderedDict(query))
    param.set_header_list(OrderedDict(headers))
    param.set_body(body)
    param.set_date(moment)
    theirs = SignerV4.sign_only(param, SdkCredentials("AKTEST", "SKTEST", "vms", region, token))
    ours = signing.sign(
        signing.SignedRequest(method, "/", query, headers, body.encode()),
        signing.Credentials("AKTEST", "SKTEST", region, "vms", token),
        x_date="20240506T070809Z",
    )
    assert ours["Authorization"] == theirs.authorization
    assert ours["X-Content-Sha256"] == theirs.xContextSha256
    assert signing.verify(signing.SignedRequest(method, "/", query, {**headers, **ours}, body.encode()), "SKTEST")
