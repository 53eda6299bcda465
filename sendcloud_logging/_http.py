"""The HTTP layer under the client and the OAuth2 token request: how a request is sent, how its failures and
error answers become this library's exceptions.

``send`` is ``Session.request`` with four rules:

- redirects are never followed (the API does not redirect; a 301/302 would turn the POST into a GET that
  "succeeds" without creating the log, and a 307 would carry the log elsewhere);
- every request has a total deadline, DNS included: ``timeout=(connect, read)`` bounds each socket read only,
  so a server that dribbles a byte a second would hold the request for ever. The request runs on a short-lived
  thread; at the deadline the caller gets a ``RequestTimeoutError`` and a watchdog shuts the connection's
  socket down, which ends that thread at once (see ``_Watch``);
- an answer is read up to a bound (``MAX_ANSWER_BYTES``, pages of logs ``MAX_PAGE_BYTES``), never whole: a
  100 MB answer costs 64 KiB of memory, and the rest is never read;
- requests' exceptions leave through ``EXCEPTION_MAP``, httpx's ``map_httpcore_exceptions`` done for requests:
  the most specific of our classes, ``raise mapped(message) from exc``, with a one-line message that says
  where and why. requests' own text (urllib3's pool repr, the path and query) stays in ``__cause__``.

``error_from_response`` reads an answer that is not a success, from the API or the token endpoint alike, and
is the one place that tells a wrong ``api_url`` (a redirect, a 404 of a route the API does not have) from an
unknown integration (the API's own 404).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import queue
import re
import socket
import ssl
import threading
import weakref
from typing import Any, ClassVar, Optional
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import InvalidHeader as BadHeaderValue
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

from ._validators import host_text, redacted_url
from .errors import (
    APIError,
    ConfigurationError,
    ConnectError,
    RequestTimeoutError,
    SendcloudError,
    TLSError,
    TransportError,
    error_for_status,
)

__all__ = [
    "EXCEPTION_MAP",
    "MAX_ANSWER_BYTES",
    "MAX_PAGE_BYTES",
    "close_session",
    "error_from_response",
    "is_unknown_route",
    "map_exception",
    "parse_retry_after",
    "redacted_url",
    "send",
    "total_deadline",
]

#: What requests raises, and what it becomes: the first row that matches wins, so the most specific comes first
#: (``SSLError`` and ``ConnectTimeout`` are also ``ConnectionError``s). The ``ConfigurationError`` rows are
#: faults of the request itself, found before anything is sent: a retry would fail the same way.
EXCEPTION_MAP: tuple[tuple[type[BaseException], type[SendcloudError]], ...] = (
    (requests.exceptions.SSLError, TLSError),
    (requests.exceptions.Timeout, RequestTimeoutError),  # ConnectTimeout and ReadTimeout
    (requests.exceptions.ConnectionError, ConnectError),  # ProxyError too
    (requests.exceptions.InvalidURL, ConfigurationError),  # InvalidProxyURL too
    (requests.exceptions.MissingSchema, ConfigurationError),
    (requests.exceptions.InvalidSchema, ConfigurationError),
    (requests.exceptions.URLRequired, ConfigurationError),
    (requests.exceptions.InvalidHeader, ConfigurationError),
    (requests.RequestException, TransportError),  # a broken chunked body, an undecodable gzip body...
    (UnicodeError, ConfigurationError),  # a key with characters an HTTP header cannot carry (Latin-1 only)
    (OSError, ConfigurationError),  # requests' own file access before sending: a CA bundle path that is not there
)

#: The longest detail taken from a body that is not a JSON error.
MAX_DETAIL = 200

#: The most bytes read of an answer: a created log's echo, an error body, a token (the rest is never read).
MAX_ANSWER_BYTES = 64 * 1024
#: The most bytes read of a successful GET: a page of up to 100 logs of up to ``max_payload_bytes`` each.
MAX_PAGE_BYTES = 32 * 1024 * 1024
_CHUNK = 16 * 1024
#: Request threads left behind at their deadline that may still wait (in ``getaddrinfo``) before new requests fail
#: at once: a resolver that never answers costs a few threads, never one per attempt.
MAX_STUCK = 4
_REQUEST = "sendcloud-logging-request"
#: Seconds a session's request thread waits for its next request before it ends.
RUNNER_IDLE = 2.0
_STUCK = "sendcloud-logging-request (past its deadline)"

#: The path of the API's log routes: a 404 elsewhere means ``api_url`` does not end in ``/api/v3``.
_API_ROUTE = re.compile(r"/api/v3/integrations/(?:\d+/)?logs/?$")
#: Details that say the route itself is missing (the Inbox's "No such resource", a framework's "Page not found").
_NO_ROUTE = re.compile(r"no such (?:resource|route|path|endpoint|url)|page not found|no route|unknown (?:route|path)",
                       re.IGNORECASE)


def total_deadline(timeout: Any) -> Optional[float]:
    """Seconds a whole request may take, DNS, connect, TLS, upload and answer together: connect + read timeout.

    None when ``timeout`` is None or not a number (then only requests' own timeouts hold).
    """
    if timeout is None:
        return None
    parts = timeout if isinstance(timeout, (tuple, list)) else (timeout, timeout)
    try:
        total = float(parts[0]) + float(parts[1])
    except (TypeError, ValueError, IndexError):
        return None
    return total if total > 0 else None


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    url_key: str = "api_url",
    deadline: Optional[float] = None,
    max_bytes: Optional[int] = None,
    **kwargs: Any,
) -> requests.Response:
    """``session.request`` without following redirects, within a total deadline, its answer read to a bound.

    ``deadline``: seconds the whole request may take (default: ``total_deadline(timeout)``); past it a
    ``RequestTimeoutError``. ``max_bytes``: bytes of the answer read at most (default ``MAX_ANSWER_BYTES``, for a
    GET ``MAX_PAGE_BYTES``); the body is then in ``response.content`` and the connection given back or closed.
    Failures leave as ``EXCEPTION_MAP`` says; ``url_key`` names the setting the URL comes from, for a
    ``ConfigurationError`` about it.
    """
    limit = max_bytes if max_bytes is not None else MAX_PAGE_BYTES if method.upper() == "GET" else MAX_ANSWER_BYTES
    total = deadline if deadline is not None and deadline > 0 else total_deadline(kwargs.get("timeout"))
    call = _Call(session, method, url, kwargs, limit)
    if total is None:
        call.work()
        return call.result(url_key)
    return call.within(total, url_key)


class _Call:
    """One request on its own short-lived thread, so that the caller waits no longer than the deadline.

    The thread registers every socket it opens or reuses (``attach``, from the watched connection classes);
    at the deadline the caller shuts them down, which ends any read or write at once, and the thread closes
    what it gets afterwards. A thread still in ``getaddrinfo`` (which cannot be interrupted) ends when the
    resolver returns: its connection sees the deadline passed and sends nothing.
    """

    def __init__(
        self, session: requests.Session, method: str, url: str, kwargs: dict[str, Any], limit: int
    ) -> None:
        self.session, self.method, self.url, self.kwargs, self.limit = session, method, url, kwargs, limit
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._response: Optional[requests.Response] = None
        self._error: Optional[BaseException] = None
        self._watched = _watch_pools(session, url)

    def attach(self, sock: socket.socket) -> None:
        """Called on the request thread with each socket it uses; refuses it once the deadline has passed."""
        with self._lock:
            if not self._expired:
                self._sockets.append(sock)
                return
        _shut(sock)
        sock.close()
        raise OSError("the request's total deadline passed before it was sent")

    def work(self) -> None:
        """Send, read the answer up to the bound; keep the response or the exception."""
        outer = getattr(_local, "call", None)  # run inline inside another request's work (at exit)
        _local.call = self
        response: Optional[requests.Response] = None
        error: Optional[BaseException] = None
        try:
            response = self.session.request(self.method, self.url, allow_redirects=False, stream=True, **self.kwargs)
            _read_bounded(response, self.limit)
        except BaseException as exc:  # noqa: BLE001  # handed to the caller's thread, which raises it
            if response is not None:
                response.close()
            response, error = None, exc
        finally:
            _local.call = outer
        with self._lock:
            expired = self._expired
            self._response, self._error = response, error
            self._done.set()
        if expired and response is not None:
            response.close()

    def within(self, seconds: float, url_key: str) -> requests.Response:
        """Run ``work`` on a thread and wait ``seconds`` at most for it.

        A thread left behind at its deadline ends as soon as its socket is shut, or its resolver answers; while
        ``MAX_STUCK`` of them still wait (a resolver that never answers), no new one is started.
        """
        stuck = sum(1 for t in threading.enumerate() if t.name == _STUCK and t.is_alive())
        if stuck >= MAX_STUCK:
            raise ConnectError(
                f"{stuck} earlier requests to {_target(self.url)} are still stuck past their deadline (a resolver "
                f"or a network that never answers); not starting another ({self.method} {redacted_url(self.url)})",
                method=self.method,
                url=redacted_url(self.url),
            )
        try:
            if getattr(_local, "call", None) is None:
                runner: Any = _Runner.take(self.session, self)
            else:  # a request made inside one (a token fetched for it): a thread of its own, as its runner is busy
                runner = threading.Thread(target=self.work, name=_REQUEST, daemon=True)
                runner.start()
        except RuntimeError:  # Python 3.12+ at exit (atexit, logging.shutdown): no new threads; close() bounds it
            self.work()
            return self.result(url_key)
        if not self._done.wait(seconds):
            with self._lock:
                self._expired = not self._done.is_set()
                sockets = list(self._sockets)
            if self._expired:
                if isinstance(runner, _Runner):
                    runner.abandon()
                else:
                    runner.name = _STUCK
                for sock in sockets:
                    _shut(sock)
                raise self._timeout(seconds, connected=bool(sockets))
        return self.result(url_key)

    def result(self, url_key: str) -> requests.Response:
        error = self._error
        if error is not None:
            if isinstance(error, (requests.RequestException, UnicodeError, OSError)):
                timeout = self.kwargs.get("timeout")
                raise map_exception(error, self.method, self.url, timeout=timeout, url_key=url_key) from error
            raise error
        if self._response is None:  # work() keeps one of the two
            raise TransportError("the request ended without an answer", method=self.method, url=redacted_url(self.url))
        return self._response

    def _timeout(self, seconds: float, *, connected: bool) -> RequestTimeoutError:
        target = _target(self.url)
        if connected or not self._watched:
            why = f"{target} did not complete the request within {seconds:g} s, the total deadline"
        else:
            host = host_text(urlsplit(self.url).hostname)
            why = f"no connection to {target} within {seconds:g} s, the total deadline (resolving {host} included)"
        where = f"({self.method} {redacted_url(self.url)})"
        return RequestTimeoutError(f"{why} {where}", method=self.method, url=redacted_url(self.url))


#: The ``_Call`` a request thread works for (None on any other thread): watched connections report to it.
_local = threading.local()


class _Runner:
    """The request thread of one session, kept for its next request while requests keep coming.

    Starting a thread per request costs about as much CPU as the rest of the POST; one thread per session
    runs its requests one after the other instead. It ends after ``RUNNER_IDLE`` seconds without one (so no
    thread outlives a client or a handler for long), and a request past its deadline takes its runner along
    (``abandon``): the next request gets a new one.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _by_session: ClassVar[weakref.WeakKeyDictionary[requests.Session, _Runner]] = weakref.WeakKeyDictionary()

    @classmethod
    def _after_fork(cls) -> None:
        """In a forked child: the parent's runners are not there, and their lock may have been held."""
        cls._lock = threading.Lock()
        cls._by_session = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._pid = os.getpid()
        self._retired = False
        self.thread = threading.Thread(target=self._loop, name=_REQUEST, daemon=True)
        self.thread.start()  # RuntimeError where no thread may start

    @classmethod
    def take(cls, session: requests.Session, call: _Call) -> _Runner:
        """Hand ``call`` to the session's runner, or to a new one; returns the runner that has it."""
        with cls._lock:
            runner = cls._by_session.get(session)
            if runner is None or not runner._accept(call):
                runner = cls()
                runner._accept(call)
                cls._by_session[session] = runner
            return runner

    def abandon(self) -> None:
        """Its request outlived the deadline: the thread ends once that request does, and takes no other."""
        with _Runner._lock:
            self._retired = True
            self.thread.name = _STUCK
            for session, runner in list(_Runner._by_session.items()):
                if runner is self:
                    del _Runner._by_session[session]

    def _accept(self, call: _Call) -> bool:  # with _Runner._lock held
        if self._retired or self._pid != os.getpid() or not self.thread.is_alive():
            return False
        self._calls.put(call)
        return True

    def _loop(self) -> None:
        while True:
            try:
                call = self._calls.get(timeout=RUNNER_IDLE)
            except queue.Empty:
                with _Runner._lock:
                    if self._calls.empty():
                        self._retired = True
                        return
                continue
            call.work()
            if self._retired:
                return


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Runner._after_fork)


