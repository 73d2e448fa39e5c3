"""The ledger's part in each binding write, the same for the Bindings screen and the headless CLI.

None of the vendors can list an account's bindings, so every bind, unbind and lost answer must
leave the ledger (providers/ledger.py) as it leaves the provider:

- `bind_and_record`: settle the bind (providers.outcomes.settle_bind, never counting a binding
  the ledger already had as this bind's result), record what was made, and keep a bind of
  unknown outcome in `pending_binds` exactly as it was sent;
- `settle_pending_binds`: check each pending bind again by what it sent (re-sent only with a key
  the vendor honours) and record or drop it;
- `unbind_and_record`: settle the unbind and mark the binding unbound when it is done;
- `discover_watched`: look up the profile's watched X numbers and import what the providers have.

Ledger calls run in a worker thread, so an event loop drawing a screen is never held by an fsync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from providers.bindings import Binding, BindingProvider, BindRequest
from providers.errors import ProviderError
from providers.ledger import BindingLedger
from providers.outcomes import WriteOutcome, reconcile_bind, settle_bind, settle_unbind

WATCH_CONCURRENCY = 4  # watched X lookups at once


async def known_keys(ledger: BindingLedger) -> set[str]:
    """The keys of every binding the ledger has: what a check after a lost answer must not count."""
    return {b.key for b in await asyncio.to_thread(ledger.all)}


async def bind_and_record(
    ledger: BindingLedger, provider: BindingProvider, request: BindRequest
) -> WriteOutcome[Binding]:
    """Bind `request` (from `providers.outcomes.tagged`, kept by the caller so a second send of
    the same values re-uses its key and tag) and leave the ledger as the outcome says: the
    binding recorded when done, the request kept in pending binds when unknown, and a pending
    entry of the same key dropped otherwise."""
    outcome = await settle_bind(provider, request, known=await known_keys(ledger))
    if outcome.value is not None:
        await asyncio.to_thread(ledger.record_created, outcome.value)
    if outcome.unknown:  # checked again at every refresh until it is known
        detail = "; ".join(outcome.checked)
        await asyncio.to_thread(ledger.record_pending_bind, provider.provider, provider.account, request, detail)
    else:
        await asyncio.to_thread(ledger.resolve_pending_bind, request.idempotency_key)
    return outcome


async def settle_pending_binds(
    ledger: BindingLedger, providers: Mapping[str, BindingProvider]
) -> list[WriteOutcome[Binding]]:
    """Check again every pending bind whose provider is here; the ones now known (done or not
    done) are recorded or dropped and returned, the still unknown stay pending."""
    settled: list[WriteOutcome[Binding]] = []
    for item in await asyncio.to_thread(ledger.pending_binds):
        provider = providers.get(item.provider)
        if provider is None:
            continue
        outcome = await reconcile_bind(provider, item.request, known=await known_keys(ledger), earlier=item.detail)
        if outcome.value is not None:
            await asyncio.to_thread(ledger.record_created, outcome.value)
        if not outcome.unknown:
            await asyncio.to_thread(ledger.resolve_pending_bind, item.id)
            settled.append(outcome)
    return settled


async def unbind_and_record(ledger: BindingLedger, provider: BindingProvider, binding: Binding) -> WriteOutcome[None]:
    """Unbind `binding` and, when that is done (a re-send that finds it gone included), mark it
    unbound in the ledger."""
    outcome = await settle_unbind(provider, binding)
    if outcome.done:
        await asyncio.to_thread(ledger.mark_unbound, binding.key)
    return outcome


async def discover_watched(
    ledger: BindingLedger,
    providers: Mapping[str, BindingProvider],
    watch_x: Mapping[str, tuple[tuple[str, str], ...]],
) -> tuple[int, dict[str, str]]:
    """Look up every watched (X, pool) of each provider here and import the bindings found: how
    many were new to the ledger, and each failed lookup's error by "provider:X"."""
    gate = asyncio.Semaphore(WATCH_CONCURRENCY)
    errors: dict[str, str] = {}

    async def one(name: str, x: str, pool: str) -> list[Binding]:
        async with gate:
            try:
                return await providers[name].lookup(x=x, pool=pool)
            except ProviderError as error:
                errors[f"{name}:{x}"] = error.summary()
                return []

    jobs = [one(name, x, pool) for name, pairs in watch_x.items() if name in providers for x, pool in pairs]
    found = [b for batch in await asyncio.gather(*jobs) for b in batch]
    added = await asyncio.to_thread(ledger.record_imported, found) if found else 0
    return added, errors
