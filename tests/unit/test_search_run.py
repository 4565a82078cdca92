"""A search run over a trial log: logging, resuming, guided verdicts, the report."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from bisect_tui.core.bisection import Bisection, Result, Trial
from bisect_tui.core.bisection_sim import Failure, SimulatedHost
from bisect_tui.core.search import SearchRun, TrialOutcome, Verdict
from bisect_tui.core.search_report import build_report
from bisect_tui.core.session import (
    Session,
    SessionHeader,
    create_session,
    load_session,
)

ENTRIES = [f"e{i:02d}" for i in range(12)]
REQUIRES = {"e05": ("e04",)}


class SimulatedJudge:
    """Judges trials on a simulated host and remembers every set it ran."""

    def __init__(self, host: SimulatedHost) -> None:
        self.host = host
        self.ran: list[frozenset[str]] = []

    def run(self, entries: Sequence[str], purpose: str) -> TrialOutcome:
        self.ran.append(frozenset(entries))
        verdict, checks = self.host.judge(entries)
        evidence = [
            {"id": c, "kind": "http", "evidence": [f"{c}: refused"]} for c in checks
        ]
        score = {"id": "exposure", "kind": "score", "value": 9.6 - len(entries) / 10}
        hints = ({"suspect": "X=1", "explanation": "x", "evidence": "log line"},)
        return TrialOutcome(
            verdict,
            checks,
            checks=(*evidence, score),
            hints=hints if verdict == "bad" else (),
            dropin_hash="h",
            seconds=0.5,
        )


def new_session(tmp_path: Path) -> Session:
    header = SessionHeader(
        id="20261204-000000-abcd",
        created=time.time(),
        host="127.0.0.1",
        unit="nginx.service",
        entries=tuple(ENTRIES),
    )
    return create_session(tmp_path, header)


def engine() -> Bisection:
    return Bisection(ENTRIES, REQUIRES)


def culprit_host() -> SimulatedHost:
    return SimulatedHost([Failure(frozenset({"e07"}))])


def test_every_trial_is_logged_before_the_search_moves_on(tmp_path: Path) -> None:
    session = new_session(tmp_path)
    judge = SimulatedJudge(culprit_host())
    result = SearchRun(engine(), session, judge).run()
    assert result.status == "complete"
    assert [c.entries for c in result.culprits] == [("e07",)]
    logged = load_session(session.path)
    assert len(logged.searched_trials) == len(judge.ran) == result.trials
    assert [frozenset(t.entries) for t in logged.searched_trials] == judge.ran
    assert [t.number for t in logged.searched_trials] == list(
        range(1, result.trials + 1)
    )


def test_a_resumed_search_repeats_no_finished_trial(tmp_path: Path) -> None:
    first_judge = SimulatedJudge(culprit_host())
    session = new_session(tmp_path)
    interrupted = SearchRun(engine(), session, first_judge)
    for _ in range(3):
        assert isinstance(interrupted.step(), Trial)

    reopened = load_session(session.path)
    second_judge = SimulatedJudge(culprit_host())
    resumed = SearchRun(engine(), reopened, second_judge)
    assert resumed.replayed == 3
    result = resumed.run()

    steady = SearchRun(
        engine(), new_session(tmp_path / "b"), SimulatedJudge(culprit_host())
    ).run()
    assert not set(first_judge.ran) & set(second_judge.ran)
    assert result.culprits == steady.culprits
    assert result.known_good == steady.known_good
    assert result.trials == steady.trials


def test_guided_verdicts_override_the_checklist_and_retry_reruns(
    tmp_path: Path,
) -> None:
    """The operator calls e03 bad although every check passed, and retries once."""
    asked: list[Trial] = []

    def operator(trial: Trial, outcome: TrialOutcome) -> Verdict | None:
        asked.append(trial)
        if len(asked) == 1:
            return None
        if "e03" in trial.entries:
            return "bad", ("operator",)
        return outcome.verdict, outcome.failed_checks

    session = new_session(tmp_path)
    judge = SimulatedJudge(SimulatedHost([]))
    result = SearchRun(engine(), session, judge, review=operator).run()
    assert [c.entries for c in result.culprits] == [("e03",)]
    assert result.culprits[0].failed_checks == ("operator",)
    assert asked[0] == asked[1], "a retry runs the same trial again"
    assert len(judge.ran) == result.trials + 1
    notes = [t.note for t in load_session(session.path).searched_trials]
    assert "operator judged it bad" in notes


def test_report_names_culprits_with_evidence_and_scores(tmp_path: Path) -> None:
    session = new_session(tmp_path)
    result = SearchRun(engine(), session, SimulatedJudge(culprit_host())).run()
    report = build_report(result, session, 9.6)
    json.dumps(report)
    assert report["schema"] == 1
    assert report["status"] == "complete"
    assert report["session"] == session.header.id
    (culprit,) = report["culprits"]
    assert culprit["entries"] == ["e07"]
    assert culprit["failed_checks"] == ["health", "playlist"]
    assert culprit["hint"] == "X=1: x"
    assert "health: health: refused" in culprit["evidence"]
    assert report["known_good"] == [e for e in result.known_good]
    assert "e07" not in report["known_good"]
    assert report["known_good_verified"] is True
    assert report["trials"] == len(report["trial_log"]) == result.trials
    assert report["score_before"] == 9.6
    expected = round(9.6 - len(result.known_good) / 10, 6)
    assert round(report["score_known_good"], 6) == expected


def test_unreachable_host_pauses_and_the_report_says_so(tmp_path: Path) -> None:
    session = new_session(tmp_path)
    host = SimulatedHost([Failure(frozenset({"e07"}))], unreachable=range(1, 100))
    result: Result = SearchRun(engine(), session, SimulatedJudge(host)).run()
    assert result.status == "paused"
    report = build_report(result, session, None)
    assert report["culprits"] == []
    assert "unresolved" in report["message"]
    assert all(t["verdict"] == "skip" for t in report["trial_log"])
