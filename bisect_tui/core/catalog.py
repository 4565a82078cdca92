"""The catalog: every hardening directive in play, with what it buys and risks.

The model is frozen and knows no file format beyond loading; validation with
file:line errors lives in :mod:`bisect_tui.core.catalog_loader`, so this module
stays the small vocabulary the rest of the core speaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bisect_tui.core import directives

PHASES: tuple[str, ...] = ("base", "aggressive", "ip")
"""The stages the design applies directives in, mildest first."""

GROUPS: tuple[str, ...] = (
    "resources",
    "filesystem",
    "syscalls",
    "capabilities",
    "devices",
    "kernel",
    "namespaces",
    "identity",
    "network",
)
"""The areas a directive belongs to, for browsing and reports."""


@dataclass(frozen=True)
class Entry:
    """One directive assignment the catalog proposes.

    Attributes:
        id: Stable kebab-case identifier.
        directive: The ``[Service]`` directive, e.g. ``ProtectSystem``.
        value: A string for scalar directives; a tuple of items for list
            directives (an empty tuple is the bare reset assignment).
        phase: One of :data:`PHASES`.
        group: One of :data:`GROUPS`.
        reason: What the entry buys.
        risk: What tends to break, and how it shows.
        requires: Ids of entries this one cannot work without.
        checks: ``systemd-analyze security`` checks the entry improves.
        since: The oldest systemd version that understands the entry.
        measured: Where a real host contradicted the design, if anywhere.
        line: The catalog line the entry starts on (0 when built in code).
    """

    id: str
    directive: str
    value: str | tuple[str, ...]
    phase: str
    group: str
    reason: str
    risk: str
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    since: int = 1
    measured: str = ""
    line: int = 0

    @property
    def is_list(self) -> bool:
        """Whether the directive accumulates assignments (and needs a reset)."""
        return isinstance(self.value, tuple)

    def assignments(self) -> list[str]:
        """Return the values this entry assigns, one per drop-in line.

        A list entry normally takes one line with its items joined by spaces;
        directives that take one item per assignment (``DeviceAllow=``) get a
        line per item. An empty list assigns nothing beyond the reset.
        """
        if isinstance(self.value, str):
            return [self.value]
        info = directives.lookup(self.directive)
        if info is not None and info.kind is directives.ValueKind.LIST_ONE_PER_LINE:
            return list(self.value)
        return [" ".join(self.value)] if self.value else []

    def display_value(self) -> str:
        """Return the value as an operator reads it in a table."""
        if isinstance(self.value, str):
            return self.value
        return " ".join(self.value) if self.value else '"" (empty)'

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping of the entry."""
        value: object = list(self.value) if self.is_list else self.value
        return {
            "id": self.id,
            "directive": self.directive,
            "value": value,
            "phase": self.phase,
            "group": self.group,
            "reason": self.reason,
            "risk": self.risk,
            "requires": list(self.requires),
            "checks": list(self.checks),
            "since": self.since,
            "measured": self.measured or None,
        }


@dataclass(frozen=True)
class TradeOff:
    """A check the design leaves exposed on purpose.

    Attributes:
        check: The ``systemd-analyze security`` check, as printed.
        exposure: What it costs in the overall score, as the design reports.
        reason: Why it is kept.
    """

    check: str
    exposure: float
    reason: str

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping of the trade-off."""
        return {"check": self.check, "exposure": self.exposure, "reason": self.reason}


@dataclass(frozen=True)
class Catalog:
    """A validated catalog.

    Attributes:
        entries: Every entry, in file order.
        trade_offs: What the design keeps exposed on purpose.
        path: Where the catalog was read from.
        title: A short name for what the catalog hardens.
    """

    entries: tuple[Entry, ...]
    trade_offs: tuple[TradeOff, ...] = ()
    path: str = "<memory>"
    title: str = ""
    by_id: Mapping[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {e.id: e for e in self.entries})

    def in_phases(self, phases: Iterable[str]) -> list[Entry]:
        """Return the entries of the given phases, in catalog order."""
        wanted = set(phases)
        return [e for e in self.entries if e.phase in wanted]

    def ordered(self, ids: Iterable[str]) -> list[Entry]:
        """Return the entries named by ``ids`` in catalog order."""
        wanted = set(ids)
        return [e for e in self.entries if e.id in wanted]


def closure(catalog: Catalog, ids: Iterable[str]) -> list[str]:
    """Return ``ids`` plus every entry they require, transitively, in catalog order.

    Args:
        catalog: The catalog the ids belong to.
        ids: Entry ids to start from; each must exist in ``catalog``.
    """
    seen: set[str] = set()
    stack = list(ids)
    while stack:
        entry_id = stack.pop()
        if entry_id in seen:
            continue
        seen.add(entry_id)
        stack.extend(catalog.by_id[entry_id].requires)
    return [e.id for e in catalog.entries if e.id in seen]


def shipped_catalog_path() -> Path:
    """Return where the catalog that ships with the tool lives.

    An installed wheel carries it as package data; a source checkout keeps it
    at the repository root.
    """
    packaged = Path(__file__).resolve().parent.parent / "data" / "settings_catalog.toml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "settings_catalog.toml"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog file.

    Args:
        path: The file to read; ``None`` reads the catalog shipped with the tool.

    Raises:
        CatalogError: The file is unreadable or breaks a rule; the message
            names file:line and what to fix.
    """
    from bisect_tui.core.catalog_loader import read_catalog

    return read_catalog(Path(path) if path is not None else shipped_catalog_path())
