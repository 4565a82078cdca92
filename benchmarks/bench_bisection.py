"""The bisection engine against simulated hosts over the shipped catalog.

Each scenario draws its culprits with a seeded random choice among the shipped
catalog's entries, runs the engine to its result on a simulated host and
compares the trials used with the information bound (log2 of the number of
possible answers), with one-at-a-time testing (n trials) and with plain
recursive halving, the "enable half the settings, test, repeat" loop of the
design document, implemented below. A result is right when it names exactly
the culprits (a pair as a pair) and the known-good set is everything else.

Run: ``.venv/bin/python benchmarks/bench_bisection.py [--seeds N]``.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bisect_tui.core.bisection import Bisection, Result
from bisect_tui.core.bisection_sim import (
    CatalogSuspects,
    Failure,
    SimulatedHost,
    run_search,
)
from bisect_tui.core.bisection_units import Units, build_units
from bisect_tui.core.catalog import load_catalog

SUSPECTS = CatalogSuspects(load_catalog(None))
IDS = SUSPECTS.ids
REQUIRES = SUSPECTS.requires
UNITS = build_units(IDS, REQUIRES)
N = len(UNITS.order)
REQUIRED = SUSPECTS.required
REQUIRING = SUSPECTS.requiring
dependents = SUSPECTS.dependents
unrelated = SUSPECTS.unrelated


@dataclass(frozen=True)
class Case:
    """One run's truth: what fails, and the right answer."""

    failures: list[Failure]
    alone: list[str]
    pair: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scenario:
    """A row of the table.

    Attributes:
        name: What it measures.
        draw: The case for a seed.
        answers: How many answers were possible (for the information bound).
        flip: Probability that a verdict is flipped.
        confirm: The engine's ``confirm`` option.
    """

    name: str
    draw: Callable[[random.Random], Case]
    answers: int
    flip: float = 0.0
    confirm: int = 1


def alone(count: int) -> Callable[[random.Random], Case]:
    """Cases of ``count`` independent culprits that fail on their own."""

    def draw(rng: random.Random) -> Case:
        culprits = unrelated(rng, count)
        return Case([Failure(frozenset({c})) for c in culprits], culprits)

    return draw


def hidden(rng: random.Random) -> Case:
    """Three culprits; the one failing fewer checks is hidden where the others
    are applied, as a unit that no longer starts hides workers a filter kills."""
    culprits = unrelated(rng, 3)
    loud = ("health", "journal")
    failures = [
        Failure(frozenset({culprits[0]}), loud, severity=1),
        Failure(frozenset({culprits[1]}), loud, severity=1),
        Failure(frozenset({culprits[2]}), ("health",), severity=0),
    ]
    return Case(failures, culprits)


def pair(rng: random.Random) -> Case:
    """A case of two entries that fail only together."""
    both = frozenset(unrelated(rng, 2))
    return Case([Failure(both)], [], both)


def required_by_others(rng: random.Random) -> Case:
    """A culprit other entries require, or one that requires others."""
    culprit = rng.choice(REQUIRED + REQUIRING)
    return Case([Failure(frozenset({culprit}))], [culprit])


def is_right(result: Result, case: Case) -> bool:
    """Whether ``result`` is exactly the answer ``case`` calls for."""
    if result.status != "complete" or not result.verified:
        return False
    if case.pair:
        if len(result.culprits) != 1:
            return False
        (culprit,) = result.culprits
        if culprit.kind != "pair" or set(culprit.entries) != case.pair:
            return False
        set_aside = {culprit.entries[0]}
    else:
        named = sorted(c.entries for c in result.culprits)
        if named != sorted((c,) for c in case.alone):
            return False
        if any(c.kind != "alone" for c in result.culprits):
            return False
        set_aside = set(case.alone)
    expected = set(IDS) - set_aside - dependents(set_aside)
    return set(result.known_good) == expected


def plain_halving(units: Units, host: SimulatedHost) -> tuple[int, list[str]]:
    """The manual loop: halve for the first failing prefix, drop it, repeat.

    Each verdict is taken as it comes, and a culprit is never tried alone, so
    an interacting pair shows up as its later member.

    Returns:
        Trials used and the culprits found.
    """
    order = list(range(len(units.order)))
    trials = 0

    def fails(members: Sequence[int]) -> bool:
        nonlocal trials
        trials += 1
        return host.judge(units.entries(members))[0] == "bad"

    found: list[str] = []
    remaining = order
    if not fails(remaining):
        return trials, found
    while True:
        low, high = 0, len(remaining)
        while high - low > 1:
            middle = (low + high) // 2
            if fails(remaining[:middle]):
                high = middle
            else:
                low = middle
        culprit = remaining[high - 1]
        found.extend(units.order[culprit])
        remaining = [
            u for u in remaining if u != culprit and culprit not in units.needs[u]
        ]
        if not remaining or not fails(remaining):
            return trials, found


