"""The typed way a screen reaches the teledeck app and its services.

Textual types `self.app` as a plain `App`, so `self.app.session` or `self.app.report_error(...)`
are unknown to the type checker. Screens mix in `AppAccess` and say `self.teledeck` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.message_pump import MessagePump

if TYPE_CHECKING:  # tui.app imports the screens: importing it here at run time would be a cycle
    from tui.app import TeledeckApp


class AppAccess(MessagePump):
    """Mixed into teledeck's screens (before the Textual screen class)."""

    @property
    def teledeck(self) -> TeledeckApp:
        """The running app, typed: its session and the services every screen shares."""
        return cast("TeledeckApp", self.app)
