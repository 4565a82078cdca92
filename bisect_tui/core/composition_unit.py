"""Read what a unit sets itself from ``systemctl cat``, and fold capability lines.

Composition needs the unit's own ``[Service]`` assignments, file by file in the
order systemd applies them, without the tool's drop-in. ``systemctl cat`` prints
exactly that: each file under a ``# /path`` header, the fragment first, drop-ins
in the order they apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bisect_tui.core.dropin import DROPIN_NAME


@dataclass(frozen=True)
class UnitAssignments:
    """The ``[Service]`` assignments a unit makes without the tool's drop-in.

    Attributes:
        lines: Per directive, every value assigned, in order; ``""`` is a reset.
        files: The files read, in the order systemd applies them.
    """

    lines: Mapping[str, tuple[str, ...]]
    files: tuple[str, ...] = ()

    def current(self, directive: str) -> tuple[str, ...]:
        """The values still in effect: everything after the last reset."""
        return after_last_reset(self.lines.get(directive, ()))

    def sets(self, directive: str) -> bool:
        """Whether the unit leaves ``directive`` with a value of its own."""
        return bool(self.current(directive))


def after_last_reset(values: Sequence[str]) -> tuple[str, ...]:
    """Return the assignments after the last empty one (the last reset)."""
    result: list[str] = []
    for value in values:
        if value:
            result.append(value)
        else:
            result.clear()
    return tuple(result)


def parse_systemctl_cat(text: str, *, exclude: str = DROPIN_NAME) -> UnitAssignments:
    """Collect the ``[Service]`` assignments from ``systemctl cat`` output.

    Args:
        text: What ``systemctl cat UNIT`` printed.
        exclude: File name whose block is skipped (the tool's own drop-in).

    Returns:
        The unit's assignments; continuation lines ending in ``\\`` are joined.
    """
    lines: dict[str, list[str]] = {}
    files: list[str] = []
    skipping = False
    section = ""
    for line in _logical_lines(text):
        if line.startswith("# /"):
            path = line[2:].split(" ", 1)[0]
            skipping = path.rsplit("/", 1)[-1] == exclude
            section = ""
            if not skipping:
                files.append(path)
            continue
        if skipping or not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        name, sep, value = line.partition("=")
        if sep and section == "[Service]":
            lines.setdefault(name.strip(), []).append(value.strip())
    frozen = {name: tuple(values) for name, values in lines.items()}
    return UnitAssignments(frozen, tuple(files))


def _logical_lines(text: str) -> list[str]:
    joined: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if pending:
            line = pending + " " + line
            pending = ""
        if line.endswith("\\") and not line.startswith("#"):
            pending = line[:-1].rstrip()
            continue
        joined.append(line)
    if pending:
        joined.append(pending)
    return joined


@dataclass(frozen=True)
class CapabilitySet:
    """A set of capabilities, either as listed or as "all but" the listed.

    Attributes:
        inverted: True for "every capability except ``names``".
        names: Upper-case capability names.
    """

    inverted: bool
    names: frozenset[str]

    def intersect(self, other: CapabilitySet) -> CapabilitySet:
        """The capabilities in both sets."""
        if not self.inverted and not other.inverted:
            return CapabilitySet(False, self.names & other.names)
        if self.inverted and other.inverted:
            return CapabilitySet(True, self.names | other.names)
        listed, excluded = (other, self) if self.inverted else (self, other)
        return CapabilitySet(False, listed.names - excluded.names)

    def union(self, other: CapabilitySet) -> CapabilitySet:
        """The capabilities in either set."""
        if not self.inverted and not other.inverted:
            return CapabilitySet(False, self.names | other.names)
        if self.inverted and other.inverted:
            return CapabilitySet(True, self.names & other.names)
        listed, excluded = (other, self) if self.inverted else (self, other)
        return CapabilitySet(True, excluded.names - listed.names)

    def assignments(self) -> tuple[str, ...]:
        """Values that produce exactly this set from any starting point."""
        names = " ".join(sorted(self.names))
        if self.inverted:
            # A bare "~" resets to every capability; "~NAMES" then removes them.
            return ("~", f"~{names}") if names else ("~",)
        return ("", names) if names else ("",)

    def describe(self) -> str:
        """The set as an operator reads it."""
        names = " ".join(sorted(self.names))
        if self.inverted:
            return f"all but {names}" if names else "all"
        return names or "none"


ALL_CAPABILITIES = CapabilitySet(True, frozenset())
NO_CAPABILITIES = CapabilitySet(False, frozenset())
CAPABILITY_INITIAL: Mapping[str, CapabilitySet] = {
    "CapabilityBoundingSet": ALL_CAPABILITIES,
    "AmbientCapabilities": NO_CAPABILITIES,
}
"""What each capability directive starts from when a unit does not set it."""


def fold_capabilities(directive: str, values: Sequence[str]) -> CapabilitySet:
    """Return the set a sequence of capability assignments leaves in effect.

    This follows systemd's parser: an assignment replaces the set when it names
    nothing (``""`` or ``"~"``) or when the set is still at its initial value;
    otherwise plain lines are merged by OR and ``~`` lines by AND NOT. So after a
    reset, ``CapabilityBoundingSet=~CAP_X`` yields the empty set, not "all but".
    """
    initial = CAPABILITY_INITIAL.get(directive, NO_CAPABILITIES)
    state = initial
    for value in values:
        inverted = value.startswith("~")
        names = frozenset(n.upper() for n in value.lstrip("~").split())
        if not names or state == initial:
            state = CapabilitySet(inverted, names)
        elif inverted:
            state = state.intersect(CapabilitySet(True, names))
        else:
            state = state.union(CapabilitySet(False, names))
    return state
