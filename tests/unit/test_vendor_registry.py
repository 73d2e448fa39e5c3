"""The vendor registry (providers/vendors.py) is complete, and it alone drives config, the account
and bind forms, `sandbox serve` and every session: a vendor nobody else knows, registered in a
test, shows up in all of them."""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from providers import vendors
from providers.bindings import MODES
from providers.endpoints import check_endpoint

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ("endpoint", "region", "pool_key", "number_pool_no", "cust_space_id", "watch_x")


@pytest.fixture
def acme(monkeypatch):
    """The registry with one more vendor line: tests/unit/fake_vendor.py."""
    monkeypatch.setattr(vendors, "VENDOR_MODULES", (*vendors.VENDOR_MODULES, "tests.unit.fake_vendor"))
    vendors.descriptors.cache_clear()
    yield vendors.descriptor("acme")
    vendors.descriptors.cache_clear()


# ---- every descriptor is complete ---------------------------------------------------------------


@pytest.mark.parametrize("vendor", vendors.descriptors(), ids=lambda d: d.kind)
def test_every_descriptor_is_complete(vendor):
    assert vendor.kind and vendor.title and vendor.short_title and vendor.provider
    assert vendor.credentials and callable(vendor.connect) and callable(vendor.probe)
    assert check_endpoint(vendor.endpoint.default, vendor=vendor.title, bare_origin=vendor.endpoint.bare_origin)
    assert vendor.endpoint.env.startswith("TELEDECK_")
    assert set(vendor.settings) <= set(SETTINGS) and "endpoint" in vendor.settings
    assert set(vendor.required) <= set(vendor.settings)
    assert set(vendor.suggested_env) <= set(vendor.credential_fields)
    emulator = vendor.emulator.load()
    assert emulator.vendor == vendor.kind and emulator.STATE_FILE.endswith(".json")
    account = emulator().session_account()
    assert account.kind == vendor.kind
    assert set(vendor.credentials) <= set(account.credentials)
    assert all(account.setting(name) for name in vendor.required), "the sandbox account fills every required setting"
    rules = vendor.bindings
    if rules is not None:
        assert rules.modes and set(rules.modes) <= set(MODES)
        assert re.compile(rules.number_pattern) and rules.number_hint
        assert not rules.pool_setting or rules.pool_setting in vendor.settings
        assert rules.pool_required == bool(rules.pool_setting) or not rules.pool_required
        assert account.watch, "the sandbox watches numbers so a refresh discovers its bindings"


def test_a_vendor_without_bindings_must_bring_its_own_probe():
    telnyx = vendors.descriptor("telnyx")
    with pytest.raises(TypeError, match="needs a probe of its own"):
        dataclasses.replace(telnyx, probe=vendors.probe_watched_binding)
    huawei = vendors.descriptor("huawei")
    assert huawei.probe is vendors.probe_watched_binding, "binding vendors look up a watched number by default"


def test_kinds_providers_and_ports_are_unique():
    all_ = vendors.descriptors()
    for value_of in (lambda d: d.kind, lambda d: d.provider, lambda d: d.endpoint.env):
        values = [value_of(d) for d in all_]
        assert len(values) == len(set(values)), values
    ports = [d.emulator.default_port for d in all_]
    assert len(ports) == len(set(ports))


async def test_each_binding_adapter_implements_exactly_the_modes_its_rules_declare(tmp_path):
    from providers.session import sandbox_session

    session = sandbox_session(state_dir=tmp_path, read_only=True)
    try:
        for name, provider in session.binding_providers.items():
            assert tuple(provider.modes) and set(provider.modes) == set(vendors.binding_vendors()[name].bindings.modes)
    finally:
        await session.aclose()


def test_expiry_limits_are_stated_in_the_vendors_own_time_zone():
    volc = vendors.descriptor("volcengine").bindings
    now = datetime(2037, 12, 1, tzinfo=UTC)
    # 2037-12-31 16:30 UTC is 2038-01-01 00:30 in Beijing: already past the vendor's limit.
    assert volc.expiry_problem(datetime(2037, 12, 31, 16, 30, tzinfo=UTC), now)
    assert volc.expiry_problem(datetime(2037, 12, 31, 15, 30, tzinfo=UTC), now) is None
    huawei = vendors.descriptor("huawei").bindings
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert huawei.expiry_problem(start + timedelta(days=91), start)
    assert huawei.expiry_problem(start + timedelta(days=89), start) is None
    assert huawei.expiry_problem(start + timedelta(seconds=30), start)


# ---- nothing outside the registry names a vendor ---------------------------------------------------

VENDOR_PACKAGES = ("providers.telnyx", "providers.aliyun", "providers.huawei", "providers.volcengine")
BINDING_AND_CAMS_PACKAGES = ("providers.aliyun", "providers.huawei", "providers.volcengine")
# The modules that assemble what the registry declares: they must stay vendor-neutral.
NEUTRAL_MODULES = (
    "providers/session.py",
    "providers/accounts.py",
    "providers/sandbox/cli.py",
    "tui/config.py",
    "tui/sessions.py",
    "tui/binding_forms.py",
    "tui/screens/profiles.py",
)
VENDOR_WORDS = re.compile(r"\b(telnyx|aliyun|alibaba|dypls|huawei|volc|volcengine|cams)\b", re.IGNORECASE)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_module_in_tui_imports_a_binding_or_cams_vendor_package():
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.startswith(BINDING_AND_CAMS_PACKAGES))
        for path in (ROOT / "tui").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_vendor_packages_are_imported_only_by_the_registry_the_sandbox_and_themselves():
    offenders = {}
    for path in (ROOT / "providers").rglob("*.py"):
        relative = path.relative_to(ROOT)
        own = ".".join(relative.parts[:2])  # e.g. providers.huawei
        if relative.parts[1] == "sandbox":
            continue  # each emulator uses its vendor's signing code, to verify requests the same way
        reached = {m for m in _imports(path) if m.startswith(VENDOR_PACKAGES) and not m.startswith(own)}
        if reached:
            offenders[str(relative)] = sorted(reached)
    assert offenders == {}


