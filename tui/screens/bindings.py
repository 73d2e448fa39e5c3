"""Live privacy-number bindings across providers, from the local ledger, refreshed from each vendor.

It is its own screen (not the generic resource screen) because it needs more: a countdown that
ticks every second, bindings that stand out as they near expiry, hide/show of inactive ones,
bind/modify/unbind per provider, and import by X number or subscription id. With rows marked,
unbind and extend (`e`: a new expiry) act on every marked binding, each through the same one-row
path (`unbind_one`, `modify_one`) as a single one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from textual import on, work
from textual.binding import Binding as Key

from providers.binding_flows import bind_and_record, bound_id, discover_watched, settle_pending_binds, unbind_and_record
from providers.bindings import (
    ACTIVE,
    EXPIRED,
    REMOVED,
    Binding,
    BindingChange,
    BindingProvider,
    BindRequest,
    NumberPool,
    default_pool_of,
    pools_of,
)
from providers.ledger_store import LedgerError
from providers.outcomes import (
    Outcome,
    WriteOutcome,
    settle_create,
    tagged,
)
from tui import binding_forms as forms
from tui.resources import FieldSpec
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.form import FormScreen
from tui.screens.table_screen import TableScreen, change_keys, opens_on_top, record_list_keys
from tui.widgets.virtual_table import Column, Row, VirtualTable
from tui.wording import plural

SOON = 600  # seconds: bindings expiring within 10 minutes stand out


def _key(binding: Binding) -> str:
    return binding.key


# At 80 columns the numbers, mode, countdown and status stay whole (priority 1); the rest give way
# in this order: subscription id, pool, expiry time, recording, provider (the detail view has all).
COLUMNS = (
    Column("provider", "PROVIDER", width=10, priority=3),
    Column("mode", "MODE", width=7),
    Column("a", "A", width=14),
    # X stays; what follows it (an extension, AXYB's Y) gives way after the ids and times.
    Column("x", "X (EXT)", max_width=24, priority=2, min_width=14),
    Column("b", "B", width=14),
    Column("expires_in", "EXPIRES IN", width=10),
    Column("expires_at", "EXPIRES", width=11, priority=4),
    Column("recording", "REC", width=3, priority=3),
    Column("status", "STATUS", width=7),
    Column("pool", "POOL / OUT-ID", max_width=28, priority=4, min_width=12),
    Column("subscription_id", "SUBSCRIPTION", max_width=36, priority=5),
)


def expires_in(seconds: float | None) -> str:
    """The EXPIRES IN cell, short enough to stay whole at 80 columns: no seconds once it is days
    away ("13d 23:46"), and how long ago for an expired one ("5m ago": STATUS says expired)."""
    shown = forms.countdown(seconds)
    if seconds is not None and seconds >= 86400:
        shown = shown.rsplit(":", 1)[0]
    return shown.removeprefix("expired ")


def binding_row(binding: Binding, now: datetime) -> Row:
    left = binding.seconds_left(now)
    status = binding.status
    if status == ACTIVE and left is not None and left <= 0:
        status = EXPIRED  # the clock says so before the next refresh does
    style = ""
    if status in (EXPIRED, REMOVED):
        style = "dim"
    elif left is not None and left <= SOON:
        style = "warning"
    x = f"{binding.x} ext {binding.extension}" if binding.extension else binding.x
    x = f"{x} Y {binding.y}" if binding.y else x  # AXYB: A reaches B through Y
    pool = " / ".join(p for p in (binding.pool, binding.user_data) if p)
    recording = "?" if binding.recording is None else ("on" if binding.recording else "off")
    return Row(
        key=binding.key,
        cells=(
            binding.provider,
            binding.mode,
            binding.a,
            x,
            binding.b,
            expires_in(left) if status != REMOVED else "removed",
            forms.short_local_time(binding.expires_at),
            recording,
            status,
            pool,
            binding.subscription_id,
        ),
        style=style,
        order={
            "expires_in": None if status == REMOVED else left,
            "expires_at": binding.expires_at.timestamp() if binding.expires_at else None,
            "subscription_id": binding.subscription_id,
        },
    )


class BindingsScreen(TableScreen):
    BINDINGS = record_list_keys(
        "bindings",
        *change_keys(
            "bindings", create=("bind", "Bind"), edit=("modify", "Modify/extend"), remove=("unbind", "Unbind")
        ),
        opens_on_top("i", "import", "Import", id="bindings.import"),
        Key("x", "toggle_inactive", "Hide/show expired", id="bindings.toggle_inactive"),
        opens_on_top("s", "simulate_call", "Simulate call", id="bindings.simulate_call"),
    )

    row_noun = "binding"
    export_name = "bindings"
    CHANGE_VERBS = frozenset({"bind", "modify", "unbind", "simulate_call"})

    def why_unavailable(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        if action == "simulate_call" and not self.teledeck.session.sandbox:
            return "Simulated calls are the sandbox's (teledeck --sandbox): a real vendor's calls are real."
        if action in (*self.CHANGE_VERBS, "import") and not self.providers:
            return "No binding providers are configured in this profile."
        refused = super().why_unavailable(action, parameters)  # read-only first: it refuses every change
        if refused:
            return refused
        if action == "modify" and not (self.is_mounted and self.table.mark_count):
            # (With rows marked, `e` extends those; each one's own limits are checked then.)
            binding = self.current() if self.is_mounted else None
            if binding is not None:
                over = self.cannot_modify(binding)
                if over:
                    return over
        return None

    def cannot_modify(self, binding: Binding) -> str | None:
        """Why `binding` cannot be modified (expired, removed, a mode without modify), or None."""
        over = binding.status if binding.status in (EXPIRED, REMOVED) else ""
        if not over and (binding.seconds_left(self.now()) or 1) <= 0:
            over = EXPIRED
        if over:
            return f"{forms.describe(binding)} is {over}: it cannot be modified; bind again."
        rules = forms.rules(binding.provider)
        if rules is not None and not rules.can_modify(binding.mode):
            return f"{binding.provider} {binding.mode} bindings cannot be modified: unbind and bind again."
        return None

    @on(VirtualTable.RowHighlighted)
    def _row_changed(self) -> None:
        self.refresh_bindings()  # whether Modify applies depends on the row

    def __init__(self) -> None:
        super().__init__(name="bindings")
        self.bindings: dict[str, Binding] = {}
        self.show_inactive = True
        self.progress = ""
        self.problem = ""
        self.pending: list = []  # binds of unknown outcome (the ledger's pending binds)

    # ---- layout ---------------------------------------------------------------------------

    def make_table(self) -> VirtualTable:
        return VirtualTable(COLUMNS, id="bindings-table")

    @property
    def providers(self) -> dict[str, BindingProvider]:
        return self.teledeck.session.binding_providers

    @property
    def ledger(self):
        return self.teledeck.session.ledger

    def on_mount(self) -> None:
        super().on_mount()
        self.load_from_ledger()
        # The countdown: every second, re-render the rows from the records we hold (no I/O).
        self.set_interval(1.0, self.render_rows)
        if self.providers:
            self.refresh_from_providers()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.teledeck.session.clock(), UTC)

    def render_rows(self) -> None:
        if self.app.screen is not self:
            return  # nobody is looking; skip the work
        now = self.now()
        rows = [
            self.with_problem(binding_row(b, now))
            for b in self.bindings.values()
            if self.show_inactive or (b.status not in (EXPIRED, REMOVED) and (b.seconds_left(now) or 1) > 0)
        ]
        self.table.set_rows(rows)
        self.update_title()

    def update_title(self) -> None:
        table = self.table
        now = self.now()
        active = [b for b in self.bindings.values() if b.status == ACTIVE and (b.seconds_left(now) or 1) > 0]
        soon = sum(1 for b in active if (b.seconds_left(now) or SOON + 1) <= SOON)
        parts = [
            f"Bindings · {', '.join(sorted(self.providers)) or 'no binding providers configured'}",
            f"{len(active)} active, {soon} expiring within 10 min, {len(self.bindings)} in ledger",
        ]
        if table.filter_text:
            parts.append(f"{table.visible_count} match {table.filter_text!r}")
        if not self.show_inactive:
            parts.append("expired hidden")
        if self.pending:
            parts.append(f"{len(self.pending)} bind(s) of unknown outcome")
        label = next((c.label for c in COLUMNS if c.key == table.sort_column), table.sort_column)
        self.show_title_bar(parts, sort_label=label, problem=self.problem)

    # ---- ledger and refresh ---------------------------------------------------------------

    def ledger_failed(self, error: LedgerError) -> None:
        """The ledger cannot be used (a PostgreSQL server away, a schema to migrate): said in the
        title bar and a notice, never a silently empty list."""
        self.problem = "ledger unavailable"
        self.app.notify(str(error), title="Ledger", severity="error", markup=False, timeout=15)
        self.render_rows()

    @work(group="ledger", exclusive=True, exit_on_error=False)
    async def load_from_ledger(self) -> None:
        try:
            bindings = await asyncio.to_thread(self.ledger.all)
            self.pending = await asyncio.to_thread(self.ledger.pending_binds)
        except LedgerError as error:
            self.ledger_failed(error)
            return
        self.bindings = {b.key: b for b in bindings}
        if getattr(self.ledger, "recovered_from", None):
            self.problem = f"ledger was unreadable; moved aside to {self.ledger.recovered_from}"
        self.report_ledger_rows()
        self.render_rows()

    def report_ledger_rows(self) -> None:
        """Say which ledger rows could not be read (the others are shown), and replayed journal writes."""
        skipped = getattr(self.ledger, "skipped_rows", ())
        if skipped:
            self.problem = f"{len(skipped)} unreadable ledger row(s) skipped"
            for row in skipped[:3]:
                self.app.notify(
                    f"{row.key}: {row.reason}", title="ledger row skipped", severity="error", markup=False, timeout=10
                )
        replayed = getattr(self.ledger, "replayed", 0)
        if replayed:
            self.app.notify(f"{replayed} binding write(s) journaled while the ledger was unavailable were replayed.")
            self.ledger.replayed = 0

    @work(group="refresh", exclusive=True, exit_on_error=False)
    async def refresh_from_providers(self) -> None:
        try:
            await self._refresh()
        except LedgerError as error:
            self.progress = ""
            self.ledger_failed(error)

    async def _refresh(self) -> None:
        from providers.ledger import refresh_all

        self.progress = "looking up watched X numbers…"
        self.update_title()
        await self.settle_pending()
        discovered, lookup_errors = await self.discover_watched()

        def progress(done: int, total: int) -> None:
            self.progress = f"refreshing {done}/{total}…"
            self.update_title()

        try:
            report = await refresh_all(self.ledger, self.providers, on_progress=progress)
        finally:
            self.progress = ""
        report.errors.update(lookup_errors)
        report.failed += len(lookup_errors)
        if discovered:
            self.app.notify(f"{discovered} binding(s) found on watched X numbers and added to the ledger.")
        bindings = await asyncio.to_thread(self.ledger.all)
        self.bindings = {b.key: b for b in bindings}
        self.problem = f"{report.failed} refresh(es) failed" if report.failed else ""
        self.report_ledger_rows()
        for key, error in list(report.errors.items())[:3]:
            self.app.notify(f"{key}: {error}", title="refresh failed", severity="error", markup=False, timeout=8)
        self.render_rows()

    async def settle_pending(self) -> None:
        """Check again every bind whose outcome was unknown, by what it sent (never re-sent unless
        the vendor honours its key); a settled one leaves the pending list, and the user is told."""
        for outcome in await settle_pending_binds(self.ledger, self.providers, self.teledeck.session):
            self.app.notify(outcome.message(), title="Bind of unknown outcome settled", markup=False, timeout=10)
        self.pending = await asyncio.to_thread(self.ledger.pending_binds)

    async def discover_watched(self) -> tuple[int, dict[str, str]]:
        """Look up every watched X number (a profile's watch_x) and import what the provider has."""
        return await discover_watched(self.ledger, self.providers, self.teledeck.session.watch_x)

    def action_refresh(self) -> None:
        self.refresh_from_providers()

    # ---- selection ------------------------------------------------------------------------

    def action_toggle_inactive(self) -> None:
        self.show_inactive = not self.show_inactive
        self.render_rows()

    def record_for(self, key: str) -> Binding | None:
        return self.bindings.get(key)

    def describe(self, record: Any) -> str:
        return forms.describe(record)

    def export_fields(self, records: list[Any]) -> list[dict[str, Any]]:
        """Each binding's fields with what the ledger knows of it (origin, when it was made,
        updated and last refreshed, the last refresh error). Run in a worker thread."""
        from tui.export import record_fields

        entries = {entry.key: entry for entry in self.ledger.entries()}
        return [record_fields(entries.get(binding.key, binding)) for binding in records]

    def action_detail(self) -> None:
        binding = self.need_current()
        if binding is None:
            return
        summary = {
            "provider": binding.provider,
            "mode": binding.mode,
            "subscription_id": binding.subscription_id,
            "a": binding.a,
            "x": binding.x,
            "extension": binding.extension,
            "b": binding.b,
            "y": binding.y,
            "expires_at_utc": binding.expires_at.isoformat() if binding.expires_at else "",
            "expires_at_local": forms.local_time(binding.expires_at),
            "status": binding.status,
            "recording": binding.recording,
            "pool": binding.pool,
            "user_data": binding.user_data,
            "vendor_response": binding.raw,
        }
        from tui.screens.calls import BindingCalls

        title = self.detail_title(forms.describe(binding), binding.key)
        calls = BindingCalls(binding.key)
        self.app.push_screen(DetailScreen(title, binding.subscription_id, summary, below=calls))

    def action_copy_id(self) -> None:
        binding = self.need_current()
        if binding is not None:
            self.teledeck.copy_with_notice(binding.subscription_id, "subscription id")

    # ---- changes --------------------------------------------------------------------------

    def refuse_change(self, doing: str) -> bool:
        if super().refuse_change(doing):
            return True
        if not self.providers:
            self.notify("No binding providers are configured in this profile.", severity="warning")
            return True
        return False

    def _remember(self, binding: Binding) -> None:
        self.bindings[binding.key] = binding
        self.render_rows()
        self.table.move_cursor_to_key(binding.key)

    async def action_bind(self) -> None:
        if self.refuse_change("binding"):
            return
        names = tuple(sorted(self.providers))

        sent: dict[tuple[tuple[str, str], ...], BindRequest] = {}

        async def settle(values: dict[str, str], key: str) -> WriteOutcome[Binding]:
            # The request is fixed once per set of values (its expiry computed from "+2h" once, its
            # key and tag generated once): a send of the same values again, and every check after
            # a lost answer, use exactly what was sent the first time.
            frozen = tuple(sorted(values.items()))
            if frozen not in sent:
                sent[frozen] = tagged(replace(forms.bind_request(values), idempotency_key=key))
            outcome = await self.teledeck.session.audited(
                values["provider"],
                partial(bind_and_record, self.ledger, self.providers[values["provider"]], sent[frozen]),
                verb="bind",
                resource="bindings",
                record_id=bound_id,
            )
            self.pending = await asyncio.to_thread(self.ledger.pending_binds)
            self.update_title()
            return outcome

        form = FormScreen(
            title="New binding",
            fields=forms.bind_fields(
                names,
                # The modes each connected account offers (a Huawei account may have no AX app).
                modes={name: tuple(self.providers[name].modes) for name in names},
                list_pools=self.known_pools,
                default_pools={name: default_pool_of(self.providers[name]) for name in names},
            ),
            submit=self._no_submit,
            settle=settle,
            submit_label="Bind",
            describe=forms.describe,
        )
        await self.app.push_screen(form, self._after("bound"))

    async def known_pools(self, name: str) -> list[NumberPool]:
        """The pools `name`'s vendor lists, then those its bindings in the ledger were made in."""
        listed = await pools_of(self.providers[name])
        seen = {p.pool for p in listed}
        for binding in self.bindings.values():
            if binding.provider == name and binding.pool and binding.pool not in seen:
                seen.add(binding.pool)
                listed.append(NumberPool(binding.pool, source="used by a binding in the ledger"))
        return listed

    @staticmethod
    async def _no_submit(values: dict[str, str]) -> None:
        raise AssertionError("the bind form settles through settle_bind")

    def _after(self, verb: str):
        def done(binding: Binding | None) -> None:
            if binding is not None:
                self._remember(binding)
                self.notify(f"{forms.describe(binding)} {verb}.", markup=False)

        return done

    async def action_modify(self) -> None:
        if self.table.mark_count:
            await self.extend_marked()
            return
        binding = self.current_to_change("modifying a binding")
        if binding is None:
            return
        if binding.provider not in self.providers:
            self.notify(f"No {binding.provider} account in this profile.", severity="warning")
            return

        async def settle(values: dict[str, str], key: str) -> WriteOutcome[Binding]:
            return await self.modify_one(binding, forms.binding_change(values))

        form = FormScreen(
            title=f"Modify {forms.describe(binding)}",
            fields=forms.modify_fields(binding.provider, binding.mode),
            submit=self._no_submit,
            settle=settle,
            submit_label="Save",
            describe=forms.describe,
        )
        await self.app.push_screen(form, self._after("modified"))

    async def modify_one(self, binding: Binding, change: BindingChange) -> WriteOutcome[Binding]:
        """Modify one binding at its provider, settled, and keep the answer in the ledger and on
        screen: the one path of every modify, one binding or many. Refused before anything is
        sent when the binding cannot take the change (expired, or an expiry its mode has not;
        the form has checked the values themselves)."""
        what = f"Modify {forms.describe(binding)}"
        provider = self.providers.get(binding.provider)
        rules = forms.rules(binding.provider)
        refused = self.cannot_modify(binding)
        if provider is None:
            refused = f"no {binding.provider} account in this profile"
        elif refused is None and change.expires_at is not None and rules is not None:
            if not rules.can_change(binding.mode, "expires_at"):
                refused = f"{binding.provider} {binding.mode} bindings take no expiry"
        if refused:
            return WriteOutcome(Outcome.NOT_DONE, what, how=f"not sent: {refused}")
        assert provider is not None

        async def send() -> Binding:
            updated = await provider.update(binding, change)
            await asyncio.to_thread(self.ledger.apply_refresh, updated)
            return updated

        outcome = await self.teledeck.session.audited(
            binding.provider,
            partial(settle_create, send, what=what),
            verb="modify",
            resource="bindings",
            record_id=binding.subscription_id,
        )
        if outcome.value is not None:
            self.bindings[binding.key] = outcome.value
            self.row_problems.pop(binding.key, None)
        return outcome

    async def extend_marked(self) -> None:
        """Give every marked binding one new expiry: a form for it, then one confirm that says
        how many and names the first (and which cannot take it)."""
        bindings = self.marked_records()
        if self.refuse_change(f"extending {plural('binding', len(bindings))}"):
            return
        providers = sorted({b.provider for b in bindings})

        def expiry_problem(value: str, values: Mapping[str, str]) -> str | None:
            for name in providers:
                problem = forms.expiry_problem(value, name)
                if problem:
                    return f"{name}: {problem}" if len(providers) > 1 else problem
            return None

        fields = (
            FieldSpec(
                "expires",
                "New expiry for every marked binding",
                required=True,
                placeholder="+2h, +7d or 2026-12-01 18:00",
                cross_check=expiry_problem,
            ),
        )

        async def chosen(values: dict[str, str]) -> dict[str, str]:
            return values  # nothing is sent until the confirm

        form = FormScreen(
            title=f"Extend {plural('marked binding', len(bindings))}",
            fields=fields,
            submit=chosen,
            submit_label="Next",
            changes=False,
        )

        def extend(values: dict[str, str] | None) -> None:
            if values:
                self.confirm_extend(bindings, BindingChange(expires_at=forms.parse_expiry(values["expires"])))

        await self.app.push_screen(form, extend)

    def confirm_extend(self, bindings: list[Binding], change: BindingChange) -> None:
        """One confirm naming the bindings that will be extended, and those that cannot be (they
        are sent nothing, stay marked, and count as failed with the reason)."""
        from tui.bulk import named, question

        assert change.expires_at is not None
        left_out = {b.key: why for b in bindings if (why := self.cannot_modify(b))}
        able = [b for b in bindings if b.key not in left_out]
        if not able:
            first = next(iter(left_out.values()))
            self.notify(f"None of the marked bindings can be extended: {first}", severity="warning")
            return
        consequence = f"New expiry: {forms.local_time(change.expires_at)}."
        if left_out:
            consequence += f"\n{plural('more marked binding', len(left_out))} cannot be, and will stay marked:\n"
            consequence += "\n".join(f"  {line}" for line in named(list(left_out.values()), 3))

        def answered(yes: bool | None) -> None:
            if yes:
                self.extend_all(bindings, change)

        self.app.push_screen(
            ConfirmScreen(
                question("Extend", "binding", [forms.describe(b) for b in able], consequence),
                title=f"Extend {plural('binding', len(able))}",
                confirm_label=f"Extend {len(able)}",
                danger=False,
            ),
            answered,
        )

    @work(group="change", exit_on_error=False)
    async def extend_all(self, bindings: list[Binding], change: BindingChange) -> None:
        await self.run_bulk("Extending", "Extend", bindings, lambda b: self.modify_one(b, change), _key)
        self.render_rows()

    async def action_unbind(self) -> None:
        if self.table.mark_count:
            await self.unbind_marked()
            return
        binding = self.current_to_change("unbinding")
        if binding is None:
            return
        question = (
            f"Unbind {forms.describe(binding)}?\nsubscription {binding.subscription_id}\n\n"
            "Calls through X will stop reaching A and B."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.unbind(binding)

        await self.app.push_screen(ConfirmScreen(question, title="Unbind", confirm_label="Unbind"), answered)

    async def unbind_marked(self) -> None:
        from tui.bulk import question

        bindings = self.marked_records()
        if self.refuse_change(f"unbinding {plural('binding', len(bindings))}"):
            return
        names = [forms.describe(b) for b in bindings]
        asked = question("Unbind", "binding", names, "Calls through their X numbers will stop reaching A and B.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.unbind_all(bindings)

        title = f"Unbind {plural('binding', len(bindings))}"
        await self.app.push_screen(ConfirmScreen(asked, title=title, confirm_label=f"Unbind {len(bindings)}"), answered)

    @work(group="change", exit_on_error=False)
    async def unbind_all(self, bindings: list[Binding]) -> None:
        await self.run_bulk("Unbinding", "Unbind", bindings, self.unbind_one, _key)
        self.render_rows()

    @work(group="change", exit_on_error=False)
    async def unbind(self, binding: Binding) -> None:
        if binding.provider not in self.providers:
            self.notify(f"No {binding.provider} account in this profile.", severity="warning")
            return
        outcome = await self.unbind_one(binding)
        if self.teledeck.report_unsettled(outcome, f"unbinding {binding.subscription_id}"):
            return
        self.render_rows()
        shown = f"Unbound {forms.describe(binding)}."
        self.notify(shown if not outcome.checked else f"{shown} {outcome.message()}", markup=False)

    async def unbind_one(self, binding: Binding) -> WriteOutcome[None]:
        """Unbind one binding at its provider, settled, and mark it unbound in the ledger: the
        one path of every unbind, one binding or many."""
        provider = self.providers.get(binding.provider)
        if provider is None:
            what = f"unbind {binding.subscription_id}"
            return WriteOutcome(Outcome.NOT_DONE, what, how=f"not sent: no {binding.provider} account in this profile")
        outcome = await self.teledeck.session.audited(
            binding.provider,
            partial(unbind_and_record, self.ledger, provider, binding),
            verb="unbind",
            resource="bindings",
            record_id=binding.subscription_id,
        )
        if outcome.done:
            self.bindings[binding.key] = await asyncio.to_thread(self.ledger.get, binding.key) or binding
            self.row_problems.pop(binding.key, None)
        return outcome

    # ---- simulated calls (the sandbox only) -------------------------------------------------

    async def action_simulate_call(self) -> None:
        """Ask how the call should go, then have the binding's emulator place it and push its
        events and CDR to the sandbox's receiver, as the vendor would."""
        from tui.screens.pick import PickScreen
        from tui.simulated_calls import outcome_choices

        if self.refuse_change("simulating a call"):
            return
        binding = self.need_current()
        if binding is None:
            return

        def chosen(outcome: str | None) -> None:
            if outcome:
                self.simulate(binding, outcome)

        title = f"Simulate a call on {forms.describe(binding)}"
        hint = "enter places the call · esc places none"
        await self.app.push_screen(PickScreen(title, outcome_choices(), hint=hint), chosen)

    @work(group="simulate", exit_on_error=False)
    async def simulate(self, binding: Binding, outcome: str) -> None:
        # The call reaches the ledger through the receiver; the binding's detail reads its calls
        # when opened and again whenever a push arrives (tui/screens/calls.py BindingCalls).
        from tui.simulated_calls import place_simulated_call

        await place_simulated_call(self.teledeck, binding, outcome)

    async def action_import(self) -> None:
        if not self.providers:
            self.notify("No binding providers are configured in this profile.", severity="warning")
            return
        names = tuple(sorted(self.providers))

        async def submit(values: dict[str, str]) -> Binding | None:
            found = await self.providers[values["provider"]].lookup(
                x=values.get("x", "").strip(),
                subscription_id=values.get("subscription_id", "").strip(),
                pool=values.get("pool", "").strip(),
            )
            added = await asyncio.to_thread(self.ledger.record_imported, found)
            for binding in found:
                self.bindings[binding.key] = binding
            self.app.notify(f"Lookup found {len(found)} binding(s); {added} new in the ledger.")
            return found[0] if found else None

        form = FormScreen(
            title="Import bindings by X number or subscription id",
            fields=forms.import_fields(names),
            submit=submit,
            submit_label="Look up",
            changes=False,
            describe=forms.describe,
        )

        def done(binding: Binding | None) -> None:
            self.render_rows()
            if binding is not None:
                self.table.move_cursor_to_key(binding.key)

        await self.app.push_screen(form, done)
