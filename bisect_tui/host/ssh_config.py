"""Where to connect and as whom: command-line options over ``~/.ssh/config``.

An operator who reaches the host with ``ssh NAME`` should reach it with
``--host NAME`` too, so HostName, User, Port, IdentityFile, IdentitiesOnly,
UserKnownHostsFile and ProxyJump are read from the OpenSSH client configuration.
Options given on the command line win, as they do for ``ssh``.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, replace
from pathlib import Path

import paramiko

from bisect_tui.errors import HostError

DEFAULT_SSH_CONFIG = Path("~/.ssh/config")
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


@dataclass(frozen=True)
class SshTarget:
    """A resolved SSH destination.

    Attributes:
        alias: The host as the operator named it (for messages).
        hostname: The address or name actually connected to.
        port: The TCP port.
        user: The login name.
        identities: Private key files to offer first, in order.
        identities_only: Offer only ``identities`` (no agent, no default keys).
        known_hosts: The file host keys are checked against and recorded in.
        jumps: The ProxyJump hops to go through, outermost first.
    """

    alias: str
    hostname: str
    port: int
    user: str
    identities: tuple[str, ...] = ()
    identities_only: bool = False
    known_hosts: Path = DEFAULT_KNOWN_HOSTS
    jumps: tuple[SshTarget, ...] = ()

    @property
    def key_name(self) -> str:
        """The name host keys are filed under: ``host`` or ``[host]:port``."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"

    def describe(self) -> str:
        """E.g. ``operator@127.0.0.1:2222``."""
        return f"{self.user}@{self.hostname}:{self.port}"


def read_ssh_config(path: Path | None) -> paramiko.SSHConfig:
    """Parse an OpenSSH client configuration; a missing default file is empty.

    Raises:
        HostError: An explicitly named file is missing or unreadable.
    """
    target = (path or DEFAULT_SSH_CONFIG).expanduser()
    if not target.is_file():
        if path is not None:
            raise HostError(f"SSH configuration {target} does not exist")
        return paramiko.SSHConfig()
    try:
        return paramiko.SSHConfig.from_path(str(target))
    except (OSError, paramiko.ConfigParseError) as exc:
        raise HostError(f"SSH configuration {target}: {exc}") from exc


def resolve_target(
    host: str,
    *,
    port: int | None = None,
    user: str | None = None,
    identity: str | None = None,
    known_hosts: str | None = None,
    config: paramiko.SSHConfig | None = None,
) -> SshTarget:
    """Combine command-line options with the SSH configuration for ``host``.

    Args:
        host: What the operator typed, possibly ``user@host``.
        port: ``--port``, or ``None`` for the configuration's (else 22).
        user: ``--user``, or ``None`` for the configuration's (else the local one).
        identity: ``--identity``: a private key file offered first.
        known_hosts: ``--known-hosts``: the file to check and record keys in.
        config: A parsed SSH configuration; ``None`` means an empty one.
    """
    config = config or paramiko.SSHConfig()
    login, _, name = host.rpartition("@")
    found = config.lookup(name)
    identities = [str(Path(f).expanduser()) for f in found.get("identityfile", [])]
    if identity:
        identities.insert(0, str(Path(identity).expanduser()))
    target = SshTarget(
        alias=name,
        hostname=str(found.get("hostname", name)),
        port=port or int(found.get("port", 22)),
        user=user or login or str(found.get("user", "")) or getpass.getuser(),
        identities=tuple(dict.fromkeys(identities)),
        identities_only=str(found.get("identitiesonly", "no")).lower() == "yes",
        known_hosts=_known_hosts(known_hosts, found),
    )
    hops = _proxy_jump(found)
    if not hops:
        return target
    jumps = tuple(_resolve_hop(hop, target, config) for hop in hops.split(","))
    return replace(target, jumps=jumps)


def _resolve_hop(spec: str, target: SshTarget, config: paramiko.SSHConfig) -> SshTarget:
    """Resolve one ProxyJump hop through the same configuration.

    The hop's own ProxyJump is not followed; list every hop on the target's line.
    """
    name, port, user = split_jump(spec.strip())
    hop = resolve_target(
        name, port=port, user=user, known_hosts=str(target.known_hosts), config=config
    )
    if not hop.identities:
        hop = replace(hop, identities=target.identities)
    return replace(hop, jumps=())


def _known_hosts(option: str | None, found: paramiko.SSHConfigDict) -> Path:
    if option:
        return Path(option).expanduser()
    configured = str(found.get("userknownhostsfile", "")).split()
    return Path(configured[0] if configured else DEFAULT_KNOWN_HOSTS).expanduser()


def _proxy_jump(found: paramiko.SSHConfigDict) -> str:
    value = str(found.get("proxyjump", "")).strip()
    return "" if value.lower() == "none" else value


def split_jump(hop: str) -> tuple[str, int | None, str | None]:
    """Split a ProxyJump hop ``[user@]host[:port]`` into host, port and user."""
    user, _, rest = hop.rpartition("@")
    name, port = rest, None
    if rest.startswith("["):
        name, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") else None
    elif rest.count(":") == 1:
        name, _, number = rest.partition(":")
        port = int(number)
    return name, port, user or None
