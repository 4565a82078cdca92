"""The checks ``systemd-analyze security`` grades, with their weights.

The names are exactly as the command prints them (``SystemCallFilter=~@mount``), so
the catalog can say which checks an entry improves and scoring can weigh them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class SecurityCheck:
    """One graded check.

    Attributes:
        name: As printed by ``systemd-analyze security``.
        key: The policy key used by ``--security-policy``.
        weight: How much the check counts in the overall exposure.
        range: The badness scale; a badness of ``range`` is fully exposed.
    """

    name: str
    key: str
    weight: int
    range: int


@cache
def security_checks() -> tuple[SecurityCheck, ...]:
    """Return the shipped checks, in the order systemd lists them."""
    text = (
        resources.files("bisect_tui")
        .joinpath("data/analyze-security-weights.json")
        .read_text(encoding="utf-8")
    )
    return tuple(SecurityCheck(*row) for row in json.loads(text))


def security_check_names() -> frozenset[str]:
    """Return the set of check names, for validating a catalog."""
    return frozenset(check.name for check in security_checks())
