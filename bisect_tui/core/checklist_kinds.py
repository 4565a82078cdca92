"""The keys each kind of check takes, read into its spec with precise errors.

Every value is checked when the file is loaded, not when a trial runs: a bad
regular expression or an unknown placeholder in a URL must stop the operator
before the host is touched.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bisect_tui.core.checklist import (
    PLACEHOLDERS,
    CommandSpec,
    HttpSpec,
    JournalSpec,
    ScoreSpec,
    Spec,
    UnitSpec,
    render_template,
    template_names,
)
from bisect_tui.core.checklist_expect import parse_sample
from bisect_tui.errors import CatalogError

Fail = Callable[[str | None, str], CatalogError]

COMMON_KEYS: tuple[str, ...] = ("id", "kind", "where", "timeout", "description")
"""Keys every check may have."""

KIND_KEYS: dict[str, tuple[str, ...]] = {
    "http": (
        "url",
        "expect_status",
        "expect_prefix",
        "expect_pattern",
        "expect_json",
        "expect_sample",
    ),
    "unit": ("unit", "min_workers", "sample_interval"),
    "journal": ("unit", "priority"),
    "score": ("unit", "max"),
    "command": ("command",),
}
"""Keys only one kind (or a few kinds) of check may have."""

PRIORITIES: tuple[str, ...] = (
    "emerg",
    "alert",
    "crit",
    "err",
    "warning",
    "notice",
    "info",
    "debug",
)
"""syslog priorities, most severe first; the index is the numeric priority."""

_SAMPLE_VALUES = {name: "1" for name in PLACEHOLDERS} | {"host": "example.test"}


def read_spec(kind: str, raw: dict[str, Any], fail: Fail) -> Spec:
    """Read the keys of a ``kind`` check from its table ``raw``.

    Raises:
        CatalogError: Through ``fail``, naming the offending key.
    """
    readers: dict[str, Callable[[dict[str, Any], Fail], Spec]] = {
        "http": _read_http,
        "unit": _read_unit,
        "journal": _read_journal,
        "score": _read_score,
        "command": _read_command,
    }
    return readers[kind](raw, fail)


def _read_http(raw: dict[str, Any], fail: Fail) -> HttpSpec:
    if "url" not in raw:
        raise fail(None, "an http check needs a 'url'")
    url = _template(raw["url"], "url", fail)
    parts = urlsplit(render_template(url, _SAMPLE_VALUES))
    if parts.scheme != "http" or not parts.hostname:
        # TODO: https checks (certificate handling) are not supported yet.
        raise fail("url", f"'url' must be an http:// URL with a host, not {url!r}")
    spec = HttpSpec(
        url=url,
        expect_status=_read_status(raw.get("expect_status", 200), fail),
        expect_prefix=_optional_text(raw, "expect_prefix", fail),
        expect_pattern=_read_pattern(raw, fail),
        expect_json=_read_bool(raw, "expect_json", fail),
        expect_samples=_read_samples(raw.get("expect_sample", []), fail),
    )
    return spec


def _read_status(value: Any, fail: Fail) -> int | None:
    if value == "any":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise fail("expect_status", "'expect_status' must be 100-599 or 'any'")
    return value


def _read_pattern(raw: dict[str, Any], fail: Fail) -> str | None:
    pattern = _optional_text(raw, "expect_pattern", fail)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail("expect_pattern", f"not a regular expression: {exc}") from exc
    return pattern


def _read_samples(value: Any, fail: Fail) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise fail("expect_sample", "'expect_sample' must be a string or an array")
    for item in items:
        if parse_sample(item) is None:
            message = f"cannot read sample {item!r}; write e.g. 'nginx_up 1'"
            raise fail("expect_sample", message)
    return tuple(i.strip() for i in items)


def _read_unit(raw: dict[str, Any], fail: Fail) -> UnitSpec:
    workers = raw.get("min_workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise fail("min_workers", "'min_workers' must be a whole number, 0 or more")
    interval = raw.get("sample_interval", 1.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float):
        raise fail("sample_interval", "'sample_interval' must be a number of seconds")
    if not 0 <= interval <= 10:
        raise fail("sample_interval", "'sample_interval' must be 0 to 10 seconds")
    return UnitSpec(min_workers=workers, sample_interval=float(interval))


def _read_journal(raw: dict[str, Any], fail: Fail) -> JournalSpec:
    value = raw.get("priority", "err")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 7:
        value = PRIORITIES[value]
    if value not in PRIORITIES:
        shown = ", ".join(PRIORITIES)
        raise fail("priority", f"'priority' must be one of {shown} (or 0-7)")
    return JournalSpec(priority=str(value))


def _read_score(raw: dict[str, Any], fail: Fail) -> ScoreSpec:
    value = raw.get("max")
    if value is None:
        return ScoreSpec()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("max", "'max' must be an exposure between 0.0 and 10.0")
    if not 0 <= value <= 10:
        raise fail("max", "'max' must be an exposure between 0.0 and 10.0")
    return ScoreSpec(max=float(value))


def _read_command(raw: dict[str, Any], fail: Fail) -> CommandSpec:
    value = raw.get("command")
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            raise fail("command", f"cannot split 'command': {exc}") from exc
    if not isinstance(value, list) or not value:
        raise fail(
            "command" if "command" in raw else None,
            "a command check needs 'command': a string or an array of words",
        )
    return CommandSpec(argv=tuple(_template(word, "command", fail) for word in value))


def _template(value: Any, key: str, fail: Fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(key, f"{key!r} must be a non-empty string")
    try:
        names = template_names(value)
    except ValueError as exc:
        raise fail(key, f"bad placeholder in {value!r}: {exc}") from exc
    for name in names:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise fail(key, f"unknown placeholder {{{name}}}; known: {known}")
    return value


def _optional_text(raw: dict[str, Any], key: str, fail: Fail) -> str | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise fail(key, f"{key!r} must be a non-empty string")
    return value


def _read_bool(raw: dict[str, Any], key: str, fail: Fail) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise fail(key, f"{key!r} must be true or false")
    return value
