"""``--testbed`` fills a host command's connection from the running guest."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from bisect_tui.cli.host_options import add_host_options, fill_from_testbed
from bisect_tui.cli.main import main
from bisect_tui.errors import UsageError
from bisect_tui.testbed.paths import ENV_VAR, TestbedPaths
from bisect_tui.testbed.state import GuestRecord, GuestState, Ports, save_state


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_host_options(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def testbed_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestbedPaths:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    paths = TestbedPaths(tmp_path)
    paths.run.mkdir(parents=True, exist_ok=True)
    return paths


def fake_running_guest(paths: TestbedPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    record = GuestRecord(
        host="127.0.0.1",
        ports=Ports(ssh=2222, http=18080, metrics=19113),
        user="operator",
        identity=Path("/keys/id_ed25519"),
        known_hosts=Path("/keys/known_hosts"),
        flavour="debian",
        accel="tcg",
    )
    save_state(paths, GuestState(record, os.getpid(), "abc", 0.0, 1.0))
    monkeypatch.setattr("bisect_tui.testbed.lifecycle.qemu_running", lambda pid: True)


def test_without_a_guest_the_option_is_a_usage_error(
    testbed_dir: TestbedPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    """No guest running: exit 2, one line saying how to start one."""
    assert main(["check", "--testbed"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "harden-bisect: usage: no testbed guest is running; "
        "start one: harden-bisect testbed up"
    ]


def test_the_guest_fills_what_was_not_given(
    testbed_dir: TestbedPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Host, port, user, key, known_hosts and both forwarded ports come along."""
    fake_running_guest(testbed_dir, monkeypatch)
    args = parse("--testbed")
    fill_from_testbed(args)
    assert (args.host, args.port, args.user) == ("127.0.0.1", 2222, "operator")
    assert (args.identity, args.known_hosts) == (
        "/keys/id_ed25519",
        "/keys/known_hosts",
    )
    assert (args.http_port, args.metrics_port) == (18080, 19113)


def test_options_given_win_over_the_guest(
    testbed_dir: TestbedPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An explicit --user or --http-port is kept."""
    fake_running_guest(testbed_dir, monkeypatch)
    args = parse("--testbed", "--user", "alice", "--http-port", "8080")
    fill_from_testbed(args)
    assert (args.user, args.http_port, args.port) == ("alice", 8080, 2222)


def test_without_the_option_nothing_changes(testbed_dir: TestbedPaths) -> None:
    """No --testbed: the arguments stay as parsed, even with no guest."""
    args = parse("--host", "web1")
    fill_from_testbed(args)
    assert args.host == "web1" and args.port is None
    with pytest.raises(UsageError):
        fill_from_testbed(parse("--testbed"))
