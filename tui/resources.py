"""The resource registry: one `ResourceSpec` per resource, read by the generic resource screen.

A spec says what a resource looks like (columns, row style), how to list it, which fields its
create and edit forms have (with validators), and which provider call serves each verb. Adding a
resource is one entry here. Every provider call goes through `ProviderSession`.
"""

from __future__ import annotations

import importlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, cast

from providers.vendors import parse_record
from tui import validators as v

if TYPE_CHECKING:
    # Types only: importing the registry loads no vendor client, no httpx and no record module
    # (a start from the cache paints rows before any of them; tests/unit/test_startup_imports.py).
    from providers.records import Page
    from providers.session import ProviderSession
    from providers.telnyx.access_list import AccessIp, AccessIpRange
    from providers.telnyx.client import TelnyxClient
    from providers.telnyx.models import (
        Address,
        AuthProvider,
        IntegrationSecret,
    )

Values = Mapping[str, str]


@dataclass(frozen=True)
class Suggestions:
    """Values a field may take, best first, each with a line saying what it is; `note` says how
    they were found, or why none could be (shown under the field)."""

    choices: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    required: bool = False
    kind: str = "text"  # text | secret | choice | bool
    choices: tuple[str, ...] = ()
    default: str = ""
    placeholder: str = ""
    validators: tuple[v.Validator, ...] = ()
    # The provider's JSON pointer for this field, to place its 422 problems at the right input.
    pointer: str = ""
    # Shown only when this returns True for the form's current values (e.g. token for bearer).
    visible: Callable[[Values], bool] | None = None
    help: str = ""
    # A check that needs the other fields (e.g. a phone format that depends on the provider).
    # Runs on empty values too, so it can require a field conditionally.
    cross_check: Callable[[str, Values], str | None] | None = None

    # More pointers that mean this field, when the value can be sent as another field (a CIDR
    # typed as an access IP is sent as an IP range's `cidr_block`).
    also_pointers: tuple[str, ...] = ()

    # A choice field whose choices follow the other fields (the modes of the chosen provider).
    choices_for: Callable[[Values], tuple[str, ...]] | None = None
    # A text field with suggested values that follow the fields named in `suggest_after` (a
    # vendor's number pools for the chosen provider and mode): the form fills in the first while
    # the user has not typed there, completes as they type, and lists them all to pick from.
    suggest: Callable[[Values], Awaitable[Suggestions]] | None = None
    suggest_after: tuple[str, ...] = ()

    def offered(self, values: Values) -> tuple[str, ...]:
        """The choices of a choice field for the form's current values."""
        return self.choices_for(values) if self.choices_for is not None else self.choices

    @property
    def provider_pointer(self) -> str:
        return self.pointer or f"/{self.name}"

    def answers_for(self, pointer: str, top_level: str) -> bool:
        """Whether a provider problem at `pointer` (top-level field `top_level`) is this field's."""
        return pointer in (self.provider_pointer, *self.also_pointers) or top_level == self.name

    def check(self, value: str, values: Values) -> str | None:
        """The first problem with `value`, or None. Hidden fields are not checked."""
        if self.visible is not None and not self.visible(values):
            return None
        if not value.strip():
            if self.required:
                return "required"
            return self.cross_check(value, values) if self.cross_check else None
        for validate in self.validators:
            problem = validate(value)
            if problem:
                return problem
        return self.cross_check(value, values) if self.cross_check else None


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    value: Callable[[Any], str] | None = None  # None: the record's attribute named `key`
    width: int | None = None
    justify: Literal["left", "right"] = "left"
    max_width: int = 48
    # A typed value to order rows by when the shown text does not sort as its value does
    # (timestamps, ids, IP addresses); None: the text, with digit runs compared as numbers.
    order: Callable[[Any], Any] | None = None
    # On a terminal too narrow for every column: 1 for what identifies a row (kept whole); a
    # larger number gives way sooner, shrinking to `min_width` (None: never cut) and then dropped
    # (tui/widgets/virtual_table.py).
    priority: int = 1
    min_width: int | None = None

    def cell(self, record: Any) -> str:
        """What this column shows for `record`."""
        return self.value(record) if self.value is not None else getattr(record, self.key)


