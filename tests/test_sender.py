"""The sender stage on a fake clock and a fake transport: pacing, pauses, the breaker, refusals, chaos.

``Sender.step()`` claims at most one entry and says how long to wait; ``drive`` plays the sender thread by
moving the fake clock on by that much, so minutes of retries and outages take milliseconds and every wait
is known exactly.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import requests

from sendcloud_logging import SendcloudClient
from sendcloud_logging._delivery.outbox import Entry, MemoryOutbox, Outbox
from sendcloud_logging._delivery.policy import DeliveryPolicy, no_jitter
from sendcloud_logging._delivery.sender import STORE_RETRY, Sender
from sendcloud_logging._delivery.spool import SpoolOutbox
from sendcloud_logging._delivery.stats import Stats
from sendcloud_logging.inbox.ratelimit import RateLimit
from tests.conftest import delivery_policy
from tests.fakes import FakeClock, FakeTransport, Reply, api_error, created

API = "https://api.test/api/v3"
SHOP = "https://shop.example"


@dataclass
class Call:
    """One request the fake API saw, at fake-clock time."""

    time: float
    method: str
    url: str
    status: int
    body: Any = None


@dataclass
class FakeAPI:
    """Answers with ``answer(request)`` (default 201) and keeps every call with the clock's time."""

    clock: FakeClock
    answer: Callable[[requests.PreparedRequest], Any] = created
    calls: list[Call] = field(default_factory=list)

    def __call__(self, request: requests.PreparedRequest) -> Any:
        reply = self.answer(request)
        body = json.loads(request.body) if request.method == "POST" and request.body else None
        status = reply.status if isinstance(reply, Reply) else 0
        self.calls.append(Call(self.clock(), str(request.method), str(request.url), status, body))
        return reply

    def posts(self, status: Optional[int] = None) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and (status is None or c.status == status)]

    def probes(self) -> list[Call]:
        return [c for c in self.calls if c.method == "GET"]


@dataclass
class Rig:
    sender: Sender
    outbox: Outbox
    stats: Stats
    clock: FakeClock  # monotonic: the sender's and the memory outbox's
    wall: FakeClock  # wall-clock time: the spool's
    api: FakeAPI

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.wall.advance(seconds)

    def add(self, n: int = 1, integration_id: int = 9, text: str = "log") -> None:
        for i in range(n):
            self.outbox.add(integration_id, {"base_url": SHOP, "exception": f"{text} {i}"}, 1_700_000_000.0 + i)

    def drive(self, *, until: Optional[Callable[[], bool]] = None, steps: int = 200_000) -> None:
        """Run the sender as its thread would, the fake clock standing in for every wait."""
        for _ in range(steps):
            if until is not None and until():
                return
            wait = self.sender.step()
            if wait is None:
                if until is None:
                    return
                raise AssertionError(f"idle before the condition held; stats {self.stats.snapshot()}")
            self.advance(wait)
        raise AssertionError(f"did not settle in {steps} steps; stats {self.stats.snapshot()}")

    def settle(self) -> None:
        self.drive(until=lambda: self.outbox.unsettled() == 0)


def quiet(**changes: Any) -> DeliveryPolicy:
    """A policy without rate limit or jitter unless told otherwise."""
    options: dict[str, Any] = {"rate_limit_per_minute": None, "rand": no_jitter, **changes}
    return delivery_policy(**options)


def rig(
    answer: Callable[[requests.PreparedRequest], Any] = created,
    *,
    policy: Optional[DeliveryPolicy] = None,
    outbox: Optional[Callable[[FakeClock, FakeClock], Outbox]] = None,
    account_of: Optional[Callable[[Any], Hashable]] = None,
) -> Rig:
    """A sender on fake clocks; ``outbox`` builds a spool on the wall clock it is given."""
    clock, wall = FakeClock(1_000.0), FakeClock(1_700_000_000.0)
    api = FakeAPI(clock, answer)
    transport = FakeTransport(api)
    box = outbox(wall, clock) if outbox is not None else MemoryOutbox(10_000, clock=clock)
    stats = Stats()
    sender = Sender(
        lambda: SendcloudClient("pk", "sk", api_url=API, transport=transport),
        box,
        stats,
        policy or quiet(),
        account_of=account_of,
        clock=clock,
    )
    return Rig(sender, box, stats, clock, wall, api)


