"""The host lock: live holders refuse, stale holders are taken over."""

from __future__ import annotations

import logging

import pytest

from bisect_tui.errors import HostError, PreflightError
from bisect_tui.host.lock import (
    LOCK_SCRIPT,
    acquire_lock,
    inspect_lock,
    release_lock,
)
from bisect_tui.host.runner import Reply, ScriptedRunner

HOLDER = "pid=812\nstart=4411\nboot=abc\nsince=2025-01-01T10:00:00Z\nclient=lap pid 9\n"


def runner_for(action: str, reply: Reply) -> ScriptedRunner:
    runner = ScriptedRunner(host="web1")
    argv = LOCK_SCRIPT.argv(action, "me") if action == "acquire" else None
    runner.expect(argv or LOCK_SCRIPT.argv(action), reply.exit_status, reply.stdout)
    return runner


def test_acquire_free_lock() -> None:
    """A free lock is taken."""
    state = acquire_lock(runner_for("acquire", Reply(0, "acquired\n")), "me")
    assert state.status == "acquired"


def test_live_holder_refuses_with_who_and_since() -> None:
    """A live holder is a pre-flight failure naming it."""
    runner = runner_for("acquire", Reply(3, "busy\n" + HOLDER))
    with pytest.raises(PreflightError) as caught:
        acquire_lock(runner, "me")
    assert "lap pid 9" in str(caught.value)
    assert "2025-01-01T10:00:00Z" in str(caught.value)
    assert "web1" in str(caught.value)


def test_stale_lock_is_taken_over_and_said(caplog: pytest.LogCaptureFixture) -> None:
    """A lock whose holder is gone is taken over, with a warning."""
    runner = runner_for("acquire", Reply(0, "stale\n" + HOLDER))
    with caplog.at_level(logging.WARNING):
        state = acquire_lock(runner, "me")
    assert state.status == "stale"
    assert state.holder["pid"] == "812"
    assert "stale lock" in caplog.text


def test_lock_script_failure_is_a_host_error() -> None:
    """A script that cannot run is not mistaken for a free lock."""
    runner = runner_for("acquire", Reply(1, ""))
    with pytest.raises(HostError):
        acquire_lock(runner, "me")


def test_inspect_reports_holder() -> None:
    """inspect reads the status word and the holder's fields."""
    state = inspect_lock(runner_for("inspect", Reply(0, "busy\n" + HOLDER)))
    assert state.status == "busy"
    assert state.describe_holder() == "lap pid 9, since 2025-01-01T10:00:00Z"


def test_release_of_a_lost_lock_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    """Releasing a lock someone else took over warns instead of raising."""
    runner = runner_for("release", Reply(0, "busy\n" + HOLDER))
    with caplog.at_level(logging.WARNING):
        release_lock(runner)
    assert "not released" in caplog.text
