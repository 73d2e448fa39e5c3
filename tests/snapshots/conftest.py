"""Snapshot fixtures reuse the Pilot fixtures: in-process sandbox, fixed clock, fixed size."""

from tests.tui.conftest import make_app, sandbox  # noqa: F401  (pytest fixtures)
