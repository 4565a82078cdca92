"""Composition: a trial never silently drops the unit's own list settings."""

from __future__ import annotations

from bisect_tui.core.composition import compose_dropin
from bisect_tui.core.composition_unit import (
    CapabilitySet,
    UnitAssignments,
    fold_capabilities,
    parse_systemctl_cat,
)
from bisect_tui.core.dropin import dropin_assignments

NIXOS_CAT = """\
# /etc/systemd/system/nginx.service
[Unit]
Description=Nginx Web Server

[Service]
ExecStart=/usr/sbin/nginx -c /etc/nginx/nixos/nginx.conf
User=nginx
AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_SYS_RESOURCE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_RESOURCE
ProtectSystem=strict
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallFilter=~@cpu-emulation @debug @keyring @mount @obsolete @privileged @setuid
ReadWritePaths=/var/lib/nginx \\
    /var/cache/nginx

# /run/systemd/system/nginx.service.d/zz-harden-bisect.conf
[Service]
SystemCallFilter=
CapabilityBoundingSet=
"""


def unit() -> UnitAssignments:
    return parse_systemctl_cat(NIXOS_CAT)


def dropin(*lines: str) -> str:
    return "\n".join(["# harden-bisect: trial", "[Service]", *lines]) + "\n"


def test_parse_systemctl_cat_skips_own_dropin_and_joins_continuations() -> None:
    """The tool's own drop-in is not the unit's; continuation lines are joined."""
    parsed = unit()
    assert parsed.files == ("/etc/systemd/system/nginx.service",)
    assert parsed.current("SystemCallFilter") == (
        "~@cpu-emulation @debug @keyring @mount @obsolete @privileged @setuid",
    )
    assert parsed.current("ReadWritePaths") == ("/var/lib/nginx /var/cache/nginx",)
    assert "Description" not in parsed.lines


def test_unit_reset_discards_earlier_values() -> None:
    """An empty assignment in the unit's own files resets its list."""
    text = "# /a.service\n[Service]\nReadWritePaths=/x\n"
    text += "ReadWritePaths=\nReadWritePaths=/y\n"
    assert parse_systemctl_cat(text).current("ReadWritePaths") == ("/y",)


def test_deny_only_syscall_lines_add_to_the_unit_filter() -> None:
    """A catalog that only denies keeps the unit's filter: no reset is written."""
    result = compose_dropin(
        dropin("SystemCallFilter=", "SystemCallFilter=~@resources"), unit()
    )
    composed = result.by_directive("SystemCallFilter")
    assert composed is not None and composed.action == "added"
    assert dropin_assignments(result.text) == [("SystemCallFilter", "~@resources")]
    assert composed.effective[0].startswith("~@cpu-emulation")
    assert composed.effective[-1] == "~@resources"


def test_allow_list_keeps_unit_deny_lines_after_catalog_lines() -> None:
    """An allow-list resets, then the unit's deny lines follow and tighten it."""
    text = dropin(
        "SystemCallFilter=",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged",
    )
    result = compose_dropin(text, unit())
    assert [v for k, v in dropin_assignments(result.text)] == [
        "",
        "@system-service",
        "~@privileged",
        "~@cpu-emulation @debug @keyring @mount @obsolete @privileged @setuid",
    ]
    composed = result.by_directive("SystemCallFilter")
    assert composed is not None and composed.action == "composed"


def test_unit_allow_lines_are_reported_when_replaced() -> None:
    """Allow lines of the unit cannot be intersected: the note says they go."""
    own = parse_systemctl_cat("# /u\n[Service]\nSystemCallFilter=@system-service\n")
    text = dropin("SystemCallFilter=", "SystemCallFilter=@basic-io")
    composed = compose_dropin(text, own).by_directive("SystemCallFilter")
    assert composed is not None
    assert "replaced: @system-service" in composed.note


