"""``harden-bisect render``: print the drop-in a selection would write."""

from __future__ import annotations

import argparse
import sys

from bisect_tui.cli.common import (
    add_catalog_option,
    add_json_option,
    add_selection_options,
    catalog_from_args,
    print_json,
    selected_entries,
)
from bisect_tui.core.dropin import DROPIN_NAME, render_dropin


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``render`` command."""
    parser = commands.add_parser(
        "render",
        help="print the drop-in for a selection, changing nothing",
        description="Print the [Service] drop-in a selection of entries renders to.",
    )
    add_catalog_option(parser)
    add_selection_options(parser)
    parser.add_argument(
        "--unit", default="nginx.service", help="the unit named in the header"
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the drop-in text (or, with ``--json``, a record of it) on stdout."""
    catalog = catalog_from_args(args)
    entries = selected_entries(args, catalog)
    text = render_dropin(entries, title=f"trial drop-in for {args.unit}")
    if args.json:
        print_json(
            {
                "path": f"/run/systemd/system/{args.unit}.d/{DROPIN_NAME}",
                "entries": [entry.id for entry in entries],
                "text": text,
            }
        )
    else:
        sys.stdout.write(text)
    return 0
