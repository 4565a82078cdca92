"""Options every host command shares, and turning them into a connection.

Spelled once here so ``preflight``, ``apply``, ``rollback``, ``status`` and
``check`` read the same: ``--host`` (an ``~/.ssh/config`` name works), ``--port``,
``--user``, ``--identity``, ``--known-hosts``, ``--accept-new-host-key``,
``--unit``, the HTTP and metrics ports the checklist uses, ``--yes`` and ``--plan``.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import logging
import sys

from bisect_tui.errors import UsageError
from bisect_tui.host.remote import normalise_unit
from bisect_tui.host.runner import CommandRunner
from bisect_tui.host.ssh import SshRunner
from bisect_tui.host.ssh_config import SshTarget, read_ssh_config, resolve_target

log = logging.getLogger(__name__)

DEFAULT_HTTP_PORT = 17080
"""The site's port on the host, as the design document's origin listens."""

DEFAULT_METRICS_PORT = 9113
"""The Prometheus exporter's port."""


def add_host_options(parser: argparse.ArgumentParser) -> None:
    """Add the connection, unit and confirmation options to ``parser``."""
    group = parser.add_argument_group("host")
    group.add_argument(
        "--testbed",
        action="store_true",
        help="connect to the running local testbed guest (harden-bisect testbed up)",
    )
    group.add_argument(
        "--host", metavar="HOST", help="the host: [user@]name, ~/.ssh/config honoured"
    )
    group.add_argument("--port", type=int, metavar="N", help="SSH port (default 22)")
    group.add_argument("--user", metavar="NAME", help="login name on the host")
    group.add_argument("--identity", metavar="FILE", help="private key to offer first")
    group.add_argument(
        "--known-hosts",
        metavar="FILE",
        help="known_hosts file to check host keys against (default ~/.ssh/known_hosts)",
    )
    group.add_argument(
        "--ssh-config", metavar="FILE", help="SSH client configuration to read"
    )
    group.add_argument(
        "--accept-new-host-key",
        action="store_true",
        help="trust an unknown host key and record it (a changed key is refused)",
    )
    group.add_argument(
        "--unit", default="nginx.service", help="the service unit (default %(default)s)"
    )
    group.add_argument(
        "--http-port",
        type=int,
        default=DEFAULT_HTTP_PORT,
        metavar="N",
        help="the site's port",
    )
    group.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        metavar="N",
        help="exporter port",
    )
    group.add_argument(
        "--yes", action="store_true", help="restart the unit without asking"
    )
    group.add_argument(
        "--plan",
        action="store_true",
        help="print the drop-in and every command, change nothing",
    )


def fill_from_testbed(args: argparse.Namespace) -> None:
    """With ``--testbed``, fill the connection options from the running guest.

    Options given on the command line win; the HTTP and metrics ports are the
    guest's forwarded ports unless given.

    Raises:
        UsageError: No testbed guest is running.
    """
    if not getattr(args, "testbed", False):
        return
    from bisect_tui.testbed.lifecycle import running_state
    from bisect_tui.testbed.paths import TestbedPaths, resolve_root

    state = running_state(TestbedPaths(resolve_root()))
    if state is None:
        raise UsageError(
            "no testbed guest is running; start one: harden-bisect testbed up"
        )
    record = state.record
    args.host = args.host or record.host
    args.port = args.port or record.ports.ssh
    args.user = args.user or record.user
    args.identity = args.identity or str(record.identity)
    args.known_hosts = args.known_hosts or str(record.known_hosts)
    if args.http_port == DEFAULT_HTTP_PORT:
        args.http_port = record.ports.http
    if args.metrics_port == DEFAULT_METRICS_PORT:
        args.metrics_port = record.ports.metrics


def target_from_args(args: argparse.Namespace) -> SshTarget:
    """Resolve ``--host`` and friends against the SSH configuration.

    Raises:
        UsageError: No ``--host`` was given.
    """
    if not args.host:
        raise UsageError("name the host with --host HOST")
    return resolve_target(
        args.host,
        port=args.port,
        user=args.user,
        identity=args.identity,
        known_hosts=args.known_hosts,
        config=read_ssh_config(args.ssh_config),
    )


def connect_from_args(args: argparse.Namespace) -> CommandRunner:
    """Connect and authenticate as the options say, before anything else runs.

    Raises:
        UsageError: No ``--host``.
        HostError: Unreachable, host key refused, or authentication failed.
    """
    prompt = _ask_passphrase if sys.stdin.isatty() else None
    return SshRunner.connect(
        target_from_args(args),
        accept_new_host_key=args.accept_new_host_key,
        prompt=prompt,
    )


def unit_from_args(args: argparse.Namespace) -> str:
    """``--unit`` as a full service unit name."""
    return normalise_unit(args.unit)


def confirm_restart(args: argparse.Namespace, unit: str) -> None:
    """Ask before the first restart of ``unit``, unless ``--yes`` or the testbed.

    Raises:
        UsageError: Not confirmed, or no terminal to ask on and no ``--yes``.
    """
    target = target_from_args(args)
    if args.yes or is_local_testbed(target):
        return
    where = f"{unit} on {target.alias}"
    if not sys.stdin.isatty():
        raise UsageError(f"this restarts {where}; pass --yes to confirm")
    answer = input(f"Every trial restarts {where}. Continue? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("not confirmed; nothing was changed")


def is_local_testbed(target: SshTarget) -> bool:
    """Whether ``target`` is the local testbed guest (loopback, its SSH port)."""
    try:
        if not ipaddress.ip_address(target.hostname).is_loopback:
            return False
    except ValueError:
        return False
    from bisect_tui.testbed.paths import TestbedPaths, resolve_root
    from bisect_tui.testbed.state import load_state

    state = load_state(TestbedPaths(resolve_root()))
    return state is not None and state.record.ports.ssh == target.port


def _ask_passphrase(path: str) -> str | None:
    answer = getpass.getpass(f"Passphrase for {path} (empty to skip): ")
    return answer or None
