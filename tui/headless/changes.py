"""`teledeck delete`, `bind` and `unbind`: refused by a read-only or offline profile, asked first
where they remove something, each settled and audited on its own, or with --dry-run printed and
not sent."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from tui.headless.base import (
    BINDINGS,
    EXIT_FAILED,
    EXIT_OK,
    Out,
    UsageError,
    counted,
    need_account,
    plural,
    resolve_resource,
    say_error,
    session_now,
)
from tui.headless.reading import Listed, binding_columns, binding_fields, binding_rows, print_records
from tui.literal import literal

if TYPE_CHECKING:
    from providers.bindings import Binding, BindingProvider, BindRequest
    from providers.dryrun import CapturedRequest
    from providers.outcomes import WriteOutcome
    from providers.session import ProviderSession


def refuse_change(session: ProviderSession, doing: str) -> None:
    """Read-only and offline refuse every change, before any client is built (exit 2)."""
    if session.offline:
        raise UsageError(f"offline: {doing} refused; an offline session sends nothing")
    if session.read_only:
        raise UsageError(f"profile {session.profile!r} is read-only here: {doing} refused; nothing was sent")


@dataclass
class Tally:
    done: int = 0
    failed: int = 0
    unknown: int = 0

    def add(self, outcome: WriteOutcome[Any]) -> None:
        if outcome.done:
            self.done += 1
        elif outcome.unknown:
            self.unknown += 1
        else:
            self.failed += 1

    def summary(self) -> str:
        return f"done {self.done}, failed {self.failed}, unknown {self.unknown}"

    @property
    def exit(self) -> int:
        return EXIT_OK if not self.failed and not self.unknown else EXIT_FAILED


def say_outcome(out: Out, outcome: WriteOutcome[Any], doing: str, done: str) -> None:
    """One line (or a few) for one write's outcome: the vendor's error when it was refused."""
    if outcome.done:
        out.say(f"{done}." if not outcome.checked and outcome.how in ("", "answered") else outcome.message())
    elif outcome.not_done and outcome.error is not None:
        say_error(out, outcome.error, doing)
    else:
        out.say(f"teledeck: {outcome.message()}")


def print_captured(out: Out, fmt: str, captured: Sequence[CapturedRequest]) -> None:
    """A dry run's requests: as HTTP-like text (each line shown literally) or as JSON."""
    if fmt == "json":
        from tui.export import render

        out.data(render("json", [c.as_dict() for c in captured]))
        return
    blocks = ["\n".join(literal(line, single_line=True) for line in c.lines()) for c in captured]
    out.data("\n\n".join(blocks) + ("\n" if blocks else ""))


def dry_run_done(out: Out, fmt: str, captured: Sequence[CapturedRequest], wanted: int) -> int:
    """Print what a dry run captured; exit 0 when every change it was asked for was captured."""
    print_captured(out, fmt, captured)
    out.say(f"dry run: {counted(len(captured), 'request')} printed (the first each change sends); nothing was sent")
    return EXIT_OK if len(captured) == wanted else EXIT_FAILED


async def dry_run(out: Out, send: Callable[[], Any], what: str) -> CapturedRequest | None:
    """Run `send` (the write itself, never a settle) until the recorder stops its change."""
    from providers.dryrun import DryRunStop
    from providers.errors import ProviderError

    try:
        await send()
    except DryRunStop as stop:
        return stop.captured
    except ProviderError as error:
        say_error(out, error, f"preparing {what}")
        return None
    out.say(f"dry run: {what} sent no change")  # a write that turned out to need none
    return None