def _code_strings(path: Path) -> list[str]:
    """Every string literal in the module's code, docstrings left out (they may cite vendors)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("module", NEUTRAL_MODULES)
def test_the_modules_that_assemble_the_registry_special_case_no_vendor(module):
    named = [text for text in _code_strings(ROOT / module) if VENDOR_WORDS.search(text)]
    assert named == []


# ---- the registry drives config, forms, serve and sessions ---------------------------------------


def test_a_registered_vendor_is_a_config_kind(acme, monkeypatch):
    from tui import config as cfg

    assert cfg.KINDS["acme"] is acme
    assert "acme" in {a.kind for a in cfg.sandbox_profile().accounts}
    account = cfg.AccountConfig("acme", "acme-main", watch_x=["5550100"], credentials={"token": "env:ACME_TOKEN"})
    assert cfg.validate_account(account) == {}
    assert cfg.validate_account(cfg.AccountConfig("acme", "a"))["credentials.token"].startswith("required")
    assert "not used by" in cfg.validate_account(
        cfg.AccountConfig("acme", "a", pool_key="P1", credentials={"token": "env:ACME_TOKEN"})
    ).get("pool_key", "not used by")
    profile = cfg.Profile("lab", accounts=[account])
    monkeypatch.setenv("ACME_TOKEN", "acme-secret-value")
    assert cfg.credentials_for(profile, account) == {"token": "acme-secret-value"}
    # The credential's name is guarded in config.toml like every registered kind's.
    with pytest.raises(cfg.SecretInConfigError):
        cfg.config_from_document({"profiles": {"lab": {"accounts": [{"kind": "acme", "label": "a", "token": "x"}]}}})


def test_a_registered_vendor_gets_an_account_form(acme):
    from tui import config as cfg
    from tui.screens.profiles import AccountForm

    names = [field.name for field in AccountForm(cfg.Profile("lab"), acme, None, {}).fields()]
    assert "label" in names and "endpoint" in names and "watch_x" in names
    assert any(name.endswith("token") for name in names)
    assert "pool_key" not in names and "cust_space_id" not in names


def test_a_registered_binding_vendor_gets_its_bind_form_rules(acme):
    from tui import binding_forms as forms

    fields = {f.name: f for f in forms.bind_fields(("acme", "huawei"))}
    values = {"provider": "acme", "mode": "AXN", "a": "5550101", "expires": "+2h"}
    assert fields["mode"].check("AXN", values) == "acme supports AXB"
    assert fields["mode"].check("AXB", {**values, "mode": "AXB"}) is None
    assert fields["a"].check("13800000001", values) == "not an Acme number: 555 and four digits"
    assert fields["a"].check("5550101", values) is None
    assert fields["pool"].check("", values) is None  # Acme has no pools


def test_a_registered_vendor_is_served_by_sandbox_serve(acme, capsys, monkeypatch, tmp_path):
    from providers.sandbox import cli

    assert "acme" in cli.available()
    assert cli.emulator_specs()["acme"].default_port == 4599
    assert cli.main(["reset", "--vendor", "acme", "--state-dir", str(tmp_path)]) == 0
    assert "acme: state reset" in capsys.readouterr().out


async def test_a_registered_vendor_is_connected_by_every_session(acme, monkeypatch, tmp_path):
    from providers.session import sandbox_session
    from tui import config as cfg
    from tui.sessions import open_profile_session

    monkeypatch.setenv("ACME_TOKEN", "acme-secret-value")
    account = cfg.AccountConfig("acme", "acme-main", watch_x=["5550100"], credentials={"token": "env:ACME_TOKEN"})
    session = open_profile_session(cfg.Profile("lab", accounts=[account]), read_only=True)
    adapter = session.binding_providers["acme"]
    assert (adapter.token, adapter.account, adapter.endpoint) == (
        "acme-secret-value",
        "acme-main",
        "https://api.acme.invalid",
    )
    assert adapter.read_only and session.watch_x == {"acme": (("5550100", ""),)}
    await session.aclose()
    assert adapter.closed

    sandbox = sandbox_session(state_dir=tmp_path)
    adapter = sandbox.binding_providers["acme"]
    assert adapter.token == "acme-sandbox-token" and adapter.endpoint == vendors.SANDBOX_ORIGIN
    assert sandbox.watch_x["acme"] == (("5550100", ""),)
    await sandbox.aclose()


def test_reading_the_registry_loads_no_client_code():
    """Descriptors import their clients inside `connect`: reading the registry (as config and
    start-up do) costs no httpx import and no vendor stack."""
    import subprocess
    import sys

    code = (
        "import sys; from providers import vendors; vendors.descriptors(); "
        "print(sorted(m for m in sys.modules if m == 'httpx' or m.startswith('providers.') "
        "and not m.endswith(('.vendor', 'vendors', 'accounts', 'endpoints')) "
        "and m.count('.') > 1))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
