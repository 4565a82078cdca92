"""One run at a time per host: a lock file held by the SSH connection itself.

Two runs restarting the same service would judge each other's trials. The lock
``/run/harden-bisect/lock`` records its holder as a process *on the host*: the
``sshd`` session process of the holder's connection, with its start time and the
host's boot id. That process lives exactly as long as the connection does, so a
run that was killed (or lost its network) leaves a lock whose holder is gone; the
next run recognises it as stale, says so, and takes it over.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field

from bisect_tui.errors import HostError, PreflightError
from bisect_tui.host.remote import RemoteScript
from bisect_tui.host.runner import CommandRunner

log = logging.getLogger(__name__)

LOCK_SCRIPT = RemoteScript(
    "lock",
    r"""# harden-bisect: lock
set -eu
action=$1
client=${2:-}
state=/run/harden-bisect
lock=$state/lock
boot=$(cat /proc/sys/kernel/random/boot_id)
start_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
holder() {
    pid=$$
    while [ "$pid" -gt 1 ]; do
        case $(cat "/proc/$pid/comm" 2>/dev/null) in sshd*) echo "$pid"; return ;; esac
        pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    done
    echo "$PPID"
}
field() { sed -n "s/^$1=//p" "$lock" | head -n 1; }
me=$(holder)
me_start=$(start_of "$me")
record() {
    printf 'pid=%s\nstart=%s\nboot=%s\nsince=%s\nclient=%s\n' \
        "$me" "$me_start" "$boot" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$client"
}
status() {
    [ -e "$lock" ] || { echo free; return; }
    pid=$(field pid); start=$(field start)
    if [ "$pid" = "$me" ] && [ "$start" = "$me_start" ]; then echo ours
    elif [ "$(field boot)" = "$boot" ] && [ -n "$pid" ] && [ -d "/proc/$pid" ] \
        && [ "$(start_of "$pid")" = "$start" ]; then echo busy
    else echo stale
    fi
}
case $action in
inspect)
    now=$(status); echo "$now"
    [ "$now" = free ] || cat "$lock" ;;
acquire)
    install -d -m 0700 "$state"
    if ( set -C; record > "$lock" ) 2>/dev/null; then echo acquired; exit 0; fi
    now=$(status)
    case $now in
    ours) echo ours ;;
    busy) echo busy; cat "$lock"; exit 3 ;;
    *)
        echo stale; cat "$lock"
        tmp=$(mktemp "$state/.lock.XXXXXX"); record > "$tmp"; mv -f "$tmp" "$lock" ;;
    esac ;;
release)
    now=$(status); echo "$now"
    if [ "$now" = ours ]; then rm -f "$lock"; rmdir "$state" 2>/dev/null || true; fi ;;
*) echo "unknown lock action: $action" >&2; exit 2 ;;
esac
""",
)
"""Inspect, acquire or release the host lock; prints a status word, then the lock."""


@dataclass(frozen=True)
class LockState:
    """What the host's lock looked like.

    Attributes:
        status: ``free``, ``ours``, ``busy`` (a live holder), ``stale`` (a holder
            that is gone), ``acquired`` or ``released``.
        holder: The lock file's fields (pid, start, boot, since, client).
    """

    status: str
    holder: dict[str, str] = field(default_factory=dict)

    def describe_holder(self) -> str:
        """E.g. ``"laptop pid 4242 (harden-bisect), since 2025-…"``."""
        client = self.holder.get("client") or "an unknown client"
        since = self.holder.get("since", "?")
        return f"{client}, since {since}"


def client_label(command: str = "harden-bisect") -> str:
    """Who we are, as recorded in the lock: ``host pid N (command)``."""
    return f"{socket.gethostname()} pid {os.getpid()} ({command})"


def _parse(result_stdout: str) -> LockState:
    lines = result_stdout.splitlines()
    status = lines[0].strip() if lines else ""
    holder = dict(
        line.split("=", 1) for line in lines[1:] if "=" in line and line.strip()
    )
    return LockState(status, holder)


def inspect_lock(runner: CommandRunner) -> LockState:
    """Read the lock without changing anything.

    Raises:
        HostError: The lock could not be read.
    """
    result = LOCK_SCRIPT.run(runner, "inspect")
    if not result.ok:
        raise HostError(f"{runner.host}: cannot read the lock: {result.describe()}")
    return _parse(result.stdout)


def acquire_lock(runner: CommandRunner, client: str) -> LockState:
    """Take the host's lock, taking over a stale one (and saying so).

    Raises:
        PreflightError: A live run holds the lock.
        HostError: The lock could not be written.
    """
    result = LOCK_SCRIPT.run(runner, "acquire", client)
    state = _parse(result.stdout)
    if state.status == "busy":
        raise PreflightError(
            f"{runner.host}: another harden-bisect run holds the host "
            f"({state.describe_holder()}); wait for it to finish"
        )
    if not result.ok or state.status not in ("acquired", "ours", "stale"):
        raise HostError(f"{runner.host}: cannot take the lock: {result.describe()}")
    if state.status == "stale":
        log.warning(
            "%s: took over a stale lock left by a run that is gone (%s)",
            runner.host,
            state.describe_holder(),
        )
    return state


def release_lock(runner: CommandRunner) -> None:
    """Release the lock if this connection holds it; never raises for a lost one."""
    try:
        result = LOCK_SCRIPT.run(runner, "release")
    except HostError as exc:
        log.warning("could not release the lock: %s", exc)
        return
    if not result.ok or not result.stdout.startswith("ours"):
        log.warning("%s: lock not released: %s", runner.host, result.stdout.strip())
