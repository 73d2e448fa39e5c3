"""Property tests: no validator or parser of typed input raises on any string; each answers None
or a field message (a string). Every form's every field is checked, with every other field also
hostile, so a cross-check that reads another field is exercised too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from providers.endpoints import endpoint_problem, is_loopback_host
from providers.vendors import binding_vendors, descriptors
from tui import binding_forms as forms
from tui import config as cfg
from tui import validators as v
from tui.config import Profile
from tui.resources import REGISTRY, FieldSpec
from tui.screens.profiles import AccountForm

# Text that looks like what the fields expect, broken in the ways that used to raise: URLs with
# brackets and odd ports, huge relative expiries, dates at the calendar's ends, numbers with
# non-ASCII digits, CIDRs with host bits, NUL and surrogate-free Unicode at large.
PIECES = [
    "http://", "https://", "[", "]", "::1", "%", "@", ":", "/", "?", "#", ":99999", ":-1", "localhost",
    "+", "-", "m", "h", "d", " ", "99999999999", "9" * 30, "0", "1", "٣", "²", "0001-01-01", "9999-12-31",
    "00:00", "23:59:60", "T", "\x00", "\n", "\x1b", "203.0.113.7", "/24", "/33", "fe80::1%eth0", "urn:",
    "+86", "138", "e", "x", ".", "_", "大阪",
]  # fmt: skip
hostile = st.one_of(
    st.text(),
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.builds(lambda a, b: a + b, st.sampled_from(["+", "http://[", "https://", "2026-"]), st.text(max_size=20)),
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

STANDALONE = [
    v.ip_or_cidr, v.country_code, v.url, v.uri, v.uuid_value, v.short_name, v.fingerprint, v.e164,
    v.max_length(255), v.min_length(3), cfg.validate_profile_name, cfg.validate_label, cfg.validate_url,
    cfg.validate_env_name, cfg.validate_credential_ref, endpoint_problem,
    lambda s: endpoint_problem(s, bare_origin=True),
]  # fmt: skip


def _answer_ok(answer: object) -> None:
    assert answer is None or (isinstance(answer, str) and answer.strip())


@pytest.mark.parametrize("check", STANDALONE, ids=lambda f: getattr(f, "__qualname__", "check"))
@given(value=hostile)
@example(value="http://[")  # measured: raised ValueError in the SSO URL fields
@example(value="https://h:99999/x")
@example(value="https://[::1")
def test_standalone_validators_never_raise(check, value):
    _answer_ok(check(value))


@given(value=hostile)
def test_loopback_check_never_raises(value):
    assert is_loopback_host(value) in (True, False)


@given(value=hostile, provider=st.sampled_from([*binding_vendors(), "", "nobody"]))
@example(value="+99999999999d", provider="huawei")  # measured: OverflowError out of the bind form
@example(value="+999999999d", provider="")
@example(value="0001-01-01 00:00", provider="aliyun")
@example(value="9999-12-31 23:59:59", provider="volcengine")
@example(value="+1٣m", provider="")
def test_expiry_and_phone_checks_never_raise(value, provider):
    _answer_ok(forms.expiry_problem(value, provider, NOW))
    _answer_ok(forms.phone_problem(value, provider))
    if forms.expiry_problem(value, provider, NOW) is None:
        assert forms.parse_expiry(value, NOW) > NOW  # accepted means it parses, in the future


@given(value=hostile)
@example(value="+99999999999d")
@example(value="+999999999d")
@example(value="0001-01-01 00:00")
def test_parse_expiry_raises_only_its_value_error(value):
    try:
        when = forms.parse_expiry(value, NOW)
    except ValueError as error:
        assert str(error)
    else:
        assert when.tzinfo is not None


def _forms() -> list[tuple[str, tuple[FieldSpec, ...]]]:
    found = []
    for spec in REGISTRY.values():
        found += [(f"{spec.name}.create", spec.create_fields), (f"{spec.name}.edit", spec.edit_fields)]
    providers = tuple(binding_vendors())
    found.append(("bind", forms.bind_fields(providers)))
    found.append(("import", forms.import_fields(providers)))
    for provider in providers:
        for mode in forms.supported_modes(provider):
            found.append((f"modify.{provider}.{mode}", forms.modify_fields(provider, mode)))
    profile = Profile("fuzz")
    for vendor in descriptors():
        found.append((f"account.{vendor.kind}", AccountForm(profile, vendor, None, {}).fields()))
    return [(name, fields) for name, fields in found if fields]


FORMS = _forms()


@pytest.mark.parametrize(("form", "fields"), FORMS, ids=[name for name, _ in FORMS])
@settings(max_examples=60)
@given(data=st.data())
def test_every_form_field_check_never_raises(form, fields, data):
    values = {}
    for spec in fields:
        if spec.kind == "choice" and spec.choices and data.draw(st.booleans()):
            values[spec.name] = data.draw(st.sampled_from(spec.choices))
        else:
            values[spec.name] = data.draw(hostile)
    for spec in fields:
        _answer_ok(spec.check(values[spec.name], values))
