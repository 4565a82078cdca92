"""Pre-flight: is the host ready for a trial? Checked before anything changes.

Each check fails with one line naming the host and what to fix: authentication
(already proven by the connection), passwordless sudo, the unit, systemd-analyze,
the host lock. Two findings are reported without failing: catalog entries the
host's systemd is too old for, and a drop-in an interrupted run left behind
(offered for rollback or resume by the caller).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bisect_tui.core.catalog import Entry
from bisect_tui.errors import PreflightError
from bisect_tui.host import systemd
from bisect_tui.host.deadman import is_armed
from bisect_tui.host.lock import LockState, inspect_lock
from bisect_tui.host.remote import READ_STATE, dropin_path, known_good_path, parse_state
from bisect_tui.host.runner import CommandRunner, first_line

log = logging.getLogger(__name__)

_ENTRIES_HEADER = re.compile(r"^# Entries \(\d+\):(.*)$")


@dataclass(frozen=True)
class Leftover:
    """A drop-in an interrupted run left on the host.

    Attributes:
        text: The drop-in.
        entry_ids: The catalog entries its header names.
        known_good: The known-good drop-in kept alongside, if any.
        deadman_armed: Whether the dead-man of that run is still waiting.
    """

    text: str
    entry_ids: tuple[str, ...]
    known_good: str | None
    deadman_armed: bool


@dataclass(frozen=True)
class PreflightReport:
    """What the pre-flight found.

    Attributes:
        host: The host as named by the operator.
        user: The login on the host.
        systemd_version: The host's systemd version.
        unit: The unit checked.
        unit_state: The unit's ``ActiveState``.
        fragment: The unit's main file.
        too_new: Entries whose ``since`` is newer than the host's systemd.
        lock: The host lock as found (free, stale, …).
        leftover: A drop-in left by an interrupted run, if any.
    """

    host: str
    user: str
    systemd_version: int
    unit: str
    unit_state: str
    fragment: str
    too_new: tuple[Entry, ...]
    lock: LockState
    leftover: Leftover | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        left = self.leftover
        return {
            "host": self.host,
            "user": self.user,
            "systemd_version": self.systemd_version,
            "unit": self.unit,
            "unit_state": self.unit_state,
            "fragment": self.fragment,
            "too_new": [
                {"id": e.id, "directive": e.directive, "since": e.since}
                for e in self.too_new
            ],
            "lock": {"status": self.lock.status, "holder": self.lock.holder},
            "leftover": None
            if left is None
            else {
                "entries": list(left.entry_ids),
                "dropin": left.text,
                "has_known_good": left.known_good is not None,
                "deadman_armed": left.deadman_armed,
            },
        }


def check_sudo(runner: CommandRunner) -> str:
    """Return the login name, after proving ``sudo -n`` works for it.

    Raises:
        PreflightError: sudo asks for a password or refuses.
    """
    user = runner.run(["id", "-un"]).stdout.strip() or "?"
    result = runner.run(["true"], sudo=True)
    if not result.ok:
        said = first_line(result.stderr) or f"exit status {result.exit_status}"
        raise PreflightError(
            f"{runner.host}: sudo -n does not work for {user} ({said}); the tool "
            f"needs passwordless sudo"
        )
    return user


def check_unit(runner: CommandRunner, unit: str) -> dict[str, str]:
    """Return the unit's LoadState, ActiveState and FragmentPath.

    Raises:
        PreflightError: The unit does not exist or is masked.
    """
    props = systemd.show(runner, unit, ["LoadState", "ActiveState", "FragmentPath"])
    load = props.get("LoadState", "")
    if load != "loaded":
        problem = "is masked" if load == "masked" else "does not exist"
        raise PreflightError(f"{runner.host}: unit {unit} {problem} (LoadState={load})")
    return props


def check_analyze(runner: CommandRunner) -> None:
    """Raise PreflightError unless ``systemd-analyze`` runs on the host."""
    result = runner.run(["systemd-analyze", "--version"])
    if not result.ok:
        raise PreflightError(
            f"{runner.host}: systemd-analyze is missing ({result.describe()}); "
            f"install the package that ships it"
        )


def find_leftover(runner: CommandRunner, unit: str) -> Leftover | None:
    """The drop-in an interrupted run left, if any."""
    result = READ_STATE.run(runner, unit)
    systemd.require(result, runner.host, "read the tool's files")
    files = parse_state(result.stdout)
    text = files.get(dropin_path(unit))
    if text is None:
        return None
    armed = is_armed(runner)
    ids = header_entry_ids(text)
    return Leftover(text, ids, files.get(known_good_path(unit)), armed)


def header_entry_ids(text: str) -> tuple[str, ...]:
    """The entry ids a drop-in's header comment names, continuation lines too."""
    listed = ""
    inside = False
    for line in text.splitlines():
        match = _ENTRIES_HEADER.match(line)
        if match:
            listed, inside = match.group(1), True
        elif inside and line.startswith("#   "):
            listed += "," + line[1:]
        else:
            inside = False
    return tuple(i.strip() for i in listed.split(",") if i.strip())


def run_preflight(
    runner: CommandRunner, unit: str, entries: Sequence[Entry] = ()
) -> PreflightReport:
    """Check that the host is ready for trials of ``entries`` on ``unit``.

    Raises:
        PreflightError: One line naming the host and the problem.
        HostError: The connection failed during the checks.
    """
    user = check_sudo(runner)
    version = systemd.systemd_version(runner)
    props = check_unit(runner, unit)
    check_analyze(runner)
    lock = inspect_lock(runner)
    if lock.status == "busy":
        raise PreflightError(
            f"{runner.host}: another harden-bisect run holds the host "
            f"({lock.describe_holder()})"
        )
    too_new = tuple(e for e in entries if e.since > version)
    for entry in too_new:
        log.warning(
            "%s: systemd %d is older than %s needs (%d): %s will be ignored",
            runner.host,
            version,
            entry.directive,
            entry.since,
            entry.id,
        )
    leftover = find_leftover(runner, unit)
    return PreflightReport(
        runner.host,
        user,
        version,
        unit,
        props.get("ActiveState", ""),
        props.get("FragmentPath", ""),
        too_new,
        lock,
        leftover,
    )
