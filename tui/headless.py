"""The headless CLI: `teledeck get|describe|delete|bind|unbind`, on the console's own profiles.

Everything here is the console's, reached without a screen: the session factory and its flags
(tui/sessions.py `open_command_line_session`), the resource registry and its `:` names
(tui/resources.py REGISTRY, tui/app.py SPECIAL_SCREENS through `destinations()`, resolved by the
prompt's own `resolve`), the table cells (`row_for`, the Bindings screen's `binding_row`), the
bind form's fields and each vendor's checks (tui/binding_forms.py), the settle functions and the
ledger's part in each binding write (providers/outcomes.py, providers/binding_flows.py), and the
audit log (`ProviderSession.audited`: every change appends one line; a dry run, none).

Contract, for scripts:

- data on stdout (records, a dry run's requests), messages on stderr; colour only on a terminal
  (and never with NO_COLOR); text from a server is never terminal control (tui/export.py,
  tui/text_table.py);
- exit 0 on success; 1 on a provider error (its vendor code on stderr), a record that is not
  there, or a change whose outcome is unknown; 2 on a usage or config error: an unknown resource
  or flag, a field the bind form would refuse, a profile without the account, and a change the
  profile refuses (read-only or offline: refused before any client is built, nothing sent);
- deletes and unbinds ask on the terminal unless --yes, and refuse (2) when stdin is not one;
  each ID settles on its own (one failing does not stop the others) and a summary line follows;
- --dry-run prints the change as it would be sent, signed, credentials masked, and sends
  nothing (providers/dryrun.py); reads it needs (a pool list, a lookup) are made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from tui.literal import literal

if TYPE_CHECKING:
    from providers.bindings import Binding, BindingProvider
    from providers.dryrun import CapturedRequest
    from providers.errors import ProviderError
    from providers.outcomes import WriteOutcome
    from providers.session import ProviderSession
    from tui.resources import ResourceSpec
    from tui.widgets.table_rows import Row

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
GET_FORMATS = ("table", "json", "jsonl", "csv", "tsv")
BINDINGS = "bindings"  # the SPECIAL_SCREENS mode `get` lists from the ledger

EPILOG = """\
exit status: 0 done; 1 a provider error (its vendor code on stderr), no such record, or an
outcome unknown; 2 a usage or config error (unknown resource, bad flag or field, no account for
it, a change refused by a read-only or offline profile).
"""


class UsageError(Exception):
    """Exit 2: what the user asked for cannot be done as asked; nothing was sent."""


class Failed(Exception):
    """Exit 1: the provider refused, or the record is not there; the message says which."""


# ---- the command line ---------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("profile")
    chosen = where.add_mutually_exclusive_group()
    chosen.add_argument("--profile", help="the configured profile (default: $TELEDECK_PROFILE, then the default)")
    chosen.add_argument("--sandbox", action="store_true", help="the built-in sandbox, whatever is configured")
    where.add_argument("--offline", action="store_true", help="no network: read the cache and the ledger only")
    where.add_argument("--read-only", action="store_true", help="refuse every change")


def _changes(parser: argparse.ArgumentParser, *, asks: bool) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the request that would be sent (signed, credentials masked) and send nothing",
    )
    if asks:
        parser.add_argument("-y", "--yes", action="store_true", help="do not ask first")


def _bind_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of the bind form (its name, with - for _), the form's label as help;
    `args.bind_flags` maps each field's name to its flag's dest."""
    from providers.vendors import binding_vendors
    from tui import binding_forms as forms

    dests: dict[str, str] = {}
    for spec in forms.bind_fields(tuple(binding_vendors())):
        if spec.name == "provider":
            continue
        flag = "--" + spec.name.replace("_", "-")
        dest = f"field_{spec.name}"
        dests[spec.name] = dest
        default_note = f" (default {spec.default})" if spec.default and spec.kind != "bool" else ""
        if spec.kind == "bool":
            parser.add_argument(flag, dest=dest, action="store_const", const="true", help=spec.label)
        else:
            parser.add_argument(flag, dest=dest, metavar=spec.name.upper(), help=f"{spec.label}{default_note}")
    parser.set_defaults(bind_flags=dests)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teledeck",
        description="teledeck's headless commands, on the console's profiles.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = ", ".join(resource_names())

    get = commands.add_parser(
        "get",
        help="list a resource",
        description=f"List a resource ({names}). Bindings come from the local ledger, refreshed "
        "from each provider unless --offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    get.add_argument("resource", metavar="RESOURCE", help="a resource name or alias, as ':' takes it")
    get.add_argument(
        "-o", "--output", choices=GET_FORMATS, help="table (the default on a terminal), json, jsonl, csv, tsv (else)"
    )
    get.add_argument("--filter", metavar="TEXT", help="rows whose cells contain TEXT (case-insensitive; !TEXT: not)")
    get.add_argument("--max-items", type=_positive, metavar="N", help="stop after N rows (stops paging early)")
    _common(get)

    describe = commands.add_parser(
        "describe",
        help="every field of one record",
        description="Every field of one record, by its id (a binding: its subscription id or provider:id).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    describe.add_argument("resource", metavar="RESOURCE")
    describe.add_argument("id", metavar="ID")
    describe.add_argument("-o", "--output", choices=("text", "json"), default="text")
    _common(describe)

    delete = commands.add_parser(
        "delete",
        help="delete records by id",
        description="Delete records by id; asks first unless --yes. Each id settles on its own.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    delete.add_argument("resource", metavar="RESOURCE")
    delete.add_argument("ids", metavar="ID", nargs="+")
    delete.add_argument("--ignore-not-found", action="store_true", help="an id the provider does not have is done")
    delete.add_argument("-o", "--output", choices=("text", "json"), default="text", help="a dry run's requests as")
    _changes(delete, asks=True)
    _common(delete)

    bind = commands.add_parser(
        "bind",
        help="bind a privacy number",
        description="Bind a privacy number, checked as the console's bind form checks it. The new "
        "binding is printed and kept in the ledger; a bind whose answer is lost is checked, "
        "never sent twice.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bind.add_argument("provider", metavar="PROVIDER", help="aliyun, huawei or volcengine (the profile's account)")
    _bind_flags(bind)
    bind.add_argument("-o", "--output", choices=GET_FORMATS, help="the new binding as (default as for get)")
    _changes(bind, asks=False)
    _common(bind)

    unbind = commands.add_parser(
        "unbind",
        help="unbind privacy-number bindings",
        description="Unbind bindings by subscription id; asks first unless --yes. A binding not in "
        "the ledger is looked up first (by subscription id, where the vendor can).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    unbind.add_argument("provider", metavar="PROVIDER")
    unbind.add_argument("ids", metavar="ID", nargs="+")
    unbind.add_argument("-o", "--output", choices=("text", "json"), default="text", help="a dry run's requests as")
    _changes(unbind, asks=True)
    _common(unbind)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ---- resources ----------------------------------------------------------------------------------


def resource_names() -> list[str]:
    from tui.resources import REGISTRY

    return [*REGISTRY, BINDINGS]


def resolve_resource(name: str) -> ResourceSpec | None:
    """The spec `name` names as ':' resolves it, or None for the bindings (UsageError otherwise)."""
    from tui.app import destinations
    from tui.resources import REGISTRY
    from tui.screens.command import resolve

    found = resolve(name, destinations())
    if found is None:
        raise UsageError(f"unknown resource {name!r}; one of: {', '.join(resource_names())}")
    if found.mode in REGISTRY:
        return REGISTRY[found.mode]
    if found.mode == BINDINGS:
        return None
    raise UsageError(f"{found.title} is a console screen, not a resource; one of: {', '.join(resource_names())}")


def plural(noun: str) -> str:
    return noun + ("es" if noun.endswith("s") else "s")


def counted(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else plural(noun)}"


def row_filter(text: str | None) -> Callable[[Sequence[Row]], list[Row]]:
    """The rows `--filter TEXT` keeps: the console's `/` (a case-insensitive substring of the
    row's cells; a leading ! keeps the rows without it). The one place the CLI filters."""
    from tui.widgets.table_rows import filter_rows, run_now

    text = text or ""
    invert = text.startswith("!")
    needle = (text[1:] if invert else text).lower()
    if not needle:
        return list
    return lambda rows: list(run_now(filter_rows(rows, needle, invert)))


# ---- output -------------------------------------------------------------------------------------


@dataclass
class Out:
    """Where data and messages go, and what the terminal allows."""

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO

    @property
    def tty(self) -> bool:
        return _isatty(self.stdout)

    def data(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def say(self, message: str) -> None:
        """A message on stderr, shown literally (it may carry a server's words)."""
        self.stderr.write(literal(message) + "\n")
        self.stderr.flush()

    def fmt(self, chosen: str | None) -> str:
        return chosen or ("table" if self.tty else "tsv")

    def colour(self) -> bool:
        from tui.text_table import wants_colour

        return wants_colour(self.stdout)

    def confirm(self, question: str, yes: bool, verb: str) -> None:
        """Ask `question` on the terminal unless `yes`; UsageError when stdin is not a terminal."""
        if yes:
            return
        if not _isatty(self.stdin):
            raise UsageError(f"stdin is not a terminal, so nothing can be asked: pass --yes to {verb} without asking")
        self.stderr.write(literal(question) + " [y/N] ")
        self.stderr.flush()
        answer = self.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise Cancelled


class Cancelled(Exception):
    """The user answered no to a confirmation: nothing was sent (exit 1: nothing was done)."""


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def say_error(out: Out, error: ProviderError, doing: str) -> None:
    """A provider error as the console's report_error says it: the vendor code and message, the
    request id, and the vendor's field pointers."""
    out.say(f"teledeck: {error.provider or 'provider'} error while {doing}: {error.summary()}")
    for problem in error.problems:
        code = f"[{problem.code}] " if problem.code else ""
        out.say(f"  {problem.pointer or problem.field}: {code}{problem.message}")
    if error.request_id:
        out.say(f"  request id {error.request_id}")


def _seconds(age: float) -> str:
    return f"{age:.0f} s"


# ---- get and describe ---------------------------------------------------------------------------


@dataclass
class Listed:
    """What a listing gave: each record with its table row, and the columns to show them under."""

    records: list[tuple[Any, Row]]
    columns: list[Any]  # tui.text_table.TextColumn
    fields: Callable[[Any], dict[str, Any]]


def _spec_columns(spec: ResourceSpec) -> list[Any]:
    from tui.text_table import TextColumn

    return [TextColumn(c.label, c.max_width, c.justify == "right") for c in spec.columns]


def _spec_fields(spec: ResourceSpec) -> Callable[[Any], dict[str, Any]]:
    from tui.export import record_fields

    # What the cache keeps of a record: its vendor object, plus what the API does not carry (an
    # integration secret's type).
    return lambda record: record_fields(spec.to_cache(record))


def _need_account(session: ProviderSession, provider: str) -> None:
    if not session.has(provider):
        raise UsageError(f"profile {session.profile!r} has no {provider} account; nothing was sent")


async def list_spec(
    session: ProviderSession,
    spec: ResourceSpec,
    out: Out,
    *,
    keep: Callable[[Sequence[Row]], list[Row]],
    max_items: int | None,
    wanted: Callable[[Any], bool] | None = None,
) -> list[tuple[Any, Row]]:
    """`spec`'s records that `keep` (and `wanted`) keep, at most `max_items`: from the provider,
    page by page, stopping early once there are enough (the listing's fetches in flight are
    cancelled), or offline from the cache. A full listing is cached, as the console caches it."""
    from providers.errors import ProviderError
    from tui.screens.resource import read_cached, row_for

    _need_account(session, spec.provider)
    found: list[tuple[Any, Row]] = []

    def take(rows: list[Row]) -> bool:
        """Keep what matches; True once there are enough."""
        for row in keep(rows):
            if wanted is None or wanted(row.data):
                found.append((row.data, row))
                if max_items is not None and len(found) >= max_items:
                    return True
        return False

    if session.offline:
        cached = await asyncio.to_thread(read_cached, session, spec)
        if cached is None:
            raise Failed(f"offline, and nothing is cached for {spec.title.lower()} in profile {session.profile!r} yet")
        out.say(f"offline: {spec.title.lower()} from the cache, {_seconds(cached.hit.age_seconds)} old")
        take(cached.rows)
        return found
    every: list[Any] = []
    complete = False
    pages = spec.pages(session)
    try:
        async for page in pages:
            every += page.items
            if take([row_for(spec, record) for record in page.items]):
                break
        else:
            complete = True
    except ProviderError as error:
        say_error(out, error, f"listing {spec.title.lower()}")
        raise Failed from None
    finally:
        close = getattr(pages, "aclose", None)
        if close is not None:
            await close()
    if complete and session.cache is not None and spec.parse is not None:
        items = [spec.to_cache(record) for record in every]
        await asyncio.to_thread(session.cache.put, session.profile, spec.provider, spec.cache_key, items)
    return found


def binding_fields(binding: Binding, now: datetime) -> dict[str, Any]:
    from tui.export import record_fields

    return record_fields(_as_now(binding, now))


def _as_now(binding: Binding, now: datetime) -> Binding:
    """The binding with the status its row shows: expired once the clock says so."""
    from providers.bindings import ACTIVE, EXPIRED

    left = binding.seconds_left(now)
    if binding.status == ACTIVE and left is not None and left <= 0:
        return replace(binding, status=EXPIRED)
    return binding


async def list_bindings(session: ProviderSession, out: Out, *, refresh: bool) -> tuple[list[Binding], bool]:
    """Every binding in the ledger, as the Bindings screen shows them: online, pending binds are
    settled, watched X numbers looked up and every live binding refreshed from its provider
    first. Also whether every refresh succeeded."""
    from providers.binding_flows import discover_watched, settle_pending_binds
    from providers.ledger import refresh_all

    ledger = session.ledger
    all_well = True
    if session.offline:
        entries = await asyncio.to_thread(ledger.entries)
        times = [e.last_refreshed_at for e in entries if e.last_refreshed_at is not None]
        now = datetime.fromtimestamp(session.clock(), UTC)
        if times:
            newest, oldest = (now - max(times)).total_seconds(), (now - min(times)).total_seconds()
            age = f"last refreshed {_seconds(newest)} ago" + (
                f" (the oldest {_seconds(oldest)} ago)" if oldest - newest >= 1 else ""
            )
        else:
            age = "never refreshed"
        out.say(f"offline: {counted(len(entries), 'binding')} from the ledger, {age}")
        return [e.binding for e in entries], True
    providers = session.binding_providers
    if not providers:
        out.say(f"profile {session.profile!r} has no binding provider account: the ledger as it is")
    elif refresh:
        for outcome in await settle_pending_binds(ledger, providers):
            out.say(f"bind of unknown outcome settled: {outcome.message()}")
        added, errors = await discover_watched(ledger, providers, session.watch_x)
        if added:
            out.say(f"{counted(added, 'binding')} found on watched X numbers and added to the ledger")
        report = await refresh_all(ledger, providers)
        for key, error in {**errors, **report.errors}.items():
            out.say(f"teledeck: refresh of {key} failed: {error}")
            all_well = False
    pending = await asyncio.to_thread(ledger.pending_binds)
    if pending:
        out.say(f"{counted(len(pending), 'bind')} of unknown outcome pending; the next get checks again")
    return await asyncio.to_thread(ledger.all), all_well


def _binding_columns() -> list[Any]:
    from tui.screens.bindings import COLUMNS
    from tui.text_table import TextColumn

    return [TextColumn(c.label, c.max_width, c.justify == "right") for c in COLUMNS]


def _binding_rows(session: ProviderSession, bindings: Sequence[Binding]) -> list[tuple[Any, Row]]:
    from tui.screens.bindings import binding_row
    from tui.widgets.table_rows import Row

    now = _now(session)
    return [(b, Row(r.key, r.cells, r.style, r.order, b)) for b in bindings for r in (binding_row(b, now),)]


def _now(session: ProviderSession) -> datetime:
    return datetime.fromtimestamp(session.clock(), UTC)


def print_records(out: Out, fmt: str, listed: Listed) -> None:
    if fmt == "table":
        from tui.text_table import render_table

        out.data(
            render_table(listed.columns, [(row.cells, row.style) for _, row in listed.records], colour=out.colour())
        )
        return
    from tui.export import render

    out.data(render(fmt, [listed.fields(record) for record, _ in listed.records]))


async def cmd_get(session: ProviderSession, args: argparse.Namespace, out: Out) -> int:
    spec = resolve_resource(args.resource)
    fmt = out.fmt(args.output)
    keep = row_filter(args.filter)
    if spec is None:
        bindings, all_well = await list_bindings(session, out, refresh=True)
        rows = [row for _, row in _binding_rows(session, bindings)]
        chosen = [(row.data, row) for row in keep(rows)][: args.max_items]
        now = _now(session)
        print_records(out, fmt, Listed(chosen, _binding_columns(), lambda b: binding_fields(b, now)))
        return EXIT_OK if all_well else EXIT_FAILED
    found = await list_spec(session, spec, out, keep=keep, max_items=args.max_items)
    print_records(out, fmt, Listed(found, _spec_columns(spec), _spec_fields(spec)))
    return EXIT_OK


def _binding_for(session: ProviderSession, bindings: Sequence[Binding], wanted: str) -> Binding:
    """The binding `wanted` names: its key (provider:subscription id) or its subscription id."""
    matches = [b for b in bindings if wanted in (b.key, b.subscription_id)]
    if not matches:
        raise Failed(f"no binding {wanted!r} in the ledger")
    if len(matches) > 1:
        keys = ", ".join(b.key for b in matches)
        raise UsageError(f"{wanted!r} is the subscription id of several bindings ({keys}): give provider:id")
    return matches[0]


async def cmd_describe(session: ProviderSession, args: argparse.Namespace, out: Out) -> int:
    from tui.export import render_one

    spec = resolve_resource(args.resource)
    if spec is None:
        bindings, _ = await list_bindings(session, out, refresh=False)
        binding = _binding_for(session, bindings, args.id)
        if not session.offline and binding.provider in session.binding_providers:
            binding = await _refreshed(session, binding, out)
        fields = binding_fields(binding, _now(session))
    else:
        found = await list_spec(
            session, spec, out, keep=list, max_items=1, wanted=lambda record: spec.key(record) == args.id
        )
        if not found:
            raise Failed(f"no {spec.noun} with id {args.id!r} in profile {session.profile!r}")
        fields = _spec_fields(spec)(found[0][0])
    if args.output == "json":
        out.data(render_one("json", fields))
    else:
        out.data(_detail_text(fields))
    return EXIT_OK


async def _refreshed(session: ProviderSession, binding: Binding, out: Out) -> Binding:
    """`binding` as its provider has it now (kept in the ledger); as the ledger had it, with the
    error said, when the provider cannot tell."""
    from providers.errors import ProviderError

    try:
        fresh = await session.binding_providers[binding.provider].refresh(binding)
    except ProviderError as error:
        say_error(out, error, f"refreshing {binding.key}")
        out.say("showing the binding as the ledger has it")
        return binding
    return await asyncio.to_thread(session.ledger.apply_refresh, fresh)


def _detail_text(fields: dict[str, Any]) -> str:
    """Every field on its own line, as the detail view has them: dotted paths, then values."""
    from providers.records import flatten
    from tui.text_table import crop

    rows = flatten(fields)
    width = min(max((len(path) for path, _ in rows), default=0), 40)
    return "".join(
        f"{crop(literal(p, single_line=True), width):<{width}}  {literal(v, single_line=True)}\n" for p, v in rows
    )


# ---- changes ------------------------------------------------------------------------------------


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
    _need_account(session, spec.provider)
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
    _need_account(session, name)
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
        now = _now(session)
        rows = _binding_rows(session, [binding])
        print_records(out, out.fmt(args.output), Listed(rows, _binding_columns(), lambda b: binding_fields(b, now)))
        return EXIT_OK
    say_outcome(out, outcome, "binding", "")
    if outcome.unknown:
        out.say("kept as a pending bind in the ledger: `teledeck get bindings` checks it again, never re-sends it")
    return EXIT_FAILED


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


# ---- running ------------------------------------------------------------------------------------

COMMANDS = {"get": cmd_get, "describe": cmd_describe, "delete": cmd_delete, "bind": cmd_bind, "unbind": cmd_unbind}


async def run(args: argparse.Namespace, out: Out, session: ProviderSession | None) -> int:
    from tui.config import ConfigError
    from tui.sessions import open_command_line_session

    wrap = None
    if getattr(args, "dry_run", False):
        from providers.dryrun import dry_run_wrapper

        wrap, _ = dry_run_wrapper()
    if session is None:
        try:
            _, session = open_command_line_session(
                sandbox=args.sandbox,
                read_only=args.read_only,
                profile=args.profile,
                offline=args.offline,
                wrap_transport=wrap,
            )
        except ConfigError as error:
            raise UsageError(str(error)) from None
    try:
        return await COMMANDS[args.command](session, args, out)
    finally:
        await session.aclose()


def main(
    argv: Sequence[str],
    *,
    session: ProviderSession | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one headless command; its exit status. `session` (tests): used instead of opening one."""
    out = Out(stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin)
    parser = build_parser()
    try:
        # argparse writes its help and its usage errors to sys.stdout and sys.stderr: here, ours.
        with contextlib.redirect_stdout(out.stdout), contextlib.redirect_stderr(out.stderr):
            args = parser.parse_args(list(argv))
    except SystemExit as ended:  # --help (0), or argparse's usage error (2, said on stderr)
        return int(ended.code or 0)
    from tui.logsetup import configure_or_explain

    problem = configure_or_explain()
    if problem:
        out.say(f"teledeck: {problem}")
        return EXIT_USAGE
    try:
        return asyncio.run(run(args, out, session))
    except UsageError as error:
        out.say(f"teledeck: {error}")
        return EXIT_USAGE
    except Failed as error:
        if str(error):
            out.say(f"teledeck: {error}")
        return EXIT_FAILED
    except Cancelled:
        out.say("cancelled; nothing was sent")
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader left (`| head`): what it wanted was written; say nothing more to it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        out.say("interrupted")
        return 130
