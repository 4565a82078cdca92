"""Read-back: systemd's printing of each directive compared with the intent.

The printed values below were taken from ``systemctl show`` on systemd 252.
"""

from __future__ import annotations

import pytest

from bisect_tui.core.composition import ComposedDirective, compose_dropin
from bisect_tui.core.composition_unit import UnitAssignments
from bisect_tui.host.readback import (
    Readback,
    SyscallTable,
    compare_directive,
    read_back,
)
from bisect_tui.host.readback_rules import parse_syscall_groups, property_name
from bisect_tui.host.runner import Reply, ScriptedRunner

GROUPS_TEXT = """\
@default
    # System calls that are always permitted
    brk
    exit

@privileged
    # All system calls which need super-user capabilities
    @chown
    setgroups
    setuid

@chown
    # Change ownership of files and directories
    chown
    fchown

@resources
    setrlimit
    setpriority

@system-service
    @default
    @privileged
    @resources
    read
    write
    riscv_hwprobe

# Ungrouped System Calls (known but not included in any of the groups):
#   syslog
"""
GROUPS = parse_syscall_groups(GROUPS_TEXT)


def item(directive: str, *lines: str, unit: tuple[str, ...] = ()) -> ComposedDirective:
    return ComposedDirective(directive, "new", unit, lines, lines)


def verdict(directive: str, printed: str | None, *lines: str) -> str:
    return compare_directive(item(directive, *lines), printed, GROUPS).verdict


def test_group_parsing_expands_nested_groups() -> None:
    """Nested groups are expanded; comments and trailers are not members."""
    assert GROUPS["@privileged"] == {"chown", "fchown", "setgroups", "setuid"}
    assert "setrlimit" in GROUPS["@system-service"]
    assert "syslog" not in set().union(*GROUPS.values())


@pytest.mark.parametrize(
    ("directive", "printed", "lines"),
    [
        ("MemoryMax", "2147483648", ("2G",)),
        ("MemoryHigh", "1610612736", ("1536M",)),
        ("CPUQuota", "3s", ("300%",)),
        ("LimitNOFILE", "65536", ("65536",)),
        ("UMask", "0027", ("0027",)),
        ("ProtectSystem", "strict", ("strict",)),
        ("ProtectHome", "yes", ("true",)),
        ("NoNewPrivileges", "yes", ("yes",)),
        ("SystemCallErrorNumber", "1", ("EPERM",)),
        ("TimeoutStartSec", "1min 30s", ("90",)),
        ("RestartSec", "10s", ("10s",)),
        ("ReadWritePaths", "-/var/log/nginx -/run", ("", "-/var/log/nginx", "-/run")),
        (
            "IPAddressAllow",
            "10.0.0.0/24 0.0.0.0/0 127.0.0.0/8",
            ("127.0.0.0/8 10.0.0.0/24 0.0.0.0/0",),
        ),
        ("IPAddressDeny", "0.0.0.0/0 ::/0", ("any",)),
        (
            "DeviceAllow",
            "/dev/urandom r\n/dev/null rw",
            ("/dev/null  rw", "/dev/urandom r"),
        ),
        (
            "DeviceAllow",
            "char-rtc r\n/dev/urandom r\n/dev/null rw",
            ("/dev/null rw", "/dev/urandom r"),
        ),
        ("BindReadOnlyPaths", "/var/hls:/var/hls:rbind", ("/var/hls",)),
        (
            "CapabilityBoundingSet",
            "cap_setuid cap_net_bind_service",
            ("", "CAP_NET_BIND_SERVICE CAP_SETUID"),
        ),
        ("CapabilityBoundingSet", "", ("",)),
        ("AmbientCapabilities", "", ("",)),
        (
            "RestrictAddressFamilies",
            "AF_INET AF_INET6 AF_UNIX",
            ("AF_INET AF_INET6 AF_UNIX",),
        ),
        ("RestrictAddressFamilies", "", ("none",)),
        ("SystemCallArchitectures", "native", ("", "native")),
    ],
)
def test_printed_forms_read_back_as_applied(
    directive: str, printed: str, lines: tuple[str, ...]
) -> None:
    """Each of systemd's printing conventions is normalised."""
    assert verdict(directive, printed, *lines) == "applied"


@pytest.mark.parametrize(
    ("directive", "printed", "lines"),
    [
        ("ProtectControlGroups", "yes", ("private",)),
        ("MemoryMax", "infinity", ("2G",)),
        ("UMask", "0022", ("0027",)),
        ("DeviceAllow", "char-rtc r\n/dev/zero rw", ("/dev/null rw",)),
        ("DeviceAllow", "/dev/null rw", ("/dev/null rw", "char-rtc r")),
        ("CapabilityBoundingSet", "cap_chown", ("",)),
        ("IPAddressDeny", "", ("any",)),
        ("RestrictAddressFamilies", "~", ("AF_INET",)),
    ],
)
def test_differences_are_caught(
    directive: str, printed: str, lines: tuple[str, ...]
) -> None:
    """A value systemd read differently is reported as differing."""
    assert verdict(directive, printed, *lines) == "differs"


def test_missing_property_means_ignored() -> None:
    """A directive systemd does not know prints nothing: it was ignored."""
    assert verdict("PrivatePIDs", None, "yes") == "ignored"


def test_inverted_capability_set_rule() -> None:
    """ "All but" passes when none of the excluded names shows."""
    assert verdict("CapabilityBoundingSet", "cap_chown cap_kill", "~CAP_SYS_ADMIN") == (
        "applied"
    )
    assert verdict("CapabilityBoundingSet", "cap_sys_admin", "~CAP_SYS_ADMIN") == (
        "differs"
    )


