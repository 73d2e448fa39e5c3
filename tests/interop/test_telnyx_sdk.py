"""The official Telnyx Python SDK (telnyx==4.189.0) against `teledeck sandbox serve`.

The sandbox runs as a real subprocess on a free loopback port, exactly as a user starts it; the
SDK is pointed at the printed base URL. Every operation of the account-access subset (access IP
ranges included) is called
through the SDK's own methods, auto-pagination is followed across pages, and failures come back as
the SDK's typed errors. With `max_retries=0` no request is ever sent twice behind our back.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

telnyx = pytest.importorskip("telnyx")

from providers.sandbox.telnyx import DEFAULT_TELNYX_API_KEY, decode_token  # noqa: E402

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


class Served:
    def __init__(self, base_url: str, state_file: Path) -> None:
        self.base_url = base_url
        self.state_file = state_file

    def state(self) -> dict:
        """The sandbox's saved state (written after every change)."""
        return json.loads(self.state_file.read_text(encoding="utf-8"))["telnyx"]

    def control(self, method: str, path: str, body: object = None) -> httpx.Response:
        url = self.base_url.removesuffix("/v2") + path
        return httpx.request(method, url, json=body, headers={"Authorization": f"Bearer {DEFAULT_TELNYX_API_KEY}"})


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    state_dir = tmp_path_factory.mktemp("telnyx-sdk-sandbox")
    env = {k: v for k, v in os.environ.items() if k != "TELEDECK_SANDBOX_TELNYX_API_KEY"}
    env["TELEDECK_SANDBOX_TELNYX_RATE_LIMIT"] = "1000"  # the SDK tests are bursty; 429 is tested explicitly
    env["TELEDECK_DATA_DIR"] = str(state_dir)
    stderr = (state_dir / "stderr.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox", "serve", "--port", "0", "--state-dir", str(state_dir)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )
    stderr.close()
    try:
        base_url = None
        printed = b""
        deadline = time.monotonic() + START_TIMEOUT
        while base_url is None and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                printed += chunk
                match = re.search(rb"^telnyx\s+(http://127\.0\.0\.1:\d+/v2)\s", printed, re.MULTILINE)
                if match:
                    base_url = match.group(1).decode()
        if base_url is None:
            log = (state_dir / "stderr.log").read_text(errors="replace")
            pytest.fail(f"sandbox did not print its base URL; stdout={printed!r} stderr={log[-2000:]}")
        assert f"api key: {DEFAULT_TELNYX_API_KEY}".encode() in printed
        yield Served(base_url, state_dir / "telnyx.json")
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def client(served: Served) -> Iterator[telnyx.Telnyx]:
    with telnyx.Telnyx(api_key=DEFAULT_TELNYX_API_KEY, base_url=served.base_url, max_retries=0) as sdk:
        yield sdk


# ---------------------------------------------------------------------------------------------
# Access IP addresses


def test_access_ip_auto_pagination_across_pages(client: telnyx.Telnyx) -> None:
    first = client.access_ip_address.list()
    expected = first.meta.total_results
    assert expected >= 51 and first.meta.total_pages >= 3
    pages = list(first.iter_pages())
    assert len(pages) == first.meta.total_pages and [p.meta.page_number for p in pages] == list(
        range(1, len(pages) + 1)
    )
    items = list(client.access_ip_address.list())
    assert len(items) == expected and len({i.id for i in items}) == expected
    small = list(client.access_ip_address.list(page_size=10))
    assert len(small) == expected


def test_access_ip_filters(client: telnyx.Telnyx) -> None:
    cloudflare = list(client.access_ip_address.list(filter={"ip_source": "cloudflare"}, page_size=250))
    assert cloudflare and {i.source for i in cloudflare} == {"cloudflare"}
    since = datetime(2026, 3, 1, tzinfo=UTC)
    recent = list(client.access_ip_address.list(filter={"created_at": {"gt": since}}))
    assert recent and all(i.created_at > since for i in recent)
    one = client.access_ip_address.list(filter={"ip_address": cloudflare[0].ip_address})
    assert [i.id for i in one.data] == [cloudflare[0].id]


