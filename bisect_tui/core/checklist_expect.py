"""Judge an HTTP answer against a check's expectations, and read Prometheus text.

Kept apart from the transports so the same rules apply whether the answer came
over a socket from the operator's machine or over an SSH channel from the host.
A metrics exporter answers 200 even when the server it watches is down, which is
why a check can demand a particular sample (``nginx_up 1``) rather than a status.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from bisect_tui.core.checklist import HttpSpec, Verdict

SHOWN_BYTES = 80
"""How much of a body an evidence line quotes."""

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE_LINE = re.compile(rf"\s*({_NAME})(\{{[^}}]*\}})?\s+(\S+)(?:\s+\S+)?\s*\Z")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


@dataclass(frozen=True)
class Sample:
    """One Prometheus sample: a metric name, its labels and a value.

    Attributes:
        name: The metric name, e.g. ``nginx_up``.
        labels: Sorted ``(label, value)`` pairs.
        value: The sample value.
    """

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def matches(self, other: Sample) -> bool:
        """Whether ``other`` has this name and value, and at least these labels."""
        if self.name != other.name or not _same_number(self.value, other.value):
            return False
        return set(self.labels) <= set(other.labels)


def _same_number(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def parse_sample(line: str) -> Sample | None:
    """Parse one line of the Prometheus text format.

    Args:
        line: E.g. ``nginx_up 1`` or ``http_requests{code="200"} 3 1700000000``.

    Returns:
        The sample, or ``None`` for comments, blank lines and malformed lines.
    """
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    found = _SAMPLE_LINE.match(line)
    if not found:
        return None
    name, raw_labels, raw_value = found.groups()
    labels = _parse_labels(raw_labels[1:-1]) if raw_labels else ()
    if labels is None:
        return None
    try:
        value = float(raw_value)
    except ValueError:
        return None
    return Sample(name, labels, value)


def _parse_labels(text: str) -> tuple[tuple[str, str], ...] | None:
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        found = _LABEL.match(text, position)
        if not found:
            return None if text[position:].strip() else tuple(sorted(pairs))
        pairs.append((found.group(1), found.group(2)))
        position = found.end()
    return tuple(sorted(pairs))


def parse_samples(text: str) -> list[Sample]:
    """Return every sample in a Prometheus text exposition."""
    samples = (parse_sample(line) for line in text.splitlines())
    return [s for s in samples if s is not None]


def quote_body(body: bytes) -> str:
    """The first bytes of ``body`` as an evidence line."""
    shown = body[:SHOWN_BYTES].decode("utf-8", errors="replace")
    more = f" (+{len(body) - SHOWN_BYTES} bytes)" if len(body) > SHOWN_BYTES else ""
    return f"body: {shown!r}{more}"


def judge_http(spec: HttpSpec, status: int, body: bytes) -> tuple[Verdict, list[str]]:
    """Judge one HTTP answer against ``spec``.

    Args:
        spec: The expectations.
        status: The status code received.
        body: The body received (possibly cut at the transport's limit).

    Returns:
        ``"good"`` or ``"bad"``, and one evidence line per unmet expectation.
    """
    text = body.decode("utf-8", errors="replace")
    problems = []
    if spec.expect_status is not None and status != spec.expect_status:
        problems.append(f"expected status {spec.expect_status}, got {status}")
    if spec.expect_prefix is not None and not text.startswith(spec.expect_prefix):
        problems.append(f"body does not start with {spec.expect_prefix!r}")
    if spec.expect_pattern is not None and not re.search(spec.expect_pattern, text):
        problems.append(f"body does not match /{spec.expect_pattern}/")
    if spec.expect_json:
        problems.extend(_json_problem(text))
    problems.extend(_sample_problems(spec.expect_samples, text))
    return ("bad" if problems else "good"), problems


def _json_problem(text: str) -> list[str]:
    try:
        json.loads(text)
    except ValueError as exc:
        return [f"body is not valid JSON: {exc}"]
    return []


def _sample_problems(expected: tuple[str, ...], text: str) -> list[str]:
    if not expected:
        return []
    samples = parse_samples(text)
    problems = []
    for wanted_text in expected:
        wanted = parse_sample(wanted_text)
        if wanted is None:
            problems.append(f"cannot read expected sample {wanted_text!r}")
            continue
        if not any(wanted.matches(s) for s in samples):
            problems.append(_missing_sample(wanted_text, wanted, samples))
    return problems


def _missing_sample(text: str, wanted: Sample, samples: list[Sample]) -> str:
    seen = [s for s in samples if s.name == wanted.name]
    if not seen:
        return f"no sample {wanted.name} in the body"
    values = ", ".join(f"{s.value:g}" for s in seen[:3])
    return f"expected sample {text!r}, found {wanted.name} = {values}"
