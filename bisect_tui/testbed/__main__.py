"""``python -m bisect_tui.testbed``: the testbed commands without the full CLI."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bisect_tui.cli.cmd_testbed import add_testbed_commands
from bisect_tui.errors import HardenBisectError


def main(argv: Sequence[str] | None = None) -> int:
    """Run one testbed command and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bisect_tui.testbed",
        description="Build, boot and stop the local testbed guest.",
    )
    add_testbed_commands(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        code: int = args.func(args)
    except HardenBisectError as exc:
        print(f"harden-bisect: {exc.title}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
