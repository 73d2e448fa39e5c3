"""Profiles: list, add, edit, delete, switch and make default; accounts per profile; test connection.

The top table lists every profile (the built-in sandbox first), the bottom one the accounts of
the profile under the cursor. Changes go to config.toml through `tui.config` (validated there,
the same messages shown at the form fields) and credentials never do: an account says which
environment variable holds each credential, or the value typed into a masked input goes to the
secrets file (mode 0600) through `save_secret`. A read-only session refuses every change, as
every other screen does; the sandbox can be switched to and tested, never edited or deleted.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from providers.errors import FieldProblem, ProviderError, ValidationError
from tui import config as cfg
from tui.config import SECRETS_REF, AccountConfig, Config, ConfigError, ConfigValidationError, KindSpec, Profile
from tui.resources import FieldSpec
from tui.screens.access import AppAccess
from tui.screens.confirm import ConfirmScreen
from tui.screens.form import FormScreen
from tui.screens.table_screen import opens_on_top
from tui.widgets.footer import AppFooter
from tui.widgets.literal import LiteralBar, LiteralStatic
from tui.widgets.virtual_table import Column, Row, VirtualTable

# Where a credential is kept, as the account form offers it.
FROM_ENV = "environment variable"
FROM_SECRETS = "secrets file"
NOT_USED = "not used"

PROFILE_COLUMNS = (
    Column("active", "CUR", width=3),
    Column("name", "NAME", max_width=24),
    Column("mode", "MODE", width=10),
    Column("default", "DEFAULT", width=7, priority=3),
    Column("accounts", "ACCTS", width=5, justify="right", priority=3),
    Column("kinds", "KINDS", max_width=36, priority=2, min_width=12),
    Column("description", "DESCRIPTION", max_width=32, priority=2, min_width=12),
)

ACCOUNT_COLUMNS = (
    Column("kind", "KIND", max_width=12),
    Column("label", "LABEL", max_width=20),
    Column("test", "TEST", max_width=8),
    Column("credentials", "CREDENTIALS", max_width=48, priority=2, min_width=16),
    Column("endpoint", "ENDPOINT", max_width=40, priority=3, min_width=16),
)

# Longer wording for `?` than the footer has room for.
HELP_TEXT = {
    "switch": "switch to the selected profile; every screen starts afresh",
    "other_table": "move between the profiles and the accounts table",
    "new_profile": "add a profile",
    "edit_profile": "edit the profile: name, read-only flag, description",
    "add_account": "add a provider account to the selected profile",
    "edit_account": "edit the selected account",
    "delete": "delete the profile (or the account, in the accounts table)",
    "test": "test the selected account's connection (one cheap read)",
    "make_default": "make the profile the default (teledeck starts with it)",
    "reload": "reload config.toml from disk",
}

SETTING_LABELS = {
    "endpoint": "Endpoint (base URL)",
    "region": "Region",
    "pool_key": "Pool key (PoolKey)",
    "number_pool_no": "Number pool (NumberPoolNo)",
    "cust_space_id": "Customer space id (CustSpaceId)",
    "watch_x": "Watched X numbers (comma-separated)",
}


# ---- what the tables show -------------------------------------------------------------------


def credential_sources(
    profile: Profile, account: AccountConfig, environ: Mapping[str, str] | None = None, *, named: bool = False
) -> list[str]:
    """Where each credential is: "env:NAME" or "secrets file" ("field: ..." when `named`). Never a value."""
    if profile.builtin:
        return ["built in (sandbox emulators)"]
    env = os.environ if environ is None else environ
    parts = []
    spec = account.spec
    names = spec.credential_fields if spec else tuple(account.credentials)
    for name in names:
        ref = account.credentials.get(name)
        if ref is None:
            where = "missing" if spec is not None and name in spec.credentials else ""
        elif ref == SECRETS_REF:
            where = "secrets file"
        elif ref.startswith(cfg.ENV_PREFIX):
            variable = ref[len(cfg.ENV_PREFIX) :]
            where = f"env:{variable}" + ("" if env.get(variable, "").strip() else " (unset)")
        else:
            where = "invalid reference"
        if where:
            parts.append(f"{name}: {where}" if named else where)
    return parts or ["none"]


def account_detail(profile: Profile, account: AccountConfig, result: tuple[str, str] | None) -> str:
    """Everything about one account, several lines (credential sources, never values)."""
    lines = [
        f"{account.kind} account {account.label}" + (f" · {account.spec.title}" if account.spec else " · unknown kind")
    ]
    if profile.builtin:
        lines.append("  endpoint     built-in sandbox (no network)")
    else:
        default = " (the kind's default)" if not account.endpoint else ""
        lines.append(f"  endpoint     {account.effective_endpoint or '-'}{default}")
    settings = [
        f"{name}={getattr(account, name)}"
        for name in ("region", "pool_key", "number_pool_no", "cust_space_id")
        if getattr(account, name)
    ]
    if account.watch_x:
        settings.append("watch_x=" + ", ".join(account.watch_x))
    if settings:
        lines.append("  settings     " + " · ".join(settings))
    lines.append("  credentials  " + " · ".join(credential_sources(profile, account, named=True)))
    if result is not None and result[0] in ("ok", "failed"):
        lines.append(f"  last test    {result[0]}: {result[1]}")
    return "\n".join(lines)


def kinds_of(profile: Profile) -> str:
    return ", ".join(dict.fromkeys(a.kind for a in profile.accounts)) or "-"


# ---- the account form -----------------------------------------------------------------------


def _when(name: str, *choices: str) -> Callable[[Mapping[str, str]], bool]:
    return lambda values: values.get(name, "") in choices


def account_from_values(kind: str, values: Mapping[str, str], base: AccountConfig | None = None) -> AccountConfig:
    """The account the form describes (credential references only; values stay in the form)."""
    spec = cfg.KINDS[kind]
    account = AccountConfig(
        kind=kind, label=values.get("label", "").strip(), extra=dict(base.extra) if base is not None else {}
    )
    for name in spec.settings:
        text = values.get(name, "").strip()
        if name == "watch_x":
            account.watch_x = [n.strip() for n in text.split(",") if n.strip()]
        else:
            setattr(account, name, text)
    for name in spec.credential_fields:
        source = values.get(f"src_{name}", "")
        if source == FROM_ENV:
            account.credentials[name] = cfg.ENV_PREFIX + values.get(f"env_{name}", "").strip()
        elif source == FROM_SECRETS:
            account.credentials[name] = SECRETS_REF
    return account


def form_field_for(problem_key: str, values: Mapping[str, str]) -> str | None:
    """The account form field that a `validate_account` problem key is about."""
    if problem_key in cfg.SETTINGS or problem_key == "label":
        return problem_key
    if problem_key.startswith("credentials."):
        name = problem_key.removeprefix("credentials.")
        source = values.get(f"src_{name}", "")
        if source == FROM_ENV:
            return f"env_{name}"
        if source == FROM_SECRETS:
            return f"secret_{name}"
        return f"src_{name}"
    return None


class AccountForm:
    """Field specs, initial values and checks of the add/edit account form of one kind."""

    def __init__(
        self, profile: Profile, spec: KindSpec, account: AccountConfig | None, stored_secrets: Mapping[str, str]
    ) -> None:
        self.profile, self.spec, self.account = profile, spec, account
        # Which credential fields already have a value in the secrets file (never the values).
        self.stored = {name for name, value in stored_secrets.items() if value}

    def candidate(self, values: Mapping[str, str]) -> tuple[Profile, int, AccountConfig]:
        """The profile as it would be saved, the account's index in it, and the account."""
        account = account_from_values(self.spec.kind, values, self.account)
        profile = copy.deepcopy(self.profile)
        index = next(
            (i for i, a in enumerate(profile.accounts) if self.account is not None and a.label == self.account.label),
            None,
        )
        if index is None:
            profile.accounts.append(account)
            index = len(profile.accounts) - 1
        else:
            profile.accounts[index] = account
        return profile, index, account

    def problems(self, values: Mapping[str, str]) -> dict[str, str]:
        """Form field -> message, from `tui.config.validate_profile` plus the secret values."""
        profile, index, _ = self.candidate(values)
        prefix = f"accounts[{index}]."
        out: dict[str, str] = {}
        for key, message in cfg.validate_profile(profile).items():
            if key.startswith(prefix):
                target = form_field_for(key.removeprefix(prefix), values) or "label"
                out.setdefault(target, message)
        for name in self.spec.credential_fields:
            if values.get(f"src_{name}") != FROM_SECRETS:
                continue
            typed = values.get(f"secret_{name}", "")
            if not typed and not self._keeps_stored(name):
                out.setdefault(f"secret_{name}", "required: the value to store in the secrets file (mode 0600)")
            elif typed:  # the kind's own rule for the value (a receipt token's length); never echoes it
                problem = self.spec.credential_problem(name, typed)
                if problem:
                    out.setdefault(f"secret_{name}", problem)
        return out

    def _keeps_stored(self, name: str) -> bool:
        """An edit that leaves a stored secret blank keeps it (carried over a label change too)."""
        return self.account is not None and name in self.stored and self.account.credentials.get(name) == SECRETS_REF

    def check(self, field_name: str) -> Callable[[str, Mapping[str, str]], str | None]:
        return lambda _value, values: self.problems(values).get(field_name)

    def fields(self) -> tuple[FieldSpec, ...]:
        spec = self.spec
        specs = [
            FieldSpec(
                "label",
                "Label (unique in this profile)",
                required=True,
                placeholder=f"e.g. {spec.kind}-prod",
                cross_check=self.check("label"),
            )
        ]
        for name in spec.settings:
            placeholder = {
                "endpoint": spec.default_endpoint and f"default: {spec.default_endpoint}",
                "region": spec.default_region and f"default: {spec.default_region}",
                "watch_x": "e.g. 8613800000001, 8613800000002",
            }.get(name, "")
            specs.append(
                FieldSpec(
                    name,
                    SETTING_LABELS[name],
                    required=name in spec.required,
                    placeholder=placeholder or "",
                    cross_check=self.check(name),
                )
            )
        for name in spec.credential_fields:
            optional = name not in spec.credentials
            choices = (FROM_ENV, FROM_SECRETS) + ((NOT_USED,) if optional else ())
            specs.append(
                FieldSpec(
                    f"src_{name}",
                    f"{name}{' (optional)' if optional else ''}: where it is kept",
                    required=not optional,
                    kind="choice",
                    choices=choices,
                    default=NOT_USED if optional else FROM_ENV,
                    cross_check=self.check(f"src_{name}"),
                )
            )
            specs.append(
                FieldSpec(
                    f"env_{name}",
                    f"{name}: environment variable name",
                    default=spec.suggested_env.get(name, ""),
                    placeholder="e.g. MY_VENDOR_KEY",
                    visible=_when(f"src_{name}", FROM_ENV),
                    cross_check=self.check(f"env_{name}"),
                )
            )
            keep = self.account is not None and name in self.stored
            specs.append(
                FieldSpec(
                    f"secret_{name}",
                    f"{name}: value for the secrets file (masked, ctrl+r shows)",
                    kind="secret",
                    placeholder="stored; leave empty to keep it" if keep else "",
                    visible=_when(f"src_{name}", FROM_SECRETS),
                    cross_check=self.check(f"secret_{name}"),
                )
            )
        return tuple(specs)

    def initial(self) -> dict[str, str]:
        account = self.account
        if account is None:
            return {}
        values: dict[str, str] = {"label": account.label}
        for name in self.spec.settings:
            value = getattr(account, name)
            values[name] = ", ".join(value) if name == "watch_x" else str(value)
        for name in self.spec.credential_fields:
            ref = account.credentials.get(name)
            if ref == SECRETS_REF:
                values[f"src_{name}"] = FROM_SECRETS
            elif ref is not None and ref.startswith(cfg.ENV_PREFIX):
                values[f"src_{name}"] = FROM_ENV
                values[f"env_{name}"] = ref[len(cfg.ENV_PREFIX) :]
            elif name not in self.spec.credentials:
                values[f"src_{name}"] = NOT_USED
        return values


