"""Render a selection of catalog entries as a ``[Service]`` drop-in, and back.

Rendering is deterministic so a drop-in's hash identifies a trial. Every list
directive the drop-in controls starts with an empty assignment, because systemd
adds list assignments to what the unit and earlier drop-ins already set. A ``~``
only makes a deny-list at the very start of an assignment, so each syscall group
gets its own ``SystemCallFilter=`` line, allow lines first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bisect_tui import __version__
from bisect_tui.core.catalog import Catalog, Entry
from bisect_tui.errors import CatalogError

DROPIN_NAME = "zz-harden-bisect.conf"
"""The file name of the tool's drop-in; ``zz`` sorts it after every other one."""


def render_dropin(entries: Sequence[Entry], *, title: str = "") -> str:
    """Return the text of a ``[Service]`` drop-in applying ``entries``.

    Args:
        entries: The entries to apply; their order does not matter.
        title: What the drop-in is for, written in its header comment.
    """
    lines = [
        f"# harden-bisect {__version__}: {title or 'trial drop-in'}",
        "# Written by harden-bisect; `harden-bisect rollback` removes it.",
        f"# Entries ({len(entries)}): " + (", ".join(sorted(e.id for e in entries))),
        "[Service]",
    ]
    for directive, group in _by_directive(entries):
        if group[0].is_list:
            lines.append(f"{directive}=")
        for entry in _allow_before_deny(group):
            lines.extend(f"{directive}={value}" for value in entry.assignments())
    return _wrap_comments(lines) + "\n"


def dropin_assignments(text: str) -> list[tuple[str, str]]:
    """Return the ``(directive, value)`` assignments of a drop-in, in order.

    Raises:
        CatalogError: A line is neither a comment, a section header nor an
            assignment.
    """
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;" or line == "[Service]":
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or line.startswith("["):
            raise CatalogError("<drop-in>", number, f"not an assignment: {line!r}")
        result.append((name.strip(), value.strip()))
    return result


def parse_dropin(text: str, catalog: Catalog) -> list[Entry]:
    """Read a drop-in back into the catalog entries it applies.

    Reset lines are implied by list entries; a list directive that is reset and
    never assigned again maps to the catalog's empty-list entry for it.

    Raises:
        CatalogError: An assignment matches no catalog entry.
    """
    lines = dropin_assignments(text)
    found: list[Entry] = []
    for directive in dict.fromkeys(name for name, _ in lines):
        values = [value for name, value in lines if name == directive]
        candidates = [e for e in catalog.entries if e.directive == directive]
        found.extend(_match(directive, values, candidates))
    return catalog.ordered(e.id for e in found)


def _match(directive: str, values: list[str], candidates: list[Entry]) -> list[Entry]:
    assigned = [v for v in values if v]
    if not assigned:
        empty = [e for e in candidates if e.is_list and not e.value]
        if values and empty:
            return empty[:1]
        if values and any(e.is_list for e in candidates):
            return []
    matched: list[Entry] = []
    remaining = list(assigned)
    for entry in candidates:
        wanted = entry.assignments()
        if wanted and all(v in remaining for v in wanted):
            matched.append(entry)
            for value in wanted:
                remaining.remove(value)
    if remaining:
        message = f"{directive}={remaining[0]} matches no catalog entry"
        raise CatalogError("<drop-in>", None, message)
    return matched


def _by_directive(entries: Iterable[Entry]) -> list[tuple[str, list[Entry]]]:
    groups: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: (e.line, e.id)):
        groups.setdefault(entry.directive, []).append(entry)
    return list(groups.items())


def _allow_before_deny(entries: list[Entry]) -> list[Entry]:
    def is_deny(entry: Entry) -> bool:
        values = entry.assignments()
        return bool(values) and values[0].startswith("~")

    return sorted(entries, key=is_deny)


def _wrap_comments(lines: list[str], width: int = 88) -> str:
    wrapped: list[str] = []
    for line in lines:
        while line.startswith("#") and len(line) > width:
            cut = line.rfind(", ", 0, width)
            if cut <= 2:
                break
            wrapped.append(line[: cut + 1])
            line = "#   " + line[cut + 2 :]
        wrapped.append(line)
    return "\n".join(wrapped)
