"""A simulated host for the engine: known culprits, optional flaky verdicts.

Used by the engine's tests and by the benchmarks, never against a real host,
with :class:`CatalogSuspects` to draw culprits among a catalog's entries.
A failure is a set of entries that fails when all of them are applied (one
entry for an ordinary culprit, two for an interacting pair). When several
failures are present, the one with the highest ``severity`` shows, as a unit
that no longer starts hides workers that would have died.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from bisect_tui.core.bisection import Bisection, Result, Trial
from bisect_tui.core.catalog import Catalog, closure

DEFAULT_CHECKS = ("health", "playlist")
"""Failing checks of a simulated failure unless it names its own."""


@dataclass(frozen=True)
class Failure:
    """Entries that fail together, and how it shows.

    Attributes:
        entries: All of them must be applied for the failure to show.
        checks: The failing check ids.
        severity: Higher hides lower when both are present.
    """

    entries: frozenset[str]
    checks: tuple[str, ...] = DEFAULT_CHECKS
    severity: int = 0


@dataclass
class SimulatedHost:
    """Judges trials from known failures, flipping verdicts at a given rate.

    Attributes:
        failures: What breaks.
        flip: Probability that a verdict is reversed (0 for a steady host).
        seed: Seed of the flips.
        unreachable: Trials (1-based) that get no verdict, as a dropped
            connection would.
        flaky_checks: When a flip fails a passing trial, one of these checks
            fails; empty: the first failure's own checks (the hardest case, a
            flake that looks exactly like the real failure).
        trials: Trials judged so far.
    """

    failures: Sequence[Failure]
    flip: float = 0.0
    seed: int = 0
    unreachable: Collection[int] = ()
    flaky_checks: Sequence[str] = ()
    trials: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Seed the flips."""
        self._random = random.Random(self.seed)

    def truth(self, entries: Collection[str]) -> tuple[str, tuple[str, ...]]:
        """The steady verdict of ``entries`` and its failing checks."""
        applied = set(entries)
        shown = [f for f in self.failures if f.entries <= applied]
        if not shown:
            return "good", ()
        worst = max(shown, key=lambda f: f.severity)
        return "bad", tuple(sorted(worst.checks))

    def judge(self, entries: Collection[str]) -> tuple[str, tuple[str, ...]]:
        """One trial's verdict: the truth, flipped with probability ``flip``."""
        self.trials += 1
        if self.trials in self.unreachable:
            return "skip", ()
        verdict, checks = self.truth(entries)
        if self.flip and self._random.random() < self.flip:
            if verdict == "good" and self.flaky_checks:
                return "bad", (self._random.choice(list(self.flaky_checks)),)
            if verdict == "good":
                first = self.failures[0].checks if self.failures else DEFAULT_CHECKS
                return "bad", tuple(sorted(first))
            return "good", ()
        return verdict, checks


def run_search(engine: Bisection, host: SimulatedHost, limit: int = 500) -> Result:
    """Drive ``engine`` against ``host`` until it ends.

    Raises:
        RuntimeError: The search asked for more than ``limit`` trials.
    """
    for _ in range(limit):
        step = engine.next()
        if not isinstance(step, Trial):
            return step
        verdict, checks = host.judge(step.entries)
        engine.record(step.entries, verdict, checks)
    raise RuntimeError(f"no result after {limit} trials")


class CatalogSuspects:
    """A catalog's entries as the suspects of simulated searches.

    Attributes:
        ids: Entry ids in catalog order.
        requires: Entry id to the ids it requires directly.
        required: Entries that some other entry requires, sorted.
        requiring: Entries that require another, sorted.
    """

    def __init__(self, catalog: Catalog) -> None:
        """Read the entries and their requirements from ``catalog``."""
        self.catalog = catalog
        self.ids = [entry.id for entry in catalog.entries]
        self.requires = {entry.id: entry.requires for entry in catalog.entries}
        self.required = sorted({r for e in self.ids for r in self.requirements(e)})
        self.requiring = sorted(e for e in self.ids if self.requirements(e))

    def requirements(self, entry_id: str) -> set[str]:
        """Every entry ``entry_id`` requires, transitively."""
        return set(closure(self.catalog, [entry_id])) - {entry_id}

    def dependents(
        self, entries: Collection[str], among: Iterable[str] | None = None
    ) -> set[str]:
        """Entries (of ``among``, default all) that need one of ``entries``."""
        chosen = set(entries)
        pool = self.ids if among is None else among
        return {e for e in pool if self.requirements(e) & chosen}

    def unrelated(
        self, rng: random.Random, count: int, among: Sequence[str] | None = None
    ) -> list[str]:
        """``count`` entries drawn with ``rng``, none requiring another."""
        pool = list(self.ids if among is None else among)
        while True:
            chosen = rng.sample(pool, count)
            if not any(self.requirements(a) & set(chosen) for a in chosen):
                return chosen