@dataclass
class Row:
    """What one scenario measured."""

    scenario: Scenario
    trials: list[int]
    right: int
    halving: list[int]
    halving_right: int
    seconds: float

    @property
    def bound(self) -> float:
        """log2 of the number of possible answers."""
        return math.log2(self.scenario.answers)


def measure(scenario: Scenario, seeds: int) -> Row:
    """Run ``scenario`` for ``seeds`` seeds."""
    started = time.perf_counter()
    trials: list[int] = []
    halving: list[int] = []
    right = halving_right = 0
    for seed in range(seeds):
        case = scenario.draw(random.Random(seed))
        host = SimulatedHost(case.failures, flip=scenario.flip, seed=seed)
        engine = Bisection(IDS, REQUIRES, confirm=scenario.confirm)
        result = run_search(engine, host, limit=1000)
        trials.append(engine.trials)
        right += is_right(result, case)
        baseline = SimulatedHost(case.failures, flip=scenario.flip, seed=seed)
        used, named = plain_halving(UNITS, baseline)
        halving.append(used)
        halving_right += not case.pair and sorted(named) == sorted(case.alone)
    seconds = time.perf_counter() - started
    return Row(scenario, trials, right, halving, halving_right, seconds)


def scenarios() -> list[Scenario]:
    """The table's rows, steady hosts first."""
    one, two, three = math.comb(N, 1), math.comb(N, 2), math.comb(N, 3)
    return [
        Scenario("1 culprit", alone(1), one),
        Scenario("2 culprits", alone(2), two),
        Scenario("3 culprits", alone(3), three),
        Scenario("3 culprits, one hidden by the others", hidden, three),
        Scenario("interacting pair", pair, one + two),
        Scenario("culprit required by or requiring others", required_by_others, N),
        Scenario("1 culprit, 5% flips", alone(1), one, 0.05),
        Scenario("1 culprit, 10% flips", alone(1), one, 0.10),
        Scenario("2 culprits, 5% flips", alone(2), two, 0.05),
        Scenario("2 culprits, 10% flips", alone(2), two, 0.10),
        Scenario("interacting pair, 5% flips", pair, one + two, 0.05),
        Scenario("2 culprits, 5% flips, --confirm 2", alone(2), two, 0.05, 2),
        Scenario("interacting pair, 5% flips, --confirm 2", pair, one + two, 0.05, 2),
    ]


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| scenario | n | mean trials | max | bound | mean/bound | one at a time "
        "| plain halving (right) | right |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        seeds = len(row.trials)
        mean = statistics.fmean(row.trials)
        lines.append(
            f"| {row.scenario.name} | {N} | {mean:.2f} | {max(row.trials)} "
            f"| {row.bound:.2f} | {mean / row.bound:.2f} | {N} "
            f"| {statistics.fmean(row.halving):.2f} "
            f"({100 * row.halving_right / seeds:.1f}%) "
            f"| {100 * row.right / seeds:.1f}% |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[Row]) -> list[str]:
    """The acceptance targets, each with the measured value and met or missed."""
    by_name = {row.scenario.name: row for row in rows}
    one = by_name["1 culprit"]
    limit = math.ceil(math.log2(N)) + 2
    checks = [
        (
            f"1 culprit: max {max(one.trials)} <= ceil(log2 n) + 2 = {limit}",
            max(one.trials) <= limit,
        )
    ]
    for name in ("2 culprits", "interacting pair"):
        row = by_name[name]
        ratio = statistics.fmean(row.trials) / row.bound
        checks.append((f"{name}: mean/bound {ratio:.2f} <= 1.30", ratio <= 1.3))
    flaky = by_name["1 culprit, 5% flips"]
    share = flaky.right / len(flaky.trials)
    checks.append(
        (f"1 culprit, 5% flips: right {100 * share:.1f}% >= 99%", share >= 0.99)
    )
    return [f"- {text}: {'met' if ok else 'MISSED'}" for text, ok in checks]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="runs per scenario")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = []
    for scenario in scenarios():
        row = measure(scenario, args.seeds)
        print(f"{scenario.name}: {row.seconds:.1f} s", file=sys.stderr)
        rows.append(row)
    print(table(rows))
    print()
    print("\n".join(targets(rows)))
    print()
    print(
        f"{args.seeds} seeds per scenario; {N} units from the shipped catalog; "
        f"Python {platform.python_version()} on {platform.machine()}; "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
