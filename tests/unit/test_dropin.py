"""Rendering a selection as a drop-in, and reading a drop-in back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bisect_tui.core.catalog import Catalog, Entry, load_catalog
from bisect_tui.core.dropin import dropin_assignments, parse_dropin, render_dropin
from bisect_tui.core.selection import check_conflicts, resolve_selection
from bisect_tui.errors import CatalogError, UsageError

GOLDEN = Path(__file__).parent / "golden"
CATALOG = load_catalog()


def test_base_phase_matches_the_golden_file() -> None:
    """The base phase renders byte for byte as reviewed."""
    entries = resolve_selection(CATALOG, ["base"])
    text = render_dropin(entries, title="trial drop-in for nginx.service")
    assert text == (GOLDEN / "base.conf").read_text(encoding="utf-8")


def test_syscall_filter_resets_then_one_line_per_group() -> None:
    """A bare reset, then allow lines, then one deny line per group."""
    lines = render_dropin(resolve_selection(CATALOG, ["base"])).splitlines()
    filters = [line for line in lines if line.startswith("SystemCallFilter=")]
    assert filters[0] == "SystemCallFilter="
    assert filters[1] == "SystemCallFilter=@system-service"
    assert all(line.startswith("SystemCallFilter=~@") for line in filters[2:])
    assert all(" " not in line for line in filters)
    assert len(filters) == 11


def test_every_list_directive_starts_with_a_reset() -> None:
    """The first assignment of each list directive is empty."""
    entries = resolve_selection(CATALOG, ["all"])
    first: dict[str, str] = {}
    for name, value in dropin_assignments(render_dropin(entries)):
        first.setdefault(name, value)
    for entry in entries:
        if entry.is_list:
            assert first[entry.directive] == "", entry.directive


def test_rendering_is_deterministic() -> None:
    """The same selection in any order renders the same text."""
    entries = resolve_selection(CATALOG, ["all"])
    assert render_dropin(entries) == render_dropin(list(reversed(entries)))


def _conflict_free(entries: list[Entry]) -> bool:
    try:
        check_conflicts(entries)
    except UsageError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.sets(st.sampled_from([e.id for e in CATALOG.entries])))
def test_render_then_parse_round_trips(ids: set[str]) -> None:
    """Any conflict-free subset reads back as exactly itself."""
    entries = CATALOG.ordered(ids)
    if not _conflict_free(entries):
        return
    assert parse_dropin(render_dropin(entries), CATALOG) == entries


def test_parse_refuses_an_assignment_no_entry_makes() -> None:
    """A line the catalog cannot explain is an error, not silently dropped."""
    text = "[Service]\nProtectSystem=strict\nExecStartPre=/bin/true\n"
    with pytest.raises(CatalogError, match="ExecStartPre=/bin/true"):
        parse_dropin(text, CATALOG)


def test_conflicting_entries_are_refused() -> None:
    """Two values for one scalar directive cannot share a drop-in."""
    base = next(e for e in CATALOG.entries if not e.is_list)
    other = Entry(**{**base.__dict__, "id": "other", "line": 0})
    catalog = Catalog((base, other))
    with pytest.raises(UsageError, match="both set"):
        resolve_selection(catalog, ids=[base.id, "other"])
