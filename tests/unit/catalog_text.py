"""Small catalog texts for loader and renderer tests."""

from __future__ import annotations

ENTRY = """\
[[entry]]
id = "{id}"
directive = "{directive}"
value = {value}
phase = "{phase}"
group = "{group}"
reason = "Keeps the service away from something."
risk = "Something may break."
requires = {requires}
"""


def entry_toml(
    id: str = "protect-home",
    directive: str = "ProtectHome",
    value: str = '"yes"',
    phase: str = "base",
    group: str = "filesystem",
    requires: str = "[]",
) -> str:
    """Return the TOML of one catalog entry with sensible defaults."""
    return ENTRY.format(
        id=id,
        directive=directive,
        value=value,
        phase=phase,
        group=group,
        requires=requires,
    )
