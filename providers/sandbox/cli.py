"""`teledeck sandbox ...`: run the vendor emulators on loopback, or reset their saved state.

    teledeck sandbox serve [--vendor telnyx] [--host 127.0.0.1] [--port 4510] [--state-dir DIR] [--fresh]
    teledeck sandbox reset [--vendor telnyx] [--state-dir DIR]

`serve` prints one line per vendor (base URL and the credentials it accepts), then serves until
SIGINT or SIGTERM. `--port 0` picks a free port; the line printed names it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from providers.sandbox.http import is_loopback_host, serve
from providers.sandbox.state import StateStore, default_state_dir
from providers.sandbox.telnyx import API_KEY_ENV, DEFAULT_TELNYX_API_KEY, STATE_FILE, TelnyxSandbox

DEFAULT_PORT = 4510
VENDORS = ("telnyx",)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teledeck sandbox", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("serve", help="serve the emulators on loopback until interrupted")
    run.add_argument("--vendor", choices=VENDORS, default="telnyx")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only unless --allow-public)")
    run.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to bind; 0 picks a free one (default {DEFAULT_PORT})")
    run.add_argument("--state-dir", type=Path, default=None, help="where state is kept (default: the user data dir)")
    run.add_argument("--fresh", action="store_true", help="start from the seed data, discarding saved state")
    run.add_argument("--allow-public", action="store_true", help="allow binding a non-loopback address")

    reset = sub.add_parser("reset", help="discard saved state and re-seed it")
    reset.add_argument("--vendor", choices=VENDORS, default="telnyx")
    reset.add_argument("--state-dir", type=Path, default=None)
    return parser


def _sandbox(state_dir: Path | None) -> TelnyxSandbox:
    return TelnyxSandbox(StateStore((state_dir or default_state_dir()) / STATE_FILE))


def _shown_key(key: str) -> str:
    """The public default key in full; a key the user chose only by its first characters."""
    return key if key == DEFAULT_TELNYX_API_KEY else f"{key[:4]}... (from ${API_KEY_ENV})"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "serve" and not args.allow_public and not is_loopback_host(args.host):
        print(f"teledeck sandbox: refusing to serve on non-loopback host {args.host!r}: the sandbox accepts a "
              "published key. Add --allow-public if you really mean it.", file=sys.stderr)
        return 2
    sandbox = _sandbox(args.state_dir)
    if args.command == "reset":
        sandbox.reset()
        print(f"{args.vendor}: state reset to the seed data in {sandbox.store.path}")
        return 0

    if args.fresh:
        sandbox.reset()
    if sandbox.store.recovered_from is not None:
        print(f"note: unreadable state was moved aside to {sandbox.store.recovered_from}", file=sys.stderr)
    try:
        server = serve(sandbox, args.host, args.port, allow_public=args.allow_public)
    except OSError as exc:
        print(f"teledeck sandbox: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    limit = f"{sandbox.rate_limit}/{sandbox.rate_window:g}s" if sandbox.rate_limit > 0 else "off"
    rows = [("vendor", "base url", "credentials"),
            (args.vendor, server.base_url, f"api key: {_shown_key(sandbox.api_key)}")]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}   {row[1]:<{widths[1]}}   {row[2]}")
    print(f"state: {sandbox.store.path}   rate limit: {limit}   pid: {os.getpid()}   (Ctrl+C to stop)")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
