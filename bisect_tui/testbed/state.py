"""The running guest's record and state, as read and written in ``run/``.

The record is what a user of the guest needs (where it listens, how to log
in, which unit flavour serves); the state adds what ``down`` needs (the qemu
pid, the image it booted). Both survive as one JSON file, so any process
sharing the testbed directory finds the guest another process started.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bisect_tui.testbed.paths import TestbedPaths

logger = logging.getLogger(__name__)

FLAVOURS = ("debian", "nixos")
"""nginx unit flavours: Debian's packaged unit, or one shaped like NixOS's."""

GUEST_USER = "operator"
QEMU_NAME = "harden-bisect-testbed"
"""The ``-name`` of the qemu process, used to recognise it by its pid."""


@dataclass(frozen=True)
class Ports:
    """Host ports on 127.0.0.1 forwarded to the guest.

    Attributes:
        ssh: Forwarded to the guest's sshd (22).
        http: Forwarded to nginx's HLS origin site (17080).
        metrics: Forwarded to the nginx exporter (9113).
    """

    ssh: int
    http: int
    metrics: int


@dataclass(frozen=True)
class GuestRecord:
    """How to reach the running guest.

    Attributes:
        host: Always ``127.0.0.1``: every port is forwarded to loopback only.
        ports: The forwarded ports.
        user: The login with passwordless sudo.
        identity: Private key file of ``user``.
        known_hosts: File pinning the guest's host key at ``[host]:ssh``.
        flavour: The nginx unit flavour in charge (``debian`` or ``nixos``).
        accel: The qemu accelerator the guest runs under (``kvm`` or ``tcg``).
    """

    host: str
    ports: Ports
    user: str
    identity: Path
    known_hosts: Path
    flavour: str
    accel: str

    @property
    def args(self) -> list[str]:
        """Arguments pointing any harden-bisect command at this guest."""
        return [
            *("--host", self.host, "--port", str(self.ports.ssh)),
            *("--user", self.user, "--identity", str(self.identity)),
            *("--known-hosts", str(self.known_hosts)),
            *("--http-port", str(self.ports.http)),
            *("--metrics-port", str(self.ports.metrics)),
        ]

    def to_json(self) -> dict[str, Any]:
        """Return the record as printed by ``testbed up --json``."""
        return {
            "host": self.host,
            "ports": asdict(self.ports),
            "user": self.user,
            "identity": str(self.identity),
            "known_hosts": str(self.known_hosts),
            "flavour": self.flavour,
            "accel": self.accel,
            "args": self.args,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuestRecord:
        """Rebuild a record from :meth:`to_json` output."""
        return cls(
            host=str(data["host"]),
            ports=Ports(**{k: int(v) for k, v in data["ports"].items()}),
            user=str(data["user"]),
            identity=Path(data["identity"]),
            known_hosts=Path(data["known_hosts"]),
            flavour=str(data["flavour"]),
            accel=str(data.get("accel", "tcg")),
        )


@dataclass(frozen=True)
class GuestState:
    """A booted guest: its record plus what is needed to stop it.

    Attributes:
        record: How to reach it.
        pid: The qemu process id.
        image: The recipe hash of the image it booted.
        started_at: Unix time the boot began.
        boot_seconds: Seconds from starting qemu to the first SSH login.
    """

    record: GuestRecord
    pid: int
    image: str
    started_at: float
    boot_seconds: float

    def with_flavour(self, flavour: str) -> GuestState:
        """Return a copy whose record names another unit flavour."""
        return replace(self, record=replace(self.record, flavour=flavour))


def save_state(paths: TestbedPaths, state: GuestState) -> None:
    """Write ``state`` atomically to the run directory."""
    data = {
        "record": state.record.to_json(),
        "pid": state.pid,
        "image": state.image,
        "started_at": state.started_at,
        "boot_seconds": state.boot_seconds,
    }
    temporary = paths.state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    temporary.replace(paths.state_file)


def load_state(paths: TestbedPaths) -> GuestState | None:
    """Return the recorded guest state, or ``None`` if none is recorded."""
    try:
        data = json.loads(paths.state_file.read_text())
        return GuestState(
            record=GuestRecord.from_json(data["record"]),
            pid=int(data["pid"]),
            image=str(data["image"]),
            started_at=float(data["started_at"]),
            boot_seconds=float(data["boot_seconds"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring unreadable %s: %s", paths.state_file, exc)
        return None


def clear_state(paths: TestbedPaths) -> None:
    """Remove the state, the overlay, the known_hosts file and qemu's leftovers."""
    for path in (
        paths.state_file,
        paths.overlay,
        paths.known_hosts,
        paths.pid_file,
        paths.qmp_socket,
    ):
        path.unlink(missing_ok=True)


def qemu_running(pid: int) -> bool:
    """Whether ``pid`` is alive and is a testbed qemu (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return QEMU_NAME.encode() in cmdline and b"qemu-system" in cmdline


def wait_for_exit(pid: int, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``pid`` to go away; True if it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not qemu_running(pid):
            return True
        time.sleep(0.2)
    return not qemu_running(pid)


def process_exists(pid: int) -> bool:
    """Whether any process with ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
