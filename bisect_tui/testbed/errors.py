"""The testbed's own error: a guest that cannot be built, booted or reached."""

from __future__ import annotations

from bisect_tui.errors import HardenBisectError


class TestbedError(HardenBisectError):
    """Building, booting, reaching or stopping the testbed guest failed.

    The message names the step and, where there is one, the log to read.
    """

    __test__ = False  # not a pytest test class, whatever its name says
    title = "testbed"
    exit_code = 1
