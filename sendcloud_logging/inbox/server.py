"""The HTTP side of the Inbox: HTTP/1.1 keep-alive framing, bounded body reads, faults and latency.

``InboxHTTPServer`` is a ``ThreadingHTTPServer`` (one daemon thread per connection, so a slow answer
never holds up another client) that tracks its open connections: ``close()`` cuts them and wakes handlers
sleeping in latency, so stopping or refusing is quick. The API's own behaviour lives in ``routes.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import selectors
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from .faults import Fault, Faults
from .ratelimit import RateLimit
from .responses import Answer, code_for, error_answer
from .routes import InboxAPI, Request, Route
from .traffic import Traffic
from .validation import json_or_none

_MAX_REQUEST_LINE = 65_536
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 16 * 1_048_576
_LENGTH = re.compile(r"[0-9]{1,30}")
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class _ClientGone(ConnectionError):
    """The client closed the connection before sending the whole body."""


def _fault_answer(fault: Fault) -> Answer:
    """The answer of an injected ``fail_next`` fault: a JSON:API error body unless one was given."""
    headers = () if fault.retry_after is None else (("Retry-After", fault.retry_after),)
    if fault.body is not None:
        return Answer(fault.status, fault.body, headers)
    detail = f"Injected by Inbox.fail_next: HTTP {fault.status} ({code_for(fault.status)})"
    return error_answer(fault.status, detail, headers=headers)


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
            if not self.parse_request():
                return
            self._serve()
            self.wfile.flush()
        except OSError:  # client gone, socket timeout, or stop()/refuse() cut the connection
            self.close_connection = True

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Answer a framing error (bad request line, headers) in JSON and close the connection.

        A 5xx here (505 for an HTTP version we do not speak) is the client's input, so it is answered 400.
        """
        status = 400 if code >= 500 else int(code)
        detail = message or explain or f"Malformed request ({code_for(int(code))})"
        self._send(error_answer(status, detail, close=True))
        self._linger()  # the rest of a bad request may still be arriving

    def _serve(self) -> None:
        """Handle one parsed request: body, latency, faults, then the API; POSTs are recorded first."""
        server = self.server
        arrived = server.clock()
        if server.closing.is_set():
            self.close_connection = True
            return
        try:
            target = urlsplit(self.path)
        except ValueError:  # e.g. an unbalanced "[" in an absolute-form target
            target = None
        route = server.api.match(target.path) if target is not None else None
        body, framing = self._read_body()
        if server.faults.hold(time.monotonic(), server.closing) or server.closing.is_set():
            self.close_connection = True  # stop()/refuse() while we slept: the client gets no answer
            return
        fault = server.faults.take()
        if fault is not None and fault.stall:
            if server.closing.wait(fault.stall):  # the client timed out meanwhile; then handled as usual
                self.close_connection = True
                return
            fault = None
        is_post = self.command == "POST" and not (route is not None and route.token)  # token requests are not logs
        integration_id = server.api.integration_id(route.integration) if is_post and route is not None else None
        if fault is not None and fault.drop:
            if is_post:
                server.traffic.post_answered(
                    {"time": arrived, "status": 0, "integration_id": integration_id, "body": json_or_none(body)}
                )
            if fault.reset:  # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer"
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True  # close before a single byte of the answer
            return
        limit = server.rate_limits.get(self.command) if not (route is not None and route.token) else None
        retry_after = limit.admit() if limit is not None and fault is None else None
        if fault is not None:
            answer = _fault_answer(fault)
        elif retry_after is not None:
            headers = (("Retry-After", retry_after),) if retry_after else ()
            detail = f"Rate limit exceeded: too many {self.command}s for this account"
            answer = error_answer(429, detail, headers=headers)
        elif framing is not None:
            answer = framing
        elif route is None:
            answer = error_answer(404, f"No such resource: {self.command} {target.path if target else self.path}"[:300])
        else:
            answer = self._call_api(route, target.query if target else "", body)
        if is_post:
            server.traffic.post_answered(
                {"time": arrived, "status": answer.status, "integration_id": integration_id,
                 "body": json_or_none(body)}
            )
        if self._unread_body:
            answer = dataclasses.replace(answer, close=True)
        self._send(answer)
        if self._unread_body:
            self._linger()

    def _call_api(self, route: Route, query: str, body: Optional[bytes]) -> Answer:
        """Run the API logic; an exception here is an Inbox bug, answered 500 and printed, never fatal."""
        host = self.headers.get("Host")
        origin = f"http://{host}" if host is not None and _HOST.fullmatch(str(host)) else self.server.origin
        request = Request(self.command, route, query, self.headers, body, origin)
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
        data = self.rfile.read(length)
        if len(data) < length:
            raise _ClientGone("the client closed the connection before sending the whole body")
        return data, None

    def _send(self, answer: Answer) -> None:
        """Write status, headers and the JSON body (no body for HEAD), honouring ``Connection: close``."""
        data = json.dumps(answer.body).encode("utf-8")
        if self.request_version == "HTTP/0.9":  # also the stdlib's value when the version was unreadable
            self.request_version = self.protocol_version  # always send a status line and headers
        self.server.traffic.answered(answer.status)
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers:
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


class InboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections and can be closed promptly."""

    daemon_threads = True
    allow_reuse_address = True  # accept() after refuse() re-binds the same port at once

    def __init__(
        self,
        address: tuple[str, int],
        *,
        api: InboxAPI,
        faults: Faults,
        traffic: Traffic,
        max_body_bytes: int,
        rate_limits: Optional[Mapping[str, RateLimit]] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_limits: Mapping[str, RateLimit] = rate_limits or {}  # by method: "POST", "GET"
        self.clock = clock  # stamps POSTs on arrival; waits (latency, stalls) stay on the real clock
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        self.faults = faults
        self.traffic = traffic
        self.max_body_bytes = max_body_bytes
        self.closing = threading.Event()  # set by close(): handlers stop sleeping and stop answering
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._wake_reader: Optional[socket.socket] = None
        self._wake_writer: Optional[socket.socket] = None
        super().__init__(address, InboxRequestHandler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup (``getfqdn`` can take seconds)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def origin(self) -> str:
        """``http://host:port`` of the bound socket."""
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        return f"http://{host}:{self.server_port}"

    def serve_in_thread(self) -> None:
        """Accept connections in a daemon thread until ``close()``."""
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(
            target=self._accept_loop, args=(self._wake_reader,), name=f"sendcloud-inbox-{self.server_port}", daemon=True
        )
        self._thread.start()

    def _accept_loop(self, wake_reader: socket.socket) -> None:
        """``serve_forever`` without its poll interval: a byte on the wake-up socket ends the wait at once.

        ``shutdown()`` would take up to a poll interval per stop, which adds up over a test suite.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(wake_reader, selectors.EVENT_READ)
            while not self.closing.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self.closing.is_set():
                        self._accept_one()

    def _accept_one(self) -> None:
        """Accept one connection and hand it to a handler thread (socketserver's ``_handle_request_noblock``)."""
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:  # noqa: BLE001 - reported by handle_error; the accept loop must go on
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def process_request(self, request: Union[socket.socket, tuple[bytes, socket.socket]], client_address: Any) -> None:
        """Count and track the connection before its handler thread starts."""
        self.traffic.connection_accepted()
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Union[socket.socket, tuple[bytes, socket.socket]]) -> None:
        """Untrack the connection, then close it (the handler thread is done with it)."""
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One stderr report for an exception that escaped a handler (a bug), not a stdlib banner."""
        sys.stderr.write("sendcloud_logging.inbox: unexpected error on a connection:\n")
        traceback.print_exc(file=sys.stderr)

    def close(self) -> None:
        """Stop accepting, cut open connections and sleeping handlers short, close the listener.

        New connections are refused from here on; handler threads finish (they are woken) before this returns.
        """
        self.closing.set()
        self.faults.wake()  # requests waiting in latency see closing, and go without an answer
        if self._thread is not None and self._wake_writer is not None:
            with contextlib.suppress(OSError):
                self._wake_writer.send(b"x")
            self._thread.join()
        with self._open_lock:
            for sock in self._open:  # still open: the handler closes it once its read or write fails
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self.server_close()
        for wake in (self._wake_reader, self._wake_writer):
            if wake is not None:
                wake.close()
