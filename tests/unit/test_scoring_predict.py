"""Predicting effective properties from a drop-in's assignments."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bisect_tui.core.catalog import Entry
from bisect_tui.core.scoring import exposure
from bisect_tui.core.scoring_predict import (
    as_assignments,
    predict_exposure,
    predict_properties,
)
from bisect_tui.core.scoring_tables import default_tables
from bisect_tui.core.scoring_text import parse_show_output

FIXTURES = Path(__file__).parent / "fixtures" / "scoring"


def plain_unit() -> dict[str, str]:
    """Properties of a service without any hardening, as systemctl shows them."""
    text = (FIXTURES / "plain-unit-show.txt").read_text(encoding="utf-8")
    return parse_show_output(text)


def predict(
    *lines: tuple[str, str], base: dict[str, str] | None = None
) -> dict[str, str]:
    """Predict the plain unit's properties after the given lines."""
    return predict_properties(base or plain_unit(), list(lines))


def deny_list(value: str) -> set[str]:
    """The names of a printed deny-list."""
    assert value.startswith("~")
    return {word.partition(":")[0] for word in value[1:].split()}


def test_no_assignments_round_trips_the_properties() -> None:
    """With nothing applied, the prediction is what systemctl showed."""
    base = predict(("ProtectClock", "yes"), ("PrivateDevices", "yes"))
    assert predict_properties(base, []) == base


def test_later_scalar_assignment_wins() -> None:
    """The last assignment of a scalar counts; invalid values are ignored."""
    props = predict(("ProtectSystem", "full"), ("ProtectSystem", "strict"))
    assert props["ProtectSystem"] == "strict"
    props = predict(("ProtectSystem", "full"), ("ProtectSystem", "bogus"))
    assert props["ProtectSystem"] == "full"
    assert predict(("ProtectHome", "true"))["ProtectHome"] == "yes"
    assert predict(("NoNewPrivileges", "maybe"))["NoNewPrivileges"] == "no"


def test_deny_line_expands_groups_and_keeps_pseudo_calls() -> None:
    """A group expands to its calls; calls the arch lacks stay listed."""
    props = predict(("SystemCallFilter", "~@swap @obsolete"))
    names = deny_list(props["SystemCallFilter"])
    assert {"swapon", "swapoff", "break", "_sysctl"} <= names
    tables = default_tables()
    assert all(tables.is_known(name) for name in names)


def test_tilde_counts_only_at_the_start_of_a_line() -> None:
    """``@system-service ~@privileged`` on one line denies nothing extra."""
    one_line = predict(("SystemCallFilter", "@system-service ~@privileged"))
    alone = predict(("SystemCallFilter", "@system-service"))
    assert one_line["SystemCallFilter"] == alone["SystemCallFilter"]
    assert not one_line["SystemCallFilter"].startswith("~")


def test_deny_line_after_allow_list_removes_calls() -> None:
    """On an allow-list, a ``~`` line takes calls out of it."""
    props = predict(
        ("SystemCallFilter", "@system-service"), ("SystemCallFilter", "~@privileged")
    )
    allowed = set(props["SystemCallFilter"].split())
    assert "setgroups" not in allowed
    assert "read" in allowed
    assert exposure(props).check("SystemCallFilter=~@privileged").badness == 0


def test_allow_line_after_deny_list_loosens_it() -> None:
    """On a deny-list, a plain line takes calls out of it: it loosens."""
    base = predict(("SystemCallFilter", "~@privileged"))
    assert exposure(base).check("SystemCallFilter=~@privileged").badness == 0
    props = predict_properties(base, [("SystemCallFilter", "@chown")])
    assert "chown" not in deny_list(props["SystemCallFilter"])
    assert exposure(props).check("SystemCallFilter=~@privileged").badness == 10


def test_reset_then_new_mode() -> None:
    """An empty assignment forgets the list and lets the next line pick the mode."""
    base = predict(("SystemCallFilter", "~@privileged"))
    props = predict_properties(
        base, [("SystemCallFilter", ""), ("SystemCallFilter", "@system-service")]
    )
    assert not props["SystemCallFilter"].startswith("~")
    props = predict_properties(base, [("SystemCallFilter", "")])
    assert "SystemCallFilter" not in props


