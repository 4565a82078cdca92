"""The catalog and render commands: output, errors and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bisect_tui.cli.main import main
from tests.unit.catalog_text import entry_toml

WriteCatalog = Callable[[str], Path]


def test_help_leads_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """--help shows examples before anything else."""
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.index("examples:") < out.index("options:")
    assert "harden-bisect render --phase base" in out


def test_catalog_json_lists_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    """catalog --json prints one JSON document with every entry's fields."""
    assert main(["catalog", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["entries"]) > 45
    for entry in document["entries"]:
        assert {"id", "directive", "value", "phase", "group", "since"} <= set(entry)
        assert entry["reason"] and entry["risk"]


def test_catalog_table_renders(capsys: pytest.CaptureFixture[str]) -> None:
    """The table names entries and counts them."""
    assert main(["catalog", "--phase", "ip"]) == 0
    out = capsys.readouterr().out
    assert "IPAddressDeny" in out and "entries" in out


def test_render_prints_a_drop_in(capsys: pytest.CaptureFixture[str]) -> None:
    """render writes a [Service] drop-in on stdout."""
    assert main(["render", "--phase", "base"]) == 0
    out = capsys.readouterr().out
    assert "[Service]" in out.splitlines()
    assert "SystemCallFilter=" in out.splitlines()


def test_render_without_selection_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing selected: exit 2 with one line saying how to select."""
    assert main(["render"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--phase" in err


def test_unknown_select_id_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt id gets exit 2 and a did-you-mean."""
    catalog_ids = [e["id"] for e in _catalog_json(capsys)["entries"]]
    wrong = catalog_ids[0] + "s"
    assert main(["render", "--select", wrong]) == 2
    assert "did you mean" in capsys.readouterr().err


def _catalog_json(
    capsys: pytest.CaptureFixture[str],
) -> dict[str, list[dict[str, str]]]:
    main(["catalog", "--json"])
    result: dict[str, list[dict[str, str]]] = json.loads(capsys.readouterr().out)
    return result


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (entry_toml(value='"a\\nb"'), 4, "newline"),
        (entry_toml(directive="ProtectSytem"), 3, "did you mean 'ProtectSystem'"),
        (entry_toml() + entry_toml(), 10, "duplicate id"),
        ('[[entry]]\nid = "x\n', 2, "not valid TOML"),
    ],
)
def test_bad_catalog_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    write_catalog: WriteCatalog,
    text: str,
    line: int,
    words: str,
) -> None:
    """A rejected catalog: exit 2, one line on stderr naming file:line."""
    path = write_catalog(text)
    assert main(["catalog", "--catalog", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert f"{path}:{line}:" in captured.err and words in captured.err
