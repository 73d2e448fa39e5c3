"""The request pipeline every sandbox emulator shares, and the hooks through which a vendor fills it in.

`Emulator.handle()` takes one request under the emulator's lock and runs it through the same steps
for every vendor:

    begin          the per-request context (`Call`): request id, RPC action
    control        <base_path>/_sandbox/...: authenticate, then faults, reset and simulated calls
    preflight      what the vendor refuses before looking at credentials (path, method, ...)
    authenticate   who is calling (API key, app key, AccessKeyId), or the vendor's 401/403
    admit          rate and flow control; may add headers to the answer (`Call.headers`)
    faults         an injected "status"/"malformed" fault answers instead (`fault_response`)
    dispatch       the operation itself, from the vendor's route table

An exception of the vendor's error type (`error_type`) anywhere below becomes the vendor's error
envelope (`render_error`); any other exception is an emulator bug, logged and answered as the
vendor's internal error (`internal_error`). Finally the request id header is set.

The base also owns what every emulator keeps: its slice of the `StateStore` (`STATE_KEY`, seeded by
`fresh_state`), the `FaultInjector`, `requests_handled`, and `reset()`. The transport hooks
`delay_for` and `connect_fails` (see providers.sandbox.http) read the same fault queue through
`fault_path`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypedDict, TypeVar

from providers.accounts import Account
from providers.sandbox.credentials import Setting
from providers.sandbox.faults import Fault, FaultInjector
from providers.sandbox.http import BodyError, SandboxRequest, SandboxResponse
from providers.sandbox.state import StateStore

if TYPE_CHECKING:  # the push contract loads when a call is simulated, not with every emulator
    from providers.pushes import PushReply, PushRequest

log = logging.getLogger("teledeck.sandbox")

ErrorT = TypeVar("ErrorT", bound=Exception)

CONTROL_PREFIX = "/_sandbox"
ControlOutcome = Literal["added", "listed", "cleared", "reset", "called"]
ControlRefusal = Literal["body", "fault", "unknown"]


class EmulatorOptions(TypedDict, total=False):
    """The keyword options every emulator takes (the EmulatorSpec contract), with their defaults
    in `Emulator.__init__`: a subclass passes them on as `**options` and names only its own. A
    subclass's options TypedDict adds a keyword for each of its `Setting`s (None or absent: its
    TELEDECK_SANDBOX_* variable, else the public default)."""

    clock: Callable[[], float]  # the sandbox clock (default time.time)
    seed_data: bool  # start with the seed records (default True), else the same shape empty


# Where an emulator sends the pushes of the calls it simulates: a receiver over HTTP (`teledeck
# sandbox serve --receiver URL`) or in process (the console's sandbox session). It answers as a
# receiver would; an exception means the push was not delivered.
PushSink = Callable[["PushRequest"], "PushReply"]

# What a simulated call can be asked to do (providers.calls outcome words); "no binding" is a
# call to an X that has no binding.
SIMULATED_OUTCOMES = ("answered", "busy", "no answer", "no binding")


@dataclass(frozen=True)
class SimulatedCall:
    """A call an emulator made up on a binding (or on an unbound X), and the pushes the vendor
    would send about it, in the order it would send them, signed its way."""

    call_id: str
    outcome: str  # one of SIMULATED_OUTCOMES
    binding_id: str  # the binding's id ("" for a call to an unbound X)
    x: str
    pushes: tuple[PushRequest, ...]


@dataclass(frozen=True)
class Delivery:
    route: str
    status: int | None  # None: not delivered (no sink, or the sink failed)
    detail: str = ""

    def describe(self) -> dict[str, Any]:
        return {"route": self.route, "status": self.status, "detail": self.detail}


@dataclass
class Call:
    """One request on its way through the pipeline."""

    request_id: str = ""
    action: str = ""  # the RPC action (Alibaba, Volcengine); "" for REST emulators
    version: str = ""  # the RPC API version the request names
    principal: str = ""  # who `authenticate` found: API key, app key or AccessKeyId
    headers: dict[str, str] = field(default_factory=dict)  # added to the answer unless it sets them


class Emulator(Generic[ErrorT]):
    """A vendor emulator: the shared pipeline and state, with hooks for the vendor's rules.

    A subclass sets the class attributes `vendor` and `error_type` (and `base_path`,
    `SCHEMA_VERSION`, `REQUEST_ID_HEADER` where the defaults do not fit; `STATE_KEY` and
    `STATE_FILE` follow from `vendor`: "aliyun-cams" keeps its state under "aliyun_cams" in
    aliyun_cams.json),
    declares each setting a TELEDECK_SANDBOX_* variable can choose as a class attribute
    (`name = Setting(ENV, DEFAULT)`, see providers.sandbox.credentials), names its own constructor
    options and hands the rest on (`**options: Unpack[...]`, a TypedDict of `EmulatorOptions` and
    its settings' keywords), implements `fresh_state`, `authenticate`, `dispatch`,
    `render_error`, `internal_error`, `control_refusal`, `session_account` and `credentials`,
    calls `_load_state()` at the end of its __init__, and overrides the other hooks (`begin`, `preflight`, `admit`, `fault_path`,
    `fault_response`, `forget`, `state_is_current`, `fault_specs`, `control_reply`,
    `control_body`) where its vendor differs from their defaults.
    """

    vendor: ClassVar[str]
    base_path: ClassVar[str] = ""  # URL prefix it serves under ("" for the root)
    STATE_FILE: ClassVar[str]  # its file name inside the sandbox state directory
    STATE_KEY: ClassVar[str]  # its key inside the StateStore document
    SCHEMA_VERSION: ClassVar[int] = 1  # saved state of another version is re-seeded
    REQUEST_ID_HEADER: ClassVar[str | None] = None  # where the request id goes on every answer
    error_type: type[ErrorT]  # what the hooks raise to answer with a vendor error

    SETTINGS: ClassVar[dict[str, Setting[Any]]] = {}  # its `Setting` attributes, by name (own and inherited)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        vendor = cls.__dict__.get("vendor")
        if vendor:  # one naming rule for every emulator's state, unless a subclass says otherwise
            cls.STATE_KEY = cls.__dict__.get("STATE_KEY", vendor.replace("-", "_"))
            cls.STATE_FILE = cls.__dict__.get("STATE_FILE", f"{cls.STATE_KEY}.json")
        own = {name: value for name, value in cls.__dict__.items() if isinstance(value, Setting)}
        cls.SETTINGS = {**cls.SETTINGS, **own}

    def __init__(
        self,
        store: StateStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        seed_data: bool = True,
        **settings: Any,
    ) -> None:
        """`settings` are the subclass's `Setting` keywords (its options TypedDict types them for
        callers): each takes the keyword, else its environment variable, else its default."""
        unknown = sorted(set(settings) - set(self.SETTINGS))
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s): {', '.join(unknown)}")
        self._from_env: dict[str, bool] = {}
        for name, spec in self.SETTINGS.items():
            value, self._from_env[name] = spec.resolve(settings.get(name))
            setattr(self, name, value)
        self.store = store if store is not None else StateStore(None)
        self.clock = clock
        self.seed_data = seed_data
        self.faults = FaultInjector(self.base_path)
        self.requests_handled = 0
        self.push_sink: PushSink | None = None  # where simulated calls' pushes go (None: nowhere)
        self._lock = threading.RLock()

    def from_env(self, name: str) -> bool:
        """Whether the environment chose setting `name` (no keyword given, its variable not empty)."""
        return self._from_env[name]

    def _load_state(self) -> None:
        """Install the seed unless the store holds state this emulator can use. Call it at the end
        of the subclass's __init__, once `fresh_state` has what it needs."""
        with self._lock, self.store.exclusive():
            self._ensure_state()

    def _ensure_state(self) -> None:
        saved = self.store.get(self.STATE_KEY)
        if not isinstance(saved, dict) or not self.state_is_current(saved):
            self._install(self.fresh_state(self.seed_data))

    # -- state -----------------------------------------------------------------------------------

    def fresh_state(self, seed_data: bool) -> dict[str, Any]:
        """The first-start state: the seed data, or the same shape with no records."""
        raise NotImplementedError

    def state_is_current(self, saved: dict[str, Any]) -> bool:
        """Whether saved state can be used as it is (by default: the same schema version)."""
        return saved.get("schema") == self.SCHEMA_VERSION

    @property
    def state(self) -> dict[str, Any]:
        """The live state document. Hold no reference to it across calls."""
        state: dict[str, Any] = self.store.data[self.STATE_KEY]
        return state

    def _install(self, state: dict[str, Any]) -> None:
        with self.store.transaction() as data:
            data[self.STATE_KEY] = state

    def reset(self, seed_data: bool | None = None) -> None:
        """Back to the first-start state (times relative to the clock now); clears the faults and
        whatever the vendor remembers between requests (`forget`)."""
        with self._lock, self.store.exclusive():
            self._install(self.fresh_state(self.seed_data if seed_data is None else seed_data))
            self.faults.clear()
            self.forget()

    def forget(self) -> None:
        """Hook: clear what the emulator remembers besides its state (rate windows, nonces, counters)."""

    # -- what a session and `teledeck sandbox serve` need -------------------------------------------

    def session_account(self) -> Account:
        """The account a sandbox session connects with (what a real profile's config would say)."""
        raise NotImplementedError

    def _account(self, credentials: dict[str, str], **fields: Any) -> Account:
        """A sandbox session's account of this emulator's kind (`fields`: Account's own)."""
        return Account(kind=self.vendor, label="sandbox", credentials=credentials, **fields)

    def credentials(self) -> list[tuple[str, str]]:
        """The (label, value) pairs `teledeck sandbox serve` prints; never a secret from the
        environment in full."""
        raise NotImplementedError

    # -- vendor errors on demand (tests, the chaos run) -------------------------------------------

    def fail_next(
        self,
        action: str,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer the next `times` calls of `action` ("*" for any) with the vendor error `code`, in
        the vendor's own envelope, after authentication and flow control. `status` defaults to the
        one the vendor uses for that code (`vendor_error_answer`)."""
        answer_status, body = self.vendor_error_answer(action, code, message, status)
        path = "/" if action == "*" else "/" + action
        return self.faults.respond("*", path, answer_status, body, times=times, headers=headers)

    def vendor_error_answer(self, action: str, code: str, message: str, status: int | None) -> tuple[int, Any]:
        """Hook for `fail_next`: the HTTP status and body the vendor answers `code` with."""
        raise NotImplementedError(f"{type(self).__name__} does not inject vendor errors by code")

    # -- transport hooks (providers.sandbox.http) ----------------------------------------------------

    def fault_path(self, req: SandboxRequest) -> str | None:
        """The path faults match `req` by; None when no fault can apply (outside the API)."""
        return req.path

    def delay_for(self, req: SandboxRequest) -> tuple[float, bool]:
        where = self.fault_path(req)
        fault = self.faults.take(("delay",), req.method, where) if where is not None else None
        return (fault.seconds, fault.apply) if fault else (0.0, False)

    def connect_fails(self, req: SandboxRequest) -> bool:
        where = self.fault_path(req)
        return where is not None and self.faults.take(("connect_error",), req.method, where) is not None

    def reset_for(self, req: SandboxRequest) -> bool | None:
        where = self.fault_path(req)
        fault = self.faults.take(("reset",), req.method, where) if where is not None else None
        return None if fault is None else fault.apply

    def draw_faults(self, req: SandboxRequest) -> None:
        """Queue the fault `faults.random` draws for this request, if it is set (the chaos run)."""
        where = self.fault_path(req)
        if self.faults.random is not None and where is not None and self._control_path(req) is None:
            self.faults.draw(req.method, where)

    # -- the pipeline ----------------------------------------------------------------------------

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        """Answer one request; thread-safe."""
        with self._lock, self.store.exclusive() as reread:
            if reread:  # another process saved since: work on what it saved (re-seed if unusable)
                self._ensure_state()
            self.requests_handled += 1
            call = self.begin(req)
            try:
                response = self._run(req, call)
            except self.error_type as error:
                response = self.render_error(error, call)
            except Exception:  # a bug in the emulator: answer like the vendor would, and log it
                log.exception("%s sandbox failed on %s %s", self.vendor, req.method, req.path)
                response = self.render_error(self.internal_error(), call)
            for name, value in call.headers.items():
                response.headers.setdefault(name, value)
            if self.REQUEST_ID_HEADER is not None:
                response.headers.setdefault(self.REQUEST_ID_HEADER, call.request_id)
            return response

    def _run(self, req: SandboxRequest, call: Call) -> SandboxResponse:
        control = self._control_path(req)
        if control is not None:
            call.principal = self.authenticate(req, call)
            return self._control(req, control, call)
        self.preflight(req, call)
        call.principal = self.authenticate(req, call)
        self.admit(req, call)
        where = self.fault_path(req)
        page: int | None = None
        if where is not None:
            fault = self.faults.take(("status", "malformed", "applied_status"), req.method, where)
            if fault is not None and fault.kind == "applied_status":
                try:  # applied first; whatever it answered is replaced by the fault's status
                    self.dispatch(req, call, None)
                except self.error_type:
                    pass
                return self.fault_response(dataclasses.replace(fault, kind="status", body=None), call)
            if fault is not None:
                return self.fault_response(fault, call)
            repeat = self.faults.take(("repeat_page",), req.method, where)
            page = repeat.page_number if repeat is not None else None
        return self.dispatch(req, call, page)

    def begin(self, req: SandboxRequest) -> Call:
        """Hook: the context for one request (at least its request id)."""
        return Call()

    def preflight(self, req: SandboxRequest, call: Call) -> None:
        """Hook: refusals the vendor gives before checking credentials (unknown path, method)."""

    def authenticate(self, req: SandboxRequest, call: Call) -> str:
        """Hook: who signed `req` (raise `error_type` to refuse)."""
        raise NotImplementedError

    def admit(self, req: SandboxRequest, call: Call) -> None:
        """Hook: rate and flow control for `call.principal`, and any other check the vendor makes
        between authentication and the operation; raise `error_type` to refuse."""

    def fault_response(self, fault: Fault, call: Call) -> SandboxResponse:
        """Hook: the answer to an injected "status" or "malformed" fault; vendors give a fault
        without a body their own error envelope."""
        return fault.response()

    def dispatch(self, req: SandboxRequest, call: Call, page: int | None) -> SandboxResponse:
        """Hook: run the operation. `page` is the page a "repeat_page" fault forces, if any."""
        raise NotImplementedError

    def render_error(self, error: ErrorT, call: Call) -> SandboxResponse:
        """Hook: `error` in the vendor's error envelope."""
        raise NotImplementedError

    def internal_error(self) -> ErrorT:
        """Hook: the vendor's answer to a failure inside the emulator."""
        raise NotImplementedError

    # -- simulated calls ----------------------------------------------------------------------------

    def simulate_call(self, *, outcome: str, binding_id: str = "", x: str = "") -> SimulatedCall:
        """Hook: make up a call with `outcome` (SIMULATED_OUTCOMES) on the binding `binding_id`, or,
        for "no binding", on the X `x` (one of the emulator's numbers with no binding when ""),
        and the pushes the vendor would send about it, signed with the emulator's credentials.
        A recorded answered call also gets a recording its download-URL API can find. Raise
        `error_type` for an unknown binding or outcome."""
        raise NotImplementedError(f"{type(self).__name__} does not simulate calls")

    def place_call(self, *, outcome: str, binding_id: str = "", x: str = "") -> tuple[SimulatedCall, list[Delivery]]:
        """`simulate_call`, then deliver its pushes, in order, to `push_sink`."""
        with self._lock, self.store.exclusive():
            simulated = self.simulate_call(outcome=outcome, binding_id=binding_id, x=x)
        return simulated, self.deliver(simulated)

    def deliver(self, simulated: SimulatedCall) -> list[Delivery]:
        """Send each push to the sink (outside the emulator's lock: a receiver in the same process
        may be slow). A push that failed is reported, never raised."""
        sink = self.push_sink
        deliveries = []
        for push in simulated.pushes:
            if sink is None:
                deliveries.append(Delivery(push.route, None, "no receiver is set"))
                continue
            try:
                reply = sink(push)
            except Exception as exc:  # a receiver down or refusing: said in the answer and the log
                log.warning("%s sandbox: push to %s not delivered: %s", self.vendor, push.route, type(exc).__name__)
                deliveries.append(Delivery(push.route, None, f"not delivered: {type(exc).__name__}"))
                continue
            deliveries.append(Delivery(push.route, reply.status))
        return deliveries

    # -- control endpoints (<base_path>/_sandbox) ------------------------------------------------------

    def _control_path(self, req: SandboxRequest) -> str | None:
        """ "/faults", "/reset", ... for a control request, else None."""
        rest = req.path.removeprefix(self.base_path) if self.base_path else req.path
        if rest.rstrip("/") == CONTROL_PREFIX or rest.startswith(CONTROL_PREFIX + "/"):
            return rest[len(CONTROL_PREFIX) :].rstrip("/")
        return None

    def _control(self, req: SandboxRequest, sub: str, call: Call) -> SandboxResponse:
        """POST/GET/DELETE /faults (queue, list, clear) and POST /reset, signed like any request."""
        if sub == "/faults" and req.method == "POST":
            specs = self.fault_specs(req)
            try:
                added = [self.faults.add(spec) for spec in specs]
            except (TypeError, ValueError, AttributeError) as exc:
                raise self.control_refusal("fault", str(exc)) from None
            return self.control_reply("added", [fault.describe() for fault in added], call)
        if sub == "/faults" and req.method == "GET":
            return self.control_reply("listed", [fault.describe() for fault in self.faults.pending()], call)
        if sub == "/faults" and req.method == "DELETE":
            self.faults.clear()
            return self.control_reply("cleared", [], call)
        if sub == "/reset" and req.method == "POST":
            self.reset()
            return self.control_reply("reset", [], call)
        if sub == "/calls" and req.method == "POST":
            return self._control_call(req, call)
        raise self.control_refusal("unknown", "Unknown sandbox control endpoint.")

    def _control_call(self, req: SandboxRequest, call: Call) -> SandboxResponse:
        """POST /_sandbox/calls {"outcome": "busy", "binding_id": "..."} or {"outcome": "no
        binding", "x": "..."}: simulate the call and deliver its pushes. The answer lists them
        (`control_reply("called", [report])`)."""
        try:
            spec = req.json()
        except BodyError as exc:
            raise self.control_refusal("body", str(exc)) from None
        if not isinstance(spec, dict) or spec.get("outcome") not in SIMULATED_OUTCOMES:
            raise self.control_refusal("fault", f"a call needs an outcome, one of {', '.join(SIMULATED_OUTCOMES)}")
        binding_id, x = spec.get("binding_id", ""), spec.get("x", "")
        if not isinstance(binding_id, str) or not isinstance(x, str):
            raise self.control_refusal("fault", "binding_id and x are text")
        if spec["outcome"] != "no binding" and not binding_id:
            raise self.control_refusal("fault", "a call on a binding needs its binding_id")
        # Delivered under the emulator's lock: a receiver never calls back into the emulator.
        simulated = self.simulate_call(outcome=spec["outcome"], binding_id=binding_id, x=x)
        report = {
            "call_id": simulated.call_id,
            "outcome": simulated.outcome,
            "binding_id": simulated.binding_id,
            "x": simulated.x,
            "pushes": [d.describe() for d in self.deliver(simulated)],
        }
        return self.control_reply("called", [report], call)

    def fault_specs(self, req: SandboxRequest) -> list[Any]:
        """Hook: the fault specs a POST /_sandbox/faults carries (one object or a list)."""
        try:
            spec = req.json()
        except BodyError as exc:
            raise self.control_refusal("body", str(exc)) from None
        return spec if isinstance(spec, list) else [spec]

    def control_reply(self, outcome: ControlOutcome, faults: list[dict[str, Any]], call: Call) -> SandboxResponse:
        """Hook: the answer to a control request; `faults` are the faults added or listed (for
        "called", the one report of the simulated call and its deliveries). By
        default the REST shape: 201 for added faults, 204 for clearing, 200 otherwise, the body
        from `control_body`."""
        if outcome == "cleared":
            return SandboxResponse.empty(204)
        payload: Any = {"reset": True, "seeded": self.seed_data} if outcome == "reset" else faults
        if outcome == "called":
            payload = faults[0]
        status = 201 if outcome in ("added", "called") else 200
        return SandboxResponse.json_response(status, self.control_body(outcome, payload))

    def control_body(self, outcome: ControlOutcome, payload: Any) -> Any:
        """Hook: the JSON body around a control answer's payload (the faults, or the reset note)."""
        return payload

    def control_refusal(self, reason: ControlRefusal, detail: str) -> ErrorT:
        """Hook: the vendor error for a bad control request: an unreadable body ("body"), a fault
        spec `FaultInjector.add` refuses ("fault"), or an unknown endpoint ("unknown")."""
        raise NotImplementedError


__all__ = [
    "CONTROL_PREFIX",
    "SIMULATED_OUTCOMES",
    "Call",
    "Delivery",
    "Emulator",
    "EmulatorOptions",
    "PushSink",
    "SimulatedCall",
]
