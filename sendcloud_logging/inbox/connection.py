"""One connection of the Inbox: HTTP/1.1 keep-alive framing, bounded body reads, JSON answers.

``InboxRequestHandler`` reads one request at a time and checks it (``guard``: well-formed header lines, a
Host of this Inbox, no foreign Origin, JSON for a log's POST); then a page route goes to ``web`` and an API
route to ``exchange`` (latency, faults, rate limits, which answer) and ``routes`` (the API), and it writes
the answer. A body must arrive within ``body_timeout`` seconds in all, however it trickles. It serves an
``InboxHTTPServer`` (``server.py``), which passes it to the stdlib as its request handler class.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import socket
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler
from typing import Any, Optional, Union

from .exchange import Arrival, await_turn, choose_answer, record_post, split_target
from .guard import header_problem, is_json
from .responses import Answer, code_for, error_answer
from .routes import Request, Route
from .server import InboxHTTPServer
from .web import SECURITY_HEADERS, EventStream, WebPage

_MAX_REQUEST_LINE = 65_536
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 16 * 1_048_576
_LENGTH = re.compile(r"[0-9]{1,30}")
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class _ClientGone(ConnectionError):
    """The client closed the connection before sending the whole body."""


class _TooSlow(Exception):
    """The body did not arrive within the server's ``body_timeout``."""


class _LineRecorder:
    """Stands in for ``rfile`` while the stdlib reads the header lines, and keeps them for ``header_problem``."""

    def __init__(self, rfile: Any) -> None:
        self._rfile = rfile
        self.lines: list[bytes] = []

    def readline(self, limit: int = -1) -> bytes:
        line: bytes = self._rfile.readline(limit)
        self.lines.append(line)
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rfile, name)


def _content_type_problem(headers: Any) -> Optional[Answer]:
    """415 for a log's POST that is not ``application/json`` (a form or a "simple" fetch of another page)."""
    if is_json(headers):
        return None
    given = str(headers.get("Content-Type") or "none")[:60]
    return error_answer(415, f"A log is posted as Content-Type: application/json, not {given}", header="Content-Type")


