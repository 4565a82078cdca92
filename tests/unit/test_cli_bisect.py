"""The bisect, sessions, replay and resume commands, short of a host."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bisect_tui.cli.main import main
from bisect_tui.cli.search_run import ask_operator
from bisect_tui.core.bisection import Trial
from bisect_tui.core.catalog import shipped_catalog_path
from bisect_tui.core.checklist_loader import checklist_text
from bisect_tui.core.search import TrialOutcome
from bisect_tui.core.session import (
    Session,
    SessionHeader,
    TrialRecord,
    content_hash,
    create_session,
)


def logged_session(state: Path, *, ended: bool, catalog: Path | None = None) -> Session:
    """A session with two trials, finished or not."""
    catalog = catalog or shipped_catalog_path()
    header = SessionHeader(
        id="20261204-101500-beef",
        created=time.time(),
        host="127.0.0.1",
        unit="nginx.service",
        entries=("protect-home", "private-tmp", "capability-bounding-empty"),
        catalog_path=str(catalog),
        catalog_hash=content_hash(catalog.read_text(encoding="utf-8")),
        checklist_hash=content_hash(checklist_text(None)),
        host_versions={"systemd": "252"},
        args={"host": "127.0.0.1", "port": 1},
    )
    session = create_session(state, header)
    session.append(TrialRecord(0, (), "", "good", purpose="baseline"))
    session.append(
        TrialRecord(
            1,
            ("protect-home", "capability-bounding-empty"),
            "h1",
            "bad",
            ("health",),
            purpose="halving",
        )
    )
    if ended:
        session.finish(
            "complete",
            {
                "status": "complete",
                "message": "1 culprit; known-good set of 2",
                "session": header.id,
                "trials": 1,
                "culprits": [
                    {
                        "entries": ["capability-bounding-empty"],
                        "failed_checks": ["health"],
                        "hint": None,
                        "kind": "alone",
                    }
                ],
                "findings": [],
                "known_good": ["protect-home", "private-tmp"],
                "known_good_verified": True,
                "score_before": 9.6,
                "score_known_good": 9.2,
            },
        )
    return session


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("harden-bisect: ")
    return lines[0]


def test_plan_shows_units_in_search_order(capsys: pytest.CaptureFixture[str]) -> None:
    """A requirement comes before the entry that needs it; no host is needed."""
    assert main(["bisect", "--phase", "base", "--plan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("40 suspects in 40 units")
    assert out.index("  read-write-paths\n") < out.index("  protect-system-strict\n")
    assert "first trial:" in out


def test_pinned_entries_are_not_suspects(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bisect", "--phase", "base", "--pin", "protect-home", "--plan"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("39 suspects")
    assert "pinned in every trial: protect-home" in out


def test_bisect_needs_a_selection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bisect", "--host", "127.0.0.1", "--port", "1"]) == 2
    assert "--phase" in one_error_line(capsys.readouterr().err)


def test_guided_needs_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code = main(["bisect", "--phase", "base", "--guided", "--host", "127.0.0.1"])
    assert code == 2
    assert "terminal" in one_error_line(capsys.readouterr().err)


def test_sessions_lists_newest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged_session(tmp_path, ended=True)
    assert main(["sessions", "--state-dir", str(tmp_path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["session"] == "20261204-101500-beef"
    assert row["status"] == "complete"
    assert row["trials"] == 1
    assert row["culprits"] == [["capability-bounding-empty"]]
    assert main(["sessions", "--state-dir", str(tmp_path)]) == 0
    assert "20261204-101500-beef" in capsys.readouterr().out


def test_replay_shows_trials_and_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged_session(tmp_path, ended=True)
    assert main(["replay", "2026", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "#0   good" in out
    assert "#1   bad  (health) 2 entries" in out
    assert "culprit   capability-bounding-empty (alone; fails health)" in out
    assert main(["replay", "--state-dir", str(tmp_path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [t["number"] for t in document["trials"]] == [0, 1]
    assert document["end"]["status"] == "complete"


def test_replay_of_an_unknown_session_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged_session(tmp_path, ended=True)
    assert main(["replay", "1999", "--state-dir", str(tmp_path)]) == 2
    assert "no session '1999'" in one_error_line(capsys.readouterr().err)


def test_resume_refuses_a_completed_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged_session(tmp_path, ended=True)
    code = main(["resume", "20261204", "--state-dir", str(tmp_path)])
    assert code == 2
    assert "has completed" in one_error_line(capsys.readouterr().err)


def test_resume_without_sessions_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["resume", "--state-dir", str(tmp_path)]) == 2
    assert "no unfinished session" in one_error_line(capsys.readouterr().err)


def test_resume_refuses_a_changed_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trials of another catalog would not mean the same; nothing is contacted."""
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(shipped_catalog_path().read_text(encoding="utf-8"))
    logged_session(tmp_path / "state", ended=False, catalog=catalog)
    with catalog.open("a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    code = main(["resume", "--state-dir", str(tmp_path / "state")])
    assert code == 2
    assert "changed since the session started" in one_error_line(
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("", ("bad", ("health",))),
        ("g", ("good", ())),
        ("s", ("skip", ())),
        ("r", None),
        ("x\nb", ("bad", ("health",))),
    ],
)
def test_guided_answers_become_verdicts(
    answer: str,
    verdict: tuple[str, tuple[str, ...]] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Enter takes the checklist's verdict; an unknown answer asks again."""
    replies = iter(answer.split("\n"))
    monkeypatch.setattr("builtins.input", lambda prompt: next(replies))
    trial = Trial(("protect-home",), "halving", 3)
    outcome = TrialOutcome("bad", ("health",))
    assert ask_operator(trial, outcome) == verdict


def test_guided_bad_on_a_passing_trial_is_the_operators(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "b")
    outcome = TrialOutcome("good")
    assert ask_operator(Trial(("x",), "p", 1), outcome) == ("bad", ("operator",))
