"""`teledeck sandbox ...`: run the vendor emulators on loopback, or reset their saved state.

    teledeck sandbox serve [--vendor NAME] [--host 127.0.0.1] [--port N] [--state-dir DIR] [--fresh]
                           [--receiver URL]
    teledeck sandbox reset [--vendor NAME] [--state-dir DIR]

`serve` with `--vendor` serves that emulator; without it, every emulator on its own port. It
prints a table (vendor, base URL, the credentials it accepts), then serves until SIGINT or
SIGTERM. `--port 0` picks free ports; the table names them. The calls a binding emulator
simulates (POST <base>/_sandbox/calls) are pushed, signed the vendor's way, to the receiver at
`--receiver` (default http://127.0.0.1:8790, where `teledeck receiver serve --sandbox` listens).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from providers.endpoints import endpoint_problem, is_loopback_host
from providers.sandbox.loopback import serve
from providers.sandbox.state import StateStore, default_state_dir
from providers.vendors import EmulatorSpec, by_kind

# Where `teledeck receiver serve` listens by default (tui/receiver_cli.py).
DEFAULT_RECEIVER = "http://127.0.0.1:8790"


def emulator_specs() -> dict[str, EmulatorSpec]:
    """Every registered vendor's emulator, by account kind. Each has a well-known port (its
    descriptor says which), so a profile can point at it without reading the table."""
    return {kind: vendor.emulator for kind, vendor in by_kind().items()}


def available() -> list[str]:
    """The kinds whose emulator is present in this build."""
    names = []
    for kind, emulator in emulator_specs().items():
        try:
            emulator.load()
        except (ModuleNotFoundError, AttributeError):
            continue
        names.append(kind)
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teledeck sandbox", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("serve", help="serve the emulators on loopback until interrupted")
    run.add_argument(
        "--vendor", choices=list(emulator_specs()), default=None, help="one vendor (default: every vendor)"
    )
    run.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only unless --allow-public)")
    run.add_argument(
        "--port", type=int, default=None, help="port to bind; 0 picks free ones (default: each vendor's own, from 4510)"
    )
    run.add_argument("--state-dir", type=Path, default=None, help="where state is kept (default: the user data dir)")
    run.add_argument("--fresh", action="store_true", help="start from the seed data, discarding saved state")
    run.add_argument("--allow-public", action="store_true", help="allow binding a non-loopback address")
    run.add_argument(
        "--receiver",
        default=DEFAULT_RECEIVER,
        metavar="URL",
        help=f"where simulated calls push (default {DEFAULT_RECEIVER}: `teledeck receiver serve --sandbox`)",
    )

    reset = sub.add_parser("reset", help="discard saved state and re-seed it")
    reset.add_argument(
        "--vendor", choices=list(emulator_specs()), default=None, help="one vendor (default: every vendor)"
    )
    reset.add_argument("--state-dir", type=Path, default=None)
    return parser


def _emulator(name: str, state_dir: Path | None) -> Any:
    cls = emulator_specs()[name].load()
    return cls(StateStore((state_dir or default_state_dir()) / cls.STATE_FILE))


def _vendors(chosen: str | None) -> list[str]:
    if chosen is None:
        return available()
    if chosen not in available():
        raise SystemExit(f"teledeck sandbox: the {chosen} emulator is not part of this build")
    return [chosen]


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}   {row[1]:<{widths[1]}}   {row[2]}")


def receiver_settings(emulators: dict[str, Any]) -> list[str]:
    """What the receiver must accept for the pushes these emulators send: each binding vendor's
    credentials its push module checks (`teledeck receiver serve --sandbox` takes exactly these),
    tokens and keys to their first 4 characters, secrets as "set"."""
    from providers.receiver import PATH_TOKENS, available_specs, shown_credentials

    specs = available_specs()
    lines = []
    for name, emulator in emulators.items():
        vendor = by_kind()[name]
        spec = specs.get(vendor.provider)
        if vendor.bindings is None or spec is None:
            continue
        shown = shown_credentials(spec, emulator.session_account().credentials)
        token = PATH_TOKENS.get(vendor.provider)
        route = f"{spec.route}/<{token}>" if token else spec.route
        lines.append(f"  {name}: POST {route}   {shown}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "serve" and not args.allow_public and not is_loopback_host(args.host):
        print(
            f"teledeck sandbox: refusing to serve on non-loopback host {args.host!r}: the sandbox accepts "
            "published credentials. Add --allow-public if you really mean it.",
            file=sys.stderr,
        )
        return 2
    if args.command == "serve":
        problem = endpoint_problem(args.receiver)
        if problem is not None:
            print(f"teledeck sandbox: --receiver {args.receiver!r}: {problem}", file=sys.stderr)
            return 2
    names = _vendors(args.vendor)
    emulators = {name: _emulator(name, args.state_dir) for name in names}
    if args.command == "reset":
        for name, emulator in emulators.items():
            emulator.reset()
            print(f"{name}: state reset to the seed data in {emulator.store.path}")
        return 0

    from providers.sandbox.push_sink import HttpPushSink

    servers = []
    sinks: list[HttpPushSink] = []
    rows = [("vendor", "base url", "credentials")]
    try:
        for index, (name, emulator) in enumerate(emulators.items()):
            if by_kind()[name].bindings is not None:
                sinks.append(HttpPushSink(args.receiver))
                emulator.push_sink = sinks[-1]
            if args.fresh:
                emulator.reset()
            if emulator.store.recovered_from is not None:
                print(
                    f"note: unreadable {name} state was moved aside to {emulator.store.recovered_from}", file=sys.stderr
                )
            if args.port is None:
                port = emulator_specs()[name].default_port
            else:  # --port 0: free ports; --port N with several vendors: N, N+1, ...
                port = args.port + index if args.port else 0
            try:
                server = serve(emulator, args.host, port, allow_public=args.allow_public)
            except OSError as exc:
                print(f"teledeck sandbox: cannot serve {name} on {args.host}:{port}: {exc}", file=sys.stderr)
                return 2
            servers.append(server)
            rows.append((name, server.base_url, "   ".join(f"{k}: {v}" for k, v in emulator.credentials())))
        _print_table(rows)
        if sinks:
            print(f"simulated calls push to {args.receiver.rstrip('/')}")
            settings = receiver_settings(emulators)
            if settings:
                print("receiver settings (what `teledeck receiver serve --sandbox` accepts):")
                print("\n".join(settings))
        state_dir = args.state_dir or default_state_dir()
        print(f"state: {state_dir}   pid: {os.getpid()}   (Ctrl+C to stop)")
        sys.stdout.flush()
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers:
            server.shutdown()
        for sink in sinks:
            sink.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
