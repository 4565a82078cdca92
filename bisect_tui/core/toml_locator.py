"""Line numbers inside a TOML file, for errors that name ``file:line``.

TOML parsers hand back plain values without positions, so a validation error
found after parsing (an unknown directive, a duplicate id) is located again in
the text: the n-th ``[[table]]`` header, then the key inside that table.
"""

from __future__ import annotations

import re


class TomlLocator:
    """Finds the line of each ``[[name]]`` table and of a key inside one."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def table_lines(self, name: str) -> list[int]:
        """The 1-based line of every ``[[name]]`` header, in order."""
        header = re.compile(rf"\s*\[\[\s*{re.escape(name)}\s*\]\]")
        return [i + 1 for i, line in enumerate(self.lines) if header.match(line)]

    def key_line(self, start: int, key: str) -> int:
        """The line of ``key`` in the table whose header is on line ``start``.

        Returns ``start`` itself when the table does not spell the key out.
        """
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return start
