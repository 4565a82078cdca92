"""A whole checklist run, and gathering the text that explains a failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bisect_tui.core.checklist import CheckContext, ChecklistResult
from bisect_tui.core.checklist_loader import parse_checklist
from bisect_tui.errors import HostError
from bisect_tui.host.checks import run_checklist
from bisect_tui.host.checks_hints import explain_failure, gather_hint_text
from bisect_tui.host.runner import Call, Reply, ScriptedRunner

CHECKLIST = """\
[[check]]
id = "health"
kind = "http"
url = "http://{host}:{http_port}/health"
expect_prefix = "OK"

[[check]]
id = "metrics"
kind = "http"
url = "http://{host}:{metrics_port}/metrics"
expect_sample = "nginx_up 1"

[[check]]
id = "unit-serving"
kind = "unit"
sample_interval = 0

[[check]]
id = "exposure"
kind = "score"
"""


class Handler(BaseHTTPRequestHandler):
    """/health answers OK; /metrics says nginx is down."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = b"OK\n" if self.path == "/health" else b"nginx_up 0\n"
        self.send_response(200)
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


def systemd(call: Call) -> Reply | None:
    if call.argv[:2] == ("systemctl", "show"):
        return Reply(0, "LoadState=loaded\nActiveState=active\nSubState=running\n")
    if call.argv[0] == "systemd-analyze":
        raise HostError("scripted-host: the SSH connection was lost")
    return None


def test_verdicts_combine_in_checklist_order(port: int) -> None:
    """One bad check makes the run bad; skips are unresolved, not failures."""
    context = CheckContext(host="127.0.0.1", http_port=port, metrics_port=port)
    runner = ScriptedRunner(handler=systemd)
    result = run_checklist(parse_checklist(CHECKLIST), runner, context)
    assert [r.check_id for r in result.results] == [
        "health",
        "metrics",
        "unit-serving",
        "exposure",
    ]
    assert [r.verdict for r in result.results] == ["good", "bad", "bad", "skip"]
    assert result.verdict == "bad"
    assert result.failing == ("metrics", "unit-serving")
    assert result.unresolved == ("exposure",)
    lost = result.result("exposure").evidence[0]
    assert lost.startswith("the SSH connection failed: ")
    data = result.to_dict()
    assert data["verdict"] == "bad" and data["failing"] == ["metrics", "unit-serving"]
    json.dumps(data)


def test_skip_alone_leaves_the_run_unresolved(port: int) -> None:
    """With nothing bad but something undecided, the verdict is skip."""
    context = CheckContext(host="127.0.0.1", http_port=port)
    text = CHECKLIST.split('[[check]]\nid = "metrics"')[0] + (
        '[[check]]\nid = "exposure"\nkind = "score"\n'
    )
    runner = ScriptedRunner(handler=systemd)
    result = run_checklist(parse_checklist(text), runner, context, parallel=1)
    assert result.verdict == "skip"
    assert result.failing == ()


DROPIN = "/run/systemd/system/nginx.service.d/zz-harden-bisect.conf"
JOURNAL = "\n".join(
    json.dumps(
        {
            "__MONOTONIC_TIMESTAMP": str(mono),
            "__REALTIME_TIMESTAMP": str(1_700_000_000_000_000 + mono),
            "PRIORITY": "4",
            "MESSAGE": message,
        }
    )
    for mono, message in [
        (1_000_000, f"{DROPIN}:5: Failed to parse system call, ignoring: ~@resources"),
        (
            95_000_000,
            f"{DROPIN}:5: Failed to parse system call, ignoring: ~@privileged",
        ),
        (97_000_000, "nginx: [emerg] from the instance being stopped"),
        (100_500_000, "Started nginx.service."),
    ]
)
KERNEL = json.dumps(
    {
        "__MONOTONIC_TIMESTAMP": "101000000",
        "__REALTIME_TIMESTAMP": "1700000101000000",
        "MESSAGE": 'audit: type=1326 comm="nginx" sig=31 arch=c000003e syscall=116',
    }
)
ERROR_LOG = """\
2023/11/14 22:13:00 [alert] 600#600: worker process 5 exited on signal 6
2023/11/14 22:15:00 [alert] 600#600: worker process 650 exited on signal 31
2023/11/14 22:15:00 [emerg] 701#701: initgroups(www-data, 33) failed
2023/11/14 22:15:00 [alert] 700#700: worker process 701 exited on signal 31
2023/11/14 22:15:01 [alert] 700#700: worker process 812 exited on signal 31
"""


def hint_host(call: Call) -> Reply | None:
    argv = call.argv
    if argv == ("systemctl", "show", "--property=UnitsLoadTimestampMonotonic"):
        return Reply(0, "UnitsLoadTimestampMonotonic=94000000\n")
    if argv[:2] == ("systemctl", "show"):
        return Reply(0, "InactiveExitTimestampMonotonic=100000000\nMainPID=700\n")
    if argv[0] == "journalctl":
        return Reply(0, JOURNAL if "--unit" in argv else KERNEL)
    if argv[0] == "tail":
        return Reply(0, ERROR_LOG)
    if argv[:2] == ("date", "-d"):
        assert argv[2] == "@1700000100"
        return Reply(0, "2023/11/14 22:15:00\n")
    return None


def test_hint_text_is_cut_to_this_start() -> None:
    """Earlier trials' lines are left out; the last reload's warnings stay."""
    text = gather_hint_text(ScriptedRunner(handler=hint_host), "nginx.service")
    assert text.journal == (
        f"{DROPIN}:5: Failed to parse system call, ignoring: ~@privileged",
        "Started nginx.service.",
    )
    assert text.kernel == (
        'audit: type=1326 comm="nginx" sig=31 arch=c000003e syscall=116',
    )
    assert text.error_log == tuple(ERROR_LOG.splitlines()[2:])


def test_explain_failure_names_the_privileged_group() -> None:
    """The gathered text turns into hints naming ~@privileged."""
    runner = ScriptedRunner(handler=hint_host)
    hints = explain_failure(runner, ChecklistResult(()), "nginx.service")
    assert [(h.sign, h.suspect) for h in hints] == [
        ("syscall-parse", "SystemCallFilter=~@privileged"),
        ("seccomp-kill", "SystemCallFilter=~@privileged"),
    ]
    assert "setgroups" in hints[1].explanation


def test_hint_gathering_survives_a_lost_connection() -> None:
    """A broken connection gives no hints rather than an error."""

    def lost(call: Call) -> Reply:
        raise HostError("lost")

    assert gather_hint_text(ScriptedRunner(handler=lost), "nginx.service").lines() == []
