"""Choose qemu's accelerator: KVM only where it was seen to boot a kernel.

``/dev/kvm`` can exist and open fine on a host where KVM still cannot run a
stock kernel (nested virtualisation without vmx/svm exposed: the guest crawls,
then stops with an emulation failure). So the choice rests on a probe: boot the
guest kernel under KVM without a root device and wait for the panic that ends
a healthy early boot. The verdict is cached for the current host boot.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path
from typing import Literal

from bisect_tui.testbed.errors import TestbedError

logger = logging.getLogger(__name__)

Accel = Literal["kvm", "tcg"]
ACCEL_CHOICES = ("auto", "kvm", "tcg")

PROBE_SECONDS = 15.0
"""How long a KVM boot may take to reach the kernel's root-device panic."""

_PANIC_MARK = b"Kernel panic"
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def choose_accel(requested: str, kernel: Path, cache: Path) -> Accel:
    """Return the accelerator to boot with.

    Args:
        requested: ``"auto"``, ``"kvm"`` or ``"tcg"``.
        kernel: A kernel image the probe can boot.
        cache: JSON file remembering the probe's verdict per host boot.

    Raises:
        TestbedError: ``"kvm"`` was requested but ``/dev/kvm`` is unusable.
    """
    if requested == "tcg":
        return "tcg"
    if requested == "kvm":
        if not kvm_device_usable():
            raise TestbedError("--accel kvm: /dev/kvm is missing or not writable")
        return "kvm"
    if not kvm_device_usable():
        logger.info("no usable /dev/kvm: using TCG emulation")
        return "tcg"
    return "kvm" if _cached_probe(kernel, cache) else "tcg"


def kvm_device_usable() -> bool:
    """Whether ``/dev/kvm`` exists and this user may open it read-write."""
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def probe_kvm(kernel: Path, seconds: float = PROBE_SECONDS) -> bool:
    """Boot ``kernel`` under KVM with no root device; True if it panics in time.

    The panic ("VFS: Unable to mount root fs") proves the CPU ran the whole
    early boot. A KVM that cannot run the kernel prints nothing, or fails.
    """
    command = [
        "qemu-system-x86_64",
        *("-accel", "kvm", "-cpu", "host", "-m", "256"),
        *("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"),
        *("-serial", "stdio", "-kernel", str(kernel)),
        *("-append", "console=ttyS0 panic=-1 root=/dev/nonexistent"),
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, timeout=seconds, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        logger.info("KVM probe: no panic within %.0f s, KVM unusable", seconds)
        return False
    works = _PANIC_MARK in result.stdout
    logger.info("KVM probe: %s", "boots a kernel" if works else "failed")
    return works


def _cached_probe(kernel: Path, cache: Path) -> bool:
    boot_id = _BOOT_ID.read_text().strip() if _BOOT_ID.exists() else ""
    try:
        cached = json.loads(cache.read_text())
        if cached.get("boot_id") == boot_id and boot_id:
            return bool(cached["kvm"])
    except (OSError, ValueError, KeyError):
        pass
    logger.info("probing whether KVM boots a kernel (up to %.0f s)", PROBE_SECONDS)
    works = probe_kvm(kernel)
    cache.write_text(json.dumps({"boot_id": boot_id, "kvm": works}) + "\n")
    return works