@dataclass(frozen=True)
class ActionSpec:
    """A resource-specific verb on the selected row, bound to a key on the resource screen."""

    id: str
    key: str
    label: str
    run: Callable[[ProviderSession, Any], Awaitable[Any]]
    mutates: bool = True
    # The screen that shows the result ("token", "validation", or "" for a notification).
    presents: str = ""
    confirm: str = ""  # a question to ask first, with {name} replaced
    needs_row: bool = True  # False: acts on the whole resource (e.g. a sync), record is None
    doing: str = ""  # what an error says was under way ("accepting suggestions"); "" = the label
    reloads: bool = False  # the list is fetched again after it, because it changed the row

    @property
    def under_way(self) -> str:
        return self.doing or self.label.lower()


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    title: str
    provider: str
    aliases: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    pages: Callable[[ProviderSession], AsyncIterator[Page]]
    describe: Callable[[Any], str]
    key: Callable[[Any], str] = lambda record: record.id  # what identifies a record: its id, for most
    raw: Callable[[Any], dict] = lambda record: getattr(record, "raw", {})
    row_style: Callable[[Any], str] = lambda record: ""
    create_fields: tuple[FieldSpec, ...] = ()
    create: Callable[[ProviderSession, Values], Awaitable[Any]] | None = None
    # After a create's answer was lost: what now exists that matches what was sent. Not used when
    # `idempotent_create` (the re-send with the same Idempotency-Key is the check).
    find_created: Callable[[ProviderSession, Values], Awaitable[list]] | None = None
    # The vendor honours an Idempotency-Key on this create (Telnyx POSTs): providers.outcomes
    # reconciles a lost answer by re-sending with the same key.
    idempotent_create: bool = False
    # The resource a created record belongs to when it is not this one (a CIDR block typed into
    # the allowlist form is created as an IP range), else None.
    created_in: Callable[[Any], str | None] = lambda record: None
    edit_fields: tuple[FieldSpec, ...] = ()
    edit_values: Callable[[Any], dict[str, str]] | None = None
    update: Callable[[ProviderSession, Any, Values], Awaitable[Any]] | None = None
    delete: Callable[[ProviderSession, Any], Awaitable[Any]] | None = None
    actions: tuple[ActionSpec, ...] = ()
    # Raw fields never shown unmasked in the detail view.
    secret_fields: frozenset[str] = field(default_factory=frozenset)
    singular: str = ""
    # The cache stores each record as a JSON dict (`to_cache`, by default its raw vendor object,
    # with secret fields scrubbed by the cache) and rebuilds records with `parse`.
    parse: Callable[[dict], Any] | None = None
    to_cache: Callable[[Any], dict] = lambda record: getattr(record, "raw", {})

    @property
    def cache_key(self) -> str:
        """The cache query key of this resource's full list ("?" ends it, so no key prefixes another)."""
        return f"{self.provider}:{self.name}?"

    @property
    def noun(self) -> str:
        return self.singular or self.title.lower()


def _when(name: str, *values: str) -> Callable[[Values], bool]:
    return lambda form: form.get(name, "") in values


def _opt(values: Values, name: str) -> str | None:
    value = values.get(name, "").strip()
    return value or None


def _bool(value: str) -> bool:
    return value.strip().lower() in ("true", "yes", "y", "1", "on")


def _short(ts: str) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM' (UTC as the provider sent it)."""
    return ts.replace("T", " ")[:16] if ts else ""


def _yes_no(flag: bool | None) -> str:
    return "?" if flag is None else ("yes" if flag else "no")


