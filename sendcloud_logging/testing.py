"""A pytest plugin for testing your own error logging against a real local Inbox.

It is registered through the ``pytest11`` entry point, so once ``sendcloud-logging[inbox]`` is installed its
fixtures are there in every test suite, with nothing to import or configure:

- ``sendcloud_inbox``: a running ``Inbox`` on 127.0.0.1. While the test runs, ``SENDCLOUD_API_URL``,
  ``SENDCLOUD_PUBLIC_KEY`` and ``SENDCLOUD_SECRET_KEY`` point at it (and ``SENDCLOUD_INTEGRATION_ID`` is ``1``
  unless already set), so a ``SendcloudHandler`` that your application configures from the environment sends
  there, never to Sendcloud.
- ``sendcloud_handler``: a ``SendcloudHandler`` on the root logger, sending to that Inbox at once (no
  pacing, no storm summaries); its keywords can be changed by overriding the ``sendcloud_options`` fixture.
- ``sendcloud``: both, plus ``sent_logs()``, which flushes every ``SendcloudHandler`` sending to the Inbox
  and returns the logs it received in this test, oldest first, as the API returns them.
- ``sendcloud_shop``: a running local ``Shop`` whose API fails on purpose (``sendcloud_logging.shop``).

Example (a test of your own code)::

    def test_a_missing_order_is_logged(sendcloud, sendcloud_shop):
        fetch_order(sendcloud_shop.http_url, 404)   # your code: calls the shop, logs with log.exception(...)
        (log,) = sendcloud.sent_logs()
        assert log["exception_type"] == "requests.exceptions.HTTPError"
        assert log["response_code"] == 404

When a test that used the Inbox fails, its report names the Inbox's web page; ``--sendcloud-keep`` keeps the
Inbox up after a failing test until Enter is pressed, so the page can be looked at. A ``SendcloudHandler``
the application built during a test and left attached, sending to that test's Inbox, is closed while the
Inbox is still up and reported with a ``SendcloudHandlerLeftOpen`` warning, so the next test does not wait
for an Inbox that is gone. Applications that configure logging when they are imported use
``session_inbox()`` from their ``conftest.py``.

The fixtures' names all start with ``sendcloud`` so they do not clash with a suite's own. Loading the
plugin imports nothing but the standard library and pytest: the handler, ``requests``, the Inbox and
``jsonschema`` only when a fixture is used. ``pytest -p no:sendcloud_logging`` does not load it at all.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any, Optional

import pytest

if TYPE_CHECKING:
    from .handler import SendcloudHandler
    from .inbox import Inbox
    from .shop import Shop

__all__ = [
    "PUBLIC_KEY",
    "SECRET_KEY",
    "SendcloudHandlerLeftOpen",
    "SendcloudTesting",
    "sendcloud",
    "sendcloud_handler",
    "sendcloud_handlers",
    "sendcloud_inbox",
    "sendcloud_options",
    "sendcloud_shop",
    "session_inbox",
]

#: The keys the test Inbox accepts (and the fixtures put into the environment).
PUBLIC_KEY = "sendcloud-testing-public"
SECRET_KEY = "sendcloud-testing-secret"  # noqa: S105 - a fixed key of a local test server
#: The integration id put into the environment when none is set there.
DEFAULT_INTEGRATION_ID = "1"
_OAUTH_VARIABLES = ("SENDCLOUD_CLIENT_ID", "SENDCLOUD_CLIENT_SECRET", "SENDCLOUD_TOKEN_URL")
_API_PATH = "/api/v3"

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()
_inboxes = pytest.StashKey["Inbox"]()
_session: dict[str, Inbox] = {}  # the one session_inbox() of this process, once started


class SendcloudHandlerLeftOpen(UserWarning):
    """A ``SendcloudHandler`` sending to a test's Inbox was still open when the test ended; it was closed."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sendcloud_logging", "sendcloud-logging")
    group.addoption(
        "--sendcloud-keep",
        action="store_true",
        default=False,
        help="after a failing test that used the sendcloud Inbox, keep the Inbox up until Enter is pressed",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    item.stash.setdefault(_reports, {})[report.when] = report
    inbox = item.stash.get(_inboxes, None)
    if inbox is not None and report.when == "call" and report.failed:
        keep = item.config.getoption("sendcloud_keep")
        hint = "it stays up until you press Enter" if keep else "it stops now; --sendcloud-keep keeps it up"
        report.sections.append(
            ("sendcloud-logging", f"the logs of this test: {page_url(inbox)} (web view of its Inbox; {hint})")
        )


def page_url(inbox: Inbox) -> str:
    """The root URL of an Inbox, where its web page is, such as ``http://127.0.0.1:54321/``."""
    url = getattr(inbox, "url", None)
    if isinstance(url, str):
        return url.rstrip("/") + "/"
    return inbox.api_url[: -len(_API_PATH)] + "/"


def _handler_class() -> type[SendcloudHandler]:
    from .handler import SendcloudHandler  # noqa: PLC0415 - the plugin loads no handler until a fixture needs it

    return SendcloudHandler


def sendcloud_handlers() -> list[SendcloudHandler]:
    """Every ``SendcloudHandler`` attached to a logger (the root logger included), each once."""
    if "sendcloud_logging.handler" not in sys.modules:
        return []  # no handler was ever built in this process
    cls = _handler_class()
    found: list[SendcloudHandler] = []
    for logger in _loggers():
        for handler in list(logger.handlers):
            if isinstance(handler, cls) and all(handler is not h for h in found):
                found.append(handler)
    return found


def _loggers() -> list[logging.Logger]:
    found: list[logging.Logger] = [logging.getLogger()]
    found += [lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)]
    return found


