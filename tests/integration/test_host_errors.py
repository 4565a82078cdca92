"""Refusals on the real guest: one line, a non-zero exit, nothing changed.

An unknown or changed host key, a wrong user, a user without sudo, a missing
unit, a live lock holder and an unconfirmed restart each stop the tool before
it touches the host.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from bisect_tui.host.lock import acquire_lock, release_lock
from bisect_tui.host.ssh import SshRunner
from bisect_tui.host.ssh_config import resolve_target
from bisect_tui.testbed import guest
from bisect_tui.testbed.state import GuestRecord
from tests.integration.conftest import TestbedSession, restore_pristine

pytestmark = pytest.mark.integration

SNAPSHOT = """\
for d in /run/systemd/system/nginx.service.d /etc/systemd/system/nginx.service.d \\
    /run/systemd/system.control /run/harden-bisect; do
    echo "== $d"; find "$d" -printf '%p %s %T@\\n' 2>/dev/null | sort
done
systemctl list-units --all --no-legend --plain 'harden-bisect*'
systemctl show -p InvocationID nginx.service
"""
"""The tool's paths, its units, and the unit's invocation (a restart changes it)."""

NO_SUDO_USER = "nosudo"
NO_SUDO_SETUP = f"""\
set -e
id {NO_SUDO_USER} >/dev/null 2>&1 || useradd --create-home {NO_SUDO_USER}
install -d -m 0700 -o {NO_SUDO_USER} /home/{NO_SUDO_USER}/.ssh
install -m 0600 -o {NO_SUDO_USER} /home/operator/.ssh/authorized_keys \\
    /home/{NO_SUDO_USER}/.ssh/authorized_keys
echo 'AllowUsers {NO_SUDO_USER}' > /etc/ssh/sshd_config.d/zz-harden-bisect-test.conf
systemctl reload ssh
"""
NO_SUDO_TEARDOWN = f"""\
rm -f /etc/ssh/sshd_config.d/zz-harden-bisect-test.conf
systemctl reload ssh
userdel --remove {NO_SUDO_USER} 2>/dev/null
true
"""


def snapshot(record: GuestRecord) -> str:
    """The tool's paths and units on the guest, and nginx's invocation."""
    return guest.sudo(record, "sh", "-c", SNAPSHOT)


@pytest.fixture(scope="module")
def clean_guest(testbed_session: TestbedSession) -> GuestRecord:
    """The guest under Debian's unit, nginx freshly restarted without drop-ins.

    Once per module: every test here proves it changed nothing.
    """
    record = testbed_session.use_flavour("debian")
    restore_pristine(record)
    return record


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "bisect_tui.cli.main", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def options(record: GuestRecord, **changes: str) -> list[str]:
    """The guest's options with some replaced (``known_hosts="…"``)."""
    values = {
        "host": record.host,
        "port": str(record.ports.ssh),
        "user": record.user,
        "identity": str(record.identity),
        "known_hosts": str(record.known_hosts),
        **changes,
    }
    argv = []
    for name, value in values.items():
        argv += [f"--{name.replace('_', '-')}", value]
    return argv


def assert_refused(
    result: subprocess.CompletedProcess[str], code: int, *words: str
) -> None:
    """The tool exited ``code`` with one line on stderr containing ``words``."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    print(f"exit {result.returncode}: {lines[0]}")


def test_unknown_host_key_is_refused(clean_guest: GuestRecord, tmp_path: Path) -> None:
    """An empty known_hosts file: exit 3 with the key's fingerprint."""
    before = snapshot(clean_guest)
    empty = tmp_path / "known_hosts"
    result = cli(
        "apply",
        "--select",
        "no-new-privileges",
        "--yes",
        *options(clean_guest, known_hosts=str(empty)),
    )
    assert_refused(result, 3, "unknown host key", "SHA256:", "--accept-new-host-key")
    assert not empty.exists()
    assert snapshot(clean_guest) == before


def test_accept_new_records_the_key_then_connects(
    clean_guest: GuestRecord, tmp_path: Path
) -> None:
    """--accept-new-host-key records the guest's key; it then verifies."""
    known = tmp_path / "known_hosts"
    first = cli(
        "status",
        "--accept-new-host-key",
        *options(clean_guest, known_hosts=str(known)),
    )
    assert first.returncode == 0, first.stderr
    assert f"[127.0.0.1]:{clean_guest.ports.ssh} ssh-ed25519 " in known.read_text()
    again = cli("status", *options(clean_guest, known_hosts=str(known)))
    assert again.returncode == 0, again.stderr


