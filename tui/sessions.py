"""Profiles (tui/config.py) to sessions: every way the UI opens one goes through here.

Config belongs to the UI (it reads TOML files and the secrets file); providers/ gets plain
`Account` values and builds the clients in `providers.session.open_session`, the one factory,
which applies offline, read-only and the endpoint rule to every client. This module only turns a
profile into those values and turns what can go wrong before anything is sent into ConfigError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.accounts import Account
from providers.cache import ResultCache
from providers.endpoints import EndpointRefused
from providers.errors import AuthError, Offline, ProviderError, Timeout, Unavailable
from providers.session import ProviderSession, TransportWrapper, open_session, sandbox_session
from providers.vendors import descriptor
from tui.config import (
    AccountConfig,
    Config,
    ConfigError,
    MissingCredentialError,
    Profile,
    config_path,
    credentials_for,
    ledger_password,
    load_config,
    resolve_profile,
    sandbox_profile,
    validate_profile,
)

if TYPE_CHECKING:
    from providers.ledger_store import PostgresTarget

# Settings an Account carries in fields of its own; a kind's other settings are its vendor's.
ACCOUNT_FIELDS = ("endpoint", "region", "watch_x")


def account_values(profile: Profile, account: AccountConfig) -> Account:
    """One configured account with its credentials resolved (MissingCredentialError if one is not
    where the config says)."""
    vendor = descriptor(account.kind)
    settings = {name: str(getattr(account, name)) for name in vendor.settings if name not in ACCOUNT_FIELDS}
    rules = vendor.bindings
    pool = settings.get(rules.pool_setting, "") if rules is not None and rules.pool_setting else ""
    return Account(
        kind=account.kind,
        label=account.label,
        credentials=credentials_for(profile, account),
        endpoint=account.endpoint,
        region=account.region,
        settings={k: v for k, v in settings.items() if v},
        watch=tuple((x.strip(), pool) for x in account.watch_x),
    )


def ledger_target(profile: Profile, config: Config) -> PostgresTarget | None:
    """The shared PostgreSQL ledger `profile` uses ([ledger] in config.toml), its password
    resolved; None for each user's own file (no [ledger], or the sandbox, which never shares).
    MissingCredentialError when the password is not where the config says."""
    if profile.is_sandbox or config.ledger is None:
        return None
    from providers.ledger_store import PostgresTarget  # only a team's config needs it at start

    return PostgresTarget(config.ledger.url, ledger_password(config.ledger))


def open_profile_session(
    profile: Profile,
    *,
    read_only: bool = False,
    offline: bool = False,
    cache: ResultCache | None = None,
    config: Config | None = None,
    shared_ledger: bool = True,
    wrap_transport: TransportWrapper | None = None,
) -> ProviderSession:
    """The session for `profile`, on the ledger `config` (default: config.toml as it is now)
    names. Raises ConfigError (a profile `validate_profile` refuses, a missing credential, the
    shared ledger's password missing, a secrets file others can read, an endpoint or override
    variable that breaks the endpoint rule) before anything is opened, so the caller shows one
    clear line. `shared_ledger=False` (an account test) leaves the ledger alone.
    `wrap_transport`: see `providers.session.open_session` (a dry run's recorder)."""
    read_only = read_only or profile.read_only
    cache = cache if cache is not None else ResultCache()
    # A hand-written config is read as it is; the profile about to be used must be valid (an
    # unknown kind, a plain-http endpoint, a missing setting), said in one line, before anything opens.
    problems = validate_profile(profile)
    if problems:
        listed = "; ".join(f"{field}: {message}" for field, message in problems.items())
        raise ConfigError(f"profile {profile.name!r} cannot be used: {listed}", path=config_path())
    if profile.is_sandbox:
        kinds = [account.kind for account in profile.accounts]
        return sandbox_session(
            read_only=read_only, offline=offline, cache=cache, kinds=kinds, wrap_transport=wrap_transport
        )
    accounts: list[Account] = []
    left_out: list[str] = []
    for account in profile.accounts:
        try:
            accounts.append(account_values(profile, account))
        except MissingCredentialError as error:  # the profile's other accounts still open
            left_out.append(f"{account.kind} account {account.label!r} left out: {error}")
    if left_out and not accounts:
        raise ConfigError("; ".join(left_out))
    # Read here, not passed down only by the app: a session that silently fell back to a local
    # file while the team writes to the shared ledger would split what everyone sees.
    target = ledger_target(profile, config if config is not None else load_config()) if shared_ledger else None
    try:
        session = open_session(
            profile.name,
            accounts,
            read_only=read_only,
            offline=offline,
            cache=cache,
            ledger_target=target,
            wrap_transport=wrap_transport,
        )
    except EndpointRefused as error:
        raise ConfigError(f"profile {profile.name!r}: {error}") from None
    session.left_out = tuple(left_out)
    return session


def open_command_line_session(
    *,
    sandbox: bool = False,
    read_only: bool = False,
    profile: str | None = None,
    offline: bool = False,
    wrap_transport: TransportWrapper | None = None,
) -> tuple[Config, ProviderSession]:
    """The config and the session the command line's flags choose, for the console and the
    headless commands alike: --sandbox, else --profile (then $TELEDECK_PROFILE, the config's
    default, the environment's accounts, the sandbox); --offline implies --read-only. Raises
    ConfigError before anything is opened."""
    config = load_config()
    chosen = sandbox_profile() if sandbox else resolve_profile(profile, config=config)
    session = open_profile_session(
        chosen, read_only=read_only or offline, offline=offline, config=config, wrap_transport=wrap_transport
    )
    return config, session


async def test_account(profile: Profile, account: AccountConfig, *, offline: bool = False) -> str:
    """One cheap read with this account's credentials (the sandbox's own for the built-in
    profile); a line to show, or a ProviderError. Offline, nothing is sent: Offline is raised."""
    if offline:
        raise Offline(f"offline: testing {account.label} would send a request; nothing was sent", provider=account.kind)
    one_account = Profile(profile.name, accounts=[account], builtin=profile.builtin)
    session = open_profile_session(one_account, read_only=True, cache=ResultCache(persist=False), shared_ledger=False)
    try:
        connection = next(c for c in session.connections if c.account.label == account.label)
        client = connection.open()
        try:
            answer = await connection.vendor.probe(client, connection.account)
        except (AuthError, Unavailable, Timeout):
            raise
        except ProviderError as error:
            if connection.vendor.bindings is None:
                raise
            # A binding vendor's refusal of the probe itself (no such X, no such pool) comes
            # after authentication: it proves the credentials and the endpoint work.
            answer = f"credentials accepted; the test call answered {error.summary()}"
        return f"sandbox {answer}" if profile.is_sandbox else answer
    finally:
        await session.aclose()
