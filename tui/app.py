"""The teledeck App and `run_app`.

Each resource is a Textual mode with its own screen stack, so jumping between resources keeps
each one's filter, sort and cursor (what k9s users ask for as tabs). Provider errors from every
screen go through `report_error`, the one place that turns them into notifications.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.command import SimpleCommand

from providers.errors import ProviderError
from providers.session import ProviderSession, open_session
from tui.clipboard import copy_text
from tui.resources import REGISTRY, ActionSpec, lookup
from tui.screens.help import HelpScreen
from tui.screens.resource import ResourceScreen
from tui.widgets.header import AppHeader

log = logging.getLogger("teledeck.ui")

STYLES = files("styles").joinpath("app.tcss")


def _mode_factory(name: str):
    return lambda: ResourceScreen(REGISTRY[name])


def _bindings_screen():
    from tui.screens.bindings import BindingsScreen

    return BindingsScreen()


# Screens that are not generic resource screens, with the names ':' accepts for them.
SPECIAL_SCREENS = {"bindings": ("Bindings", ("binding", "privacy", "axb", "axn", "pls"), _bindings_screen)}


class TeledeckApp(App[None]):
    TITLE = "teledeck"
    CSS_PATH = str(STYLES)
    MODES = {**{name: _mode_factory(name) for name in REGISTRY},
             **{name: factory for name, (_, _, factory) in SPECIAL_SCREENS.items()}}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("colon", "jump", "Jump", key_display=":", id="app.jump"),
    ]
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, session: ProviderSession, *, start: str = "allowlist") -> None:
        super().__init__()
        self.session = session
        self.start = start if start in self.MODES else "allowlist"

    def on_mount(self) -> None:
        self.switch_mode(self.start)

    async def on_unmount(self) -> None:
        await self.session.aclose()

    def make_header(self) -> AppHeader:
        s = self.session
        return AppHeader(profile=s.profile, provider="telnyx", endpoint=s.endpoint, sandbox=s.sandbox,
                         read_only=s.read_only)

    # ---- navigation -----------------------------------------------------------------------

    def jump_to(self, name: str) -> None:
        wanted = name.strip().lower().lstrip(":")
        for mode, (title, aliases, _) in SPECIAL_SCREENS.items():
            if wanted in (mode, title.lower(), *aliases):
                self.switch_mode(mode)
                return
        spec = lookup(name)
        if spec is None:
            self.notify(f"No resource called {name!r}.", severity="warning")
            return
        self.switch_mode(spec.name)

    def action_jump(self) -> None:
        commands = [
            SimpleCommand(spec.title, (lambda n=spec.name: self.jump_to(n)),
                          f":{spec.name}  ({', '.join(spec.aliases)})")
            for spec in REGISTRY.values()
        ] + [
            SimpleCommand(title, (lambda n=mode: self.jump_to(n)), f":{mode}  ({', '.join(aliases)})")
            for mode, (title, aliases, _) in SPECIAL_SCREENS.items()
        ]
        self.search_commands(commands, placeholder="Jump to a resource…")

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        from textual.app import SystemCommand

        for spec in REGISTRY.values():
            yield SystemCommand(f"Go to {spec.title}", f"{spec.provider}: {spec.title}",
                                (lambda n=spec.name: self.jump_to(n)))
        for mode, (title, _, _) in SPECIAL_SCREENS.items():
            yield SystemCommand(f"Go to {title}", title, (lambda n=mode: self.jump_to(n)))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        spec = getattr(self.screen, "spec", None)
        self.push_screen(HelpScreen(self.screen, f"Keys: {spec.title if spec else 'this screen'}"))

    # ---- shared services for screens ------------------------------------------------------

    def report_error(self, error: ProviderError, doing: str) -> None:
        """The one place a provider error becomes visible: vendor code and message, no traceback."""
        log.info("error while %s: %s", doing, error.summary())
        request = f"\nrequest id {error.request_id}" if error.request_id else ""
        self.notify(f"{error.summary()}{request}", title=f"{error.provider or 'provider'} error while {doing}",
                    severity="error", timeout=10, markup=False)

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


def run_app(*, sandbox: bool = False, read_only: bool = False) -> int:
    from tui.logsetup import configure

    configure()
    session = open_session(sandbox=sandbox, read_only=read_only)
    TeledeckApp(session).run()
    return 0
