"""Text for a person's terminal: ``printable`` shows control characters escaped, ``json_line`` does so in JSON.

Logs carry text from shops and from whoever can reach an Inbox: an ESC sequence in a log's ``exception`` must
not move the cursor, set the window title or write the clipboard (OSC 52) of the person reading ``serve`` or
``logs``. Every C0 and C1 control character but the line break and tab, DEL, and the Unicode bidi controls
(which reorder what is shown, "Trojan Source") are written as escapes instead, so what is on the screen is
what the log holds.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Optional, TextIO

#: C0 controls but tab and newline, DEL, C1 controls, the bidi embeddings/overrides/isolates and marks, and
#: the line and paragraph separators (a terminal's or a browser's line break that ``str.split`` misses).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
#: The same in one line of text for a table cell: the tab and newline too.
_UNSAFE_IN_A_LINE = re.compile(f"[\t\n{_UNSAFE.pattern[1:-1]}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    )


def printable(text: Any, *, one_line: bool = False) -> str:
    """``text`` with every terminal control character shown as an escape (``ESC`` as ``\\e``, U+202E as
    ``\\u202e``); ``one_line`` escapes tab and newline too."""
    return (_UNSAFE_IN_A_LINE if one_line else _UNSAFE).sub(_escape, str(text))


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_line(value: Any, indent: Optional[int] = None) -> str:
    """One line of JSON (or, with ``indent``, a block), non-ASCII kept readable, but every control and bidi
    character as a ``\\uXXXX`` escape.

    ``json.dumps`` already escapes C0 controls; C1 controls, DEL and the bidi controls it writes as they are.
    The escapes are JSON's own, so a tool reading the line gets the log's exact text back.
    """
    return _UNSAFE.sub(_json_escape, json.dumps(value, ensure_ascii=False, sort_keys=indent is None, indent=indent))


def error(message: str, stream: Optional[TextIO] = None) -> None:
    """One ``error: ...`` line on stderr, control characters escaped (an API's detail is someone else's text)."""
    print(f"error: {printable(message, one_line=True)}", file=sys.stderr if stream is None else stream)


def warn(message: str) -> None:
    """One ``warning: ...`` line on stderr."""
    print(f"warning: {printable(message, one_line=True)}", file=sys.stderr, flush=True)


def quiet_stdout() -> None:
    """After a closed pipe (``… | head -1``): point stdout at /dev/null so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture): nothing to flush
        pass
