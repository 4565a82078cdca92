"""``harden-bisect preflight``: is the host ready for trials? Changes nothing."""

from __future__ import annotations

import argparse
import shlex

from bisect_tui.cli.common import (
    add_catalog_option,
    add_json_option,
    add_selection_options,
    catalog_from_args,
    has_selection,
    print_json,
    selected_entries,
)
from bisect_tui.cli.host_options import (
    add_host_options,
    connect_from_args,
    unit_from_args,
)
from bisect_tui.host.preflight import PreflightReport, run_preflight


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``preflight`` command."""
    parser = commands.add_parser(
        "preflight",
        help="check that a host is ready for trials, changing nothing",
        description=(
            "Check sudo, systemd, the unit, systemd-analyze and the host lock; "
            "name catalog entries the host's systemd is too old for and any "
            "drop-in an interrupted run left behind.\n\n"
            "example: harden-bisect preflight --host web1 --unit nginx.service"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_host_options(parser)
    add_catalog_option(parser)
    add_selection_options(parser)
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the pre-flight and print what it found."""
    catalog = catalog_from_args(args)
    entries = selected_entries(args, catalog, required=False)
    unit = unit_from_args(args)
    runner = connect_from_args(args)
    try:
        report = run_preflight(runner, unit, entries)
    finally:
        runner.close()
    if args.json:
        print_json(report.to_dict())
    else:
        print("\n".join(describe(report, args)))
    return 0


def describe(report: PreflightReport, args: argparse.Namespace) -> list[str]:
    """The report as lines for a terminal."""
    lines = [
        f"host      {report.host} (logged in as {report.user}, sudo -n works)",
        f"systemd   {report.systemd_version}",
        f"unit      {report.unit}: {report.unit_state} ({report.fragment})",
        f"lock      {report.lock.status}",
    ]
    if report.lock.status == "stale":
        lines.append(
            f"          left by a run that is gone ({report.lock.describe_holder()});"
            " the next apply takes it over"
        )
    for entry in report.too_new:
        lines.append(
            f"too new   {entry.id}: {entry.directive} needs systemd {entry.since}; "
            f"it would be ignored here"
        )
    lines.extend(describe_leftover(report, args))
    return lines


def describe_leftover(report: PreflightReport, args: argparse.Namespace) -> list[str]:
    """What to do about a drop-in an interrupted run left, if there is one."""
    left = report.leftover
    if left is None:
        return ["leftover  none: the unit runs without the tool's drop-in"]
    host = _host_args(args)
    ids = ",".join(left.entry_ids)
    lines = [
        f"leftover  a drop-in from an interrupted run is in place "
        f"({len(left.entry_ids)} entries"
        + ("; its dead-man timer is still armed" if left.deadman_armed else "")
        + ")",
        f"          undo it:   harden-bisect rollback {host}",
    ]
    if ids and not has_selection(args):
        lines.append(f"          resume it: harden-bisect apply {host} --select {ids}")
    return lines


def _host_args(args: argparse.Namespace) -> str:
    words = ["--host", args.host]
    for option in ("port", "user", "identity", "known_hosts"):
        value = getattr(args, option)
        if value:
            words += [f"--{option.replace('_', '-')}", str(value)]
    if args.unit != "nginx.service":
        words += ["--unit", args.unit]
    return shlex.join(words)
