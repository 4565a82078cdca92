"""Gather the log lines that explain a failed trial, then name the suspects.

Three sources, each cut to what belongs to the unit's current start (see
:mod:`bisect_tui.core.hints_sources`) so an earlier trial's complaints are not
blamed on this one: the unit's journal with the last ``daemon-reload``'s
warnings about unknown keys and unparsable system calls, the kernel's seccomp
audit lines, and the tail of nginx's error log, where worker deaths are
reported. Gathering is best effort: a source that cannot be read is logged and
left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bisect_tui.core.checklist import ChecklistResult
from bisect_tui.core.checklist_systemd import (
    JournalEntry,
    entries_since,
    parse_journal_json,
    parse_show,
)
from bisect_tui.core.hints import Hint, explain
from bisect_tui.core.hints_sources import error_log_for_start, journal_for_start
from bisect_tui.errors import HostError
from bisect_tui.host.checks_systemd import show
from bisect_tui.host.runner import CommandRunner

logger = logging.getLogger(__name__)

ERROR_LOG = "/var/log/nginx/error.log"
"""Where Debian's and NixOS's nginx write their error log."""

LOOKBACK_US = 60_000_000
"""How far before the start unit-file warnings are read when the host does not
say when units were last loaded (microseconds)."""

JOURNAL_LINES = 300
"""Most recent journal entries read per source."""

ERROR_LOG_LINES = 200
"""Lines read from the end of the error log."""

_NGINX_TIME = "+%Y/%m/%d %H:%M:%S"
_UNIT_STATE = ("InactiveExitTimestampMonotonic", "MainPID")
_RELOAD = "UnitsLoadTimestampMonotonic"
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
    """Fetch the journal, audit and error-log lines of ``unit``'s current start.

    Args:
        runner: The connection to the host.
        unit: The unit under test.
        error_log: nginx's error log on the host.

    Returns:
        What could be read; empty sources when nothing could.
    """
    try:
        state = show(runner, unit, _UNIT_STATE, _TIMEOUT)
        start = _number(state, "InactiveExitTimestampMonotonic")
        reload = _last_reload(runner) or max(0, start - LOOKBACK_US)
        unit_entries = _journal(runner, ["--unit", unit], min(start, reload))
        kernel = _journal(runner, ["_TRANSPORT=kernel", "+", "_TRANSPORT=audit"], start)
        seccomp = [e.message for e in kernel if "syscall=" in e.message]
        wall = _wall_clock_us(start, unit_entries + kernel)
        errors = _error_log(runner, error_log, wall, _number(state, "MainPID"))
    except HostError as exc:
        logger.warning("cannot gather hint text from %s: %s", runner.host, exc)
        return HintText()
    journal = journal_for_start(unit_entries, start, reload)
    return HintText(tuple(journal), tuple(seccomp), tuple(errors))


def _number(properties: dict[str, str], name: str) -> int:
    value = properties.get(name, "")
    return int(value) if value.isdigit() else 0


def _last_reload(runner: CommandRunner) -> int:
    # The manager's own property: when units were last (re)loaded. It comes
    # just before the unit-file warnings a daemon-reload logs.
    argv = ["systemctl", "show", "--property=UnitsLoadTimestampMonotonic"]
    return _number(parse_show(runner.run(argv, timeout=_TIMEOUT).stdout), _RELOAD)


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


def _error_log(
    runner: CommandRunner, path: str, since_us: int | None, main_pid: int
) -> list[str]:
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
    return error_log_for_start(lines, stamp.stdout.strip(), main_pid)


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
