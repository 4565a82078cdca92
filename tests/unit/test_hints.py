"""Hints: each sign a real nginx showed under a directive is named correctly."""

from __future__ import annotations

import pytest

from bisect_tui.core.checklist import ChecklistResult, CheckResult
from bisect_tui.core.checklist_systemd import JournalEntry
from bisect_tui.core.hints import dedupe, explain, find_hints, hints_from_results
from bisect_tui.core.hints_model import Hint
from bisect_tui.core.hints_sources import error_log_for_start, journal_for_start
from bisect_tui.core.hints_syscalls import syscall_by_name, syscall_by_number

DROPIN = "/run/systemd/system/nginx.service.d/zz-harden-bisect.conf"

SIGNS = [
    (
        'nginx: [emerg] open() "/run/nginx.pid" failed (30: Read-only file system)',
        "ProtectSystem=strict",
        "list /run in ReadWritePaths",
    ),
    (
        "nginx: [alert] could not open error log file: open() "
        '"/var/log/nginx/error.log" failed (13: Permission denied)',
        "CapabilityBoundingSet=CAP_DAC_OVERRIDE",
        "/var/log/nginx/error.log",
    ),
    (
        "nginx.service: Control process exited, code=exited, status=208/STDIN",
        "DevicePolicy=strict",
        "DeviceAllow=/dev/null rw",
    ),
    (
        "nginx.service: Failed to set up mount namespacing: "
        "/run/systemd/unit-root/run/nginx: No such file or directory",
        "ReadWritePaths=/run/nginx",
        "prefix it with '-'",
    ),
    (
        "nginx.service: Control process exited, code=exited, status=226/NAMESPACE",
        "ReadWritePaths",
        "mount namespace",
    ),
    (
        '2024/12/04 10:00:01 [emerg] 812#812: chown("/var/lib/nginx/body", 33) '
        "failed (22: Invalid argument)",
        "PrivateUsers=yes",
        "uid 33",
    ),
    (
        "audit: type=1326 audit(1733306401.123:45): auid=4294967295 uid=0 gid=0 "
        'ses=4294967295 subj=unconfined pid=812 comm="nginx" exe="/usr/sbin/nginx" '
        "sig=31 arch=c000003e syscall=116 compat=0 ip=0x7f3c2a1b2c3d code=0x0",
        "SystemCallFilter=~@privileged",
        "setgroups (system call 116)",
    ),
    (
        'type=SECCOMP msg=audit(1733306401.123:45): pid=812 comm="nginx" '
        "sig=31 arch=c000003e syscall=141 compat=0",
        "SystemCallFilter=~@resources",
        "setpriority",
    ),
    (
        "2024/12/04 10:00:02 [alert] 700#700: worker process 812 exited on signal 31",
        "SystemCallFilter",
        "audit line names the call",
    ),
    (
        "nginx.service: Main process exited, code=killed, status=31/SYS",
        "SystemCallFilter",
        "forbids",
    ),
    (
        "2024/12/04 10:00:02 [emerg] 813#813: initgroups(www-data, 33) failed "
        "(1: Operation not permitted)",
        "SystemCallFilter=~@privileged",
        "SystemCallErrorNumber",
    ),
    (
        "2024/12/04 10:00:02 [alert] 700#700: worker process 813 exited with "
        "fatal code 2 and cannot be respawned",
        "SystemCallFilter=~@privileged",
        "without serving",
    ),
    (
        f"{DROPIN}:4: Unknown key name 'ProtectHostnameX' in section 'Service', "
        "ignoring.",
        "ProtectHostnameX",
        "does not know ProtectHostnameX=",
    ),
    (
        f"{DROPIN}:2: Unknown key 'ProtectFooBar' in section [Service], ignoring.",
        "ProtectFooBar",
        "does not know ProtectFooBar=",
    ),
    (
        f"{DROPIN}:7: Failed to parse system call, ignoring: ~@privileged",
        "SystemCallFilter=~@privileged",
        "only counts at the start",
    ),
    (
        'nginx: [warn] the "user" directive makes sense only if the master '
        "process runs with super-user privileges, ignored in /etc/nginx/nginx.conf:1",
        "DynamicUser=yes",
        "cannot switch",
    ),
    (
        "nginx.service: Start request repeated too quickly.",
        "StartLimitBurst",
        "reset-failed",
    ),
]


@pytest.mark.parametrize(("line", "suspect", "words"), SIGNS)
def test_each_sign_names_its_directive(line: str, suspect: str, words: str) -> None:
    """A realistic log line yields one hint naming the likely directive."""
    hints = find_hints([line])
    assert len(hints) == 1
    assert hints[0].suspect == suspect
    assert words in hints[0].explanation
    assert hints[0].evidence == line.strip()


def test_ordinary_lines_give_no_hint() -> None:
    """A healthy start says nothing suspicious."""
    lines = [
        "Starting nginx.service - A high performance web server...",
        "Started nginx.service - A high performance web server.",
        "2024/12/04 10:00:01 [notice] 700#700: signal process started",
        "audit: type=1400 apparmor=STATUS operation=profile_load",
    ]
    assert find_hints(lines) == []


