"""The search's view of the evidence: how a trial set looks to the chase.

The planner (:mod:`bisect_tui.core.bisection_plan`) and the explanation of a
culprit (:mod:`bisect_tui.core.bisection_explain`) ask one question of the
evidence, through :class:`Probe`: does this set pass, fail the way being
chased, fail another way, or stay unresolved? A set with no belief yet stops
the search there with :class:`NeedTrial`, which carries the trial to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from bisect_tui.core.bisection_evidence import GOOD, Evidence, Key, Signature
from bisect_tui.core.bisection_units import Units

Outcome = Literal["good", "bad", "other", "unresolved"]
"""How a set looks to the chase: passes, fails the chased way, fails another
way, or has no verdict after its retries."""

SKIP_RETRIES = 2
"""Unresolved votes after which a set is routed around instead of retried."""


@dataclass(frozen=True)
class Request:
    """A trial the search needs next.

    Attributes:
        key: The units to apply (closed under requirements).
        purpose: Why, in one line, for the operator and the trial log.
        left: Trials probably left, this one included.
    """

    key: Key
    purpose: str
    left: int


@dataclass(frozen=True)
class Group:
    """A culprit: one unit that fails alone, or units that fail only together.

    Attributes:
        units: The culprit unit first, then its partners in the order found.
        kind: ``alone``, ``pair``, ``group`` (three or more) or ``unresolved``
            (unresolved or differing verdicts hid which unit it is).
        signature: The failing checks it causes.
        proof: The sets whose verdicts prove it.
    """

    units: tuple[int, ...]
    kind: str
    signature: Signature
    proof: tuple[Key, ...] = ()


class NeedTrial(Exception):
    """Raised inside the search at the first set without a verdict."""

    def __init__(self, request: Request) -> None:
        super().__init__(request.purpose)
        self.request = request


@dataclass
class Probe:
    """The search's only view of the evidence, for one chased failure.

    Besides the chased failure it carries what the search has concluded so
    far: culprits, findings, units blocked by a culprit, and partners whose
    "passes alone" still rests on passing prefixes only (``deferred``), for
    the known-good candidate to vouch for or a trial alone to settle.
    """

    units: Units
    evidence: Evidence
    confirm: int = 1
    signature: Signature | None = None
    findings: dict[Signature, Key] = field(default_factory=dict)
    culprits: list[Group] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)

    @property
    def recheck(self) -> int:
        """The lead that confirms a verdict one flip would explain away."""
        return self.confirm + 1

    def outcome(
        self,
        members: Iterable[int],
        purpose: str,
        *,
        left: int = 1,
        direct: bool = False,
        margin: int = 1,
    ) -> Outcome:
        """How the set of ``members`` (with requirements) looks to the chase.

        Args:
            members: Unit indices.
            purpose: Shown to the operator if a trial is needed.
            left: Trials probably left if a trial is needed now.
            direct: Use only this set's own votes, not what others imply.
            margin: The lead its votes need (two to confirm a surprise).

        Raises:
            NeedTrial: No belief yet; the search stops here for a trial.
        """
        key = self.units.closure(members)
        margin = max(margin, self.confirm)
        belief = self.evidence.belief(key, margin)
        if belief is None and not direct and margin == self.confirm:
            belief = self.evidence.implied(key, margin)
        if belief is None:
            if self.evidence.skips(key) >= SKIP_RETRIES:
                return "unresolved"
            raise NeedTrial(Request(key, purpose, max(left, 1)))
        if belief == GOOD:
            return "good"
        if self.signature is None:
            self.signature = belief
        if belief == self.signature:
            return "bad"
        known = self.findings.get(belief)
        if known is None or len(key) < len(known):
            self.findings[belief] = key
        return "other"


def belief_of(probe: Probe, members: Iterable[int]) -> Signature:
    """The believed failure of a set the probe has already classified."""
    key = probe.units.closure(members)
    belief = probe.evidence.belief(key) or probe.evidence.implied(key)
    return belief or ()
