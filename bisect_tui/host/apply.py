"""Apply one trial: compose, arm the dead-man, write, reload, restart, read back.

The order is chosen so that a run killed at any step leaves a host that heals:
the dead-man is armed *before* the drop-in is written, so from the first byte on
disk there is a timer that restores the last known-good state. The steps and
their commands are also what ``--plan`` prints, from the same code, so the plan
and the run cannot drift apart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bisect_tui.core.catalog import Entry
from bisect_tui.core.composition import Composition, compose_dropin
from bisect_tui.core.composition_unit import UnitAssignments, parse_systemctl_cat
from bisect_tui.core.dropin import render_dropin
from bisect_tui.errors import HostError, RollbackError
from bisect_tui.host import systemd
from bisect_tui.host.deadman import (
    ARM,
    DEFAULT_WINDOW,
    DISARM,
    DeadMan,
    arm_command,
)
from bisect_tui.host.readback import (
    Readback,
    SyscallTable,
    evaluate,
    needs_syscall_groups,
    readback_properties,
)
from bisect_tui.host.remote import (
    RELOAD_FAILED,
    RESTART,
    RESTORE,
    WRITE_DROPIN,
    WRITE_STATE_FILE,
    dropin_path,
    known_good_path,
)
from bisect_tui.host.runner import CommandResult, CommandRunner, loggable_command

log = logging.getLogger(__name__)

RESTART_TIMEOUT = 60.0
"""Seconds ``systemctl restart`` may take before the trial counts as hung."""

SETTLE_TIMEOUT = 20.0
"""Seconds to wait after the restart job for the unit to settle."""


@dataclass(frozen=True)
class TrialPlan:
    """Everything a trial will do, before it does it.

    Attributes:
        unit: The service unit.
        entries: The catalog entries of the trial.
        composition: The drop-in to write, composed with the unit's settings.
        window: The dead-man window in seconds.
    """

    unit: str
    entries: tuple[Entry, ...]
    composition: Composition
    window: float = DEFAULT_WINDOW

    @property
    def path(self) -> str:
        """Where the drop-in goes."""
        return dropin_path(self.unit)

    def commands(self) -> list[str]:
        """The remote commands of the trial, in order, as the host receives them.

        Fixed scripts are shown by their title; the drop-in goes on standard
        input of ``write-dropin``.
        """
        steps: list[tuple[list[str], bool, str]] = [
            (
                ARM.argv(self.unit, *arm_command(self.unit, self.window)),
                True,
                "rollback script on stdin",
            ),
            (WRITE_DROPIN.argv(self.unit), True, f"drop-in to {self.path}"),
            (RESTART.argv(self.unit), True, "daemon-reload, reset-failed, restart"),
            (["systemctl", "show", self.unit, "--property=..."], False, "read back"),
            (["journalctl", "--after-cursor=...", "_PID=1"], True, "warnings"),
            (DISARM.argv(self.unit), True, "once the checklist has decided"),
        ]
        lines = []
        for argv, sudo, note in steps:
            line = loggable_command(argv, sudo=sudo)
            lines.append(f"{line}    # {note}" if note else line)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "unit": self.unit,
            "path": self.path,
            "entries": [e.id for e in self.entries],
            "dropin": self.composition.text,
            "composed": [
                {"directive": d.directive, "action": d.action, "note": d.note}
                for d in self.composition.touching_unit()
            ],
            "deadman_seconds": self.window,
            "commands": self.commands(),
        }


def plan_trial(
    entries: Sequence[Entry],
    unit: str,
    unit_files: UnitAssignments,
    *,
    window: float = DEFAULT_WINDOW,
) -> TrialPlan:
    """Render and compose the drop-in for ``entries`` (pure: touches no host)."""
    text = render_dropin(entries, title=f"trial drop-in for {unit}")
    return TrialPlan(unit, tuple(entries), compose_dropin(text, unit_files), window)


@dataclass(frozen=True)
class ApplyOutcome:
    """What one apply did.

    Attributes:
        plan: The trial applied.
        state: The unit's state once settled.
        restart: The ``systemctl restart`` result.
        readback: What systemd applied, compared with the intent.
        timings: Seconds per step.
    """

    plan: TrialPlan
    state: systemd.UnitState
    restart: CommandResult
    readback: Readback
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The unit runs and every directive applied as intended."""
        return self.state.running and self.readback.ok

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "ok": self.ok,
            "unit_state": self.state.describe(),
            "active": self.state.running,
            "restart": self.restart.describe() if not self.restart.ok else "ok",
            "readback": self.readback.to_dict(),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "plan": self.plan.to_dict(),
        }


