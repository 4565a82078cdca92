"""The dead-man timer: PID 1 undoes a trial unless the tool says it is done with it.

Before each trial the tool arms a transient timer on the host, owned by systemd
itself, that runs ``/run/harden-bisect/rollback.sh`` after a window: restore the
last known-good drop-in (or remove the tool's drop-in), reload, reset the start
counter, restart the unit. The tool disarms it once the checklist has decided.
If the tool is killed or its connection is cut, nobody disarms it, and the host
heals itself within the window.

``AccuracySec=1s`` matters: systemd's default timer accuracy is one minute, which
made a 60 s timer fire after almost two. ``--collect`` lets a failed rollback's
unit be garbage-collected instead of blocking the next arming under the same name.
"""

from __future__ import annotations

import logging

from bisect_tui.errors import HostError
from bisect_tui.host.remote import (
    ROLLBACK_SCRIPT_PATH,
    ROLLBACK_SCRIPT_TEXT,
    RemoteScript,
)
from bisect_tui.host.runner import CommandRunner
from bisect_tui.host.systemd import parse_show, require

log = logging.getLogger(__name__)

DEADMAN_UNIT = "harden-bisect-deadman"
"""The transient units' name: ``harden-bisect-deadman.timer`` and ``.service``."""

DEFAULT_WINDOW = 90.0
"""Seconds a trial may take (apply, restart, checklist) before the host heals."""


def arm_command(unit: str, window: float) -> list[str]:
    """The ``systemd-run`` command that arms the dead-man for ``unit``.

    Args:
        unit: The service to restore.
        window: Seconds until it fires.
    """
    return [
        "systemd-run",
        f"--unit={DEADMAN_UNIT}",
        f"--description=harden-bisect dead-man rollback of {unit}",
        f"--on-active={max(1, round(window))}s",
        "--timer-property=AccuracySec=1s",
        "--collect",
        "--quiet",
        "/bin/sh",
        ROLLBACK_SCRIPT_PATH,
        unit,
        "deadman",
    ]


DISARM = RemoteScript(
    "disarm",
    f"""# harden-bisect: disarm
unit=$1
systemctl stop {DEADMAN_UNIT}.timer 2>/dev/null
systemctl reset-failed {DEADMAN_UNIT}.service 2>/dev/null
note=/run/harden-bisect/$unit.deadman-fired
if [ -e "$note" ]; then echo "fired at $(cat "$note")"; rm -f "$note"; fi
exit 0
""",
)
"""Stop the timer (a running rollback is left to finish); report if it fired."""

ARM = RemoteScript(
    "arm",
    """# harden-bisect: arm
set -eu
unit=$1
state=/run/harden-bisect
install -d -m 0700 "$state"
tmp=$(mktemp "$state/.rollback.XXXXXX")
cat > "$tmp"
chmod 0700 "$tmp"
mv -f "$tmp" "$state/rollback.sh"
systemctl stop harden-bisect-deadman.timer 2>/dev/null || true
systemctl reset-failed harden-bisect-deadman.service 2>/dev/null || true
rm -f "$state/$unit.deadman-fired"
shift
exec "$@"
""",
)
"""Write the rollback script (standard input), clear an old timer, run ``$2…``."""


class DeadMan:
    """Arms and disarms the dead-man timer for one unit on one host."""

    def __init__(self, runner: CommandRunner, unit: str) -> None:
        """Create the dead-man for ``unit`` on ``runner``'s host."""
        self.runner = runner
        self.unit = unit

    def arm(self, window: float = DEFAULT_WINDOW) -> None:
        """Arm (or re-arm) the timer to fire in ``window`` seconds.

        One remote call writes the rollback script, clears an earlier timer and
        starts the new one.

        Raises:
            HostError: The timer could not be armed; the caller must not
                restart the unit without it.
        """
        argv = ARM.argv(self.unit, *arm_command(self.unit, window))
        result = self.runner.run(argv, sudo=True, stdin=ROLLBACK_SCRIPT_TEXT)
        require(result, self.runner.host, "arm the dead-man timer")
        log.info("dead-man armed: %s rolls back in %.0f s", self.unit, window)

    def disarm(self) -> bool:
        """Stop the timer. Returns whether it had fired since it was armed.

        A rollback already running is left to finish: killing it halfway could
        leave the unit stopped.
        """
        result = DISARM.run(self.runner, self.unit)
        require(result, self.runner.host, "disarm the dead-man timer")
        fired = result.stdout.startswith("fired")
        if fired:
            log.warning("dead-man had fired: %s was rolled back", self.unit)
        return fired


def is_armed(runner: CommandRunner) -> bool:
    """Whether a dead-man timer is waiting on ``runner``'s host (no change)."""
    argv = ["systemctl", "show", f"{DEADMAN_UNIT}.timer"]
    result = runner.run([*argv, "--property=ActiveState,SubState"])
    if not result.ok:
        raise HostError(f"{runner.host}: cannot read the dead-man: {result.describe()}")
    state = parse_show(result.stdout)
    return state.get("ActiveState") == "active" and state.get("SubState") == "waiting"
