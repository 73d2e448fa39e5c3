"""Property tests: every record parser turns any JSON value into a record or a MalformedResponse,
never another exception, and a record's derived properties (expiry, mode) never raise either.

The values are JSON as `json.loads` gives it (so also inf and nan, and ints within its digit
limit), in objects keyed mostly by the vendors' own wire keys, with times at the calendar's ends.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.aliyun import cams, pls
from providers.errors import MalformedResponse
from providers.huawei import privatenumber as huawei
from providers.records import flatten, parse_json
from providers.telnyx import models as telnyx
from providers.vendors import parse_record
from providers.volcengine import vms
from tui.resources import REGISTRY

TIMES = [
    "0001-01-01 00:00:00", "9999-12-31 23:59:59", "2026-12-01 18:00:00", "2026-13-45 25:61:61", "1-1-1 0:00:00",
    "0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00", "0", "-1", "99999999999999999999", "1e400", "1790000000",
    "1790000000000", "٢٠٢٦-١٢-٠١ ١٨:٠٠:٠٠", "²", "",
]  # fmt: skip
scalars = st.one_of(
    st.sampled_from(TIMES),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)  # fmt: skip


def objects(*keys: str):
    """Objects of these wire keys (the ones a parser reads), each value hostile."""
    return st.dictionaries(
        st.sampled_from(sorted(keys)), st.one_of(scalars, json_values), min_size=1, max_size=len(keys)
    )


def answers(*keys: str, envelope: str = ""):
    """Any JSON value; mostly objects of `keys`, wrapped under `envelope` when the vendor does."""
    inner = objects(*keys)
    wrapped = inner if not envelope else st.builds(lambda dto, rid: {envelope: dto, "RequestId": rid}, inner, scalars)
    return st.one_of(wrapped, wrapped, wrapped, json_values)


def fields(*classes) -> list[str]:
    return [f.name for cls in classes for f in dataclasses.fields(cls)]


def _touch(record: Any) -> None:
    """Every field and property of a record, as the UI reads them."""
    for name in dir(type(record)):
        if isinstance(getattr(type(record), name, None), property):
            getattr(record, name)
    if dataclasses.is_dataclass(record):
        for field in dataclasses.fields(record):
            getattr(record, field.name)
    raw = getattr(record, "raw", None)
    if raw is not None:
        flatten(raw)


def _parsed(parse, value) -> None:
    try:
        result = parse(value)
    except MalformedResponse as error:
        assert error.summary()
        return
    for record in result if isinstance(result, list) else [result]:
        _touch(record)


ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))]
TELNYX = (telnyx.AccessIp, telnyx.Address, telnyx.AuthProvider, telnyx.BillingGroup, telnyx.IntegrationSecret,
          telnyx.TelephonyCredential)  # fmt: skip
HUAWEI_KEYS = (*huawei._WIRE_KEYS.values(), "subscribeTime", "duration", "maxDuration", "recordFlag", "areaCode")
VOLC_KEYS = (*vms._SUBSCRIPTION_KEYS.values(), "SubId", "RecordFlag", "EnableTime", "ExpireTime")
PLS_KEYS = (*pls._WIRE_KEYS.values(), "ExpireDate", "GmtCreate")
CAMS_KEYS = ("PhoneNumber", "VerifiedName", "Status", "QualityRating", "CodeVerificationStatus", "NameStatus",
             "NewNameStatus", "MessagingLimitTier", "StatusCallbackUrl", "UpCallbackUrl", "IsOfficial")  # fmt: skip


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"item": value}


# name -> (parser, the answers it is given)
PARSERS: dict[str, tuple[Any, Any]] = {
    **{f"telnyx.{cls.__name__}": (cls.from_api, answers(*fields(cls), "settings")) for cls in TELNYX},
    "telnyx.AuthProvider.settings": (
        telnyx.AuthProvider.from_api,
        st.builds(
            lambda settings: {"settings": settings},
            objects("idp_entity_id", "idp_sso_target_url", "idp_cert_fingerprint", "service_provider_login_url"),
        ),
    ),
    "telnyx.AddressValidation": (
        telnyx.AddressValidation.from_api,
        answers("result", "suggested", "errors").map(lambda d: d if not isinstance(d, dict) else {**d, "errors": [d]}),
    ),
    **{
        f"huawei.AxbBinding.{z}": ((lambda d, z=z: huawei.AxbBinding.from_api(d, z)), answers(*HUAWEI_KEYS))
        for z in ZONES
    },
    **{
        f"huawei.AxBinding.{z}": ((lambda d, z=z: huawei.AxBinding.from_api(d, z)), answers(*HUAWEI_KEYS))
        for z in ZONES
    },
    "volcengine.Subscription": (lambda d: vms.Subscription.from_wire(d, what="fuzz"), answers(*VOLC_KEYS)),
    "volcengine.NumberPool": (vms.NumberPool.from_wire, answers(*vms._NUMBER_POOL_KEYS.values())),
    "volcengine.PoolNumber": (vms.PoolNumber.from_wire, answers(*vms._POOL_NUMBER_KEYS.values())),
    "aliyun.SecretBind": (
        lambda d: pls._secret_bind(_as_dict(d), "Fuzz"),
        answers(*PLS_KEYS, envelope="SecretBindDTO"),
    ),
    "aliyun.SubscriptionDetail": (
        lambda d: pls._detail(_as_dict(d)),
        answers(*PLS_KEYS, envelope="SecretBindDetailDTO"),
    ),
    "aliyun-cams.numbers": (
        lambda d: cams.parse_phone_numbers(d, "Fuzz"),
        st.one_of(
            st.lists(st.one_of(objects(*CAMS_KEYS), scalars), max_size=4).map(lambda xs: {"PhoneNumbers": xs}),
            json_values,
        ),
    ),
    "aliyun-cams.cached": (lambda d: parse_record("aliyun-cams", "whatsapp_number", _as_dict(d)), answers(*CAMS_KEYS)),
    # What the screens rebuild from the cache: any object a cache file held.
    **{
        f"screen.{spec.name}": (
            (lambda d, parse=spec.parse: parse(_as_dict(d))),
            answers(*CAMS_KEYS, *fields(*TELNYX), "settings", "type"),
        )
        for spec in REGISTRY.values()
        if spec.parse is not None
    },
}


@pytest.mark.parametrize("name", PARSERS)
@settings(max_examples=100)
@given(data=st.data())
def test_any_json_value_is_a_record_or_malformed(name, data):
    parse, values = PARSERS[name]
    _parsed(parse, data.draw(values))


TIME_PARSERS = {
    "volcengine": vms.parse_wire_time,
    **{f"huawei.{z}": (lambda v, z=z: huawei.parse_wire_time(v, z)) for z in ZONES},
    "aliyun": pls._maybe_china_time,
}


@pytest.mark.parametrize("name", TIME_PARSERS)
@given(value=st.one_of(scalars, st.sampled_from(TIMES)))
def test_wire_times_are_a_time_or_none(name, value):
    if name == "aliyun" and not isinstance(value, str):
        value = str(value)
    when = TIME_PARSERS[name](value)
    assert when is None or when.tzinfo is not None


@given(content=st.binary(max_size=200))
def test_any_body_is_json_or_none(content):
    value = parse_json(content)
    if isinstance(value, float):
        assert math.isnan(value) or isinstance(value, float)


@pytest.mark.parametrize(
    ("text", "expected"), [("²", None), ("٣", None), ("1" * 5000, None), ("--1", None), (" 12 ", 12), ("-7", -7)]
)
def test_integer_reads_ascii_digits_only(text, expected):
    """ "²".isdigit() is True and int("²") raises; a 5,000-digit string is over int()'s limit."""
    from providers.records import integer

    assert integer({"n": text}, "n") == expected
