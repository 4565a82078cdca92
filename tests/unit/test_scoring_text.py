"""Reading systemctl and systemd-analyze output, and the host's tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from bisect_tui.core.scoring import exposure
from bisect_tui.core.scoring_tables import (
    HostTables,
    default_tables,
    parse_capability_table,
    parse_syscall_filter,
)
from bisect_tui.core.scoring_text import parse_security_output, parse_show_output

FIXTURES = Path(__file__).parent / "fixtures" / "scoring"


def read(name: str) -> str:
    """Return a fixture's text."""
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name", ["plain-unit-security-utf8.txt", "plain-unit-security-ascii.txt"]
)
def test_security_report_parses_in_both_glyph_sets(name: str) -> None:
    """Marks, arrow and smiley may be UTF-8 or ASCII; the data is the same."""
    report = parse_security_output(read(name))
    assert (report.unit, report.score, report.label) == ("nginx.service", 9.6, "UNSAFE")
    rows = {row.name: row for row in report.checks}
    assert len(rows) == 81
    assert rows["PrivateNetwork="].shown == 5
    assert rows["PrivateNetwork="].passed is False
    assert rows["KeyringMode="].passed is True
    assert rows["SupplementaryGroups="].passed is None


def test_prediction_matches_every_row_of_a_real_report() -> None:
    """Each check's printed exposure and mark equal the computed ones."""
    report = parse_security_output(read("plain-unit-security-utf8.txt"))
    result = exposure(parse_show_output(read("plain-unit-show.txt")))
    assert result.level == report.level
    for row in report.checks:
        check = result.check(row.name)
        assert check.shown == row.shown, row.name
        assert check.applicable == (row.passed is not None), row.name


def test_security_report_without_summary_is_rejected() -> None:
    """A report cut short says so instead of scoring zero."""
    with pytest.raises(ValueError, match="Overall exposure"):
        parse_security_output("✗ PrivateNetwork=  Service has access  0.5\n")


def test_show_output_keeps_repeated_keys() -> None:
    """DeviceAllow= prints once per device; all of them are kept in order."""
    text = "DevicePolicy=closed\nDeviceAllow=/dev/null rw\nDeviceAllow=char-rtc r\n"
    text += "ExecStart={ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx -g a=b }\n"
    props = parse_show_output(text)
    assert props["DeviceAllow"] == "/dev/null rw\nchar-rtc r"
    assert props["ExecStart"].endswith("a=b }")


def test_syscall_filter_table_keeps_nested_groups() -> None:
    """Groups list their members and subgroups; comments are skipped."""
    groups = parse_syscall_filter(read_shipped("syscall-filter-252.txt"))
    assert "@privileged" in groups
    assert "@chown" in groups["@privileged"]
    assert not any(m.startswith("#") for members in groups.values() for m in members)
    tables = HostTables(groups, default_tables().capabilities)
    assert {"chown", "fchownat", "swapon", "reboot"} <= tables.expand("@privileged")


def test_tables_from_text() -> None:
    """The verbs' outputs build tables; capabilities keep their numbers."""
    caps = "NAME    NUMBER\ncap_chown     0\ncap_bpf      39\n"
    tables = HostTables.from_text(read_shipped("syscall-filter-252.txt"), caps)
    assert tables.capabilities == {"cap_chown": 0, "cap_bpf": 39}
    assert tables.last_capability == 39
    assert tables.capability_name(39) == "cap_bpf"
    assert tables.is_native("swapon")
    assert not tables.is_native("stime")
    assert tables.is_known("stime")
    assert not tables.is_known("osf_syscall")


def test_unknown_arch_counts_every_call_as_native() -> None:
    """Without a resolution table nothing is filtered out."""
    tables = HostTables({"@x": ("a", "b")}, {"cap_chown": 0})
    assert tables.is_native("stime") and tables.is_known("anything")


@pytest.mark.parametrize("parser", [parse_syscall_filter, parse_capability_table])
def test_empty_tables_are_rejected(parser: object) -> None:
    """Output with no groups or capabilities is an error, not an empty table."""
    with pytest.raises(ValueError, match="no "):
        parser("nothing here\n")  # type: ignore[operator]


def read_shipped(name: str) -> str:
    """Return a data file shipped with the package."""
    root = Path(__file__).parents[2] / "bisect_tui" / "data"
    return (root / name).read_text(encoding="utf-8")
