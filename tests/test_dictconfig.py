"""The handler built by the real logging.config machinery, as users configure it."""

from __future__ import annotations

import logging
import logging.config
import time
from pathlib import Path
from typing import Any

import pytest

from sendcloud_logging import ConfigurationError, SendcloudHandler
from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY


def _handler_of(name: str) -> SendcloudHandler:
    handlers = [h for h in logging.getLogger(name).handlers if isinstance(h, SendcloudHandler)]
    assert len(handlers) == 1
    return handlers[0]


def test_dictconfig_builds_and_delivers(inbox: Inbox) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "[%(name)s] %(message)s"}},
            "handlers": {
                "sendcloud": {
                    "class": "sendcloud_logging.SendcloudHandler",
                    "level": "ERROR",
                    "formatter": "plain",
                    "integration_id": 12,
                    "public_key": PUBLIC_KEY,
                    "secret_key": SECRET_KEY,
                    "api_url": inbox.api_url,
                    "base_url": "https://shop.example",
                    "queue_size": 50,
                    "shutdown_timeout": 2,
                    "timeout": [2, 5],
                }
            },
            "loggers": {"myshop": {"handlers": ["sendcloud"], "level": "INFO", "propagate": False}},
        }
    )
    handler = _handler_of("myshop")
    log = logging.getLogger("myshop.sync")
    log.info("not an error")
    log.error("Order %s failed", 5)
    assert handler.flush(10)
    assert [log["exception"] for log in inbox.logs(12)] == ["[myshop.sync] Order 5 failed"]


def test_dictconfig_reports_a_bad_keyword_at_start() -> None:
    config = {
        "version": 1,
        "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "integration_id": 1}},
        "root": {"handlers": ["sendcloud"]},
    }
    with pytest.raises(ValueError) as info:
        logging.config.dictConfig(config)
    cause = info.value.__cause__ or info.value.__context__
    assert isinstance(cause, ConfigurationError)
    assert "public_key" in str(info.value) or "public_key" in str(cause)


def test_fileconfig_builds_and_delivers(inbox: Inbox, tmp_path: Path) -> None:
    ini = tmp_path / "logging.ini"
    ini.write_text(
        f"""
[loggers]
keys=root,shop

[handlers]
keys=sendcloud

[formatters]
keys=

[logger_root]
level=WARNING
handlers=

[logger_shop]
level=ERROR
handlers=sendcloud
qualname=fileshop
propagate=0

[handler_sendcloud]
class=sendcloud_logging.SendcloudHandler
level=ERROR
kwargs={{"integration_id": 13, "public_key": "{PUBLIC_KEY}", "secret_key": "{SECRET_KEY}", "api_url": "{inbox.api_url}", "base_url": "https://shop.example"}}
""",
        encoding="utf-8",
    )
    logging.config.fileConfig(ini, disable_existing_loggers=False)
    handler = _handler_of("fileshop")
    logging.getLogger("fileshop").error("from fileConfig")
    assert handler.flush(10)
    assert [log["exception"] for log in inbox.logs(13)] == ["from fileConfig"]


def _reload_config(api_url: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "sendcloud": {
                "class": "sendcloud_logging.SendcloudHandler",
                "integration_id": 14,
                "public_key": PUBLIC_KEY,
                "secret_key": SECRET_KEY,
                "api_url": api_url,
                "base_url": "https://shop.example",
                "shutdown_timeout": RELOAD_TIMEOUT,
                "summary_window": 0,
            }
        },
        "loggers": {"reloaded": {"handlers": ["sendcloud"], "level": "ERROR", "propagate": False}},
    }


#: The old handler's shutdown_timeout: a reload that waited for its worker under logging's lock took all of it.
RELOAD_TIMEOUT = 5.0


@pytest.mark.parametrize("reload", ["dictConfig", "fileConfig"])
def test_a_reload_delivers_what_the_old_handler_had_queued(inbox: Inbox, tmp_path: Path, reload: str) -> None:
    """dictConfig/fileConfig close the old handler holding logging's module lock, which the old worker's threads
    need (urllib3 logs on every request): the close must not wait for them there, and must lose nothing."""
    ini = tmp_path / "empty.ini"
    ini.write_text("[loggers]\nkeys=root\n[handlers]\nkeys=\n[formatters]\nkeys=\n[logger_root]\nhandlers=\n")
    for round_ in range(3):  # the old sender blocked in some reloads only: a few rounds, each counted exactly
        logging.config.dictConfig(_reload_config(inbox.api_url))
        old = _handler_of("reloaded")
        for i in range(10):
            logging.getLogger("reloaded").error("round %d record %d", round_, i)
        began = time.monotonic()
        if reload == "dictConfig":
            logging.config.dictConfig(_reload_config(inbox.api_url))
        else:
            logging.config.fileConfig(ini, disable_existing_loggers=False)
        # Far apart: a reload that waits for the worker under the lock takes all of shutdown_timeout.
        assert time.monotonic() - began < RELOAD_TIMEOUT
        assert old.flush(2 * RELOAD_TIMEOUT)  # its worker goes on after the close: until all is delivered
        assert old.stats()["sent"] == 10, old.stats()
        assert old.stats()["dropped_total"] == 0
        assert inbox.count(14) == 10 * (round_ + 1)
    last = _handler_of("reloaded")
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # the last handler closes too
    assert last.flush(2 * RELOAD_TIMEOUT)
