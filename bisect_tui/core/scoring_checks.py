"""How ``systemd-analyze security`` (systemd 252) grades each check.

One grader per check, keyed by the check's policy key, returning a badness
between 0 and the check's range, or ``None`` when the check does not apply (a
root service has no use for ``SupplementaryGroups=``). The rules follow
systemd's ``analyze-security.c``; the weights and ranges come from the shipped
table in :mod:`bisect_tui.core.security_checks`.
"""

from __future__ import annotations

from collections.abc import Callable

from bisect_tui.core.scoring_info import NAMESPACE_FLAGS, SecurityInfo, parse_bool
from bisect_tui.core.scoring_tables import HostTables

Grader = Callable[[SecurityInfo, HostTables], "int | None"]

_ROOT = ("0", "root")


def runs_privileged(info: SecurityInfo) -> bool:
    """Whether the analyzer treats the service as running as root."""
    if info.user in _ROOT:
        return True
    if info.dynamic_user:
        return False
    return not info.user


def _user(info: SecurityInfo, tables: HostTables) -> int:
    if info.user == "nobody":
        return 9
    if info.dynamic_user and info.user not in _ROOT:
        return 0
    if info.user and info.user not in _ROOT:
        return 0
    return 10


def _supplementary_groups(info: SecurityInfo, tables: HostTables) -> int | None:
    if runs_privileged(info):
        return None
    return int(bool(info.supplementary_groups))


def _remove_ipc(info: SecurityInfo, tables: HostTables) -> int | None:
    if runs_privileged(info):
        return None
    return int(not info.bools["RemoveIPC"])


def _protect_home(info: SecurityInfo, tables: HostTables) -> int:
    value = info.strings["ProtectHome"]
    flag = parse_bool(value)
    if flag is not None:
        return 0 if flag else 10
    return {"read-only": 5, "tmpfs": 1}.get(value or "", 10)


def _protect_system(info: SecurityInfo, tables: HostTables) -> int:
    value = info.strings["ProtectSystem"]
    flag = parse_bool(value)
    if flag is not None:
        return 5 if flag else 10
    return {"full": 3, "strict": 0}.get(value or "", 10)


def _root_directory(info: SecurityInfo, tables: HostTables) -> int:
    roots = (info.strings["RootDirectory"], info.strings["RootImage"])
    return int(all(root in (None, "/") for root in roots))


def _umask(info: SecurityInfo, tables: HostTables) -> int:
    for bit, badness in ((0o002, 10), (0o004, 5), (0o020, 2), (0o040, 1)):
        if not info.umask & bit:
            return badness
    return 0


def _protect_proc(info: SecurityInfo, tables: HostTables) -> int:
    value = info.strings["ProtectProc"]
    if value == "noaccess":
        return 1
    return 0 if value in ("invisible", "ptraceable") else 3


def _syscall_architectures(info: SecurityInfo, tables: HostTables) -> int:
    if not info.syscall_archs:
        return 10
    return 0 if info.syscall_archs == {"native"} else 8


def _ip_address_deny(info: SecurityInfo, tables: HostTables) -> int:
    if info.ip_custom_filters:
        return 0
    if not info.ip_deny_all:
        return 10
    if info.ip_allow_other:
        return 5
    return 2 if info.ip_allow_localhost else 0


def _device_allow(info: SecurityInfo, tables: HostTables) -> int:
    if info.strings["DevicePolicy"] in ("strict", "closed"):
        return 5 if info.device_allow else 0
    return 10


def _flag(name: str, *, bad_when: bool = False) -> Grader:
    def grade(info: SecurityInfo, tables: HostTables) -> int:
        return int(info.bools[name] == bad_when)

    return grade


def _string_is(name: str, good: str) -> Grader:
    def grade(info: SecurityInfo, tables: HostTables) -> int:
        return int(info.strings[name] != good)

    return grade


def _capabilities(*names: str) -> Grader:
    def grade(info: SecurityInfo, tables: HostTables) -> int:
        mask = sum(1 << tables.capabilities[name] for name in names)
        return int(bool(info.capability_bounding_set & mask))

    return grade


def _namespace(name: str) -> Grader:
    def grade(info: SecurityInfo, tables: HostTables) -> int:
        return int(bool(info.restrict_namespaces & NAMESPACE_FLAGS[name]))

    return grade


def _family(kind: str) -> Grader:
    def grade(info: SecurityInfo, tables: HostTables) -> int:
        return int(not info.address_families[kind])

    return grade


def _syscall_group(group: str) -> Grader:
    def grade(info: SecurityInfo, tables: HostTables) -> int:
        if not info.syscall_allow_list and not info.syscall_filter:
            return 10
        if info.syscall_allow_list:
            return 9 if _group_offends(info, tables, group) else 0
        return 10 if _group_offends(info, tables, group) else 0

    return grade


def _group_offends(info: SecurityInfo, tables: HostTables, group: str) -> bool:
    """Whether some call of ``group`` gets through the filter.

    Calls the host's architecture lacks do not count, as in systemd.
    """
    for syscall in tables.expand(group):
        if not tables.is_native(syscall):
            continue
        if (syscall in info.syscall_filter) == info.syscall_allow_list:
            return True
    return False


