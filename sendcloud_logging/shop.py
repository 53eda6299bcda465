"""A local shop whose API fails in every way a real one does: for the demo and for tests.

``Shop`` runs two small servers on 127.0.0.1 (ports picked by the system) and knows a third address:

- ``http_url``: plain http, with routes that fail on purpose::

      GET  /ok                    200 JSON
      GET  /api/orders/404        404 with an HTML body
      GET  /api/orders/401        401 JSON {"error": "invalid_token"}
      POST /api/orders/{n}/notes  422 JSON error body (the request body is read first)
      GET  /stall                 answers only after ``stall_seconds``: clients with a shorter timeout time out

- ``https_url``: the same routes over TLS with a self-signed certificate, so a client that verifies
  certificates (the default of ``requests``) fails with ``requests.exceptions.SSLError``.
- ``refused_url``: a port where nothing listens, so connections are refused.

Example::

    with Shop() as shop:
        requests.get(f"{shop.http_url}/api/orders/404", timeout=5).status_code   # 404

The certificate and its key are made when the first Shop starts (``cryptography``, from the ``inbox``
extra) and live in a private temporary directory until the process exits: no key ships with the package.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import ipaddress
import json
import os
import re
import selectors
import shutil
import socket
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Optional

__all__ = ["CERT_PATH", "KEY_PATH", "TLS_FAILED", "Shop"]  # noqa: F822 - CERT_PATH and KEY_PATH: __getattr__

_HINT = "the local Shop makes its certificate with `cryptography`: pip install 'sendcloud-logging[inbox]'"


class CertFiles(NamedTuple):
    """Paths of a PEM certificate and of its unencrypted PEM private key."""

    cert_path: str
    key_path: str


_lock = threading.Lock()
_made: dict[int, CertFiles] = {}  # by the pid that made them: a forked child makes its own, never deletes ours


def shop_certificate() -> CertFiles:
    """This process's certificate and key files for the local Shop, made on first use.

    Raises:
        ImportError: ``cryptography`` is not installed (the message names the extra).
    """
    pid = os.getpid()
    with _lock:
        files = _made.get(pid)
        if files is None or not os.path.exists(files.cert_path):
            files = _made[pid] = _write(*_generate())
        return files


def _generate() -> tuple[bytes, bytes]:
    """A fresh self-signed certificate (CA:TRUE, so ``verify=cert_path`` trusts it) and its key, as PEM."""
    try:
        from cryptography import x509  # noqa: PLC0415 - a development dependency, only when a Shop starts
        from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(_HINT) from exc
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write(cert_pem: bytes, key_pem: bytes) -> CertFiles:
    directory = tempfile.mkdtemp(prefix="sendcloud-logging-shop-")  # mode 0700
    files = CertFiles(os.path.join(directory, "shop_cert.pem"), os.path.join(directory, "shop_key.pem"))
    for path, data in ((files.cert_path, cert_pem), (files.key_path, key_pem)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    atexit.register(_remove, directory, os.getpid())
    return files


def _remove(directory: str, owner: int) -> None:
    if os.getpid() == owner:  # a forked child inherits this hook: the files stay its parent's
        shutil.rmtree(directory, ignore_errors=True)


#: The ``Shop.seen`` entry of a TLS handshake the client refused or aborted.
TLS_FAILED = "TLS handshake failed"

_NOTES = re.compile(r"^/api/orders/([^/]+)/notes/?$")
_NOT_FOUND_HTML = (
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    "<body><h1>Not Found</h1><p>The requested order was not found on this shop.</p></body></html>\n"
)


class _Server(ThreadingHTTPServer):
    """One thread per connection; quiet about clients that go away; knows the shop's stop event."""

    daemon_threads = True
    block_on_close = False  # a stalled or idle connection must not hold up stop()

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__((shop.host, 0), _Handler)

    def serve_until_stopped(self) -> None:
        """``serve_forever`` without its poll interval: ``wake()`` ends the wait at once, so ``stop()`` is quick."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self.shop.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self.shop.stopping.is_set():
                        self._accept_one()

    def _accept_one(self) -> None:
        """Accept one connection and hand it to its thread, as ``socketserver`` does for each request."""
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:  # noqa: BLE001 - reported by handle_error; the accept loop goes on
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def wake(self) -> None:
        """End ``serve_until_stopped``'s wait (the stop event is already set)."""
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that disconnect, time out or refuse our certificate are part of the show: no traceback."""
        if isinstance(sys.exc_info()[1], OSError):  # ssl.SSLError, ConnectionResetError, BrokenPipeError...
            return
        super().handle_error(request, client_address)


class _TLSServer(_Server):
    """Accepts plain sockets and does the TLS handshake on the connection's own thread."""

    def __init__(self, shop: Shop, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(shop)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = self.socket.accept()
        return self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(_Handler.timeout)
            request.do_handshake()
        except OSError:  # the client refused the self-signed certificate: the expected outcome
            self.shop._record(TLS_FAILED)
            return
        super().finish_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "TestShop/1.0"
    timeout = 10.0  # a client that connects and says nothing cannot hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        shop = self.server.shop
        shop._record(f"{method} {path}")
        if path == "/ok":
            self._json(200, {"ok": True, "method": method})
        elif path == "/stall":
            if shop.stopping.wait(shop.stall_seconds):
                self.close_connection = True  # stop() came first: hang up without an answer
                return
            self._json(200, {"ok": True, "stalled_for": shop.stall_seconds})
        elif path == "/api/orders/404":
            self._send(404, _NOT_FOUND_HTML.encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/api/orders/401":
            self._json(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        elif method == "POST" and _NOTES.match(path):
            self._json(422, _note_errors(body))
        else:
            self._json(404, {"error": "not_found", "path": path})

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, status: int, data: Any, headers: Optional[dict[str, str]] = None) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: Optional[dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _note_errors(body: bytes) -> dict[str, Any]:
    """A typical shop validation error: the note is refused, and says why."""
    try:
        sent = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        return {"errors": {"base": ["the body is not valid JSON"]}}
    note = sent.get("order_note") if isinstance(sent, dict) else None
    if not isinstance(note, dict) or not note.get("note"):
        return {"errors": {"note": ["can't be blank"]}}
    return {"errors": {"order": ["is already fulfilled; notes can no longer be added"]}}


class Shop:
    """Local shop servers that fail on purpose; a context manager.

    Args:
        stall_seconds: How long ``/stall`` waits before it answers (``stop()`` cuts the wait short).
        host: The address to bind; keep the loopback default.

    Attributes:
        stopping: Set by ``stop()``; stalled requests end when it is set.
        seen: What the servers saw, in order: ``"GET /ok"`` per request (method and path, on either server),
            ``TLS_FAILED`` per refused or aborted TLS handshake. ``wait_for`` waits for an entry.
    """

    def __init__(self, *, stall_seconds: float = 3.0, host: str = "127.0.0.1") -> None:
        self.stall_seconds = float(stall_seconds)
        self.host = host
        self.stopping = threading.Event()
        self._http: Optional[_Server] = None
        self._https: Optional[_TLSServer] = None
        self._refused: Optional[socket.socket] = None
        self._threads: list[threading.Thread] = []
        self.seen: list[str] = []
        self._seen_changed = threading.Condition()

    def wait_for(self, entry: str, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until ``seen`` holds ``entry`` (such as ``"GET /stall"``) ``count`` times; False on timeout."""
        with self._seen_changed:
            return self._seen_changed.wait_for(lambda: self.seen.count(entry) >= count, timeout)

    def _record(self, entry: str) -> None:
        with self._seen_changed:
            self.seen.append(entry)
            self._seen_changed.notify_all()

    def start(self) -> Shop:
        """Bind and serve on fresh ports; return self."""
        if self._http is not None:
            return self
        self.stopping.clear()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*shop_certificate())
        try:
            self._http = _Server(self)
            self._https = _TLSServer(self, context)
            self._refused = _closed_port(self.host)
        except BaseException:
            self.stop()
            raise
        for name, server in (("http", self._http), ("https", self._https)):
            thread = threading.Thread(target=server.serve_until_stopped, name=f"shop-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """End stalled requests, stop both servers and free every port."""
        self.stopping.set()
        for server in (self._http, self._https):
            if server is not None:
                server.wake()
        for thread in self._threads:
            thread.join()
        for server in (self._http, self._https):
            if server is not None:
                server.server_close()
        if self._refused is not None:
            self._refused.close()
        self._http = self._https = None
        self._refused = None
        self._threads = []

    def __enter__(self) -> Shop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def http_url(self) -> str:
        """Base URL of the plain http server, such as ``http://127.0.0.1:54321``."""
        return self._url("http", self._running(self._http).server_address[1])

    @property
    def https_url(self) -> str:
        """Base URL of the TLS server with the self-signed certificate."""
        return self._url("https", self._running(self._https).server_address[1])

    @property
    def refused_url(self) -> str:
        """An http URL on a loopback port where nothing listens: connections are refused."""
        return self._url("http", self._running(self._refused).getsockname()[1])

    def __repr__(self) -> str:
        state = "running" if self._http is not None else "stopped"
        return f"<Shop {state} stall_seconds={self.stall_seconds}>"

    def _url(self, scheme: str, port: int) -> str:
        return f"{scheme}://{self.host}:{port}"

    @staticmethod
    def _running(thing: Any) -> Any:
        if thing is None:
            raise RuntimeError("the Shop is not running: call start() or use it as a context manager")
        return thing


def __getattr__(name: str) -> str:
    """``CERT_PATH``: the Shops' self-signed certificate (CN/SAN 127.0.0.1 and localhost), so
    ``verify=CERT_PATH`` trusts them; ``KEY_PATH``: its private key, made in this process, for tests only.
    Both are made on first use and are the same for every Shop of the process."""
    if name == "CERT_PATH":
        return shop_certificate().cert_path
    if name == "KEY_PATH":
        return shop_certificate().key_path
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _closed_port(host: str) -> socket.socket:
    """A socket bound to a free port that never listens: nothing else can take the port, connections are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
    except BaseException:
        sock.close()
        raise
    return sock
