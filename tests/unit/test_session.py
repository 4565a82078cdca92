"""Trial logs: written a line at a time, read back, found by id."""

from __future__ import annotations

from pathlib import Path

import pytest

from bisect_tui.core.session import (
    SessionHeader,
    TrialRecord,
    create_session,
    find_resumable,
    find_session,
    list_sessions,
    load_session,
)
from bisect_tui.errors import UsageError


def _header(session_id: str) -> SessionHeader:
    return SessionHeader(
        id=session_id,
        created=1.0,
        host="127.0.0.1",
        unit="nginx.service",
        entries=("a", "b"),
        host_versions={"systemd": "252"},
    )


def test_trials_round_trip(tmp_path: Path) -> None:
    """What was appended reads back equal, header and trials alike."""
    session = create_session(tmp_path, _header("20260101-000000-aaaa"))
    trial = TrialRecord(
        number=1,
        entries=("a", "b"),
        dropin_hash="0" * 64,
        verdict="bad",
        failed_checks=("health",),
        checks=({"id": "health", "verdict": "bad", "evidence": ["timeout"]},),
        seconds=3.5,
    )
    session.append(trial)
    session.finish("complete", {"culprits": []})
    again = load_session(session.path)
    assert again.header == session.header
    assert again.trials == [trial]
    assert again.end is not None and again.end["status"] == "complete"


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    """A run killed mid-write leaves the earlier trials readable."""
    session = create_session(tmp_path, _header("20260101-000000-aaaa"))
    session.append(TrialRecord(1, ("a",), "h", "good"))
    with session.path.open("a") as handle:
        handle.write('{"type": "trial", "numb')
    assert [t.number for t in load_session(session.path).trials] == [1]


def test_find_by_prefix_and_newest(tmp_path: Path) -> None:
    """A unique prefix finds a session; no id means the newest."""
    create_session(tmp_path, _header("20260101-000000-aaaa"))
    create_session(tmp_path, _header("20260102-000000-bbbb"))
    assert find_session(tmp_path, None).header.id == "20260102-000000-bbbb"
    assert find_session(tmp_path, "20260101").header.id == "20260101-000000-aaaa"
    with pytest.raises(UsageError, match="ambiguous"):
        find_session(tmp_path, "2026")
    assert len(list_sessions(tmp_path)) == 2


def test_not_a_trial_log(tmp_path: Path) -> None:
    """Any other file is refused with a usage error."""
    path = tmp_path / "x.jsonl"
    path.write_text('{"type": "other"}\n')
    with pytest.raises(UsageError, match="not a harden-bisect trial log"):
        load_session(path)


def test_a_resume_reopens_the_session_and_supersedes_its_retries(
    tmp_path: Path,
) -> None:
    """A resume line clears the end and marks the trials to run again."""
    session = create_session(tmp_path, _header("20260101-000000-aaaa"))
    for number, verdict in ((1, "bad"), (2, "skip"), (3, "skip")):
        session.append(TrialRecord(number, ("a",), "h", verdict))
    session.finish("paused", {})
    assert load_session(session.path).status == "paused"
    session.mark_resumed([2, 3])
    again = load_session(session.path)
    assert again.status == "unfinished" and again.resumable
    assert [t.number for t in again.replayable_trials] == [1]
    assert again.next_number == 4


def test_find_resumable_skips_completed_sessions(tmp_path: Path) -> None:
    """Without an id, the newest unfinished session; a completed one is refused."""
    older = create_session(tmp_path, _header("20260101-000000-aaaa"))
    newer = create_session(tmp_path, _header("20260102-000000-bbbb"))
    newer.finish("complete", {})
    assert find_resumable(tmp_path, None).header.id == older.header.id
    with pytest.raises(UsageError, match="has completed"):
        find_resumable(tmp_path, "20260102")
    older.finish("complete", {})
    with pytest.raises(UsageError, match="no unfinished session"):
        find_resumable(tmp_path, None)


def test_trials_keep_hints_and_timings(tmp_path: Path) -> None:
    """What the logs pointed at, and each step's seconds, read back as written."""
    session = create_session(tmp_path, _header("20260101-000000-aaaa"))
    hint = {"directive": "ProtectSystem", "value": "strict", "suspect": "x"}
    trial = TrialRecord(
        1, ("a",), "h", "bad", ("health",), "halve", hints=(hint,), timings={"x": 1.5}
    )
    session.append(trial)
    assert load_session(session.path).trials == [trial]
