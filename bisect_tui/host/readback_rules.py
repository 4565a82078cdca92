"""How each directive's intent is compared with what ``systemctl show`` prints.

One rule per kind of directive; :func:`rule_for` picks it. A rule returns the
canonical intended value and the canonical printed value; the directive reads
back as intended when they are equal. The rules, in words, are listed in
docs/host-layer.md.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bisect_tui.core.composition_unit import fold_capabilities
from bisect_tui.core.scoring_tables import default_tables
from bisect_tui.host import readback_values as values

SyscallGroups = Mapping[str, frozenset[str]]
"""Syscall group name (``@system-service``) to the syscall names it holds."""

Canonical = object
Normaliser = Callable[[Sequence[str], str, SyscallGroups], tuple[Canonical, Canonical]]


@dataclass(frozen=True)
class Rule:
    """A way to compare one directive.

    Attributes:
        name: How the comparison is described in reports.
        compare: ``(intended lines, printed, syscall groups)`` to the two
            canonical values.
    """

    name: str
    compare: Normaliser


def _last(lines: Sequence[str]) -> str:
    return lines[-1] if lines else ""


def _exact(lines: Sequence[str], printed: str, _: SyscallGroups) -> tuple[str, str]:
    intended = _last(lines).strip()
    flag, shown = values.as_bool(intended), values.as_bool(printed)
    if flag is not None and shown is not None:
        return str(flag), str(shown)
    return intended, printed.strip()


def _sized(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    return values.as_bytes(_last(lines)), values.as_bytes(printed)


def _timespan(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    return values.as_usec(_last(lines)), values.as_usec(printed)


def _quota(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    return values.quota_usec(_last(lines)), values.as_usec(printed)


def _octal(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    return values.as_octal(_last(lines)), values.as_octal(printed)


def _limit(lines: Sequence[str], printed: str, _: SyscallGroups) -> tuple[str, str]:
    hard = _last(lines).split(":")[-1].strip()
    return hard, printed.strip()


def _errno(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    def number(text: str) -> object:
        word = text.strip().split(":")[0]
        return int(word) if word.isdigit() else getattr(errno, word.upper(), word)

    return number(_last(lines)), number(printed)


def _token_set(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    return values.tokens(lines), values.tokens([printed])


IMPLIED_DEVICES = frozenset({"char-rtc r"})
"""Device lines systemd adds by itself (``ProtectClock=yes`` allows reading RTCs)."""


def _devices(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    def normal(items: Sequence[str]) -> frozenset[str]:
        return frozenset(" ".join(item.split()) for item in items if item.strip())

    wanted = normal(lines)
    return wanted, normal(printed.splitlines()) - (IMPLIED_DEVICES - wanted)


def _addresses(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    return values.addresses(lines), values.addresses([printed])


def _binds(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    def normal(items: Sequence[str]) -> frozenset[tuple[str, str]]:
        result = set()
        for item in values.tokens(items):
            source, _, rest = item.partition(":")
            result.add((source, rest.split(":")[0] or source.lstrip("-")))
        return frozenset(result)

    return normal(lines), normal([printed])


def _capabilities(directive: str) -> Normaliser:
    def compare(
        lines: Sequence[str], printed: str, _: SyscallGroups
    ) -> tuple[object, object]:
        wanted = fold_capabilities(directive, lines)
        shown = values.capability_names(printed)
        if wanted.inverted:
            # "All but": the host's full list is not known here, so the rule is
            # that none of the excluded names shows and something else does.
            return True, bool(shown) and not (shown & wanted.names)
        return wanted.names, shown

    return compare


def _syscalls(
    lines: Sequence[str], printed: str, groups: SyscallGroups
) -> tuple[object, object]:
    """Compare a syscall filter by the rule documented in docs/host-layer.md.

    systemd prints the filter expanded into names, minus names the host's
    libseccomp does not know, so exact equality is too strict. It matches when
    the mode agrees, nothing is printed that the intent does not put in the set,
    and every item that puts names in the set shows at least one of them.
    """

    def expand(item: str) -> frozenset[str]:
        return frozenset(map(seccomp_name, groups.get(item, frozenset({item}))))

    implicit = expand("@default") if "@default" in groups else frozenset()
    allow, expected = values.fold_filter(lines, expand, implicit)
    shown_allow, printed_names = values.printed_filter(printed)
    shown = frozenset(map(seccomp_name, printed_names))
    adders = [
        item
        for line in lines
        if line and (allow != line.startswith("~"))
        for item in line.lstrip("~").split()
    ]
    missing = [item for item in adders if not expand(item) & shown]
    matches = allow == shown_allow and shown <= expected and not missing
    return True, matches


def seccomp_name(name: str) -> str:
    """One name per system call as libseccomp stores it (``#-10191`` or the name).

    Calls the architecture lacks get pseudo-numbers, and two such names may
    share one (``sys_debug_setcontext`` and ``switch_endian`` on x86-64):
    systemd then prints whichever name libseccomp maps the number back to.
    Such names compare by their number.
    TODO: the table is x86-64's (libseccomp 2.5.4); read the host's own.
    """
    number = _SECCOMP_NUMBERS.get(name)
    return f"#{number}" if number is not None and number < 0 else name


_SECCOMP_NUMBERS = default_tables().syscall_numbers or {}


def _families(
    lines: Sequence[str], printed: str, _: SyscallGroups
) -> tuple[object, object]:
    def expand(item: str) -> frozenset[str]:
        return frozenset() if item == "none" else frozenset({item})

    return values.fold_filter(lines, expand), values.printed_filter(printed)


SIZES = {"MemoryMax", "MemoryHigh", "MemoryLow", "MemoryMin", "MemorySwapMax"}
PROPERTY_NAMES = {"CPUQuota": "CPUQuotaPerSecUSec"}
TOKEN_LISTS = {
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "ExecPaths",
    "NoExecPaths",
    "StateDirectory",
    "CacheDirectory",
    "LogsDirectory",
    "RuntimeDirectory",
    "ConfigurationDirectory",
    "SupplementaryGroups",
    "SystemCallArchitectures",
}

_RULES: dict[str, Rule] = {
    "CPUQuota": Rule("CPU time per second", _quota),
    "UMask": Rule("octal", _octal),
    "SystemCallErrorNumber": Rule("errno number", _errno),
    "SystemCallFilter": Rule("syscall set, groups expanded on the host", _syscalls),
    "RestrictAddressFamilies": Rule("allow/deny family set", _families),
    "IPAddressAllow": Rule("address prefixes", _addresses),
    "IPAddressDeny": Rule("address prefixes", _addresses),
    "DeviceAllow": Rule("device lines", _devices),
    "BindPaths": Rule("bind sources and targets", _binds),
    "BindReadOnlyPaths": Rule("bind sources and targets", _binds),
    "CapabilityBoundingSet": Rule(
        "capability set", _capabilities("CapabilityBoundingSet")
    ),
    "AmbientCapabilities": Rule("capability set", _capabilities("AmbientCapabilities")),
}


def property_name(directive: str) -> str:
    """The ``systemctl show`` property that reports ``directive``."""
    if directive in PROPERTY_NAMES:
        return PROPERTY_NAMES[directive]
    if directive.endswith("Sec"):
        return directive[: -len("Sec")] + "USec"
    return directive


def rule_for(directive: str) -> Rule:
    """The comparison rule for ``directive``."""
    if directive in _RULES:
        return _RULES[directive]
    if directive in SIZES:
        return Rule("bytes", _sized)
    if directive in TOKEN_LISTS:
        return Rule("item set", _token_set)
    if directive.startswith("Limit"):
        return Rule("hard limit", _limit)
    if directive.endswith("Sec"):
        return Rule("time span", _timespan)
    return Rule("exact (booleans as yes/no)", _exact)


def parse_syscall_groups(text: str) -> dict[str, frozenset[str]]:
    """Parse ``systemd-analyze syscall-filter`` into groups, nested groups expanded."""
    raw: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@"):
            current = raw.setdefault(line.split()[0], [])
        elif line[:1] in (" ", "\t") and current is not None:
            item = line.strip()
            if item and not item.startswith("#"):
                current.append(item.split()[0])
        elif line.strip():
            current = None
    return {name: _expand(name, raw, set()) for name in raw}


def _expand(name: str, raw: Mapping[str, list[str]], seen: set[str]) -> frozenset[str]:
    seen.add(name)
    names: set[str] = set()
    for item in raw.get(name, []):
        if item.startswith("@"):
            if item not in seen:
                names |= _expand(item, raw, seen)
        else:
            names.add(item)
    return frozenset(names)