def _sending_to(inbox: Inbox) -> list[SendcloudHandler]:
    target = inbox.api_url.rstrip("/")
    return [h for h in sendcloud_handlers() if h.api_url.rstrip("/") == target]


def _set_environment(inbox: Inbox, setenv: Any, delenv: Any) -> None:
    """Point the ``SENDCLOUD_*`` environment at ``inbox`` (keys, not OAuth2: nothing reaches a real endpoint)."""
    setenv("SENDCLOUD_API_URL", inbox.api_url)
    setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
    setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    for name in _OAUTH_VARIABLES:
        delenv(name)
    if not os.environ.get("SENDCLOUD_INTEGRATION_ID"):
        setenv("SENDCLOUD_INTEGRATION_ID", DEFAULT_INTEGRATION_ID)


def session_inbox() -> Inbox:
    """Start one Inbox for the whole test session (once) and point ``os.environ``'s ``SENDCLOUD_*`` at it.

    For applications that build their ``SendcloudHandler`` when they are imported (a Django ``LOGGING``
    setting, a module-level ``dictConfig``): call it at the top of your ``conftest.py``, before the
    application is imported. From then on the ``sendcloud`` and ``sendcloud_inbox`` fixtures use this Inbox
    (``sent_logs()`` still returns only what arrived during the test), and handlers sending to it are left
    open between tests. It stops when the process exits.
    """
    inbox = _session.get("inbox")
    if inbox is None:
        from .inbox import Inbox  # noqa: PLC0415 - needs the "inbox" extra; only when asked for

        inbox = _session["inbox"] = Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY).start()
        atexit.register(inbox.stop)
    _set_environment(inbox, os.environ.__setitem__, lambda name: os.environ.pop(name, None))
    return inbox


