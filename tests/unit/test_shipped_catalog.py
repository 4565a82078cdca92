"""The shipped catalog covers the design and says what each entry buys and risks."""

from __future__ import annotations

from bisect_tui.core.catalog import GROUPS, PHASES, load_catalog
from bisect_tui.core.directives import lookup

DESIGN_DIRECTIVES = """
MemoryMax MemoryHigh CPUQuota LimitNOFILE LimitNPROC UMask ProtectSystem ProtectHome
PrivateTmp ReadWritePaths SystemCallFilter SystemCallErrorNumber SystemCallArchitectures
CapabilityBoundingSet AmbientCapabilities NoNewPrivileges PrivateDevices DeviceAllow
ProtectKernelTunables ProtectKernelModules ProtectKernelLogs ProtectControlGroups
ProtectClock ProtectHostname RestrictNamespaces RestrictRealtime RestrictSUIDSGID
LockPersonality MemoryDenyWriteExecute ProtectProc ProcSubset DynamicUser
StateDirectory CacheDirectory LogsDirectory RuntimeDirectory BindReadOnlyPaths
SupplementaryGroups PrivateUsers RestrictAddressFamilies IPAddressAllow IPAddressDeny
""".split()

SYSCALL_GROUPS = [
    "@system-service",
    "~@privileged",
    "~@resources",
    "~@debug",
    "~@mount",
    "~@module",
    "~@reboot",
    "~@swap",
    "~@obsolete",
    "~@cpu-emulation",
]


def test_every_design_directive_is_present() -> None:
    """Each directive the design proposes has at least one entry."""
    present = {entry.directive for entry in load_catalog().entries}
    assert sorted(set(DESIGN_DIRECTIVES) - present) == []


def test_syscall_filter_is_one_entry_per_group() -> None:
    """A search can blame a single syscall group, not the whole filter."""
    filters = [e for e in load_catalog().entries if e.directive == "SystemCallFilter"]
    assert all(len(e.value) == 1 for e in filters)
    assert sorted(e.value[0] for e in filters) == sorted(SYSCALL_GROUPS)


def test_every_entry_is_fully_described() -> None:
    """Reason, risk, phase, group and a plausible systemd version on every entry."""
    for entry in load_catalog().entries:
        assert len(entry.reason) > 20 and len(entry.risk) > 20, entry.id
        assert entry.phase in PHASES and entry.group in GROUPS, entry.id
        info = lookup(entry.directive)
        assert info is not None and entry.since >= info.since, entry.id


def test_every_phase_has_entries_and_trade_offs_are_recorded() -> None:
    """The three phases are populated and the accepted trade-offs are kept."""
    catalog = load_catalog()
    assert all(catalog.in_phases([phase]) for phase in PHASES)
    checks = {t.check for t in catalog.trade_offs}
    assert {"PrivateNetwork=", "RootDirectory=/RootImage=", "UMask="} <= checks


def test_protect_system_strict_requires_its_write_paths() -> None:
    """The requirement points from ProtectSystem=strict to ReadWritePaths only."""
    catalog = load_catalog()
    strict = next(e for e in catalog.entries if e.directive == "ProtectSystem")
    needed = [catalog.by_id[i].directive for i in strict.requires]
    assert "ReadWritePaths" in needed
    paths = next(e for e in catalog.entries if e.directive == "ReadWritePaths")
    assert strict.id not in paths.requires
