"""The exposure formula and the per-check graders of systemd 252."""

from __future__ import annotations

from pathlib import Path

import pytest

from bisect_tui.core.scoring import exposure, label_for
from bisect_tui.core.scoring_predict import predict_properties
from bisect_tui.core.scoring_text import parse_show_output

FIXTURES = Path(__file__).parent / "fixtures" / "scoring"


def plain_unit() -> dict[str, str]:
    """Properties of a service without any hardening, as systemctl shows them."""
    text = (FIXTURES / "plain-unit-show.txt").read_text(encoding="utf-8")
    return parse_show_output(text)


def with_props(**changes: str) -> dict[str, str]:
    """The plain unit with some properties replaced."""
    return {**plain_unit(), **changes}


NIXOS_MODULE = [
    ("User", "nginx"),
    ("ProcSubset", "pid"),
    ("ProtectProc", "invisible"),
    ("UMask", "0027"),
    ("AmbientCapabilities", "CAP_NET_BIND_SERVICE CAP_SYS_RESOURCE"),
    ("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE CAP_SYS_RESOURCE"),
    ("NoNewPrivileges", "true"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "true"),
    ("PrivateTmp", "true"),
    ("PrivateDevices", "true"),
    ("ProtectHostname", "true"),
    ("ProtectClock", "true"),
    ("ProtectKernelTunables", "true"),
    ("ProtectKernelModules", "true"),
    ("ProtectKernelLogs", "true"),
    ("ProtectControlGroups", "true"),
    ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ("RestrictNamespaces", "true"),
    ("LockPersonality", "true"),
    ("MemoryDenyWriteExecute", "true"),
    ("RestrictRealtime", "true"),
    ("RestrictSUIDSGID", "true"),
    ("RemoveIPC", "true"),
    ("PrivateMounts", "true"),
    ("SystemCallArchitectures", "native"),
    (
        "SystemCallFilter",
        "~@cpu-emulation @debug @keyring @mount @obsolete @privileged @setuid",
    ),
]
"""What the NixOS nginx module sets, as unit-file assignments."""

DESIGN_FILTER = [
    ("SystemCallFilter", ""),
    ("SystemCallFilter", "@system-service"),
    *[
        ("SystemCallFilter", f"~@{group}")
        for group in (
            "privileged resources debug mount module reboot swap obsolete cpu-emulation"
        ).split()
    ],
]

DESIGN_EXTRAS = [
    *DESIGN_FILTER,
    ("SystemCallErrorNumber", "EPERM"),
    ("CapabilityBoundingSet", ""),
    ("AmbientCapabilities", ""),
    ("DeviceAllow", ""),
    ("DeviceAllow", "/dev/null rw"),
    ("DeviceAllow", "/dev/zero rw"),
    ("DeviceAllow", "/dev/urandom r"),
    ("DynamicUser", "yes"),
    ("PrivateUsers", "yes"),
    ("BindReadOnlyPaths", "/var/hls"),
]
"""The design's additions on top of the module: its full set."""


def shown(result_checks: list[tuple[str, float]]) -> dict[str, float]:
    """Map check names to printed exposures."""
    return dict(result_checks)


def test_labels_follow_systemd_thresholds() -> None:
    """Each label starts at its threshold in tenths."""
    assert [label_for(n) for n in (100, 99, 90, 89, 75, 74, 50, 49, 10, 9, 1, 0)] == [
        "DANGEROUS",
        "UNSAFE",
        "UNSAFE",
        "EXPOSED",
        "EXPOSED",
        "MEDIUM",
        "MEDIUM",
        "OK",
        "OK",
        "SAFE",
        "SAFE",
        "PERFECT",
    ]


def test_unhardened_service_scores_like_stock_debian_nginx() -> None:
    """Nothing set: 9.6 UNSAFE, as the stock Debian unit measures."""
    result = exposure(plain_unit())
    assert result.text() == "9.6 UNSAFE"
    assert result.score == 9.6
    assert result.check("PrivateNetwork=").exposure == 0.5
    assert result.check("User=/DynamicUser=").badness == 10


def test_nixos_module_defaults_score_one_point_six() -> None:
    """The module's settings give 1.6 with the design's list of exposed checks."""
    result = exposure(predict_properties(plain_unit(), NIXOS_MODULE))
    assert result.text() == "1.6 OK"
    assert shown([(c.name, c.exposure) for c in result.exposed()]) == {
        "PrivateNetwork=": 0.5,
        "RestrictAddressFamilies=~AF_(INET|INET6)": 0.3,
        "PrivateUsers=": 0.2,
        "SystemCallFilter=~@resources": 0.2,
        "IPAddressDeny=": 0.2,
        "RootDirectory=/RootImage=": 0.1,
        "CapabilityBoundingSet=~CAP_SYS_(NICE|RESOURCE)": 0.1,
        "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)": 0.1,
        "UMask=": 0.1,
        "RestrictAddressFamilies=~AF_UNIX": 0.1,
        "DeviceAllow=": 0.1,
        "AmbientCapabilities=": 0.1,
    }


