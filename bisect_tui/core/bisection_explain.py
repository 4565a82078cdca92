"""Explaining a culprit: does it fail alone, or only with partners?

The halving ends at a unit that breaks the set it is added to. Tried on its
own, it either fails (a culprit that fails alone) or passes, and then a second
halving over the passing set finds the partner it needs (an interacting pair,
or a group of three). Each conclusion rests on trials of its own; patterns
that one flipped verdict would also explain are tried again first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bisect_tui.core.bisection_evidence import Key, Signature
from bisect_tui.core.bisection_probe import Group, Probe, belief_of

MAX_GROUP = 3
"""Members an interacting group may have before it is reported unresolved."""


def explain(probe: Probe, block: Sequence[int], kept: Sequence[int]) -> Group:
    """Tell whether the culprit fails alone or needs partners from ``kept``."""
    signature = probe.signature or ()
    with_kept = probe.units.closure([*kept, *block])
    if len(block) > 1:
        return Group(tuple(block), "unresolved", signature, (with_kept,))
    culprit = block[0]
    alone_key = probe.units.closure([culprit])
    purpose = "does it fail on its own?"
    alone = probe.outcome([culprit], purpose, left=2, direct=True)
    if alone in ("bad", "other"):
        found = belief_of(probe, [culprit]) if alone == "other" else signature
        return Group((culprit,), "alone", found, (alone_key, with_kept))
    if alone == "unresolved":
        return Group((culprit,), "unresolved", signature, (with_kept,))
    members = [culprit]
    pool = list(kept)
    proof = [alone_key, with_kept]
    retried = False
    while True:
        margin = 2 if retried else 1
        partner, failed, passes = _find_partner(probe, members, pool, margin)
        every_bad, every_good = not passes, not failed
        if every_good and len(pool) > 1:
            # Only the whole prefix fails: exactly what one flipped verdict on
            # that prefix would look like. Confirm it.
            confirm = "confirm: does the shortest failing prefix fail again?"
            if probe.outcome([*kept, culprit], confirm, margin=probe.recheck) != "bad":
                return Group((culprit,), "unresolved", signature, (with_kept,))
        if every_bad:
            # Exactly what a flipped "passes alone" would look like: confirm it.
            again = probe.outcome(
                [culprit], "confirm: passes on its own?", margin=probe.recheck
            )
            if again != "good":
                proof = [alone_key, with_kept]
                return Group((culprit,), "alone", signature, tuple(proof))
        if partner is None:
            return Group(tuple(members), "unresolved", signature, tuple(proof))
        candidate = [*members, partner]
        together = probe.outcome(candidate, "do these fail together on their own?")
        if together != "bad" and not retried:
            # Nothing reproduces the failure: either the failing prefix was a
            # flipped verdict, or the partner search was misled. Confirm the
            # prefix, then search again confirming every verdict.
            confirm = "confirm: does the shortest failing prefix fail again?"
            if probe.outcome([*kept, culprit], confirm, margin=probe.recheck) != "bad":
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
    own_trial = probe.units.closure(members) not in failed
    if len(failed) + own_trial <= 1 and len(pool) > 1:
        # One failing trial in the partner search, the pair's own, is what a
        # single flipped verdict would leave: the pair is tried again. A pair
        # that also failed a trial of its own has two failing trials already.
        purpose = "confirm: do these fail together again?"
        retry = probe.outcome(members, purpose, direct=True, margin=probe.recheck)
        if retry != "bad":
            return Group(tuple(members), "unresolved", signature, tuple(proof))
    # Few passing trials is what a flipped "passes alone" leaves behind.
    suspicious = passes <= 1 or every_good
    return _partners_only(probe, members, kept, signature, proof, suspicious)


def _partners_only(
    probe: Probe,
    members: list[int],
    kept: Sequence[int],
    signature: Signature,
    proof: list[Key],
    suspicious: bool,
) -> Group:
    """Check the partners pass alone and are the culprit's only partners.

    Each partner must pass without the culprit: a partner that sits in a
    passing prefix is also exactly where a flipped verdict could hide a
    culprit that fails alone. On a steady host a single partner is left for
    the known-good candidate, tried next, to vouch for (it holds the
    partner); it is tried alone now on a flaky host, for a group, or when it
    was already a partner of another culprit, and later if the known-good
    candidate cannot vouch.

    A partner search with at most one passing trial is what a flipped "passes
    alone" would leave, so then, on a flaky host and for a group, the culprit
    is also tried with everything before it but its partners, which also
    shows it has no other partner. A steady host skips that trial for a pair:
    a second partner would go unreported, but the culprit is set aside all the
    same and the known-good set, tried next without it, stays right.
    """
    culprit, partners = members[0], members[1:]
    units = probe.units
    kind = "pair" if len(members) == 2 else "group"
    seen = [unit for group in probe.culprits for unit in group.units]
    steady = not probe.evidence.surprises and probe.confirm == 1
    for partner in partners:
        # A partner of several culprits is more likely a culprit hidden by a
        # flipped verdict: each time it is found again it needs one more vote.
        margin = 1 + seen.count(partner)
        if steady and margin == 1 and len(partners) == 1:
            # The known-good candidate, tried next, holds the partner: when it
            # passes, it and the passing prefixes vouch for the partner, and
            # one trial does the work of two (see ``plan._settle_deferred``).
            probe.deferred.append(partner)
            continue
        purpose = "does the partner pass on its own?"
        if probe.outcome([partner], purpose, direct=True, margin=margin) != "good":
            kind = "unresolved"
        proof.append(units.closure([partner]))
    if steady and not suspicious and len(partners) == 1:
        return Group(tuple(members), kind, signature, tuple(proof))
    # The partners are the only ones: without them, the rest passes with the
    # culprit. (A culprit that fails alone, behind a flipped verdict, fails here.)
    set_aside = set(partners)
    for unit in kept:
        if units.needs[unit] & set_aside:
            set_aside.add(unit)
    others = [unit for unit in kept if unit not in set_aside and unit != culprit]
    purpose = "does the culprit pass with everything but its partners?"
    if probe.outcome([culprit, *others], purpose, direct=True) != "good":
        again = probe.outcome(
            [culprit], "confirm: passes on its own?", margin=probe.recheck
        )
        if again != "good":
            alone_key = units.closure([culprit])
            with_kept = units.closure([*kept, culprit])
            return Group((culprit,), "alone", signature, (alone_key, with_kept))
        kind = "unresolved"
    proof.append(units.closure([culprit, *others]))
    return Group(tuple(members), kind, signature, tuple(proof))


def _find_partner(
    probe: Probe, members: Sequence[int], pool: Sequence[int], margin: int = 1
) -> tuple[int | None, list[Key], int]:
    """Halve ``pool`` for the unit that makes ``members`` fail.

    ``members`` plus all of ``pool`` fails. Each trial adds one half of the
    remaining candidates to ``members``; when that passes, the partner is in
    the other half (the direct trial of the group confirms it afterwards).
    A half brings its requirements along, so the halves are taken as tried.

    Returns:
        The partner (``None`` if unresolved verdicts hid it), the sets that
        failed, and how many passed.
    """
    # What the members bring along is in every trial: it cannot be the partner.
    region = [unit for unit in pool if unit not in probe.units.closure(members)]
    failed: list[Key] = []
    passes = 0
    while len(region) > 1:
        half = region[: len(region) // 2]
        left = math.ceil(math.log2(len(region))) + 1
        purpose = f"partner search: among {len(region)} units"
        outcome = probe.outcome([*members, *half], purpose, left=left, margin=margin)
        tried = probe.units.closure([*members, *half])
        if outcome == "bad":
            inside = [unit for unit in region if unit in tried]
            region = inside if len(inside) < len(region) else half
            failed.append(tried)
        elif outcome == "good":
            region = [unit for unit in region if unit not in tried]
            passes += 1
        else:
            return None, failed, passes
    return (region[0] if region else None), failed, passes
