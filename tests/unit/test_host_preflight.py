"""Pre-flight: each way a host can be unready fails with one line naming it."""

from __future__ import annotations

import pytest

from bisect_tui.core.catalog import Entry, load_catalog
from bisect_tui.core.dropin import render_dropin
from bisect_tui.errors import PreflightError
from bisect_tui.host.deadman import DEADMAN_UNIT
from bisect_tui.host.lock import LOCK_SCRIPT
from bisect_tui.host.preflight import header_entry_ids, run_preflight
from bisect_tui.host.remote import READ_STATE, dropin_path
from bisect_tui.host.runner import Reply, ScriptedRunner

UNIT = "nginx.service"
SHOW_UNIT = (
    "systemctl",
    "show",
    UNIT,
    "--no-pager",
    "--property=LoadState",
    "--property=ActiveState",
    "--property=FragmentPath",
)
LOADED = "LoadState=loaded\nActiveState=active\nFragmentPath=/lib/x/nginx.service\n"
LEFTOVER = (
    f"== {dropin_path(UNIT)}\n# harden-bisect 0.1.0: trial\n"
    "# Entries (2): no-new-privileges, protect-system-strict\n[Service]\n"
)


def ready_host(**overrides: Reply) -> ScriptedRunner:
    replies = {
        "id": Reply(0, "operator\n"),
        "sudo": Reply(0),
        "version": Reply(0, "systemd 252 (252.39-1~deb12u2)\n+PAM\n"),
        "unit": Reply(0, LOADED),
        "analyze": Reply(0, "systemd 252\n"),
        "lock": Reply(0, "free\n"),
        "state": Reply(0, ""),
        "timer": Reply(0, "ActiveState=inactive\nSubState=dead\n"),
    }
    replies.update(overrides)
    timer = (
        "systemctl",
        "show",
        f"{DEADMAN_UNIT}.timer",
        "--property=ActiveState,SubState",
    )
    return ScriptedRunner(
        {
            ("id", "-un"): replies["id"],
            ("true",): replies["sudo"],
            ("systemctl", "--version"): replies["version"],
            SHOW_UNIT: replies["unit"],
            ("systemd-analyze", "--version"): replies["analyze"],
            tuple(LOCK_SCRIPT.argv("inspect")): replies["lock"],
            tuple(READ_STATE.argv(UNIT)): replies["state"],
            timer: replies["timer"],
        },
        host="web1",
    )


def entry(entry_id: str, directive: str, since: int) -> Entry:
    return Entry(entry_id, directive, "yes", "base", "kernel", "r", "r", since=since)


def test_ready_host_reports_version_and_too_new_entries() -> None:
    """A ready host passes; entries newer than its systemd are named."""
    entries = [
        entry("private-pids", "PrivatePIDs", 257),
        entry("nnp", "NoNewPrivileges", 187),
    ]
    report = run_preflight(ready_host(), UNIT, entries)
    assert report.systemd_version == 252
    assert [e.id for e in report.too_new] == ["private-pids"]
    assert report.user == "operator"
    assert report.leftover is None
    assert report.to_dict()["too_new"] == [
        {"id": "private-pids", "directive": "PrivatePIDs", "since": 257}
    ]


def test_missing_sudo_is_one_line() -> None:
    """sudo asking for a password fails the pre-flight, naming user and host."""
    runner = ready_host(sudo=Reply(1, "", "sudo: a password is required\n"))
    with pytest.raises(PreflightError) as caught:
        run_preflight(runner, UNIT)
    message = str(caught.value)
    assert message.startswith("web1: sudo -n does not work for operator")
    assert "a password is required" in message and "\n" not in message
    assert caught.value.exit_code == 4


def test_missing_unit_is_one_line() -> None:
    """A unit systemd does not know fails the pre-flight."""
    runner = ready_host(unit=Reply(0, "LoadState=not-found\nActiveState=inactive\n"))
    with pytest.raises(
        PreflightError, match=r"^web1: unit nginx.service does not exist"
    ):
        run_preflight(runner, UNIT)


def test_masked_unit_is_refused() -> None:
    """A masked unit cannot be trialled."""
    runner = ready_host(unit=Reply(0, "LoadState=masked\n"))
    with pytest.raises(PreflightError, match="is masked"):
        run_preflight(runner, UNIT)


def test_missing_systemd_analyze() -> None:
    """No systemd-analyze: the score cannot be read, so the pre-flight fails."""
    runner = ready_host(analyze=Reply(127, "", "sh: systemd-analyze: not found\n"))
    with pytest.raises(PreflightError, match="systemd-analyze is missing"):
        run_preflight(runner, UNIT)


def test_live_lock_holder_fails() -> None:
    """Another live run holding the host's lock fails the pre-flight."""
    lock = Reply(0, "busy\npid=1\nclient=laptop pid 7\nsince=2025-05-05T05:05:05Z\n")
    with pytest.raises(PreflightError, match="laptop pid 7"):
        run_preflight(ready_host(lock=lock), UNIT)


def test_stale_lock_is_reported_not_fatal() -> None:
    """A lock left by a killed run does not stop the pre-flight."""
    report = run_preflight(ready_host(lock=Reply(0, "stale\npid=9\n")), UNIT)
    assert report.lock.status == "stale"


def test_leftover_dropin_is_found_with_its_entries() -> None:
    """A drop-in from an interrupted run is reported with its entries."""
    timer = Reply(0, "ActiveState=active\nSubState=waiting\n")
    report = run_preflight(ready_host(state=Reply(0, LEFTOVER), timer=timer), UNIT)
    assert report.leftover is not None
    assert report.leftover.entry_ids == ("no-new-privileges", "protect-system-strict")
    assert report.leftover.deadman_armed
    assert report.to_dict()["leftover"]["entries"] == list(report.leftover.entry_ids)


def test_leftover_entries_are_read_from_every_header_line() -> None:
    """A long entry list wraps onto continuation lines; none is lost."""
    entries = load_catalog().in_phases(["base"])
    text = render_dropin(entries, title="trial drop-in for nginx.service")
    assert sorted(header_entry_ids(text)) == sorted(e.id for e in entries)
