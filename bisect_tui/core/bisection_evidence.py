"""What the trials so far say: votes per trial set, beliefs and doubt.

A check can be flaky, so one verdict is a vote, not a fact. A set's belief is
the clear winner among its resolved votes: ``good``, or ``bad`` with one
particular set of failing checks. A set whose votes disagree, or whose verdict
contradicts what other sets imply, is *doubted*: it needs a margin of two votes
before it is believed again, which makes the search repeat it.

Failures are assumed monotone: adding entries never cures a failure, so a
subset of a passing set passes. The converse is used only while every failure
seen so far looked the same, because a larger set can fail *differently* (a
unit that no longer starts hides workers that would have died).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Key = frozenset[int]
"""A trial set as unit indices, closed under requirements."""

Signature = tuple[str, ...]
"""The sorted ids of the checks a failing trial failed."""

GOOD: Signature = ()
"""The signature of a passing trial: no check failed."""

MAX_VOTES = 7
"""Resolved votes after which a set's leader is believed whatever its margin."""


@dataclass
class Votes:
    """The verdicts one trial set received.

    Attributes:
        outcomes: Resolved votes per signature; ``GOOD`` counts passes.
        skips: Unresolved votes (unreachable host, timeout, check skipped).
    """

    outcomes: Counter[Signature] = field(default_factory=Counter)
    skips: int = 0

    @property
    def resolved(self) -> int:
        """How many votes were good or bad."""
        return sum(self.outcomes.values())

    def leader(self) -> tuple[Signature, int] | None:
        """The most frequent outcome and its lead over the runner-up."""
        ranked = self.outcomes.most_common()
        if not ranked:
            return None
        runner_up = ranked[1][1] if len(ranked) > 1 else 0
        return ranked[0][0], ranked[0][1] - runner_up


@dataclass
class Evidence:
    """Votes per trial set, with doubt where verdicts disagree.

    Attributes:
        votes: Votes per trial set.
        doubted: Sets that need a margin of two before they are believed.
        surprises: How many surprising verdicts were seen.
        signatures: Every failure signature seen, in the order first seen.
    """

    votes: dict[Key, Votes] = field(default_factory=dict)
    doubted: set[Key] = field(default_factory=set)
    surprises: int = 0
    signatures: list[Signature] = field(default_factory=list)

    def add(self, key: Key, verdict: str, failed: Iterable[str] = ()) -> None:
        """Record one verdict (``good``, ``bad`` or ``skip``) for ``key``."""
        votes = self.votes.setdefault(key, Votes())
        if verdict == "skip":
            votes.skips += 1
            return
        signature = GOOD if verdict == "good" else _signature(failed)
        if signature != GOOD and signature not in self.signatures:
            self.signatures.append(signature)
        before = self.belief(key)
        votes.outcomes[signature] += 1
        conflicts = self._conflicts(key, signature)
        disagrees = len(votes.outcomes) > 1
        if conflicts or disagrees:
            self.surprises += 1
            log.info("surprising verdict %s; it will be repeated", verdict)
            self.doubted.add(key)
            if conflicts and before is None:
                # A fresh verdict against an old belief: doubt both sides.
                self.doubted.update(conflicts)

    def belief(self, key: Key, margin: int = 1) -> Signature | None:
        """The believed outcome of ``key`` from its own votes, or ``None``.

        Args:
            key: The trial set.
            margin: The lead the outcome needs; a doubted set needs two.
        """
        votes = self.votes.get(key)
        leader = votes.leader() if votes else None
        if votes is None or leader is None:
            return None
        outcome, lead = leader
        needed = max(margin, 2 if key in self.doubted else 1)
        if votes.resolved >= MAX_VOTES:
            needed = 1
        return outcome if lead >= needed else None

    def implied(self, key: Key, margin: int = 1) -> Signature | None:
        """The outcome monotonicity implies for ``key`` from other sets.

        Args:
            key: The trial set.
            margin: The lead the implying set's outcome needs.
        """
        single_failure = len(self.signatures) <= 1
        for other in self.votes:
            belief = self.belief(other, margin)
            if belief == GOOD and key <= other:
                return GOOD
            if belief and single_failure and other <= key:
                return belief
        return None

    def skips(self, key: Key) -> int:
        """Unresolved votes of ``key``."""
        votes = self.votes.get(key)
        return votes.skips if votes else 0

    @property
    def trials(self) -> int:
        """Votes over every set, unresolved ones included."""
        return sum(v.resolved + v.skips for v in self.votes.values())

    @property
    def unresolved(self) -> int:
        """Unresolved votes over every set."""
        return sum(votes.skips for votes in self.votes.values())

    def _conflicts(self, key: Key, signature: Signature) -> set[Key]:
        """Believed sets that contradict ``signature`` on ``key``."""
        found: set[Key] = set()
        for other, _ in self.votes.items():
            if other == key:
                continue
            belief = self.belief(other)
            if signature == GOOD and belief not in (None, GOOD) and other <= key:
                found.add(other)
            if signature != GOOD and belief == GOOD and key <= other:
                found.add(other)
        return found


def _signature(failed: Iterable[str]) -> Signature:
    """A failure's signature; a bad verdict with no named check is ``("?",)``."""
    return tuple(sorted(set(failed))) or ("?",)
