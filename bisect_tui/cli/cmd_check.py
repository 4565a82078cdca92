"""``harden-bisect check``: run the checklist against the unit as it is now.

Read-only: nothing on the host changes. Prints each check's verdict with its
evidence and, when something fails, the directives the logs point at. The exit
status follows ``git bisect run``, so the command can itself serve as a bisect
script: 0 every check passed, 1 a check failed, 125 nothing failed but some
check could not decide.
"""

from __future__ import annotations

import argparse
import logging
import shlex

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bisect_tui.cli.common import add_json_option, print_json
from bisect_tui.cli.host_options import (
    add_host_options,
    connect_from_args,
    unit_from_args,
)
from bisect_tui.core.checklist import (
    CheckContext,
    Checklist,
    ChecklistResult,
    CommandSpec,
    HttpSpec,
    render_template,
)
from bisect_tui.core.checklist_loader import load_checklist
from bisect_tui.core.hints import Hint
from bisect_tui.host.checks import run_checklist
from bisect_tui.host.checks_hints import explain_failure
from bisect_tui.host.runner import CommandRunner

logger = logging.getLogger(__name__)

EXIT_GOOD = 0
EXIT_BAD = 1
EXIT_UNRESOLVED = 125

EXAMPLES = """\
examples:
  harden-bisect check --host web1
  harden-bisect check --host web1 --checklist my-checks.toml --json
  harden-bisect check --host web1 --plan      show what would be checked

exit status: 0 all checks good, 1 a check is bad, 125 unresolved (no check bad,
some could not decide), 2 bad checklist, 3 connection problems.
"""

_STYLES = {"good": "green", "bad": "bold red", "skip": "yellow"}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` command."""
    parser = commands.add_parser(
        "check",
        help="run the checklist against the unit as it is now",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_host_options(parser)
    add_checklist_options(parser)
    add_json_option(parser)
    parser.add_argument(
        "--no-hints",
        action="store_true",
        help="do not read the logs for likely culprits when a check fails",
    )
    parser.set_defaults(func=run)


def add_checklist_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--checklist`` and the options that say where checks connect."""
    parser.add_argument(
        "--checklist",
        metavar="FILE",
        help="read this checklist instead of the one shipped with the tool",
    )
    parser.add_argument(
        "--check-host",
        metavar="ADDRESS",
        help="address operator-side checks connect to (default: the SSH host's)",
    )
    for name, what in (("http", "HTTP"), ("metrics", "metrics")):
        parser.add_argument(
            f"--host-{name}-port",
            type=int,
            metavar="PORT",
            help=f"the {what} port as seen on the host, for host-side checks "
            f"(default: --{name}-port)",
        )


def checklist_context(args: argparse.Namespace, runner: CommandRunner) -> CheckContext:
    """Build the context a checklist runs with from the command line."""
    target = getattr(runner, "target", None)
    address = args.check_host or getattr(target, "hostname", None) or args.host
    return CheckContext(
        host=address,
        http_port=args.http_port,
        metrics_port=args.metrics_port,
        unit=unit_from_args(args),
        host_http_port=args.host_http_port,
        host_metrics_port=args.host_metrics_port,
    )


def run(args: argparse.Namespace) -> int:
    """Run the checklist and report; see the module docstring for exit codes."""
    checklist = load_checklist(args.checklist)
    if args.plan:
        _print_plan(checklist, args)
        return EXIT_GOOD
    runner = connect_from_args(args)
    try:
        result = run_checklist(checklist, runner, checklist_context(args, runner))
        hints: list[Hint] = []
        if result.verdict != "good" and not args.no_hints:
            hints = explain_failure(runner, result, unit_from_args(args))
    finally:
        runner.close()
    if args.json:
        print_json({**result.to_dict(), "hints": [h.to_dict() for h in hints]})
    else:
        _print_result(result, hints, Console())
    return exit_status(result)


def exit_status(result: ChecklistResult) -> int:
    """0 good, 1 bad, 125 unresolved, as ``git bisect run`` reads them."""
    codes = {"good": EXIT_GOOD, "bad": EXIT_BAD, "skip": EXIT_UNRESOLVED}
    return codes[result.verdict]


def _print_result(result: ChecklistResult, hints: list[Hint], console: Console) -> None:
    table = Table(title="checklist", title_justify="left", expand=False)
    for column in ("check", "kind", "verdict", "seconds", "evidence"):
        table.add_column(column, no_wrap=column != "evidence")
    for item in result.results:
        table.add_row(
            item.check_id,
            item.kind,
            Text(item.verdict, style=_STYLES[item.verdict]),
            f"{item.seconds:.2f}",
            Text("\n".join(item.evidence)),
        )
    console.print(table)
    verdict = Text(result.verdict, style=_STYLES[result.verdict])
    failing = f" (failing: {', '.join(result.failing)})" if result.failing else ""
    console.print(Text("verdict: ").append(verdict).append(failing))
    for hint in hints:
        console.print(Text(f"hint: {hint.suspect}", style="bold"))
        console.print(Text(f"  {hint.explanation}"))
        console.print(Text(f"  evidence: {hint.evidence}", style="dim"))


def _print_plan(checklist: Checklist, args: argparse.Namespace) -> None:
    context = CheckContext(
        host=args.check_host or args.host,
        http_port=args.http_port,
        metrics_port=args.metrics_port,
        unit=unit_from_args(args),
        host_http_port=args.host_http_port,
        host_metrics_port=args.host_metrics_port,
    )
    console = Console()
    console.print(f"checklist {checklist.path}: {len(checklist.checks)} checks")
    for check in checklist.checks:
        values = context.values(check.where)
        if isinstance(check.spec, HttpSpec):
            what = "GET " + render_template(check.spec.url, values)
        elif isinstance(check.spec, CommandSpec):
            words = [render_template(w, values) for w in check.spec.argv]
            what = "run " + shlex.join(words)
        else:
            what = f"{check.kind} of {check.unit or context.unit}"
        line = f"  {check.id} ({check.where}, {check.timeout:g} s): {what}"
        console.print(Text(line))
