"""``sessions``, ``resume`` and ``replay``: the trial logs of past searches.

``resume`` continues a search after any interruption (Ctrl-C, a killed tool, a
lost connection, a pause): it removes whatever drop-in the interrupted run left,
checks the baseline again, feeds every finished trial back into the engine and
runs only the trials still missing. The catalog and checklist must be the ones
the session started with.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bisect_tui.cli.cmd_bisect import RESUME_OPTIONS, add_search_options
from bisect_tui.cli.cmd_check import add_checklist_options
from bisect_tui.cli.common import add_json_option, print_json
from bisect_tui.cli.host_options import add_host_options, unit_from_args
from bisect_tui.cli.search_run import (
    add_state_dir_option,
    drive,
    make_trials,
    open_host,
    print_summary,
    progress,
    require_terminal_for_guided,
    restore_leftover,
    run_baseline,
    state_dir_from_args,
)
from bisect_tui.core.catalog import load_catalog
from bisect_tui.core.checklist_loader import checklist_text, load_checklist
from bisect_tui.core.session import (
    Session,
    content_hash,
    find_resumable,
    find_session,
    list_sessions,
)
from bisect_tui.errors import UsageError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sessions``, ``resume`` and ``replay``."""
    listing = commands.add_parser(
        "sessions",
        help="list the trial logs of past searches",
        description="List every search under the state directory, newest first.",
    )
    add_state_dir_option(listing)
    add_json_option(listing)
    listing.set_defaults(func=run_sessions)

    resume = commands.add_parser(
        "resume",
        help="continue an interrupted or paused search",
        description=(__doc__ or "").split("\n\n", 1)[1]
        + "\nexamples:\n  harden-bisect resume\n"
        "  harden-bisect resume 20261204-0612 --testbed\n\n"
        "Connection options given here override those the session recorded.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    resume.add_argument("session", nargs="?", help="session id or a unique prefix")
    add_host_options(resume)
    add_checklist_options(resume)
    add_search_options(resume)
    resume.add_argument(
        "--guided", action="store_true", help="ask the operator for each verdict"
    )
    add_json_option(resume)
    # An option still at its default takes the value the session recorded.
    recorded = {name: resume.get_default(name) for name in RESUME_OPTIONS}
    resume.set_defaults(func=run_resume, option_defaults=recorded)

    replay = commands.add_parser(
        "replay",
        help="show a search's trial log",
        description="Show every trial of a session and how the search ended.",
    )
    replay.add_argument("session", nargs="?", help="session id or a unique prefix")
    add_state_dir_option(replay)
    add_json_option(replay)
    replay.set_defaults(func=run_replay)


def run_sessions(args: argparse.Namespace) -> int:
    """List the sessions."""
    sessions = list_sessions(state_dir_from_args(args))
    if args.json:
        print_json([_summary(s) for s in sessions])
        return 0
    table = Table(title="sessions", title_justify="left")
    table.add_column("session", no_wrap=True, min_width=20)
    for column in ("status", "host", "unit", "suspects", "trials", "culprits"):
        table.add_column(column, overflow="fold")
    for session in sessions:
        row = _summary(session)
        table.add_row(
            row["session"],
            row["status"],
            row["host"],
            row["unit"],
            str(row["suspects"]),
            str(row["trials"]),
            ", ".join(" + ".join(c) for c in row["culprits"]) or "-",
        )
    Console().print(table)
    return 0


def run_replay(args: argparse.Namespace) -> int:
    """Show one session's trials and result."""
    session = find_session(state_dir_from_args(args), args.session)
    if args.json:
        print_json(
            {
                "header": asdict(session.header),
                "trials": [asdict(t) for t in session.trials],
                "end": session.end,
            }
        )
        return 0
    head = session.header
    print(f"session   {head.id}: {head.unit} on {head.host}, {session.status}")
    versions = ", ".join(f"{k} {v}" for k, v in head.host_versions.items())
    print(f"host      {versions}")
    print(f"suspects  {len(head.entries)}; pinned: {', '.join(head.pinned) or '-'}")
    for trial in session.trials:
        failing = f" ({', '.join(trial.failed_checks)})" if trial.failed_checks else ""
        again = " [run again on resume]" if trial.number in session.superseded else ""
        print(
            f"#{trial.number:<3} {trial.verdict:<4}{failing} {len(trial.entries)} "
            f"entries, {trial.seconds:.1f} s: {trial.purpose}{again}"
        )
    if session.end and isinstance(session.end.get("result"), dict):
        result = session.end["result"]
        if "culprits" in result:
            print_summary(result)
        else:
            print(f"ended     {session.status}: {result.get('message', '')}")
    return 0


def run_resume(args: argparse.Namespace) -> int:
    """Continue a session; see the module docstring."""
    require_terminal_for_guided(args)
    session = find_resumable(state_dir_from_args(args), args.session)
    head = session.header
    defaults = args.option_defaults
    for name, value in head.args.items():
        if name in defaults and getattr(args, name, None) == defaults[name]:
            setattr(args, name, value)
    catalog_text = _read(Path(head.catalog_path), "catalog")
    _unchanged(catalog_text, head.catalog_hash, head.catalog_path, "catalog")
    catalog = load_catalog(head.catalog_path)
    checklist_path = head.checklist_path or None
    checklist = load_checklist(checklist_path)
    text = checklist_text(checklist_path)
    _unchanged(text, head.checklist_hash, checklist.path, "checklist")
    unit = unit_from_args(args)
    say = progress(args)
    runner, report = open_host(args, unit, catalog, [*head.entries, *head.pinned])
    trials = make_trials(args, runner, unit, catalog, checklist)
    try:
        restore_leftover(runner, unit, report, say)
    except BaseException:
        trials.release()
        raise
    retry = [t.number for t in session.searched_trials if t.verdict == "skip"]
    session.mark_resumed(retry)
    again = f", {len(retry)} unresolved to run again" if retry else ""
    logged = len(session.replayable_trials)
    say(f"resuming session {head.id}: {logged} trials logged{again}")
    score_before = run_baseline(trials, session, say, json_out=args.json)
    return drive(args, catalog, session, trials, score_before)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: the session's {what} cannot be read: {exc}") from exc


def _unchanged(text: str, expected: str, shown: str, what: str) -> None:
    """Refuse to resume when the catalog or checklist is not the session's."""
    if content_hash(text) != expected:
        raise UsageError(
            f"{shown}: the {what} changed since the session started; its trials "
            "would not mean the same thing, start a new search"
        )


def _summary(session: Session) -> dict[str, Any]:
    result = (session.end or {}).get("result") or {}
    culprits = [c.get("entries", []) for c in result.get("culprits", [])]
    return {
        "session": session.header.id,
        "status": session.status,
        "host": session.header.host,
        "unit": session.header.unit,
        "suspects": len(session.header.entries),
        "trials": len(session.searched_trials),
        "culprits": culprits,
        "path": str(session.path),
        "created": session.header.created,
    }
