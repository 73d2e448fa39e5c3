"""Profiles config: TOML round trip, validation, the sandbox, profile resolution, the secrets file."""

from __future__ import annotations

import os
import re
import stat
import sys

import pytest

from tui import config as c


@pytest.fixture(autouse=True)
def _config_dir(tmp_path, monkeypatch):
    """Every test gets its own config dir; the real one is never touched."""
    directory = tmp_path / "config"
    monkeypatch.setenv(c.CONFIG_DIR_ENV, str(directory))
    monkeypatch.delenv(c.PROFILE_ENV, raising=False)
    return directory


posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _production() -> c.Profile:
    return c.Profile(
        name="production",
        read_only=True,
        description="live account",
        accounts=[
            c.AccountConfig("telnyx", "telnyx-main", credentials={"api_key": "env:TELNYX_PROD_API_KEY"}),
            c.AccountConfig(
                "aliyun-pls",
                "pls-cn",
                endpoint="https://dyplsapi.aliyuncs.com",
                region="cn-hangzhou",
                pool_key="FC100000012345678",
                watch_x=["17100000001", "17100000002"],
                credentials={"access_key_id": "env:ALI_AK", "access_key_secret": "secrets-file"},
            ),
            c.AccountConfig(
                "aliyun-cams",
                "wa-sg",
                cust_space_id="cams-abc123",
                credentials={"access_key_id": "env:ALI_AK", "access_key_secret": "env:ALI_SK"},
            ),
            c.AccountConfig(
                "huawei",
                "hw-axb",
                endpoint="https://rtcpns.cn-north-1.myhuaweicloud.com",
                watch_x=["+8617000000001"],
                credentials={"app_key": "env:HW_APP_KEY", "app_secret": "secrets-file"},
            ),
            c.AccountConfig(
                "volcengine",
                "volc",
                region="cn-north-1",
                number_pool_no="NP162981168404095092",
                credentials={"access_key_id": "env:VOLC_ACCESSKEY", "secret_access_key": "secrets-file"},
            ),
        ],
    )


# ---- paths ------------------------------------------------------------------------------------


def test_paths_follow_the_env_override(_config_dir):
    assert c.config_path() == _config_dir / "config.toml"
    assert c.secrets_path() == _config_dir / "secrets.toml"


# ---- round trip -------------------------------------------------------------------------------


def test_missing_file_is_an_empty_config():
    config = c.load_config()
    assert config.profiles == {} and config.default_profile is None
    assert config.names() == ["sandbox"]


def test_round_trip_through_toml():
    config = c.Config(default_profile="production", sandbox_read_only=True)
    config.upsert(_production())
    config.upsert(
        c.Profile("staging", accounts=[c.AccountConfig("telnyx", "tx", credentials={"api_key": "secrets-file"})])
    )
    path = c.save_config(config)
    assert path == c.config_path()
    loaded = c.load_config()
    assert loaded == config
    assert loaded.get("production").account("pls-cn").watch_x == ["17100000001", "17100000002"]
    assert loaded.get("sandbox").read_only is True
    # Saving what was loaded writes the same bytes.
    before = path.read_bytes()
    c.save_config(loaded)
    assert path.read_bytes() == before


def test_hand_written_file_with_inline_tables_and_base_url_alias(_config_dir):
    _config_dir.mkdir()
    (_config_dir / "config.toml").write_text(
        'default_profile = "lab"\n'
        "[profiles.lab]\n"
        "[[profiles.lab.accounts]]\n"
        'kind = "telnyx"\nlabel = "tx"\nbase_url = "http://127.0.0.1:8080/v2"\n'
        'credentials = { api_key = "env:LAB_KEY" }\n'
        'future_setting = "kept"\n'
    )
    config = c.load_config()
    account = config.get("lab").account("tx")
    assert account.endpoint == "http://127.0.0.1:8080/v2"
    assert account.extra == {"future_setting": "kept"}
    assert c.validate_config(config) == {}
    c.save_config(config)
    assert 'future_setting = "kept"' in c.config_path().read_text()


