"""Requirements, pinned entries and unresolved trials in the bisection engine."""

from __future__ import annotations

import random
from collections.abc import Collection

from bisect_tui.core.bisection import Bisection, Trial
from bisect_tui.core.bisection_sim import Failure, SimulatedHost
from tests.unit.test_bisection import (
    IDS,
    REQUIRES,
    SUSPECTS,
    alone_culprits,
    assert_found_alone,
    dependents,
    drive,
    requirements,
    unrelated,
    with_requirements,
)

REQUIRED = SUSPECTS.required
"""Shipped entries that other entries require."""

REQUIRING = SUSPECTS.requiring
"""Shipped entries that require others."""


def assert_closed(trial: Trial) -> None:
    """Every entry of ``trial`` comes with everything it requires."""
    for entry_id in trial.entries:
        assert requirements(entry_id) <= set(trial.entries), (entry_id, trial)


def test_every_trial_is_closed_under_requires() -> None:
    """Steady or flaky, alone or in pairs: no trial breaks a requirement."""
    for seed in range(60):
        rng = random.Random(seed)
        culprits = rng.sample(IDS, 1 + seed % 3)
        failures = (
            [Failure(frozenset(culprits))]
            if seed % 4 == 3
            else alone_culprits(culprits)
        )
        flip = (0.0, 0.05, 0.1)[seed % 3]
        host = SimulatedHost(failures, flip=flip, seed=seed, unreachable=(seed % 7,))
        _, trials = drive(Bisection(IDS, REQUIRES), host)
        for trial in trials:
            assert_closed(trial)


def test_entries_that_require_each_other_form_one_unit() -> None:
    """A cycle of requirements is one unit: tried, convicted and kept together."""
    entries = ["a", "b", "c", "d", "e"]
    requires = {"a": ("b",), "b": ("a",), "c": ("a",), "e": ("d",)}
    engine = Bisection(entries, requires)
    assert ("a", "b") in engine.units.order
    assert engine.units.order.index(("a", "b")) < engine.units.order.index(("c",))
    for culprit in entries:
        engine = Bisection(entries, requires)
        result, trials = drive(engine, SimulatedHost(alone_culprits([culprit])))
        for trial in trials:
            applied = set(trial.entries)
            assert ("a" in applied) == ("b" in applied)
            assert "c" not in applied or {"a", "b"} <= applied
            assert "e" not in applied or "d" in applied
        unit = ("a", "b") if culprit in "ab" else (culprit,)
        assert [c.entries for c in result.culprits] == [unit]


def test_a_culprit_that_others_require_leaves_them_out_as_blocked() -> None:
    """Entries that cannot work without a culprit are blocked, not suspected."""
    for culprit in REQUIRED:
        result, _ = drive(
            Bisection(IDS, REQUIRES), SimulatedHost(alone_culprits([culprit]))
        )
        needing = dependents([culprit])
        assert needing
        assert [c.entries for c in result.culprits] == [(culprit,)]
        assert set(result.blocked) == needing
        assert not needing & set(result.known_good)
        assert_found_alone(result, [culprit])


def test_a_culprit_that_requires_others_is_tried_with_them() -> None:
    """Its requirements go into each of its trials and stay in the known-good set."""
    for culprit in REQUIRING:
        result, trials = drive(
            Bisection(IDS, REQUIRES), SimulatedHost(alone_culprits([culprit]))
        )
        for trial in trials:
            if culprit in trial.entries:
                assert requirements(culprit) <= set(trial.entries)
        assert_found_alone(result, [culprit])
        assert requirements(culprit) <= set(result.known_good)


def test_requirements_of_a_suspect_become_suspects() -> None:
    """A suspect's requirement that was not selected is searched too."""
    engine = Bisection(["protect-system-strict"], REQUIRES)
    assert set(engine.suspects) == {"protect-system-strict", "read-write-paths"}
    assert engine.suspects.index("read-write-paths") == 0


