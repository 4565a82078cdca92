"""Apply one drop-in assignment to a unit's settings, as systemd 252 parses it.

Each rule mirrors the parser systemd uses for that directive, quirks included:
an empty assignment resets a list, the first ``SystemCallFilter=`` line decides
allow-list or deny-list and later lines add or remove calls, a capability line
replaces the set only while it still holds its initial value and merges
afterwards, an invalid value is ignored rather than rejected. Directives that
no check grades are ignored here.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from bisect_tui.core.scoring_info import (
    NAMESPACE_FLAGS,
    NAMESPACE_FLAGS_ALL,
    parse_bool,
)
from bisect_tui.core.scoring_state import (
    CAP_ALL,
    NAMESPACES_INITIAL,
    IPNetwork,
    UnitState,
)
from bisect_tui.core.scoring_tables import HostTables

logger = logging.getLogger(__name__)

Rule = Callable[[UnitState, str, HostTables], None]

_ENUMS: dict[str, tuple[str, ...]] = {
    "ProtectHome": ("read-only", "tmpfs"),
    "ProtectSystem": ("full", "strict"),
    "ProtectProc": ("default", "noaccess", "invisible", "ptraceable"),
    "ProcSubset": ("all", "pid"),
    "KeyringMode": ("inherit", "private", "shared"),
    "NotifyAccess": ("none", "main", "exec", "all"),
    "DevicePolicy": ("auto", "closed", "strict"),
}
"""Text settings and the words they accept; the first two also take a boolean."""

_NETWORK_ALIASES: dict[str, tuple[str, str]] = {
    "any": ("0.0.0.0/0", "::/0"),
    "localhost": ("127.0.0.0/8", "::1/128"),
    "link-local": ("169.254.0.0/16", "fe80::/64"),
    "multicast": ("224.0.0.0/4", "ff00::/8"),
}


def apply_assignment(
    state: UnitState, directive: str, value: str, tables: HostTables
) -> None:
    """Apply ``directive=value`` to ``state`` in place.

    Args:
        state: The settings so far (unit file plus earlier assignments).
        directive: The ``[Service]`` directive, e.g. ``SystemCallFilter``.
        value: The value as written in the drop-in; ``""`` is a reset.
        tables: The host's syscall groups and capability names.
    """
    rule = _RULES.get(directive)
    if rule is None:
        if directive in state.bools:
            rule = _bool_rule(directive)
        elif directive in _ENUMS:
            rule = _enum_rule(directive)
        else:
            logger.debug("no graded property depends on %s=, ignored", directive)
            return
    rule(state, value.strip(), tables)


def _bool_rule(name: str) -> Rule:
    def apply(state: UnitState, value: str, tables: HostTables) -> None:
        flag = parse_bool(value)
        if flag is None:
            logger.warning("%s=%s is not a boolean; systemd ignores it", name, value)
            return
        state.bools[name] = flag

    return apply


def _enum_rule(name: str) -> Rule:
    def apply(state: UnitState, value: str, tables: HostTables) -> None:
        flag = parse_bool(value)
        if flag is not None and name in ("ProtectHome", "ProtectSystem"):
            state.strings[name] = "yes" if flag else "no"
        elif value in _ENUMS[name]:
            state.strings[name] = value
        else:
            logger.warning(
                "%s=%s is not a known value; systemd ignores it", name, value
            )

    return apply


def _path_rule(name: str) -> Rule:
    def apply(state: UnitState, value: str, tables: HostTables) -> None:
        state.strings[name] = value or None

    return apply


def _user(state: UnitState, value: str, tables: HostTables) -> None:
    state.user = value or None


def _supplementary_groups(state: UnitState, value: str, tables: HostTables) -> None:
    if not value:
        state.supplementary_groups = []
    else:
        state.supplementary_groups.extend(value.split())


def _umask(state: UnitState, value: str, tables: HostTables) -> None:
    try:
        mode = int(value, 8)
    except ValueError:
        logger.warning("UMask=%s is not an octal mode; systemd ignores it", value)
        return
    if 0 <= mode <= 0o7777:
        state.umask = mode


def _delegate(state: UnitState, value: str, tables: HostTables) -> None:
    # An empty value or a controller list turns delegation on.
    flag = parse_bool(value)
    state.bools["Delegate"] = True if flag is None else flag


def _capability_set(initial: int, attribute: str) -> Rule:
    def apply(state: UnitState, value: str, tables: HostTables) -> None:
        invert = value.startswith("~")
        mask = _capability_words(value.lstrip("~"), tables)
        current: int = getattr(state, attribute)
        if mask == 0 or current == initial:
            current = (CAP_ALL & ~mask) if invert else mask
        elif invert:
            current &= ~mask
        else:
            current |= mask
        setattr(state, attribute, current)

    return apply


def _capability_words(text: str, tables: HostTables) -> int:
    mask = 0
    for word in text.split():
        number = tables.capabilities.get(word.lower())
        if number is None and word.isdigit() and int(word) < 64:
            number = int(word)
        if number is None:
            logger.warning("unknown capability %s; systemd ignores it", word)
            continue
        mask |= 1 << number
    return mask


def _namespaces(state: UnitState, value: str, tables: HostTables) -> None:
    if not value:
        state.namespaces = NAMESPACES_INITIAL
        return
    flag = parse_bool(value)
    if flag is not None:
        state.namespaces = 0 if flag else NAMESPACE_FLAGS_ALL
        return
    invert = value.startswith("~")
    words = value.lstrip("~").split()
    if any(word not in NAMESPACE_FLAGS for word in words):
        logger.warning("RestrictNamespaces=%s names an unknown namespace", value)
        return
    flags = sum(NAMESPACE_FLAGS[word] for word in set(words))
    if state.namespaces == NAMESPACES_INITIAL:
        state.namespaces = (~flags & NAMESPACE_FLAGS_ALL) if invert else flags
    elif invert:
        state.namespaces &= ~flags
    else:
        state.namespaces |= flags


def _address_families(state: UnitState, value: str, tables: HostTables) -> None:
    if not value:
        state.families, state.families_allow = None, False
        return
    if value == "none":
        state.families, state.families_allow = set(), True
        return
    invert = value.startswith("~")
    if state.families is None:
        state.families, state.families_allow = set(), not invert
    for word in value.lstrip("~").split():
        if not word.startswith("AF_"):
            logger.warning("unknown address family %s; systemd ignores it", word)
        elif (not invert) == state.families_allow:
            state.families.add(word)
        else:
            state.families.discard(word)


def _archs(state: UnitState, value: str, tables: HostTables) -> None:
    if not value:
        state.archs = set()
    else:
        state.archs.update(value.split())


def _device_allow(state: UnitState, value: str, tables: HostTables) -> None:
    if not value:
        state.devices = []
        return
    path, _, rights = value.partition(" ")
    rights = rights.strip()
    if rights.strip("rwm"):
        logger.warning("DeviceAllow=%s has invalid rights; systemd ignores it", value)
        return
    normal = "".join(c for c in "rwm" if not rights or c in rights)
    state.devices.insert(0, (path, normal))


def _ip_rule(attribute: str) -> Rule:
    def apply(state: UnitState, value: str, tables: HostTables) -> None:
        networks: set[IPNetwork] = getattr(state, attribute)
        if not value:
            networks.clear()
            return
        for word in value.split():
            for text in _NETWORK_ALIASES.get(word, (word,)):
                try:
                    networks.add(ipaddress.ip_network(text, strict=False))
                except ValueError:
                    logger.warning("%s is not an address prefix; ignored", text)

    return apply


def _syscall_filter(state: UnitState, value: str, tables: HostTables) -> None:
    if not value:
        state.syscalls, state.syscalls_allow = None, False
        return
    invert = value.startswith("~")
    if state.syscalls is None:
        state.syscalls, state.syscalls_allow = {}, not invert
        if not invert:
            _put_syscalls(state, "@default", None, invert=False, tables=tables)
    for word in value.lstrip("~").split():
        name, _, error = word.partition(":")
        if error and not invert:
            logger.warning("allowed call %s cannot take an error; ignored", word)
            continue
        _put_syscalls(state, name, error or None, invert=invert, tables=tables)


def _put_syscalls(
    state: UnitState,
    name: str,
    error: str | None,
    *,
    invert: bool,
    tables: HostTables,
) -> None:
    assert state.syscalls is not None
    if name.startswith("@"):
        if name not in tables.groups:
            logger.warning("unknown syscall group %s; systemd ignores it", name)
            return
        names = sorted(tables.expand(name))
    else:
        names = [name]
    keep = (not invert) == state.syscalls_allow or (
        invert and state.syscalls_allow and error is not None
    )
    for syscall in names:
        if not tables.is_known(syscall):
            continue
        if keep:
            state.syscalls[syscall] = error
        else:
            state.syscalls.pop(syscall, None)


_RULES: dict[str, Rule] = {
    "User": _user,
    "SupplementaryGroups": _supplementary_groups,
    "UMask": _umask,
    "Delegate": _delegate,
    "RootDirectory": _path_rule("RootDirectory"),
    "RootImage": _path_rule("RootImage"),
    "CapabilityBoundingSet": _capability_set(CAP_ALL, "bounding"),
    "AmbientCapabilities": _capability_set(0, "ambient"),
    "RestrictNamespaces": _namespaces,
    "RestrictAddressFamilies": _address_families,
    "SystemCallArchitectures": _archs,
    "SystemCallFilter": _syscall_filter,
    "DeviceAllow": _device_allow,
    "IPAddressAllow": _ip_rule("ip_allow"),
    "IPAddressDeny": _ip_rule("ip_deny"),
}
