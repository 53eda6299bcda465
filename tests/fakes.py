"""Test doubles for the project's own seams: requests' transport adapter and the clocks.

``FakeTransport`` plays the part of httpx's ``MockTransport``: it is mounted on the client's
``requests.Session`` (``SendcloudClient(transport=...)``) and answers every prepared request with what a
handler function returns, so the client, sender and policy run without a socket.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict


@dataclass
class Reply:
    """What the fake server answers: a status, headers and a body (bytes, text, or JSON-able data)."""

    status: int = 201
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def content(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def created(request: requests.PreparedRequest) -> Reply:
    """The API's 201 for a POST: the log echoed back under ``data``."""
    body = json.loads(request.body or b"{}") if request.method == "POST" else {}
    return Reply(201, {"data": {"id": 1, **body}}, {"Content-Type": "application/json"})


def api_error(status: int, code: str = "error", detail: str = "", **headers: str) -> Reply:
    """A JSON:API error body as the API sends it."""
    body = {"errors": [{"status": status, "code": code, "detail": detail or code}]}
    return Reply(status, body, {"Content-Type": "application/json", **headers})


Handler = Callable[[requests.PreparedRequest], Union[Reply, BaseException]]


class FakeTransport(requests.adapters.BaseAdapter):
    """A requests transport adapter that answers with ``handler(request)``: a ``Reply``, or an exception to raise.

    Every request is kept in ``requests`` (in order) for assertions.
    """

    def __init__(self, handler: Handler = created) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []
        self._lock = threading.Lock()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        with self._lock:
            self.requests.append(request)
        answer = self.handler(request)
        if isinstance(answer, BaseException):
            raise answer
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.raw = io.BytesIO(answer.content())
        response.url = request.url or ""
        response.request = request
        response.reason = "Fake"
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        return None

    def bodies(self) -> list[Any]:
        """The JSON bodies of the POSTs seen so far."""
        with self._lock:
            return [json.loads(r.body or b"null") for r in self.requests if r.method == "POST"]


class FakeClock:
    """A clock that moves only when told: ``clock()`` reads it, ``advance(s)`` moves it on."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: Optional[float]) -> None:
        """A ``time.sleep`` stand-in: time passes at once."""
        if seconds:
            self.advance(seconds)
