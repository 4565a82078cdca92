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
2. Explain its last unit ``c`` (:mod:`bisect_tui.core.bisection_explain`). The
   prefix without ``c`` passed, so ``c`` breaks the service with it; ``c`` alone
   tells whether it needs a partner. If it passes alone, halving over the
   passing prefix finds the partner(s).
3. Keep the passing prefix, drop ``c`` (and whatever requires it) and try
   everything that is left: if that passes it is the known-good set, verified;
   if not, search the rest the same way. When that halving is down to two
   candidates, everything but one of them is tried: if it passes, one trial
   has found the culprit and verified the known-good set.

One culprit among n units costs at most ceil(log2 n) + 2 trials: the halving,
the culprit on its own and the known-good set.

A verdict counts as bad only when the failing checks are those of the failure
being chased; a set that fails differently is routed around and, if the rest
of the search cannot do without it, becomes the next failure chased.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bisect_tui.core.bisection_evidence import GOOD, Evidence, Key, Signature
from bisect_tui.core.bisection_explain import explain
from bisect_tui.core.bisection_probe import (
    Group,
    NeedTrial,
    Outcome,
    Probe,
    Request,
    belief_of,
)
from bisect_tui.core.bisection_units import Units

__all__ = [
    "Conclusion",
    "Finding",
    "Group",
    "Request",
    "plan",
    "trial_budget",
]


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


Found = tuple[list[int], list[int], list[int]]
"""A halving's result: the passing part, the culprit block, what is left."""


MAX_SWITCHES = 3
"""Times one halving may switch to a failure seen on a shorter prefix."""


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
    probe = Probe(units, evidence, confirm)
    try:
        end = _search(probe)
        if confirm == 1 and not evidence.unresolved and _inconsistent(end):
            # Every verdict was resolved, yet they do not add up: some were
            # flipped without contradicting each other. Confirm them all.
            probe = Probe(units, evidence, 2)
            end = _search(probe)
        return end
    except NeedTrial as need:
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


def _inconsistent(end: Conclusion) -> bool:
    """Whether a search ended with a culprit the verdicts could not explain."""
    return any(group.kind == "unresolved" for group in end.culprits)


def _search(probe: Probe) -> Conclusion:
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
                _settle_deferred(probe, kept + rest)
                return _finish(probe, kept + rest)
            _settle_deferred(probe)
            if everything == "other":
                # The rest fails another way: chase that failure from here.
                probe.signature = belief_of(probe, kept + rest)
            end_known_bad = everything != "unresolved"
        found = _first_failing(probe, kept, rest, end_known_bad, tail=not first)
        first = False
        if found is None:
            break
        passing, block, after = found
        kept = kept + passing
        probe.culprits.append(explain(probe, block, kept))
        rest = _drop_dependents(probe, after, block)
    candidate = kept + rest
    outcome = probe.outcome(candidate, "the known-good set") if candidate else "good"
    if outcome == "unresolved":
        return _paused(probe, "the known-good set got no verdict")
    _settle_deferred(probe, candidate if outcome == "good" else None)
    return _finish(probe, candidate)


VOUCHERS = 3
"""Passing sets, the known-good candidate among them, that vouch for a partner
in place of a trial of its own: one flipped verdict cannot make three."""


def _settle_deferred(probe: Probe, passed: Sequence[int] | None = None) -> None:
    """Settle each partner whose pass alone rested on passing prefixes.

    Args:
        probe: The search's view; its ``deferred`` partners are settled.
        passed: The known-good candidate, which holds them, if it passed.
            With enough other passing sets that hold a partner without its
            culprit, it vouches for the partner; otherwise (or if it failed)
            the partner is tried alone. A partner that fails alone is a
            culprit of its own behind flipped verdicts, and its pair is
            reported unresolved.
    """
    deferred, probe.deferred = probe.deferred, []
    for partner in deferred:
        for index, group in enumerate(probe.culprits):
            if partner not in group.units[1:]:
                continue
            culprit = group.units[0]
            kind, proof = group.kind, probe.units.closure([partner])
            vouched = probe.evidence.vouchers(partner, culprit) >= VOUCHERS
            if passed is not None and vouched:
                proof = probe.units.closure(passed)
            else:
                purpose = "does the partner pass on its own?"
                if probe.outcome([partner], purpose, direct=True) != "good":
                    kind = "unresolved"
            probe.culprits[index] = Group(
                group.units, kind, group.signature, (*group.proof, proof)
            )


