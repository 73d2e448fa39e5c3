"""The official Dypls Python SDK (alibabacloud-dyplsapi20170525==2.5.1, runtime
alibabacloud-tea-openapi 0.4.6) against the Dypls sandbox served on loopback.

The SDK signs with its default V3 ACS3-HMAC-SHA256 and, with `signature_algorithm='v2'`, with the
legacy RPC HMAC-SHA1; the sandbox must accept both exactly as the gateway does, and refuse a
request signed with the wrong secret so that the SDK raises its TeaException with the gateway's
code. The SDK does no retries by default, so every request is sent once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

dypls = pytest.importorskip("alibabacloud_dyplsapi20170525.client")
models = pytest.importorskip("alibabacloud_dyplsapi20170525.models")
openapi = pytest.importorskip("alibabacloud_tea_openapi.models")
tea_exceptions = pytest.importorskip("Tea.exceptions")

from providers.sandbox.aliyun_pls import DEFAULT_POOL_KEY, DyplsSandbox  # noqa: E402
from providers.sandbox.http import serve  # noqa: E402

pytestmark = pytest.mark.interop

CHINA = timedelta(hours=8)
ALGORITHMS = [None, "v2"]  # None: the SDK's default (V3)


class Served:
    def __init__(self, sandbox: DyplsSandbox, port: int) -> None:
        self.sandbox = sandbox
        self.port = port
        self.seen: list = []

    def client(self, algorithm: str | None, *, secret: str | None = None, key: str | None = None):
        config = openapi.Config(
            access_key_id=key or self.sandbox.access_key_id,
            access_key_secret=secret or self.sandbox.access_key_secret,
            endpoint=f"127.0.0.1:{self.port}",
            protocol="http",
        )
        if algorithm:
            config.signature_algorithm = algorithm
        return dypls.Client(config)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    sandbox = DyplsSandbox(qps=0)
    server = serve(sandbox, port=0)
    result = Served(sandbox, server.port)
    original = sandbox.handle

    def recording(req):
        result.seen.append(req)
        return original(req)

    sandbox.handle = recording
    try:
        yield result
    finally:
        server.shutdown()


def china(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta + CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _scheme(req) -> str:
    if (req.header("authorization") or "").startswith("ACS3-HMAC-SHA256 "):
        return "v3"
    return "rpc" if req.query_dict.get("SignatureMethod") == "HMAC-SHA1" and req.query_dict.get("Signature") else "?"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sdk_binds_queries_updates_and_unbinds(served, algorithm):
    client = served.client(algorithm)
    start = len(served.seen)
    a, b = ("13900000201", "13900000202") if algorithm is None else ("13900000301", "13900000302")

    bound = client.bind_axb(
        models.BindAxbRequest(
            pool_key=DEFAULT_POOL_KEY,
            phone_no_a=a,
            phone_no_b=b,
            expiration=china(timedelta(hours=2)),
            expect_city="上海",
            is_recording_enabled=True,
            out_id="sdk interop+1",
        )
    )
    assert bound.status_code == 200 and bound.body.code == "OK" and bound.body.request_id
    dto = bound.body.secret_bind_dto
    assert dto.subs_id and dto.secret_no.startswith("1700000300")

    detail = client.query_subscription_detail(
        models.QuerySubscriptionDetailRequest(pool_key=DEFAULT_POOL_KEY, subs_id=dto.subs_id, phone_no_x=dto.secret_no)
    ).body
    info = detail.secret_bind_detail_dto
    assert (info.phone_no_a, info.phone_no_b, info.status, info.need_record) == (a, b, 1, True)

    subs = client.query_subs_id(models.QuerySubsIdRequest(pool_key=DEFAULT_POOL_KEY, phone_no_x=dto.secret_no)).body
    assert subs.code == "OK" and subs.subs_id

    new_expiry = china(timedelta(days=1))
    updated = client.update_subscription(
        models.UpdateSubscriptionRequest(
            pool_key=DEFAULT_POOL_KEY,
            subs_id=dto.subs_id,
            phone_no_x=dto.secret_no,
            operate_type="updateExpire",
            expiration=new_expiry,
        )
    ).body
    assert updated.code == "OK"
    detail = client.query_subscription_detail(
        models.QuerySubscriptionDetailRequest(pool_key=DEFAULT_POOL_KEY, subs_id=dto.subs_id, phone_no_x=dto.secret_no)
    ).body
    assert detail.secret_bind_detail_dto.expire_date == new_expiry

    axn = client.bind_axn(
        models.BindAxnRequest(pool_key=DEFAULT_POOL_KEY, phone_no_a=a, expiration=china(timedelta(hours=1)))
    ).body
    assert axn.code == "OK" and axn.secret_bind_dto.subs_id
    ext = client.bind_axn_extension(
        models.BindAxnExtensionRequest(
            pool_key=DEFAULT_POOL_KEY, phone_no_a=b, phone_no_x="17000003001", expiration=china(timedelta(hours=1))
        )
    ).body
    assert ext.code == "OK" and ext.secret_bind_dto.extension.isdigit()

    url = client.query_record_file_download_url(
        models.QueryRecordFileDownloadUrlRequest(
            pool_key=DEFAULT_POOL_KEY, call_id="c0ffee0000000001@17000001001", call_time=china(timedelta(hours=-1))
        )
    ).body
    assert url.code == "OK" and url.download_url.startswith("https://")

    for subs_id, x in (
        (dto.subs_id, dto.secret_no),
        (axn.secret_bind_dto.subs_id, axn.secret_bind_dto.secret_no),
        (ext.secret_bind_dto.subs_id, ext.secret_bind_dto.secret_no),
    ):
        gone = client.unbind_subscription(
            models.UnbindSubscriptionRequest(pool_key=DEFAULT_POOL_KEY, subs_id=subs_id, secret_no=x)
        ).body
        assert gone.code == "OK"
    after = client.query_subscription_detail(
        models.QuerySubscriptionDetailRequest(pool_key=DEFAULT_POOL_KEY, subs_id=dto.subs_id, phone_no_x=dto.secret_no)
    ).body
    assert after.code == "isv.SUBS_NOT_EXIST"  # business outcomes come back in the body; the SDK does not raise

    expected = "v3" if algorithm is None else "rpc"
    assert {_scheme(req) for req in served.seen[start:]} == {expected}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sdk_sees_business_errors_in_the_body(served, algorithm):
    client = served.client(algorithm)
    answer = client.bind_axb(
        models.BindAxbRequest(
            pool_key=DEFAULT_POOL_KEY,
            phone_no_a="13900000401",
            phone_no_b="13900000402",
            expiration=china(timedelta(seconds=30)),
        )
    ).body
    assert answer.code == "isv.EXPIRE_DATE_ILLEGAL" and answer.secret_bind_dto is None and answer.request_id


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sdk_wrong_secret_is_refused(served, algorithm):
    client = served.client(algorithm, secret="NotTheSandboxSecret-000")
    handled = served.sandbox.action_counts["BindAxb"]
    with pytest.raises(tea_exceptions.TeaException) as caught:
        client.bind_axb(
            models.BindAxbRequest(
                pool_key=DEFAULT_POOL_KEY,
                phone_no_a="13900000501",
                phone_no_b="13900000502",
                expiration=china(timedelta(hours=1)),
            )
        )
    error = caught.value
    assert error.code == "SignatureDoesNotMatch"
    assert error.data["HostId"] and error.data["Recommend"] and error.data["RequestId"]
    assert error.data["statusCode"] == 400
    assert served.sandbox.action_counts["BindAxb"] == handled


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sdk_unknown_access_key(served, algorithm):
    client = served.client(algorithm, key="NoSuchAccessKeyId")
    with pytest.raises(tea_exceptions.TeaException) as caught:
        client.query_subs_id(models.QuerySubsIdRequest(pool_key=DEFAULT_POOL_KEY, phone_no_x="17000001001"))
    assert caught.value.code == "InvalidAccessKeyId.NotFound" and caught.value.data["statusCode"] == 404