class SendcloudTesting:
    """What the ``sendcloud`` fixture gives a test: the Inbox, the handler, and what was sent."""

    def __init__(self, inbox: Inbox, handler: SendcloudHandler, *, since: int = 0) -> None:
        #: The running local Inbox.
        self.inbox = inbox
        #: The handler on the root logger.
        self.handler = handler
        self._since = since

    def __repr__(self) -> str:
        return f"<SendcloudTesting Inbox at {page_url(self.inbox)}>"

    @property
    def api_url(self) -> str:
        """The Inbox's API URL, for handlers or clients you build yourself."""
        return self.inbox.api_url

    @property
    def url(self) -> str:
        """The Inbox's web page, such as ``http://127.0.0.1:54321/``."""
        return page_url(self.inbox)

    def sent_logs(self, integration_id: Optional[int] = None, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Flush every ``SendcloudHandler`` sending to the Inbox, then return what it received in this test.

        Args:
            integration_id: Only this integration's logs; ``None`` for all.
            timeout: Seconds each handler's flush may take.

        Returns:
            The logs, oldest first, as the API returns them.

        Raises:
            AssertionError: a handler could not deliver everything within ``timeout`` (its stats are shown).
        """
        for handler in _sending_to(self.inbox):
            if not handler.flush(timeout):
                raise AssertionError(f"{handler!r} did not deliver within {timeout} s: {handler.stats()}")
        return [log for log in self.inbox.logs(integration_id) if int(log["id"]) > self._since]

    def close_handlers(self) -> int:
        """Close and detach the handlers your application built that send to this Inbox (not the fixture's).

        Call it where a fixture that built the application ends; returns how many were closed.
        """
        closed = 0
        for handler in _sending_to(self.inbox):
            if handler is not self.handler:
                _detach_and_close(handler)
                closed += 1
        return closed


def _detach_and_close(handler: SendcloudHandler) -> list[str]:
    """Remove ``handler`` from every logger and close it; the names of the loggers it was on."""
    names = []
    for logger in _loggers():
        if handler in logger.handlers:
            logger.removeHandler(handler)
            names.append(logger.name)
    handler.flush(2.0)  # the Inbox is still up: what is queued goes at once
    handler.close()
    return names


def _close_left_open(inbox: Inbox) -> None:
    """Close handlers still sending to a test's Inbox before it stops (all of them), then say so once."""
    names = [name for handler in _sending_to(inbox) for name in _detach_and_close(handler)]
    if names:
        warnings.warn(
            SendcloudHandlerLeftOpen(
                f"a SendcloudHandler sending to this test's Inbox ({inbox.api_url}) was still attached to "
                f"logger(s) {', '.join(repr(n) for n in names)} when the test ended; it was closed and detached "
                "so that no later test waits for this Inbox, which is gone. Close the handlers your application "
                "builds during a test (sendcloud.close_handlers()), or, if it configures logging when it is "
                "imported, call sendcloud_logging.testing.session_inbox() in conftest.py."
            ),
            stacklevel=1,
        )


def _keep_after_failure(request: pytest.FixtureRequest, inbox: Inbox) -> None:
    """With ``--sendcloud-keep``, after a failed test, wait for Enter (or end of input) before the Inbox stops."""
    report = request.node.stash.get(_reports, {}).get("call")
    if report is None or not report.failed or not request.config.getoption("sendcloud_keep"):
        return
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    try:
        sys.stdout.write(
            f"\nsendcloud-logging: {request.node.nodeid} failed; its Inbox stays up at {page_url(inbox)} "
            f"(API {inbox.api_url}). Press Enter to go on.\n"
        )
        sys.stdout.flush()
        with contextlib.suppress(OSError, ValueError):  # no usable stdin: go on
            sys.stdin.readline()
    finally:
        if capture is not None:
            capture.resume_global_capture()


@pytest.fixture
def sendcloud_options() -> dict[str, Any]:
    """Keywords for the ``sendcloud_handler`` fixture's ``SendcloudHandler``; override it to change them.

    Example::

        @pytest.fixture
        def sendcloud_options():
            return {"base_url": "https://myshop.example", "level": "WARNING"}
    """
    return {}


@pytest.fixture
def sendcloud_inbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A running local Inbox; the ``SENDCLOUD_*`` environment points at it while the test runs."""
    shared = _session.get("inbox")
    if shared is not None:  # session_inbox() was called: the application's handlers already send there
        request.node.stash[_inboxes] = shared
        _set_environment(shared, monkeypatch.setenv, lambda name: monkeypatch.delenv(name, raising=False))
        yield shared
        _keep_after_failure(request, shared)
        return
    from .inbox import Inbox  # noqa: PLC0415  # needs the "inbox" extra; only when the fixture is used

    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        request.node.stash[_inboxes] = inbox
        _set_environment(inbox, monkeypatch.setenv, lambda name: monkeypatch.delenv(name, raising=False))
        yield inbox
        _keep_after_failure(request, inbox)
        _close_left_open(inbox)


@pytest.fixture
def sendcloud_handler(
    sendcloud_inbox: Inbox, sendcloud_options: dict[str, Any]
) -> Iterator[SendcloudHandler]:
    """A ``SendcloudHandler`` on the root logger, sending to ``sendcloud_inbox``; removed and closed afterwards."""
    options: dict[str, Any] = {
        "api_url": sendcloud_inbox.api_url,
        "public_key": PUBLIC_KEY,
        "secret_key": SECRET_KEY,
        "rate_limit_per_minute": None,
        "summary_window": 0,
        **sendcloud_options,
    }
    handler = _handler_class()(**options)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture
def sendcloud(sendcloud_inbox: Inbox, sendcloud_handler: SendcloudHandler) -> SendcloudTesting:
    """The Inbox, the root logger's handler, and ``sent_logs()`` to assert on what was sent."""
    since = max((int(log["id"]) for log in sendcloud_inbox.logs()), default=0)
    return SendcloudTesting(sendcloud_inbox, sendcloud_handler, since=since)


@pytest.fixture
def sendcloud_shop() -> Iterator[Shop]:
    """A running local ``Shop`` whose API fails on purpose: ``http_url``, ``https_url``, ``refused_url``."""
    from .shop import Shop  # noqa: PLC0415 - only when the fixture is used

    with Shop() as shop:
        yield shop
