"""Bring the guest up, switch its nginx unit flavour, take it down.

Only one guest runs per testbed directory. ``up`` is idempotent: with a guest
already running it returns that guest, switching the nginx unit flavour in
place (stop nginx, swap the unit, start it) rather than rebooting. Every
command holds the directory's lock, so concurrent callers queue instead of
booting a second guest.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bisect_tui.errors import UsageError
from bisect_tui.testbed import guest, qemu
from bisect_tui.testbed.accel import choose_accel
from bisect_tui.testbed.build import (
    Image,
    Report,
    current_image,
    ensure_image,
    prune_images,
)
from bisect_tui.testbed.errors import TestbedError
from bisect_tui.testbed.paths import TestbedPaths, exclusive_lock
from bisect_tui.testbed.state import (
    FLAVOURS,
    GUEST_USER,
    GuestRecord,
    GuestState,
    Ports,
    clear_state,
    load_state,
    qemu_running,
    save_state,
)

logger = logging.getLogger(__name__)

BOOT_FLAVOUR = "debian"
"""The flavour the pristine image boots with."""

FLAVOUR_SCRIPT = "/usr/local/sbin/testbed-flavour"
"""Guest script that prints or switches the nginx unit flavour."""


@dataclass(frozen=True)
class UpOptions:
    """What ``up`` was asked for.

    Attributes:
        flavour: The nginx unit flavour wanted (``debian`` or ``nixos``).
        ssh_port: Host port for SSH, or ``None`` to pick a free one.
        http_port: Host port for nginx's site, or ``None`` to pick one.
        metrics_port: Host port for the exporter, or ``None`` to pick one.
        accel: ``auto`` (probe KVM), ``kvm`` or ``tcg``.
        boot_timeout: Seconds to wait for the first SSH login.
    """

    flavour: str = BOOT_FLAVOUR
    ssh_port: int | None = None
    http_port: int | None = None
    metrics_port: int | None = None
    accel: str = "auto"
    boot_timeout: float = 300.0


def up(
    paths: TestbedPaths, options: UpOptions, *, report: Report = logger.info
) -> GuestState:
    """Return the running guest in ``options.flavour``, booting one if needed.

    Raises:
        UsageError: A guest already runs on other ports than the ones asked
            for, or the flavour is unknown.
        TestbedError: Building, booting or switching the flavour failed.
    """
    if options.flavour not in FLAVOURS:
        raise UsageError(f"unknown flavour {options.flavour!r}; use debian or nixos")
    with exclusive_lock(paths):
        state = running_state(paths)
        if state is None:
            image = ensure_image(paths, report=report)
            prune_images(paths, keep={image.key})
            state = _boot(paths, image, options, report)
        else:
            _check_ports(state.record.ports, options)
            _warn_if_outdated(paths, state)
            _check_reachable(state)
            report(f"reusing the running guest (pid {state.pid})")
        if state.record.flavour != options.flavour:
            state = switch_flavour(paths, state, options.flavour, report=report)
        return state


def down(
    paths: TestbedPaths, *, timeout: float = 30.0, report: Report = logger.info
) -> bool:
    """Power the guest off, killing qemu if it takes longer than ``timeout`` s.

    Returns:
        Whether a running guest was found and stopped.
    """
    with exclusive_lock(paths):
        state = load_state(paths)
        pid = state.pid if state else _pid_from_file(paths)
        stopped = False
        if pid is not None and qemu_running(pid):
            report(f"powering the guest off (pid {pid})")
            if not qemu.request_powerdown(paths) and state is not None:
                guest.run(state.record, "sudo -n systemctl poweroff", check=False)
            qemu.stop(pid, paths, grace=timeout)
            stopped = True
        clear_state(paths)
        return stopped


def running_state(paths: TestbedPaths) -> GuestState | None:
    """Return the running guest's state, clearing state a dead guest left."""
    state = load_state(paths)
    if state is None:
        return None
    if qemu_running(state.pid):
        return state
    logger.info("guest pid %d is gone; clearing its state", state.pid)
    clear_state(paths)
    return None


