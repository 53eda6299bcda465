"""DeliveryPolicy: one table from (error, attempts) to what happens to the log; the one backoff formula."""

from __future__ import annotations

from typing import Optional

import pytest

from sendcloud_logging import errors
from sendcloud_logging._delivery.policy import (
    RETRYABLE_STATUS,
    Action,
    backoff,
    no_jitter,
)
from sendcloud_logging._settings import resolve
from sendcloud_logging.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    MissingBaseURLError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SendcloudError,
    ServerError,
    TransportError,
    ValidationError,
    error_for_status,
)

from .conftest import delivery_policy

POLICY = delivery_policy(max_retries=3, backoff_base=0.5, max_backoff=30.0, auth_retry=60.0, rand=no_jitter)
HOLDING = delivery_policy(max_retries=3, auth_retry=60.0, hold_on_auth_failure=True, rand=no_jitter)


class TimeoutLike(TransportError):
    """Stands for the transport's specific classes (timeouts, TLS, connect): retried like their base."""


#: Every subclass of TransportError the package defines, and one of our own.
TRANSPORT_CLASSES = sorted({TimeoutLike, *TransportError.__subclasses__()}, key=lambda c: c.__name__)


@pytest.mark.parametrize(
    "error,attempts,action,reason,delay",
    [
        (None, 0, Action.SENT, "", None),
        (None, 3, Action.SENT, "", None),
        (TransportError("reset"), 0, Action.RETRY, "", 0.5),
        (TransportError("reset"), 2, Action.RETRY, "", 2.0),
        (TransportError("reset"), 3, Action.DROP, "retries_exhausted", None),
        *[(cls("x"), 1, Action.RETRY, "", 1.0) for cls in TRANSPORT_CLASSES],
        *[(cls("x"), 3, Action.DROP, "retries_exhausted", None) for cls in TRANSPORT_CLASSES],
        *[(error_for_status(status, None, None), 0, Action.RETRY, "", 0.5) for status in (408, 500, 502, 503, 504)],
        (error_for_status(503, None, None), 3, Action.DROP, "retries_exhausted", None),
        (ServerError(520, None, "gateway"), 0, Action.RETRY, "", 0.5),  # any 5xx: the API's failure, not the log's
        (APIError(501), 1, Action.RETRY, "", 1.0),
        (RateLimitedError(429, retry_after=7.0), 0, Action.PAUSE, "", 7.0),
        (RateLimitedError(429), 0, Action.PAUSE, "", None),  # no Retry-After: the pause's own backoff
        (RateLimitedError(429), 99, Action.PAUSE, "", None),  # a 429 costs no attempt, so it never runs out
        (AuthenticationError(401), 0, Action.DROP, "unauthorized", None),
        (AuthenticationError(403), 3, Action.DROP, "unauthorized", None),
        (NotFoundError(404), 0, Action.DROP, "unknown_integration", None),
        (PayloadTooLargeError(413), 0, Action.DROP, "too_large", None),
        (ValidationError(400, "invalid", "bad field"), 0, Action.DROP, "rejected", None),
        (APIError(409), 0, Action.DROP, "rejected", None),
        (APIError(422), 0, Action.DROP, "rejected", None),
        (ConfigurationError("api_url", "not an http(s) URL"), 0, Action.DROP, "misconfigured", None),
        (MissingBaseURLError("none"), 0, Action.DROP, "rejected", None),
        (SendcloudError("something else"), 0, Action.DROP, "rejected", None),
        (ValueError("Out of range float values are not JSON compliant"), 0, Action.DROP, "payload_error", None),
        (KeyError("bug"), 3, Action.DROP, "payload_error", None),
    ],
)
def test_outcome_table(
    error: Optional[BaseException], attempts: int, action: Action, reason: str, delay: Optional[float]
) -> None:
    outcome = POLICY.outcome_for(error, attempts)
    assert outcome.action is action
    assert outcome.reason == reason
    assert outcome.delay == delay


def test_outages_count_towards_the_breaker_and_refusals_do_not() -> None:
    assert POLICY.outcome_for(TransportError("reset"), 0).outage
    assert POLICY.outcome_for(ServerError(503), 3).outage  # an exhausted outage is counted as "failed"
    for error in (RateLimitedError(429), AuthenticationError(401), NotFoundError(404), ValidationError(400),
                  ConfigurationError("api_url", "bad"), ValueError("bug")):
        assert not POLICY.outcome_for(error, 0).outage, error


