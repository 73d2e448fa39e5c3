"""Every bad config or secrets file is one ConfigError line, never a traceback or a hang.

Measured before: of 1,530 fuzzed config files 5 ended in a traceback (nested TOML, secrets.toml
as a directory) and a FIFO hung start-up. Here: special files by hand, then property tests over
arbitrary bytes, arbitrary TOML documents and documents shaped like a config with wrong types,
each through the whole start-up path (load, choose the profile, open its session offline).
"""

from __future__ import annotations

import os
import string
import threading
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from tui import config as c
from tui.config import ConfigError
from tui.sessions import open_profile_session


@pytest.fixture
def config_dir() -> Path:
    return c.config_dir()


def _no_hang(call, seconds: float = 5.0):
    """Run `call` in a thread; fail (instead of hanging the suite) when it does not return."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked: the loader opened something that never answers"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


LOADERS = {"config": (c.CONFIG_FILE, c.load_config), "secrets": (c.SECRETS_FILE, c.load_secrets)}


@pytest.mark.parametrize("which", LOADERS)
def test_a_directory_is_refused(config_dir, which):
    name, load = LOADERS[which]
    (config_dir / name).mkdir()
    with pytest.raises(ConfigError, match="a directory"):
        load()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("which", LOADERS)
def test_a_fifo_is_refused_without_blocking(config_dir, which):
    name, load = LOADERS[which]
    os.mkfifo(config_dir / name, 0o600)
    with pytest.raises(ConfigError, match="FIFO"):
        _no_hang(load)


@pytest.mark.parametrize("which", LOADERS)
def test_a_symlink_loop_is_refused(config_dir, which):
    name, load = LOADERS[which]
    (config_dir / name).symlink_to(config_dir / name)
    with pytest.raises(ConfigError) as info:
        load()
    assert name in str(info.value)


def test_the_secrets_file_is_never_read_through_a_symlink(config_dir, tmp_path):
    target = tmp_path / "elsewhere.toml"
    target.write_text('[p.a]\nkey = "v"\n')
    target.chmod(0o600)
    (config_dir / c.SECRETS_FILE).symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        c.load_secrets()


@pytest.mark.parametrize("which", LOADERS)
def test_deep_nesting_is_refused(config_dir, which):
    name, load = LOADERS[which]
    path = config_dir / name
    for depth in (40, 5000):
        path.write_text("x = " + "[" * depth + "]" * depth + "\n")
        path.chmod(0o600)
        with pytest.raises(ConfigError) as info:
            load()
        assert name in str(info.value)


def test_deep_tables_are_refused(config_dir):
    (config_dir / c.CONFIG_FILE).write_text("[" + ".".join(["t"] * 200) + "]\n")
    with pytest.raises(ConfigError, match="deep"):
        c.load_config()


@pytest.mark.parametrize("which", LOADERS)
def test_a_huge_file_is_refused_unread(config_dir, which):
    name, load = LOADERS[which]
    path = config_dir / name
    with path.open("wb") as fh:
        fh.truncate(c.MAX_FILE_BYTES * 50)  # sparse: large, but costs the disk nothing
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="larger"):
        load()


def test_an_unreadable_file_is_one_line(config_dir, monkeypatch):
    path = config_dir / c.CONFIG_FILE
    path.write_text("")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: refuse the open as the OS would a user
        real_open = os.open

        def refusing(file, flags, *args, **kwargs):
            if os.fspath(file) == os.fspath(path):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(file, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing)
    with pytest.raises(ConfigError, match="cannot read"):
        c.load_config()


# ---- property tests: whatever the file holds, start-up says ConfigError or goes on -------------


def start_up(config_dir: Path, data: bytes, *, secrets: bytes | None = None) -> None:
    """What `teledeck` does before drawing: load, choose the profile, open its session (offline)."""
    (config_dir / c.CONFIG_FILE).write_bytes(data)
    if secrets is not None:
        path = config_dir / c.SECRETS_FILE
        path.write_bytes(secrets)
        path.chmod(0o600)
    try:
        config = c.load_config()
        c.load_secrets()
        for name in [None, *config.names()]:
            profile = c.resolve_profile(name, config=config, environ={})
            session = open_profile_session(profile, offline=True)
            assert session.offline
    except ConfigError as error:
        line = str(error)
        assert line and "Traceback" not in line


toml_scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["env:X", "secrets-file", "telnyx", "huawei", "http://example.com", "https://[::1]:8443"]),
    st.datetimes(),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["profiles", "accounts", "kind", "label", "endpoint", "credentials", "watch_x", "read_only"]),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
kinds = st.sampled_from([*c.KINDS, "nope", ""])


CREDENTIAL_NAMES = sorted({name for spec in c.KINDS.values() for name in spec.credential_fields})
ENDPOINTS = ["http://evil.example/v2", "https://ok.example", "http://[", "http://127.0.0.1:9/v2", "", "ftp://x"]
wrong = st.one_of(toml_scalars, st.lists(toml_scalars, max_size=3), st.dictionaries(keys, toml_scalars, max_size=3))
# Right types, hostile values: these reach the session factory.
good_account = st.fixed_dictionaries(
    {
        "kind": kinds,
        "label": st.one_of(st.text(string.ascii_letters + "-._", min_size=1, max_size=8), st.text(min_size=1)),
    },
    optional={
        "endpoint": st.one_of(st.sampled_from(ENDPOINTS), st.text(max_size=20)),
        "region": st.text(max_size=12),
        "pool_key": st.text(max_size=8),
        "number_pool_no": st.text(max_size=8),
        "cust_space_id": st.text(max_size=8),
        "watch_x": st.lists(st.text(max_size=12), max_size=3),
        "credentials": st.dictionaries(
            st.sampled_from(CREDENTIAL_NAMES), st.sampled_from(["env:K", "secrets-file", "env:", "env:1X"]), max_size=3
        ),
        "future_setting": st.one_of(toml_scalars, st.lists(toml_scalars, max_size=3)),
    },
)
# One field of the wrong type.
bad_account = st.builds(
    lambda account, key, value: {**account, key: value},
    good_account,
    st.sampled_from(["kind", "label", "endpoint", "base_url", "region", "watch_x", "credentials"]),
    wrong,
)
profile_names = st.one_of(st.sampled_from(["p", "sandbox", "env", "[/]", "Prod"]), st.text(max_size=8))
profile_body = st.fixed_dictionaries(
    {
        "accounts": st.one_of(
            st.lists(good_account, max_size=3), st.lists(st.one_of(good_account, bad_account), max_size=3)
        )
    },
    optional={
        "read_only": st.one_of(st.booleans(), toml_scalars),
        "description": st.one_of(st.text(max_size=10), toml_scalars),
    },
)
config_like = st.fixed_dictionaries(
    {"profiles": st.dictionaries(profile_names, profile_body, max_size=3)},
    optional={"default_profile": profile_names},
)


@given(data=st.binary(max_size=400))
def test_any_bytes_as_config(config_dir, data):
    start_up(config_dir, data)


@given(document=st.dictionaries(keys, toml_values, max_size=5))
def test_any_toml_document_as_config(config_dir, document):
    start_up(config_dir, tomli_w.dumps(document).encode())


@settings(max_examples=300)
@given(document=config_like)
def test_config_shaped_documents_with_wrong_types(config_dir, document):
    start_up(config_dir, tomli_w.dumps(document).encode())


@given(
    secrets=st.one_of(
        st.binary(max_size=200), st.dictionaries(keys, toml_values, max_size=4).map(tomli_w.dumps).map(str.encode)
    )
)
def test_any_secrets_file(config_dir, secrets):
    start_up(config_dir, b"", secrets=secrets)


# ---- through the command line: one line, exit 2, nothing drawn ---------------------------------


def _make_bad(config_dir: Path, case: str) -> None:
    config = config_dir / c.CONFIG_FILE
    if case == "config-directory":
        config.mkdir()
    elif case == "config-fifo":
        os.mkfifo(config)
    elif case == "config-loop":
        config.symlink_to(config)
    elif case == "config-deep":
        config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    elif case == "unknown-kind":
        config.write_text('default_profile = "p"\n[[profiles.p.accounts]]\nkind = "nope"\nlabel = "a"\n')
    elif case == "secrets-directory":
        config.write_text(
            'default_profile = "p"\n[[profiles.p.accounts]]\nkind = "telnyx"\nlabel = "a"\n'
            'credentials = { api_key = "secrets-file" }\n'
        )
        (config_dir / c.SECRETS_FILE).mkdir()


@pytest.mark.parametrize(
    "case", ["config-directory", "config-fifo", "config-loop", "config-deep", "unknown-kind", "secrets-directory"]
)
def test_the_command_line_says_one_line_and_exits_2(config_dir, case, monkeypatch, capsys):
    from tui import cli
    from tui.app import TeledeckApp

    if case == "config-fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    monkeypatch.setattr(TeledeckApp, "run", lambda self, *a, **k: pytest.fail("the app started"))
    _make_bad(config_dir, case)
    code = _no_hang(lambda: cli.main([]))
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("teledeck: ") and "Traceback" not in err
