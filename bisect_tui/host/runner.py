"""One way to run a command on a host, and a scripted double for unit tests.

Everything above the host layer talks to a host through :class:`CommandRunner`:
``run`` an argument vector (quoted with :func:`shlex.join` on the far side, never
glued into a shell string by the caller) and ``open_tcp`` a stream *from* the
host, for checks of ports the operator cannot reach. The SSH implementation lives
in :mod:`bisect_tui.host.ssh`; :class:`ScriptedRunner` answers from a script so the
layers above can be tested without sockets.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

SUDO_PREFIX: tuple[str, ...] = ("sudo", "-n", "--")
"""Prepended to a command run with ``sudo=True``: never prompt for a password."""


@dataclass(frozen=True)
class CommandResult:
    """What one remote command did.

    Attributes:
        argv: The command as the caller gave it (without the sudo prefix).
        exit_status: The remote exit status; -1 when the host reported none.
        stdout: Standard output, decoded as UTF-8 (undecodable bytes replaced).
        stderr: Standard error, decoded likewise.
        seconds: Wall-clock time from sending the command to its exit.
        sudo: Whether the command ran through ``sudo -n``.
    """

    argv: tuple[str, ...]
    exit_status: int
    stdout: str
    stderr: str
    seconds: float
    sudo: bool = False

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.exit_status == 0

    def describe(self) -> str:
        """One line for an error message: the command, its status, its complaint.

        Returns:
            E.g. ``"systemctl restart nginx.service exited 1: Job failed"``.
        """
        said = first_line(self.stderr) or first_line(self.stdout)
        text = f"{loggable_command(self.argv)} exited {self.exit_status}"
        return f"{text}: {said}" if said else text


class Stream(Protocol):
    """The part of a socket the host-side checks use."""

    def sendall(self, data: bytes) -> None:
        """Send every byte of ``data``."""

    def recv(self, size: int) -> bytes:
        """Receive up to ``size`` bytes; ``b""`` at end of stream."""

    def settimeout(self, timeout: float | None) -> None:
        """Bound each later send or receive, in seconds (``None``: no bound)."""

    def close(self) -> None:
        """Close the stream."""


class CommandRunner(Protocol):
    """Runs commands on one host over one reused connection.

    Attributes:
        host: How the host is named in messages (as the operator wrote it).
    """

    host: str

    def run(
        self,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        stdin: str | None = None,
        timeout: float = 30.0,
    ) -> CommandResult:
        """Run ``argv`` on the host and wait for it to exit.

        Args:
            argv: The command and its arguments; quoted with :func:`shlex.join`.
            sudo: Run through ``sudo -n --`` (fails instead of prompting).
            stdin: Text fed to the command's standard input, then closed.
            timeout: Seconds to wait for the exit status.

        Returns:
            The result, whatever the exit status.

        Raises:
            HostError: The connection failed or the command outlived ``timeout``.
        """
        ...

    def open_tcp(self, host: str, port: int, timeout: float = 10.0) -> Stream:
        """Open a TCP stream from the host to ``host:port`` (as seen by the host).

        Raises:
            HostError: The host could not open the stream.
        """
        ...

    def close(self) -> None:
        """Close the connection; later calls raise :class:`HostError`."""
        ...


def remote_command_line(argv: Sequence[str], *, sudo: bool = False) -> str:
    """The exact shell line sent to the host for ``argv``.

    Args:
        argv: The command and its arguments.
        sudo: Whether to prefix ``sudo -n --``.

    Returns:
        Every word quoted with :func:`shlex.join`.
    """
    if not argv:
        raise ValueError("an empty command cannot be run")
    words = (*SUDO_PREFIX, *argv) if sudo else tuple(argv)
    return shlex.join(words)


def loggable_command(argv: Sequence[str], *, sudo: bool = False) -> str:
    """The command line for logs: a script passed to ``sh -c`` shows its title.

    The tool's fixed scripts start with a ``# title`` comment line; logging
    that instead of the whole script keeps one line per command.
    """
    words = list(argv)
    if len(words) > 2 and words[:2] == ["sh", "-c"] and words[2].startswith("# "):
        words[2] = "<" + words[2].splitlines()[0][2:] + ">"
    return remote_command_line(words, sudo=sudo)


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped; ``""`` when there is none."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


@dataclass(frozen=True)
class Reply:
    """A scripted answer to one command.

    Attributes:
        exit_status: The status to report.
        stdout: The standard output to report.
        stderr: The standard error to report.
    """

    exit_status: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class Call:
    """A command a :class:`ScriptedRunner` was asked to run."""

    argv: tuple[str, ...]
    sudo: bool
    stdin: str | None
    timeout: float


class UnexpectedCommand(AssertionError):
    """A :class:`ScriptedRunner` was asked to run a command nobody scripted."""


Handler = Callable[[Call], Reply | None]


@dataclass
class ScriptedStream:
    """A socket-like stream that answers with canned bytes and records what it got.

    Attributes:
        response: Bytes handed out by :meth:`recv`, in order.
        sent: Everything written with :meth:`sendall`.
        closed: Whether :meth:`close` was called.
        timeout: The last value given to :meth:`settimeout`.
    """

    response: bytes = b""
    sent: bytearray = field(default_factory=bytearray)
    closed: bool = False
    timeout: float | None = None

    def sendall(self, data: bytes) -> None:
        """Record ``data``."""
        self.sent.extend(data)

    def recv(self, size: int) -> bytes:
        """Hand out up to ``size`` bytes of the canned response."""
        chunk, self.response = self.response[:size], self.response[size:]
        return chunk

    def settimeout(self, timeout: float | None) -> None:
        """Record the timeout."""
        self.timeout = timeout

    def close(self) -> None:
        """Mark the stream closed."""
        self.closed = True


class ScriptedRunner:
    """A :class:`CommandRunner` that answers from a script and records every call.

    Replies are looked up by the exact argv (sudo or not); a list of replies is
    used in order, its last reply repeating. Commands without a reply go to the
    ``handler`` when one is given, else raise :class:`UnexpectedCommand`.

    Example::

        runner = ScriptedRunner({("systemctl", "--version"): Reply(0, "systemd 252")})
        runner.expect(["true"], sudo=True)
        runner.run(["systemctl", "--version"]).stdout  # "systemd 252"
    """

    def __init__(
        self,
        script: Mapping[tuple[str, ...], Reply | Sequence[Reply]] | None = None,
        *,
        host: str = "scripted-host",
        handler: Handler | None = None,
        streams: Mapping[tuple[str, int], bytes] | None = None,
    ) -> None:
        """Create a runner.

        Args:
            script: Replies by argv.
            host: The name used in messages.
            handler: Asked for a reply to any command not in the script; returning
                ``None`` means "not mine" and raises :class:`UnexpectedCommand`.
            streams: Canned responses for :meth:`open_tcp`, by ``(host, port)``.
        """
        self.host = host
        self.calls: list[Call] = []
        self.opened: list[tuple[str, int, ScriptedStream]] = []
        self.closed = False
        self._handler = handler
        self._streams = dict(streams or {})
        self._script: dict[tuple[str, ...], list[Reply]] = {}
        for argv, reply in (script or {}).items():
            replies = [reply] if isinstance(reply, Reply) else list(reply)
            self._script[tuple(argv)] = replies

    def expect(
        self,
        argv: Sequence[str],
        exit_status: int = 0,
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        """Add a reply for ``argv`` (after any replies already scripted for it)."""
        replies = self._script.setdefault(tuple(argv), [])
        replies.append(Reply(exit_status, stdout, stderr))

    def run(
        self,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        stdin: str | None = None,
        timeout: float = 30.0,
    ) -> CommandResult:
        """Answer ``argv`` from the script (see the class docstring)."""
        remote_command_line(argv, sudo=sudo)  # the same validation as a real host
        call = Call(tuple(argv), sudo, stdin, timeout)
        self.calls.append(call)
        reply = self._reply_for(call)
        return CommandResult(
            call.argv, reply.exit_status, reply.stdout, reply.stderr, 0.0, sudo
        )

    def _reply_for(self, call: Call) -> Reply:
        replies = self._script.get(call.argv)
        if replies:
            return replies.pop(0) if len(replies) > 1 else replies[0]
        reply = self._handler(call) if self._handler else None
        if reply is None:
            raise UnexpectedCommand(f"unscripted command: {shlex.join(call.argv)}")
        return reply

    def open_tcp(self, host: str, port: int, timeout: float = 10.0) -> ScriptedStream:
        """Return a stream answering with the canned response for ``host:port``."""
        if (host, port) not in self._streams:
            raise UnexpectedCommand(f"unscripted TCP stream to {host}:{port}")
        stream = ScriptedStream(self._streams[(host, port)])
        stream.settimeout(timeout)
        self.opened.append((host, port, stream))
        return stream

    def close(self) -> None:
        """Mark the runner closed."""
        self.closed = True

    def commands(self) -> list[str]:
        """Every call so far as the shell line a real host would have received."""
        return [remote_command_line(c.argv, sudo=c.sudo) for c in self.calls]
