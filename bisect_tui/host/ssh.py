"""The SSH implementation of :class:`~bisect_tui.host.runner.CommandRunner`.

One paramiko connection is opened per session and reused for every command: a
fresh ``ssh`` login costs over a second on a slow host, a command over a live
connection a fraction of that. Every remote command is one ``exec`` channel
running the :func:`shlex.join` quoting of an argv, with a deadline, and is
logged with its exit status and timing (never its standard input, which may
carry file contents).
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Sequence

import paramiko

from bisect_tui.errors import HostError
from bisect_tui.host.runner import (
    CommandResult,
    Stream,
    loggable_command,
    remote_command_line,
)
from bisect_tui.host.ssh_config import SshTarget
from bisect_tui.host.ssh_connect import PassphrasePrompt, open_client

log = logging.getLogger(__name__)

CHUNK = 65536

EOF_GRACE = 2.0
"""Seconds to wait for the end of a command's output after it exited."""


class SshRunner:
    """Runs commands over one SSH connection.

    Attributes:
        host: The host as the operator named it.
        target: Where the connection goes.
    """

    def __init__(
        self,
        target: SshTarget,
        client: paramiko.SSHClient,
        hops: Sequence[paramiko.SSHClient] = (),
    ) -> None:
        """Wrap an authenticated client (see :meth:`connect`)."""
        self.target = target
        self.host = target.alias
        self._client = client
        self._hops = list(hops)

    @classmethod
    def connect(
        cls,
        target: SshTarget,
        *,
        accept_new_host_key: bool = False,
        prompt: PassphrasePrompt | None = None,
    ) -> SshRunner:
        """Connect and authenticate, through any ProxyJump hops.

        Raises:
            HostError: Unreachable, unknown or changed host key, or refused login;
                the message names the host and the problem in one line.
        """
        client, hops = open_client(
            target, accept_new_host_key=accept_new_host_key, prompt=prompt
        )
        log.info("connected to %s", target.describe())
        return cls(target, client, hops)

    def run(
        self,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        stdin: str | None = None,
        timeout: float = 30.0,
    ) -> CommandResult:
        """Run ``argv`` on the host; see :class:`CommandRunner`."""
        line = remote_command_line(argv, sudo=sudo)
        shown = loggable_command(argv, sudo=sudo)
        started = time.monotonic()
        channel = self._session()
        try:
            channel.exec_command(line)
            _feed(channel, stdin)
            stdout, stderr, status = _collect(channel, started + timeout)
        except TimeoutError as exc:
            log.warning("%s: %s timed out after %.0f s", self.host, shown, timeout)
            raise HostError(
                f"{self.host}: `{shown}` did not finish within {timeout:.0f} s"
            ) from exc
        except (paramiko.SSHException, OSError) as exc:
            raise HostError(f"{self.host}: `{shown}` failed: {exc}") from exc
        finally:
            channel.close()
        seconds = time.monotonic() - started
        log.info("%s: %s -> %d (%.2f s)", self.host, shown, status, seconds)
        return CommandResult(tuple(argv), status, stdout, stderr, seconds, sudo)

    def open_tcp(self, host: str, port: int, timeout: float = 10.0) -> Stream:
        """Open a TCP stream from the host to ``host:port`` (direct-tcpip)."""
        transport = self._transport()
        try:
            channel = transport.open_channel(
                "direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout
            )
        except (paramiko.SSHException, OSError) as exc:
            raise HostError(
                f"{self.host}: cannot open TCP to {host}:{port} from the host: {exc}"
            ) from exc
        channel.settimeout(timeout)
        return channel

    def close(self) -> None:
        """Close the connection and any ProxyJump hops."""
        self._client.close()
        for hop in reversed(self._hops):
            hop.close()
        log.info("closed connection to %s", self.target.describe())

    def _transport(self) -> paramiko.Transport:
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            raise HostError(f"{self.host}: the SSH connection was lost")
        return transport

    def _session(self) -> paramiko.Channel:
        try:
            return self._transport().open_session(timeout=10.0)
        except (paramiko.SSHException, OSError) as exc:
            raise HostError(f"{self.host}: cannot open a session: {exc}") from exc


def _feed(channel: paramiko.Channel, stdin: str | None) -> None:
    """Send ``stdin`` and end it; a command that already exited needs neither."""
    try:
        if stdin is not None:
            channel.sendall(stdin.encode("utf-8"))
        channel.shutdown_write()
    except (paramiko.SSHException, OSError):
        if not (channel.closed or channel.exit_status_ready()):
            raise


def _collect(channel: paramiko.Channel, deadline: float) -> tuple[str, str, int]:
    """Read stdout and stderr until the command exits, or raise TimeoutError.

    sshd can send the exit status before the last of the output, so the end
    is the end of the output (EOF), not the exit status. A command that left
    a process holding its output gets :data:`EOF_GRACE` seconds after exiting.
    """
    out, err = bytearray(), bytearray()
    exited_at: float | None = None
    while True:
        while channel.recv_ready():
            out.extend(channel.recv(CHUNK))
        while channel.recv_stderr_ready():
            err.extend(channel.recv_stderr(CHUNK))
        if channel.exit_status_ready() and _drained(channel):
            now = time.monotonic()
            exited_at = exited_at or now
            if channel.eof_received or now - exited_at > EOF_GRACE:
                break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        # The channel's pipe becomes readable on new output or on close.
        select.select([channel], [], [], min(remaining, 0.5))
    status = channel.recv_exit_status()
    return _text(out), _text(err), status


def _drained(channel: paramiko.Channel) -> bool:
    return not channel.recv_ready() and not channel.recv_stderr_ready()


def _text(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", errors="replace")
