"""Differing failures and flaky verdicts in the bisection engine."""

from __future__ import annotations

import math
import random
from collections.abc import Collection

from bisect_tui.core.bisection import Bisection, Result, Trial
from bisect_tui.core.bisection_sim import Failure, SimulatedHost
from tests.unit.test_bisection import (
    IDS,
    REQUIRES,
    alone_culprits,
    assert_found_alone,
    dependents,
    drive,
    unrelated,
)


def test_a_failure_with_other_checks_is_a_separate_culprit() -> None:
    """Two culprits failing different checks, either one hiding the other where
    both are applied: each is named with its own failing checks."""
    for seed in range(60):
        rng = random.Random(seed)
        first, second = unrelated(rng, 2)
        severities = rng.sample([1, 2], 2)
        failures = [
            Failure(frozenset({first}), ("health",), severities[0]),
            Failure(frozenset({second}), ("journal", "playlist"), severities[1]),
        ]
        result, _ = drive(Bisection(IDS, REQUIRES), SimulatedHost(failures))
        assert_found_alone(result, [first, second])
        checks = {c.entries[0]: c.failed_checks for c in result.culprits}
        assert checks == {first: ("health",), second: ("journal", "playlist")}


def test_a_set_failing_other_checks_is_not_bad_for_the_chase() -> None:
    """While one failure is chased, a set that fails differently is no verdict
    on it: the chased culprit is still found where it is, not at that set."""
    entries = [f"e{i}" for i in range(8)]
    chased = Failure(frozenset({"e6"}), ("health",), severity=2)
    other = Failure(frozenset({"e1"}), ("journal",), severity=1)
    engine = Bisection(entries, {})
    # The chase starts from the first failure seen: the health failure.
    engine.record(entries, "bad", ("health",))
    host = SimulatedHost([chased, other])
    result, _ = drive(engine, host)
    found = {c.entries: c.failed_checks for c in result.culprits}
    assert found == {("e6",): ("health",), ("e1",): ("journal",)}
    assert set(result.known_good) == set(entries) - {"e1", "e6"}


def test_a_failure_hidden_by_another_costs_a_halving_not_a_scan() -> None:
    """A unit that no longer starts hides workers that a filter would kill: a
    prefix with only the filter fails other checks than the whole set. Each
    culprit must still cost about one halving, not a trial per unit."""
    limit = 3 * (math.ceil(math.log2(len(IDS))) + 2)
    for seed in range(60):
        rng = random.Random(seed)
        hidden, first, second = unrelated(rng, 3)
        failures = [
            Failure(frozenset({first}), ("health", "journal"), severity=1),
            Failure(frozenset({second}), ("health", "journal"), severity=1),
            Failure(frozenset({hidden}), ("health",), severity=0),
        ]
        result, _ = drive(Bisection(IDS, REQUIRES), SimulatedHost(failures))
        assert_found_alone(result, [hidden, first, second])
        assert result.trials <= limit, (seed, result.trials)


def test_a_surprising_verdict_is_repeated_before_it_is_believed() -> None:
    """A culprit's trial alone wrongly passes once: the engine tries it again
    rather than chase a partner that does not exist, and gets it right."""
    culprit = "syscall-deny-mount"
    host = SimulatedHost(alone_culprits([culprit]))
    engine = Bisection(IDS, REQUIRES)
    alone = (culprit,)
    asked = 0
    while isinstance(step := engine.next(), Trial):
        verdict, checks = host.judge(step.entries)
        if step.entries == alone:
            asked += 1
            if asked == 1:
                verdict, checks = "good", ()
        engine.record(step.entries, verdict, checks)
    assert asked >= 2
    assert engine.evidence.surprises >= 1
    assert_found_alone(step, [culprit])


def test_a_culprit_hidden_by_two_flipped_prefixes_is_not_taken_for_a_partner() -> None:
    """Two prefixes holding the culprit wrongly pass, so a later entry looks
    like half of a pair with it. Two passing sets do not vouch for a partner:
    it is tried alone, fails, and the culprit is found on its own."""
    entries = [f"e{i}" for i in range(8)]
    host = SimulatedHost(alone_culprits(["e4"]))
    flip_once = {frozenset(entries[:6]), frozenset(entries[:7])}
    engine = Bisection(entries, {})
    tried = []
    while isinstance(step := engine.next(), Trial):
        trial = frozenset(step.entries)
        tried.append(trial)
        verdict, checks = host.judge(step.entries)
        if trial in flip_once:
            flip_once.discard(trial)
            verdict, checks = "good", ()
        engine.record(step.entries, verdict, checks)
    assert not flip_once, "the scenario did not happen"
    assert frozenset({"e4"}) in tried
    assert [(c.entries, c.kind) for c in step.culprits] == [(("e4",), "alone")]
    assert set(step.known_good) == set(entries) - {"e4"}


def test_contradicting_beliefs_are_both_tried_again() -> None:
    """A failing set inside a passing one: neither is believed until one side
    leads by two more votes than the other."""
    entries = [f"e{i}" for i in range(4)]
    engine = Bisection(entries, {})
    engine.record(["e0", "e1", "e2"], "good")
    engine.record(["e0"], "bad", ("health",))
    evidence = engine.evidence
    small, large = engine.key_of(["e0"]), engine.key_of(["e0", "e1", "e2"])
    assert evidence.surprises == 1
    assert evidence.belief(small) is None
    assert evidence.belief(large) is None
    engine.record(["e0"], "bad", ("health",))
    engine.record(["e0"], "bad", ("health",))
    assert evidence.belief(small) == ("health",)
    assert evidence.belief(large) is None


def right(result: Result, culprits: Collection[str]) -> bool:
    """Whether ``result`` names exactly ``culprits`` and the right known-good set."""
    return (
        result.status == "complete"
        and sorted(c.entries for c in result.culprits) == sorted((c,) for c in culprits)
        and all(c.kind == "alone" for c in result.culprits)
        and set(result.known_good) == set(IDS) - set(culprits) - dependents(culprits)
    )


class CountingHost(SimulatedHost):
    """A simulated host that counts the verdicts it flipped."""

    flipped = 0

    def judge(self, entries: Collection[str]) -> tuple[str, tuple[str, ...]]:
        """The verdict, counted when it differs from the truth."""
        verdict, checks = super().judge(entries)
        if verdict != "skip" and verdict != self.truth(entries)[0]:
            self.flipped += 1
        return verdict, checks


def test_a_host_that_flips_one_verdict_in_twenty_is_answered_right() -> None:
    """Verdicts flip with probability 0.05 either way: over 400 seeds, the
    culprit and the known-good set are right at least 99% of the time, and
    runs with flipped verdicts are common enough for that to mean something."""
    seeds = 400
    correct = flipped_runs = 0
    for seed in range(seeds):
        culprit = unrelated(random.Random(seed), 1)
        host = CountingHost(alone_culprits(culprit), flip=0.05, seed=seed)
        result, _ = drive(Bisection(IDS, REQUIRES), host)
        flipped_runs += host.flipped > 0
        correct += right(result, culprit)
    assert correct >= 0.99 * seeds
    assert flipped_runs >= seeds // 4
