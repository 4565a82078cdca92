"""What ``bisect`` and ``resume`` share: connect, baseline, search, report, restore.

A search holds the host's lock from the first change to the last, runs the
checklist on the untouched unit first (nothing to bisect against a broken
baseline), and always ends by removing the tool's drop-in and restarting the
unit, whether it completed, paused, failed or was interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from bisect_tui.cli.cmd_check import checklist_context
from bisect_tui.cli.common import print_json
from bisect_tui.cli.host_options import confirm_restart, connect_from_args
from bisect_tui.core.bisection import Bisection, Trial
from bisect_tui.core.catalog import Catalog
from bisect_tui.core.checklist import Checklist
from bisect_tui.core.search import SearchRun, TrialOutcome, Verdict, score_of
from bisect_tui.core.search_report import REPORT_SCHEMA, build_report
from bisect_tui.core.session import Session, TrialRecord
from bisect_tui.errors import BaselineError, SearchPausedError, UsageError
from bisect_tui.host.lock import acquire_lock, client_label
from bisect_tui.host.preflight import PreflightReport, run_preflight
from bisect_tui.host.rollback import rollback
from bisect_tui.host.runner import CommandRunner
from bisect_tui.host.trials import Connection, HostTrials

log = logging.getLogger(__name__)

EXIT_COMPLETE = 0

Say = Callable[[str], None]
"""Prints one progress line for the operator."""


def add_state_dir_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--state-dir``: where trial logs live."""
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="keep trial logs under DIR/sessions (default: the user state "
        "directory, e.g. ~/.local/state/harden-bisect)",
    )


def state_dir_from_args(args: argparse.Namespace) -> Path:
    """``--state-dir``, or the user's state directory for the tool."""
    if getattr(args, "state_dir", None):
        return Path(args.state_dir)
    return Path(platformdirs.user_state_dir("harden-bisect"))


def progress(args: argparse.Namespace) -> Say:
    """A function printing one progress line on stderr (silent with ``-q``)."""

    def say(line: str) -> None:
        if not getattr(args, "quiet", False):
            print(f"bisect: {line}", file=sys.stderr, flush=True)

    return say


def open_host(
    args: argparse.Namespace, unit: str, catalog: Catalog, suspects: Sequence[str]
) -> tuple[CommandRunner, PreflightReport]:
    """Connect, run the pre-flight, confirm the restarts and take the lock."""
    runner = connect_from_args(args)
    try:
        report = run_preflight(runner, unit, catalog.ordered(suspects))
        confirm_restart(args, unit)
        acquire_lock(runner, client_label("harden-bisect bisect"))
    except BaseException:
        runner.close()
        raise
    return runner, report


def make_trials(
    args: argparse.Namespace,
    runner: CommandRunner,
    unit: str,
    catalog: Catalog,
    checklist: Checklist,
) -> HostTrials:
    """The search's judge on the host, able to reconnect."""
    link = Connection(
        connect=lambda: connect_from_args(args),
        context=lambda r: checklist_context(args, r),
        client=client_label("harden-bisect bisect"),
    )
    return HostTrials(
        link,
        runner,
        unit,
        catalog,
        checklist,
        window=args.deadman,
        hints=not args.no_hints,
    )


def run_baseline(
    trials: HostTrials, session: Session, say: Say, *, json_out: bool = False
) -> float | None:
    """Check the untouched unit and log it as trial 0.

    With ``json_out``, a failing baseline still prints the one report object
    (status ``aborted``) before the error.

    Returns:
        The exposure score measured, if the checklist has a score check.

    Raises:
        BaselineError: The checklist fails on the untouched unit.
    """
    started = time.time()
    try:
        result, hints = trials.baseline()
    except BaseException:
        trials.release()
        raise
    checks = tuple(r.to_dict() for r in result.results)
    session.append(
        TrialRecord(
            number=0,
            entries=(),
            dropin_hash="",
            verdict=result.verdict,
            failed_checks=result.failing,
            purpose="baseline: the unit as it is",
            checks=checks,
            seconds=round(result.seconds, 3),
            started=started,
            hints=hints,
        )
    )
    if result.verdict != "good":
        failing = ", ".join(result.failing or result.unresolved)
        report = aborted_report(session, f"baseline {result.verdict}: {failing}")
        report["score_before"] = score_of(checks)
        session.finish("aborted", report)
        if json_out:
            print_json(report)
        trials.release()
        raise BaselineError(
            f"the checklist fails on the untouched unit ({result.verdict}: "
            f"{failing}); fix the host or the checklist first, nothing to bisect"
        )
    score = score_of(checks)
    shown = f", exposure {score:.1f}" if score is not None else ""
    say(f"baseline: every check passes on the untouched unit{shown}")
    return score


