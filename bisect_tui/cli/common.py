"""Options and output helpers every command shares, spelled the same everywhere."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bisect_tui.core.catalog import PHASES, Catalog, Entry, load_catalog
from bisect_tui.core.selection import ALL_PHASES, parse_select, resolve_selection
from bisect_tui.errors import UsageError


def add_catalog_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--catalog FILE``."""
    parser.add_argument(
        "--catalog",
        metavar="FILE",
        help="read this catalog instead of the one shipped with the tool",
    )


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--phase`` (repeatable) and ``--select ID[,ID…]`` (repeatable)."""
    parser.add_argument(
        "--phase",
        action="append",
        default=[],
        choices=(*PHASES, ALL_PHASES),
        help="select every entry of a phase (repeatable)",
    )
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="select entries by id (repeatable); their requirements come along",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``: the command's data as JSON on stdout."""
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout"
    )


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    """Load the catalog named by ``--catalog``, or the shipped one."""
    return load_catalog(getattr(args, "catalog", None))


def has_selection(args: argparse.Namespace) -> bool:
    """Whether ``--phase`` or ``--select`` was given."""
    return bool(args.phase or args.select)


def selected_entries(
    args: argparse.Namespace, catalog: Catalog, *, required: bool = True
) -> list[Entry]:
    """Return the entries ``--phase`` and ``--select`` name, requirements added.

    Raises:
        UsageError: Nothing was selected although ``required``, or the
            selection names an unknown entry or conflicting entries.
    """
    if not has_selection(args):
        if required:
            raise UsageError("select entries with --phase PHASE or --select ID")
        return list(catalog.entries)
    return resolve_selection(catalog, args.phase, parse_select(args.select))


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout."""
    json.dump(data, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
