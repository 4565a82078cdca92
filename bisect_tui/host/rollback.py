"""Rollback: remove the tool's drop-in, restart the unit, leave nothing behind.

Only the tool's own file goes (``systemctl revert`` would also delete an
administrator's drop-ins). Then the dead-man is disarmed, the known-good copy and
the rollback script are forgotten, and the result is verified: the drop-in is
gone, no transient unit of the tool is loaded, and the unit's state is reported.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from bisect_tui.errors import RollbackError
from bisect_tui.host import systemd
from bisect_tui.host.deadman import DEADMAN_UNIT, DeadMan
from bisect_tui.host.remote import FORGET_STATE, READ_STATE, RESTORE, dropin_path
from bisect_tui.host.runner import CommandRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollbackOutcome:
    """What a rollback found and did.

    Attributes:
        had_dropin: The tool's drop-in was present.
        state: The unit's state afterwards.
        deadman_fired: The dead-man had fired before the rollback.
        seconds: How long the rollback took.
    """

    had_dropin: bool
    state: systemd.UnitState
    deadman_fired: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "had_dropin": self.had_dropin,
            "unit_state": self.state.describe(),
            "active": self.state.running,
            "deadman_fired": self.deadman_fired,
            "seconds": round(self.seconds, 3),
        }


def has_dropin(runner: CommandRunner, unit: str) -> bool:
    """Whether the tool's drop-in for ``unit`` exists on the host."""
    result = READ_STATE.run(runner, unit)
    systemd.require(result, runner.host, "read the tool's files")
    return f"== {dropin_path(unit)}" in result.stdout


def rollback(runner: CommandRunner, unit: str) -> RollbackOutcome:
    """Remove the tool's drop-in of ``unit``, restart it and clean up.

    Without a drop-in nothing is restarted; the dead-man and the state files
    are cleared all the same.

    Raises:
        RollbackError: The drop-in could not be removed, or a transient unit of
            the tool is still loaded; the host is left modified.
    """
    started = time.monotonic()
    had = has_dropin(runner, unit)
    # Disarm first: a dead-man firing halfway through would restart the unit
    # with the known-good drop-in this rollback is about to remove.
    fired = DeadMan(runner, unit).disarm()
    result = RESTORE.run(runner, unit, "remove", timeout=90) if had else None
    systemd.require(FORGET_STATE.run(runner, unit), runner.host, "clean up")
    _verify(runner, unit)
    state = systemd.wait_settled(runner, unit, 20.0)
    if result is not None and not result.ok:
        log.warning("%s: restart after rollback: %s", unit, result.describe())
    log.info("%s: rolled back, %s", unit, state.describe())
    return RollbackOutcome(had, state, fired, time.monotonic() - started)


def _verify(runner: CommandRunner, unit: str) -> None:
    if has_dropin(runner, unit):
        raise RollbackError(
            f"{runner.host}: {dropin_path(unit)} is still there; remove it by hand "
            f"and run systemctl daemon-reload"
        )
    if deadman_loaded(runner):
        raise RollbackError(
            f"{runner.host}: {DEADMAN_UNIT}.timer is still loaded; stop it with "
            f"systemctl stop {DEADMAN_UNIT}.timer"
        )


def deadman_loaded(runner: CommandRunner) -> bool:
    """Whether a transient unit of the tool is loaded on the host.

    Stopped transient units are garbage-collected at once, so "loaded" means a
    timer still waiting or a rollback still running.
    """
    names = [f"{DEADMAN_UNIT}.timer", f"{DEADMAN_UNIT}.service"]
    result = runner.run(["systemctl", "show", *names, "--property=LoadState"])
    systemd.require(result, runner.host, "read the dead-man")
    return "LoadState=loaded" in result.stdout.split()