def _telnyx(s: ProviderSession) -> TelnyxClient:
    """The profile's Telnyx client; MissingAccount ("no telnyx account in this profile") when it
    has none, so the screen reports it like any provider error instead of crashing."""
    return cast("TelnyxClient", s.client("telnyx"))


def _telnyx_record(model: str, module: str = "models") -> Callable[[dict], Any]:
    """`providers.telnyx.<module>.<model>.from_api`, looked up when the first cached row is
    parsed: the registry names record types without importing them. The access list's records
    have a module of their own, so the start screen's cached rows load no other record class."""

    def parse(item: dict) -> Any:
        return getattr(importlib.import_module(f"providers.telnyx.{module}"), model).from_api(item)

    return parse


def _is_range(record: Any) -> TypeGuard[AccessIpRange]:
    """Whether an allowlist record is a CIDR block (an access IP range); the record exists, so
    its module is loaded and the import costs nothing."""
    from providers.telnyx.access_list import AccessIpRange

    return isinstance(record, AccessIpRange)


def _cams(s: ProviderSession) -> tuple[Any, str]:
    """The profile's CAMS client and the CustSpaceId it lists; MissingAccount when it has none."""
    return s.client("aliyun-cams"), s.account("aliyun-cams").setting("cust_space_id")


# How soon a column gives way on a narrow terminal (ColumnSpec.priority): descriptive text first
# shrinks only after timestamps and ids have given way.
TEXT_PRIORITY, DETAIL_PRIORITY, TIME_PRIORITY, ID_PRIORITY = 2, 3, 4, 5


def _time_column(key: str, label: str) -> ColumnSpec:
    """A column of the record's timestamp `key`, to the minute, ordered by the full timestamp
    (ISO 8601 in UTC, so its text order is its time order; missing ones last)."""
    return ColumnSpec(
        key,
        label,
        lambda r: _short(getattr(r, key)),
        width=16,
        order=lambda r: getattr(r, key) or None,
        priority=TIME_PRIORITY,
        min_width=11,  # the date, and an ellipsis for the time
    )