class InboxRequestHandler(BaseHTTPRequestHandler):
    """Reads one request at a time from a keep-alive connection and answers it in JSON.

    Every answer has ``Content-Type: application/json`` and a ``Content-Length``; framing errors the
    stdlib reports through ``send_error`` get the same JSON:API error bodies as the API's own errors.
    """

    protocol_version = "HTTP/1.1"
    server_version = "sendcloud-logging-inbox"
    timeout = 30.0  # socket timeout: a client that stalls mid-request cannot pin a thread forever
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall per answer
    server: InboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib access log on stderr: the CLI prints received logs through ``on_log``."""

    def version_string(self) -> str:
        """The ``Server`` header: our name only, not the Python version."""
        return self.server_version

    def handle_one_request(self) -> None:
        """The stdlib loop body, with every method dispatched to ``_serve`` (no 501) and I/O errors contained."""
        self._unread_body = False
        try:
            self.raw_requestline = self.rfile.readline(_MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            self.server.traffic.request_seen()
            if len(self.raw_requestline) > _MAX_REQUEST_LINE:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(414)
                return
            if not self._parse_request():
                return
            self._serve()
            self.wfile.flush()
        except OSError:  # client gone, socket timeout, or stop()/refuse() cut the connection
            self.close_connection = True

    def _parse_request(self) -> bool:
        """The stdlib's ``parse_request``, then a look at the raw header lines it read (400 if malformed)."""
        recorder = _LineRecorder(self.rfile)
        rfile, self.rfile = self.rfile, recorder  # type: ignore[assignment]
        try:
            parsed = self.parse_request()
        finally:
            self.rfile = rfile
        if not parsed:
            return False
        problem = header_problem(recorder.lines)
        if problem is not None:
            self.send_error(400, problem)
            return False
        return True

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Answer a framing error (bad request line, headers) in JSON and close the connection.

        A 5xx here (505 for an HTTP version we do not speak) is the client's input, so it is answered 400.
        """
        status = 400 if code >= 500 else int(code)
        detail = message or explain or f"Malformed request ({code_for(int(code))})"
        self._send(error_answer(status, detail, close=True))
        self._linger()  # the rest of a bad request may still be arriving

    def _serve(self) -> None:
        """Handle one parsed request: Host and Origin, then a page route, or the API's: body, latency, faults,
        then the answer; POSTs are recorded first."""
        server = self.server
        arrived = server.clock()
        if server.closing.is_set():
            self.close_connection = True
            return
        target = split_target(self.path)
        route = server.api.match(target.path) if target is not None else None
        proxied = target is not None and bool(target.scheme or target.netloc)  # absolute-form: we are its proxy
        refusal = self._refusal(route, proxied=proxied)
        if refusal is not None:
            arrival = Arrival(self.command, self.path, arrived, target, route, None, refusal)
            record_post(server.traffic, server.api, arrival, refusal.status)
            self._refuse(refusal)
            return
        web = server.web
        if web is not None and target is not None and not proxied and route is None and web.owns(target.path):
            self._serve_page(web, target.path, target.query)
            return
        body, framing = self._read_body()
        if framing is None and self.command == "POST" and route is not None and not route.token:
            framing = _content_type_problem(self.headers)
        arrival = Arrival(self.command, self.path, arrived, target, route, body, framing)
        answering, fault = await_turn(server.faults, server.closing)
        if not answering:
            self.close_connection = True  # stop()/refuse() while we waited: the client gets no answer
            return
        if fault is not None and fault.drop:
            record_post(server.traffic, server.api, arrival, 0)
            self._drop(reset=fault.reset)
            return
        answer = choose_answer(arrival, fault, server.rate_limits, self._call_api)
        record_post(server.traffic, server.api, arrival, answer.status)
        self._answer(answer)

    def _refusal(self, route: Optional[Route], *, proxied: bool) -> Optional[Answer]:
        """The answer that refuses this request before it is routed (its Host or Origin), or None.

        A request in absolute form (``POST http://panel.invalid/api/v3/...``) asks the Inbox to be its proxy,
        and names another host by design; a browser sends that form only to a proxy it was configured with,
        and with an ``Origin`` on every write. Such a request may reach the API's routes (which need keys),
        without an ``Origin``; never the page's.
        """
        guard = self.server.guard
        if proxied and route is not None and self.headers.get("Origin") is None:
            return None
        problem = guard.host_problem(self.headers)
        if problem is not None:
            return error_answer(403, problem, code="forbidden_host", header="Host")
        problem = guard.origin_problem(self.headers)
        if problem is not None:
            return error_answer(403, problem, code="forbidden_origin", header="Origin")
        return None

    def _refuse(self, answer: Answer) -> None:
        """Answer a refused request without reading its body, and close."""
        self._unread_body = self.headers.get("Transfer-Encoding") is not None or any(
            str(value).strip() not in ("", "0") for value in self.headers.get_all("Content-Length") or []
        )
        self._answer(dataclasses.replace(answer, close=True))

    def _serve_page(self, web: WebPage, path: str, query: str) -> None:
        """A page route: no latency, fault or rate limit (those are for the API's clients)."""
        body, framing = self._read_body()
        answer: Union[Answer, EventStream]
        if framing is not None:
            answer = framing
        else:
            try:
                answer = web.handle(self.command, path, query, self.headers, body=body, origin=self._origin())
            except Exception:  # noqa: BLE001 - last resort, as for the API: the connection thread goes on
                sys.stderr.write("sendcloud_logging.inbox: internal error in the web page (a bug in the Inbox):\n")
                traceback.print_exc(file=sys.stderr)
                answer = error_answer(500, "Internal error in the Inbox (a bug): see its stderr")
        if isinstance(answer, EventStream):
            self._stream(web, answer)
        else:
            self._answer(answer)

    def _stream(self, web: WebPage, stream: EventStream) -> None:
        """Send the event stream's head, then its events until the Inbox stops or the browser goes."""
        self.server.traffic.answered(200)
        self.close_connection = True  # the stream has no length: it ends with the connection
        self.send_response(200)
        for name, value in (*stream.headers, *SECURITY_HEADERS):
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.flush()

        def write(data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        web.stream(self.server.closing, write)

    def _origin(self) -> str:
        """``http://host:port`` as the client named us (for URLs in answers), else the bound socket's."""
        host = self.headers.get("Host")
        return f"http://{host}" if host is not None and _HOST.fullmatch(str(host)) else self.server.origin

    def _drop(self, *, reset: bool) -> None:
        """Close before a single byte of the answer; ``reset``: with a TCP RST instead of a FIN."""
        if reset:  # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer"
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _answer(self, answer: Answer) -> None:
        """Send the answer; with a body left unread, close after it, reading what still arrives first."""
        if self._unread_body:
            answer = dataclasses.replace(answer, close=True)
        self._send(answer)
        if self._unread_body:
            self._linger()

    def _call_api(self, route: Route, query: str, body: Optional[bytes]) -> Answer:
        """Run the API logic; an exception here is an Inbox bug, answered 500 and printed, never fatal."""
        request = Request(self.command, route, query, self.headers, body, self._origin())
        try:
            return self.server.api.handle(request)
        except Exception:  # noqa: BLE001 - last resort: keep the connection thread answering
            sys.stderr.write("sendcloud_logging.inbox: internal error (a bug in the Inbox):\n")
            traceback.print_exc(file=sys.stderr)
            return error_answer(500, "Internal error in the Inbox (a bug): see its stderr")

    def _read_body(self) -> tuple[Optional[bytes], Optional[Answer]]:
        """Read exactly Content-Length bytes, never more than ``max_body_bytes``.

        Returns the body, or an error answer when it cannot or may not be read (then it stays unread and
        the connection is closed after the answer).
        """
        if self.headers.get("Transfer-Encoding") is not None:
            self._unread_body = True
            return None, error_answer(
                411, "Send the body with a Content-Length; Transfer-Encoding is not supported",
                header="Transfer-Encoding", close=True,
            )
        values = [str(value).strip() for value in self.headers.get_all("Content-Length") or []]
        if not values:
            if self.command == "POST":
                return None, error_answer(411, "A POST needs a Content-Length header", header="Content-Length")
            return b"", None
        if len(set(values)) != 1 or not _LENGTH.fullmatch(values[0]):
            self._unread_body = True
            return None, error_answer(
                400, "Content-Length must be one non-negative integer", header="Content-Length", close=True
            )
        length = int(values[0])
        limit = self.server.max_body_bytes
        if length > limit:
            self._unread_body = True
            return None, error_answer(
                413, f"The body has {length} bytes; this server accepts at most {limit}", close=True
            )
        try:
            return self._read_exactly(length), None
        except _TooSlow:
            self._unread_body = True
            seconds = self.server.body_timeout
            return None, error_answer(408, f"The body did not arrive within {seconds:g} seconds", close=True)

    def _read_exactly(self, length: int) -> bytes:
        """``length`` bytes of body, within ``body_timeout`` seconds in all (a per-read timeout alone lets a
        client trickle one byte at a time for as long as it likes)."""
        deadline = time.monotonic() + self.server.body_timeout
        chunks: list[bytes] = []
        got = 0
        try:
            while got < length:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _TooSlow
                self.connection.settimeout(min(remaining, self.timeout))
                try:
                    chunk = self.rfile.read1(min(length - got, 65_536))
                except socket.timeout:
                    if time.monotonic() >= deadline:
                        raise _TooSlow from None
                    raise
                if not chunk:
                    raise _ClientGone("the client closed the connection before sending the whole body")
                chunks.append(chunk)
                got += len(chunk)
        finally:
            with contextlib.suppress(OSError):
                self.connection.settimeout(self.timeout)
        return b"".join(chunks)

    def _send(self, answer: Answer) -> None:
        """Write status, headers and the JSON body (no body for HEAD), honouring ``Connection: close``."""
        data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode("utf-8")
        if self.request_version == "HTTP/0.9":  # also the stdlib's value when the version was unreadable
            self.request_version = self.protocol_version  # always send a status line and headers
        self.server.traffic.answered(answer.status)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (*answer.headers, *SECURITY_HEADERS):
            self.send_header(name, value)
        if answer.close or self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _linger(self) -> None:
        """Read (and drop) what the client still sends before closing.

        Closing with unread bytes makes the kernel reset the connection, and the client may then lose our
        answer (a 413, say) before reading it. Bounded in bytes and time.
        """
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_SECONDS)
            deadline = time.monotonic() + _LINGER_SECONDS
            remaining = _LINGER_BYTES
            while remaining > 0 and time.monotonic() < deadline:
                chunk = self.connection.recv(min(65_536, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass
        self.close_connection = True