def test_capabilities_are_intersected() -> None:
    """The trial's bounding set is the catalog's within the unit's."""
    text = dropin(
        "CapabilityBoundingSet=",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID",
    )
    result = compose_dropin(text, unit())
    assert [v for k, v in dropin_assignments(result.text)] == [
        "",
        "CAP_NET_BIND_SERVICE",
    ]
    composed = result.by_directive("CapabilityBoundingSet")
    assert composed is not None and composed.action == "intersected"
    assert "CAP_SYS_RESOURCE" in composed.note


def test_empty_capability_set_stays_empty() -> None:
    """No capabilities within any set is still none."""
    result = compose_dropin(dropin("AmbientCapabilities="), unit())
    assert dropin_assignments(result.text) == [("AmbientCapabilities", "")]


def test_path_lists_add_to_the_unit() -> None:
    """Paths the unit makes writable stay writable; the reset is dropped."""
    result = compose_dropin(dropin("ReadWritePaths=", "ReadWritePaths=/run"), unit())
    assert dropin_assignments(result.text) == [("ReadWritePaths", "/run")]
    composed = result.by_directive("ReadWritePaths")
    assert composed is not None
    assert composed.effective == ("/var/lib/nginx /var/cache/nginx", "/run")


def test_empty_catalog_list_replaces_on_purpose() -> None:
    """A catalog value of [] is a deliberate reset, and says so."""
    result = compose_dropin(dropin("ReadWritePaths="), unit())
    composed = result.by_directive("ReadWritePaths")
    assert composed is not None and composed.action == "replaced"
    assert composed.effective == ()


def test_scalars_override_and_say_so() -> None:
    """A scalar the unit sets is overridden, with a note naming both values."""
    result = compose_dropin(dropin("ProtectSystem=full"), unit())
    composed = result.by_directive("ProtectSystem")
    assert composed is not None and composed.action == "overrides"
    assert "ProtectSystem=strict" in composed.note


def test_directives_the_unit_lacks_are_unchanged() -> None:
    """On a unit without hardening the drop-in is written as rendered."""
    text = dropin("SystemCallFilter=", "SystemCallFilter=~@privileged")
    result = compose_dropin(text, UnitAssignments({}))
    assert dropin_assignments(result.text) == dropin_assignments(text)
    assert result.touching_unit() == []
    assert "Composed" not in result.text


def test_composed_text_lists_notes_in_header() -> None:
    """The written drop-in explains each composition in a comment."""
    result = compose_dropin(dropin("ProtectSystem=full"), unit())
    assert "# Composed with the unit's own settings:" in result.text
    assert all(len(line) <= 88 for line in result.text.splitlines())


def test_fold_capabilities_follows_systemd_replace_rules() -> None:
    """First assignment replaces; later plain lines OR, ~ lines AND NOT."""
    bounding = "CapabilityBoundingSet"
    assert fold_capabilities(bounding, []) == CapabilitySet(True, frozenset())
    assert fold_capabilities(bounding, ["~CAP_A"]) == CapabilitySet(
        True, frozenset({"CAP_A"})
    )
    assert fold_capabilities(bounding, ["", "~CAP_A"]) == CapabilitySet(
        False, frozenset()
    )
    assert fold_capabilities(bounding, ["cap_a", "CAP_B", "~CAP_A"]) == CapabilitySet(
        False, frozenset({"CAP_B"})
    )
    assert fold_capabilities("AmbientCapabilities", ["", "~CAP_A"]) == CapabilitySet(
        True, frozenset({"CAP_A"})
    )


def test_inverted_intersection_round_trips_through_assignments() -> None:
    """An "all but" result is written as lines that rebuild it exactly."""
    result = CapabilitySet(True, frozenset({"CAP_A"})).intersect(
        CapabilitySet(True, frozenset({"CAP_B"}))
    )
    for directive in ("CapabilityBoundingSet", "AmbientCapabilities"):
        lines = ["CAP_X", *result.assignments()]
        assert fold_capabilities(directive, lines) == result


def test_scalar_effective_value_is_the_last_assignment() -> None:
    """A scalar the unit also sets reads back as the trial's value alone."""
    result = compose_dropin(dropin("ProtectSystem=full"), unit())
    composed = result.by_directive("ProtectSystem")
    assert composed is not None
    assert composed.effective == ("full",)
    assert composed.unit_values == ("strict",)
