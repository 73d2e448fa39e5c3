"""The headless commands' argparse parser: one subcommand each, the profile flags they share,
and the bind form's fields as `bind`'s flags."""

from __future__ import annotations

import argparse
import textwrap

from tui.headless.base import GET_FORMATS, resource_names

EPILOG = """\
exit status: 0 done; 1 a provider error (its vendor code on stderr), no such record, or an
outcome unknown; 2 a usage or config error (unknown resource, bad flag or field, no account for
it, a change refused by a read-only or offline profile).
"""


def _common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("profile")
    chosen = where.add_mutually_exclusive_group()
    chosen.add_argument("--profile", help="the configured profile (default: $TELEDECK_PROFILE, then the default)")
    chosen.add_argument("--sandbox", action="store_true", help="the built-in sandbox, whatever is configured")
    where.add_argument("--offline", action="store_true", help="no network: read the cache and the ledger only")
    where.add_argument("--read-only", action="store_true", help="refuse every change")


def _changes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the request that would be sent (signed, credentials masked) and send nothing",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask first")


PHONE_FIELDS = ("a", "b", "x")  # the bind form's phone numbers, shown as NUMBER in --help


def _bind_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of the bind form (its name, with - for _), the form's label as help;
    `args.bind_flags` maps each field's name to its flag's dest."""
    from providers.vendors import binding_vendors
    from tui import binding_forms as forms

    dests: dict[str, str] = {}
    for spec in forms.bind_fields(tuple(binding_vendors())):
        if spec.name == "provider":
            continue
        flag = "--" + spec.name.replace("_", "-")
        dest = f"field_{spec.name}"
        dests[spec.name] = dest
        default_note = f" (default {spec.default})" if spec.default and spec.kind != "bool" else ""
        if spec.kind == "bool":
            parser.add_argument(flag, dest=dest, action="store_const", const="true", help=spec.label)
        else:
            parser.add_argument(
                flag,
                dest=dest,
                metavar="NUMBER" if spec.name in PHONE_FIELDS else spec.name.upper(),
                help=f"{spec.label}{default_note}",
            )
    parser.set_defaults(bind_flags=dests)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teledeck",
        description=_wrapped("teledeck's headless commands, on the console's profiles."),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = ", ".join(resource_names())

    get = commands.add_parser(
        "get",
        help="list a resource",
        description=_wrapped(
            f"List a resource ({names}, calls). Bindings come from the local ledger, refreshed "
            "from each provider unless --offline; calls from the ledger, as the receiver wrote them."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    get.add_argument("resource", metavar="RESOURCE", help="a resource name or alias, as ':' takes it")
    get.add_argument(
        "-o",
        "--output",
        choices=GET_FORMATS,
        metavar="FORMAT",
        help="table (the default on a terminal), json, jsonl, csv or tsv (the default through a pipe)",
    )
    get.add_argument("--filter", metavar="TEXT", help="rows whose cells contain TEXT (case-insensitive; !TEXT: not)")
    get.add_argument("--max-items", type=_positive, metavar="N", help="stop after N rows (stops paging early)")
    calls = get.add_argument_group("calls (get calls: from the ledger, newest first)")
    calls.add_argument("--binding", metavar="ID", help="the calls of one binding: its subscription id or ledger key")
    calls.add_argument("--provider", metavar="PROVIDER", help="the calls of one provider (aliyun, huawei, volcengine)")
    calls.add_argument(
        "--since",
        metavar="WHEN",
        help="calls started at or after WHEN: 30m, 2h, 7d ago, or a time (ISO 8601; UTC unless it says)",
    )
    _common(get)

    describe = commands.add_parser(
        "describe",
        help="every field of one record",
        description=_wrapped("Every field of one record, by its id (a binding: its subscription id or provider:id)."),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    describe.add_argument("resource", metavar="RESOURCE")
    describe.add_argument("id", metavar="ID")
    describe.add_argument("-o", "--output", choices=("text", "json"), default="text", help="text (default) or json")
    _common(describe)

    delete = commands.add_parser(
        "delete",
        help="delete records by id",
        description=_wrapped("Delete records by id; asks first unless --yes. Each id settles on its own."),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    delete.add_argument("resource", metavar="RESOURCE")
    delete.add_argument("ids", metavar="ID", nargs="+")
    delete.add_argument("--ignore-not-found", action="store_true", help="an id the provider does not have is done")
    delete.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="a dry run's requests as text or json"
    )
    _changes(delete)
    _common(delete)

    bind = commands.add_parser(
        "bind",
        help="bind a privacy number",
        description=_wrapped(
            "Bind a privacy number, checked as the console's bind form checks it; asks first "
            "(saying the pool and expiry chosen) unless --yes. The new binding is printed and kept in "
            "the ledger; a bind whose answer is lost is checked, never sent twice."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bind.add_argument("provider", metavar="PROVIDER", help="aliyun, huawei or volcengine (the profile's account)")
    _bind_flags(bind)
    bind.add_argument(
        "-o",
        "--output",
        choices=GET_FORMATS,
        metavar="FORMAT",
        help="the new binding as (formats and default as for get)",
    )
    _changes(bind)
    _common(bind)

    unbind = commands.add_parser(
        "unbind",
        help="unbind privacy-number bindings",
        description=_wrapped(
            "Unbind bindings by subscription id; asks first unless --yes. A binding not in "
            "the ledger is looked up first (by subscription id, where the vendor can)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    unbind.add_argument("provider", metavar="PROVIDER")
    unbind.add_argument("ids", metavar="ID", nargs="+")
    unbind.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="a dry run's requests as text or json"
    )
    _changes(unbind)
    _common(unbind)
    return parser


def _wrapped(text: str) -> str:
    """A description as lines argparse shows as they are (its raw formatter keeps the epilog's)."""
    return textwrap.fill(text, 90)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
