"""``Inbox``: start, stop and steer a local integration logs API, and look at what it received."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Callable, Optional

from .connection import InboxRequestHandler
from .faults import FaultInjection, Faults
from .oauth import TOKEN_PATH, TokenIssuer
from .ratelimit import RateLimit
from .routes import InboxAPI
from .server import InboxHTTPServer
from .store import LogStore
from .traffic import Traffic
from .web import WebPage

API_PATH = "/api/v3"


class _Resources:
    """What must be closed when the Inbox goes away: kept apart so a finalizer can hold it without the Inbox."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.server: Optional[InboxHTTPServer] = None

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
        self.store.close()


class Inbox(FaultInjection):
    """A real local HTTP server speaking the Sendcloud integration logs API v3.

    It serves ``POST /api/v3/integrations/{id}/logs``, ``GET /api/v3/integrations/{id}/logs`` and
    ``GET /api/v3/integrations/logs`` with HTTP Basic auth, validates bodies against the API's JSON
    Schema, answers with the API's error bodies (400 ``extra_forbidden`` with ``source.pointer``, 401
    ``authentication_failed``, 404 ``not_found``, 413 ``request_too_large``...) and keeps logs in SQLite.

    GET pages are ordered newest first, like the real API: by ``created_at`` (the instant, whatever the
    offset) descending, then by id descending. The next page's URL is in ``Link: <url>; rel="next"``; its
    ``cursor`` is a date-time (the last record's ``created_at`` in UTC) and ``cursor_id`` breaks ties
    between records created at the same instant, so following the links returns every record once. A
    ``cursor`` without ``cursor_id`` starts at records created at or before it.

    Its root URL (``web_url``) serves a web page of what arrived, live, with filters and each log in full,
    for the developer's browser; the page's data routes (under ``/_inbox/``) need no keys. Every request,
    page or API, must name the Inbox in ``Host`` (a loopback name, its address, or one of ``allowed_hosts``:
    against DNS rebinding) and carry no ``Origin`` of another site; a log's POST must be
    ``Content-Type: application/json``. So a web page elsewhere in the developer's browser cannot use it.

    For tests it injects faults (error answers, dropped connections, latency, refused connections) and
    records what it saw (``posts``, ``connections``, ``requests``). Every method is thread-safe.

    Example:
        >>> with Inbox() as inbox:  # doctest: +SKIP
        ...     requests.post(f"{inbox.api_url}/integrations/1/logs", json={"base_url": "https://shop.example"},
        ...                   auth=("inbox-public", "inbox-secret"))
        ...     inbox.wait_for(1)

    Args:
        host: Address to bind, ``127.0.0.1`` by default (an IPv6 address such as ``::1`` works too).
        port: Port to bind; 0 picks a free one (see ``port`` after ``start()``).
        db: SQLite database: ``":memory:"`` (default) or a file path, whose logs survive the Inbox.
        public_key: Expected Basic-auth user name. ``public_key=None`` and ``secret_key=None`` turn auth off.
        secret_key: Expected Basic-auth password.
        integrations: Known integration ids; others get 404. ``None`` accepts any positive id.
        max_body_bytes: Largest POST body accepted; bigger ones get 413.
        on_log: Called with each stored log (a copy), in the request's thread, before the 201 is sent.
            An exception from it is reported on stderr in one line and otherwise ignored.
        rate_limit: ``(per_minute, burst)``: POSTs beyond ``per_minute`` in any 60 seconds or ``burst`` in any
            second get 429 with ``Retry-After``, like the API's limit of ``(100, 15)``. ``None`` (default): no limit.
        get_rate_limit: GETs in any 60 seconds beyond which a GET gets 429, like the API's 1000.
            ``None`` (default): no limit.
        client_id: OAuth2 client id accepted at ``token_url`` (client credentials grant); the bearer tokens
            it issues open every integration. ``None`` turns the token endpoint off.
        client_secret: Its client secret.
        token_lifetime: Seconds an issued token is valid (``expires_in``; Sendcloud's are 3600).
        accounts: ``{integration_id: (public_key, secret_key)}``: further key pairs, each accepted for its
            own integrations only (others answer 404), as a platform holding a key pair per merchant uses them.
        clock: Monotonic seconds for token lifetimes, rate limits and ``posts`` times; tests pass a fake one
            to let time pass without waiting. Latency and stalls always wait on the real clock.
        allowed_hosts: Host names beyond loopback and ``host`` under which clients reach the Inbox, e.g.
            ``["inbox"]`` for a container of that name. Requests naming any other host get 403.
        body_timeout: Seconds a request body may take to arrive in all; a slower one gets 408.

    Raises:
        ValueError: a bad argument (only one of the keys given, a non-positive integration id, ...).
        ImportError: ``jsonschema`` is missing (``pip install 'sendcloud-logging[inbox]'``), at import.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        db: str = ":memory:",
        public_key: Optional[str] = "inbox-public",
        secret_key: Optional[str] = "inbox-secret",  # noqa: S107 - a fixed test credential, documented
        integrations: Optional[Iterable[int]] = None,
        max_body_bytes: int = 1_048_576,
        on_log: Optional[Callable[[dict[str, Any]], None]] = None,
        rate_limit: Optional[tuple[float, int]] = None,
        client_id: Optional[str] = "inbox-client",
        client_secret: Optional[str] = "inbox-client-secret",  # noqa: S107 - a fixed test credential, documented
        token_lifetime: float = 3600.0,
        accounts: Optional[dict[int, tuple[str, str]]] = None,
        get_rate_limit: Optional[int] = None,
        clock: Callable[[], float] = time.monotonic,
        allowed_hosts: Iterable[str] = (),
        body_timeout: float = 10.0,
    ) -> None:
        if (public_key is None) != (secret_key is None):
            raise ValueError("give both public_key and secret_key, or neither (no authentication)")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
            raise ValueError(f"port must be an int from 0 to 65535, not {port!r}")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be a positive int, not {max_body_bytes!r}")
        known = None
        if integrations is not None:
            known = frozenset(integrations)
            bad = [i for i in known if isinstance(i, bool) or not isinstance(i, int) or i < 1]
            if bad:
                raise ValueError(f"integrations must be positive ints, not {bad!r}")
        if isinstance(allowed_hosts, str):
            raise ValueError(f"allowed_hosts must be a list of host names, not the string {allowed_hosts!r}")
        if isinstance(body_timeout, bool) or not isinstance(body_timeout, (int, float)) or not body_timeout > 0:
            raise ValueError(f"body_timeout must be a positive number of seconds, not {body_timeout!r}")
        self._allowed_hosts = tuple(str(name) for name in allowed_hosts)
        self._body_timeout = float(body_timeout)
        self._host = host
        self._port = port
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._rate_limits: dict[str, RateLimit] = {}
        if rate_limit is not None:
            self._rate_limits["POST"] = RateLimit(*rate_limit, clock=clock)
        if get_rate_limit is not None:
            self._rate_limits["GET"] = RateLimit(get_rate_limit, clock=clock)
        self._faults = Faults()
        self._traffic = Traffic()
        if (client_id is None) != (client_secret is None):
            raise ValueError("give both client_id and client_secret, or neither (no token endpoint)")
        self._tokens = None if client_id is None else TokenIssuer(client_id, str(client_secret), token_lifetime, clock)
        self._store = LogStore(db)
        try:
            self._api = InboxAPI(
                self._store,
                prefix=API_PATH,
                public_key=public_key,
                secret_key=secret_key,
                integrations=known,
                on_log=on_log,
                accounts=accounts,
                tokens=self._tokens,
            )
            self._web = WebPage(self._store, api_prefix=API_PATH)
        except BaseException:  # a bad argument: the database must not outlive the failed constructor
            self._store.close()
            raise
        self._lifecycle = threading.Lock()
        self._running = False  # between start() and stop(), refused or not
        self._resources = _Resources(self._store)
        # The store outlives stop() (logs() still works); an Inbox dropped without stop() is stopped when collected.
        weakref.finalize(self, self._resources.close)

    def __repr__(self) -> str:
        state = "serving" if self._resources.server is not None else ("refusing" if self._running else "stopped")
        return f"<Inbox {self._host}:{self._port} {state}>"

    def start(self) -> Inbox:
        """Bind and serve in a daemon thread; after a ``stop()`` the same port is bound again.

        Returns:
            The Inbox itself, so ``inbox = Inbox().start()`` works.
        """
        with self._lifecycle:
            if not self._running:
                self._resources.server = self._bind()
                self._running = True
            return self

    def stop(self) -> None:
        """Stop serving: close the listener and every open connection. Idempotent and quick.

        Handlers sleeping in ``latency`` wake at once; their clients get no answer. Stored logs stay
        readable through ``logs()``.
        """
        with self._lifecycle:
            self._running = False
            server, self._resources.server = self._resources.server, None
            if server is not None:
                server.close()

    def refuse(self) -> None:
        """Close the listening socket and all open connections: new connections get ECONNREFUSED.

        Raises:
            RuntimeError: the Inbox is not started.
        """
        with self._lifecycle:
            self._require_running()
            server, self._resources.server = self._resources.server, None
            if server is not None:
                server.close()

    def accept(self) -> None:
        """Bind the same port again (``SO_REUSEADDR``) and serve, after ``refuse()``; no-op while serving.

        Raises:
            RuntimeError: the Inbox is not started.
        """
        with self._lifecycle:
            self._require_running()
            if self._resources.server is None:
                self._resources.server = self._bind()

    def __enter__(self) -> Inbox:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def _bind(self) -> InboxHTTPServer:
        """A new server on our host and port (the bound port, once there is one), already serving."""
        server = InboxHTTPServer(
            (self._host, self._port),
            InboxRequestHandler,
            api=self._api,
            faults=self._faults,
            traffic=self._traffic,
            max_body_bytes=self._max_body_bytes,
            rate_limits=self._rate_limits,
            clock=self._clock,
            web=self._web,
            allowed_hosts=self._allowed_hosts,
            body_timeout=self._body_timeout,
        )
        self._host, self._port = server.server_name, server.server_port
        server.serve_in_thread()
        return server

    def _require_running(self) -> None:
        if not self._running:
            raise RuntimeError("the Inbox is not started: call start() or use it as a context manager")

    @property
    def host(self) -> str:
        """The bound address (the requested one before ``start()``)."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the requested one, maybe 0, before ``start()``)."""
        return self._port

    @property
    def api_url(self) -> str:
        """Base URL of the API, without a trailing slash, e.g. ``http://127.0.0.1:54321/api/v3``.

        Raises:
            RuntimeError: the port is not known yet (port 0 and never started).
        """
        if self._port == 0:
            raise RuntimeError("the Inbox has no port yet: start() it first")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}{API_PATH}"

    @property
    def web_url(self) -> str:
        """The web page of what arrived, e.g. ``http://127.0.0.1:54321/`` (open it in a browser).

        Raises:
            RuntimeError: the port is not known yet (port 0 and never started).
        """
        return self.api_url[: -len(API_PATH)] + "/"

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint, e.g. ``http://127.0.0.1:54321/oauth2/token``.

        Raises:
            RuntimeError: no port yet, or the token endpoint is off (``client_id=None``).
        """
        if self._tokens is None:
            raise RuntimeError("this Inbox has no token endpoint: give it a client_id and client_secret")
        return self.api_url[: -len(API_PATH)] + TOKEN_PATH

    @property
    def token_lifetime(self) -> float:
        """Seconds a token issued from now on is valid; settable (0 issues tokens that are already expired)."""
        return self._token_issuer().lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self._token_issuer().lifetime = seconds

    @property
    def tokens_issued(self) -> int:
        """OAuth2 tokens issued so far."""
        return self._token_issuer().issued

    def revoke_tokens(self) -> int:
        """End every token issued so far (requests with them get 401); return how many were still valid."""
        return self._token_issuer().revoke()

    def _token_issuer(self) -> TokenIssuer:
        if self._tokens is None:
            raise RuntimeError("this Inbox has no token endpoint: give it a client_id and client_secret")
        return self._tokens

    def logs(self, integration_id: Optional[int] = None) -> list[dict[str, Any]]:
        """Stored logs (the shape the API returns), oldest first: in the order they were received.

        Args:
            integration_id: Only this integration's logs; ``None`` for all.
        """
        return self._store.logs(integration_id)

    def clear(self) -> int:
        """Delete every stored log (as the page's "Clear all" does); return how many there were."""
        return self._store.clear()

    def count(self, integration_id: Optional[int] = None) -> int:
        """Number of stored logs (of one integration, or all)."""
        return self._store.count(integration_id)

    def wait_for(self, n: int, timeout: float = 10.0, integration_id: Optional[int] = None) -> bool:
        """Block until at least ``n`` logs are stored, woken by each insert (no polling).

        Returns:
            True once ``count(integration_id) >= n``; False if ``timeout`` seconds passed first.
        """
        return self._store.wait_for(n, timeout, integration_id)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Every POST seen, in the order answered (a copy).

        Each is ``{"time": the Inbox's clock at arrival, "status": status answered (0 when the connection
        was dropped), "integration_id": int or None, "body": parsed JSON or None}``. Faulted and rejected
        POSTs are included; GETs are not.
        """
        return self._traffic.posts

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (1 for any number of requests over one keep-alive session)."""
        return self._traffic.connections

    @property
    def requests(self) -> int:
        """HTTP requests handled so far, any method and outcome."""
        return self._traffic.requests

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> bool:
        """Block until at least ``n`` requests arrived (their request line was read), woken by each one.

        Returns:
            True once ``requests >= n``; False if ``timeout`` seconds passed first.
        """
        return self._traffic.wait_for_requests(n, timeout)

    @property
    def status_counts(self) -> dict[int, int]:
        """Answers sent so far by HTTP status, any method (dropped connections are not answers)."""
        return self._traffic.status_counts
