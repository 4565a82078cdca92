"""Where the testbed keeps its images, its running guest's state and its lock.

Everything lives under one directory (the *testbed directory*) so every user of
the same directory sees the same cached image and the same running guest:
``images/<recipe hash>/`` holds a built image, ``run/`` the state of the guest
that is up, ``lock`` serialises commands that start or stop it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from bisect_tui.testbed.errors import TestbedError

ENV_VAR = "HARDEN_BISECT_TESTBED_DIR"
"""Environment variable naming the testbed directory."""

_SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes including the NUL


def resolve_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the testbed directory: ``explicit``, else the env var, else cache.

    Args:
        explicit: A directory given on the command line, or ``None``.
    """
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_cache_dir("harden-bisect")) / "testbed"


@dataclass(frozen=True)
class TestbedPaths:
    """The files of one testbed directory.

    Attributes:
        root: The testbed directory itself.
    """

    __test__ = False
    root: Path

    @property
    def images(self) -> Path:
        """Directory of built images, one sub-directory per recipe hash."""
        return self.root / "images"

    @property
    def run(self) -> Path:
        """Directory of the running guest's state, overlay and console log."""
        return self.root / "run"

    @property
    def state_file(self) -> Path:
        """JSON state of the running guest (pid, ports, record)."""
        return self.run / "state.json"

    @property
    def known_hosts(self) -> Path:
        """known_hosts file pinning the guest's host key at its SSH port."""
        return self.run / "known_hosts"

    @property
    def overlay(self) -> Path:
        """qcow2 overlay of the current boot; the base image stays pristine."""
        return self.run / "overlay.qcow2"

    @property
    def console_log(self) -> Path:
        """The guest's serial console, written by qemu."""
        return self.run / "console.log"

    @property
    def pid_file(self) -> Path:
        """qemu's own pid file."""
        return self.run / "qemu.pid"

    @property
    def qmp_socket(self) -> Path:
        """qemu's machine protocol socket, used for the ACPI power button."""
        return self.run / "qmp.sock"

    @property
    def accel_probe(self) -> Path:
        """Cached result of the KVM probe for the current host boot."""
        return self.root / "accel-probe.json"

    def ensure(self) -> None:
        """Create the directories; refuse a run directory too deep for a socket."""
        for directory in (self.root, self.images, self.run):
            directory.mkdir(parents=True, exist_ok=True)
        if len(os.fsencode(self.qmp_socket)) > _SOCKET_PATH_MAX:
            raise TestbedError(
                f"testbed directory {self.root} is too deep for a unix socket; "
                "choose a shorter --testbed-dir"
            )


@contextmanager
def exclusive_lock(paths: TestbedPaths) -> Iterator[None]:
    """Hold the testbed directory's lock: one ``up``/``down``/``build`` at a time.

    Other processes calling this wait until the holder is done, so two
    concurrent ``up`` calls boot one guest and both print its record.
    """
    paths.ensure()
    with open(paths.root / "lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
