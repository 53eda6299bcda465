"""The Inbox's connections: keep-alive, refusing and accepting, latency per connection, a quick stop."""

from __future__ import annotations

import gc
import socket
import threading

import pytest
import requests

from sendcloud_logging.inbox import Inbox

from .conftest import AUTH, TIMEOUT, logs_url, within


def test_keep_alive_serves_many_requests_on_one_connection(inbox: Inbox, session: requests.Session) -> None:
    for i in range(10):
        assert session.post(logs_url(inbox, 1), json={"base_url": f"https://s{i}.example"}, timeout=TIMEOUT).status_code == 201
    assert inbox.connections == 1
    assert inbox.requests == 10


def test_connection_close_is_honoured(inbox: Inbox, session: requests.Session) -> None:
    response = session.get(logs_url(inbox), headers={"Connection": "close"}, timeout=TIMEOUT)
    assert response.headers["Connection"] == "close"
    session.get(logs_url(inbox), timeout=TIMEOUT)
    assert inbox.connections == 2


def test_refuse_then_accept_on_the_same_port(inbox: Inbox, session: requests.Session) -> None:
    port, url = inbox.port, inbox.api_url
    assert session.get(logs_url(inbox), timeout=TIMEOUT).status_code == 200  # a keep-alive connection is open
    inbox.refuse()
    with pytest.raises(requests.ConnectionError):
        session.get(logs_url(inbox), timeout=TIMEOUT)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        pass
    inbox.accept()
    inbox.accept()  # no-op while serving
    assert (inbox.port, inbox.api_url) == (port, url)
    assert session.post(logs_url(inbox, 1), json={"base_url": "https://x.example"}, timeout=TIMEOUT).status_code == 201
    assert inbox.count() == 1


def test_refuse_and_accept_need_a_started_inbox() -> None:
    inbox = Inbox()
    with pytest.raises(RuntimeError):
        inbox.refuse()
    with pytest.raises(RuntimeError):
        inbox.accept()


def test_latency_holds_each_connection_without_blocking_the_others(inbox: Inbox) -> None:
    inbox.latency = 60.0
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        with requests.Session() as s:
            response = s.get(logs_url(inbox), auth=AUTH, timeout=TIMEOUT)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert inbox.wait_for_requests(4, timeout=TIMEOUT)  # all four read while each is held: none waits for another
    with lock:
        assert statuses == []
    inbox.latency = 0.0
    for thread in threads:
        thread.join(TIMEOUT)
    assert statuses == [200] * 4
    assert inbox.connections == 4


def test_lowering_the_latency_releases_waiting_requests(inbox: Inbox) -> None:
    inbox.latency = 60.0
    statuses: list[int] = []

    def call() -> None:
        with requests.Session() as s:
            statuses.append(s.get(logs_url(inbox), auth=AUTH, timeout=TIMEOUT).status_code)

    thread = threading.Thread(target=call)
    thread.start()
    assert inbox.wait_for_requests(1, timeout=TIMEOUT)  # read, and waiting
    assert not inbox.wait_for_requests(2, timeout=0)
    inbox.latency = 0.0
    thread.join(TIMEOUT)
    assert statuses == [200]  # answered at once, not after the minute it arrived under


def test_stop_is_quick_while_a_handler_sleeps_in_latency() -> None:
    inbox = Inbox(public_key=None, secret_key=None).start()
    inbox.latency = 3600.0
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            with requests.Session() as s:
                s.get(logs_url(inbox), timeout=(TIMEOUT, 3600.0))
        except requests.RequestException as exc:
            outcome.append(exc)

    before = set(threading.enumerate())
    thread = threading.Thread(target=call)
    thread.start()
    assert inbox.wait_for_requests(1, timeout=TIMEOUT)  # it is read, and waits in latency
    handlers = set(threading.enumerate()) - before - {thread}  # the Inbox's thread serving that connection
    assert handlers
    # Everything here would wait an hour unless stop() cuts it short: the bounds are hang guards.
    within(TIMEOUT, inbox.stop)
    for waiting in (thread, *handlers):
        waiting.join(TIMEOUT)
        assert not waiting.is_alive()  # the client was hung up on, and the sleeping handler woke and ended
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.ConnectionError)  # no answer
    inbox.stop()  # idempotent
    inbox.start()  # and it can serve again, on the same port
    inbox.latency = 0
    with requests.Session() as s:
        assert s.get(logs_url(inbox), timeout=TIMEOUT).status_code == 200
    inbox.stop()


def test_an_inbox_dropped_without_stop_is_stopped_when_collected() -> None:
    inbox = Inbox().start()
    port = inbox.port
    del inbox
    gc.collect()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        pass