def drive(
    args: argparse.Namespace,
    catalog: Catalog,
    session: Session,
    trials: HostTrials,
    score_before: float | None,
) -> int:
    """Run the session's search to its end, restore the unit, report.

    Returns:
        The exit code.
    """
    head = session.header
    engine = Bisection(
        head.entries,
        {e.id: e.requires for e in catalog.entries},
        head.pinned,
        max_unresolved=args.max_unresolved,
        confirm=args.confirm,
    )
    say = progress(args)
    review = ask_operator if args.guided else None
    search = SearchRun(engine, session, trials, review=review, progress=say)
    if search.replayed:
        say(f"resumed: {search.replayed} finished trials taken from the trial log")
    try:
        result = search.run()
    except KeyboardInterrupt:
        say("interrupted: restoring the unit; resume with harden-bisect resume")
        _restore_quietly(trials)
        trials.close()
        raise
    except BaseException:
        _restore_quietly(trials)
        trials.close()
        raise
    restored = trials.finish()
    trials.close()
    say(f"restored: tool drop-in removed, {restored.state.describe()}")
    report = build_report(result, session, score_before)
    session.finish(result.status, report)
    if args.json:
        print_json(report)
    else:
        print_summary(report)
    if result.status == "paused":
        raise SearchPausedError(f"{result.message}; resume {session.header.id}")
    if result.status == "aborted":
        raise BaselineError(result.message)
    return EXIT_COMPLETE


def aborted_report(session: Session, message: str) -> dict[str, Any]:
    """The report of a search that ended before its first trial."""
    return {
        "schema": REPORT_SCHEMA,
        "status": "aborted",
        "message": message,
        "host": session.header.host,
        "unit": session.header.unit,
        "session": session.header.id,
        "culprits": [],
        "findings": [],
        "known_good": [],
        "known_good_verified": False,
        "blocked": [],
        "trials": 0,
        "trial_log": [],
        "score_before": None,
        "score_known_good": None,
    }


def restore_leftover(
    runner: CommandRunner, unit: str, report: PreflightReport, say: Say
) -> None:
    """Remove a drop-in an interrupted run left, so the baseline is the unit's own."""
    if report.leftover is None:
        return
    ids = ", ".join(report.leftover.entry_ids) or "unknown entries"
    say(f"removing the drop-in an interrupted run left ({ids})")
    rollback(runner, unit)


def print_summary(report: dict[str, Any]) -> None:
    """The report for a terminal: culprits, findings, the known-good set."""
    print(f"search    {report['status']}: {report['message']}")
    print(f"session   {report['session']} ({report['trials']} trials)")
    for culprit in report["culprits"]:
        joined = " + ".join(culprit["entries"])
        checks = ", ".join(culprit["failed_checks"])
        print(f"culprit   {joined} ({culprit.get('kind', '')}; fails {checks})")
        if culprit["hint"]:
            print(f"          hint: {culprit['hint'][:160]}")
    for finding in report["findings"]:
        joined = " + ".join(finding["entries"])
        print(f"finding   {joined} fails {', '.join(finding['failed_checks'])}")
    verified = "verified" if report["known_good_verified"] else "NOT verified"
    print(f"good set  {len(report['known_good'])} entries, {verified}")
    if report["known_good"]:
        print(f"          {', '.join(report['known_good'])}")
    before, after = report["score_before"], report["score_known_good"]
    if before is not None and after is not None:
        print(f"exposure  {before:.1f} before, {after:.1f} with the known-good set")


def _restore_quietly(trials: HostTrials) -> None:
    try:
        trials.finish()
    except Exception as exc:  # noqa: BLE001 - the original error matters more
        log.error("could not restore the unit: %s", exc)


def ask_operator(trial: Trial, outcome: TrialOutcome) -> Verdict | None:
    """Guided mode: show the checklist's verdict and let the operator decide."""
    failing = ", ".join(outcome.failed_checks) or "none"
    print(
        f"\n{len(trial.entries)} entries ({trial.purpose}); checklist says "
        f"{outcome.verdict} (failing: {failing})",
        file=sys.stderr,
    )
    for hint in outcome.hints[:2]:
        print(
            f"  hint: {hint.get('suspect')}: {hint.get('explanation')}", file=sys.stderr
        )
    default = {"good": "g", "bad": "b", "skip": "s"}[outcome.verdict]
    while True:
        answer = input(f"[g]ood, [b]ad, [s]kip, [r]etry? [{default}] ").strip().lower()
        choice = (answer or default)[:1]
        if choice == "r":
            return None
        if choice == "g":
            return "good", ()
        if choice == "s":
            return "skip", ()
        if choice == "b":
            checks = outcome.failed_checks if outcome.verdict == "bad" else ()
            return "bad", checks or ("operator",)


def require_terminal_for_guided(args: argparse.Namespace) -> None:
    """Guided mode asks on the terminal; refuse it without one (or with --json)."""
    if args.guided and not sys.stdin.isatty():
        raise UsageError("--guided asks for verdicts on a terminal; none is attached")