def test_per_call_error_is_printed_with_the_call() -> None:
    """``~name:EPERM`` shows as ``name:EPERM``; allowed calls cannot take one."""
    props = predict(("SystemCallFilter", "~swapon:EPERM"))
    assert props["SystemCallFilter"] == "~swapon:EPERM"
    props = predict(("SystemCallFilter", "read:EPERM"))
    allowed = props["SystemCallFilter"].split()
    assert "read" not in allowed
    assert "brk" in allowed


def test_unknown_names_are_dropped() -> None:
    """Calls and groups the host does not know are ignored, as systemd does."""
    props = predict(("SystemCallFilter", "~no_such_call @no-such-group swapon"))
    assert props["SystemCallFilter"] == "~swapon"


def test_capability_lines_replace_then_merge() -> None:
    """A first plain line replaces the full set; later lines OR and AND."""
    props = predict(
        ("CapabilityBoundingSet", "CAP_CHOWN"),
        ("CapabilityBoundingSet", "CAP_KILL cap_setuid"),
        ("CapabilityBoundingSet", "~CAP_SETUID"),
    )
    assert props["CapabilityBoundingSet"] == "cap_chown cap_kill"


def test_empty_capability_set_means_none() -> None:
    """``CapabilityBoundingSet=`` leaves no capabilities; ``~`` on full removes."""
    props = predict(("CapabilityBoundingSet", ""))
    assert "CapabilityBoundingSet" not in props
    result = exposure(props)
    assert result.check("CapabilityBoundingSet=~CAP_SYS_ADMIN").badness == 0
    props = predict(("CapabilityBoundingSet", "~CAP_SYS_ADMIN"))
    caps = props["CapabilityBoundingSet"].split()
    assert "cap_sys_admin" not in caps
    assert "cap_chown" in caps


def test_capabilities_masked_by_protection_stay_masked() -> None:
    """ProtectKernelModules= drops CAP_SYS_MODULE even from a listed set."""
    base = predict(("ProtectKernelModules", "yes"))
    assert "cap_sys_module" not in base["CapabilityBoundingSet"].split()
    props = predict_properties(
        base, [("CapabilityBoundingSet", "CAP_SYS_MODULE CAP_CHOWN")]
    )
    assert props["CapabilityBoundingSet"] == "cap_chown"


def test_ambient_capabilities_merge_after_the_first_line() -> None:
    """Ambient capabilities start empty and accumulate."""
    props = predict(
        ("AmbientCapabilities", "CAP_NET_BIND_SERVICE"),
        ("AmbientCapabilities", "CAP_SYS_RESOURCE"),
    )
    assert props["AmbientCapabilities"] == "cap_net_bind_service cap_sys_resource"
    assert "AmbientCapabilities" not in predict(("AmbientCapabilities", ""))


def test_dynamic_user_implies_a_strict_sandbox() -> None:
    """DynamicUser=yes forces what systemd forces, whatever was assigned."""
    props = predict(("ProtectSystem", "no"), ("DynamicUser", "yes"))
    assert props["User"] == "nginx"
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "read-only"
    for name in ("PrivateTmp", "RemoveIPC", "NoNewPrivileges", "RestrictSUIDSGID"):
        assert props[name] == "yes"
    result = exposure(props)
    assert result.check("User=/DynamicUser=").badness == 0
    assert result.check("RemoveIPC=").applicable


def test_private_devices_closes_the_device_policy() -> None:
    """PrivateDevices= turns an automatic policy into a closed one."""
    assert predict(("PrivateDevices", "yes"))["DevicePolicy"] == "closed"
    strict = predict(("DevicePolicy", "strict"), ("PrivateDevices", "yes"))
    assert strict["DevicePolicy"] == "strict"


def test_protect_clock_adds_the_rtc_to_a_device_list() -> None:
    """With a device policy, ProtectClock= allows reading the RTC."""
    props = predict(("PrivateDevices", "yes"), ("ProtectClock", "yes"))
    assert props["DeviceAllow"] == "char-rtc r"
    assert exposure(props).check("DeviceAllow=").badness == 5
    assert "DeviceAllow" not in predict(("ProtectClock", "yes"))


def test_device_lines_accumulate_newest_first_without_duplicating_the_rtc() -> None:
    """Devices print newest first; a reset keeps the implied RTC once."""
    base = predict(("PrivateDevices", "yes"), ("ProtectClock", "yes"))
    props = predict_properties(
        base,
        [
            ("DeviceAllow", ""),
            ("DeviceAllow", "/dev/null rw"),
            ("DeviceAllow", "/dev/zero"),
        ],
    )
    assert props["DeviceAllow"].splitlines() == [
        "char-rtc r",
        "/dev/zero rwm",
        "/dev/null rw",
    ]


