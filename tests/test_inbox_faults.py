"""The Inbox's rate limits, chaos and one-shot faults, which the delivery scenarios rely on.

The rate limits are the oracle the handler's pacing is checked against, so they are checked here against the
API's published numbers (POST 100 a minute with bursts of 15 a second, GET 1000 a minute) over a fake clock.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.ratelimit import RateLimit

from .conftest import PUBLIC_KEY, SECRET_KEY, SHOP, TIMEOUT, error_codes, logs_url
from .fakes import FakeClock

BODY = {"base_url": SHOP}


def post(session: requests.Session, inbox: Inbox, timeout: float = TIMEOUT) -> requests.Response:
    return session.post(logs_url(inbox, 1), json=BODY, timeout=timeout)


def offer(times: list[float]) -> tuple[list[float], list[float]]:
    """Offer one POST at each of ``times`` (ascending seconds) to the API's limit: the times admitted, and refused.

    The times are multiples of 1/128 s, exact in binary, so the window edges are compared without rounding.
    """
    clock = FakeClock(start=0.0)
    limit = RateLimit(100, 15, clock=clock)
    admitted: list[float] = []
    refused: list[float] = []
    for at in times:
        clock.advance(at - clock())
        (admitted if limit.admit() is None else refused).append(at)
    return admitted, refused


def most_in_any(window: float, times: list[float]) -> int:
    """The most of ``times`` (ascending) that fall into any half-open interval ``window`` seconds long."""
    return max((sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times)), default=0)


def test_post_limit_is_15_a_second_and_100_a_minute() -> None:
    clock = FakeClock()
    limit = RateLimit(100, 15, clock=clock)
    assert [limit.admit() for _ in range(16)] == [None] * 15 + ["1"]  # the burst, then "come back in a second"
    clock.advance(0.999)
    assert limit.admit() == "1"
    clock.advance(0.001)
    assert [limit.admit() for _ in range(16)] == [None] * 15 + ["1"]
    # A sender that tries every 8 ms for two minutes gets 100 through in each minute, never 101.
    greedy, _ = offer([i / 128 for i in range(120 * 128)])
    assert len(greedy) == 200
    assert sum(1 for t in greedy if t < 60) == 100
    assert most_in_any(60, greedy) == 100
    assert most_in_any(1, greedy) == 15


def test_retry_after_is_when_the_full_window_frees_up() -> None:
    clock = FakeClock()
    limit = RateLimit(100, 15, clock=clock)
    for _ in range(7):  # 15 a second for 7 seconds would be 105: the minute's 100 run out first
        for _ in range(15):
            limit.admit()
        clock.advance(1)
    assert limit.admit() == "53"  # the first 15 came at 0 s: they leave the minute at 60 s, it is now 7 s
    clock.advance(52.5)
    assert limit.admit() == "1"
    clock.advance(0.5)
    assert limit.admit() is None


def test_get_limit_is_1000_a_minute_without_a_burst_limit() -> None:
    clock = FakeClock()
    limit = RateLimit(1000, clock=clock)
    assert all(limit.admit() is None for _ in range(1000))
    assert limit.admit() == "60"
    clock.advance(59.9)
    assert limit.admit() == "1"
    clock.advance(0.1)
    assert limit.admit() is None


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.integers(min_value=0, max_value=320), min_size=1, max_size=300))
def test_the_limit_admits_exactly_what_the_published_numbers_allow(gaps: list[int]) -> None:
    times = [sum(gaps[: i + 1]) / 128 for i in range(len(gaps))]  # up to 2.5 s apart, often at the same moment
    admitted, refused = offer(times)
    assert most_in_any(60, admitted) <= 100
    assert most_in_any(1, admitted) <= 15
    for at in refused:  # and each refusal was needed: a window was full at that moment
        assert sum(1 for t in admitted if at - 60 < t <= at) >= 100 or sum(1 for t in admitted if at - 1 < t <= at) >= 15


def test_rate_limit_answers_429_beyond_the_burst(session: requests.Session) -> None:
    clock = FakeClock()
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, rate_limit=(60, 3), clock=clock) as inbox:
        statuses = [post(session, inbox).status_code for _ in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        refused = post(session, inbox)
        assert refused.json()["errors"][0]["status"] == 429
        assert refused.json()["errors"][0]["code"] == "hit_rate_limit"
        assert refused.headers["Retry-After"] == "1"
        clock.advance(1.0)  # the burst's second is over
        assert post(session, inbox).status_code == 201
        assert session.get(logs_url(inbox, 1), timeout=TIMEOUT).status_code == 200  # GETs have their own limit
        assert inbox.status_counts == {201: 4, 429: 3, 200: 1}
        assert inbox.count() == 4
        assert [p["time"] for p in inbox.posts] == [clock() - 1.0] * 6 + [clock()]  # stamped by the Inbox's clock


def test_get_rate_limit_answers_429_to_gets_only(session: requests.Session) -> None:
    clock = FakeClock()
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, get_rate_limit=2, clock=clock) as inbox:
        url = logs_url(inbox)
        assert [session.get(url, timeout=TIMEOUT).status_code for _ in range(3)] == [200, 200, 429]
        refused = session.get(url, timeout=TIMEOUT)
        assert refused.headers["Retry-After"] == "60"
        assert "too many GETs" in refused.json()["errors"][0]["detail"]
        assert [post(session, inbox).status_code for _ in range(20)] == [201] * 20  # POSTs are not limited here
        clock.advance(60)
        assert session.get(url, timeout=TIMEOUT).status_code == 200


def test_fail_next_429_with_retry_after_stores_nothing(inbox: Inbox, session: requests.Session) -> None:
    inbox.fail_next(1, 429, retry_after="7")
    response = session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert error_codes(response) == ["hit_rate_limit"]
    assert inbox.count() == 0
    assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
    assert [p["status"] for p in inbox.posts] == [429, 201]


def test_fail_next_counts_any_request_and_queues_in_order(inbox: Inbox, session: requests.Session) -> None:
    inbox.fail_next(2, 503)
    inbox.fail_next(1, 500, body={"custom": True})
    first = session.get(logs_url(inbox), timeout=TIMEOUT)
    assert first.status_code == 503
    assert "Retry-After" not in first.headers
    assert error_codes(first) == ["service_unavailable"]
    assert session.get(f"{inbox.api_url}/nowhere", timeout=TIMEOUT).status_code == 503
    third = session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert (third.status_code, third.json()) == (500, {"custom": True})
    assert session.get(logs_url(inbox), timeout=TIMEOUT).status_code == 200
    assert inbox.connections == 1


def test_reset_faults(inbox: Inbox, session: requests.Session) -> None:
    inbox.fail_next(5, 502)
    inbox.latency = 3.0
    inbox.reset_faults()
    assert inbox.latency == 0.0
    assert session.get(logs_url(inbox), timeout=TIMEOUT).status_code == 200
    with pytest.raises(ValueError):
        inbox.fail_next(1, 99)
    with pytest.raises(ValueError):
        inbox.fail_next(1, 429, retry_after="1\r\nX-Evil: 1")
    with pytest.raises(ValueError):
        inbox.latency = -1


def test_drop_next_makes_requests_raise_connection_error(inbox: Inbox, session: requests.Session) -> None:
    inbox.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT)
    assert inbox.count() == 0
    assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
    assert [p["status"] for p in inbox.posts] == [0, 201]
    assert inbox.connections == 2


def test_chaos_fails_the_share_asked_for_with_each_kind(session: requests.Session) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        # Every other answer comes within milliseconds, far inside the client's 1 s read timeout; a stalled one
        # comes after 2 s, long after it. Stalls are rarer than the other kinds: each costs the client 1 s.
        inbox.chaos(0.5, kinds={"503": 1, "reset": 1, "timeout": 0.2}, seed=3, stall=2.0)
        outcomes: list[str] = []
        for _ in range(60):
            try:
                outcomes.append(str(session.post(logs_url(inbox, 1), json=BODY, timeout=(TIMEOUT, 1.0)).status_code))
            except requests.ConnectionError:
                outcomes.append("reset")
            except requests.Timeout:
                outcomes.append("timeout")
        injected = inbox.faults_injected
        assert set(injected) == {"503", "reset", "timeout"}
        assert 15 <= sum(injected.values()) <= 45  # half of 60, give or take four standard deviations
        assert outcomes.count("503") == injected["503"]
        assert outcomes.count("reset") == injected["reset"]
        assert outcomes.count("timeout") == injected["timeout"]
        # A stalled request is still handled, as by a slow server: the client retrying it makes a duplicate.
        assert inbox.wait_for(outcomes.count("201") + injected["timeout"], timeout=TIMEOUT)


def test_chaos_is_replayable_and_resettable() -> None:
    def run(seed: int) -> list[int]:
        with Inbox(public_key=None, secret_key=None) as inbox, requests.Session() as s:
            inbox.chaos(0.5, kinds={"503": 1}, seed=seed)
            return [post(s, inbox).status_code for _ in range(30)]

    assert run(11) == run(11)
    assert 503 in run(11)
    with Inbox(public_key=None, secret_key=None) as inbox, requests.Session() as s:
        inbox.chaos(1.0, kinds={"503": 1})
        inbox.reset_faults()
        assert post(s, inbox).status_code == 201


@pytest.mark.parametrize(
    ("rate", "kinds", "stall"),
    [(1.5, None, 1.0), (0.5, {"teapot": 1.0}, 1.0), (0.5, {"503": -1.0}, 1.0), (0.5, None, -1.0)],
)
def test_chaos_rejects_nonsense(rate: float, kinds: dict[str, float] | None, stall: float) -> None:
    inbox = Inbox()
    with pytest.raises(ValueError):
        inbox.chaos(rate, kinds=kinds, stall=stall)


@pytest.mark.parametrize(
    "kwargs",
    [{"rate_limit": (0, 15)}, {"rate_limit": (100, 0)}, {"rate_limit": (0.5, 1)}, {"rate_limit": (float("inf"), 1)},
     {"rate_limit": (100, True)}, {"get_rate_limit": 0}, {"get_rate_limit": "1000"}],
)
def test_rate_limit_rejects_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Inbox(**kwargs)  # type: ignore[arg-type]