def test_respawn_loop_collapses_to_one_precise_hint() -> None:
    """Thousands of kills give one hint, and the vague one gives way."""
    audit = (
        'audit: type=1326 audit(1.2:3): pid={pid} comm="nginx" sig=31 '
        "arch=c000003e syscall=116 compat=0"
    )
    worker = "[alert] 700#700: worker process {pid} exited on signal 31"
    lines = []
    for pid in range(800, 1800):
        lines += [worker.format(pid=pid), audit.format(pid=pid)]
    hints = find_hints(lines)
    assert [h.suspect for h in hints] == ["SystemCallFilter=~@privileged"]


def test_syscalls_of_another_architecture_are_not_guessed() -> None:
    """aarch64 numbers its calls otherwise: the number is reported as is."""
    line = 'audit: type=1326 pid=1 comm="nginx" sig=31 arch=c00000b7 syscall=116'
    hint = find_hints([line])[0]
    assert hint.suspect == "SystemCallFilter"
    assert "system call 116" in hint.explanation


def test_syscall_table() -> None:
    """Numbers and names agree with x86_64 and systemd's groups."""
    setgroups = syscall_by_number(116)
    assert setgroups is not None and setgroups.name == "setgroups"
    assert setgroups.groups == ("@privileged", "@setuid")
    assert syscall_by_number(116, "c00000b7") is None
    assert syscall_by_number(99999) is None
    memfd = syscall_by_name("memfd_create")
    assert memfd is not None and memfd.groups == ("@ipc",)


def unit_result(verdict: str, workers: float, state: str = "active") -> CheckResult:
    return CheckResult(
        "unit-serving",
        "unit",
        "bad" if verdict == "bad" else "good",
        (f"ActiveState={state} SubState=running MainPID=700", "0 workers"),
        1.0,
        workers,
    )


def http_timeout(check_id: str = "health") -> CheckResult:
    evidence = ("GET http://127.0.0.1:17080/health", "error: timed out after 5.0 s")
    return CheckResult(check_id, "http", "bad", evidence, 5.0)


def test_active_unit_without_workers_points_at_privileged() -> None:
    """Zero workers under an active unit is the seccomp respawn loop's mark."""
    result = ChecklistResult((http_timeout(), unit_result("bad", 0)))
    hints = hints_from_results(result)
    assert [h.suspect for h in hints] == ["SystemCallFilter=~@privileged"]
    assert hints[0].evidence.startswith("ActiveState=active")


def test_failed_unit_is_not_mistaken_for_zero_workers() -> None:
    """A unit that failed to start has no workers for another reason."""
    result = ChecklistResult((unit_result("bad", 0, state="failed"),))
    assert hints_from_results(result) == []


def test_timeouts_while_serving_point_at_ip_deny() -> None:
    """Requests that time out while workers serve suggest IPAddressDeny."""
    result = ChecklistResult((http_timeout(), unit_result("good", 2)))
    hints = hints_from_results(result)
    assert [h.suspect for h in hints] == ["IPAddressDeny=any"]
    assert hints[0].evidence == "health: error: timed out after 5.0 s"


def test_explain_puts_log_signs_first_and_dedupes() -> None:
    """Log hints come first; a result hint naming the same suspect is dropped."""
    result = ChecklistResult((http_timeout(), unit_result("bad", 0)))
    lines = [
        'audit: type=1326 pid=9 comm="nginx" sig=31 arch=c000003e syscall=116',
        'open() "/run/nginx.pid" failed (30: Read-only file system)',
    ]
    hints = explain(result, lines)
    assert [h.sign for h in hints] == ["seccomp-kill", "read-only"]


def test_dedupe_keeps_distinct_paths() -> None:
    """Two missing paths are two hints; a vague duplicate is dropped."""
    hints = [
        Hint("namespace-226", "ReadWritePaths", "/run/nginx", "a", "x"),
        Hint("namespace-226", "ReadWritePaths", "", "b", "x"),
        Hint("namespace-226", "ReadWritePaths", "/var/cache/nginx", "c", "x"),
        Hint("namespace-226", "ReadWritePaths", "/run/nginx", "d", "x"),
    ]
    assert [h.evidence for h in dedupe(hints)] == ["a", "c"]


def test_long_evidence_is_cut() -> None:
    """A hint quotes at most a readable part of a long line."""
    hint = Hint("s", "D", "", "x" * 1000, "why")
    assert len(hint.evidence) == 240 and hint.evidence.endswith("…")
    assert hint.to_dict()["suspect"] == "D"


def entry(seconds: float, message: str) -> JournalEntry:
    return JournalEntry(int(seconds * 1e6), 0, 3, message)


def test_journal_without_a_known_reload_keeps_only_the_start() -> None:
    """With no reload time, nothing before the start is kept."""
    entries = [entry(9, f"{DROPIN}:2: Unknown key 'A' in section [Service]")]
    entries.append(entry(11, "started"))
    assert journal_for_start(entries, 10_000_000, 0) == ["started"]
    assert journal_for_start(entries, 10_000_000, 8_000_000) == [
        entries[0].message,
        "started",
    ]


def test_error_log_of_a_failed_start_drops_old_masters() -> None:
    """No master runs: its predecessor's worker reports are not this start's."""
    lines = [
        "2024/01/01 10:00:00 [alert] 600#600: worker process 650 exited on signal 31",
        '2024/01/01 10:00:00 [emerg] 990#990: open() "/run/nginx.pid" failed (30: x)',
        "not an nginx line",
    ]
    assert error_log_for_start(lines, "2024/01/01 10:00:00", 0) == [lines[1]]
