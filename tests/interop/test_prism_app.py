"""The real Textual app, headless, against Prism (the official-spec mock, see conftest.py).

Each resource screen must finish loading against a spec-conformant server whose list meta never
advances: rows where the client yields them, a "partial list" warning in the title bar when the
pages stall, a vendor error where the spec subset has no such list (telephony credentials), and
never an unhandled exception. The registry's own verbs (the code behind each form and action key)
are also run against Prism, so request bodies the UI builds are checked against the spec.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from providers.accounts import Account
from providers.errors import ProviderError
from providers.session import ProviderSession, open_session
from providers.telnyx.models import (
    AccessIp,
    AccessIpRange,
    Address,
    AuthProvider,
    BillingGroup,
    IntegrationSecret,
    TelephonyCredential,
)
from tui.app import TeledeckApp
from tui.resources import REGISTRY
from tui.screens.resource import ResourceScreen
from tui.widgets.virtual_table import VirtualTable

pytestmark = pytest.mark.interop

SIZE = (140, 40)
SETTLE_TIMEOUT = 10.0
UUID = "f5586561-8ff0-4291-a0ac-84fe544797bd"

# Resources whose list the spec subset does not have (Prism answers 404 "no path matched").
NOT_IN_SPEC = {"credentials"}
# Resources of other vendors: a profile with only a Telnyx account reports that, and nothing else.
OTHER_VENDORS = {name for name, spec in REGISTRY.items() if spec.provider != "telnyx"}


def make_session(prism_url: str, http_transport: httpx.AsyncBaseTransport | None = None) -> ProviderSession:
    account = Account(kind="telnyx", label="prism", credentials={"api_key": "test-key"}, endpoint=prism_url)
    return open_session("prism", [account], http_transports={"telnyx": http_transport} if http_transport else None)


def title_of(screen: ResourceScreen) -> str:
    return str(screen.query_one("#title-bar").content)


async def settle(app: TeledeckApp, pilot, name: str) -> ResourceScreen:
    """Wait until `name`'s screen is current and its load worker has ended, whatever the outcome."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        if (
            isinstance(screen, ResourceScreen)
            and screen.spec.name == name
            and (screen.loaded or screen.load_error)
            and not screen.progress
            and not any(w.is_running for w in app.workers)
        ):
            return screen
        if time.monotonic() > deadline:
            state = (type(screen).__name__, getattr(screen, "loaded", None), getattr(screen, "load_error", None))
            pytest.fail(f"{name}: loading did not end within {SETTLE_TIMEOUT:.0f} s (screen, loaded, error = {state})")
        await asyncio.sleep(0.02)


def check_outcome(name: str, screen: ResourceScreen) -> None:
    """The load ended: either success, or a ProviderError the screen reported (never a crash)."""
    table = screen.query_one("#resource-table", VirtualTable)
    title = title_of(screen)
    assert not table.loading, name
    # ResourceScreen.load sets `loaded` on success and `load_error` on a ProviderError; anything
    # else would leave both unset (an unhandled exception in the worker).
    assert screen.loaded or screen.load_error, f"{name}: load ended with neither rows nor a reported error"
    assert title.startswith(screen.spec.title), title
    assert f"{table.total_count} rows" in title, title
    if screen.load_error:
        assert "⚠" in title, title
    if name in OTHER_VENDORS:
        assert not screen.loaded and "account in this profile" in screen.load_error, title
    elif name in NOT_IN_SPEC:
        assert not screen.loaded and "404" in screen.load_error, title
    elif screen.load_error:
        # The only acceptable failure on Prism's static examples is a stalled pagination.
        assert screen.load_error.startswith("partial list:"), title
        assert "partial list" in title
    else:
        assert table.total_count >= 1, title


