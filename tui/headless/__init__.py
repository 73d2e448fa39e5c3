"""The headless CLI: `teledeck get|describe|delete|bind|unbind`, on the console's own profiles.

Everything here is the console's, reached without a screen: the session factory and its flags
(tui/sessions.py `open_command_line_session`), the resource registry and its `:` names
(tui/resources.py REGISTRY, tui/app.py SPECIAL_SCREENS through `destinations()`, resolved by the
prompt's own `resolve`), the table cells (`row_for`, the Bindings screen's `binding_row`), the
bind form's fields and each vendor's checks (tui/binding_forms.py), the settle functions and the
ledger's part in each binding write (providers/outcomes.py, providers/binding_flows.py), and the
audit log (`ProviderSession.audited`: every change appends one line; a dry run, none).

Contract, for scripts:

- data on stdout (records, a dry run's requests), messages on stderr; colour only on a terminal
  (and never with NO_COLOR); text from a server is never terminal control (tui/export.py,
  tui/text_table.py);
- exit 0 on success; 1 on a provider error (its vendor code on stderr), a record that is not
  there, or a change whose outcome is unknown; 2 on a usage or config error: an unknown resource
  or flag, a field the bind form would refuse, a profile without the account, and a change the
  profile refuses (read-only or offline: refused before any client is built, nothing sent);
- every change asks on the terminal unless --yes, and is refused (2) when stdin is not one;
  each ID of a delete or unbind settles on its own (one failing does not stop the others) and a
  summary line follows;
- --dry-run prints the change as it would be sent, signed, credentials masked, and sends
  nothing (providers/dryrun.py); reads it needs (a pool list, a lookup) are made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from providers.errors import ProviderError
from providers.ledger import LedgerError
from tui.headless.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Cancelled, Failed, Out, UsageError, say_error
from tui.headless.changes import cmd_bind, cmd_delete, cmd_unbind
from tui.headless.parser import build_parser
from tui.headless.reading import cmd_describe, cmd_get

if TYPE_CHECKING:
    from providers.session import ProviderSession

COMMANDS = {"get": cmd_get, "describe": cmd_describe, "delete": cmd_delete, "bind": cmd_bind, "unbind": cmd_unbind}


async def run(args: argparse.Namespace, out: Out, session: ProviderSession | None) -> int:
    from tui.config import ConfigError
    from tui.sessions import open_command_line_session

    wrap = None
    if getattr(args, "dry_run", False):
        from providers.dryrun import dry_run_wrapper

        wrap = dry_run_wrapper()
    if session is None:
        try:
            _, session = open_command_line_session(
                sandbox=args.sandbox,
                read_only=args.read_only,
                profile=args.profile,
                offline=args.offline,
                wrap_transport=wrap,
            )
        except ConfigError as error:
            raise UsageError(str(error)) from None
    try:
        return await COMMANDS[args.command](session, args, out)
    finally:
        await session.aclose()


def main(
    argv: Sequence[str],
    *,
    session: ProviderSession | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one headless command; its exit status. `session` (tests): used instead of opening one."""
    out = Out(stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin)
    parser = build_parser()
    try:
        # argparse writes its help and its usage errors to sys.stdout and sys.stderr: here, ours.
        with contextlib.redirect_stdout(out.stdout), contextlib.redirect_stderr(out.stderr):
            args = parser.parse_args(list(argv))
    except SystemExit as ended:  # --help (0), or argparse's usage error (2, said on stderr)
        return int(ended.code or 0)
    from tui.logsetup import configure_or_explain

    problem = configure_or_explain()
    if problem:
        out.say(f"teledeck: {problem}")
        return EXIT_USAGE
    try:
        return asyncio.run(run(args, out, session))
    except UsageError as error:
        out.say(f"teledeck: {error}")
        return EXIT_USAGE
    except Failed as error:
        if str(error):
            out.say(f"teledeck: {error}")
        return EXIT_FAILED
    except Cancelled:
        out.say("cancelled; nothing was sent")
        return EXIT_FAILED
    except ProviderError as error:  # one no command caught on its way (a client that cannot connect)
        say_error(out, error, f"running {args.command}")
        return EXIT_FAILED
    except LedgerError as error:
        out.say(f"teledeck: {error}")
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader left (`| head`): what it wanted was written; say nothing more to it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        out.say("interrupted")
        return 130
