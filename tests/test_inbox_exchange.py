"""Which answer the Inbox gives a framed request, without sockets: faults, rate limits, framing, 404, the API."""

from __future__ import annotations

import threading
from typing import Optional

from sendcloud_logging.inbox.exchange import Arrival, await_turn, choose_answer, record_post, split_target
from sendcloud_logging.inbox.faults import Fault, Faults
from sendcloud_logging.inbox.ratelimit import RateLimit
from sendcloud_logging.inbox.responses import Answer, error_answer
from sendcloud_logging.inbox.routes import InboxAPI, Route
from sendcloud_logging.inbox.store import LogStore
from sendcloud_logging.inbox.traffic import Traffic

from .fakes import FakeClock

LOGS = Route("7")
TOKEN = Route(None, token=True)


def arrival(method: str = "POST", route: Optional[Route] = LOGS, framing: Optional[Answer] = None,
            path: str = "/api/v3/integrations/7/logs?x=1") -> Arrival:
    return Arrival(method, path, 12.5, split_target(path), route, b'{"a": 1}', framing)


class API:
    """Stands in for ``InboxRequestHandler._call_api``: answers 201 and remembers what it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[Route, str, Optional[bytes]]] = []

    def __call__(self, route: Route, query: str, body: Optional[bytes]) -> Answer:
        self.calls.append((route, query, body))
        return Answer(201, {"id": 1})


def one_a_minute() -> RateLimit:
    return RateLimit(1, clock=FakeClock())


def test_the_api_answers_a_known_route_with_its_query_and_body() -> None:
    api = API()
    assert choose_answer(arrival(), None, {}, api).status == 201
    assert api.calls == [(LOGS, "x=1", b'{"a": 1}')]


def test_a_fault_comes_first_and_the_rate_limit_does_not_count_it() -> None:
    api, limits = API(), {"POST": one_a_minute()}
    injected = choose_answer(arrival(), Fault(status=502, retry_after="3"), limits, api)
    assert (injected.status, injected.headers) == (502, (("Retry-After", "3"),))
    assert injected.body["errors"][0]["detail"] == "Injected by Inbox.fail_next: HTTP 502 (bad_gateway)"
    assert choose_answer(arrival(), Fault(status=418, body={"x": 1}), limits, api).body == {"x": 1}
    assert choose_answer(arrival(), None, limits, api).status == 201  # the minute's one request is still free
    assert len(api.calls) == 1


def test_over_the_limit_is_429_before_framing_errors_and_404() -> None:
    api, limits = API(), {"POST": one_a_minute()}
    assert choose_answer(arrival(route=None), None, limits, api).status == 404  # counted all the same
    too_long = error_answer(413, "too long", close=True)
    for late in (arrival(), arrival(route=None), arrival(framing=too_long)):
        answer = choose_answer(late, None, limits, api)
        assert (answer.status, answer.headers) == (429, (("Retry-After", "60"),))
        assert "too many POSTs" in answer.body["errors"][0]["detail"]
    assert choose_answer(arrival("GET"), None, limits, api).status == 201  # GETs have their own limit (none here)
    assert len(api.calls) == 1


def test_token_requests_are_not_rate_limited() -> None:
    api, limits = API(), {"POST": one_a_minute()}
    for _ in range(3):
        assert choose_answer(arrival(route=TOKEN, path="/oauth2/token"), None, limits, api).status == 201


def test_a_framing_error_beats_404_and_an_unknown_path_is_named() -> None:
    too_long = error_answer(413, "too long", close=True)
    assert choose_answer(arrival(route=None, framing=too_long), None, {}, API()) is too_long
    missing = choose_answer(arrival("GET", route=None, path="/nowhere?q=1"), None, {}, API())
    assert (missing.status, missing.body["errors"][0]["detail"]) == (404, "No such resource: GET /nowhere")
    unparsable = choose_answer(arrival("GET", route=None, path="http://[::1/x"), None, {}, API())
    assert unparsable.body["errors"][0]["detail"] == "No such resource: GET http://[::1/x"
    assert split_target("http://[::1/x") is None


def test_only_posts_of_logs_are_recorded_with_the_status_they_got() -> None:
    store = LogStore()
    traffic, api = Traffic(), InboxAPI(store, integrations=[7])
    record_post(traffic, api, arrival(), 0)
    record_post(traffic, api, arrival(route=Route("8")), 400)  # not one of the integrations: no id
    record_post(traffic, api, arrival(route=None), 404)
    record_post(traffic, api, arrival("GET"), 200)
    record_post(traffic, api, arrival(route=TOKEN), 200)
    store.close()  # its SQLite connection, or Python 3.13 warns when a later test collects it
    assert traffic.posts == [
        {"time": 12.5, "status": 0, "integration_id": 7, "body": {"a": 1}},
        {"time": 12.5, "status": 400, "integration_id": None, "body": {"a": 1}},
        {"time": 12.5, "status": 404, "integration_id": None, "body": {"a": 1}},
    ]


class Waits(threading.Event):
    """An event whose ``wait`` returns at once: as if its timeout passed, or (``stop``) as if set meanwhile."""

    def __init__(self, *, stop: bool) -> None:
        super().__init__()
        self.stop = stop
        self.waited: list[Optional[float]] = []

    def wait(self, timeout: Optional[float] = None) -> bool:
        self.waited.append(timeout)
        if self.stop:
            self.set()
        return self.stop


def test_a_turn_takes_the_next_fault_and_a_stop_means_no_answer() -> None:
    faults, stopped = Faults(), threading.Event()
    stopped.set()
    faults.add(1, Fault(status=503))
    faults.add(1, Fault(stall=30.0))
    assert await_turn(faults, threading.Event()) == (True, Fault(status=503))
    assert await_turn(faults, stopped) == (False, None)  # stopped before its turn: the fault stays queued
    assert faults.injected == {"fail_next": 1}
    assert await_turn(faults, Waits(stop=False)) == (True, None)  # after the stall: handled as usual, no fault
    assert faults.injected == {"fail_next": 2}
    assert await_turn(faults, threading.Event()) == (True, None)  # nothing left


def test_a_stop_during_a_stall_means_no_answer() -> None:
    faults, closing = Faults(), Waits(stop=True)
    faults.add(1, Fault(stall=30.0))
    assert await_turn(faults, closing) == (False, None)
    assert closing.waited == [30.0]
