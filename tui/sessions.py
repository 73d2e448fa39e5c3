"""Build a ProviderSession from a configured profile (tui/config.py), and test one account.

Config belongs to the UI (it reads TOML files and the secrets file); providers/ only gets
credentials and settings as plain arguments, so it never imports this module.
"""

from __future__ import annotations

from typing import Any

from providers.cache import ResultCache
from providers.errors import AuthError, ProviderError
from providers.session import ProviderSession, sandbox_session
from providers.transport import OfflineTransport
from tui.config import AccountConfig, Profile, credentials_for


def _client_options(read_only: bool, offline: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"read_only": read_only}
    if offline:
        options["http_transport"] = OfflineTransport()
    return options


def _endpoint(account: AccountConfig) -> str | None:
    return account.effective_endpoint or None


def telnyx_client(account: AccountConfig, credentials: dict[str, str], options: dict[str, Any]):
    from providers.telnyx.client import TelnyxClient

    return TelnyxClient(credentials["api_key"], base_url=_endpoint(account), **options)


def binding_provider(account: AccountConfig, credentials: dict[str, str], options: dict[str, Any]):
    """The BindingProvider for one privacy-number account."""
    if account.kind == "aliyun-pls":
        from providers.aliyun.pls import AliyunBindings

        return AliyunBindings.connect(
            credentials["access_key_id"],
            credentials["access_key_secret"],
            pool=account.pool_key,
            account=account.label,
            known_x=tuple(account.watch_x),
            endpoint=_endpoint(account),
            security_token=credentials.get("security_token") or None,
            **options,
        )
    if account.kind == "huawei":
        from providers.huawei.privatenumber import HuaweiBindings

        return HuaweiBindings.connect(
            credentials["app_key"],
            credentials["app_secret"],
            account=account.label,
            known_x=tuple(account.watch_x),
            base_url=_endpoint(account),
            **options,
        )
    if account.kind == "volcengine":
        from providers.volcengine.vms import VmsClient, VolcBindings

        client = VmsClient(
            credentials["access_key_id"],
            credentials["secret_access_key"],
            endpoint=_endpoint(account),
            region=account.effective_region or "cn-north-1",
            **options,
        )
        return VolcBindings(client, account=account.label, default_pool=account.number_pool_no)
    raise ValueError(f"{account.kind} is not a privacy-number provider")


def cams_client(account: AccountConfig, credentials: dict[str, str], options: dict[str, Any]):
    from providers.aliyun.cams import CamsClient

    return CamsClient(
        credentials["access_key_id"],
        credentials["access_key_secret"],
        endpoint=_endpoint(account),
        security_token=credentials.get("security_token") or None,
        **options,
    )


PROVIDER_OF_KIND = {"aliyun-pls": "aliyun", "huawei": "huawei", "volcengine": "volcengine"}


def open_profile_session(
    profile: Profile, *, read_only: bool = False, offline: bool = False, cache: ResultCache | None = None
) -> ProviderSession:
    """The session for `profile`. Raises tui.config.ConfigError (missing credential, secrets file
    permissions) before anything is opened, so the caller can show one clear message."""
    read_only = read_only or profile.read_only or offline  # offline refuses every change
    if profile.is_sandbox:
        session = _offline_sandbox_session() if offline else sandbox_session(read_only=read_only)
    else:
        options = _client_options(read_only, offline)
        session = ProviderSession(profile=profile.name, telnyx=None, sandbox=False, read_only=read_only)
        endpoints = []
        for account in profile.accounts:
            credentials = credentials_for(profile, account)
            if account.kind == "telnyx" and session.telnyx is None:
                session.telnyx = telnyx_client(account, credentials, options)
                endpoints.append(f"telnyx {session.telnyx.base_url}")
            elif account.kind == "aliyun-cams" and session.cams is None:
                session.cams, session.cams_space = cams_client(account, credentials, options), account.cust_space_id
            elif account.kind in PROVIDER_OF_KIND:
                provider = binding_provider(account, credentials, options)
                name = PROVIDER_OF_KIND[account.kind]
                session.binding_providers.setdefault(name, provider)
                pool = account.pool_key or account.number_pool_no
                watched = tuple((x, pool) if pool else x for x in account.watch_x)
                session.watch_x[name] = session.watch_x.get(name, ()) + watched
        session.endpoint = ", ".join(endpoints) or f"{len(profile.accounts)} account(s)"
    session.offline = offline
    session.cache = cache if cache is not None else ResultCache()
    return session


def _offline_sandbox_session() -> ProviderSession:
    """The sandbox profile with no network: a Telnyx client that sends nothing, so the screens show
    the cache (keyed like the online sandbox's), and no emulator is loaded at all."""
    from providers.session import SANDBOX_BASE_URL
    from providers.telnyx.client import TelnyxClient

    client = TelnyxClient("offline", base_url=SANDBOX_BASE_URL, http_transport=OfflineTransport(), read_only=True)
    return ProviderSession(profile="sandbox", telnyx=client, sandbox=True, read_only=True, endpoint="built-in sandbox")


async def _test_sandbox_account(account: AccountConfig) -> str:
    """The same cheap read as for a real account, against the built-in emulator of its kind."""
    session = sandbox_session(read_only=True)
    try:
        if account.kind == "telnyx":
            page = await anext(session.telnyx.billing_group_pages())
            return f"sandbox Telnyx answered: {page.total_results or len(page.items)} billing groups"
        session.load_pending()
        if account.kind == "aliyun-cams":
            numbers = await session.cams.query_phone_numbers(session.cams_space)
            return f"sandbox CAMS answered: {len(numbers)} WhatsApp numbers in {session.cams_space}"
        name = PROVIDER_OF_KIND[account.kind]
        watched = session.watch_x.get(name, ())[0]
        x, pool = watched if isinstance(watched, tuple) else (watched, "")
        found = await session.binding_providers[name].lookup(x=x, pool=pool)
        return f"sandbox {account.kind} answered: {len(found)} binding(s) on {x}"
    finally:
        await session.aclose()


async def test_account(profile: Profile, account: AccountConfig) -> str:
    """One cheap read with this account's credentials; a line to show, or a ProviderError."""
    if profile.is_sandbox:
        return await _test_sandbox_account(account)
    credentials = credentials_for(profile, account)
    options = {"read_only": True}
    if account.kind == "telnyx":
        client = telnyx_client(account, credentials, options)
        try:
            page = await anext(client.billing_group_pages())
        finally:
            await client.aclose()
        return f"Telnyx answered: {page.total_results or len(page.items)} billing groups visible"
    if account.kind == "aliyun-cams":
        client = cams_client(account, credentials, options)
        try:
            numbers = await client.query_phone_numbers(account.cust_space_id)
        finally:
            await client.aclose()
        return f"CAMS answered: {len(numbers)} WhatsApp numbers in {account.cust_space_id}"
    provider = binding_provider(account, credentials, options)
    probe = account.watch_x[0] if account.watch_x else ""
    try:
        if account.kind == "volcengine":
            pools = await provider.client.number_pool_list()
            return f"Volcengine answered: {len(getattr(pools, 'items', pools))} number pool(s)"
        if not probe:
            return "credentials are set; add an X number to watch_x so the test can make a real call"
        found = await provider.lookup(x=probe, pool=account.pool_key)
        return f"{account.kind} answered: {len(found)} binding(s) on {probe}"
    except AuthError:
        raise
    except ProviderError as error:
        # Any answer past authentication proves the credentials and the endpoint work.
        return f"credentials accepted; the test call answered {error.summary()}"
    finally:
        await provider.aclose()