def test_refused_credentials_drop_without_a_spool_and_hold_with_one() -> None:
    dropped = POLICY.outcome_for(AuthenticationError(401, "authentication_failed"), 0)
    assert dropped.action is Action.DROP
    assert dropped.account_wait == 60.0
    assert "authentication_failed" in dropped.detail
    assert "credentials callable" in dropped.detail  # the hint says where to look
    held = HOLDING.outcome_for(AuthenticationError(401), 0)
    assert held.action is Action.HOLD
    assert held.delay == 60.0
    assert held.account_wait == 60.0
    later = POLICY.while_refused()
    assert later is not None
    assert later.action is Action.DROP
    assert later.reason == "unauthorized"
    assert HOLDING.while_refused() is None


def test_an_unknown_integration_is_forgotten_for_good() -> None:
    outcome = POLICY.outcome_for(NotFoundError(404, "not_found", "no such integration"), 0)
    assert outcome.forget_integration
    assert "no such integration" in outcome.detail


def test_a_probe_tells_an_outage_from_an_answer() -> None:
    assert POLICY.is_outage(TransportError("refused"))
    assert POLICY.is_outage(ServerError(503))
    assert POLICY.is_outage(RateLimitedError(429))
    assert not POLICY.is_outage(None)
    assert not POLICY.is_outage(AuthenticationError(401))  # an answer: the API is up
    assert not POLICY.is_outage(NotFoundError(404))


def test_retryable_statuses_are_a_field() -> None:
    assert sorted(RETRYABLE_STATUS) == [408, 429, 500, 502, 503, 504]
    strict = delivery_policy(retryable_statuses=frozenset({409}), rand=no_jitter)
    assert strict.outcome_for(APIError(409), 0).action is Action.RETRY
    assert strict.outcome_for(APIError(408), 0).action is Action.DROP


def test_backoff_is_full_jitter_and_capped() -> None:
    assert backoff(0, 0.5, 30, rand=lambda: 1.0) == 0.5
    assert backoff(3, 0.5, 30, rand=lambda: 1.0) == 4.0
    assert backoff(10, 0.5, 30, rand=lambda: 1.0) == 30.0
    assert backoff(1000, 0.5, 30, rand=lambda: 0.5) == 15.0
    assert backoff(3, 0.5, 30, rand=lambda: 0.0) == 0.0
    assert backoff(-1, 0.5, 30, rand=no_jitter) == 0.5


def test_the_policy_backs_off_with_its_injected_jitter() -> None:
    draws = iter([0.25, 1.0])
    policy = delivery_policy(backoff_base=1.0, max_backoff=10.0, rand=lambda: next(draws))
    assert policy.backoff(2) == 1.0  # 0.25 * 4
    assert policy.outcome_for(TransportError("x"), 3).delay == 8.0


def test_the_pause_and_breaker_waits_are_at_least_a_second() -> None:
    policy = delivery_policy(backoff_base=0.01, max_backoff=0.02)
    assert policy.pause_base == 1.0
    assert policy.pause_cap == 1.0
    assert delivery_policy(backoff_base=2.0, max_backoff=60.0).pause_cap == 60.0


def test_a_handlers_options_make_its_policy() -> None:
    keys = {"integration_id": 1, "public_key": "p", "secret_key": "s"}
    options = {**keys, "max_retries": "9", "max_backoff": 3, "rate_limit_per_minute": "off", "breaker_threshold": 2}
    policy = resolve(options, environ={}).delivery
    assert (policy.max_retries, policy.max_backoff, policy.rate_limit_per_minute) == (9, 3.0, None)
    assert policy.breaker_threshold == 2
    assert not policy.hold_on_auth_failure  # in memory: refused credentials drop
    assert resolve({**keys, "spool_path": "/tmp/x.sqlite"}, environ={}).delivery.hold_on_auth_failure
    defaults = resolve(keys, environ={}).delivery
    assert (defaults.max_retries, defaults.rate_limit_per_minute, defaults.rate_limit_burst) == (5, 100.0, 15)


def test_only_the_policy_knows_error_classes() -> None:
    """The worker, intake and sender apply outcomes; they never import the errors module or the client.

    The one exception: the spool refuses an unusable ``spool_path`` with a ``ConfigurationError`` (a setting's
    error, not an answer of the API).
    """
    import ast
    from pathlib import Path

    package = Path(errors.__file__).parent / "_delivery"
    allowed = {"spool.py": {"ConfigurationError"}}
    for name in ("worker.py", "intake.py", "sender.py", "outbox.py", "spool.py", "pacing.py", "stats.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {m for m in imported if m.endswith("client")}, (name, imported)
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("errors")
            for alias in node.names
        }
        assert names <= allowed.get(name, set()), (name, names)
        assert "errors" not in {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                                for alias in node.names}, name
