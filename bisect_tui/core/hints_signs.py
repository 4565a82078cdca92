"""The log lines that give a hardening directive away, one recogniser per sign.

Each recogniser looks at one line of the unit's journal, the kernel's audit
messages or nginx's error log and, when it knows the sign, returns a
:class:`~bisect_tui.core.hints.Hint` naming the directive most likely behind it.
The signs are the ones a real Debian nginx showed under single directives; the
wording of systemd's and nginx's messages is matched loosely enough to survive
small differences between versions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from bisect_tui.core.hints_model import Hint
from bisect_tui.core.hints_syscalls import syscall_by_name, syscall_by_number

Recogniser = Callable[[str], Hint | None]

_QUOTED_PATH = r'"(?P<path>/[^"]*)"'
_READ_ONLY = re.compile(_QUOTED_PATH + r".*\(30: Read-only file system\)")
_DENIED = re.compile(_QUOTED_PATH + r".*\(13: Permission denied\)")
_CHOWN = re.compile(r'chown\("(?P<path>[^"]*)", (?P<uid>\d+)\).*Invalid argument')
_NAMESPACE_PATH = re.compile(
    r"Failed to set up mount namespacing: (?P<path>/\S*?): No such file or directory"
)
_UNIT_ROOT = "/run/systemd/unit-root"
_AUDIT = re.compile(r"(type=1326|SECCOMP).*\bsyscall=(?P<number>\d+)")
_AUDIT_ARCH = re.compile(r"\barch=(?P<arch>[0-9a-fA-F]+)")
_AUDIT_COMM = re.compile(r'\bcomm="(?P<comm>[^"]*)"')
_SIGSYS = re.compile(r"exited on signal 31\b|status=31/SYS|status=159\b")
_EPERM_CALL = re.compile(
    r"(?P<call>initgroups|setgroups|setgid|setuid)\(.*\(1: Operation not permitted\)"
)
# systemd 252 says "Unknown key 'X' in section [Service]"; older versions
# "Unknown key name 'X' in section 'Service'" or "Unknown lvalue 'X' …".
_UNKNOWN_KEY = re.compile(
    r"Unknown (?:key name|key|lvalue) '(?P<key>[^']+)' in section \[?'?(?P<section>\w+)"
)
_BAD_SYSCALL = re.compile(r"Failed to parse system call, ignoring: (?P<item>\S+)")


def read_only(line: str) -> Hint | None:
    """``open() "/run/nginx.pid" failed (30: Read-only file system)``."""
    found = _READ_ONLY.search(line)
    if not found:
        return None
    place = _writable_place(found.group("path"))
    return Hint(
        "read-only",
        "ProtectSystem",
        "strict",
        line,
        f"{found.group('path')} is read-only under ProtectSystem=; list {place} "
        "in ReadWritePaths= (Debian's nginx needs /run and /var/log/nginx).",
    )


def _writable_place(path: str) -> str:
    # A file cannot be a mount point for ReadWritePaths= if it does not exist
    # yet (a pid file), so name the directory holding it.
    pure = PurePosixPath(path)
    return str(pure.parent) if pure.suffix else str(pure)


def permission_denied(line: str) -> Hint | None:
    """``open() "/var/log/nginx/error.log" failed (13: Permission denied)``."""
    found = _DENIED.search(line)
    if not found:
        return None
    path = found.group("path")
    if "/log" in path or path.endswith(".log"):
        return Hint(
            "permission-denied-log",
            "CapabilityBoundingSet",
            "CAP_DAC_OVERRIDE",
            line,
            f"root cannot open {path} (owned by another user) without "
            "CAP_DAC_OVERRIDE; keep it in CapabilityBoundingSet=.",
        )
    return Hint(
        "permission-denied",
        "CapabilityBoundingSet",
        "CAP_DAC_OVERRIDE",
        line,
        f"{path} cannot be opened: a capability set without CAP_DAC_OVERRIDE, "
        "InaccessiblePaths= or ProtectHome= can hide it.",
    )


def private_users_chown(line: str) -> Hint | None:
    """``chown("/var/lib/nginx/body", 33) failed (22: Invalid argument)``."""
    found = _CHOWN.search(line)
    if not found:
        return None
    return Hint(
        "chown-invalid",
        "PrivateUsers",
        "yes",
        line,
        f"uid {found.group('uid')} does not exist in the private user namespace, "
        f"so {found.group('path')} cannot be given to it.",
    )


def no_stdin(line: str) -> Hint | None:
    """``status=208/STDIN``: /dev/null was not available to the service."""
    if "status=208/STDIN" not in line and "step STDIN" not in line:
        return None
    return Hint(
        "stdin-208",
        "DevicePolicy",
        "strict",
        line,
        "systemd could not open /dev/null for the service's input: a device "
        "policy (DevicePolicy=, PrivateDevices=) without DeviceAllow=/dev/null rw.",
    )


def missing_path(line: str) -> Hint | None:
    """``Failed to set up mount namespacing: /run/nginx: No such file …``."""
    found = _NAMESPACE_PATH.search(line)
    if found:
        path = found.group("path").removeprefix(_UNIT_ROOT) or "/"
        return Hint(
            "namespace-226",
            "ReadWritePaths",
            path,
            line,
            f"{path} does not exist on this host; drop it from the path "
            "directives or prefix it with '-' to make it optional.",
        )
    if "status=226/NAMESPACE" not in line:
        return None
    return Hint(
        "namespace-226",
        "ReadWritePaths",
        "",
        line,
        "systemd could not build the service's mount namespace: a path in "
        "ReadWritePaths=, ReadOnlyPaths= or BindPaths= is likely missing.",
    )


def seccomp_audit(line: str) -> Hint | None:
    """A kernel audit line for a seccomp kill: ``… syscall=116 …``."""
    found = _AUDIT.search(line)
    if not found:
        return None
    number = int(found.group("number"))
    arch = _AUDIT_ARCH.search(line)
    call = syscall_by_number(number, arch.group("arch") if arch else "c000003e")
    comm = _AUDIT_COMM.search(line)
    who = comm.group("comm") if comm else "a process"
    if call is None:
        return Hint(
            "seccomp-kill",
            "SystemCallFilter",
            "",
            line,
            f"seccomp killed {who} at system call {number}, which "
            "SystemCallFilter= does not allow.",
        )
    group = call.groups[0]
    return Hint(
        "seccomp-kill",
        "SystemCallFilter",
        f"~{group}",
        line,
        f"seccomp killed {who} at {call.name} (system call {number}), which is "
        f"in {' and '.join(call.groups)}: SystemCallFilter=~{group} denies it.",
    )


def sigsys(line: str) -> Hint | None:
    """A process killed by SIGSYS: ``exited on signal 31``, ``status=31/SYS``."""
    if not _SIGSYS.search(line):
        return None
    return Hint(
        "seccomp-kill",
        "SystemCallFilter",
        "",
        line,
        "a process was killed for a system call SystemCallFilter= forbids; the "
        "kernel's audit line names the call.",
    )


def denied_call(line: str) -> Hint | None:
    """``initgroups(www-data, 33) failed (1: Operation not permitted)``."""
    found = _EPERM_CALL.search(line)
    if not found:
        return None
    name = found.group("call")
    call = syscall_by_name("setgroups" if name == "initgroups" else name)
    group = call.groups[0] if call else "@privileged"
    return Hint(
        "seccomp-eperm",
        "SystemCallFilter",
        f"~{group}",
        line,
        f"{name}() was refused: with SystemCallErrorNumber= set, the denied "
        f"{group} group makes the call fail instead of killing the worker.",
    )


def cannot_respawn(line: str) -> Hint | None:
    """``worker process 813 exited with fatal code 2 and cannot be respawned``."""
    if "cannot be respawned" not in line:
        return None
    return Hint(
        "no-respawn",
        "SystemCallFilter",
        "~@privileged",
        line,
        "workers die while dropping privileges, so the unit stays active without "
        "serving; a denied ~@privileged (setgroups) is the usual cause.",
    )


def unknown_key(line: str) -> Hint | None:
    """``Unknown key 'ProtectFoo' in section [Service], ignoring.``."""
    found = _UNKNOWN_KEY.search(line)
    if not found:
        return None
    key = found.group("key")
    return Hint(
        "unknown-key",
        key,
        "",
        line,
        f"this systemd does not know {key}= and ignores it: the trial did not "
        "test it (too old a systemd, or a misspelling).",
    )


def bad_syscall_item(line: str) -> Hint | None:
    """``Failed to parse system call, ignoring: ~@privileged``."""
    found = _BAD_SYSCALL.search(line)
    if not found:
        return None
    item = found.group("item")
    return Hint(
        "syscall-parse",
        "SystemCallFilter",
        item,
        line,
        f"{item} was dropped: a '~' only counts at the start of an assignment, "
        "so each denied group needs its own SystemCallFilter=~… line.",
    )


def user_ignored(line: str) -> Hint | None:
    """``the "user" directive makes sense only if the master … runs as root``."""
    if '"user" directive makes sense only' not in line:
        return None
    return Hint(
        "user-ignored",
        "DynamicUser",
        "yes",
        line,
        "the master no longer runs as root (DynamicUser= or User=), so nginx "
        "cannot switch its workers' user and may not write its pid file.",
    )


def start_limit(line: str) -> Hint | None:
    """``Start request repeated too quickly.``."""
    if "repeated too quickly" not in line:
        return None
    return Hint(
        "start-limit",
        "StartLimitBurst",
        "",
        line,
        "the unit hit its start limit; run systemctl reset-failed before the "
        "next restart (this is not caused by a hardening directive).",
    )


RECOGNISERS: tuple[Recogniser, ...] = (
    read_only,
    permission_denied,
    private_users_chown,
    no_stdin,
    missing_path,
    seccomp_audit,
    sigsys,
    denied_call,
    cannot_respawn,
    unknown_key,
    bad_syscall_item,
    user_ignored,
    start_limit,
)
"""Every recogniser, most specific first."""
