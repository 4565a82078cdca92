"""The unit, journal and score checks, asked of systemd over the host connection.

``systemctl is-active`` alone is not a check: under a seccomp filter that kills
workers as they drop privileges, nginx's master stays up and systemd reports the
unit active while nothing serves. The unit check therefore counts the master's
children twice, a moment apart, and only children seen both times count as
workers.
"""

from __future__ import annotations

import logging
import shlex
import time

from bisect_tui.core.checklist import (
    Check,
    CheckResult,
    JournalSpec,
    ScoreSpec,
    UnitSpec,
    Verdict,
)
from bisect_tui.core.checklist_kinds import PRIORITIES
from bisect_tui.core.checklist_systemd import (
    SAMPLE_SEPARATOR,
    parse_exposure,
    parse_journal_json,
    parse_show,
    parse_worker_sample,
    serious_entries,
)
from bisect_tui.host.runner import CommandResult, CommandRunner

logger = logging.getLogger(__name__)

JOURNAL_LINES = 200
"""Most recent journal entries of the boot read by the journal check."""

SHOWN_MESSAGES = 5
"""Journal messages quoted as evidence at most."""

_STATE = ("LoadState", "ActiveState", "SubState", "MainPID")
_SAMPLE_SCRIPT = (
    f'pgrep -P "$1"; sleep "$2"; echo {SAMPLE_SEPARATOR}; pgrep -P "$1"; exit 0'
)


def show(
    runner: CommandRunner, unit: str, names: tuple[str, ...], timeout: float
) -> dict[str, str]:
    """Return ``systemctl show`` properties of ``unit``.

    Raises:
        HostError: The connection failed.
    """
    argv = ["systemctl", "show", *(f"--property={n}" for n in names), "--", unit]
    return parse_show(runner.run(argv, timeout=timeout).stdout)


def run_unit(check: Check, runner: CommandRunner, unit: str) -> CheckResult:
    """Judge whether ``unit`` is active with enough workers that stay alive."""
    assert isinstance(check.spec, UnitSpec)
    started = time.monotonic()
    state = show(runner, unit, _STATE, check.timeout)
    summary = " ".join(f"{name}={state.get(name, '?')}" for name in _STATE[1:])
    evidence = [summary]
    verdict: Verdict = "good"
    workers: float | None = None
    if state.get("LoadState") != "loaded":
        verdict = "bad"
        evidence.append(f"{unit} is not loaded (LoadState={state.get('LoadState')})")
    elif state.get("ActiveState") != "active":
        verdict = "bad"
        evidence.append(f"{unit} is not active")
    elif state.get("MainPID", "0") in ("", "0"):
        verdict = "bad"
        evidence.append(f"{unit} has no main process")
    else:
        verdict, workers, said = _judge_workers(check, runner, state["MainPID"])
        evidence.extend(said)
    seconds = time.monotonic() - started
    return CheckResult(check.id, "unit", verdict, tuple(evidence), seconds, workers)


def _judge_workers(
    check: Check, runner: CommandRunner, main_pid: str
) -> tuple[Verdict, float | None, list[str]]:
    assert isinstance(check.spec, UnitSpec)
    interval = f"{check.spec.sample_interval:g}"
    argv = ["sh", "-c", _SAMPLE_SCRIPT, "sh", main_pid, interval]
    result = runner.run(argv, timeout=check.timeout)
    if not result.ok:
        return "skip", None, [f"cannot count workers: {result.describe()}"]
    sample = parse_worker_sample(result.stdout)
    count = len(sample.stable)
    pids = " ".join(str(p) for p in sorted(sample.stable)) or "none"
    line = f"{count} workers alive over {interval} s (pids {pids})"
    lines = [line]
    if sample.fleeting:
        lines.append(f"{len(sample.fleeting)} children came or went meanwhile")
    if count < check.spec.min_workers:
        lines.append(f"expected at least {check.spec.min_workers} workers")
        return "bad", float(count), lines
    return "good", float(count), lines


def run_journal(check: Check, runner: CommandRunner, unit: str) -> CheckResult:
    """Judge whether ``unit`` logged anything serious since its last start.

    Two queries: the entries journald filed at the priority or worse, and the
    latest entries of any priority, for nginx's own ``[emerg]``-style levels in
    text that journald filed as ``info``.
    """
    assert isinstance(check.spec, JournalSpec)
    started = time.monotonic()
    state = show(runner, unit, ("InactiveExitTimestampMonotonic",), check.timeout)
    since = int(state.get("InactiveExitTimestampMonotonic") or 0)
    priority = check.spec.priority
    base = ["journalctl", "--unit", unit, "--boot", "--output", "json"]
    base += ["--lines", str(JOURNAL_LINES), "--no-pager"]
    filed = runner.run(
        [*base, "--priority", priority], sudo=True, timeout=check.timeout
    )
    latest = runner.run(base, sudo=True, timeout=check.timeout)
    verdict, evidence = _judge_journal([filed, latest], since, priority)
    seconds = time.monotonic() - started
    return CheckResult(check.id, "journal", verdict, tuple(evidence), seconds)


def _judge_journal(
    results: list[CommandResult], since_us: int, priority: str
) -> tuple[Verdict, list[str]]:
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        return "skip", [f"cannot read the journal: {failed.describe()}"]
    entries = [e for r in results for e in parse_journal_json(r.stdout)]
    serious = serious_entries(entries, since_us, priority)
    start = f"since the start at {since_us / 1e6:.1f} s after boot"
    worse = "" if priority == PRIORITIES[0] else " or worse"
    if not serious:
        return "good", [f"no message of priority {priority}{worse} {start}"]
    lines = [f"{len(serious)} messages of priority {priority}{worse} {start}"]
    lines += [e.describe() for e in serious[-SHOWN_MESSAGES:]]
    return "bad", lines


def run_score(check: Check, runner: CommandRunner, unit: str) -> CheckResult:
    """Record the unit's ``systemd-analyze security`` exposure, with a threshold."""
    assert isinstance(check.spec, ScoreSpec)
    started = time.monotonic()
    argv = ["systemd-analyze", "security", "--no-pager", "--", unit]
    result = runner.run(argv, timeout=check.timeout)
    exposure = parse_exposure(result.stdout)
    seconds = time.monotonic() - started
    if exposure is None:
        missing = f"no exposure in the output of {shlex.join(argv)}"
        said = (missing, result.describe())
        return CheckResult(check.id, "score", "skip", said, seconds)
    evidence = [f"exposure {exposure.score:.1f} {exposure.label}"]
    verdict: Verdict = "good"
    limit = check.spec.max
    if limit is not None:
        above = exposure.score > limit
        verdict = "bad" if above else "good"
        evidence.append(f"{'above' if above else 'within'} the limit of {limit:.1f}")
    logger.info("exposure of %s: %.1f", unit, exposure.score)
    return CheckResult(
        check.id, "score", verdict, tuple(evidence), seconds, exposure.score
    )
