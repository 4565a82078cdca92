"""The testbed guest is a faithful target: reachable, serving, scored as expected.

Every check goes through the record's connection: SSH with the identity and
the pinned host key, HTTP through the forwards on 127.0.0.1. The flavoured
tests run once under Debian's nginx unit and once under the NixOS-shaped one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from bisect_tui.testbed import guest
from bisect_tui.testbed.lifecycle import UpOptions, running_state, up
from bisect_tui.testbed.qemu import port_in_use
from bisect_tui.testbed.state import GuestRecord
from tests.integration.conftest import TestbedSession, restore_pristine

pytestmark = pytest.mark.integration

EXPECTED_EXPOSURE = {"debian": 9.6, "nixos": 1.6}
"""systemd-analyze security of each unit flavour, as measured on systemd 252."""

UNIT_FILES = {
    "debian": "/lib/systemd/system/nginx.service",
    "nixos": "/etc/systemd/system/nginx.service",
}
MASTER_USER = {"debian": "root", "nixos": "nginx"}


def _ssh(
    record: GuestRecord, known_hosts: Path, remote: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ssh",
            *("-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"),
            *("-o", f"UserKnownHostsFile={known_hosts}", "-o", "IdentitiesOnly=yes"),
            *("-i", str(record.identity), "-p", str(record.ports.ssh)),
            f"{record.user}@{record.host}",
            remote,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        status: int = r.status
        return status, r.read()


def _testbed_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bisect_tui.testbed", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ.copy(),
    )


def test_ssh_logs_in_with_the_key_and_the_pinned_host_key(
    flavoured_testbed: GuestRecord,
) -> None:
    """A strict-host-key-checking login as the record's user succeeds."""
    result = _ssh(flavoured_testbed, flavoured_testbed.known_hosts, "id -un")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == flavoured_testbed.user


def test_ssh_refuses_a_host_it_has_no_key_for(
    testbed: GuestRecord, tmp_path: Path
) -> None:
    """With an empty known_hosts file the same login fails: the pin is what counts."""
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    result = _ssh(testbed, empty, "true")
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr


def test_sudo_needs_no_password(flavoured_testbed: GuestRecord) -> None:
    """``sudo -n`` runs commands as root for the operator."""
    assert guest.run(flavoured_testbed, "sudo -n true").returncode == 0
    assert guest.sudo(flavoured_testbed, "id", "-u").strip() == "0"


def test_nginx_is_active_under_the_chosen_unit(flavoured_testbed: GuestRecord) -> None:
    """nginx runs from the flavour's unit file, its master as that unit's user."""
    record = flavoured_testbed
    state = guest.run(record, "systemctl is-active nginx.service", check=False)
    assert state.stdout.strip() == "active"
    fragment = guest.run(record, "systemctl show -P FragmentPath nginx.service")
    assert fragment.stdout.strip() == UNIT_FILES[record.flavour]
    pid = guest.run(record, "systemctl show -P MainPID nginx.service").stdout.strip()
    owner = guest.run(record, f"ps -o user= -p {pid}").stdout.strip()
    assert owner == MASTER_USER[record.flavour]


def test_health_answers_ok_through_the_forward(flavoured_testbed: GuestRecord) -> None:
    """``/health`` answers 200 ``OK`` at http://127.0.0.1:PORT on the host."""
    status, body = _get(flavoured_testbed.ports.http, "/health")
    assert status == 200
    assert body.decode().strip() == "OK"


def test_playlist_names_segments_that_are_served(
    flavoured_testbed: GuestRecord,
) -> None:
    """The live playlist starts with #EXTM3U and its newest segment is MPEG-TS."""
    status, body = _get(flavoured_testbed.ports.http, "/stream.m3u8")
    playlist = body.decode()
    assert status == 200
    assert playlist.startswith("#EXTM3U")
    segments = [line for line in playlist.splitlines() if line.endswith(".ts")]
    assert segments, playlist
    status, segment = _get(flavoured_testbed.ports.http, "/" + segments[-1])
    assert status == 200
    assert len(segment) % 188 == 0 and segment[0] == 0x47


def test_files_listing_is_json(flavoured_testbed: GuestRecord) -> None:
    """``/files/`` is a JSON autoindex of the segment directory."""
    status, body = _get(flavoured_testbed.ports.http, "/files/")
    listing = json.loads(body)
    assert status == 200
    names = {entry["name"] for entry in listing}
    assert "stream.m3u8" in names
    assert not any(name.startswith(".") for name in names)


def test_exporter_sees_nginx_up(flavoured_testbed: GuestRecord) -> None:
    """The exporter on the metrics forward reports ``nginx_up 1``."""
    status, body = _get(flavoured_testbed.ports.metrics, "/metrics")
    assert status == 200
    assert re.search(r"^nginx_up 1$", body.decode(), re.MULTILINE)


