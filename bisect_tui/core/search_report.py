"""The report of a search: culprits with their evidence, the known-good set, scores.

One JSON-ready mapping (schema 1) serves ``bisect --json``, the session's end
record, ``replay`` and the exports. The evidence of a culprit is read from the
trial log: the failing trial that proves it, its failed checks and the hints the
logs gave then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bisect_tui.core.bisection import Result
from bisect_tui.core.search import score_of
from bisect_tui.core.session import Session, TrialRecord

REPORT_SCHEMA = 1

EVIDENCE_LINES = 6
"""Evidence lines kept per culprit."""


def build_report(
    result: Result, session: Session, score_before: float | None
) -> dict[str, Any]:
    """The report of ``result``, with evidence from ``session``'s trial log."""
    trials = session.searched_trials
    culprits = [
        {"kind": c.kind, **_culprit(c.entries, c.failed_checks, c.proof, trials)}
        for c in result.culprits
    ]
    findings = [
        _culprit(entries, checks, (entries,), trials)
        for checks, entries in result.findings
    ]
    return {
        "schema": REPORT_SCHEMA,
        "status": result.status,
        "message": result.message,
        "host": session.header.host,
        "unit": session.header.unit,
        "session": session.header.id,
        "culprits": culprits,
        "findings": findings,
        "known_good": list(result.known_good),
        "known_good_verified": result.verified,
        "blocked": list(result.blocked),
        "trials": result.trials,
        "trial_log": [
            {
                "entries": list(t.entries),
                "verdict": t.verdict,
                "failed_checks": list(t.failed_checks),
                "seconds": t.seconds,
            }
            for t in trials
        ],
        "score_before": score_before,
        "score_known_good": _score_of_set(result.known_good, trials, score_before),
    }


def _culprit(
    entries: Sequence[str],
    failed_checks: Sequence[str],
    proof: Sequence[Sequence[str]],
    trials: Sequence[TrialRecord],
) -> dict[str, Any]:
    record = _proving_trial(proof, failed_checks, trials)
    hint: str | None = None
    evidence: list[str] = []
    if record is not None:
        if record.hints:
            first = record.hints[0]
            hint = f"{first.get('suspect', '')}: {first.get('explanation', '')}"
            evidence.extend(str(h.get("evidence", "")) for h in record.hints)
        for check in record.checks:
            if check.get("id") in failed_checks:
                lines = check.get("evidence", ())
                evidence.extend(f"{check.get('id')}: {line}" for line in lines)
    return {
        "entries": list(entries),
        "failed_checks": list(failed_checks),
        "hint": hint,
        "evidence": [line for line in evidence if line][:EVIDENCE_LINES],
    }


def _proving_trial(
    proof: Sequence[Sequence[str]],
    failed_checks: Sequence[str],
    trials: Sequence[TrialRecord],
) -> TrialRecord | None:
    """The smallest logged trial of a proof set that failed as the culprit does."""
    wanted = [frozenset(p) for p in proof]
    failing = [
        t
        for t in trials
        if t.verdict == "bad"
        and frozenset(t.entries) in wanted
        and tuple(t.failed_checks) == tuple(failed_checks)
    ]
    return min(failing, key=lambda t: (len(t.entries), t.number), default=None)


def _score_of_set(
    entries: Sequence[str], trials: Sequence[TrialRecord], fallback: float | None
) -> float | None:
    if not entries:
        return fallback
    wanted = frozenset(entries)
    for trial in reversed(trials):
        if trial.verdict == "good" and frozenset(trial.entries) == wanted:
            return score_of(trial.checks)
    return None
