"""`make chaos`: teledeck's clients against every emulator under random faults (see
providers/sandbox/chaos.py). Prints a table per vendor and ends with one line:

    chaos: N requests, F faults, D duplicates, L lost, C crashes

Exits 1 when any duplicate, lost write or crash was found. Deterministic with --seed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from providers.sandbox.chaos import run_chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--creates", type=int, default=50, help="Telnyx access IP creates (default 50)")
    parser.add_argument("--groups", type=int, default=20, help="Telnyx billing group creates (default 20)")
    parser.add_argument("--binds", type=int, default=30, help="binds per binding vendor (default 30)")
    parser.add_argument("--no-sdk", action="store_true", help="skip the official telnyx SDK comparison")
    args = parser.parse_args(argv)
    report = asyncio.run(
        run_chaos(args.seed, creates=args.creates, groups=args.groups, binds=args.binds, sdk=not args.no_sdk)
    )
    print(f"seed {report.seed}, {report.seconds:.1f} s")
    print(report.table())
    print(report.summary())
    return 1 if (report.duplicates or report.lost or report.crashes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
