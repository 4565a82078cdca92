"""The catalog loader accepts good catalogs and names file:line for bad ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bisect_tui.core.catalog import load_catalog
from bisect_tui.errors import CatalogError
from tests.unit.catalog_text import entry_toml

WriteCatalog = Callable[[str], Path]


def test_good_catalog_loads_with_lines(write_catalog: WriteCatalog) -> None:
    """Entries keep their values, kinds and the line they start on."""
    text = (
        "[meta]\nschema = 1\n\n"
        + entry_toml()
        + "\n"
        + entry_toml(
            id="syscall-deny-mount",
            directive="SystemCallFilter",
            value='["~@mount"]',
            group="syscalls",
        )
    )
    catalog = load_catalog(write_catalog(text))
    home, mount = catalog.entries
    assert (home.value, home.line) == ("yes", 4)
    assert mount.value == ("~@mount",) and mount.is_list
    assert mount.line == text.splitlines().index("[[entry]]", 5) + 1


def _error(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return caught.value


def test_broken_toml_names_the_line(write_catalog: WriteCatalog) -> None:
    """A TOML syntax error reports the line the parser stopped on."""
    path = write_catalog(entry_toml() + 'oops = "unterminated\n')
    error = _error(path)
    assert error.line == 10
    assert str(error).startswith(f"{path}:10: not valid TOML")


def test_newline_in_value_is_refused(write_catalog: WriteCatalog) -> None:
    """A value with a newline could smuggle lines into the drop-in."""
    path = write_catalog(entry_toml(value='"strict\\nExecStartPre=/bin/evil"'))
    error = _error(path)
    assert error.line == 4
    assert "newline or control character" in str(error)


def test_control_character_in_list_item_is_refused(
    write_catalog: WriteCatalog,
) -> None:
    """Control characters are refused in list items too."""
    text = entry_toml(directive="ReadWritePaths", value='["/var/log\\u0007"]')
    assert "control character" in str(_error(write_catalog(text)))


def test_unknown_directive_suggests_the_near_one(
    write_catalog: WriteCatalog,
) -> None:
    """A misspelt directive names the line and a did-you-mean."""
    error = _error(write_catalog(entry_toml(directive="ProtectSytem")))
    assert error.line == 3
    assert "unknown [Service] directive 'ProtectSytem'" in str(error)
    assert "did you mean 'ProtectSystem'?" in str(error)


def test_duplicate_id_names_both_lines(write_catalog: WriteCatalog) -> None:
    """The second use of an id is refused, pointing back at the first."""
    error = _error(write_catalog(entry_toml() + "\n" + entry_toml()))
    assert error.line == 11
    assert "duplicate id (first defined on line 1)" in str(error)


@pytest.mark.parametrize(
    ("field", "bad", "expected"),
    [
        ("phase", "basic", "unknown phase 'basic'; did you mean 'base'?"),
        ("group", "filesystems", "did you mean 'filesystem'?"),
    ],
)
def test_unknown_phase_or_group(
    write_catalog: WriteCatalog, field: str, bad: str, expected: str
) -> None:
    """Phases and groups come from a fixed vocabulary."""
    error = _error(write_catalog(entry_toml(**{field: bad})))
    assert expected in str(error)
    assert error.line == (5 if field == "phase" else 6)


def test_requirement_naming_no_entry(write_catalog: WriteCatalog) -> None:
    """A requirement must name an entry of the same catalog."""
    error = _error(write_catalog(entry_toml(requires='["protect-sytem"]')))
    assert "requires 'protect-sytem', no such entry" in str(error)


def test_scalar_directive_refuses_a_list(write_catalog: WriteCatalog) -> None:
    """A scalar directive given an array is a mistake, not a list."""
    error = _error(write_catalog(entry_toml(value='["yes", "no"]')))
    assert "ProtectHome takes one value" in str(error)


def test_unknown_security_check(write_catalog: WriteCatalog) -> None:
    """Check names must be ones systemd-analyze security prints."""
    text = entry_toml() + 'checks = ["ProtectHome"]\n'
    error = _error(write_catalog(text))
    assert "unknown systemd-analyze check 'ProtectHome'" in str(error)
    assert "did you mean 'ProtectHome='?" in str(error)
