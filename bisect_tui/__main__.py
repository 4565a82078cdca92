"""Allow ``python -m bisect_tui``."""

import sys

from bisect_tui.cli.main import main

sys.exit(main())