def test_pinned_entries_are_in_every_trial_and_never_suspects() -> None:
    """Pinned entries (and their requirements) are applied throughout."""
    for seed in range(40):
        rng = random.Random(seed)
        pinned = rng.sample(IDS, 3)
        applied = with_requirements(pinned)
        free = [e for e in IDS if e not in applied and not requirements(e) & applied]
        culprits = unrelated(rng, 1 + seed % 2, free)
        engine = Bisection(IDS, REQUIRES, pinned)
        assert not applied & set(engine.suspects)
        result, trials = drive(engine, SimulatedHost(alone_culprits(culprits)))
        for trial in trials:
            assert applied <= set(trial.entries)
        assert result.status == "complete"
        named = {e for c in result.culprits for e in c.entries}
        assert named == set(culprits)
        assert applied <= set(result.known_good)
        assert result.verified


def test_pinned_entries_that_fail_alone_abort_the_search() -> None:
    """Nothing can be bisected on top of pinned entries that already fail."""
    pinned = ["protect-home", "dynamic-user"]
    host = SimulatedHost(alone_culprits(["state-directory", "memory-max"]))
    engine = Bisection(IDS, REQUIRES, pinned)
    result, trials = drive(engine, host)
    assert result.status == "aborted"
    assert "pinned" in result.message
    assert result.culprits == ()
    assert [set(t.entries) for t in trials] == [set(with_requirements(pinned))]


def test_an_unresolved_trial_is_tried_again_not_taken_as_bad() -> None:
    """The first trial gets no verdict: the same set is asked for again."""
    engine = Bisection(IDS, REQUIRES)
    first = engine.next()
    assert isinstance(first, Trial)
    engine.record(first.entries, "skip")
    again = engine.next()
    assert isinstance(again, Trial)
    assert again.entries == first.entries


def test_one_unresolved_trial_anywhere_changes_nothing() -> None:
    """Whichever trial gets no verdict, it is tried again and the answer holds."""
    for seed in range(30):
        culprits = unrelated(random.Random(seed), 1 + seed % 2)
        for number in range(1, 16):
            host = SimulatedHost(alone_culprits(culprits), unreachable=(number,))
            result, _ = drive(Bisection(IDS, REQUIRES), host)
            assert_found_alone(result, culprits)


def test_unresolved_trials_never_convict() -> None:
    """Several unresolved trials may leave a culprit's block unresolved, or
    pause the search when a set twice gets no verdict, but no entry is ever
    named a culprit on an unresolved verdict."""
    completed = 0
    for seed in range(80):
        rng = random.Random(seed)
        culprits = unrelated(rng, 1 + seed % 2)
        unreachable = rng.sample(range(1, 16), 1 + seed % 3)
        host = SimulatedHost(alone_culprits(culprits), unreachable=unreachable)
        result, _ = drive(Bisection(IDS, REQUIRES), host)
        for found in result.culprits:
            if found.kind == "unresolved":
                assert set(found.entries) & set(culprits)
            else:
                assert found.kind == "alone"
                assert set(found.entries) <= set(culprits)
        if result.status == "paused":
            assert "no verdict" in result.message
            continue
        completed += 1
        named = {e for found in result.culprits for e in found.entries}
        assert set(culprits) <= named
        assert not set(culprits) & set(result.known_good)
        assert result.verified
    assert completed >= 75


def test_an_entry_whose_trials_never_resolve_is_not_named_a_culprit() -> None:
    """Trials holding one innocent entry all come back unresolved: it is never
    reported as a culprit that fails alone or as part of a pair."""

    class Undecided(SimulatedHost):
        def judge(self, entries: Collection[str]) -> tuple[str, tuple[str, ...]]:
            if "protect-clock" in entries:
                self.trials += 1
                return "skip", ()
            return super().judge(entries)

    for culprit in ["memory-max", "protect-kernel-logs", "private-users"]:
        engine = Bisection(IDS, REQUIRES, max_unresolved=50)
        result, _ = drive(engine, Undecided(alone_culprits([culprit])))
        for found in result.culprits:
            if "protect-clock" in found.entries:
                assert found.kind == "unresolved"
        assert "protect-clock" not in result.known_good


def test_too_many_unresolved_trials_pause_the_search() -> None:
    """An unreachable host pauses the search with a message that says why."""
    for limit in (3, 6):
        host = SimulatedHost(alone_culprits(["memory-max"]), unreachable=range(1, 99))
        engine = Bisection(IDS, REQUIRES, max_unresolved=limit)
        result, trials = drive(engine, host)
        assert result.status == "paused"
        assert f"{limit} unresolved trials" in result.message
        assert "resume" in result.message.lower()
        assert len(trials) == limit
        assert result.culprits == ()
        assert result.known_good == ()
