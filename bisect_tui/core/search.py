"""A search run: the engine, a trial log and whatever judges trials, together.

:class:`SearchRun` is what the headless command, the guided mode and a resumed
session share. It feeds the trial log's verdicts back into a fresh engine (so a
resumed search repeats no finished trial), asks the engine for the next trial,
has a :class:`TrialJudge` run it, logs the outcome before moving on, and ends
the session with a report. It knows no host and no screen: the judge is the
host layer (or an operator, or a simulation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bisect_tui.core.bisection import Bisection, Result, Trial
from bisect_tui.core.session import Session, TrialRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialOutcome:
    """What running one trial found, before anyone decided what it means.

    Attributes:
        verdict: ``good``, ``bad`` or ``skip`` (unresolved).
        failed_checks: Ids of the checks that failed.
        checks: Each check's result as a JSON-ready mapping.
        hints: What the logs pointed at, as JSON-ready mappings.
        dropin_hash: SHA-256 of the drop-in written.
        seconds: Wall time of the trial.
        timings: Seconds per step.
        score: The exposure measured during the trial, if a check did.
        note: Anything worth keeping (a dead-man that fired, a lost link).
    """

    verdict: str
    failed_checks: tuple[str, ...] = ()
    checks: tuple[dict[str, Any], ...] = ()
    hints: tuple[dict[str, Any], ...] = ()
    dropin_hash: str = ""
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    score: float | None = None
    note: str = ""


class TrialJudge(Protocol):
    """Runs a trial and says how it went (the host layer, or a simulation)."""

    def run(self, entries: Sequence[str], purpose: str) -> TrialOutcome:
        """Apply ``entries``, judge them, leave the host healthy, report."""
        ...


Verdict = tuple[str, tuple[str, ...]]
"""A verdict and its failing checks, as the engine records them."""

Review = Callable[[Trial, TrialOutcome], Verdict | None]
"""Guided mode: the operator's verdict on a trial; ``None`` asks to run it again."""


def score_of(checks: Sequence[dict[str, Any]]) -> float | None:
    """The exposure a ``score`` check measured, if any check did."""
    for check in checks:
        if check.get("kind") == "score" and check.get("value") is not None:
            return float(check["value"])
    return None


class SearchRun:
    """Drives one search to its end, logging every trial as it goes."""

    def __init__(
        self,
        engine: Bisection,
        session: Session,
        judge: TrialJudge,
        *,
        review: Review | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Prepare to run, feeding back the trials ``session`` already holds.

        Args:
            engine: A fresh engine over the session's entries.
            session: The trial log; its replayable trials go into the engine.
            judge: Runs the trials.
            review: Guided mode: the operator confirms or overrides verdicts.
            progress: Called with one line per event, for the operator.
        """
        self.engine = engine
        self.session = session
        self.judge = judge
        self.review = review
        self.progress = progress or (lambda line: None)
        self.replayed = 0
        for record in session.replayable_trials:
            engine.record(record.entries, record.verdict, record.failed_checks)
            self.replayed += 1
        if self.replayed:
            log.info("replayed %d trials from the trial log", self.replayed)

    def step(self) -> Trial | Result:
        """Run the next trial the engine asks for, or return the result."""
        step = self.engine.next()
        if not isinstance(step, Trial):
            return step
        number = self.session.next_number
        self.progress(
            f"trial {number}: {len(step.entries)} entries, about {step.left} left "
            f"({step.purpose})"
        )
        started = time.time()
        outcome = self.judge.run(step.entries, step.purpose)
        verdict: Verdict = (outcome.verdict, outcome.failed_checks)
        note = outcome.note
        if self.review is not None:
            reviewed = self.review(step, outcome)
            if reviewed is None:
                self.progress(f"trial {number}: run again at the operator's request")
                return step
            if reviewed != verdict:
                note = _join(note, f"operator judged it {reviewed[0]}")
            verdict = reviewed
        self.session.append(
            TrialRecord(
                number=number,
                entries=step.entries,
                dropin_hash=outcome.dropin_hash,
                verdict=verdict[0],
                failed_checks=verdict[1],
                purpose=step.purpose,
                checks=outcome.checks,
                seconds=round(outcome.seconds, 3),
                started=started,
                note=note,
                hints=outcome.hints,
                timings={k: round(v, 3) for k, v in outcome.timings.items()},
            )
        )
        self.engine.record(step.entries, verdict[0], verdict[1])
        failing = f" ({', '.join(verdict[1])})" if verdict[1] else ""
        self.progress(f"trial {number}: {verdict[0]}{failing}, {outcome.seconds:.0f} s")
        return step

    def run(self) -> Result:
        """Run trials until the engine reaches a result."""
        while True:
            step = self.step()
            if isinstance(step, Result):
                return step


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second
