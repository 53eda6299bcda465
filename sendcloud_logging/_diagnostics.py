"""The library's own voice: its logger, which the handler never sends, and one-line reports on stderr.

Every layer may need to say something (a dropped record, a broken spool, a failing hook), so this module
depends on nothing in the package.
"""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("sendcloud_logging")
logger.addHandler(logging.NullHandler())  # a library never prints through logging's lastResort


def report(line: str) -> None:
    """One line on stderr, for a person; never raises (stderr may be closed at exit)."""
    try:
        sys.stderr.write(f"sendcloud-logging: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