def test_entries_are_sent_and_counted() -> None:
    r = rig()
    r.add(3)
    r.drive()
    assert [c.body["exception"] for c in r.api.posts()] == ["log 0", "log 1", "log 2"]
    assert r.stats.snapshot()["sent"] == 3
    assert r.sender.step() is None  # nothing left: the thread sleeps until woken


def test_a_summary_goes_out_with_its_count() -> None:
    r = rig()
    ref = r.outbox.add(9, {"base_url": SHOP, "exception": "down"}, 1_700_000_000.0, hold_for=60)
    r.outbox.fold(ref, 1_700_000_030.0, {"base_url": SHOP, "exception": "still down"})
    assert r.sender.step() == 60.0  # held until its window closes
    r.advance(60)
    r.drive()
    (post,) = r.api.posts()
    assert post.body["exception"].startswith("still down (+1 more like this between ")
    assert r.stats.snapshot()["summaries_sent"] == 1


def test_429_with_retry_after_pauses_all_sending() -> None:
    answers = iter([api_error(429, "throttled", **{"Retry-After": "2"})])
    r = rig(lambda request: next(answers, None) or created(request))
    r.add(3)
    t0 = r.clock()
    r.settle()
    assert [c.status for c in r.api.posts()] == [429, 201, 201, 201]
    assert [c.time - t0 for c in r.api.posts()] == [0.0, 2.0, 2.0, 2.0]  # nothing went during the pause
    stats = r.stats.snapshot()
    assert (stats["rate_limited"], stats["retried"], stats["sent"]) == (1, 1, 3)
    assert stats["dropped_total"] == 0


def test_429_without_retry_after_backs_off_on_its_own() -> None:
    answers = iter([api_error(429), api_error(429), api_error(429)])
    r = rig(lambda request: next(answers, None) or created(request), policy=quiet(max_backoff=3.0))
    r.add(1)
    t0 = r.clock()
    r.settle()
    assert [c.status for c in r.api.posts()] == [429, 429, 429, 201]
    assert [c.time - t0 for c in r.api.posts()] == [0.0, 1.0, 3.0, 6.0]  # 1 s, 2 s, then capped at 3 s
    assert r.stats.snapshot()["rate_limited"] == 3
    assert r.outbox.unsettled() == 0


def test_a_success_resets_the_429_backoff() -> None:
    answers = iter([api_error(429), created, api_error(429)])

    def answer(request: requests.PreparedRequest) -> Any:
        reply = next(answers, created)
        return reply(request) if callable(reply) else reply

    r = rig(answer)
    r.add(2)
    t0 = r.clock()
    r.settle()
    assert [c.time - t0 for c in r.api.posts()] == [0.0, 1.0, 1.0, 2.0]  # a second pause of 1 s, not 2