def test_changed_host_key_is_refused(clean_guest: GuestRecord, tmp_path: Path) -> None:
    """A different recorded key: exit 3, even with --accept-new-host-key."""
    before = snapshot(clean_guest)
    other = paramiko.ECDSAKey.generate()
    known = tmp_path / "known_hosts"
    name = f"[127.0.0.1]:{clean_guest.ports.ssh}"
    known.write_text(f"{name} {other.get_name()} {other.get_base64()}\n")
    result = cli(
        "apply",
        "--select",
        "no-new-privileges",
        "--yes",
        "--accept-new-host-key",
        *options(clean_guest, known_hosts=str(known)),
    )
    assert_refused(result, 3, "HOST KEY CHANGED")
    assert snapshot(clean_guest) == before


def test_wrong_user_is_refused(clean_guest: GuestRecord) -> None:
    """A user sshd does not let in: exit 3, authentication failed."""
    before = snapshot(clean_guest)
    result = cli(
        "apply",
        "--select",
        "no-new-privileges",
        "--yes",
        *options(clean_guest, user="nobody"),
    )
    assert_refused(result, 3, "nobody@127.0.0.1", "authentication failed")
    assert snapshot(clean_guest) == before


@pytest.fixture
def user_without_sudo(clean_guest: GuestRecord) -> Iterator[str]:
    """A login on the guest with the operator's key and no sudo rule."""
    guest.sudo(clean_guest, "sh", "-c", NO_SUDO_SETUP)
    # sshd re-executes on reload and resets connections for a moment.
    guest.wait_for_login(clean_guest, timeout=30)
    yield NO_SUDO_USER
    guest.sudo(clean_guest, "sh", "-c", NO_SUDO_TEARDOWN)
    guest.wait_for_login(clean_guest, timeout=30)


def test_missing_sudo_is_refused(
    clean_guest: GuestRecord, user_without_sudo: str
) -> None:
    """A user without passwordless sudo: exit 4 before anything changes."""
    before = snapshot(clean_guest)
    result = cli(
        "apply",
        "--select",
        "no-new-privileges",
        "--yes",
        *options(clean_guest, user=user_without_sudo),
    )
    assert_refused(result, 4, f"sudo -n does not work for {user_without_sudo}")
    assert snapshot(clean_guest) == before


def test_missing_unit_is_refused(clean_guest: GuestRecord) -> None:
    """--unit naming no unit: exit 4, the unit named."""
    before = snapshot(clean_guest)
    result = cli(
        "apply",
        "--select",
        "no-new-privileges",
        "--yes",
        "--unit",
        "no-such-thing.service",
        *options(clean_guest),
    )
    assert_refused(result, 4, "unit no-such-thing.service does not exist")
    assert snapshot(clean_guest) == before


def test_live_lock_holder_is_refused(clean_guest: GuestRecord) -> None:
    """While another run holds the host, apply exits 4 naming it."""
    record = clean_guest
    target = resolve_target(
        record.host,
        port=record.ports.ssh,
        user=record.user,
        identity=str(record.identity),
        known_hosts=str(record.known_hosts),
    )
    holder = SshRunner.connect(target)
    try:
        acquire_lock(holder, "colleague pid 42 (harden-bisect bisect)")
        before = snapshot(record)
        result = cli(
            "apply", "--select", "no-new-privileges", "--yes", *options(record)
        )
        assert_refused(result, 4, "colleague pid 42")
        assert snapshot(record) == before
    finally:
        release_lock(holder)
        holder.close()


def test_restart_elsewhere_needs_confirmation(
    clean_guest: GuestRecord, tmp_path: Path
) -> None:
    """Not the testbed by name, no terminal, no --yes: exit 2, nothing changed."""
    record = clean_guest
    known = tmp_path / "known_hosts"
    lines = Path(record.known_hosts).read_text().replace("[127.0.0.1]", "[localhost]")
    known.write_text(lines)
    before = snapshot(record)
    result = cli(
        "apply",
        "--select",
        "no-new-privileges",
        *options(record, host="localhost", known_hosts=str(known)),
    )
    assert_refused(result, 2, "pass --yes")
    assert snapshot(record) == before
    assert "on localhost" in result.stderr
