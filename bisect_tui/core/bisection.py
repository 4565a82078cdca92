"""The bisection engine: which entries break the service, in as few trials as can be.

A state machine, so the headless command, a guided session and a resumed trial
log drive the same engine: ask :meth:`Bisection.next` for a trial, apply it,
judge it, :meth:`Bisection.record` the verdict, repeat until ``next`` returns a
:class:`Result`. It knows no host and no screen; the verdicts come from
whatever judges a trial (the checklist, an operator, a simulated host).

The search (see :mod:`bisect_tui.core.bisection_plan`) works on units: an entry
always travels with the entries it requires, and entries that require each
other form one unit.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bisect_tui.core.bisection_evidence import Evidence, Key
from bisect_tui.core.bisection_plan import Conclusion, Group, Request, plan
from bisect_tui.core.bisection_units import Units, build_units

log = logging.getLogger(__name__)

VERDICTS = ("good", "bad", "skip")
"""What a trial can be judged: passes, fails, or could not be decided."""

DEFAULT_MAX_UNRESOLVED = 6
"""Unresolved trials after which a search pauses."""


@dataclass(frozen=True)
class Trial:
    """A trial the engine asks for.

    Attributes:
        entries: Entry ids to apply, requirements and pinned entries included.
        purpose: Why the engine wants it, in one line.
        left: Trials probably left, this one included.
    """

    entries: tuple[str, ...]
    purpose: str
    left: int


@dataclass(frozen=True)
class Culprit:
    """Entries that break the service.

    Attributes:
        entries: The culprit entry first, then its partners (an interacting
            pair fails only when both are applied).
        kind: ``alone``, ``pair``, ``group`` or ``unresolved``.
        failed_checks: The checks it makes fail.
        proof: The trial sets whose verdicts show it, as entry ids.
    """

    entries: tuple[str, ...]
    kind: str
    failed_checks: tuple[str, ...]
    proof: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Result:
    """How a search ended and what it found.

    Attributes:
        status: ``complete``, ``paused`` or ``aborted``.
        culprits: The culprits, in the order found.
        findings: Failures no culprit explains (failing checks, entries).
        known_good: The largest set of suspects verified to pass together,
            pinned entries included.
        verified: Whether ``known_good`` passed a trial of its own.
        blocked: Entries left out only because they require a culprit.
        trials: Trials recorded (unresolved ones included).
        message: One line for the operator.
    """

    status: str
    culprits: tuple[Culprit, ...]
    findings: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    known_good: tuple[str, ...]
    verified: bool
    blocked: tuple[str, ...]
    trials: int
    message: str


class Bisection:
    """Finds every culprit and the largest verified known-good set."""

    def __init__(
        self,
        entries: Sequence[str],
        requires: Mapping[str, Collection[str]],
        pinned: Collection[str] = (),
        *,
        max_unresolved: int = DEFAULT_MAX_UNRESOLVED,
        confirm: int = 1,
    ) -> None:
        """Prepare a search.

        Args:
            entries: Suspect entry ids, in catalog order.
            requires: Entry id to the ids it requires.
            pinned: Entry ids applied in every trial; never suspects.
            max_unresolved: Unresolved trials after which the search pauses.
            confirm: Lead of votes every verdict needs (2 for a host known
                to be flaky); the engine moves to 2 by itself after the
                first surprising verdict.
        """
        self.units: Units = build_units(entries, requires, pinned)
        self.evidence = Evidence()
        self.max_unresolved = max_unresolved
        self.confirm = confirm
        self.trials = 0
        self._unit_of = {
            entry: index
            for index, members in enumerate(self.units.order)
            for entry in members
        }

    @property
    def suspects(self) -> tuple[str, ...]:
        """Every suspect entry, requirements added, in search order."""
        return tuple(e for members in self.units.order for e in members)

    def next(self) -> Trial | Result:
        """The next trial to run, or the result once the search has ended."""
        step = plan(self.units, self.evidence, self.max_unresolved, self.confirm)
        if isinstance(step, Request):
            return Trial(self._entries(step.key), step.purpose, step.left)
        return self._result(step)

    def record(
        self, entries: Collection[str], verdict: str, failed_checks: Sequence[str] = ()
    ) -> None:
        """Record a trial's verdict.

        Args:
            entries: The entry ids applied (pinned ones may be included).
            verdict: ``good``, ``bad`` or ``skip`` (unresolved).
            failed_checks: Ids of the checks that failed, for ``bad``.

        Raises:
            ValueError: An unknown verdict, or entries that are not whole
                units of this search.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
        key = self.key_of(entries)
        self.trials += 1
        self.evidence.add(key, verdict, failed_checks)
        log.info("trial %d: %s on %d units", self.trials, verdict, len(key))

    def key_of(self, entries: Collection[str]) -> Key:
        """The unit set of ``entries`` (pinned entries ignored).

        Raises:
            ValueError: An entry that is not a suspect, or part of a unit.
        """
        wanted = set(entries) - self.units.pinned
        unknown = sorted(wanted - set(self._unit_of))
        if unknown:
            raise ValueError(f"not suspects of this search: {', '.join(unknown)}")
        key = frozenset(self._unit_of[e] for e in wanted)
        if set(self._ids(key)) != wanted:
            raise ValueError("entries must include whole units")
        return key

    def _ids(self, key: Key) -> tuple[str, ...]:
        return tuple(e for i in sorted(key) for e in self.units.order[i])

    def _entries(self, key: Key) -> tuple[str, ...]:
        ids = set(self._ids(key)) | self.units.pinned
        order = {e: i for i, e in enumerate(self.suspects)}
        return tuple(sorted(ids, key=lambda e: (order.get(e, -1), e)))

    def _group(self, group: Group) -> Culprit:
        entries = tuple(e for unit in group.units for e in self.units.order[unit])
        proof = tuple(self._entries(key) for key in group.proof)
        return Culprit(entries, group.kind, group.signature, proof)

    def _result(self, end: Conclusion) -> Result:
        findings = tuple((f.signature, self._entries(f.key)) for f in end.findings)
        blocked = tuple(e for unit in end.blocked for e in self.units.order[unit])
        return Result(
            status=end.status,
            culprits=tuple(self._group(g) for g in end.culprits),
            findings=findings,
            known_good=self._entries(end.known_good),
            verified=end.verified,
            blocked=blocked,
            trials=self.trials,
            message=end.message,
        )
