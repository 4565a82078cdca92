"""Copies of the guest's nginx unit, one per case, all loaded by one reload.

Reading back or scoring one drop-in needs systemd to load it, not to start the
service: ``systemctl show`` and ``systemd-analyze security`` report a loaded unit
whether it runs or not. Giving each case its own copy of nginx's unit (its
``systemctl cat`` text, so the same assignments in the same order) with the
case's drop-in as that copy's ``zz-harden-bisect.conf`` lets one
``daemon-reload`` serve every case, each still alone in its own unit. The copies
are never started and are removed, with a reload, afterwards.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bisect_tui.core.dropin import DROPIN_NAME
from bisect_tui.testbed import guest
from bisect_tui.testbed.state import GuestRecord

UNIT = "nginx.service"
COPY_PREFIX = "hb-case-"
UNIT_DIR = "/run/systemd/system"
END = "HARDEN_BISECT_CASE_END"

REMOVE = f"""\
rm -rf {UNIT_DIR}/{COPY_PREFIX}*.service {UNIT_DIR}/{COPY_PREFIX}*.service.d
systemctl daemon-reload
"""


def copy_name(index: int) -> str:
    """The copy unit of case number ``index``."""
    return f"{COPY_PREFIX}{index:03d}.service"


def run_script(record: GuestRecord, script: str, timeout: float = 300) -> str:
    """Run ``script`` as root on the guest (on standard input); return stdout."""
    result = subprocess.run(
        guest.ssh_command(record, "sudo -n sh -s"),
        input=script,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def install_script(dropins: Mapping[str, str | None]) -> str:
    """The script that writes each copy and its drop-in, then reloads once."""
    lines = [
        "set -eu",
        f'base=$(mktemp); systemctl cat --no-pager {UNIT} > "$base"',
    ]
    for unit, text in dropins.items():
        assert END not in (text or "")
        path = f"{UNIT_DIR}/{unit}"
        lines.append(f'cp "$base" {shlex.quote(path)}')
        if text is not None:
            lines.append(f"mkdir -p {shlex.quote(path)}.d")
            lines.append(f"cat > {shlex.quote(f'{path}.d/{DROPIN_NAME}')} <<'{END}'")
            lines.append(text.rstrip("\n"))
            lines.append(END)
    lines += ['rm -f "$base"', "systemctl daemon-reload"]
    return "\n".join(lines) + "\n"


@contextmanager
def unit_copies(
    record: GuestRecord, dropins: Mapping[str, str | None]
) -> Iterator[None]:
    """Install one copy of nginx's unit per ``{copy unit: drop-in or None}``.

    Everything is removed (and systemd reloaded) when the block ends.
    """
    run_script(record, REMOVE + install_script(dropins))
    try:
        yield
    finally:
        run_script(record, REMOVE)
