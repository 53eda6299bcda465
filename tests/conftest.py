"""Shared fixtures: a clean logging tree and environment per test, real local servers."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest

from sendcloud_logging import SendcloudHandler
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "sendcloud_logging" / "inbox" / "schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
BODY_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

AppLogger = Callable[..., "tuple[logging.Logger, SendcloudHandler]"]

PUBLIC_KEY = "pk-test-3f9a"
SECRET_KEY = "sk-test-secret-77c1"  # scanned for in captured output by the credential tests
INTEGRATION_ID = 4242


def assert_valid_body(body: Any) -> None:
    """The body of a POST must validate against the API's request schema."""
    errors = sorted(BODY_VALIDATOR.iter_errors(body), key=str)
    assert not errors, [e.message for e in errors]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SENDCLOUD_"):  # keys, ids, URLs and OAuth2 settings of the developer's own shell
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put the logging tree back as it was: handlers, levels, propagation, disabled flags."""
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers), list(root.filters))
    manager = logging.Logger.manager
    saved = {
        name: (lg.level, list(lg.handlers), lg.propagate, lg.disabled)
        for name, lg in manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    yield
    current = [root, *(lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    for lg in current:
        for handler in lg.handlers:
            known = saved_root[1] if lg is root else saved.get(lg.name, (0, [], True, False))[1]
            if handler not in known:
                handler.close()
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    root.filters[:] = saved_root[2]
    for name, lg in list(manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        level, handlers, propagate, disabled = saved.get(name, (logging.NOTSET, [], True, False))
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.propagate = propagate
        lg.disabled = disabled


@pytest.fixture
def inbox(request: pytest.FixtureRequest) -> Iterator[Inbox]:
    """A running Inbox; at teardown every POST body it saw must validate against the schema.

    Tests that post invalid bodies on purpose carry the ``invalid_posts`` marker.
    """
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as server:
        yield server
        if request.node.get_closest_marker("invalid_posts") is None:
            for post in server.posts:
                if post["status"]:  # status 0: the connection was dropped before a body was read
                    assert_valid_body(post["body"])


@pytest.fixture
def make_handler(inbox: Inbox) -> Iterator[Callable[..., SendcloudHandler]]:
    """Build handlers pointed at the Inbox; each is closed after the test."""
    made: list[SendcloudHandler] = []

    def make(**kwargs: Any) -> SendcloudHandler:
        options: dict[str, Any] = {
            "integration_id": INTEGRATION_ID,
            "public_key": PUBLIC_KEY,
            "secret_key": SECRET_KEY,
            "api_url": inbox.api_url,
            "base_url": "https://shop.example",
        }
        options.update(kwargs)
        handler = SendcloudHandler(**options)
        made.append(handler)
        return handler

    yield make
    for handler in made:
        handler.close()


@pytest.fixture
def app_logger(make_handler: Callable[..., SendcloudHandler]) -> Callable[..., tuple[logging.Logger, SendcloudHandler]]:
    """A fresh application logger with a handler attached, not propagating to root."""
    counter = iter(range(1_000_000))

    def make(**kwargs: Any) -> tuple[logging.Logger, SendcloudHandler]:
        handler = make_handler(**kwargs)
        log = logging.getLogger(f"tests.app{next(counter)}")
        log.propagate = False
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
        return log, handler

    return make


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    """A local shop that fails on purpose, shared by a module's tests; /stall outlasts the clients' timeouts."""
    with Shop(stall_seconds=3.0) as running:
        yield running


def logged(app_logger: AppLogger, inbox: Inbox, call: Callable[[logging.Logger], None], n: int = 1) -> list[dict[str, Any]]:
    """Run ``call`` with a fresh logger (summaries off), flush, and return the ``n`` logs the Inbox received."""
    log, handler = app_logger(summary_window=0)
    call(log)
    assert handler.flush(10)
    logs = inbox.logs()
    assert len(logs) == n, logs
    return logs
