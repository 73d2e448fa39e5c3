"""Property tests: whatever bytes a cache file holds, reading it is a miss or a hit, never an
exception, never a hang, and the key works again at once (the bad file is dropped)."""

from __future__ import annotations

import json
import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.cache import FORMAT, FORMAT_VERSION, ResultCache

KEY = ("prof", "acct", "telnyx:billing_groups?")


def header(**overrides) -> bytes:
    fields = {"format": FORMAT, "version": FORMAT_VERSION, "profile": KEY[0], "account": KEY[1], "query": KEY[2],
              "fetched_at": 1_790_000_000.0, "count": 1}  # fmt: skip
    fields.update(overrides)
    return json.dumps(fields).encode() + b"\n"


def fresh(tmp_path) -> ResultCache:
    return ResultCache(tmp_path / "cache", clock=lambda: 1_790_000_100.0)


def read_then_recover(cache: ResultCache, data: bytes) -> None:
    path = cache.path_for(*KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    hit = fresh_reader(cache).get(*KEY)
    if hit is not None:
        assert isinstance(hit.items, list) and all(isinstance(i, dict) for i in hit.items)
        assert hit.age_seconds >= 0
    # Never permanently broken: a new answer is stored and read back.
    cache.put(*KEY, [{"id": "1", "name": "fresh"}])
    assert fresh_reader(cache).get(*KEY).items == [{"id": "1", "name": "fresh"}]


def fresh_reader(cache: ResultCache) -> ResultCache:
    """Another process's view: nothing in memory, everything from disk."""
    return ResultCache(cache.directory, clock=cache.clock)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=10,
)


@given(data=st.binary(max_size=300))
def test_any_bytes(tmp_path, data):
    read_then_recover(fresh(tmp_path), data)


@given(body=st.binary(max_size=200))
def test_a_good_header_and_any_body(tmp_path, body):
    read_then_recover(fresh(tmp_path), header() + body)


@given(
    fields=st.dictionaries(
        st.sampled_from(["format", "version", "profile", "account", "query", "fetched_at", "count"]), json_values
    ),
    items=json_values,
)
def test_any_header_values_and_items(tmp_path, fields, items):
    read_then_recover(fresh(tmp_path), header(**fields) + json.dumps(items).encode() + b"\n")


@pytest.mark.parametrize(
    "data",
    [
        header() + b"[" * 100_000 + b"]" * 100_000 + b"\n",  # RecursionError in json
        header(fetched_at=1e400) + b'[{"id": 1}]\n',  # read back as inf
        header(fetched_at=-1e300) + b'[{"id": 1}]\n',
        header(fetched_at=int("9" * 400)) + b'[{"id": 1}]\n',  # float() overflows
        header(count=2) + b'[{"id": 1}]\n',
        header() + b'[{"id": "\\ud800"}]\n',  # a lone surrogate
        header()[:-1],  # no end of header
    ],
    ids=["deep", "inf", "negative", "huge-int", "count", "surrogate", "no-newline"],
)
def test_known_bad_files_are_misses(tmp_path, data):
    cache = fresh(tmp_path)
    path = cache.path_for(*KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    hit = fresh_reader(cache).get(*KEY)
    assert hit is None or hit.age_seconds >= 0
    read_then_recover(cache, data)


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_special_file_is_a_miss_without_blocking(tmp_path, kind):
    cache = fresh(tmp_path)
    path = cache.path_for(*KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)
    else:
        path.mkdir()
    answer: list[object] = []
    thread = threading.Thread(target=lambda: answer.append(fresh_reader(cache).get(*KEY)), daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "blocked opening a cache file"
    assert answer == [None]
    assert cache.invalidate(KEY[0], KEY[1], "telnyx:") >= 0  # scanning the folder does not block either