async def cmd_delete(session: ProviderSession, args: argparse.Namespace, out: Out) -> int:
    from providers.outcomes import Outcome, settle_delete
    from tui.screens.resource import read_cached, row_for

    spec = resolve_resource(args.resource)
    if spec is None:
        raise UsageError("bindings are unbound, not deleted: teledeck unbind PROVIDER ID...")
    delete = spec.delete
    if delete is None:
        raise UsageError(f"the {spec.provider} API cannot delete {plural(spec.noun)}")
    need_account(session, spec.provider)
    refuse_change(session, f"deleting {plural(spec.noun)}")
    ids = list(dict.fromkeys(args.ids))
    # Names from the cache, where it has them (no request is made to learn them); else a record
    # known by its id alone, which is all a delete sends.
    cached = await asyncio.to_thread(read_cached, session, spec)
    known = {spec.key(r): r for r in cached.records} if cached is not None else {}
    assert spec.parse is not None
    parse = spec.parse
    records = {i: known.get(i) or parse({"id": i}) for i in ids}
    named = {i: spec.describe(known[i]) if i in known else f"{spec.noun} {i}" for i in ids}
    if args.dry_run:
        captured = []
        for i in ids:
            one = await dry_run(out, partial(delete, session, records[i]), named[i])
            captured += [one] if one is not None else []
        return dry_run_done(out, args.output, captured, len(ids))
    # Each by what identifies its row (its first column: a name, an address), else by its id.
    shown = ", ".join(row_for(spec, known[i]).cells[0] or i if i in known else i for i in ids)
    out.confirm(f"Delete {counted(len(ids), spec.noun)}: {shown}?", args.yes, "delete")
    tally, deleted = Tally(), set()
    for i in ids:

        async def write(i: str = i) -> WriteOutcome[None]:
            outcome = await settle_delete(lambda: delete(session, records[i]), what=f"delete {named[i]}")
            # Not there on the first send: as far as anyone can tell it is gone, but this command
            # deleted nothing, and a mistyped id must not pass for done (unless asked).
            if outcome.done and outcome.error is not None and not outcome.checked and not args.ignore_not_found:
                return replace(outcome, outcome=Outcome.NOT_DONE)
            return outcome

        outcome = await session.audited(spec.provider, write, verb="delete", resource=spec.name, record_id=i)
        tally.add(outcome)
        say_outcome(out, outcome, f"deleting {named[i]}", f"Deleted {named[i]}")
        if outcome.done:
            deleted.add(i)
    if cached is not None and deleted and session.cache is not None:
        # The cached list as it now is, as old as it was: a later --offline get shows the change.
        items = [spec.to_cache(r) for r in cached.records if spec.key(r) not in deleted]
        await asyncio.to_thread(
            session.cache.put, session.profile, spec.provider, spec.cache_key, items, fetched_at=cached.hit.fetched_at
        )
    out.say(tally.summary())
    return tally.exit


def check_binding_provider(session: ProviderSession, name: str, doing: str) -> None:
    """A privacy-number vendor this profile has an account for, and may change (UsageError)."""
    from providers.vendors import binding_vendors

    vendors = binding_vendors()
    if name not in vendors:
        raise UsageError(f"{name!r} is not a privacy-number provider; one of: {', '.join(vendors)}")
    need_account(session, name)
    refuse_change(session, doing)


async def binding_provider(session: ProviderSession, name: str) -> BindingProvider:
    """`name`'s adapter, connected (in a worker thread: the first connect imports the vendor)."""
    connection = await session.aconnection(name)
    return connection.client


async def cmd_bind(session: ProviderSession, args: argparse.Namespace, out: Out) -> int:
    from providers.binding_flows import bind_and_record
    from providers.outcomes import tagged
    from tui import binding_forms as forms

    name = args.provider
    check_binding_provider(session, name, "binding")
    provider = await binding_provider(session, name)
    values = await bind_values(provider, name, args)
    request = tagged(forms.bind_request(values))
    if args.dry_run:
        captured = await dry_run(out, lambda: provider.bind(request), "the bind")
        return dry_run_done(out, "json" if args.output == "json" else "text", [captured] if captured else [], 1)
    out.confirm(f"{bind_question(name, request)}?", args.yes, "bind")

    def bound_id(outcome: WriteOutcome[Binding]) -> str:
        return outcome.value.subscription_id if outcome.value is not None else ""

    outcome = await session.audited(
        name,
        lambda: bind_and_record(session.ledger, provider, request),
        verb="bind",
        resource=BINDINGS,
        record_id=bound_id,
    )
    binding = outcome.value
    if binding is not None:
        say_outcome(out, outcome, "binding", f"Bound {forms.describe(binding)}, subscription {binding.subscription_id}")
        now = session_now(session)
        rows = binding_rows(session, [binding])
        print_records(out, out.fmt(args.output), Listed(rows, binding_columns(), lambda b: binding_fields(b, now)))
        return EXIT_OK
    say_outcome(out, outcome, "binding", "")
    if outcome.unknown:
        out.say("kept as a pending bind in the ledger: `teledeck get bindings` checks it again, never re-sends it")
    return EXIT_FAILED


def bind_question(name: str, request: BindRequest) -> str:
    """The bind about to be sent, as the question before it: what the flags and defaults made of
    it (the pool chosen, the expiry worked out from +2h)."""
    from tui import binding_forms as forms

    parts = [f"Bind {name} {request.mode} for A {request.a}"]
    if request.b:
        parts.append(f"B {request.b}")
    where = f"X {request.x}" if request.x else "X chosen by the provider"
    if request.pool:
        where += f" in pool {request.pool}"
    elif request.area_code:
        where += f" in area {request.area_code}"
    parts.append(where)
    if request.extension:
        parts.append(f"extension {request.extension}")
    parts.append(f"expires {forms.local_time(request.expires_at)}" if request.expires_at else "no expiry")
    return ", ".join(parts)


