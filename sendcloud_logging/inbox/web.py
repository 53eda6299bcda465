"""The Inbox's web page: what arrived, live, as the merchant will see it. Routes apart from the API's.

``/`` is the page (``static/index.html``, with ``app.css`` and ``app.js`` under ``/_inbox/``); its data comes
from ``/_inbox/api/...``, which needs no Sendcloud keys (it is the developer's own page) but is behind the
same Host and Origin checks as the API (``guard.py``, applied by the connection before routing):

- ``GET /_inbox/api/info``: which database the page reads, the counts, and the token that ``clear`` needs;
- ``GET /_inbox/api/logs``: one page of the list, newest first, paged with the API's own cursor
  (``cursor``, ``cursor_id``) and filtered by ``integration``, ``exception_type``, ``response_code``, ``q``;
- ``GET /_inbox/api/logs/{id}``: one log, every field;
- ``GET /_inbox/api/facets``: the values the filters offer;
- ``GET /_inbox/api/events``: server-sent events, one ``change`` each time the store changes;
- ``POST /_inbox/api/clear``: delete every log, with ``X-Inbox-Token`` and a JSON body, never by a GET.

Live updates are server-sent events rather than polling: a log shows the moment it is stored, an idle page
costs one sleeping thread and no requests (the server has a thread per connection, and polls would add to
``Inbox.requests``), and the browser reconnects by itself after a restart. Page routes take no injected
fault, latency or rate limit: those are for the API's clients.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from importlib import resources
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qs

from .guard import is_json
from .responses import Answer, error_answer
from .routes import next_cursor, parse_cursor, positive_id
from .store import Filters, LogStore, is_file

PREFIX = "/_inbox"
API = PREFIX + "/api"
#: Rows in one page of the list.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: The header that carries the token of state-changing calls.
TOKEN_HEADER = "X-Inbox-Token"  # noqa: S105 - a header name, not a secret
#: How long the events stream may be silent before a comment keeps proxies and the browser from giving up.
HEARTBEAT_SECONDS = 15.0
#: How often a waiting events stream looks whether the Inbox is stopping.
TICK_SECONDS = 0.5
_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    f"{PREFIX}/app.css": ("app.css", "text/css; charset=utf-8"),
    f"{PREFIX}/app.js": ("app.js", "text/javascript; charset=utf-8"),
    f"{PREFIX}/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),
}
#: The end of a storm summary's ``exception`` (``_delivery/summary.py`` of the handler writes it).
_SUMMARY = re.compile(r"\(\+([0-9]{1,12}) more like this between ([0-9:]{8}) and ([0-9:]{8})\)\s*$")
_LOG_PATH = re.compile(re.escape(API) + r"/logs/([^/]*)")
_LINE_CHARS = 300
#: Security headers of every answer the Inbox sends (the page, its data, and the API).
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
_NO_STORE = (("Cache-Control", "no-store"),)


@dataclass(frozen=True)
class EventStream:
    """The answer of ``/_inbox/api/events``: the connection streams ``stream_events`` instead of one body."""

    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/event-stream"), *_NO_STORE)


def read_static(name: str) -> bytes:
    """One of the page's files, shipped in the package (``inbox/static/``)."""
    return resources.files(__package__).joinpath("static").joinpath(name).read_bytes()


def summarise(log: Mapping[str, Any]) -> dict[str, Any]:
    """A log as a row of the list: the fields shown, the first line of ``exception``, the storm summary if any."""
    exception = log.get("exception")
    text = exception if isinstance(exception, str) else ""
    summary = None
    found = _SUMMARY.search(text)
    if found is not None:
        summary = {"more": int(found.group(1)), "first": found.group(2), "last": found.group(3)}
        text = text[: found.start()].rstrip()
    lines = text.strip().splitlines()
    line = lines[0] if lines else ""
    return {
        "id": log.get("id"),
        "integration_id": log.get("integration_id"),
        "created_at": log.get("created_at"),
        "method": log.get("method"),
        "response_code": log.get("response_code"),
        "exception_type": log.get("exception_type"),
        "base_url": log.get("base_url"),
        "full_url": log.get("full_url"),
        "exception_line": line if len(line) <= _LINE_CHARS else line[: _LINE_CHARS - 1] + "\u2026",
        "more_lines": len(lines) > 1,
        "summary": summary,
    }