def test_an_outage_opens_the_breaker_and_a_probe_resumes() -> None:
    down = True

    def answer(request: requests.PreparedRequest) -> Any:
        if down:
            return requests.ConnectionError("connection refused")
        return Reply(200, {"data": []}) if request.method == "GET" else created(request)

    policy = quiet(max_retries=3, max_backoff=2.0, breaker_threshold=5, breaker_cooldown=0.5,
                   rand=random.Random(3).random)
    r = rig(answer, policy=policy)
    r.add(50, text="during outage")
    t0 = r.clock()
    r.drive(until=lambda: r.clock() - t0 >= 600)  # ten minutes of outage, in fake time
    posts = r.api.posts()
    probes = posts[5:]  # the threshold; then one real POST per (doubled, capped) cooldown
    probe_gaps = [b.time - a.time for a, b in zip(probes, probes[1:])]
    assert probe_gaps[:2] == [1.0, 2.0]
    assert set(probe_gaps[2:]) == {2.0}
    assert len(posts) == 5 + 1 + len(probe_gaps)
    assert r.api.probes() == []  # no GET: the half-open circuit lets one POST through
    assert r.stats.snapshot()["dropped_total"] == 0  # an outage of any length costs no attempt
    assert r.sender.last_error.endswith("(POST https://api.test/api/v3/integrations/9/logs)")
    down = False
    up = r.clock()
    r.settle()
    after = [c for c in r.api.calls if c.time >= up]
    assert after[0].method == "POST" and after[0].status == 201  # the probe was a log, then the rest followed
    assert after[0].time - up <= policy.pause_cap
    assert sorted(c.body["exception"] for c in r.api.posts(201)) == sorted(f"during outage {i}" for i in range(50))
    stats = r.stats.snapshot()
    assert stats["sent"] == 50
    assert stats["dropped_total"] == 0


@pytest.mark.parametrize("list_answer", [
    requests.ConnectionError("the list endpoint is down"),
    Reply(500, "list broken"),
    Reply(404, "<html>no list here</html>"),
    Reply(429, "slow down"),
])
def test_the_breaker_closes_when_posts_work_although_the_list_endpoint_fails(list_answer: Any) -> None:
    down = True

    def answer(request: requests.PreparedRequest) -> Any:
        if request.method == "GET":
            return list_answer
        return api_error(503, "unavailable") if down else created(request)

    policy = quiet(max_retries=3, max_backoff=2.0, breaker_threshold=3, breaker_cooldown=0.5)
    r = rig(answer, policy=policy)
    r.add(10, text="held")
    t0 = r.clock()
    r.drive(until=lambda: r.clock() - t0 >= 30)
    down = False
    up = r.clock()
    r.settle()
    assert r.stats.snapshot()["sent"] == 10
    assert r.stats.snapshot()["dropped_total"] == 0
    assert r.clock() - up <= policy.pause_cap + 1
    assert r.api.probes() == []


def test_a_half_open_post_that_the_api_refuses_still_closes_the_circuit() -> None:
    """A 400 for the probe's log is an answer: the API is up, the circuit closes, the others go at once."""
    answers = iter([api_error(503)] * 3 + [api_error(400, "invalid")])

    def answer(request: requests.PreparedRequest) -> Any:
        return next(answers, None) or created(request)

    r = rig(answer, policy=quiet(max_retries=5, breaker_threshold=3, breaker_cooldown=0.5))
    r.add(4)
    r.settle()
    stats = r.stats.snapshot()
    assert stats["sent"] == 3 and stats["dropped"] == {"rejected": 1}
    statuses = [c.status for c in r.api.posts()]
    assert statuses == [503, 503, 503, 400, 201, 201, 201]
    assert r.api.posts()[-1].time - r.api.posts()[3].time == 0.0  # closed: no cooldown after the answer


@pytest.mark.parametrize("retry_after", ["86400", "3600", "Wed, 21 Oct 2099 07:28:00 GMT", "99999999999999"])
def test_a_huge_retry_after_is_capped_at_max_backoff(retry_after: str) -> None:
    answers = iter([api_error(429, "throttled", **{"Retry-After": retry_after})])

    def answer(request: requests.PreparedRequest) -> Any:
        return next(answers, None) or created(request)

    policy = quiet(max_backoff=7.0)
    r = rig(answer, policy=policy)
    r.add(2)
    t0 = r.clock()
    r.settle()
    assert [c.time - t0 for c in r.api.posts()] == [0.0, 7.0, 7.0]
    assert r.stats.snapshot()["sent"] == 2


