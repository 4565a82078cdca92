"""Sessions: one JSON Lines trial log per search, enough to resume or replay it.

A session file starts with a header (host, unit, hashes of the catalog and the
checklist, the host's versions, the selection), then gets one line per trial as
soon as the trial's verdict is known. Appending a line at a time means a killed
run loses at most the trial in flight, and a resumed search replays the logged
verdicts instead of repeating the trials.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bisect_tui.errors import UsageError

SCHEMA = 1


def content_hash(text: str) -> str:
    """Return the SHA-256 of ``text``, hex, for recording what a trial used."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionHeader:
    """What a search ran against; the first line of a trial log.

    Attributes:
        id: The session id (also the file's stem).
        created: Unix time the session started.
        host: The host as the operator named it.
        unit: The systemd unit under test.
        entries: Entry ids the search considers.
        pinned: Entry ids applied in every trial.
        catalog_path: Where the catalog was read from.
        catalog_hash: SHA-256 of the catalog text.
        checklist_path: Where the checklist was read from.
        checklist_hash: SHA-256 of the checklist text.
        host_versions: systemd, nginx and kernel versions on the host.
        args: Connection arguments needed to resume (no secrets).
    """

    id: str
    created: float
    host: str
    unit: str
    entries: tuple[str, ...]
    pinned: tuple[str, ...] = ()
    catalog_path: str = ""
    catalog_hash: str = ""
    checklist_path: str = ""
    checklist_hash: str = ""
    host_versions: dict[str, str] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialRecord:
    """One trial: the set applied, what each check saw, and the verdict.

    Attributes:
        number: 1-based position in the session (the baseline is 0).
        entries: Entry ids applied (pinned included).
        purpose: Why the engine proposed the trial, in one line.
        dropin_hash: SHA-256 of the drop-in text written.
        verdict: ``good``, ``bad`` or ``skip``.
        failed_checks: Ids of the checks that failed.
        checks: Each check's result with its evidence, as JSON-ready mappings.
        seconds: Wall time of the whole trial.
        started: Unix time the trial started.
        note: Anything the operator or the tool said about the trial.
        hints: What the logs pointed at when the trial failed, as JSON-ready
            mappings (see :class:`bisect_tui.core.hints_model.Hint`).
        timings: Seconds per step (apply, checklist, hints, restore).
    """

    number: int
    entries: tuple[str, ...]
    dropin_hash: str
    verdict: str
    failed_checks: tuple[str, ...] = ()
    purpose: str = ""
    checks: tuple[dict[str, Any], ...] = ()
    seconds: float = 0.0
    started: float = 0.0
    note: str = ""
    hints: tuple[dict[str, Any], ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Session:
    """A trial log being written or read back.

    Attributes:
        path: The JSON Lines file.
        header: The session's header.
        trials: The trials logged so far, baseline first if any.
        end: The final record, once the search has ended; ``None`` while it
            runs, was killed, or was resumed after ending.
        superseded: Numbers of trials a resume decided to run again (the
            unresolved trials that paused the search); they stay in the log
            but are not replayed.
    """

    path: Path
    header: SessionHeader
    trials: list[TrialRecord] = field(default_factory=list)
    end: dict[str, Any] | None = None
    superseded: set[int] = field(default_factory=set)

    def append(self, trial: TrialRecord) -> None:
        """Log a trial, durably, before the search moves on."""
        self.trials.append(trial)
        _append_line(self.path, {"type": "trial", **asdict(trial)})

    def finish(self, status: str, result: dict[str, Any]) -> None:
        """Log how the search ended and what it found."""
        self.end = {"status": status, "result": result, "ended": time.time()}
        _append_line(self.path, {"type": "end", **self.end})

    def mark_resumed(self, retry: Sequence[int] = ()) -> None:
        """Log that the search continues; ``retry`` trials will be run again."""
        self.end = None
        self.superseded.update(retry)
        record = {"type": "resume", "at": time.time(), "retry": sorted(retry)}
        _append_line(self.path, record)

    @property
    def searched_trials(self) -> list[TrialRecord]:
        """The trials the search proposed (the baseline excluded)."""
        return [t for t in self.trials if t.number > 0]

    @property
    def replayable_trials(self) -> list[TrialRecord]:
        """The searched trials whose outcome a resumed search feeds back."""
        return [t for t in self.searched_trials if t.number not in self.superseded]

    @property
    def next_number(self) -> int:
        """The number the next trial gets."""
        return max((t.number for t in self.trials), default=0) + 1

    @property
    def status(self) -> str:
        """``complete``, ``paused`` or ``aborted`` once ended, else ``unfinished``."""
        return str(self.end.get("status", "unfinished")) if self.end else "unfinished"

    @property
    def resumable(self) -> bool:
        """Whether ``resume`` may continue the session."""
        return self.status != "complete"


def sessions_dir(state_dir: Path) -> Path:
    """Return the directory that holds the session files under ``state_dir``."""
    return state_dir / "sessions"


def create_session(state_dir: Path, header: SessionHeader) -> Session:
    """Start a new trial log under ``state_dir`` and write its header."""
    folder = sessions_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{header.id}.jsonl"
    _append_line(path, {"type": "session", "schema": SCHEMA, **asdict(header)})
    return Session(path, header)


def new_session_id(now: float | None = None) -> str:
    """Return a sortable, readable session id such as ``20261203-201501-3fa2``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now or time.time()))
    return f"{stamp}-{os.urandom(2).hex()}"


def load_session(path: Path) -> Session:
    """Read a trial log back; a torn last line (a killed run) is ignored.

    Raises:
        UsageError: The file is not a harden-bisect trial log.
    """
    records = list(_read_lines(path))
    if not records or records[0].get("type") != "session":
        raise UsageError(f"{path}: not a harden-bisect trial log")
    head = {k: v for k, v in records[0].items() if k not in ("type", "schema")}
    for key in ("entries", "pinned"):
        head[key] = tuple(head.get(key, ()))
    session = Session(path, SessionHeader(**head))
    for record in records[1:]:
        kind = record.pop("type", None)
        if kind == "trial":
            session.trials.append(_trial_from(record))
        elif kind == "end":
            session.end = record
        elif kind == "resume":
            session.end = None
            session.superseded.update(int(n) for n in record.get("retry", ()))
    return session


def list_sessions(state_dir: Path) -> list[Session]:
    """Return every readable session under ``state_dir``, newest first."""
    folder = sessions_dir(state_dir)
    found = []
    for path in sorted(folder.glob("*.jsonl"), reverse=True):
        try:
            found.append(load_session(path))
        except (UsageError, ValueError, TypeError):
            continue
    return found


def find_session(state_dir: Path, session_id: str | None) -> Session:
    """Return the session ``session_id`` (a unique prefix will do), or the newest.

    Raises:
        UsageError: No session, or an ambiguous or unknown id.
    """
    sessions = list_sessions(state_dir)
    if session_id is None:
        if not sessions:
            raise UsageError(f"no sessions under {sessions_dir(state_dir)}")
        return sessions[0]
    matches = [s for s in sessions if s.header.id.startswith(session_id)]
    if len(matches) != 1:
        known = ", ".join(s.header.id for s in sessions[:5]) or "none"
        what = "ambiguous" if matches else "no"
        raise UsageError(f"{what} session {session_id!r}; known: {known}")
    return matches[0]


def find_resumable(state_dir: Path, session_id: str | None) -> Session:
    """Return the session to resume: ``session_id``, or the newest unfinished.

    Raises:
        UsageError: No such session, or it has already completed.
    """
    if session_id is not None:
        session = find_session(state_dir, session_id)
    else:
        waiting = [s for s in list_sessions(state_dir) if s.resumable]
        if not waiting:
            raise UsageError(f"no unfinished session under {sessions_dir(state_dir)}")
        session = waiting[0]
    if not session.resumable:
        raise UsageError(
            f"session {session.header.id} has completed; "
            f"see harden-bisect replay {session.header.id}"
        )
    return session


def _trial_from(record: dict[str, Any]) -> TrialRecord:
    for key in ("entries", "failed_checks", "checks", "hints"):
        record[key] = tuple(record.get(key, ()))
    return TrialRecord(**record)


def _append_line(path: Path, record: dict[str, Any]) -> None:
    line = json.dumps(record, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield record
