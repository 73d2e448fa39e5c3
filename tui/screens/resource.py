"""The generic resource screen: one table driven by a ResourceSpec.

Browse, filter (`/`, `!` inverts), sort, detail, refresh, create, edit, delete and the spec's
own actions. All provider calls run in workers on this screen; rows stream in page by page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding, BindingType
from textual.widgets import Input

from providers.errors import ProviderError
from providers.outcomes import settle_delete
from providers.pagination import PaginationStalled
from tui.resources import REGISTRY, ActionSpec, ResourceSpec
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.form import FormScreen
from tui.screens.table_screen import TableScreen, change_keys, record_list_keys
from tui.widgets.virtual_table import Column, Row, VirtualTable
from tui.wording import with_article

if TYPE_CHECKING:
    from tui.app import TeledeckApp

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
        self.records: dict[str, Any] = {}
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
        cells = tuple(column.cell(record) for column in self.spec.columns)
        # The record rides along: a typed column's order value is made from it only when that
        # column is sorted (Column.order), not for every row of every list.
        return Row(key=self.spec.key(record), cells=cells, style=self.spec.row_style(record), data=record)

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
        try:
            async for page in spec.pages(session):
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
                total = f" of {page.total_pages}" if page.total_pages else ""
                self.progress = f"loading page {page.page_number}{total}…"
                self.update_title()
            if first:
                table.set_rows([])
            self.records = fresh
            self.loaded = True
            await self._store_in_cache(fresh.values())
        except PaginationStalled as error:
            self.records = fresh
            self.load_error = f"partial list: {error.message}"
            self.teledeck.report_error(error, "listing " + spec.title.lower())
        except ProviderError as error:
            self.load_error = error.summary() + (" (showing cached rows)" if cached else "")
            self.teledeck.report_error(error, "listing " + spec.title.lower())
        finally:
            table.loading = False
            self.progress = ""
            self.update_title()
            # A loading widget cannot hold focus; give it back unless the user is typing a filter.
            if not self.query_one("#filter-input", Input).has_focus:
                table.focus()

    async def _paint_cached(self):
        session, spec = self.teledeck.session, self.spec
        if session.cache is None or spec.parse is None:
            return None
        hit = await asyncio.to_thread(session.cache.get, session.profile, spec.provider, spec.cache_key)
        if hit is None:
            return None
        records = [spec.parse(item) for item in hit.items]
        self.records = {spec.key(r): r for r in records}
        self.table.set_rows([self.row_for(r) for r in records])
        self.table.loading = False
        self.progress = f"cached, {hit.age_seconds:.0f} s old · revalidating…"
        self.update_title()
        return hit

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
        self.load()

    # ---- selection ------------------------------------------------------------------------

    def current(self) -> Any | None:
        key = self.table.current_key
        return self.records.get(key) if key is not None else None

    def action_detail(self) -> None:
        record = self.need_current()
        if record is not None:
            self.app.push_screen(
                DetailScreen(
                    self.spec.describe(record), self.spec.key(record), self.spec.raw(record), self.spec.secret_fields
                )
            )

    def action_copy_id(self) -> None:
        record = self.need_current()
        if record is not None:
            self.teledeck.copy_with_notice(self.spec.key(record), "id")

    # ---- changes --------------------------------------------------------------------------

    def action_create(self) -> None:
        spec, create, find_created = self.spec, self.spec.create, self.spec.find_created
        if create is None or self.refuse_change(f"creating {with_article(spec.noun)}"):
            return
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
        )
        self.app.push_screen(form, self._after_change("created"))

    def action_edit(self) -> None:
        spec, update = self.spec, self.spec.update
        if update is None:
            return
        record = self.current_to_change(f"editing {with_article(spec.noun)}")
        if record is None:
            return
        session = self.teledeck.session
        form = FormScreen(
            title=f"Edit {spec.describe(record)}",
            fields=spec.edit_fields,
            submit_label="Save",
            initial=spec.edit_values(record) if spec.edit_values else {},
            submit=lambda values: update(session, record, values),
            describe=spec.describe,
        )
        self.app.push_screen(form, self._after_change("saved"))

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

    def action_delete(self) -> None:
        spec = self.spec
        if spec.delete is None:
            return
        record = self.current_to_change(f"deleting {with_article(spec.noun)}")
        if record is None:
            return
        question = f"Delete {spec.describe(record)}?\nid {spec.key(record)}\n\nThis cannot be undone."

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_record(record)

        self.app.push_screen(ConfirmScreen(question, title=f"Delete {spec.noun}"), answered)

    @work(group="change", exit_on_error=False)
    async def delete_record(self, record: Any) -> None:
        key, delete = self.spec.key(record), self.spec.delete
        if delete is None:
            return
        described = self.spec.describe(record)
        session = self.teledeck.session
        outcome = await settle_delete(lambda: delete(session, record), what=f"Delete {described}")
        if self.teledeck.report_unsettled(outcome, f"deleting {described}"):
            return
        self.records.pop(key, None)
        self._write_back()
        self.table.remove_row(key)
        self.update_title()
        if outcome.checked or outcome.how != "answered":
            self.notify(outcome.message(), markup=False)
        else:
            self.notify(f"Deleted {described}.")

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

            self.app.push_screen(
                ConfirmScreen(question, title=action.label, confirm_label=action.label, danger=False), answered
            )
        else:
            self.run_spec_action(action, record)

    @work(group="action", exit_on_error=False)
    async def run_spec_action(self, action: ActionSpec, record: Any) -> None:
        target = self.spec.describe(record) if record is not None else self.spec.title
        self.notify(f"{action.label}: {target}…", timeout=2)
        try:
            result = await action.run(self.teledeck.session, record)
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
