"""Create and edit forms, built from a spec's FieldSpecs.

Input is checked at each field before anything is sent. The provider call runs in a worker on
this screen; when the provider refuses, its problems are placed at the fields they point to and
everything typed stays. Every send settles to a `providers.outcomes.WriteOutcome` before the user
may send again, and the form's message follows it: done (the form closes), not done (safe to send
again), or unknown (with what was checked). An ambiguous answer is reconciled first: by re-sending
with the same idempotency key where the vendor honours one (`resend_safe`), else by `find_created`.
Sending the same values again re-uses the same key, so a second press after "unknown" cannot
create twice where the vendor honours the key.
Esc while a request is waiting cancels it and leaves the form; for a change, the notice says
its outcome is unknown and must be checked before sending it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch

from providers.errors import ProviderError
from providers.outcomes import Outcome, WriteOutcome, is_ambiguous, new_key, settle_create
from tui.resources import FieldSpec, Suggestions
from tui.screens.dialog import DialogScreen
from tui.screens.pick import PickScreen
from tui.widgets.literal import LiteralInput, LiteralLabel, LiteralStatic

Submit = Callable[[dict[str, str]], Awaitable[Any]]
FindCreated = Callable[[dict[str, str]], Awaitable[list]]
# A whole settled send (the bind form's, which reconciles through the vendor adapter).
Settle = Callable[[dict[str, str], str], Awaitable[WriteOutcome[Any]]]
# Runs a settled send and records its outcome (ProviderSession.audited with the verb bound).
Audit = Callable[[Callable[[], Awaitable[WriteOutcome[Any]]]], Awaitable[WriteOutcome[Any]]]


class FormScreen(DialogScreen[Any]):
    """Returns the created or updated record, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.submit"),
        Binding("ctrl+r", "reveal", "Reveal secret", id="form.reveal"),
        Binding("ctrl+o", "pick", "Pick", id="form.pick", tooltip="from the values this field suggests"),
    ]

    def __init__(
        self,
        *,
        title: str,
        fields: tuple[FieldSpec, ...],
        submit: Submit,
        submit_label: str,
        initial: Mapping[str, str] | None = None,
        find_created: FindCreated | None = None,
        describe: Callable[[Any], str] = str,
        changes: bool = True,
        resend_safe: bool = False,
        settle: Settle | None = None,
        audit: Audit | None = None,
    ) -> None:
        """`changes`: the submit changes something at the provider, so a request cancelled while
        waiting leaves its outcome unknown (False: a look-up). `audit` wraps each settled send
        (ProviderSession.audited), so every outcome of it goes to the audit log."""
        super().__init__()
        self.audit = audit
        self.resend_safe = resend_safe
        self.settle_call = settle
        self._sent_key: tuple[tuple[tuple[str, str], ...], str] | None = None
        self.title_text = title
        self.fields = fields
        self.submit_call = submit
        self.submit_label = submit_label
        self.initial = dict(initial or {})
        self.find_created = find_created
        self.describe = describe
        self.changes = changes
        self.sending = False
        self.field_errors: dict[str, str] = {}
        self.counting_problems = False  # the status line counts the fields that need attention
        # What each suggesting field currently suggests, and the value the form last filled in
        # there (while the field still holds it, the user has not typed there).
        self.suggested: dict[str, Suggestions] = {}
        self._filled: dict[str, str] = {}
        self._choices: dict[str, tuple[str, ...]] = {}  # what each choice field offers now

    # ---- layout ---------------------------------------------------------------------------

    def compose_dialog(self) -> ComposeResult:
        # The dialog scrolls its fields; the title (docked at the top) and the status line and
        # buttons (docked at the bottom) stay in view, and the dialog fits the screen.
        with VerticalScroll(id="dialog", classes="dialog form"):
            yield LiteralStatic(self.title_text, classes="dialog-title")
            with Vertical(id="form-foot"):
                yield LiteralStatic("", id="form-status")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Cancel", id="cancel")
                    yield Button(self.submit_label, id="submit", variant="primary")
            with Vertical(id="fields"):
                for spec in self.fields:
                    with Vertical(classes="field", id=f"field-{spec.name}"):
                        marker = " *" if spec.required else ""
                        yield LiteralLabel(f"{spec.label}{marker}", classes="field-label")
                        yield self._input_for(spec)
                        if spec.suggest is not None:
                            yield LiteralLabel("", classes="field-hint", id=f"hint-{spec.name}")
                        yield LiteralLabel("", classes="field-error", id=f"error-{spec.name}")

    def _start_values(self) -> dict[str, str]:
        return {spec.name: self.initial.get(spec.name, spec.default) for spec in self.fields}

    def _input_for(self, spec: FieldSpec):
        value = self.initial.get(spec.name, spec.default)
        widget_id = f"input-{spec.name}"
        if spec.kind == "choice":
            choices = self._choices[spec.name] = spec.offered(self._start_values())
            return Select(
                [(c, c) for c in choices],
                value=value if value in choices else (choices[0] if spec.required and choices else Select.BLANK),
                allow_blank=not spec.required,
                id=widget_id,
            )
        if spec.kind == "bool":
            return Switch(value=value.lower() in ("true", "yes", "1"), id=widget_id)
        return LiteralInput(value=value, placeholder=spec.placeholder, password=spec.kind == "secret", id=widget_id)

    def set_focus(self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False) -> None:
        # Textual would also centre the focused input, animated, racing `_show_field` below: where
        # the form ends up scrolled would then depend on timing. `_show_field` alone scrolls.
        super().set_focus(widget, scroll_visible=False, from_app_focus=from_app_focus)

    @on(events.DescendantFocus)
    def _show_field(self, event: events.DescendantFocus) -> None:
        """A focused field comes into view whole: its label and error line with its input."""
        field = next((node for node in event.widget.ancestors_with_self if node.has_class("field")), None)
        if isinstance(field, Widget):  # once laid out: a change of kind may have shown other fields
            self.call_after_refresh(field.scroll_visible, animate=False)

    def on_mount(self) -> None:
        self._apply_visibility()
        self._follow(None)
        first = next((w for w in self.query("Input, Select, Switch") if w.display), None)
        if first is not None:
            self.set_focus(first)  # at once: keys typed right after the form opens land here

    # ---- values and checks ----------------------------------------------------------------

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for spec in self.fields:
            widget = self.query_one(f"#input-{spec.name}")
            if isinstance(widget, Switch):
                out[spec.name] = "true" if widget.value else "false"
            elif isinstance(widget, Select):
                out[spec.name] = "" if widget.value is Select.BLANK else str(widget.value)
            elif isinstance(widget, Input):
                out[spec.name] = widget.value
        return out

    def _apply_visibility(self) -> None:
        values = self.values()
        for spec in self.fields:
            if spec.visible is not None:
                self.query_one(f"#field-{spec.name}").display = spec.visible(values)

    def set_field_error(self, name: str, message: str) -> None:
        if message:
            self.field_errors[name] = message
        else:
            self.field_errors.pop(name, None)
        self.query_one(f"#error-{name}", Label).update(message)
        self.query_one(f"#field-{name}").set_class(bool(message), "invalid")

    def check(self) -> dict[str, str]:
        """Every field's problem; shown at the field. Empty when all is well."""
        values = self.values()
        problems: dict[str, str] = {}
        for spec in self.fields:
            problem = spec.check(values.get(spec.name, ""), values)
            self.set_field_error(spec.name, problem or "")
            if problem:
                problems[spec.name] = problem
        return problems

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _changed(self, event) -> None:
        self._apply_visibility()
        name = (event.control.id or "").removeprefix("input-")
        self._follow(name)
        spec = next((s for s in self.fields if s.name == name), None)
        if spec is not None and name in self.field_errors:
            # Re-check a field that showed an error as soon as it is edited.
            values = self.values()
            self.set_field_error(name, spec.check(values[name], values) or "")
            if self.counting_problems:
                self._count_problems()

    # ---- fields that follow others --------------------------------------------------------

    def _follow(self, changed: str | None) -> None:
        """After `changed` (None: the form opened), bring the choice fields' choices and the
        suggesting fields' suggestions up to date with the values now in the form."""
        values = self.values()
        for spec in self.fields:
            if spec.name == changed:
                continue
            if spec.choices_for is not None:
                self._offer_choices(spec, spec.offered(values))
            if spec.suggest is not None and (changed is None or changed in spec.suggest_after):
                # A callable, not a coroutine: one replaced before it starts is never created.
                self.run_worker(
                    self._suggestion_of(spec, values),
                    group=f"suggest-{spec.name}",
                    exclusive=True,
                    exit_on_error=False,
                )

    def _offer_choices(self, spec: FieldSpec, choices: tuple[str, ...]) -> None:
        select = self.query_one(f"#input-{spec.name}", Select)
        if self._choices.get(spec.name) == choices:
            return
        self._choices[spec.name] = choices
        kept = select.value
        select.set_options([(c, c) for c in choices])
        if kept in choices:
            select.value = kept
        elif spec.required and choices:
            select.value = choices[0]

    def _suggestion_of(self, spec: FieldSpec, values: dict[str, str]) -> Callable[[], Awaitable[None]]:
        async def load() -> None:
            await self._suggest(spec, values)

        return load

    async def _suggest(self, spec: FieldSpec, values: dict[str, str]) -> None:
        assert spec.suggest is not None
        hint = self.query_one(f"#hint-{spec.name}", Label)
        hint.update("looking up what to suggest…")
        try:
            found = await spec.suggest(values)
        except Exception as error:  # a suggestion is a help: the field stays free text
            found = Suggestions(note=f"nothing to suggest: {type(error).__name__}: {error}")
        self.suggested[spec.name] = found
        field = self.query_one(f"#input-{spec.name}", Input)
        field.suggester = SuggestFromList(found.values, case_sensitive=False) if found.values else None
        if found.values and field.value.strip() in ("", self._filled.get(spec.name, spec.default)):
            self._filled[spec.name] = found.values[0]
            field.value = found.values[0]
        listed = f"{len(found.values)} to pick from: ctrl+o" if len(found.values) > 1 else ""
        hint.update(" · ".join(part for part in (found.note, listed) if part))

    def action_pick(self) -> None:
        focused = self.focused
        named = focused.id.removeprefix("input-") if focused is not None and focused.id else ""
        offering = [s for s in self.fields if s.suggest is not None and self.suggested.get(s.name)]
        spec = next((s for s in offering if s.name == named), offering[0] if offering else None)
        if spec is None:
            self.app.notify("Nothing to pick from here.", severity="warning", markup=False)
            return
        field = self.query_one(f"#input-{spec.name}", Input)

        def picked(value: str | None) -> None:
            if value is not None:
                field.value = value
            self.set_focus(field)

        self.app.push_screen(PickScreen(f"Pick: {spec.label}", self.suggested[spec.name].choices), picked)

    def _count_problems(self) -> None:
        """The status line's count follows the fields as they are fixed, and goes when none is left."""
        left = len(self.field_errors)
        self.counting_problems = bool(left)
        if not left:
            self.status("")
            return
        noun = "field needs" if left == 1 else "fields need"
        self.status(f"{left} {noun} attention; nothing was sent.", error=True)

    # ---- actions --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_submit()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        if self.sending:
            self.cancel_request()
        self.dismiss(None)

    def cancel_request(self) -> None:
        """Stop waiting: cancel the request's worker and say what that means."""
        self.workers.cancel_group(self, "form-submit")
        self.sending = False
        what = f"“{self.title_text}”"
        if self.changes:
            message = (
                f"Cancelled {what} while waiting for the answer. Its outcome is unknown: the change may or "
                "may not have been applied. Refresh and check before sending it again."
            )
        else:
            message = f"Cancelled {what} while waiting for the answer; it was a look-up, so nothing was changed."
        self.app.notify(message, title="Request cancelled", severity="warning", timeout=12, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal":  # offered only where there is a secret to show
            return any(spec.kind == "secret" for spec in self.fields)
        if action == "pick":  # offered only where a field suggests values
            return any(spec.suggest is not None for spec in self.fields)
        return True

    def action_reveal(self) -> None:
        focused = self.focused
        if isinstance(focused, Input) and focused.id and self._spec(focused.id).kind == "secret":
            focused.password = not focused.password

    def _spec(self, widget_id: str) -> FieldSpec:
        return next(s for s in self.fields if f"input-{s.name}" == widget_id)

    def status(self, message: str, *, error: bool = False) -> None:
        widget = self.query_one("#form-status", Static)
        widget.update(message)
        widget.set_class(error, "error")

    def action_submit(self) -> None:
        if self.sending:
            return
        problems = self.check()
        if problems:
            first = next(iter(problems))
            self.query_one(f"#input-{first}").focus()
            self._count_problems()
            return
        self.send(self.values())

    def idempotency_key(self, values: dict[str, str]) -> str:
        """One key per set of values: the same values sent again carry the same key."""
        frozen = tuple(sorted(values.items()))
        if self._sent_key is None or self._sent_key[0] != frozen:
            self._sent_key = (frozen, new_key())
        return self._sent_key[1]

    async def settle(self, values: dict[str, str]) -> WriteOutcome[Any]:
        if self.audit is not None:
            return await self.audit(lambda: self._settle(values))
        return await self._settle(values)

    async def _settle(self, values: dict[str, str]) -> WriteOutcome[Any]:
        key = self.idempotency_key(values)
        if self.settle_call is not None:
            return await self.settle_call(values, key)
        find_created = self.find_created

        async def find() -> Any:
            assert find_created is not None
            found = await find_created(values)
            return found[0] if found else None

        return await settle_create(
            lambda: self.submit_call(values),
            what=self.title_text,
            resend=self.resend_safe,
            key=key,
            find=find if find_created is not None and not self.resend_safe else None,
        )

    @work(exclusive=True, group="form-submit", exit_on_error=False)
    async def send(self, values: dict[str, str]) -> None:
        self.sending = True
        self.query_one("#submit", Button).disabled = True
        self.status("Sending…")
        try:
            outcome = await self.settle(values)
        except Exception as error:  # a bug must not lose what was typed
            self.status(f"unexpected error: {type(error).__name__}: {error}", error=True)
            return
        finally:
            self.sending = False
            if self.is_attached:
                self.query_one("#submit", Button).disabled = False
        self.show_outcome(outcome)

    def show_outcome(self, outcome: WriteOutcome[Any]) -> None:
        """Follow the outcome: close on done, keep everything typed otherwise."""
        if outcome.outcome is Outcome.DONE:
            if outcome.checked:  # reconciled after a lost answer: say how it is known
                self.app.notify(outcome.message(), title="Done", timeout=8, markup=False)
            self.dismiss(outcome.value)
            return
        error = outcome.error
        if outcome.outcome is Outcome.NOT_DONE and error is not None and not is_ambiguous(error):
            self._show_provider_error(error)  # the provider refused it: fix and send again
            return
        self.status(outcome.message(), error=True)

    def _show_provider_error(self, error: ProviderError) -> None:
        placed = 0
        for problem in error.problems:
            spec = next(
                (s for s in self.fields if s.answers_for(problem.pointer, problem.field)),
                None,
            )
            if spec is not None:
                code = f"[{problem.code}] " if problem.code else ""
                self.set_field_error(spec.name, f"{code}{problem.message}")
                placed += 1
        suffix = " (shown at the fields)" if placed else ""
        self.status(f"{error.summary()}{suffix}. Nothing is lost: fix and send again.", error=True)