def _ip_order(text: str) -> int | None:
    """An address or CIDR block in address order: IPv4 before IPv6, then by value and prefix.
    One int (the value, then the 8-bit prefix; IPv6 above 2**136, every IPv4 key below 2**40):
    it orders as (version, value, prefix) would, in a third of the memory a sorted column keeps
    per row (an IPv4 key is a 32-byte int)."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    key = (int(network.network_address) << 8) | network.prefixlen
    return key if network.version == 4 else (1 << 136) | key


# Columns most resources end with: when it was made, and the id (in plain text order: an id's
# digits are not a number). On a narrow terminal the id goes first (whole: a cut id is no use; the
# detail view and `c` have it), then timestamps shrink to their date, then descriptions.
_CREATED_COLUMN = _time_column("created_at", "CREATED (UTC)")
_ID_COLUMN = ColumnSpec("id", "ID", order=lambda r: str(r.id), priority=ID_PRIORITY)


# ---- access IP allowlist and IP ranges ----------------------------------------------------------
# Telnyx keeps single addresses (`/access_ip_address`) and CIDR blocks (`/access_ip_ranges`) apart.
# The allowlist form takes either: a block typed there is created as an IP range, and the screen
# says where it went (docs/decisions.md).


def _is_block(values: Values, name: str) -> bool:
    """Whether the (already validated) address field holds a CIDR block rather than one address."""
    return "/" in values[name]


async def _create_access_ip(s: ProviderSession, values: Values) -> AccessIp | AccessIpRange:
    value = values["ip_address"].strip()
    if _is_block(values, "ip_address"):
        return await _telnyx(s).create_access_ip_range(value, _opt(values, "description"))
    return await _telnyx(s).create_access_ip(value, _opt(values, "description"))


def _describe_access(record: AccessIp | AccessIpRange) -> str:
    if _is_range(record):
        return f"IP range {record.cidr_block}"
    return f"access IP {cast('AccessIp', record).ip_address}"


_DESCRIPTION_FIELD = FieldSpec(
    "description", "Description", placeholder="office VPN egress", validators=(v.max_length(255),)
)


ALLOWLIST = ResourceSpec(
    parse=_telnyx_record("AccessIp", "access_list"),
    name="allowlist",
    title="Allowlist",
    singular="access IP",
    provider="telnyx",
    idempotent_create=True,
    aliases=("ip", "ips", "access_ip", "access-ip", "allow"),
    columns=(
        ColumnSpec("ip_address", "IP ADDRESS", order=lambda r: _ip_order(r.ip_address)),
        ColumnSpec("status", "STATUS", width=8),
        ColumnSpec("source", "SOURCE", width=11, priority=DETAIL_PRIORITY),
        ColumnSpec("description", "DESCRIPTION", priority=TEXT_PRIORITY, min_width=12),
        _CREATED_COLUMN,
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).access_ip_pages(),
    describe=_describe_access,
    row_style=lambda r: "warning" if r.status == "pending" else "",
    create_fields=(
        FieldSpec(
            "ip_address",
            "IP address or CIDR",
            required=True,
            placeholder="203.0.113.7, or 198.51.100.0/24 (goes to IP ranges)",
            validators=(v.ip_or_cidr,),
            # A block is sent to /access_ip_ranges, whose refusals point at /cidr_block.
            also_pointers=("/cidr_block",),
        ),
        _DESCRIPTION_FIELD,
    ),
    create=_create_access_ip,
    created_in=lambda r: "ranges" if _is_range(r) else None,
    delete=lambda s, r: _telnyx(s).delete_access_ip(r.id),
)


RANGES = ResourceSpec(
    parse=_telnyx_record("AccessIpRange", "access_list"),
    name="ranges",
    title="IP ranges",
    singular="IP range",
    provider="telnyx",
    aliases=("ip_ranges", "cidr", "access_ip_ranges", "range", "ip-ranges"),
    columns=(
        ColumnSpec("cidr_block", "CIDR BLOCK", order=lambda r: _ip_order(r.cidr_block)),
        ColumnSpec("status", "STATUS", width=8),
        ColumnSpec("description", "DESCRIPTION", priority=TEXT_PRIORITY, min_width=12),
        _CREATED_COLUMN,
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).access_ip_range_pages(),
    describe=_describe_access,
    row_style=lambda r: "warning" if r.status == "pending" else "",
    create_fields=(
        FieldSpec("cidr_block", "CIDR block", required=True, placeholder="198.51.100.0/24", validators=(v.cidr_block,)),
        _DESCRIPTION_FIELD,
    ),
    create=lambda s, values: _telnyx(s).create_access_ip_range(
        values["cidr_block"].strip(), _opt(values, "description")
    ),
    idempotent_create=True,
    delete=lambda s, r: _telnyx(s).delete_access_ip_range(r.id),
)


# ---- addresses --------------------------------------------------------------------------------

_ADDRESS_FIELDS = (
    ("first_name", "First name", True),
    ("last_name", "Last name", True),
    ("business_name", "Business name", True),
    ("street_address", "Street address", True),
    ("extended_address", "Extended address", False),
    ("locality", "Locality (city)", True),
    ("administrative_area", "Administrative area", False),
    ("postal_code", "Postal code", False),
    ("country_code", "Country code", True),
    ("customer_reference", "Customer reference", False),
    ("phone_number", "Phone number", False),
)


def _address_field(name: str, label: str, required: bool) -> FieldSpec:
    checks: tuple[v.Validator, ...] = (v.max_length(255),)
    placeholder = ""
    if name == "country_code":
        checks, placeholder = (v.country_code,), "US"
    elif name == "phone_number":
        checks, placeholder = (v.e164,), "+13125550123"
    return FieldSpec(name, label, required=required, validators=checks, placeholder=placeholder)


async def _create_address(s: ProviderSession, values: Values) -> Address:
    fields: dict[str, Any] = {name: _opt(values, name) for name, _, _ in _ADDRESS_FIELDS}
    fields["country_code"] = values["country_code"].strip().upper()
    fields["address_book"] = _bool(values.get("address_book", "true"))
    fields["validate_address"] = _bool(values.get("validate_address", "true"))
    return await _telnyx(s).create_address(**fields)


async def _validate_address(s: ProviderSession, record: Address):
    """Telnyx's validation, its suggestion cut to the fields that differ from the saved address
    (it answers the whole normalised address, changed or not)."""
    result = await _telnyx(s).validate_address(
        country_code=record.country_code,
        street_address=record.street_address,
        postal_code=record.postal_code,
        administrative_area=record.administrative_area or None,
        extended_address=record.extended_address or None,
        locality=record.locality or None,
    )
    changes = {k: v for k, v in result.suggested.items() if str(getattr(record, k, "") or "") != str(v or "")}
    return replace(result, suggested=changes)


ADDRESSES = ResourceSpec(
    parse=_telnyx_record("Address"),
    name="addresses",
    title="Addresses",
    singular="address",
    provider="telnyx",
    idempotent_create=True,
    aliases=("address", "addr"),
    columns=(
        ColumnSpec("name", "NAME"),
        ColumnSpec("street_address", "STREET", priority=TEXT_PRIORITY, min_width=12),
        ColumnSpec("locality", "LOCALITY", priority=TEXT_PRIORITY, min_width=10),
        ColumnSpec("postal_code", "POSTAL", width=10, priority=DETAIL_PRIORITY),
        ColumnSpec("country_code", "CC", width=2),
        ColumnSpec("customer_reference", "CUSTOMER REF", priority=DETAIL_PRIORITY),
        _CREATED_COLUMN,
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).address_pages(),
    describe=lambda r: f"address {r.name}, {r.street_address}, {r.locality} {r.country_code}".strip(),
    create_fields=(
        *tuple(_address_field(*f) for f in _ADDRESS_FIELDS),
        FieldSpec("address_book", "Save to address book", kind="bool", default="true"),
        FieldSpec("validate_address", "Validate before saving", kind="bool", default="true"),
    ),
    create=_create_address,
    delete=lambda s, r: _telnyx(s).delete_address(r.id),
    actions=(
        ActionSpec(
            "validate", "v", "Validate", _validate_address, mutates=False, presents="validation", doing="validating"
        ),
        ActionSpec(
            "accept_suggestions",
            "a",
            "Accept suggestions",
            lambda s, r: _telnyx(s).accept_address_suggestions(r.id),
            confirm="Accept the suggested corrections for {name}?",
            doing="accepting suggestions",
            reloads=True,
        ),
    ),
)


# ---- SSO authentication providers -------------------------------------------------------------

_ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")


# The update schema requires what create does, so create and edit ask the same fields.
_SSO_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "Name", required=True, validators=(v.max_length(255),)),
    FieldSpec(
        "short_name",
        "Short name",
        required=True,
        validators=(v.short_name,),
        placeholder="acme-okta",
        help="unique; part of the login URL",
    ),
    FieldSpec("active", "Active", kind="bool", default="true"),
    FieldSpec(
        "idp_entity_id",
        "IdP entity ID",
        required=True,
        validators=(v.uri,),
        pointer="/settings/idp_entity_id",
        placeholder="https://idp.example.com/entity",
    ),
    FieldSpec(
        "idp_sso_target_url",
        "IdP SSO target URL",
        required=True,
        validators=(v.url,),
        pointer="/settings/idp_sso_target_url",
        placeholder="https://idp.example.com/sso/saml",
    ),
    FieldSpec(
        "idp_cert_fingerprint",
        "IdP certificate fingerprint",
        required=True,
        validators=(v.fingerprint,),
        pointer="/settings/idp_cert_fingerprint",
    ),
    FieldSpec(
        "idp_cert_fingerprint_algorithm",
        "Fingerprint algorithm",
        kind="choice",
        choices=_ALGORITHMS,
        default="sha1",
        pointer="/settings/idp_cert_fingerprint_algorithm",
    ),
)


_SSO_SETTING_KEYS = ("idp_entity_id", "idp_sso_target_url", "idp_cert_fingerprint", "idp_cert_fingerprint_algorithm")


def _sso_settings(values: Values) -> dict[str, str]:
    return {k: values[k].strip() for k in _SSO_SETTING_KEYS if values.get(k, "").strip()}


async def _create_sso(s: ProviderSession, values: Values) -> AuthProvider:
    return await _telnyx(s).create_auth_provider(
        name=values["name"].strip(),
        short_name=values["short_name"].strip(),
        settings=_sso_settings(values),
        active=_bool(values.get("active", "true")),
    )


async def _update_sso(s: ProviderSession, record: AuthProvider, values: Values) -> AuthProvider:
    before = _sso_edit_values(record)
    changed = {k: val for k, val in values.items() if val != before.get(k)}
    fields: dict[str, Any] = {}
    for key in ("name", "short_name"):
        if key in changed:
            fields[key] = changed[key].strip()
    if "active" in changed:
        fields["active"] = _bool(changed["active"])
    # The spec's update schema requires the three IdP settings whenever `settings` is sent,
    # so a change to any one of them sends all of them.
    settings_changed = any(k in changed for k in _SSO_SETTING_KEYS)
    if settings_changed:
        fields["settings"] = _sso_settings(values)
    return await _telnyx(s).update_auth_provider(record.id, **fields)


def _sso_edit_values(r: AuthProvider) -> dict[str, str]:
    return {
        "name": r.name,
        "short_name": r.short_name,
        "active": "true" if r.active else "false",
        "idp_entity_id": r.idp_entity_id,
        "idp_sso_target_url": r.idp_sso_target_url,
        "idp_cert_fingerprint": r.idp_cert_fingerprint,
        "idp_cert_fingerprint_algorithm": r.idp_cert_fingerprint_algorithm,
    }


SSO = ResourceSpec(
    parse=_telnyx_record("AuthProvider"),
    name="sso",
    title="SSO providers",
    singular="SSO provider",
    provider="telnyx",
    idempotent_create=True,
    aliases=("authentication_providers", "auth", "saml", "idp"),
    columns=(
        ColumnSpec("name", "NAME"),
        ColumnSpec("short_name", "SHORT NAME"),
        ColumnSpec("active", "ACTIVE", lambda r: _yes_no(r.active), width=6),
        ColumnSpec("idp_entity_id", "IDP ENTITY", priority=TEXT_PRIORITY, min_width=12),
        ColumnSpec("algorithm", "ALG", lambda r: r.idp_cert_fingerprint_algorithm, width=6, priority=DETAIL_PRIORITY),
        _CREATED_COLUMN,
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).auth_provider_pages(),
    describe=lambda r: f"SSO provider {r.name} ({r.short_name})",
    row_style=lambda r: "dim" if r.active is False else "",
    create_fields=_SSO_FIELDS,
    create=_create_sso,
    edit_fields=_SSO_FIELDS,
    edit_values=_sso_edit_values,
    update=_update_sso,
    delete=lambda s, r: _telnyx(s).delete_auth_provider(r.id),
)


# ---- billing groups ---------------------------------------------------------------------------

# A billing group has one field, the same on create and edit.
_BILLING_GROUP_FIELDS = (FieldSpec("name", "Name", required=True, validators=(v.max_length(255),)),)

BILLING_GROUPS = ResourceSpec(
    parse=_telnyx_record("BillingGroup"),
    name="billing",
    title="Billing groups",
    singular="billing group",
    provider="telnyx",
    idempotent_create=True,
    aliases=("billing_groups", "bg", "billing-groups"),
    columns=(
        ColumnSpec("name", "NAME"),
        _CREATED_COLUMN,
        _time_column("updated_at", "UPDATED (UTC)"),
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).billing_group_pages(),
    describe=lambda r: f"billing group {r.name or r.id}",
    row_style=lambda r: "dim" if r.deleted_at else "",
    create_fields=_BILLING_GROUP_FIELDS,
    create=lambda s, values: _telnyx(s).create_billing_group(values["name"].strip()),
    edit_fields=_BILLING_GROUP_FIELDS,
    edit_values=lambda r: {"name": r.name},
    update=lambda s, r, values: _telnyx(s).update_billing_group(r.id, values["name"].strip()),
    delete=lambda s, r: _telnyx(s).delete_billing_group(r.id),
)


# ---- integration secrets ----------------------------------------------------------------------


async def _create_secret(s: ProviderSession, values: Values) -> IntegrationSecret:
    kind = values["type"]
    return await _telnyx(s).create_integration_secret(
        identifier=values["identifier"].strip(),
        type=kind,
        token=values.get("token") if kind == "bearer" else None,
        username=_opt(values, "username") if kind == "basic" else None,
        password=values.get("password") if kind == "basic" else None,
    )


INTEGRATION_SECRETS = ResourceSpec(
    parse=_telnyx_record("IntegrationSecret"),
    # The API's objects carry no type (we learn it from the filter), so the cache keeps it.
    to_cache=lambda r: {**r.raw, "type": r.type},
    name="secrets",
    title="Integration secrets",
    singular="integration secret",
    provider="telnyx",
    idempotent_create=True,
    aliases=("integration_secrets", "secret", "integration-secrets"),
    columns=(
        ColumnSpec("identifier", "IDENTIFIER"),
        ColumnSpec("type", "TYPE", width=6),
        ColumnSpec("value", "VALUE", lambda r: "•••••••• (write-only)", width=21, priority=DETAIL_PRIORITY),
        _CREATED_COLUMN,
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).typed_integration_secret_pages(),
    describe=lambda r: f"integration secret {r.identifier} ({r.type})",
    create_fields=(
        FieldSpec(
            "identifier",
            "Identifier",
            required=True,
            validators=(v.max_length(255),),
            placeholder="crm_webhook_token",
            help="how AI assistants and tools refer to this secret",
        ),
        FieldSpec("type", "Type", kind="choice", choices=("bearer", "basic"), default="bearer", required=True),
        FieldSpec("token", "Bearer token", kind="secret", required=True, visible=_when("type", "bearer")),
        FieldSpec("username", "Username", required=True, visible=_when("type", "basic")),
        FieldSpec("password", "Password", kind="secret", required=True, visible=_when("type", "basic")),
    ),
    create=_create_secret,
    delete=lambda s, r: _telnyx(s).delete_integration_secret(r.id),
    secret_fields=frozenset({"token", "password", "value"}),
)


# ---- telephony credentials (access tokens) ----------------------------------------------------

CREDENTIALS = ResourceSpec(
    parse=_telnyx_record("TelephonyCredential"),
    name="credentials",
    title="Credentials",
    singular="telephony credential",
    provider="telnyx",
    idempotent_create=True,
    aliases=("telephony_credentials", "creds", "token", "tokens"),
    columns=(
        ColumnSpec("name", "NAME"),
        ColumnSpec("sip_username", "SIP USERNAME", priority=TEXT_PRIORITY, min_width=12),
        ColumnSpec("expired", "EXPIRED", lambda r: _yes_no(r.expired), width=7),
        _time_column("expires_at", "EXPIRES (UTC)"),
        ColumnSpec("connection_id", "CONNECTION", priority=ID_PRIORITY),
        _ID_COLUMN,
    ),
    pages=lambda s: _telnyx(s).telephony_credential_pages(),
    describe=lambda r: f"telephony credential {r.name or r.id}",
    row_style=lambda r: "dim" if r.expired else "",
    actions=(
        ActionSpec(
            "token",
            "t",
            "New token",
            lambda s, r: _telnyx(s).create_access_token(r.id),
            presents="token",
            confirm="Create a new access token for {name}?",
            doing="creating an access token",
        ),
    ),
)


# ---- WhatsApp Business numbers (Alibaba Cloud CAMS) ----------------------------------------------


async def _waba_pages(s: ProviderSession) -> AsyncIterator[Page]:
    from providers.records import Page

    client, space = _cams(s)
    numbers = await client.query_phone_numbers(space)
    yield Page(items=numbers, page_number=1, page_size=len(numbers), total_pages=1, total_results=len(numbers))


def _parse_waba(item: dict[str, Any]) -> Any:
    """A cached WhatsApp number, rebuilt by its vendor's own parser (through the registry)."""
    return parse_record("aliyun-cams", "whatsapp_number", item)


