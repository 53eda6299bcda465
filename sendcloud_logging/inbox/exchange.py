"""One request's way to its answer, between the connection's framing (``connection.py``) and the API (``routes.py``).

Latency and an injected stall are waited out first; then the answer is, in this order: an injected fault,
the rate limit's 429, a framing error, 404 for an unknown path, or what the API says. Every POST of a log
is recorded with the status it got (0 when its connection was dropped). No sockets here: the connection
reads and writes, this decides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import SplitResult, urlsplit

from .faults import Fault, Faults
from .ratelimit import RateLimit
from .responses import Answer, code_for, error_answer
from .routes import InboxAPI, Route
from .traffic import Traffic
from .validation import json_or_none

#: Runs the API for a known route: ``(route, query, body) -> Answer``.
CallAPI = Callable[[Route, str, Optional[bytes]], Answer]


@dataclass(frozen=True)
class Arrival:
    """One request as read off its connection: everything its answer depends on, but its headers."""

    method: str
    path: str  # the request target as sent
    arrived: float  # on the Inbox's clock
    target: Optional[SplitResult]  # None when the target cannot be parsed
    route: Optional[Route]
    body: Optional[bytes]
    framing: Optional[Answer]  # the body could not (or may not) be read: this error is the answer

    @property
    def is_token_request(self) -> bool:
        """A call to the OAuth2 token endpoint: not rate limited, not a log."""
        return self.route is not None and self.route.token

    @property
    def is_log_post(self) -> bool:
        """A POST that is recorded as a log sent (token requests are not)."""
        return self.method == "POST" and not self.is_token_request


def split_target(path: str) -> Optional[SplitResult]:
    """The parts of a request target; None when it cannot be parsed (an unbalanced "[" in an absolute form)."""
    try:
        return urlsplit(path)
    except ValueError:
        return None


def await_turn(faults: Faults, closing: threading.Event) -> tuple[bool, Optional[Fault]]:
    """Wait out the latency and an injected stall; then whether to answer at all, and the fault to apply.

    ``(False, None)``: the Inbox was stopped (or refused) meanwhile, so the client gets no answer. A stall is
    the client's timeout to see: the request is handled as usual after it, without a fault.
    """
    if faults.hold(time.monotonic(), closing) or closing.is_set():
        return False, None
    fault = faults.take()
    if fault is not None and fault.stall:
        if closing.wait(fault.stall):
            return False, None
        return True, None
    return True, fault


def fault_answer(fault: Fault) -> Answer:
    """The answer of an injected ``fail_next`` fault: a JSON:API error body unless one was given."""
    headers = () if fault.retry_after is None else (("Retry-After", fault.retry_after),)
    if fault.body is not None:
        return Answer(fault.status, fault.body, headers)
    detail = f"Injected by Inbox.fail_next: HTTP {fault.status} ({code_for(fault.status)})"
    return error_answer(fault.status, detail, headers=headers)


def choose_answer(
    arrival: Arrival, fault: Optional[Fault], rate_limits: Mapping[str, RateLimit], call_api: CallAPI
) -> Answer:
    """The answer to a request that is answered; the rate limit counts every request no fault took."""
    if fault is not None:
        return fault_answer(fault)
    limit = None if arrival.is_token_request else rate_limits.get(arrival.method)
    retry_after = limit.admit() if limit is not None else None
    if retry_after is not None:
        headers = (("Retry-After", retry_after),) if retry_after else ()
        detail = f"Rate limit exceeded: too many {arrival.method}s for this account"
        return error_answer(429, detail, headers=headers)
    if arrival.framing is not None:
        return arrival.framing
    if arrival.route is None:
        where = arrival.target.path if arrival.target else arrival.path
        return error_answer(404, f"No such resource: {arrival.method} {where}"[:300])
    return call_api(arrival.route, arrival.target.query if arrival.target else "", arrival.body)


def record_post(traffic: Traffic, api: InboxAPI, arrival: Arrival, status: int) -> None:
    """Keep a log's POST with the status it got (0: dropped) for ``Inbox.posts``; other requests are not kept."""
    if not arrival.is_log_post:
        return
    integration_id = api.integration_id(arrival.route.integration) if arrival.route is not None else None
    body = json_or_none(arrival.body)
    traffic.post_answered({"time": arrival.arrived, "status": status, "integration_id": integration_id, "body": body})
