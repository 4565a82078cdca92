"""The checklist and its hints against directives that really break Debian's nginx.

Each test writes a drop-in with plain ``ssh`` and ``sudo`` (not through the
product's apply), restarts nginx, runs the default checklist through the
product's SSH connection, reads the hints, and always removes the drop-in again.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator

import pytest

from bisect_tui.cli.main import main
from bisect_tui.core.checklist import CheckContext, ChecklistResult
from bisect_tui.core.checklist_loader import load_checklist
from bisect_tui.core.hints import Hint
from bisect_tui.host.checks import run_checklist
from bisect_tui.host.checks_hints import explain_failure
from bisect_tui.host.ssh import SshRunner
from bisect_tui.testbed import guest
from bisect_tui.testbed.state import GuestRecord
from tests.integration.conftest import TestbedSession
from tests.integration.test_checks_guest import connect

pytestmark = pytest.mark.integration

UNIT = "nginx.service"
DROPIN_DIR = f"/run/systemd/system/{UNIT}.d"
DROPIN = f"{DROPIN_DIR}/zz-harden-bisect.conf"

DESIGN_SYSCALL_FILTER = """\
[Service]
SystemCallFilter=
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallFilter=~@resources
"""
"""The design document's filter, one deny group per line, as systemd needs it."""

PROTECT_SYSTEM_STRICT = "[Service]\nProtectSystem=strict\n"

HTTP_CHECKS = {"health", "playlist", "files-listing", "metrics"}


def restart_with(record: GuestRecord, dropin: str | None) -> None:
    """Write (or remove) the trial drop-in, reload systemd, restart nginx."""
    if dropin is None:
        write = f"rm -f {DROPIN}"
    else:
        write = f"mkdir -p {DROPIN_DIR} && printf %s {shlex.quote(dropin)} > {DROPIN}"
    script = (
        f"{write} && systemctl daemon-reload && systemctl reset-failed {UNIT}; "
        f"systemctl restart {UNIT}; true"
    )
    guest.sudo(record, "sh", "-c", script, timeout=180)


@pytest.fixture(scope="module")
def debian(testbed_session: TestbedSession) -> GuestRecord:
    """The guest with nginx under Debian's own unit."""
    return testbed_session.use_flavour("debian")


@pytest.fixture
def runner(debian: GuestRecord) -> Iterator[SshRunner]:
    connection = connect(debian)
    yield connection
    connection.close()


@pytest.fixture
def trial(
    debian: GuestRecord, pristine_unit: GuestRecord
) -> Iterator[Callable[[str], None]]:
    """Apply a drop-in for the test; it is removed and nginx restarted after."""
    yield lambda dropin: restart_with(pristine_unit, dropin)
    restart_with(pristine_unit, None)
    guest.wait_for_health(pristine_unit.ports.http, timeout=60)


def run_default(record: GuestRecord, runner: SshRunner) -> ChecklistResult:
    context = CheckContext(
        host=record.host,
        http_port=record.ports.http,
        metrics_port=record.ports.metrics,
    )
    return run_checklist(load_checklist(), runner, context)


def suspects(hints: list[Hint]) -> list[str]:
    return [hint.suspect for hint in hints]


def test_design_syscall_filter_kills_workers_and_is_named(
    debian: GuestRecord,
    runner: SshRunner,
    trial: Callable[[str], None],
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Active unit, zero workers, HTTP failing; the hint names ~@privileged."""
    trial(DESIGN_SYSCALL_FILTER)
    result = run_default(debian, runner)
    assert result.verdict == "bad"
    assert HTTP_CHECKS | {"unit-serving"} <= set(result.failing)
    unit = result.result("unit-serving")
    assert unit.evidence[0].startswith("ActiveState=active SubState=running")
    assert unit.value == 0

    hints = explain_failure(runner, result, UNIT)
    assert "SystemCallFilter=~@privileged" in suspects(hints)
    seccomp = [h for h in hints if h.sign == "seccomp-kill" and h.value]
    assert seccomp, [h.to_dict() for h in hints]
    assert seccomp[0].value == "~@privileged"
    assert "setgroups (system call 116)" in seccomp[0].explanation
    code = main(["check", *debian.args, "--json"])
    reported = json.loads(capsys.readouterr().out)
    assert code == 1
    assert "SystemCallFilter=~@privileged" in [h["suspect"] for h in reported["hints"]]
    record_property("failing", ",".join(result.failing))
    record_property("checklist_seconds", round(result.seconds, 2))
    record_property("hints", "; ".join(suspects(hints)))


def test_read_only_root_fails_the_start_and_names_protect_system(
    debian: GuestRecord,
    runner: SshRunner,
    trial: Callable[[str], None],
) -> None:
    """A failed start: the unit and journal checks fail; the hint names /run."""
    trial(PROTECT_SYSTEM_STRICT)
    result = run_default(debian, runner)
    assert result.verdict == "bad"
    assert HTTP_CHECKS | {"unit-serving", "journal-clean"} <= set(result.failing)
    assert "ActiveState=failed" in result.result("unit-serving").evidence[0]
    journal = result.result("journal-clean").evidence
    assert any(line.startswith("err: ") for line in journal[1:]), journal

    hints = explain_failure(runner, result, UNIT)
    read_only = [h for h in hints if h.sign == "read-only"]
    assert read_only, [h.to_dict() for h in hints]
    assert read_only[0].suspect == "ProtectSystem=strict"
    assert "/run" in read_only[0].explanation