def switch_flavour(
    paths: TestbedPaths, state: GuestState, flavour: str, *, report: Report
) -> GuestState:
    """Put nginx under the ``flavour`` unit on the running guest.

    The guest's ``testbed-flavour`` script stops nginx, swaps the unit and
    starts nginx again; the state then records the unit actually in charge.

    Raises:
        TestbedError: nginx did not come back healthy under the new unit.
    """
    report(f"switching nginx to the {flavour} unit")
    result = guest.run(
        state.record, f"sudo -n {FLAVOUR_SCRIPT} {flavour}", timeout=120, check=False
    )
    actual = guest.run(state.record, FLAVOUR_SCRIPT).stdout.strip()
    state = state.with_flavour(actual if actual in FLAVOURS else flavour)
    save_state(paths, state)
    if result.returncode != 0:
        raise TestbedError(
            f"nginx did not start under the {flavour} unit "
            f"(exit {result.returncode}); leftover drop-ins in "
            "/run/systemd/system/nginx.service.d/ apply to it too: "
            + (result.stderr.strip().splitlines() or ["no message"])[-1]
        )
    guest.wait_for_health(state.record.ports.http, timeout=60)
    return state


def _boot(
    paths: TestbedPaths, image: Image, options: UpOptions, report: Report
) -> GuestState:
    accel = choose_accel(options.accel, image.kernel, paths.accel_probe)
    report(f"booting the guest ({accel}; about half a minute under emulation)")
    for attempt in range(3):
        ports = _pick_ports(options)
        record = GuestRecord(
            host=qemu.LOOPBACK,
            ports=ports,
            user=GUEST_USER,
            identity=image.identity,
            known_hosts=paths.known_hosts,
            flavour=BOOT_FLAVOUR,
            accel=accel,
        )
        spec = qemu.MachineSpec(accel=accel, ports=ports)
        started = time.time()
        try:
            pid = qemu.start(image, paths, spec)
            break
        except TestbedError:
            if _ports_were_given(options) or attempt == 2:
                raise
            logger.info("qemu did not start on ports %s; picking others", ports)
    guest.write_known_hosts(paths.known_hosts, record.host, ports.ssh, image.host_key)
    try:
        seconds = guest.wait_for_login(
            record, timeout=options.boot_timeout, alive=lambda: qemu_running(pid)
        )
        state = GuestState(record, pid, image.key, started, round(seconds, 1))
        save_state(paths, state)
        guest.wait_for_health(ports.http, timeout=120)
    except BaseException:
        logger.error("boot failed; console log: %s", paths.console_log)
        qemu.stop(pid, paths, grace=0)
        clear_state(paths)
        raise
    report(f"guest up: SSH login {seconds:.1f} s after starting qemu")
    return state


def _pick_ports(options: UpOptions) -> Ports:
    chosen: list[int] = []
    for wanted in (options.ssh_port, options.http_port, options.metrics_port):
        port = wanted
        while port is None or port in chosen:
            port = qemu.free_port()
        chosen.append(port)
    return Ports(ssh=chosen[0], http=chosen[1], metrics=chosen[2])


def _ports_were_given(options: UpOptions) -> bool:
    return any(
        port is not None
        for port in (options.ssh_port, options.http_port, options.metrics_port)
    )


def _check_ports(running: Ports, options: UpOptions) -> None:
    asked = (
        ("ssh", options.ssh_port, running.ssh),
        ("http", options.http_port, running.http),
        ("metrics", options.metrics_port, running.metrics),
    )
    for name, wanted, actual in asked:
        if wanted is not None and wanted != actual:
            raise UsageError(
                f"a guest already runs with its {name} port on {actual}, not "
                f"{wanted}; run 'harden-bisect testbed down' first"
            )


def _check_reachable(state: GuestState) -> None:
    login = guest.run(state.record, "true", timeout=30.0, check=False)
    if login.returncode != 0:
        raise TestbedError(
            f"the running guest (pid {state.pid}) does not answer SSH on port "
            f"{state.record.ports.ssh}: {login.stderr.strip() or 'no message'}; "
            "'harden-bisect testbed down' then 'up' boots a fresh one"
        )


def _warn_if_outdated(paths: TestbedPaths, state: GuestState) -> None:
    latest = current_image(paths).key
    if state.image != latest:
        logger.warning(
            "the running guest booted image %s, the recipe is now %s; "
            "'testbed down' then 'up' boots the new one",
            state.image,
            latest,
        )


def _pid_from_file(paths: TestbedPaths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
