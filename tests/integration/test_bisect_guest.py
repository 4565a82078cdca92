"""A real search on the guest: a planted culprit found, a killed search resumed.

Five entries, one of which stops Debian's nginx (an empty capability bounding
set: its root master can no longer open its logs). The search must name it,
prove the other four work together, and leave the unit exactly as it found it.
The full searches over whole phases are a documented command
(``benchmarks/README.md``), not part of this suite.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bisect_tui.core.session import load_session
from bisect_tui.testbed import guest
from bisect_tui.testbed.state import GuestRecord
from tests.integration.conftest import TestbedSession
from tests.integration.test_host_trial import cli, snapshot

pytestmark = pytest.mark.integration

PLANTED = "capability-bounding-empty"
HARMLESS = ["protect-home", "private-tmp", "no-new-privileges", "lock-personality"]
SELECTION = ",".join([*HARMLESS[:2], PLANTED, *HARMLESS[2:]])


@pytest.fixture(scope="module")
def debian(testbed_session: TestbedSession) -> GuestRecord:
    """The guest with nginx under Debian's own unit."""
    return testbed_session.use_flavour("debian")


def bisect(record: GuestRecord, state: Path, *extra: str) -> dict[str, Any]:
    """Run ``bisect --json`` to its end and return its one JSON object."""
    done = cli(
        record,
        "bisect",
        "--select",
        SELECTION,
        "--state-dir",
        str(state),
        "--json",
        *extra,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def assert_planted_culprit_found(report: dict[str, Any]) -> None:
    assert report["status"] == "complete"
    assert [c["entries"] for c in report["culprits"]] == [[PLANTED]]
    culprit = report["culprits"][0]
    assert "health" in culprit["failed_checks"]
    assert culprit["evidence"], culprit
    assert sorted(report["known_good"]) == sorted(HARMLESS)
    assert report["known_good_verified"] is True
    assert report["findings"] == []


def test_bisect_names_the_planted_culprit_and_leaves_the_unit_alone(
    debian: GuestRecord,
    pristine_unit: GuestRecord,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """The culprit, the verified known-good set, and a host left as found."""
    record = pristine_unit
    before = snapshot(record)
    started = time.monotonic()
    report = bisect(record, tmp_path)
    seconds = time.monotonic() - started
    assert_planted_culprit_found(report)
    assert "CAP_DAC_OVERRIDE" in (report["culprits"][0]["hint"] or "")
    assert report["score_before"] == pytest.approx(9.6, abs=0.05)
    assert report["score_known_good"] < report["score_before"]
    assert report["trials"] <= math.ceil(math.log2(5)) + 2, report["trial_log"]
    assert snapshot(record) == before

    session = load_session(tmp_path / "sessions" / f"{report['session']}.jsonl")
    assert session.status == "complete"
    assert session.trials[0].number == 0 and session.trials[0].verdict == "good"
    assert session.header.host_versions["systemd"] == "252"
    assert session.header.host_versions["nginx"].startswith("1.")

    # The known-good set really works when applied by hand.
    selected = ",".join(report["known_good"])
    applied = cli(record, "apply", "--select", selected, "--yes")
    assert applied.returncode == 0, applied.stderr
    checked = cli(record, "check")
    assert checked.returncode == 0, checked.stdout
    assert cli(record, "rollback").returncode == 0
    record_property("bisect_seconds", round(seconds, 1))
    record_property("bisect_trials", report["trials"])
    print(f"bisect of 5 entries: {report['trials']} trials in {seconds:.0f} s")


def test_a_killed_search_resumes_without_repeating_trials(
    debian: GuestRecord, pristine_unit: GuestRecord, tmp_path: Path
) -> None:
    """SIGKILL after two trials; ``resume`` finishes with the same answer."""
    record = pristine_unit
    before = snapshot(record)
    argv = [
        sys.executable,
        "-m",
        "bisect_tui.cli.main",
        "bisect",
        "--select",
        SELECTION,
        "--state-dir",
        str(tmp_path),
        *record.args,
    ]
    tool = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    seen: list[str] = []
    try:
        assert tool.stderr is not None
        while len([s for s in seen if s.startswith("bisect: trial 2: ")]) < 1:
            line = tool.stderr.readline()
            assert line, f"the search ended early: {seen}"
            seen.append(line)
        # Trial 2 is under way (its first line is out): kill it mid-trial.
    finally:
        os.kill(tool.pid, signal.SIGKILL)
        tool.wait()
    (path,) = (tmp_path / "sessions").glob("*.jsonl")
    killed = load_session(path)
    finished_before = [frozenset(t.entries) for t in killed.searched_trials]
    assert len(finished_before) == 1
    assert killed.status == "unfinished"

    done = cli(record, "resume", "--state-dir", str(tmp_path), "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert_planted_culprit_found(report)
    assert "1 finished trials taken from the trial log" in done.stderr

    resumed = load_session(path)
    after_resume = [
        frozenset(t.entries) for t in resumed.searched_trials if t.number > 1
    ]
    assert finished_before[0] not in after_resume
    assert len(set(after_resume)) == len(after_resume)
    guest.wait_for_health(record.ports.http, timeout=30)
    assert snapshot(record) == before

    listing = [sys.executable, "-m", "bisect_tui.cli.main", "sessions", "--json"]
    listed = subprocess.run(
        [*listing, "--state-dir", str(tmp_path)], capture_output=True, text=True
    )
    (summary,) = json.loads(listed.stdout)
    assert summary["status"] == "complete"
    assert summary["culprits"] == [[PLANTED]]
