"""What the trials so far say: votes per trial set, beliefs and doubt.

A check can be flaky, so one verdict is a vote, not a fact. A set's belief is
the clear winner among its resolved votes: ``good``, or ``bad`` with one
particular set of failing checks. Once the host has given one surprising
verdict (a set whose votes disagree, or a verdict that contradicts what
another set showed), every belief needs a lead of two votes, which makes the
search repeat what it relies on. Two beliefs that contradict each other are
doubted together: each needs a lead two votes larger than the other's, so the
weaker side is tried again until the votes settle which verdict was flipped.

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
    """Votes per trial set, and what they add up to.

    A set's belief is its leading outcome once the lead is large enough: one
    vote on a host that has never surprised, two once it has (or whatever the
    caller asks for). Two beliefs that contradict monotonicity (a failing set
    inside a passing one) cannot both stand: each needs a lead two votes
    larger than the other's, so the search repeats the weaker side until the
    votes settle which one was the flaky verdict.

    Attributes:
        votes: Votes per trial set.
        surprises: How many surprising verdicts were seen: a vote against its
            set's leading outcome, or against a believed set it contradicts.
        signatures: Every failure signature seen, in the order first seen.
    """

    votes: dict[Key, Votes] = field(default_factory=dict)
    surprises: int = 0
    signatures: list[Signature] = field(default_factory=list)
    _contest: dict[Key, int] = field(default_factory=dict, init=False, repr=False)

    def add(self, key: Key, verdict: str, failed: Iterable[str] = ()) -> None:
        """Record one verdict (``good``, ``bad`` or ``skip``) for ``key``."""
        votes = self.votes.setdefault(key, Votes())
        if verdict == "skip":
            votes.skips += 1
            return
        signature = GOOD if verdict == "good" else _signature(failed)
        if signature != GOOD and signature not in self.signatures:
            self.signatures.append(signature)
        leader = votes.leader()
        conflicts = self._conflicts(key, signature)
        votes.outcomes[signature] += 1
        self._contest.clear()
        if conflicts or (leader is not None and leader[0] != signature):
            self.surprises += 1
            log.info("surprising verdict %s; it will be repeated", verdict)

    def belief(self, key: Key, margin: int = 1) -> Signature | None:
        """The believed outcome of ``key`` from its own votes, or ``None``.

        Args:
            key: The trial set.
            margin: The lead the outcome needs at least.
        """
        votes = self.votes.get(key)
        leader = votes.leader() if votes else None
        if votes is None or leader is None:
            return None
        outcome, lead = leader
        if votes.resolved >= MAX_VOTES:
            return outcome
        needed = max(margin, 2 if self.surprises else 1, self._contested(key))
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

    def vouchers(self, unit: int, without: int) -> int:
        """How many sets holding ``unit`` but not ``without`` are believed to pass."""
        return sum(
            1
            for key in self.votes
            if unit in key and without not in key and self.belief(key) == GOOD
        )

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

    def _contested(self, key: Key) -> int:
        """The lead ``key`` needs to outweigh the sets its leader contradicts."""
        if key not in self._contest:
            leader = self.votes[key].leader()
            needed = 0
            if leader is not None:
                for _, lead in self._opposed(key, leader[0]):
                    needed = max(needed, lead + 2)
            self._contest[key] = needed
        return self._contest[key]

    def _opposed(self, key: Key, signature: Signature) -> list[tuple[Key, int]]:
        """Sets whose leading outcome contradicts ``signature`` on ``key``."""
        found = []
        for other, votes in self.votes.items():
            leader = votes.leader()
            if other == key or leader is None:
                continue
            outcome, lead = leader
            if signature == GOOD and outcome != GOOD and other <= key:
                found.append((other, lead))
            if signature != GOOD and outcome == GOOD and key <= other:
                found.append((other, lead))
        return found

    def _conflicts(self, key: Key, signature: Signature) -> list[Key]:
        """Believed sets that contradict ``signature`` on ``key``."""
        return [
            other
            for other, _ in self._opposed(key, signature)
            if self.belief(other) is not None
        ]


def _signature(failed: Iterable[str]) -> Signature:
    """A failure's signature; a bad verdict with no named check is ``("?",)``."""
    return tuple(sorted(set(failed))) or ("?",)