def test_save_is_atomic_and_leaves_no_temp_files(_config_dir):
    config = c.Config()
    config.upsert(_production())
    c.save_config(config)
    c.save_config(config)
    assert sorted(p.name for p in _config_dir.iterdir()) == ["config.toml"]


def test_effective_endpoint_and_region_defaults():
    account = c.AccountConfig("volcengine", "v")
    assert account.effective_endpoint == "https://cloud-vms.volcengineapi.com"
    assert account.effective_region == "cn-north-1"
    assert (
        c.AccountConfig("aliyun-cams", "w", endpoint="https://cams.example.test").effective_endpoint
        == "https://cams.example.test"
    )


# ---- malformed files --------------------------------------------------------------------------


def test_malformed_toml_is_a_config_error_with_line_and_path(_config_dir):
    _config_dir.mkdir()
    path = _config_dir / "config.toml"
    path.write_text("[profiles.lab]\nread_only = true\nbroken = \n")
    with pytest.raises(c.ConfigError) as info:
        c.load_config()
    assert info.value.line == 3
    assert info.value.path == path
    assert str(path) in str(info.value) and "line 3" in str(info.value)


def test_unterminated_string_at_end_of_document_still_names_a_line(_config_dir):
    _config_dir.mkdir()
    (_config_dir / "config.toml").write_text('[profiles.lab]\ndescription = "oops')
    with pytest.raises(c.ConfigError) as info:
        c.load_config()
    assert info.value.line == 2


@pytest.mark.parametrize(
    "text, where",
    [
        ("profiles = 3\n", "profiles"),
        ('[profiles.lab]\nread_only = "yes"\n', "profiles.lab.read_only"),
        ("[profiles.lab]\naccounts = 1\n", "profiles.lab.accounts"),
        ('[[profiles.lab.accounts]]\nlabel = "x"\n', "profiles.lab.accounts[0].kind"),
        ('[[profiles.lab.accounts]]\nkind = "telnyx"\nlabel = "x"\nwatch_x = [1, 2]\n', "watch_x"),
        ("[profiles.sandbox]\naccounts = []\n", "sandbox"),
    ],
)
def test_wrong_shapes_are_config_errors_not_crashes(_config_dir, text, where):
    _config_dir.mkdir()
    (_config_dir / "config.toml").write_text(text)
    with pytest.raises(c.ConfigError) as info:
        c.load_config()
    assert where in str(info.value)


def test_not_utf8_is_a_config_error(_config_dir):
    _config_dir.mkdir()
    (_config_dir / "config.toml").write_bytes(b"\xff\xfe[profiles]\n")
    with pytest.raises(c.ConfigError, match="UTF-8"):
        c.load_config()


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "staging-eu", "lab_2", "a"])
def test_good_profile_names(name):
    assert c.validate_profile_name(name) is None


@pytest.mark.parametrize("name", ["", "Prod", "has space", "-lead", "x" * 41, "a.b"])
def test_bad_profile_names(name):
    assert c.validate_profile_name(name)


def test_sandbox_is_a_reserved_profile_name():
    assert "built-in" in c.validate_profile_name("sandbox")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.telnyx.com/v2",
        "https://dyplsapi.aliyuncs.com",
        "http://127.0.0.1:8080/v2",
        "http://localhost:9000",
        "http://[::1]:8080",
        "https://rtcapi.cn-north-1.myhuaweicloud.com:12543",
    ],
)
def test_good_urls(url):
    assert c.validate_url(url) is None


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://api.telnyx.com/v2", "use https"),
        ("http://10.0.0.5:8080", "use https"),
        ("dyplsapi.aliyuncs.com", "full http(s) URL"),
        ("ftp://example.com", "full http(s) URL"),
        ("https://user:pw@example.com", "no user name or password"),
        ("https://example.com/?a=1", "no query string"),
        ("https://example.com:99999", "not a valid URL"),
    ],
)
def test_bad_urls(url, message):
    assert message in c.validate_url(url)


