"""Command line: `teledeck [--profile P] [--sandbox] [--read-only] [--offline]`, `teledeck --version`,
`teledeck sandbox serve|reset ...`, `teledeck keys`, `teledeck ledger migrate|status`,
`teledeck receiver serve` and the headless
`teledeck get|describe|delete|bind|unbind ...`."""

from __future__ import annotations

import argparse
import gc
import sys

DESCRIPTION = """\
A keyboard-driven console for telecom platform engineers, over SSH or locally:

  Telnyx account access    IP allowlist and IP ranges, addresses (validate, accept suggestions),
                           SSO providers, billing groups, integration secrets, telephony
                           credentials and their access tokens
  privacy-number bindings  Alibaba Cloud Dypls, Huawei Cloud PrivateNumber and Volcengine VMS:
                           bind, modify or extend, unbind, import, with a local ledger
  WhatsApp Business        numbers on Alibaba Cloud CAMS: status, quality, sync from Meta

It opens the profile named by --profile, else $TELEDECK_PROFILE, else the config's default;
with none configured it uses TELNYX_API_KEY when set (TELEDECK_TELNYX_BASE_URL overrides the
API URL), and otherwise the built-in sandbox, a local emulator of every API it speaks.
Inside: ':' jumps to a screen by name, '?' lists the keys of the screen you are on, q quits.
"""

# The headless commands (tui/headless/), named here so that dispatching them imports nothing.
HEADLESS_COMMANDS = ("get", "describe", "delete", "bind", "unbind")

EPILOG = """\
headless, for scripts (data on stdout, messages on stderr; each has --help):
  teledeck get RESOURCE [-o table|json|jsonl|csv|tsv] [--filter TEXT] [--max-items N]
  teledeck describe RESOURCE ID [-o json]
  teledeck delete RESOURCE ID... [--yes] [--dry-run]
  teledeck bind PROVIDER --mode MODE --a NUMBER [--b NUMBER] ... [--yes] [--dry-run]
  teledeck unbind PROVIDER ID... [--yes] [--dry-run]
                       with --profile P, --sandbox, --offline or --read-only as above;
                       exit 0 done, 1 a provider error, 2 a usage or config error

also:
  teledeck sandbox serve [--vendor V] [--host 127.0.0.1] [--port N]
                       serve the emulators over HTTP and print their URLs and credentials
  teledeck sandbox reset   re-seed the emulators' saved state
  teledeck receiver serve [--host 127.0.0.1] [--port 8790] [--profile P | --sandbox]
                       receive the vendors' call pushes into the profile's ledger
  teledeck keys            every key binding id, its key and what it does (for [keymap])
  teledeck ledger migrate [--profile P | --sandbox]
                       create or upgrade the ledger's schema ([ledger] url: the team's PostgreSQL)

files: config.toml (profiles, no secrets) and secrets.toml (0600) in the config folder,
the cache and the bindings ledger in the data folder (TELEDECK_CONFIG_DIR, TELEDECK_DATA_DIR)
"""


def version() -> str:
    # Imported here: importlib.metadata costs more at start-up than the rest of this module.
    from importlib import metadata

    try:
        return metadata.version("teledeck")
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


class _Version(argparse.Action):
    """--version, looked up only when asked for (argparse's own takes the text up front)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(f"teledeck {version()}")
        parser.exit()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        # Imported lazily: serving the emulator needs no UI code at all.
        from providers.sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    if argv[:1] == ["ledger"]:
        from tui.ledger_cli import main as ledger_main

        return ledger_main(argv[1:])
    if argv[:1] == ["receiver"]:
        from tui.receiver_cli import main as receiver_main

        return receiver_main(argv[1:])
    if argv[:1] == ["keys"]:
        from tui.keymap import keys_main

        return keys_main(argv[1:])
    if argv[:1] and argv[0] in HEADLESS_COMMANDS:
        from tui.headless import main as headless_main

        return headless_main(argv)
    parser = argparse.ArgumentParser(
        prog="teledeck",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
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
    # No garbage collection until the first frame is on the terminal (TeledeckApp.on_ready
    # turns it back on): a start-up makes about a million objects, most of them imported
    # modules and styles that live as long as the app, and the collector's full passes over
    # them cost ~40 ms before the first paint (benchmarks/cold_start.py).
    gc.disable()
    from tui.app import run_app

    return run_app(sandbox=args.sandbox, read_only=args.read_only, profile=args.profile, offline=args.offline)


if __name__ == "__main__":
    raise SystemExit(main())
