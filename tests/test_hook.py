"""``before_send(payload, record)``: edit or drop a payload on the worker thread, before it is queued."""

from __future__ import annotations

import logging
import logging.config
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any, Optional

import pytest

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._payload.redact import FILTERED
from sendcloud_logging.inbox import Inbox

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, AppLogger, make_record

SEEN: list[tuple[dict[str, Any], Optional[logging.LogRecord]]] = []
THREADS: list[str] = []


def drop_health_checks(payload: dict[str, Any], record: Optional[logging.LogRecord]) -> Optional[dict[str, Any]]:
    """A hook as users write one; referenced by dotted path from dictConfig below."""
    SEEN.append((payload, record))
    THREADS.append(threading.current_thread().name)
    if "/health" in payload.get("full_url", ""):
        return None
    payload["exception"] = f"[{getattr(record, 'shop', '?')}] {payload.get('exception', '')}"
    return payload


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    SEEN.clear()
    THREADS.clear()


def test_a_hook_edits_and_drops(app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str]) -> None:
    log, handler = app_logger(before_send=drop_health_checks, summary_window=0)
    log.error("Health check failed", extra={"full_url": "https://shop.example/health", "shop": "demo"})
    log.error("Health check failed", extra={"full_url": "https://shop.example/health", "shop": "demo"})
    log.error("Order sync failed", extra={"full_url": "https://shop.example/orders", "shop": "demo"})
    assert handler.flush(10)
    assert [got["exception"] for got in inbox.logs()] == ["[demo] Order sync failed"]
    stats = handler.stats()
    assert stats["dropped"] == {"before_send": 2} and stats["sent"] == 1
    err = capfd.readouterr().err
    assert err.count("sendcloud-logging:") == 1 and "because before_send dropped them" in err  # the first drop only


def test_the_hook_gets_the_redacted_payload_and_the_original_record(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(before_send=drop_health_checks)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log.addHandler(Keep())
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("Sync %s failed", 7, extra={"request": {"headers": {"Authorization": "Bearer t"}}, "shop": "s1"})
    assert handler.flush(10)
    [(payload, record)] = SEEN
    assert record is records[0]  # the very record every handler got: its exception and extras are there
    assert record.exc_info is not None and record.exc_info[0] is ValueError and record.shop == "s1"  # type: ignore[attr-defined]
    assert payload["request"]["headers"] == {"Authorization": FILTERED}
    assert record.getMessage() == "Sync 7 failed"
    assert THREADS[0].startswith("sendcloud-logging") and THREADS[0] != threading.current_thread().name  # the worker


def test_the_record_is_kept_only_with_a_hook(app_logger: AppLogger, inbox: Inbox) -> None:
    from sendcloud_logging._capture import capture_record

    record = make_record()
    assert capture_record(record).snapshot().record is None
    assert capture_record(record, keep_record=True).snapshot().record is record


def test_what_the_hook_returns_is_checked_again(app_logger: AppLogger, inbox: Inbox) -> None:
    def hook(payload: dict[str, Any], record: Any) -> dict[str, Any]:
        return {
            **payload,
            "user_id": 5,  # not an API field: the API would answer 400, so it is left out
            "response_code": "not a number",
            "exception": "x" * 100_000,
            "request": {"headers": {"X-Debug": "on"}, "payload": {"token": "added by the hook"}},
        }

    log, handler = app_logger(before_send=hook, max_body_bytes=2048)
    log.error("Sync failed")
    assert handler.flush(10)
    [got] = inbox.logs()  # the inbox fixture checks the body against the schema
    assert "user_id" not in got and got["response_code"] is None
    assert len(got["exception"]) <= 2048 and got["exception"].endswith("bytes cut]")
    assert got["request"] == {"headers": {"X-Debug": "on"}, "payload": {"token": "added by the hook"}}  # not redacted again


def test_a_hook_that_raises_is_reported_once_and_its_records_dropped(
    app_logger: AppLogger, inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    def hook(payload: dict[str, Any], record: Any) -> Any:
        if "boom" in payload["exception"]:
            raise KeyError("no such shop")
        if "weird" in payload["exception"]:
            return ["not", "a", "dict"]
        return payload

    log, handler = app_logger(before_send=hook, summary_window=0)
    for message in ("boom 1", "boom 2", "weird", "fine"):
        log.error(message, extra={"request": {"payload": {"password": "never-sent"}}})
    assert handler.flush(10)
    assert [got["exception"] for got in inbox.logs()] == ["fine"]
    assert handler.stats()["dropped"] == {"before_send": 3}
    err = capfd.readouterr().err
    assert err.count("before_send raised KeyError: 'no such shop'") == 1
    assert err.count("sendcloud-logging:") == 1  # reported once; no second line for the other drops
    assert all("never-sent" not in str(post["body"]) for post in inbox.posts)


def test_a_hook_that_removes_base_url_drops_as_no_base_url(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(before_send=lambda payload, record: {"exception": "no base"})
    log.error("x")
    assert handler.flush(10)
    assert inbox.count() == 0 and handler.stats()["dropped"] == {"no_base_url": 1}


def test_dropped_repeats_keep_the_storm_summary(app_logger: AppLogger, inbox: Inbox) -> None:
    def hook(payload: dict[str, Any], record: Any) -> Optional[dict[str, Any]]:
        return None if getattr(record, "drop", False) else payload

    log, handler = app_logger(before_send=hook, summary_window=60)
    for drop in (False, False, True, False):  # same signature: the first goes, the rest wait for a summary
        log.error("Sync failed", extra={"drop": drop})
    assert handler.flush(10)
    handler.close()
    exceptions = sorted(got["exception"] for got in inbox.logs())
    assert len(exceptions) == 2, exceptions  # the third did not cut the window's summary in two
    assert exceptions[0] == "Sync failed" and "(+1 more like this" in exceptions[1]
    assert handler.stats()["dropped"] == {"before_send": 1}


def test_dropped_records_never_reach_the_spool(app_logger: AppLogger, inbox: Inbox, tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    log, handler = app_logger(before_send=lambda payload, record: None, spool_path=str(spool))
    log.error("secret order 1234")
    assert handler.flush(10)
    with closing(sqlite3.connect(spool)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = sum(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)
    assert rows == 0 and handler.stats()["dropped"] == {"before_send": 1} and handler.stats()["spooled"] == 0


def test_before_send_from_dictconfig_ext_and_dotted_path(inbox: Inbox) -> None:
    common = {
        "class": "sendcloud_logging.SendcloudHandler",
        "integration_id": INTEGRATION_ID,
        "public_key": PUBLIC_KEY,
        "secret_key": SECRET_KEY,
        "api_url": inbox.api_url,
        "base_url": "https://shop.example",
    }
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "ext": {**common, "before_send": "ext://tests.test_hook.drop_health_checks"},
                "path": {**common, "before_send": "tests.test_hook:drop_health_checks"},
            },
            "loggers": {
                "hook.ext": {"handlers": ["ext"], "level": "ERROR", "propagate": False},
                "hook.path": {"handlers": ["path"], "level": "ERROR", "propagate": False},
            },
        }
    )
    for name in ("hook.ext", "hook.path"):
        logging.getLogger(name).error("Failed in %s", name, extra={"shop": name})
    for name in ("hook.ext", "hook.path"):
        handler = logging.getLogger(name).handlers[0]
        assert isinstance(handler, SendcloudHandler) and handler.flush(10)
    assert sorted(got["exception"] for got in inbox.logs()) == ["[hook.ext] Failed in hook.ext", "[hook.path] Failed in hook.path"]
