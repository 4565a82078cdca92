"""Cut the logs hints read to what belongs to the unit's current start.

A search restarts the unit every few seconds, so the logs are full of earlier
trials' complaints; blaming those on this trial would name the wrong directive.

- The journal is kept from the unit's last start, plus the unit-file warnings of
  the last ``daemon-reload`` (logged just before the start, as
  ``/path/file.conf:3: Unknown key …``), but not the previous instance's stop.
- nginx's error log has only one-second stamps. Lines stamped after the start's
  second are kept; in that second, a master's "worker process … exited" line is
  kept only from the current master, because the previous master reports its
  workers dying right up to the restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bisect_tui.core.checklist_systemd import JournalEntry

_UNIT_FILE_WARNING = re.compile(r"/\S+:\d+: ")
_ERROR_LOG_LINE = re.compile(
    r"(?P<stamp>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[\w+\] (?P<pid>\d+)#\d+: (?P<text>.*)"
)


def journal_for_start(
    entries: Iterable[JournalEntry], start_us: int, reload_us: int
) -> list[str]:
    """The unit's journal messages that belong to its current start.

    Args:
        entries: The unit's journal entries of this boot, oldest first.
        start_us: When the current start began (``InactiveExitTimestampMonotonic``).
        reload_us: When units were last loaded (``UnitsLoadTimestampMonotonic``);
            0 when unknown.

    Returns:
        Messages since the start, preceded by the last reload's unit-file
        warnings.
    """
    kept = []
    for entry in entries:
        after_start = entry.monotonic_us >= start_us
        from_reload = reload_us > 0 and entry.monotonic_us >= reload_us
        if after_start or (from_reload and _UNIT_FILE_WARNING.match(entry.message)):
            kept.append(entry.message)
    return kept


def error_log_for_start(lines: Iterable[str], since: str, main_pid: int) -> list[str]:
    """The nginx error-log lines that belong to the current start.

    Args:
        lines: The end of the error log.
        since: The start's second in nginx's format, ``YYYY/MM/DD HH:MM:SS``, in
            the host's local time.
        main_pid: The unit's main process (its nginx master), 0 when none runs.

    Returns:
        The lines logged since the start (see the module docstring).
    """
    kept = []
    for line in lines:
        found = _ERROR_LOG_LINE.match(line)
        if not found or found["stamp"] < since:
            continue
        from_old_master = (
            "worker process" in found["text"] and int(found["pid"]) != main_pid
        )
        if found["stamp"] > since or not from_old_master:
            kept.append(line)
    return kept
