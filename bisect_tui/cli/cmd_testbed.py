"""``harden-bisect testbed``: a local guest to try the tool on.

``testbed up`` builds (once) and boots a qemu guest with systemd, nginx serving
an HLS origin site, its Prometheus exporter and OpenSSH, every port forwarded
to 127.0.0.1 only, and prints how to reach it. ``down`` stops it, ``status``
describes it, ``build`` only builds the image.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any

from bisect_tui.testbed import guest, lifecycle
from bisect_tui.testbed.accel import ACCEL_CHOICES
from bisect_tui.testbed.build import (
    Report,
    current_image,
    ensure_image,
    prune_images,
)
from bisect_tui.testbed.paths import TestbedPaths, exclusive_lock, resolve_root
from bisect_tui.testbed.state import FLAVOURS, GuestState


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``testbed`` command and its sub-commands."""
    parser = commands.add_parser(
        "testbed",
        help="build, boot and stop a local guest to try the tool on",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_testbed_commands(parser)


def add_testbed_commands(parser: argparse.ArgumentParser) -> None:
    """Add ``up``, ``down``, ``status`` and ``build`` under ``parser``."""
    actions = parser.add_subparsers(dest="testbed_action", metavar="ACTION")
    parser.set_defaults(func=_needs_action(parser))

    up = actions.add_parser("up", help="boot the guest (build first if needed)")
    up.add_argument(
        "--flavour",
        choices=FLAVOURS,
        default="debian",
        help="nginx unit: Debian's packaged one, or one shaped like NixOS's",
    )
    for name, what in (("ssh", "SSH"), ("http", "nginx"), ("metrics", "exporter")):
        up.add_argument(
            f"--{name}-port",
            type=_port,
            metavar="PORT",
            help=f"host port on 127.0.0.1 for the guest's {what} (default: free)",
        )
    up.add_argument(
        "--accel",
        choices=ACCEL_CHOICES,
        default="auto",
        help="qemu accelerator; auto uses KVM only where a probe boots a kernel",
    )
    up.add_argument(
        "--boot-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the first SSH login (default: 300)",
    )
    _add_common(up, json_help="print only the guest's record as JSON on stdout")
    up.set_defaults(func=run_up)

    down = actions.add_parser("down", help="power the guest off")
    down.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a clean power-off may take before qemu is killed",
    )
    _add_common(down, json_help=None)
    down.set_defaults(func=run_down)

    status = actions.add_parser("status", help="describe the guest and the image")
    _add_common(status, json_help="print the status as JSON on stdout")
    status.set_defaults(func=run_status)

    build = actions.add_parser("build", help="build the guest image only")
    build.add_argument(
        "--force", action="store_true", help="rebuild even if the image is cached"
    )
    _add_common(build, json_help="print the image's manifest as JSON on stdout")
    build.set_defaults(func=run_build)


def run_up(args: argparse.Namespace) -> int:
    """Boot (or reuse) the guest and print how to reach it."""
    paths = _paths(args)
    options = lifecycle.UpOptions(
        flavour=args.flavour,
        ssh_port=args.ssh_port,
        http_port=args.http_port,
        metrics_port=args.metrics_port,
        accel=args.accel,
        boot_timeout=args.boot_timeout,
    )
    state = lifecycle.up(paths, options, report=_reporter(args))
    if args.json:
        print(json.dumps(state.record.to_json()))
    else:
        print(_describe(state))
    return 0


def run_down(args: argparse.Namespace) -> int:
    """Power the guest off; succeed also when none was running."""
    stopped = lifecycle.down(_paths(args), timeout=args.timeout, report=_reporter(args))
    _reporter(args)("guest stopped" if stopped else "no guest was running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print whether a guest runs, how to reach it, and the image cache."""
    paths = _paths(args)
    state = lifecycle.running_state(paths)
    image = current_image(paths)
    data: dict[str, Any] = {
        "running": state is not None,
        "reachable": False,
        "image": image.key,
        "image_cached": image.is_complete(),
        "image_dir": str(image.directory),
    }
    if state is not None:
        login = guest.run(state.record, "true", timeout=20.0, check=False)
        data.update(
            reachable=login.returncode == 0,
            pid=state.pid,
            booted_image=state.image,
            boot_seconds=state.boot_seconds,
            uptime_seconds=round(time.time() - state.started_at),
            record=state.record.to_json(),
        )
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(_describe_status(data, state))
    return 0


def run_build(args: argparse.Namespace) -> int:
    """Build the image for the current recipe (or reuse the cached one)."""
    paths = _paths(args)
    with exclusive_lock(paths):
        image = ensure_image(paths, force=args.force, report=_reporter(args))
        running = lifecycle.running_state(paths)
        keep = {image.key} | ({running.image} if running else set())
        prune_images(paths, keep)
    manifest = image.read_manifest()
    if args.json:
        print(json.dumps({"dir": str(image.directory), **manifest}, indent=2))
    else:
        print(f"image {image.key} in {image.directory}")
    return 0


def _add_common(parser: argparse.ArgumentParser, *, json_help: str | None) -> None:
    parser.add_argument(
        "--testbed-dir",
        metavar="DIR",
        help="where images and the running guest's state live "
        "(default: $HARDEN_BISECT_TESTBED_DIR, else the user cache directory)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines on stderr"
    )
    if json_help is not None:
        parser.add_argument("--json", action="store_true", help=json_help)


def _needs_action(
    parser: argparse.ArgumentParser,
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1024 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not within 1024-65535")
    return port


def _paths(args: argparse.Namespace) -> TestbedPaths:
    return TestbedPaths(resolve_root(args.testbed_dir))


def _reporter(args: argparse.Namespace) -> Report:
    def report(line: str) -> None:
        if not args.quiet:
            print(f"testbed: {line}", file=sys.stderr, flush=True)

    return report


def _describe(state: GuestState) -> str:
    record = state.record
    ssh = (
        f"ssh -i {shlex.quote(str(record.identity))} "
        f"-o UserKnownHostsFile={shlex.quote(str(record.known_hosts))} "
        f"-p {record.ports.ssh} {record.user}@{record.host}"
    )
    return "\n".join(
        (
            f"guest up: nginx under the {record.flavour} unit, qemu {record.accel}, "
            f"pid {state.pid}",
            f"  log in:   {ssh}",
            f"  health:   curl http://{record.host}:{record.ports.http}/health",
            f"  metrics:  curl http://{record.host}:{record.ports.metrics}/metrics",
            f"  the tool: harden-bisect COMMAND {shlex.join(record.args)}",
            "  stop it:  harden-bisect testbed down",
        )
    )


def _describe_status(data: dict[str, Any], state: GuestState | None) -> str:
    cached = "cached" if data["image_cached"] else "not built yet"
    lines = [f"image {data['image']}: {cached} ({data['image_dir']})"]
    if state is None:
        lines.append("no guest running")
        return "\n".join(lines)
    reach = "reachable" if data["reachable"] else "NOT answering SSH"
    lines.append(f"guest running for {data['uptime_seconds']} s, {reach}")
    lines.append(_describe(state))
    return "\n".join(lines)
