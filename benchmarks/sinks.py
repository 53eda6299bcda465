"""The far side of every benchmark, in a process of its own so that it never shares the measured process's GIL.

It starts three servers on 127.0.0.1 and prints their ports as one JSON line:

- ``inbox``: the package's ``Inbox`` (the API's validation and SQLite storage), optionally rate limited;
- ``http``: a minimal HTTP/1.1 keep-alive sink that answers every request at once: ``422`` with a JSON error
  body under ``/shop/`` (the failing shop call the benchmarks log), ``201 {"data": {"id": 1}}`` anywhere else
  (sentry-sdk's envelopes, the hand-rolled JSON poster, and the handler when the Inbox is not the point);
- ``tcp``: a TCP sink that reads and discards (python-logstash-async's transport).

Then it answers one command per stdin line with one JSON line: ``stats``, ``wait N TIMEOUT`` (block until the
Inbox stores N logs), ``logs`` (what the Inbox stored), ``reset`` (clear the HTTP sink's counters). EOF stops it.

Run: ``python benchmarks/sinks.py [--inbox-rate-limit]``
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import socketserver
import sys
import threading
from typing import Any

from sendcloud_logging.inbox import Inbox

SHOP_ERROR = json.dumps(
    {"errors": [{"code": "invalid", "field": "order_note.note", "detail": "Notes on shipped orders are locked. " * 9}]}
).encode()
CREATED = b'{"data":{"id":1}}'


class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.connections = 0
        self.tcp_bytes = 0
        self.tcp_connections = 0

    def add(self, kind: str) -> None:
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1


COUNTS = _Counts()


class _HTTPSink(socketserver.StreamRequestHandler):
    """Just enough HTTP/1.1: request line, headers, a Content-Length body, keep-alive."""

    disable_nagle_algorithm = True

    def handle(self) -> None:
        with COUNTS.lock:
            COUNTS.connections += 1
        rfile, sock = self.rfile, self.connection
        while True:
            line = rfile.readline(65_537)
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                continue
            parts = line.split()
            path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
            length, close = 0, False
            while True:
                header = rfile.readline(65_537)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value.strip())
                elif lowered == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length:
                rfile.read(length)
            if path.startswith("/shop/"):
                COUNTS.add("shop")
                status, body = b"422 Unprocessable Entity", SHOP_ERROR
            else:
                COUNTS.add(path.strip("/").split("/")[0] or "root")
                status, body = b"201 Created", CREATED
            head = (
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Server: bench-sink\r\nX-Request-Id: 7f1c2a9e-4b1d-4c0e-9a77-2f0c1d3e5b6a\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            )
            sock.sendall(head + (b"Connection: close\r\n\r\n" if close else b"\r\n") + body)
            if close:
                return


class _TCPSink(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with COUNTS.lock:
            COUNTS.tcp_connections += 1
        while True:
            data = self.request.recv(65_536)
            if not data:
                return
            with COUNTS.lock:
                COUNTS.tcp_bytes += len(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve(handler: type[socketserver.BaseRequestHandler]) -> _Server:
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def _new_inbox(rate_limited: bool) -> tuple[Inbox, bool]:
    """An Inbox with the API's rate limit when asked and this version of the Inbox supports it."""
    supported = "rate_limit" in inspect.signature(Inbox).parameters
    if rate_limited and supported:
        return Inbox(rate_limit=(100, 15)).start(), True  # type: ignore[call-arg]
    return Inbox().start(), False


def _stats(inbox: Inbox, rate_limited: bool) -> dict[str, Any]:
    statuses = getattr(inbox, "status_counts", None)
    if statuses is None:  # an Inbox without status_counts: count the POSTs' answers
        statuses = {}
        for post in inbox.posts:
            statuses[post["status"]] = statuses.get(post["status"], 0) + 1
    with COUNTS.lock:
        http = dict(COUNTS.requests)
        connections, tcp_bytes, tcp_connections = COUNTS.connections, COUNTS.tcp_bytes, COUNTS.tcp_connections
    return {
        "inbox_logs": inbox.count(),
        "inbox_connections": inbox.connections,
        "inbox_posts": len(inbox.posts),
        "inbox_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "inbox_rate_limited": rate_limited,
        "http_requests": http,
        "http_connections": connections,
        "tcp_bytes": tcp_bytes,
        "tcp_connections": tcp_connections,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox-rate-limit", action="store_true", help="the API's limit: 100 a minute, 15 a second")
    args = parser.parse_args()
    inbox, rate_limited = _new_inbox(args.inbox_rate_limit)
    http, tcp = _serve(_HTTPSink), _serve(_TCPSink)
    print(json.dumps({"inbox": inbox.api_url, "http": http.server_address[1], "tcp": tcp.server_address[1],
                      "inbox_rate_limited": rate_limited}), flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "stats":
            answer: Any = _stats(inbox, rate_limited)
        elif command == "wait":
            answer = {"ok": inbox.wait_for(int(rest[0]), float(rest[1])), "logs": inbox.count()}
        elif command == "logs":
            answer = inbox.logs()
        elif command == "reset":
            with COUNTS.lock:
                COUNTS.requests.clear()
                COUNTS.connections = COUNTS.tcp_connections = COUNTS.tcp_bytes = 0
            answer = {"ok": True}
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)
    for server in (http, tcp):
        server.shutdown()
    inbox.stop()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        main()
