"""Talk to the booted guest: pin its host key, log in, run commands, probe HTTP.

The testbed uses the plain ``ssh`` client here (batch mode, the pinned
known_hosts file, strict host key checking): it is how an operator reaches the
guest too, and it keeps the testbed independent of the product's own SSH layer.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bisect_tui.testbed.errors import TestbedError
from bisect_tui.testbed.state import GuestRecord

logger = logging.getLogger(__name__)

SSH_OPTIONS = (
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "LogLevel=ERROR",
)


def write_known_hosts(path: Path, host: str, port: int, host_key: Path) -> None:
    """Pin the guest's host key for ``[host]:port``, as OpenSSH and paramiko read.

    Args:
        path: The known_hosts file to (over)write.
        host: The address clients connect to.
        port: The forwarded SSH port; a non-22 port is written ``[host]:port``.
        host_key: The guest's ``ssh_host_ed25519_key.pub``.
    """
    key_type, key_data = host_key.read_text().split()[:2]
    name = host if port == 22 else f"[{host}]:{port}"
    path.write_text(f"{name} {key_type} {key_data}\n")


def ssh_command(record: GuestRecord, remote: str) -> list[str]:
    """Return an ``ssh`` argv that runs the shell command ``remote`` on the guest."""
    return [
        "ssh",
        *SSH_OPTIONS,
        *("-o", f"UserKnownHostsFile={record.known_hosts}"),
        *("-i", str(record.identity), "-p", str(record.ports.ssh)),
        f"{record.user}@{record.host}",
        remote,
    ]


def run(
    record: GuestRecord, remote: str, *, timeout: float = 60.0, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``remote`` on the guest over SSH and return the finished process.

    Raises:
        TestbedError: ``check`` is set and the command failed or timed out.
    """
    command = ssh_command(record, remote)
    logger.debug("guest$ %s", remote)
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise TestbedError(
            f"guest command timed out after {timeout:.0f} s: {remote}"
        ) from exc
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise TestbedError(
            f"guest command failed (exit {result.returncode}): {remote}"
            + (f": {detail[-1]}" if detail else "")
        )
    return result


def sudo(record: GuestRecord, *argv: str, timeout: float = 60.0) -> str:
    """Run ``argv`` as root on the guest (``sudo -n``) and return its stdout."""
    remote = "sudo -n " + shlex.join(argv)
    return run(record, remote, timeout=timeout).stdout


def wait_for_login(
    record: GuestRecord,
    *,
    timeout: float,
    alive: Callable[[], bool] | None = None,
) -> float:
    """Wait until an SSH login on the guest succeeds; return the seconds waited.

    slirp accepts a forwarded connection before the guest listens, so only a
    completed login proves sshd is up.

    Args:
        record: The guest.
        timeout: Seconds to wait before giving up.
        alive: Optional callable returning False once the guest died; the
            wait then stops early.

    Raises:
        TestbedError: No login within ``timeout``, or the guest died.
    """
    started = time.monotonic()
    last = ""
    while time.monotonic() - started < timeout:
        if alive is not None and not alive():
            raise TestbedError("the guest stopped while booting")
        result = run(record, "true", timeout=30.0, check=False)
        if result.returncode == 0:
            return time.monotonic() - started
        last = result.stderr.strip()
        time.sleep(1.0)
    raise TestbedError(
        f"no SSH login on port {record.ports.ssh} within {timeout:.0f} s"
        + (f" (last error: {last})" if last else "")
    )


def http_get(port: int, path: str, *, timeout: float = 5.0) -> tuple[int, str]:
    """GET ``http://127.0.0.1:port/path``; return status and body (0 if none)."""
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, urllib.error.URLError):
        return 0, ""


def wait_for_health(port: int, *, timeout: float) -> float:
    """Wait until ``/health`` answers ``OK`` through the forward; return seconds.

    Raises:
        TestbedError: It did not within ``timeout``.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status, body = http_get(port, "/health")
        if status == 200 and body.strip() == "OK":
            return time.monotonic() - started
        time.sleep(0.5)
    raise TestbedError(
        f"http://127.0.0.1:{port}/health did not answer OK within {timeout:.0f} s"
    )
