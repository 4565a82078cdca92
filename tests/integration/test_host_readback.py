"""Read-back on the real guest: every shipped entry, and directives too new for it.

Each shipped entry (with what it requires) is composed as ``apply`` composes it
and loaded by systemd; the read-back compares what systemd then reports with the
intent. The read-back reads the loaded configuration, not the running process,
so the every-entry test loads each entry into its own copy of the unit with one
reload and no restart; the too-new test goes through a real apply and restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bisect_tui.core.catalog import load_catalog
from bisect_tui.core.selection import resolve_selection
from bisect_tui.host import systemd
from bisect_tui.host.apply import TrialHost, TrialPlan, plan_trial
from bisect_tui.host.preflight import run_preflight
from bisect_tui.host.readback import SyscallTable, evaluate, readback_properties
from bisect_tui.host.rollback import rollback
from bisect_tui.host.ssh import SshRunner
from bisect_tui.host.ssh_config import resolve_target
from bisect_tui.testbed.state import GuestRecord
from tests.integration.unit_copies import copy_name, unit_copies

pytestmark = pytest.mark.integration

UNIT = "nginx.service"

TOO_NEW_CATALOG = """\
[meta]
schema = 1
title = "directives newer than systemd 252"

[[entry]]
id = "private-pids"
directive = "PrivatePIDs"
value = true
phase = "aggressive"
group = "namespaces"
reason = "Gives the service its own PID namespace."
risk = "Needs systemd 257; older versions ignore it with a warning."
since = 257

[[entry]]
id = "protect-control-groups-private"
directive = "ProtectControlGroups"
value = "private"
phase = "aggressive"
group = "kernel"
reason = "A private cgroup namespace, not just a read-only cgroup tree."
risk = "Needs systemd 257; older versions cannot parse the value."
since = 257
"""


@pytest.fixture
def runner(pristine_unit: GuestRecord) -> Iterator[SshRunner]:
    """A connection to the pristine guest; the tool's drop-in is removed after."""
    record = pristine_unit
    target = resolve_target(
        record.host,
        port=record.ports.ssh,
        user=record.user,
        identity=str(record.identity),
        known_hosts=str(record.known_hosts),
    )
    connection = SshRunner.connect(target)
    yield connection
    rollback(connection, UNIT)
    connection.close()


def test_every_shipped_entry_reads_back_as_intended(
    flavoured_testbed: GuestRecord,
    runner: SshRunner,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """Each entry alone (with what it requires) is applied as the catalog means.

    Every entry gets its own copy of the unit (see ``unit_copies``), composed
    with the unit's settings as ``apply`` composes it; one reload loads them
    all. Two entries too new for the guest ride along as controls: the same
    read-back must flag them.
    """
    catalog = load_catalog()
    path = tmp_path / "too-new.toml"
    path.write_text(TOO_NEW_CATALOG)
    too_new = load_catalog(path)
    controls = too_new.entries
    unit_files = TrialHost(runner, UNIT).unit_files()
    cases = [(catalog, e) for e in catalog.entries] + [(too_new, e) for e in controls]
    plans: dict[str, TrialPlan] = {}
    for index, (source, entry) in enumerate(cases):
        entries = resolve_selection(source, (), [entry.id])
        plans[entry.id] = plan_trial(entries, copy_name(index), unit_files)

    started = time.monotonic()
    cursor = systemd.journal_cursor(runner)
    with unit_copies(
        flavoured_testbed, {p.unit: p.composition.text for p in plans.values()}
    ):
        printed = {
            entry_id: systemd.show(
                runner, plan.unit, readback_properties(plan.composition)
            )
            for entry_id, plan in plans.items()
        }
        runner.run(["journalctl", "--sync"], sudo=True)
        journal = systemd.journal_since(runner, cursor, "_PID=1")
        groups = SyscallTable(runner).groups()
    readbacks = {
        entry_id: evaluate(
            plan.unit, plan.composition, printed[entry_id], journal, groups
        )
        for entry_id, plan in plans.items()
    }
    seconds = time.monotonic() - started

    control_ids = [entry.id for entry in controls]
    failures = {
        entry_id: readback.problems()
        for entry_id, readback in readbacks.items()
        if not readback.ok and entry_id not in control_ids
    }
    assert failures == {}, f"{flavoured_testbed.flavour}: {failures}"
    assert len(catalog.entries) > 20
    assert all(readbacks[e.id].dropin_loaded for e in catalog.entries)
    verdicts = {
        d.directive: d.verdict
        for entry_id in control_ids
        for d in readbacks[entry_id].directives
    }
    assert verdicts == {"PrivatePIDs": "ignored", "ProtectControlGroups": "differs"}
    assert any("PrivatePIDs" in w for w in readbacks["private-pids"].warnings)
    record_property("entries", len(catalog.entries))
    record_property("readback_seconds", round(seconds, 1))
    print(
        f"{flavoured_testbed.flavour}: {len(catalog.entries)} entries read back "
        f"in {seconds:.1f} s"
    )


def test_directives_newer_than_the_host_are_caught(
    runner: SshRunner, tmp_path: Path
) -> None:
    """PrivatePIDs and ProtectControlGroups=private (v257) fail on systemd 252."""
    path = tmp_path / "too-new.toml"
    path.write_text(TOO_NEW_CATALOG)
    catalog = load_catalog(path)
    report = run_preflight(runner, UNIT, catalog.entries)
    assert [e.id for e in report.too_new] == [
        "private-pids",
        "protect-control-groups-private",
    ]

    trial = TrialHost(runner, UNIT, window=60)
    outcome = trial.apply(trial.plan(list(catalog.entries)))
    trial.leave_applied()
    readback = outcome.readback
    assert not readback.ok and not outcome.ok
    verdicts = {d.directive: d.verdict for d in readback.directives}
    assert verdicts == {"PrivatePIDs": "ignored", "ProtectControlGroups": "differs"}
    warnings = " ".join(readback.warnings)
    assert "Unknown key" in warnings and "PrivatePIDs" in warnings
    assert "Failed to parse" in warnings
