"""Alibaba Cloud Phone Number Privacy Protection (Dypls, API version 2017-05-25).

`DyplsClient` wraps the eight operations teledeck uses, with typed results; `AliyunBindings`
adapts it to the vendor-neutral `providers.bindings.BindingProvider`.

Times: Dypls takes and returns `yyyy-MM-dd HH:mm:ss` with no zone; the service runs on China
Standard Time, so this module converts explicitly between aware UTC datetimes and UTC+8 wall
time (China has no daylight saving time, so a fixed offset is exact). Sub-second parts are
dropped when sending.

What can be found after a lost bind answer (`find_after_timeout`)
-------------------------------------------------------------------
Dypls has no call that lists bindings: `QuerySubsId` needs the X number and returns one SubsId,
and `QuerySubscriptionDetail` needs SubsId and X. So:

- a bind that named its X (BindRequest.x, or BindAxnExtension, which requires it) is checked by
  asking QuerySubsId for that X and comparing A, B (and the extension) with the detail. For AXN
  and AXN-extension bindings this is reliable. For AXB, one X can carry several bindings (with
  other A/B pairs) while QuerySubsId returns only one SubsId, so an empty answer is strong but
  not certain evidence that nothing was bound;
- a bind that let Alibaba choose X from the pool can only be found if the adapter knows the pool's
  X numbers (`known_x`, e.g. from the ledger or the profile): each is probed the same way;
- with neither, nothing can be looked up: `find_after_timeout` raises `Timeout(maybe_applied=True)`
  saying so (an empty list would wrongly suggest that nothing was created). Check the console's
  number management page before binding again.

Binds are never re-sent: they go out with idempotent=False, so the Transport raises
`Timeout(maybe_applied=True)` when the answer is lost.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Unpack
from urllib.parse import parse_qs, urlsplit

from providers.aliyun.rpc import AliyunRpcClient, RpcOptions
from providers.aliyun.vendor import DYPLS
from providers.bindings import ACTIVE, EXPIRED, REMOVED, Binding, BindingChange, BindRequest, NumberPool
from providers.errors import (
    CannotCheck,
    FieldProblem,
    MalformedResponse,
    NotFound,
    ProviderError,
    ValidationError,
)
from providers.records import mapping, read_record, text
from providers.transport import shared_limiter

if TYPE_CHECKING:
    from providers.calls import Recording, RecordingLink

PROVIDER = "aliyun"
VERSION = "2017-05-25"
# Stated once, in the vendor descriptor.
DEFAULT_ENDPOINT = DYPLS.endpoint.default
ENDPOINT_ENV = DYPLS.endpoint.env
# QueryRecordFileDownloadUrl: "URL 链接的有效期为 2 小时" (recordings themselves are kept 30 days).
RECORDING_LINK_LIFETIME = timedelta(hours=2)
RECORDING_LINK_LIFETIME_WORDS = "2 hours"
# Documented per-account limits: Bind* and QuerySubscriptionDetail 5,000 QPS, UpdateSubscription
# 10,000. One client-side limiter per AccessKeyId at the lowest of them.
DEFAULT_QPS = 5000

CHINA_TZ = timezone(timedelta(hours=8), "China Standard Time")
WIRE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# UpdateSubscription.OperateType values, and the parameter each one changes.
OPERATE_TYPES: dict[str, str] = {
    "updateNoA": "PhoneNoA",
    "updateNoB": "PhoneNoB",
    "updateExpire": "Expiration",
    "updateAxgGroup": "GroupId",
    "updateCallRestrict": "CallRestrict",
    "updateCallDisplayType": "CallDisplayType",
    "updateOutId": "OutId",
    "updateIsRecordingEnabled": "IsRecordingEnabled",
}
CALL_RESTRICTIONS = ("CONTROL_AX_DISABLE", "CONTROL_BX_DISABLE", "CONTROL_CLEAR_DISABLE")


def endpoint_from_env() -> str:
    """TELEDECK_ALIYUN_PLS_ENDPOINT (a URL; http:// only to loopback) or the public endpoint."""
    return os.environ.get(ENDPOINT_ENV, "").strip() or DEFAULT_ENDPOINT


def to_china_time(moment: datetime) -> str:
    """An aware datetime as Dypls wall time: `yyyy-MM-dd HH:mm:ss` in UTC+8 (fraction dropped)."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Dypls times need an aware datetime (naive datetimes are ambiguous)")
    return moment.astimezone(CHINA_TZ).strftime(WIRE_TIME_FORMAT)


def from_china_time(value: str) -> datetime:
    """Dypls wall time (`yyyy-MM-dd HH:mm:ss`, UTC+8) as an aware UTC datetime; ValueError if not."""
    parsed = datetime.strptime((value or "").strip(), WIRE_TIME_FORMAT)
    try:
        return parsed.replace(tzinfo=CHINA_TZ).astimezone(UTC)
    except OverflowError:  # 0001-01-01 00:00:00 in UTC+8 is before year 1 in UTC
        raise ValueError(f"{value!r} is out of range") from None


def _maybe_china_time(value: str) -> datetime | None:
    try:
        return from_china_time(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class SecretBind:
    """What a Bind* call answers: `SecretBindDTO` plus the RequestId."""

    subs_id: str
    secret_no: str  # the X number
    extension: str = ""  # AXN-extension bindings only
    request_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SubscriptionDetail:
    """QuerySubscriptionDetail's `SecretBindDetailDTO`, times as aware UTC datetimes."""

    subs_id: str
    phone_no_x: str
    phone_no_a: str = ""
    phone_no_b: str = ""
    extension: str = ""
    group_id: str = ""
    status: int | None = None  # 1 in effect, 0 expired
    expires_at: datetime | None = None
    created_at: datetime | None = None
    need_record: bool | None = None
    call_restrict: str = ""
    asr_status: bool | None = None
    asr_model_id: str = ""
    request_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def active(self) -> bool | None:
        return None if self.status is None else self.status == 1


# Record field -> its key in the answer's DTO, for the fields `read_record` reads.
_WIRE_KEYS = {
    "subs_id": "SubsId",
    "secret_no": "SecretNo",
    "extension": "Extension",
    "phone_no_x": "PhoneNoX",
    "phone_no_a": "PhoneNoA",
    "phone_no_b": "PhoneNoB",
    "group_id": "GroupId",
    "status": "Status",
    "need_record": "NeedRecord",
    "call_restrict": "CallRestrict",
    "asr_status": "ASRStatus",
    "asr_model_id": "ASRModelId",
}


def _answer_dto(body: dict[str, Any], key: str, required: tuple[str, ...], missing: str) -> dict[str, Any]:
    """The answer's `key` object, which must name every one of `required`; `missing` is the
    MalformedResponse message when it does not."""
    dto = mapping(body, key)
    if not all(text(dto, name) for name in required):
        raise MalformedResponse(missing, provider=PROVIDER, request_id=text(body, "RequestId"))
    return dto


def _secret_bind(body: dict[str, Any], action: str) -> SecretBind:
    dto = _answer_dto(
        body,
        "SecretBindDTO",
        ("SubsId", "SecretNo"),
        f"{action}: the answer has no SecretBindDTO with SubsId and SecretNo",
    )
    return read_record(SecretBind, dto, _WIRE_KEYS, request_id=text(body, "RequestId"), raw=body)


def _detail(body: dict[str, Any]) -> SubscriptionDetail:
    dto = _answer_dto(
        body, "SecretBindDetailDTO", ("SubsId",), "QuerySubscriptionDetail: the answer has no SecretBindDetailDTO"
    )
    return read_record(
        SubscriptionDetail,
        dto,
        _WIRE_KEYS,
        expires_at=_maybe_china_time(text(dto, "ExpireDate")),
        created_at=_maybe_china_time(text(dto, "GmtCreate")),
        request_id=text(body, "RequestId"),
        raw=body,
    )


# ---------------------------------------------------------------------------------------------
# The client


# Binding modes (as in `providers.bindings`) and the Dypls actions that bind them.
_BIND_ACTIONS = {"AXB": "BindAxb", "AXN": "BindAxn", "AXN_EXT": "BindAxnExtension"}


class DyplsClient(AliyunRpcClient):
    """Dypls for one account. Every method raises `providers.errors.ProviderError` subclasses."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        *,
        endpoint: str | None = None,
        rate_limit: int | None = DEFAULT_QPS,
        **options: Unpack[RpcOptions],
    ) -> None:
        limiter = shared_limiter("aliyun-pls", access_key_id, rate_limit) if rate_limit else None
        super().__init__(
            endpoint=endpoint or endpoint_from_env(),
            version=VERSION,
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            provider=PROVIDER,
            limiter=limiter,
            **options,
        )

    # ---- binds (never re-sent: a lost answer raises Timeout(maybe_applied=True)) ------------

    async def bind_subscription(
        self,
        mode: str,
        pool_key: str,
        phone_no_a: str,
        expires_at: datetime,
        *,
        phone_no_b: str = "",
        phone_no_x: str = "",
        expect_city: str = "",
        recording: bool | None = None,
        out_id: str = "",
        out_order_id: str = "",
        call_display_type: int | None = None,
        call_restrict: str = "",
        asr_status: bool | None = None,
        asr_model_id: str = "",
        ring_config: str = "",
        call_timeout: int | None = None,
        dtmf_config: str = "",
        extension: str = "",
    ) -> SecretBind:
        """BindAxb, BindAxn or BindAxnExtension (`mode` "AXB", "AXN" or "AXN_EXT"), which share
        every parameter but three: `call_timeout` and `dtmf_config` are AXB's, `extension` is
        AXN_EXT's. X is drawn from the pool (preferring `expect_city`) unless `phone_no_x` names one.

        - AXB: A and B talk through X.
        - AXN: X is dedicated to A; any number calling X reaches A (A calling X reaches B).
        - AXN_EXT: callers dial X plus an extension (1-3 digits) to reach A. An `extension` needs
          `phone_no_x`; without one Alibaba assigns it (see SecretBind.extension).
        """
        action = _BIND_ACTIONS.get(mode)
        if action is None:
            raise ValueError(f"mode must be one of {', '.join(_BIND_ACTIONS)}, got {mode!r}")
        if mode != "AXB" and (call_timeout is not None or dtmf_config):
            raise ValueError(f"{action} takes no CallTimeout or DtmfConfig")
        if mode != "AXN_EXT" and extension:
            raise ValueError(f"{action} takes no Extension")
        if extension and not phone_no_x:
            raise ValidationError(
                "an Extension can only be chosen together with PhoneNoX",
                provider=PROVIDER,
                problems=(FieldProblem("PhoneNoX", "required when Extension is set"),),
            )
        params = _params(
            PoolKey=pool_key,
            PhoneNoA=phone_no_a,
            PhoneNoB=phone_no_b,
            PhoneNoX=phone_no_x,
            Extension=extension,
            Expiration=to_china_time(expires_at),
            ExpectCity=expect_city,
            IsRecordingEnabled=recording,
            OutId=out_id,
            OutOrderId=out_order_id,
            CallDisplayType=call_display_type,
            CallRestrict=call_restrict,
            CallTimeout=call_timeout,
            ASRStatus=asr_status,
            ASRModelId=asr_model_id,
            DtmfConfig=dtmf_config,
            RingConfig=ring_config,
        )
        body = await self.call(action, params, idempotent=False, mutates=True)
        return _secret_bind(body, action)

    async def bind_axb(self, pool_key: str, phone_no_a: str, expires_at: datetime, **options: Any) -> SecretBind:
        """BindAxb: `bind_subscription("AXB", ...)`."""
        return await self.bind_subscription("AXB", pool_key, phone_no_a, expires_at, **options)

    async def bind_axn(self, pool_key: str, phone_no_a: str, expires_at: datetime, **options: Any) -> SecretBind:
        """BindAxn: `bind_subscription("AXN", ...)`."""
        return await self.bind_subscription("AXN", pool_key, phone_no_a, expires_at, **options)

    async def bind_axn_extension(
        self, pool_key: str, phone_no_a: str, expires_at: datetime, **options: Any
    ) -> SecretBind:
        """BindAxnExtension: `bind_subscription("AXN_EXT", ...)`."""
        return await self.bind_subscription("AXN_EXT", pool_key, phone_no_a, expires_at, **options)

    # ---- changes ------------------------------------------------------------------------------

    async def unbind_subscription(self, pool_key: str, subs_id: str, secret_no: str) -> str:
        """UnbindSubscription; returns the RequestId. Re-sent like a DELETE after a lost answer: a
        second unbind answers isv.SUBS_NOT_EXIST, which `AliyunBindings.is_gone` and
        providers.outcomes read as done (the first one was applied)."""
        body = await self.call(
            "UnbindSubscription",
            _params(PoolKey=pool_key, SubsId=subs_id, SecretNo=secret_no),
            idempotent=True,
            mutates=True,
        )
        return text(body, "RequestId")

    async def update_subscription(
        self,
        pool_key: str,
        subs_id: str,
        phone_no_x: str,
        operate_type: str,
        *,
        phone_no_a: str | None = None,
        phone_no_b: str | None = None,
        expires_at: datetime | None = None,
        recording: bool | None = None,
        call_restrict: str | None = None,
        call_display_type: int | None = None,
        out_id: str | None = None,
        group_id: str | None = None,
    ) -> str:
        """UpdateSubscription with one OperateType and the one field it changes; returns the
        RequestId. Setting an absolute value twice is harmless, so this call is idempotent and
        the Transport may re-send it after a lost answer."""
        if operate_type not in OPERATE_TYPES:
            raise ValueError(f"unknown OperateType {operate_type!r}; expected one of {', '.join(OPERATE_TYPES)}")
        values: dict[str, Any] = {
            "PhoneNoA": phone_no_a,
            "PhoneNoB": phone_no_b,
            "Expiration": to_china_time(expires_at) if expires_at is not None else None,
            "IsRecordingEnabled": recording,
            "CallRestrict": call_restrict,
            "CallDisplayType": call_display_type,
            "OutId": out_id,
            "GroupId": group_id,
        }
        needed = OPERATE_TYPES[operate_type]
        if values[needed] is None:
            raise ValueError(f"OperateType {operate_type} needs {needed}")
        params = _params(PoolKey=pool_key, SubsId=subs_id, PhoneNoX=phone_no_x, OperateType=operate_type)
        params[needed] = values[needed]  # only the field being changed (the others are ignored anyway)
        body = await self.call("UpdateSubscription", params, idempotent=True, mutates=True)
        return text(body, "RequestId")

    async def update_expiration(self, pool_key: str, subs_id: str, phone_no_x: str, expires_at: datetime) -> str:
        return await self.update_subscription(pool_key, subs_id, phone_no_x, "updateExpire", expires_at=expires_at)

    async def update_phone_no_a(self, pool_key: str, subs_id: str, phone_no_x: str, phone_no_a: str) -> str:
        return await self.update_subscription(pool_key, subs_id, phone_no_x, "updateNoA", phone_no_a=phone_no_a)

    async def update_phone_no_b(self, pool_key: str, subs_id: str, phone_no_x: str, phone_no_b: str) -> str:
        return await self.update_subscription(pool_key, subs_id, phone_no_x, "updateNoB", phone_no_b=phone_no_b)

    async def update_recording(self, pool_key: str, subs_id: str, phone_no_x: str, enabled: bool) -> str:
        return await self.update_subscription(
            pool_key, subs_id, phone_no_x, "updateIsRecordingEnabled", recording=enabled
        )

    # ---- queries ------------------------------------------------------------------------------

    async def query_subscription_detail(self, pool_key: str, subs_id: str, phone_no_x: str) -> SubscriptionDetail:
        body = await self.call(
            "QuerySubscriptionDetail",
            _params(PoolKey=pool_key, SubsId=subs_id, PhoneNoX=phone_no_x),
            idempotent=True,
            mutates=False,
        )
        return _detail(body)

    async def query_subs_id(self, phone_no_x: str, pool_key: str = "") -> str | None:
        """The SubsId bound on X, or None when X has no binding (isv.SUBS_NOT_EXIST or an empty
        SubsId). One SubsId only, even when an AXB X carries several bindings."""
        try:
            body = await self.call(
                "QuerySubsId", _params(PhoneNoX=phone_no_x, PoolKey=pool_key), idempotent=True, mutates=False
            )
        except NotFound as error:
            if error.code == "isv.SUBS_NOT_EXIST":
                return None
            raise
        return text(body, "SubsId") or None

    async def query_record_file_download_url(self, pool_key: str, call_id: str, call_time: str | datetime) -> str:
        """A download URL (valid 2 hours) for a call recording. `call_time` is the receipt's
        call_time: its `yyyy-MM-dd HH:mm:ss` text, or an aware datetime (sent as China time)."""
        when = to_china_time(call_time) if isinstance(call_time, datetime) else call_time
        body = await self.call(
            "QueryRecordFileDownloadUrl",
            _params(PoolKey=pool_key, CallId=call_id, CallTime=when),
            idempotent=True,
            mutates=False,
        )
        url = text(body, "DownloadUrl")
        if not url:
            raise MalformedResponse(
                "QueryRecordFileDownloadUrl: the answer has no DownloadUrl",
                provider=PROVIDER,
                request_id=text(body, "RequestId"),
            )
        return url


def _params(**values: Any) -> dict[str, Any]:
    """Drop unset optional parameters (None and empty strings), as the SDK omits None."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


# ---------------------------------------------------------------------------------------------
# The vendor-neutral adapter


KnownX = Callable[[str], Iterable[str]] | Iterable[str]


class AliyunBindings:
    """`BindingProvider` for Alibaba Dypls: AXB, AXN and AXN-extension bindings in one pool.

    `pool` is the default PoolKey (a BindRequest or lookup may name another). `known_x` lists the
    pool's X numbers (a callable taking the PoolKey, or a fixed list) for `find_after_timeout`
    when a bind let Alibaba choose X. `other_pools` are further PoolKeys the profile names (its
    watched numbers' pools): Dypls has no API that lists an account's pools.
    """

    provider = PROVIDER
    modes: tuple[str, ...] = ("AXB", "AXN", "AXN_EXT")

    def __init__(
        self,
        client: DyplsClient,
        *,
        pool: str,
        account: str = "",
        known_x: KnownX | None = None,
        other_pools: Sequence[str] = (),
    ) -> None:
        if not pool:
            raise ValueError("a default PoolKey is needed")
        self.client = client
        self.pool = pool
        self.account = account
        self._known_x = known_x
        self._other_pools = tuple(dict.fromkeys(p for p in other_pools if p and p != pool))

    @property
    def default_pool(self) -> str:
        return self.pool

    async def pools(self) -> list[NumberPool]:
        """The account's PoolKey, then the other pools the profile names; nothing is sent."""
        mine = [NumberPool(self.pool, source="the account's pool_key")]
        return mine + [NumberPool(pool, source="a watched number's pool") for pool in self._other_pools]

    @classmethod
    def connect(
        cls,
        access_key_id: str,
        access_key_secret: str,
        *,
        pool: str,
        account: str = "",
        known_x: KnownX | None = None,
        other_pools: Sequence[str] = (),
        **client_options: Any,
    ) -> AliyunBindings:
        """Build the DyplsClient too (`client_options` are DyplsClient's keyword arguments)."""
        return cls(
            DyplsClient(access_key_id, access_key_secret, **client_options),
            pool=pool,
            account=account,
            known_x=known_x,
            other_pools=other_pools,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---- BindingProvider ----------------------------------------------------------------------

    async def bind(self, request: BindRequest) -> Binding:
        if request.mode not in self.modes:
            raise ValidationError(
                f"Alibaba Dypls offers {', '.join(self.modes)} bindings, not {request.mode}",
                provider=PROVIDER,
                problems=(FieldProblem("mode", "not offered by Alibaba"),),
            )
        expires_at = _require_aware(request.expires_at)
        pool = request.pool or self.pool
        common: dict[str, Any] = dict(
            phone_no_b=request.b,
            phone_no_x=request.x,
            expect_city=request.area_code,
            recording=request.recording,
            out_id=request.user_data,
        )
        result = await self.client.bind_subscription(
            request.mode,
            pool,
            request.a,
            expires_at,
            extension=request.extension if request.mode == "AXN_EXT" else "",
            **common,
        )
        return Binding(
            provider=PROVIDER,
            mode=request.mode,
            subscription_id=result.subs_id,
            x=result.secret_no,
            a=request.a,
            b=request.b,
            extension=result.extension if request.mode == "AXN_EXT" else "",
            expires_at=_whole_seconds(expires_at),
            recording=request.recording,
            status=ACTIVE,
            pool=pool,
            user_data=request.user_data,
            account=self.account,
            raw=result.raw,
        )

    async def update(self, binding: Binding, change: BindingChange) -> Binding:
        """One UpdateSubscription per changed field, in the order expiry, A, B, recording. If one
        fails, the ones before it were applied: the error's message says which."""
        if change.expires_at is not None:
            _require_aware(change.expires_at)
        pool = binding.pool or self.pool
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        if change.expires_at is not None:
            steps.append(
                ("updateExpire", {"expires_at": change.expires_at}, {"expires_at": _whole_seconds(change.expires_at)})
            )
        if change.a is not None:
            steps.append(("updateNoA", {"phone_no_a": change.a}, {"a": change.a}))
        if change.b is not None:
            steps.append(("updateNoB", {"phone_no_b": change.b}, {"b": change.b}))
        if change.recording is not None:
            steps.append(("updateIsRecordingEnabled", {"recording": change.recording}, {"recording": change.recording}))
        updated = binding
        done: list[str] = []
        for operate_type, kwargs, fields in steps:
            try:
                await self.client.update_subscription(pool, binding.subscription_id, binding.x, operate_type, **kwargs)
            except ProviderError as error:
                if done:
                    error.message += f" (already applied: {', '.join(done)})"
                raise
            done.append(operate_type)
            updated = dataclasses.replace(updated, **fields)
        return updated

    async def unbind(self, binding: Binding) -> None:
        await self.client.unbind_subscription(binding.pool or self.pool, binding.subscription_id, binding.x)

    async def refresh(self, binding: Binding) -> Binding:
        pool = binding.pool or self.pool
        try:
            detail = await self.client.query_subscription_detail(pool, binding.subscription_id, binding.x)
        except NotFound as error:
            if error.code == "isv.SUBS_NOT_EXIST":
                return dataclasses.replace(binding, status=REMOVED)
            raise
        return self._from_detail(detail, pool, base=binding)

    async def lookup(self, *, x: str = "", subscription_id: str = "", pool: str = "") -> list[Binding]:
        """By X (QuerySubsId, then the detail) or by X and SubsId. Alibaba cannot look a binding
        up by SubsId alone: every lookup needs the X number."""
        if not x:
            raise ValidationError(
                "Alibaba looks bindings up by their X number (PhoneNoX); give X",
                provider=PROVIDER,
                problems=(FieldProblem("x", "required by Alibaba Dypls"),),
            )
        pool = pool or self.pool
        subs_id = subscription_id or await self.client.query_subs_id(x, pool)
        if not subs_id:
            return []
        try:
            detail = await self.client.query_subscription_detail(pool, subs_id, x)
        except NotFound as error:
            if error.code == "isv.SUBS_NOT_EXIST":
                return []
            raise
        return [self._from_detail(detail, pool)]

    async def find_after_timeout(self, request: BindRequest) -> list[Binding]:
        """Active bindings on the asked X (or on the known X numbers of the pool) with the same A
        and B (and extension) and exactly the expiry this request sent (to the second, as Alibaba
        stores it). See the module docstring for what can and cannot be found: when nothing
        matches and absence cannot be proved (no X to ask; an AXB X, where QuerySubsId shows only
        the newest binding), it raises `CannotCheck`."""
        pool = request.pool or self.pool
        if request.x:
            candidates = [request.x]
        else:
            candidates = list(dict.fromkeys(self._candidates(pool)))
        if not candidates:
            raise CannotCheck(
                "the bind may have been applied, and Alibaba cannot find a binding without its X number "
                "(no API lists bindings; QuerySubsId needs PhoneNoX): check the pool in the Alibaba console "
                "before binding again",
                provider=PROVIDER,
                maybe_applied=True,
            )
        expiry = request.expires_at
        sent_expiry = _whole_seconds(expiry) if expiry is not None and expiry.tzinfo is not None else None
        found: list[Binding] = []
        for x in candidates:
            for binding in await self.lookup(x=x, pool=pool):
                if binding.status != ACTIVE or binding.a != request.a:
                    continue
                if request.b and binding.b != request.b:
                    continue
                if request.mode == "AXN_EXT" and request.extension and binding.extension != request.extension:
                    continue
                if sent_expiry is not None and binding.expires_at is not None and binding.expires_at != sent_expiry:
                    continue
                found.append(dataclasses.replace(binding, mode=request.mode, user_data=request.user_data))
        if not found and request.mode == "AXB":
            raise CannotCheck(
                "no binding matching what was sent is the newest on the X numbers checked, but Alibaba "
                "shows only the newest AXB binding of each X, so an older one cannot be ruled out",
                provider=PROVIDER,
                maybe_applied=True,
            )
        return found

    async def recording_link(self, recording: Recording) -> RecordingLink:
        """QueryRecordFileDownloadUrl with what the SecretRecording receipt said (its locator:
        CallId, CallTime, PoolKey). The link lives 2 hours: until the `Expires` its signed URL
        names, else 2 hours from now."""
        from providers.calls import RecordingLink

        locator = recording.locator
        call_id = locator.get("CallId") or recording.call_id
        call_time = locator.get("CallTime", "")
        if not call_id or not call_time:
            raise ValidationError(
                "this recording's receipt did not say its CallId and CallTime, which Alibaba needs",
                provider=PROVIDER,
                problems=(
                    FieldProblem("CallTime" if call_id else "CallId", "missing from the SecretRecording receipt"),
                ),
            )
        url = await self.client.query_record_file_download_url(locator.get("PoolKey") or self.pool, call_id, call_time)
        now = datetime.fromtimestamp(self.client.now(), UTC)
        expires_at = _link_expiry(url) or now + RECORDING_LINK_LIFETIME
        return RecordingLink(url=url, expires_at=expires_at, lifetime=RECORDING_LINK_LIFETIME_WORDS)

    def is_gone(self, error: ProviderError) -> bool:
        """An unbind answered isv.SUBS_NOT_EXIST: the binding no longer exists."""
        return isinstance(error, NotFound) and error.code == "isv.SUBS_NOT_EXIST"

    # ---- helpers ------------------------------------------------------------------------------

    def _candidates(self, pool: str) -> Iterable[str]:
        if self._known_x is None:
            return ()
        if callable(self._known_x):
            return self._known_x(pool)
        return self._known_x

    def _from_detail(self, detail: SubscriptionDetail, pool: str, base: Binding | None = None) -> Binding:
        if base is not None:
            mode = base.mode
        elif detail.extension:
            mode = "AXN_EXT"
        else:
            # The detail does not say; an AXN binding that was given a B looks like AXB here.
            mode = "AXB" if detail.phone_no_b else "AXN"
        status = ACTIVE if detail.status == 1 else EXPIRED if detail.status == 0 else (base.status if base else ACTIVE)
        fields: dict[str, Any] = dict(
            provider=PROVIDER,
            mode=mode,
            subscription_id=detail.subs_id,
            x=detail.phone_no_x or (base.x if base else ""),
            a=detail.phone_no_a,
            b=detail.phone_no_b,
            extension=detail.extension,
            expires_at=detail.expires_at,
            recording=detail.need_record,
            status=status,
            pool=pool,
            account=self.account,
            raw=detail.raw,
        )
        if base is not None:
            return dataclasses.replace(base, **fields)
        return Binding(**fields)


def _require_aware(moment: datetime | None) -> datetime:
    if moment is None:
        raise ValidationError(
            "Alibaba bindings need an expiry", provider=PROVIDER, problems=(FieldProblem("expires_at", "required"),)
        )
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            "the expiry needs a time zone (Alibaba reads it as China time, UTC+8)",
            provider=PROVIDER,
            problems=(FieldProblem("expires_at", "naive datetime"),),
        )
    return moment


def _link_expiry(url: str) -> datetime | None:
    """When a signed OSS link stops working, from its `Expires` (epoch seconds), if it says."""
    values = parse_qs(urlsplit(url).query).get("Expires", [])
    if len(values) != 1 or not values[0].isascii() or not values[0].isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(values[0]), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _whole_seconds(moment: datetime) -> datetime:
    """What Alibaba stores: the time to the second, in UTC."""
    return moment.astimezone(UTC).replace(microsecond=0)


__all__ = [
    "CHINA_TZ",
    "DEFAULT_ENDPOINT",
    "ENDPOINT_ENV",
    "OPERATE_TYPES",
    "VERSION",
    "AliyunBindings",
    "DyplsClient",
    "SecretBind",
    "SubscriptionDetail",
    "endpoint_from_env",
    "from_china_time",
    "to_china_time",
]
