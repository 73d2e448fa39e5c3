"""`teledeck receiver serve [--host 127.0.0.1] [--port 8790] [--profile P | --sandbox]`: receive the
vendors' call pushes and store them in the profile's ledger.

The accounts are the profile's (their credentials resolved as the console resolves them:
`env:` variables, the secrets file), grouped by vendor; an account receives its vendor's pushes
when it has the credentials the vendor's push module checks them with (Huawei app_key and
app_secret, Volcengine callback_auth_token, Alibaba Dypls receipt_token). The ledger is the
profile's: [ledger] url (the team's PostgreSQL), else the user's own file. `--sandbox` takes the
emulators' own credentials (what `teledeck sandbox serve` signs simulated calls with) and the
sandbox's own ledger.

It prints where it listens and which routes it accepts for which accounts (tokens masked to
their first 4 characters), logs one line per refusal to stderr (never a secret, bounded), and
stops cleanly on Ctrl+C. It refuses to start (exit 2, one line saying what is missing) when no
account can receive any vendor's pushes. Vendors push over https: put it behind the reverse
proxy that holds the certificate.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.ledger_store import PostgresTarget
    from providers.pushes import PushSpec, ReceiverKey

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8790


@dataclass
class ReceiverPlan:
    """What `serve` will receive for whom, and where it stores it."""

    profile: str
    keys: dict[str, list[ReceiverKey]] = field(default_factory=dict)  # by provider
    left_out: list[str] = field(default_factory=list)  # accounts that cannot receive, and why
    ledger_path: Path | None = None
    ledger_target: PostgresTarget | None = None
    sandbox: bool = False


def _admit(plan: ReceiverPlan, spec: PushSpec, label: str, kind: str, credentials: dict[str, str]) -> None:
    """Add the account's key to `plan`, or say in `left_out` which credential it lacks."""
    from providers.pushes import ReceiverKey
    from providers.receiver import missing_credentials

    missing = missing_credentials(spec, credentials)
    if missing:
        plan.left_out.append(
            f"account {label!r} ({kind}) has no {'/'.join(missing)}: "
            + (
                "set its TELEDECK_SANDBOX_* variable"
                if plan.sandbox
                else f'add credentials.{missing[0]} = "env:VARIABLE" or "secrets-file"'
            )
        )
        return
    plan.keys.setdefault(spec.provider, []).append(ReceiverKey(label, credentials))


def _sandbox_plan() -> ReceiverPlan:
    from providers.paths import sandbox_state_dir
    from providers.pushes import push_spec
    from providers.session import sandbox_receiver_keys

    # The sandbox's own ledger, as providers.session.sandbox_session keeps it.
    plan = ReceiverPlan("sandbox", ledger_path=sandbox_state_dir() / "bindings.sqlite3", sandbox=True)
    for provider, keys in sandbox_receiver_keys().items():
        for key in keys:
            _admit(plan, push_spec(provider), key.account, key.account, dict(key.credentials))
    return plan


def plan_for(profile_name: str | None, *, sandbox: bool) -> ReceiverPlan:
    """The plan for the profile the flags choose (ConfigError for a config that cannot be used)."""
    from providers.receiver import available_specs
    from tui.config import KINDS, MissingCredentialError, load_config, resolve_profile
    from tui.sessions import account_values, ledger_target

    if sandbox:
        return _sandbox_plan()
    config = load_config()
    profile = resolve_profile(profile_name, config=config)
    if profile.is_sandbox:
        return _sandbox_plan()
    plan = ReceiverPlan(profile.name, ledger_target=ledger_target(profile, config))
    specs = available_specs()
    for account in profile.accounts:
        vendor = KINDS.get(account.kind)
        spec = specs.get(vendor.provider) if vendor is not None else None
        if spec is None:  # a vendor that pushes no calls (Telnyx, CAMS)
            continue
        try:
            credentials = account_values(profile, account).credentials
        except MissingCredentialError as error:
            plan.left_out.append(str(error))
            continue
        _admit(plan, spec, account.label, account.kind, dict(credentials))
    return plan


