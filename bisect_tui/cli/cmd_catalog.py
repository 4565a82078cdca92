"""``harden-bisect catalog``: browse the directives in play."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from bisect_tui.cli.common import (
    add_catalog_option,
    add_json_option,
    add_selection_options,
    catalog_from_args,
    print_json,
    selected_entries,
)
from bisect_tui.core.catalog import Catalog, Entry


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``catalog`` command."""
    parser = commands.add_parser(
        "catalog",
        help="list the catalog's directives (all, or a selection)",
        description="List the catalog's entries with phase, group and value.",
    )
    add_catalog_option(parser)
    add_selection_options(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalog as a table, or as JSON with ``--json``."""
    catalog = catalog_from_args(args)
    entries = selected_entries(args, catalog, required=False)
    if args.json:
        print_json(catalog_json(catalog, entries))
    else:
        Console().print(catalog_table(catalog, entries))
    return 0


def catalog_json(catalog: Catalog, entries: list[Entry]) -> dict[str, object]:
    """Return the JSON document ``catalog --json`` prints."""
    return {
        "schema": 1,
        "catalog": catalog.path,
        "title": catalog.title,
        "entries": [entry.to_dict() for entry in entries],
        "trade_offs": [trade_off.to_dict() for trade_off in catalog.trade_offs],
    }


def catalog_table(catalog: Catalog, entries: list[Entry]) -> Table:
    """Return a rich table of ``entries``."""
    table = Table(title=catalog.title or catalog.path, show_lines=False)
    table.add_column("id", style="bold")
    table.add_column("phase")
    table.add_column("group")
    table.add_column("directive")
    table.add_column("since", justify="right")
    table.add_column("requires")
    for entry in entries:
        table.add_row(
            entry.id,
            entry.phase,
            entry.group,
            f"{entry.directive}={entry.display_value()}",
            str(entry.since),
            ", ".join(entry.requires),
        )
    table.caption = f"{len(entries)} of {len(catalog.entries)} entries"
    return table
