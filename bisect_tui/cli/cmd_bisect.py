"""``harden-bisect bisect``: find every entry that breaks the unit, and the best set.

Headless by default: the checklist judges each trial and progress goes to
stderr. With ``--guided`` the operator gives each verdict, the checklist's
offered as the default, as with ``git bisect``. Every trial is logged to a
session file before the search moves on; ``harden-bisect resume`` continues an
interrupted search.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bisect_tui.cli.cmd_check import add_checklist_options
from bisect_tui.cli.common import (
    add_catalog_option,
    add_json_option,
    add_selection_options,
    catalog_from_args,
    selected_entries,
)
from bisect_tui.cli.host_options import add_host_options, unit_from_args
from bisect_tui.cli.search_run import (
    add_state_dir_option,
    drive,
    make_trials,
    open_host,
    progress,
    require_terminal_for_guided,
    run_baseline,
    state_dir_from_args,
)
from bisect_tui.core.bisection import DEFAULT_MAX_UNRESOLVED, Bisection, Trial
from bisect_tui.core.catalog import Catalog, shipped_catalog_path
from bisect_tui.core.checklist_loader import checklist_text, load_checklist
from bisect_tui.core.selection import parse_select, resolve_selection
from bisect_tui.core.session import (
    SessionHeader,
    content_hash,
    create_session,
    new_session_id,
)
from bisect_tui.errors import PreflightError
from bisect_tui.host.deadman import DEFAULT_WINDOW
from bisect_tui.host.trials import host_versions

EXAMPLES = """\
examples:
  harden-bisect bisect --host web1 --phase base
  harden-bisect bisect --testbed --phase all --json > result.json
  harden-bisect bisect --host web1 --phase base --pin protect-home --guided
  harden-bisect resume                 continue the newest unfinished search

exit status: 0 the search completed (culprits or not), 5 the baseline fails,
7 paused after too many unresolved trials, 130 interrupted (after restoring).
"""

RESUME_OPTIONS = (
    "host",
    "port",
    "user",
    "identity",
    "known_hosts",
    "ssh_config",
    "unit",
    "http_port",
    "metrics_port",
    "check_host",
    "host_http_port",
    "host_metrics_port",
    "deadman",
    "confirm",
    "max_unresolved",
    "no_hints",
)
"""Options a session records so ``resume`` can run it the same way."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bisect`` command."""
    parser = commands.add_parser(
        "bisect",
        help="find every entry that breaks the unit, and the largest set that works",
        description=EXAMPLES + "\n" + (__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_host_options(parser)
    add_catalog_option(parser)
    add_selection_options(parser)
    parser.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="apply these entries in every trial; they are never suspects",
    )
    add_checklist_options(parser)
    add_search_options(parser)
    parser.add_argument(
        "--guided",
        action="store_true",
        help="ask the operator for each verdict (the checklist's is the default)",
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def add_search_options(parser: argparse.ArgumentParser) -> None:
    """Options that shape a search; ``resume`` takes them too."""
    parser.add_argument(
        "--deadman",
        type=float,
        default=DEFAULT_WINDOW,
        metavar="SECONDS",
        help="roll a trial back by itself if the tool is gone this long "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--confirm",
        type=int,
        default=1,
        choices=(1, 2, 3),
        help="lead of agreeing votes each verdict needs: 2 or 3 for a host "
        "known to be flaky (default 1; a surprising verdict raises it to 2)",
    )
    parser.add_argument(
        "--max-unresolved",
        type=int,
        default=DEFAULT_MAX_UNRESOLVED,
        metavar="N",
        help="pause the search after N unresolved trials (default %(default)s)",
    )
    parser.add_argument(
        "--no-hints",
        action="store_true",
        help="do not read the logs for likely culprits when a trial fails",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines on stderr"
    )
    add_state_dir_option(parser)


def run(args: argparse.Namespace) -> int:
    """Run a new search; see the module docstring."""
    require_terminal_for_guided(args)
    catalog = catalog_from_args(args)
    suspects = [e.id for e in selected_entries(args, catalog)]
    pinned = [e.id for e in resolve_selection(catalog, (), parse_select(args.pin))]
    suspects = [entry_id for entry_id in suspects if entry_id not in pinned]
    checklist = load_checklist(args.checklist)
    unit = unit_from_args(args)
    say = progress(args)
    if args.plan:
        return _print_plan(catalog, suspects, pinned)
    runner, report = open_host(args, unit, catalog, [*suspects, *pinned])
    trials = make_trials(args, runner, unit, catalog, checklist)
    try:
        if report.leftover is not None:
            ids = ", ".join(report.leftover.entry_ids) or "unknown entries"
            raise PreflightError(
                f"{runner.host}: a drop-in left by an interrupted run is in place "
                f"({ids}); continue with harden-bisect resume, or undo it with "
                "harden-bisect rollback"
            )
        too_new = {entry.id for entry in report.too_new}
        if too_new:
            left_out = ", ".join(sorted(too_new))
            say(f"left out, too new for systemd {report.systemd_version}: {left_out}")
        suspects = _without(catalog, suspects, too_new)
        session = create_session(
            state_dir_from_args(args),
            _header(args, unit, suspects, pinned, host_versions(runner)),
        )
        say(
            f"session {session.header.id}: {len(suspects)} suspects, "
            f"{len(pinned)} pinned; trial log {session.path}"
        )
    except BaseException:
        trials.release()
        raise
    score_before = run_baseline(trials, session, say, json_out=args.json)
    return drive(args, catalog, session, trials, score_before)


def _header(
    args: argparse.Namespace,
    unit: str,
    suspects: list[str],
    pinned: list[str],
    versions: dict[str, str],
) -> SessionHeader:
    catalog_path = Path(args.catalog or shipped_catalog_path()).resolve()
    checklist_path = str(Path(args.checklist).resolve()) if args.checklist else ""
    return SessionHeader(
        id=new_session_id(),
        created=time.time(),
        host=args.host,
        unit=unit,
        entries=tuple(suspects),
        pinned=tuple(pinned),
        catalog_path=str(catalog_path),
        catalog_hash=content_hash(catalog_path.read_text(encoding="utf-8")),
        checklist_path=checklist_path,
        checklist_hash=content_hash(checklist_text(args.checklist)),
        host_versions=versions,
        args={name: getattr(args, name) for name in RESUME_OPTIONS},
    )


def _without(catalog: Catalog, ids: list[str], dropped: set[str]) -> list[str]:
    """``ids`` without ``dropped`` and without what requires them."""
    gone = set(dropped)
    changed = True
    while changed:
        changed = False
        for entry in catalog.entries:
            if entry.id not in gone and set(entry.requires) & gone:
                gone.add(entry.id)
                changed = True
    return [entry_id for entry_id in ids if entry_id not in gone]


def _print_plan(catalog: Catalog, suspects: list[str], pinned: list[str]) -> int:
    engine = Bisection(suspects, {e.id: e.requires for e in catalog.entries}, pinned)
    print(
        f"{len(engine.suspects)} suspects in {len(engine.units.order)} units, "
        f"searched in this order (an entry travels with what it requires):"
    )
    for members in engine.units.order:
        print("  " + " + ".join(members))
    if pinned:
        print("pinned in every trial: " + ", ".join(sorted(engine.units.pinned)))
    step = engine.next()
    if isinstance(step, Trial):
        print(f"first trial: {len(step.entries)} entries ({step.purpose})")
    return 0
