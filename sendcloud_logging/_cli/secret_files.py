"""Secrets read from a file or stdin (``--secret-key-file``), so that they stay out of the process list."""

from __future__ import annotations

import sys

from ..errors import ConfigurationError


def read_secret(name: str, flag: str, path: str) -> str:
    """The first line of a file, or of stdin for ``-``, without its line break."""
    try:
        if path == "-":
            text = sys.stdin.readline()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(name, f"{flag} {path!r} cannot be read: {type(exc).__name__}") from None
    return text.rstrip("\r\n")