async def bind_values(provider: BindingProvider, name: str, args: argparse.Namespace) -> dict[str, str]:
    """The bind form's values from the flags, its defaults for the rest (the pool: the one the
    form would fill in, from the pools the vendor lists), checked by the form's own fields:
    UsageError with each field's message (as --flag: message) before anything is sent."""
    from providers.bindings import default_pool_of, pools_of
    from tui import binding_forms as forms

    async def list_pools(_: str) -> list[Any]:
        return await pools_of(provider)

    fields = forms.bind_fields(
        (name,), modes={name: tuple(provider.modes)}, list_pools=list_pools, default_pools={name: ""}
    )
    flags: dict[str, str] = args.bind_flags
    given = {f.name: getattr(args, flags[f.name]) for f in fields if f.name in flags}
    given = {k: v for k, v in given.items() if v is not None}
    values = {f.name: f.default for f in fields}
    values.update(given, provider=name)
    if "recording" not in given:
        values["recording"] = "false"
    problems: dict[str, str] = {}
    for field in fields:
        if field.name in given and field.visible is not None and not field.visible(values):
            problems[field.name] = f"not used by {name} {values.get('mode', '')} bindings"
    pool = next(f for f in fields if f.name == "pool")
    if pool.suggest is not None and (pool.visible is None or pool.visible(values)):
        suggestions = await pool.suggest(values)  # lists the pools, so the check below knows them
        if "pool" not in given:
            values["pool"] = suggestions.values[0] if suggestions.values else default_pool_of(provider)
    for field in fields:
        if field.name in problems:
            continue
        problem = field.check(values.get(field.name, ""), values)
        if problem:
            problems[field.name] = problem
    if problems:
        listed = "; ".join(f"--{field.replace('_', '-')}: {message}" for field, message in problems.items())
        raise UsageError(f"bind refused before sending: {listed}")
    return values


async def cmd_unbind(session: ProviderSession, args: argparse.Namespace, out: Out) -> int:
    from providers.binding_flows import unbind_and_record
    from tui import binding_forms as forms

    name = args.provider
    check_binding_provider(session, name, "unbinding")
    provider = await binding_provider(session, name)
    ledger = session.ledger
    tally = Tally()
    chosen: list[Binding] = []
    for sub in dict.fromkeys(args.ids):
        binding = await _ledger_or_lookup(session, provider, name, sub, out, keep=not args.dry_run)
        if binding is None:
            tally.failed += 1
        else:
            chosen.append(binding)
    if args.dry_run:
        captured = []
        for binding in chosen:
            one = await dry_run(out, partial(provider.unbind, binding), f"unbind {binding.key}")
            captured += [one] if one is not None else []
        return dry_run_done(out, args.output, captured, len(set(args.ids)))
    if chosen:
        shown = "; ".join(forms.describe(b) for b in chosen)
        out.confirm(f"Unbind {counted(len(chosen), name + ' binding')}: {shown}?", args.yes, "unbind")
    for binding in chosen:
        outcome = await session.audited(
            name,
            partial(unbind_and_record, ledger, provider, binding),
            verb="unbind",
            resource=BINDINGS,
            record_id=binding.subscription_id,
        )
        tally.add(outcome)
        say_outcome(out, outcome, f"unbinding {binding.key}", f"Unbound {forms.describe(binding)}")
    out.say(tally.summary())
    return tally.exit


async def _ledger_or_lookup(
    session: ProviderSession, provider: BindingProvider, name: str, sub: str, out: Out, *, keep: bool
) -> Binding | None:
    """The binding `sub` names, from the ledger, else looked up by subscription id (and imported
    into the ledger unless `keep` is False); None, said on stderr, when there is none."""
    from providers.errors import ProviderError

    ledger = session.ledger
    key = sub if sub.startswith(f"{name}:") else f"{name}:{sub}"
    binding = await asyncio.to_thread(ledger.get, key)
    if binding is not None:
        return binding
    subscription = key.split(":", 1)[1]
    try:
        found = await provider.lookup(subscription_id=subscription)
    except ProviderError as error:
        say_error(out, error, f"looking up {key} (it is not in the ledger)")
        return None
    if not found:
        out.say(f"teledeck: no {name} binding {subscription!r}: not in the ledger, and {name} has none")
        return None
    if keep:
        await asyncio.to_thread(ledger.record_imported, found)
    return found[0]