def test_every_record_survives_a_flaky_api() -> None:
    """30% of requests fail (503, reset, or a timeout after the API stored the log); none is lost."""
    chaos = random.Random(7)
    stored: list[str] = []  # logs the API kept although the client saw a timeout

    def answer(request: requests.PreparedRequest) -> Any:
        if chaos.random() >= 0.3:
            return Reply(200, {"data": []}) if request.method == "GET" else created(request)
        kind = chaos.random()
        if kind < 0.45:
            return api_error(503, "unavailable")
        if kind < 0.9:
            return requests.ConnectionError("connection reset by peer")
        if request.method == "POST":
            stored.append(json.loads(request.body or b"{}")["exception"])
        return requests.ReadTimeout("read timed out")

    r = rig(answer, policy=quiet(max_retries=10, max_backoff=0.5, rand=random.Random(11).random))
    n = 5000
    r.add(n, text="distinct record")
    r.settle()
    received = Counter([c.body["exception"] for c in r.api.posts(201)] + stored)
    missing = {f"distinct record {i}" for i in range(n)} - set(received)
    duplicates = sum(c - 1 for c in received.values())
    stats = r.stats.snapshot()
    assert not missing, f"{len(missing)} records lost; stats {stats}"
    assert duplicates <= len(stored)  # at least once: only a lost answer makes a duplicate
    assert stats["sent"] == n
    assert stats["dropped_total"] == 0
    assert stats["retried"] > 0.3 * n  # the chaos really happened


def test_retries_are_bounded_and_counted_as_failed() -> None:
    r = rig(lambda request: api_error(502), policy=quiet(max_retries=2, breaker_threshold=100))
    r.add(1)
    t0 = r.clock()
    r.settle()
    assert [c.time - t0 for c in r.api.posts()] == [0.0, 0.5, 1.5]  # backoff 0.5 s, then 1 s (no jitter)
    stats = r.stats.snapshot()
    assert stats["dropped"] == {"retries_exhausted": 1}
    assert (stats["retried"], stats["failed"]) == (2, 1)


def test_refused_credentials_without_a_spool_drop_logs_for_a_while(capsys: pytest.CaptureFixture[str]) -> None:
    refusing = True
    r = rig(lambda request: api_error(401, "authentication_failed") if refusing else created(request),
            policy=quiet(auth_retry=60.0))
    r.add(5)
    r.drive()
    assert len(r.api.posts()) == 1  # the others are dropped without asking again
    assert r.stats.snapshot()["dropped"] == {"unauthorized": 5}
    err = capsys.readouterr().err
    assert err.count("sendcloud-logging:") == 1
    assert "authentication_failed" in err
    assert "credentials callable" in err
    refusing = False
    r.add(1, text="too soon")
    r.advance(59.0)
    r.drive()
    assert len(r.api.posts()) == 1
    r.add(1, text="later")
    r.advance(1.0)
    r.drive()
    assert [c.body["exception"] for c in r.api.posts(201)] == ["later 0"]
    assert r.stats.snapshot()["dropped"] == {"unauthorized": 6}


def test_refused_credentials_with_a_spool_hold_the_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refusing = True
    r = rig(
        lambda request: api_error(401, "authentication_failed") if refusing else created(request),
        policy=quiet(auth_retry=60.0, hold_on_auth_failure=True),
        outbox=lambda wall, mono: SpoolOutbox(str(tmp_path / "auth.sqlite"), 10_000_000, 3600, clock=wall,
                                              monotonic=mono),
    )
    r.add(3)
    t0 = r.clock()
    r.drive(until=lambda: r.clock() - t0 >= 59.0)
    assert len(r.api.posts()) == 1  # one refusal pauses the account; no entry is dropped or spent
    assert r.stats.snapshot()["dropped_total"] == 0
    assert r.outbox.unsettled() == 3
    refusing = False  # the next deploy's key, or the account unlocked
    r.settle()
    assert r.api.posts()[1].time - t0 == 60.0
    assert sorted(c.body["exception"] for c in r.api.posts(201)) == ["log 0", "log 1", "log 2"]
    err = capsys.readouterr().err
    assert err.count("refused the credentials") == 1
    assert "spooled logs wait" in err
    r.outbox.close()


