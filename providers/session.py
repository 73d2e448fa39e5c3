"""The one way to reach providers: `open_session` builds a `ProviderSession` for a set of accounts.

Every way in goes through `open_session`: a configured profile, the environment's TELNYX_API_KEY,
the built-in sandbox, and the Profiles screen's account tests. It applies the rules once, for
every client it builds:

- **offline**: every client gets a transport that refuses before a request is built, and every
  change is refused (offline implies read-only);
- **read-only**: every client's transport refuses changes before sending;
- **endpoints**: each account's endpoint (or its vendor's override variable, or the default) is
  checked against the one endpoint rule (providers/endpoints.py) when the session opens.

Clients are connected on first use, so opening a session costs no vendor import and the
sandbox's emulators load only when a screen needs them; `aconnection` connects in a worker
thread, so the event loop keeps painting while httpx, the vendor's client and the emulator are
imported and built. Asking for a provider the profile has no account for raises
`MissingAccount`, a ProviderError that names what is missing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from providers.accounts import Account
from providers.errors import MissingAccount, Offline, ProviderError, ReadOnlyRefused, ValidationError
from providers.vendors import ConnectOptions, VendorDescriptor, descriptor

if TYPE_CHECKING:
    import httpx

    from providers.audit import AuditLog
    from providers.bindings import BindingProvider
    from providers.cache import ResultCache
    from providers.ledger import BindingLedger
    from providers.ledger_store import PostgresTarget
    from providers.outcomes import WriteOutcome
    from providers.pushes import PushReply, PushRequest, ReceiverKey
    from providers.receiver import Receiver
    from providers.sandbox.base import Delivery, PushSink, SimulatedCall

SANDBOX = "sandbox"
T = TypeVar("T")
# open_session's `wrap_transport`: (provider, the httpx transport it would use or None) -> the one it uses.
TransportWrapper = Callable[[str, "httpx.AsyncBaseTransport | None"], "httpx.AsyncBaseTransport"]
log = logging.getLogger("teledeck.session")


@dataclass
class SandboxBackend:
    """The built-in sandbox: one emulator per vendor, in process, created on first use.

    State lives in `state_dir` (the user data dir by default) and persists across runs; tests
    hand in their own `emulators` (faults, fixed clocks) by provider name. An offline session
    builds emulators in memory only (`persist=False`), to learn the sandbox's identifiers:
    nothing is written.
    """

    state_dir: Path | None = None
    emulators: dict[str, Any] = field(default_factory=dict)
    persist: bool = True
    clock: Callable[[], float] = time.time
    # Where each emulator's simulated calls push (set on it when first asked for, unless it has a
    # sink already): the sandbox session's in-process receiver (see `sandbox_session`).
    push_sink_for: Callable[[VendorDescriptor, Any], PushSink | None] | None = None

    # Emulators may be built in worker threads (ProviderSession.aconnection): one at a time, so
    # two screens asking at once share one emulator and one state file.
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)

    def emulator(self, vendor: VendorDescriptor) -> Any:
        with self._lock:
            emulator = self._emulator(vendor)
            if self.push_sink_for is not None and getattr(emulator, "push_sink", None) is None:
                emulator.push_sink = self.push_sink_for(vendor, emulator)
            return emulator

    def _emulator(self, vendor: VendorDescriptor) -> Any:
        if vendor.provider not in self.emulators:
            from providers.paths import sandbox_state_dir
            from providers.sandbox.state import StateStore

            cls = vendor.emulator.load()
            directory = self.state_dir or sandbox_state_dir()
            store = StateStore(directory / cls.STATE_FILE) if self.persist else None
            self.emulators[vendor.provider] = cls(store, clock=self.clock)
        return self.emulators[vendor.provider]

    def transport(self, vendor: VendorDescriptor) -> httpx.AsyncBaseTransport:
        from providers.sandbox.http import AsyncInProcessTransport

        return AsyncInProcessTransport(self.emulator(vendor))


@dataclass
class Connection:
    """One account of the session and, once something asked for it, its connected client."""

    vendor: VendorDescriptor
    account: Account
    connect: Callable[[], tuple[Account, Any]]
    client: Any = None
    # `open` may run in a worker thread (ProviderSession.aconnection) while the event loop asks
    # for the same client: the second caller waits for the first, and one client is built.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def connected(self) -> bool:
        return self.client is not None

    def open(self) -> Any:
        if self.client is None:
            with self._lock:
                if self.client is None:
                    self.account, self.client = self.connect()
        return self.client


@dataclass
class ProviderSession:
    profile: str
    sandbox: bool
    read_only: bool
    offline: bool = False
    # What the header shows as the provider endpoint (never a credential).
    endpoint: str = ""
    connections: list[Connection] = field(default_factory=list)
    # The wall clock (epoch seconds) for countdowns and signing; tests fix it.
    clock: Callable[[], float] = time.time
    # providers.cache.ResultCache of list results, or None for no caching.
    cache: ResultCache | None = None
    # The ledger of bindings, calls and (when shared) the audit, opened on first use: the team's
    # PostgreSQL ledger when `ledger_target` is set, else the file at this path (default: the
    # user data dir).
    ledger_path: Path | None = None
    ledger_target: PostgresTarget | None = None
    # Accounts the profile names but that could not be opened, each as one line saying why (a
    # credential's variable unset): the others still work, and the UI says what was left out.
    left_out: tuple[str, ...] = ()
    # The audit log of changes (providers/audit.py), at this path (default: the user data dir).
    audit_path: Path | None = None
    # The built-in sandbox's emulators (None for a real profile): simulated calls are made there.
    sandbox_backend: SandboxBackend | None = None
    _ledger: BindingLedger | None = None
    _audit: AuditLog | None = None
    # The ledger is opened by whichever thread asks first (the event loop, a worker, the sandbox's
    # in-process receiver): one object, which is thread-safe itself (providers/ledger.py).
    _ledger_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    # ---- accounts and clients -------------------------------------------------------------

    def connections_of(self, provider: str) -> list[Connection]:
        return [c for c in self.connections if c.vendor.provider == provider]

    def has(self, provider: str) -> bool:
        """Whether this profile has an account for `provider` (a ResourceSpec.provider name)."""
        return bool(self.connections_of(provider))

    def connection(self, provider: str) -> Connection:
        """The first account of `provider`, connected; MissingAccount when the profile has none."""
        found = self.connections_of(provider)
        if not found:
            raise MissingAccount(f"no {provider} account in this profile", provider=provider)
        found[0].open()
        return found[0]

    async def aconnection(self, provider: str) -> Connection:
        """`connection(provider)`, its client built in a worker thread when it is not yet: the
        first connect imports httpx and the vendor's client and, in the sandbox, loads the
        emulator and its state, which would hold up the event loop (and the screen's paint)."""
        found = self.connections_of(provider)
        if not found:
            raise MissingAccount(f"no {provider} account in this profile", provider=provider)
        if not found[0].connected:
            await asyncio.to_thread(found[0].open)
        return found[0]

    def client(self, provider: str) -> Any:
        """The connected client of `provider`'s first account (its vendor's client class)."""
        return self.connection(provider).client

    def account(self, provider: str) -> Account:
        """`provider`'s first account as connected (for the sandbox: the emulator's identifiers)."""
        return self.connection(provider).account

    def connect_all(self) -> None:
        """Connect every account now (screens that show all vendors at once ask for this)."""
        for connection in self.connections:
            connection.open()

    @property
    def binding_providers(self) -> dict[str, BindingProvider]:
        """The first account of each privacy-number vendor, by provider name, connected."""
        providers: dict[str, BindingProvider] = {}
        for connection in self.connections:
            if connection.vendor.bindings is not None and connection.vendor.provider not in providers:
                providers[connection.vendor.provider] = connection.open()
        return providers

    @property
    def watch_x(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """The X numbers a refresh looks up, as (X, pool) pairs, by provider (every account's)."""
        watched: dict[str, tuple[tuple[str, str], ...]] = {}
        for connection in self.connections:
            if connection.vendor.bindings is None:
                continue
            connection.open()
            name = connection.vendor.provider
            watched[name] = watched.get(name, ()) + connection.account.watch
        return watched

    # ---- the ledger, modes, closing -------------------------------------------------------

    @property
    def ledger(self) -> BindingLedger:
        if self._ledger is None:
            with self._ledger_lock:
                if self._ledger is None:
                    from providers.ledger import open_ledger

                    # The session's clock, so "expired" in the ledger agrees with the countdown on screen.
                    self._ledger = open_ledger(
                        self.ledger_path,
                        postgres=self.ledger_target,
                        clock=lambda: datetime.fromtimestamp(self.clock(), UTC),
                    )
        return self._ledger

    # ---- simulated calls (the built-in sandbox) ---------------------------------------------

    async def place_simulated_call(
        self, provider: str, *, outcome: str, binding_id: str = "", x: str = ""
    ) -> tuple[SimulatedCall, list[Delivery]]:
        """Have the sandbox's `provider` emulator make up a call (`outcome`: one of
        providers.sandbox.base.SIMULATED_OUTCOMES) on the binding `binding_id`, or for "no
        binding" on the X `x`, and push it the vendor's way to the session's in-process receiver,
        which stores it in the ledger. Runs in a worker thread. Refused outside the sandbox, and
        in a read-only or offline session (it writes the ledger); the emulator's refusal (an
        unknown binding) is a ProviderError with its words."""
        backend = self.sandbox_backend
        if backend is None:
            raise ProviderError(
                f"simulated calls are the built-in sandbox's; profile {self.profile!r} reaches the real "
                f"{provider} service, whose calls only its pushes tell of",
                provider=provider,
            )
        if self.read_only:
            refused = Offline if self.offline else ReadOnlyRefused
            raise refused(
                f"{self.read_only_reason}: a simulated call stores its pushes in the ledger; no call was made",
                provider=provider,
            )
        from providers.sandbox.base import SIMULATED_OUTCOMES

        if outcome not in SIMULATED_OUTCOMES:
            raise ValidationError(
                f"a simulated call's outcome is one of {', '.join(SIMULATED_OUTCOMES)}, not {outcome!r}",
                provider=provider,
            )
        found = self.connections_of(provider)
        if not found:
            raise MissingAccount(f"no {provider} account in this profile", provider=provider)
        vendor = found[0].vendor
        if vendor.bindings is None:
            raise ProviderError(f"{provider} has no privacy numbers to call", provider=provider)

        def place() -> tuple[SimulatedCall, list[Delivery]]:
            emulator = backend.emulator(vendor)
            try:
                placed: tuple[SimulatedCall, list[Delivery]] = emulator.place_call(
                    outcome=outcome, binding_id=binding_id, x=x
                )
            except NotImplementedError:
                raise ProviderError(f"the {provider} sandbox does not simulate calls", provider=provider) from None
            except emulator.error_type as error:  # the emulator's own refusal, in its words
                raise ProviderError(str(error), provider=provider, code=str(getattr(error, "code", ""))) from None
            return placed

        return await asyncio.to_thread(place)

    # ---- the audit log ---------------------------------------------------------------------

    @property
    def audit(self) -> AuditLog:
        if self._audit is None:
            from providers.audit import AuditLog, default_audit_path

            # A team on a shared ledger shares its audit too; the file stays the local record.
            target = self.ledger_target
            self._audit = AuditLog(
                self.audit_path if self.audit_path is not None else default_audit_path(),
                shared=(lambda: self.ledger) if target is not None else None,
                shared_location=target.shown if target is not None else "",
            )
        return self._audit

    def credential_values(self) -> list[str]:
        """Every credential value of this profile's accounts: what must never be written where a
        user's typing is kept (the `:` prompt's history)."""
        return [value for c in self.connections for value in c.account.credentials.values() if value]

    def account_label(self, provider: str) -> str:
        found = self.connections_of(provider)
        return found[0].account.label if found else ""

    async def audited(
        self,
        provider: str,
        write: Callable[[], Awaitable[WriteOutcome[T]]],
        *,
        verb: str,
        resource: str,
        record_id: str | Callable[[WriteOutcome[T]], str],
    ) -> WriteOutcome[T]:
        """Run `write` (a settle_* call: it never raises a ProviderError) and append its outcome
        to the audit log, with the vendor request ids its answers carried. `record_id` may be
        worked out from the outcome (a create learns its id from the answer). A cancelled write
        is recorded as unknown: it may have reached the provider."""
        from providers.audit import collect_request_ids, detail_of, outcome_word

        with collect_request_ids() as ids:
            try:
                outcome = await write()
            except BaseException as exc:
                shown = record_id if isinstance(record_id, str) else ""
                self.note_change(provider, verb, resource, shown, "unknown", ids, f"interrupted: {type(exc).__name__}")
                raise
        shown = record_id if isinstance(record_id, str) else record_id(outcome)
        self.note_change(provider, verb, resource, shown, outcome_word(outcome), ids, detail_of(outcome))
        return outcome

    async def audited_call(
        self,
        provider: str,
        change: Callable[[], Awaitable[T]],
        *,
        verb: str,
        resource: str,
        record_id: str,
    ) -> T:
        """Run `change`, a change that raises a ProviderError rather than settling (a resource's
        own action: rotate a secret, verify a provider), and append what became of it: done,
        failed, or unknown (an error that leaves the outcome open, or interrupted). Its error
        is raised on, for the caller to show."""
        from providers.audit import collect_request_ids
        from providers.outcomes import is_ambiguous

        with collect_request_ids() as ids:
            try:
                result = await change()
            except ProviderError as error:
                said = "unknown" if is_ambiguous(error) else "failed"
                self.note_change(provider, verb, resource, record_id, said, ids, error.summary())
                raise
            except BaseException as exc:
                self.note_change(
                    provider, verb, resource, record_id, "unknown", ids, f"interrupted: {type(exc).__name__}"
                )
                raise
        self.note_change(provider, verb, resource, record_id, "done", ids)
        return result

    def note_change(
        self,
        provider: str,
        verb: str,
        resource: str,
        record_id: str,
        outcome: str,
        request_ids: Sequence[str] = (),
        detail: str = "",
    ) -> bool:
        """One audit line; False (logged) when the file cannot be written: the change itself
        stands, and losing its record must not turn a done change into an error."""
        try:
            self.audit.record(
                profile=self.profile,
                account=self.account_label(provider) or provider,
                verb=verb,
                resource=resource,
                record_id=record_id,
                outcome=outcome,
                request_id=request_ids[-1] if request_ids else "",
                detail=detail,
            )
        except OSError as exc:
            log.warning("audit log not written (%s): %s %s %s", type(exc).__name__, verb, resource, record_id)
            return False
        return True

    @property
    def read_only_reason(self) -> str:
        return "offline" if self.offline else "read-only"

    async def aclose(self) -> None:
        for connection in self.connections:
            if connection.connected:
                await connection.client.aclose()


def open_session(
    profile: str,
    accounts: Sequence[Account],
    *,
    sandbox: SandboxBackend | None = None,
    read_only: bool = False,
    offline: bool = False,
    cache: ResultCache | None = None,
    clock: Callable[[], float] = time.time,
    ledger_path: Path | None = None,
    ledger_target: PostgresTarget | None = None,
    audit_path: Path | None = None,
    client_options: Mapping[str, Mapping[str, Any]] | None = None,
    http_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    wrap_transport: TransportWrapper | None = None,
) -> ProviderSession:
    """The session for `accounts` (each an account of a registered kind), on the PostgreSQL
    ledger `ledger_target` when given, else the ledger file `ledger_path`.

    With `sandbox`, each account is served by its vendor's emulator, whose own credentials and
    identifiers replace the account's. `client_options` (by provider name) and `http_transports`
    (by provider name) are for tests and benchmarks. `wrap_transport(provider, transport)` is
    given the httpx transport each client would use (None: httpx's own, to the network) and
    returns the one it gets: a dry run's recorder (providers/dryrun.py) that lets reads through
    and stops changes; never in an offline session, which sends nothing anyway. Raises
    `providers.endpoints.EndpointRefused` for an endpoint that breaks the endpoint rule, and
    KeyError for an unknown kind, before any client is built.
    """
    read_only = read_only or offline  # offline refuses every change
    options = client_options or {}
    transports = http_transports or {}
    connections: list[Connection] = []
    shown: list[str] = []
    for account in accounts:
        vendor = descriptor(account.kind)
        endpoint = vendor.sandbox_endpoint() if sandbox is not None else vendor.endpoint_for(account)
        shown.append(f"{vendor.provider} {endpoint}")

        def connect(
            vendor: VendorDescriptor = vendor, account: Account = account, endpoint: str = endpoint
        ) -> tuple[Account, Any]:
            transport = transports.get(vendor.provider)
            if offline:
                from providers.transport import OfflineTransport

                transport = OfflineTransport()
            if sandbox is not None:
                account = replace(sandbox.emulator(vendor).session_account(), label=account.label)
                if transport is None:
                    transport = sandbox.transport(vendor)
            if wrap_transport is not None and not offline:
                transport = wrap_transport(vendor.provider, transport)
            connect_options = ConnectOptions(
                endpoint=endpoint,
                region=account.region or vendor.default_region,
                read_only=read_only,
                clock=clock,
                http_transport=transport,
                extra=options.get(vendor.provider, {}),
            )
            return account, vendor.connect(account, connect_options)

        connections.append(Connection(vendor, account, connect))
    if sandbox is not None:
        endpoint_text = "built-in sandbox"
    else:  # the first account's endpoint; the Profiles screen lists them all
        endpoint_text = shown[0] + (f" (+{len(shown) - 1} more)" if len(shown) > 1 else "") if shown else "no accounts"
    return ProviderSession(
        profile=profile,
        sandbox=sandbox is not None,
        read_only=read_only,
        offline=offline,
        endpoint=endpoint_text,
        connections=connections,
        clock=clock,
        cache=cache,
        ledger_path=ledger_path,
        ledger_target=ledger_target,
        audit_path=audit_path,
        sandbox_backend=sandbox,
    )


def sandbox_accounts(kinds: Sequence[str] | None = None) -> list[Account]:
    """One account of every registered kind (or of `kinds`): the built-in sandbox profile's."""
    from providers.vendors import descriptors

    chosen = [vendor.kind for vendor in descriptors()] if kinds is None else kinds
    return [Account(kind=kind, label=kind) for kind in chosen]


def sandbox_receiver_keys() -> dict[str, list[ReceiverKey]]:
    """What `teledeck receiver serve --sandbox` checks pushes with: each binding vendor's
    emulator's own credentials (those it signs its simulated calls' pushes with, chosen by the
    same TELEDECK_SANDBOX_* variables), labelled as the sandbox profile labels its accounts.
    Only vendors whose push module is in this build."""
    from providers.pushes import ReceiverKey
    from providers.receiver import available_specs

    specs = available_specs()
    keys: dict[str, list[ReceiverKey]] = {}
    for account in sandbox_accounts():
        vendor = descriptor(account.kind)
        if vendor.bindings is None or vendor.provider not in specs:
            continue
        emulator = vendor.emulator.load()(None, seed_data=False)  # in memory: only its settings are read
        credentials = dict(emulator.session_account().credentials)
        keys.setdefault(vendor.provider, []).append(ReceiverKey(account.label, credentials))
    return keys


class InProcessReceiver:
    """A sandbox emulator's push sink in the console's sandbox session: the receiver, in process,
    on the session's own ledger (the one object the screens use: its lock serializes the
    receiver's writes with theirs), checking pushes with the emulator's credentials. Built on the
    first push, in the thread that delivers it."""

    def __init__(self, session: ProviderSession, vendor: VendorDescriptor, emulator: Any) -> None:
        self._session = session
        self._vendor = vendor
        self._emulator = emulator
        self._receiver: Receiver | None = None
        self._lock = threading.Lock()

    def __call__(self, push: PushRequest) -> PushReply:
        with self._lock:
            if self._receiver is None:
                from providers.pushes import ReceiverKey
                from providers.receiver import Receiver

                provider = self._vendor.provider
                label = self._session.account_label(provider) or self._vendor.kind
                key = ReceiverKey(label, dict(self._emulator.session_account().credentials))
                self._receiver = Receiver(self._session.ledger, {provider: [key]}, clock=self._session.clock)
            receiver = self._receiver
        return receiver.handle(push, peer="sandbox")


def sandbox_session(
    *,
    read_only: bool = False,
    offline: bool = False,
    handler: Any = None,
    binding_handlers: Mapping[str, Any] | None = None,
    state_dir: Path | None = None,
    timeout: httpx.Timeout | None = None,
    client_options: Mapping[str, Mapping[str, Any]] | None = None,
    http_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ledger_path: Path | None = None,
    clock: Callable[[], float] = time.time,
    cache: ResultCache | None = None,
    kinds: Sequence[str] | None = None,
    wrap_transport: TransportWrapper | None = None,
) -> ProviderSession:
    """The built-in sandbox profile (every kind, or just `kinds`), in process: no server, no network.

    Tests hand in their own emulators: `handler` (one emulator, placed by its own kind) and
    `binding_handlers` (emulators by provider name); every other emulator keeps its state in
    `state_dir` (the user data dir) across runs. `timeout` applies to every client,
    `client_options` (by provider name) add keyword arguments to one vendor's client;
    `wrap_transport` wraps each emulator's transport (see `open_session`).
    """
    from providers.paths import sandbox_state_dir
    from providers.vendors import descriptors

    emulators = dict(binding_handlers or {})
    if handler is not None:
        emulators[descriptor(handler.vendor).provider] = handler
    backend = SandboxBackend(state_dir, emulators, persist=not offline, clock=clock)
    options: dict[str, dict[str, Any]] = {
        vendor.provider: {"timeout": timeout} if timeout is not None else {} for vendor in descriptors()
    }
    for provider, extra in (client_options or {}).items():
        options[provider] = {**options.get(provider, {}), **extra}
    # The sandbox keeps its own ledger beside its state, apart from every real profile's.
    if ledger_path is None:
        ledger_path = (state_dir or sandbox_state_dir()) / "bindings.sqlite3"
    session = open_session(
        SANDBOX,
        sandbox_accounts(kinds),
        sandbox=backend,
        read_only=read_only,
        offline=offline,
        cache=cache,
        clock=clock,
        ledger_path=ledger_path,
        client_options=options,
        http_transports=http_transports,
        wrap_transport=wrap_transport,
    )
    if not session.read_only:  # a read-only (or offline) sandbox stores no simulated call

        def sink_for(vendor: VendorDescriptor, emulator: Any) -> PushSink | None:
            return InProcessReceiver(session, vendor, emulator) if vendor.bindings is not None else None

        backend.push_sink_for = sink_for
    return session
