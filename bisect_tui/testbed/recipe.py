"""The guest's recipe: plain files shipped with the package, and their hash.

The recipe directory holds the package list, the apt and dpkg options, the
customize hook and a ``rootfs/`` tree copied into the guest. The image cache is
keyed on a hash of all of it, so editing a unit or a script rebuilds the image
and nothing else does.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

RELEASE = "bookworm"
"""The Debian release the guest is built from."""

RECIPE_FORMAT = "1"
"""Bumped when the build changes how it applies the recipe (part of the hash)."""

APT_DIR = Path("/etc/apt")


def recipe_dir() -> Path:
    """Return the directory of the shipped recipe."""
    return Path(__file__).with_name("recipe")


def recipe_files(root: Path | None = None) -> list[Path]:
    """Return every file of the recipe, sorted, caches left out."""
    root = root or recipe_dir()
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def recipe_hash(root: Path | None = None) -> str:
    """Return a short hex digest of the recipe's paths and contents.

    File modes are left out: an installed wheel drops the executable bits a
    checkout has, and ``setup.sh`` sets every mode that matters anyway.

    Args:
        root: A recipe directory; the shipped one when ``None``.
    """
    root = root or recipe_dir()
    digest = hashlib.sha256(f"format {RECIPE_FORMAT}\n".encode())
    for path in recipe_files(root):
        digest.update(f"{path.relative_to(root).as_posix()}\n".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def read_packages(root: Path | None = None) -> list[str]:
    """Return the package names listed in ``packages.txt``."""
    text = ((root or recipe_dir()) / "packages.txt").read_text()
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for name in names if name]


def apt_source_lines(apt_dir: Path = APT_DIR, release: str = RELEASE) -> list[str]:
    """Return one-line apt sources for ``release`` taken from this machine.

    Both the one-line ``*.list`` format and the deb822 ``*.sources`` format are
    read; only ``deb`` entries for the release and its ``-updates`` and
    ``-security`` suites are kept. An empty list means none were found.
    """
    lines: list[str] = []
    candidates = [apt_dir / "sources.list"]
    candidates += sorted((apt_dir / "sources.list.d").glob("*.list"))
    candidates += sorted((apt_dir / "sources.list.d").glob("*.sources"))
    for path in candidates:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            lines += _lines_from_deb822(text, release)
        else:
            lines += _lines_from_one_line(text, release)
    return list(dict.fromkeys(lines))


def _suite_matches(suite: str, release: str) -> bool:
    return suite == release or suite.startswith(f"{release}-")


def _lines_from_one_line(text: str, release: str) -> list[str]:
    kept = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        words = line.split()
        if not words or words[0] != "deb":
            continue
        rest = words[1:]
        if rest and rest[0].startswith("["):
            while rest and not rest[0].endswith("]"):
                rest = rest[1:]
            rest = rest[1:]
        if len(rest) >= 2 and _suite_matches(rest[1], release):
            kept.append(line)
    return kept


def _lines_from_deb822(text: str, release: str) -> list[str]:
    kept = []
    for stanza in _deb822_stanzas(text):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        options = ""
        if "signed-by" in stanza and "\n" not in stanza["signed-by"]:
            options = f"[signed-by={stanza['signed-by']}] "
        components = stanza.get("components", "main")
        for uri in stanza.get("uris", "").split():
            for suite in stanza.get("suites", "").split():
                if _suite_matches(suite, release):
                    kept.append(f"deb {options}{uri} {suite} {components}")
    return kept


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = [{}]
    key = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanzas[-1]:
                stanzas.append({})
            continue
        if raw[0].isspace() and key:
            stanzas[-1][key] += "\n" + raw.strip()
            continue
        name, _, value = raw.partition(":")
        key = name.strip().lower()
        stanzas[-1][key] = value.strip()
    return [stanza for stanza in stanzas if stanza]
