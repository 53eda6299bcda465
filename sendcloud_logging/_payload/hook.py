"""``before_send``: the application's last look at a payload, on the worker thread, before it is queued.

The hook is called as ``before_send(payload, record)`` with the payload already redacted and cut to its
bounds, and the original ``LogRecord`` (the handler keeps a reference to it while the record waits in the
queue, only when a hook is set; read it, do not change it). It returns the payload to send, edited or not,
or ``None`` to drop the record. What it returns is checked again (API fields and types, sizes); it is not
redacted again. A hook that raises, or returns something other than a dict or ``None``, drops its record:
a broken hook never lets an unchecked payload through. The first failure is reported on stderr.

Drops are counted under ``before_send`` in ``stats()``: the hook raises ``Drop``, which the worker counts
before anything reaches the outbox (memory or spool).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from .._capture.chain import exception_text
from .._diagnostics import logger, report
from .._types import Drop, Payload
from ..errors import MissingBaseURLError
from . import PayloadPolicy, conform

Hook = Callable[[Payload, Optional[logging.LogRecord]], Any]


class BeforeSend:
    """Call the application's hook safely: its failures drop the record and are reported once."""

    def __init__(self, hook: Hook, policy: PayloadPolicy) -> None:
        self._hook = hook
        self._policy = policy
        self._failed = False

    def __call__(self, payload: Payload, record: Optional[logging.LogRecord]) -> Payload:
        """The payload to queue.

        Raises:
            Drop: the hook returned ``None``, raised, or returned something unusable.
            MissingBaseURLError: the edited payload has no ``base_url``.
        """
        try:
            result = self._hook(payload, record)
        except Exception as exc:  # any failure of user code drops its record, never more
            raise self._failure(f"before_send raised {_describe(exc)}") from exc
        if result is None:
            raise Drop("before_send")
        try:
            return conform(result, self._policy)
        except MissingBaseURLError:
            raise
        except Exception as exc:
            raise self._failure(f"before_send returned an unusable value: {_describe(exc)}") from exc

    def _failure(self, detail: str) -> Drop:
        first = not self._failed
        self._failed = True
        if first:
            report(f"{detail}; its log was dropped (counted as 'before_send' in stats()), and so will be others")
            logger.warning("%s", detail, exc_info=True)
        else:
            logger.debug("%s", detail, exc_info=True)
        return Drop("before_send", detail, reported=True)


def _describe(exc: BaseException) -> str:
    text = exception_text(exc) or ""
    name = type(exc).__name__
    return f"{name}: {text[:200]}" if text else name
