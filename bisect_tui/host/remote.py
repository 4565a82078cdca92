"""The files the tool owns on a host, and the fixed scripts that change them.

The tool writes exactly two places: its drop-in
``/run/systemd/system/<unit>.d/zz-harden-bisect.conf`` and the root-only state
directory ``/run/harden-bisect/`` (lock, last known-good drop-in, rollback
script). Both live under ``/run``, so a reboot forgets every trial.

Changes run as small fixed ``sh`` scripts through ``sudo -n sh -c SCRIPT``: the
script text never varies, the unit name travels as a quoted argument, and file
contents come on standard input. Each file is written to a temporary name in
its own directory and renamed over the old one, so systemd never reads half a
drop-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bisect_tui.core.dropin import DROPIN_NAME
from bisect_tui.errors import UsageError
from bisect_tui.host.runner import CommandResult, CommandRunner

STATE_DIR = "/run/harden-bisect"
"""Root-only directory for the lock, the known-good drop-in and the rollback."""

LOCK_PATH = f"{STATE_DIR}/lock"
ROLLBACK_SCRIPT_PATH = f"{STATE_DIR}/rollback.sh"
RUNTIME_UNIT_DIR = "/run/systemd/system"

_UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.\\@-]+\.service$")


def normalise_unit(name: str) -> str:
    """Return ``name`` as a service unit name, adding ``.service`` if missing.

    Raises:
        UsageError: The name is not a plain service unit name.
    """
    unit = name if name.endswith(".service") else f"{name}.service"
    if not _UNIT_NAME.match(unit) or unit.startswith("."):
        raise UsageError(f"--unit {name!r} is not a service unit name")
    return unit


def dropin_dir(unit: str) -> str:
    """The runtime drop-in directory of ``unit``."""
    return f"{RUNTIME_UNIT_DIR}/{unit}.d"


def dropin_path(unit: str) -> str:
    """The tool's drop-in for ``unit``."""
    return f"{dropin_dir(unit)}/{DROPIN_NAME}"


def known_good_path(unit: str) -> str:
    """Where the last drop-in that passed the checklist is kept."""
    return f"{STATE_DIR}/{unit}.known-good.conf"


@dataclass(frozen=True)
class RemoteScript:
    """A fixed shell script run as root with positional arguments.

    Attributes:
        name: A short name for logs and ``--plan``.
        text: The script; it reads ``$1``… and standard input only.
    """

    name: str
    text: str

    def argv(self, *args: str) -> list[str]:
        """The command running this script with ``args`` (``$0`` is the tool)."""
        return ["sh", "-c", self.text, "harden-bisect", *args]

    def run(
        self,
        runner: CommandRunner,
        *args: str,
        stdin: str | None = None,
        timeout: float = 30.0,
    ) -> CommandResult:
        """Run the script through ``sudo -n`` on ``runner``'s host."""
        return runner.run(self.argv(*args), sudo=True, stdin=stdin, timeout=timeout)


_RESTORE_BODY = r"""
state=/run/harden-bisect
dir=/run/systemd/system/$unit.d
good=$state/$unit.known-good.conf
marker=$state/$unit.created-dropin-dir
if [ "$mode" = deadman ]; then
    date -u +%Y-%m-%dT%H:%M:%SZ > "$state/$unit.deadman-fired"
    mode=known-good
fi
if [ "$mode" = known-good ] && [ -s "$good" ]; then
    mkdir -p "$dir"
    cp "$good" "$dir/.zz-harden-bisect.restore"
    chmod 0644 "$dir/.zz-harden-bisect.restore"
    mv -f "$dir/.zz-harden-bisect.restore" "$dir/zz-harden-bisect.conf"
    echo "restored the known-good drop-in of $unit"
else
    rm -f "$dir/zz-harden-bisect.conf"
    if [ -e "$marker" ]; then
        rmdir "$dir" 2>/dev/null || true
        rm -f "$marker"
    fi
    echo "removed the drop-in of $unit"
fi
systemctl daemon-reload
systemctl reset-failed "$unit" || true
systemctl restart "$unit"
"""

