"""The bisection engine on simulated hosts: cost, culprits, proof, caching, resume.

Culprits are drawn from the shipped catalog with seeded random choices, so every
run is reproducible and each test covers many placements. The helpers here are
shared by the other ``test_bisection_*`` modules.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Sequence

import pytest

from bisect_tui.core.bisection import Bisection, Result, Trial
from bisect_tui.core.bisection_sim import CatalogSuspects, Failure, SimulatedHost
from bisect_tui.core.catalog import load_catalog

SUSPECTS = CatalogSuspects(load_catalog(None))
IDS = SUSPECTS.ids
REQUIRES = SUSPECTS.requires
requirements = SUSPECTS.requirements


def with_requirements(entries: Iterable[str]) -> frozenset[str]:
    """``entries`` plus everything they require: what a trial applies."""
    chosen = set(entries)
    for entry_id in list(chosen):
        chosen |= requirements(entry_id)
    return frozenset(chosen)


dependents = SUSPECTS.dependents
unrelated = SUSPECTS.unrelated


def closed_prefix(size: int) -> list[str]:
    """The first ``size`` catalog entries, less those missing a requirement."""
    prefix = IDS[:size]
    return [e for e in prefix if requirements(e) <= set(prefix)]


def drive(
    engine: Bisection, host: SimulatedHost, limit: int = 500
) -> tuple[Result, list[Trial]]:
    """Run ``engine`` against ``host``; return the result and every trial."""
    trials: list[Trial] = []
    for _ in range(limit):
        step = engine.next()
        if isinstance(step, Result):
            return step, trials
        trials.append(step)
        verdict, checks = host.judge(step.entries)
        engine.record(step.entries, verdict, checks)
    raise AssertionError(f"no result after {limit} trials")


def alone_culprits(culprits: Sequence[str]) -> list[Failure]:
    """One failure per entry: each breaks the service on its own."""
    return [Failure(frozenset({c})) for c in culprits]


def assert_found_alone(result: Result, culprits: Collection[str]) -> None:
    """``result`` names exactly ``culprits``, each failing alone, and the rest."""
    assert result.status == "complete", result.message
    assert sorted(c.entries for c in result.culprits) == sorted((c,) for c in culprits)
    assert {c.kind for c in result.culprits} == {"alone"}
    expected = set(IDS) - set(culprits) - dependents(culprits)
    assert set(result.known_good) == expected
    assert result.verified


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 16, 32, 33, 51])
def test_one_culprit_costs_at_most_log2_n_plus_two_wherever_it_is(size: int) -> None:
    """Every culprit position: ceil(log2 n) + 2 trials, the culprit, the rest."""
    suspects = closed_prefix(size)
    for culprit in suspects:
        engine = Bisection(suspects, REQUIRES)
        result, trials = drive(engine, SimulatedHost(alone_culprits([culprit])))
        n = len(engine.units.order)
        assert engine.trials == len(trials) == result.trials
        assert engine.trials <= math.ceil(math.log2(n)) + 2, (n, culprit)
        assert [c.entries for c in result.culprits] == [(culprit,)]
        assert result.culprits[0].kind == "alone"
        expected = set(suspects) - {culprit} - dependents([culprit], suspects)
        assert set(result.known_good) == expected
        assert result.verified


@pytest.mark.parametrize("count", [2, 3])
def test_independent_culprits_are_all_found(count: int) -> None:
    """Two or three culprits that fail on their own are each named."""
    for seed in range(60):
        culprits = unrelated(random.Random(seed), count)
        engine = Bisection(IDS, REQUIRES)
        result, _ = drive(engine, SimulatedHost(alone_culprits(culprits)))
        assert_found_alone(result, culprits)


def test_a_pair_that_fails_only_together_is_reported_as_the_pair() -> None:
    """Neither fails alone; the result is one culprit of kind pair, both named."""
    for seed in range(80):
        pair = unrelated(random.Random(seed), 2)
        host = SimulatedHost([Failure(frozenset(pair))])
        result, _ = drive(Bisection(IDS, REQUIRES), host)
        assert result.status == "complete"
        (culprit,) = result.culprits
        assert culprit.kind == "pair"
        assert set(culprit.entries) == set(pair)
        assert culprit.failed_checks == ("health", "playlist")
        set_aside = {culprit.entries[0]}
        expected = set(IDS) - set_aside - dependents(set_aside)
        assert set(result.known_good) == expected
        assert result.verified


def test_a_pair_and_a_culprit_that_fails_alone_are_told_apart() -> None:
    """An interacting pair next to an ordinary culprit: both, each of its kind."""
    for seed in range(40):
        first, second, single = unrelated(random.Random(seed), 3)
        failures = [Failure(frozenset({first, second})), Failure(frozenset({single}))]
        result, _ = drive(Bisection(IDS, REQUIRES), SimulatedHost(failures))
        found = {(c.kind, frozenset(c.entries)) for c in result.culprits}
        assert found == {
            ("pair", frozenset({first, second})),
            ("alone", frozenset({single})),
        }
        assert result.verified


def scenarios(seeds: int) -> Iterable[tuple[str, list[Failure]]]:
    """Steady-host scenarios: one, two and three culprits, and a pair."""
    for seed in range(seeds):
        rng = random.Random(seed)
        yield "one", alone_culprits(unrelated(rng, 1))
        yield "two", alone_culprits(unrelated(rng, 2))
        yield "three", alone_culprits(unrelated(rng, 3))
        yield "pair", [Failure(frozenset(unrelated(rng, 2)))]


def test_a_partner_in_passing_sets_is_vouched_for_by_the_known_good_set() -> None:
    """A pair's partner that passed in two prefixes and in the known-good set
    is not tried alone as well: that trial would tell nothing new."""
    entries = [f"e{i}" for i in range(8)]
    host = SimulatedHost([Failure(frozenset({"e1", "e6"}))])
    result, trials = drive(Bisection(entries, {}), host)
    tried = [frozenset(t.entries) for t in trials]
    assert [(c.entries, c.kind) for c in result.culprits] == [(("e6", "e1"), "pair")]
    assert frozenset({"e1"}) not in tried
    known_good = frozenset(result.known_good)
    assert known_good == frozenset(entries) - {"e6"}
    assert result.verified and known_good in tried
    assert known_good in {frozenset(p) for p in result.culprits[0].proof}
    assert len(tried) == len(set(tried))


def test_the_result_rests_on_trials_of_its_own() -> None:
    """The known-good set passed a trial; each culprit's proof was tried.

    A culprit that fails alone was tried alone (with its requirements) and
    failed; a pair was tried on its own and failed, and each partner passed
    without the culprit: alone, or in a passing set of its own such as the
    known-good set. Every proof set is one the engine actually tried.
    """
    for _, failures in scenarios(30):
        host = SimulatedHost(failures)
        result, trials = drive(Bisection(IDS, REQUIRES), host)
        tried = {frozenset(t.entries) for t in trials}
        assert result.verified
        assert frozenset(result.known_good) in tried
        assert host.truth(result.known_good)[0] == "good"
        for culprit in result.culprits:
            proof = {frozenset(p) for p in culprit.proof}
            assert proof <= tried
            together = with_requirements(culprit.entries)
            assert together in proof
            assert host.truth(together)[0] == "bad"
            for partner in culprit.entries[1:]:
                vouching = [
                    p for p in proof if partner in p and culprit.entries[0] not in p
                ]
                assert vouching
                assert all(host.truth(p)[0] == "good" for p in vouching)


def test_no_set_is_tried_twice_on_a_steady_host() -> None:
    """Verdicts are cached: a set is tried again only to confirm on purpose.

    One culprit never repeats a set. With more culprits or a pair, the only
    repeats are the engine's deliberate confirmations of a pattern that one
    flipped verdict would also explain, and they stay rare.
    """
    repeated = 0
    runs = 0
    for name, failures in scenarios(60):
        _, trials = drive(Bisection(IDS, REQUIRES), SimulatedHost(failures))
        seen: set[frozenset[str]] = set()
        again = []
        for trial in trials:
            if frozenset(trial.entries) in seen:
                again.append(trial)
            seen.add(frozenset(trial.entries))
        if name == "one":
            assert again == []
        assert all(t.purpose.startswith("confirm:") for t in again)
        repeated += len(again)
        runs += 1
    assert repeated <= runs // 4


def test_trials_left_is_a_positive_estimate_within_twice_the_truth() -> None:
    """On a steady host ``left`` is at least 1 and at most twice what remains."""
    for _, failures in scenarios(40):
        _, trials = drive(Bisection(IDS, REQUIRES), SimulatedHost(failures))
        for index, trial in enumerate(trials):
            remaining = len(trials) - index
            assert 1 <= trial.left <= 2 * remaining, (trial, remaining)


@pytest.mark.parametrize("flip", [0.0, 0.1])
def test_replaying_the_verdicts_reproduces_the_next_trial(flip: float) -> None:
    """The planner is a pure function of the evidence: a fresh engine fed the
    first k verdicts asks for exactly the trial the original asked for next."""
    for seed in range(12):
        culprits = unrelated(random.Random(seed), 1 + seed % 2)
        host = SimulatedHost(alone_culprits(culprits), flip=flip, seed=seed)
        original = Bisection(IDS, REQUIRES)
        verdicts: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = []
        while isinstance(step := original.next(), Trial):
            fresh = Bisection(IDS, REQUIRES)
            for entries, verdict, checks in verdicts:
                fresh.record(entries, verdict, checks)
            assert fresh.next() == step
            verdict, checks = host.judge(step.entries)
            verdicts.append((step.entries, verdict, checks))
            original.record(step.entries, verdict, checks)
        resumed = Bisection(IDS, REQUIRES)
        for entries, verdict, checks in verdicts:
            resumed.record(entries, verdict, checks)
        assert resumed.next() == step
