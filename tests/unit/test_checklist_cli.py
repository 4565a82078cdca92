"""``harden-bisect check``: exit statuses, JSON, plan, and bad checklists."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bisect_tui.cli import cmd_check
from bisect_tui.cli.main import main
from bisect_tui.core.checklist import ChecklistResult, CheckResult
from bisect_tui.host.runner import Call, Reply, ScriptedRunner

CHECKLIST = """\
[[check]]
id = "health"
kind = "http"
url = "http://{host}:{http_port}/health"
expect_prefix = "OK"

[[check]]
id = "unit-serving"
kind = "unit"
sample_interval = 0
"""


class Handler(BaseHTTPRequestHandler):
    """/health answers OK, anything else 404."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        ok = self.path == "/health"
        body = b"OK\n" if ok else b"no"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def scripted_host(workers: str) -> ScriptedRunner:
    def answer(call: Call) -> Reply | None:
        if call.argv[:2] == ("systemctl", "show"):
            state = "LoadState=loaded\nActiveState=active\nMainPID=700\n"
            return Reply(0, state + "InactiveExitTimestampMonotonic=1\n")
        if call.argv[:2] == ("sh", "-c"):
            return Reply(0, workers)
        if call.argv[0] in ("journalctl", "tail", "date"):
            return Reply(0, "")
        return None

    return ScriptedRunner(host="web1", handler=answer)


def run_check(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    port: int,
    runner: ScriptedRunner,
    *extra: str,
) -> int:
    checklist = tmp_path / "checks.toml"
    checklist.write_text(CHECKLIST, encoding="utf-8")
    monkeypatch.setattr(cmd_check, "connect_from_args", lambda args: runner)
    argv = ["check", "--host", "web1", "--check-host", "127.0.0.1"]
    argv += ["--http-port", str(port), "--checklist", str(checklist), *extra]
    return main(argv)


def test_all_good_exits_0_with_json(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every check good: exit 0, the JSON names each verdict, no hints read."""
    runner = scripted_host("701\n--\n701\n")
    assert run_check(monkeypatch, tmp_path, port, runner, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "good"
    assert [c["verdict"] for c in data["checks"]] == ["good", "good"]
    assert data["hints"] == []
    assert runner.closed
    assert not any(c.argv[0] == "journalctl" for c in runner.calls)


def test_a_bad_check_exits_1_with_hints(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No workers: exit 1, the table says bad, and the hint names ~@privileged."""
    runner = scripted_host("--\n")
    assert run_check(monkeypatch, tmp_path, port, runner) == 1
    out = capsys.readouterr().out
    assert "verdict: bad (failing: unit-serving)" in out
    assert "hint: SystemCallFilter=~@privileged" in out


def test_exit_status_follows_git_bisect() -> None:
    """good 0, bad 1, unresolved 125."""

    def status(*verdicts: str) -> int:
        results = tuple(
            CheckResult(f"c{i}", "http", v)  # type: ignore[arg-type]
            for i, v in enumerate(verdicts)
        )
        return cmd_check.exit_status(ChecklistResult(results))

    assert status("good", "good") == 0
    assert status("good", "skip", "bad") == 1
    assert status("good", "skip") == 125


def test_plan_connects_to_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plan lists the default checks with their URLs filled in."""

    def refuse(args: object) -> None:
        raise AssertionError("--plan must not connect")

    monkeypatch.setattr(cmd_check, "connect_from_args", refuse)
    assert main(["check", "--host", "127.0.0.1", "--http-port", "27080", "--plan"]) == 0
    out = capsys.readouterr().out
    assert "health (operator, 5 s): GET http://127.0.0.1:27080/health" in out
    assert "unit-serving (host, 15 s): unit of nginx.service" in out


def test_bad_checklist_exits_2_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A checklist error is one line with file:line, and the host is untouched."""

    def refuse(args: object) -> None:
        raise AssertionError("a bad checklist must not connect")

    monkeypatch.setattr(cmd_check, "connect_from_args", refuse)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[check]]\nid = "x"\nkind = "http"\nurl = "http://{hots}/"\n')
    assert main(["check", "--host", "h", "--checklist", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"harden-bisect: checklist: {bad}:4: check 'x': unknown placeholder "
        "{hots}; known: {host}, {http_port}, {metrics_port}, {unit}"
    )
