"""Gather the log lines that explain a failed trial, then name the suspects.

Three sources, each cut to what happened since the unit's last start so an
earlier trial's complaints are not blamed on this one: the unit's journal (from a
minute before the start, which covers the ``daemon-reload`` that warns about
unknown keys and unparsable system calls), the kernel's seccomp audit lines, and
the tail of nginx's error log, where worker deaths are reported. Gathering is
best effort: a source that cannot be read is logged and left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bisect_tui.core.checklist import ChecklistResult
from bisect_tui.core.checklist_systemd import (
    JournalEntry,
    entries_since,
    parse_journal_json,
)
from bisect_tui.core.hints import Hint, explain
from bisect_tui.errors import HostError
from bisect_tui.host.checks_systemd import show
from bisect_tui.host.runner import CommandRunner

logger = logging.getLogger(__name__)

ERROR_LOG = "/var/log/nginx/error.log"
"""Where Debian's and NixOS's nginx write their error log."""

LOOKBACK_SECONDS = 60.0
"""How far before the unit's start the journal is read."""

JOURNAL_LINES = 300
"""Most recent journal entries read per source."""

ERROR_LOG_LINES = 200
"""Lines read from the end of the error log."""

_NGINX_TIME = "+%Y/%m/%d %H:%M:%S"
_TIMEOUT = 20.0


@dataclass(frozen=True)
class HintText:
    """The text hints are read from.

    Attributes:
        journal: The unit's journal messages.
        kernel: Kernel and audit messages about system calls.
        error_log: nginx error log lines since the start.
    """

    journal: tuple[str, ...] = ()
    kernel: tuple[str, ...] = ()
    error_log: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Every line, journal first."""
        return [*self.journal, *self.kernel, *self.error_log]


def gather_hint_text(
    runner: CommandRunner, unit: str, error_log: str = ERROR_LOG
) -> HintText:
    """Fetch the journal, audit and error-log lines since ``unit`` last started.

    Args:
        runner: The connection to the host.
        unit: The unit under test.
        error_log: nginx's error log on the host.

    Returns:
        What could be read; empty sources when nothing could.
    """
    try:
        state = show(runner, unit, ("InactiveExitTimestampMonotonic",), _TIMEOUT)
        start = int(state.get("InactiveExitTimestampMonotonic") or 0)
        journal = _journal(
            runner, ["--unit", unit], start - int(LOOKBACK_SECONDS * 1e6)
        )
        kernel = _journal(runner, ["_TRANSPORT=kernel", "+", "_TRANSPORT=audit"], start)
        seccomp = [e for e in kernel if "syscall=" in e.message]
        errors = _error_log(runner, error_log, _wall_clock_us(start, journal + kernel))
    except HostError as exc:
        logger.warning("cannot gather hint text from %s: %s", runner.host, exc)
        return HintText()
    return HintText(
        tuple(e.message for e in journal),
        tuple(e.message for e in seccomp),
        tuple(errors),
    )


def _journal(
    runner: CommandRunner, match: list[str], since_us: int
) -> list[JournalEntry]:
    argv = ["journalctl", "--boot", "--output", "json", "--no-pager"]
    argv += ["--lines", str(JOURNAL_LINES), *match]
    result = runner.run(argv, sudo=True, timeout=_TIMEOUT)
    if not result.ok:
        logger.warning("cannot read the journal: %s", result.describe())
        return []
    return entries_since(parse_journal_json(result.stdout), since_us)


def _wall_clock_us(monotonic_us: int, entries: list[JournalEntry]) -> int | None:
    # Any entry of this boot carries both clocks, which converts the unit's
    # monotonic start into wall-clock time without asking for the time zone.
    for entry in entries:
        if entry.realtime_us and entry.monotonic_us:
            return monotonic_us + entry.realtime_us - entry.monotonic_us
    return None


def _error_log(runner: CommandRunner, path: str, since_us: int | None) -> list[str]:
    tail = runner.run(["tail", "-n", str(ERROR_LOG_LINES), "--", path], sudo=True)
    if not tail.ok:
        logger.info("no error log: %s", tail.describe())
        return []
    lines = tail.stdout.splitlines()
    if since_us is None:
        return lines[-20:]
    # nginx stamps lines in the host's local time, so let the host format the
    # start the same way; the stamps then compare as plain strings.
    moment = f"@{since_us // 1_000_000}"
    stamp = runner.run(["date", "-d", moment, _NGINX_TIME], timeout=_TIMEOUT)
    if not stamp.ok:
        return lines[-20:]
    since = stamp.stdout.strip()
    return [line for line in lines if line[: len(since)] >= since]


def explain_failure(
    runner: CommandRunner,
    result: ChecklistResult,
    unit: str,
    error_log: str = ERROR_LOG,
) -> list[Hint]:
    """Name the directives likely behind a failed checklist run.

    Args:
        runner: The connection to the host.
        result: The failed run.
        unit: The unit under test.
        error_log: nginx's error log on the host.

    Returns:
        The hints, most precise first; empty when nothing was recognised.
    """
    text = gather_hint_text(runner, unit, error_log)
    hints = explain(result, text.lines())
    logger.info("%d hints for the failure of %s", len(hints), unit)
    return hints
