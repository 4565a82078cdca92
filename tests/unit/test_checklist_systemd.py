"""The unit, journal and score checks, against scripted systemd answers."""

from __future__ import annotations

import json

from bisect_tui.core.checklist import Check, JournalSpec, ScoreSpec, UnitSpec
from bisect_tui.core.checklist_systemd import (
    parse_exposure,
    parse_journal_json,
    parse_worker_sample,
)
from bisect_tui.host.checks_systemd import run_journal, run_score, run_unit
from bisect_tui.host.runner import Call, Reply, ScriptedRunner

UNIT = "nginx.service"
STATE = ("LoadState", "ActiveState", "SubState", "MainPID")
SHOW_STATE = (
    "systemctl",
    "show",
    *(f"--property={name}" for name in STATE),
    "--",
    UNIT,
)
SHOW_START = (
    "systemctl",
    "show",
    "--property=InactiveExitTimestampMonotonic",
    "--",
    UNIT,
)
SECURITY = """\
  NAME                      DESCRIPTION                                    EXPOSURE
✗ PrivateNetwork=           Service has access to the host's network            0.5
✗ User=/DynamicUser=        Service runs as root user                           0.4

→ Overall exposure level for nginx.service: 9.6 UNSAFE 😨
"""


def state(active: str = "active", pid: int = 700, load: str = "loaded") -> str:
    sub = "running" if active == "active" else "failed"
    return f"LoadState={load}\nActiveState={active}\nSubState={sub}\nMainPID={pid}\n"


def runner_with(show: str, workers: str | None = None) -> ScriptedRunner:
    def sampler(call: Call) -> Reply | None:
        if call.argv[:2] == ("sh", "-c") and workers is not None:
            return Reply(0, workers)
        return None

    return ScriptedRunner({SHOW_STATE: Reply(0, show)}, handler=sampler)


def unit_check(min_workers: int = 1) -> Check:
    return Check("unit-serving", "unit", UnitSpec(min_workers, 0.5), "host", 10.0)


def test_active_with_stable_workers_is_good() -> None:
    """Workers seen both times are serving workers."""
    runner = runner_with(state(), "701\n702\n--\n701\n702\n")
    result = run_unit(unit_check(), runner, UNIT)
    assert result.verdict == "good"
    assert result.value == 2
    assert result.evidence[0] == "ActiveState=active SubState=running MainPID=700"
    assert result.evidence[1] == "2 workers alive over 0.5 s (pids 701 702)"
    sample_call = runner.calls[1]
    assert sample_call.argv[-2:] == ("700", "0.5") and not sample_call.sudo


def test_respawning_workers_do_not_count() -> None:
    """Children killed and replaced between looks are not serving."""
    runner = runner_with(state(), "801\n--\n955\n")
    result = run_unit(unit_check(), runner, UNIT)
    assert result.verdict == "bad"
    assert result.value == 0
    assert "2 children came or went meanwhile" in result.evidence
    assert "expected at least 1 workers" in result.evidence


def test_no_workers_at_all_is_bad() -> None:
    """An active master without children fails (pgrep prints nothing)."""
    result = run_unit(unit_check(), runner_with(state(), "--\n"), UNIT)
    assert result.verdict == "bad" and result.value == 0


def test_failed_or_missing_unit_is_bad() -> None:
    """A unit that is not active fails without counting workers."""
    failed = run_unit(unit_check(), runner_with(state("failed", 0)), UNIT)
    assert failed.verdict == "bad"
    assert failed.evidence[-1] == "nginx.service is not active"
    missing = run_unit(
        unit_check(), runner_with(state("inactive", 0, "not-found")), UNIT
    )
    assert missing.verdict == "bad"
    assert "not loaded" in missing.evidence[-1]


def journal_line(monotonic: int, priority: int, message: str) -> str:
    record = {
        "__MONOTONIC_TIMESTAMP": str(monotonic),
        "__REALTIME_TIMESTAMP": str(1_700_000_000_000_000 + monotonic),
        "PRIORITY": str(priority),
        "MESSAGE": message,
    }
    return json.dumps(record)


def journal_runner(
    start: int, journal: str, status: int = 0, latest: str = ""
) -> ScriptedRunner:
    base = ("journalctl", "--unit", UNIT, "--boot", "--output", "json")
    base += ("--lines", "200", "--no-pager")
    stderr = "" if status == 0 else "sudo: a password is required"
    return ScriptedRunner(
        {
            SHOW_START: Reply(0, f"InactiveExitTimestampMonotonic={start}\n"),
            (*base, "--priority", "err"): Reply(status, journal, stderr),
            base: Reply(status, latest or journal, stderr),
        }
    )


