"""Fixtures for driving the app with Pilot against the in-process sandbox."""

from __future__ import annotations

import pytest

from providers.sandbox import TelnyxSandbox
from providers.session import sandbox_session
from tui.app import TeledeckApp

# A fixed clock, so tokens and timestamps the sandbox makes are the same on every run.
FIXED_NOW = 1_790_000_000.0


@pytest.fixture
def sandbox() -> TelnyxSandbox:
    return TelnyxSandbox(clock=lambda: FIXED_NOW)


@pytest.fixture
def make_app(sandbox):
    def build(
        *, read_only: bool = False, start: str = "allowlist", page_size: int | None = None, **session_options
    ) -> TeledeckApp:
        if page_size is not None:  # the Telnyx client's page size, to page through small pages
            session_options["client_options"] = {"telnyx": {"page_size": page_size}}
        return TeledeckApp(sandbox_session(handler=sandbox, read_only=read_only, **session_options), start=start)

    return build


def forbid_listing_billing_groups(sandbox: TelnyxSandbox) -> None:
    """Every list of billing groups is refused with a vendor code (the error screens' case)."""
    sandbox.faults.respond(
        "GET",
        "/billing_groups",
        403,
        {
            "errors": [
                {"code": "10010", "title": "Authorization failed", "detail": "not allowed to list billing groups"}
            ]
        },
        times=None,
    )


async def settle(pilot) -> None:
    """Wait until every worker is done and the screen has caught up."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture(autouse=True)
def _record_notices(monkeypatch):
    """Keep every notification an app posts, so a test counts what was said even after a slow
    machine let one time out of the screen."""
    from textual.app import App

    original = App.notify

    def notify(self, message, *args, **kwargs):
        self.__dict__.setdefault("_posted_notices", []).append(str(message))
        self.__dict__.setdefault("_posted_titles", []).append(str(kwargs.get("title") or ""))
        return original(self, message, *args, **kwargs)

    monkeypatch.setattr(App, "notify", notify)


def notice_titles(app) -> list[str]:
    """The title of every notification the app has posted, in order ("" where it had none)."""
    return list(app.__dict__.get("_posted_titles", []))


def notices(app) -> list[str]:
    """Every notification the app has posted, in order (shown or already timed out)."""
    return list(app.__dict__.get("_posted_notices", []))


def table(app):
    return app.screen.query_one("#resource-table")


def column(app, key: str) -> list[str]:
    t = table(app)
    index = [c.key for c in t.columns].index(key)
    return [t.row_at(i).cells[index] for i in range(t.visible_count)]
