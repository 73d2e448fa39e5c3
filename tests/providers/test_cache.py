"""The result cache: hits and age, exact invalidation, bad files ignored, atomic owner-only writes,
no secrets."""

from __future__ import annotations

import json
import os
from datetime import UTC

import pytest

from providers import paths as paths_module
from providers.cache import (
    FORMAT_VERSION,
    ResultCache,
    default_cache_dir,
    is_secret_field,
    query_key,
    scrub,
)

ACCESS_IPS = query_key("telnyx", "access_ip_address")
ACCESS_IP_FILTERED = query_key("telnyx", "access_ip_address", {"filter[ip_address]": "203.0.113.7"})
ADDRESSES = query_key("telnyx", "addresses")

IP_ROWS = [{"id": "ip-1", "ip_address": "203.0.113.7", "status": "added"}]
ADDRESS_ROWS = [{"id": "addr-1", "street_address": "1 Main St", "country_code": "US"}]


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("TELEDECK_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(_cache_dir, clock) -> ResultCache:
    return ResultCache(None, clock=clock)


def _files(directory):
    return sorted(p for p in directory.rglob("*") if p.is_file())


# ---- keys -------------------------------------------------------------------------------------


def test_default_directory_follows_the_env_override(_cache_dir, cache):
    assert default_cache_dir() == _cache_dir
    assert cache.directory == _cache_dir


def test_query_keys_are_stable_and_share_the_resource_prefix():
    a = query_key("telnyx", "addresses", {"filter[b]": "2", "filter[a]": "1", "empty": "", "none": None})
    b = query_key("telnyx", "addresses", {"filter[a]": "1", "filter[b]": "2"})
    assert a == b == "telnyx:addresses?filter%5Ba%5D=1&filter%5Bb%5D=2"
    assert ACCESS_IP_FILTERED.startswith(ACCESS_IPS)
    assert not ADDRESSES.startswith(ACCESS_IPS)


# ---- hit and age ------------------------------------------------------------------------------


def test_miss_then_hit_with_age(cache, clock):
    assert cache.get("prod", "tx", ACCESS_IPS) is None
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    clock.now += 42
    hit = cache.get("prod", "tx", ACCESS_IPS)
    assert hit.items == IP_ROWS
    assert hit.age_seconds == 42
    assert hit.fetched_at == 1_000_000.0


def test_keys_are_separate_by_profile_account_and_query(cache):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    assert cache.get("staging", "tx", ACCESS_IPS) is None
    assert cache.get("prod", "tx2", ACCESS_IPS) is None
    assert cache.get("prod", "tx", ACCESS_IP_FILTERED) is None


def test_a_new_cache_instance_reads_the_disk_copy(cache, clock, _cache_dir):
    cache.put("prod", "telnyx main/eu", ACCESS_IPS, IP_ROWS)
    clock.now += 5
    again = ResultCache(_cache_dir, clock=clock)
    hit = again.get("prod", "telnyx main/eu", ACCESS_IPS)
    assert hit.items == IP_ROWS and hit.age_seconds == 5


def test_memory_only_cache_writes_nothing(_cache_dir, clock):
    memory = ResultCache(_cache_dir, clock=clock, persist=False)
    memory.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    assert memory.get("prod", "tx", ACCESS_IPS).items == IP_ROWS
    assert not _cache_dir.exists()


def test_non_json_values_are_stored_as_text_and_identical_after_reload(cache, clock, _cache_dir):
    from datetime import datetime

    when = datetime(2025, 1, 2, tzinfo=UTC)
    cache.put("prod", "tx", ADDRESSES, [{"id": "a", "at": when, "tags": ("x", "y"), 3: "three"}])
    memory = cache.get("prod", "tx", ADDRESSES).items
    disk = ResultCache(_cache_dir, clock=clock).get("prod", "tx", ADDRESSES).items
    assert memory == disk == [{"id": "a", "at": str(when), "tags": ["x", "y"], "3": "three"}]


# ---- invalidation -----------------------------------------------------------------------------


def test_invalidate_removes_exactly_the_prefixed_entries(cache, clock, _cache_dir):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    cache.put("prod", "tx", ACCESS_IP_FILTERED, IP_ROWS)
    cache.put("prod", "tx", ADDRESSES, ADDRESS_ROWS)
    cache.put("prod", "other", ACCESS_IPS, IP_ROWS)
    cache.put("staging", "tx", ACCESS_IPS, IP_ROWS)

    assert cache.invalidate("prod", "tx", query_key("telnyx", "access_ip_address")) == 2

    for reader in (cache, ResultCache(_cache_dir, clock=clock)):  # memory and disk agree
        assert reader.get("prod", "tx", ACCESS_IPS) is None
        assert reader.get("prod", "tx", ACCESS_IP_FILTERED) is None
        assert reader.get("prod", "tx", ADDRESSES).items == ADDRESS_ROWS
        assert reader.get("prod", "other", ACCESS_IPS).items == IP_ROWS
        assert reader.get("staging", "tx", ACCESS_IPS).items == IP_ROWS


def test_invalidate_finds_disk_entries_this_instance_never_loaded(cache, clock, _cache_dir):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    cache.put("prod", "tx", ADDRESSES, ADDRESS_ROWS)
    fresh = ResultCache(_cache_dir, clock=clock)
    assert fresh.invalidate("prod", "tx", ACCESS_IPS) == 1
    reread = ResultCache(_cache_dir, clock=clock)
    assert reread.get("prod", "tx", ACCESS_IPS) is None
    assert reread.get("prod", "tx", ADDRESSES) is not None


def test_invalidate_every_account_of_a_profile(cache):
    cache.put("prod", "a", ACCESS_IPS, IP_ROWS)
    cache.put("prod", "b", ACCESS_IPS, IP_ROWS)
    cache.put("prod", "b", ADDRESSES, ADDRESS_ROWS)
    assert cache.invalidate("prod", None, ACCESS_IPS) == 2
    assert cache.get("prod", "b", ADDRESSES) is not None


def test_clear_profile(cache, clock, _cache_dir):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    cache.put("staging", "tx", ACCESS_IPS, IP_ROWS)
    cache.clear_profile("prod")
    reread = ResultCache(_cache_dir, clock=clock)
    assert cache.get("prod", "tx", ACCESS_IPS) is None and reread.get("prod", "tx", ACCESS_IPS) is None
    assert reread.get("staging", "tx", ACCESS_IPS) is not None


# ---- bad files --------------------------------------------------------------------------------


def _damage_cases(path):
    header, body = path.read_bytes().split(b"\n", 1)
    meta = json.loads(header)
    foreign = dict(meta, version=FORMAT_VERSION + 1)
    other_key = dict(meta, query="telnyx:something_else")
    short = dict(meta, count=meta["count"] + 1)
    return {
        "garbage": b"\x00\xff not json at all",
        "empty": b"",
        "header only, truncated": header[: len(header) // 2],
        "partial body": header + b"\n" + body[: len(body) // 2],
        "foreign version": json.dumps(foreign).encode() + b"\n" + body,
        "foreign format": json.dumps(dict(meta, format="other-tool")).encode() + b"\n" + body,
        "another key": json.dumps(other_key).encode() + b"\n" + body,
        "count mismatch": json.dumps(short).encode() + b"\n" + body,
        "items not objects": header + b"\n[1, 2]\n",
        "bad fetched_at": json.dumps(dict(meta, fetched_at="yesterday")).encode() + b"\n" + body,
        "not utf-8": header + b"\n\xff\xfe\n",
    }


DAMAGE = [
    "garbage",
    "empty",
    "header only, truncated",
    "partial body",
    "foreign version",
    "foreign format",
    "another key",
    "count mismatch",
    "items not objects",
    "bad fetched_at",
    "not utf-8",
]


@pytest.mark.parametrize("case", DAMAGE)
def test_bad_cache_file_is_ignored_deleted_and_rebuilt(cache, clock, _cache_dir, case):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    path = cache.path_for("prod", "tx", ACCESS_IPS)
    path.write_bytes(_damage_cases(path)[case])

    reader = ResultCache(_cache_dir, clock=clock)
    assert reader.get("prod", "tx", ACCESS_IPS) is None
    assert not path.exists()
    reader.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    assert ResultCache(_cache_dir, clock=clock).get("prod", "tx", ACCESS_IPS).items == IP_ROWS


def test_invalidate_skips_and_removes_junk_files(cache, _cache_dir):
    cache.put("prod", "tx", ADDRESSES, ADDRESS_ROWS)
    junk = cache.path_for("prod", "tx", "whatever")
    junk.write_bytes(b"{not json")
    assert cache.invalidate("prod", "tx", ACCESS_IPS) == 0
    assert not junk.exists()
    assert cache.get("prod", "tx", ADDRESSES) is not None


def test_a_directory_where_a_file_should_be_is_a_miss_not_a_crash(cache, _cache_dir, clock):
    path = cache.path_for("prod", "tx", ACCESS_IPS)
    path.mkdir(parents=True)
    assert ResultCache(_cache_dir, clock=clock).get("prod", "tx", ACCESS_IPS) is None
    # the write fails too; the memory copy still serves
    stored = cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    assert stored.items == IP_ROWS and cache.get("prod", "tx", ACCESS_IPS).items == IP_ROWS
    assert [p for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


# ---- atomic writes ----------------------------------------------------------------------------


def test_writes_leave_no_temporary_files(cache, _cache_dir):
    for n in range(3):
        cache.put("prod", "tx", ACCESS_IPS, [{"id": str(n)}])
        cache.put("prod", "tx", ADDRESSES, ADDRESS_ROWS)
    files = _files(_cache_dir)
    assert len(files) == 2
    assert all(p.suffix == ".json" and not p.name.startswith(".") for p in files)
    assert cache.get("prod", "tx", ACCESS_IPS).items == [{"id": "2"}]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(cache, clock, _cache_dir, monkeypatch):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)

    def broken_replace(src, dst):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(paths_module.os, "replace", broken_replace)  # the cache writes with paths.atomic_write
        cache.put("prod", "tx", ACCESS_IPS, [{"id": "new"}])
    assert cache.get("prod", "tx", ACCESS_IPS).items == [{"id": "new"}]  # memory
    assert ResultCache(_cache_dir, clock=clock).get("prod", "tx", ACCESS_IPS).items == IP_ROWS  # disk: old, whole
    assert all(not p.name.endswith(".tmp") for p in _files(_cache_dir))


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_cache_files_are_owner_only(cache, _cache_dir):
    cache.put("prod", "tx", ACCESS_IPS, IP_ROWS)
    files = _files(_cache_dir)
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)


# ---- secrets ----------------------------------------------------------------------------------


SECRET_RECORD = {
    "id": "sec-1",
    "identifier": "crm_webhook",
    "token": "tok-SECRET-1",
    "password": "pw-SECRET-2",
    "value": "val-SECRET-3",
    "sip_password": "pw-SECRET-4",
    "settings": {"api_key": "KEY-SECRET-5", "AccessKeySecret": "ali-SECRET-6", "region": "cn-north-1"},
    "apps": [{"app_secret": "hw-SECRET-7", "appSecret": "hw-SECRET-8", "name": "axb"}],
    "SecretNo": "17100000001",  # Alibaba's X number: not a secret
    "SecretBindDTO": {"SubsId": "100006", "SecretNo": "17100000001"},
    "secret_access_key": "volc-SECRET-9",
    "security_token": "sts-SECRET-10",
}


def test_secrets_are_scrubbed_before_storing(cache, clock, _cache_dir):
    cache.put("prod", "tx", "telnyx:integration_secrets", [SECRET_RECORD])
    expected = {
        "id": "sec-1",
        "identifier": "crm_webhook",
        "settings": {"region": "cn-north-1"},
        "apps": [{"name": "axb"}],
        "SecretNo": "17100000001",
        "SecretBindDTO": {"SubsId": "100006", "SecretNo": "17100000001"},
    }
    assert cache.get("prod", "tx", "telnyx:integration_secrets").items == [expected]
    assert ResultCache(_cache_dir, clock=clock).get("prod", "tx", "telnyx:integration_secrets").items == [expected]
    on_disk = b"".join(p.read_bytes() for p in _files(_cache_dir)).decode()
    assert "SECRET" not in on_disk
    assert "17100000001" in on_disk
    assert SECRET_RECORD["token"] == "tok-SECRET-1"  # the caller's dict is not modified


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "password",
        "secret",
        "api_key",
        "access_key_secret",
        "app_secret",
        "value",
        "AccessKeySecret",
        "x-api-key",
        "refresh_token",
        "client_secret",
        "private_key",
    ],
)
def test_secret_names(name):
    assert is_secret_field(name)


@pytest.mark.parametrize(
    "name",
    ["SecretNo", "SecretBindDTO", "SecretStatus", "id", "ip_address", "sip_username", "identifier", "type", "PoolKey"],
)
def test_not_secret_names(name):
    assert not is_secret_field(name)


def test_scrub_handles_odd_values():
    assert scrub({"a": float("nan"), "b": [1, (2, 3)], "c": None}) == {"a": None, "b": [1, [2, 3]], "c": None}
