"""The Inbox's listening side: a threading HTTP server that knows its open connections and closes promptly.

``InboxHTTPServer`` is a ``ThreadingHTTPServer`` (one daemon thread per connection, so a slow answer never
holds up another client, and an open web page's event stream holds one thread, sleeping) that tracks its
open connections: ``close()`` cuts them and wakes handlers sleeping
in latency, so stopping or refusing is quick. Each connection is served by the request handler class it is
given, as with any ``socketserver`` server (the Inbox's is ``connection.InboxRequestHandler``).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union

from .faults import Faults
from .guard import HostGuard
from .ratelimit import RateLimit
from .routes import InboxAPI
from .traffic import Traffic
from .web import WebPage


class InboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections and can be closed promptly."""

    daemon_threads = True
    allow_reuse_address = True  # accept() after refuse() re-binds the same port at once

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        api: InboxAPI,
        faults: Faults,
        traffic: Traffic,
        max_body_bytes: int,
        rate_limits: Optional[Mapping[str, RateLimit]] = None,
        clock: Callable[[], float] = time.monotonic,
        web: Optional[WebPage] = None,
        allowed_hosts: tuple[str, ...] = (),
        body_timeout: float = 10.0,
    ) -> None:
        self.rate_limits: Mapping[str, RateLimit] = rate_limits or {}  # by method: "POST", "GET"
        self.clock = clock  # stamps POSTs on arrival; waits (latency, stalls) stay on the real clock
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        self.faults = faults
        self.traffic = traffic
        self.max_body_bytes = max_body_bytes
        self.web = web  # the page at "/" and its data routes; None: API routes only
        self.body_timeout = body_timeout  # seconds a request body may take to arrive, in all
        self.guard = HostGuard(address[0], allowed_hosts)
        self.closing = threading.Event()  # set by close(): handlers stop sleeping and stop answering
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._wake_reader: Optional[socket.socket] = None
        self._wake_writer: Optional[socket.socket] = None
        super().__init__(address, handler)

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
