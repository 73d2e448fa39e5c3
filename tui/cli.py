"""Command line: `teledeck [--sandbox] [--read-only]` and `teledeck sandbox serve ...`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        # Imported lazily: serving the emulator needs no UI code at all.
        from providers.sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="teledeck",
        description="A keyboard-driven console for Telnyx account access. Uses TELNYX_API_KEY when set "
        "(TELEDECK_TELNYX_BASE_URL overrides the API URL), otherwise the built-in sandbox.",
        epilog="Also: 'teledeck sandbox serve [--vendor telnyx] [--host 127.0.0.1] [--port N]' serves the "
        "emulator over HTTP and prints its URL and credentials; 'teledeck sandbox reset' re-seeds it.",
    )
    parser.add_argument("--sandbox", action="store_true", help="use the built-in sandbox, whatever is configured")
    parser.add_argument("--read-only", action="store_true", help="refuse every change (create, edit, delete, actions)")
    parser.add_argument(
        "--profile",
        default=None,
        help="the configured profile to open (default: $TELEDECK_PROFILE, then the config's default)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="no network at all: browse the cache; every change is refused"
    )
    args = parser.parse_args(argv)
    from tui.app import run_app

    return run_app(sandbox=args.sandbox, read_only=args.read_only, profile=args.profile, offline=args.offline)


if __name__ == "__main__":
    raise SystemExit(main())
