"""Read a catalog file and reject what would make a wrong or unsafe drop-in.

``tomllib`` keeps no positions, so the loader finds each ``[[entry]]`` table and
its keys in the raw text to name file:line in every error. The rules are the same
for the shipped catalog and for an operator's own ``--catalog FILE``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from bisect_tui.core import directives
from bisect_tui.core.catalog import GROUPS, PHASES, Catalog, Entry, TradeOff
from bisect_tui.core.security_checks import security_check_names
from bisect_tui.core.toml_locator import TomlLocator
from bisect_tui.errors import CatalogError

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOML_LINE = re.compile(r"at line (\d+)")
_REQUIRED = ("id", "directive", "value", "phase", "group", "reason", "risk")
_OPTIONAL = ("requires", "checks", "since", "measured")


def read_catalog(path: Path) -> Catalog:
    """Parse and validate the catalog at ``path``.

    Raises:
        CatalogError: With file:line and what is wrong.
    """
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(shown, None, f"cannot read catalog: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        raise CatalogError(shown, line, f"not valid TOML: {exc}") from exc
    locator = TomlLocator(text)
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list) or not raw_entries:
        raise CatalogError(shown, None, "no [[entry]] tables found")
    starts = locator.table_lines("entry")
    entries = [
        _read_entry(raw, shown, starts[i] if i < len(starts) else 0, locator)
        for i, raw in enumerate(raw_entries)
    ]
    _check_ids(entries, shown)
    trade_offs = _read_trade_offs(data.get("trade_off", []), shown, locator)
    title = str(data.get("meta", {}).get("title", ""))
    return Catalog(tuple(entries), tuple(trade_offs), shown, title)


def _read_entry(raw: Any, path: str, start: int, locator: TomlLocator) -> Entry:
    def fail(key: str | None, message: str) -> CatalogError:
        line = locator.key_line(start, key) if key else start
        label = raw.get("id") if isinstance(raw, dict) else None
        where = f"entry {label!r}: " if isinstance(label, str) else "entry: "
        return CatalogError(path, line or None, where + message)

    if not isinstance(raw, dict):
        raise fail(None, "must be a table")
    for key in raw:
        if key not in _REQUIRED and key not in _OPTIONAL:
            hint = _did_you_mean(key, _REQUIRED + _OPTIONAL)
            raise fail(key, f"unknown key {key!r}{hint}")
    for key in _REQUIRED:
        if key not in raw:
            raise fail(None, f"missing required key {key!r}")
    for key in ("id", "directive", "phase", "group", "reason", "risk"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise fail(key, f"{key!r} must be a non-empty string")

    entry_id, name = raw["id"], raw["directive"]
    if not _ID_PATTERN.match(entry_id):
        raise fail("id", f"id {entry_id!r} must be lower-case letters, digits and -")
    info = directives.lookup(name)
    if info is None:
        nearest = directives.suggest(name)
        extra = f"; did you mean {nearest!r}?" if nearest else ""
        raise fail("directive", f"unknown [Service] directive {name!r}{extra}")
    if raw["phase"] not in PHASES:
        hint = _did_you_mean(raw["phase"], PHASES)
        raise fail("phase", f"unknown phase {raw['phase']!r}{hint}")
    if raw["group"] not in GROUPS:
        hint = _did_you_mean(raw["group"], GROUPS)
        raise fail("group", f"unknown group {raw['group']!r}{hint}")

    value = _read_value(raw["value"], info, lambda m: fail("value", m))
    requires = _string_list(raw.get("requires", []), lambda m: fail("requires", m))
    checks = _string_list(raw.get("checks", []), lambda m: fail("checks", m))
    for check in checks:
        if check not in security_check_names():
            hint = _did_you_mean(check, sorted(security_check_names()))
            raise fail("checks", f"unknown systemd-analyze check {check!r}{hint}")
    since = raw.get("since", info.since)
    if not isinstance(since, int) or isinstance(since, bool) or since < 1:
        raise fail("since", "'since' must be a systemd version number, e.g. 247")
    measured = raw.get("measured", "")
    if not isinstance(measured, str):
        raise fail("measured", "'measured' must be a string")
    return Entry(
        id=entry_id,
        directive=name,
        value=value,
        phase=raw["phase"],
        group=raw["group"],
        reason=raw["reason"].strip(),
        risk=raw["risk"].strip(),
        requires=tuple(requires),
        checks=tuple(checks),
        since=since,
        measured=measured.strip(),
        line=start,
    )


def _read_value(
    raw: Any, info: directives.DirectiveInfo, fail: Any
) -> str | tuple[str, ...]:
    if info.is_list:
        items = _string_list(raw, fail, what=f"{info.name} takes a list; 'value'")
        for item in items:
            if not item.strip():
                raise fail("list items must not be empty")
        return tuple(items)
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, int):
        return str(raw)
    if not isinstance(raw, str):
        raise fail(f"{info.name} takes one value: use a string")
    if not raw.strip():
        raise fail("a scalar value must not be empty")
    if _CONTROL.search(raw):
        raise fail("value contains a newline or control character")
    return raw


def _string_list(raw: Any, fail: Any, what: str = "value") -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise fail(f"{what} must be an array of strings")
    for item in raw:
        if _CONTROL.search(item):
            raise fail("value contains a newline or control character")
    return list(raw)


def _check_ids(entries: list[Entry], path: str) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in seen:
            first = seen[entry.id].line
            message = (
                f"entry {entry.id!r}: duplicate id (first defined on line {first})"
            )
            raise CatalogError(path, entry.line or None, message)
        seen[entry.id] = entry
    for entry in entries:
        for needed in entry.requires:
            if needed not in seen:
                hint = _did_you_mean(needed, list(seen))
                message = (
                    f"entry {entry.id!r}: requires {needed!r}, no such entry{hint}"
                )
                raise CatalogError(path, entry.line or None, message)


def _read_trade_offs(raw: Any, path: str, locator: TomlLocator) -> list[TradeOff]:
    starts = locator.table_lines("trade_off")
    result = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        line = starts[index] if index < len(starts) else None
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("check"), str)
            and isinstance(item.get("exposure"), int | float)
            and isinstance(item.get("reason"), str)
        )
        if not ok:
            message = "trade_off needs check (string), exposure (number), reason"
            raise CatalogError(path, line, message)
        result.append(TradeOff(item["check"], float(item["exposure"]), item["reason"]))
    return result


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
