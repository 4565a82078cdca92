"""Read what systemd's tools print, for the unit, journal and score checks.

Pure parsers, so the rules for "active", "since this start" and "the exposure"
are tested without a host. Journal entries are compared by their monotonic
timestamp with the unit's ``InactiveExitTimestampMonotonic`` (the moment its last
start began), which needs no clock or time-zone arithmetic and is exact within a
boot.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bisect_tui.core.checklist_kinds import PRIORITIES

NGINX_LEVELS: dict[str, int] = {"emerg": 0, "alert": 1, "crit": 2}
"""nginx's serious log levels as syslog priorities."""

_NGINX_LEVEL = re.compile(r"\[(emerg|alert|crit)\]")
_EXPOSURE = re.compile(
    r"Overall exposure level for (?P<unit>\S+):\s*(?P<score>\d+(?:\.\d+)?)\s+"
    r"(?P<label>[A-Z]+)"
)


@dataclass(frozen=True)
class JournalEntry:
    """One journal record, reduced to what the checks and hints read.

    Attributes:
        monotonic_us: Microseconds since boot when it was logged.
        realtime_us: Microseconds since the epoch when it was logged.
        priority: The syslog priority, 0 (emerg) to 7 (debug).
        message: The message text.
    """

    monotonic_us: int
    realtime_us: int
    priority: int
    message: str

    @property
    def severity(self) -> int:
        """The priority, or nginx's own level in the text if that is worse.

        journald files everything a service writes to its standard error as
        ``info``; nginx marks its serious lines ``[emerg]``, ``[alert]`` or
        ``[crit]`` (its ``[error]`` is mostly about single requests, such as a
        missing file, and is not counted).
        """
        found = _NGINX_LEVEL.search(self.message)
        level = NGINX_LEVELS[found.group(1)] if found else self.priority
        return min(self.priority, level)

    def describe(self) -> str:
        """The entry as one evidence line, e.g. ``"err: Failed to start …"``."""
        name = PRIORITIES[self.severity] if 0 <= self.severity < 8 else "?"
        return f"{name}: {self.message}"


def parse_show(text: str) -> dict[str, str]:
    """Parse ``systemctl show -p A -p B`` output into a dict."""
    properties = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            properties[key.strip()] = value.strip()
    return properties


def parse_journal_json(text: str) -> list[JournalEntry]:
    """Parse ``journalctl -o json`` output (one JSON object per line).

    Lines that are not JSON objects are skipped; a binary message (an array of
    byte values) is decoded with replacement characters.
    """
    entries = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            entries.append(_entry(record))
    return entries


def _entry(record: dict[str, object]) -> JournalEntry:
    message = record.get("MESSAGE", "")
    if isinstance(message, list):
        message = bytes(b for b in message if isinstance(b, int)).decode(
            "utf-8", errors="replace"
        )
    return JournalEntry(
        monotonic_us=_int(record.get("__MONOTONIC_TIMESTAMP")),
        realtime_us=_int(record.get("__REALTIME_TIMESTAMP")),
        priority=_int(record.get("PRIORITY"), default=6),
        message=str(message or "").strip(),
    )


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def entries_since(entries: list[JournalEntry], start_us: int) -> list[JournalEntry]:
    """The entries logged at or after ``start_us`` (monotonic microseconds)."""
    return [e for e in entries if e.monotonic_us >= start_us]


def serious_entries(
    entries: list[JournalEntry], start_us: int, priority: str
) -> list[JournalEntry]:
    """The distinct entries since ``start_us`` of ``priority`` or worse, in order.

    Args:
        entries: Entries from one or more journal queries (may repeat).
        start_us: The unit's start, in monotonic microseconds.
        priority: The mildest priority that counts, e.g. ``"err"``.
    """
    threshold = PRIORITIES.index(priority)
    unique = {(e.monotonic_us, e.message): e for e in entries_since(entries, start_us)}
    ordered = sorted(unique.values(), key=lambda e: e.monotonic_us)
    return [e for e in ordered if e.severity <= threshold]


@dataclass(frozen=True)
class Exposure:
    """The overall exposure ``systemd-analyze security`` printed.

    Attributes:
        unit: The unit it was printed for.
        score: The exposure, 0.0 to 10.0.
        label: The word after it, e.g. ``UNSAFE``.
    """

    unit: str
    score: float
    label: str


def parse_exposure(text: str) -> Exposure | None:
    """Find the ``→ Overall exposure level for UNIT: X.Y LABEL`` line."""
    found = _EXPOSURE.search(text)
    if not found:
        return None
    return Exposure(found.group("unit"), float(found.group("score")), found["label"])


@dataclass(frozen=True)
class WorkerSample:
    """Two looks at the main process's children, some time apart.

    Attributes:
        first: Child pids seen first.
        second: Child pids seen second.
    """

    first: frozenset[int]
    second: frozenset[int]

    @property
    def stable(self) -> frozenset[int]:
        """Children present both times: workers that stay alive."""
        return self.first & self.second

    @property
    def fleeting(self) -> frozenset[int]:
        """Children seen once only: processes dying and being replaced."""
        return (self.first | self.second) - self.stable


SAMPLE_SEPARATOR = "--"
"""Printed between the two looks by the remote sampling script."""


def parse_worker_sample(text: str) -> WorkerSample:
    """Parse two pid lists separated by a :data:`SAMPLE_SEPARATOR` line."""
    lines = [line.strip() for line in text.splitlines()]
    if SAMPLE_SEPARATOR not in lines:
        return WorkerSample(_pids(lines), frozenset())
    middle = lines.index(SAMPLE_SEPARATOR)
    return WorkerSample(_pids(lines[:middle]), _pids(lines[middle + 1 :]))


def _pids(lines: list[str]) -> frozenset[int]:
    return frozenset(int(word) for word in lines if word.isdigit())