def _finish(probe: Probe, known_good: list[int]) -> Conclusion:
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
    probe: Probe,
    kept: Sequence[int],
    rest: Sequence[int],
    end_known_bad: bool,
    tail: bool = False,
    may_switch: bool = True,
) -> Found | None:
    """Halve for the shortest prefix of ``rest`` that fails with ``kept``.

    ``kept`` alone passes. Without a known failing end, the outcome "nothing
    fails" is one more candidate, and the whole of ``rest`` is tried last.

    Args:
        probe: The search's view of the evidence.
        kept: Units known to pass together.
        rest: The suspects, in search order.
        end_known_bad: Whether ``kept`` plus all of ``rest`` fails the chased way.
        tail: Whether ``kept`` plus ``rest`` is everything not convicted, so
            that leaving out one unit can settle the last two candidates and
            verify the known-good set in the same trial.
        may_switch: Whether a prefix failing another way may switch the chase
            (off once such a switch failed to reproduce).

    Returns:
        ``(passing, block, after)``: ``kept + passing`` passes and adding
        ``block`` fails the chased way, so the culprit is in ``block`` (one unit
        unless verdicts were unresolved); ``after`` is what is left to search.
        ``None`` if nothing fails.
    """
    n = len(rest)
    low, high = 0, n if end_known_bad else n + 1
    passed_over: dict[int, Outcome] = {}
    switches, switched = 0, 0
    chased = probe.signature
    while True:
        candidates = [j for j in range(low + 1, high) if j not in passed_over]
        if not candidates:
            break
        if tail and high - low == 2 and high < n and low + 1 not in passed_over:
            tail = False
            found = _one_of_two(probe, kept, rest, low)
            if found is not None:
                return found
        middle = (low + high) // 2
        j = min(candidates, key=lambda c: (abs(c - middle), c))
        left = math.ceil(math.log2(high - low)) + 2
        purpose = f"halving: culprit among {min(high, n) - low} units"
        outcome = probe.outcome([*kept, *rest[:j]], purpose, left=left)
        if outcome == "good":
            low = j
        elif outcome == "bad":
            high = j
        elif outcome == "other" and may_switch and switches < MAX_SWITCHES:
            # A shorter prefix fails another way. That failure can hide the
            # chased one (a unit that no longer starts has no workers to
            # kill), so routing around it costs a trial per unit: chase it
            # first, and meet the other failure again afterwards.
            switches += 1
            probe.signature = belief_of(probe, [*kept, *rest[:j]])
            high, switched = j, j
            passed_over = {k: v for k, v in passed_over.items() if k < j}
            passed_over = {k: v for k, v in passed_over.items() if v != "other"}
        else:
            passed_over[j] = outcome
    if switched and low == switched - 1 and high == switched:
        # Only the set that switched the chase fails that way: exactly what
        # one flipped verdict there would look like. Confirm it.
        purpose = "confirm: does the shorter prefix fail that way again?"
        margin = probe.recheck
        if probe.outcome([*kept, *rest[:high]], purpose, margin=margin) != "bad":
            probe.signature = chased
            return _first_failing(probe, kept, rest, end_known_bad, tail, False)
    if 1 < high - low and high <= n and passed_over.get(low + 1) == "other":
        found = _around_other(probe, kept, rest, low)
        if found is not None:
            return found
    if end_known_bad and low == n - 1 and high == n:
        # Only the end fails, and the end is the candidate that just failed:
        # exactly what one flipped verdict there would look like.
        purpose = "confirm: does everything not convicted fail again?"
        if probe.outcome([*kept, *rest], purpose, margin=probe.recheck) != "bad":
            return None
    if high > n:
        other = [j for j, outcome in passed_over.items() if outcome == "other"]
        if low == n or not other:
            return None
        # Nothing fails the chased way, but a prefix fails another way: chase
        # that failure instead, from its shortest prefix seen.
        shortest = min(other)
        probe.signature = belief_of(probe, [*kept, *rest[:shortest]])
        found = _first_failing(probe, kept, rest[:shortest], True)
        if found is None:
            return None
        passing, block, after = found
        return passing, block, [*after, *rest[shortest:]]
    return list(rest[:low]), list(rest[low:high]), list(rest[high:])


def _around_other(
    probe: Probe, kept: Sequence[int], rest: Sequence[int], low: int
) -> Found | None:
    """Halve again without ``rest[low]``, which fails another way.

    The passing prefix plus ``rest[low]`` already fails differently, so every
    longer prefix hides the chased failure behind that one. Set it (and what
    requires it) aside for a later chase and look for the chased culprit in
    what is left.
    """
    other = rest[low]
    needs = probe.units.needs
    aside = [unit for unit in rest[low:] if unit == other or other in needs[unit]]
    without = [unit for unit in rest[low:] if unit not in aside]
    found = _first_failing(probe, [*kept, *rest[:low]], without, False)
    if found is None:
        return None
    passing, block, after = found
    position = {unit: index for index, unit in enumerate(rest)}
    return (
        [*rest[:low], *passing],
        block,
        sorted([*after, *aside], key=position.__getitem__),
    )


def _one_of_two(
    probe: Probe, kept: Sequence[int], rest: Sequence[int], low: int
) -> Found | None:
    """Settle which of ``rest[low]`` and ``rest[low + 1]`` breaks the set.

    Leaving one of them out of everything not convicted: when that passes, it
    is the culprit and what passed is the known-good set, verified, so one
    trial does the work of two. When both fail, there is more than one
    culprit and the ordinary halving step decides.
    """
    first, second = rest[low], rest[low + 1]
    needs = probe.units.needs
    if first in needs[second]:
        return None
    for out, other in ((first, second), (second, first)):
        without = [u for u in [*kept, *rest] if u != out and out not in needs[u]]
        purpose = "everything but one of the last two candidates"
        outcome = probe.outcome(without, purpose, left=2)
        if outcome == "good":
            passing = [*rest[:low], other]
            return passing, [out], list(rest[low + 2 :])
        if outcome != "bad":
            return None
    return None


def _drop_dependents(
    probe: Probe, rest: Sequence[int], block: Sequence[int]
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


def _conclude(
    probe: Probe, status: str, known_good: Iterable[int], message: str = ""
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


def _paused(probe: Probe, reason: str) -> Conclusion:
    return _conclude(probe, "paused", (), f"paused: {reason}")
