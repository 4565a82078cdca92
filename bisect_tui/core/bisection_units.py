"""Requirement-aware units for the search: what must be applied together.

An entry never travels without the entries it requires, so the search never
tries a set that breaks a requirement. Entries that require each other (a
cycle) can only be applied together and form one unit. Units are kept in an
order where every unit comes after the units it requires, so every prefix of
that order is closed under requirements: a prefix is always a valid trial.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Units:
    """The suspects of a search, grouped and ordered.

    Attributes:
        order: Units in search order; each is a sorted tuple of entry ids.
        needs: For each unit index, the indices of the units it requires,
            transitively (its own index excluded).
        pinned: Entry ids applied in every trial, requirements included.
    """

    order: tuple[tuple[str, ...], ...]
    needs: tuple[frozenset[int], ...]
    pinned: frozenset[str]

    def closure(self, units: Iterable[int]) -> frozenset[int]:
        """Return ``units`` plus every unit they require."""
        chosen = set(units)
        for index in list(chosen):
            chosen |= self.needs[index]
        return frozenset(chosen)

    def dependents(self, unit: int) -> frozenset[int]:
        """Return the units that cannot be applied without ``unit``."""
        return frozenset(i for i, needs in enumerate(self.needs) if unit in needs)

    def entries(self, units: Iterable[int]) -> frozenset[str]:
        """Return the entry ids of a trial: the closure of ``units`` plus pinned."""
        ids = set(self.pinned)
        for index in self.closure(units):
            ids.update(self.order[index])
        return frozenset(ids)

    def ids(self, units: Iterable[int]) -> tuple[str, ...]:
        """Return the sorted entry ids of ``units`` alone (no closure)."""
        return tuple(sorted(e for i in units for e in self.order[i]))


def _reach(start: str, requires: Mapping[str, Collection[str]]) -> set[str]:
    """Return every id ``start`` requires, transitively (itself excluded)."""
    seen: set[str] = set()
    stack = list(requires.get(start, ()))
    while stack:
        entry_id = stack.pop()
        if entry_id not in seen:
            seen.add(entry_id)
            stack.extend(requires.get(entry_id, ()))
    return seen


def build_units(
    entries: Sequence[str],
    requires: Mapping[str, Collection[str]],
    pinned: Collection[str] = (),
) -> Units:
    """Group ``entries`` into units and order them requirements first.

    Args:
        entries: Suspect entry ids, in the order the operator sees them.
        requires: Entry id to the ids it requires (missing keys need nothing).
        pinned: Entry ids applied in every trial; never suspects.

    Returns:
        The units. Requirements of a suspect that are neither suspects nor
        pinned become suspects too, appended in sorted order, because a
        trial cannot leave them out.
    """
    pinned_all = set(pinned)
    for entry_id in pinned:
        pinned_all |= _reach(entry_id, requires)
    suspects = [e for e in dict.fromkeys(entries) if e not in pinned_all]
    extra = sorted({r for e in suspects for r in _reach(e, requires)})
    extra = [e for e in extra if e not in pinned_all and e not in suspects]
    if extra:
        log.info("requirements added as suspects: %s", ", ".join(extra))
    suspects += extra
    reach = {e: _reach(e, requires) - pinned_all for e in suspects}

    # Entries that reach each other share a unit; a unit takes the place of
    # its first member, then a stable topological sort puts needs first.
    unit_of: dict[str, int] = {}
    groups: list[tuple[str, ...]] = []
    for entry_id in suspects:
        if entry_id in unit_of:
            continue
        members = [entry_id] + [
            o for o in suspects if o in reach[entry_id] and entry_id in reach[o]
        ]
        for member in members:
            unit_of[member] = len(groups)
        groups.append(tuple(sorted(set(members))))
    direct = [
        {unit_of[r] for e in group for r in reach[e]} - {g}
        for g, group in enumerate(groups)
    ]
    placed: list[int] = []
    done: set[int] = set()
    while len(placed) < len(groups):
        for g in range(len(groups)):
            if g not in done and direct[g] <= done:
                placed.append(g)
                done.add(g)
                break
    position = {g: i for i, g in enumerate(placed)}
    return Units(
        order=tuple(groups[g] for g in placed),
        needs=tuple(frozenset(position[d] for d in direct[g]) for g in placed),
        pinned=frozenset(pinned_all),
    )