def test_required_settings_and_credentials_per_kind():
    assert c.validate_account(c.AccountConfig("aliyun-pls", "p")) == {
        "pool_key": "required for Alibaba Cloud Dypls (privacy numbers)",
        "credentials.access_key_id": 'required: say where it is, e.g. "env:ALIBABA_CLOUD_ACCESS_KEY_ID" or "secrets-file"',
        "credentials.access_key_secret": 'required: say where it is, e.g. "env:ALIBABA_CLOUD_ACCESS_KEY_SECRET" or "secrets-file"',
    }
    assert "cust_space_id" in c.validate_account(c.AccountConfig("aliyun-cams", "w"))
    assert "number_pool_no" in c.validate_account(c.AccountConfig("volcengine", "v"))
    assert set(c.validate_account(c.AccountConfig("huawei", "h"))) == {"credentials.app_key", "credentials.app_secret"}


def test_field_level_messages():
    account = c.AccountConfig(
        "telnyx",
        "bad label!",
        endpoint="http://api.telnyx.com",
        region="Not A Region",
        pool_key="FC1",
        watch_x=["abc"],
        credentials={"api_key": "KEY0123456789", "app_secret": "env:X"},
    )
    problems = c.validate_account(account)
    assert set(problems) == {
        "label",
        "endpoint",
        "region",
        "watch_x",
        "pool_key",
        "credentials.api_key",
        "credentials.app_secret",
    }
    assert "use https" in problems["endpoint"]
    assert problems["pool_key"] == "not used by Telnyx accounts"
    assert "never the credential itself" in problems["credentials.api_key"]
    assert "abc" in problems["watch_x"]
    assert c.validate_account(c.AccountConfig("nokia", "n")) == {"kind": "one of " + ", ".join(c.KINDS)}
    assert (
        "environment variable name"
        in c.validate_account(c.AccountConfig("telnyx", "t", credentials={"api_key": "env:1BAD"}))[
            "credentials.api_key"
        ]
    )


def test_profile_and_config_validation_paths():
    profile = c.Profile(
        "prod",
        accounts=[
            c.AccountConfig("telnyx", "tx", credentials={"api_key": "env:K"}),
            c.AccountConfig("telnyx", "tx", credentials={"api_key": "env:K"}),
            c.AccountConfig("volcengine", "v", credentials={"access_key_id": "env:A", "secret_access_key": "env:B"}),
        ],
    )
    assert c.validate_profile(profile) == {
        "accounts[1].label": "another account of this profile is called 'tx'",
        "accounts[2].number_pool_no": "required for Volcengine VMS (privacy numbers)",
    }
    config = c.Config(profiles={"prod": profile}, default_profile="nope")
    problems = c.validate_config(config)
    assert problems["default_profile"] == "no profile named 'nope'"
    assert "profiles.prod.accounts[1].label" in problems


def test_save_refuses_an_invalid_config_with_field_messages():
    config = c.Config()
    config.upsert(
        c.Profile(
            "prod",
            accounts=[
                c.AccountConfig("aliyun-pls", "p", credentials={"access_key_id": "env:A", "access_key_secret": "env:B"})
            ],
        )
    )
    with pytest.raises(c.ConfigValidationError) as info:
        c.save_config(config)
    assert info.value.problems == {
        "profiles.prod.accounts[0].pool_key": "required for Alibaba Cloud Dypls (privacy numbers)"
    }
    assert not c.config_path().exists()


# ---- the built-in sandbox ---------------------------------------------------------------------


def test_sandbox_is_always_there_and_built_in():
    config = c.Config()
    sandbox = config.get("sandbox")
    assert sandbox.builtin and sandbox.is_sandbox and not sandbox.read_only
    assert {a.kind for a in sandbox.accounts} == set(c.KINDS)
    assert c.credentials_for(sandbox, sandbox.accounts[0], environ={}) == {}


