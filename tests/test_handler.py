"""SendcloudHandler end to end: real failing shop calls, a real Inbox, a real worker thread."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from sendcloud_logging import SendcloudHandler
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, TIMEOUT, AppLogger, within


def only_log(inbox: Inbox) -> dict[str, Any]:
    logs = inbox.logs()
    assert len(logs) == 1, logs
    return logs[0]


def test_http_error_with_response_becomes_a_log(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    log, handler = app_logger(base_url=None)
    before = time.time()
    with requests.Session() as session:
        try:
            resp = session.get(f"{shop.http_url}/api/orders/404", headers={"Accept": "text/html"})
            resp.raise_for_status()
        except requests.RequestException:
            log.exception("Could not fetch order %s", 404)
    assert handler.flush(10)
    got = only_log(inbox)
    assert got["integration_id"] == INTEGRATION_ID
    assert got["base_url"] == shop.http_url  # derived from full_url: no base_url anywhere else
    assert got["full_url"] == f"{shop.http_url}/api/orders/404"
    assert got["method"] == "GET"
    assert got["response_code"] == 404
    assert got["exception_type"] == "requests.exceptions.HTTPError"
    assert got["exception"].startswith("Could not fetch order 404: 404 Client Error")
    assert "Traceback" not in got["exception"]
    assert got["request"]["headers"]["Accept"] == "text/html"
    assert "<html" in got["response"]["body"].lower()
    assert got["response"]["headers"]["Content-Type"].startswith("text/html")
    created = got["created_at"]
    assert created[-6] in "+-" or created.endswith("Z")
    from datetime import datetime

    assert abs(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() - before) < 5
    assert handler.stats()["sent"] == 1


def test_ssl_error_is_logged_with_its_type(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    log, handler = app_logger()
    with requests.Session() as session:
        try:
            session.get(f"{shop.https_url}/ok", timeout=5)
        except requests.RequestException:
            log.exception("Shop certificate rejected")
    assert handler.flush(10)
    got = only_log(inbox)
    assert got["exception_type"] == "requests.exceptions.SSLError"
    assert got["full_url"] == f"{shop.https_url}/ok"
    assert got["base_url"] == "https://shop.example"  # the handler's base_url wins over the URL
    assert got["method"] == "GET"
    assert got["response_code"] is None


def test_refused_connection_and_timeout(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    log, handler = app_logger()
    with requests.Session() as session:
        for url, timeout in ((shop.refused_url, 2.0), (f"{shop.http_url}/stall", 0.3)):
            try:
                session.get(url, timeout=timeout)
            except requests.RequestException:
                log.exception("Shop unreachable")
    assert handler.flush(10)
    types = sorted(log["exception_type"] for log in inbox.logs())
    assert types == ["requests.exceptions.ConnectionError", "requests.exceptions.ReadTimeout"]


def test_post_json_payload_and_json_error_body(app_logger: AppLogger, inbox: Inbox, shop: Shop) -> None:
    log, handler = app_logger()
    with requests.Session() as session:
        try:
            resp = session.post(f"{shop.http_url}/api/orders/7/notes", json={"order_note": {"note": "Shipped"}})
            resp.raise_for_status()
        except requests.HTTPError:
            log.exception("Could not post the order note")
    assert handler.flush(10)
    got = only_log(inbox)
    assert got["method"] == "POST"
    assert got["response_code"] == 422
    assert got["request"]["payload"] == {"order_note": {"note": "Shipped"}}


def test_formatter_fields_reach_the_exception_text(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger()
    handler.setFormatter(logging.Formatter("order %(order_id)s: %(message)s"))
    try:
        raise ValueError("bad weight")
    except ValueError:
        log.exception("Label failed", extra={"order_id": 31})
    assert handler.flush(10)
    got = only_log(inbox)
    assert got["exception"] == "order 31: Label failed: bad weight"
    assert got["exception_type"] == "ValueError"


def test_api_fields_in_extra_and_per_record_integration(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger()
    log.error(
        "Order sync failed",
        extra={
            "base_url": "https://other-shop.example",
            "full_url": "https://other-shop.example/api/orders/9",
            "method": "put",
            "response_code": 409,
            "integration_id": 77,
            "request": {"headers": {"X-Shop": "1"}, "payload": {"id": 9}},
            "response": {"headers": {"Content-Type": "application/json"}, "body": {"error": "conflict"}},
        },
    )
    assert handler.flush(10)
    got = only_log(inbox)
    assert got["integration_id"] == 77
    assert got["base_url"] == "https://other-shop.example"
    assert got["method"] == "PUT"
    assert got["response_code"] == 409
    assert got["request"] == {"headers": {"X-Shop": "1"}, "payload": {"id": 9}}
    assert got["response"]["body"] == {"error": "conflict"}
    assert got["exception"] == "Order sync failed"


class DjangoLikeRequest:
    """Stands for a framework's own request object under extra['request']."""

    method = "GET"

    @property
    def headers(self) -> Any:
        raise RuntimeError("not a requests object")


