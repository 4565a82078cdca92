"""The checklist: what must still work after a trial, and what each check found.

A trial is judged only by its checklist. Each :class:`Check` is one question asked
of the service (does ``/health`` answer, is the unit serving with workers, did the
journal stay clean, what is the exposure score); each :class:`CheckResult` keeps
the evidence behind its verdict so an operator can see *why*. The model is pure
data: loading lives in :mod:`bisect_tui.core.checklist_loader`, running in
:mod:`bisect_tui.host.checks`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["good", "bad", "skip"]
"""good: the check passed; bad: it failed; skip: it could not decide."""

KINDS: tuple[str, ...] = ("http", "unit", "journal", "score", "command")
"""The kinds of check a checklist may hold."""

PLACES: tuple[str, ...] = ("operator", "host")
"""Where a check runs: the operator's machine, or the host through SSH."""

PLACEHOLDERS: tuple[str, ...] = ("host", "http_port", "metrics_port", "unit")
"""The names a URL or a command may template, e.g. ``{http_port}``."""


@dataclass(frozen=True)
class HttpSpec:
    """An HTTP GET and what its answer must look like.

    Attributes:
        url: The URL template, e.g. ``http://{host}:{http_port}/health``.
        expect_status: The status code required; ``None`` accepts any.
        expect_prefix: Text the body must start with, if any.
        expect_pattern: A regular expression the body must contain, if any.
        expect_json: Whether the body must parse as JSON.
        expect_samples: Prometheus samples the body must carry, e.g.
            ``"nginx_up 1"`` (name, optional labels, value).
    """

    url: str
    expect_status: int | None = 200
    expect_prefix: str | None = None
    expect_pattern: str | None = None
    expect_json: bool = False
    expect_samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitSpec:
    """The unit must be active with serving worker processes.

    Attributes:
        min_workers: The fewest children of the main process that count as
            serving.
        sample_interval: Seconds between two looks at the children; only a
            child seen both times counts, so workers that a seccomp filter kills
            and the master respawns in a loop are not mistaken for service.
    """

    min_workers: int = 1
    sample_interval: float = 1.0


@dataclass(frozen=True)
class JournalSpec:
    """The unit's journal since its last start must hold no serious message.

    Attributes:
        priority: The mildest syslog priority that fails the check
            (``"err"`` also catches crit, alert and emerg).
    """

    priority: str = "err"


@dataclass(frozen=True)
class ScoreSpec:
    """The ``systemd-analyze security`` exposure, recorded.

    Attributes:
        max: The highest exposure that passes; ``None`` only records it.
    """

    max: float | None = None


@dataclass(frozen=True)
class CommandSpec:
    """An operator's own program, judged the way ``git bisect run`` judges it.

    Exit status 0 is good, 125 is skip, anything else is bad.

    Attributes:
        argv: The program and its arguments, each a template.
    """

    argv: tuple[str, ...]


Spec = HttpSpec | UnitSpec | JournalSpec | ScoreSpec | CommandSpec


@dataclass(frozen=True)
class Check:
    """One check of a checklist.

    Attributes:
        id: Stable kebab-case identifier, used to tell failures apart.
        kind: One of :data:`KINDS`.
        spec: What the kind needs to know.
        where: One of :data:`PLACES`.
        timeout: Seconds the check may take before it counts as failed.
        description: One line for people, shown next to the verdict.
        unit: The unit to look at for ``unit``, ``journal`` and ``score``
            checks; ``None`` means the unit the tool was pointed at.
        line: The checklist line the check starts on (0 when built in code).
    """

    id: str
    kind: str
    spec: Spec
    where: str
    timeout: float
    description: str = ""
    unit: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Checklist:
    """An ordered set of checks, as loaded from one file.

    Attributes:
        checks: The checks, in file order.
        path: Where the checklist came from, for messages.
        title: The file's ``[meta] title``, if any.
    """

    checks: tuple[Check, ...]
    path: str = "<memory>"
    title: str = ""

    def by_id(self, check_id: str) -> Check:
        """Return the check named ``check_id``.

        Raises:
            KeyError: No check has that id.
        """
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)


