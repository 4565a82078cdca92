"""Trials on the real guest: apply and rollback, the dead-man, the stale lock.

Commands run as a user would run them (``python -m bisect_tui.cli.main``); the
guest is inspected with the plain ``ssh`` client, never through the product's
SSH layer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest

from bisect_tui.core.checklist import CheckContext
from bisect_tui.core.checklist_loader import load_checklist
from bisect_tui.host.checks import run_checklist
from bisect_tui.testbed import guest
from bisect_tui.testbed.state import GuestRecord
from tests.integration.conftest import TestbedSession
from tests.integration.test_checks_guest import connect

pytestmark = pytest.mark.integration

SNAPSHOT = """\
for d in /run/systemd/system/nginx.service.d /etc/systemd/system/nginx.service.d \\
    /run/systemd/system.control /run/harden-bisect; do
    echo "== $d"; find "$d" -printf '%p %s\\n' 2>/dev/null | sort
done
echo "== transient"; ls /run/systemd/transient 2>/dev/null | grep harden-bisect
echo "== units"; systemctl list-units --all --no-legend --plain 'harden-bisect*'
echo "== cat"; systemctl cat --no-pager nginx.service
"""
"""Everything of the tool's that could be on the guest, and the unit's files."""


def snapshot(record: GuestRecord) -> str:
    """The tool-relevant state of the guest, as text to compare."""
    return guest.sudo(record, "sh", "-c", SNAPSHOT)


def section(text: str, name: str) -> str:
    """The part of a :func:`snapshot` under ``== name``."""
    lines = text.splitlines()
    start = lines.index(f"== {name}") + 1
    end = next(
        (i for i in range(start, len(lines)) if lines[i].startswith("== ")), None
    )
    return "\n".join(lines[start:end])


def context(record: GuestRecord) -> CheckContext:
    """Where the checklist finds the guest's services from here."""
    return CheckContext(
        host=record.host,
        http_port=record.ports.http,
        metrics_port=record.ports.metrics,
    )


