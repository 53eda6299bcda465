"""Every request has a total deadline (connect + read timeout), DNS included.

``timeout=(connect, read)`` bounds each socket read only: a server that dribbles a byte now and then would
hold the only sender for ever. Raw-socket servers on 127.0.0.1 dribble the status line, the headers or the
body; a resolver that never answers is ``socket.getaddrinfo`` replaced for one host name.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import types
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from sendcloud_logging import ConnectError, RequestTimeoutError, SendcloudClient, SendcloudHandler, _http
from sendcloud_logging._http import MAX_STUCK, total_deadline
from tests.conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SHOP
from tests.raw_server import RawRequest, RawServer, reply

PAYLOAD = {"base_url": SHOP, "exception": "boom"}
TIMEOUT = (0.25, 0.25)  # a total deadline of 0.5 s
DRIP = 0.05  # seconds between two dribbled bytes: well inside the read timeout


def dribble(prefix: bytes, rest: bytes, closed: list[float]) -> Callable[[RawRequest, socket.socket], None]:
    """Send ``prefix`` at once, then ``rest`` one byte every ``DRIP`` seconds; note when the client hung up."""

    def answer(request: RawRequest, conn: socket.socket) -> None:
        conn.sendall(prefix)
        try:
            for i in range(len(rest)):
                time.sleep(DRIP)
                conn.sendall(rest[i : i + 1])
            conn.sendall(b"\r\n" * 2000)
        except OSError:
            closed.append(time.monotonic())
            raise

    return answer


HEADERS = b"X-Slow: " + b"a" * 400 + b"\r\n"
CASES = {
    "status line": (b"", b"HTTP/1.1 201 Created\r\n" + HEADERS),
    "headers": (b"HTTP/1.1 201 Created\r\n", HEADERS),
    "body": (b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n", b"{" * 400),
}


def request_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sendcloud-logging-request")]


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_total_deadline_is_connect_plus_read() -> None:
    assert total_deadline((3.05, 10)) == pytest.approx(13.05)
    assert total_deadline(2) == 4.0
    assert total_deadline(None) is None


@pytest.mark.parametrize("where", list(CASES))
def test_a_dribbling_server_cannot_hold_a_request_past_its_deadline(where: str) -> None:
    closed: list[float] = []
    prefix, rest = CASES[where]
    with RawServer(dribble(prefix, rest, closed)) as server:
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"{server.url}/api/v3", timeout=TIMEOUT) as client:
            began = time.monotonic()
            with pytest.raises(RequestTimeoutError) as info:
                client.create_log(1, PAYLOAD)
            took = time.monotonic() - began
        assert "total deadline" in str(info.value)
        assert 0.45 < took < 2.0, took
        # the watchdog shut the socket: the server notices at its next byte, and no request thread lingers
        assert wait_for(lambda: bool(closed)), "the connection was never closed"
        assert closed[0] - began < 2.5
        assert wait_for(lambda: not request_threads())


def test_a_shortened_deadline_at_close_bounds_the_whole_request() -> None:
    closed: list[float] = []
    with RawServer(dribble(*CASES["headers"], closed)) as server:
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"{server.url}/api/v3", timeout=(5, 5)) as client:
            began = time.monotonic()
            with pytest.raises(RequestTimeoutError):
                client.create_log(1, PAYLOAD, timeout=0.3)
            assert time.monotonic() - began < 1.5


@pytest.fixture
def silent_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """``getaddrinfo`` for ``never.test`` waits until the returned event is set, then answers 127.0.0.1."""
    release = threading.Event()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "never.test":
            release.wait(10)
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield release
    release.set()


def test_a_resolver_that_never_answers_costs_the_deadline_and_sends_nothing_later(
    silent_resolver: threading.Event,
) -> None:
    with RawServer(lambda r, c: reply(c, 201, b"{}")) as server:
        url = f"http://never.test:{server.port}/api/v3"
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=url, timeout=TIMEOUT, allow_insecure_http=True) as client:
            began = time.monotonic()
            with pytest.raises(RequestTimeoutError) as info:
                client.create_log(1, PAYLOAD)
            assert time.monotonic() - began < 2.0
            assert "never.test" in str(info.value) and "resolving" in str(info.value)
            silent_resolver.set()  # the resolver answers at last: the abandoned request must not go out
            assert wait_for(lambda: not request_threads())
        assert server.requests == []


def test_the_handler_counts_a_dribbled_attempt_as_failed_and_retries_it() -> None:
    closed: list[float] = []
    with RawServer(dribble(*CASES["headers"], closed)) as server:
        handler = SendcloudHandler(
            integration_id=INTEGRATION_ID, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
            api_url=f"{server.url}/api/v3", base_url=SHOP, timeout=TIMEOUT, max_retries=1, max_backoff=0.01,
            summary_window=0,
        )
        log = logging.getLogger("tests.deadline")
        log.propagate = False
        log.addHandler(handler)
        try:
            began = time.monotonic()
            log.error("boom")
            assert handler.flush(10)
            took = time.monotonic() - began
            stats = handler.stats()
        finally:
            log.removeHandler(handler)
            handler.close()
        assert len(server.requests) == 2  # the first attempt and its retry
    assert stats["retried"] == 1 and stats["dropped"] == {"retries_exhausted": 1}
    assert took < 4.0, took


def test_a_quick_answer_is_not_slowed_by_the_deadline_thread() -> None:
    with RawServer(lambda r, c: reply(c, 201, b'{"data": {"id": 1}}', {"Content-Type": "application/json"})) as server:
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"{server.url}/api/v3", timeout=TIMEOUT) as client:
            for _ in range(20):
                assert client.create_log(1, PAYLOAD) == {"id": 1}
        assert server.connections == 1
    assert wait_for(lambda: not request_threads())


def test_a_resolver_that_never_answers_costs_a_few_threads_not_one_per_attempt(
    silent_resolver: threading.Event,
) -> None:
    url = "http://never.test:9/api/v3"
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=url, timeout=(0.05, 0.05), allow_insecure_http=True) as client:
        errors = []
        for _ in range(MAX_STUCK + 3):
            with pytest.raises((RequestTimeoutError, ConnectError)) as info:
                client.create_log(1, PAYLOAD)
            errors.append(info.value)
        assert len(request_threads()) == MAX_STUCK
        assert [type(e) for e in errors[MAX_STUCK:]] == [ConnectError] * 3
        assert "still stuck" in str(errors[-1])
        silent_resolver.set()
        assert wait_for(lambda: not request_threads())


def test_where_no_thread_may_start_the_request_runs_on_the_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12+ refuses new threads while the interpreter shuts down, when logging.shutdown() delivers."""

    class Refused(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't create new thread at interpreter shutdown")

    names = ("Lock", "Event", "enumerate", "local")
    shutting_down = types.SimpleNamespace(Thread=Refused, **{name: getattr(threading, name) for name in names})
    with RawServer(lambda r, c: reply(c, 201, b'{"data": {"id": 2}}', {"Content-Type": "application/json"})) as server:
        with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url=f"{server.url}/api/v3", timeout=TIMEOUT) as client:
            monkeypatch.setattr(_http, "threading", shutting_down)
            assert client.create_log(1, PAYLOAD) == {"id": 2}
        assert len(server.requests) == 1


def test_one_request_thread_serves_a_session_s_requests_one_after_the_other_then_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.fakes import FakeTransport, created

    monkeypatch.setattr(_http, "RUNNER_IDLE", 0.3, raising=False)
    served: list[int] = []

    def answer(request: Any) -> Any:
        served.append(threading.get_ident())
        return created(request)

    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url="https://api.example/api/v3",
                         transport=FakeTransport(answer)) as client:
        for _ in range(5):
            client.create_log(1, PAYLOAD)
    assert len(served) == 5
    assert len(set(served)) == 1  # no thread started per request
    assert threading.get_ident() not in served  # still off the caller's thread: the deadline holds
    assert wait_for(lambda: not request_threads())  # and it ends once idle