def test_sandbox_cannot_be_deleted_or_edited():
    config = c.Config()
    with pytest.raises(c.BuiltinProfileError):
        config.remove("sandbox")
    with pytest.raises(c.BuiltinProfileError):
        config.upsert(c.sandbox_profile())
    with pytest.raises(c.BuiltinProfileError):
        config.upsert(c.Profile("renamed"), previous_name="sandbox")
    assert config.names() == ["sandbox"]


def test_sandbox_can_be_marked_read_only_in_config(_config_dir):
    _config_dir.mkdir()
    (_config_dir / "config.toml").write_text("[profiles.sandbox]\nread_only = true\n")
    assert c.resolve_profile().read_only is True


def test_rename_and_remove_keep_default_profile_consistent():
    config = c.Config(default_profile="old")
    config.upsert(c.Profile("old"))
    config.upsert(c.Profile("new"), previous_name="old")
    assert config.default_profile == "new" and list(config.profiles) == ["new"]
    config.remove("new")
    assert config.default_profile is None
    with pytest.raises(c.ConfigError, match="no profile named"):
        config.remove("new")


# ---- choosing the profile ---------------------------------------------------------------------


def _two_profiles() -> c.Config:
    config = c.Config(default_profile="staging")
    config.upsert(c.Profile("staging"))
    config.upsert(c.Profile("production", read_only=True))
    return config


def test_resolution_order_flag_then_env_then_default_then_sandbox():
    config = _two_profiles()
    env = {"TELEDECK_PROFILE": "production"}
    assert c.resolve_profile("staging", config=config, environ=env).name == "staging"
    assert c.resolve_profile(None, config=config, environ=env).name == "production"
    assert c.resolve_profile(None, config=config, environ={}).name == "staging"
    assert c.resolve_profile(None, config=c.Config(), environ={}).name == "sandbox"
    assert c.resolve_profile("sandbox", config=config, environ=env).builtin


def test_resolution_reads_the_real_env_and_file(monkeypatch):
    c.save_config(_two_profiles())
    monkeypatch.setenv("TELEDECK_PROFILE", "production")
    profile = c.resolve_profile()
    assert profile.name == "production" and profile.read_only


def test_unknown_profile_names_the_source_and_the_choices():
    config = _two_profiles()
    with pytest.raises(c.ConfigError) as info:
        c.resolve_profile("prdo", config=config, environ={})
    assert "'prdo' (--profile)" in str(info.value)
    assert "sandbox, production, staging" in str(info.value)
    with pytest.raises(c.ConfigError, match="TELEDECK_PROFILE"):
        c.resolve_profile(None, config=config, environ={"TELEDECK_PROFILE": "gone"})


# ---- credentials never in config.toml ---------------------------------------------------------


SECRET = "KEY0123456789ABCDEF_topsecretvalue"


def test_saved_config_never_contains_a_credential(monkeypatch):
    monkeypatch.setenv("TELNYX_PROD_API_KEY", SECRET)
    config = c.Config()
    config.upsert(_production())
    c.save_secret("production", "pls-cn", "access_key_secret", SECRET + "-ali")
    path = c.save_config(config)
    text = path.read_text()
    assert SECRET not in text
    assert "env:TELNYX_PROD_API_KEY" in text and '"secrets-file"' in text
    # and resolving them still works
    profile = c.load_config().get("production")
    creds = c.credentials_for(profile, profile.account("telnyx-main"))
    assert creds == {"api_key": SECRET}


@pytest.mark.parametrize(
    "account",
    [
        c.AccountConfig("telnyx", "tx", credentials={"api_key": SECRET}),
        c.AccountConfig("telnyx", "tx", credentials={"api_key": "env:K"}, extra={"api_key": SECRET}),
        c.AccountConfig("telnyx", "tx", credentials={"api_key": "env:K"}, extra={"auth": {"password": SECRET}}),
        c.AccountConfig(
            "huawei", "h", credentials={"app_key": "env:A", "app_secret": "env:B"}, extra={"app_key": "literal-app-key"}
        ),
    ],
)
def test_save_refuses_anything_that_looks_like_a_secret(account):
    config = c.Config()
    config.upsert(c.Profile("prod", accounts=[account]))
    # the literal credential is refused even if validation were skipped
    with pytest.raises(c.SecretInConfigError):
        c._guard_no_secrets(c.config_to_document(config))
    with pytest.raises(c.ConfigError):
        c.save_config(config)
    assert not c.config_path().exists()


