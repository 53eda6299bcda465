"""What happens to a log after an attempt to send it: the one home of the delivery rules.

``DeliveryPolicy.outcome_for(error, attempts)`` answers, for the error a POST raised (or ``None``) and the
attempts already spent on the log: sent; retry after *t*; pause all sending (429); hold the account's logs
(refused credentials, with a spool); or drop under a named reason. It is a value object in the style of
urllib3's ``Retry``: frozen, no I/O, no clock, so a table of cases tests it.

This module is the only one of the delivery package that knows the error classes and the HTTP statuses: the
sender applies an ``Outcome`` without asking why. ``backoff`` is the one exponential formula, used for
retries (with full jitter), for the 429 pause and for the circuit breaker's cooldown (without).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Optional

from ..errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SendcloudError,
    TransportError,
    WrongURLError,
)

#: Statuses worth another attempt (urllib3's list plus 408 and 429). Any other 5xx is retried too: a
#: gateway's 520-524 is as passing as a 503, and the log is not at fault.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

Rand = Callable[[], float]


def no_jitter() -> float:
    """The upper bound itself: for waits that must not be shortened (a 429 pause, an open circuit)."""
    return 1.0


def backoff(attempt: int, base: float, cap: float, rand: Rand = random.random) -> float:
    """Exponential backoff, ``min(cap, base * 2**attempt)``, times ``rand()``: full jitter by default."""
    return rand() * min(cap, base * (2.0 ** min(max(attempt, 0), 32)))


class Action(Enum):
    """What the sender does with a log after an attempt."""

    SENT = "sent"
    RETRY = "retry"  # this log again after ``delay`` seconds; the attempt counts against max_retries
    PAUSE = "pause"  # no POST at all for ``delay`` seconds (None: the pause's own backoff); costs no attempt
    HOLD = "hold"  # the log waits ``delay`` seconds with its account's others; costs no attempt
    DROP = "drop"  # forget the log, counted under ``reason``


@dataclass(frozen=True)
class Outcome:
    """The decision about one attempt, as plain data.

    ``outage``: a failure of the API or the network rather than of this log; it counts towards the circuit
    breaker, which then defers the log at no cost instead. ``account_wait``: the log's account sends nothing
    for that long (its credentials were refused). ``forget_integration``: later logs of the integration are
    dropped without a request.
    """

    action: Action
    delay: Optional[float] = None
    reason: str = ""
    detail: str = ""
    outage: bool = False
    account_wait: float = 0.0
    forget_integration: bool = False


SENT = Outcome(Action.SENT)

AUTH_HINT = "check the handler's keys, OAuth2 client or credentials callable"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retries, backoff, pacing and refusals: every rule the sender follows, as named fields.

    The fields without a default are the handler's keywords: ``_settings.resolve`` builds the policy from the
    option table, where their defaults live.

    ``hold_on_auth_failure``: refused credentials hold the logs until ``auth_retry`` has passed (a spool keeps
    them for a key fixed by the next deploy) instead of dropping them (``unauthorized``) for that long.
    ``rand``: the jitter source, injectable so tests know every wait.
    """

    max_retries: int
    max_backoff: float
    breaker_threshold: int
    breaker_cooldown: float
    rate_limit_per_minute: Optional[float]
    rate_limit_burst: int
    backoff_base: float = 0.5
    retryable_statuses: frozenset[int] = RETRYABLE_STATUS
    auth_retry: float = 60.0
    hold_on_auth_failure: bool = False
    rand: Rand = field(default=random.random, repr=False, compare=False)

    @property
    def pause_base(self) -> float:
        """First wait of a 429 without Retry-After: ``backoff_base``, at least one second."""
        return max(self.backoff_base, 1.0)

    @property
    def pause_cap(self) -> float:
        """Longest 429 pause without Retry-After, and longest cooldown of an open circuit (at least 1 s)."""
        return max(self.max_backoff, 1.0)

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt + 1`` of a log: full jitter, capped at ``max_backoff``."""
        return backoff(attempt, self.backoff_base, self.max_backoff, self.rand)

    def retryable(self, status: int) -> bool:
        """Whether an error status may pass on another attempt."""
        return status in self.retryable_statuses or status >= 500

    def outcome_for(self, error: Optional[BaseException], attempts: int) -> Outcome:
        """What to do with a log whose attempt raised ``error`` (``None``: the API took it).

        ``attempts``: the failed attempts before this one. Exceptions other than ``SendcloudError`` are bugs
        in building or encoding the request: the log is dropped (``payload_error``), never retried.
        """
        if error is None:
            return SENT
        detail = str(error)
        if not isinstance(error, SendcloudError):
            return Outcome(Action.DROP, reason="payload_error", detail=f"{type(error).__name__}: {error}")
        if isinstance(error, RateLimitedError):
            return Outcome(Action.PAUSE, delay=error.retry_after, detail=detail)
        if isinstance(error, (ConfigurationError, WrongURLError)):  # an unusable URL or id: no attempt can pass
            return Outcome(Action.DROP, reason="misconfigured", detail=detail)
        if isinstance(error, AuthenticationError):
            if self.hold_on_auth_failure:
                return Outcome(Action.HOLD, delay=self.auth_retry, detail=detail, account_wait=self.auth_retry)
            return Outcome(
                Action.DROP, reason="unauthorized", detail=f"{detail}; {AUTH_HINT}", account_wait=self.auth_retry
            )
        if isinstance(error, NotFoundError):
            return Outcome(Action.DROP, reason="unknown_integration", detail=detail, forget_integration=True)
        if isinstance(error, PayloadTooLargeError):
            return Outcome(Action.DROP, reason="too_large", detail=detail)
        if isinstance(error, TransportError) or (isinstance(error, APIError) and self.retryable(error.status)):
            if attempts >= self.max_retries:
                return Outcome(Action.DROP, reason="retries_exhausted", detail=detail, outage=True)
            return Outcome(Action.RETRY, delay=self.backoff(attempts), detail=detail, outage=True)
        return Outcome(Action.DROP, reason="rejected", detail=detail)

    def while_refused(self) -> Optional[Outcome]:
        """For a log of an account whose credentials were refused lately: a drop, or None when logs are held."""
        if self.hold_on_auth_failure:
            return None
        return Outcome(Action.DROP, reason="unauthorized", detail="the API refused the credentials; retrying later")

    def while_unknown(self) -> Outcome:
        """For a log of an integration the API answered 404 for: dropped without a request."""
        return Outcome(Action.DROP, reason="unknown_integration", detail="the API answered 404 for it before",
                       forget_integration=True)

    def is_outage(self, error: Optional[BaseException]) -> bool:
        """Whether a probe's error says the API is still unreachable (any answer but these means it is up)."""
        outcome = self.outcome_for(error, 0)
        return outcome.outage or outcome.action is Action.PAUSE
