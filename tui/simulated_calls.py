"""A simulated call from the Bindings screen (the sandbox only): the outcomes to pick from, and
the call placed through the session, whose emulator pushes the vendor's events and CDR to the
sandbox's receiver (`ProviderSession.place_simulated_call`), which writes them to the ledger.

No Textual here: what the screen needs is the app's notify and report_error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from providers.calls import NO_BINDING

if TYPE_CHECKING:
    from providers.bindings import Binding
    from tui.app import TeledeckApp

log = logging.getLogger("teledeck.ui")

# What each outcome the emulators simulate (providers/sandbox/base.py SIMULATED_OUTCOMES) does.
_SAID = {
    "answered": "answered: B answers, they talk, then hang up",
    "busy": "busy: B is on another call",
    "no answer": "no answer: B's phone rings until the vendor gives up",
    NO_BINDING: "no binding: a call to one of the vendor's X numbers that has no binding",
}


def outcome_choices() -> list[tuple[str, str]]:
    """(outcome, its line) for the pick list, in the emulators' order."""
    from providers.sandbox.base import SIMULATED_OUTCOMES

    return [(outcome, _SAID.get(outcome, outcome)) for outcome in SIMULATED_OUTCOMES]


def deliveries_text(deliveries: list[Any]) -> tuple[str, bool]:
    """What became of each push ("200 /huawei/events, not delivered /huawei/events: ..."), and
    whether every one was accepted."""
    parts, all_well = [], True
    for delivery in deliveries:
        if delivery.status is None or not 200 <= delivery.status < 300:
            all_well = False
        status = "not delivered" if delivery.status is None else str(delivery.status)
        detail = f" ({delivery.detail})" if delivery.detail else ""
        parts.append(f"{status} {delivery.route}{detail}")
    return ", ".join(parts) or "no pushes", all_well


async def place_simulated_call(app: TeledeckApp, binding: Binding, outcome: str) -> bool:
    """Place a simulated `outcome` call on `binding` (for "no binding": on one of its vendor's
    unbound X numbers) and say its call id and what became of each push; True once placed."""
    from providers.errors import ProviderError

    chosen: dict[str, str] = {"x": ""} if outcome == NO_BINDING else {"binding_id": binding.subscription_id}
    try:  # the emulator and the in-process receiver run off the event loop (the session's doing)
        simulated, deliveries = await app.session.place_simulated_call(binding.provider, outcome=outcome, **chosen)
    except ProviderError as error:
        app.report_error(error, f"simulating a {outcome} call")
        return False
    except Exception as error:  # an emulator refusing (its own error type): said, never a traceback
        log.info("simulated call refused: %s", type(error).__name__)
        app.notify(f"{type(error).__name__}: {error}", title="Simulated call not placed", severity="error", timeout=10)
        return False
    said, all_well = deliveries_text(list(deliveries))
    on = f"X {simulated.x}" if outcome == NO_BINDING else f"binding {binding.subscription_id}"
    app.notify(
        f"{binding.provider} call {simulated.call_id} on {on}: {simulated.outcome}. Pushes: {said}.",
        title="Simulated call placed",
        severity="information" if all_well else "warning",
        timeout=10,
    )
    return True
