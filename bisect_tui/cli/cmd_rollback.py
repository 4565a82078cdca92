"""``harden-bisect rollback``: remove the tool's drop-in and restart the unit."""

from __future__ import annotations

import argparse

from bisect_tui.cli.common import add_json_option, print_json
from bisect_tui.cli.host_options import (
    add_host_options,
    connect_from_args,
    unit_from_args,
)
from bisect_tui.host.lock import acquire_lock, client_label, release_lock
from bisect_tui.host.preflight import check_sudo, check_unit
from bisect_tui.host.remote import dropin_path
from bisect_tui.host.rollback import RollbackOutcome, rollback


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rollback`` command."""
    parser = commands.add_parser(
        "rollback",
        help="remove the tool's drop-in and restart the unit",
        description=(
            "Remove only the tool's drop-in, reload systemd, restart the unit, "
            "disarm the dead-man timer and delete the tool's state on the host.\n\n"
            "example: harden-bisect rollback --host web1"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_host_options(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Roll back; exit 6 (RollbackError) if the host is left modified."""
    unit = unit_from_args(args)
    if args.plan:
        print(f"would remove {dropin_path(unit)}, reload systemd, restart {unit}")
        return 0
    runner = connect_from_args(args)
    try:
        check_sudo(runner)
        check_unit(runner, unit)
        acquire_lock(runner, client_label("harden-bisect rollback"))
        try:
            outcome = rollback(runner, unit)
        finally:
            release_lock(runner)
    finally:
        runner.close()
    _print(outcome, args, unit)
    return 0 if outcome.state.running else 1


def _print(outcome: RollbackOutcome, args: argparse.Namespace, unit: str) -> None:
    if args.json:
        print_json({"unit": unit, **outcome.to_dict()})
        return
    if outcome.had_dropin:
        print(f"removed   {dropin_path(unit)}")
    else:
        print(f"nothing   {unit} had no drop-in of the tool")
    if outcome.deadman_fired:
        print("dead-man  had already fired and restored the known-good state")
    print(f"unit      {unit}: {outcome.state.describe()}")
    print(f"took      {outcome.seconds:.1f} s")
