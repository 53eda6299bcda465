"""Counters and the library's own voice: one stderr line and one WARNING per drop reason, the rest at DEBUG."""

from __future__ import annotations

import logging
import threading

import pytest

from sendcloud_logging._delivery.stats import DROP_REASONS, Stats


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
    assert warnings_and_debug(caplog) == (2, 499)  # an application logging at WARNING sees two lines, not 501
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
    assert warnings_and_debug(caplog) == (1, 1)
    assert stats.snapshot()["dropped"] == {"shutdown": 4}


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