ROLLBACK_SCRIPT_TEXT = (
    "#!/bin/sh\n"
    "# harden-bisect rollback: rollback.sh UNIT deadman|known-good|remove\n"
    "# Restores the last known-good drop-in of UNIT (or removes the tool's\n"
    "# drop-in), reloads systemd and restarts UNIT. The dead-man timer runs it\n"
    "# in mode deadman, which also leaves a note that it fired.\n"
    "set -eu\n"
    "unit=$1\nmode=${2:-deadman}\n" + _RESTORE_BODY
)
"""The rollback script file the dead-man timer runs (written to the state dir)."""

RESTORE = RemoteScript(
    "restore", "# harden-bisect: restore\nset -eu\nunit=$1\nmode=$2\n" + _RESTORE_BODY
)
"""Run directly: ``UNIT known-good`` or ``UNIT remove``; same steps as the file."""

WRITE_DROPIN = RemoteScript(
    "write-dropin",
    r"""# harden-bisect: write-dropin
set -eu
unit=$1
state=/run/harden-bisect
dir=/run/systemd/system/$unit.d
install -d -m 0700 "$state"
if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    chmod 0755 "$dir"
    : > "$state/$unit.created-dropin-dir"
fi
tmp=$(mktemp "$dir/.zz-harden-bisect.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$dir/zz-harden-bisect.conf"
trap - EXIT
journalctl -n 0 --show-cursor -q 2>/dev/null | sed -n 's/^-- cursor: //p'
""",
)
"""Write standard input as the tool's drop-in of ``$1``, atomically.

Prints the journal's cursor, so the read-back reads only what systemd says
about the drop-in from the reload on.
"""

RELOAD_FAILED = 90
"""Exit status of :data:`RESTART` when ``daemon-reload`` itself failed."""

RESTART = RemoteScript(
    "restart",
    r"""# harden-bisect: restart
unit=$1
systemctl daemon-reload || exit 90
systemctl reset-failed "$unit" 2>/dev/null
exec systemctl restart "$unit"
""",
)
"""Reload systemd, clear the unit's start counter, restart it (its exit status).

nginx's unit allows 5 starts in 10 s; without ``reset-failed`` a fast search
fails with "start request repeated too quickly" instead of with its directive.
"""

WRITE_STATE_FILE = RemoteScript(
    "write-state-file",
    r"""# harden-bisect: write-state-file
set -eu
name=$1
mode=$2
state=/run/harden-bisect
case $name in */* | .* | "") echo "bad state file name: $name" >&2; exit 2 ;; esac
install -d -m 0700 "$state"
tmp=$(mktemp "$state/.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
chmod "$mode" "$tmp"
mv -f "$tmp" "$state/$name"
trap - EXIT
""",
)
"""Write standard input as ``/run/harden-bisect/$1`` with mode ``$2``."""

READ_STATE = RemoteScript(
    "read-state",
    r"""# harden-bisect: read-state
unit=$1
dropin=/run/systemd/system/$unit.d/zz-harden-bisect.conf
good=/run/harden-bisect/$unit.known-good.conf
for f in "$dropin" "$good"; do
    if [ -f "$f" ]; then echo "== $f"; cat "$f"; fi
done
exit 0
""",
)
"""Print the tool's drop-in and known-good drop-in of ``$1``, each under a header."""

FORGET_STATE = RemoteScript(
    "forget-state",
    r"""# harden-bisect: forget-state
set -eu
unit=$1
state=/run/harden-bisect
rm -f "$state/$unit.known-good.conf" "$state/$unit.deadman-fired" "$state/rollback.sh"
rmdir "$state" 2>/dev/null || true
""",
)
"""After a full rollback: drop the known-good copy and the rollback script."""


def parse_state(text: str) -> dict[str, str]:
    """Split :data:`READ_STATE` output into file contents by path."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("== /"):
            current = files.setdefault(line[3:], [])
        elif current is not None:
            current.append(line)
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}