def test_profile_names_that_look_like_secret_words_are_fine():
    config = c.Config()
    config.upsert(c.Profile("token", accounts=[c.AccountConfig("telnyx", "secret", credentials={"api_key": "env:K"})]))
    c.save_config(config)
    assert c.load_config().get("token").account("secret") is not None


def test_hand_written_credential_in_config_is_refused_on_load(_config_dir):
    _config_dir.mkdir()
    (_config_dir / "config.toml").write_text(
        f'[[profiles.lab.accounts]]\nkind = "telnyx"\nlabel = "tx"\napi_key = "{SECRET}"\n'
    )
    with pytest.raises(c.SecretInConfigError) as info:
        c.load_config()
    assert "profiles.lab.accounts[0].api_key" in str(info.value)
    assert SECRET not in str(info.value)
    (_config_dir / "config.toml").write_text(
        f'[[profiles.lab.accounts]]\nkind = "telnyx"\nlabel = "tx"\ncredentials = {{ api_key = "{SECRET}" }}\n'
    )
    with pytest.raises(c.SecretInConfigError, match="never its value"):
        c.load_config()


# ---- the secrets file -------------------------------------------------------------------------


@posix_only
def test_secrets_file_is_created_0600_whatever_the_umask(_config_dir):
    old = os.umask(0o000)
    try:
        path = c.save_secret("production", "pls-cn", "access_key_secret", "s3cr3t")
    finally:
        os.umask(old)
    assert path == _config_dir / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert c.load_secrets() == {"production": {"pls-cn": {"access_key_secret": "s3cr3t"}}}
    # a second write keeps both values and the mode, and leaves no temp file
    c.save_secret("production", "hw-axb", "app_secret", "other")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert c.load_secrets()["production"] == {
        "pls-cn": {"access_key_secret": "s3cr3t"},
        "hw-axb": {"app_secret": "other"},
    }
    assert sorted(p.name for p in _config_dir.iterdir()) == ["secrets.toml"]


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_secrets_file_open_to_others_is_refused_with_the_fix(mode):
    path = c.save_secret("production", "pls-cn", "access_key_secret", "s3cr3t")
    os.chmod(path, mode)
    with pytest.raises(c.SecretsPermissionError) as info:
        c.load_secrets()
    assert f"chmod 600 {path}" in str(info.value)
    assert f"{mode:04o}" in str(info.value)
    assert "s3cr3t" not in str(info.value)
    # writing is refused too, and credentials_for says the same
    with pytest.raises(c.SecretsPermissionError):
        c.save_secret("production", "pls-cn", "access_key_secret", "new")
    profile = _production()
    with pytest.raises(c.SecretsPermissionError, match="chmod 600"):
        c.credentials_for(profile, profile.account("pls-cn"), environ={"ALI_AK": "id"})
    os.chmod(path, 0o600)
    assert c.load_secrets()["production"]["pls-cn"]["access_key_secret"] == "s3cr3t"


def test_malformed_secrets_file_does_not_echo_its_content(_config_dir):
    _config_dir.mkdir()
    path = _config_dir / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'[production.tx]\napi_key = "KEYabc\n')
    os.close(fd)
    with pytest.raises(c.ConfigError) as info:
        c.load_secrets()
    assert "KEYabc" not in str(info.value) and info.value.line == 2


def test_delete_secrets():
    c.save_secret("p", "a", "x", "1")
    c.save_secret("p", "a", "y", "2")
    c.save_secret("p", "b", "x", "3")
    assert c.delete_secrets("p", "a", "x")
    assert c.load_secrets() == {"p": {"a": {"y": "2"}, "b": {"x": "3"}}}
    assert c.delete_secrets("p", "b")
    assert not c.delete_secrets("p", "b")
    assert c.delete_secrets("p")
    assert c.load_secrets() == {}


