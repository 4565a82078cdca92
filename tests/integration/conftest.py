"""Fixtures reaching the real testbed guest: systemd, nginx and OpenSSH in qemu.

One guest serves the whole run. ``testbed`` reuses a guest that is already up
(started by ``harden-bisect testbed up``) or boots one and stops it at the
end. ``flavoured_testbed`` runs a test under both nginx units, switching the
unit in place; ``pristine_unit`` hands a test nginx with no runtime drop-in.

Fixture plumbing talks to the guest with the plain ``ssh`` client, batch mode
and the pinned known_hosts file, never through the product's SSH layer.

Set ``HARDEN_BISECT_REQUIRE_TESTBED=1`` to fail rather than skip when this
machine cannot build or boot the guest (CI does).
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bisect_tui.testbed import guest
from bisect_tui.testbed.build import current_image
from bisect_tui.testbed.lifecycle import UpOptions, down, running_state, up
from bisect_tui.testbed.paths import TestbedPaths, resolve_root
from bisect_tui.testbed.state import FLAVOURS, GuestRecord

REQUIRE_ENV = "HARDEN_BISECT_REQUIRE_TESTBED"

PRISTINE_SCRIPT = """\
set -u
rm -rf /run/systemd/system/nginx.service.d \\
    /run/systemd/system.control/nginx.service.d /run/harden-bisect
systemctl stop harden-bisect-deadman.timer harden-bisect-deadman.service \\
    2>/dev/null
systemctl reset-failed harden-bisect-deadman.service 2>/dev/null
systemctl daemon-reload
systemctl reset-failed nginx.service
systemctl restart nginx.service
"""
"""Run as root on the guest: nginx back to its unit file alone, restarted."""


@dataclass
class TestbedSession:
    """The guest this test run uses.

    Attributes:
        paths: The testbed directory (``HARDEN_BISECT_TESTBED_DIR`` or default).
        owned: Whether this run booted the guest (and so stops it at the end).
    """

    __test__ = False
    paths: TestbedPaths
    owned: bool

    def record(self) -> GuestRecord:
        """Return the running guest's current record."""
        state = running_state(self.paths)
        assert state is not None, "the testbed guest is not running"
        return state.record

    def use_flavour(self, flavour: str) -> GuestRecord:
        """Put nginx under the ``flavour`` unit and return the record."""
        return up(self.paths, UpOptions(flavour=flavour)).record


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that orders a test after every other one."""
    config.addinivalue_line(
        "markers", "testbed_last: runs after every other test (it stops the guest)"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move ``testbed_last`` tests to the end, after pytest's own reordering."""
    last = [item for item in items if item.get_closest_marker("testbed_last")]
    if last:
        items[:] = [item for item in items if item not in last] + last


def _unavailable(paths: TestbedPaths) -> str | None:
    """Why this machine cannot provide a guest, or None if it can."""
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 is not installed"
    if running_state(paths) or current_image(paths).is_complete():
        return None
    if shutil.which("mmdebstrap") is None:
        return "mmdebstrap is not installed and no guest image is cached"
    if os.geteuid() != 0:
        return "building the guest image needs root and none is cached"
    return None


@pytest.fixture(scope="session")
def testbed_session() -> Iterator[TestbedSession]:
    """The run's guest: reused if one is up, else booted and later stopped."""
    paths = TestbedPaths(resolve_root())
    reason = _unavailable(paths)
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"testbed required but unavailable: {reason}")
        pytest.skip(f"testbed unavailable: {reason}")
    owned = running_state(paths) is None
    up(paths, UpOptions(flavour="debian"))
    session = TestbedSession(paths=paths, owned=owned)
    yield session
    if owned:
        down(paths)
    elif running_state(paths) is not None:
        session.use_flavour("debian")


@pytest.fixture(scope="session")
def testbed(testbed_session: TestbedSession) -> GuestRecord:
    """The guest's record (host, ports, user, identity, known_hosts, flavour)."""
    return testbed_session.record()


@pytest.fixture(scope="module", params=FLAVOURS)
def flavoured_testbed(
    request: pytest.FixtureRequest, testbed_session: TestbedSession
) -> Iterator[GuestRecord]:
    """The guest with nginx under each unit flavour in turn (debian, nixos).

    The unit is switched in place, without a reboot; the module's tests are
    grouped by flavour, and the guest goes back to Debian's unit afterwards.
    """
    flavour = str(request.param)
    yield testbed_session.use_flavour(flavour)
    if flavour != "debian" and running_state(testbed_session.paths) is not None:
        testbed_session.use_flavour("debian")


def restore_pristine(record: GuestRecord) -> None:
    """Remove every runtime drop-in and tool state, restart nginx, await health."""
    guest.run(record, "sudo -n sh -c " + shlex.quote(PRISTINE_SCRIPT), timeout=120)
    guest.wait_for_health(record.ports.http, timeout=60)


@pytest.fixture
def pristine_unit(testbed_session: TestbedSession) -> GuestRecord:
    """The guest with nginx freshly restarted under its unit file alone.

    Removes ``/run/systemd/system/nginx.service.d/``, the runtime
    ``system.control`` drop-ins and ``/run/harden-bisect``, stops a dead-man
    timer, reloads systemd, resets the start counter and restarts nginx.
    """
    record = testbed_session.record()
    restore_pristine(record)
    return record
