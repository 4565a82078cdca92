"""Build the guest image once per recipe: Debian packages to a bootable disk.

The steps need no loop device and no bootloader: ``mmdebstrap`` installs the
packages into a directory, the recipe's customize hook configures it,
``mkfs.ext4 -d`` turns the directory into a sparse raw disk, and the kernel and
initrd are copied out so qemu boots them directly. The image lands in
``images/<recipe hash>/`` only when every step succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bisect_tui.testbed import recipe
from bisect_tui.testbed.errors import TestbedError
from bisect_tui.testbed.paths import TestbedPaths

logger = logging.getLogger(__name__)

Report = Callable[[str], None]
"""Receives one line of progress for the operator."""

DISK_BYTES = 3 * 1024**3
"""Apparent size of the raw disk; only what the files use is allocated."""

BUILD_TOOLS = ("mmdebstrap", "mkfs.ext4", "ssh-keygen", "dpkg-query")


@dataclass(frozen=True)
class Image:
    """A built (or to-be-built) guest image in the cache.

    Attributes:
        key: The recipe hash it was built from.
        directory: ``images/<key>/`` in the testbed directory.
    """

    key: str
    directory: Path

    @property
    def disk(self) -> Path:
        """The pristine raw root file system; boots use an overlay on it."""
        return self.directory / "disk.raw"

    @property
    def kernel(self) -> Path:
        """The guest kernel, booted directly by qemu."""
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        """The guest's initramfs."""
        return self.directory / "initrd.img"

    @property
    def identity(self) -> Path:
        """Private ed25519 key of the guest's operator user."""
        return self.directory / "id_ed25519"

    @property
    def host_key(self) -> Path:
        """Public half of the guest's ed25519 host key."""
        return self.directory / "ssh_host_ed25519_key.pub"

    @property
    def manifest(self) -> Path:
        """JSON facts about the build: time, sizes, package versions."""
        return self.directory / "manifest.json"

    def is_complete(self) -> bool:
        """Whether every file of the image is present."""
        files = (self.disk, self.kernel, self.initrd, self.identity, self.host_key)
        return self.manifest.is_file() and all(path.is_file() for path in files)

    def read_manifest(self) -> dict[str, object]:
        """Return the build facts recorded in the manifest."""
        data: dict[str, object] = json.loads(self.manifest.read_text())
        return data


def current_image(paths: TestbedPaths) -> Image:
    """Return the image the shipped recipe describes (built or not)."""
    key = recipe.recipe_hash()
    return Image(key=key, directory=paths.images / key)


def ensure_image(
    paths: TestbedPaths, *, force: bool = False, report: Report = logger.info
) -> Image:
    """Return the current recipe's image, building it first if needed.

    Callers hold :func:`~bisect_tui.testbed.paths.exclusive_lock`.

    Args:
        paths: The testbed directory.
        force: Rebuild even when a complete image exists.
        report: Receives progress lines.

    Raises:
        TestbedError: A tool is missing or a build step failed.
    """
    image = current_image(paths)
    if image.is_complete() and not force:
        logger.debug("image %s is cached in %s", image.key, image.directory)
        return image
    build_image(paths, image, report=report)
    return image


def build_image(paths: TestbedPaths, image: Image, *, report: Report) -> None:
    """Build ``image`` from the shipped recipe, replacing any earlier copy."""
    check_build_host()
    paths.ensure()
    work = paths.images / f"{image.key}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.monotonic()

    report(f"building guest image {image.key} (Debian {recipe.RELEASE})")
    keys = _generate_keys(work)
    rootfs = work / "rootfs"
    _run_mmdebstrap(rootfs, keys, log=work / "build.log", report=report)
    versions = _package_versions(rootfs)
    versions["kernel"] = _copy_boot_files(rootfs, work)
    report("making the ext4 disk image")
    _make_disk(rootfs, work / "disk.raw", log=work / "build.log")

    shutil.rmtree(rootfs)
    shutil.rmtree(keys)
    seconds = round(time.monotonic() - started, 1)
    _write_manifest(work, image.key, seconds, versions)
    shutil.rmtree(image.directory, ignore_errors=True)
    work.rename(image.directory)
    report(f"image built in {seconds:.0f} s: {image.directory}")


def prune_images(paths: TestbedPaths, keep: set[str]) -> list[str]:
    """Delete cached images (and leftovers of failed builds) not in ``keep``.

    Returns:
        The names of the directories removed.
    """
    removed = []
    for directory in sorted(paths.images.glob("*")):
        if directory.is_dir() and directory.name not in keep:
            shutil.rmtree(directory)
            removed.append(directory.name)
    if removed:
        logger.info("removed old images: %s", ", ".join(removed))
    return removed


