"""Compose a trial's drop-in with what the unit already sets, never loosening it.

The rendered drop-in resets every list directive it controls, so a trial means
exactly what the catalog says. On a unit that sets those lists itself (NixOS's
nginx module sets SystemCallFilter, CapabilityBoundingSet, AmbientCapabilities and
RestrictAddressFamilies) a bare reset would silently drop the unit's protection,
and a trial could pass only because it ran with less hardening than the unit had.

The rule, per list directive the unit sets (see docs/host-layer.md):

* Filters whose first assignment picks allow or deny (``SystemCallFilter``,
  ``RestrictAddressFamilies``, ``RestrictFileSystems``): when the catalog only
  denies, the reset is dropped and its ``~`` lines add to the unit's. When the
  catalog brings an allow-list, the reset stays, the catalog's lines follow, and
  the unit's own ``~`` lines are appended after them; they can only tighten.
* Capability sets: the trial applies the intersection of the unit's set and the
  catalog's, computed exactly.
* Every other list (paths, devices, addresses, groups): the reset is dropped and
  the catalog's items add to the unit's, as NixOS merges list options, unless
  the catalog's value is the empty assignment, which replaces on purpose.
* Scalars: the drop-in overrides the unit; the composition says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bisect_tui.core.composition_unit import (
    CAPABILITY_INITIAL,
    UnitAssignments,
    after_last_reset,
    fold_capabilities,
)
from bisect_tui.core.dropin import dropin_assignments

MODE_FILTERS: frozenset[str] = frozenset(
    {"SystemCallFilter", "RestrictAddressFamilies", "RestrictFileSystems"}
)
"""List directives whose first assignment decides allow-list or deny-list."""


@dataclass(frozen=True)
class ComposedDirective:
    """How one directive of the trial was composed with the unit's own value.

    Attributes:
        directive: The directive.
        action: ``new`` (the unit does not set it), ``added`` (the trial's items
            add to the unit's), ``composed`` (reset, then the catalog's and the
            unit's tightening lines), ``intersected``, ``replaced`` (the catalog
            replaces the unit's value on purpose) or ``overrides`` (a scalar).
        unit_values: The unit's own assignments still in effect.
        lines: What the drop-in assigns, in order; ``""`` is a reset.
        effective: The assignments in effect once the drop-in applies.
        note: One sentence for the operator; empty for ``new``.
    """

    directive: str
    action: str
    unit_values: tuple[str, ...]
    lines: tuple[str, ...]
    effective: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Composition:
    """A trial's drop-in after composition.

    Attributes:
        text: The drop-in to write.
        directives: Every directive of the trial, in drop-in order.
    """

    text: str
    directives: tuple[ComposedDirective, ...]

    def touching_unit(self) -> list[ComposedDirective]:
        """The directives the unit also sets, whose composition is worth showing."""
        return [d for d in self.directives if d.action != "new"]

    def by_directive(self, directive: str) -> ComposedDirective | None:
        """The composed directive called ``directive``, if the trial has it."""
        return next((d for d in self.directives if d.directive == directive), None)


def compose_dropin(text: str, unit: UnitAssignments) -> Composition:
    """Compose a rendered drop-in with the unit's own assignments.

    Args:
        text: A drop-in from :func:`bisect_tui.core.dropin.render_dropin`.
        unit: What the unit sets without the tool's drop-in.

    Returns:
        The drop-in to write and how each directive was composed.
    """
    groups: dict[str, list[str]] = {}
    for name, value in dropin_assignments(text):
        groups.setdefault(name, []).append(value)
    composed = tuple(
        _compose_one(name, values, unit.current(name))
        for name, values in groups.items()
    )
    return Composition(_render(text, composed), composed)


def _compose_one(
    directive: str, values: list[str], unit_values: tuple[str, ...]
) -> ComposedDirective:
    if not values or values[0] != "":
        return _compose_scalar(directive, values[-1:], unit_values)
    if not unit_values:
        return _made(directive, "new", unit_values, values, "")
    catalog = [v for v in values if v]
    if directive in CAPABILITY_INITIAL:
        return _intersect_capabilities(directive, catalog, unit_values)
    if directive in MODE_FILTERS:
        return _compose_filter(directive, catalog, unit_values)
    if not catalog:
        note = f"the catalog empties the unit's {directive} on purpose"
        return _made(directive, "replaced", unit_values, values, note)
    note = f"the trial's items add to the unit's own {directive}"
    return _made(directive, "added", unit_values, catalog, note)


def _compose_scalar(
    directive: str, values: list[str], unit_values: tuple[str, ...]
) -> ComposedDirective:
    """A scalar: the drop-in's last assignment wins over the unit's."""
    action, note = "new", ""
    if unit_values:
        action = "overrides"
        note = f"the unit sets {directive}={unit_values[-1]}; the trial overrides it"
    lines = tuple(values)
    return ComposedDirective(directive, action, unit_values, lines, lines, note)


def _compose_filter(
    directive: str, catalog: list[str], unit_values: tuple[str, ...]
) -> ComposedDirective:
    allows = [v for v in catalog if not v.startswith("~")]
    if not allows:
        note = (
            f"the unit's own {directive} stays; the trial's deny lines add to it"
            if catalog
            else f"an empty {directive}= would drop the unit's filter; it stays"
        )
        return _made(directive, "added", unit_values, catalog, note)
    unit_denies = [v for v in unit_values if v.startswith("~") and v not in catalog]
    dropped = [v for v in unit_values if not v.startswith("~")]
    note = f"the catalog's lines, then the unit's own deny lines ({len(unit_denies)})"
    if dropped:
        # TODO: intersect allow-lists of groups by expanding them with the
        # host's `systemd-analyze syscall-filter`; until then the catalog's
        # allow-list replaces the unit's.
        note += f"; the unit's allow lines are replaced: {' | '.join(dropped)}"
    lines = ["", *catalog, *unit_denies]
    return _made(directive, "composed", unit_values, lines, note)


def _intersect_capabilities(
    directive: str, catalog: list[str], unit_values: tuple[str, ...]
) -> ComposedDirective:
    wanted = fold_capabilities(directive, ["", *catalog])
    allowed = fold_capabilities(directive, unit_values)
    result = wanted.intersect(allowed)
    note = (
        f"the unit allows {allowed.describe()}, the catalog {wanted.describe()}: "
        f"the trial applies both, {result.describe()}"
    )
    return _made(
        directive, "intersected", unit_values, list(result.assignments()), note
    )


def _made(
    directive: str,
    action: str,
    unit_values: tuple[str, ...],
    lines: Sequence[str],
    note: str,
) -> ComposedDirective:
    effective = after_last_reset([*unit_values, *lines])
    return ComposedDirective(
        directive, action, unit_values, tuple(lines), effective, note
    )


def _render(original: str, composed: Sequence[ComposedDirective]) -> str:
    header = [
        line
        for line in original.splitlines()
        if line.startswith("#") and not line.startswith("# Composed")
    ]
    notes = [f"#   {d.directive}: {d.note}" for d in composed if d.note]
    if notes:
        header.append("# Composed with the unit's own settings:")
        header.extend(_clip(note) for note in notes)
    body = ["[Service]"]
    for directive in composed:
        body.extend(f"{directive.directive}={value}" for value in directive.lines)
    return "\n".join(header + body) + "\n"


def _clip(line: str, width: int = 88) -> str:
    return line if len(line) <= width else line[: width - 3] + "..."
