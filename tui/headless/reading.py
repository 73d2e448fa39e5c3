"""`teledeck get` and `teledeck describe`: a resource's records from its provider (or, offline,
the cache), the bindings from the ledger, printed as a table or as data."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui.headless.base import (
    EXIT_FAILED,
    EXIT_OK,
    Failed,
    Out,
    UsageError,
    counted,
    names_calls,
    need_account,
    resolve_resource,
    say_error,
    seconds,
    session_now,
)
from tui.literal import literal

if TYPE_CHECKING:
    from providers.bindings import Binding
    from providers.session import ProviderSession
    from tui.resources import ResourceSpec
    from tui.widgets.table_rows import Row


def row_filter(text: str | None, columns: Sequence[tuple[str, str]]) -> Callable[[Sequence[Row]], list[Row]]:
    """The rows `--filter TEXT` keeps: exactly the console's `/` (text in any cell, `~REGEX`,
    `COLUMN:VALUE` over `columns` ((key, label) in cell order), a leading ! inverts). The one
    place the CLI filters; a bad regex or an unknown column is a usage error (exit 2)."""
    from tui.widgets.table_rows import FilterError, filter_rows, parse_filter, run_now

    try:
        keep = parse_filter(text or "", columns)
    except FilterError as error:
        raise UsageError(f"--filter {text!r}: {error}") from None
    if not keep.needle:
        return list
    return lambda rows: run_now(filter_rows(list(rows), keep))  # a list of its own either way


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

    need_account(session, spec.provider)
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
        out.say(f"offline: {spec.title.lower()} from the cache, {seconds(cached.hit.age_seconds)} old")
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
        now = session_now(session)
        if times:
            newest, oldest = (now - max(times)).total_seconds(), (now - min(times)).total_seconds()
            age = f"last refreshed {seconds(newest)} ago" + (
                f" (the oldest {seconds(oldest)} ago)" if oldest - newest >= 1 else ""
            )
        else:
            age = "never refreshed"
        out.say(f"offline: {counted(len(entries), 'binding')} from the ledger, {age}")
        return [e.binding for e in entries], True
    providers = session.binding_providers
    if not providers:
        out.say(f"profile {session.profile!r} has no binding provider account: the ledger as it is")
    elif refresh:
        for outcome in await settle_pending_binds(ledger, providers, session):
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


def binding_columns() -> list[Any]:
    from tui.screens.bindings import COLUMNS
    from tui.text_table import TextColumn

    return [TextColumn(c.label, c.max_width, c.justify == "right") for c in COLUMNS]


def binding_rows(session: ProviderSession, bindings: Sequence[Binding]) -> list[tuple[Any, Row]]:
    from tui.screens.bindings import binding_row
    from tui.widgets.table_rows import Row

    now = session_now(session)
    return [(b, Row(r.key, r.cells, r.style, r.order, b)) for b in bindings for r in (binding_row(b, now),)]


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
    if names_calls(args.resource):
        return await get_calls(session, args, out)
    for flag in ("binding", "provider", "since"):
        if getattr(args, flag, None) is not None:
            raise UsageError(f"--{flag} is for `get calls`")
    spec = resolve_resource(args.resource)
    fmt = out.fmt(args.output)
    if spec is None:
        from tui.screens.bindings import COLUMNS

        keep = row_filter(args.filter, [(c.key, c.label) for c in COLUMNS])
        bindings, all_well = await list_bindings(session, out, refresh=True)
        rows = [row for _, row in binding_rows(session, bindings)]
        chosen = [(row.data, row) for row in keep(rows)][: args.max_items]
        now = session_now(session)
        print_records(out, fmt, Listed(chosen, binding_columns(), lambda b: binding_fields(b, now)))
        return EXIT_OK if all_well else EXIT_FAILED
    keep = row_filter(args.filter, [(c.key, c.label) for c in spec.columns])
    found = await list_spec(session, spec, out, keep=keep, max_items=args.max_items)
    print_records(out, fmt, Listed(found, _spec_columns(spec), _spec_fields(spec)))
    return EXIT_OK


_AGO = re.compile(r"^([0-9]{1,9})\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: datetime) -> datetime:
    """--since: "30m", "2h", "7d" (before `now`) or an ISO 8601 time, UTC unless it says."""
    shown = text.strip()
    ago = _AGO.fullmatch(shown.lower())
    if ago:
        return now - timedelta(seconds=int(ago.group(1)) * _UNITS[ago.group(2)])
    try:
        moment = datetime.fromisoformat(shown)
    except ValueError:
        raise UsageError(f"--since {text!r}: give 30m, 2h, 7d or a time such as 2026-05-25T12:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def get_calls(session: ProviderSession, args: argparse.Namespace, out: Out) -> int:
    """`get calls`: the calls in the ledger, newest first, as the Calls screen lists them; nothing
    is asked of a vendor (they push calls, none lists them), so it works offline too."""
    from providers.vendors import binding_vendors
    from tui.export import call_fields
    from tui.screens.calls import COLUMNS, call_row
    from tui.text_table import TextColumn

    provider = args.provider
    if provider is not None and provider not in binding_vendors():
        raise UsageError(f"--provider {provider!r}: one of {', '.join(sorted(binding_vendors()))}")
    since = parse_since(args.since, session_now(session)) if args.since is not None else None
    keep = row_filter(args.filter, [(c.key, c.label) for c in COLUMNS])
    ledger = session.ledger
    binding_key = None
    if args.binding is not None:
        bindings = await asyncio.to_thread(ledger.all)
        binding_key = _binding_for(session, bindings, args.binding).key
    # --max-items bounds the read itself unless a filter has to look further.
    limit = args.max_items if args.filter is None else None
    records = await asyncio.to_thread(
        ledger.calls, binding_key=binding_key, provider=provider, since=since, limit=limit
    )
    rows = keep([call_row(record) for record in records])[: args.max_items]
    columns = [TextColumn(c.label, c.max_width, c.justify == "right") for c in COLUMNS]
    print_records(out, out.fmt(args.output), Listed([(row.data, row) for row in rows], columns, call_fields))
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
        fields = binding_fields(binding, session_now(session))
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
