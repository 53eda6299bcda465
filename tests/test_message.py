"""``_capture.message``: the one formatted message, whatever the record's %-args or the handler's Formatter do."""

from __future__ import annotations

import logging
import sys
from typing import Any, Optional

import pytest

from sendcloud_logging._capture import message
from sendcloud_logging.inbox import Inbox

from .conftest import AppLogger, Unprintable, make_record


class Loud:
    """An argument whose ``__str__`` raises; its ``repr`` works."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        return "<Loud>"


class BrokenFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        raise RuntimeError("the application's formatter is broken")


#: (template, args, the message sent): the class of records whose %-formatting fails, and its neighbours.
CASES = [
    ("order %s of %s", (7, 30), "order 7 of 30"),
    ("order %s of %s", (7,), "order %s of %s (arguments: (7,))"),  # too few
    ("order %s", (7, 8), "order %s (arguments: (7, 8))"),  # too many
    ("order %d", ("seven",), "order %d (arguments: ('seven',))"),  # a %d given a string
    ("order %(id)s", ({"id": 7},), "order 7"),  # a mapping argument
    ("order %(id)s", ({"number": 7},), "order %(id)s (arguments: {'number': 7})"),  # a mapping without the key
    ("order %s", (Loud(),), "order %s (arguments: (<Loud>,))"),  # an argument whose __str__ raises
    ("no placeholders", (), "no placeholders"),
]


@pytest.mark.parametrize(("template", "args", "expected"), CASES)
def test_message_without_a_formatter(template: str, args: tuple[Any, ...], expected: str) -> None:
    assert message(make_record(template, *args)) == expected


@pytest.mark.parametrize(("template", "args", "expected"), CASES)
def test_message_through_a_formatter(template: str, args: tuple[Any, ...], expected: str) -> None:
    formatter = logging.Formatter("[%(name)s] %(message)s")
    assert message(make_record(template, *args), formatter) == f"[shop.sync] {expected}"


def test_arguments_that_cannot_be_shown_at_all() -> None:
    text = message(make_record("order %s of %s", Unprintable()))
    assert text.startswith("order %s of %s (arguments: (<Unprintable instance at ")


def test_an_unprintable_template() -> None:
    assert message(make_record(Loud())) == "<unprintable log message>"
    assert message(make_record(Loud(), 1)) == "<unprintable log message> (arguments: (1,))"


def test_huge_arguments_are_shown_shortly() -> None:
    text = message(make_record("order %s of %s", "x" * 10_000_000))  # this runs on the caller's thread
    assert text.startswith("order %s of %s (arguments: ('xxx") and len(text) < 400


@pytest.mark.parametrize("formatter", [BrokenFormatter(), logging.Formatter("%(no_such_field)s")])
def test_a_formatter_that_raises_gives_the_plain_message(formatter: logging.Formatter) -> None:
    assert message(make_record("order %s", 7), formatter) == "order 7"
    assert message(make_record("order %s of %s", 7), formatter) == "order %s of %s (arguments: (7,))"


def test_never_a_traceback_and_the_record_is_left_alone() -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        record = make_record("Lookup of %s failed", "order", exc_info=sys.exc_info())
    record.stack_info = "Stack (most recent call last): ..."
    before = dict(record.__dict__)
    assert message(record, logging.Formatter("%(levelname)s %(message)s")) == "ERROR Lookup of order failed"
    assert record.__dict__ == before  # no .message, .asctime or .exc_text set on the caller's record


@pytest.mark.parametrize(
    ("formatter", "expected"),
    [
        (None, "order %s of %s (arguments: (7,))"),
        (logging.Formatter("[%(levelname)s] %(message)s"), "[ERROR] order %s of %s (arguments: (7,))"),
        (BrokenFormatter(), "order %s of %s (arguments: (7,))"),
    ],
    ids=["no formatter", "formatter", "formatter that raises"],
)
def test_a_record_with_bad_arguments_is_sent(
    app_logger: AppLogger,
    inbox: Inbox,
    capfd: pytest.CaptureFixture[str],
    formatter: Optional[logging.Formatter],
    expected: str,
) -> None:
    log, handler = app_logger(summary_window=0)
    handler.setFormatter(formatter)  # None: back to the plain message
    log.error("order %s of %s", 7)  # noqa: PLE1206  # the bad arguments are the point
    log.error("order %d", "seven")
    assert handler.flush(10)
    assert [got["exception"] for got in inbox.logs()] == [expected, expected.replace(
        "order %s of %s (arguments: (7,))", "order %d (arguments: ('seven',))")]
    stats = handler.stats()
    assert (stats["sent"], stats["dropped"]) == (2, {})
    assert "Logging error" not in capfd.readouterr().err