# ---- errors into the form -------------------------------------------------------------------


def field_refusal(problems: Mapping[str, str], what: str) -> ValidationError:
    """A refusal FormScreen places at its fields (the problems' keys are form field names)."""
    return ValidationError(
        f"{what} was not saved",
        provider="config",
        problems=tuple(FieldProblem(f"/{name}", message) for name, message in problems.items()),
    )


def config_refusal(error: ConfigError) -> ProviderError:
    """A config or secrets-file error as FormScreen shows it (its text names no secret)."""
    return ProviderError(str(error), provider="config")


_PROFILE_KEY = re.compile(r"^profiles\.[^.]+\.(?P<field>name|read_only|description)$")


def profile_validation_refusal(error: ConfigValidationError) -> ValidationError:
    placed: dict[str, str] = {}
    for key, message in error.problems.items():
        match = _PROFILE_KEY.match(key)
        placed.setdefault(match.group("field") if match else "name", message if match else f"{key}: {message}")
    return field_refusal(placed, "the profile")


# ---- the screen -----------------------------------------------------------------------------


class ProfilesScreen(AppAccess, Screen[None]):
    DEFAULT_CSS = """
    ProfilesScreen #profiles-table {
        height: auto;
        max-height: 40%;
    }
    ProfilesScreen #accounts-table {
        height: auto;
        max-height: 40%;
    }
    ProfilesScreen .section-bar {
        height: auto;  /* wraps on a narrow terminal */
        background: $boost;
        color: $text-muted;
        padding: 0 1;
        margin-top: 1;
    }
    ProfilesScreen #account-detail {
        height: 1fr;
        padding: 1 1 0 1;
        color: $text-muted;
    }
    ProfilesScreen #test-status {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    ProfilesScreen #test-status.ok {
        color: $text-success;
    }
    ProfilesScreen #test-status.failed {
        color: $text-error;
    }
    """

    BINDINGS = [
        Binding("enter", "switch", "Switch to", show=False, id="profiles.switch"),
        Binding("tab", "other_table", "Profiles/Accounts", show=False, id="profiles.other_table"),
        opens_on_top("n", "new_profile", "New", id="profiles.new_profile"),
        opens_on_top("e", "edit_profile", "Edit", id="profiles.edit_profile"),
        opens_on_top("a", "add_account", "Add account", id="profiles.add_account"),
        Binding("E", "edit_account", "Edit account", key_display="E", id="profiles.edit_account"),
        Binding("ctrl+d", "delete", "Delete", id="profiles.delete"),
        Binding("t", "test", "Test", id="profiles.test"),
        Binding("d", "make_default", "Default", id="profiles.make_default"),
        Binding("r", "reload", "Reload", show=False, id="profiles.reload"),
        Binding("question_mark", "help", "Help", key_display="?", id="profiles.help"),
    ]

    def __init__(self) -> None:
        super().__init__(name="profiles")
        # (profile, account label) -> ("testing…" | "ok" | "failed", one line)
        self.results: dict[tuple[str, str], tuple[str, str]] = {}

    # ---- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.teledeck.make_header()
        yield LiteralBar("", id="title-bar", classes="title-bar")
        yield VirtualTable(PROFILE_COLUMNS, id="profiles-table", empty_text="no profiles")
        yield LiteralBar("", id="accounts-bar", classes="section-bar")
        yield VirtualTable(ACCOUNT_COLUMNS, id="accounts-table", empty_text="no accounts: press a to add one")
        yield LiteralStatic("", id="account-detail")
        yield LiteralStatic("", id="test-status")
        yield AppFooter()

    @property
    def profiles_table(self) -> VirtualTable:
        return self.query_one("#profiles-table", VirtualTable)

    @property
    def accounts_table(self) -> VirtualTable:
        return self.query_one("#accounts-table", VirtualTable)

    @property
    def config(self) -> Config:
        return self.teledeck.config

    def on_mount(self) -> None:
        self.refresh_tables()
        self.profiles_table.move_cursor_to_key(self.teledeck.session.profile)
        self.show_accounts()
        self.profiles_table.focus()

    def on_screen_resume(self) -> None:
        # The config may have changed elsewhere (another mode, a reload): show what is there now.
        if self.is_mounted:
            self.refresh_tables()

    # ---- tables ---------------------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        config = self.config
        return [p for p in (config.get(name) for name in config.names()) if p is not None]

    def profile_row(self, profile: Profile) -> Row:
        config = self.config
        active = profile.name == self.teledeck.session.profile
        default = config.default_profile == profile.name or (not config.default_profile and profile.builtin)
        return Row(
            key=profile.name,
            cells=(
                "*" if active else "",
                profile.name,
                "read-only" if profile.read_only else "read-write",
                "default" if default else "",
                str(len(profile.accounts)),
                kinds_of(profile),
                profile.description,
            ),
            style="accent" if active else "",
        )

    def account_row(self, profile: Profile, account: AccountConfig) -> Row:
        state, _ = self.results.get((profile.name, account.label), ("", ""))
        endpoint = "built-in sandbox" if profile.builtin else account.effective_endpoint
        return Row(
            key=account.label,
            cells=(account.kind, account.label, state, ", ".join(credential_sources(profile, account)), endpoint),
            style={"ok": "success", "failed": "error"}.get(state, ""),
        )

    def refresh_tables(self) -> None:
        profiles = self.profiles()
        self.profiles_table.set_rows([self.profile_row(p) for p in profiles])
        self.show_accounts()
        self.update_title()

    def update_title(self) -> None:
        session = self.teledeck.session
        read_only = f" ({session.read_only_reason} session: changes refused)" if session.read_only else ""
        text = (
            f"Profiles · {len(self.config.names())} · active: {session.profile}{read_only}"
            "  ·  enter switches · tab: accounts"
        )
        self.query_one("#title-bar", Static).update(text)

    def selected_profile(self) -> Profile | None:
        key = self.profiles_table.current_key
        return self.config.get(key) if key else None

    def selected_account(self) -> tuple[Profile, AccountConfig] | None:
        profile = self.selected_profile()
        key = self.accounts_table.current_key
        if profile is None or key is None:
            return None
        account = profile.account(key)
        return (profile, account) if account is not None else None

    def show_accounts(self) -> None:
        profile = self.selected_profile()
        bar = self.query_one("#accounts-bar", Static)
        if profile is None:
            self.accounts_table.set_rows([])
            bar.update("Accounts")
        else:
            self.accounts_table.set_rows([self.account_row(profile, a) for a in profile.accounts])
            note = " · built in: switch to it (enter) and test it (t); it cannot be edited" if profile.builtin else ""
            bar.update(f"Accounts of {profile.name} · {len(profile.accounts)}{note}")
        self.show_detail()

    def show_detail(self) -> None:
        selected = self.selected_account()
        text = ""
        if selected is not None:
            profile, account = selected
            text = account_detail(profile, account, self.results.get((profile.name, account.label)))
        self.query_one("#account-detail", Static).update(text)

    @on(VirtualTable.RowHighlighted, "#profiles-table")
    def _profile_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        self.show_accounts()

    @on(VirtualTable.RowHighlighted, "#accounts-table")
    def _account_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        self.show_detail()

    @on(VirtualTable.RowSelected)
    def _row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        self.action_switch()

    def action_other_table(self) -> None:
        if self.profiles_table.has_focus:
            self.accounts_table.focus()
        else:
            self.profiles_table.focus()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        screen = HelpScreen(self, f"Keys: Profiles  (config: {cfg.config_path()})")
        actions = {
            b.key_display or self.app.get_key_display(b): b.action
            for bindings in self._bindings.key_to_bindings.values()
            for b in bindings
        }
        screen.rows = [
            (key, HELP_TEXT.get(actions.get(key, ""), text)) for key, text in screen.rows if actions.get(key) != "help"
        ]  # "?" is under General already
        self.app.push_screen(screen)

    def action_reload(self) -> None:
        try:
            self.teledeck.reload_config()
        except ConfigError as error:
            self.notify(str(error), title="config not reloaded", severity="error", markup=False, timeout=10)
            return
        self.refresh_tables()
        self.notify("Config reloaded from disk.", timeout=3)

    # ---- guards ---------------------------------------------------------------------------

    def _refuse_if_read_only(self, what: str) -> bool:
        return self.teledeck.refuse_if_read_only(what, nothing="was saved")

    def _need_profile(self) -> Profile | None:
        profile = self.selected_profile()
        if profile is None:
            self.notify("No profile selected.", severity="warning")
        return profile

    def _need_account(self, warning: str) -> tuple[Profile, AccountConfig] | None:
        """The selected account (with its profile); None, with `warning`, when there is none."""
        selected = self.selected_account()
        if selected is None:
            self.notify(warning, severity="warning")
        return selected

    def _profile_to_edit(self, doing: str) -> Profile | None:
        """The selected profile, for a change to it; None (having said why) when the profile in use
        is read-only, none is selected, or the selected one is the built-in sandbox."""
        if self._refuse_if_read_only(doing):
            return None
        profile = self._need_profile()
        if profile is None or self._refuse_builtin(profile, "edited"):
            return None
        return profile

    def _refuse_builtin(self, profile: Profile, verb: str) -> bool:
        if profile.builtin:
            self.notify(
                f"The built-in sandbox profile cannot be {verb}; create a new profile (n) instead. "
                "It can be switched to (enter) and tested (t).",
                severity="warning",
                title="sandbox",
            )
            return True
        return False

    # ---- switch and default ---------------------------------------------------------------

    def action_switch(self) -> None:
        profile = self._need_profile()
        if profile is None:
            return
        if profile.name == self.teledeck.session.profile:
            self.notify(f"Already using profile {profile.name}.", timeout=3)
            return
        self.notify(f"Switching to profile {profile.name}…", timeout=2)
        self.teledeck.switch_profile(profile.name)  # resets every screen, this one included

    def action_make_default(self) -> None:
        if self._refuse_if_read_only("changing the default profile"):
            return
        profile = self._need_profile()
        if profile is None:
            return
        if self.config.default_profile == profile.name:
            self.notify(f"{profile.name} is already the default profile.", timeout=3)
            return
        config = copy.deepcopy(self.config)
        config.default_profile = profile.name
        if self._save(config, f"making {profile.name} the default", select=profile.name):
            self.notify(f"{profile.name} is now the default profile (teledeck starts with it).")

    def _save(self, config: Config, doing: str, *, select: str | None = None) -> bool:
        """Save outside a form: problems become a notification."""
        try:
            cfg.save_config(config)
        except ConfigError as error:
            self.notify(str(error), title=f"not saved: {doing}", severity="error", markup=False, timeout=10)
            return False
        self._reloaded(select=select)
        return True

    def _reloaded(self, *, select: str | None = None, account: str | None = None) -> None:
        self.teledeck.reload_config()
        self.refresh_tables()
        if select is not None:
            self.profiles_table.move_cursor_to_key(select)
            self.show_accounts()
        if account is not None:
            self.accounts_table.move_cursor_to_key(account)

    # ---- profiles -------------------------------------------------------------------------

    def _profile_fields(self, editing: Profile | None) -> tuple[FieldSpec, ...]:
        existing = set(self.config.names())
        active = self.teledeck.session.profile

        def name_check(value: str, values: Mapping[str, str]) -> str | None:
            name = value.strip()
            problem = cfg.validate_profile_name(name)
            if problem:
                return problem
            if editing is not None and name != editing.name:
                if editing.name == active:
                    return "this is the active profile: switch to another one before renaming it"
                if name in existing:
                    return f"a profile called {name!r} already exists"
            if editing is None and name in existing:
                return f"a profile called {name!r} already exists"
            return None

        return (
            FieldSpec("name", "Name", required=True, placeholder="e.g. staging", cross_check=name_check),
            FieldSpec(
                "read_only",
                "Read-only (like a production account: every change is refused)",
                kind="bool",
                default="false",
            ),
            FieldSpec("description", "Description", placeholder="optional, e.g. EU production"),
        )

    async def action_new_profile(self) -> None:
        if self._refuse_if_read_only("adding a profile"):
            return

        async def submit(values: dict[str, str]) -> str:
            profile = Profile(
                name=values["name"].strip(),
                read_only=values["read_only"] == "true",
                description=values["description"].strip(),
            )
            config = copy.deepcopy(self.config)
            if config.get(profile.name) is not None:
                raise field_refusal({"name": f"a profile called {profile.name!r} already exists"}, "the profile")
            config.upsert(profile)
            self._save_in_form(config)
            return profile.name

        def done(name: str | None) -> None:
            if name:
                self._reloaded(select=name)
                self.notify(f"Profile {name} added. Press a to add an account to it.")

        await self.app.push_screen(
            FormScreen(title="New profile", fields=self._profile_fields(None), submit=submit, submit_label="Add"), done
        )

    def _save_in_form(self, config: Config) -> None:
        try:
            cfg.save_config(config)
        except ConfigValidationError as error:
            raise profile_validation_refusal(error) from None
        except ConfigError as error:
            raise config_refusal(error) from None

    async def action_edit_profile(self) -> None:
        profile = self._profile_to_edit("editing a profile")
        if profile is None:
            return
        old_name = profile.name

        async def submit(values: dict[str, str]) -> str:
            config = copy.deepcopy(self.config)
            current = config.get(old_name)
            if current is None:
                raise config_refusal(ConfigError(f"profile {old_name!r} is no longer in the config; press r"))
            new_name = values["name"].strip()
            edited = Profile(
                name=new_name,
                read_only=values["read_only"] == "true",
                description=values["description"].strip(),
                accounts=current.accounts,
            )
            try:
                config.upsert(edited, previous_name=old_name)
            except ConfigError as error:
                raise config_refusal(error) from None
            problems = cfg.validate_config(config)
            if problems:
                raise profile_validation_refusal(ConfigValidationError(problems))
            if new_name != old_name:
                try:
                    move_secrets(old_name, new_name)
                except ConfigError as error:
                    raise config_refusal(error) from None
            try:
                self._save_in_form(config)
            except ProviderError:
                if new_name != old_name:
                    move_secrets(new_name, old_name)
                raise
            return new_name

        def done(name: str | None) -> None:
            if not name:
                return
            self._reloaded(select=name)
            renamed = f" (was {old_name})" if name != old_name else ""
            note = ""
            saved = self.config.get(name)
            if old_name == self.teledeck.session.profile and saved is not None:
                if saved.read_only != profile.read_only or name != old_name:
                    # The session in use was opened from the old settings: reopen it now, so a
                    # profile marked read-only refuses changes from this moment on.
                    note = " Read-only from now on." if saved.read_only else ""
                    self.teledeck.switch_profile(name)
            self.notify(f"Profile {name}{renamed} saved.{note}")

        initial = {
            "name": profile.name,
            "read_only": "true" if profile.read_only else "false",
            "description": profile.description,
        }
        await self.app.push_screen(
            FormScreen(
                title=f"Edit profile {profile.name}",
                fields=self._profile_fields(profile),
                submit=submit,
                submit_label="Save",
                initial=initial,
            ),
            done,
        )

    # ---- accounts -------------------------------------------------------------------------

    async def action_add_account(self) -> None:
        profile = self._profile_to_edit("adding an account")
        if profile is None:
            return
        # "kind · title": the list shows what each kind is; the kind is the part before the dot.
        choices = tuple(f"{kind} · {spec.title}" for kind, spec in cfg.KINDS.items())

        async def choose(values: dict[str, str]) -> str:
            return values["kind"].split(" · ")[0]

        def chosen(kind: str | None) -> None:
            if kind:
                self._account_form(profile.name, cfg.KINDS[kind], None)

        form = FormScreen(
            title=f"New account in {profile.name}: which provider?",
            fields=(FieldSpec("kind", "Kind", required=True, kind="choice", choices=choices, default=choices[0]),),
            submit=choose,
            submit_label="Next",
        )
        await self.app.push_screen(form, chosen)

    def action_edit_account(self) -> None:
        profile = self._profile_to_edit("editing an account")
        if profile is None:
            return
        selected = self._need_account(f"No account selected in {profile.name}.")
        if selected is None:
            return
        _, account = selected
        spec = account.spec
        if spec is None:
            self.notify(
                f"Account {account.label} has an unknown kind {account.kind!r}; edit config.toml.",
                severity="error",
                markup=False,
            )
            return
        self._account_form(profile.name, spec, account)

    def _account_form(self, profile_name: str, spec: KindSpec, account: AccountConfig | None) -> None:
        profile = self.config.get(profile_name)
        if profile is None:
            return
        stored: dict[str, str] = {}
        if account is not None and SECRETS_REF in account.credentials.values():
            try:
                stored = cfg.load_secrets().get(profile_name, {}).get(account.label, {})
            except ConfigError as error:
                self.notify(str(error), title="secrets file not used", severity="error", markup=False, timeout=10)
        form_spec = AccountForm(profile, spec, account, stored)
        old_label = account.label if account is not None else None

        async def submit(values: dict[str, str]) -> str:
            problems = form_spec.problems(values)
            if problems:
                raise field_refusal(problems, "the account")
            candidate, _, new_account = form_spec.candidate(values)
            config = copy.deepcopy(self.config)
            try:
                config.upsert(candidate, previous_name=profile_name)
                write_account_secrets(profile_name, old_label, new_account, values)
                cfg.save_config(config)
            except ConfigValidationError as error:
                raise field_refusal(
                    {"label": "; ".join(f"{k}: {m}" for k, m in error.problems.items())}, "the account"
                ) from None
            except ConfigError as error:
                raise config_refusal(error) from None
            return new_account.label

        def done(label: str | None) -> None:
            if not label:
                return
            self.results.pop((profile_name, old_label or label), None)
            self._reloaded(select=profile_name, account=label)
            verb = "saved" if account is not None else "added"
            self.notify(f"{spec.title} account {label} {verb} in {profile_name}. Press t to test it.")

        verb = f"Edit {spec.kind} account {account.label}" if account is not None else f"New {spec.title} account"
        self.app.push_screen(
            FormScreen(
                title=f"{verb} · profile {profile_name}",
                fields=form_spec.fields(),
                submit=submit,
                submit_label="Save" if account is not None else "Add",
                initial=form_spec.initial(),
            ),
            done,
        )

    # ---- delete ---------------------------------------------------------------------------

    def action_delete(self) -> None:
        selected = self.selected_account() if self.accounts_table.has_focus else None
        on_account = selected is not None
        if self._refuse_if_read_only("deleting an account" if on_account else "deleting a profile"):
            return
        profile = self._need_profile()
        if profile is None or self._refuse_builtin(profile, "deleted" if not on_account else "edited"):
            return
        if selected is not None:
            self._delete_account(profile, selected[1])
        else:
            self._delete_profile(profile)

    def _delete_profile(self, profile: Profile) -> None:
        if profile.name == self.teledeck.session.profile:
            self.notify(
                f"{profile.name} is the active profile: switch to another one before deleting it.", severity="warning"
            )
            return
        accounts = ", ".join(f"{a.kind} {a.label}" for a in profile.accounts) or "none"
        in_secrets = [a.label for a in profile.accounts if SECRETS_REF in a.credentials.values()]
        secrets_note = (
            f"\nIts credentials in the secrets file ({', '.join(in_secrets)}) are removed too." if in_secrets else ""
        )
        default_note = (
            "\nIt is the default profile; teledeck will start with the sandbox."
            if self.config.default_profile == profile.name
            else ""
        )
        question = (
            f"Delete profile {profile.name}?\naccounts: {accounts}{secrets_note}{default_note}\n\n"
            "Environment variables are left alone. This cannot be undone."
        )

        def deleted() -> None:
            self.results = {k: v for k, v in self.results.items() if k[0] != profile.name}
            self.notify(f"Deleted profile {profile.name}.")

        self._delete_when_confirmed(
            question,
            "Delete profile",
            lambda config: config.remove(profile.name),
            f"deleting profile {profile.name}",
            profile.name,
            None,
            deleted,
        )

    def _delete_account(self, profile: Profile, account: AccountConfig) -> None:
        where = (
            "\nIts credentials in the secrets file are removed too."
            if SECRETS_REF in account.credentials.values()
            else ""
        )
        question = (
            f"Delete {account.kind} account {account.label} from profile {profile.name}?{where}\n\n"
            "Nothing is changed at the provider. This cannot be undone."
        )

        def remove(config: Config) -> None:
            edited = config.profiles[profile.name]
            edited.accounts = [a for a in edited.accounts if a.label != account.label]

        def deleted() -> None:
            self.results.pop((profile.name, account.label), None)
            self.show_accounts()
            self.notify(f"Deleted account {account.label} from {profile.name}.")

        self._delete_when_confirmed(
            question,
            "Delete account",
            remove,
            f"deleting account {account.label}",
            profile.name,
            account.label,
            deleted,
            select=profile.name,
        )

    def _delete_when_confirmed(
        self,
        question: str,
        title: str,
        remove: Callable[[Config], object],  # what it returns is not used
        doing: str,
        profile: str,
        label: str | None,
        deleted: Callable[[], None],
        *,
        select: str | None = None,
    ) -> None:
        """Once the user says yes: `remove` from a copy of the config and save it; only when that
        is saved, drop the secrets file entries of `profile` (`label` None: all of its accounts')
        and call `deleted`."""

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            config = copy.deepcopy(self.config)
            remove(config)
            if not self._save(config, doing, select=select):
                return
            self._forget_secrets(profile, label)
            deleted()

        self.app.push_screen(ConfirmScreen(question, title=title), answered)

    def _forget_secrets(self, profile: str, label: str | None) -> None:
        try:
            cfg.delete_secrets(profile, label)
        except ConfigError as error:
            self.notify(
                f"The secrets file entry was not removed: {error}", severity="warning", markup=False, timeout=10
            )

    # ---- test connection ------------------------------------------------------------------

    def action_test(self) -> None:
        profile = self._need_profile()
        if profile is None:
            return
        selected = self._need_account(f"No account to test in {profile.name}: press a to add one.")
        if selected is None:
            return
        self.test_connection(*selected)

    def test_status(self, text: str, state: str) -> None:
        widget = self.query_one("#test-status", Static)
        widget.update(text)
        widget.set_class(state == "ok", "ok")
        widget.set_class(state == "failed", "failed")

    def _set_result(self, profile: Profile, account: AccountConfig, state: str, text: str) -> None:
        self.results[(profile.name, account.label)] = (state, text)
        shown = self.selected_profile()
        if shown is not None and shown.name == profile.name and self.accounts_table.get_row(account.label):
            self.accounts_table.update_row(self.account_row(profile, account))
            self.show_detail()

    @work(group="test-connection", exit_on_error=False)
    async def test_connection(self, profile: Profile, account: AccountConfig) -> None:
        from tui.sessions import test_account

        who = f"{account.kind} account {account.label} of {profile.name}"
        self._set_result(profile, account, "testing…", "")
        self.test_status(f"⟳ Testing {who}…", "testing")
        try:
            text = await test_account(profile, account, offline=self.teledeck.session.offline)
        except ProviderError as error:
            self._failed(profile, account, who, error.summary())
            return
        except ConfigError as error:
            self._failed(profile, account, who, str(error))
            return
        self._set_result(profile, account, "ok", text)
        self.test_status(f"✓ {who}: {text}", "ok")
        if self.app.screen is not self:  # the user went elsewhere meanwhile: tell them there
            self.app.notify(f"{who}: {text}", title="Connection OK", markup=False, timeout=5)

    def _failed(self, profile: Profile, account: AccountConfig, who: str, message: str) -> None:
        self._set_result(profile, account, "failed", message)
        self.test_status(f"✗ {who}: {message}", "failed")
        if self.app.screen is not self:
            self.app.notify(message, title=f"Test failed: {who}", severity="error", markup=False, timeout=10)


