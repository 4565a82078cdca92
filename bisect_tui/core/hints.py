"""Name the directive most likely behind a failed check, from logs and evidence.

A failed trial says *that* something broke; the journal, the kernel's audit lines
and nginx's error log usually say *what*. :func:`find_hints` runs every
recogniser of :mod:`bisect_tui.core.hints_signs` over those lines;
:func:`hints_from_results` adds what only the checks can see (a unit active with
no workers, requests that time out). :func:`explain` does both and keeps one hint
per sign and suspect, the most precise first. The text is fetched by the host layer.
"""

from __future__ import annotations

from collections.abc import Iterable

from bisect_tui.core.checklist import ChecklistResult, CheckResult
from bisect_tui.core.hints_model import Hint
from bisect_tui.core.hints_signs import RECOGNISERS

__all__ = ["Hint", "explain", "find_hints", "hints_from_results"]


def find_hints(lines: Iterable[str]) -> list[Hint]:
    """Recognise the signs of a hardening directive in log ``lines``.

    Args:
        lines: Journal, audit and error-log lines, in any order.

    Returns:
        One hint per suspect, in order of first appearance (see :func:`dedupe`).
    """
    found = []
    for line in lines:
        for recognise in RECOGNISERS:
            hint = recognise(line)
            if hint is not None:
                found.append(hint)
                break
    return dedupe(found)


def hints_from_results(result: ChecklistResult) -> list[Hint]:
    """Hints that only the checks' own evidence can give.

    Args:
        result: A checklist run.

    Returns:
        A hint for a unit that is active without workers, and one for HTTP
        requests that time out while the unit serves.
    """
    hints = []
    units = [r for r in result.results if r.kind == "unit"]
    if any(_active_without_workers(r) for r in units):
        unit = next(r for r in units if _active_without_workers(r))
        hints.append(
            Hint(
                "zero-workers",
                "SystemCallFilter",
                "~@privileged",
                _first(unit.evidence),
                "the unit is active but no worker stays alive: workers die as "
                "they drop privileges, the mark of a denied ~@privileged group.",
            )
        )
    serving = units and all(r.verdict == "good" for r in units)
    timeouts = [r for r in result.results if _timed_out(r)]
    if serving and timeouts:
        hints.append(
            Hint(
                "silent-timeout",
                "IPAddressDeny",
                "any",
                f"{timeouts[0].check_id}: {_timeout_line(timeouts[0])}",
                "requests time out although nginx serves: IPAddressDeny= drops "
                "them silently; allow the clients with IPAddressAllow=.",
            )
        )
    return hints


def explain(result: ChecklistResult, lines: Iterable[str]) -> list[Hint]:
    """Every hint for a failed checklist run, log signs first.

    A hint from the checks' evidence is left out when a log sign already names
    the same suspect: the log line is the better evidence.

    Args:
        result: The run whose failure needs explaining.
        lines: The log lines gathered from the host after the run.

    Returns:
        The hints; empty when nothing was recognised.
    """
    from_logs = find_hints(lines)
    named = {hint.suspect for hint in from_logs}
    extra = [h for h in hints_from_results(result) if h.suspect not in named]
    return dedupe([*from_logs, *extra])


def dedupe(hints: Iterable[Hint]) -> list[Hint]:
    """Keep the first hint per sign and suspect, and drop vague duplicates.

    A hint with no value is dropped when another hint names a value for the
    same directive: "SystemCallFilter=~@privileged" says all that
    "SystemCallFilter" does.
    """
    kept: dict[tuple[str, str, str], Hint] = {}
    for hint in hints:
        kept.setdefault((hint.sign, hint.directive, hint.value), hint)
    precise = {hint.directive for hint in kept.values() if hint.value}
    return [h for h in kept.values() if h.value or h.directive not in precise]


def _active_without_workers(result: CheckResult) -> bool:
    active = any(line.startswith("ActiveState=active") for line in result.evidence)
    return result.verdict == "bad" and active and result.value == 0


def _timed_out(result: CheckResult) -> bool:
    return (
        result.kind == "http"
        and result.verdict == "bad"
        and bool(_timeout_line(result))
    )


def _timeout_line(result: CheckResult) -> str:
    return next((line for line in result.evidence if "timed out" in line), "")


def _first(lines: tuple[str, ...]) -> str:
    return lines[0] if lines else ""