def journal_check() -> Check:
    return Check("journal-clean", "journal", JournalSpec("err"), "host", 10.0)


def test_errors_before_the_start_are_ignored() -> None:
    """An earlier trial's failure is not blamed on this start."""
    old = journal_line(5_000_000, 3, "Failed to start nginx.service.")
    runner = journal_runner(9_000_000, old + "\n")
    result = run_journal(journal_check(), runner, UNIT)
    assert result.verdict == "good"
    assert result.evidence == (
        "no message of priority err or worse since the start at 9.0 s after boot",
    )
    assert runner.calls[1].sudo and runner.calls[2].sudo


def test_nginx_levels_in_info_lines_count() -> None:
    """nginx's [emerg]/[alert]/[crit] on standard error fail; [error] does not."""
    latest = [
        journal_line(9_100_000, 6, "2024/01/01 [error] 7#7: open() favicon failed"),
        journal_line(
            9_200_000, 6, "2024/01/01 [alert] 7#7: worker 9 exited on signal 31"
        ),
        journal_line(9_300_000, 6, "Started nginx.service."),
    ]
    filed = journal_line(9_250_000, 3, "nginx.service: a real error")
    runner = journal_runner(9_000_000, filed, latest="\n".join(latest))
    result = run_journal(journal_check(), runner, UNIT)
    assert result.verdict == "bad"
    assert result.evidence[1:] == (
        "alert: 2024/01/01 [alert] 7#7: worker 9 exited on signal 31",
        "err: nginx.service: a real error",
    )


def test_errors_since_the_start_fail_with_their_text() -> None:
    """A message since the start fails the check and is quoted."""
    lines = [
        journal_line(5_000_000, 3, "old failure"),
        journal_line(9_500_000, 3, "nginx.service: Failed with result 'exit-code'."),
        journal_line(9_600_000, 2, "Failed to start nginx.service."),
    ]
    result = run_journal(
        journal_check(), journal_runner(9_000_000, "\n".join(lines)), UNIT
    )
    assert result.verdict == "bad"
    assert result.evidence[1:] == (
        "err: nginx.service: Failed with result 'exit-code'.",
        "crit: Failed to start nginx.service.",
    )


def test_unreadable_journal_is_skip() -> None:
    """Without the journal nothing can be said."""
    result = run_journal(journal_check(), journal_runner(1, "", status=1), UNIT)
    assert result.verdict == "skip"
    assert "cannot read the journal" in result.evidence[0]


def score_runner(output: str, status: int = 0) -> ScriptedRunner:
    argv = ("systemd-analyze", "security", "--no-pager", "--", UNIT)
    return ScriptedRunner({argv: Reply(status, output)})


def test_score_is_recorded_and_judged() -> None:
    """The exposure is the result's value; a limit turns it into a verdict."""
    unlimited = Check("exposure", "score", ScoreSpec(), "host", 30.0)
    result = run_score(unlimited, score_runner(SECURITY), UNIT)
    assert (result.verdict, result.value) == ("good", 9.6)
    assert result.evidence == ("exposure 9.6 UNSAFE",)
    limited = Check("exposure", "score", ScoreSpec(max=7.5), "host", 30.0)
    result = run_score(limited, score_runner(SECURITY), UNIT)
    assert result.verdict == "bad"
    assert result.evidence[1] == "above the limit of 7.5"
    easy = Check("exposure", "score", ScoreSpec(max=9.6), "host", 30.0)
    assert run_score(easy, score_runner(SECURITY), UNIT).verdict == "good"


def test_score_without_the_overall_line_is_skip() -> None:
    """An old or missing systemd-analyze cannot give a score."""
    check = Check("exposure", "score", ScoreSpec(max=5.0), "host", 30.0)
    result = run_score(check, score_runner("", status=127), UNIT)
    assert result.verdict == "skip" and result.value is None


def test_parsers() -> None:
    """The exposure line, binary journal messages and worker samples."""
    exposure = parse_exposure("→ Overall exposure level for a.service: 1.6 OK 🙂")
    assert exposure is not None and exposure.score == 1.6 and exposure.label == "OK"
    assert parse_exposure("nothing here") is None
    binary = json.dumps({"MESSAGE": [104, 105, 255], "PRIORITY": "3"})
    entry = parse_journal_json("garbage\n" + binary)[0]
    assert entry.message == "hi\ufffd" and entry.priority == 3
    sample = parse_worker_sample("5\n6\n--\n6\n7\n")
    assert sample.stable == {6} and sample.fleeting == {5, 7}
    assert parse_worker_sample("").stable == frozenset()