def test_syscall_allow_list_with_denials() -> None:
    """An allow-list minus a group matches systemd's expanded printing."""
    printed = "brk exit read riscv_hwprobe setpriority setrlimit write"
    lines = ("@system-service", "~@privileged")
    assert verdict("SystemCallFilter", printed, *lines) == "applied"


def test_syscall_names_unknown_to_the_host_may_be_missing() -> None:
    """Names libseccomp does not know are not printed; that is no difference."""
    printed = "brk exit read setpriority setrlimit write"
    assert verdict("SystemCallFilter", printed, "@system-service", "~@privileged") == (
        "applied"
    )


def test_syscall_deny_item_dropped_mid_line_is_caught() -> None:
    """'@system-service ~@privileged' on one line: the ~ item is not applied."""
    printed = "brk chown exit fchown read setgroups setpriority setrlimit setuid write"
    assert verdict("SystemCallFilter", printed, "@system-service ~@privileged") == (
        "differs"
    )


def test_syscall_deny_line_ignored_is_caught() -> None:
    """A deny-list missing a whole group's names differs."""
    assert verdict("SystemCallFilter", "~setrlimit setpriority", "~@resources") == (
        "applied"
    )
    printed = "~setrlimit setpriority"
    assert verdict("SystemCallFilter", printed, "~@resources", "~@privileged") == (
        "differs"
    )


def test_syscall_unknown_group_is_caught() -> None:
    """A group the host's systemd lacks never shows: differs."""
    assert verdict(
        "SystemCallFilter", "~setrlimit setpriority", "~@resources", "~@sandbox"
    ) == ("differs")


def test_syscall_pseudo_calls_sharing_a_number_are_one() -> None:
    """systemd prints a pseudo-call by whichever name libseccomp maps back.

    ``sys_debug_setcontext`` (in ``@debug``) and ``switch_endian`` share one
    pseudo-number on x86-64; systemd 252 printed the latter for ``~@debug``.
    """
    groups = parse_syscall_groups(
        "@debug\n    ptrace\n    sys_debug_setcontext\n    rtas\n"
    )
    composed = item("SystemCallFilter", "~@debug")
    printed = "~ptrace rtas switch_endian"
    assert compare_directive(composed, printed, groups).verdict == "applied"
    printed = "~ptrace rtas switch_endian setuid"
    assert compare_directive(composed, printed, groups).verdict == "differs"


@pytest.mark.parametrize(
    ("printed", "lines", "expected"),
    [
        ("0.0.0.0/0", ("10.177.0.0/24 127.0.0.0/8 0.0.0.0/0",), "applied"),
        ("10.0.0.0/8 ::1/128", ("10.1.2.3 10.0.0.0/8 ::1",), "applied"),
        ("10.0.0.0/8", ("10.0.0.0/8 ::1",), "differs"),
        ("0.0.0.0/0", ("not-an-address",), "differs"),
    ],
)
def test_address_prefixes_covered_by_others_are_dropped(
    printed: str, lines: tuple[str, ...], expected: str
) -> None:
    """systemd keeps only the prefixes no other prefix of the list covers."""
    assert verdict("IPAddressAllow", printed, *lines) == expected


def test_property_names() -> None:
    """Time directives read as *USec properties; CPUQuota has its own."""
    assert property_name("TimeoutStartSec") == "TimeoutStartUSec"
    assert property_name("CPUQuota") == "CPUQuotaPerSecUSec"
    assert property_name("ProtectSystem") == "ProtectSystem"


def read(printed: str, journal: list[str] | None = None) -> Readback:
    text = "# t\n[Service]\nProtectSystem=strict\nPrivatePIDs=yes\n"
    composition = compose_dropin(text, UnitAssignments({}))
    argv = [
        "systemctl",
        "show",
        "nginx.service",
        "--no-pager",
        "--property=ProtectSystem",
        "--property=PrivatePIDs",
        "--property=DropInPaths",
    ]
    runner = ScriptedRunner({tuple(argv): Reply(0, printed)})
    return read_back(
        runner, "nginx.service", composition, journal or [], SyscallTable(runner)
    )


DROPIN = "/run/systemd/system/nginx.service.d/zz-harden-bisect.conf"


def test_read_back_flags_ignored_directive_and_warning() -> None:
    """A too-new directive and systemd's warning both fail the read-back."""
    warning = f"{DROPIN}:4: Unknown key 'PrivatePIDs' in section [Service], ignoring."
    readback = read(
        f"ProtectSystem=strict\nDropInPaths=/etc/x.conf {DROPIN}\n",
        ["Reloading.", warning, "/etc/other.conf:1: Unknown key 'X'"],
    )
    assert not readback.ok
    assert readback.dropin_loaded
    assert readback.warnings == (warning,)
    problems = readback.problems()
    assert problems[0] == "PrivatePIDs: ignored (systemd has no such setting)"
    assert problems[1].startswith("systemd: ")


def test_read_back_flags_unloaded_dropin() -> None:
    """If DropInPaths lacks the tool's file, nothing of it applied."""
    readback = read("ProtectSystem=strict\nPrivatePIDs=yes\nDropInPaths=\n")
    assert not readback.dropin_loaded
    assert readback.problems() == ["systemd did not load the drop-in"]
    assert readback.to_dict()["ok"] is False