class TrialHost:
    """Applies trials to one unit over one connection, under a dead-man."""

    def __init__(
        self, runner: CommandRunner, unit: str, *, window: float = DEFAULT_WINDOW
    ) -> None:
        """Prepare to apply trials to ``unit`` on ``runner``'s host."""
        self.runner = runner
        self.unit = unit
        self.window = window
        self.deadman = DeadMan(runner, unit)
        self.syscalls = SyscallTable(runner)

    def unit_files(self) -> UnitAssignments:
        """What the unit sets without the tool's drop-in (``systemctl cat``)."""
        return parse_systemctl_cat(systemd.cat(self.runner, self.unit))

    def plan(self, entries: Sequence[Entry]) -> TrialPlan:
        """Plan a trial of ``entries`` against the unit as it is now."""
        return plan_trial(entries, self.unit, self.unit_files(), window=self.window)

    def apply(self, plan: TrialPlan) -> ApplyOutcome:
        """Run the trial's steps; the dead-man stays armed for the checklist.

        Raises:
            HostError: A step failed before the restart (the dead-man, armed
                first, restores the unit if the tool cannot).
        """
        timings: dict[str, float] = {}
        clock = _Stopwatch(timings)
        with clock("arm"):
            self.deadman.arm(plan.window)
        with clock("write"):
            result = WRITE_DROPIN.run(
                self.runner, self.unit, stdin=plan.composition.text
            )
            cursor = systemd.require(result, self.runner.host, "write the drop-in")
        with clock("restart"):
            restart = RESTART.run(self.runner, self.unit, timeout=RESTART_TIMEOUT)
            if restart.exit_status == RELOAD_FAILED:
                raise HostError(f"{self.runner.host}: systemctl daemon-reload failed")
        with clock("readback"):
            state, readback = self._read_back(plan, cursor.stdout.strip())
        log.info("%s: trial applied, %s", self.unit, state.describe())
        return ApplyOutcome(plan, state, restart, readback, timings)

    def _read_back(
        self, plan: TrialPlan, cursor: str
    ) -> tuple[systemd.UnitState, Readback]:
        props = readback_properties(plan.composition)
        printed = systemd.show(
            self.runner, self.unit, [*systemd.UNIT_STATE_PROPERTIES, *props]
        )
        state = systemd.state_from(printed)
        if not state.settled:
            state = systemd.wait_settled(self.runner, self.unit, SETTLE_TIMEOUT)
        journal = systemd.journal_since(self.runner, cursor, "_PID=1")
        groups = (
            self.syscalls.groups() if needs_syscall_groups(plan.composition) else {}
        )
        readback = evaluate(self.unit, plan.composition, printed, journal, groups)
        for problem in readback.problems():
            log.warning("%s: read-back: %s", self.runner.host, problem)
        return state, readback

    def keep(self, plan: TrialPlan) -> bool:
        """The trial was good: make it the known-good state, then disarm.

        Returns:
            Whether the dead-man had fired first (the verdict is then void).
        """
        name = known_good_path(self.unit).rsplit("/", 1)[-1]
        result = WRITE_STATE_FILE.run(
            self.runner, name, "0600", stdin=plan.composition.text
        )
        systemd.require(result, self.runner.host, "record the known-good drop-in")
        return self.deadman.disarm()

    def revert(self) -> bool:
        """The trial was bad: restore the known-good state now, then disarm.

        Returns:
            Whether the dead-man had fired first.

        Raises:
            RollbackError: The known-good state could not be restored.
        """
        result = RESTORE.run(self.runner, self.unit, "known-good", timeout=90)
        if not result.ok:
            raise RollbackError(
                f"{self.runner.host}: cannot restore {self.unit}: {result.describe()}"
            )
        return self.deadman.disarm()

    def leave_applied(self) -> bool:
        """Disarm the dead-man and leave the trial in place (``apply`` alone).

        Returns:
            Whether the dead-man had already fired (the trial is then undone).
        """
        return self.deadman.disarm()


class _Stopwatch:
    """Records the seconds each ``with clock("step")`` block takes."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._step = ""
        self._started = 0.0

    def __call__(self, step: str) -> _Stopwatch:
        self._step = step
        return self

    def __enter__(self) -> None:
        self._started = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.timings[self._step] = time.monotonic() - self._started
