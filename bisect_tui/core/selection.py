"""Turn ``--phase`` and ``--select`` into the entries of a trial.

Every command spells a selection the same way. Requirements are added
automatically, because an entry never travels without what it needs, and two
entries that would fight over one directive are refused before anything is
rendered.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Sequence

from bisect_tui.core.catalog import PHASES, Catalog, Entry, closure
from bisect_tui.errors import UsageError

log = logging.getLogger(__name__)

ALL_PHASES = "all"
"""The ``--phase`` value meaning every phase."""


def parse_select(values: Iterable[str]) -> list[str]:
    """Split repeated ``--select ID[,ID…]`` values into ids, keeping order."""
    ids: list[str] = []
    for value in values:
        ids.extend(part.strip() for part in value.split(",") if part.strip())
    return list(dict.fromkeys(ids))


def resolve_selection(
    catalog: Catalog, phases: Sequence[str] = (), ids: Sequence[str] = ()
) -> list[Entry]:
    """Return the entries a selection names, with their requirements, in order.

    Args:
        catalog: The catalog to select from.
        phases: Phase names, or ``"all"``.
        ids: Entry ids.

    Raises:
        UsageError: An unknown phase or id, or two entries that conflict.
    """
    wanted: list[str] = []
    for phase in phases:
        if phase == ALL_PHASES:
            wanted.extend(e.id for e in catalog.entries)
        elif phase in PHASES:
            wanted.extend(e.id for e in catalog.in_phases([phase]))
        else:
            choices = ", ".join((*PHASES, ALL_PHASES))
            raise UsageError(f"unknown phase {phase!r}; choose from {choices}")
    for entry_id in ids:
        if entry_id not in catalog.by_id:
            close = difflib.get_close_matches(entry_id, list(catalog.by_id), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"no catalog entry {entry_id!r}{hint}")
        wanted.append(entry_id)
    chosen = closure(catalog, wanted)
    for added in sorted(set(chosen) - set(wanted)):
        log.info("added %s: required by the selection", added)
    entries = catalog.ordered(chosen)
    check_conflicts(entries)
    return entries


def check_conflicts(entries: Sequence[Entry]) -> None:
    """Refuse entries that would overwrite one another in a drop-in.

    Two entries conflict when they set the same scalar directive, or when one
    is the empty assignment of a list directive the other adds to.

    Raises:
        UsageError: Naming both entries and the directive.
    """
    by_directive: dict[str, Entry] = {}
    for entry in entries:
        other = by_directive.get(entry.directive)
        if other is not None and _conflict(other, entry):
            raise UsageError(
                f"entries {other.id!r} and {entry.id!r} both set "
                f"{entry.directive}=; select only one of them"
            )
        if other is None or not entry.value:
            by_directive[entry.directive] = entry


def _conflict(first: Entry, second: Entry) -> bool:
    if not first.is_list or not second.is_list:
        return True
    return not first.value or not second.value