async def test_app_loads_every_resource_from_prism(prism_url: str) -> None:
    app = TeledeckApp(make_session(prism_url))
    seen: dict[str, tuple[int, str]] = {}
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot, app.start)
        header = str(screen.query_one("#app-header").render())
        assert "profile: prism" in header and prism_url in header and "SANDBOX" not in header
        check_outcome(app.start, screen)
        seen[app.start] = (screen.table.total_count, screen.load_error)
        for name in REGISTRY:
            if name == app.start:
                continue
            await app.switch_mode(name)
            screen = await settle(app, pilot, name)
            check_outcome(name, screen)
            seen[name] = (screen.table.total_count, screen.load_error)
        # Jumping back keeps the first screen (modes keep their stacks) and it still works.
        await app.switch_mode(app.start)
        assert app.screen.spec.name == app.start
    assert set(seen) == set(REGISTRY)
    # Integration secrets' first page (page 1 of 10) is shown even though page 2 stalls.
    rows, error = seen["secrets"]
    assert rows == 1 and error.startswith("partial list:")


@pytest.mark.parametrize(
    "name",
    [n for n in REGISTRY if n not in NOT_IN_SPEC | OTHER_VENDORS],
)
async def test_start_screen_shows_the_mocks_rows(prism_url: str, name: str) -> None:
    app = TeledeckApp(make_session(prism_url), start=name)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot, name)
        table = screen.query_one("#resource-table", VirtualTable)
        assert table.total_count >= 1, title_of(screen)
        assert table.current_key in screen.records


async def test_keys_reach_the_table_after_a_network_load(prism_url: str) -> None:
    app = TeledeckApp(make_session(prism_url), start="secrets")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot, "secrets")
        assert screen.table.total_count == 1
        assert app.focused is screen.table, f"focus is on {app.focused!r}"
        await pilot.press("enter")  # opens the detail view of the mock's record
        await pilot.pause()
        assert not isinstance(app.screen, ResourceScreen)


async def test_credentials_screen_reports_the_missing_list_as_not_found(prism_url: str) -> None:
    """The spec subset has no GET /telephony_credentials; Prism's 404 is shown, not raised."""
    app = TeledeckApp(make_session(prism_url), start="credentials")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot, "credentials")
        assert "404" in screen.load_error and "⚠" in title_of(screen)
        assert screen.table.total_count == 0


# ---- the registry's verbs (what the forms and action keys call) --------------------------------


