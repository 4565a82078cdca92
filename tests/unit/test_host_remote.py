"""The tool's files on a host, and the fixed scripts that change them."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bisect_tui.errors import UsageError
from bisect_tui.host import deadman, lock, remote
from bisect_tui.host.runner import ScriptedRunner

SCRIPTS = [
    remote.RESTORE,
    remote.WRITE_DROPIN,
    remote.WRITE_STATE_FILE,
    remote.READ_STATE,
    remote.FORGET_STATE,
    lock.LOCK_SCRIPT,
    deadman.DISARM,
]


def test_unit_names_are_normalised_and_checked() -> None:
    """A bare name gets .service; anything path-like is refused."""
    assert remote.normalise_unit("nginx") == "nginx.service"
    assert remote.normalise_unit("getty@tty1.service") == "getty@tty1.service"
    for bad in ("../etc/passwd", "a/b.service", "nginx.socket x", ".service"):
        with pytest.raises(UsageError):
            remote.normalise_unit(bad)


def test_paths_are_the_tools_own() -> None:
    """Only the zz- drop-in under /run and the state directory are named."""
    assert remote.dropin_path("nginx.service") == (
        "/run/systemd/system/nginx.service.d/zz-harden-bisect.conf"
    )
    assert remote.known_good_path("nginx.service").startswith("/run/harden-bisect/")


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.name)
def test_scripts_are_valid_shell(script: remote.RemoteScript) -> None:
    """Every fixed script parses under sh -n."""
    result = subprocess.run(["sh", "-n", "-c", script.text], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_rollback_file_is_valid_shell() -> None:
    """The dead-man's rollback script parses and takes the unit as $1."""
    result = subprocess.run(
        ["sh", "-n", "-c", remote.ROLLBACK_SCRIPT_TEXT], capture_output=True
    )
    assert result.returncode == 0, result.stderr
    assert remote.ROLLBACK_SCRIPT_TEXT.startswith("#!/bin/sh\n")
    assert "unit=$1" in remote.ROLLBACK_SCRIPT_TEXT


def test_scripts_run_as_root_with_data_as_arguments() -> None:
    """The unit travels as a quoted argument; the script text never varies."""
    runner = ScriptedRunner(handler=lambda call: None)
    runner.expect(remote.WRITE_DROPIN.argv("x'; rm -rf /;'.service"))
    remote.WRITE_DROPIN.run(runner, "x'; rm -rf /;'.service", stdin="[Service]\n")
    call = runner.calls[0]
    assert call.sudo and call.stdin == "[Service]\n"
    assert call.argv[:2] == ("sh", "-c")
    assert call.argv[2] == remote.WRITE_DROPIN.text
    line = runner.commands()[0]
    assert line.startswith("sudo -n -- sh -c ")
    assert line.endswith("harden-bisect 'x'\"'\"'; rm -rf /;'\"'\"'.service'")


def test_parse_state_splits_files() -> None:
    """READ_STATE output becomes file contents by path."""
    text = "== /run/a.conf\n[Service]\nX=1\n== /run/harden-bisect/b\nY\n"
    assert remote.parse_state(text) == {
        "/run/a.conf": "[Service]\nX=1\n",
        "/run/harden-bisect/b": "Y\n",
    }
    assert remote.parse_state("") == {}


def test_deadman_arm_command_is_tight_and_collected() -> None:
    """The timer fires to the second and its units are garbage-collected."""
    argv = deadman.arm_command("nginx.service", 30.4)
    assert "--on-active=30s" in argv
    assert "--timer-property=AccuracySec=1s" in argv
    assert "--collect" in argv
    assert argv[-3:] == [remote.ROLLBACK_SCRIPT_PATH, "nginx.service", "deadman"]
