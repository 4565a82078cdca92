"""Read a checklist file and reject what could not be run or could never fail.

``tomllib`` keeps no positions, so the loader finds each ``[[check]]`` table and
its keys in the raw text to name file:line in every error. Kind-specific keys are
read by :mod:`bisect_tui.core.checklist_kinds`. The shipped default is found with
:mod:`importlib.resources`, so it works from a wheel as well as from a checkout.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from bisect_tui.core.checklist import KINDS, PLACES, Check, Checklist
from bisect_tui.core.checklist_kinds import COMMON_KEYS, KIND_KEYS, read_spec
from bisect_tui.core.toml_locator import TomlLocator
from bisect_tui.errors import CatalogError

DEFAULT_CHECKLIST = "default_checklist.toml"
"""The shipped checklist's file name inside ``bisect_tui.data``."""

SCHEMA = 1
"""The checklist format version this loader reads."""

DEFAULT_TIMEOUTS: dict[str, float] = {
    "http": 5.0,
    "unit": 15.0,
    "journal": 15.0,
    "score": 60.0,
    "command": 120.0,
}
"""Seconds each kind may take when its check names no ``timeout``."""

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_TOML_LINE = re.compile(r"at line (\d+)")
_ONLY_HOST = ("unit", "journal", "score")


class ChecklistError(CatalogError):
    """A checklist file that fails validation (exit status 2, like a catalog)."""

    title = "checklist"


Fail = Callable[[str | None, str], CatalogError]
"""Builds the error for a key (``None``: the table itself) and a message."""


def load_checklist(path: str | Path | None = None) -> Checklist:
    """Load and validate a checklist.

    Args:
        path: A checklist file; ``None`` loads the one shipped with the tool.

    Returns:
        The checklist.

    Raises:
        ChecklistError: The file cannot be read or is invalid; the message names
            file:line and what is wrong.
    """
    text = checklist_text(path)
    return parse_checklist(text, DEFAULT_CHECKLIST if path is None else str(path))


def checklist_text(path: str | Path | None = None) -> str:
    """The text of a checklist file, or of the shipped one for ``None``.

    Raises:
        ChecklistError: The file cannot be read.
    """
    if path is None:
        shipped = resources.files("bisect_tui.data").joinpath(DEFAULT_CHECKLIST)
        return shipped.read_text(encoding="utf-8")
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        message = f"cannot read checklist: {exc.strerror or exc}"
        raise ChecklistError(str(path), None, message) from exc


def parse_checklist(text: str, shown: str = "<checklist>") -> Checklist:
    """Parse and validate checklist ``text``; ``shown`` names it in errors.

    Raises:
        ChecklistError: With file:line and what is wrong.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        raise ChecklistError(shown, line, f"not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"meta", "check"})
    if unknown:
        raise ChecklistError(shown, None, f"unknown top-level key {unknown[0]!r}")
    raw_checks = data.get("check", [])
    if not isinstance(raw_checks, list) or not raw_checks:
        raise ChecklistError(shown, None, "no [[check]] tables found")
    locator = TomlLocator(text)
    starts = locator.table_lines("check")
    checks = [
        _read_check(raw, shown, starts[i] if i < len(starts) else 0, locator)
        for i, raw in enumerate(raw_checks)
    ]
    _check_unique(checks, shown)
    return Checklist(tuple(checks), shown, _read_title(data.get("meta", {}), shown))


def _read_title(meta: Any, path: str) -> str:
    if not isinstance(meta, dict):
        raise ChecklistError(path, None, "[meta] must be a table")
    schema = meta.get("schema", SCHEMA)
    if schema != SCHEMA:
        message = f"[meta] schema {schema!r} unsupported (this tool reads {SCHEMA})"
        raise ChecklistError(path, None, message)
    return str(meta.get("title", ""))


def _read_check(raw: Any, path: str, start: int, locator: TomlLocator) -> Check:
    def fail(key: str | None, message: str) -> CatalogError:
        line = locator.key_line(start, key) if key else start
        label = raw.get("id") if isinstance(raw, dict) else None
        where = f"check {label!r}: " if isinstance(label, str) else "check: "
        return ChecklistError(path, line or None, where + message)

    if not isinstance(raw, dict):
        raise fail(None, "must be a table")
    check_id = _read_id(raw, fail)
    kind = _read_choice(raw, "kind", KINDS, None, fail)
    _reject_unknown_keys(raw, kind, fail)
    default_place = "host" if kind in _ONLY_HOST else "operator"
    where = _read_choice(raw, "where", PLACES, default_place, fail)
    if kind in _ONLY_HOST and where != "host":
        raise fail("where", f"a {kind} check runs on the host: use where = 'host'")
    if kind == "command" and where != "operator":
        raise fail("where", "a command check runs on the operator's machine")
    return Check(
        id=check_id,
        kind=kind,
        spec=read_spec(kind, raw, fail),
        where=where,
        timeout=_read_timeout(raw, kind, fail),
        description=_read_text(raw, "description", fail),
        unit=_read_text(raw, "unit", fail) or None,
        line=start,
    )


def _read_id(raw: dict[str, Any], fail: Fail) -> str:
    if "id" not in raw:
        raise fail(None, "missing required key 'id'")
    value = raw["id"]
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        raise fail("id", "'id' must be lower-case letters, digits and -")
    return value


def _read_choice(
    raw: dict[str, Any],
    key: str,
    choices: Sequence[str],
    default: str | None,
    fail: Fail,
) -> str:
    if key not in raw:
        if default is None:
            raise fail(None, f"missing required key {key!r}")
        return default
    value = raw[key]
    if value not in choices:
        shown = ", ".join(choices)
        hint = did_you_mean(str(value), choices)
        raise fail(key, f"{key!r} must be one of {shown}, not {value!r}{hint}")
    return str(value)


def _reject_unknown_keys(raw: dict[str, Any], kind: str, fail: Fail) -> None:
    allowed = COMMON_KEYS + KIND_KEYS[kind]
    for key in raw:
        if key in allowed:
            continue
        if any(key in keys for keys in KIND_KEYS.values()):
            raise fail(key, f"{key!r} does not apply to {kind} checks")
        raise fail(key, f"unknown key {key!r}{did_you_mean(key, allowed)}")


def _read_timeout(raw: dict[str, Any], kind: str, fail: Fail) -> float:
    value = raw.get("timeout", DEFAULT_TIMEOUTS[kind])
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise fail("timeout", "'timeout' must be a positive number of seconds")
    return float(value)


def _read_text(raw: dict[str, Any], key: str, fail: Fail) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or "\n" in value.strip():
        raise fail(key, f"{key!r} must be a one-line string")
    return value.strip()


def _check_unique(checks: list[Check], path: str) -> None:
    seen: dict[str, Check] = {}
    for check in checks:
        if check.id in seen:
            first = seen[check.id].line
            message = f"check {check.id!r}: duplicate id (first on line {first})"
            raise ChecklistError(path, check.line or None, message)
        seen[check.id] = check


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for a near miss, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