async def _waba_sync(s: ProviderSession, record: Any):
    client, space = _cams(s)
    return await client.sync_phone_numbers(space)


_QUALITY_STYLE = {"RED": "error", "YELLOW": "warning"}
# Numbers that cannot send, whatever their rating.
_DEGRADED_STATUS = {"BANNED", "RESTRICTED", "FLAGGED", "DISCONNECTED", "RATE_LIMITED", "UNVERIFIED", "DELETED"}


def _waba_style(r: Any) -> str:
    return _QUALITY_STYLE.get(r.quality_rating) or ("warning" if r.status in _DEGRADED_STATUS else "")


WHATSAPP = ResourceSpec(
    parse=lambda item: _parse_waba(item),
    name="whatsapp",
    title="WhatsApp numbers",
    singular="WhatsApp number",
    provider="aliyun-cams",
    aliases=("waba", "cams", "wa", "whatsapp-numbers"),
    columns=(
        ColumnSpec("phone_number", "NUMBER", width=16),
        ColumnSpec("verified_name", "VERIFIED NAME", priority=TEXT_PRIORITY, min_width=12),
        ColumnSpec("status", "STATUS", width=14),
        # The rating as text too, so it reads on monochrome terminals.
        ColumnSpec("quality_rating", "QUALITY", lambda r: r.quality_rating or "?", width=7),
        ColumnSpec(
            "tier", "TIER", lambda r: r.messaging_limit_tier.removeprefix("TIER_"), width=9, priority=DETAIL_PRIORITY
        ),
        # The display name's review, then a requested new name's, when there is one.
        ColumnSpec(
            "name_status",
            "NAME REVIEW",
            lambda r: " → ".join(p for p in (r.name_status, r.new_name_status) if p and p != "NONE"),
            max_width=30,
            priority=DETAIL_PRIORITY,
            min_width=12,
        ),
        ColumnSpec("code", "CODE VERIF.", lambda r: r.code_verification_status, width=11, priority=DETAIL_PRIORITY),
        ColumnSpec(
            "callbacks",
            "CALLBACKS",
            lambda r: ", ".join(r.callbacks.values()) or "none",
            priority=DETAIL_PRIORITY,
            min_width=12,
        ),
    ),
    pages=_waba_pages,
    key=lambda r: r.phone_number,
    describe=lambda r: f"WhatsApp number {r.phone_number} ({r.verified_name or 'no verified name'})",
    row_style=_waba_style,
    actions=(
        # Sync rewrites CAMS's copy of Meta's state: an "update" in Alibaba's RAM table, so a
        # read-only session refuses it; `r` reads with QueryChatappPhoneNumbers instead.
        ActionSpec(
            "sync", "s", "Sync from Meta", _waba_sync, presents="reload", needs_row=False, doing="syncing from Meta"
        ),
    ),
)


REGISTRY: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (ALLOWLIST, RANGES, ADDRESSES, SSO, BILLING_GROUPS, INTEGRATION_SECRETS, CREDENTIALS, WHATSAPP)
}
