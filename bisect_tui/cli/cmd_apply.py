"""``harden-bisect apply``: apply a selection to the unit as one trial.

The trial runs under the dead-man timer and is read back; it is left in place
for ``harden-bisect check`` and undone by ``harden-bisect rollback``. Ctrl-C or
an error halfway restores the last known-good state before exiting.
"""

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
from bisect_tui.cli.host_options import (
    add_host_options,
    confirm_restart,
    connect_from_args,
    unit_from_args,
)
from bisect_tui.core.catalog import Entry
from bisect_tui.core.composition_unit import UnitAssignments
from bisect_tui.host.apply import ApplyOutcome, TrialHost, TrialPlan, plan_trial
from bisect_tui.host.deadman import DEFAULT_WINDOW
from bisect_tui.host.lock import acquire_lock, client_label, release_lock
from bisect_tui.host.preflight import run_preflight
from bisect_tui.host.runner import CommandRunner

EXAMPLES = """\
examples:
  harden-bisect apply --host web1 --phase base --plan   show what would happen
  harden-bisect apply --host web1 --select protect-system-strict --yes
  harden-bisect apply --host web1 --phase base --deadman 120
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``apply`` command."""
    parser = commands.add_parser(
        "apply",
        help="apply a selection to the unit as one trial (restarts it)",
        description=EXAMPLES + "\nWrite the selection's drop-in, reload systemd, "
        "restart the unit under a dead-man timer and read back what applied.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_host_options(parser)
    add_catalog_option(parser)
    add_selection_options(parser)
    parser.add_argument(
        "--deadman",
        type=float,
        default=DEFAULT_WINDOW,
        metavar="SECONDS",
        help="roll back by itself if the tool is gone this long (default %(default)s)",
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Apply the selection (or, with ``--plan``, print what would happen)."""
    entries = selected_entries(args, catalog_from_args(args))
    unit = unit_from_args(args)
    if args.plan and not args.host:
        plan = plan_trial(entries, unit, UnitAssignments({}), window=args.deadman)
        _print_plan(plan, args, composed=False)
        return 0
    runner = connect_from_args(args)
    try:
        return _apply(runner, args, unit, entries)
    finally:
        runner.close()


def _apply(
    runner: CommandRunner, args: argparse.Namespace, unit: str, entries: list[Entry]
) -> int:
    run_preflight(runner, unit, entries)
    host = TrialHost(runner, unit, window=args.deadman)
    plan = host.plan(entries)
    if args.plan:
        _print_plan(plan, args, composed=True)
        return 0
    confirm_restart(args, unit)
    acquire_lock(runner, client_label("harden-bisect apply"))
    try:
        outcome = _apply_or_restore(host, plan)
        fired = host.leave_applied()
    finally:
        release_lock(runner)
    _print_outcome(outcome, args, fired)
    return 0 if outcome.ok and not fired else 1


def _apply_or_restore(host: TrialHost, plan: TrialPlan) -> ApplyOutcome:
    try:
        return host.apply(plan)
    except BaseException:
        # Ctrl-C or an error halfway: restore now rather than wait for the
        # dead-man; if even that fails, the dead-man is still armed.
        print("harden-bisect: restoring the known-good state", file=sys.stderr)
        host.revert()
        raise


def _print_plan(plan: TrialPlan, args: argparse.Namespace, *, composed: bool) -> None:
    if args.json:
        print_json({**plan.to_dict(), "composed_with_unit": composed})
        return
    if not composed:
        print("# not composed with the unit's own settings: pass --host to read them")
    print(f"# {plan.path}")
    print(plan.composition.text, end="")
    print("\n# commands, in order (all through sudo -n except the read-back):")
    for line in plan.commands():
        print(line if len(line) < 400 else line[:397] + "...")


def _print_outcome(
    outcome: ApplyOutcome, args: argparse.Namespace, fired: bool
) -> None:
    if args.json:
        print_json({**outcome.to_dict(), "deadman_fired": fired})
        return
    plan = outcome.plan
    print(f"wrote     {plan.path} ({len(plan.entries)} entries)")
    for item in plan.composition.touching_unit():
        print(f"composed  {item.directive}: {item.note}")
        print(f"          now {item.directive}=" + " | ".join(item.effective))
    print(f"unit      {plan.unit}: {outcome.state.describe()}")
    if not outcome.restart.ok:
        print(f"restart   {outcome.restart.describe()}")
    readback = outcome.readback
    applied = sum(1 for d in readback.directives if d.verdict == "applied")
    print(f"read-back {applied} of {len(readback.directives)} directives as intended")
    for problem in readback.problems():
        print(f"          {problem[:200]}")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.timings.items())
    print(f"timings   {steps}")
    if fired:
        print("dead-man  fired before the apply finished: the trial was undone")
    print(
        "next      harden-bisect check … to judge it; harden-bisect rollback … to undo"
    )