def check_build_host() -> None:
    """Refuse to build without root or without the tools the build runs."""
    missing = [tool for tool in BUILD_TOOLS if shutil.which(tool) is None]
    if missing:
        raise TestbedError(
            f"cannot build the guest image: {', '.join(missing)} not found; "
            "install mmdebstrap, e2fsprogs, openssh-client and dpkg"
        )
    if os.geteuid() != 0:
        raise TestbedError(
            "building the guest image needs root (mmdebstrap --mode=root); "
            "run 'harden-bisect testbed build' as root once"
        )


def _generate_keys(work: Path) -> Path:
    """Create the operator key (kept) and the guest host key (installed)."""
    keys = work / "keys"
    keys.mkdir()
    _keygen(work / "id_ed25519", "operator@harden-bisect-testbed")
    _keygen(keys / "ssh_host_ed25519_key", "root@hls-origin")
    shutil.copy(keys / "ssh_host_ed25519_key.pub", work / "ssh_host_ed25519_key.pub")
    shutil.copy(work / "id_ed25519.pub", keys / "authorized_keys")
    return keys


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
        check=True,
        stdin=subprocess.DEVNULL,
    )


def _run_mmdebstrap(rootfs: Path, keys: Path, *, log: Path, report: Report) -> None:
    source = recipe.recipe_dir()
    mirrors = recipe.apt_source_lines()
    if not mirrors:
        logger.warning(
            "no %s entry in /etc/apt; using mmdebstrap's default mirrors",
            recipe.RELEASE,
        )
    script = shlex.quote(str(source / "customize.sh"))
    hook = f'sh {script} "$1" {shlex.quote(str(keys))}'
    command = [
        "mmdebstrap",
        "--mode=root",
        "--variant=minbase",
        "--format=directory",
        f"--include={','.join(recipe.read_packages())}",
        f"--aptopt={source / 'apt.conf'}",
        f"--dpkgopt={source / 'dpkg.cfg'}",
        f"--customize-hook={hook}",
        # Keep the machine id setup.sh writes; the cleanup would empty it.
        "--skip=cleanup/reproducible",
        recipe.RELEASE,
        str(rootfs),
        *mirrors,
    ]
    report("installing packages with mmdebstrap (about a minute)")
    _run_logged(command, log, step="mmdebstrap")


def _copy_boot_files(rootfs: Path, work: Path) -> str:
    """Copy the newest kernel and its initrd out; return the kernel release."""
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    initrds = sorted((rootfs / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise TestbedError(f"no kernel or initrd in {rootfs / 'boot'} after install")
    shutil.copy(kernels[-1], work / "vmlinuz")
    shutil.copy(initrds[-1], work / "initrd.img")
    return kernels[-1].name.removeprefix("vmlinuz-")


def _make_disk(rootfs: Path, disk: Path, *, log: Path) -> None:
    with open(disk, "wb") as handle:
        handle.truncate(DISK_BYTES)
    command = [
        "mkfs.ext4",
        "-q",
        "-F",
        "-L",
        "hls-origin",
        # Fewer inodes, initialised now: the guest's lazy init would otherwise
        # rewrite the inode tables on every boot of the pristine image.
        "-i",
        "65536",
        "-E",
        "lazy_itable_init=0,lazy_journal_init=0",
        "-d",
        str(rootfs),
        str(disk),
    ]
    _run_logged(command, log, step="mkfs.ext4")


def _package_versions(rootfs: Path) -> dict[str, str]:
    output = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={rootfs / 'var/lib/dpkg'}",
            "-W",
            "-f",
            "${Package} ${Version}\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pairs = (line.split(" ", 1) for line in output.splitlines() if " " in line)
    return dict(sorted(pairs))


def _write_manifest(
    work: Path, key: str, seconds: float, versions: dict[str, str]
) -> None:
    disk = work / "disk.raw"
    wanted = (
        "kernel",
        "systemd",
        "nginx",
        "openssh-server",
        "prometheus-nginx-exporter",
    )
    manifest = {
        "recipe": key,
        "release": recipe.RELEASE,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": seconds,
        "disk_apparent_bytes": disk.stat().st_size,
        "disk_allocated_bytes": disk.stat().st_blocks * 512,
        "package_count": len(versions) - 1,
        "versions": {name: versions.get(name, "") for name in wanted},
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _run_logged(command: list[str], log: Path, *, step: str) -> None:
    logger.debug("running %s", shlex.join(command))
    with open(log, "ab") as handle:
        handle.write(f"$ {shlex.join(command)}\n".encode())
        handle.flush()
        result = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-5:]
        raise TestbedError(
            f"{step} failed with exit code {result.returncode}; see {log}: "
            + " | ".join(tail)
        )
