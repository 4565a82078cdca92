"""What a hint is: a suspected directive, the line that betrays it, and why.

Kept in its own module so the recognisers and the code that ranks their findings
can share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EVIDENCE_CHARS = 240
"""How much of a log line a hint quotes."""


@dataclass(frozen=True)
class Hint:
    """A directive suspected of breaking the service, with the evidence.

    Attributes:
        sign: A short name of what was recognised, e.g. ``"seccomp-kill"``.
        directive: The directive suspected, e.g. ``"SystemCallFilter"``.
        value: The value or group suspected, e.g. ``"~@privileged"`` or a path;
            ``""`` when the evidence does not say.
        evidence: The log line (or check evidence) the hint rests on.
        explanation: One sentence saying what happened and what to change.
    """

    sign: str
    directive: str
    value: str
    evidence: str
    explanation: str

    def __post_init__(self) -> None:
        text = self.evidence.strip()
        if len(text) > EVIDENCE_CHARS:
            text = text[: EVIDENCE_CHARS - 1] + "…"
        object.__setattr__(self, "evidence", text)

    @property
    def suspect(self) -> str:
        """The directive and value as an operator would write them."""
        return f"{self.directive}={self.value}" if self.value else self.directive

    def to_dict(self) -> dict[str, Any]:
        """Return the hint as plain JSON-ready data."""
        return {
            "sign": self.sign,
            "directive": self.directive,
            "value": self.value,
            "suspect": self.suspect,
            "evidence": self.evidence,
            "explanation": self.explanation,
        }
