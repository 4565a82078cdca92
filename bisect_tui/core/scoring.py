"""Compute the exposure score ``systemd-analyze security`` prints, exactly.

The score is integer arithmetic over weighted checks: each applicable check adds
``ceil(badness * weight / range)`` to a sum, and the overall level is
``ceil(100 * sum / total weight)`` tenths, printed as ``X.Y``. Doing the same
integer steps (rather than floats) is what makes a prediction match the real
output digit for digit, so the tool can show the score of a candidate set
before it touches the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bisect_tui.core.scoring_checks import DEFAULT_DEPENDENCIES_ONLY, grader_for
from bisect_tui.core.scoring_info import read_security_info
from bisect_tui.core.scoring_tables import HostTables, default_tables
from bisect_tui.core.security_checks import security_checks

LABELS: tuple[tuple[int, str], ...] = (
    (100, "DANGEROUS"),
    (90, "UNSAFE"),
    (75, "EXPOSED"),
    (50, "MEDIUM"),
    (10, "OK"),
    (1, "SAFE"),
    (0, "PERFECT"),
)
"""Label thresholds, in tenths of the printed score."""


@dataclass(frozen=True)
class CheckResult:
    """One graded check.

    Attributes:
        name: The check as printed, e.g. ``"ProtectSystem="``.
        key: Its policy key, e.g. ``"ProtectSystem"``.
        badness: From 0 (good) to ``range``; ``None`` when it does not apply.
        range: The badness scale of the check.
        weight: How much the check counts.
        shown: The exposure printed beside the check, in tenths (0 when
            nothing is printed).
    """

    name: str
    key: str
    badness: int | None
    range: int
    weight: int
    shown: int = 0

    @property
    def applicable(self) -> bool:
        """Whether the check counts towards the score."""
        return self.badness is not None

    @property
    def contribution(self) -> int:
        """What the check adds to the badness sum: ceil(badness*weight/range)."""
        if self.badness is None:
            return 0
        return -(-self.badness * self.weight // self.range)

    @property
    def exposure(self) -> float:
        """The exposure printed beside the check (``0.0`` when none)."""
        return self.shown / 10


@dataclass(frozen=True)
class Exposure:
    """An overall exposure level with the checks behind it.

    Attributes:
        level: The score in tenths, 0 to 100 (``96`` prints as ``9.6``).
        label: ``UNSAFE``, ``OK``… as printed after the score.
        checks: Every check, in the analyzer's order.
    """

    level: int
    label: str
    checks: tuple[CheckResult, ...]

    @property
    def score(self) -> float:
        """The score as printed, e.g. ``9.6``."""
        return self.level / 10

    def text(self) -> str:
        """Return the score and label as printed, e.g. ``"9.6 UNSAFE"``."""
        return f"{self.level // 10}.{self.level % 10} {self.label}"

    def check(self, name: str) -> CheckResult:
        """Return the check printed as ``name``.

        Raises:
            KeyError: No check has that name.
        """
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def exposed(self) -> list[CheckResult]:
        """Return the checks that print an exposure, largest first."""
        shown = [c for c in self.checks if c.shown]
        return sorted(shown, key=lambda c: -c.shown)


def label_for(level: int) -> str:
    """Return the label printed for a level in tenths."""
    for threshold, label in LABELS:
        if level >= threshold:
            return label
    return LABELS[-1][1]


def exposure(
    properties: Mapping[str, str], tables: HostTables | None = None
) -> Exposure:
    """Grade a unit's effective properties as ``systemd-analyze security`` does.

    Args:
        properties: ``Key=Value`` pairs as ``systemctl show <unit>`` prints
            them (repeated keys such as ``DeviceAllow`` joined by newlines).
        tables: The host's syscall groups and capabilities; ``None`` uses the
            shipped tables of systemd 252.
    """
    tables = tables or default_tables()
    info = read_security_info(properties, tables)
    graded = []
    for check in security_checks():
        badness: int | None
        if check.key in DEFAULT_DEPENDENCIES_ONLY and not info.default_dependencies:
            badness = None
        else:
            badness = grader_for(check.key)(info, tables)
        graded.append(
            CheckResult(check.name, check.key, badness, check.range, check.weight)
        )
    return _total(graded)


def _total(graded: list[CheckResult]) -> Exposure:
    weight_sum = sum(c.weight for c in graded if c.applicable)
    badness_sum = sum(c.contribution for c in graded)
    level = -(-badness_sum * 100 // weight_sum)
    checks = tuple(_with_shown(c, weight_sum) for c in graded)
    return Exposure(level, label_for(level), checks)


def _with_shown(check: CheckResult, weight_sum: int) -> CheckResult:
    if not check.badness:
        return check
    scaled = -(-check.badness * check.weight * 100 // check.range)
    shown = -(-scaled // weight_sum)
    return CheckResult(
        check.name, check.key, check.badness, check.range, check.weight, shown
    )