@dataclass(frozen=True)
class CheckContext:
    """The facts a checklist is run with: where the service is, which unit.

    Operator-side checks reach ``host`` on ``http_port``/``metrics_port``.
    Host-side checks reach ``host_address`` on the host's own ports, which
    differ from the operator's when a port is forwarded; ``None`` means the
    same number as the operator's.

    Attributes:
        host: The address operator-side checks connect to.
        http_port: The service's HTTP port as the operator reaches it.
        metrics_port: The metrics exporter's port as the operator reaches it.
        unit: The systemd unit under test.
        host_address: The address host-side checks connect to, on the host.
        host_http_port: The HTTP port as seen on the host.
        host_metrics_port: The exporter's port as seen on the host.
    """

    host: str
    http_port: int = 17080
    metrics_port: int = 9113
    unit: str = "nginx.service"
    host_address: str = "127.0.0.1"
    host_http_port: int | None = None
    host_metrics_port: int | None = None

    def values(self, where: str) -> dict[str, str]:
        """Return the placeholder values for a check that runs ``where``."""
        if where == "host":
            http = self.host_http_port or self.http_port
            metrics = self.host_metrics_port or self.metrics_port
            address = self.host_address
        else:
            http, metrics, address = self.http_port, self.metrics_port, self.host
        return {
            "host": _url_host(address),
            "http_port": str(http),
            "metrics_port": str(metrics),
            "unit": self.unit,
        }


def _url_host(address: str) -> str:
    # An IPv6 literal needs brackets inside a URL ("http://[::1]:17080/").
    if ":" in address and not address.startswith("["):
        return f"[{address}]"
    return address


def template_names(template: str) -> list[str]:
    """Return the placeholder names ``template`` uses, in order.

    Raises:
        ValueError: The template is malformed (an unmatched brace, a format
            specification or a conversion).
    """
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} takes no format or conversion")
        names.append(name)
    return names


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders in ``template`` from ``values``.

    Raises:
        KeyError: The template names a value that was not given.
    """
    return template.format_map(dict(values))


@dataclass(frozen=True)
class CheckResult:
    """What one check found.

    Attributes:
        check_id: The check's id.
        kind: The check's kind.
        verdict: good, bad or skip.
        evidence: Lines an operator can read: what was asked, what came back,
            which error, how long it took.
        seconds: Wall-clock time the check took.
        value: A number the check measured (the exposure for ``score``, the
            worker count for ``unit``), if any.
    """

    check_id: str
    kind: str
    verdict: Verdict
    evidence: tuple[str, ...] = ()
    seconds: float = 0.0
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON-ready data."""
        return {
            "id": self.check_id,
            "kind": self.kind,
            "verdict": self.verdict,
            "evidence": list(self.evidence),
            "seconds": round(self.seconds, 3),
            "value": self.value,
        }


@dataclass(frozen=True)
class ChecklistResult:
    """The verdict of a whole checklist run.

    Attributes:
        results: One result per check, in checklist order.
        seconds: Wall-clock time of the whole run.
    """

    results: tuple[CheckResult, ...]
    seconds: float = 0.0

    @property
    def failing(self) -> tuple[str, ...]:
        """The sorted ids of the checks whose verdict is bad."""
        return tuple(sorted(r.check_id for r in self.results if r.verdict == "bad"))

    @property
    def unresolved(self) -> tuple[str, ...]:
        """The sorted ids of the checks that could not decide."""
        return tuple(sorted(r.check_id for r in self.results if r.verdict == "skip"))

    @property
    def verdict(self) -> Verdict:
        """bad if any check is bad, else skip if any could not decide, else good."""
        if self.failing:
            return "bad"
        return "skip" if self.unresolved else "good"

    def result(self, check_id: str) -> CheckResult:
        """Return the result of the check named ``check_id``.

        Raises:
            KeyError: No such check ran.
        """
        for item in self.results:
            if item.check_id == check_id:
                return item
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        """Return the run as plain JSON-ready data."""
        return {
            "verdict": self.verdict,
            "failing": list(self.failing),
            "unresolved": list(self.unresolved),
            "seconds": round(self.seconds, 3),
            "checks": [r.to_dict() for r in self.results],
        }
