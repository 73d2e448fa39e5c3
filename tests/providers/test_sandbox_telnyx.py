"""The Telnyx sandbox, driven through httpx and the in-process transport (and once over loopback).

Each test gets its own emulator over its own state file under tmp_path, with a fixed clock, so the
suite runs in parallel (pytest -n) and never touches the user's data directory.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.sandbox import (
    DEFAULT_TELNYX_API_KEY,
    AsyncInProcessTransport,
    StateStore,
    SyncInProcessTransport,
    TelnyxSandbox,
    default_state_dir,
    serve,
)
from providers.sandbox.cli import main as sandbox_cli
from providers.sandbox.http import BodyError, SandboxRequest, SandboxResponse
from providers.sandbox.telnyx import IN_PROCESS_BASE_URL, build_seed, decode_token

KEY = DEFAULT_TELNYX_API_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}
T_START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Clock:
    def __init__(self, now: float = T_START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox" / "telnyx.json"


@pytest.fixture
def sandbox(state_path: Path, clock: Clock) -> TelnyxSandbox:
    return TelnyxSandbox(StateStore(state_path), clock=clock)


def make_client(sandbox: TelnyxSandbox, headers: dict[str, str] | None = None, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=IN_PROCESS_BASE_URL,
        transport=AsyncInProcessTransport(sandbox),
        headers=AUTH if headers is None else headers,
        **kw,
    )


@pytest.fixture
async def client(sandbox: TelnyxSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(sandbox) as c:
        yield c


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert isinstance(error["code"], str) and error["title"] and error["detail"], error
    return body["errors"][0]


def pointers(response: httpx.Response) -> set[str]:
    return {e.get("source", {}).get("pointer") for e in response.json()["errors"]}


async def total(client: httpx.AsyncClient, path: str, **params: str) -> int:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["meta"]["total_results"]


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


def test_sandbox_request_helpers() -> None:
    req = SandboxRequest("get", "/v2/x", [("a", "1"), ("a", "2"), ("b", "")], {"X-Thing": "y"}, b'{"k": 1}')
    assert req.method == "GET" and req.headers == {"x-thing": "y"}
    assert req.query_dict == {"a": "2", "b": ""}
    assert req.header("X-THING") == "y" and req.json() == {"k": 1}
    with pytest.raises(BodyError, match="not valid JSON"):
        SandboxRequest("POST", "/", body=b"{nope").json()
    with pytest.raises(BodyError, match="empty"):
        SandboxRequest("POST", "/").json()
    with pytest.raises(BodyError, match="not UTF-8"):
        SandboxRequest("POST", "/", body=b"\xff\xfe").json()


def test_sandbox_response_constructors() -> None:
    r = SandboxResponse.json_response(201, {"a": "é"}, {"X-Y": "1"})
    assert r.status == 201 and r.headers["content-type"].startswith("application/json") and r.headers["x-y"] == "1"
    assert r.json() == {"a": "é"}
    t = SandboxResponse.text_response(200, "hi")
    assert t.body == b"hi" and t.headers["content-type"].startswith("text/plain")
    assert SandboxResponse.empty(204).body == b"" and SandboxResponse.empty(204).headers == {}


def test_serve_refuses_public_hosts() -> None:
    sandbox = TelnyxSandbox()
    for host in ("0.0.0.0", "192.0.2.10", "example.com"):
        with pytest.raises(ValueError, match="non-loopback"):
            serve(sandbox, host, 0)


def test_serve_over_loopback_keep_alive_and_faults() -> None:
    sandbox = TelnyxSandbox()
    with serve(sandbox, "127.0.0.1", 0) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v2", server.base_url)
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=5) as http:
            first = http.get("/access_ip_address", params={"page[size]": 5})
            second = http.get("/billing_groups")
            assert first.status_code == second.status_code == 200
            ports = {r.extensions["network_stream"].get_extra_info("socket").getsockname()[1] for r in (first, second)}
            assert len(ports) == 1  # HTTP/1.1 keep-alive: one connection served both
            chunked = http.post("/billing_groups", content=iter([b'{"name": ', b'"chunked"}']))
            assert chunked.request.headers["transfer-encoding"] == "chunked"
            assert chunked.status_code == 200 and chunked.json()["data"]["name"] == "chunked"
            assert http.head("/billing_groups").content == b""
            assert len(first.json()["data"]) == 5 and first.headers["x-request-id"]
            # A write that times out before it is applied stays unapplied on a real socket too.
            sandbox.faults.delay("POST", "/billing_groups", 0.4, apply=False)
            with pytest.raises(httpx.ReadTimeout):
                http.post("/billing_groups", json={"name": "never"}, timeout=0.1)
            sandbox.faults.connect_error("GET", "/addresses")
            with pytest.raises(httpx.TransportError):
                http.get("/addresses")
            assert http.get("/addresses").status_code == 200
        time.sleep(0.5)  # let the delayed handler thread finish deciding
        names = [g["name"] for g in sandbox.state["billing_groups"]]
        assert "never" not in names
    assert not server.running


def test_sync_transport_honours_delays_and_timeouts(sandbox: TelnyxSandbox) -> None:
    with httpx.Client(base_url=IN_PROCESS_BASE_URL, transport=SyncInProcessTransport(sandbox), headers=AUTH) as http:
        sandbox.faults.delay("POST", "/billing_groups", 0.2, apply=True)
        with pytest.raises(httpx.ReadTimeout):
            http.post("/billing_groups", json={"name": "applied anyway"}, timeout=0.05)
        assert any(g["name"] == "applied anyway" for g in sandbox.state["billing_groups"])
        sandbox.faults.connect_error("*", "/")
        with pytest.raises(httpx.ConnectError):
            http.get("/billing_groups")


# ---------------------------------------------------------------------------------------------
# Authentication, common headers, routing


async def test_missing_and_wrong_keys_are_refused(sandbox: TelnyxSandbox) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer "},
    ):
        async with make_client(sandbox, headers) as c:
            response = await c.get("/access_ip_address")
        assert response.status_code == 401, headers
        assert error_of(response)["code"] == "10009" and error_of(response)["title"] == "Authentication failed"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEDECK_SANDBOX_TELNYX_API_KEY", "KEYcustom_for_test")
    sandbox = TelnyxSandbox(StateStore(tmp_path / "t.json"))
    async with make_client(sandbox, {"Authorization": "Bearer KEYcustom_for_test"}) as c:
        assert (await c.get("/billing_groups")).status_code == 200
    async with make_client(sandbox) as c:
        assert (await c.get("/billing_groups")).status_code == 401


async def test_common_headers_and_unknown_routes(client: httpx.AsyncClient) -> None:
    response = await client.get("/billing_groups")
    assert UUID_RE.match(response.headers["x-request-id"])
    assert response.headers["x-ratelimit-limit"] == "100"
    assert response.headers["x-ratelimit-remaining"] == "99"
    assert int(response.headers["x-ratelimit-reset"]) >= 1
    other = await client.get("/billing_groups")
    assert other.headers["x-request-id"] != response.headers["x-request-id"]
    missing = await client.get("/no_such_thing")
    assert missing.status_code == 404 and error_of(missing)["code"] == "10005"
    wrong_method = await client.put("/billing_groups")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["allow"]
    outside = await client.get("http://telnyx.sandbox.invalid/v1/billing_groups")
    assert outside.status_code == 404


async def test_body_errors(client: httpx.AsyncClient) -> None:
    bad_json = await client.post(
        "/access_ip_address", content=b'{"ip_address": ', headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and error_of(bad_json)["code"] == "10023"
    array = await client.post("/access_ip_address", json=["198.51.100.1"])
    assert array.status_code == 400 and error_of(array)["code"] == "10015"
    form = await client.post("/access_ip_address", data={"ip_address": "198.51.100.1"})
    assert form.status_code == 415 and error_of(form)["code"] == "10014"


# ---------------------------------------------------------------------------------------------
# Access IP addresses


async def test_access_ip_pagination_meta_across_pages(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    for number, expected in ((1, 20), (2, 20), (3, 11)):
        body = (await client.get("/access_ip_address", params={"page[number]": number})).json()
        assert body["meta"] == {"page_number": number, "page_size": 20, "total_pages": 3, "total_results": 51}
        assert len(body["data"]) == expected
        seen += [item["id"] for item in body["data"]]
    assert len(set(seen)) == 51
    past = (await client.get("/access_ip_address", params={"page[number]": 9})).json()
    assert past["data"] == [] and past["meta"]["page_number"] == 9 and past["meta"]["total_pages"] == 3
    big = (await client.get("/access_ip_address", params={"page[size]": 250})).json()
    assert len(big["data"]) == 51 and big["meta"]["total_pages"] == 1
    created = [item["created_at"] for item in big["data"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    "name,value",
    [("page[size]", "251"), ("page[size]", "0"), ("page[number]", "0"), ("page[number]", "two"), ("page[size]", "-5")],
)
async def test_access_ip_page_params_refused(client: httpx.AsyncClient, name: str, value: str) -> None:
    response = await client.get("/access_ip_address", params={name: value})
    assert response.status_code == 422
    assert error_of(response)["source"]["parameter"] == name


@pytest.mark.parametrize(
    "path",
    ["/addresses", "/authentication_providers", "/billing_groups", "/integration_secrets", "/telephony_credentials"],
)
async def test_other_lists_refuse_bad_pages_with_400(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, params={"page[size]": "251"})
    assert response.status_code == 400 and error_of(response)["source"]["parameter"] == "page[size]"


async def test_access_ip_seed_mix(client: httpx.AsyncClient) -> None:
    items = (await client.get("/access_ip_address", params={"page[size]": 250})).json()["data"]
    assert {i["source"] for i in items} == {"api", "portal", "cloudflare"}
    assert {i["status"] for i in items} == {"pending", "added"}
    # One address each: CIDR blocks live at /access_ip_ranges.
    assert not any("/" in i["ip_address"] for i in items) and any(":" in i["ip_address"] for i in items)
    for item in items:
        assert set(item) == {
            "id",
            "ip_address",
            "source",
            "status",
            "description",
            "user_id",
            "created_at",
            "updated_at",
        }


async def test_access_ip_filters(client: httpx.AsyncClient) -> None:
    by_source = {
        s: await total(client, "/access_ip_address", **{"filter[ip_source]": s})
        for s in ("api", "portal", "cloudflare")
    }
    assert sum(by_source.values()) == 51 and all(by_source.values())
    api = (await client.get("/access_ip_address", params={"filter[ip_source]": "api", "page[size]": 250})).json()[
        "data"
    ]
    assert {i["source"] for i in api} == {"api"}
    one = api[0]
    exact = (await client.get("/access_ip_address", params={"filter[ip_address]": one["ip_address"]})).json()
    assert [i["id"] for i in exact["data"]] == [one["id"]]
    when = one["created_at"]
    assert await total(client, "/access_ip_address", **{"filter[created_at]": when}) == 1
    gt = await total(client, "/access_ip_address", **{"filter[created_at][gt]": when})
    lte = await total(client, "/access_ip_address", **{"filter[created_at][lte]": when})
    assert gt + lte == 51
    gte = await total(client, "/access_ip_address", **{"filter[created_at][gte]": when})
    lt = await total(client, "/access_ip_address", **{"filter[created_at][lt]": when})
    assert gte + lt == 51 and gte == gt + 1
    window = await total(
        client,
        "/access_ip_address",
        **{"filter[created_at][gt]": "2026-02-01T00:00:00Z", "filter[created_at][lt]": "2026-03-01T00:00:00Z"},
    )
    assert 0 < window < 51
    bad = await client.get("/access_ip_address", params={"filter[created_at][gt]": "yesterday"})
    assert bad.status_code == 422 and error_of(bad)["source"]["parameter"] == "filter[created_at][gt]"
    bad_op = await client.get("/access_ip_address", params={"filter[created_at][after]": "2026-01-01T00:00:00Z"})
    assert bad_op.status_code == 422


async def test_access_ip_lifecycle(client: httpx.AsyncClient, clock: Clock) -> None:
    created = await client.post("/access_ip_address", json={"ip_address": "198.51.100.250", "description": "New NAT"})
    assert created.status_code == 200
    body = created.json()
    assert "data" not in body and body["ip_address"] == "198.51.100.250"
    assert body["source"] == "api" and body["status"] == "pending" and body["description"] == "New NAT"
    got = await client.get(f"/access_ip_address/{body['id']}")
    assert got.status_code == 200 and got.json() == body
    clock.advance(6)
    synced = (await client.get(f"/access_ip_address/{body['id']}")).json()
    assert synced["status"] == "added" and synced["updated_at"] > body["updated_at"]
    deleted = await client.delete(f"/access_ip_address/{body['id']}")
    assert deleted.status_code == 200 and "data" not in deleted.json() and deleted.json()["id"] == body["id"]
    gone = await client.get(f"/access_ip_address/{body['id']}")
    assert gone.status_code == 404 and error_of(gone)["code"] == "10005"
    assert error_of(gone)["title"] == "Resource not found"
    assert (await client.delete(f"/access_ip_address/{body['id']}")).status_code == 404


@pytest.mark.parametrize(
    "payload,pointer,code",
    [
        ({}, "/ip_address", "10004"),
        ({"ip_address": None}, "/ip_address", "10004"),
        ({"ip_address": 1234}, "/ip_address", "10015"),
        ({"ip_address": "999.1.1.1"}, "/ip_address", "10015"),
        ({"ip_address": "10.0.0.1/8"}, "/ip_address", "10015"),
        ({"ip_address": "10.0.0.0/8"}, "/ip_address", "10015"),
        ({"ip_address": "not an ip"}, "/ip_address", "10015"),
        ({"ip_address": "198.51.100.77", "description": 5}, "/description", "10015"),
    ],
)
async def test_access_ip_validation(client: httpx.AsyncClient, payload: dict, pointer: str, code: str) -> None:
    response = await client.post("/access_ip_address", json=payload)
    assert response.status_code == 422
    error = error_of(response)
    assert error["source"]["pointer"] == pointer and error["code"] == code


async def test_access_ip_accepts_ipv6_and_refuses_duplicates(client: httpx.AsyncClient) -> None:
    for value, stored in (("10.20.30.40", "10.20.30.40"), ("2001:DB8::0:1", "2001:db8::1")):
        response = await client.post("/access_ip_address", json={"ip_address": value})
        assert response.status_code == 200 and response.json()["ip_address"] == stored
    duplicate = await client.post("/access_ip_address", json={"ip_address": "2001:db8:0::1"})
    assert duplicate.status_code == 422
    assert error_of(duplicate)["code"] == "10012" and error_of(duplicate)["source"]["pointer"] == "/ip_address"


async def test_access_ip_refuses_a_cidr_block_and_names_the_ranges_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.post("/access_ip_address", json={"ip_address": "198.51.100.0/24"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "10015" and error["source"]["pointer"] == "/ip_address"
    assert "/access_ip_ranges" in error["detail"] and "cidr_block" in error["detail"]
    assert await total(client, "/access_ip_ranges", **{"filter[cidr_block]": "198.51.100.0/24"}) == 0


# ---------------------------------------------------------------------------------------------
# Access IP ranges


async def test_ip_range_seed(client: httpx.AsyncClient) -> None:
    body = (await client.get("/access_ip_ranges", params={"page[size]": 250})).json()
    assert body["meta"] == {"page_number": 1, "page_size": 250, "total_pages": 1, "total_results": 11}
    items = body["data"]
    blocks = [i["cidr_block"] for i in items]
    # The six blocks the access list used to hold, and the hand-written ones; documentation space only.
    assert {"203.0.113.128/28", "203.0.113.48/28", "2001:db8:bc::/48", "192.0.2.0/26", "2001:db8:4a00::/40"} <= set(
        blocks
    )
    documentation = ("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:")
    assert all(b.startswith(documentation) and "/" in b for b in blocks)
    assert {i["status"] for i in items} == {"pending", "added"}
    created = [i["created_at"] for i in items]
    assert created == sorted(created, reverse=True)
    for item in items:
        assert set(item) == {"id", "cidr_block", "status", "description", "user_id", "created_at", "updated_at"}
        assert UUID_RE.match(item["id"])


async def test_ip_range_filters_and_pages(client: httpx.AsyncClient) -> None:
    exact = (await client.get("/access_ip_ranges", params={"filter[cidr_block]": "2001:DB8:BC::/48"})).json()
    assert [i["cidr_block"] for i in exact["data"]] == ["2001:db8:bc::/48"]
    starts = (await client.get("/access_ip_ranges", params={"filter[cidr_block][startswith]": "198.51.100."})).json()
    assert sorted(i["cidr_block"] for i in starts["data"]) == ["198.51.100.128/25", "198.51.100.64/27"]
    assert await total(client, "/access_ip_ranges", **{"filter[cidr_block][endswith]": "/28"}) == 3
    assert await total(client, "/access_ip_ranges", **{"filter[cidr_block][contains]": "db8"}) == 5
    assert (
        await total(
            client,
            "/access_ip_ranges",
            **{"filter[cidr_block][startswith]": "203.", "filter[cidr_block][endswith]": "/28"},
        )
        == 2
    )
    when = exact["data"][0]["created_at"]
    assert await total(client, "/access_ip_ranges", **{"filter[created_at]": when}) == 1
    gt = await total(client, "/access_ip_ranges", **{"filter[created_at][gt]": when})
    lte = await total(client, "/access_ip_ranges", **{"filter[created_at][lte]": when})
    assert gt + lte == 11 and gt == 10
    page2 = (await client.get("/access_ip_ranges", params={"page[number]": 2, "page[size]": 4})).json()
    assert page2["meta"] == {"page_number": 2, "page_size": 4, "total_pages": 3, "total_results": 11}
    assert len(page2["data"]) == 4


@pytest.mark.parametrize(
    "params,parameter",
    [
        ({"page[size]": "251"}, "page[size]"),
        ({"page[number]": "0"}, "page[number]"),
        ({"filter[created_at][gt]": "soon"}, "filter[created_at][gt]"),
        ({"filter[created_at][after]": "2026-01-01T00:00:00Z"}, "filter[created_at][after]"),
        ({"filter[cidr_block][matches]": "10."}, "filter[cidr_block][matches]"),
    ],
)
async def test_ip_range_list_refuses_bad_parameters_with_422(
    client: httpx.AsyncClient, params: dict, parameter: str
) -> None:
    response = await client.get("/access_ip_ranges", params=params)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "10015" and error["source"]["parameter"] == parameter


async def test_ip_range_lifecycle(client: httpx.AsyncClient, clock: Clock) -> None:
    created = await client.post("/access_ip_ranges", json={"cidr_block": "2001:DB8:77::/48", "description": "Lab"})
    assert created.status_code == 200
    body = created.json()
    assert "data" not in body and body["cidr_block"] == "2001:db8:77::/48"
    assert body["status"] == "pending" and body["description"] == "Lab" and UUID_RE.match(body["id"])
    assert body["created_at"] == body["updated_at"] and "source" not in body
    assert await total(client, "/access_ip_ranges") == 12
    clock.advance(6)
    listed = (await client.get("/access_ip_ranges", params={"filter[cidr_block]": "2001:db8:77::/48"})).json()
    assert listed["data"][0]["status"] == "added" and listed["data"][0]["updated_at"] > body["updated_at"]
    # No retrieve in the spec: the item path answers DELETE only.
    no_get = await client.get(f"/access_ip_ranges/{body['id']}")
    assert no_get.status_code == 405 and no_get.headers["allow"] == "DELETE"
    deleted = await client.delete(f"/access_ip_ranges/{body['id']}")
    assert deleted.status_code == 200 and "data" not in deleted.json()
    assert deleted.json()["id"] == body["id"] and deleted.json()["status"] == "added"
    again = await client.delete(f"/access_ip_ranges/{body['id']}")
    assert again.status_code == 404 and error_of(again)["code"] == "10005"
    assert await total(client, "/access_ip_ranges") == 11


@pytest.mark.parametrize(
    "payload,pointer,code,says",
    [
        ({}, "/cidr_block", "10004", "required"),
        ({"cidr_block": ""}, "/cidr_block", "10004", "required"),
        ({"cidr_block": 24}, "/cidr_block", "10015", "string"),
        ({"cidr_block": "192.0.2.7"}, "/cidr_block", "10015", "/access_ip_address"),
        ({"cidr_block": "192.0.2.7/24"}, "/cidr_block", "10015", "192.0.2.0/24"),
        ({"cidr_block": "192.0.2.0/33"}, "/cidr_block", "10015", "not a CIDR block"),
        ({"cidr_block": "office"}, "/cidr_block", "10015", "not a CIDR block"),
        ({"cidr_block": "192.0.2.0/24", "description": 5}, "/description", "10015", "string"),
    ],
)
async def test_ip_range_validation(
    client: httpx.AsyncClient, payload: dict, pointer: str, code: str, says: str
) -> None:
    response = await client.post("/access_ip_ranges", json=payload)
    assert response.status_code == 422
    error = error_of(response)
    assert (error["source"]["pointer"], error["code"]) == (pointer, code) and says in error["detail"]


async def test_ip_range_duplicates_are_refused_after_normalising(client: httpx.AsyncClient) -> None:
    duplicate = await client.post("/access_ip_ranges", json={"cidr_block": " 2001:0DB8:4A00::/40 "})
    assert duplicate.status_code == 422
    assert error_of(duplicate)["code"] == "10012" and error_of(duplicate)["source"]["pointer"] == "/cidr_block"


# ---------------------------------------------------------------------------------------------
# Addresses


async def test_addresses_list_default_order_and_sorts(client: httpx.AsyncClient) -> None:
    default = (await client.get("/addresses", params={"page[size]": 250})).json()
    assert default["meta"]["total_results"] == 30
    created = [a["created_at"] for a in default["data"]]
    assert created == sorted(created, reverse=True)
    for sort in ("created_at", "first_name", "last_name", "business_name", "street_address"):
        asc = [
            a[sort].casefold()
            for a in (await client.get("/addresses", params={"sort": sort, "page[size]": 250})).json()["data"]
        ]
        desc = [
            a[sort].casefold()
            for a in (await client.get("/addresses", params={"sort": f"-{sort}", "page[size]": 250})).json()["data"]
        ]
        assert asc == sorted(asc) and desc == sorted(desc, reverse=True), sort
    bad = await client.get("/addresses", params={"sort": "locality"})
    assert bad.status_code == 400 and error_of(bad)["source"]["parameter"] == "sort"


async def test_addresses_filters(client: httpx.AsyncClient) -> None:
    amer = await total(client, "/addresses", **{"filter[customer_reference]": "amer"})
    emea = await total(client, "/addresses", **{"filter[customer_reference][contains]": "EmEa"})
    apac = await total(client, "/addresses", **{"filter[customer_reference][contains]": "apac"})
    assert amer + emea + apac == 30 and min(amer, emea, apac) > 0
    first = (await client.get("/addresses")).json()["data"][0]
    eq = (await client.get("/addresses", params={"filter[customer_reference][eq]": first["customer_reference"]})).json()
    assert [a["id"] for a in eq["data"]] == [first["id"]]
    assert (
        await total(client, "/addresses", **{"filter[customer_reference][eq]": first["customer_reference"].lower()})
        == 0
    )
    streets = (
        await client.get("/addresses", params={"filter[street_address][contains]": "STREET", "page[size]": 250})
    ).json()["data"]
    assert streets and all("street" in a["street_address"].lower() for a in streets)
    short = await client.get("/addresses", params={"filter[street_address][contains]": "st"})
    assert short.status_code == 400 and error_of(short)["source"]["parameter"] == "filter[street_address][contains]"
    assert await total(client, "/addresses", **{"filter[used_as_emergency]": "true"}) == 8
    assert await total(client, "/addresses", **{"filter[used_as_emergency]": "false"}) == 22
    bad = await client.get("/addresses", params={"filter[used_as_emergency]": "yes"})
    assert bad.status_code == 400 and error_of(bad)["source"]["parameter"] == "filter[used_as_emergency]"
    assert await total(client, "/addresses", **{"filter[address_book][eq]": "false"}) == 3
    assert await total(client, "/addresses", **{"filter[address_book][eq]": "true"}) == 27
    countries = {a["country_code"] for a in (await client.get("/addresses", params={"page[size]": 250})).json()["data"]}
    assert len(countries) >= 10


VALID_ADDRESS = {
    "first_name": "Rosa",
    "last_name": "Diaz",
    "business_name": "Nine-Nine Bakery",
    "street_address": "99 Court Street",
    "locality": "Brooklyn",
    "administrative_area": "NY",
    "postal_code": "11201",
    "country_code": "US",
    "phone_number": "+17185550199",
    "customer_reference": "AMER-NINE-001",
}


async def test_address_create_get_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/addresses", json=VALID_ADDRESS)
    assert created.status_code == 200
    data = created.json()["data"]
    assert re.fullmatch(r"\d{19}", data["id"]) and data["record_type"] == "address"
    assert data["address_book"] is True and data["validate_address"] is True
    assert {k: data[k] for k in VALID_ADDRESS} == VALID_ADDRESS
    assert (await client.get(f"/addresses/{data['id']}")).json() == {"data": data}
    deleted = await client.delete(f"/addresses/{data['id']}")
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == data["id"]
    assert (await client.get(f"/addresses/{data['id']}")).status_code == 404
    assert (await client.delete("/addresses/1")).status_code == 404


@pytest.mark.parametrize(
    "field", ["first_name", "last_name", "business_name", "street_address", "locality", "country_code"]
)
async def test_address_required_fields(client: httpx.AsyncClient, field: str) -> None:
    payload = {k: v for k, v in VALID_ADDRESS.items() if k != field}
    response = await client.post("/addresses", json=payload)
    assert response.status_code == 422
    assert error_of(response)["source"]["pointer"] == f"/{field}" and error_of(response)["code"] == "10004"


@pytest.mark.parametrize(
    "change,pointer",
    [
        ({"country_code": "XX"}, "/country_code"),
        ({"country_code": "USA"}, "/country_code"),
        ({"phone_number": "212-555-0100"}, "/phone_number"),
        ({"address_book": "yes"}, "/address_book"),
        ({"locality": 7}, "/locality"),
        ({"postal_code": "ABCDE"}, "/postal_code"),  # validate_address defaults to true
        ({"street_address": "Court Street"}, "/street_address"),
    ],
)
async def test_address_validation_errors(client: httpx.AsyncClient, change: dict, pointer: str) -> None:
    response = await client.post("/addresses", json={**VALID_ADDRESS, **change})
    assert response.status_code == 422
    assert pointer in pointers(response)


async def test_address_validate_false_skips_checks_and_empty_body_lists_all_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/addresses", json={**VALID_ADDRESS, "postal_code": "ABCDE", "validate_address": False}
    )
    assert response.status_code == 200 and response.json()["data"]["validate_address"] is False
    empty = await client.post("/addresses", json={})
    assert pointers(empty) == {
        "/first_name",
        "/last_name",
        "/business_name",
        "/street_address",
        "/locality",
        "/country_code",
    }


async def test_validate_action(client: httpx.AsyncClient) -> None:
    ok = await client.post(
        "/addresses/actions/validate",
        json={
            "country_code": "gb",
            "postal_code": "ec2n1hq",
            "street_address": "25 old broad street",
            "locality": "london",
        },
    )
    assert ok.status_code == 200
    data = ok.json()["data"]
    assert data["result"] == "valid" and data["record_type"] == "address_validation" and data["errors"] == []
    assert data["suggested"] == {
        "country_code": "GB",
        "postal_code": "EC2N 1HQ",
        "street_address": "25 Old Broad Street",
        "locality": "London",
    }
    bad = (
        await client.post(
            "/addresses/actions/validate",
            json={"country_code": "DE", "postal_code": "123", "street_address": "Hauptstrasse"},
        )
    ).json()["data"]
    assert bad["result"] == "invalid"
    assert {e["source"]["pointer"] for e in bad["errors"]} == {"/postal_code", "/street_address"}
    assert all(e["description"] and e["code"] and e["title"] for e in bad["errors"])
    missing = await client.post("/addresses/actions/validate", json={"country_code": "US"})
    assert missing.status_code == 422 and pointers(missing) == {"/street_address", "/postal_code"}
    country = await client.post(
        "/addresses/actions/validate", json={"country_code": "ZZ", "postal_code": "1", "street_address": "1 A"}
    )
    assert country.status_code == 422 and pointers(country) == {"/country_code"}


async def test_delete_emergency_address_refused(client: httpx.AsyncClient) -> None:
    used = (await client.get("/addresses", params={"filter[used_as_emergency]": "true"})).json()["data"][0]
    response = await client.delete(f"/addresses/{used['id']}")
    assert response.status_code == 422 and error_of(response)["code"] == "10021"


async def test_accept_suggestions(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    pending = next(a for a in sandbox.state["addresses"] if a.get("_suggestion", {}).get("state") == "pending")
    location = sandbox.location_id(pending["id"])
    assert location and UUID_RE.match(location)
    first = await client.post(f"/addresses/{location}/actions/accept_suggestions", json={"id": pending["id"]})
    assert first.status_code == 202
    assert first.json() == {"data": {"id": location, "accepted": True, "record_type": "address_suggestion"}}
    again = await client.post(f"/addresses/{location}/actions/accept_suggestions")
    assert again.status_code == 200 and again.json()["data"]["accepted"] is True
    updated = (await client.get(f"/addresses/{pending['id']}")).json()["data"]
    for key, value in pending["_suggestion"]["fields"].items():
        assert updated[key] == value
    # The address id works too (the Address object does not show the location UUID).
    other = next(a for a in sandbox.state["addresses"] if a.get("_suggestion", {}).get("state") == "pending")
    assert (await client.post(f"/addresses/{other['id']}/actions/accept_suggestions")).status_code == 202
    plain = next(a for a in sandbox.state["addresses"] if "_suggestion" not in a)
    assert (await client.post(f"/addresses/{plain['_location_id']}/actions/accept_suggestions")).status_code == 404
    unknown = await client.post(f"/addresses/{uuid.uuid4()}/actions/accept_suggestions")
    assert unknown.status_code == 404 and error_of(unknown)["meta"]["url"]
    mismatch = await client.post(f"/addresses/{location}/actions/accept_suggestions", json={"id": "123"})
    assert mismatch.status_code == 404


async def test_created_address_with_untidy_fields_gets_a_suggestion(client: httpx.AsyncClient) -> None:
    created = (await client.post("/addresses", json={**VALID_ADDRESS, "street_address": "99 court street"})).json()[
        "data"
    ]
    assert created["street_address"] == "99 court street"
    assert (await client.post(f"/addresses/{created['id']}/actions/accept_suggestions")).status_code == 202
    assert (await client.get(f"/addresses/{created['id']}")).json()["data"]["street_address"] == "99 Court Street"


# ---------------------------------------------------------------------------------------------
# SSO authentication providers

PROVIDER = {
    "name": "Keycloak",
    "short_name": "nine-nine",
    "settings": {
        "idp_entity_id": "https://sso.nine-nine.example/realms/main",
        "idp_sso_target_url": "https://sso.nine-nine.example/realms/main/protocol/saml",
        "idp_cert_fingerprint": "13:38:C7:BB:C9:FF:4A:70:38:3A:E3:D9:5C:CD:DB:2E:50:1E:80:A7",
    },
}


async def test_providers_list_and_sort(client: httpx.AsyncClient) -> None:
    default = (await client.get("/authentication_providers")).json()
    assert default["meta"] == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 4}
    created = [p["created_at"] for p in default["data"]]
    assert created == sorted(created, reverse=True)
    names = [p["name"] for p in (await client.get("/authentication_providers", params={"sort": "name"})).json()["data"]]
    assert names == sorted(names, key=str.casefold)
    active = [
        p["active"] for p in (await client.get("/authentication_providers", params={"sort": "-active"})).json()["data"]
    ]
    assert active == sorted(active, reverse=True) and False in active
    for bad in ("title", "--name", "+name"):
        response = await client.get("/authentication_providers", params={"sort": bad})
        assert response.status_code == 400 and error_of(response)["source"]["parameter"] == "sort"


async def test_provider_lifecycle(client: httpx.AsyncClient) -> None:
    created = await client.post("/authentication_providers", json=PROVIDER)
    assert created.status_code == 200
    data = created.json()["data"]
    assert UUID_RE.match(data["id"]) and data["record_type"] == "authentication_provider"
    assert data["active"] is True and data["activated_at"] and data["organization_id"]
    settings = data["settings"]
    assert settings["idp_cert_fingerprint_algorithm"] == "sha1"
    assert settings["assertion_consumer_service_url"].endswith("/nine-nine")
    assert (await client.get(f"/authentication_providers/{data['id']}")).json() == {"data": data}
    partial = await client.patch(
        f"/authentication_providers/{data['id']}", json={"settings": {"idp_cert_fingerprint_algorithm": "sha256"}}
    )
    assert partial.status_code == 422  # the spec's update uses the same settings schema: all or nothing
    assert pointers(partial) == {
        "/settings/idp_entity_id",
        "/settings/idp_sso_target_url",
        "/settings/idp_cert_fingerprint",
    }
    renamed = (
        await client.patch(
            f"/authentication_providers/{data['id']}",
            json={"name": "Keycloak (prod)", "short_name": "nine-nine-prod", "active": False},
        )
    ).json()["data"]
    assert renamed["name"] == "Keycloak (prod)" and renamed["active"] is False
    assert renamed["settings"]["idp_entity_id"] == PROVIDER["settings"]["idp_entity_id"]  # kept
    assert renamed["settings"]["service_provider_login_url"].endswith("/nine-nine-prod")
    replaced = await client.patch(
        f"/authentication_providers/{data['id']}",
        json={
            "settings": {
                **PROVIDER["settings"],
                "idp_entity_id": "urn:example:idp",
                "idp_cert_fingerprint_algorithm": "sha256",
            }
        },
    )
    assert replaced.status_code == 200
    new = replaced.json()["data"]
    assert new["settings"]["idp_cert_fingerprint_algorithm"] == "sha256"
    assert new["settings"]["idp_entity_id"] == "urn:example:idp" and new["name"] == "Keycloak (prod)"
    deleted = await client.delete(f"/authentication_providers/{data['id']}")
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == data["id"]
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"/authentication_providers/{data['id']}", json={} if method == "PATCH" else None
        )
        assert response.status_code == 404


@pytest.mark.parametrize(
    "change,pointer",
    [
        ({"name": None}, "/name"),
        ({"short_name": None}, "/short_name"),
        ({"settings": None}, "/settings"),
        ({"settings": "x"}, "/settings"),
        ({"short_name": "has space"}, "/short_name"),
        ({"short_name": "northwind"}, "/short_name"),  # seeded, taken
        ({"short_name": "NorthWind"}, "/short_name"),  # case-insensitive uniqueness
        ({"active": "yes"}, "/active"),
        ({"settings_url": "ftp://x"}, "/settings_url"),
        ({"settings": {**PROVIDER["settings"], "idp_entity_id": "not a uri"}}, "/settings/idp_entity_id"),
        ({"settings": {**PROVIDER["settings"], "idp_sso_target_url": "urn:sso"}}, "/settings/idp_sso_target_url"),
        ({"settings": {**PROVIDER["settings"], "idp_cert_fingerprint": "zz:11"}}, "/settings/idp_cert_fingerprint"),
        (
            {"settings": {**PROVIDER["settings"], "idp_cert_fingerprint_algorithm": "md5"}},
            "/settings/idp_cert_fingerprint_algorithm",
        ),
        (
            {"settings": {"idp_sso_target_url": "https://a.example/sso", "idp_cert_fingerprint": "AA"}},
            "/settings/idp_entity_id",
        ),
    ],
)
async def test_provider_validation(client: httpx.AsyncClient, change: dict, pointer: str) -> None:
    payload = {**PROVIDER, **change}
    response = await client.post("/authentication_providers", json={k: v for k, v in payload.items() if v is not None})
    assert response.status_code == 422
    assert pointer in pointers(response)


async def test_provider_urn_entity_id_and_patch_validation(client: httpx.AsyncClient) -> None:
    payload = {**PROVIDER, "settings": {**PROVIDER["settings"], "idp_entity_id": "urn:example:idp"}}
    created = await client.post("/authentication_providers", json=payload)
    assert created.status_code == 200
    pid = created.json()["data"]["id"]
    bad = await client.patch(f"/authentication_providers/{pid}", json={"short_name": "blueharbor"})
    assert bad.status_code == 422 and error_of(bad)["code"] == "10012"
    same = await client.patch(f"/authentication_providers/{pid}", json={"short_name": "NINE-NINE"})
    assert same.status_code == 200  # its own short name, in another case, is not a duplicate


# ---------------------------------------------------------------------------------------------
# Billing groups


async def test_billing_groups_lifecycle(client: httpx.AsyncClient) -> None:
    listing = (await client.get("/billing_groups", params={"page[size]": 5, "page[number]": 3})).json()
    assert listing["meta"] == {"page_number": 3, "page_size": 5, "total_pages": 3, "total_results": 12}
    assert len(listing["data"]) == 2
    created = await client.post("/billing_groups", json={"name": "Night shift"})
    assert created.status_code == 200
    group = created.json()["data"]
    assert UUID_RE.match(group["id"]) and group["deleted_at"] is None and group["record_type"] == "billing_group"
    renamed = (await client.patch(f"/billing_groups/{group['id']}", json={"name": "Night shift (EMEA)"})).json()["data"]
    assert renamed["name"] == "Night shift (EMEA)"
    deleted = await client.delete(f"/billing_groups/{group['id']}")
    assert deleted.status_code == 200 and deleted.json()["data"]["deleted_at"]
    assert (await client.get(f"/billing_groups/{group['id']}")).status_code == 404
    unnamed = await client.post("/billing_groups", json={})
    assert unnamed.status_code == 200 and unnamed.json()["data"]["name"] == ""


async def test_billing_group_errors(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    in_use = [g for g in sandbox.state["billing_groups"] if g["_in_use"]]
    assert len(in_use) == 2
    conflict = await client.delete(f"/billing_groups/{in_use[0]['id']}")
    assert conflict.status_code == 409 and error_of(conflict)["code"] == "10021"
    assert (await client.get(f"/billing_groups/{in_use[0]['id']}")).status_code == 200
    for method in ("GET", "PATCH", "DELETE"):
        bad = await client.request(method, "/billing_groups/not-a-uuid", json={} if method == "PATCH" else None)
        assert bad.status_code == 422 and error_of(bad)["source"]["parameter"] == "id"
        missing = await client.request(
            method, f"/billing_groups/{uuid.uuid4()}", json={} if method == "PATCH" else None
        )
        assert missing.status_code == 404 and error_of(missing)["code"] == "10005"
    wrong = await client.post("/billing_groups", json={"name": 42})
    assert wrong.status_code == 422 and pointers(wrong) == {"/name"}


# ---------------------------------------------------------------------------------------------
# Integration secrets


async def test_integration_secrets(client: httpx.AsyncClient) -> None:
    listing = (await client.get("/integration_secrets")).json()
    assert listing["meta"]["total_results"] == 8
    basic = await total(client, "/integration_secrets", **{"filter[type]": "basic"})
    bearer = await total(client, "/integration_secrets", **{"filter[type]": "bearer"})
    assert basic + bearer == 8 and basic and bearer
    bad = await client.get("/integration_secrets", params={"filter[type]": "oauth"})
    assert bad.status_code == 400 and error_of(bad)["source"]["parameter"] == "filter[type]"
    created = await client.post(
        "/integration_secrets", json={"identifier": "nine_nine_hook", "type": "bearer", "token": "tok-123"}
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert (
        set(data) == {"id", "identifier", "record_type", "created_at", "updated_at"}
        and data["record_type"] == "integration_secret"
    )
    basic_created = await client.post(
        "/integration_secrets",
        json={"identifier": "nine_nine_basic", "type": "basic", "username": "u", "password": "p", "token": "ignored"},
    )
    assert basic_created.status_code == 201
    deleted = await client.delete(f"/integration_secrets/{data['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    again = await client.delete(f"/integration_secrets/{data['id']}")
    assert again.status_code == 404 and error_of(again)["detail"]


@pytest.mark.parametrize(
    "payload,expected",
    [
        ({}, {"/identifier", "/type"}),
        ({"identifier": "x1", "type": "bearer"}, {"/token"}),
        ({"identifier": "x1", "type": "basic", "username": "u"}, {"/password"}),
        ({"identifier": "x1", "type": "basic"}, {"/username", "/password"}),
        ({"identifier": "x1", "type": "oauth"}, {"/type"}),
        ({"identifier": "bad id!", "type": "bearer", "token": "t"}, {"/identifier"}),
        ({"identifier": "zendesk_webhook", "type": "bearer", "token": "t"}, {"/identifier"}),  # seeded: duplicate
    ],
)
async def test_integration_secret_validation(client: httpx.AsyncClient, payload: dict, expected: set[str]) -> None:
    response = await client.post("/integration_secrets", json=payload)
    assert response.status_code == 422 and pointers(response) == expected


async def test_secret_values_are_never_returned(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    await client.post(
        "/integration_secrets", json={"identifier": "leak_probe", "type": "bearer", "token": "SECRET-VALUE-XYZ"}
    )
    stored = [s["_secret"] for s in sandbox.state["integration_secrets"]]
    assert all(
        "placeholder" in (s.get("token") or s.get("password")) for s in stored if s.get("token") != "SECRET-VALUE-XYZ"
    )
    bodies = []
    for path in (
        "/integration_secrets",
        "/access_ip_address",
        "/addresses",
        "/authentication_providers",
        "/billing_groups",
        "/telephony_credentials",
    ):
        bodies.append((await client.get(path, params={"page[size]": 250})).text)
    text = "\n".join(bodies)
    for secret in stored:
        for key in ("token", "password"):
            if secret.get(key):
                assert secret[key] not in text
    assert '"sip_password"' not in text and '"_secret"' not in text


# ---------------------------------------------------------------------------------------------
# Telephony credentials and tokens


async def test_credentials_list_and_filters(client: httpx.AsyncClient) -> None:
    body = (await client.get("/telephony_credentials")).json()
    assert body["meta"]["total_results"] == 6
    keys = {
        "id",
        "record_type",
        "name",
        "sip_username",
        "connection_id",
        "resource_id",
        "tag",
        "expired",
        "expires_at",
        "created_at",
        "updated_at",
        "user_id",
    }
    for item in body["data"]:
        assert set(item) == keys and item["record_type"] == "credential"
        assert item["resource_id"] == f"connection:{item['connection_id']}"
    assert sum(item["expired"] for item in body["data"]) == 1
    assert await total(client, "/telephony_credentials", **{"filter[status]": "expired"}) == 1
    assert await total(client, "/telephony_credentials", **{"filter[status]": "active"}) == 5
    assert await total(client, "/telephony_credentials", **{"filter[tag]": "mobile"}) == 2
    bad = await client.get("/telephony_credentials", params={"filter[status]": "gone"})
    assert bad.status_code == 400


async def test_token(client: httpx.AsyncClient, clock: Clock) -> None:
    creds = (await client.get("/telephony_credentials", params={"filter[status]": "active"})).json()["data"]
    response = await client.post(f"/telephony_credentials/{creds[0]['id']}/token", headers={"Accept": "text/plain"})
    assert response.status_code == 201 and response.headers["content-type"].startswith("text/plain")
    header = json.loads(__import__("base64").urlsafe_b64decode(response.text.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = decode_token(response.text)
    assert claims["sub"] == claims["credential_id"] == creds[0]["id"]
    assert claims["iat"] == int(clock.now) and claims["exp"] > claims["iat"]
    with pytest.raises(ValueError):
        decode_token(response.text[:-2] + "xx")
    expired = (await client.get("/telephony_credentials", params={"filter[status]": "expired"})).json()["data"][0]
    refused = await client.post(f"/telephony_credentials/{expired['id']}/token")
    assert refused.status_code == 422
    assert (await client.post(f"/telephony_credentials/{uuid.uuid4()}/token")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Idempotency


async def test_idempotency_replays_and_refuses_changes(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "5f0c3f9e-2c1d-4a8b-9b1e-000000000001"}
    first = await client.post("/access_ip_address", json={"ip_address": "198.51.100.251"}, headers=headers)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    replay = await client.post("/access_ip_address", json={"ip_address": "198.51.100.251"}, headers=headers)
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json() and replay.headers["x-request-id"] != first.headers["x-request-id"]
    assert await total(client, "/access_ip_address") == 52
    changed = await client.post("/access_ip_address", json={"ip_address": "198.51.100.252"}, headers=headers)
    assert changed.status_code == 422 and error_of(changed)["source"]["parameter"] == "Idempotency-Key"
    other_path = await client.post("/billing_groups", json={"name": "k"}, headers=headers)
    assert other_path.status_code == 200  # the record is per method and path


@pytest.mark.parametrize("key", ["has space", "x" * 256, "semi;colon", ""])
async def test_idempotency_key_format(client: httpx.AsyncClient, key: str) -> None:
    response = await client.post("/billing_groups", json={}, headers={"Idempotency-Key": key})
    assert response.status_code == 400 and error_of(response)["code"] == "10015"


async def test_idempotency_stores_only_successes(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "retry:after-fix"}
    for _ in range(2):
        failed = await client.post("/access_ip_address", json={"ip_address": "nope"}, headers=headers)
        assert failed.status_code == 422 and "idempotent-replayed" not in failed.headers


async def test_idempotent_token_replays_the_same_jwt(client: httpx.AsyncClient) -> None:
    cred = (await client.get("/telephony_credentials", params={"filter[status]": "active"})).json()["data"][0]
    headers = {"Idempotency-Key": "token_1"}
    one = await client.post(f"/telephony_credentials/{cred['id']}/token", headers=headers)
    two = await client.post(f"/telephony_credentials/{cred['id']}/token", headers=headers)
    assert one.status_code == two.status_code == 201 and one.text == two.text
    assert two.headers["idempotent-replayed"] == "true" and two.headers["content-type"].startswith("text/plain")
    three = await client.post(f"/telephony_credentials/{cred['id']}/token")
    assert three.text != one.text


# ---------------------------------------------------------------------------------------------
# Rate limit


async def test_rate_limit(tmp_path: Path, clock: Clock) -> None:
    sandbox = TelnyxSandbox(StateStore(tmp_path / "t.json"), rate_limit=3, rate_window=1.0, clock=clock)
    async with make_client(sandbox) as c:
        remaining = [(await c.get("/billing_groups")).headers["x-ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        limited = await c.get("/billing_groups")
        assert limited.status_code == 429
        error = error_of(limited)
        assert (error["code"], error["title"]) == ("10011", "Too many requests")
        assert limited.headers["retry-after"] == "1" and limited.headers["x-ratelimit-remaining"] == "0"
        assert (await c.post("/billing_groups", json={"name": "x"})).status_code == 429
        clock.advance(1.0)
        assert (await c.get("/billing_groups")).status_code == 200
    async with make_client(sandbox, {"Authorization": "Bearer wrong"}) as c:
        assert (await c.get("/billing_groups")).status_code == 401  # auth first: no 429 for strangers


async def test_rate_limit_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEDECK_SANDBOX_TELNYX_RATE_LIMIT", "7")
    sandbox = TelnyxSandbox(StateStore(tmp_path / "t.json"))
    async with make_client(sandbox) as c:
        assert (await c.get("/billing_groups")).headers["x-ratelimit-limit"] == "7"
    monkeypatch.setenv("TELEDECK_SANDBOX_TELNYX_RATE_LIMIT", "0")
    unlimited = TelnyxSandbox(StateStore(tmp_path / "u.json"))
    async with make_client(unlimited) as c:
        assert "x-ratelimit-limit" not in (await c.get("/billing_groups")).headers


# ---------------------------------------------------------------------------------------------
# State: persistence, corruption, seeding


async def test_state_persists_across_instances(state_path: Path, clock: Clock) -> None:
    first = TelnyxSandbox(StateStore(state_path), clock=clock)
    async with make_client(first) as c:
        ip = (await c.post("/access_ip_address", json={"ip_address": "203.0.113.254"})).json()
        group = (await c.get("/billing_groups")).json()["data"][0]
        assert (await c.delete(f"/billing_groups/{group['id']}")).status_code == 200
    assert state_path.is_file() and not list(state_path.parent.glob(".*.tmp"))
    second = TelnyxSandbox(StateStore(state_path), clock=clock)
    async with make_client(second) as c:
        assert (await c.get(f"/access_ip_address/{ip['id']}")).json()["ip_address"] == "203.0.113.254"
        assert (await c.get(f"/billing_groups/{group['id']}")).status_code == 404
        assert await total(c, "/billing_groups") == 11


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00"])
async def test_corrupt_state_file_is_moved_aside_and_reseeded(state_path: Path, content: bytes) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_bytes(content)
    store = StateStore(state_path)
    assert store.recovered_from is not None and store.recovered_from.read_bytes() == content
    assert ".corrupt-" in store.recovered_from.name and store.data == {}
    sandbox = TelnyxSandbox(store)
    async with make_client(sandbox) as c:
        assert await total(c, "/access_ip_address") == 51
    assert json.loads(state_path.read_text())["telnyx"]["schema"] == 2


def test_state_store_basics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = StateStore(None)
    memory.set("k", {"v": 1})
    assert memory.get("k") == {"v": 1} and memory.snapshot() == {"k": {"v": 1}}
    path = tmp_path / "deep" / "s.json"
    store = StateStore(path)
    with store.transaction() as data:
        data["a"] = [1, 2]
    store.delete("missing")
    assert json.loads(path.read_text()) == {"a": [1, 2]} and StateStore(path).data == {"a": [1, 2]}
    monkeypatch.setenv("TELEDECK_DATA_DIR", str(tmp_path / "d"))
    assert default_state_dir() == tmp_path / "d" / "sandbox"
    monkeypatch.delenv("TELEDECK_DATA_DIR")
    assert default_state_dir().name == "sandbox" and "teledeck" in str(default_state_dir())


def test_seed_is_deterministic_and_has_the_promised_shape() -> None:
    a, b = build_seed(), build_seed()
    assert a == b
    assert (
        len(a["access_ips"]) == 51
        and len(a["access_ip_ranges"]) == 11
        and len(a["addresses"]) == 30
        and len(a["auth_providers"]) == 4
    )
    assert len(a["billing_groups"]) == 12 and len(a["integration_secrets"]) == 8 and len(a["credentials"]) == 6
    assert len({r["ip_address"] for r in a["access_ips"]}) == len(a["access_ips"])
    assert sum(g["_in_use"] for g in a["billing_groups"]) == 2
    assert {s["_secret"]["type"] for s in a["integration_secrets"]} == {"bearer", "basic"}
    assert sum(1 for r in a["addresses"] if r.get("_suggestion", {}).get("state") == "pending") >= 3
    stamps = [
        r["created_at"]
        for key in ("access_ips", "addresses", "auth_providers", "billing_groups", "integration_secrets", "credentials")
        for r in a[key]
    ]
    assert all(s.startswith("2026-") for s in stamps)


async def test_new_ids_repeat_run_to_run_and_stay_unique_across_restarts(tmp_path: Path, clock: Clock) -> None:
    async def create(path: Path) -> tuple[str, str, str]:
        sandbox = TelnyxSandbox(StateStore(path), clock=clock)
        async with make_client(sandbox) as c:
            group = await c.post("/billing_groups", json={"name": "x"})
            cred = next(x["id"] for x in sandbox.state["credentials"] if not x["expired"])
            token = await c.post(f"/telephony_credentials/{cred}/token")
            return group.json()["data"]["id"], group.headers["x-request-id"], token.text

    first = await create(tmp_path / "a.json")
    assert first == await create(tmp_path / "b.json")  # same calls, same clock: same answers
    restarted = await create(tmp_path / "a.json")  # the id counter was saved with the state
    assert restarted[0] != first[0] and restarted[2] != first[2]


async def test_reset_reseeds(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    for item in (await client.get("/billing_groups")).json()["data"][2:5]:
        await client.delete(f"/billing_groups/{item['id']}")
    sandbox.faults.respond("GET", "/addresses", 500, times=None)
    sandbox.reset()
    assert await total(client, "/billing_groups") == 12
    assert (await client.get("/addresses")).status_code == 200


async def test_empty_sandbox(tmp_path: Path) -> None:
    sandbox = TelnyxSandbox(StateStore(tmp_path / "e.json"), seed_data=False)
    async with make_client(sandbox) as c:
        body = (await c.get("/access_ip_address")).json()
        assert body == {"data": [], "meta": {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0}}


def test_cli_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "telnyx.json"
    TelnyxSandbox(StateStore(state)).state["billing_groups"].clear()
    assert sandbox_cli(["reset", "--state-dir", str(tmp_path)]) == 0
    assert "reset" in capsys.readouterr().out
    assert len(json.loads(state.read_text())["telnyx"]["billing_groups"]) == 12


def test_cli_refuses_public_host_before_touching_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_cli(["serve", "--host", "0.0.0.0", "--port", "0", "--state-dir", str(tmp_path)]) == 2
    assert "--allow-public" in capsys.readouterr().err
    assert not (tmp_path / "telnyx.json").exists()


# ---------------------------------------------------------------------------------------------
# Faults


async def test_fault_status_default_body_then_recovers(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    fault = sandbox.faults.respond("GET", "/access_ip_address", 500, times=2)
    assert fault.times == 2
    for _ in range(2):
        response = await client.get("/access_ip_address")
        assert response.status_code == 500 and error_of(response)["code"] == "10007"
    assert (await client.get("/access_ip_address")).status_code == 200


async def test_fault_bodies_empty_raw_and_malformed(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    sandbox.faults.respond("POST", "/telephony_credentials", 500, b"")
    empty_500 = await client.post(f"/telephony_credentials/{uuid.uuid4()}/token")
    assert empty_500.status_code == 500 and empty_500.content == b"" and empty_500.headers["content-length"] == "0"
    sandbox.faults.respond(
        "GET", "/billing_groups", 502, "<html><body>Bad gateway</body></html>", content_type="text/html"
    )
    html = await client.get("/billing_groups")
    assert html.status_code == 502 and html.headers["content-type"] == "text/html" and html.text.startswith("<html>")
    sandbox.faults.respond("GET", "/billing_groups", 200, "{truncated", content_type="application/json")
    truncated = await client.get("/billing_groups")
    with pytest.raises(ValueError):
        truncated.json()
    sandbox.faults.malformed("GET", "/addresses")
    malformed = await client.get("/addresses")
    assert malformed.status_code == 200 and isinstance(malformed.json()["data"], str)
    sandbox.faults.respond("GET", "/addresses", 429, headers={"Retry-After": "3"})
    limited = await client.get("/addresses")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3" and error_of(limited)["code"] == "10011"
    assert (await client.get("/addresses")).status_code == 200


async def test_fault_matching_by_method_and_path(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    sandbox.faults.respond("POST", "/v2/billing_groups", 503)
    assert (await client.get("/billing_groups")).status_code == 200
    assert (await client.get("/billing_groups_other")).status_code == 404  # prefix matches whole segments
    assert (await client.post("/billing_groups", json={})).status_code == 503
    sandbox.faults.respond("*", "/addresses", 500)
    assert (await client.get(f"/addresses/{uuid.uuid4()}")).status_code == 500
    assert len(sandbox.faults) == 0


async def test_fault_delay_timeouts(sandbox: TelnyxSandbox) -> None:
    async with make_client(sandbox, timeout=httpx.Timeout(5.0, read=0.05)) as c:
        before = await total(c, "/billing_groups")
        sandbox.faults.delay("POST", "/billing_groups", 0.5, apply=False)
        with pytest.raises(httpx.ReadTimeout):
            await c.post("/billing_groups", json={"name": "not applied"})
        assert await total(c, "/billing_groups") == before
        sandbox.faults.delay("POST", "/billing_groups", 0.5, apply=True)
        with pytest.raises(httpx.ReadTimeout):
            await c.post("/billing_groups", json={"name": "applied"})
        assert await total(c, "/billing_groups") == before + 1
        sandbox.faults.delay("GET", "/billing_groups", 0.02)
        assert (await c.get("/billing_groups")).status_code == 200  # shorter than the timeout: just slow


async def test_fault_connect_error(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    sandbox.faults.connect_error("POST", "/access_ip_address", times=2)
    for _ in range(2):
        with pytest.raises(httpx.ConnectError):
            await client.post("/access_ip_address", json={"ip_address": "192.0.2.250"})
    assert await total(client, "/access_ip_address") == 51
    assert (await client.post("/access_ip_address", json={"ip_address": "192.0.2.250"})).status_code == 200


async def test_fault_repeat_page(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    sandbox.faults.repeat_page("/access_ip_address")
    pages = []
    for number in (1, 2, 3):
        body = (await client.get("/access_ip_address", params={"page[number]": number})).json()
        pages.append(body)
        assert body["meta"]["page_number"] == 1 and body["meta"]["total_pages"] == 3
    assert pages[0] == pages[1] == pages[2]
    sandbox.faults.clear()
    assert (await client.get("/access_ip_address", params={"page[number]": 2})).json()["meta"]["page_number"] == 2


async def test_faults_over_http_control_endpoints(client: httpx.AsyncClient, sandbox: TelnyxSandbox) -> None:
    added = await client.post(
        "/_sandbox/faults",
        json=[
            {"kind": "status", "method": "GET", "path": "/billing_groups", "status": 503, "times": 1},
            {"kind": "malformed", "method": "GET", "path": "/addresses"},
            {"kind": "repeat_page", "path": "/access_ip_address", "page_number": 2},
            {"kind": "status", "method": "GET", "path": "/integration_secrets", "status": 500, "body": ""},
            {
                "kind": "status",
                "method": "GET",
                "path": "/telephony_credentials",
                "status": 500,
                "json": {"oops": True},
            },
        ],
    )
    assert added.status_code == 201 and len(added.json()["data"]) == 5
    assert len((await client.get("/_sandbox/faults")).json()["data"]) == 5
    assert (await client.get("/billing_groups")).status_code == 503
    assert (await client.get("/addresses")).json()["data"] == "not what you expected"
    assert (await client.get("/access_ip_address")).json()["meta"]["page_number"] == 2
    assert (await client.get("/integration_secrets")).content == b""
    assert (await client.get("/telephony_credentials")).json() == {"oops": True}
    assert (await client.delete("/_sandbox/faults")).status_code == 204
    assert (await client.get("/access_ip_address")).json()["meta"]["page_number"] == 1
    bad = await client.post("/_sandbox/faults", json={"kind": "explode"})
    assert bad.status_code == 422
    async with make_client(sandbox, {}) as anonymous:
        assert (await anonymous.post("/_sandbox/reset")).status_code == 401


async def test_reset_over_http(client: httpx.AsyncClient) -> None:
    await client.post("/access_ip_address", json={"ip_address": "192.0.2.251"})
    response = await client.post("/_sandbox/reset")
    assert response.status_code == 200 and response.json()["data"]["reset"] is True
    assert await total(client, "/access_ip_address") == 51


def test_fault_kwargs_are_checked(sandbox: TelnyxSandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.faults.respond("GET", "/x", 500, times=0)
    with pytest.raises(ValueError):
        sandbox.faults.add({"kind": "status", "colour": "red"})
