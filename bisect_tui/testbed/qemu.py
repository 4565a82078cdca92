"""Start and stop the guest's qemu process.

qemu boots the image's kernel and initrd directly, on a fresh qcow2 overlay of
the pristine disk, with user-mode networking that reaches nothing outside
(``restrict=on``) and forwards three ports from 127.0.0.1 only. It daemonizes
after setting up the forwards, so a port already taken fails the start, and
writes its pid to a file ``down`` reads later.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bisect_tui.testbed.build import Image
from bisect_tui.testbed.errors import TestbedError
from bisect_tui.testbed.paths import TestbedPaths
from bisect_tui.testbed.state import QEMU_NAME, Ports, wait_for_exit

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
GUEST_PORTS = Ports(ssh=22, http=17080, metrics=9113)
"""Where the guest listens; the host side of each forward is chosen at boot."""

KERNEL_ARGS = " ".join(
    (
        "root=/dev/vda",
        "rw",
        "console=ttyS0",
        "fsck.mode=skip",
        "systemd.show_status=no",
        "net.ifnames=0",
    )
)


@dataclass(frozen=True)
class MachineSpec:
    """What to boot and how.

    Attributes:
        accel: ``kvm`` or ``tcg``.
        ports: Host ports on 127.0.0.1 to forward to :data:`GUEST_PORTS`.
        memory_mib: Guest memory in MiB.
        cpus: Virtual CPUs.
    """

    accel: str
    ports: Ports
    memory_mib: int = 1024
    cpus: int = 2


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((LOOPBACK, port)) == 0


def qemu_command(image: Image, paths: TestbedPaths, spec: MachineSpec) -> list[str]:
    """Return the qemu command line that boots ``image`` as ``spec`` says."""
    forwards = ",".join(
        f"hostfwd=tcp:{LOOPBACK}:{host}-:{guest}"
        for host, guest in (
            (spec.ports.ssh, GUEST_PORTS.ssh),
            (spec.ports.http, GUEST_PORTS.http),
            (spec.ports.metrics, GUEST_PORTS.metrics),
        )
    )
    if spec.accel == "kvm":
        accel = ["-accel", "kvm", "-cpu", "host"]
    else:
        accel = ["-accel", "tcg,thread=multi", "-cpu", "max"]
    return [
        "qemu-system-x86_64",
        *("-name", QEMU_NAME, "-nodefaults", "-no-user-config"),
        *accel,
        *("-smp", str(spec.cpus), "-m", str(spec.memory_mib)),
        *("-display", "none", "-serial", f"file:{paths.console_log}"),
        *("-kernel", str(image.kernel), "-initrd", str(image.initrd)),
        *("-append", KERNEL_ARGS),
        "-drive",
        f"file={paths.overlay},if=virtio,format=qcow2,cache=unsafe,discard=unmap",
        *("-netdev", f"user,id=net0,restrict=on,{forwards}"),
        *("-device", "virtio-net-pci,netdev=net0"),
        *("-device", "virtio-rng-pci"),
        *("-qmp", f"unix:{paths.qmp_socket},server=on,wait=off"),
        *("-pidfile", str(paths.pid_file), "-daemonize"),
    ]


def start(image: Image, paths: TestbedPaths, spec: MachineSpec) -> int:
    """Create a fresh overlay, start qemu in the background, return its pid.

    Raises:
        TestbedError: qemu refused to start (e.g. a port was taken).
    """
    paths.ensure()
    paths.overlay.unlink(missing_ok=True)
    paths.pid_file.unlink(missing_ok=True)
    paths.console_log.write_bytes(b"")
    subprocess.run(
        [
            *("qemu-img", "create", "-q", "-f", "qcow2"),
            *("-F", "raw", "-b", str(image.disk), str(paths.overlay)),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    command = qemu_command(image, paths, spec)
    logger.info("starting qemu (%s): %s", spec.accel, " ".join(command))
    result = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise TestbedError(
            f"qemu failed to start (exit {result.returncode}): "
            + (detail[-1] if detail else "no message")
        )
    pid = int(paths.pid_file.read_text().strip())
    logger.info("qemu running as pid %d", pid)
    return pid


def request_powerdown(paths: TestbedPaths) -> bool:
    """Press the guest's ACPI power button; True if qemu took the request."""
    return _qmp(paths.qmp_socket, "system_powerdown")


def stop(pid: int, paths: TestbedPaths, *, grace: float) -> None:
    """Make sure qemu ``pid`` is gone: wait ``grace`` s, then quit, then kill."""
    if wait_for_exit(pid, grace):
        return
    logger.info("guest still up after %.0f s; quitting qemu", grace)
    _qmp(paths.qmp_socket, "quit")
    if wait_for_exit(pid, 5.0):
        return
    logger.warning("qemu %d ignored quit; killing it", pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if not wait_for_exit(pid, 5.0):
        raise TestbedError(f"qemu process {pid} survived SIGKILL")


def _qmp(socket_path: Path, command: str) -> bool:
    """Send one QMP command; False when qemu is unreachable or refuses it."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5.0)
            conn.connect(str(socket_path))
            stream = conn.makefile("rwb")
            stream.readline()  # greeting
            for execute in ("qmp_capabilities", command):
                stream.write(json.dumps({"execute": execute}).encode() + b"\n")
                stream.flush()
                reply = _read_reply(stream.readline, execute)
                if "error" in reply:
                    logger.warning("QMP %s refused: %s", execute, reply["error"])
                    return False
            return True
    except OSError as exc:
        logger.debug("QMP %s failed: %s", command, exc)
        return False


def _read_reply(readline: Callable[[], bytes], execute: str) -> dict[str, object]:
    """Skip asynchronous events until the reply to ``execute`` arrives."""
    while True:
        line = readline()
        if not line:
            return {"error": f"connection closed awaiting {execute}"}
        message: dict[str, object] = json.loads(line)
        if "return" in message or "error" in message:
            return message