class Recorder(httpx.AsyncBaseTransport):
    """Records Prism's `sl-violations` header: what in a request breaks the official spec."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.violations: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.headers.get("sl-violations"):
            self.violations.append(f"{request.method} {request.url.path}: {response.headers['sl-violations']}")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


ADDRESS = Address.from_api(
    {
        "id": "1293384261075731499",
        "first_name": "Alfred",
        "last_name": "Foster",
        "business_name": "Toy-O'Kon",
        "street_address": "600 Congress Avenue",
        "extended_address": "14th Floor",
        "locality": "Austin",
        "administrative_area": "TX",
        "postal_code": "78701",
        "country_code": "US",
    }
)
SSO_RECORD = AuthProvider.from_api(
    {
        "id": "35146afd-df93-4963-b1e9-1a085e2ae874",
        "name": "Okta",
        "short_name": "myorg",
        "active": True,
        "settings": {
            "idp_entity_id": "https://myorg.myidp.com/saml/metadata",
            "idp_sso_target_url": "https://myorg.myidp.com/trust/saml2/http-post/sso",
            "idp_cert_fingerprint": "13:38:C7:BB:C9:FF:4A:70:38:3A:E3:D9:5C:CD:DB:2E:50:1E:80:A7",
            "idp_cert_fingerprint_algorithm": "sha1",
        },
    }
)
SSO_VALUES = {
    "name": "Okta",
    "short_name": "myorg",
    "active": "true",
    "idp_entity_id": "https://myorg.myidp.com/saml/metadata",
    "idp_sso_target_url": "https://myorg.myidp.com/trust/saml2/http-post/sso",
    "idp_cert_fingerprint": "13:38:C7:BB:C9:FF:4A:70:38:3A:E3:D9:5C:CD:DB:2E:50:1E:80:A7",
    "idp_cert_fingerprint_algorithm": "sha1",
}


def _action(resource: str, action_id: str):
    return next(a for a in REGISTRY[resource].actions if a.id == action_id).run


VERBS: dict[str, Callable[[ProviderSession], Awaitable[Any]]] = {
    "allowlist.create": lambda s: REGISTRY["allowlist"].create(s, {"ip_address": "203.0.113.7", "description": "vpn"}),
    "allowlist.delete": lambda s: REGISTRY["allowlist"].delete(
        s, AccessIp.from_api({"id": "x", "ip_address": "203.0.113.7"})
    ),
    # A block typed into the allowlist form goes to /access_ip_ranges.
    "allowlist.create_cidr": lambda s: REGISTRY["allowlist"].create(
        s, {"ip_address": "198.51.100.0/24", "description": "office"}
    ),
    "ranges.create": lambda s: REGISTRY["ranges"].create(s, {"cidr_block": "198.51.100.0/24", "description": ""}),
    "ranges.delete": lambda s: REGISTRY["ranges"].delete(
        s, AccessIpRange.from_api({"id": "x", "cidr_block": "198.51.100.0/24"})
    ),
    "addresses.create": lambda s: REGISTRY["addresses"].create(
        s,
        {
            "first_name": "Alfred",
            "last_name": "Foster",
            "business_name": "Toy-O'Kon",
            "street_address": "600 Congress Avenue",
            "locality": "Austin",
            "administrative_area": "TX",
            "postal_code": "78701",
            "country_code": "us",
            "address_book": "true",
            "validate_address": "true",
        },
    ),
    "addresses.delete": lambda s: REGISTRY["addresses"].delete(s, ADDRESS),
    "addresses.validate": lambda s: _action("addresses", "validate")(s, ADDRESS),
    # The spec declares this path id a uuid although its own Address examples use numeric ids.
    "addresses.accept_suggestions": lambda s: _action("addresses", "accept_suggestions")(
        s, Address.from_api({"id": UUID})
    ),
    "sso.create": lambda s: REGISTRY["sso"].create(s, SSO_VALUES),
    "sso.update_name": lambda s: REGISTRY["sso"].update(s, SSO_RECORD, {**SSO_VALUES, "name": "Okta 2"}),
    "sso.delete": lambda s: REGISTRY["sso"].delete(s, SSO_RECORD),
    "billing.create": lambda s: REGISTRY["billing"].create(s, {"name": "Ops"}),
    "billing.update": lambda s: REGISTRY["billing"].update(s, BillingGroup.from_api({"id": UUID}), {"name": "Ops 2"}),
    "billing.delete": lambda s: REGISTRY["billing"].delete(s, BillingGroup.from_api({"id": UUID})),
    "secrets.create_bearer": lambda s: REGISTRY["secrets"].create(
        s, {"identifier": "crm", "type": "bearer", "token": "t0k"}
    ),
    "secrets.create_basic": lambda s: REGISTRY["secrets"].create(
        s, {"identifier": "crm", "type": "basic", "username": "u", "password": "p4ss"}
    ),
    "secrets.delete": lambda s: REGISTRY["secrets"].delete(s, IntegrationSecret.from_api({"id": "x"})),
    "credentials.token": lambda s: _action("credentials", "token")(s, TelephonyCredential.from_api({"id": "cred"})),
}


@pytest.mark.parametrize("verb", VERBS)
async def test_registry_verb_is_accepted_by_the_spec(prism_url: str, verb: str) -> None:
    recorder = Recorder()
    session = make_session(prism_url, recorder)
    try:
        try:
            await VERBS[verb](session)
        except ProviderError as error:
            pytest.fail(f"{verb}: {error.summary()}; Prism says: {recorder.violations}")
        assert recorder.violations == []
    finally:
        await session.aclose()


async def test_sso_edit_of_one_setting_is_accepted_by_the_spec(prism_url: str) -> None:
    recorder = Recorder()
    session = make_session(prism_url, recorder)
    try:
        values = {**SSO_VALUES, "idp_cert_fingerprint_algorithm": "sha256"}
        updated = await REGISTRY["sso"].update(session, SSO_RECORD, values)
        assert isinstance(updated, AuthProvider)
        assert recorder.violations == []
    finally:
        await session.aclose()