def test_an_unknown_integration_is_dropped_and_not_asked_again() -> None:
    r = rig(lambda request: api_error(404, "not_found") if "/integrations/7/" in str(request.url) else created(request))
    r.add(2, integration_id=7, text="seven")
    r.add(1, integration_id=8, text="eight")
    r.add(1, integration_id=7, text="seven again")
    r.drive()
    assert [c.body["exception"] for c in r.api.posts()] == ["seven 0", "eight 0"]
    assert r.stats.snapshot()["dropped"] == {"unknown_integration": 3}
    assert r.stats.snapshot()["sent"] == 1


def test_a_rejected_log_is_dropped_and_reported_once(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([api_error(400, "invalid", "bad field"), api_error(400, "invalid", "bad field")])
    r = rig(lambda request: next(answers, None) or created(request))
    r.add(3)
    r.drive()
    assert r.stats.snapshot()["dropped"] == {"rejected": 2}
    assert len(r.api.posts(201)) == 1
    err = capsys.readouterr().err
    assert sum("rejected" in line for line in err.splitlines()) == 1
    assert "bad field" in err


def test_a_payload_that_cannot_be_encoded_drops_only_itself() -> None:
    r = rig()
    r.outbox.add(9, {"base_url": SHOP, "exception": float("nan")}, 1_700_000_000.0)
    r.add(1)
    r.drive()
    assert r.stats.snapshot()["dropped"] == {"payload_error": 1}
    assert [c.body["exception"] for c in r.api.posts()] == ["log 0"]


def test_an_unexpected_error_in_the_transport_drops_only_its_entry() -> None:
    answers = iter([RuntimeError("a bug below the client")])
    r = rig(lambda request: next(answers, None) or created(request))
    r.add(2)
    r.drive()
    assert r.stats.snapshot()["dropped"] == {"payload_error": 1}
    assert r.stats.snapshot()["sent"] == 1


def test_an_unusable_url_at_send_time_is_dropped_not_retried() -> None:
    r = rig()
    r.outbox.add("not-a-number", {"base_url": SHOP}, 1_700_000_000.0)
    r.drive()
    assert r.stats.snapshot()["dropped"] == {"misconfigured": 1}
    assert r.api.calls == []


def test_each_account_is_paced_and_refused_on_its_own() -> None:
    def answer(request: requests.PreparedRequest) -> Any:
        return api_error(401) if "/integrations/3/" in str(request.url) else created(request)

    accounts = {1: "shop-a", 2: "shop-b", 3: "shop-c"}
    r = rig(answer, policy=quiet(rate_limit_per_minute=60.0, rate_limit_burst=2), account_of=accounts.__getitem__)
    r.add(10, integration_id=1, text="a")
    r.add(3, integration_id=2, text="b")
    r.add(2, integration_id=3, text="c")
    t0 = r.clock()
    r.settle()
    times = {iid: [c.time - t0 for c in r.api.posts() if f"/integrations/{iid}/" in c.url] for iid in (1, 2, 3)}
    assert times[1] == [float(s // 2) for s in range(10)]  # two in any second (the burst), 60 a minute
    assert times[2] == [0.0, 0.0, 1.0]  # not held up behind account A's backlog
    assert times[3] == [0.0]  # refused once; its second log is dropped, the others carry on
    stats = r.stats.snapshot()
    assert stats["sent"] == 13
    assert stats["dropped"] == {"unauthorized": 2}


def test_an_account_that_cannot_be_told_is_paced_on_its_own() -> None:
    def account_of(integration_id: Any) -> Hashable:
        raise LookupError("no such merchant")

    r = rig(policy=quiet(rate_limit_per_minute=60.0, rate_limit_burst=1), account_of=account_of)
    r.add(1, integration_id=1)
    r.add(1, integration_id=2)
    r.settle()
    assert [c.time for c in r.api.posts()] == [r.api.posts()[0].time] * 2


def test_the_rate_limit_never_goes_above_100_a_minute_with_bursts_of_15() -> None:
    """The API's published counts, on the fake clock: 100 in any 60 s, 15 in any second, and no slower."""
    r = rig(policy=quiet(rate_limit_per_minute=100.0, rate_limit_burst=15))
    r.add(400)
    t0 = r.clock()
    r.settle()
    times = [c.time - t0 for c in r.api.posts()]
    assert len(times) == 400
    for i, start in enumerate(times):
        assert sum(start <= t < start + 60 for t in times[i:]) <= 100, i
        assert sum(start <= t < start + 1 for t in times[i:i + 16]) <= 15, i
    assert times[:100] == [float(n // 15) for n in range(100)]  # bursts of 15, a second apart, 100 in all
    assert all(times[n + 100] == pytest.approx(times[n] + 60) for n in range(300))  # then as the minute frees
    clock = FakeClock(0.0)
    replay = RateLimit(100, 15, clock=clock)  # the Inbox's own count of the same POSTs refuses none
    for t in times:
        clock.advance(t - clock())
        assert replay.admit() is None, t


def test_an_outbox_that_fails_is_tried_again_later(caplog: pytest.LogCaptureFixture) -> None:
    class LockedOnce(MemoryOutbox):
        failures = 1

        def claim(self) -> Optional[Entry]:
            if self.failures:
                self.failures -= 1
                raise sqlite3.OperationalError("database is locked")
            return super().claim()

    r = rig(outbox=lambda wall, mono: LockedOnce(100, clock=wall))
    r.add(1)
    assert r.sender.step() == STORE_RETRY
    assert "database is locked" in caplog.text
    assert r.sender.last_error == "spool: database is locked"
    r.drive()
    assert r.stats.snapshot()["sent"] == 1


def test_finish_counts_what_is_left_and_a_late_answer_is_not_sent(capsys: pytest.CaptureFixture[str]) -> None:
    r = rig(lambda request: requests.ConnectionError("refused"), policy=quiet(breaker_threshold=1))
    r.add(3)
    r.sender.step()
    left, kept = r.sender.finish(2, 5.0, release=True)
    assert (left, kept) == (5, 0)
    stats = r.stats.snapshot()
    assert stats["dropped"] == {"shutdown": 5}
    err = capsys.readouterr().err
    assert "5 log(s) were not delivered: shutdown_timeout of 5 s passed; last error: the connection to api.test:443" in err
    r.api.answer = created
    r.advance(10)
    r.drive()
    assert r.stats.snapshot()["sent"] == 0  # counted as shutdown already


def test_while_closing_no_request_outlives_the_deadline() -> None:
    timeouts: list[Any] = []

    class Recording(FakeTransport):
        def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,  # type: ignore[override]
                 verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
            timeouts.append(timeout)
            return super().send(request, stream, timeout, verify, cert, proxies)

    clock = FakeClock(100.0)
    transport = Recording()
    outbox = MemoryOutbox(10, clock=clock)
    sender = Sender(lambda: SendcloudClient("pk", "sk", api_url=API, transport=transport), outbox, Stats(), quiet(),
                    clock=clock)
    outbox.add(9, {"base_url": SHOP}, 1.0)
    outbox.add(9, {"base_url": SHOP}, 1.0)
    sender.step()
    sender.closing(101.5)
    sender.step()
    assert timeouts[0] == (3.05, 10.0)  # the client's own
    assert timeouts[1] == (1.5, 1.5)  # what is left of the shutdown budget
