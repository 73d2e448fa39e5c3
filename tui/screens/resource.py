"""The generic resource screen: one table driven by a ResourceSpec.

Browse, filter (`/`: text, `!` inverts, `~regex`, `column:value`), sort, detail, refresh, create,
edit, delete (of the marked rows at once, when rows are marked), export, and the spec's own
actions. All provider calls run in workers on this screen; rows stream in page by page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding, BindingType

from providers.errors import ProviderError
from providers.pagination import PaginationStalled
from providers.records import Page
from tui.resources import REGISTRY, ActionSpec, ResourceSpec
from tui.screens.table_screen import TableScreen, change_keys, record_list_keys
from tui.widgets.literal import FilterInput
from tui.widgets.virtual_table import Column, Row, VirtualTable
from tui.wording import plural, with_article

if TYPE_CHECKING:
    from providers.cache import CachedResult
    from providers.outcomes import WriteOutcome
    from providers.session import ProviderSession
    from tui.app import TeledeckApp

# The detail, form and confirm screens (and what they import) load when a key first opens one,
# not at start-up: the first frame with rows waits for none of them.

# Verbs that call the provider, so a profile without an account for it cannot offer them.
_NEEDS_ACCOUNT = frozenset({"create", "edit", "delete", "run_action"})


class ResourceScreen(TableScreen):
    BINDINGS = record_list_keys(
        "resource",
        *change_keys("resource", create=("create", "New"), edit=("edit", "Edit"), remove=("delete", "Delete")),
    )

    def __init__(self, spec: ResourceSpec) -> None:
        check_action_keys(spec)
        super().__init__(name=spec.name)
        self.spec = spec
        self.export_name = spec.name
        self.records: dict[str, Any] = {}
        # The app's early read of this screen's cached rows, and what of it is already shown,
        # each taken once by the first load (_paint_cached).
        self._early: Future[CachedRows | None] | None = None
        self._shown: CachedResult | None = None
        self.loaded = False
        self.load_error = ""
        self.progress = ""
        for binding in action_bindings(spec):
            self._bindings.key_to_bindings.setdefault(binding.key, []).append(binding)

    # ---- layout ---------------------------------------------------------------------------

    def make_table(self) -> VirtualTable:
        table = VirtualTable(id="resource-table")
        table.set_columns(
            [
                Column(
                    c.key,
                    c.label,
                    width=c.width,
                    justify=c.justify,
                    max_width=c.max_width,
                    priority=c.priority,
                    min_width=c.min_width,
                    order=_order_by(c.order) if c.order is not None else None,
                )
                for c in self.spec.columns
            ]
        )
        return table

    def on_mount(self) -> None:
        super().on_mount()
        self._early = early = self.teledeck.take_early_rows(self.spec.name)
        if early is not None and early.done() and early.exception() is None:
            # Read while the app was built: the rows go on the table now, so the first frame
            # has them (the load worker would set them only after that frame).
            self._early, cached = None, early.result()
            if cached is not None:
                self._shown = self._show_cached(cached)
        self.update_title()
        self.load()

    CHANGE_VERBS = frozenset({"create", "edit", "delete"})

    def why_unavailable(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Verbs this resource's API does not have are hidden (like k9s does), and so is every
        verb that calls the provider when this profile has no account for it or, for a change,
        when the session is read-only."""
        spec = self.spec
        if action in _NEEDS_ACCOUNT and not self.has_account():
            return f"No {spec.provider} account in this profile; nothing was sent."
        missing = {
            "create": spec.create is None and f"The {spec.provider} API cannot create {with_article(spec.noun)}.",
            "edit": spec.update is None
            and f"{with_article(spec.noun).capitalize()} cannot be edited: the {spec.provider} API has no update; "
            "delete it and create another.",
            "delete": spec.delete is None and f"The {spec.provider} API cannot delete {with_article(spec.noun)}.",
        }.get(action)
        if missing:
            return missing
        if action == "run_action" and parameters:
            verb = next((a for a in spec.actions if a.id == parameters[0]), None)
            if verb is not None and verb.mutates and self.teledeck.session.read_only:
                reason = self.teledeck.session.read_only_reason.capitalize()
                return f"{reason}: {verb.under_way} is refused here. Nothing was sent."
        return super().why_unavailable(action, parameters)

    def has_account(self) -> bool:
        return self.teledeck.session.has(self.spec.provider)

    def _refuse_without_account(self) -> bool:
        """True (and says so) when the profile has no account for this resource's provider."""
        if self.has_account():
            return False
        self.notify(f"No {self.spec.provider} account in this profile; nothing was sent.", severity="warning")
        return True

    def refuse_change(self, doing: str) -> bool:
        """A change needs an account for the provider first, then a profile that is not read-only."""
        return self._refuse_without_account() or super().refuse_change(doing)

    def update_title(self) -> None:
        table = self.table
        parts = [f"{self.spec.title} · {self.spec.provider}"]
        if table.filter_text:
            parts.append(f"{table.visible_count} of {table.total_count} rows match {table.filter_text!r}")
        else:
            parts.append(f"{table.total_count} rows")
        label = next((c.label for c in self.spec.columns if c.key == table.sort_column), table.sort_column)
        self.show_title_bar(parts, sort_label=label, problem=self.load_error)

    # ---- loading --------------------------------------------------------------------------

    def row_for(self, record: Any) -> Row:
        return self.with_problem(row_for(self.spec, record))

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        """Paint the last-known rows at once (if cached), then fetch every page; rows appear as
        each page arrives. Offline, only the cache is shown."""
        table, session, spec = self.table, self.teledeck.session, self.spec
        self.load_error, self.progress = "", "loading…"
        if not session.has(spec.provider):
            self.load_error = f"no {spec.provider} account in this profile"
            self.progress = ""
            table.empty_text = self.load_error
            table.set_rows([])
            self.update_title()
            return
        cached = await self._paint_cached() if not self.loaded else None
        if session.offline:
            self.progress = f"offline · cached, {cached.age_seconds:.0f} s old" if cached else ""
            if cached is None:
                self.load_error = "offline, and nothing is cached for this screen yet"
            self.update_title()
            return
        table.loading = not self.loaded and cached is None
        self.update_title()
        fresh: dict[str, Any] = {}
        first = True
        pages = None
        try:
            if not session.connections_of(spec.provider)[0].connected:
                await self._first_frame_out()
            # Built in a worker thread, so the loop goes on painting; every verb after this
            # finds it connected.
            await session.aconnection(spec.provider)
            # The first page is painted as soon as it is here; the client fetches the rest
            # concurrently (providers.pagination) and they are appended in order as they come.
            pages = spec.pages(session)
            async for page in pages:
                rows = []
                for record in page.items:
                    fresh[spec.key(record)] = record
                    rows.append(self.row_for(record))
                if first:
                    table.set_rows(rows)  # replaces the old rows only once new ones are here
                    table.loading = False
                    first = False
                else:
                    table.append_rows(rows)
                self.progress = page_progress(page)
                self.update_title()
            if first:
                table.set_rows([])
            self.records = fresh
            self.loaded = True
            table.prune_marks()  # the marks of rows that are gone; the others stay
            await self._store_in_cache(fresh.values())
        except PaginationStalled as error:
            self.records = fresh
            self.load_error = f"partial list: {error.message}"
            self.teledeck.report_error(error, "listing " + spec.title.lower())
        except ProviderError as error:
            self.load_error = error.summary() + (" (showing cached rows)" if cached else "")
            self.teledeck.report_error(error, "listing " + spec.title.lower())
        finally:
            # A listing left early (an error, a refresh that replaced this worker) stops the
            # fetches it still has in flight now, not when the iterator is collected.
            close = getattr(pages, "aclose", None)
            if close is not None:
                await close()
            table.loading = False
            self.progress = ""
            self.update_title()
            # A loading widget cannot hold focus; give it back unless the user is typing a filter.
            if not isinstance(self.focused, FilterInput):
                table.focus()

    async def _first_frame_out(self) -> None:
        """Until this screen's frame (the cached rows, or the loading table) is on the terminal:
        the first connect imports httpx and the vendor's client and loads the sandbox's emulator,
        and none of that may delay it. A frame painted inside Textual's start-up batch is
        dropped, so this waits for start-up to end, then for a repaint of the table."""
        await self.teledeck.started()
        self.table.refresh()
        await self.wait_for_refresh()

    async def _paint_cached(self) -> CachedResult | None:
        """The last-known rows on the table, or None when nothing is cached. They come from the
        read the app began when it was built (`TeledeckApp.take_early_rows`), if this screen is
        the one it starts on, and are already on the table when that read ended before mount."""
        shown, self._shown = self._shown, None
        if shown is not None:  # on the table since mount; load() has since said "loading…"
            self._say_cached(shown)
            return shown
        early, self._early = self._early, None
        if early is not None:
            cached = await asyncio.wrap_future(early)
        else:
            cached = await asyncio.to_thread(read_cached, self.teledeck.session, self.spec)
        return self._show_cached(cached) if cached is not None else None

    def _show_cached(self, cached: CachedRows) -> CachedResult:
        hit = cached.hit
        self.records = {self.spec.key(r): r for r in cached.records}
        self.table.set_rows(cached.rows)
        self.table.loading = False
        self._say_cached(hit)
        return hit

    def _say_cached(self, hit: CachedResult) -> None:
        self.progress = f"cached, {hit.age_seconds:.0f} s old · revalidating…"
        self.update_title()

    async def _store_in_cache(self, records) -> None:
        session, spec = self.teledeck.session, self.spec
        if session.cache is not None and spec.parse is not None:
            items = [spec.to_cache(r) for r in records]
            await asyncio.to_thread(session.cache.put, session.profile, spec.provider, spec.cache_key, items)

    def _write_back(self) -> None:
        """After a change through teledeck: the cache holds the list as it now is, so a later
        --offline run shows it; when the list was not fully loaded, nothing of it is kept."""
        session = self.teledeck.session
        if session.cache is None:
            return
        if self.loaded and not self.load_error:
            self.run_worker(self._store_in_cache(list(self.records.values())), group="cache-write")
        else:
            session.cache.invalidate(session.profile, self.spec.provider, self.spec.cache_key)

    def action_refresh(self) -> None:
        self.row_problems.clear()
        self.load()

    # ---- selection ------------------------------------------------------------------------

    def record_for(self, key: str) -> Any | None:
        return self.records.get(key)

    def describe(self, record: Any) -> str:
        return self.spec.describe(record)

    def action_detail(self) -> None:
        record = self.need_current()
        if record is not None:
            from tui.screens.detail import DetailScreen

            key = self.spec.key(record)
            title = self.detail_title(self.spec.describe(record), key)
            self.app.push_screen(DetailScreen(title, key, self.spec.raw(record), self.spec.secret_fields))

    def export_fields(self, records: list[Any]) -> list[dict[str, Any]]:
        # The spec's secret fields too, whatever their names (the export drops secret names).
        secret = self.spec.secret_fields
        return [{k: v for k, v in fields.items() if k not in secret} for fields in super().export_fields(records)]

    def action_copy_id(self) -> None:
        record = self.need_current()
        if record is not None:
            self.teledeck.copy_with_notice(self.spec.key(record), "id")

    # ---- changes --------------------------------------------------------------------------

    async def action_create(self) -> None:
        spec, create, find_created = self.spec, self.spec.create, self.spec.find_created
        if create is None or self.refuse_change(f"creating {with_article(spec.noun)}"):
            return
        from tui.screens.form import FormScreen

        session = self.teledeck.session
        find = (lambda values: find_created(session, values)) if find_created else None
        form = FormScreen(
            title=f"New {spec.noun}",
            fields=spec.create_fields,
            submit_label="Create",
            submit=lambda values: create(session, values),
            find_created=find,
            describe=spec.describe,
            resend_safe=spec.idempotent_create,
            audit=self.audit_as("create", None),
        )
        await self.app.push_screen(form, self._after_change("created"))

    async def action_edit(self) -> None:
        spec, update = self.spec, self.spec.update
        if update is None:
            return
        record = self.current_to_change(f"editing {with_article(spec.noun)}")
        if record is None:
            return
        from tui.screens.form import FormScreen

        session = self.teledeck.session
        form = FormScreen(
            title=f"Edit {spec.describe(record)}",
            fields=spec.edit_fields,
            submit_label="Save",
            initial=spec.edit_values(record) if spec.edit_values else {},
            submit=lambda values: update(session, record, values),
            describe=spec.describe,
            audit=self.audit_as("update", record),
        )
        await self.app.push_screen(form, self._after_change("saved"))

    def _after_change(self, verb: str):
        def done(record: Any) -> None:
            if record is None:
                return
            elsewhere = self.spec.created_in(record)
            if elsewhere is not None:
                self._created_elsewhere(REGISTRY[elsewhere], record)
                return
            key = self.spec.key(record)
            self.records[key] = record
            self._write_back()
            row = self.row_for(record)
            if self.table.get_row(key) is not None:
                self.table.update_row(row)
            else:
                self.table.append_rows([row])
            self.table.move_cursor_to_key(key)
            self.update_title()
            self.notify(f"{self.spec.describe(record)} {verb}.")

        return done

    def _created_elsewhere(self, home: ResourceSpec, record: Any) -> None:
        """A create that went to another resource: its list is stale (cache and screen), this one
        is not, and the notice says where the record is."""
        session = self.teledeck.session
        if session.cache is not None:
            session.cache.invalidate(session.profile, home.provider, home.cache_key)
        self.teledeck.stale_lists.add(home.name)
        self.notify(
            f"{home.describe(record)} created. Telnyx keeps it with the {home.title} "
            f"(:{home.name}), not the {self.spec.title}.",
            title="Created elsewhere",
            timeout=8,
            markup=False,
        )

    def on_screen_resume(self) -> None:
        """Back on this screen: reload it if a change made elsewhere left its rows stale."""
        stale = self.teledeck.stale_lists
        if self.spec.name in stale:
            stale.discard(self.spec.name)
            if self.loaded:  # a first load is fresh anyway
                self.load()

    async def action_delete(self) -> None:
        spec = self.spec
        if spec.delete is None:
            return
        if self.table.mark_count:
            await self.delete_marked()
            return
        record = self.current_to_change(f"deleting {with_article(spec.noun)}")
        if record is None:
            return
        question = f"Delete {spec.describe(record)}?\nid {spec.key(record)}\n\nThis cannot be undone."

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_record(record)

        from tui.screens.confirm import ConfirmScreen

        await self.app.push_screen(ConfirmScreen(question, title=f"Delete {spec.noun}"), answered)

    async def delete_marked(self) -> None:
        """Delete every marked row, after one confirm that says how many and names the first."""
        spec = self.spec
        records = self.marked_records()
        if self.refuse_change(f"deleting {plural(spec.noun, len(records))}"):
            return
        from tui.bulk import question
        from tui.screens.confirm import ConfirmScreen

        names = [spec.describe(r) for r in records]
        asked = question("Delete", spec.noun, names, "This cannot be undone.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_all(records)

        title = f"Delete {plural(spec.noun, len(records))}"
        await self.app.push_screen(ConfirmScreen(asked, title=title, confirm_label=f"Delete {len(records)}"), answered)

    @work(group="change", exit_on_error=False)
    async def delete_all(self, records: list[Any]) -> None:
        await self.run_bulk("Deleting", "Delete", records, self.remove_record, self.spec.key)
        self._write_back()

    @work(group="change", exit_on_error=False)
    async def delete_record(self, record: Any) -> None:
        described = self.spec.describe(record)
        outcome = await self.remove_record(record)
        if self.teledeck.report_unsettled(outcome, f"deleting {described}"):
            return
        self._write_back()
        if outcome.checked or outcome.how != "answered":
            self.notify(outcome.message(), markup=False)
        else:
            self.notify(f"Deleted {described}.")

    async def remove_record(self, record: Any) -> WriteOutcome[None]:
        """Delete one record at the provider, settled (providers.outcomes.settle_delete), and
        take its row off when that is done: the one path of every delete, one row or many."""
        from providers.outcomes import settle_delete

        key, delete = self.spec.key(record), self.spec.delete
        assert delete is not None  # the delete verb is offered only when the spec has one
        session = self.teledeck.session
        outcome = await self.audit_as("delete", record)(
            lambda: settle_delete(lambda: delete(session, record), what=f"Delete {self.spec.describe(record)}")
        )
        if outcome.done:
            self.records.pop(key, None)
            self.row_problems.pop(key, None)
            self.table.remove_row(key)
            self.update_title()
        return outcome

    def audit_as(
        self, verb: str, record: Any
    ) -> Callable[[Callable[[], Awaitable[WriteOutcome[Any]]]], Awaitable[WriteOutcome[Any]]]:
        """A settled write of `record` (None: one that creates it) recorded in the audit log as
        `verb` on this resource; a create's id is the one the provider answered with."""
        session, spec = self.teledeck.session, self.spec

        def record_id(outcome: WriteOutcome[Any]) -> str:
            made = outcome.value if outcome.value is not None else record
            return spec.key(made) if made is not None else ""

        def audited(write: Callable[[], Awaitable[WriteOutcome[Any]]]) -> Awaitable[WriteOutcome[Any]]:
            return session.audited(spec.provider, write, verb=verb, resource=spec.name, record_id=record_id)

        return audited

    def action_run_action(self, action_id: str) -> None:
        action = next(a for a in self.spec.actions if a.id == action_id)
        if self._refuse_without_account():
            return
        if action.mutates and self.teledeck.refuse_if_read_only(action.under_way):
            return
        record = self.need_current() if action.needs_row else None
        if record is None and action.needs_row:
            return
        if action.confirm:
            question = action.confirm.format(name=self.spec.describe(record))

            def answered(yes: bool | None) -> None:
                if yes:
                    self.run_spec_action(action, record)

            from tui.screens.confirm import ConfirmScreen

            self.app.push_screen(
                ConfirmScreen(question, title=action.label, confirm_label=action.label, danger=False), answered
            )
        else:
            self.run_spec_action(action, record)

    @work(group="action", exit_on_error=False)
    async def run_spec_action(self, action: ActionSpec, record: Any) -> None:
        target = self.spec.describe(record) if record is not None else self.spec.title
        self.notify(f"{action.label}: {target}…", timeout=2)
        session = self.teledeck.session
        try:
            if action.mutates:  # audited, whatever becomes of it
                result = await session.audited_call(
                    self.spec.provider,
                    lambda: action.run(session, record),
                    verb=action.id,
                    resource=self.spec.name,
                    record_id=self.spec.key(record) if record is not None else "",
                )
            else:
                result = await action.run(session, record)
        except ProviderError as error:
            self.teledeck.report_error(error, f"{action.under_way} for {target}")
            return
        if action.presents == "reload":
            self.notify(f"{action.label}: done; reloading.")
            self.load()
            return
        self.teledeck.present_result(action, result, target)
        if action.reloads:  # the change shows in the row at once, and in the cache
            self.load()


def page_progress(page: Page) -> str:
    """What the title bar says while a listing is under way: the page just painted, of how many."""
    total = f" of {page.total_pages}" if page.total_pages else ""
    return f"page {page.page_number}{total} · loading…"


# ---- rows, and the cached ones read before the first frame -------------------------------------


def row_for(spec: ResourceSpec, record: Any) -> Row:
    """The table row that shows `record` (no widget is touched, so any thread may build it)."""
    cells = tuple(column.cell(record) for column in spec.columns)
    # The record rides along: a typed column's order value is made from it only when that
    # column is sorted (Column.order), not for every row of every list.
    return Row(key=spec.key(record), cells=cells, style=spec.row_style(record), data=record)


@dataclass(frozen=True)
class CachedRows:
    """A cached list as its screen shows it: the cache's answer, its records and their rows."""

    hit: CachedResult
    records: list[Any]
    rows: list[Row]


def read_cached(session: ProviderSession, spec: ResourceSpec) -> CachedRows | None:
    """`spec`'s last-known list from the session's cache, parsed and made into rows; None when
    nothing is cached (or the profile has no account for it). Blocking, and touches no widget:
    it runs in a worker thread, and for the start screen before the app has mounted it."""
    cache = session.cache
    if cache is None or spec.parse is None or not session.has(spec.provider):
        return None
    hit = cache.get(session.profile, spec.provider, spec.cache_key)
    if hit is None:
        return None
    records = [spec.parse(item) for item in hit.items]
    return CachedRows(hit, records, [row_for(spec, r) for r in records])


# ---- action keys --------------------------------------------------------------------------------


def action_bindings(spec: ResourceSpec) -> list[Binding]:
    """The bindings of the spec's own actions, one per key, as Textual would expand them."""
    return list(
        Binding.make_bindings(
            Binding(action.key, f"run_action('{action.id}')", action.label, id=f"resource.action.{action.id}")
            for action in spec.actions
        )
    )


def _holders(cls: type, bindings: Iterable[BindingType]) -> dict[str, str]:
    """Key -> the binding's id, or (Textual's own bindings have none) class.action."""
    return {
        binding.key: binding.id or f"{cls.__name__}.{binding.action}" for binding in Binding.make_bindings(bindings)
    }


@cache
def keys_in_force() -> dict[str, str]:
    """Every key a resource screen answers to before its own actions, with what holds it: the
    focused table's keys, the screen's (inherited ones too), and the app's (Textual's included)."""
    from tui.app import TeledeckApp  # the app imports this module

    return keys_taken_by(TeledeckApp)


def keys_taken_by(app_class: type[TeledeckApp]) -> dict[str, str]:
    taken: dict[str, str] = {}
    for owner in (VirtualTable, ResourceScreen, app_class):
        # The most derived class first, so a key a subclass rebinds is named by its own id.
        for cls in owner.__mro__:
            for key, holder in _holders(cls, cls.__dict__.get("BINDINGS", ())).items():
                taken.setdefault(key, holder)
    if app_class.ENABLE_COMMAND_PALETTE:
        taken.setdefault(app_class.COMMAND_PALETTE_BINDING, "Textual's command palette")
    return taken


def _order_by(order: Callable[[Any], Any]) -> Callable[[Row], Any]:
    """A ColumnSpec's typed order (of a record) as the table's (of a row holding the record)."""
    return lambda row: order(row.data)


def check_action_keys(spec: ResourceSpec, taken: dict[str, str] | None = None) -> None:
    """Refuse a spec whose action key another key on the resource screen already holds: Textual
    would quietly let one of them win, and the user would never reach the other."""
    taken = dict(keys_in_force() if taken is None else taken)
    for binding in action_bindings(spec):
        holder = taken.get(binding.key)
        if holder is not None:
            raise ValueError(
                f"{spec.name}: action key {binding.key!r} of {binding.id!r} is already taken by {holder!r}"
            )
        taken[binding.key] = binding.id or binding.action