def route_lines(plan: ReceiverPlan) -> list[str]:
    """One line per route and account: what to configure at each vendor."""
    from providers.pushes import push_spec
    from providers.receiver import PATH_TOKENS, masked, shown_credentials

    lines = []
    for provider, keys in plan.keys.items():
        spec = push_spec(provider)
        token = PATH_TOKENS.get(provider)
        if token is None:
            accounts = "; ".join(f"{key.account} ({shown_credentials(spec, key.credentials)})" for key in keys)
            lines.append(f"  POST {spec.route:<28} {provider:<11} {accounts}")
            continue
        for key in keys:  # each account's own URL: the token is its last part
            path = f"{spec.route}/{masked(key.credentials.get(token, ''))}"
            lines.append(f"  POST {path:<28} {provider:<11} {key.account} ({token} in the path)")
    lines.append("  GET  /healthz")
    return lines


def _no_receiver(plan: ReceiverPlan) -> str:
    from providers.receiver import available_specs
    from tui.config import KINDS

    specs = available_specs()
    if not specs:
        return "this build has no vendor push module"
    if plan.left_out:
        return f"no account of profile {plan.profile!r} can receive call pushes: " + "; ".join(plan.left_out)
    titles = sorted({kind.title for kind in KINDS.values() if kind.provider in specs})
    return f"profile {plan.profile!r} has no account of a vendor that pushes calls ({', '.join(titles)})"


def _configure_logging() -> None:
    """The receiver's own log on stderr: its lines and uvicorn's (whose access log is off);
    phone numbers masked to their last four digits, as in the console's log file."""
    from tui.logsetup import MaskingFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teledeck receiver", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="receive the vendors' call pushes until interrupted")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    chosen = serve.add_mutually_exclusive_group()
    chosen.add_argument(
        "--profile", default=None, help="the profile whose accounts and ledger (default: as `teledeck` chooses)"
    )
    chosen.add_argument(
        "--sandbox", action="store_true", help="the sandbox emulators' credentials and the sandbox's ledger"
    )
    return parser


def main(argv: list[str]) -> int:
    from providers.endpoints import is_loopback_host
    from providers.ledger import LedgerError, open_ledger
    from tui.config import ConfigError

    args = _parser().parse_args(argv)
    try:
        plan = plan_for(args.profile, sandbox=args.sandbox)
    except ConfigError as error:
        print(f"teledeck receiver: {error}", file=sys.stderr)
        return 2
    if plan.sandbox and not is_loopback_host(args.host):
        print(
            f"teledeck receiver: refusing to listen on {args.host!r} with the sandbox's credentials (they are "
            "published): use a loopback address",
            file=sys.stderr,
        )
        return 2
    if not plan.keys:
        print(f"teledeck receiver: not started: {_no_receiver(plan)}", file=sys.stderr)
        return 2
    from providers.receiver import Receiver
    from providers.receiver_http import create_app, listening_socket, serve

    try:
        ledger = open_ledger(plan.ledger_path, postgres=plan.ledger_target)
    except LedgerError as error:
        print(f"teledeck receiver: {error}", file=sys.stderr)
        return 2
    try:
        try:
            sock = listening_socket(args.host, args.port)
        except OSError as error:
            print(
                f"teledeck receiver: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
                file=sys.stderr,
            )
            return 2
        host, port = sock.getsockname()[:2]
        shown_host = f"[{host}]" if ":" in host else host
        receiver = Receiver(ledger, plan.keys)
        print(f"teledeck receiver: profile {plan.profile!r}, ledger {ledger.location}")
        print(f"listening on http://{shown_host}:{port} (Ctrl+C to stop)")
        print("\n".join(route_lines(plan)))
        for line in plan.left_out:
            print(f"left out: {line}", file=sys.stderr)
        sys.stdout.flush()
        _configure_logging()
        serve(create_app(receiver), sock)
        receiver.refusals.flush()
        print("teledeck receiver: stopped")
    finally:
        ledger.close()
    return 0
