"""Apply, keep, revert and rollback, as command sequences on a scripted host."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bisect_tui.core.catalog import Entry
from bisect_tui.core.composition_unit import UnitAssignments
from bisect_tui.errors import HostError, RollbackError
from bisect_tui.host.apply import TrialHost, plan_trial
from bisect_tui.host.deadman import ARM, DISARM
from bisect_tui.host.remote import (
    FORGET_STATE,
    READ_STATE,
    RESTART,
    RESTORE,
    ROLLBACK_SCRIPT_TEXT,
    WRITE_DROPIN,
    WRITE_STATE_FILE,
    dropin_path,
)
from bisect_tui.host.rollback import rollback
from bisect_tui.host.runner import Call, Reply, ScriptedRunner

UNIT = "nginx.service"
DROPIN = dropin_path(UNIT)
ENTRIES = [
    Entry(
        "protect-system-strict",
        "ProtectSystem",
        "strict",
        "base",
        "filesystem",
        "r",
        "r",
        line=1,
    ),
    Entry(
        "no-new-privileges",
        "NoNewPrivileges",
        "yes",
        "base",
        "identity",
        "r",
        "r",
        line=2,
    ),
]
DEBIAN_CAT = "# /lib/systemd/system/nginx.service\n[Service]\nType=forking\n"
ACTIVE = "ActiveState=active\nSubState=running\nResult=success\nExecMainStatus=0\n"
FAILED = "ActiveState=failed\nSubState=failed\nResult=exit-code\nExecMainStatus=1\n"
RESTARTED = Reply(0)
APPLIED = f"ProtectSystem=strict\nNoNewPrivileges=yes\nDropInPaths={DROPIN}\n"


def host_script(
    *, restart: Reply = RESTARTED, state: str = ACTIVE, disarm: str = ""
) -> Callable[[Call], Reply | None]:
    """Answer a trial's commands like a healthy Debian host would."""

    def answer(call: Call) -> Reply | None:
        argv = list(call.argv)
        if argv[:3] == ["systemctl", "cat", "--no-pager"]:
            return Reply(0, DEBIAN_CAT)
        if argv[:2] == ["systemctl", "show"]:
            return Reply(0, state + APPLIED)
        if argv[0] == "journalctl":
            return Reply(0, "Reloading.\n")
        if argv[:3] == ["sh", "-c", WRITE_DROPIN.text]:
            return Reply(0, "s=cursor-1\n")
        if argv[:3] == ["sh", "-c", RESTART.text]:
            return restart
        if argv[:3] == ["sh", "-c", DISARM.text]:
            return Reply(0, disarm)
        if argv[:3] in (["sh", "-c", ARM.text], ["sh", "-c", RESTORE.text]):
            return Reply(0)
        if argv[:3] == ["sh", "-c", WRITE_STATE_FILE.text]:
            return Reply(0)
        return None

    return answer


def scripts(runner: ScriptedRunner) -> list[str]:
    """The titles of the fixed scripts run, or the command's first words."""
    names = []
    for call in runner.calls:
        if call.argv[:2] == ("sh", "-c"):
            names.append(call.argv[2].splitlines()[0].removeprefix("# harden-bisect: "))
        else:
            names.append(" ".join(call.argv[:2]))
    return names


def test_apply_arms_before_writing_and_reads_back() -> None:
    """The dead-man is armed before the drop-in exists; the trial reads back."""
    runner = ScriptedRunner(handler=host_script())
    host = TrialHost(runner, UNIT, window=30)
    outcome = host.apply(host.plan(ENTRIES))
    assert scripts(runner) == [
        "systemctl cat",
        "arm",
        "write-dropin",
        "restart",
        "systemctl show",
        "journalctl --no-pager",
    ]
    arm, write = runner.calls[1], runner.calls[2]
    assert arm.sudo and arm.stdin == ROLLBACK_SCRIPT_TEXT
    assert "--on-active=30s" in arm.argv
    assert write.stdin == outcome.plan.composition.text
    assert "ProtectSystem=strict" in (write.stdin or "")
    assert "--after-cursor=s=cursor-1" in runner.calls[5].argv
    assert outcome.ok
    assert set(outcome.timings) == {"arm", "write", "restart", "readback"}


def test_failed_start_is_an_outcome_not_an_error() -> None:
    """A unit that fails to start is reported; the trial is not ok."""
    failed = Reply(1, "", "Job for nginx.service failed.\n")
    runner = ScriptedRunner(handler=host_script(restart=failed, state=FAILED))
    host = TrialHost(runner, UNIT)
    outcome = host.apply(host.plan(ENTRIES))
    assert not outcome.ok
    assert outcome.state.describe() == "failed/failed (exit-code, status 1)"
    assert outcome.to_dict()["restart"].endswith("Job for nginx.service failed.")