# ---- the secrets file -----------------------------------------------------------------------


def move_secrets(old_profile: str, new_profile: str) -> None:
    """Move a renamed profile's entries in the secrets file (nothing to do when it has none)."""
    entries = cfg.load_secrets().get(old_profile, {})
    for label, fields in entries.items():
        for name, value in fields.items():
            cfg.save_secret(new_profile, label, name, value)
    if entries:
        cfg.delete_secrets(old_profile)


def write_account_secrets(
    profile: str, old_label: str | None, account: AccountConfig, values: Mapping[str, str]
) -> None:
    """Store typed secret values, carry kept ones over a label change, drop ones no longer used."""
    spec = cfg.KINDS[account.kind]
    kept: dict[str, str] = {}
    if old_label is not None:
        kept = dict(cfg.load_secrets().get(profile, {}).get(old_label, {}))
    for name in spec.credential_fields:
        if account.credentials.get(name) != SECRETS_REF:
            continue
        value = values.get(f"secret_{name}", "") or kept.get(name, "")
        if value:
            cfg.save_secret(profile, account.label, name, value)
    if old_label is not None:
        if old_label != account.label:
            if kept:
                cfg.delete_secrets(profile, old_label)
        else:
            for name in kept:
                if account.credentials.get(name) != SECRETS_REF:
                    cfg.delete_secrets(profile, old_label, name)
