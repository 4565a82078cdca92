"""The SSH runner against a real paramiko server in this process.

The server speaks the SSH protocol over a loopback socket, so host-key checking,
authentication, quoting and timeouts are exercised for real; what runs on the far
side is a table of canned commands. The same behaviours are proven against the
testbed's OpenSSH in tests/integration/test_host_ssh.py.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import pytest

from bisect_tui.errors import HostError
from bisect_tui.host.hostkeys import (
    HostKeyChangedError,
    UnknownHostKeyError,
    fingerprint,
    record_host_key,
)
from bisect_tui.host.ssh import SshRunner
from bisect_tui.host.ssh_config import SshTarget

USER = "operator"


class _Server(paramiko.ServerInterface):
    def __init__(self, key: paramiko.PKey, seen: list[str]) -> None:
        self.key = key
        self.seen = seen

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == USER and key == self.key:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(
        self, channel: paramiko.Channel, command: bytes
    ) -> bool:
        line = command.decode()
        self.seen.append(line)
        threading.Thread(target=_execute, args=(channel, line), daemon=True).start()
        return True


def _execute(channel: paramiko.Channel, line: str) -> None:
    # Let the server acknowledge the exec request before answering it.
    time.sleep(0.05)
    if line == "sleep":
        time.sleep(5)
    elif line == "sudo -n -- cat":
        data = b""
        while chunk := channel.recv(1024):
            data += chunk
        channel.sendall(data)
    elif line.startswith("echo "):
        channel.sendall(line[5:].encode() + b"\n")
    elif line == "late-output":
        # sshd may report the exit before it has relayed all of the output.
        channel.send_exit_status(0)
        time.sleep(0.8)
        channel.sendall(b"EXPOSURE 9.6\n")
        channel.close()
        return
    elif line == "fail":
        channel.sendall_stderr(b"it broke\n")
        channel.send_exit_status(3)
        channel.close()
        return
    channel.send_exit_status(0)
    channel.close()


@dataclass
class FakeHost:
    """A listening SSH server with its host key and the commands it saw."""

    port: int
    host_key: paramiko.PKey
    client_key_path: Path
    seen: list[str] = field(default_factory=list)

    def target(self, known_hosts: Path, user: str = USER) -> SshTarget:
        return SshTarget(
            alias="fake",
            hostname="127.0.0.1",
            port=self.port,
            user=user,
            identities=(str(self.client_key_path),),
            identities_only=True,
            known_hosts=known_hosts,
        )


@pytest.fixture
def fake_host(tmp_path: Path) -> Iterator[FakeHost]:
    host_key = paramiko.ECDSAKey.generate()
    client_key = paramiko.ECDSAKey.generate()
    key_path = tmp_path / "id_ecdsa"
    client_key.write_private_key_file(str(key_path))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    host = FakeHost(listener.getsockname()[1], host_key, key_path)
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(host_key)
            transport.start_server(server=_Server(client_key, host.seen))
            transports.append(transport)

    threading.Thread(target=serve, daemon=True).start()
    yield host
    listener.close()
    for transport in transports:
        transport.close()


def known(tmp_path: Path, host: FakeHost, key: paramiko.PKey | None = None) -> Path:
    path = tmp_path / "known_hosts"
    record_host_key(path, f"[127.0.0.1]:{host.port}", key or host.host_key)
    return path


def test_unknown_host_key_is_refused_with_fingerprint(
    fake_host: FakeHost, tmp_path: Path
) -> None:
    """An unknown key stops the connection and says how to accept it."""
    known_hosts = tmp_path / "known_hosts"
    with pytest.raises(UnknownHostKeyError) as caught:
        SshRunner.connect(fake_host.target(known_hosts))
    message = str(caught.value)
    assert fingerprint(fake_host.host_key) in message
    assert "--accept-new-host-key" in message
    assert caught.value.exit_code == 3
    assert not known_hosts.exists()


def test_accept_new_records_the_key(fake_host: FakeHost, tmp_path: Path) -> None:
    """--accept-new-host-key records the key; the next connection needs no flag."""
    known_hosts = tmp_path / "ssh" / "known_hosts"
    SshRunner.connect(fake_host.target(known_hosts), accept_new_host_key=True).close()
    line = known_hosts.read_text().strip()
    assert line.startswith(f"[127.0.0.1]:{fake_host.port} ecdsa-sha2-nistp256 ")
    assert oct(known_hosts.stat().st_mode & 0o777) == "0o600"
    SshRunner.connect(fake_host.target(known_hosts)).close()


def test_changed_key_is_refused_even_with_accept_new(
    fake_host: FakeHost, tmp_path: Path
) -> None:
    """A key that differs from the recorded one is never accepted."""
    known_hosts = known(tmp_path, fake_host, paramiko.ECDSAKey.generate())
    with pytest.raises(HostKeyChangedError) as caught:
        SshRunner.connect(fake_host.target(known_hosts), accept_new_host_key=True)
    assert "HOST KEY CHANGED" in str(caught.value)
    assert "ssh-keygen -R" in str(caught.value)


def test_wrong_user_fails_authentication(fake_host: FakeHost, tmp_path: Path) -> None:
    """A refused login is one HostError naming the user and what was offered."""
    target = fake_host.target(known(tmp_path, fake_host), user="nobody")
    with pytest.raises(HostError) as caught:
        SshRunner.connect(target)
    message = str(caught.value)
    assert message.startswith(f"nobody@127.0.0.1:{fake_host.port}: authentication")
    assert str(fake_host.client_key_path) in message


def test_closed_port_fails_in_one_line(tmp_path: Path) -> None:
    """Nothing listening: a HostError saying so."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    target = SshTarget("gone", "127.0.0.1", port, USER, known_hosts=tmp_path / "k")
    with pytest.raises(HostError) as caught:
        SshRunner.connect(target)
    assert "cannot connect" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_commands_are_quoted_and_results_collected(
    fake_host: FakeHost, tmp_path: Path
) -> None:
    """Each argv arrives as one shell-quoted line; output and status come back."""
    runner = SshRunner.connect(fake_host.target(known(tmp_path, fake_host)))
    try:
        echoed = runner.run(["echo", "a b", "$HOME"])
        piped = runner.run(["cat"], sudo=True, stdin="drop-in\n")
        failed = runner.run(["fail"])
    finally:
        runner.close()
    assert fake_host.seen[0] == "echo 'a b' '$HOME'"
    assert echoed.stdout == "'a b' '$HOME'\n" and echoed.ok
    assert piped.stdout == "drop-in\n" and piped.sudo
    assert failed.exit_status == 3 and failed.stderr == "it broke\n"
    assert failed.describe() == "fail exited 3: it broke"


def test_command_timeout_raises(fake_host: FakeHost, tmp_path: Path) -> None:
    """A command that outlives its timeout is a HostError, not a hang."""
    runner = SshRunner.connect(fake_host.target(known(tmp_path, fake_host)))
    started = time.monotonic()
    try:
        with pytest.raises(HostError) as caught:
            runner.run(["sleep"], timeout=0.5)
    finally:
        runner.close()
    assert time.monotonic() - started < 3
    assert "did not finish within" in str(caught.value)


def test_output_after_the_exit_status_is_not_lost(
    fake_host: FakeHost, tmp_path: Path
) -> None:
    """The end of a command is the end of its output, not its exit status."""
    runner = SshRunner.connect(fake_host.target(known(tmp_path, fake_host)))
    try:
        result = runner.run(["late-output"])
    finally:
        runner.close()
    assert result.exit_status == 0
    assert result.stdout == "EXPOSURE 9.6\n"
