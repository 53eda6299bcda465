"""Shared fixtures and helpers: a clean logging tree and environment per test, real local servers.

Helpers for test modules (import them from ``.conftest``): ``AppLogger``, ``make_record``, ``payload_with``,
``make_response``, the hostile values ``Unprintable`` and ``Trap``, ``free_port``, ``LineReader``, ``within`` (a
call bounded as a hang guard); for the Inbox's HTTP, ``logs_url``, ``error_codes`` and ``exchange`` (raw bytes);
the one schema check of the suite, ``schema_errors`` / ``assert_valid_body`` / ``assert_matches``;
``assert_no_keys`` for leaks of the suite's keys.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import queue
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Callable, Optional, TypeVar, Union

import jsonschema
import pytest
import requests
from requests.structures import CaseInsensitiveDict

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._delivery.policy import DeliveryPolicy
from sendcloud_logging._payload import PayloadPolicy, payload_from_record
from sendcloud_logging._settings import resolve
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.validation import make_format_checker
from sendcloud_logging.shop import Shop

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "sendcloud_logging" / "inbox" / "schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
#: The nine body fields, in the API's order (written out, not read from the schema: tests compare the two).
FIELDS = ["base_url", "full_url", "method", "response_code", "response", "request", "created_at", "exception_type",
          "exception"]

AppLogger = Callable[..., "tuple[logging.Logger, SendcloudHandler]"]

PUBLIC_KEY = "pk-test-3f9a"
SECRET_KEY = "sk-test-secret-77c1"  # scanned for in captured output by the credential tests
AUTH = (PUBLIC_KEY, SECRET_KEY)
INTEGRATION_ID = 4242
SHOP = "https://shop.example"
URL = f"{SHOP}/api/orders/42/notes"
MESSAGE = "Could not post the order note"
#: For a pytest run in a child process: plugins of this environment its suite does not need (hypothesis alone
#: takes half a second to load). Ours still comes in through its entry point.
SPARE_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:anyio")
#: Seconds a test waits for a local server's answer: a bound for a hung server, never a measurement.
TIMEOUT = 5.0

#: ``date-time`` is checked by the Inbox's own RFC 3339 parser (jsonschema alone checks nothing there);
#: ``tests/test_rfc3339.py`` holds it and the handler's rule to one table of cases.
_FORMATS = make_format_checker()


@functools.cache
def _validator(definition: str) -> Any:
    return jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"}, format_checker=_FORMATS)


def schema_errors(instance: Any, definition: str = "createRequest") -> list[str]:
    """What is wrong with ``instance`` as ``#/$defs/<definition>`` of the API schema (a POST body by default)."""
    errors = sorted(_validator(definition).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def assert_valid_body(body: Any) -> None:
    """The body of a POST must validate against the API's request schema."""
    errors = schema_errors(body)
    assert not errors, errors


def assert_matches(definition: str, instance: Any) -> None:
    """``instance`` validates against ``#/$defs/<definition>`` (``log``, ``createResponse``, ``errors``...)."""
    errors = schema_errors(instance, definition)
    assert not errors, errors


def assert_no_keys(text: str) -> None:
    """Neither of the suite's API keys is in ``text`` (output, messages, reprs); a failure shows where one leaked."""
    for key in (PUBLIC_KEY, SECRET_KEY):
        assert key not in text, f"an API key leaked: ...{text[max(0, text.find(key) - 80): text.find(key) + 40]}..."


def make_record(msg: Any = MESSAGE, *args: Any, exc_info: Any = None, **extra: Any) -> logging.LogRecord:
    """An ERROR record of logger ``shop.sync``, as ``logger.error(msg, *args, exc_info=..., extra=extra)`` makes it."""
    return logging.getLogger("shop.sync").makeRecord(
        "shop.sync", logging.ERROR, __file__, 1, msg, args, exc_info, extra=extra or None
    )


def payload_with(policy: Optional[PayloadPolicy] = None, msg: str = MESSAGE, **extra: Any) -> dict[str, Any]:
    """The payload of an ERROR record with ``extra`` under ``policy`` (``base_url``: SHOP), checked against the schema."""
    result = payload_from_record(make_record(msg, **extra), policy=policy, base_url=SHOP)
    assert_valid_body(result)
    return result


def make_response(
    status: int = 404,
    body: Any = b'{"error": "not found"}',
    headers: Optional[dict[str, str]] = None,
    url: str = URL,
    encoding: Optional[str] = "utf-8",
    request: Optional[requests.PreparedRequest] = None,
) -> requests.Response:
    """A ``requests.Response`` as a shop API answered it, without a server (JSON unless ``headers`` say otherwise)."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict(headers if headers is not None else {"Content-Type": "application/json"})
    response.url = url
    response.encoding = encoding
    response.request = request  # type: ignore[assignment]
    return response


class Unprintable:
    """A value whose ``str`` and ``repr`` both raise: a message argument or an extra must still be shown somehow."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class Trap:
    """A foreign object: every attribute access raises, even the ``__class__`` that ``isinstance`` consults."""

    def __getattribute__(self, name: str) -> Any:
        raise RuntimeError(f"no {name}")


class LineReader:
    """The lines of a child process's pipe, read on a thread: a test waits for a line, with a bound, never polls."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue[Optional[str]] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait for the next line that matches ``pattern``; fail when the output ends or ``timeout`` passes first."""
        while True:
            line = self._lines.get(timeout=timeout)
            assert line is not None, f"output ended before {pattern!r}: {self.seen}"
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def text(self, timeout: float = 20.0) -> str:
        """Everything the pipe carried, once the child closed it."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the pipe is still open"
        while (line := self._lines.get_nowait()) is not None:
            self.seen.append(line)
        return "".join(self.seen)


Result = TypeVar("Result")


def within(seconds: float, call: Callable[[], Result]) -> Result:
    """``call()``'s result, run on a daemon thread; fails the test if it has not returned after ``seconds``.

    A hang guard, never a measurement: the test makes sure that only the behaviour under test can end the
    call at all (it would otherwise wait an hour), and ``seconds`` only keeps a regression from hanging the suite.
    """
    done = threading.Event()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # raised again on the test's thread
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="bounded-call", daemon=True).start()
    assert done.wait(seconds), f"still running after {seconds} s: {call}"
    returned, value = outcome[0]
    if not returned:
        raise value
    return value  # type: ignore[no-any-return]


def free_port() -> int:
    """A loopback port nothing listens on (right now): for a server to bind, or for a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def logs_url(inbox: Inbox, integration_id: Union[int, str, None] = None) -> str:
    """The Inbox's logs endpoint of one integration, or of all of them."""
    if integration_id is None:
        return f"{inbox.api_url}/integrations/logs"
    return f"{inbox.api_url}/integrations/{integration_id}/logs"


def error_codes(response: requests.Response) -> list[str]:
    """The ``code`` of each error in an answer, which must be the API's JSON error body."""
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert_matches("errors", body)
    return [error["code"] for error in body["errors"]]


def exchange(inbox: Inbox, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Send raw bytes, end our side, and read every answer until the server closes (or stops answering)."""
    with socket.create_connection((inbox.host, inbox.port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered (413, 400) and closed before taking everything
            pass
        chunks = []
        try:
            while chunk := sock.recv(65_536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


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
    for name, node in list(manager.loggerDict.items()):
        if not isinstance(node, logging.Logger):
            continue
        level, handlers, propagate, disabled = saved.get(name, (logging.NOTSET, [], True, False))
        node.setLevel(level)
        node.handlers[:] = handlers
        node.propagate = propagate
        node.disabled = disabled


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
def session() -> Iterator[requests.Session]:
    """A ``requests`` session that authenticates with the suite's keys, closed after the test."""
    with requests.Session() as s:
        s.auth = AUTH
        yield s


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
            "base_url": SHOP,
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


@pytest.fixture
def shop() -> Iterator[Shop]:
    """A local shop that fails on purpose, fresh for each test (``seen`` is its own); /stall outlasts clients' timeouts."""
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


def delivery_policy(**changes: Any) -> DeliveryPolicy:
    """The delivery policy a handler with default options gets (read from the option table), with ``changes``."""
    settings = resolve({"integration_id": INTEGRATION_ID, "public_key": PUBLIC_KEY, "secret_key": SECRET_KEY}, environ={})
    return dataclasses.replace(settings.delivery, **changes)
