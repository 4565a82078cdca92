"""A real target to try the tool on: a qemu guest running Debian's nginx.

The guest runs systemd as PID 1, nginx serving an HLS origin site, the
Prometheus nginx exporter and OpenSSH, reached only through port forwards on
127.0.0.1. The modules follow the guest's life:

- :mod:`~bisect_tui.testbed.recipe`: the plain files the image is made of, and
  their hash (the cache key);
- :mod:`~bisect_tui.testbed.build`: mmdebstrap, ``mkfs.ext4 -d``, keys;
- :mod:`~bisect_tui.testbed.accel`: KVM only where a probe boots a kernel;
- :mod:`~bisect_tui.testbed.qemu`: start and stop the qemu process;
- :mod:`~bisect_tui.testbed.guest`: pinned host key, SSH login, HTTP probes;
- :mod:`~bisect_tui.testbed.state`: the record other commands and tests read;
- :mod:`~bisect_tui.testbed.lifecycle`: ``up``, ``down``, flavour switching.
"""

from __future__ import annotations

from bisect_tui.testbed.errors import TestbedError
from bisect_tui.testbed.lifecycle import UpOptions, down, running_state, up
from bisect_tui.testbed.paths import TestbedPaths, resolve_root
from bisect_tui.testbed.state import FLAVOURS, GuestRecord, GuestState, Ports

__all__ = [
    "FLAVOURS",
    "GuestRecord",
    "GuestState",
    "Ports",
    "TestbedError",
    "TestbedPaths",
    "UpOptions",
    "down",
    "resolve_root",
    "running_state",
    "up",
]
