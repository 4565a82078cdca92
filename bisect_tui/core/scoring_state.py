"""A unit's security settings as systemd holds them while it loads a unit.

``systemctl show`` prints flattened text; a drop-in changes the settings the way
systemd's parsers do (a capability line ORs into the set, a ``~`` line removes,
an empty line resets). :class:`UnitState` keeps the settings in the same shapes
systemd keeps them (bit masks, allow/deny sets), so that the directive rules in
:mod:`bisect_tui.core.scoring_directives` can be written as systemd applies them,
and turns them back into ``systemctl show`` text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from bisect_tui.core.scoring_info import (
    BOOL_PROPERTIES,
    NAMESPACE_FLAGS,
    NAMESPACE_FLAGS_ALL,
    STRING_PROPERTIES,
    capability_mask,
    parse_bool,
    parse_syscall_filter_value,
)
from bisect_tui.core.scoring_tables import HostTables

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CAP_ALL = (1 << 64) - 1
"""The bounding set systemd starts from: every capability."""

NAMESPACES_INITIAL = (1 << 64) - 1
"""``RestrictNamespaces=`` never assigned (prints as ``no``)."""


@dataclass
class UnitState:
    """Mutable security settings of one unit, in systemd's own shapes.

    Attributes:
        bools: Yes/no settings by property name (``DynamicUser`` included).
        strings: Text settings by property name; ``None`` when unset.
        user: ``User=``, ``None`` when unset.
        supplementary_groups: ``SupplementaryGroups=`` in order.
        umask: ``UMask=`` as a number.
        bounding: ``CapabilityBoundingSet=`` as a 64-bit mask.
        ambient: ``AmbientCapabilities=`` as a 64-bit mask.
        namespaces: Namespaces ``RestrictNamespaces=`` still allows.
        families: ``RestrictAddressFamilies=`` names; ``None`` when unset.
        families_allow: Whether ``families`` is an allow-list.
        syscalls: ``SystemCallFilter=`` names mapped to a per-call error (or
            ``None``); ``None`` when no filter is set.
        syscalls_allow: Whether ``syscalls`` is an allow-list.
        archs: ``SystemCallArchitectures=`` names.
        devices: ``DeviceAllow=`` as (path, rights) pairs, newest first as
            systemd lists them.
        ip_allow: ``IPAddressAllow=`` prefixes.
        ip_deny: ``IPAddressDeny=`` prefixes.
        unit: The unit's name, e.g. ``nginx.service``.
    """

    bools: dict[str, bool] = field(default_factory=dict)
    strings: dict[str, str | None] = field(default_factory=dict)
    user: str | None = None
    supplementary_groups: list[str] = field(default_factory=list)
    umask: int = 0o022
    bounding: int = CAP_ALL
    ambient: int = 0
    namespaces: int = NAMESPACES_INITIAL
    families: set[str] | None = None
    families_allow: bool = False
    syscalls: dict[str, str | None] | None = None
    syscalls_allow: bool = False
    archs: set[str] = field(default_factory=set)
    devices: list[tuple[str, str]] = field(default_factory=list)
    ip_allow: set[IPNetwork] = field(default_factory=set)
    ip_deny: set[IPNetwork] = field(default_factory=set)
    unit: str = ""


STATE_BOOLS = (*BOOL_PROPERTIES, "DynamicUser")
"""Yes/no properties the state keeps."""

STATE_KEYS = frozenset(
    {
        *STATE_BOOLS,
        *STRING_PROPERTIES,
        "User",
        "SupplementaryGroups",
        "UMask",
        "CapabilityBoundingSet",
        "AmbientCapabilities",
        "RestrictNamespaces",
        "RestrictAddressFamilies",
        "SystemCallFilter",
        "SystemCallArchitectures",
        "DeviceAllow",
        "IPAddressAllow",
        "IPAddressDeny",
    }
)
"""Every ``systemctl show`` key the state reads and writes back."""


def state_from_properties(
    properties: Mapping[str, str], tables: HostTables
) -> UnitState:
    """Read ``systemctl show`` properties into a :class:`UnitState`."""
    state = UnitState(unit=properties.get("Id", ""))
    for name in STATE_BOOLS:
        state.bools[name] = parse_bool(properties.get(name)) is True
    for name in STRING_PROPERTIES:
        state.strings[name] = properties.get(name) or None
    state.user = properties.get("User") or None
    state.supplementary_groups = properties.get("SupplementaryGroups", "").split()
    state.umask = int(properties.get("UMask") or "0022", 8)
    state.bounding = capability_mask(properties.get("CapabilityBoundingSet"), tables)
    state.ambient = capability_mask(properties.get("AmbientCapabilities"), tables)
    state.namespaces = _namespaces_from_text(properties.get("RestrictNamespaces"))
    _read_families(state, properties.get("RestrictAddressFamilies"))
    _read_syscalls(state, properties.get("SystemCallFilter"))
    state.archs = set(properties.get("SystemCallArchitectures", "").split())
    state.devices = [
        _split_device(line) for line in properties.get("DeviceAllow", "").splitlines()
    ]
    state.ip_allow = _networks(properties.get("IPAddressAllow"))
    state.ip_deny = _networks(properties.get("IPAddressDeny"))
    return state


def state_to_properties(
    state: UnitState, base: Mapping[str, str], tables: HostTables
) -> dict[str, str]:
    """Write the state back as ``systemctl show`` would print it.

    Keys the state does not model are copied from ``base`` untouched; empty
    values are left out, as ``systemctl show`` leaves them out.
    """
    shown: dict[str, str] = {k: v for k, v in base.items() if k not in STATE_KEYS}
    values: dict[str, str | None] = {
        **{name: "yes" if state.bools[name] else "no" for name in STATE_BOOLS},
        **state.strings,
        "User": state.user,
        "SupplementaryGroups": " ".join(state.supplementary_groups),
        "UMask": f"{state.umask:04o}",
        "CapabilityBoundingSet": _capability_text(state.bounding, tables),
        "AmbientCapabilities": _capability_text(state.ambient, tables),
        "RestrictNamespaces": _namespaces_text(state.namespaces),
        "SystemCallArchitectures": " ".join(sorted(state.archs)),
        "DeviceAllow": "\n".join(f"{path} {rights}" for path, rights in state.devices),
        "IPAddressAllow": _networks_text(state.ip_allow),
        "IPAddressDeny": _networks_text(state.ip_deny),
    }
    shown.update({k: v for k, v in values.items() if v})
    families = _families_text(state)
    if families is not None:
        shown["RestrictAddressFamilies"] = families
    syscalls = _syscalls_text(state)
    if syscalls is not None:
        shown["SystemCallFilter"] = syscalls
    return shown


def _namespaces_from_text(value: str | None) -> int:
    text = (value or "no").strip()
    if text == "no":
        # Unset and "no" print alike; unset is by far the common case.
        return NAMESPACES_INITIAL
    if text == "yes":
        return 0
    return sum(NAMESPACE_FLAGS.get(word, 0) for word in set(text.split()))


def _namespaces_text(flags: int) -> str:
    if flags & NAMESPACE_FLAGS_ALL == 0:
        return "yes"
    if flags & NAMESPACE_FLAGS_ALL == NAMESPACE_FLAGS_ALL:
        return "no"
    return " ".join(name for name, bit in NAMESPACE_FLAGS.items() if flags & bit)


def _read_families(state: UnitState, value: str | None) -> None:
    if value is None or value.strip() == "~":
        return
    text = value.strip()
    state.families_allow = not text.startswith("~")
    state.families = set(text.lstrip("~").split())


def _families_text(state: UnitState) -> str | None:
    if state.families is None or (not state.families_allow and not state.families):
        return None
    names = " ".join(sorted(state.families))
    return names if state.families_allow else f"~{names}"


def _read_syscalls(state: UnitState, value: str | None) -> None:
    if value is None or value.strip() == "~":
        return
    allow, words = parse_syscall_filter_value(value)
    state.syscalls_allow = allow
    state.syscalls = {}
    for word in words:
        name, _, error = word.partition(":")
        state.syscalls[name] = error or None


def _syscalls_text(state: UnitState) -> str | None:
    if state.syscalls is None:
        return None
    if state.syscalls_allow:
        return " ".join(sorted(n for n, e in state.syscalls.items() if e is None))
    if not state.syscalls:
        return None
    words = sorted(f"{n}:{e}" if e else n for n, e in state.syscalls.items())
    return "~" + " ".join(words)


def _capability_text(mask: int, tables: HostTables) -> str:
    bits = range(tables.last_capability + 1)
    return " ".join(tables.capability_name(b) for b in bits if mask & (1 << b))


def _split_device(line: str) -> tuple[str, str]:
    path, _, rights = line.strip().partition(" ")
    return path, rights.strip()


def _networks(value: str | None) -> set[IPNetwork]:
    return {ipaddress.ip_network(w, strict=False) for w in (value or "").split()}


def _networks_text(networks: set[IPNetwork]) -> str:
    ordered = sorted(networks, key=lambda n: (n.version, n))
    return " ".join(str(n) for n in ordered)
