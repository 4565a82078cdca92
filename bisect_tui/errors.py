"""The errors an operator sees, each with a title, a message and an exit code.

Every failure the tool reports on purpose derives from :class:`HardenBisectError`,
so the CLI prints it once on stderr and exits with the code of its area::

    HardenBisectError            exit 1
    ├── UsageError               exit 2  (bad arguments, bad selection)
    ├── CatalogError             exit 2  (catalog or checklist file rejected)
    ├── HostError                exit 3  (connection, host key, authentication)
    ├── PreflightError           exit 4  (the host is not ready for a trial)
    ├── BaselineError            exit 5  (the untouched unit already fails)
    ├── RollbackError            exit 6  (rollback failed; the host is modified)
    └── SearchPausedError        exit 7  (too many unresolved trials)
"""

from __future__ import annotations


class HardenBisectError(Exception):
    """Base of every error the tool reports to an operator.

    Attributes:
        title: A few words naming the area, e.g. ``"catalog"``.
        message: One line saying what is wrong and what to try next.
        exit_code: The process exit code the CLI uses for this error.
    """

    title = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(HardenBisectError):
    """Arguments or a selection that cannot be acted on."""

    title = "usage"
    exit_code = 2


class CatalogError(HardenBisectError):
    """A catalog or checklist file that fails validation.

    Attributes:
        path: The file that was read.
        line: The 1-based line of the problem, or ``None`` when unknown.
    """

    title = "catalog"
    exit_code = 2

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class HostError(HardenBisectError):
    """The host cannot be reached, or refused us (host key, authentication)."""

    title = "host"
    exit_code = 3


class PreflightError(HardenBisectError):
    """The host was reached but is not ready for a trial."""

    title = "pre-flight"
    exit_code = 4


class BaselineError(HardenBisectError):
    """The checklist fails on the untouched unit: nothing to bisect against."""

    title = "baseline"
    exit_code = 5


class RollbackError(HardenBisectError):
    """A rollback failed and the host is left modified."""

    title = "rollback"
    exit_code = 6


class SearchPausedError(HardenBisectError):
    """The search stopped after too many unresolved trials."""

    title = "search paused"
    exit_code = 7
