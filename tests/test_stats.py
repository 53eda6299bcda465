"""Counters and the library's own voice: one stderr line per drop reason, the logger's lines summed once a minute."""

from __future__ import annotations

import logging
import threading

import pytest

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._delivery.stats import DROP_REASONS, Stats

from .conftest import free_port


def warnings_and_debug(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    own = [r for r in caplog.records if r.name == "sendcloud_logging"]
    return sum(r.levelno == logging.WARNING for r in own), sum(r.levelno == logging.DEBUG for r in own)


def test_a_storm_of_drops_writes_one_line_per_reason(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stats = Stats()
    with caplog.at_level(logging.DEBUG, logger="sendcloud_logging"):
        for _ in range(500):
            stats.drop("queue_full", detail="queue_size=1000")
        stats.drop("rejected", detail="HTTP 400 invalid: bad field")
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "sendcloud-logging: dropped 1 log(s) because the queue was full (the API is slower than the error rate): "
        "queue_size=1000 (reason 'queue_full', counted in stats())",
        "sendcloud-logging: dropped 1 log(s) because the API rejected the log (400): HTTP 400 invalid: bad field "
        "(reason 'rejected', counted in stats())",
    ]
    assert warnings_and_debug(caplog) == (2, 0)  # an application's log sees two lines, not 501
    assert stats.snapshot()["dropped"] == {"queue_full": 500, "rejected": 1}
    assert stats.snapshot()["dropped_total"] == 501


def test_a_drop_the_caller_reported_itself_is_not_reported_again(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stats = Stats()
    with caplog.at_level(logging.DEBUG, logger="sendcloud_logging"):
        stats.drop("shutdown", 3, detail="shutdown_timeout of 5 s passed", reported=True)
        stats.drop("shutdown", 1)
    assert capsys.readouterr().err == ""
    assert warnings_and_debug(caplog) == (1, 0)
    assert stats.snapshot()["dropped"] == {"shutdown": 4}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def own_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "sendcloud_logging"]


def test_later_drops_become_one_logger_line_a_minute_per_reason(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    stats = Stats(clock=clock)
    with caplog.at_level(logging.DEBUG, logger="sendcloud_logging"):
        for i in range(5000):
            clock.now = i * 0.02  # 5,000 drops over 100 s
            stats.drop("queue_full", detail="queue_size=1000")
            if i % 1000 == 0:
                stats.drop("rejected")
        lines = own_lines(caplog)
        assert lines == [
            "dropped 1 log(s): queue_full: queue_size=1000",
            "dropped 1 log(s): rejected",
            "dropped 3,000 logs in the last 60 s: queue_full",  # the drops after the first, up to 60 s later
            "dropped 3 logs in the last 60 s: rejected",
        ]
        stats.say_unsaid()  # at close: what came after the last line
        assert own_lines(caplog)[4:] == ["dropped 1,999 logs in the last 40 s: queue_full",
                                         "dropped 1 log in the last 40 s: rejected"]
        stats.say_unsaid()
        assert len(own_lines(caplog)) == 6  # nothing left to say
    assert len(capsys.readouterr().err.splitlines()) == 2  # stderr: one line per reason, as before
    assert stats.snapshot()["dropped"] == {"queue_full": 5000, "rejected": 5}


def test_the_snapshot_has_the_documented_counters_first() -> None:
    stats = Stats()
    stats.add("sent", 2)
    stats.add("rate_limited")
    snapshot = stats.snapshot()
    assert list(snapshot)[:6] == ["queued", "sent", "retried", "failed", "summarised", "spooled"]
    assert snapshot["sent"] == 2
    assert snapshot["rate_limited"] == 1
    assert snapshot["dropped"] == {}
    assert snapshot["dropped_total"] == 0


def test_counting_is_thread_safe() -> None:
    stats = Stats()

    def count() -> None:
        for _ in range(10_000):
            stats.add("sent")

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.snapshot()["sent"] == 40_000


def test_reset_starts_from_zero_and_reports_again(capsys: pytest.CaptureFixture[str]) -> None:
    stats = Stats()
    stats.drop("closed")
    stats.reset()  # as in a forked child
    stats.drop("closed")
    assert capsys.readouterr().err.count("sendcloud-logging:") == 2
    assert stats.snapshot()["dropped"] == {"closed": 1}


def test_every_reason_the_delivery_package_uses_has_words() -> None:
    for reason in ("queue_full", "closed", "shutdown", "payload_error", "spool_full", "expired", "rejected",
                   "too_large", "unauthorized", "unknown_integration", "retries_exhausted", "misconfigured",
                   "no_base_url", "no_integration_id", "before_send"):
        assert reason in DROP_REASONS


def test_5000_errors_with_the_api_down_put_a_few_lines_into_the_application_log(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    handler = SendcloudHandler(
        integration_id=1, public_key="pk", secret_key="sk", api_url=f"http://127.0.0.1:{free_port()}/api/v3",
        base_url="https://shop.example", queue_size=10, summary_window=0, max_retries=0,
        rate_limit_per_minute=None, shutdown_timeout=0.2, timeout=0.2,
    )
    log = logging.getLogger("tests.stats.storm")
    log.propagate = False
    log.addHandler(handler)
    with caplog.at_level(logging.DEBUG, logger="sendcloud_logging"):
        for i in range(5000):
            log.error("order %d failed", i)
        handler.close()
    log.removeHandler(handler)
    dropped = handler.stats()["dropped"]
    assert dropped.get("queue_full", 0) > 1000
    drop_lines = [line for line in own_lines(caplog) if line.startswith("dropped")]
    assert len(drop_lines) <= 2 * len(dropped)  # the first of each reason, then one summed line at close
    assert sum(line.count("queue_full") for line in drop_lines) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "queue was full" in line]
    assert len(err) == 1
