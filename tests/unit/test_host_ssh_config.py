"""Where to connect: command-line options over the OpenSSH client configuration."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from bisect_tui.errors import HostError
from bisect_tui.host.ssh_config import read_ssh_config, resolve_target, split_jump

CONFIG = """\
Host web1
    HostName 127.0.0.1
    Port 2222
    User deploy
    IdentityFile ~/.ssh/web1_key
    IdentitiesOnly yes
    UserKnownHostsFile /tmp/web1_known_hosts
    ProxyJump jumper@bastion:2200

Host bastion
    HostName 127.0.0.2
    IdentityFile /keys/bastion
"""


def config() -> paramiko.SSHConfig:
    return paramiko.SSHConfig.from_text(CONFIG)


def test_config_supplies_hostname_port_user_key_and_known_hosts() -> None:
    """A Host block is honoured as ssh would honour it."""
    target = resolve_target("web1", config=config())
    assert (target.hostname, target.port, target.user) == ("127.0.0.1", 2222, "deploy")
    assert target.identities == (str(Path("~/.ssh/web1_key").expanduser()),)
    assert target.identities_only
    assert target.known_hosts == Path("/tmp/web1_known_hosts")
    assert target.key_name == "[127.0.0.1]:2222"


def test_command_line_wins_over_config() -> None:
    """--port, --user, --identity and --known-hosts override the file."""
    target = resolve_target(
        "web1",
        port=22,
        user="root",
        identity="/k/id",
        known_hosts="/k/known",
        config=config(),
    )
    assert (target.port, target.user) == (22, "root")
    assert target.identities[0] == "/k/id"
    assert target.known_hosts == Path("/k/known")
    assert target.key_name == "127.0.0.1"


def test_user_at_host_form() -> None:
    """user@host sets the user when --user does not."""
    target = resolve_target("admin@10.0.0.5", config=paramiko.SSHConfig())
    assert (target.user, target.hostname, target.port) == ("admin", "10.0.0.5", 22)


def test_proxy_jump_hops_are_resolved_through_the_config() -> None:
    """A ProxyJump hop uses its own Host block, and its own user and port."""
    target = resolve_target("web1", config=config())
    (hop,) = target.jumps
    assert (hop.hostname, hop.port, hop.user) == ("127.0.0.2", 2200, "jumper")
    assert hop.identities == ("/keys/bastion",)
    assert hop.known_hosts == target.known_hosts


def test_split_jump_forms() -> None:
    """user@host:port, [v6]:port and a bare host all split."""
    assert split_jump("u@h:22") == ("h", 22, "u")
    assert split_jump("[::1]:2200") == ("::1", 2200, None)
    assert split_jump("h") == ("h", None, None)


def test_named_config_file_must_exist(tmp_path: Path) -> None:
    """--ssh-config naming a missing file is an error; a missing default is not."""
    with pytest.raises(HostError):
        read_ssh_config(tmp_path / "nope")
    (tmp_path / "cfg").write_text(CONFIG)
    assert read_ssh_config(tmp_path / "cfg").lookup("web1")["port"] == "2222"
