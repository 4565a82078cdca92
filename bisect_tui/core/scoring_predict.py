"""Predict a unit's properties, and its score, once a drop-in is applied.

systemd builds a unit's settings from its file and drop-ins in order, then
patches in what some directives imply (``DynamicUser=`` forces
``ProtectSystem=strict`` and more, ``PrivateDevices=`` closes the device policy,
``ProtectClock=`` adds ``char-rtc`` to a device allow-list and drops
``CAP_SYS_TIME``). ``systemctl show`` prints the patched result, so a prediction
first takes back what the patch step added to the current properties, applies
the drop-in's assignments in order, and patches again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from bisect_tui.core.catalog import Entry
from bisect_tui.core.dropin import dropin_assignments, render_dropin
from bisect_tui.core.scoring import Exposure, exposure
from bisect_tui.core.scoring_directives import apply_assignment
from bisect_tui.core.scoring_state import (
    CAP_ALL,
    UnitState,
    state_from_properties,
    state_to_properties,
)
from bisect_tui.core.scoring_tables import HostTables, default_tables

logger = logging.getLogger(__name__)

_CAPABILITIES_DROPPED_BY: dict[str, tuple[str, ...]] = {
    "PrivateDevices": ("cap_mknod", "cap_sys_rawio"),
    "ProtectKernelModules": ("cap_sys_module",),
    "ProtectKernelLogs": ("cap_syslog",),
    "ProtectClock": ("cap_sys_time", "cap_wake_alarm"),
}

_ROOT_IMAGE_DEVICES = (
    ("/dev/loop-control", "rw"),
    ("/dev/mapper/control", "rw"),
    ("block-loop", "rwm"),
    ("block-blkext", "rwm"),
    ("block-device-mapper", "rwm"),
)

_CLOCK_DEVICE = ("char-rtc", "r")


def predict_properties(
    base: Mapping[str, str],
    assignments: Iterable[tuple[str, str]],
    tables: HostTables | None = None,
) -> dict[str, str]:
    """Return the properties ``systemctl show`` prints after a drop-in.

    Args:
        base: The unit's current properties, as ``systemctl show`` prints them.
        assignments: The drop-in's ``(directive, value)`` lines in order,
            empty reset values included.
        tables: The host's syscall groups and capabilities; ``None`` uses the
            shipped tables of systemd 252.
    """
    tables = tables or default_tables()
    state = state_from_properties(base, tables)
    _unpatch(state, tables)
    for directive, value in assignments:
        apply_assignment(state, directive, value, tables)
    _patch(state, tables)
    return state_to_properties(state, base, tables)


def predict_exposure(
    base: Mapping[str, str],
    change: str | Sequence[tuple[str, str]] | Sequence[Entry],
    tables: HostTables | None = None,
) -> Exposure:
    """Return the exposure ``systemd-analyze security`` will print after a change.

    Args:
        base: The unit's current properties, as ``systemctl show`` prints them.
        change: A drop-in's text, its ``(directive, value)`` lines, or catalog
            entries (rendered the way the tool's drop-in renders them).
        tables: The host's tables; ``None`` uses the shipped ones.
    """
    return exposure(predict_properties(base, as_assignments(change), tables), tables)


def as_assignments(
    change: str | Sequence[tuple[str, str]] | Sequence[Entry],
) -> list[tuple[str, str]]:
    """Return the ``(directive, value)`` lines a change amounts to, in order.

    Raises:
        ValueError: The sequence mixes assignment pairs and catalog entries.
    """
    if isinstance(change, str):
        return dropin_assignments(change)
    pairs = [item for item in change if isinstance(item, tuple)]
    entries = [item for item in change if isinstance(item, Entry)]
    if pairs and entries:
        raise ValueError("give either (directive, value) pairs or entries, not both")
    if entries:
        return dropin_assignments(render_dropin(entries))
    return [(str(directive), str(value)) for directive, value in pairs]


def _unpatch(state: UnitState, tables: HostTables) -> None:
    """Take back what systemd's patch step added to the shown properties."""
    implied = _implied_capabilities(state, tables)
    every = (1 << (tables.last_capability + 1)) - 1
    if (state.bounding | implied) & every == every:
        # The set was never assigned: systemd starts it from every capability.
        state.bounding = CAP_ALL
    if _adds_devices(state):
        added = [_CLOCK_DEVICE] if state.bools["ProtectClock"] else []
        if state.strings["RootImage"]:
            added.extend(_ROOT_IMAGE_DEVICES)
        state.devices = [d for d in state.devices if d not in added]


def _patch(state: UnitState, tables: HostTables) -> None:
    """Add what systemd implies once every assignment is read."""
    state.bounding &= ~_implied_capabilities(state, tables)
    if state.bools["DynamicUser"]:
        _patch_dynamic_user(state)
    if state.bools["PrivateDevices"] and state.strings["DevicePolicy"] == "auto":
        state.strings["DevicePolicy"] = "closed"
    if _adds_devices(state):
        if state.strings["RootImage"]:
            for device in _ROOT_IMAGE_DEVICES:
                state.devices.insert(0, device)
        if state.bools["ProtectClock"]:
            state.devices.insert(0, _CLOCK_DEVICE)


def _patch_dynamic_user(state: UnitState) -> None:
    if state.user is None:
        # TODO: systemd hashes unit names that are not valid user names.
        state.user = state.unit.rpartition(".")[0] or state.unit
    for name in ("PrivateTmp", "RemoveIPC", "NoNewPrivileges", "RestrictSUIDSGID"):
        state.bools[name] = True
    state.strings["ProtectSystem"] = "strict"
    if state.strings["ProtectHome"] in (None, "no"):
        state.strings["ProtectHome"] = "read-only"


def _implied_capabilities(state: UnitState, tables: HostTables) -> int:
    mask = 0
    for flag, names in _CAPABILITIES_DROPPED_BY.items():
        if state.bools[flag]:
            for name in names:
                mask |= 1 << tables.capabilities[name]
    return mask


def _adds_devices(state: UnitState) -> bool:
    policy = state.strings["DevicePolicy"] or "auto"
    return policy != "auto" or bool(state.devices)