def cli(
    record: GuestRecord, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run harden-bisect against the guest and return the finished process."""
    argv = [sys.executable, "-m", "bisect_tui.cli.main", *args, *record.args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def health(record: GuestRecord) -> int:
    """The HTTP status of /health through the forward (0 when unreachable)."""
    return guest.http_get(record.ports.http, "/health", timeout=3)[0]


def check_json(record: GuestRecord) -> tuple[int, dict[str, Any]]:
    """Run ``harden-bisect check --json``; its exit status and its document."""
    done = cli(record, "check", "--json")
    assert done.returncode in (0, 1, 125), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_apply_base_check_then_rollback_leaves_the_unit_as_it_was(
    flavoured_testbed: GuestRecord,
    pristine_unit: GuestRecord,
    record_property: Callable[[str, object], None],
) -> None:
    """apply --phase base, check, rollback: only the drop-in came and went.

    The read-back must match the catalog's intent, ``check`` must give every
    check a verdict with evidence (and exit as ``git bisect run`` expects), and
    after ``rollback`` the unit's files, the tool's directories and the loaded
    units are exactly as before.
    """
    record = pristine_unit
    before = snapshot(record)
    started = time.monotonic()
    applied = cli(record, "apply", "--phase", "base", "--yes", "--json")
    apply_seconds = time.monotonic() - started
    assert applied.returncode in (0, 1), applied.stderr
    outcome = json.loads(applied.stdout)
    assert outcome["readback"]["dropin_loaded"]
    assert outcome["readback"]["problems"] == []
    assert applied.returncode == (0 if outcome["ok"] else 1)
    during = snapshot(record)
    assert "zz-harden-bisect.conf" in during
    assert "harden-bisect-deadman" not in section(during, "units")

    started = time.monotonic()
    code, checked = check_json(record)
    check_seconds = time.monotonic() - started
    ids = [c["id"] for c in checked["checks"]]
    assert ids == [c.id for c in load_checklist().checks]
    for item in checked["checks"]:
        assert item["verdict"] in ("good", "bad", "skip"), item
        assert item["evidence"], item
    assert code == {"good": 0, "bad": 1, "skip": 125}[checked["verdict"]]
    if not outcome["active"]:
        assert checked["verdict"] == "bad"
        assert "unit-serving" in checked["failing"]
    text = cli(record, "check")
    assert text.returncode == code, text.stderr
    for check_id in ids:
        assert check_id in text.stdout
    assert f"verdict: {checked['verdict']}" in text.stdout

    started = time.monotonic()
    rolled = cli(record, "rollback", "--json")
    rollback_seconds = time.monotonic() - started
    assert rolled.returncode == 0, rolled.stderr
    assert json.loads(rolled.stdout)["had_dropin"]
    assert snapshot(record) == before
    guest.wait_for_health(record.ports.http, timeout=30)
    record_property("apply_seconds", round(apply_seconds, 1))
    record_property("check_seconds", round(check_seconds, 1))
    record_property("rollback_seconds", round(rollback_seconds, 1))
    record_property("base_verdict", checked["verdict"])
    print(
        f"{flavoured_testbed.flavour}: apply {apply_seconds:.1f} s "
        f"({'serving' if outcome['active'] else 'not active'}), check "
        f"{check_seconds:.1f} s ({checked['verdict']}: {checked['failing']}), "
        f"rollback {rollback_seconds:.1f} s"
    )


KILLABLE = textwrap.dedent(
    """\
    import sys, time
    from bisect_tui.core.catalog import load_catalog
    from bisect_tui.core.selection import resolve_selection
    from bisect_tui.host.apply import TrialHost
    from bisect_tui.host.lock import acquire_lock, client_label
    from bisect_tui.host.ssh import SshRunner
    from bisect_tui.host.ssh_config import resolve_target

    host, port, user, identity, known, window, entry = sys.argv[1:8]
    target = resolve_target(
        host, port=int(port), user=user, identity=identity, known_hosts=known
    )
    runner = SshRunner.connect(target)
    acquire_lock(runner, client_label("killed in a test"))
    trial = TrialHost(runner, "nginx.service", window=float(window))
    entries = resolve_selection(load_catalog(), (), [entry])
    outcome = trial.apply(trial.plan(entries))
    print("applied", outcome.state.active, flush=True)
    time.sleep(600)
    """
)
"""A run that applies a trial, then 'runs its checklist' until it is killed."""


def start_killable(
    record: GuestRecord, window: int, entry: str
) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-c",
        KILLABLE,
        record.host,
        str(record.ports.ssh),
        record.user,
        str(record.identity),
        str(record.known_hosts),
        str(window),
        entry,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def debian(testbed_session: TestbedSession) -> GuestRecord:
    """The guest with nginx under Debian's own unit."""
    return testbed_session.use_flavour("debian")


def test_killed_run_is_healed_by_the_deadman(
    debian: GuestRecord,
    pristine_unit: GuestRecord,
    record_property: Callable[[str, object], None],
) -> None:
    """SIGKILL mid-trial: the checklist passes again within the window plus 10 s.

    An empty CapabilityBoundingSet stops Debian's nginx from starting (its root
    master cannot open its logs without CAP_DAC_OVERRIDE). The run is killed
    while it would be running its checklist, before it could revert.
    """
    record = pristine_unit
    window = 20
    before = snapshot(record)
    runner = connect(record)
    try:
        tool = start_killable(record, window, "capability-bounding-empty")
        try:
            assert tool.stdout is not None
            line = tool.stdout.readline()
            assert line.startswith("applied"), line
            assert health(record) != 200
        finally:
            os.kill(tool.pid, signal.SIGKILL)
            tool.wait()
        killed = time.monotonic()
        while health(record) != 200 and time.monotonic() - killed < window + 10:
            time.sleep(0.5)
        result = run_checklist(load_checklist(), runner, context(record))
        recovered = time.monotonic() - killed
    finally:
        runner.close()
    assert result.verdict == "good", result.to_dict()
    assert recovered <= window + 10, f"the checklist passed {recovered:.0f} s late"
    record_property("deadman_window_seconds", window)
    record_property("deadman_checklist_good_after_kill_seconds", round(recovered, 1))
    print(f"dead-man: checklist good {recovered:.1f} s after SIGKILL (window {window})")

    # The dead-man removed the drop-in and its own units are gone.
    after = snapshot(record)
    assert "zz-harden-bisect.conf" not in after
    assert "harden-bisect-deadman" not in section(after, "units")

    # The killed run's lock is stale; rollback takes it over and cleans up.
    status = cli(record, "preflight", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["lock"]["status"] == "stale"
    rolled = cli(record, "-v", "rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert "took over a stale lock" in rolled.stderr
    assert snapshot(record) == before
