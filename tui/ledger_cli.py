"""`teledeck ledger migrate|status [--profile P | --sandbox]`: create or upgrade the ledger's schema.

The ledger is the profile's: the team's PostgreSQL ledger when config.toml has `[ledger] url`,
else the user's own file (the sandbox always its own). `migrate` applies the missing migrations
in one transaction, safe to run from two machines at once, and says what it did:

    ledger postgresql://team@db.example:5432/teledeck: schema 3 -> 5 (2 migrations)

`status` says the schema and what `migrate` would apply, changing nothing. A config, URL or
credential problem, or a server that refuses, is one line on stderr and exit 2; the password
is never shown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.ledger_store import PostgresTarget


def _where(profile_name: str | None, sandbox: bool) -> tuple[Path | None, PostgresTarget | None]:
    """(file, PostgreSQL target) of the profile's ledger; both None: the user's own default file."""
    from providers.paths import sandbox_state_dir
    from tui.config import load_config, resolve_profile, sandbox_profile
    from tui.sessions import ledger_target

    config = load_config()
    profile = sandbox_profile() if sandbox else resolve_profile(profile_name, config=config)
    if profile.is_sandbox:
        return sandbox_state_dir() / "bindings.sqlite3", None  # as providers.session.sandbox_session
    return None, ledger_target(profile, config)


def main(argv: list[str]) -> int:
    from providers.ledger import LedgerError, ledger_status, migrate_ledger
    from tui.config import ConfigError

    parser = argparse.ArgumentParser(
        prog="teledeck ledger", description="Create, upgrade or inspect the ledger's schema."
    )
    parser.add_argument(
        "command", choices=("migrate", "status"), help="migrate: apply what is missing; status: say what is"
    )
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--profile", default=None, help="the profile whose ledger (default: as `teledeck` chooses)")
    chosen.add_argument("--sandbox", action="store_true", help="the built-in sandbox's own ledger")
    args = parser.parse_args(argv)
    try:
        path, target = _where(args.profile, args.sandbox)
        run = migrate_ledger if args.command == "migrate" else ledger_status
        report = run(path, postgres=target)
    except (ConfigError, LedgerError) as error:
        print(f"teledeck: {error}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        print(report.summary())
    elif report.applied:
        names = ", ".join(f"{m.version} {m.name}" for m in report.applied)
        print(f"ledger {report.location}: schema {report.before}; `teledeck ledger migrate` would apply {names}")
    else:
        print(f"ledger {report.location}: schema {report.after}, up to date")
    return 0
