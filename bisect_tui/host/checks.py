"""Run a checklist against a host and gather the text that explains a failure.

Every check is read-only. The operator-side HTTP checks run a few at a time in
threads, since they share nothing; the checks that go through the SSH connection
run one after another in the caller's thread, because a burst of channels on one
transport can fail to open. A broken SSH connection makes a check *skip*
(unresolved), never *bad*: it says nothing about the unit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from bisect_tui.core.checklist import (
    Check,
    CheckContext,
    Checklist,
    ChecklistResult,
    CheckResult,
    HttpSpec,
    render_template,
)
from bisect_tui.errors import HostError
from bisect_tui.host.checks_command import run_command
from bisect_tui.host.checks_http import Opener, open_socket, run_http
from bisect_tui.host.checks_systemd import run_journal, run_score, run_unit
from bisect_tui.host.runner import CommandRunner, Stream

logger = logging.getLogger(__name__)

PARALLEL_HTTP = 4
"""Operator-side HTTP checks run at the same time at most."""

HostCheck = Callable[[Check, CommandRunner, str], CheckResult]

_HOST_CHECKS: dict[str, HostCheck] = {
    "unit": run_unit,
    "journal": run_journal,
    "score": run_score,
}


def run_check(
    check: Check, runner: CommandRunner, context: CheckContext
) -> CheckResult:
    """Run one check and return its result, whatever happens on the way.

    Args:
        check: The check.
        runner: The connection to the host, for host-side checks.
        context: Where the service is and which unit is under test.

    Returns:
        The result; a failed SSH connection gives ``skip`` with the error as
        evidence.
    """
    started = time.monotonic()
    try:
        return _dispatch(check, runner, context)
    except HostError as exc:
        logger.warning("check %s: SSH failed: %s", check.id, exc)
        said = (f"the SSH connection failed: {exc}",)
        seconds = time.monotonic() - started
        return CheckResult(check.id, check.kind, "skip", said, seconds)


def _dispatch(
    check: Check, runner: CommandRunner, context: CheckContext
) -> CheckResult:
    values = context.values(check.where)
    if isinstance(check.spec, HttpSpec):
        url = render_template(check.spec.url, values)
        return run_http(check, url, _opener(check, runner))
    if check.kind == "command":
        return run_command(check, values)
    return _HOST_CHECKS[check.kind](check, runner, check.unit or context.unit)


def _opener(check: Check, runner: CommandRunner) -> Opener:
    if check.where == "operator":
        return open_socket

    def open_on_host(host: str, port: int, timeout: float) -> Stream:
        return runner.open_tcp(host, port, timeout=timeout)

    return open_on_host


def run_checklist(
    checklist: Checklist,
    runner: CommandRunner,
    context: CheckContext,
    *,
    parallel: int = PARALLEL_HTTP,
) -> ChecklistResult:
    """Run every check of ``checklist`` and combine the verdicts.

    Args:
        checklist: The checks to run.
        runner: The connection to the host.
        context: Where the service is and which unit is under test.
        parallel: Operator-side HTTP checks run at once at most (1: one by one).

    Returns:
        The results in checklist order. The verdict is good when every check is
        good, bad when any is bad (``failing`` names them, sorted), and skip
        when none is bad but some could not decide.
    """
    started = time.monotonic()
    results: dict[str, CheckResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        pending: dict[str, Future[CheckResult]] = {
            check.id: pool.submit(run_check, check, runner, context)
            for check in checklist.checks
            if _runs_apart(check)
        }
        for check in checklist.checks:
            if check.id not in pending:
                results[check.id] = run_check(check, runner, context)
        results.update((key, future.result()) for key, future in pending.items())
    ordered = tuple(results[check.id] for check in checklist.checks)
    outcome = ChecklistResult(ordered, time.monotonic() - started)
    logger.info(
        "checklist %s in %.1f s (failing: %s)",
        outcome.verdict,
        outcome.seconds,
        ", ".join(outcome.failing) or "none",
    )
    return outcome


def _runs_apart(check: Check) -> bool:
    return check.kind == "http" and check.where == "operator"
