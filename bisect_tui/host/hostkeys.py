"""Host-key checking as an explicit policy: unknown keys refused, changed keys fatal.

A tool that restarts services as root must know which machine it talks to. The
policy follows OpenSSH's ``StrictHostKeyChecking=accept-new`` only when asked:
an unknown key is refused with its SHA256 fingerprint unless the operator passes
``--accept-new-host-key``, which records it in the known_hosts file. A key that
differs from the recorded one is refused without any way around it; paramiko
raises :class:`paramiko.BadHostKeyException` for that, turned into
:class:`HostKeyChangedError` here.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

import paramiko

from bisect_tui.errors import HostError

log = logging.getLogger(__name__)


def fingerprint(key: paramiko.PKey) -> str:
    """Return a key's fingerprint as OpenSSH prints it: ``SHA256:base64``."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def key_label(key: paramiko.PKey) -> str:
    """Return e.g. ``ssh-ed25519 SHA256:…`` for messages."""
    return f"{key.get_name()} {fingerprint(key)}"


class UnknownHostKeyError(HostError):
    """The host offered a key the known_hosts file does not hold.

    Attributes:
        hostname: The name the key would be recorded under (``[host]:port``).
        key_fingerprint: The offered key's SHA256 fingerprint.
        known_hosts: The file it would be recorded in.
    """

    def __init__(self, hostname: str, key: paramiko.PKey, known_hosts: Path) -> None:
        super().__init__(
            f"{hostname}: unknown host key {key_label(key)}; if that is the "
            f"host's key, run again with --accept-new-host-key to record it in "
            f"{known_hosts}"
        )
        self.hostname = hostname
        self.key_fingerprint = fingerprint(key)
        self.known_hosts = known_hosts


class HostKeyChangedError(HostError):
    """The host's key differs from the recorded one: refused, full stop."""

    def __init__(
        self,
        hostname: str,
        offered: paramiko.PKey,
        expected: paramiko.PKey,
        known_hosts: Path,
    ) -> None:
        super().__init__(
            f"{hostname}: HOST KEY CHANGED: offered {key_label(offered)}, "
            f"{known_hosts} has {key_label(expected)}; refusing to connect "
            f"(if the change is expected, remove the old key with "
            f"ssh-keygen -R '{hostname}' -f {known_hosts})"
        )
        self.hostname = hostname


class HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Decides what happens to a key the known_hosts files do not hold.

    Attributes:
        known_hosts: The file new keys are recorded in.
        accept_new: Record unknown keys instead of refusing them.
    """

    def __init__(self, known_hosts: Path, *, accept_new: bool = False) -> None:
        """Create the policy.

        Args:
            known_hosts: The file new keys are recorded in.
            accept_new: Record unknown keys instead of refusing them.
        """
        self.known_hosts = known_hosts
        self.accept_new = accept_new

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        """Refuse ``key``, or record it when new keys are accepted.

        Raises:
            UnknownHostKeyError: New keys are not accepted.
        """
        if not self.accept_new:
            raise UnknownHostKeyError(hostname, key, self.known_hosts)
        record_host_key(self.known_hosts, hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)
        log.warning(
            "recorded new host key %s for %s in %s",
            key_label(key),
            hostname,
            self.known_hosts,
        )


def record_host_key(known_hosts: Path, hostname: str, key: paramiko.PKey) -> None:
    """Append one ``hostname keytype base64`` line to ``known_hosts``.

    Appending keeps every line already there (comments, hashed names) intact;
    the directory is created with mode 0700 and the file with 0600 if missing.
    """
    known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
    needs_newline = _ends_without_newline(known_hosts)
    fd = os.open(known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(("\n" if needs_newline else "") + line)


def _ends_without_newline(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except FileNotFoundError:
        return False


def load_known_hosts(client: paramiko.SSHClient, known_hosts: Path) -> None:
    """Load the operator's file and the system-wide one into ``client``.

    A missing file is no error: every key is then unknown.
    """
    system = Path("/etc/ssh/ssh_known_hosts")
    if system.is_file():
        client.load_system_host_keys(str(system))
    if known_hosts.is_file():
        client.load_host_keys(str(known_hosts))


def changed_key_error(
    error: paramiko.BadHostKeyException, hostname: str, known_hosts: Path
) -> HostKeyChangedError:
    """Turn paramiko's changed-key exception into the tool's error."""
    return HostKeyChangedError(hostname, error.key, error.expected_key, known_hosts)