def test_design_full_set_scores_one_point_one_with_its_trade_offs() -> None:
    """The design's full set leaves exactly its accepted trade-offs: 1.1."""
    props = predict_properties(plain_unit(), NIXOS_MODULE + DESIGN_EXTRAS)
    result = exposure(props)
    assert result.text() == "1.1 OK"
    assert shown([(c.name, c.exposure) for c in result.exposed()]) == {
        "PrivateNetwork=": 0.5,
        "RestrictAddressFamilies=~AF_(INET|INET6)": 0.3,
        "IPAddressDeny=": 0.2,
        "RootDirectory=/RootImage=": 0.1,
        "UMask=": 0.1,
        "RestrictAddressFamilies=~AF_UNIX": 0.1,
        "DeviceAllow=": 0.1,
    }


def test_harmless_set_with_strict_and_capabilities_scores_two_point_four() -> None:
    """The set measured to serve on stock Debian nginx scores 2.4."""
    flags = (
        "ProtectKernelTunables ProtectKernelModules ProtectKernelLogs "
        "ProtectControlGroups ProtectClock ProtectHostname RestrictNamespaces "
        "RestrictRealtime RestrictSUIDSGID LockPersonality MemoryDenyWriteExecute "
        "NoNewPrivileges PrivateDevices PrivateTmp ProtectHome"
    ).split()
    harmless = [
        ("UMask", "0027"),
        *DESIGN_FILTER[:2],
        *[f for f in DESIGN_FILTER[2:] if f[1] != "~@privileged"],
        ("SystemCallArchitectures", "native"),
        ("AmbientCapabilities", ""),
        *DESIGN_EXTRAS[4:8],
        *[(name, "yes") for name in flags],
        ("ProtectProc", "invisible"),
        ("ProcSubset", "pid"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/log/nginx /var/lib/nginx /run"),
        ("CapabilityBoundingSet", ""),
        (
            "CapabilityBoundingSet",
            "CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_DAC_OVERRIDE CAP_CHOWN",
        ),
    ]
    assert exposure(predict_properties(plain_unit(), harmless)).text() == "2.4 OK"


def test_root_service_skips_supplementary_groups_and_remove_ipc() -> None:
    """For root, both checks leave the sums; for a static user they count."""
    as_root = exposure(plain_unit())
    assert not as_root.check("SupplementaryGroups=").applicable
    assert not as_root.check("RemoveIPC=").applicable
    as_user = exposure(with_props(User="www-data", SupplementaryGroups="adm"))
    assert as_user.check("SupplementaryGroups=").badness == 1
    assert as_user.check("RemoveIPC=").badness == 1
    assert as_user.check("User=/DynamicUser=").badness == 0


def test_early_boot_service_skips_file_system_checks() -> None:
    """DefaultDependencies=no takes four checks out of the score."""
    result = exposure(with_props(DefaultDependencies="no"))
    skipped = [c.name for c in result.checks if not c.applicable]
    assert skipped == [
        "SupplementaryGroups=",
        "PrivateTmp=",
        "ProtectHome=",
        "ProtectSystem=",
        "RootDirectory=/RootImage=",
        "RemoveIPC=",
    ]


@pytest.mark.parametrize(
    ("key", "value", "check", "badness"),
    [
        ("User", "nobody", "User=/DynamicUser=", 9),
        ("User", "root", "User=/DynamicUser=", 10),
        ("ProtectSystem", "full", "ProtectSystem=", 3),
        ("ProtectSystem", "yes", "ProtectSystem=", 5),
        ("ProtectSystem", "strict", "ProtectSystem=", 0),
        ("ProtectHome", "read-only", "ProtectHome=", 5),
        ("ProtectHome", "tmpfs", "ProtectHome=", 1),
        ("ProtectHome", "yes", "ProtectHome=", 0),
        ("UMask", "0002", "UMask=", 5),
        ("UMask", "0007", "UMask=", 2),
        ("UMask", "0027", "UMask=", 1),
        ("UMask", "0077", "UMask=", 0),
        ("UMask", "0000", "UMask=", 10),
        ("ProtectProc", "noaccess", "ProtectProc=", 1),
        ("ProtectProc", "ptraceable", "ProtectProc=", 0),
        ("SystemCallArchitectures", "native", "SystemCallArchitectures=", 0),
        ("SystemCallArchitectures", "native x86", "SystemCallArchitectures=", 8),
        ("KeyringMode", "shared", "KeyringMode=", 1),
        ("NotifyAccess", "all", "NotifyAccess=", 1),
        ("Delegate", "yes", "Delegate=", 1),
        ("RootDirectory", "/srv/jail", "RootDirectory=/RootImage=", 0),
        ("RootDirectory", "/", "RootDirectory=/RootImage=", 1),
        ("AmbientCapabilities", "cap_chown", "AmbientCapabilities=", 1),
    ],
)
def test_graded_values(key: str, value: str, check: str, badness: int) -> None:
    """Each value grades as systemd 252's analyzer grades it."""
    assert exposure(with_props(**{key: value})).check(check).badness == badness


@pytest.mark.parametrize(
    ("deny", "allow", "badness"),
    [
        ("", "", 10),
        ("0.0.0.0/0", "", 10),
        ("0.0.0.0/0 ::/0", "", 0),
        ("0.0.0.0/0 ::/0", "127.0.0.0/8 ::1/128", 2),
        ("0.0.0.0/0 ::/0", "127.0.0.1/32", 5),
        ("0.0.0.0/0 ::/0", "10.177.0.0/24 127.0.0.0/8", 5),
    ],
)
def test_ip_address_deny_grades(deny: str, allow: str, badness: int) -> None:
    """Localhost counts only with the exact /8 or /128 prefix."""
    props = with_props(IPAddressDeny=deny, IPAddressAllow=allow)
    assert exposure(props).check("IPAddressDeny=").badness == badness


@pytest.mark.parametrize(
    ("policy", "devices", "badness"),
    [
        ("auto", "", 10),
        ("auto", "/dev/null rw", 10),
        ("closed", "", 0),
        ("strict", "x r", 5),
    ],
)
def test_device_allow_grades(policy: str, devices: str, badness: int) -> None:
    """A closed policy without entries is best; entries cost half the range."""
    props = with_props(DevicePolicy=policy, DeviceAllow=devices)
    assert exposure(props).check("DeviceAllow=").badness == badness


def test_private_mounts_follow_from_file_system_protection() -> None:
    """The analyzer counts ProtectSystem= and friends as private mounts."""
    assert (
        exposure(with_props(ProtectSystem="full")).check("PrivateMounts=").badness == 0
    )
    assert exposure(plain_unit()).check("PrivateMounts=").badness == 1


def test_protect_clock_drops_time_capabilities() -> None:
    """ProtectClock= clears CAP_SYS_TIME and CAP_WAKE_ALARM from the bounding set."""
    result = exposure(with_props(ProtectClock="yes"))
    assert result.check("CapabilityBoundingSet=~CAP_SYS_TIME").badness == 0
    assert result.check("CapabilityBoundingSet=~CAP_WAKE_ALARM").badness == 0
    assert result.check("CapabilityBoundingSet=~CAP_SYS_ADMIN").badness == 1


def test_address_family_lists() -> None:
    """A deny-list marks only what it names; an allow-list marks the rest."""
    deny = exposure(with_props(RestrictAddressFamilies="~AF_PACKET"))
    assert deny.check("RestrictAddressFamilies=~AF_PACKET").badness == 0
    assert deny.check("RestrictAddressFamilies=~…").badness == 1
    allow = exposure(with_props(RestrictAddressFamilies="AF_INET"))
    assert allow.check("RestrictAddressFamilies=~AF_(INET|INET6)").badness == 1
    assert allow.check("RestrictAddressFamilies=~AF_UNIX").badness == 0
    none = exposure(with_props(RestrictAddressFamilies=""))
    assert none.check("RestrictAddressFamilies=~AF_(INET|INET6)").badness == 0


def test_syscall_allow_list_grades_nine_when_a_group_gets_through() -> None:
    """An allow-list that admits a call of a group costs 9, not 10."""
    result = exposure(with_props(SystemCallFilter="read write swapon"))
    assert result.check("SystemCallFilter=~@swap").badness == 9
    assert result.check("SystemCallFilter=~@reboot").badness == 0


def test_syscall_deny_list_must_cover_every_native_call() -> None:
    """One missing native call leaves the group exposed; absent arch calls do not."""
    covered = exposure(with_props(SystemCallFilter="~swapon swapoff"))
    assert covered.check("SystemCallFilter=~@swap").badness == 0
    partial = exposure(with_props(SystemCallFilter="~swapon"))
    assert partial.check("SystemCallFilter=~@swap").badness == 10
    # settimeofday, clock_settime and friends, without the 32-bit-only ones:
    clock = "~adjtimex clock_adjtime clock_settime settimeofday"
    assert (
        exposure(with_props(SystemCallFilter=clock))
        .check("SystemCallFilter=~@clock")
        .badness
        == 0
    )


def test_per_call_errors_do_not_hide_a_call() -> None:
    """``name:EPERM`` entries count as the call itself."""
    result = exposure(with_props(SystemCallFilter="~swapoff:EPERM swapon"))
    assert result.check("SystemCallFilter=~@swap").badness == 0


def test_shown_exposure_rounds_up_per_check() -> None:
    """Each printed exposure is ceil(ceil(b*w*100/range)/total weight) tenths."""
    result = exposure(with_props(UMask="0027"))
    umask = result.check("UMask=")
    total = sum(c.weight for c in result.checks if c.applicable)
    assert umask.shown == -(-(1 * 100 * 100 // 10) // total)
    assert umask.contribution == 10
