"""The host's own tables that a score prediction depends on.

``systemd-analyze security`` judges a system call filter against the syscall
groups compiled into that host's systemd, and names capabilities by the numbers
that host's kernel knows. Both change between systemd versions, so a prediction
takes them from the host (``systemd-analyze syscall-filter`` and
``systemd-analyze capability``, fetched by the host layer) and only falls back to
the tables of Debian 12's systemd 252 that ship with the tool.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

logger = logging.getLogger(__name__)

_GROUP_LINE = re.compile(r"^(@[a-z0-9-]+)\s*$")
_MEMBER_LINE = re.compile(r"^\s+(@?[a-z0-9_-]+)\s*$")
_CAPABILITY_LINE = re.compile(r"^\s*(cap_[a-z0-9_]+)\s+(\d+)\s*$")


@dataclass(frozen=True)
class HostTables:
    """What one host's systemd knows about syscall groups and capabilities.

    Attributes:
        groups: Each syscall group (``"@clock"``) and its members as printed,
            which may name other groups.
        capabilities: Capability names (``"cap_chown"``) and their numbers.
        syscall_numbers: How libseccomp resolves each system call name on the
            host's architecture; a negative number marks a call the
            architecture lacks, a missing name one libseccomp does not know.
            ``None`` when unknown: then every name counts as native.
    """

    groups: Mapping[str, tuple[str, ...]]
    capabilities: Mapping[str, int]
    syscall_numbers: Mapping[str, int] | None = None
    _expanded: dict[str, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_text(
        cls,
        syscall_filter: str,
        capability: str | None = None,
        *,
        syscall_numbers: Mapping[str, int] | None = None,
    ) -> HostTables:
        """Build tables from the text the two ``systemd-analyze`` verbs print.

        Args:
            syscall_filter: Output of ``systemd-analyze syscall-filter``.
            capability: Output of ``systemd-analyze capability``; ``None`` uses
                the shipped table.
            syscall_numbers: Name resolution for the host's architecture;
                ``None`` uses the shipped x86-64 table.
        """
        caps = (
            parse_capability_table(capability)
            if capability is not None
            else default_tables().capabilities
        )
        numbers = (
            syscall_numbers
            if syscall_numbers is not None
            else default_tables().syscall_numbers
        )
        return cls(parse_syscall_filter(syscall_filter), caps, numbers)

    def expand(self, group: str) -> frozenset[str]:
        """Return every system call a group holds, through nested groups.

        Raises:
            KeyError: The group is not in the table.
        """
        cached = self._expanded.get(group)
        if cached is not None:
            return cached
        members: set[str] = set()
        for member in self.groups[group]:
            if member.startswith("@"):
                members |= self.expand(member)
            else:
                members.add(member)
        result = frozenset(members)
        self._expanded[group] = result
        return result

    def is_known(self, syscall: str) -> bool:
        """Whether libseccomp resolves the name at all (systemd keeps it)."""
        return self.syscall_numbers is None or syscall in self.syscall_numbers

    def is_native(self, syscall: str) -> bool:
        """Whether the call exists on the host's architecture."""
        if self.syscall_numbers is None:
            return True
        return self.syscall_numbers.get(syscall, -1) >= 0

    @property
    def last_capability(self) -> int:
        """The highest capability number the host knows."""
        return max(self.capabilities.values(), default=-1)

    def capability_name(self, number: int) -> str:
        """Return the name systemd prints for a capability number."""
        for name, value in self.capabilities.items():
            if value == number:
                return name
        return f"0x{number:x}"


def parse_syscall_filter(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``systemd-analyze syscall-filter`` output into groups.

    Comment lines (a group's description, the trailing lists of ungrouped and
    unlisted calls) are skipped.

    Raises:
        ValueError: The text holds no group at all.
    """
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        header = _GROUP_LINE.match(line)
        if header:
            current = groups.setdefault(header.group(1), [])
            continue
        member = _MEMBER_LINE.match(line)
        if member and current is not None:
            current.append(member.group(1))
        elif not line.strip() or not line.lstrip().startswith("#"):
            current = None
    if not groups:
        raise ValueError("no syscall group found in the syscall-filter output")
    return {name: tuple(members) for name, members in groups.items()}


def parse_capability_table(text: str) -> dict[str, int]:
    """Parse ``systemd-analyze capability`` output into names and numbers.

    Raises:
        ValueError: The text lists no capability.
    """
    table = {}
    for line in text.splitlines():
        match = _CAPABILITY_LINE.match(line)
        if match:
            table[match.group(1)] = int(match.group(2))
    if not table:
        raise ValueError("no capability found in the capability output")
    return table


def parse_syscall_numbers(text: str) -> dict[str, int]:
    """Parse a ``name<TAB>number`` table, skipping ``#`` comment lines."""
    numbers = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, number = line.split()
        numbers[name] = int(number)
    return numbers


@cache
def default_tables() -> HostTables:
    """Return the tables of Debian 12's systemd 252 on x86-64, shipped as data."""
    data = resources.files("bisect_tui").joinpath("data")
    groups = parse_syscall_filter(
        data.joinpath("syscall-filter-252.txt").read_text(encoding="utf-8")
    )
    caps = parse_capability_table(
        data.joinpath("capabilities-252.txt").read_text(encoding="utf-8")
    )
    numbers = parse_syscall_numbers(
        data.joinpath("seccomp-x86_64.tsv").read_text(encoding="utf-8")
    )
    return HostTables(groups, caps, numbers)
