"""A raw-socket HTTP server on 127.0.0.1 for answers the Inbox cannot give: redirects, dribbled bytes,
huge bodies. Each connection reads one request (head and Content-Length body) and hands it, with the
socket, to ``answer(request, conn)``, which writes whatever bytes it likes; every request is kept.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[[RawRequest, socket.socket], None]


@dataclass
class RawServer:
    """``with RawServer(answer) as server:`` serves on ``server.url`` until the block ends."""

    answer: Answer
    requests: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # a kept-alive connection's thread waits in recv: end it now
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                while not self.stop.is_set():
                    request = read_request(conn)
                    if request is None:
                        return
                    with self._lock:
                        self.requests.append(request)
                    self.answer(request, conn)
            except OSError:
                return


def read_request(conn: socket.socket) -> Optional[RawRequest]:
    """One HTTP/1.1 request from ``conn``; None when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawRequest(method, path, headers, body)


def reply(conn: socket.socket, status: int, body: bytes = b"", headers: Optional[dict[str, str]] = None) -> None:
    """Write one complete answer with a Content-Length."""
    lines = [f"HTTP/1.1 {status} Whatever"]
    for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        lines.append(f"{name}: {value}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
