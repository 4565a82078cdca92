"""Read a unit's properties the way ``systemd-analyze security`` reads them.

The analyzer does not grade the unit file: it asks the service manager for the
unit's effective properties and folds a few of them together first (a service
with ``ProtectSystem=`` counts as having private mounts, ``ProtectClock=`` drops
``CAP_SYS_TIME`` from the bounding set, an IP allow-list entry counts as
localhost only with the exact ``/8`` or ``/128`` prefix). This module turns the
``Key=Value`` text that ``systemctl show`` prints into that folded view, so the
graders in :mod:`bisect_tui.core.scoring_checks` stay one-liners.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from bisect_tui.core.scoring_tables import HostTables

NAMESPACE_FLAGS: dict[str, int] = {
    "cgroup": 0x02000000,
    "ipc": 0x08000000,
    "net": 0x40000000,
    "mnt": 0x00020000,
    "pid": 0x20000000,
    "user": 0x10000000,
    "uts": 0x04000000,
    "time": 0x00000080,
}
"""Clone flags by the names systemd prints, in the order it prints them."""

NAMESPACE_FLAGS_ALL = sum(v for k, v in NAMESPACE_FLAGS.items() if k != "time")
"""The namespaces ``RestrictNamespaces=no`` allows (systemd leaves out time)."""

_TRUE = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})


def parse_bool(value: str | None) -> bool | None:
    """Parse a systemd boolean; ``None`` when the text is not one."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


@dataclass(frozen=True)
class SecurityInfo:
    """The analyzer's view of a service, after its own folding.

    Attributes mirror what ``systemd-analyze security`` grades; strings are
    ``None`` when the property is unset or empty.
    """

    user: str | None
    dynamic_user: bool
    supplementary_groups: tuple[str, ...]
    default_dependencies: bool
    bools: Mapping[str, bool]
    strings: Mapping[str, str | None]
    capability_bounding_set: int
    ambient_capabilities: int
    restrict_namespaces: int
    address_families: Mapping[str, bool]
    syscall_archs: frozenset[str]
    syscall_allow_list: bool
    syscall_filter: frozenset[str]
    ip_deny_all: bool
    ip_allow_localhost: bool
    ip_allow_other: bool
    ip_custom_filters: bool
    device_allow: tuple[str, ...]
    umask: int


BOOL_PROPERTIES: tuple[str, ...] = (
    "PrivateDevices",
    "PrivateMounts",
    "PrivateNetwork",
    "PrivateTmp",
    "PrivateUsers",
    "ProtectControlGroups",
    "ProtectKernelModules",
    "ProtectKernelTunables",
    "ProtectKernelLogs",
    "ProtectClock",
    "ProtectHostname",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "NoNewPrivileges",
    "RemoveIPC",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "Delegate",
)
"""Yes/no properties the analyzer grades directly."""

STRING_PROPERTIES: tuple[str, ...] = (
    "ProtectHome",
    "ProtectSystem",
    "ProtectProc",
    "ProcSubset",
    "KeyringMode",
    "NotifyAccess",
    "DevicePolicy",
    "RootDirectory",
    "RootImage",
)
"""Properties the analyzer compares as text."""


def read_security_info(
    properties: Mapping[str, str], tables: HostTables
) -> SecurityInfo:
    """Fold ``systemctl show`` properties into the analyzer's view.

    Args:
        properties: ``Key=Value`` pairs as ``systemctl show`` prints them; a
            missing key means an empty value, as ``systemctl show`` hides those.
        tables: The host's capability names.
    """
    strings = {name: properties.get(name) or None for name in STRING_PROPERTIES}
    bools = {name: parse_bool(properties.get(name)) is True for name in BOOL_PROPERTIES}
    bools["PrivateMounts"] = bools["PrivateMounts"] or _implies_private_mounts(
        bools, strings
    )
    deny_all, localhost, other = _ip_access(properties)
    allow_list, syscalls = parse_syscall_filter_value(
        properties.get("SystemCallFilter")
    )
    return SecurityInfo(
        user=properties.get("User") or None,
        dynamic_user=parse_bool(properties.get("DynamicUser")) is True,
        supplementary_groups=tuple(properties.get("SupplementaryGroups", "").split()),
        default_dependencies=parse_bool(properties.get("DefaultDependencies"))
        is not False,
        bools=bools,
        strings=strings,
        capability_bounding_set=_bounding_set(properties, bools, tables),
        ambient_capabilities=capability_mask(
            properties.get("AmbientCapabilities"), tables
        ),
        restrict_namespaces=parse_namespaces(properties.get("RestrictNamespaces")),
        address_families=_address_families(properties.get("RestrictAddressFamilies")),
        syscall_archs=frozenset(properties.get("SystemCallArchitectures", "").split()),
        syscall_allow_list=allow_list,
        syscall_filter=frozenset(name.partition(":")[0] for name in syscalls),
        ip_deny_all=deny_all,
        ip_allow_localhost=localhost,
        ip_allow_other=other,
        ip_custom_filters=bool(
            properties.get("IPIngressFilterPath")
            or properties.get("IPEgressFilterPath")
        ),
        device_allow=tuple(
            line for line in properties.get("DeviceAllow", "").splitlines() if line
        ),
        umask=int(properties.get("UMask") or "0002", 8),
    )