def test_namespace_lists_merge() -> None:
    """A first list sets what is allowed; ``~`` lines remove, yes/no override."""
    assert predict(("RestrictNamespaces", "yes"))["RestrictNamespaces"] == "yes"
    props = predict(("RestrictNamespaces", "net ipc"), ("RestrictNamespaces", "~ipc"))
    assert props["RestrictNamespaces"] == "net"
    props = predict(("RestrictNamespaces", "~user"))
    assert props["RestrictNamespaces"] == "cgroup ipc net mnt pid uts"
    assert exposure(props).check("RestrictNamespaces=~user").badness == 0
    assert exposure(props).check("RestrictNamespaces=~net").badness == 1


def test_address_families_none_and_reset() -> None:
    """``none`` allows no family; an empty line forgets the list."""
    assert predict(("RestrictAddressFamilies", "none"))["RestrictAddressFamilies"] == ""
    props = predict(
        ("RestrictAddressFamilies", "AF_UNIX AF_INET"),
        ("RestrictAddressFamilies", "AF_INET6"),
        ("RestrictAddressFamilies", "~AF_UNIX"),
    )
    assert props["RestrictAddressFamilies"] == "AF_INET AF_INET6"
    reset = predict_properties(props, [("RestrictAddressFamilies", "")])
    assert "RestrictAddressFamilies" not in reset


def test_ip_address_words() -> None:
    """``any`` and ``localhost`` expand to both families."""
    props = predict(("IPAddressDeny", "any"), ("IPAddressAllow", "localhost"))
    assert props["IPAddressDeny"] == "0.0.0.0/0 ::/0"
    assert props["IPAddressAllow"] == "127.0.0.0/8 ::1/128"
    assert exposure(props).check("IPAddressDeny=").badness == 2
    props = predict_properties(props, [("IPAddressAllow", "10.177.0.5/24")])
    assert "10.177.0.0/24" in props["IPAddressAllow"].split()
    assert exposure(props).check("IPAddressDeny=").badness == 5


def test_unrelated_directives_change_nothing() -> None:
    """Resource limits and paths leave every graded property alone."""
    base = plain_unit()
    props = predict_properties(
        base,
        [("MemoryMax", "2G"), ("ReadWritePaths", "/run"), ("LimitNOFILE", "65536")],
    )
    assert props == base


def test_assignments_from_text_pairs_and_entries() -> None:
    """A change can be drop-in text, pairs or catalog entries."""
    text = "[Service]\n# a comment\nProtectSystem=strict\nUMask=0027\n"
    pairs = [("ProtectSystem", "strict"), ("UMask", "0027")]
    assert as_assignments(text) == pairs
    assert as_assignments(pairs) == pairs
    entry = Entry("umask", "UMask", "0027", "base", "filesystem", "r", "k")
    assert as_assignments([entry]) == [("UMask", "0027")]
    assert predict_exposure(plain_unit(), [entry]).check("UMask=").badness == 1
    with pytest.raises(ValueError, match="not both"):
        as_assignments([entry, ("UMask", "0077")])  # type: ignore[list-item]


SCALARS = st.sampled_from(
    [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "read-only"),
        ("PrivateDevices", "yes"),
        ("ProtectClock", "yes"),
        ("DynamicUser", "yes"),
        ("UMask", "0077"),
        ("User", "www-data"),
        ("SystemCallFilter", ""),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallFilter", "~@privileged"),
        ("SystemCallFilter", "~@resources"),
        ("CapabilityBoundingSet", ""),
        ("CapabilityBoundingSet", "CAP_CHOWN"),
        ("CapabilityBoundingSet", "~CAP_CHOWN"),
        ("DeviceAllow", "/dev/null rw"),
        ("DeviceAllow", ""),
        ("RestrictNamespaces", "~user"),
        ("RestrictAddressFamilies", "AF_INET"),
        ("IPAddressDeny", "any"),
        ("IPAddressAllow", "localhost"),
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(SCALARS, max_size=12))
def test_prediction_is_a_fixed_point(lines: list[tuple[str, str]]) -> None:
    """Predicting again from a prediction with no lines changes nothing."""
    props = predict_properties(plain_unit(), lines)
    assert predict_properties(props, []) == props
    assert 0 <= exposure(props).level <= 100
