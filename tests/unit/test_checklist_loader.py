"""The checklist loader: the shipped default, and precise errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bisect_tui.core.checklist import (
    CheckContext,
    CommandSpec,
    HttpSpec,
    JournalSpec,
    ScoreSpec,
    UnitSpec,
    render_template,
)
from bisect_tui.core.checklist_loader import load_checklist, parse_checklist
from bisect_tui.errors import CatalogError

HEALTH = """\
[[check]]
id = "health"
kind = "http"
url = "http://{host}:{http_port}/health"
"""


def error_of(text: str) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        parse_checklist(text, "list.toml")
    return caught.value


def test_default_checklist_covers_the_design_documents_list() -> None:
    """The shipped checklist holds every check of the design's testing list."""
    checklist = load_checklist()
    kinds = {check.id: check.kind for check in checklist.checks}
    assert kinds == {
        "health": "http",
        "playlist": "http",
        "files-listing": "http",
        "metrics": "http",
        "unit-serving": "unit",
        "journal-clean": "journal",
        "exposure": "score",
    }
    metrics = checklist.by_id("metrics").spec
    assert isinstance(metrics, HttpSpec)
    assert metrics.expect_samples == ("nginx_up 1",)
    playlist = checklist.by_id("playlist").spec
    assert isinstance(playlist, HttpSpec) and playlist.expect_prefix == "#EXTM3U"
    files = checklist.by_id("files-listing").spec
    assert isinstance(files, HttpSpec) and files.expect_json


def test_default_http_checks_template_the_address() -> None:
    """No shipped URL hard-codes an address: every one uses {host}."""
    for check in load_checklist().checks:
        if isinstance(check.spec, HttpSpec):
            assert check.spec.url.startswith("http://{host}:")
            assert check.where == "operator"


def test_kinds_get_their_defaults(tmp_path: Path) -> None:
    """Each kind reads its own keys, with defaults where a key is left out."""
    path = tmp_path / "mine.toml"
    path.write_text(
        HEALTH
        + """
[[check]]
id = "unit"
kind = "unit"
min_workers = 2

[[check]]
id = "journal"
kind = "journal"
priority = 2

[[check]]
id = "score"
kind = "score"
max = 7.5

[[check]]
id = "load"
kind = "command"
command = "./load-test --url 'http://{host}:{http_port}/' -n 10"
timeout = 90
""",
        encoding="utf-8",
    )
    checklist = load_checklist(path)
    assert checklist.path == str(path)
    specs = [check.spec for check in checklist.checks]
    assert specs[0] == HttpSpec("http://{host}:{http_port}/health")
    assert specs[1] == UnitSpec(min_workers=2)
    assert specs[2] == JournalSpec(priority="crit")
    assert specs[3] == ScoreSpec(max=7.5)
    assert specs[4] == CommandSpec(
        ("./load-test", "--url", "http://{host}:{http_port}/", "-n", "10")
    )
    assert [c.where for c in checklist.checks] == [
        "operator",
        "host",
        "host",
        "host",
        "operator",
    ]
    assert checklist.by_id("load").timeout == 90.0
    assert checklist.by_id("health").timeout == 5.0


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (HEALTH + "expect_statu = 200\n", 5, "did you mean 'expect_status'"),
        (HEALTH + "expect_status = 700\n", 5, "100-599"),
        (HEALTH + 'expect_pattern = "(unclosed"\n', 5, "not a regular expression"),
        (HEALTH + 'expect_sample = "nginx_up"\n', 5, "cannot read sample"),
        (HEALTH + 'expect_json = "yes"\n', 5, "true or false"),
        (HEALTH + "min_workers = 1\n", 5, "does not apply to http checks"),
        (HEALTH + "timeout = 0\n", 5, "positive number"),
        (HEALTH + 'where = "remote"\n', 5, "one of operator, host"),
        (HEALTH.replace("{http_port}", "{port}"), 4, "unknown placeholder {port}"),
        (HEALTH.replace("http://", "ftp://"), 4, "must be an http:// URL"),
        (HEALTH.replace('"http"', '"htp"'), 3, "did you mean 'http'"),
        (HEALTH.replace('id = "health"', 'id = "Health!"'), 2, "lower-case"),
        (HEALTH.replace('url = "http://{host}:{http_port}/health"\n', ""), 1, "url"),
        ('[[check]]\nid = "u"\nkind = "unit"\nwhere = "operator"\n', 4, "on the host"),
        ('[[check]]\nid = "c"\nkind = "command"\nwhere = "host"\n', 4, "operator's"),
        ('[[check]]\nid = "c"\nkind = "command"\ncommand = []\n', 4, "'command'"),
        ('[[check]]\nid = "j"\nkind = "journal"\npriority = "bad"\n', 4, "priority"),
        ('[[check]]\nid = "s"\nkind = "score"\nmax = 11\n', 4, "0.0 and 10.0"),
        (HEALTH + "\n" + HEALTH, 6, "duplicate id (first on line 1)"),
    ],
)
def test_errors_name_the_line(text: str, line: int, words: str) -> None:
    """Every rejection names file:line and what is wrong."""
    error = error_of(text)
    assert error.line == line
    assert words in error.message
    assert error.message.startswith(f"list.toml:{line}: ")


def test_file_level_errors() -> None:
    """Broken TOML, an empty file and an unknown schema are refused plainly."""
    assert error_of("[[check]\n").line == 1
    assert "no [[check]] tables" in error_of("[meta]\ntitle = 'x'\n").message
    assert "schema 2" in error_of("[meta]\nschema = 2\n" + HEALTH).message
    assert "unknown top-level key 'checks'" in error_of("[[checks]]\nid='a'\n").message


def test_unreadable_file_is_a_catalog_error(tmp_path: Path) -> None:
    """A missing file is reported as such, with its path."""
    with pytest.raises(CatalogError, match="cannot read checklist"):
        load_checklist(tmp_path / "absent.toml")


def test_context_fills_placeholders_per_side() -> None:
    """Operator checks use the operator's view; host checks the host's own."""
    context = CheckContext(
        host="127.0.0.1", http_port=27080, metrics_port=29113, host_http_port=17080
    )
    url = "http://{host}:{http_port}/x?m={metrics_port}&u={unit}"
    operator = render_template(url, context.values("operator"))
    host = render_template(url, context.values("host"))
    assert operator == "http://127.0.0.1:27080/x?m=29113&u=nginx.service"
    assert host == "http://127.0.0.1:17080/x?m=29113&u=nginx.service"


def test_ipv6_hosts_are_bracketed() -> None:
    """An IPv6 literal becomes a valid URL host."""
    values = CheckContext(host="::1").values("operator")
    assert render_template("http://{host}:{http_port}/", values) == (
        "http://[::1]:17080/"
    )
