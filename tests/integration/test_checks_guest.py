"""The checklist against the real guest: the default list passes on both units.

Operator-side checks come through the loopback forwards, host-side ones through
the product's SSH connection (a ``direct-tcpip`` stream to the guest's own
ports, including the status page that listens on the guest's loopback only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from bisect_tui.cli.main import main
from bisect_tui.core.checklist import CheckContext
from bisect_tui.core.checklist_loader import load_checklist, parse_checklist
from bisect_tui.host.checks import run_checklist
from bisect_tui.host.ssh import SshRunner
from bisect_tui.host.ssh_config import SshTarget
from bisect_tui.testbed.state import GuestRecord

pytestmark = pytest.mark.integration

EXPOSURE = {"debian": 9.6, "nixos": 1.6}
"""systemd-analyze security of each untouched unit on the guest's systemd 252."""

GUEST_HTTP_PORT = 17080
GUEST_STATUS_PORT = 17081

HOST_SIDE = """\
[[check]]
id = "health-on-host"
kind = "http"
where = "host"
url = "http://{host}:{http_port}/health"
expect_prefix = "OK"

[[check]]
id = "stub-status"
kind = "http"
where = "host"
url = "http://{host}:17081/stub_status"
expect_pattern = "^Active connections: \\\\d+"
"""


def connect(record: GuestRecord) -> SshRunner:
    """The product's SSH connection to the guest."""
    target = SshTarget(
        alias=record.host,
        hostname=record.host,
        port=record.ports.ssh,
        user=record.user,
        identities=(str(record.identity),),
        identities_only=True,
        known_hosts=record.known_hosts,
    )
    return SshRunner.connect(target)


def guest_context(record: GuestRecord) -> CheckContext:
    """Where the guest's services are, seen from here and from the guest."""
    return CheckContext(
        host=record.host,
        http_port=record.ports.http,
        metrics_port=record.ports.metrics,
        host_http_port=GUEST_HTTP_PORT,
    )


@pytest.fixture
def runner(flavoured_testbed: GuestRecord) -> Iterator[SshRunner]:
    connection = connect(flavoured_testbed)
    yield connection
    connection.close()


def test_default_checklist_passes_on_the_pristine_unit(
    flavoured_testbed: GuestRecord,
    pristine_unit: GuestRecord,
    runner: SshRunner,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every default check is good on an untouched unit, with its evidence."""
    flavour = pristine_unit.flavour
    result = run_checklist(load_checklist(), runner, guest_context(pristine_unit))
    verdicts = {r.check_id: r.verdict for r in result.results}
    assert result.verdict == "good", [r.to_dict() for r in result.results]
    assert set(verdicts.values()) == {"good"}
    workers = result.result("unit-serving").value
    assert workers is not None and workers >= 1
    assert result.result("exposure").value == EXPOSURE[flavour]
    health = result.result("health").evidence
    url = f"http://127.0.0.1:{pristine_unit.ports.http}/health"
    assert health[0] == f"GET {url} (from the operator)"
    assert health[1].startswith("status 200 OK")
    record_property(f"checklist_seconds_{flavour}", round(result.seconds, 2))
    record_property(f"workers_{flavour}", workers)

    # The same through ``harden-bisect check`` with the testbed's arguments.
    assert main(["check", *pristine_unit.args, "--json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    assert reported["verdict"] == "good"
    assert reported["hints"] == []
    exposure = [c for c in reported["checks"] if c["id"] == "exposure"][0]
    assert exposure["value"] == EXPOSURE[flavour]


def test_host_side_checks_reach_ports_the_operator_cannot(
    flavoured_testbed: GuestRecord,
    runner: SshRunner,
) -> None:
    """Through the SSH connection: the site, and the loopback-only status page."""
    checklist = parse_checklist(HOST_SIDE)
    result = run_checklist(checklist, runner, guest_context(flavoured_testbed))
    assert result.verdict == "good", [r.to_dict() for r in result.results]
    stub = result.result("stub-status").evidence
    url = f"http://127.0.0.1:{GUEST_STATUS_PORT}/stub_status"
    assert stub[0] == f"GET {url} (from the host)"


def test_a_closed_port_on_the_host_is_bad(
    flavoured_testbed: GuestRecord,
    runner: SshRunner,
) -> None:
    """sshd failing to connect to a closed guest port is a failure, not a skip."""
    text = HOST_SIDE.split('[[check]]\nid = "stub-status"')[0]
    checklist = parse_checklist(text.replace("{http_port}", "17099"))
    result = run_checklist(checklist, runner, guest_context(flavoured_testbed))
    assert result.verdict == "bad"
    assert result.results[0].evidence[-1] == (
        "error: the host could not connect to 127.0.0.1:17099"
    )
