"""Command checks follow git bisect's exit-status convention."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bisect_tui.core.checklist import Check, CheckContext, CommandSpec
from bisect_tui.host.checks_command import run_command

VALUES = CheckContext(host="127.0.0.1", http_port=27080).values("operator")


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "probe.sh"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def command_check(*argv: str, timeout: float = 10.0) -> Check:
    return Check("load", "command", CommandSpec(tuple(argv)), "operator", timeout)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(0, "good"), (125, "skip"), (1, "bad"), (2, "bad"), (124, "bad"), (126, "bad")],
)
def test_exit_status_decides(tmp_path: Path, status: int, verdict: str) -> None:
    """0 good, 125 skip, any other status bad."""
    result = run_command(command_check(script(tmp_path, f"exit {status}")), VALUES)
    assert result.verdict == verdict
    assert result.evidence[1].startswith(f"exit status {status} in ")


def test_placeholders_and_environment(tmp_path: Path) -> None:
    """Arguments are templated and the same values are in the environment."""
    body = 'echo "$1 $HARDEN_BISECT_HOST:$HARDEN_BISECT_HTTP_PORT $HARDEN_BISECT_UNIT"'
    body += '\necho "id=$HARDEN_BISECT_CHECK_ID" >&2'
    check = command_check(script(tmp_path, body), "http://{host}:{http_port}/")
    result = run_command(check, VALUES)
    assert result.verdict == "good"
    assert "stdout: http://127.0.0.1:27080/ 127.0.0.1:27080 nginx.service" in (
        result.evidence
    )
    assert "stderr: id=load" in result.evidence


def test_only_the_last_lines_are_kept(tmp_path: Path) -> None:
    """Evidence keeps the end of a chatty program's output."""
    check = command_check(script(tmp_path, "seq 1 50; exit 3"))
    result = run_command(check, VALUES)
    assert result.verdict == "bad"
    assert result.evidence[-3:] == ("stdout: 48", "stdout: 49", "stdout: 50")


def test_timeout_kills_the_whole_group_and_is_bad(tmp_path: Path) -> None:
    """A program (and its children) past the timeout is stopped and judged bad."""
    check = command_check(script(tmp_path, "sleep 30 &\nsleep 30"), timeout=0.5)
    started = time.monotonic()
    result = run_command(check, VALUES)
    assert time.monotonic() - started < 5
    assert result.verdict == "bad"
    assert result.evidence[-1] == "did not finish within 0.5 s"


def test_killed_by_a_signal_is_bad(tmp_path: Path) -> None:
    """A program that dies by a signal failed."""
    result = run_command(command_check(script(tmp_path, "kill -9 $$")), VALUES)
    assert result.verdict == "bad"
    assert result.evidence[1].startswith("killed by signal 9")


def test_program_that_cannot_start_is_skip(tmp_path: Path) -> None:
    """A missing program says nothing about the unit."""
    result = run_command(command_check(str(tmp_path / "absent")), VALUES)
    assert result.verdict == "skip"
    assert result.evidence[-1].startswith("cannot start it: ")
