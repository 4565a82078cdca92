"""HTTP checks: one GET, from the operator's machine or from the host itself.

Both sides speak the same minimal HTTP/1.1 (``Connection: close``) over a
stream: a plain socket on the operator's side, an SSH ``direct-tcpip`` channel on
the host's side, so no curl is needed there. The answer is parsed by
:mod:`http.client` (status line, headers, chunked bodies) under one deadline for
the whole exchange.

How a failure to connect is judged: the service not answering is what a broken
trial looks like, so a refused or reset connection, a timeout (``IPAddressDeny=``
drops packets silently) or a garbled answer are **bad**. Failing to reach the
host at all says nothing about the unit: a name that does not resolve, no route
from the operator's machine, or an SSH transport that broke are **skip**. On the
host's side, sshd reporting that it could not connect is **bad** like a refusal.
"""

from __future__ import annotations

import errno
import http.client
import io
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import paramiko

from bisect_tui.core.checklist import Check, CheckResult, HttpSpec, Verdict
from bisect_tui.core.checklist_expect import judge_http, quote_body
from bisect_tui.errors import HostError
from bisect_tui.host.runner import Stream

logger = logging.getLogger(__name__)

BODY_LIMIT = 1024 * 1024
"""Bytes of a body read at most; a longer body is judged on this much."""

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}

Opener = Callable[[str, int, float], Stream]
"""Opens a TCP stream to ``(host, port)`` within a timeout in seconds."""


@dataclass(frozen=True)
class HttpAnswer:
    """What came back from one GET.

    Attributes:
        status: The status code.
        reason: The reason phrase.
        body: The body, at most :data:`BODY_LIMIT` bytes.
        cut: Whether the body was longer than the limit.
    """

    status: int
    reason: str
    body: bytes
    cut: bool = False


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"timed out after {self.seconds:g} s")
        return left


class _StreamReader(io.RawIOBase):
    """Lets :mod:`http.client` read a stream, renewing the deadline per read."""

    def __init__(self, stream: Stream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        self._stream.settimeout(self._deadline.remaining())
        data = self._stream.recv(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _StreamSocket:
    """The one method :class:`http.client.HTTPResponse` needs of a socket."""

    def __init__(self, stream: Stream, deadline: _Deadline) -> None:
        self._reader = _StreamReader(stream, deadline)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self._reader)


def exchange(stream: Stream, url: str, timeout: float) -> HttpAnswer:
    """Send a GET for ``url`` over ``stream`` and read the answer.

    Args:
        stream: An open connection to the URL's host and port.
        url: The full URL (its host goes in the ``Host`` header).
        timeout: Seconds for the whole exchange.

    Raises:
        TimeoutError: The answer did not complete in time.
        http.client.HTTPException: The answer was not HTTP.
        OSError: The connection failed.
    """
    deadline = _Deadline(timeout)
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "User-Agent: harden-bisect\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    stream.settimeout(deadline.remaining())
    stream.sendall(request.encode("ascii"))
    response = http.client.HTTPResponse(_StreamSocket(stream, deadline))  # type: ignore[arg-type]
    response.begin()
    body = response.read(BODY_LIMIT + 1)
    return HttpAnswer(
        response.status, response.reason, body[:BODY_LIMIT], len(body) > BODY_LIMIT
    )


def open_socket(host: str, port: int, timeout: float) -> Stream:
    """Open a TCP connection from the operator's machine."""
    return socket.create_connection((host, port), timeout=timeout)


def run_http(check: Check, url: str, opener: Opener) -> CheckResult:
    """Run an HTTP check against ``url`` through streams from ``opener``.

    Args:
        check: The check; its spec must be an :class:`HttpSpec`.
        url: The check's URL with its placeholders filled in.
        opener: :func:`open_socket`, or a host's ``open_tcp``.

    Returns:
        The result, with the request, the status, the first bytes of the body and
        each unmet expectation (or the error) as evidence.
    """
    assert isinstance(check.spec, HttpSpec)
    side = "from the host" if check.where == "host" else "from the operator"
    evidence = [f"GET {url} ({side})"]
    started = time.monotonic()
    verdict, said = _get_and_judge(check.spec, url, check.timeout, opener)
    evidence.extend(said)
    seconds = time.monotonic() - started
    logger.info("check %s: %s in %.3f s", check.id, verdict, seconds)
    return CheckResult(check.id, "http", verdict, tuple(evidence), seconds)


def _get_and_judge(
    spec: HttpSpec, url: str, timeout: float, opener: Opener
) -> tuple[Verdict, list[str]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    started = time.monotonic()
    try:
        stream = opener(host, port, timeout)
    except HostError as exc:
        if _refused_on_host(exc):
            return "bad", [f"error: the host could not connect to {host}:{port}"]
        return "skip", [f"error: the SSH connection failed: {exc}"]
    except OSError as exc:
        return _connect_failure(exc, host, port, timeout)
    try:
        answer = exchange(stream, url, timeout)
    except TimeoutError:
        return "bad", [f"error: timed out after {timeout:g} s"]
    except (OSError, http.client.HTTPException) as exc:
        return "bad", [f"error: {_describe(exc)}"]
    finally:
        stream.close()
    elapsed = time.monotonic() - started
    lines = [f"status {answer.status} {answer.reason} in {elapsed:.3f} s"]
    lines.append(quote_body(answer.body) + (" (cut)" if answer.cut else ""))
    verdict, problems = judge_http(spec, answer.status, answer.body)
    return verdict, lines + problems


def _connect_failure(
    exc: OSError, host: str, port: int, timeout: float
) -> tuple[Verdict, list[str]]:
    if isinstance(exc, socket.gaierror):
        return "skip", [f"error: cannot resolve {host!r}: {exc.strerror}"]
    if exc.errno in _UNREACHABLE:
        return "skip", [f"error: cannot reach {host}: {exc.strerror}"]
    if isinstance(exc, TimeoutError):
        return "bad", [
            f"error: connecting to {host}:{port} timed out after {timeout:g} s"
        ]
    if isinstance(exc, ConnectionRefusedError):
        return "bad", [f"error: connection refused: nothing listens on {host}:{port}"]
    return "bad", [f"error: cannot connect to {host}:{port}: {_describe(exc)}"]


def _refused_on_host(exc: HostError) -> bool:
    # sshd answers a direct-tcpip request it could not connect with "connect
    # failed": the transport works and nothing listens there. Other refusals
    # (forwarding disabled) are the host's set-up, not the unit's fault.
    cause = exc.__cause__
    connect_failed = paramiko.common.OPEN_FAILED_CONNECT_FAILED
    return isinstance(cause, paramiko.ChannelException) and cause.code == connect_failed


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
