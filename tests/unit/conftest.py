"""Shared fixtures for unit tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_catalog(tmp_path: Path) -> Callable[[str], Path]:
    """Return a function writing catalog text to a temporary file."""

    def write(text: str) -> Path:
        path = tmp_path / "catalog.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