def test_foreign_object_under_request_is_ignored(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger()
    log.error("View failed", extra={"request": DjangoLikeRequest(), "response": object()})
    assert handler.flush(10)
    got = only_log(inbox)
    assert got["exception"] == "View failed"
    assert got["request"] is None
    assert handler.stats()["sent"] == 1


def test_record_without_base_url_is_dropped_counted_and_reported_once(
    app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    log, handler = app_logger(base_url=None)
    for _ in range(3):
        log.error("No shop known")
    assert handler.flush(10)
    stats = handler.stats()
    assert stats["dropped"] == {"no_base_url": 3}
    assert inbox.count() == 0
    err = capfd.readouterr().err
    assert err.count("sendcloud-logging:") == 1
    assert "base_url" in err


def test_caller_is_not_slowed_by_a_slow_api(app_logger: AppLogger, inbox: Inbox) -> None:
    inbox.latency = 60.0  # the API holds every request for a minute
    log, handler = app_logger(summary_window=0, rate_limit_per_minute=None)
    caller = threading.Thread(target=lambda: [log.error("Sync failed %d", i) for i in range(20)])
    caller.start()
    caller.join(10)
    # All 20 calls returned while the API had not answered one: blocking on it would take 20 minutes.
    assert not caller.is_alive()
    assert inbox.count() == 0
    assert inbox.wait_for_requests(1)  # the worker's first POST is there, held
    inbox.latency = 0.0  # the held request is answered now
    assert handler.flush(15)
    assert inbox.count() == 20
    assert handler.stats()["retried"] == 0


class Recorder(logging.Handler):
    """Keeps every record it is handed, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_root_handler_at_debug_with_urllib3_debug_makes_no_loop(
    make_handler: Callable[..., SendcloudHandler], inbox: Inbox
) -> None:
    handler = make_handler(level=logging.DEBUG, summary_window=0)
    recorder = Recorder()
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    root.addHandler(recorder)  # sees what the handler sees, the worker's own records included
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    logging.getLogger("sendcloud_logging").setLevel(logging.DEBUG)
    app = logging.getLogger("shop.sync")
    for i in range(3):
        app.error("application error %d", i)
    assert handler.flush(10)
    handler.close()  # the worker threads are done: every record they will ever log was handed to the root
    own = [r for r in recorder.records if r.name.startswith("urllib3") and "POST /api/v3/integrations" in r.getMessage()]
    assert len(own) == 3  # each POST was logged at DEBUG on the worker's thread, and reached our handler...
    assert handler.stats()["queued"] == 3  # ...which queued none of them: only the application's three
    messages = sorted(log["exception"] for log in inbox.logs())
    assert messages == [f"application error {i}" for i in range(3)]
    # The worker's own records (urllib3's, ours) are emitted on its threads before a POST returns, so an
    # echo would already have been counted when flush() saw the last 201.
    assert handler.stats()["queued"] == 3
    assert handler.stats()["sent"] == 3


def test_queue_full_is_counted_and_reported_once(
    app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(payload: dict[str, Any], record: Any) -> dict[str, Any]:
        entered.set()
        release.wait(10)  # the worker takes no more records from the queue meanwhile
        return payload

    log, handler = app_logger(queue_size=2, before_send=hold)
    with caplog.at_level(logging.DEBUG, logger="sendcloud_logging"):
        log.error("burst 0")
        assert entered.wait(10)  # the worker holds the first; the queue is empty
        for i in range(1, 10):
            log.error(f"burst {i}")  # distinct templates: nothing to summarise
        release.set()
        assert handler.flush(10)
    stats = handler.stats()
    # One held by the worker, two in the queue (queue_size=2): the other seven can only be dropped.
    assert stats["dropped"] == {"queue_full": 7}
    assert stats["sent"] == 3
    assert sorted(log["exception"] for log in inbox.logs()) == ["burst 0", "burst 1", "burst 2"]
    assert capfd.readouterr().err.count("queue was full") == 1
    warnings = [r for r in caplog.records if r.name == "sendcloud_logging" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1  # the first drop; the others are summed once a minute, or at close
    handler.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "sendcloud_logging" and "queue_full" in r.getMessage()]
    assert lines == ["dropped 1 log(s): queue_full: queue_size=2", lines[1]]
    assert lines[1].startswith("dropped 6 logs in the last ")


def test_transient_failures_are_retried(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(max_backoff=0.05)
    inbox.fail_next(2, 503)
    log.error("retry me")
    assert handler.flush(10)
    stats = handler.stats()
    assert stats["sent"] == 1
    assert stats["retried"] == 2
    assert inbox.count() == 1


def test_retries_are_bounded(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(max_retries=2, max_backoff=0.01)
    inbox.fail_next(10, 502)
    log.error("give up")
    assert handler.flush(10)
    stats = handler.stats()
    assert stats["dropped"] == {"retries_exhausted": 1}
    assert stats["retried"] == 2
    assert inbox.count() == 0


def test_wrong_credentials_are_dropped_and_reported(
    app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    log, handler = app_logger(secret_key="not-the-secret")
    log.error("x")
    assert handler.flush(10)
    assert handler.stats()["dropped"] == {"unauthorized": 1}
    err = capfd.readouterr().err
    assert "401" in err
    assert "not-the-secret" not in err


def test_unknown_integration_is_dropped() -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, integrations=[1]) as inbox:
        handler = SendcloudHandler(
            integration_id=2, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=inbox.api_url,
            base_url="https://shop.example",
        )
        try:
            handler.handle(logging.makeLogRecord({"msg": "x", "levelno": logging.ERROR, "levelname": "ERROR"}))
            assert handler.flush(10)
            assert handler.stats()["dropped"] == {"unknown_integration": 1}
        finally:
            handler.close()


def test_close_delivers_and_later_records_are_counted(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(summary_window=0)
    for i in range(5):
        log.error("before close %d", i)
    handler.close()
    assert inbox.count() == 5
    log.error("after close")
    assert handler.stats()["dropped"] == {"closed": 1}


def test_close_with_the_api_down_returns_within_shutdown_timeout(
    app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    log, handler = app_logger(shutdown_timeout=0.3, max_retries=100, max_backoff=0.2)
    inbox.refuse()
    for i in range(3):
        log.error("lost %d", i)
    # Nothing else ends this close(): the retries would take minutes, and an open circuit costs no attempt.
    # So it returning at all is the deadline's doing; the bound (10 times the budget) is a hang guard. That the
    # worker keeps to the deadline to the step is test_worker's, on a fake clock.
    within(10 * 0.3, handler.close)
    assert handler.stats()["dropped"] == {"shutdown": 3}  # the deadline ended it, not the retries
    assert "3 log(s) were not delivered: shutdown_timeout of 0.3 s passed" in capfd.readouterr().err


def test_flush_then_close_cost_one_shutdown_timeout(
    app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    """logging.shutdown() calls flush() and then close(): the second must not start the wait over."""
    log, handler = app_logger(shutdown_timeout=1.0, summary_window=0)
    inbox.refuse()
    for i in range(3):
        log.error("lost %d", i)
    assert handler.flush() is False  # the API is down: the whole budget goes by
    start = time.monotonic()
    handler.close()
    # The handler takes no clock, so this is in real seconds, with the two outcomes far apart: a close() that
    # started over would wait all of shutdown_timeout (nothing settles), one that continues has nothing left
    # and returns in milliseconds. How much a flush leaves is pinned on a fake clock in test_worker.
    assert time.monotonic() - start < 1.0
    assert handler.stats()["dropped"] == {"shutdown": 3}
    assert "shutdown_timeout of 1 s passed" in capfd.readouterr().err


def test_an_early_flush_leaves_close_its_budget(app_logger: AppLogger, inbox: Inbox) -> None:
    """Only the wait of a flush() is taken off close()'s budget, never the time that passed since."""
    log, handler = app_logger(shutdown_timeout=2.0)
    for _ in range(2):
        log.error("Sync failed")  # the second waits in an open storm summary, which only close() sends
    assert handler.flush()  # returns once the first is sent: it waited a few milliseconds of its 2 s
    time.sleep(2.1)  # the application runs on for longer than shutdown_timeout, logging nothing
    handler.close()
    assert handler.stats()["dropped"] == {}  # a close() left with no budget would drop the summary
    assert [log["exception"] for log in inbox.logs()] == ["Sync failed"] * 2  # the first, and the summary of one


def test_a_record_after_flush_gives_close_its_own_budget(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(shutdown_timeout=0.5, summary_window=0)
    inbox.refuse()
    log.error("lost")
    assert handler.flush() is False
    log.error("logged after the flush")  # a new drain: close() waits for it as long as it may
    start = time.monotonic()
    handler.close()
    # A lower bound, which a busy machine cannot break: with the API down nothing settles, so only the end of
    # close()'s own full budget lets it return; one that continued the flush's wait returns in milliseconds.
    assert time.monotonic() - start >= 0.5 - 0.001
    assert handler.stats()["dropped"] == {"shutdown": 2}


def test_emit_never_mutates_the_record(make_handler: Callable[..., SendcloudHandler]) -> None:
    handler = make_handler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    try:
        raise KeyError("k")
    except KeyError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "m %s", ("a",), sys.exc_info(), extra={"request": {"headers": {"A": "1"}}}
        )
    before = dict(record.__dict__)
    handler.handle(record)
    assert record.__dict__ == before
    assert handler.flush(10)


def test_handler_filters_still_apply(make_handler: Callable[..., SendcloudHandler]) -> None:
    handler = make_handler()
    handler.addFilter(lambda record: record.getMessage() != "skip me")
    assert handler.handle(logging.makeLogRecord({"msg": "skip me", "levelno": logging.ERROR})) is False
    assert handler.handle(logging.makeLogRecord({"msg": "send me", "levelno": logging.ERROR})) is True
    assert handler.flush(10)
    assert handler.stats()["queued"] == 1


def test_environment_variables_configure_the_handler(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDCLOUD_INTEGRATION_ID", "31")
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("SENDCLOUD_API_URL", inbox.api_url)
    handler = SendcloudHandler(base_url="https://shop.example")
    try:
        assert handler.integration_id == 31
        assert handler.api_url == inbox.api_url
        handler.handle(logging.makeLogRecord({"msg": "env", "levelno": logging.ERROR}))
        assert handler.flush(10)
        assert inbox.logs(31)[0]["exception"] == "env"
    finally:
        handler.close()


def test_repr_and_stats_carry_no_credentials(make_handler: Callable[..., SendcloudHandler]) -> None:
    handler = make_handler()
    text = repr(handler) + repr(handler.stats()) + repr(handler._settings)
    assert SECRET_KEY not in text
    assert PUBLIC_KEY not in text


def test_a_process_that_logs_and_exits_at_once_delivers_everything(inbox: Inbox) -> None:
    script = textwrap.dedent(
        """
        import logging, requests
        from sendcloud_logging import SendcloudHandler
        log = logging.getLogger("app")
        log.addHandler(SendcloudHandler(base_url="https://shop.example"))
        for i in range(7):
            try:
                raise requests.ConnectionError(f"shop down {i}")
            except requests.ConnectionError:
                log.exception("sync %d failed", i)
        """
    )
    env = dict(
        os.environ,
        SENDCLOUD_INTEGRATION_ID="5",
        SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
        SENDCLOUD_SECRET_KEY=SECRET_KEY,
        SENDCLOUD_API_URL=inbox.api_url,
    )
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    # One problem seen seven times: the first log at once, the summary of the other six at exit.
    first, summary = inbox.logs(5)
    assert first["exception"].startswith("sync 0 failed")
    assert summary["exception"].startswith("sync 6 failed")
    assert "(+5 more like this between " in summary["exception"]
    assert {log["exception_type"] for log in inbox.logs(5)} == {"requests.exceptions.ConnectionError"}


def open_files(prefix: str) -> int:
    """This process's open file descriptors on ``prefix`` (a spool and its -wal and -shm files)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc to see open files")
    names = []
    for fd in fds.iterdir():
        try:
            names.append(os.readlink(fd))
        except OSError:  # closed meanwhile
            continue
    return sum(name.startswith(prefix) for name in names)


def test_flush_after_close_tells_whether_everything_went_out(
    make_handler: Callable[..., SendcloudHandler], inbox: Inbox, tmp_path: Path
) -> None:
    delivered = make_handler(spool_path=str(tmp_path / "a.sqlite"), summary_window=0)
    delivered.handle(logging.makeLogRecord({"msg": "sent", "levelno": logging.ERROR, "levelname": "ERROR"}))
    delivered.close()
    assert delivered.flush() is True
    inbox.refuse()
    spool = str(tmp_path / "b.sqlite")
    stuck = make_handler(spool_path=spool, summary_window=0, shutdown_timeout=0.3)
    stuck.handle(logging.makeLogRecord({"msg": "kept", "levelno": logging.ERROR, "levelname": "ERROR"}))
    assert open_files(spool) > 0
    stuck.close()
    assert open_files(spool) == 0
    assert stuck.flush() is False  # it stayed in the spool for the next process
    # No waiting: asked to wait an hour, it answers within the hang guard.
    assert within(TIMEOUT, lambda: stuck.flush(3600)) is False
    assert open_files(spool) == 0  # the closed spool stays closed: no new connection


def test_a_handler_dropped_without_close_ends_its_threads(inbox: Inbox) -> None:
    """Its threads must not keep it alive for the life of the process: collected, it closes as close() would."""
    handler = SendcloudHandler(integration_id=INTEGRATION_ID, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                               api_url=inbox.api_url, base_url="https://shop.example", summary_window=0)
    log = logging.getLogger("tests.dropped")
    log.propagate = False
    log.addHandler(handler)
    inbox.latency = 0.2  # the record is still on its way when the handler is dropped
    log.error("the last record")
    threads = [t for t in threading.enumerate() if t.name in ("sendcloud-logging-intake", "sendcloud-logging-sender")
               and t.ident in handler._worker.thread_idents]
    assert len(threads) == 2
    log.removeHandler(handler)
    del handler
    gc.collect()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert inbox.count(INTEGRATION_ID) == 1  # what it held was delivered first
