"""Thin wrappers for the ``systemctl`` and ``journalctl`` calls the host layer makes.

Each returns parsed data or raises one error naming the host and the command, so
the steps of an apply or a pre-flight read as a list of plain calls.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bisect_tui.errors import HostError
from bisect_tui.host.runner import CommandResult, CommandRunner

_VERSION = re.compile(r"^systemd (\d+)")


def require(result: CommandResult, host: str, what: str) -> CommandResult:
    """Return ``result`` if it succeeded, else raise a one-line HostError.

    Args:
        result: The command's result.
        host: The host, for the message.
        what: What the command was for, e.g. ``"reload systemd"``.
    """
    if not result.ok:
        raise HostError(f"{host}: cannot {what}: {result.describe()}")
    return result


def systemd_version(runner: CommandRunner) -> int:
    """The host's systemd version, e.g. 252.

    Raises:
        HostError: ``systemctl --version`` failed or printed no version.
    """
    result = require(runner.run(["systemctl", "--version"]), runner.host, "ask systemd")
    match = _VERSION.match(result.stdout.strip())
    if match is None:
        raise HostError(f"{runner.host}: unexpected systemctl --version output")
    return int(match.group(1))


def show(runner: CommandRunner, unit: str, properties: Sequence[str]) -> dict[str, str]:
    """Read unit properties with ``systemctl show``.

    Properties systemd does not know are absent from the result. A property
    printed on several lines (``DeviceAllow``) has its values joined by newlines.
    """
    argv = ["systemctl", "show", unit, "--no-pager"]
    argv += [f"--property={name}" for name in properties]
    result = require(runner.run(argv), runner.host, f"read the properties of {unit}")
    return parse_show(result.stdout)


def parse_show(text: str) -> dict[str, str]:
    """Parse ``Name=value`` lines; repeated names are joined by newlines."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if not sep:
            continue
        values[name] = f"{values[name]}\n{value}" if name in values else value
    return values


def cat(runner: CommandRunner, unit: str) -> str:
    """The unit's files as ``systemctl cat`` prints them."""
    result = runner.run(["systemctl", "cat", "--no-pager", unit])
    return require(result, runner.host, f"read the files of {unit}").stdout


@dataclass(frozen=True)
class UnitState:
    """Where a unit stands after a restart.

    Attributes:
        active: ``ActiveState`` (active, failed, activating, …).
        sub: ``SubState`` (running, auto-restart, …).
        result: ``Result`` (success, exit-code, signal, …).
        main_status: ``ExecMainStatus``: the main process's exit status or signal.
        restarts: ``NRestarts``.
    """

    active: str
    sub: str
    result: str
    main_status: str
    restarts: str

    @property
    def settled(self) -> bool:
        """Whether the unit stopped changing: running, failed, or waiting to retry."""
        return self.active in ("active", "failed", "inactive") or self.sub in (
            "auto-restart",
        )

    @property
    def running(self) -> bool:
        """Whether the unit is active (which says nothing about its workers)."""
        return self.active == "active"

    def describe(self) -> str:
        """E.g. ``"failed (exit-code, status 1)"``."""
        if self.running:
            return f"{self.active} ({self.sub})"
        return f"{self.active}/{self.sub} ({self.result}, status {self.main_status})"


UNIT_STATE_PROPERTIES = (
    "ActiveState",
    "SubState",
    "Result",
    "ExecMainStatus",
    "NRestarts",
)


def unit_state(runner: CommandRunner, unit: str) -> UnitState:
    """Read the unit's state properties."""
    return state_from(show(runner, unit, UNIT_STATE_PROPERTIES))


def state_from(values: dict[str, str]) -> UnitState:
    """The unit state in ``systemctl show`` output for :data:`UNIT_STATE_PROPERTIES`."""
    return UnitState(
        values.get("ActiveState", ""),
        values.get("SubState", ""),
        values.get("Result", ""),
        values.get("ExecMainStatus", ""),
        values.get("NRestarts", ""),
    )


def wait_settled(
    runner: CommandRunner, unit: str, timeout: float, interval: float = 0.5
) -> UnitState:
    """Poll until the unit is active, failed or waiting to restart, or ``timeout``."""
    deadline = time.monotonic() + timeout
    state = unit_state(runner, unit)
    while not state.settled and time.monotonic() < deadline:
        time.sleep(interval)
        state = unit_state(runner, unit)
    return state


def journal_cursor(runner: CommandRunner) -> str:
    """The journal's current position, to read only what comes after it."""
    result = runner.run(["journalctl", "--show-cursor", "-n", "0", "-q"], sudo=True)
    require(result, runner.host, "read the journal")
    for line in result.stdout.splitlines():
        if line.startswith("-- cursor: "):
            return line.removeprefix("-- cursor: ").strip()
    return ""


def journal_since(runner: CommandRunner, cursor: str, *matches: str) -> list[str]:
    """Journal lines after ``cursor`` matching journalctl ``matches`` (e.g. ``_PID=1``).

    Without a cursor, the last 200 matching lines.
    """
    argv = ["journalctl", "--no-pager", "-q", "-o", "cat"]
    argv += [f"--after-cursor={cursor}"] if cursor else ["-n", "200"]
    result = require(
        runner.run([*argv, *matches], sudo=True), runner.host, "read the journal"
    )
    return result.stdout.splitlines()
