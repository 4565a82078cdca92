"""Open an authenticated paramiko client, through ProxyJump hops, with clear errors.

Every way a connection can fail becomes one :class:`HostError` line naming the
host and the problem: no route, no SSH banner in time, unknown or changed host
key, refused login. Connect, banner and authentication are each bounded by
:data:`CONNECT_TIMEOUT` so nothing hangs before the first command.
"""

from __future__ import annotations

import logging
import socket

import paramiko

from bisect_tui.errors import HostError
from bisect_tui.host.hostkeys import HostKeyPolicy, changed_key_error, load_known_hosts
from bisect_tui.host.ssh_auth import KeyAuthStrategy, PassphrasePrompt
from bisect_tui.host.ssh_config import SshTarget

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
"""Seconds allowed for the TCP connect, the SSH banner and authentication each."""

KEEPALIVE_SECONDS = 15
"""Interval of SSH keepalive messages, so idle NAT and firewalls keep the flow."""

__all__ = ["CONNECT_TIMEOUT", "PassphrasePrompt", "open_client"]


def open_client(
    target: SshTarget,
    *,
    accept_new_host_key: bool = False,
    prompt: PassphrasePrompt | None = None,
) -> tuple[paramiko.SSHClient, list[paramiko.SSHClient]]:
    """Connect to ``target``, hop by hop when it has a ProxyJump.

    Returns:
        The client for the target and the hop clients, outermost first (they
        must stay open while the target's client is used).

    Raises:
        HostError: One line naming the host that failed and why.
    """
    hops: list[paramiko.SSHClient] = []
    sock: paramiko.Channel | None = None
    try:
        for hop in target.jumps:
            hop_client = _connect_one(hop, sock, accept_new_host_key, prompt)
            hops.append(hop_client)
            sock = _tunnel(hop_client, hop, _next_after(target, hop))
        client = _connect_one(target, sock, accept_new_host_key, prompt)
    except BaseException:
        for opened in reversed(hops):
            opened.close()
        raise
    return client, hops


def _next_after(target: SshTarget, hop: SshTarget) -> SshTarget:
    """The host a hop tunnels to: the next hop, or the target after the last."""
    chain = [*target.jumps, target]
    return chain[chain.index(hop) + 1]


def _tunnel(
    hop_client: paramiko.SSHClient, hop: SshTarget, following: SshTarget
) -> paramiko.Channel:
    hostname, port = following.hostname, following.port
    transport = hop_client.get_transport()
    assert transport is not None
    try:
        return transport.open_channel(
            "direct-tcpip", (hostname, port), ("127.0.0.1", 0), timeout=CONNECT_TIMEOUT
        )
    except (paramiko.SSHException, OSError) as exc:
        raise HostError(
            f"{hop.alias}: ProxyJump hop cannot reach {hostname}:{port}: {exc}"
        ) from exc


def _connect_one(
    target: SshTarget,
    sock: paramiko.Channel | None,
    accept_new: bool,
    prompt: PassphrasePrompt | None,
) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    load_known_hosts(client, target.known_hosts)
    client.set_missing_host_key_policy(
        HostKeyPolicy(target.known_hosts, accept_new=accept_new)
    )
    strategy = KeyAuthStrategy(target, prompt)
    try:
        client.connect(
            target.hostname,
            target.port,
            username=target.user,
            timeout=CONNECT_TIMEOUT,
            banner_timeout=CONNECT_TIMEOUT,
            auth_timeout=CONNECT_TIMEOUT,
            channel_timeout=CONNECT_TIMEOUT,
            sock=sock,
            auth_strategy=strategy,
        )
    except BaseException as exc:
        client.close()
        raise _connect_error(exc, target, strategy) from exc
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(KEEPALIVE_SECONDS)
    return client


def _connect_error(
    exc: BaseException, target: SshTarget, strategy: KeyAuthStrategy
) -> BaseException:
    where = target.describe()
    if isinstance(exc, HostError):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return changed_key_error(exc, target.key_name, target.known_hosts)
    if isinstance(exc, paramiko.AuthenticationException):
        return HostError(
            f"{where}: authentication failed (offered: "
            f"{strategy.describe_offered()}); check --user and --identity"
        )
    if isinstance(exc, socket.gaierror):
        return HostError(f"{where}: cannot resolve {target.hostname}: {exc}")
    if isinstance(exc, TimeoutError):
        return HostError(f"{where}: no answer within {CONNECT_TIMEOUT:.0f} s")
    if isinstance(exc, paramiko.SSHException | OSError):
        return HostError(f"{where}: cannot connect: {_reason(exc)}")
    return exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        errors = list(exc.errors.values())
        return str(getattr(errors[0], "strerror", "") or errors[0]) if errors else ""
    text = str(exc) or type(exc).__name__
    if "banner" in text.lower():
        return f"no SSH banner within {CONNECT_TIMEOUT:.0f} s ({text})"
    return text