def test_failed_reload_is_a_host_error() -> None:
    """If systemd cannot even reload, the trial stops with a HostError."""
    runner = ScriptedRunner(handler=host_script(restart=Reply(90)))
    host = TrialHost(runner, UNIT)
    with pytest.raises(HostError, match="daemon-reload failed"):
        host.apply(host.plan(ENTRIES))


def test_keep_records_known_good_then_disarms() -> None:
    """A good trial becomes the known-good state before the timer stops."""
    runner = ScriptedRunner(handler=host_script())
    host = TrialHost(runner, UNIT)
    plan = plan_trial(ENTRIES, UNIT, UnitAssignments({}))
    assert host.keep(plan) is False
    assert scripts(runner) == ["write-state-file", "disarm"]
    assert runner.calls[0].argv[-2:] == (f"{UNIT}.known-good.conf", "0600")
    assert runner.calls[0].stdin == plan.composition.text


def test_revert_restores_then_reports_a_fired_deadman() -> None:
    """A bad trial is reverted now; a dead-man that already fired is reported."""
    runner = ScriptedRunner(handler=host_script(disarm="fired at 2025-01-01\n"))
    assert TrialHost(runner, UNIT).revert() is True
    assert scripts(runner) == ["restore", "disarm"]
    assert runner.calls[0].argv[-2:] == (UNIT, "known-good")


def test_revert_failure_is_a_rollback_error() -> None:
    """If even the restore fails, the host is left modified: exit code 6."""
    runner = ScriptedRunner({tuple(RESTORE.argv(UNIT, "known-good")): Reply(1)})
    with pytest.raises(RollbackError) as caught:
        TrialHost(runner, UNIT).revert()
    assert caught.value.exit_code == 6


def test_plan_lists_every_command_in_order() -> None:
    """--plan shows the same steps apply runs, scripts by their titles."""
    plan = plan_trial(ENTRIES, UNIT, UnitAssignments({}), window=45)
    lines = plan.commands()
    assert lines[0].startswith("sudo -n -- sh -c '<harden-bisect: arm>' harden-bisect")
    assert "--on-active=45s" in lines[0]
    assert "<harden-bisect: write-dropin>" in lines[1] and DROPIN in lines[1]
    assert "<harden-bisect: restart>" in lines[2]
    assert lines[-1].startswith("sudo -n -- sh -c '<harden-bisect: disarm>'")
    assert plan.to_dict()["entries"] == ["protect-system-strict", "no-new-privileges"]


def rollback_host(
    present: list[bool], loaded: str = "LoadState=not-found\n"
) -> ScriptedRunner:
    runner = ScriptedRunner(handler=host_script())
    for exists in present:
        runner.expect(
            READ_STATE.argv(UNIT), 0, f"== {DROPIN}\n[Service]\n" if exists else ""
        )
    runner.expect(FORGET_STATE.argv(UNIT))
    show_deadman = (
        "systemctl",
        "show",
        "harden-bisect-deadman.timer",
        "harden-bisect-deadman.service",
        "--property=LoadState",
    )
    runner.expect(show_deadman, 0, loaded)
    return runner


def test_rollback_disarms_removes_cleans_and_verifies() -> None:
    """Rollback: disarm, remove only the tool's drop-in, forget state, verify."""
    runner = rollback_host([True, False])
    outcome = rollback(runner, UNIT)
    assert outcome.had_dropin and outcome.state.running
    assert scripts(runner) == [
        "read-state",
        "disarm",
        "restore",
        "forget-state",
        "read-state",
        "systemctl show",
        "systemctl show",
    ]
    assert runner.calls[2].argv[-2:] == (UNIT, "remove")


def test_rollback_without_dropin_restarts_nothing() -> None:
    """Nothing of the tool's in place: no restart, state still cleared."""
    runner = rollback_host([False, False])
    outcome = rollback(runner, UNIT)
    assert not outcome.had_dropin
    assert "restore" not in scripts(runner)


def test_rollback_that_leaves_the_dropin_raises() -> None:
    """A drop-in still there after rollback is exit code 6, naming the file."""
    runner = rollback_host([True, True])
    with pytest.raises(RollbackError, match="zz-harden-bisect.conf is still there"):
        rollback(runner, UNIT)


def test_rollback_that_leaves_a_timer_raises() -> None:
    """A dead-man unit still loaded after rollback is exit code 6."""
    runner = rollback_host([True, False], loaded="LoadState=loaded\n")
    with pytest.raises(RollbackError, match="harden-bisect-deadman.timer"):
        rollback(runner, UNIT)
