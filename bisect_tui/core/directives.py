"""The ``[Service]``-section directives systemd knows, and how each takes values.

The table ships with the package (``data/service_directives.txt``) so a catalog can
be checked without a host: an unknown name is an error with a "did you mean", and
the renderer needs to know which directives are lists (they get a reset line).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class ValueKind(StrEnum):
    """How a directive takes its value."""

    SCALAR = "scalar"
    """One value; a later assignment replaces an earlier one."""
    LIST = "list"
    """Space-separated items; assignments add up; an empty one resets."""
    LIST_ONE_PER_LINE = "list1"
    """Like ``LIST``, but each assignment carries one item (``DeviceAllow=``)."""


@dataclass(frozen=True)
class DirectiveInfo:
    """What the project knows about one directive.

    Attributes:
        name: The directive as written in a unit file, e.g. ``ProtectSystem``.
        since: The oldest systemd version that knows the directive.
        kind: How it takes values.
    """

    name: str
    since: int
    kind: ValueKind

    @property
    def is_list(self) -> bool:
        """Whether assignments accumulate and an empty one resets them."""
        return self.kind is not ValueKind.SCALAR


@cache
def known_directives() -> dict[str, DirectiveInfo]:
    """Return the shipped table of ``[Service]`` directives, keyed by name."""
    text = (
        resources.files("bisect_tui")
        .joinpath("data/service_directives.txt")
        .read_text(encoding="utf-8")
    )
    return parse_directive_table(text)


def parse_directive_table(text: str) -> dict[str, DirectiveInfo]:
    """Parse lines of ``Name SINCE KIND``; ``#`` starts a comment line."""
    table: dict[str, DirectiveInfo] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, since, kind = line.split()[:3]
        table[name] = DirectiveInfo(name, int(since), ValueKind(kind))
    return table


def lookup(name: str) -> DirectiveInfo | None:
    """Return the directive called ``name``, or ``None`` if systemd has none."""
    return known_directives().get(name)


def suggest(name: str) -> str | None:
    """Return the known directive closest to a misspelt ``name``, if any."""
    names = list(known_directives())
    folded = {n.lower(): n for n in names}
    if name.lower() in folded:
        return folded[name.lower()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return close[0] if close else None