def capability_mask(value: str | None, tables: HostTables) -> int:
    """Return the bit mask of a space-separated capability list.

    Names are matched case-insensitively; unknown names are ignored, as systemd
    ignores them.
    """
    mask = 0
    for word in (value or "").split():
        number = tables.capabilities.get(word.lower())
        if number is None and word.isdigit() and int(word) < 64:
            number = int(word)
        if number is not None:
            mask |= 1 << number
    return mask


def parse_namespaces(value: str | None) -> int:
    """Return the namespaces a ``RestrictNamespaces`` value still allows."""
    if value is None or value.strip() in ("", "no"):
        return NAMESPACE_FLAGS_ALL
    if value.strip() == "yes":
        return 0
    return sum(NAMESPACE_FLAGS.get(word, 0) for word in set(value.split()))


def parse_syscall_filter_value(value: str | None) -> tuple[bool, tuple[str, ...]]:
    """Split a printed ``SystemCallFilter`` into (allow-list?, names).

    ``systemctl show`` prints a deny-list with a leading ``~``; a missing or
    bare ``~`` value means no filter. Names may carry ``:errno`` suffixes.
    """
    if value is None:
        return False, ()
    text = value.strip()
    if text.startswith("~"):
        return False, tuple(text[1:].split())
    return True, tuple(text.split())


def _implies_private_mounts(
    bools: Mapping[str, bool], strings: Mapping[str, str | None]
) -> bool:
    # The analyzer counts any of these as a private mount namespace.
    return (
        any(
            bools[name]
            for name in (
                "PrivateDevices",
                "PrivateTmp",
                "ProtectControlGroups",
                "ProtectKernelTunables",
                "ProtectKernelModules",
            )
        )
        or strings["ProtectHome"] != "no"
        or strings["ProtectSystem"] != "no"
        or strings["RootImage"] is not None
    )


def _bounding_set(
    properties: Mapping[str, str], bools: Mapping[str, bool], tables: HostTables
) -> int:
    mask = capability_mask(properties.get("CapabilityBoundingSet"), tables)
    for flag, names in _MASKED_BY.items():
        if bools[flag]:
            for name in names:
                mask &= ~(1 << tables.capabilities.get(name, 0))
    return mask


_MASKED_BY: dict[str, tuple[str, ...]] = {
    "ProtectKernelModules": ("cap_sys_module",),
    "ProtectKernelLogs": ("cap_syslog",),
    "ProtectClock": ("cap_sys_time", "cap_wake_alarm"),
    "PrivateDevices": ("cap_mknod", "cap_sys_rawio"),
}
"""Capabilities systemd drops from the bounding set when a directive is on."""


def _address_families(value: str | None) -> dict[str, bool]:
    # True means the analyzer sees the family as restricted.
    text = "~" if value is None else value.strip()
    allow_list = not text.startswith("~")
    restricted = dict.fromkeys(
        ("inet", "unix", "netlink", "packet", "other"), allow_list
    )
    for name in text.lstrip("~").split():
        restricted[_FAMILY_CLASS.get(name, "other")] = not allow_list
    return restricted


_FAMILY_CLASS = {
    "AF_INET": "inet",
    "AF_INET6": "inet",
    "AF_UNIX": "unix",
    "AF_NETLINK": "netlink",
    "AF_PACKET": "packet",
}


def _ip_access(properties: Mapping[str, str]) -> tuple[bool, bool, bool]:
    deny = set(properties.get("IPAddressDeny", "").split())
    deny_all = "0.0.0.0/0" in deny and "::/0" in deny
    localhost = other = False
    for word in properties.get("IPAddressAllow", "").split():
        network = ipaddress.ip_network(word, strict=False)
        exact = network.prefixlen == (8 if network.version == 4 else 128)
        if exact and network.network_address.is_loopback:
            localhost = True
        else:
            other = True
    return deny_all, localhost, other
