"""Trials on a real host, as a search needs them: apply, check, judge, restore.

:class:`HostTrials` is the search's judge on a host. One trial writes the
drop-in under the dead-man, runs the checklist, reads the logs when something
failed, and then either keeps the set as the new known-good state (it passed)
or restores the last known-good state (it did not). Between trials the unit
therefore always runs a set that passed. A lost connection makes the trial
unresolved, never bad: the judge reconnects, the dead-man has meanwhile healed
the host, and the engine decides whether to try again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bisect_tui.core.catalog import Catalog
from bisect_tui.core.checklist import CheckContext, Checklist, ChecklistResult
from bisect_tui.core.search import TrialOutcome
from bisect_tui.core.session import content_hash
from bisect_tui.errors import HostError
from bisect_tui.host import systemd
from bisect_tui.host.apply import ApplyOutcome, TrialHost
from bisect_tui.host.checks import run_checklist
from bisect_tui.host.checks_hints import explain_failure
from bisect_tui.host.deadman import DEFAULT_WINDOW
from bisect_tui.host.lock import acquire_lock, release_lock
from bisect_tui.host.rollback import RollbackOutcome, rollback
from bisect_tui.host.runner import CommandRunner

log = logging.getLogger(__name__)

READBACK_CHECK = "readback"
"""The failing check a trial gets when systemd ignored or misread a directive
while every check passed: such a trial is never a pass."""

_NGINX_VERSION = re.compile(r"nginx/(\S+)")


@dataclass(frozen=True)
class Connection:
    """How the judge reaches the host, and reaches it again after a drop.

    Attributes:
        connect: Opens a new authenticated connection.
        context: Where the checklist's checks connect, given a connection.
        client: Who holds the host's lock, as recorded there.
    """

    connect: Callable[[], CommandRunner]
    context: Callable[[CommandRunner], CheckContext]
    client: str


def host_versions(runner: CommandRunner) -> dict[str, str]:
    """The host's systemd, nginx and kernel versions, for the trial log."""
    versions = {"systemd": str(systemd.systemd_version(runner))}
    kernel = runner.run(["uname", "-r"])
    versions["kernel"] = kernel.stdout.strip() if kernel.ok else "?"
    nginx = runner.run(["nginx", "-v"], sudo=True)
    found = _NGINX_VERSION.search(nginx.stderr + nginx.stdout)
    versions["nginx"] = found.group(1) if found else "?"
    return versions


