"""The teledeck App and `run_app`.

Each resource is a Textual mode with its own screen stack, so jumping between resources keeps
each one's filter, sort and cursor (what k9s users ask for as tabs). Provider errors from every
screen go through `report_error`, the one place that turns them into notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

import styles
from tui.clipboard import copy_text
from tui.literal import literal
from tui.resources import REGISTRY, ActionSpec
from tui.screens.resource import CachedRows, ResourceScreen, check_action_keys, keys_taken_by, read_cached
from tui.widgets.header import AppHeader

if TYPE_CHECKING:
    # Types only. tui.config is read only when a profile is resolved; the prompt, the help and
    # outcomes load when first used: the first frame waits for none of them
    # (tests/unit/test_startup_imports.py pins what start-up imports).
    from providers.errors import ProviderError
    from providers.outcomes import WriteOutcome
    from providers.session import ProviderSession
    from tui.config import Config
    from tui.history import CommandHistory
    from tui.screens.command import Command, Destination

log = logging.getLogger("teledeck.ui")

ScreenFactory = Callable[[], Screen[Any]]

# How long a screen waits for Textual's start-up to end before its first connect anyway.
STARTED_WAIT = 2.0


def _styled_as_the_app(screen: Screen[Any]) -> Screen[Any]:
    """A mode's new screen, marked as styled by the app's current stylesheet.

    Textual re-parses every stylesheet of the app (styles/app.tcss and each widget's default
    CSS, about 10-25 ms) and restyles the whole app when a mode's screen is first shown,
    because a new Screen starts with a CSS generation of -1. A screen made now is styled from
    the stylesheet as it is when it mounts, and a theme change still restyles every screen
    (App.refresh_css), so that re-parse changes nothing; at start it delayed the first frame.
    """
    from textual._context import active_app

    with contextlib.suppress(LookupError):
        screen._css_update_count = active_app.get()._css_update_count
    return screen


def _mode_factory(name: str) -> ScreenFactory:
    return lambda: _styled_as_the_app(ResourceScreen(REGISTRY[name]))


def _bindings_screen() -> Screen[Any]:
    from tui.screens.bindings import BindingsScreen

    return _styled_as_the_app(BindingsScreen())


def _profiles_screen() -> Screen[Any]:
    from tui.screens.profiles import ProfilesScreen

    return _styled_as_the_app(ProfilesScreen())


def _audit_screen() -> Screen[Any]:
    from tui.screens.audit import AuditScreen

    return _styled_as_the_app(AuditScreen())


def _calls_screen() -> Screen[Any]:
    from tui.screens.calls import CallsScreen

    return _styled_as_the_app(CallsScreen())


# Screens that are not generic resource screens, with the names ':' accepts for them.
SPECIAL_SCREENS: dict[str, tuple[str, tuple[str, ...], ScreenFactory]] = {
    "bindings": ("Bindings", ("binding", "privacy", "axb", "axn", "pls"), _bindings_screen),
    "profiles": ("Profiles", ("profile", "ctx", "context", "accounts"), _profiles_screen),
    "audit": ("Audit log", ("log", "changes"), _audit_screen),
    "calls": ("Calls", ("call", "cdr", "cdrs"), _calls_screen),
}


def destinations() -> list[Destination]:
    """Every screen ':' and the command palette can go to."""
    from tui.screens.command import Destination

    return [
        *(Destination(spec.name, spec.title, spec.aliases) for spec in REGISTRY.values()),
        *(Destination(mode, title, aliases) for mode, (title, aliases, _) in SPECIAL_SCREENS.items()),
    ]


class TeledeckApp(App[None]):
    TITLE = "teledeck"
    CSS_PATH = str(styles.APP)
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        **{name: _mode_factory(name) for name in REGISTRY},
        **{name: factory for name, (_, _, factory) in SPECIAL_SCREENS.items()},
    }
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        # Priority, and its action waits for the prompt to mount: ":bi" typed fast reaches the
        # prompt instead of sending "b" to the table below (see tui/screens/dialog.py).
        Binding(
            "colon",
            "jump",
            "Jump",
            key_display=":",
            id="app.jump",
            tooltip="to a resource by name or alias",
            priority=True,
        ),
    ]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        session: ProviderSession,
        *,
        start: str = "allowlist",
        config: Config | None = None,
        force_read_only: bool = False,
    ) -> None:
        self.start = start if start in self.MODES else "allowlist"
        # The first screen is the start mode's own (Textual's DEFAULT_MODE, read by App.__init__):
        # no empty default screen is built, mounted and styled first, and the stylesheet is not
        # parsed again for a switch away from it before the first frame.
        setattr(self, "DEFAULT_MODE", self.start)  # noqa: B010 (mypy refuses a ClassVar set on an instance)
        super().__init__()
        self.session: ProviderSession = session
        self._config = config
        if config is not None:
            # Checked before the app was built (run_app: ui_problem); Textual applies the keymap
            # to every binding chain, so the footer, `?` and the keys themselves follow it.
            if config.keymap:
                self.set_keymap(config.keymap)
            if config.theme in self.available_themes:
                self.theme = config.theme
        # --read-only and --offline hold for every profile switched to in this run.
        self.force_read_only = force_read_only
        self._history: CommandHistory | None = None  # the `:` prompt's, read when it first opens
        # Resources whose open screen shows rows a change made on another screen left stale
        # (a CIDR block created from the allowlist form is an IP range); reloaded when shown.
        self.stale_lists: set[str] = set()
        # Bulk changes under way, by the screen running each (what it is doing, in words):
        # a profile switch would cancel them mid-way and leave their rows in flight unreported.
        self.bulk_changes: dict[int, str] = {}
        # The start screen's cached rows, read and made into rows in a thread while the app is
        # built, styled and mounted: the first frame can have them (ResourceScreen.on_mount).
        self._started = asyncio.Event()
        self._early_rows: dict[str, Future[CachedRows | None]] = {}
        spec = REGISTRY.get(self.start)
        if spec is not None and session.cache is not None:
            reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="teledeck-cache")
            self._early_rows[spec.name] = reader.submit(read_cached, session, spec)
            reader.shutdown(wait=False)  # its one thread ends with the read

    def on_ready(self) -> None:
        # Textual's Ready is handled once its start-up batch is over (frames painted inside it
        # are dropped), so from here on a refresh puts a frame on the terminal.
        self._started.set()
        self.call_after_refresh(resume_collection)

    async def started(self) -> None:
        """Return once Textual's start-up is over (at once after that). A terminal of no size
        never lays out, so never gets Ready: after STARTED_WAIT seconds this returns anyway."""
        if not self._started.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._started.wait(), STARTED_WAIT)

    def take_early_rows(self, name: str) -> Future[CachedRows | None] | None:
        """The early read of resource `name`'s cached rows (the start screen's only), once."""
        return self._early_rows.pop(name, None)

    @property
    def config(self) -> Config:
        """The loaded tui.config.Config (read on first use)."""
        if self._config is None:
            from tui.config import load_config

            self._config = load_config()
        return self._config

    def reload_config(self) -> Config:
        self._config = None
        return self.config

    def switch_profile(self, name: str) -> None:
        """Open `name`'s session and reset every screen, so nothing of the old profile stays.
        Refused while a bulk change runs: its rows in flight would be cancelled unreported."""
        if self.bulk_changes:
            under_way = "; ".join(self.bulk_changes.values())
            self.notify(
                f"{under_way}. Stop it with esc or let it finish, then switch profile.",
                title="Profile not switched",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        self.run_worker(self._switch_profile(name), group="profile", exclusive=True, exit_on_error=False)

    async def _switch_profile(self, name: str) -> None:
        from tui.config import ConfigError, resolve_profile
        from tui.sessions import open_profile_session

        try:
            profile = resolve_profile(name, config=self.config)
            session = open_profile_session(
                profile, read_only=self.force_read_only, offline=self.session.offline, cache=self.session.cache
            )
        except ConfigError as error:
            self.notify(str(error), title="Cannot switch profile", severity="error", markup=False, timeout=10)
            return
        old, self.session = self.session, session
        current = self.current_mode
        # Every mode gets a fresh screen stack; the current one last, through another mode,
        # because Textual cannot remove the active mode.
        for mode in [m for m in self.MODES if m != current] + [current]:
            if mode == current:
                await self.switch_mode(next(m for m in self.MODES if m != current))
            await self.remove_mode(mode)
            self.add_mode(mode, self.MODES[mode])
        await self.switch_mode(current)
        await old.aclose()
        self.notify(f"Switched to profile {session.profile}.")
        self.warn_left_out()

    def warn_left_out(self) -> None:
        """Say which of the profile's accounts could not be opened, and why (the rest work)."""
        for line in self.session.left_out:
            self.notify(line, title="Account left out", severity="warning", markup=False, timeout=15)

    def on_mount(self) -> None:
        self.warn_left_out()

    # ---- the theme, kept in config.toml -----------------------------------------------------

    def watch_theme(self, theme: str) -> None:
        """The command palette's "Change theme" chose `theme`: kept in config.toml ([ui] theme)
        for the next start, written off the event loop, and only when it differs from the saved."""
        saved = self._config.theme if self._config is not None else None
        if theme != saved and self.is_running:
            self.run_worker(self._save_theme(theme), group="theme", exclusive=True, exit_on_error=False)

    async def _save_theme(self, theme: str) -> None:
        from tui.config import ConfigError, save_theme

        try:
            written = await asyncio.to_thread(save_theme, theme)
        except (ConfigError, OSError) as error:
            self.notify(
                f"Theme {theme} is in use, but config.toml was not changed: {error}",
                title="Theme not saved",
                severity="warning",
                timeout=10,
            )
            return
        if self._config is not None:
            self._config.ui["theme"] = theme
        else:
            self._config = written

    async def on_unmount(self) -> None:
        await self.session.aclose()

    def make_header(self) -> AppHeader:
        s = self.session
        return AppHeader(
            profile=s.profile,
            provider="",
            endpoint=s.endpoint,
            sandbox=s.sandbox,
            read_only=s.read_only,
            offline=s.offline,
        )

    # ---- navigation -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "jump":
            # Not over a dialog, and ":" typed into a field (a time, an IPv6 address) is text.
            return not isinstance(self.screen, ModalScreen) and not isinstance(self.focused, Input)
        return True

    async def action_jump(self) -> None:
        from tui.screens.command import CommandScreen

        history = await self.command_history()
        await self.push_screen(CommandScreen(destinations(), history.entries), self._go_to)

    async def command_history(self) -> CommandHistory:
        """The `:` prompt's history, read from its file in a thread the first time it is asked for."""
        if self._history is None:
            from tui.history import CommandHistory

            self._history = CommandHistory()
        if not self._history.loaded:
            await asyncio.to_thread(self._history.load)
        return self._history

    async def _go_to(self, command: Command | None) -> None:
        if command is None:
            return
        if command.quit:
            self.exit()
            return
        history = self._history
        if history is not None and history.add(command.text, self.session.credential_values()):
            self.run_worker(asyncio.to_thread(history.save), group="history", exit_on_error=False)
        await self.switch_mode(command.mode)
        if command.filter:
            self.open_filtered(command.filter)

    def open_filtered(self, text: str) -> None:
        """Filter the list now shown by `text`, as typed into its filter box (`:bindings /13800`)."""
        from tui.screens.table_screen import TableScreen

        # The list of this mode, also under a detail view left open on it (seen on going back).
        for screen in reversed(self.screen_stack):
            if isinstance(screen, TableScreen):
                screen.show_filter(text)
                return
        self.notify(f"The {self.current_mode} screen has no filter box; opened without a filter.", severity="warning")

    def get_system_commands(self, screen: Screen[Any]) -> Iterator[SystemCommand]:
        yield from super().get_system_commands(screen)
        for d in destinations():
            names = ", ".join(f":{n}" for n in d.names)
            yield SystemCommand(f"Go to {d.title}", names, (lambda mode=d.mode: self.switch_mode(mode)))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        spec = getattr(self.screen, "spec", None)
        title = spec.title if spec else getattr(self.screen, "help_title", "this screen")
        self.push_screen(HelpScreen(self.screen, f"Keys: {title}"))

    # ---- shared services for screens ------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notice of every screen comes here (Widget.notify calls the app's): its message
        and title carry record names and server text, so they are shown literally (tui/literal.py),
        never as markup, whatever the caller asked."""
        super().notify(
            literal(message), title=literal(title, single_line=True), severity=severity, timeout=timeout, markup=False
        )

    def report_unsettled(self, outcome: WriteOutcome[Any], doing: str) -> bool:
        """Show a write that is not done (the vendor's error) or of unknown outcome (what was
        checked); True when it was one of those, so the caller stops there."""
        from providers.outcomes import Outcome

        if outcome.outcome is Outcome.NOT_DONE and outcome.error is not None:
            self.report_error(outcome.error, doing)
            return True
        if outcome.outcome is Outcome.UNKNOWN:
            self.notify(outcome.message(), title=f"Outcome unknown: {doing}", severity="error", timeout=12)
            return True
        return False

    def report_error(self, error: ProviderError, doing: str) -> None:
        """The one place a provider error becomes visible: vendor code and message, no traceback."""
        log.info("error while %s: %s", doing, error.summary())
        request = f"\nrequest id {error.request_id}" if error.request_id else ""
        self.notify(
            f"{error.summary()}{request}",
            title=f"{error.provider or 'provider'} error while {doing}",
            severity="error",
            timeout=10,
            markup=False,
        )

    def refuse_if_read_only(self, what: str, *, nothing: str = "was sent") -> bool:
        """The one read-only guard every screen asks before a change; True means refused."""
        if self.session.read_only:
            self.notify(f"Read-only: {what} refused. Nothing {nothing}.", severity="warning", title="READ-ONLY")
            return True
        return False

    def copy_with_notice(self, text: str, what: str) -> None:
        try:
            copy_text(self, text)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        self.notify(f"Copied {what} to the clipboard: {text}", markup=False, timeout=3)

    def present_result(self, action: ActionSpec, result: Any, name: str) -> None:
        if action.presents == "token":
            from tui.screens.token import TokenScreen

            self.push_screen(TokenScreen(result, name))
        elif action.presents == "validation":
            from tui.screens.validation import ValidationScreen

            self.push_screen(ValidationScreen(result, name))
        else:
            state = getattr(result, "newly_accepted", None)
            if state is True:
                self.notify(f"{action.label}: done for {name}.")
            elif state is False:
                self.notify(f"{action.label}: already done for {name}; nothing changed.")
            else:
                self.notify(f"{action.label}: done for {name}.")


# A resource action on a key its screen already answers to would never fire: refuse at start-up.
for _spec in REGISTRY.values():
    check_action_keys(_spec, keys_taken_by(TeledeckApp))


def ui_problem(config: Config, *, where: str) -> str | None:
    """Why config.toml's [keymap] or [ui] theme cannot be used (one line), or None. The keymap
    is checked against every screen's bindings, so those load only when there is one, and only
    until this very keymap has passed against this very code (`keymap_checked_before`)."""
    from tui.keymap import KeymapError, check_keymap, keymap_checked_before, remember_keymap_checked, theme_problem

    if config.keymap and not keymap_checked_before(config.keymap):
        try:
            check_keymap(config.keymap, where=where)
        except KeymapError as error:
            return str(error)
        remember_keymap_checked(config.keymap)
    return theme_problem(config.theme, where=where)


def resume_collection() -> None:
    """Garbage collection back on, if tui.cli held it for the start. What start-up made (the
    modules, the styles, the first screen) is frozen first: it lives as long as the app, and no
    collection has to walk it again (a first pass over it would stall the loop for ~40 ms)."""
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def run_app(
    *, sandbox: bool = False, read_only: bool = False, profile: str | None = None, offline: bool = False
) -> int:
    """Resolve the profile, open its session, run the app. Config problems end the run with one
    clear line (exit 2), before anything is drawn or sent."""
    import sys

    from tui.config import ConfigError, config_path
    from tui.logsetup import configure_or_explain
    from tui.sessions import open_command_line_session

    problem = configure_or_explain()
    if problem:
        print(f"teledeck: {problem}", file=sys.stderr)
        return 2
    try:
        config, session = open_command_line_session(
            sandbox=sandbox, read_only=read_only, profile=profile, offline=offline
        )
        problem = ui_problem(config, where=str(config_path()))
        if problem:
            print(f"teledeck: {problem}", file=sys.stderr)
            return 2
    except ConfigError as error:
        print(f"teledeck: {error}", file=sys.stderr)
        return 2
    try:
        TeledeckApp(session, config=config, force_read_only=read_only or offline).run()
    finally:
        resume_collection()  # an app that never got to its first frame
    return 0
