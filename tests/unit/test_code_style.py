"""The code base stays within its own rules: ruff lint, ruff format, mypy strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = tuple(
    name for name in ("bisect_tui", "tests", "benchmarks") if (ROOT / name).is_dir()
)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_finds_nothing_to_fix() -> None:
    """ruff's lint rules (E, F, I, B, UP) pass everywhere."""
    result = _run("ruff", "check", *SOURCES)
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_format_is_settled() -> None:
    """Every file is already formatted as ruff formats it."""
    result = _run("ruff", "format", "--check", *SOURCES)
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_strict_on_the_package() -> None:
    """The package type-checks under mypy --strict."""
    result = _run("mypy", "bisect_tui")
    assert result.returncode == 0, result.stdout[-3000:]
