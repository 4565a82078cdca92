"""Command checks: an operator's own program, judged as ``git bisect run`` does.

The program runs on the operator's machine, in the current directory, with the
placeholders of its arguments filled in and the same values in the environment:
``HARDEN_BISECT_HOST``, ``HARDEN_BISECT_HTTP_PORT``,
``HARDEN_BISECT_METRICS_PORT``, ``HARDEN_BISECT_UNIT`` and
``HARDEN_BISECT_CHECK_ID``. Exit status 0 is good and 125 is skip; any other
status, death by a signal or running past the timeout is bad (a load test that
hangs on a broken server is a failed load test). A program that cannot be
started at all says nothing about the unit: skip.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping

from bisect_tui.core.checklist import (
    Check,
    CheckResult,
    CommandSpec,
    Verdict,
    render_template,
)

logger = logging.getLogger(__name__)

SKIP_STATUS = 125
"""The exit status that means "cannot tell", as in ``git bisect run``."""

TAIL_LINES = 3
"""Lines of the program's output kept as evidence, from each stream's end."""


def command_environment(values: Mapping[str, str], check_id: str) -> dict[str, str]:
    """The environment a command check runs with: ours plus the check's values."""
    extra = {f"HARDEN_BISECT_{name.upper()}": value for name, value in values.items()}
    return {**os.environ, **extra, "HARDEN_BISECT_CHECK_ID": check_id}


def run_command(check: Check, values: Mapping[str, str]) -> CheckResult:
    """Run the check's program and judge its exit status.

    Args:
        check: The check; its spec must be a :class:`CommandSpec`.
        values: The placeholder values for the operator's side.

    Returns:
        The result, with the command line, its exit status, the time it took
        and the last lines it printed as evidence.
    """
    assert isinstance(check.spec, CommandSpec)
    argv = [render_template(word, values) for word in check.spec.argv]
    evidence = [f"ran {shlex.join(argv)}"]
    started = time.monotonic()
    try:
        status, out, err = _run(argv, command_environment(values, check.id), check)
    except subprocess.TimeoutExpired:
        evidence.append(f"did not finish within {check.timeout:g} s")
        return _result(check, "bad", evidence, started)
    except OSError as exc:
        evidence.append(f"cannot start it: {exc.strerror or exc}")
        return _result(check, "skip", evidence, started)
    verdict = _verdict(status)
    elapsed = time.monotonic() - started
    evidence.append(f"{_status(status)} in {elapsed:.3f} s: {verdict}")
    evidence += _tail("stdout", out) + _tail("stderr", err)
    return _result(check, verdict, evidence, started)


def _run(
    argv: list[str], env: dict[str, str], check: Check
) -> tuple[int, bytes, bytes]:
    # A session of its own lets a timeout kill the whole process group: a
    # script's children would otherwise keep the output pipes open and hang us.
    with subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=check.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return process.returncode, out, err


def _verdict(status: int) -> Verdict:
    if status == 0:
        return "good"
    return "skip" if status == SKIP_STATUS else "bad"


def _status(status: int) -> str:
    return f"killed by signal {-status}" if status < 0 else f"exit status {status}"


def _tail(stream: str, data: bytes) -> list[str]:
    lines = data.decode("utf-8", errors="replace").strip().splitlines()
    return [f"{stream}: {line}" for line in lines[-TAIL_LINES:]]


def _result(
    check: Check, verdict: Verdict, evidence: list[str], started: float
) -> CheckResult:
    seconds = time.monotonic() - started
    logger.info("check %s: %s in %.3f s", check.id, verdict, seconds)
    return CheckResult(check.id, "command", verdict, tuple(evidence), seconds)