def _attach(sock: Optional[socket.socket]) -> None:
    call: Optional[_Call] = getattr(_local, "call", None)
    if call is not None and sock is not None:
        call.attach(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    """urllib3's connection, telling the request thread's ``_Call`` which socket it uses."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _attach(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:  # urllib3's signature, passed on
        _attach(self.sock)  # a kept-alive connection: its socket is already open
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    """The same for https: the TCP socket is known before the TLS handshake, which a deadline may also cut."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _attach(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:  # urllib3's signature, passed on
        _attach(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_PLAIN_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def _watch_pools(session: requests.Session, url: str) -> bool:
    """Let requests' own adapter build watched connections; False for any other adapter (a test's, a SOCKS one).

    Without them the deadline still holds for the caller, but a request thread stuck on a dribbling server
    ends only when the server stops.
    """
    try:
        adapter = session.get_adapter(url)
    except requests.RequestException:
        return False
    if not isinstance(adapter, requests.adapters.HTTPAdapter):
        return False
    watched = False
    for manager in (adapter.poolmanager, *adapter.proxy_manager.values()):
        classes = getattr(manager, "pool_classes_by_scheme", None)
        if classes == _WATCHED_POOLS:
            watched = True
        elif classes == _PLAIN_POOLS:
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
            manager.clear()  # pools built before are plain: build them again
            watched = True
    return watched


def close_session(session: requests.Session) -> None:
    """Close a session and every connection its pools keep alive, now.

    urllib3 2's ``PoolManager.clear()`` (what ``Session.close()`` calls) only forgets its pools and leaves their
    sockets to the garbage collector: at interpreter exit that is a ``ResourceWarning`` per kept-alive socket
    under ``python -X dev``. Each pool is closed here first.
    """
    for adapter in list(session.adapters.values()):
        if not isinstance(adapter, requests.adapters.HTTPAdapter):
            continue
        for manager in (adapter.poolmanager, *adapter.proxy_manager.values()):
            pools = getattr(manager, "pools", None)
            if pools is None:
                continue
            for key in list(pools.keys()):
                pool = pools.get(key)
                if pool is not None:
                    with contextlib.suppress(Exception):  # a pool half torn down at exit: the rest still close
                        pool.close()
    session.close()


def _read_bounded(response: requests.Response, limit: int) -> None:
    """Read the answer's body, ``limit`` bytes at most, into ``response.content``; the rest stays unread.

    A body within the bound gives its connection back to the pool; a longer one closes it.
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(min(_CHUNK, limit + 1)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            response.close()  # not consumed: urllib3 closes the connection instead of reading on
            break
    response._content = b"".join(chunks)[:limit]  # requests' own cache of the body
    response._content_consumed = True  # type: ignore[attr-defined]  # set by iter_content, not declared
    response.close()


def map_exception(
    exc: BaseException, method: str, url: str, *, timeout: Any = None, url_key: str = "api_url"
) -> SendcloudError:
    """The exception ``exc`` (raised while sending ``method url``) stands for, with a message a person can act on."""
    cls = next((target for source, target in EXCEPTION_MAP if isinstance(exc, source)), TransportError)
    where = f"({method} {redacted_url(url)})"
    if issubclass(cls, TransportError):
        return cls(f"{_failure(cls, exc, url, timeout)} {where}", method=method, url=redacted_url(url))
    key, why = _fault(exc, url_key)
    return ConfigurationError(key, f"{why} {where}")


def error_from_response(response: requests.Response, *, token_endpoint: bool = False) -> APIError:
    """The ``APIError`` an answer that is not a success stands for: status, first error of the body, Retry-After,
    and the request's method and URL (without query or user info).

    Reads JSON:API error bodies (``{"errors": [{"code", "detail", "source": {"pointer"}}]}``) and OAuth2 ones
    (RFC 6749 ``{"error", "error_description"}``); any other body gives its first line as the detail. At the
    ``token_endpoint`` a 400 is a refused client or grant, an ``AuthenticationError``.

    A ``WrongURLError`` when the answer shows the URL is wrong rather than the request: any redirect (3xx, never
    followed), and a 404 that is not the API's own "integration not found" (``is_unknown_route``). This is the
    one place that tells the two 404s apart; the handler and the CLI both rely on it.
    """
    code, detail, api_error = _first_error(response)
    status = response.status_code
    setting = "token_url" if token_endpoint else "api_url"
    wrong_url = False
    if 300 <= status < 400:
        wrong_url = True
        location = response.headers.get("Location")
        where = f"redirected to {redacted_url(urljoin(response.url, location))}" if location else "a redirect"
        detail = f"{where}; not followed: {setting} is wrong"
        if not token_endpoint:
            detail += " (it should end in /api/v3)"
    elif status == 404 and token_endpoint:  # the token endpoint knows no integration: its URL is wrong
        wrong_url = True
        detail = f"{detail or 'not found'}; token_url is wrong"
    elif status == 404 and is_unknown_route(response, api_error=api_error, detail=detail):
        wrong_url = True
        detail = f"{detail or 'not found'}; no such API route: api_url should end in /api/v3"
    request = response.request
    return error_for_status(
        status,
        code,
        detail,
        parse_retry_after(response.headers.get("Retry-After")),
        method=request.method if request is not None else None,
        url=redacted_url(request.url or "") if request is not None else None,
        token_endpoint=token_endpoint,
        wrong_url=wrong_url,
    )


def is_unknown_route(
    response: requests.Response, *, api_error: Optional[bool] = None, detail: Optional[str] = None
) -> bool:
    """Whether a 404 means the route does not exist (``api_url`` is wrong), not that the integration is unknown.

    The API's own 404 comes from its log routes (``…/api/v3/integrations/{id}/logs``) with a JSON:API error
    body; a 404 for any other path, or with an HTML, text or non-JSON:API body (a web server's or a
    framework's page), or whose detail says the resource or route does not exist, is the route's.
    """
    if api_error is None or detail is None:
        _code, detail, api_error = _first_error(response)
    request = response.request
    path = urlsplit(request.url or "").path if request is not None else urlsplit(response.url or "").path
    if not _API_ROUTE.search(path):
        return True
    if not api_error:
        return True
    return bool(detail and _NO_ROUTE.search(detail))


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except (BadHeaderValue, ValueError, TypeError, OverflowError):
        return None


def _first_error(response: requests.Response) -> tuple[Optional[str], Optional[str], bool]:
    """The ``code`` and ``detail`` of the first error in a JSON:API or RFC 6749 error body, and whether the
    body was such an error body (an API's) rather than a page or text of something else."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return None, text[:MAX_DETAIL] or response.reason or None, False
    if not isinstance(body, dict):
        return None, response.reason or None, False
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else errors
    if isinstance(first, dict):
        code, detail = first.get("code"), first.get("detail")
        source = first.get("source")
        pointer = source.get("pointer") if isinstance(source, dict) else None
        if pointer and detail:
            detail = f"{detail} ({pointer})"
        return (str(code) if code else None), (str(detail)[:MAX_DETAIL * 5] if detail else None), True
    if isinstance(body.get("error"), str):
        description = body.get("error_description")
        detail = description if isinstance(description, str) and description else response.reason
        return body["error"], detail, True
    return None, response.reason or None, False


def _fault(exc: BaseException, url_key: str) -> tuple[str, str]:
    """The setting to fix, and why, for a request requests refused to send."""
    if isinstance(exc, requests.exceptions.InvalidProxyURL):
        return "proxies", "a proxy URL (HTTP_PROXY, HTTPS_PROXY) is not a valid URL"
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.URLRequired)):
        return url_key, "the URL needs http:// or https://"
    if isinstance(exc, requests.exceptions.InvalidSchema):
        return url_key, "requests cannot send to this URL's scheme (a SOCKS proxy needs requests[socks])"
    if isinstance(exc, requests.exceptions.InvalidURL):
        return url_key, "requests cannot parse the URL"
    if isinstance(exc, (requests.exceptions.InvalidHeader, UnicodeError)):
        return "credentials", "a key or token holds a line break, leading space or non-Latin-1 character"
    return "verify", f"requests could not read its TLS files: {exc}"  # the message names the path, nothing secret


def _failure(cls: type[SendcloudError], exc: BaseException, url: str, timeout: Any) -> str:
    """One line on what went wrong on the way: from the socket's or ssl's own error, deepest in the chain."""
    causes = _causes(exc)
    root = causes[-1]
    target = _target(url)
    if cls is TLSError:
        if isinstance(root, ssl.SSLCertVerificationError):
            return (
                f"the TLS certificate of {target} is not trusted: {root.verify_message} "
                f"({root.library}: {root.reason}); pass verify= a CA bundle that signs it"
            )
        return f"the TLS handshake with {target} failed: {_reason(root)}"
    if cls is RequestTimeoutError:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"no connection to {target} within {_seconds(connect)}, the connect timeout"
        return f"{target} did not answer within {_seconds(read)}, the read timeout"
    if cls is ConnectError:
        if isinstance(exc, requests.exceptions.ProxyError):
            return f"cannot connect to {target} through the proxy: {_reason(root)}"
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return f"cannot resolve {host_text(urlsplit(url).hostname)}: {_reason(root)}"
        if any(isinstance(cause, NewConnectionError) for cause in causes):
            return f"cannot connect to {target}: {_reason(root)}"
        return f"the connection to {target} broke before the answer: {_reason(root)}"
    return f"the answer of {target} could not be read: {type(exc).__name__}: {_reason(root)}"


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps, outermost first: requests keeps urllib3's error in ``args``, urllib3's
    ``MaxRetryError`` its cause in ``reason``, and the socket's or ssl's error is a ``__cause__``/``__context__``."""
    chain = [exc]
    while len(chain) < 16:
        current = chain[-1]
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in current.args if isinstance(arg, BaseException)), None)
        inner = inner or current.__cause__ or current.__context__
        if inner is None or any(inner is seen for seen in chain):
            break
        chain.append(inner)
    return chain


def _reason(root: BaseException) -> str:
    """The OS's or ssl's words for a failure, never a repr that carries the request's path or query."""
    if isinstance(root, ssl.SSLError):
        return root.reason or type(root).__name__
    if isinstance(root, OSError) and isinstance(root.strerror, str) and root.strerror:
        return root.strerror
    if isinstance(root, http.client.HTTPException) and str(root):
        return " ".join(str(root).split())[:100]
    return type(root).__name__


def _target(url: str) -> str:
    """host:port of a URL, with the scheme's default port."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "<an unparsable URL>"
    return f"{host_text(parts.hostname)}:{port}"


def _seconds(value: Any) -> str:
    return f"{value:g} s" if isinstance(value, (int, float)) else "the timeout"