class WebPage:
    """The page's routes over one Inbox's store.

    Args:
        store: The Inbox's logs.
        api_prefix: The API's path (``/api/v3``), shown on the page.
    """

    def __init__(self, store: LogStore, *, api_prefix: str) -> None:
        self._store = store
        self._api_prefix = api_prefix
        self.token = secrets.token_urlsafe(32)  # given to the page by /info; clear needs it back
        self._files = {path: (read_static(name), kind) for path, (name, kind) in _FILES.items()}

    @staticmethod
    def owns(path: str) -> bool:
        """Whether ``path`` is one of the page's routes (not the API's)."""
        return path in _FILES or path == PREFIX or path.startswith(PREFIX + "/")

    def handle(
        self, method: str, path: str, query: str, headers: Message, *, body: Optional[bytes], origin: str
    ) -> Union[Answer, EventStream]:
        """Answer one request on a page route (the Host and Origin checks have passed)."""
        if path == f"{API}/clear":
            if method != "POST":
                return _not_allowed(method, ("POST",))
            return self._clear(headers)
        if method not in ("GET", "HEAD"):
            return _not_allowed(method, ("GET", "HEAD"))
        if path in self._files:
            data, kind = self._files[path]
            return Answer(200, data, _NO_STORE, content_type=kind)
        if path == f"{API}/events":
            return EventStream()
        params = parse_qs(query, keep_blank_values=True)
        if path == f"{API}/info":
            return self._info(origin)
        if path == f"{API}/logs":
            return self._list(params)
        if path == f"{API}/facets":
            return Answer(200, {"data": self._facets()}, _NO_STORE)
        found = _LOG_PATH.fullmatch(path)
        if found is not None:
            return self._one(found.group(1))
        return error_answer(404, f"No such page: {path[:200]}")

    def stream(self, closing: threading.Event, write: Callable[[bytes], None]) -> None:
        """The events of ``/_inbox/api/events`` (``stream_events`` over this page's store)."""
        stream_events(self._store, closing, write)

    def _info(self, origin: str) -> Answer:
        db = self._store.db
        data = {
            "database": db if is_file(db) else None,
            "in_memory": not is_file(db),
            "api_url": origin + self._api_prefix,
            "stored": self._store.count(),
            "version": self._store.version,
            "token": self.token,
        }
        return Answer(200, {"data": data}, _NO_STORE)

    def _list(self, params: Mapping[str, list[str]]) -> Answer:
        page_size = PAGE_SIZE
        if "page_size" in params:
            page_size = positive_id(params["page_size"][-1]) or 0
            if not 1 <= page_size <= MAX_PAGE_SIZE:
                return error_answer(400, f"page_size must be from 1 to {MAX_PAGE_SIZE}", parameter="page_size")
        before, problem = parse_cursor(params)
        if problem is not None:
            return problem
        filters, problem = _filters(params)
        if problem is not None:
            return problem
        version = self._store.version
        rows = self._store.page(None, page_size + 1, before, filters)
        following = None
        if len(rows) > page_size:
            rows = rows[:page_size]
            following = next_cursor(rows)
        data = {
            "logs": [summarise(log) for log, _ in rows],
            "next": following,
            "matching": self._store.matching(filters),
            "stored": self._store.count(),
            "version": version,
        }
        return Answer(200, {"data": data}, _NO_STORE)

    def _one(self, raw: str) -> Answer:
        log_id = positive_id(raw)
        log = self._store.get(log_id) if log_id is not None else None
        if log is None:
            return error_answer(404, f"No log {raw[:40]!r} (cleared, or never stored)")
        return Answer(200, {"data": log}, _NO_STORE)

    def _facets(self) -> dict[str, list[dict[str, Any]]]:
        return {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in self._store.facets().items()
        }

    def _clear(self, headers: Message) -> Answer:
        if not is_json(headers):
            return error_answer(415, "Send Content-Type: application/json", header="Content-Type")
        given = str(headers.get(TOKEN_HEADER) or "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            detail = f"{TOKEN_HEADER} is missing or wrong: clear from the Inbox's page"
            return error_answer(403, detail, header=TOKEN_HEADER)
        return Answer(200, {"data": {"cleared": self._store.clear()}}, _NO_STORE)


def _filters(params: Mapping[str, list[str]]) -> tuple[Filters, Optional[Answer]]:
    """The list's filters from the query; ``exception_type=`` and ``response_code=`` (empty) mean "none"."""
    integration_id = None
    if params.get("integration", [""])[-1]:
        integration_id = positive_id(params["integration"][-1])
        if integration_id is None:
            return Filters(), error_answer(400, "integration must be a positive integer", parameter="integration")
    code = params["response_code"][-1] if "response_code" in params else None
    if code and not code.isdigit():
        detail = "response_code must be digits, or empty for none"
        return Filters(), error_answer(400, detail, parameter="response_code")
    kind = params["exception_type"][-1] if "exception_type" in params else None
    text = params.get("q", [""])[-1].strip() or None
    return Filters(integration_id, kind, code, text), None


def _not_allowed(method: str, allowed: tuple[str, ...]) -> Answer:
    return error_answer(
        405, f"{method[:20]} is not allowed here; use {' or '.join(allowed)}", headers=(("Allow", ", ".join(allowed)),)
    )


def stream_events(
    store: LogStore,
    closing: threading.Event,
    write: Callable[[bytes], None],
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    tick: float = TICK_SECONDS,
) -> None:
    """Write a ``change`` event now and after every change of the store, until the Inbox stops or the write fails.

    The browser reconnects on its own (after ``retry`` milliseconds) when the stream ends.
    """
    version = store.version
    write(f"retry: 1000\nevent: change\ndata: {version}\n\n".encode())
    silent = 0.0
    while not closing.is_set():
        current = store.wait_change(version, tick)
        if closing.is_set():
            return
        if current != version:
            version = current
            write(f"event: change\ndata: {version}\n\n".encode())
            silent = 0.0
            continue
        silent += tick
        if silent >= heartbeat:
            write(b": still here\n\n")
            silent = 0.0
