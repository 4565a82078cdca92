"""Read back what systemd actually applied, and compare it with the trial's intent.

systemd ignores a directive it does not know, or a value it cannot parse, with a
warning and carries on: the unit starts, the checklist passes, and the trial
"proves" a directive that never applied. After every apply the tool therefore
reads every directive of the trial with ``systemctl show``, confirms that the
drop-in was loaded (``DropInPaths``), and reads systemd's own warnings about the
drop-in from the journal. A directive that is missing, differs, or drew a warning
fails the read-back, and such a trial never counts as a pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bisect_tui.core.composition import ComposedDirective, Composition
from bisect_tui.core.composition_unit import CAPABILITY_INITIAL
from bisect_tui.host.readback_rules import (
    SyscallGroups,
    parse_syscall_groups,
    property_name,
    rule_for,
)
from bisect_tui.host.remote import dropin_path
from bisect_tui.host.runner import CommandRunner
from bisect_tui.host.systemd import require, show

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectiveReadback:
    """One directive: what the trial meant and what systemd reports.

    Attributes:
        directive: The directive.
        property: The ``systemctl show`` property read.
        intended: The assignments in effect, joined by `` | ``.
        printed: What systemd printed; ``None`` when it has no such property.
        verdict: ``applied``, ``differs`` or ``ignored``.
        rule: How the two were compared.
    """

    directive: str
    property: str
    intended: str
    printed: str | None
    verdict: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Readback:
    """The read-back of one trial.

    Attributes:
        directives: One result per directive of the trial.
        dropin_loaded: ``DropInPaths`` lists the tool's drop-in.
        warnings: systemd's journal lines about the drop-in since the reload.
    """

    directives: tuple[DirectiveReadback, ...]
    dropin_loaded: bool
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Everything applied as intended, the drop-in loaded, no warning."""
        applied = all(d.verdict == "applied" for d in self.directives)
        return applied and self.dropin_loaded and not self.warnings

    def problems(self) -> list[str]:
        """One line per problem, for the operator."""
        lines = [] if self.dropin_loaded else ["systemd did not load the drop-in"]
        for item in self.directives:
            if item.verdict == "ignored":
                lines.append(f"{item.directive}: ignored (systemd has no such setting)")
            elif item.verdict == "differs":
                shown = _clip(item.printed or "", 80)
                lines.append(
                    f"{item.directive}: systemd applied {shown!r}, "
                    f"not {_clip(item.intended, 80)!r} ({item.rule})"
                )
        lines.extend(f"systemd: {warning}" for warning in self.warnings)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "ok": self.ok,
            "dropin_loaded": self.dropin_loaded,
            "warnings": list(self.warnings),
            "directives": [d.to_dict() for d in self.directives],
            "problems": self.problems(),
        }


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


class SyscallTable:
    """The host's syscall groups, read once per connection when first needed."""

    def __init__(self, runner: CommandRunner) -> None:
        """Read from ``runner``'s host on first use."""
        self.runner = runner
        self._groups: SyscallGroups | None = None

    def groups(self) -> SyscallGroups:
        """Group name to syscall names, nested groups expanded."""
        if self._groups is None:
            argv = ["systemd-analyze", "syscall-filter", "--no-pager"]
            result = require(self.runner.run(argv), self.runner.host, "list syscalls")
            self._groups = parse_syscall_groups(result.stdout)
        return self._groups


def intended_lines(item: ComposedDirective) -> tuple[str, ...]:
    """The assignments the comparison starts from.

    Capability sets fold the unit's and the drop-in's lines in full, because a
    reset there does not return to the initial set (see
    :func:`~bisect_tui.core.composition_unit.fold_capabilities`).
    """
    if item.directive in CAPABILITY_INITIAL:
        return (*item.unit_values, *item.lines)
    return item.effective


def compare_directive(
    item: ComposedDirective, printed: str | None, groups: SyscallGroups
) -> DirectiveReadback:
    """Compare one composed directive with what systemd printed."""
    rule = rule_for(item.directive)
    lines = intended_lines(item)
    intended = " | ".join(lines) if lines else '""'
    prop = property_name(item.directive)
    if printed is None:
        return DirectiveReadback(item.directive, prop, intended, None, "ignored", "")
    wanted, shown = rule.compare(lines, printed, groups)
    verdict = "applied" if wanted == shown and wanted is not None else "differs"
    return DirectiveReadback(
        item.directive, prop, intended, printed, verdict, rule.name
    )


def readback_properties(composition: Composition) -> list[str]:
    """The ``systemctl show`` properties a read-back of ``composition`` needs."""
    props = [property_name(d.directive) for d in composition.directives]
    return [*dict.fromkeys(props), "DropInPaths"]


def needs_syscall_groups(composition: Composition) -> bool:
    """Whether the trial has a syscall filter to compare."""
    return any(d.directive == "SystemCallFilter" for d in composition.directives)


def evaluate(
    unit: str,
    composition: Composition,
    printed: dict[str, str],
    journal: list[str],
    groups: SyscallGroups,
) -> Readback:
    """Compare what was written with what systemd reports (pure).

    Args:
        unit: The unit the trial applies to.
        composition: What was written.
        printed: ``systemctl show`` output for :func:`readback_properties`.
        journal: systemd's (PID 1's) journal lines since the reload.
        groups: The host's syscall groups, for ``SystemCallFilter``.
    """
    results = tuple(
        compare_directive(item, printed.get(property_name(item.directive)), groups)
        for item in composition.directives
    )
    path = dropin_path(unit)
    loaded = path in printed.get("DropInPaths", "").split()
    warnings = tuple(line for line in journal if path in line)
    return Readback(results, loaded, warnings)


def read_back(
    runner: CommandRunner,
    unit: str,
    composition: Composition,
    journal: list[str],
    syscalls: SyscallTable,
) -> Readback:
    """Read every directive of the trial back from the host and compare.

    Args:
        runner: The host.
        unit: The unit the trial applies to.
        composition: What was written.
        journal: systemd's (PID 1's) journal lines since the reload.
        syscalls: The host's syscall groups, for ``SystemCallFilter``.
    """
    printed = show(runner, unit, readback_properties(composition))
    groups = syscalls.groups() if needs_syscall_groups(composition) else {}
    readback = evaluate(unit, composition, printed, journal, groups)
    for problem in readback.problems():
        log.warning("%s: read-back: %s", runner.host, problem)
    return readback
