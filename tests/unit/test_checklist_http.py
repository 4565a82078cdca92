"""HTTP checks against a real local server, and over a scripted host stream."""

from __future__ import annotations

import contextlib
import errno
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paramiko
import pytest

from bisect_tui.core.checklist import Check, HttpSpec
from bisect_tui.errors import HostError
from bisect_tui.host.checks_http import open_socket, run_http
from bisect_tui.host.runner import ScriptedRunner, Stream

PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\nsegment001.ts\n"
LISTING = [{"name": "segment001.ts", "type": "file", "size": 1316}]


class OriginHandler(BaseHTTPRequestHandler):
    """A small stand-in for the HLS origin, in HTTP/1.1 like nginx."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path == "/health":
            self._send(200, b"OK\n")
        elif self.path == "/stream.m3u8":
            self._send(200, PLAYLIST)
        elif self.path == "/files/":
            self._send_chunked(json.dumps(LISTING).encode())
        elif self.path == "/metrics":
            self._send(200, b"# TYPE nginx_up gauge\nnginx_up 1\n")
        elif self.path == "/slow":
            time.sleep(2)
            with contextlib.suppress(OSError):  # the client gave up long ago
                self._send(200, b"late")
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_chunked(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (body[:5], body[5:]):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def origin() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OriginHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def http_check(
    timeout: float = 2.0, where: str = "operator", **expect: object
) -> Check:
    spec = HttpSpec(url="unused", **expect)  # type: ignore[arg-type]
    return Check("probe", "http", spec, where, timeout)


def test_health_playlist_listing_and_metrics_pass(origin: int) -> None:
    """Each expectation of the default checklist passes on a healthy origin."""
    base = f"http://127.0.0.1:{origin}"
    cases = [
        ("/health", {"expect_prefix": "OK"}),
        ("/stream.m3u8", {"expect_prefix": "#EXTM3U"}),
        ("/files/", {"expect_json": True}),
        ("/metrics", {"expect_samples": ("nginx_up 1",)}),
    ]
    for path, expect in cases:
        result = run_http(http_check(**expect), base + path, open_socket)
        assert result.verdict == "good", result.evidence
        assert result.evidence[0] == f"GET {base}{path} (from the operator)"
        assert result.evidence[1].startswith("status 200 OK in ")


def test_chunked_body_is_decoded(origin: int) -> None:
    """A chunked answer (nginx's autoindex) is judged on its decoded body."""
    url = f"http://127.0.0.1:{origin}/files/"
    result = run_http(http_check(expect_pattern=r"^\[\{"), url, open_socket)
    assert result.verdict == "good"
    assert '"segment001.ts"' in result.evidence[2]


def test_wrong_status_is_bad_with_evidence(origin: int) -> None:
    """A 404 fails, and the evidence shows what came back."""
    url = f"http://127.0.0.1:{origin}/absent"
    result = run_http(http_check(expect_prefix="OK"), url, open_socket)
    assert result.verdict == "bad"
    assert "expected status 200, got 404" in result.evidence
    assert "body: 'not found'" in result.evidence


def test_refused_connection_is_bad() -> None:
    """Nothing listening is what a service that did not start looks like."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_http(http_check(), f"http://127.0.0.1:{port}/health", open_socket)
    assert result.verdict == "bad"
    assert result.evidence[-1].startswith("error: connection refused")


def test_silent_server_times_out_bad(origin: int) -> None:
    """An answer that never comes within the timeout is bad, not a hang."""
    url = f"http://127.0.0.1:{origin}/slow"
    started = time.monotonic()
    result = run_http(http_check(timeout=0.5), url, open_socket)
    assert time.monotonic() - started < 1.5
    assert result.verdict == "bad"
    assert result.evidence[-1] == "error: timed out after 0.5 s"


def test_not_http_is_bad() -> None:
    """A server that answers garbage fails the check."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def answer() -> None:
            conn, _ = server.accept()
            conn.recv(1024)
            conn.sendall(b"SSH-2.0-OpenSSH\r\n")
            conn.close()

        thread = threading.Thread(target=answer)
        thread.start()
        result = run_http(http_check(), f"http://127.0.0.1:{port}/", open_socket)
        thread.join()
    assert result.verdict == "bad"
    assert result.evidence[-1].startswith("error: ")


def raising(error: OSError) -> object:
    def opener(host: str, port: int, timeout: float) -> Stream:
        raise error

    return opener


@pytest.mark.parametrize(
    ("error", "verdict", "words"),
    [
        (socket.gaierror(-2, "Name or service not known"), "skip", "cannot resolve"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "skip", "cannot reach"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "skip", "cannot reach"),
        (TimeoutError("timed out"), "bad", "timed out after 2 s"),
        (OSError(errno.ECONNRESET, "Connection reset by peer"), "bad", "reset"),
    ],
)
def test_connect_errors_are_judged(error: OSError, verdict: str, words: str) -> None:
    """Not reaching the host is skip; the service not answering is bad."""
    url = "http://origin.test:17080/health"
    result = run_http(http_check(), url, raising(error))  # type: ignore[arg-type]
    assert result.verdict == verdict
    assert words in result.evidence[-1]


def test_host_side_get_over_a_channel() -> None:
    """A host-side check writes a minimal GET and parses the raw answer."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n"
    runner = ScriptedRunner(streams={("127.0.0.1", 17080): answer})
    url = "http://127.0.0.1:17080/health"

    def opener(host: str, port: int, timeout: float) -> Stream:
        return runner.open_tcp(host, port, timeout=timeout)

    result = run_http(http_check(where="host", expect_prefix="OK"), url, opener)
    assert result.verdict == "good"
    assert result.evidence[0] == f"GET {url} (from the host)"
    sent = bytes(runner.opened[0][2].sent)
    assert sent.startswith(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:17080\r\n")
    assert b"Connection: close\r\n" in sent and sent.endswith(b"\r\n\r\n")
    assert runner.opened[0][2].closed


def failing_opener(error: HostError) -> object:
    def opener(host: str, port: int, timeout: float) -> Stream:
        raise error

    return opener


def test_host_side_connect_failed_is_bad() -> None:
    """sshd saying it could not connect means nothing listens on the host."""
    refused = paramiko.ChannelException(2, "Connect failed")
    error = HostError("h: cannot open TCP")
    error.__cause__ = refused
    result = run_http(
        http_check(where="host"),
        "http://127.0.0.1:17080/health",
        failing_opener(error),  # type: ignore[arg-type]
    )
    assert result.verdict == "bad"
    assert result.evidence[-1] == "error: the host could not connect to 127.0.0.1:17080"


def test_host_side_lost_connection_is_skip() -> None:
    """A broken SSH transport leaves the check unresolved."""
    error = HostError("h: the SSH connection was lost")
    result = run_http(
        http_check(where="host"),
        "http://127.0.0.1:17080/health",
        failing_opener(error),  # type: ignore[arg-type]
    )
    assert result.verdict == "skip"
    assert "SSH connection failed" in result.evidence[-1]
