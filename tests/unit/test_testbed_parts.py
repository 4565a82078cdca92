"""The testbed's pure parts: apt sources, recipe hash, record, qemu command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bisect_tui.testbed import recipe
from bisect_tui.testbed.__main__ import main
from bisect_tui.testbed.build import Image
from bisect_tui.testbed.guest import write_known_hosts
from bisect_tui.testbed.paths import TestbedPaths
from bisect_tui.testbed.qemu import MachineSpec, qemu_command
from bisect_tui.testbed.state import GuestRecord, Ports

DEB822 = """\
Types: deb
# a comment inside the stanza
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://example.invalid/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
"""


def _record(tmp_path: Path) -> GuestRecord:
    return GuestRecord(
        host="127.0.0.1",
        ports=Ports(ssh=40022, http=40080, metrics=40113),
        user="operator",
        identity=tmp_path / "id_ed25519",
        known_hosts=tmp_path / "known_hosts",
        flavour="nixos",
        accel="tcg",
    )


def test_apt_sources_keep_the_release_suites_only(tmp_path: Path) -> None:
    """deb822 and one-line sources of bookworm become one-line entries."""
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list").write_text(
        "deb [arch=amd64] http://mirror.example/debian bookworm main contrib\n"
        "deb http://mirror.example/debian sid main\n"
        "# deb http://commented.example/debian bookworm main\n"
    )
    lines = recipe.apt_source_lines(tmp_path)
    keyring = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
    assert lines == [
        "deb [arch=amd64] http://mirror.example/debian bookworm main contrib",
        f"deb {keyring} http://deb.debian.org/debian bookworm main",
        f"deb {keyring} http://deb.debian.org/debian bookworm-updates main",
        "deb http://deb.debian.org/debian-security bookworm-security main",
    ]


def test_recipe_hash_follows_the_content(tmp_path: Path) -> None:
    """Same files, same hash; one changed byte, another hash."""
    (tmp_path / "rootfs").mkdir()
    unit = tmp_path / "rootfs" / "x.service"
    unit.write_text("[Service]\n")
    first = recipe.recipe_hash(tmp_path)
    assert recipe.recipe_hash(tmp_path) == first
    unit.write_text("[Service]\nUser=nginx\n")
    assert recipe.recipe_hash(tmp_path) != first


def test_shipped_recipe_lists_the_guest_packages() -> None:
    """The package list names what the checklist needs on the guest."""
    packages = recipe.read_packages()
    for name in ("systemd", "nginx", "openssh-server", "prometheus-nginx-exporter"):
        assert name in packages


def test_record_round_trips_and_points_the_tool_at_the_guest(tmp_path: Path) -> None:
    """The JSON record rebuilds the same record; ``args`` are strings."""
    record = _record(tmp_path)
    data = record.to_json()
    assert GuestRecord.from_json(data) == record
    assert data["ports"] == {"ssh": 40022, "http": 40080, "metrics": 40113}
    assert data["args"] == [
        *("--host", "127.0.0.1", "--port", "40022", "--user", "operator"),
        *("--identity", str(tmp_path / "id_ed25519")),
        *("--known-hosts", str(tmp_path / "known_hosts")),
        *("--http-port", "40080", "--metrics-port", "40113"),
    ]


def test_known_hosts_entry_names_the_forwarded_port(tmp_path: Path) -> None:
    """A non-22 port is written as ``[host]:port``, as ssh and paramiko look up."""
    public = tmp_path / "host.pub"
    public.write_text("ssh-ed25519 AAAAC3Nza root@hls-origin\n")
    known = tmp_path / "known_hosts"
    write_known_hosts(known, "127.0.0.1", 40022, public)
    assert known.read_text() == "[127.0.0.1]:40022 ssh-ed25519 AAAAC3Nza\n"


@pytest.mark.parametrize("accel", ["tcg", "kvm"])
def test_qemu_forwards_loopback_only(tmp_path: Path, accel: str) -> None:
    """Every forward binds 127.0.0.1 and the guest network is restricted."""
    image = Image(key="k", directory=tmp_path / "images" / "k")
    spec = MachineSpec(accel=accel, ports=Ports(ssh=40022, http=40080, metrics=40113))
    command = qemu_command(image, TestbedPaths(tmp_path), spec)
    netdev = command[command.index("-netdev") + 1]
    assert "restrict=on" in netdev.split(",")
    forwards = [part for part in netdev.split(",") if part.startswith("hostfwd=")]
    assert forwards == [
        "hostfwd=tcp:127.0.0.1:40022-:22",
        "hostfwd=tcp:127.0.0.1:40080-:17080",
        "hostfwd=tcp:127.0.0.1:40113-:9113",
    ]
    accel_arg = command[command.index("-accel") + 1]
    assert accel_arg == ("kvm" if accel == "kvm" else "tcg,thread=multi")


def test_up_rejects_a_privileged_port(capsys: pytest.CaptureFixture[str]) -> None:
    """A port below 1024 is a usage error, before anything is built or booted."""
    with pytest.raises(SystemExit) as exited:
        main(["up", "--ssh-port", "22"])
    assert exited.value.code == 2
    assert "port 22 is not within 1024-65535" in capsys.readouterr().err