def test_exposure_score_matches_the_flavour(
    flavoured_testbed: GuestRecord, record_property: Callable[[str, object], None]
) -> None:
    """systemd-analyze security: 9.6 for Debian's unit, 1.6 for the NixOS shape."""
    output = guest.sudo(flavoured_testbed, "systemd-analyze", "security", "nginx")
    found = re.search(r"Overall exposure level for nginx\.service: (\d+\.\d)", output)
    assert found, output[-500:]
    score = float(found.group(1))
    record_property(f"exposure_{flavoured_testbed.flavour}", score)
    assert score == EXPECTED_EXPOSURE[flavoured_testbed.flavour]


@pytest.mark.parametrize("phase", ["base", "aggressive", "ip"])
def test_rendered_dropin_passes_systemd_verify(
    flavoured_testbed: GuestRecord, pristine_unit: GuestRecord, phase: str
) -> None:
    """Each phase's rendered drop-in loads cleanly on top of the unit."""
    rendered = subprocess.run(
        [sys.executable, "-m", "bisect_tui.cli.main", "render", "--phase", phase],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script = (
        "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; "
        'cp "$(systemctl show -P FragmentPath nginx.service)" "$d/nginx.service"; '
        'mkdir "$d/nginx.service.d"; cat > "$d/nginx.service.d/zz-harden-bisect.conf"; '
        'sudo -n systemd-analyze verify --man=no "$d/nginx.service"'
    )
    result = subprocess.run(
        guest.ssh_command(pristine_unit, script),
        input=rendered,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "zz-harden-bisect.conf" not in result.stderr, result.stderr


def test_pristine_unit_undoes_a_broken_trial(testbed_session: TestbedSession) -> None:
    """A drop-in that stops nginx, and tool state, are gone after the reset."""
    record = testbed_session.record()
    guest.run(
        record,
        "sudo -n sh -c 'mkdir -p /run/systemd/system/nginx.service.d "
        '/run/harden-bisect && printf "[Service]\\nExecStartPre=/bin/false\\n" '
        "> /run/systemd/system/nginx.service.d/zz-test.conf && "
        "touch /run/harden-bisect/marker && systemctl daemon-reload && "
        "systemctl restart nginx.service'",
        check=False,
    )
    broken = guest.run(record, "systemctl is-active nginx.service", check=False)
    assert broken.stdout.strip() != "active"

    restore_pristine(record)

    active = guest.run(record, "systemctl is-active nginx.service", check=False)
    assert active.stdout.strip() == "active"
    left = guest.run(
        record,
        "ls /run/systemd/system/nginx.service.d /run/harden-bisect",
        check=False,
    )
    assert left.returncode != 0


def test_up_is_idempotent_and_prints_one_record(
    testbed_session: TestbedSession,
) -> None:
    """A second ``up --json`` reuses the guest and prints exactly its record."""
    result = _testbed_cli("up", "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record == testbed_session.record().to_json()
    assert record["host"] == "127.0.0.1"
    assert all(isinstance(arg, str) for arg in record["args"])


def test_status_reports_a_reachable_guest(testbed_session: TestbedSession) -> None:
    """``status --json`` sees the running guest and its SSH login working."""
    result = _testbed_cli("status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["running"] is True
    assert status["reachable"] is True
    assert status["record"] == testbed_session.record().to_json()


@pytest.mark.testbed_last
def test_down_leaves_no_process_and_no_port(testbed_session: TestbedSession) -> None:
    """After ``down`` no qemu of the testbed runs and no forwarded port listens.

    A guest this run did not boot is brought back afterwards on the same
    ports, so whoever started it keeps a valid record.
    """
    state = running_state(testbed_session.paths)
    assert state is not None
    ports = state.record.ports

    result = _testbed_cli("down")

    assert result.returncode == 0, result.stderr
    assert running_state(testbed_session.paths) is None
    assert not _process_alive(state.pid)
    assert not _any_qemu_using(testbed_session.paths.overlay)
    for port in (ports.ssh, ports.http, ports.metrics):
        assert not port_in_use(port), port
    if not testbed_session.owned:
        options = UpOptions(
            flavour=state.record.flavour,
            ssh_port=ports.ssh,
            http_port=ports.http,
            metrics_port=ports.metrics,
        )
        again = up(testbed_session.paths, options).record
        assert (again.ports, again.flavour) == (ports, state.record.flavour)


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie awaiting its reaper does not count)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _any_qemu_using(overlay: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if b"qemu-system" in text and str(overlay).encode() in text:
            return True
    return False
