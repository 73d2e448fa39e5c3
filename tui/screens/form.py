"""Create and edit forms, built from a spec's FieldSpecs.

Input is checked at each field before anything is sent. The provider call runs in a worker on
this screen; when the provider refuses, its problems are placed at the fields they point to and
everything typed stays. When a create times out, the form looks for what was created before it
lets the user send again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

from providers.errors import ProviderError, Timeout
from tui.resources import FieldSpec

Submit = Callable[[dict[str, str]], Awaitable[Any]]
FindCreated = Callable[[dict[str, str]], Awaitable[list]]


class FormScreen(ModalScreen[Any]):
    """Returns the created or updated record, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.submit"),
        Binding("ctrl+r", "reveal", "Reveal secret", id="form.reveal"),
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
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.submit_call = submit
        self.submit_label = submit_label
        self.initial = dict(initial or {})
        self.find_created = find_created
        self.describe = describe
        self.sending = False
        self.field_errors: dict[str, str] = {}
        self.counting_problems = False  # the status line counts the fields that need attention

    # ---- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog form"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="fields"):
                for spec in self.fields:
                    with Vertical(classes="field", id=f"field-{spec.name}"):
                        marker = " *" if spec.required else ""
                        yield Label(f"{spec.label}{marker}", classes="field-label")
                        yield self._input_for(spec)
                        yield Label("", classes="field-error", id=f"error-{spec.name}")
            yield Static("", id="form-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.submit_label, id="submit", variant="primary")

    def _input_for(self, spec: FieldSpec):
        value = self.initial.get(spec.name, spec.default)
        widget_id = f"input-{spec.name}"
        if spec.kind == "choice":
            return Select(
                [(c, c) for c in spec.choices],
                value=value if value in spec.choices else Select.BLANK,
                allow_blank=not spec.required,
                id=widget_id,
            )
        if spec.kind == "bool":
            return Switch(value=value.lower() in ("true", "yes", "1"), id=widget_id)
        return Input(value=value, placeholder=spec.placeholder, password=spec.kind == "secret", id=widget_id)

    def on_mount(self) -> None:
        self._apply_visibility()
        first = next((w for w in self.query("Input, Select, Switch") if w.display), None)
        if first is not None:
            first.focus()

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
        spec = next((s for s in self.fields if s.name == name), None)
        if spec is not None and name in self.field_errors:
            # Re-check a field that showed an error as soon as it is edited.
            values = self.values()
            self.set_field_error(name, spec.check(values[name], values) or "")
            if self.counting_problems:
                self._count_problems()

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
        if not self.sending:
            self.dismiss(None)

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

    @work(exclusive=True, group="form-submit", exit_on_error=False)
    async def send(self, values: dict[str, str]) -> None:
        self.sending = True
        self.query_one("#submit", Button).disabled = True
        self.status("Sending…")
        try:
            record = await self.submit_call(values)
        except Timeout as error:
            if error.maybe_applied and self.find_created is not None:
                await self._check_after_timeout(self.find_created, values)
            else:
                self.status(error.summary(), error=True)
            return
        except ProviderError as error:
            self._show_provider_error(error)
            return
        except Exception as error:  # a bug must not lose what was typed
            self.status(f"unexpected error: {type(error).__name__}: {error}", error=True)
            return
        finally:
            self.sending = False
            self.query_one("#submit", Button).disabled = False
        self.dismiss(record)

    async def _check_after_timeout(self, find_created: FindCreated, values: dict[str, str]) -> None:
        self.status("No answer in time. Checking whether it was created before anything is sent again…")
        try:
            found = await find_created(values)
        except ProviderError as check_error:
            self.status(
                f"No answer in time, and the check failed too: {check_error.summary()}. "
                "Refresh the list before sending again.",
                error=True,
            )
            return
        if found:
            self.app.notify(
                f"The provider did not answer in time, but the check found it was created: {self.describe(found[0])}.",
                title="Created",
                timeout=8,
            )
            self.dismiss(found[0])
            return
        self.status(
            "No answer in time; checked and nothing matching exists, so it was not created. "
            f"Press {self.submit_label} to send it again.",
            error=True,
        )

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
