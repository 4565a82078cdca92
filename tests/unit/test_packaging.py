"""The package stands alone: data ships in the wheel, the core stays headless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_ui_or_ssh_library() -> None:
    """Importing the whole core loads neither Textual, paramiko nor rich."""
    code = (
        "import sys, pkgutil, importlib, bisect_tui.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('bisect_tui.core.' + m.name)\n"
        "print(sorted(n for n in ('textual', 'paramiko', 'rich') if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the project's wheel once."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("harden_bisect-*.whl"))


def test_wheel_carries_the_catalog_and_data(wheel: Path) -> None:
    """The catalog, directive table and weights are inside the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "settings_catalog.toml",
        "service_directives.txt",
        "analyze-security-weights.json",
    ):
        assert f"bisect_tui/data/{data}" in names


def test_catalog_works_from_the_wheel_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    """Unpacked away from the source tree, `catalog --json` still finds its data."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-m", "bisect_tui", "catalog", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(result.stdout)
    assert document["catalog"].startswith(str(site))
    assert len(document["entries"]) > 45
