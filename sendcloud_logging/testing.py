"""A pytest plugin for testing your own error logging against a real local Inbox.

It is registered through the ``pytest11`` entry point, so once ``sendcloud-logging[inbox]`` is installed its
fixtures are there in every test suite, with nothing to import or configure:

- ``sendcloud_inbox``: a running ``Inbox`` on 127.0.0.1. While the test runs, ``SENDCLOUD_API_URL``,
  ``SENDCLOUD_PUBLIC_KEY`` and ``SENDCLOUD_SECRET_KEY`` point at it (and ``SENDCLOUD_INTEGRATION_ID`` is ``1``
  unless already set), so a ``SendcloudHandler`` that your application configures from the environment sends
  there, never to Sendcloud.
- ``sendcloud_handler``: a ``SendcloudHandler`` on the root logger, sending to that Inbox at once (no
  pacing, no storm summaries); its keywords can be changed by overriding the ``sendcloud_options`` fixture.
- ``sendcloud``: both, plus ``sent_logs()``, which flushes every ``SendcloudHandler`` in the logging tree and
  returns the logs the Inbox received, oldest first, as the API returns them.

Example (a test of your own code)::

    import requests

    def test_a_refused_note_is_logged(sendcloud):
        sync_order_note(order_id=7)   # your code: calls the shop, logs the failure with log.exception(...)
        (log,) = sendcloud.sent_logs()
        assert log["exception_type"] == "requests.exceptions.HTTPError"
        assert log["response_code"] == 422

The fixtures' names all start with ``sendcloud`` so they do not clash with a suite's own. The module imports
nothing heavy: the Inbox (and ``jsonschema``) only when a fixture is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

import pytest

from .handler import SendcloudHandler

if TYPE_CHECKING:
    from .inbox import Inbox

__all__ = [
    "PUBLIC_KEY",
    "SECRET_KEY",
    "SendcloudTesting",
    "sendcloud",
    "sendcloud_handler",
    "sendcloud_handlers",
    "sendcloud_inbox",
    "sendcloud_options",
]

#: The keys the test Inbox accepts (and the fixtures put into the environment).
PUBLIC_KEY = "sendcloud-testing-public"
SECRET_KEY = "sendcloud-testing-secret"  # noqa: S105 - a fixed key of a local test server
#: The integration id put into the environment when none is set there.
DEFAULT_INTEGRATION_ID = "1"


def sendcloud_handlers() -> list[SendcloudHandler]:
    """Every ``SendcloudHandler`` attached to a logger (the root logger included), each once."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)]
    found: list[SendcloudHandler] = []
    for lg in loggers:
        for handler in list(lg.handlers):
            if isinstance(handler, SendcloudHandler) and all(handler is not h for h in found):
                found.append(handler)
    return found


class SendcloudTesting:
    """What the ``sendcloud`` fixture gives a test: the Inbox, the handler, and what was sent."""

    def __init__(self, inbox: Inbox, handler: SendcloudHandler) -> None:
        #: The running local Inbox.
        self.inbox = inbox
        #: The handler on the root logger.
        self.handler = handler

    @property
    def api_url(self) -> str:
        """The Inbox's API URL, for handlers or clients you build yourself."""
        return self.inbox.api_url

    def sent_logs(self, integration_id: Optional[int] = None, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Flush every ``SendcloudHandler``, then return the logs the Inbox received, oldest first.

        Args:
            integration_id: Only this integration's logs; ``None`` for all.
            timeout: Seconds each handler's flush may take.

        Raises:
            AssertionError: a handler could not deliver everything within ``timeout`` (its stats are shown).
        """
        for handler in sendcloud_handlers():
            if not handler.flush(timeout):
                raise AssertionError(f"{handler!r} did not deliver within {timeout} s: {handler.stats()}")
        return self.inbox.logs(integration_id)


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
def sendcloud_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A running local Inbox; the ``SENDCLOUD_*`` environment points at it while the test runs."""
    from .inbox import Inbox  # noqa: PLC0415  # needs the "inbox" extra; only when the fixture is used

    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        monkeypatch.setenv("SENDCLOUD_API_URL", inbox.api_url)
        monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
        monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
        for name in ("SENDCLOUD_CLIENT_ID", "SENDCLOUD_CLIENT_SECRET", "SENDCLOUD_TOKEN_URL"):
            monkeypatch.delenv(name, raising=False)  # keys, not OAuth: nothing may reach the real token endpoint
        if not os.environ.get("SENDCLOUD_INTEGRATION_ID"):
            monkeypatch.setenv("SENDCLOUD_INTEGRATION_ID", DEFAULT_INTEGRATION_ID)
        yield inbox


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
    handler = SendcloudHandler(**options)
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
    return SendcloudTesting(sendcloud_inbox, sendcloud_handler)
