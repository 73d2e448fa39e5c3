"""The Telnyx emulator's resources and their operations: the route table and one method per
operation, over the state document (`TelnyxRoutes`). Authentication, rate limits, idempotency and
the error envelope are the gateway's (providers.sandbox.telnyx.sandbox)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from providers.formats import ISO_3166_ALPHA2
from providers.sandbox.base import Emulator
from providers.sandbox.http import BodyError, SandboxRequest, SandboxResponse
from providers.sandbox.telnyx.errors import (
    E_BAD_REQUEST,
    E_DUPLICATE,
    E_E164,
    E_IN_USE,
    E_INVALID_ID,
    E_INVALID_JSON,
    E_INVALID_URL,
    E_MEDIA_TYPE,
    E_MISSING,
    E_NOT_FOUND,
    ApiError,
    problem,
)
from providers.sandbox.telnyx.records import derived_uuid, iso_time, parse_datetime, public_view
from providers.sandbox.telnyx.seed import FINGERPRINT_BYTES, provider_record, set_provider_settings
from providers.sandbox.telnyx.tokens import TOKEN_LIFETIME, make_token
from providers.sandbox.telnyx.validation import (
    E164,
    FINGERPRINT,
    IDENTIFIER,
    SHORT_NAME,
    bool_param,
    choice_param,
    cidr_problem,
    is_http_url,
    is_uri,
    is_uuid,
    normalise_cidr,
    normalise_ip,
    page_params,
    require_bool,
    require_str,
    validate_address_fields,
)

ACCESS_IP_SYNC_SECONDS = 5.0  # a new access IP is "pending" this long, then "added"

View = Callable[..., SandboxResponse]
Route = tuple[str, re.Pattern[str], View]


def paginate(items: list[dict[str, Any]], req: SandboxRequest, status: int) -> dict[str, Any]:
    page_number, page_size = page_params(req, status)
    total = len(items)
    start = (page_number - 1) * page_size
    return {
        "data": [public_view(item) for item in items[start : start + page_size]],
        "meta": {
            "page_number": page_number,
            "page_size": page_size,
            "total_pages": math.ceil(total / page_size),
            "total_results": total,
        },
    }


def newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda r: (r.get("created_at", ""), r["id"]), reverse=True)


def sorted_by(items: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")

    def sort_key(record: dict[str, Any]) -> tuple[Any, ...]:
        value = record.get(key)
        if isinstance(value, str):
            value = value.casefold()
        return (value is None, value if value is not None else "", record["id"])

    return sorted(items, key=sort_key, reverse=descending)


def created_at_filtered(items: list[dict[str, Any]], req: SandboxRequest) -> list[dict[str, Any]]:
    """`filter[created_at]` (exact) and its [gt], [gte], [lt], [lte] bounds; anything else is 422."""
    for name, value in req.query_dict.items():
        if not name.startswith("filter[created_at]"):
            continue
        op = name[len("filter[created_at]") :]
        compare = {
            "": lambda a, b: a == b,
            "[gt]": lambda a, b: a > b,
            "[gte]": lambda a, b: a >= b,
            "[lt]": lambda a, b: a < b,
            "[lte]": lambda a, b: a <= b,
        }.get(op)
        if compare is None:
            detail = "filter[created_at] takes a date-time, or [gt], [gte], [lt] or [lte]."
            raise ApiError(422, problem(E_BAD_REQUEST, detail, parameter=name))
        try:
            bound = parse_datetime(value)
        except ValueError:
            detail = f"{name} must be an ISO 8601 date-time, got {value!r}."
            raise ApiError(422, problem(E_BAD_REQUEST, detail, parameter=name)) from None
        items = [r for r in items if compare(parse_datetime(r["created_at"]), bound)]
    return items


def _read_address(raw: str) -> tuple[str | None, str]:
    """One address as Telnyx stores it, or why `raw` is not one (a block belongs to the ranges)."""
    ip = normalise_ip(raw)
    if ip is not None:
        return ip, ""
    if normalise_cidr(raw) is not None:
        return None, (
            f"{raw.strip()!r} is a CIDR block; access IP addresses take one address. "
            "Add blocks with POST /access_ip_ranges (cidr_block)."
        )
    return None, f"{raw!r} is not an IPv4 or IPv6 address."


def _read_block(raw: str) -> tuple[str | None, str]:
    """A CIDR block as Telnyx stores it, or why `raw` is not one."""
    block = normalise_cidr(raw)
    return (block, "") if block is not None else (None, cidr_problem(raw))


class TelnyxRoutes(Emulator[ApiError]):
    """The resources (access IPs and IP ranges, addresses, SSO providers, billing groups, integration secrets,
    telephony credentials) and what each operation does to them."""

    def _build_routes(self) -> list[Route]:
        """(method, path pattern below /v2, view); a view takes the request and the path's groups."""
        table: list[tuple[str, str, View]] = [
            ("GET", "/access_ip_address", self._list_access_ips),
            ("POST", "/access_ip_address", self._create_access_ip),
            ("GET", "/access_ip_address/(?P<id>[^/]+)", self._get_access_ip),
            ("DELETE", "/access_ip_address/(?P<id>[^/]+)", self._delete_access_ip),
            ("GET", "/access_ip_ranges", self._list_ip_ranges),
            ("POST", "/access_ip_ranges", self._create_ip_range),
            ("DELETE", "/access_ip_ranges/(?P<id>[^/]+)", self._delete_ip_range),
            ("GET", "/addresses", self._list_addresses),
            ("POST", "/addresses", self._create_address),
            ("POST", "/addresses/actions/validate", self._validate_address),
            ("GET", "/addresses/(?P<id>[^/]+)", self._get_address),
            ("DELETE", "/addresses/(?P<id>[^/]+)", self._delete_address),
            ("POST", "/addresses/(?P<id>[^/]+)/actions/accept_suggestions", self._accept_suggestions),
            ("GET", "/authentication_providers", self._list_providers),
            ("POST", "/authentication_providers", self._create_provider),
            ("GET", "/authentication_providers/(?P<id>[^/]+)", self._get_provider),
            ("PATCH", "/authentication_providers/(?P<id>[^/]+)", self._update_provider),
            ("DELETE", "/authentication_providers/(?P<id>[^/]+)", self._delete_provider),
            ("GET", "/billing_groups", self._list_billing_groups),
            ("POST", "/billing_groups", self._create_billing_group),
            ("GET", "/billing_groups/(?P<id>[^/]+)", self._get_billing_group),
            ("PATCH", "/billing_groups/(?P<id>[^/]+)", self._update_billing_group),
            ("DELETE", "/billing_groups/(?P<id>[^/]+)", self._delete_billing_group),
            ("GET", "/integration_secrets", self._list_secrets),
            ("POST", "/integration_secrets", self._create_secret),
            ("DELETE", "/integration_secrets/(?P<id>[^/]+)", self._delete_secret),
            ("GET", "/telephony_credentials", self._list_credentials),
            ("POST", "/telephony_credentials/(?P<id>[^/]+)/token", self._create_token),
        ]
        return [(method, re.compile(pattern), view) for method, pattern, view in table]

    # -- state helpers -----------------------------------------------------------------------------

    def _save(self) -> None:
        self.store.save()

    def _now(self) -> str:
        return iso_time(self.clock())

    def _new_id(self) -> str:
        """A new UUID, derived from a counter kept in the state: unique across restarts, and the
        same on every run that makes the same calls (so fixed-clock tests and snapshots repeat)."""
        seq = int(self.state.get("id_seq", 0)) + 1
        self.state["id_seq"] = seq
        return derived_uuid(f"id:{seq}")

    def _new_record(self, **fields: Any) -> dict[str, Any]:
        """A record as Telnyx stamps a new one: a fresh id first, created_at = updated_at = now."""
        now = self._now()
        return {"id": self._new_id(), **fields, "created_at": now, "updated_at": now}

    def _created(self, collection: str, record: dict[str, Any], status: int) -> SandboxResponse:
        """Store a new record and answer it in the `{"data": ...}` envelope."""
        self.state[collection].append(record)
        self._save()
        return SandboxResponse.json_response(status, {"data": public_view(record)})

    def location_id(self, address_id: str) -> str | None:
        """The location UUID behind an address (what accept_suggestions takes in its path)."""
        with self._lock:
            for record in self.state["addresses"]:
                if record["id"] == address_id:
                    location: str = record["_location_id"]
                    return location
        return None

    # -- shared pieces ---------------------------------------------------------------------------

    @staticmethod
    def _body(req: SandboxRequest) -> dict[str, Any]:
        """The JSON object body; an empty body is {}. Malformed JSON -> 400 (code 10023)."""
        if not req.body.strip():
            return {}
        media = req.content_type
        if media and media != "application/json" and not media.endswith("+json"):
            raise ApiError(
                415, problem(E_MEDIA_TYPE, f"Content-Type {media!r} is not supported; send application/json.")
            )
        try:
            body = req.json()
        except BodyError as exc:
            raise ApiError(400, problem(E_INVALID_JSON, f"The supplied JSON was invalid: {exc}.")) from None
        if not isinstance(body, dict):
            raise ApiError(400, problem(E_BAD_REQUEST, "The request body must be a JSON object."))
        return body

    @staticmethod
    def _find(items: list[dict[str, Any]], id: str, what: str) -> dict[str, Any]:
        for record in items:
            if record["id"] == id:
                return record
        raise ApiError(404, problem(E_NOT_FOUND, f"No {what} with id {id!r} was found.", pointer="/id"))

    @staticmethod
    def _check(errors: list[dict[str, Any]]) -> None:
        if errors:
            raise ApiError(422, errors)

    def _sync_access_ips(self, collection: str = "access_ips") -> None:
        """Pending access IPs (and ranges) created through the API turn "added"
        ACCESS_IP_SYNC_SECONDS later."""
        now = self.clock()
        changed = False
        for record in self.state[collection]:
            due = record.get("_sync_at")
            if due is not None and now >= due:
                record["status"] = "added"
                record["updated_at"] = iso_time(due)
                del record["_sync_at"]
                changed = True
        if changed:
            self._save()

    def _list_access_ips(self, req: SandboxRequest) -> SandboxResponse:
        self._sync_access_ips()
        query = req.query_dict
        items = self.state["access_ips"]
        source = query.get("filter[ip_source]")
        if source is not None:
            items = [r for r in items if r["source"] == source]
        ip_filter = query.get("filter[ip_address]")
        if ip_filter is not None:
            wanted = normalise_ip(ip_filter) or ip_filter.strip()
            items = [r for r in items if r["ip_address"] == wanted]
        items = created_at_filtered(items, req)
        return SandboxResponse.json_response(200, paginate(newest_first(items), req, 422))

    def _create_access_ip(self, req: SandboxRequest) -> SandboxResponse:
        return self._create_on_allowlist(req, "access_ips", "ip_address", _read_address, "IP address", source="api")

    def _create_on_allowlist(
        self,
        req: SandboxRequest,
        collection: str,
        field: str,
        read: Callable[[str], tuple[str | None, str]],
        what: str,
        **extra: Any,
    ) -> SandboxResponse:
        """Create an access IP or an access IP range: `read` normalises the value or says why it
        cannot; one already on the list is a duplicate. Both answer the bare object with 200, as
        the spec says, and start `pending` until the (simulated) sync."""
        body = self._body(req)
        errors: list[dict[str, Any]] = []
        raw = require_str(body, field, errors, required=True)
        description = require_str(body, "description", errors, required=False)
        value = None
        if raw is not None:
            value, why = read(raw)
            if value is None:
                errors.append(problem(E_BAD_REQUEST, why, pointer=f"/{field}"))
            elif any(r[field] == value for r in self.state[collection]):
                detail = f"The {what} {value} is already on the access list."
                errors.append(problem(E_DUPLICATE, detail, pointer=f"/{field}"))
        self._check(errors)
        fields = {field: value, **extra, "status": "pending", "description": description or ""}
        record = self._new_record(
            **fields, user_id=self.state["user_id"], _sync_at=self.clock() + ACCESS_IP_SYNC_SECONDS
        )
        self.state[collection].append(record)
        self._save()
        return SandboxResponse.json_response(200, public_view(record))

    def _get_access_ip(self, req: SandboxRequest, id: str) -> SandboxResponse:
        self._sync_access_ips()
        return SandboxResponse.json_response(
            200, public_view(self._find(self.state["access_ips"], id, "access IP address"))
        )

    def _delete_access_ip(self, req: SandboxRequest, id: str) -> SandboxResponse:
        self._sync_access_ips()
        record = self._find(self.state["access_ips"], id, "access IP address")
        self.state["access_ips"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, public_view(record))

    # -- access IP ranges ------------------------------------------------------------------------

    def _list_ip_ranges(self, req: SandboxRequest) -> SandboxResponse:
        self._sync_access_ips("access_ip_ranges")
        query = req.query_dict
        items = self.state["access_ip_ranges"]
        exact = query.get("filter[cidr_block]")
        if exact is not None:
            wanted = normalise_cidr(exact) or exact.strip()
            items = [r for r in items if r["cidr_block"] == wanted]
        for op, test in (
            ("startswith", str.startswith),
            ("endswith", str.endswith),
            ("contains", str.__contains__),
        ):
            value = query.get(f"filter[cidr_block][{op}]")
            if value is not None:
                items = [r for r in items if test(r["cidr_block"].casefold(), value.strip().casefold())]
        for name in query:
            if name.startswith("filter[cidr_block][") and name[len("filter[cidr_block][") : -1] not in (
                "startswith",
                "endswith",
                "contains",
            ):
                detail = "filter[cidr_block] takes a CIDR block, or [startswith], [endswith] or [contains]."
                raise ApiError(422, problem(E_BAD_REQUEST, detail, parameter=name))
        items = created_at_filtered(items, req)
        return SandboxResponse.json_response(200, paginate(newest_first(items), req, 422))

    def _create_ip_range(self, req: SandboxRequest) -> SandboxResponse:
        return self._create_on_allowlist(req, "access_ip_ranges", "cidr_block", _read_block, "CIDR block")

    def _delete_ip_range(self, req: SandboxRequest, id: str) -> SandboxResponse:
        self._sync_access_ips("access_ip_ranges")
        record = self._find(self.state["access_ip_ranges"], id, "access IP range")
        self.state["access_ip_ranges"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, public_view(record))

    # -- addresses -------------------------------------------------------------------------------

    ADDRESS_SORTS = ("created_at", "first_name", "last_name", "business_name", "street_address")
    ADDRESS_STRINGS = (
        "administrative_area",
        "borough",
        "business_name",
        "country_code",
        "customer_reference",
        "extended_address",
        "first_name",
        "last_name",
        "locality",
        "neighborhood",
        "phone_number",
        "postal_code",
        "street_address",
    )
    ADDRESS_REQUIRED = ("first_name", "last_name", "business_name", "street_address", "locality", "country_code")

    def _list_addresses(self, req: SandboxRequest) -> SandboxResponse:
        query = req.query_dict
        items = list(self.state["addresses"])
        plain = query.get("filter[customer_reference]")
        if plain is not None:
            items = [r for r in items if plain.casefold() in r["customer_reference"].casefold()]
        eq = query.get("filter[customer_reference][eq]")
        if eq is not None:
            items = [r for r in items if r["customer_reference"] == eq]
        contains = query.get("filter[customer_reference][contains]")
        if contains is not None:
            items = [r for r in items if contains.casefold() in r["customer_reference"].casefold()]
        street = query.get("filter[street_address][contains]")
        if street is not None:
            if len(street.strip()) < 3:
                raise ApiError(
                    400,
                    problem(
                        E_BAD_REQUEST,
                        "filter[street_address][contains] needs at least 3 characters.",
                        parameter="filter[street_address][contains]",
                    ),
                )
            items = [r for r in items if street.casefold() in r["street_address"].casefold()]
        emergency = bool_param(req, "filter[used_as_emergency]", 400)
        if emergency is not None:
            items = [r for r in items if r["_used_as_emergency"] == emergency]
        book = bool_param(req, "filter[address_book][eq]", 400)
        if book is not None:
            items = [r for r in items if r["address_book"] == book]
        sort = query.get("sort")
        if sort is None or sort == "":
            items = newest_first(items)  # documented default: created_at, descending
        elif sort.lstrip("-") in self.ADDRESS_SORTS and sort.count("-") <= 1:
            items = sorted_by(items, sort)
        else:
            raise ApiError(
                400,
                problem(
                    E_BAD_REQUEST,
                    f"sort must be one of {', '.join(self.ADDRESS_SORTS)}, optionally prefixed with '-', got {sort!r}.",
                    parameter="sort",
                ),
            )
        return SandboxResponse.json_response(200, paginate(items, req, 400))

    def _address_errors(
        self, body: Mapping[str, Any], required: tuple[str, ...]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        errors: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        for name in self.ADDRESS_STRINGS:
            value = require_str(body, name, errors, required=name in required)
            if value is not None:
                values[name] = value
        country = values.get("country_code")
        if country is not None and country.upper() not in ISO_3166_ALPHA2:
            errors.append(
                problem(
                    E_BAD_REQUEST, f"{country!r} is not an ISO 3166-1 alpha-2 country code.", pointer="/country_code"
                )
            )
        phone = values.get("phone_number")
        if phone and not E164.match(phone):
            errors.append(problem(E_E164, "The phone_number must be in +E.164 format.", pointer="/phone_number"))
        return values, errors

    def _create_address(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        values, errors = self._address_errors(body, self.ADDRESS_REQUIRED)
        address_book = require_bool(body, "address_book", errors)
        validate = require_bool(body, "validate_address", errors)
        self._check(errors)
        validate = True if validate is None else validate
        suggestion = None
        if validate:
            result = validate_address_fields(values)
            if result["result"] == "invalid":
                raise ApiError(
                    422,
                    [
                        problem((e["code"], e["title"]), e["description"], pointer=e["source"]["pointer"])
                        for e in result["errors"]
                    ],
                )
            changes = {k: v for k, v in result["suggested"].items() if values.get(k, "") != v}
            if changes:
                suggestion = {"state": "pending", "fields": changes}
        next_id = int(self.state["next_address_id"])
        self.state["next_address_id"] = str(next_id + 4_194_304_000)
        now = self._now()
        record: dict[str, Any] = {"id": str(next_id), "record_type": "address"}
        record.update({name: values.get(name, "") for name in self.ADDRESS_STRINGS})
        record.update(
            {
                "address_book": True if address_book is None else address_book,
                "validate_address": validate,
                "created_at": now,
                "updated_at": now,
                "_location_id": self._new_id(),
                "_used_as_emergency": False,
            }
        )
        if suggestion:
            record["_suggestion"] = suggestion
        return self._created("addresses", record, 200)

    def _validate_address(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        values, errors = self._address_errors(
            {
                k: body.get(k)
                for k in (
                    "country_code",
                    "street_address",
                    "postal_code",
                    "administrative_area",
                    "extended_address",
                    "locality",
                )
            },
            ("country_code", "street_address", "postal_code"),
        )
        self._check(errors)
        return SandboxResponse.json_response(200, {"data": validate_address_fields(values)})

    def _get_address(self, req: SandboxRequest, id: str) -> SandboxResponse:
        return SandboxResponse.json_response(
            200, {"data": public_view(self._find(self.state["addresses"], id, "address"))}
        )

    def _delete_address(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["addresses"], id, "address")
        if record["_used_as_emergency"]:
            raise ApiError(
                422,
                problem(
                    E_IN_USE,
                    "The address is the emergency address of at least one active "
                    "phone number; remove it from those numbers first.",
                    pointer="/id",
                ),
            )
        self.state["addresses"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": public_view(record)})

    def _accept_suggestions(self, req: SandboxRequest, id: str) -> SandboxResponse:
        def not_found(detail: str) -> ApiError:
            return ApiError(404, problem(E_NOT_FOUND, detail, pointer="/id"))

        body = self._body(req)
        record = next((r for r in self.state["addresses"] if id in (r["_location_id"], r["id"])), None)
        if record is None:
            raise not_found("Address not found or not accessible by the user.")
        if body.get("id") is not None and str(body["id"]) != record["id"]:
            raise not_found(f"Address {body['id']!r} does not belong to location {id}.")
        suggestion = record.get("_suggestion")
        if suggestion is None:
            raise not_found("There is no address suggestion to accept for this address.")
        status = 200
        if suggestion["state"] != "accepted":
            record.update(suggestion["fields"])
            record["updated_at"] = self._now()
            suggestion["state"] = "accepted"
            self._save()
            status = 202
        data = {"id": record["_location_id"], "accepted": True, "record_type": "address_suggestion"}
        return SandboxResponse.json_response(status, {"data": data})

    # -- authentication providers ------------------------------------------------------------------

    PROVIDER_SORTS = ("name", "short_name", "active", "created_at", "updated_at")

    def _list_providers(self, req: SandboxRequest) -> SandboxResponse:
        sort = req.query_dict.get("sort") or "-created_at"
        if sort.lstrip("-") not in self.PROVIDER_SORTS or sort.count("-") > 1:
            allowed = ", ".join(f"{s}, -{s}" for s in self.PROVIDER_SORTS)
            raise ApiError(
                400, problem(E_BAD_REQUEST, f"sort must be one of {allowed}; got {sort!r}.", parameter="sort")
            )
        items = sorted_by(self.state["auth_providers"], sort)
        return SandboxResponse.json_response(200, paginate(items, req, 400))

    def _provider_errors(
        self, body: Mapping[str, Any], *, creating: bool, record_id: str | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        errors: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        name = require_str(body, "name", errors, required=creating)
        if name is not None:
            if not name.strip():
                errors.append(problem(E_BAD_REQUEST, "The 'name' parameter must not be blank.", pointer="/name"))
            values["name"] = name
        short = require_str(body, "short_name", errors, required=creating)
        if short is not None:
            if not SHORT_NAME.match(short):
                detail = (
                    "The 'short_name' must be URL-safe: letters, digits, '-' and '_', "
                    "starting with a letter or digit, at most 63 characters."
                )
                errors.append(problem(E_BAD_REQUEST, detail, pointer="/short_name"))
            elif any(
                r["short_name"].casefold() == short.casefold() and r["id"] != record_id
                for r in self.state["auth_providers"]
            ):
                errors.append(
                    problem(E_DUPLICATE, f"The short_name {short!r} is already taken.", pointer="/short_name")
                )
            values["short_name"] = short
        active = require_bool(body, "active", errors)
        if active is not None:
            values["active"] = active
        settings_url = require_str(body, "settings_url", errors, required=False)
        if settings_url is not None:
            if not is_http_url(settings_url):
                errors.append(
                    problem(
                        E_INVALID_URL, "The 'settings_url' must be an absolute http(s) URL.", pointer="/settings_url"
                    )
                )
            values["settings_url"] = settings_url
        settings = body.get("settings")
        if settings is None:
            if creating:
                errors.append(problem(E_MISSING, "The 'settings' parameter is required.", pointer="/settings"))
        elif not isinstance(settings, dict):
            errors.append(problem(E_BAD_REQUEST, "The 'settings' parameter must be an object.", pointer="/settings"))
        else:
            clean: dict[str, Any] = {}
            # Create and update share one `settings` schema: whenever settings are sent, all three
            # IdP fields are required, and they replace the previous settings as a whole.
            for key in ("idp_entity_id", "idp_sso_target_url", "idp_cert_fingerprint"):
                value = require_str(settings, key, errors, required=True, pointer_prefix="/settings")
                if value is not None:
                    clean[key] = value
            if "idp_entity_id" in clean and not is_uri(clean["idp_entity_id"]):
                errors.append(
                    problem(
                        E_INVALID_URL, "The 'idp_entity_id' must be an absolute URI.", pointer="/settings/idp_entity_id"
                    )
                )
            if "idp_sso_target_url" in clean and not is_http_url(clean["idp_sso_target_url"]):
                errors.append(
                    problem(
                        E_INVALID_URL,
                        "The 'idp_sso_target_url' must be an absolute http(s) URL.",
                        pointer="/settings/idp_sso_target_url",
                    )
                )
            if "idp_cert_fingerprint" in clean and not FINGERPRINT.match(clean["idp_cert_fingerprint"]):
                errors.append(
                    problem(
                        E_BAD_REQUEST,
                        "The 'idp_cert_fingerprint' must be hexadecimal bytes, optionally separated by ':'.",
                        pointer="/settings/idp_cert_fingerprint",
                    )
                )
            algorithm = settings.get("idp_cert_fingerprint_algorithm")
            if algorithm is not None:
                if algorithm not in FINGERPRINT_BYTES:
                    detail = "The 'idp_cert_fingerprint_algorithm' must be one of sha1, sha256, sha384, sha512."
                    errors.append(problem(E_BAD_REQUEST, detail, pointer="/settings/idp_cert_fingerprint_algorithm"))
                else:
                    clean["idp_cert_fingerprint_algorithm"] = algorithm
            values["settings"] = clean
        return values, errors

    def _create_provider(self, req: SandboxRequest) -> SandboxResponse:
        values, errors = self._provider_errors(self._body(req), creating=True)
        self._check(errors)
        now = self._now()
        active = values.get("active", True)
        record = provider_record(
            id=self._new_id(),
            organization_id=self.state["organization_id"],
            name=values["name"],
            short_name=values["short_name"],
            active=active,
            settings=values["settings"],
            created_at=now,
            updated_at=now,
            activated_at=now if active else None,
        )
        return self._created("auth_providers", record, 200)

    def _get_provider(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["auth_providers"], id, "authentication provider")
        return SandboxResponse.json_response(200, {"data": public_view(record)})

    def _update_provider(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["auth_providers"], id, "authentication provider")
        values, errors = self._provider_errors(self._body(req), creating=False, record_id=id)
        self._check(errors)
        now = self._now()
        for key in ("name", "short_name"):
            if key in values:
                record[key] = values[key]
        if "active" in values:
            if values["active"] and not record["active"]:
                record["activated_at"] = now
            record["active"] = values["active"]
        set_provider_settings(record, values.get("settings"))  # also re-derives URLs from short_name
        record["updated_at"] = now
        self._save()
        return SandboxResponse.json_response(200, {"data": public_view(record)})

    def _delete_provider(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["auth_providers"], id, "authentication provider")
        self.state["auth_providers"].remove(record)
        self._save()
        return SandboxResponse.json_response(200, {"data": public_view(record)})

    # -- billing groups --------------------------------------------------------------------------

    def _billing_group(self, id: str) -> dict[str, Any]:
        if not is_uuid(id):
            raise ApiError(
                422, problem(E_INVALID_ID, f"The billing group id must be a UUID, got {id!r}.", parameter="id")
            )
        return self._find(self.state["billing_groups"], id, "billing group")

    def _billing_name(self, req: SandboxRequest) -> str | None:
        errors: list[dict[str, Any]] = []
        name = require_str(self._body(req), "name", errors, required=False)
        self._check(errors)
        return name

    def _list_billing_groups(self, req: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json_response(200, paginate(newest_first(self.state["billing_groups"]), req, 400))

    def _create_billing_group(self, req: SandboxRequest) -> SandboxResponse:
        name = self._billing_name(req)
        record = self._new_record(
            record_type="billing_group",
            name=name or "",
            organization_id=self.state["organization_id"],
            deleted_at=None,
            _in_use=False,
        )
        return self._created("billing_groups", record, 200)

    def _get_billing_group(self, req: SandboxRequest, id: str) -> SandboxResponse:
        return SandboxResponse.json_response(200, {"data": public_view(self._billing_group(id))})

    def _update_billing_group(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._billing_group(id)
        name = self._billing_name(req)
        if name is not None:
            record["name"] = name
        record["updated_at"] = self._now()
        self._save()
        return SandboxResponse.json_response(200, {"data": public_view(record)})

    def _delete_billing_group(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._billing_group(id)
        if record["_in_use"]:
            raise ApiError(
                409,
                problem(
                    E_IN_USE,
                    "The billing group can not be removed as it is still in use by phone numbers or connections.",
                    pointer="/id",
                ),
            )
        self.state["billing_groups"].remove(record)
        now = self._now()
        record["deleted_at"] = now
        record["updated_at"] = now
        self._save()
        return SandboxResponse.json_response(200, {"data": public_view(record)})

    # -- integration secrets ---------------------------------------------------------------------

    def _list_secrets(self, req: SandboxRequest) -> SandboxResponse:
        kind = choice_param(req, "filter[type]", ("bearer", "basic"))
        items = self.state["integration_secrets"]
        if kind is not None:
            items = [r for r in items if r["_secret"]["type"] == kind]
        return SandboxResponse.json_response(200, paginate(newest_first(items), req, 400))

    def _create_secret(self, req: SandboxRequest) -> SandboxResponse:
        body = self._body(req)
        errors: list[dict[str, Any]] = []
        identifier = require_str(body, "identifier", errors, required=True)
        if identifier is not None:
            if not IDENTIFIER.match(identifier):
                errors.append(
                    problem(
                        E_BAD_REQUEST,
                        "The 'identifier' may hold letters, digits, '.', '-' and '_' only.",
                        pointer="/identifier",
                    )
                )
            elif any(r["identifier"] == identifier for r in self.state["integration_secrets"]):
                errors.append(
                    problem(
                        E_DUPLICATE, f"A secret with identifier {identifier!r} already exists.", pointer="/identifier"
                    )
                )
        kind = body.get("type")
        secret: dict[str, Any] = {}
        if kind is None:
            errors.append(problem(E_MISSING, "The 'type' parameter is required.", pointer="/type"))
        elif kind not in ("bearer", "basic"):
            errors.append(problem(E_BAD_REQUEST, "The 'type' must be 'bearer' or 'basic'.", pointer="/type"))
        else:
            needed = ("token",) if kind == "bearer" else ("username", "password")
            secret["type"] = kind
            for name in needed:  # the other type's fields are ignored, as documented
                value = require_str(body, name, errors, required=True)
                if value is not None:
                    secret[name] = value
        self._check(errors)
        record = self._new_record(record_type="integration_secret", identifier=identifier, _secret=secret)
        return self._created("integration_secrets", record, 201)

    def _delete_secret(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["integration_secrets"], id, "integration secret")
        self.state["integration_secrets"].remove(record)
        self._save()
        return SandboxResponse.empty(204)

    # -- telephony credentials -------------------------------------------------------------------

    def _credential_view(self, record: dict[str, Any]) -> dict[str, Any]:
        view = public_view(record)
        expires = record.get("expires_at")
        view["expired"] = bool(record.get("expired")) or bool(
            expires and parse_datetime(expires).timestamp() <= self.clock()
        )
        return view

    def _list_credentials(self, req: SandboxRequest) -> SandboxResponse:
        query = req.query_dict
        items = [self._credential_view(r) for r in newest_first(self.state["credentials"])]
        for name in ("tag", "name", "resource_id", "sip_username"):
            value = query.get(f"filter[{name}]")
            if value is not None:
                items = [r for r in items if r[name] == value]
        status = choice_param(req, "filter[status]", ("active", "expired"))
        if status is not None:
            items = [r for r in items if r["expired"] == (status == "expired")]
        return SandboxResponse.json_response(200, paginate(items, req, 400))

    def _create_token(self, req: SandboxRequest, id: str) -> SandboxResponse:
        record = self._find(self.state["credentials"], id, "telephony credential")
        if self._credential_view(record)["expired"]:
            raise ApiError(
                422,
                problem(
                    E_BAD_REQUEST,
                    "The credential has expired; access tokens can only be created for active credentials.",
                    parameter="id",
                ),
            )
        now = int(self.clock())
        claims = {
            "aud": "telnyx_telephony",
            "iss": "telnyx_telephony",
            "sub": record["id"],
            "iat": now,
            "nbf": now - 1,
            "exp": now + TOKEN_LIFETIME,
            "jti": self._new_id(),
            "typ": "access",
            "credential_id": record["id"],
            "sip_username": record["sip_username"],
        }
        self._save()  # the token's jti used the id counter
        return SandboxResponse.text_response(201, make_token(claims))


__all__ = ["ACCESS_IP_SYNC_SECONDS", "Route", "TelnyxRoutes"]