def _ambient(info: SecurityInfo, tables: HostTables) -> int:
    return int(info.ambient_capabilities != 0)


def _keyring(info: SecurityInfo, tables: HostTables) -> int:
    return int(info.strings["KeyringMode"] != "private")


def _notify(info: SecurityInfo, tables: HostTables) -> int:
    return int(info.strings["NotifyAccess"] == "all")


_CAPABILITY_CHECKS: dict[str, tuple[str, ...]] = {
    "SYS_ADMIN": ("cap_sys_admin",),
    "SET_UID_GID_PCAP": ("cap_setuid", "cap_setgid", "cap_setpcap"),
    "SYS_PTRACE": ("cap_sys_ptrace",),
    "SYS_TIME": ("cap_sys_time",),
    "NET_ADMIN": ("cap_net_admin",),
    "SYS_RAWIO": ("cap_sys_rawio",),
    "SYS_MODULE": ("cap_sys_module",),
    "AUDIT": ("cap_audit_control", "cap_audit_read", "cap_audit_write"),
    "SYSLOG": ("cap_syslog",),
    "SYS_NICE_RESOURCE": ("cap_sys_nice", "cap_sys_resource"),
    "MKNOD": ("cap_mknod",),
    "CHOWN_FSETID_SETFCAP": ("cap_chown", "cap_fsetid", "cap_setfcap"),
    "DAC_FOWNER_IPC_OWNER": (
        "cap_dac_override",
        "cap_dac_read_search",
        "cap_fowner",
        "cap_ipc_owner",
    ),
    "KILL": ("cap_kill",),
    # systemd's own key carries the stray parenthesis.
    "NET_BIND_SERVICE_BROADCAST_RAW)": (
        "cap_net_bind_service",
        "cap_net_broadcast",
        "cap_net_raw",
    ),
    "SYS_BOOT": ("cap_sys_boot",),
    "MAC": ("cap_mac_admin", "cap_mac_override"),
    "LINUX_IMMUTABLE": ("cap_linux_immutable",),
    "IPC_LOCK": ("cap_ipc_lock",),
    "SYS_CHROOT": ("cap_sys_chroot",),
    "BLOCK_SUSPEND": ("cap_block_suspend",),
    "WAKE_ALARM": ("cap_wake_alarm",),
    "LEASE": ("cap_lease",),
    "SYS_TTY_CONFIG": ("cap_sys_tty_config",),
    "SYS_PACCT": ("cap_sys_pacct",),
    "BPF": ("cap_bpf",),
}

_SYSCALL_GROUPS = (
    "swap",
    "obsolete",
    "clock",
    "cpu-emulation",
    "debug",
    "mount",
    "module",
    "raw-io",
    "reboot",
    "privileged",
    "resources",
)

_FAMILIES = {
    "AF_INET_INET6": "inet",
    "AF_UNIX": "unix",
    "AF_NETLINK": "netlink",
    "AF_PACKET": "packet",
    "OTHER": "other",
}

GRADERS: dict[str, Grader] = {
    "UserOrDynamicUser": _user,
    "SupplementaryGroups": _supplementary_groups,
    "RootDirectoryOrRootImage": _root_directory,
    "ProtectHome": _protect_home,
    "ProtectSystem": _protect_system,
    "UMask": _umask,
    "KeyringMode": _keyring,
    "ProtectProc": _protect_proc,
    "ProcSubset": _string_is("ProcSubset", "pid"),
    "NotifyAccess": _notify,
    "RemoveIPC": _remove_ipc,
    "Delegate": _flag("Delegate", bad_when=True),
    "SystemCallArchitectures": _syscall_architectures,
    "IPAddressDeny": _ip_address_deny,
    "DeviceAllow": _device_allow,
    "AmbientCapabilities": _ambient,
    **{
        f"CapabilityBoundingSet_CAP_{suffix}": _capabilities(*names)
        for suffix, names in _CAPABILITY_CHECKS.items()
    },
    **{f"RestrictNamespaces_{name}": _namespace(name) for name in NAMESPACE_FLAGS},
    **{
        f"RestrictAddressFamilies_{suffix}": _family(kind)
        for suffix, kind in _FAMILIES.items()
    },
    **{
        f"SystemCallFilter_{group.replace('-', '_')}": _syscall_group(f"@{group}")
        for group in _SYSCALL_GROUPS
    },
}
"""Graders by policy key; keys not listed here are plain yes-is-good flags."""

DEFAULT_DEPENDENCIES_ONLY = frozenset(
    {"PrivateTmp", "ProtectHome", "ProtectSystem", "RootDirectoryOrRootImage"}
)
"""Checks skipped for services that run in an early boot phase."""


def grader_for(key: str) -> Grader:
    """Return the grader of a policy key (a plain yes/no flag by default)."""
    return GRADERS.get(key) or _flag(key)