def test_access_ip_create_retrieve_delete(client: telnyx.Telnyx) -> None:
    created = client.access_ip_address.create(ip_address="198.51.100.249", description="SDK interop")
    assert created.status == "pending" and created.source == "api" and created.description == "SDK interop"
    assert client.access_ip_address.retrieve(created.id).ip_address == "198.51.100.249"
    assert client.access_ip_address.delete(created.id).id == created.id
    with pytest.raises(telnyx.NotFoundError) as missing:
        client.access_ip_address.retrieve(created.id)
    assert missing.value.status_code == 404 and missing.value.body["errors"][0]["code"] == "10005"


def test_typed_validation_error(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as refused:
        client.access_ip_address.create(ip_address="not-an-ip")
    error = refused.value.body["errors"][0]
    assert error["source"]["pointer"] == "/ip_address"


# ---------------------------------------------------------------------------------------------
# Access IP ranges (CIDR blocks)


def test_access_ip_range_create_list_delete(client: telnyx.Telnyx, served: Served) -> None:
    created = client.access_ip_ranges.create(cidr_block="198.51.100.32/28", description="SDK interop range")
    assert isinstance(created, telnyx.types.AccessIPRange)
    assert created.cidr_block == "198.51.100.32/28" and created.status == "pending"
    assert created.description == "SDK interop range" and created.user_id and created.created_at is not None
    assert any(r["id"] == created.id for r in served.state()["access_ip_ranges"])

    listed = client.access_ip_ranges.list(filter={"cidr_block": "198.51.100.32/28"})
    assert [r.id for r in listed.data] == [created.id] and listed.meta.total_pages == 1
    everything = list(client.access_ip_ranges.list(page_size=5))  # auto-pagination across pages
    assert created.id in {r.id for r in everything} and len({r.id for r in everything}) == len(everything) >= 12
    starts = list(client.access_ip_ranges.list(filter={"cidr_block": {"startswith": "198.51.100.", "endswith": "/28"}}))
    assert [r.id for r in starts] == [created.id]
    since = datetime(2026, 5, 1, tzinfo=UTC)
    recent = list(client.access_ip_ranges.list(filter={"created_at": {"gte": since}}))
    assert recent and all(r.created_at is not None and r.created_at >= since for r in recent)

    deleted = client.access_ip_ranges.delete(created.id)
    assert deleted.id == created.id and deleted.cidr_block == "198.51.100.32/28"
    assert client.access_ip_ranges.list(filter={"cidr_block": "198.51.100.32/28"}).data == []
    with pytest.raises(telnyx.NotFoundError) as missing:
        client.access_ip_ranges.delete(created.id)
    assert missing.value.status_code == 404 and missing.value.body["errors"][0]["code"] == "10005"


def test_access_ip_range_refusals_are_typed(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as single:
        client.access_ip_ranges.create(cidr_block="192.0.2.7")
    assert single.value.body["errors"][0]["source"]["pointer"] == "/cidr_block"
    with pytest.raises(telnyx.UnprocessableEntityError) as block_as_address:
        client.access_ip_address.create(ip_address="192.0.2.0/24")
    error = block_as_address.value.body["errors"][0]
    assert error["code"] == "10015" and error["source"]["pointer"] == "/ip_address"
    assert "/access_ip_ranges" in error["detail"]


def test_wrong_key_is_an_authentication_error(served: Served) -> None:
    with telnyx.Telnyx(api_key="KEYwrong", base_url=served.base_url, max_retries=0) as wrong:
        with pytest.raises(telnyx.AuthenticationError) as refused:
            wrong.billing_groups.list()
    assert refused.value.status_code == 401 and refused.value.body["errors"][0]["code"] == "10009"


# ---------------------------------------------------------------------------------------------
# Addresses


def test_addresses(client: telnyx.Telnyx, served: Served) -> None:
    listed = list(client.addresses.list(sort="business_name", filter={"customer_reference": {"contains": "emea"}}))
    assert listed and [a.business_name.casefold() for a in listed] == sorted(a.business_name.casefold() for a in listed)
    assert all("EMEA" in a.customer_reference for a in listed)
    emergency = client.addresses.list(filter={"used_as_emergency": "true", "street_address": {"contains": "street"}})
    assert all("street" in a.street_address.lower() for a in emergency.data)
    created = client.addresses.create(
        first_name="Rosa",
        last_name="Diaz",
        business_name="Nine-Nine Bakery",
        street_address="99 Court Street",
        locality="Brooklyn",
        country_code="US",
        administrative_area="NY",
        postal_code="11201",
        customer_reference="AMER-SDK-001",
    ).data
    assert created.id and created.record_type == "address"
    assert client.addresses.retrieve(created.id).data.business_name == "Nine-Nine Bakery"
    assert client.addresses.delete(created.id).data.id == created.id
    with pytest.raises(telnyx.NotFoundError):
        client.addresses.retrieve(created.id)
    with pytest.raises(telnyx.UnprocessableEntityError) as refused:
        client.addresses.create(
            first_name="A",
            last_name="B",
            business_name="C",
            street_address="1 Main St",
            locality="Nowhere",
            country_code="XX",
        )
    assert refused.value.body["errors"][0]["source"]["pointer"] == "/country_code"
    with pytest.raises(telnyx.BadRequestError):
        client.addresses.list(sort="colour")  # type: ignore[arg-type]


def test_address_actions(client: telnyx.Telnyx, served: Served) -> None:
    result = client.addresses.actions.validate(
        country_code="CA", postal_code="m5v3l9", street_address="290 bremner boulevard"
    ).data
    assert result.result == "valid" and result.suggested.postal_code == "M5V 3L9"
    bad = client.addresses.actions.validate(country_code="US", postal_code="1", street_address="Main Street").data
    assert bad.result == "invalid" and {e.source.pointer for e in bad.errors} == {"/postal_code", "/street_address"}
    pending = next(a for a in served.state()["addresses"] if a.get("_suggestion", {}).get("state") == "pending")
    first = client.addresses.actions.with_raw_response.accept_suggestions(pending["_location_id"], id=pending["id"])
    assert first.status_code == 202
    parsed = first.parse().data
    assert (
        parsed.accepted is True and parsed.id == pending["_location_id"] and parsed.record_type == "address_suggestion"
    )
    again = client.addresses.actions.with_raw_response.accept_suggestions(pending["_location_id"])
    assert again.status_code == 200


# ---------------------------------------------------------------------------------------------
# SSO providers, billing groups, integration secrets, credentials


def test_authentication_providers(client: telnyx.Telnyx) -> None:
    names = [p.name for p in client.authentication_providers.list(sort="name")]
    assert len(names) >= 4 and names == sorted(names, key=str.casefold)
    settings = {
        "idp_entity_id": "https://sso.example.com/realms/sdk",
        "idp_sso_target_url": "https://sso.example.com/sso",
        "idp_cert_fingerprint": "13:38:C7:BB:C9:FF:4A:70:38:3A:E3:D9:5C:CD:DB:2E:50:1E:80:A7",
    }
    created = client.authentication_providers.create(name="Keycloak", short_name="sdk-interop", settings=settings).data
    assert created.active is True and created.settings.idp_cert_fingerprint_algorithm == "sha1"
    assert client.authentication_providers.retrieve(created.id).data.short_name == "sdk-interop"
    updated = client.authentication_providers.update(created.id, active=False, name="Keycloak (SDK)").data
    assert updated.active is False and updated.name == "Keycloak (SDK)"
    assert client.authentication_providers.delete(created.id).data.id == created.id
    with pytest.raises(telnyx.UnprocessableEntityError) as refused:
        client.authentication_providers.create(name="x", short_name="northwind", settings=settings)
    assert refused.value.body["errors"][0]["code"] == "10012"


def test_billing_groups(client: telnyx.Telnyx, served: Served) -> None:
    assert len(list(client.billing_groups.list(page_size=5))) >= 12
    group = client.billing_groups.create(name="SDK interop").data
    assert client.billing_groups.retrieve(group.id).data.name == "SDK interop"
    assert client.billing_groups.update(group.id, name="SDK interop 2").data.name == "SDK interop 2"
    deleted = client.billing_groups.delete(group.id).data
    assert deleted.deleted_at is not None
    in_use = next(g["id"] for g in served.state()["billing_groups"] if g["_in_use"])
    with pytest.raises(telnyx.ConflictError) as conflict:
        client.billing_groups.delete(in_use)
    assert conflict.value.body["errors"][0]["code"] == "10021"


def test_integration_secrets(client: telnyx.Telnyx) -> None:
    basic = list(client.integration_secrets.list(filter={"type": "basic"}))
    assert basic and len(basic) < len(list(client.integration_secrets.list()))
    created = client.integration_secrets.create(identifier="sdk_interop", type="bearer", token="not-a-real-token").data
    assert created.identifier == "sdk_interop" and created.record_type == "integration_secret"
    assert "not-a-real-token" not in client.integration_secrets.with_raw_response.list().text()
    assert client.integration_secrets.delete(created.id) is None
    with pytest.raises(telnyx.UnprocessableEntityError) as refused:
        client.integration_secrets.create(identifier="sdk_interop_basic", type="basic", username="u")
    assert refused.value.body["errors"][0]["detail"]


def test_telephony_credentials_and_tokens(client: telnyx.Telnyx) -> None:
    credentials = list(client.telephony_credentials.list())
    assert len(credentials) == 6 and sum(bool(c.expired) for c in credentials) == 1
    active = next(c for c in credentials if not c.expired)
    token = client.telephony_credentials.create_token(active.id)
    assert isinstance(token, str) and decode_token(token)["sub"] == active.id
    again = client.telephony_credentials.create_token(active.id, idempotency_key="sdk-interop-token")
    replay = client.telephony_credentials.create_token(active.id, idempotency_key="sdk-interop-token")
    assert again == replay != token
    with pytest.raises(telnyx.NotFoundError):
        client.telephony_credentials.create_token("00000000-0000-4000-8000-000000000000")


# ---------------------------------------------------------------------------------------------
# Faults, seen through the SDK


def test_injected_faults_surface_as_sdk_errors(client: telnyx.Telnyx, served: Served) -> None:
    added = served.control(
        "POST",
        "/_sandbox/faults",
        [
            {
                "kind": "status",
                "method": "GET",
                "path": "/billing_groups",
                "status": 429,
                "headers": {"Retry-After": "2"},
            },
            {"kind": "status", "method": "GET", "path": "/addresses", "status": 500, "body": ""},
            {"kind": "connect_error", "method": "GET", "path": "/integration_secrets"},
            {"kind": "delay", "method": "POST", "path": "/billing_groups", "seconds": 0.6, "apply": False},
        ],
    )
    assert added.status_code == 201
    try:
        with pytest.raises(telnyx.RateLimitError) as limited:
            client.billing_groups.list()
        assert limited.value.response.headers["retry-after"] == "2"
        assert limited.value.body["errors"][0]["code"] == "10011"
        with pytest.raises(telnyx.InternalServerError) as empty:
            client.addresses.list()
        assert empty.value.response.content == b""
        with pytest.raises(telnyx.APIConnectionError):
            client.integration_secrets.list()
        before = len(list(client.billing_groups.list(page_size=250)))
        with pytest.raises(telnyx.APITimeoutError):
            client.with_options(timeout=0.2).billing_groups.create(name="timed out")
        time.sleep(0.6)  # the server finishes waiting, sees the client gone, and drops the request
        assert len(list(client.billing_groups.list(page_size=250))) == before
    finally:
        assert served.control("DELETE", "/_sandbox/faults").status_code == 204


def test_repeat_page_fault_would_loop_the_sdk_paginator(client: telnyx.Telnyx, served: Served) -> None:
    """A server stuck on one page number (as Prism is) keeps the SDK asking for the next page."""
    assert (
        served.control("POST", "/_sandbox/faults", {"kind": "repeat_page", "path": "/access_ip_address"}).status_code
        == 201
    )
    try:
        numbers = []
        for page in client.access_ip_address.list().iter_pages():
            numbers.append(page.meta.page_number)
            if len(numbers) == 5:
                break  # the SDK itself would never stop
        assert numbers == [1, 1, 1, 1, 1]
    finally:
        served.control("DELETE", "/_sandbox/faults")
