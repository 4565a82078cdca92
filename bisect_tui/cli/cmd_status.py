"""``harden-bisect status``: what the tool has in place on a host. Changes nothing."""

from __future__ import annotations

import argparse
from typing import Any

from bisect_tui.cli.common import add_json_option, print_json
from bisect_tui.cli.host_options import (
    add_host_options,
    connect_from_args,
    unit_from_args,
)
from bisect_tui.host import systemd
from bisect_tui.host.deadman import is_armed
from bisect_tui.host.lock import inspect_lock
from bisect_tui.host.preflight import find_leftover
from bisect_tui.host.remote import dropin_path
from bisect_tui.host.runner import CommandRunner


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``status`` command."""
    parser = commands.add_parser(
        "status",
        help="show the unit's state and what the tool has in place on the host",
        description="example: harden-bisect status --host web1 --json",
    )
    add_host_options(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the unit's state, the tool's drop-in, the dead-man and the lock."""
    unit = unit_from_args(args)
    runner = connect_from_args(args)
    try:
        status = read_status(runner, unit)
    finally:
        runner.close()
    if args.json:
        print_json(status)
        return 0
    dropin = status["dropin"]
    print(f"unit      {unit}: {status['unit_state']}")
    if dropin is None:
        print("drop-in   none")
    else:
        entries = ", ".join(dropin["entries"]) or "?"
        print(f"drop-in   {dropin['path']}: {entries}")
        print(f"known-good {'kept' if dropin['has_known_good'] else 'none'}")
    print(f"dead-man  {'armed' if status['deadman_armed'] else 'not armed'}")
    print(f"lock      {status['lock']}")
    return 0


def read_status(runner: CommandRunner, unit: str) -> dict[str, Any]:
    """Gather the status as a JSON-ready mapping."""
    state = systemd.unit_state(runner, unit)
    leftover = find_leftover(runner, unit)
    return {
        "unit": unit,
        "unit_state": state.describe(),
        "active": state.running,
        "dropin": None
        if leftover is None
        else {
            "path": dropin_path(unit),
            "entries": list(leftover.entry_ids),
            "text": leftover.text,
            "has_known_good": leftover.known_good is not None,
        },
        "deadman_armed": is_armed(runner),
        "lock": inspect_lock(runner).status,
    }