# ---- credentials_for --------------------------------------------------------------------------


def test_credentials_from_env_and_secrets_file():
    profile = _production()
    c.save_secret("production", "volc", "secret_access_key", "volc-sk")
    env = {"VOLC_ACCESSKEY": "volc-ak"}
    assert c.credentials_for(profile, profile.account("volc"), environ=env) == {
        "access_key_id": "volc-ak",
        "secret_access_key": "volc-sk",
    }


def test_missing_env_variable_is_named():
    profile = _production()
    with pytest.raises(c.MissingCredentialError) as info:
        c.credentials_for(profile, profile.account("telnyx-main"), environ={"TELNYX_PROD_API_KEY": "  "})
    assert "TELNYX_PROD_API_KEY" in str(info.value) and "'telnyx-main'" in str(info.value)


def test_missing_secrets_file_entry_says_where_it_should_be():
    profile = _production()
    with pytest.raises(c.MissingCredentialError) as info:
        c.credentials_for(profile, profile.account("hw-axb"), environ={"HW_APP_KEY": "k"})
    assert "app_secret" in str(info.value) and str(c.secrets_path()) in str(info.value)
    assert "[production.hw-axb]" in str(info.value)


def test_unreferenced_required_credential_says_how_to_configure_it():
    profile = c.Profile("lab", accounts=[c.AccountConfig("telnyx", "tx")])
    with pytest.raises(c.MissingCredentialError, match=re.escape('credentials.api_key = "env:VARIABLE"')):
        c.credentials_for(profile, profile.accounts[0], environ={})


def test_optional_sts_token_is_read_when_referenced():
    account = c.AccountConfig(
        "aliyun-pls",
        "p",
        pool_key="FC1",
        credentials={"access_key_id": "env:A", "access_key_secret": "env:B", "security_token": "env:T"},
    )
    profile = c.Profile("lab", accounts=[account])
    assert c.credentials_for(profile, account, environ={"A": "a", "B": "b", "T": "t"}) == {
        "access_key_id": "a",
        "access_key_secret": "b",
        "security_token": "t",
    }


def test_config_module_does_not_import_textual():
    import subprocess

    code = "import sys, tui.config; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert out.stdout.strip() == "False"


def test_the_volcengine_callback_token_is_an_optional_secret_kept_only_by_reference():
    from providers.cache import is_secret_field
    from tui.screens.profiles import AccountForm

    spec = c.KINDS["volcengine"]
    assert "callback_auth_token" in spec.credential_fields and "callback_auth_token" not in spec.credentials
    assert is_secret_field("callback_auth_token"), "scrubbed from caches and exports like every secret"
    base = {"access_key_id": "env:VA", "secret_access_key": "env:VS"}
    account = c.AccountConfig("volcengine", "volc", number_pool_no="NP1", credentials=base)
    profile = c.Profile("lab", accounts=[account])
    assert c.validate_account(account) == {}
    assert c.credentials_for(profile, account, environ={"VA": "a", "VS": "s"}) == {
        "access_key_id": "a",
        "secret_access_key": "s",
    }, "an account without it still opens (only a receiver needs it)"
    account.credentials["callback_auth_token"] = "secrets-file"
    c.save_secret("lab", "volc", "callback_auth_token", "myAuthToken01")
    assert c.credentials_for(profile, account, environ={"VA": "a", "VS": "s"})["callback_auth_token"] == "myAuthToken01"
    account.credentials["callback_auth_token"] = "myAuthToken01"
    assert "never the credential itself" in c.validate_account(account)["credentials.callback_auth_token"]
    fields = {f.name: f for f in AccountForm(profile, spec, None, {}).fields()}
    source = fields["src_callback_auth_token"]
    assert not source.required and "(optional)" in source.label
    assert fields["secret_callback_auth_token"].kind == "secret", "typed masked in the account form"
