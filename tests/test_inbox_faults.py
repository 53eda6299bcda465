"""The Inbox's rate limit and chaos, which the delivery scenarios rely on."""

from __future__ import annotations

import time

import pytest
import requests

from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY

BODY = {"base_url": "https://shop.example"}


def post(session: requests.Session, inbox: Inbox, timeout: float = 5.0) -> requests.Response:
    return session.post(f"{inbox.api_url}/integrations/1/logs", json=BODY, timeout=timeout)


@pytest.fixture
def session() -> requests.Session:
    with requests.Session() as s:
        s.auth = (PUBLIC_KEY, SECRET_KEY)
        yield s


def test_rate_limit_answers_429_beyond_the_burst(session: requests.Session) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, rate_limit=(60, 3)) as inbox:
        statuses = [post(session, inbox).status_code for _ in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        refused = post(session, inbox)
        assert refused.json()["errors"][0]["status"] == 429
        assert refused.headers["Retry-After"] == "1"
        time.sleep(1.05)  # one token a second
        assert post(session, inbox).status_code == 201
        assert session.get(f"{inbox.api_url}/integrations/1/logs").status_code == 200  # GETs are not limited
        assert inbox.status_counts == {201: 4, 429: 3, 200: 1}
        assert inbox.count() == 4


def test_chaos_fails_the_share_asked_for_with_each_kind(session: requests.Session) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as inbox:
        inbox.chaos(0.5, kinds={"503": 1, "reset": 1, "timeout": 1}, seed=3, stall=0.3)
        outcomes: list[str] = []
        for _ in range(120):
            try:
                outcomes.append(str(post(session, inbox, timeout=0.1).status_code))
            except requests.ConnectionError:
                outcomes.append("reset")
            except requests.Timeout:
                outcomes.append("timeout")
        injected = inbox.faults_injected
        assert set(injected) == {"503", "reset", "timeout"}
        assert 35 <= sum(injected.values()) <= 85
        assert outcomes.count("503") == injected["503"]
        assert outcomes.count("reset") == injected["reset"]
        assert outcomes.count("timeout") == injected["timeout"]
        # A stalled request is still handled, as by a slow server: the client retrying it makes a duplicate.
        assert inbox.wait_for(outcomes.count("201") + injected["timeout"], timeout=5)


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


def test_rate_limit_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Inbox(rate_limit=(0, 15))
    with pytest.raises(ValueError):
        Inbox(rate_limit=(100, 0))
