"""Read what ``systemctl show`` and ``systemd-analyze security`` print.

The host layer fetches the text over SSH; turning it into data belongs to the
pure core so it can be tested against captured output. ``systemd-analyze
security`` prints its marks and arrow as UTF-8 glyphs or, without a UTF-8
locale (a plain non-interactive SSH session), as ASCII, so both are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bisect_tui.core.security_checks import security_check_names

_OVERALL = re.compile(
    r"Overall exposure level for (?P<unit>\S+?)\s*:\s*(?P<whole>\d+)\.(?P<tenth>\d)"
    r"\s+(?P<label>[A-Z]+)"
)
_SHOWN = re.compile(r"^\d+\.\d$")
_MARKS = {"✓": True, "+": True, "✗": False, "-": False}


@dataclass(frozen=True)
class ReportedCheck:
    """One row of a ``systemd-analyze security`` report.

    Attributes:
        name: The check as printed.
        passed: ``True`` for a check mark, ``False`` for a cross, ``None``
            when the check does not apply.
        shown: The exposure printed in the last column, in tenths (0 if none).
    """

    name: str
    passed: bool | None
    shown: int


@dataclass(frozen=True)
class SecurityReport:
    """A parsed ``systemd-analyze security <unit>`` report.

    Attributes:
        unit: The unit named in the summary line.
        level: The overall exposure in tenths (``96`` for ``9.6``).
        label: The label after the score, e.g. ``UNSAFE``.
        checks: The rows, in printed order (empty if only the summary was given).
    """

    unit: str
    level: int
    label: str
    checks: tuple[ReportedCheck, ...]

    @property
    def score(self) -> float:
        """The overall exposure as printed, e.g. ``9.6``."""
        return self.level / 10


def parse_show_output(text: str) -> dict[str, str]:
    """Parse ``systemctl show`` output into a property mapping.

    A property printed on several lines (``DeviceAllow=``) keeps every value,
    joined by newlines, in printed order.
    """
    properties: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key or " " in key:
            continue
        if key in properties:
            properties[key] += "\n" + value
        else:
            properties[key] = value
    return properties


def parse_security_output(text: str) -> SecurityReport:
    """Parse the report ``systemd-analyze security <unit>`` prints.

    Raises:
        ValueError: The text has no overall exposure line.
    """
    match = _OVERALL.search(text)
    if match is None:
        raise ValueError("no 'Overall exposure level' line in the security report")
    level = int(match["whole"]) * 10 + int(match["tenth"])
    rows = tuple(row for row in map(_parse_row, text.splitlines()) if row is not None)
    return SecurityReport(match["unit"], level, match["label"], rows)


def _parse_row(line: str) -> ReportedCheck | None:
    words = line.split()
    if not words:
        return None
    passed = _MARKS.get(words[0])
    if passed is not None:
        words = words[1:]
    if not words or words[0] not in security_check_names():
        return None
    shown = 0
    if len(words) > 1 and _SHOWN.match(words[-1]):
        whole, tenth = words[-1].split(".")
        shown = int(whole) * 10 + int(tenth)
    return ReportedCheck(words[0], passed, shown)