class HostTrials:
    """Runs a search's trials on one unit of one host."""

    def __init__(
        self,
        link: Connection,
        runner: CommandRunner,
        unit: str,
        catalog: Catalog,
        checklist: Checklist,
        *,
        window: float = DEFAULT_WINDOW,
        hints: bool = True,
    ) -> None:
        """Prepare to run trials over ``runner``, already connected and locked.

        Args:
            link: How to reconnect after a dropped connection.
            runner: The open connection; this object owns it from now on.
            unit: The service unit under test.
            catalog: Where entry ids are looked up.
            checklist: What judges a trial.
            window: The dead-man window in seconds.
            hints: Read the logs for likely culprits when a trial fails.
        """
        self.link = link
        self.runner: CommandRunner | None = runner
        self.unit = unit
        self.catalog = catalog
        self.checklist = checklist
        self.window = window
        self.hints = hints

    def baseline(self) -> tuple[ChecklistResult, tuple[dict[str, Any], ...]]:
        """Run the checklist on the unit as it is, changing nothing.

        Returns:
            The result, and the hints when it failed.
        """
        runner = self._runner()
        result = run_checklist(self.checklist, runner, self.link.context(runner))
        hints: tuple[dict[str, Any], ...] = ()
        if result.verdict == "bad" and self.hints:
            found = explain_failure(runner, result, self.unit)
            hints = tuple(h.to_dict() for h in found)
        return result, hints

    def run(self, entries: Sequence[str], purpose: str) -> TrialOutcome:
        """Apply ``entries`` as one trial and judge it (see the module docstring)."""
        started = time.monotonic()
        try:
            return self._trial(entries, started)
        except HostError as exc:
            log.warning("%s: trial unresolved: %s", self.unit, exc)
            note = f"unresolved: {exc}"
            self._recover()
            return TrialOutcome("skip", seconds=time.monotonic() - started, note=note)

    def _trial(self, entries: Sequence[str], started: float) -> TrialOutcome:
        runner = self._runner()
        host = TrialHost(runner, self.unit, window=self.window)
        plan = host.plan(self.catalog.ordered(entries))
        try:
            applied = host.apply(plan)
            checked = run_checklist(self.checklist, runner, self.link.context(runner))
        except BaseException:
            # Ctrl-C or a lost link halfway: put the known-good state back now
            # if the connection still allows it; the dead-man covers the rest.
            _quietly(host.revert)
            raise
        verdict, failed = judge(applied, checked)
        hints: tuple[dict[str, Any], ...] = ()
        clock = time.monotonic()
        if verdict == "bad" and self.hints:
            found = explain_failure(runner, checked, self.unit)
            hints = tuple(h.to_dict() for h in found)
        timings = dict(applied.timings)
        timings["checklist"] = checked.seconds
        timings["hints"] = time.monotonic() - clock
        clock = time.monotonic()
        fired = host.keep(plan) if verdict == "good" else host.revert()
        timings["restore"] = time.monotonic() - clock
        note = _readback_note(applied)
        if fired:
            # The dead-man restored the unit while the checklist ran: what the
            # checks saw may not be this trial.
            verdict, failed = "skip", ()
            note = "the dead-man fired before the verdict; raise --deadman"
        checks = tuple(r.to_dict() for r in checked.results)
        score = next((r.value for r in checked.results if r.kind == "score"), None)
        return TrialOutcome(
            verdict=verdict,
            failed_checks=failed,
            checks=checks,
            hints=hints,
            dropin_hash=content_hash(plan.composition.text),
            seconds=time.monotonic() - started,
            timings=timings,
            score=score,
            note=note,
        )

    def finish(self) -> RollbackOutcome:
        """Remove the tool's drop-in, restart the unit, release the lock."""
        runner = self._runner()
        try:
            return rollback(runner, self.unit)
        finally:
            release_lock(runner)

    def release(self) -> None:
        """Give the host back untouched: release the lock, close the connection.

        For a search that ends before its first trial; the unit was not
        changed, so nothing is restarted.
        """
        if self.runner is not None:
            release_lock(self.runner)
        self.close()

    def close(self) -> None:
        """Close the connection (the lock goes with it, as a stale one)."""
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    def _runner(self) -> CommandRunner:
        if self.runner is None:
            runner = self.link.connect()
            acquire_lock(runner, self.link.client)
            self.runner = runner
            log.info("%s: reconnected", runner.host)
        return self.runner

    def _recover(self) -> None:
        """After a failed trial step: reconnect and restore the known-good state."""
        if self.runner is not None:
            _quietly(self.runner.close)
            self.runner = None
        try:
            runner = self._runner()
            TrialHost(runner, self.unit, window=self.window).revert()
        except HostError as exc:
            log.warning(
                "%s: cannot reach the host yet (%s); the dead-man "
                "restores the unit by itself",
                self.unit,
                exc,
            )
            self.runner = None


def judge(
    applied: ApplyOutcome, checked: ChecklistResult
) -> tuple[str, tuple[str, ...]]:
    """A trial's verdict: the checklist's, except that a misread set never passes."""
    if checked.verdict == "good" and not applied.readback.ok:
        return "bad", (READBACK_CHECK,)
    if checked.verdict == "bad":
        return "bad", checked.failing
    return checked.verdict, ()


def _readback_note(applied: ApplyOutcome) -> str:
    problems = applied.readback.problems()
    return "; ".join(problems)[:500] if problems else ""


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - best effort on the way out
        log.warning("while recovering: %s", exc)
