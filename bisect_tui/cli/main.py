"""The ``harden-bisect`` command line: parse, dispatch, turn errors into exit codes.

Each command lives in its own ``cmd_*`` module with ``register`` and ``run``, so a
headless command never imports the TUI and this file stays a table of contents.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bisect_tui import __version__
from bisect_tui.errors import HardenBisectError

COMMAND_MODULES: tuple[str, ...] = (
    "bisect_tui.cli.cmd_catalog",
    "bisect_tui.cli.cmd_render",
    "bisect_tui.cli.cmd_preflight",
    "bisect_tui.cli.cmd_apply",
    "bisect_tui.cli.cmd_check",
    "bisect_tui.cli.cmd_rollback",
    "bisect_tui.cli.cmd_status",
    "bisect_tui.cli.cmd_bisect",
    "bisect_tui.cli.cmd_sessions",
    "bisect_tui.cli.cmd_testbed",
)
"""The command modules, in the order ``--help`` lists them."""

EXAMPLES = """\
examples:
  harden-bisect catalog                       browse every directive in the catalog
  harden-bisect catalog --phase base --json   the base phase as JSON
  harden-bisect render --phase base           the drop-in the base phase would write
  harden-bisect render --select protect-system-strict
  harden-bisect testbed up                    boot a local guest to try the tool on
  harden-bisect check --testbed               run the checklist against that guest
  harden-bisect bisect --testbed --phase base find the entries that break nginx
  harden-bisect resume                        continue an interrupted search

Every command accepts --help. Exit codes are listed in docs/exit-codes.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="harden-bisect",
        description=EXAMPLES
        + "\nFind which systemd hardening directive breaks a service, safely.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (repeatable)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if getattr(args, "testbed", False):
            from bisect_tui.cli.host_options import fill_from_testbed

            fill_from_testbed(args)
        code: int = args.func(args)
    except HardenBisectError as exc:
        print(f"harden-bisect: {exc.title}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("harden-bisect: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error worth a traceback.
        sys.stderr.close()
        return 0
    return code


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(
        level=level,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
