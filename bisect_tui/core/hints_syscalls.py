"""x86_64 system call numbers a seccomp audit line names, and their filter groups.

A seccomp kill is logged by the kernel as ``... arch=c000003e syscall=116 ...``:
a number, not a name. This table covers the calls a web server plausibly makes
that systemd's deny groups catch, so a hint can say "setgroups, in @privileged"
instead of "syscall 116". Group membership follows systemd's own group tables
(``systemd-analyze syscall-filter``); a call in several groups lists the broadest
one a hardening guide denies first.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIT_ARCH_X86_64 = "c000003e"
"""How an audit line spells the x86_64 architecture."""


@dataclass(frozen=True)
class Syscall:
    """A system call and the systemd groups that contain it.

    Attributes:
        name: The call's name, e.g. ``setgroups``.
        groups: The deny groups holding it, broadest first, e.g.
            ``("@privileged", "@setuid")``.
    """

    name: str
    groups: tuple[str, ...]


_PRIVILEGED_SETUID = ("@privileged", "@setuid")
_PRIVILEGED_CHOWN = ("@privileged", "@chown")
_PRIVILEGED_CLOCK = ("@privileged", "@clock")
_PRIVILEGED_MODULE = ("@privileged", "@module")
_PRIVILEGED_RAW_IO = ("@privileged", "@raw-io")
_PRIVILEGED_REBOOT = ("@privileged", "@reboot")
_PRIVILEGED_SWAP = ("@privileged", "@swap")

_X86_64: dict[int, Syscall] = {
    29: Syscall("shmget", ("@ipc",)),
    30: Syscall("shmat", ("@ipc",)),
    31: Syscall("shmctl", ("@ipc",)),
    64: Syscall("semget", ("@ipc",)),
    68: Syscall("msgget", ("@ipc",)),
    92: Syscall("chown", _PRIVILEGED_CHOWN),
    93: Syscall("fchown", _PRIVILEGED_CHOWN),
    94: Syscall("lchown", _PRIVILEGED_CHOWN),
    101: Syscall("ptrace", ("@debug",)),
    105: Syscall("setuid", _PRIVILEGED_SETUID),
    106: Syscall("setgid", ("@setuid",)),
    113: Syscall("setreuid", _PRIVILEGED_SETUID),
    114: Syscall("setregid", ("@setuid",)),
    116: Syscall("setgroups", _PRIVILEGED_SETUID),
    117: Syscall("setresuid", _PRIVILEGED_SETUID),
    119: Syscall("setresgid", ("@setuid",)),
    122: Syscall("setfsuid", _PRIVILEGED_SETUID),
    123: Syscall("setfsgid", ("@setuid",)),
    126: Syscall("capset", ("@privileged",)),
    134: Syscall("uselib", ("@obsolete",)),
    141: Syscall("setpriority", ("@resources",)),
    142: Syscall("sched_setparam", ("@resources",)),
    144: Syscall("sched_setscheduler", ("@resources",)),
    153: Syscall("vhangup", ("@privileged",)),
    154: Syscall("modify_ldt", ("@cpu-emulation",)),
    155: Syscall("pivot_root", ("@privileged", "@mount")),
    159: Syscall("adjtimex", _PRIVILEGED_CLOCK),
    160: Syscall("setrlimit", ("@resources",)),
    161: Syscall("chroot", ("@privileged",)),
    163: Syscall("acct", ("@privileged",)),
    164: Syscall("settimeofday", _PRIVILEGED_CLOCK),
    165: Syscall("mount", ("@mount",)),
    166: Syscall("umount2", ("@mount",)),
    167: Syscall("swapon", _PRIVILEGED_SWAP),
    168: Syscall("swapoff", _PRIVILEGED_SWAP),
    169: Syscall("reboot", _PRIVILEGED_REBOOT),
    170: Syscall("sethostname", ("@privileged",)),
    171: Syscall("setdomainname", ("@privileged",)),
    172: Syscall("iopl", _PRIVILEGED_RAW_IO),
    173: Syscall("ioperm", _PRIVILEGED_RAW_IO),
    175: Syscall("init_module", _PRIVILEGED_MODULE),
    176: Syscall("delete_module", _PRIVILEGED_MODULE),
    203: Syscall("sched_setaffinity", ("@resources",)),
    227: Syscall("clock_settime", _PRIVILEGED_CLOCK),
    237: Syscall("mbind", ("@resources",)),
    238: Syscall("set_mempolicy", ("@resources",)),
    246: Syscall("kexec_load", _PRIVILEGED_REBOOT),
    248: Syscall("add_key", ("@keyring",)),
    249: Syscall("request_key", ("@keyring",)),
    250: Syscall("keyctl", ("@keyring",)),
    251: Syscall("ioprio_set", ("@resources",)),
    256: Syscall("migrate_pages", ("@resources",)),
    260: Syscall("fchownat", _PRIVILEGED_CHOWN),
    279: Syscall("move_pages", ("@resources",)),
    298: Syscall("perf_event_open", ("@debug",)),
    304: Syscall("open_by_handle_at", ("@privileged",)),
    305: Syscall("clock_adjtime", _PRIVILEGED_CLOCK),
    310: Syscall("process_vm_readv", ("@debug",)),
    311: Syscall("process_vm_writev", ("@debug",)),
    313: Syscall("finit_module", _PRIVILEGED_MODULE),
    314: Syscall("sched_setattr", ("@resources",)),
    319: Syscall("memfd_create", ("@ipc",)),
    320: Syscall("kexec_file_load", _PRIVILEGED_REBOOT),
    321: Syscall("bpf", ("@privileged",)),
}

_BY_NAME: dict[str, Syscall] = {call.name: call for call in _X86_64.values()}


def syscall_by_number(number: int, arch: str = AUDIT_ARCH_X86_64) -> Syscall | None:
    """Return the x86_64 system call ``number``, if the table knows it.

    Args:
        number: The ``syscall=`` field of an audit line.
        arch: The ``arch=`` field; other architectures number calls otherwise.

    Returns:
        The call, or ``None`` for another architecture or an unlisted number.
    """
    if arch.lower() != AUDIT_ARCH_X86_64:
        return None
    return _X86_64.get(number)


def syscall_by_name(name: str) -> Syscall | None:
    """Return the system call called ``name``, if the table knows it."""
    return _BY_NAME.get(name)
