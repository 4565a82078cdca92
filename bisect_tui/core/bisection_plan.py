"""The search itself: from the evidence so far, the next trial or the answer.

The planner is a pure function of the evidence. It runs the whole search from
the start each time it is asked, reading verdicts from the evidence, and stops
at the first trial set it has no belief for. That one design gives caching (a
set is never tried twice unless doubt asks for it), resuming (replay the trial
log into fresh evidence) and recovery from a flaky verdict (doubt removes a
belief, and the next plan routes around it) without any state of its own.

The search, in the terms of the units (requirement-closed groups of entries):

1. Find the shortest failing prefix of the unit order, halving. The baseline
   (no unit) passes, and the full set is tried last, only if every shorter
   prefix passes: one culprit then costs at most ceil(log2 n) trials here.
2. Explain its last unit ``c``. The prefix without ``c`` passed, so ``c`` breaks
   the service with it; ``c`` alone tells whether it needs a partner. If it
   passes alone, halving over the passing prefix finds the partner(s).
3. Keep the passing prefix, drop ``c`` (and whatever requires it) and try
   everything that is left: if that passes it is the known-good set, verified;
   if not, search the rest the same way.

A verdict counts as bad only when the failing checks are those of the failure
being chased; a set that fails differently is routed around and, if the rest
of the search cannot do without it, becomes the next failure chased.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bisect_tui.core.bisection_evidence import GOOD, Evidence, Key, Signature
from bisect_tui.core.bisection_units import Units

Outcome = Literal["good", "bad", "other", "unresolved"]
"""How a set looks to the chase: passes, fails the chased way, fails another
way, or has no verdict after its retries."""

SKIP_RETRIES = 2
"""Unresolved votes after which a set is routed around instead of retried."""

MAX_GROUP = 3
"""Members an interacting group may have before it is reported unresolved."""


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


@dataclass(frozen=True)
class Finding:
    """A failure other than a culprit's, seen on some set.

    Attributes:
        signature: The failing checks.
        key: The smallest set seen failing that way.
    """

    signature: Signature
    key: Key


@dataclass(frozen=True)
class Conclusion:
    """Where the search ended.

    Attributes:
        status: ``complete``, ``paused`` (too many unresolved trials) or
            ``aborted`` (the pinned units fail on their own).
        culprits: The culprits found, in the order found.
        findings: Failures seen that no culprit explains.
        known_good: The largest set verified to pass.
        verified: Whether ``known_good`` itself passed a trial.
        blocked: Units left out because they require a culprit.
        message: One line for the operator.
    """

    status: str
    culprits: tuple[Group, ...]
    findings: tuple[Finding, ...]
    known_good: Key
    verified: bool
    blocked: tuple[int, ...] = ()
    message: str = ""


class _Need(Exception):
    """Raised inside the search at the first set without a verdict."""

    def __init__(self, request: Request) -> None:
        super().__init__(request.purpose)
        self.request = request


@dataclass
class _Probe:
    """The search's only view of the evidence, for one chased failure."""

    units: Units
    evidence: Evidence
    confirm: int = 1
    signature: Signature | None = None
    findings: dict[Signature, Key] = field(default_factory=dict)
    culprits: list[Group] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)

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
            _Need: No belief yet; the search stops here for a trial.
        """
        key = self.units.closure(members)
        margin = max(margin, self.confirm)
        belief = self.evidence.belief(key, margin)
        if belief is None and not direct and margin == self.confirm:
            belief = self.evidence.implied(key, margin)
        if belief is None:
            if self.evidence.skips(key) >= SKIP_RETRIES:
                return "unresolved"
            raise _Need(Request(key, purpose, max(left, 1)))
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


def trial_budget(units: Units) -> int:
    """Trials after which a search stops as too inconsistent to go on.

    About four times what a steady host with three culprits needs: enough to
    outlast a flaky check, not so much that a hopeless search runs all night.
    """
    size = max(len(units.order), 2)
    return 12 * math.ceil(math.log2(size)) + 24


def plan(
    units: Units, evidence: Evidence, max_unresolved: int, confirm: int = 1
) -> Request | Conclusion:
    """Return the next trial the search needs, or how it ended.

    Args:
        units: The suspects, grouped and ordered.
        evidence: Every verdict so far.
        max_unresolved: Unresolved trials after which the search pauses.
        confirm: The lead every verdict needs: 1 trusts a steady host; 2
            repeats each trial set until two more votes agree than disagree.
            Once the host has given a surprising verdict, 2 is used anyway.
    """
    if evidence.surprises:
        confirm = max(confirm, 2)
    probe = _Probe(units, evidence, confirm)
    try:
        return _search(probe)
    except _Need as need:
        if evidence.unresolved >= max_unresolved:
            reason = (
                f"{evidence.unresolved} unresolved trials; is the host reachable "
                "and can the checklist decide? Resume the session when it is"
            )
            return _paused(probe, reason)
        if evidence.trials >= trial_budget(units):
            reason = (
                f"{evidence.surprises} surprising verdicts in {evidence.trials} "
                "trials; a flaky check may need fixing or a longer timeout"
            )
            return _paused(probe, reason)
        return need.request


def _search(probe: _Probe) -> Conclusion:
    units = probe.units
    if units.pinned and probe.outcome((), "the pinned entries on their own") != "good":
        return _conclude(probe, "aborted", (), "the pinned entries fail on their own")
    kept: list[int] = []
    rest = list(range(len(units.order)))
    end_known_bad = False
    first = True
    while rest:
        if not first:
            everything = probe.outcome(
                kept + rest, "everything not convicted: the known-good candidate"
            )
            if everything == "good":
                return _finish(probe, kept + rest)
            if everything == "other":
                # The rest fails another way: chase that failure from here.
                probe.signature = _belief(probe, kept + rest)
            end_known_bad = everything != "unresolved"
        first = False
        found = _first_failing(probe, kept, rest, end_known_bad)
        if found is None:
            break
        low, high = found
        block = rest[low:high]
        kept = kept + rest[:low]
        probe.culprits.append(_explain(probe, block, kept))
        rest = _drop_dependents(probe, rest[high:], block)
    candidate = kept + rest
    if candidate and probe.outcome(candidate, "the known-good set") == "unresolved":
        return _paused(probe, "the known-good set got no verdict")
    return _finish(probe, candidate)


def _finish(probe: _Probe, known_good: list[int]) -> Conclusion:
    """Conclude; once the host has shown a flaky verdict, verify first.

    On a steady host every claim already rests on its own trials. After any
    surprise, the known-good set needs a second passing vote and each culprit
    must fail again when added to it.
    """
    if probe.evidence.surprises:
        purpose = "confirm: does the known-good set pass again?"
        if known_good and probe.outcome(known_good, purpose, margin=2) != "good":
            return _paused(probe, "the known-good set does not pass steadily")
        for index, group in enumerate(probe.culprits):
            purpose = "confirm: does the culprit break the known-good set?"
            with_group = [*known_good, *group.units]
            if probe.outcome(with_group, purpose, direct=True) == "good":
                probe.culprits[index] = Group(
                    group.units, "unresolved", group.signature, group.proof
                )
    return _conclude(probe, "complete", known_good)


def _first_failing(
    probe: _Probe, kept: Sequence[int], rest: Sequence[int], end_known_bad: bool
) -> tuple[int, int] | None:
    """Halve for the shortest prefix of ``rest`` that fails with ``kept``.

    ``kept`` alone passes. Without a known failing end, the outcome "nothing
    fails" is one more candidate, and the whole of ``rest`` is tried last.

    Returns:
        ``(low, high)``: ``kept + rest[:low]`` passes and ``kept + rest[:high]``
        fails the chased way, so the culprit is in ``rest[low:high]`` (one
        unit unless verdicts were unresolved); ``None`` if nothing fails.
    """
    n = len(rest)
    low, high = 0, n if end_known_bad else n + 1
    passed_over: dict[int, Outcome] = {}
    while True:
        candidates = [j for j in range(low + 1, high) if j not in passed_over]
        if not candidates:
            break
        middle = (low + high) // 2
        j = min(candidates, key=lambda c: (abs(c - middle), c))
        left = math.ceil(math.log2(high - low)) + 2
        purpose = f"halving: culprit among {min(high, n) - low} units"
        outcome = probe.outcome([*kept, *rest[:j]], purpose, left=left)
        if outcome == "good":
            low = j
        elif outcome == "bad":
            high = j
        else:
            passed_over[j] = outcome
    if end_known_bad and low == n - 1 and high == n:
        # Only the end fails, and the end is the candidate that just failed:
        # exactly what one flipped verdict there would look like.
        purpose = "confirm: does everything not convicted fail again?"
        if probe.outcome([*kept, *rest], purpose, margin=2) != "bad":
            return None
    if high > n:
        other = [j for j, outcome in passed_over.items() if outcome == "other"]
        if low == n or not other:
            return None
        # Nothing fails the chased way, but a prefix fails another way: chase
        # that failure instead, from its shortest prefix seen.
        probe.signature = _belief(probe, [*kept, *rest[: min(other)]])
        return _first_failing(probe, kept, rest[: min(other)], True)
    return low, high


def _explain(probe: _Probe, block: Sequence[int], kept: Sequence[int]) -> Group:
    """Tell whether the culprit fails alone or needs partners from ``kept``."""
    signature = probe.signature or ()
    with_kept = probe.units.closure([*kept, *block])
    if len(block) > 1:
        return Group(tuple(block), "unresolved", signature, (with_kept,))
    culprit = block[0]
    alone_key = probe.units.closure([culprit])
    # A culprit rests on two failing trials; when the shortest failing prefix
    # is the culprit alone, that one set needs a second vote.
    margin = 2 if alone_key == with_kept else 1
    purpose = "does it fail on its own?"
    alone = probe.outcome([culprit], purpose, left=2, direct=True, margin=margin)
    if alone in ("bad", "other"):
        found = _belief(probe, [culprit]) if alone == "other" else signature
        return Group((culprit,), "alone", found, (alone_key, with_kept))
    if alone == "unresolved":
        return Group((culprit,), "unresolved", signature, (with_kept,))
    members = [culprit]
    pool = list(kept)
    proof = [alone_key, with_kept]
    retried = False
    while True:
        margin = 2 if retried else 1
        partner, every_bad, every_good = _find_partner(probe, members, pool, margin)
        if every_good and len(pool) > 1:
            # Only the whole prefix fails: exactly what one flipped verdict on
            # that prefix would look like. Confirm it.
            confirm = "confirm: does the shortest failing prefix fail again?"
            if probe.outcome([*kept, culprit], confirm, margin=2) != "bad":
                return Group((culprit,), "unresolved", signature, (with_kept,))
        if every_bad:
            # Exactly what a flipped "passes alone" would look like: confirm it.
            again = probe.outcome([culprit], "confirm: passes on its own?", margin=2)
            if again != "good":
                return Group((culprit,), "alone", signature, (alone_key, with_kept))
        if partner is None:
            return Group(tuple(members), "unresolved", signature, tuple(proof))
        candidate = [*members, partner]
        together = probe.outcome(candidate, "do these fail together on their own?")
        if together != "bad" and not retried:
            # Nothing reproduces the failure: either the failing prefix was a
            # flipped verdict, or the partner search was misled. Confirm the
            # prefix, then search again confirming every verdict.
            confirm = "confirm: does the shortest failing prefix fail again?"
            if probe.outcome([*kept, culprit], confirm, margin=2) != "bad":
                return Group((culprit,), "unresolved", signature, (with_kept,))
            retried = True
            continue
        members.append(partner)
        pool.remove(partner)
        proof.append(probe.units.closure(members))
        if together == "bad":
            break
        if len(members) >= MAX_GROUP or together == "unresolved":
            return Group(tuple(members), "unresolved", signature, tuple(proof))
    kind = "pair" if len(members) == 2 else "group"
    seen = {unit for group in probe.culprits for unit in group.units}
    for partner in members[1:]:
        # A partner of two culprits is more likely a culprit hidden by a
        # flipped verdict: it must pass alone twice.
        margin = 2 if partner in seen else 1
        purpose = "does the partner pass on its own?"
        if probe.outcome([partner], purpose, direct=True, margin=margin) != "good":
            kind = "unresolved"
        proof.append(probe.units.closure([partner]))
    # The partners are the only ones: without them, the rest passes with the
    # culprit. (A culprit that fails alone, behind a flipped verdict, fails here.)
    others = [unit for unit in kept if unit not in members]
    purpose = "does the culprit pass with everything but its partners?"
    if probe.outcome([culprit, *others], purpose, direct=True) != "good":
        again = probe.outcome([culprit], "confirm: passes on its own?", margin=2)
        if again != "good":
            return Group((culprit,), "alone", signature, (alone_key, with_kept))
        kind = "unresolved"
    proof.append(probe.units.closure([culprit, *others]))
    return Group(tuple(members), kind, signature, tuple(proof))


def _find_partner(
    probe: _Probe, members: Sequence[int], pool: Sequence[int], margin: int = 1
) -> tuple[int | None, bool, bool]:
    """Halve ``pool`` for the unit that makes ``members`` fail.

    ``members`` plus all of ``pool`` fails. Each trial adds one half of the
    remaining candidates to ``members``; when that passes, the partner is in
    the other half (the direct trial of the group confirms it afterwards).

    Returns:
        The partner (``None`` if unresolved verdicts hid it), whether every
        trial failed, and whether every trial passed.
    """
    region = list(pool)
    every_bad = every_good = True
    while len(region) > 1:
        half = region[: len(region) // 2]
        left = math.ceil(math.log2(len(region))) + 2
        purpose = f"partner search: among {len(region)} units"
        outcome = probe.outcome([*members, *half], purpose, left=left, margin=margin)
        if outcome == "bad":
            region = half
            every_good = False
        elif outcome == "good":
            region = region[len(half) :]
            every_bad = False
        else:
            return None, every_bad, every_good
    return (region[0] if region else None), every_bad, every_good


def _drop_dependents(
    probe: _Probe, rest: Sequence[int], block: Sequence[int]
) -> list[int]:
    """Remove from ``rest`` the units that require one of ``block``."""
    convicted = set(block)
    kept = []
    for unit in rest:
        if probe.units.needs[unit] & convicted:
            probe.blocked.append(unit)
            convicted.add(unit)
        else:
            kept.append(unit)
    return kept


def _belief(probe: _Probe, members: Iterable[int]) -> Signature:
    """The believed failure of a set the probe has already classified."""
    key = probe.units.closure(members)
    belief = probe.evidence.belief(key) or probe.evidence.implied(key)
    return belief or ()


def _conclude(
    probe: _Probe, status: str, known_good: Iterable[int], message: str = ""
) -> Conclusion:
    key = probe.units.closure(known_good)
    verified = probe.evidence.belief(key) == GOOD or (
        not key and not probe.units.pinned
    )
    explained = {group.signature for group in probe.culprits}
    findings = tuple(
        Finding(signature, found)
        for signature, found in probe.findings.items()
        if signature not in explained and probe.evidence.belief(found) == signature
    )
    if not message:
        count = len(probe.culprits)
        message = f"{count} culprit{'s' * (count != 1)}; known-good set of {len(key)}"
    return Conclusion(
        status,
        tuple(probe.culprits),
        findings,
        key,
        verified,
        tuple(probe.blocked),
        message,
    )


def _paused(probe: _Probe, reason: str) -> Conclusion:
    return _conclude(probe, "paused", (), f"paused: {reason}")
