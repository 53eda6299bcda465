"""What the integration logs API answers, independent of sockets: routing, auth, validation, paging.

The HTTP server hands over a parsed ``Request`` and sends back the ``Answer``; faults and latency stay
in ``exchange.py``, connection handling in ``connection.py`` and ``server.py``. Order of checks: unknown
route 404, wrong method 405, credentials 401 (``accounts.py``), unknown integration (or one of another
account) 404, then the body (POST) or query (GET) 400. The OAuth2 token endpoint (``oauth.py``) is routed here too.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlencode

from .accounts import Accounts
from .oauth import TOKEN_PATH, TokenIssuer
from .responses import Answer, error_answer, shorten
from .store import LogStore
from .timestamps import format_micros, now_rfc3339, parse_rfc3339
from .validation import FIELDS, BodyError, body_errors, parse_json

_ID = re.compile(r"[0-9]{1,19}")
#: Ids are SQLite's (and the API's) 64-bit signed integers: 1 to 2**63 - 1.
MAX_ID = 2**63 - 1
_PAGE_SIZE = re.compile(r"[0-9]{1,3}")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Route:
    """A matched path: ``integration`` is the raw id segment, ``None`` for ``/integrations/logs``.

    ``token``: the OAuth2 token endpoint (``oauth.TOKEN_PATH``) instead of an API route.
    """

    integration: Optional[str]
    token: bool = False

    @property
    def methods(self) -> tuple[str, ...]:
        """Methods this route answers."""
        if self.token:
            return ("POST",)
        return ("GET",) if self.integration is None else ("GET", "POST")


@dataclass(frozen=True)
class Request:
    """One request as the API logic needs it; ``origin`` (``http://host:port``) prefixes ``Link`` URLs."""

    method: str
    route: Route
    query: str
    headers: Message
    body: Optional[bytes]
    origin: str


class InboxAPI:
    """The API's behaviour over a ``LogStore``; thread-safe because the store is and nothing else changes."""

    def __init__(
        self,
        store: LogStore,
        *,
        prefix: str = "/api/v3",
        public_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        integrations: Optional[Iterable[int]] = None,
        on_log: Optional[Callable[[dict[str, Any]], None]] = None,
        accounts: Optional[Mapping[int, tuple[str, str]]] = None,
        tokens: Optional[TokenIssuer] = None,
    ) -> None:
        self._store = store
        self.prefix = prefix.rstrip("/")
        self._auth = Accounts(public_key, secret_key, accounts, tokens)
        self._integrations = None if integrations is None else frozenset(integrations)
        self._on_log = on_log

    def match(self, path: str) -> Optional[Route]:
        """The route of a request path (one trailing slash allowed), or ``None`` for an unknown path."""
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        if path == TOKEN_PATH and self._auth.tokens is not None:
            return Route(None, token=True)
        if not path.startswith(self.prefix + "/"):
            return None
        parts = path[len(self.prefix) + 1 :].split("/")
        if parts == ["integrations", "logs"]:
            return Route(None)
        if len(parts) == 3 and parts[0] == "integrations" and parts[2] == "logs" and parts[1]:
            return Route(parts[1])
        return None

    def integration_id(self, raw: Optional[str]) -> Optional[int]:
        """The integration id of a path segment: an id (``positive_id``), known when a list of ids was given."""
        value = positive_id(raw)
        if value is None or (self._integrations is not None and value not in self._integrations):
            return None
        return value

    def handle(self, request: Request) -> Answer:
        """Answer one request on a known route."""
        route = request.route
        if request.method not in route.methods:
            return error_answer(
                405,
                f"{request.method} is not allowed here; use {' or '.join(route.methods)}",
                headers=(("Allow", ", ".join(route.methods)),),
            )
        if route.token and self._auth.tokens is not None:
            return self._auth.tokens.answer(request.headers, request.body)
        principal = self._auth.identify(request.headers)
        if principal is None:
            return error_answer(
                401,
                "Authentication credentials were not provided or are not valid",
                headers=(("WWW-Authenticate", 'Basic realm="sendcloud"'),),
            )
        integration_id = None
        if route.integration is not None:
            integration_id = self.integration_id(route.integration)
            if integration_id is None or not self._auth.allows(principal, integration_id):
                return error_answer(404, f"Integration {shorten(route.integration, 40)!r} was not found")
        if request.method == "POST" and integration_id is not None:
            return self._create(integration_id, request.body or b"")
        return self._list(integration_id, request)

    def _create(self, integration_id: int, raw: bytes) -> Answer:
        """POST: validate the body, store the log, tell ``on_log``, answer 201 ``{"data": log}``."""
        try:
            body = parse_json(raw)
        except BodyError as exc:
            return error_answer(400, str(exc), code="parse_error", pointer="body")
        if not isinstance(body, dict):
            kind = "an array" if isinstance(body, list) else f"a JSON {type(body).__name__}"
            return error_answer(400, f"The body must be a JSON object, not {kind}", pointer="body")
        problems = body_errors(body)
        if problems:
            return Answer(400, {"errors": problems})
        fields: dict[str, Any] = {name: body.get(name) for name in FIELDS}
        if fields["method"] is None:
            fields["method"] = ""
        if fields["created_at"] is None:
            fields["created_at"] = now_rfc3339()
        instant = parse_rfc3339(fields["created_at"])
        if instant is None:  # pragma: no cover - the schema's format check already refused it
            return error_answer(400, "created_at is not an RFC 3339 date-time", pointer="body/created_at")
        fields["protected"] = False
        fields["additional_data"] = ""
        log = self._store.add(integration_id, fields, instant)
        self._notify(log)
        return Answer(201, {"data": log})

    def _notify(self, log: dict[str, Any]) -> None:
        """Call ``on_log`` with a copy; its failure costs one stderr line, never the request."""
        if self._on_log is None:
            return
        try:
            self._on_log(dict(log))
        except Exception as exc:  # noqa: BLE001 - a user callback must not break the server
            sys.stderr.write(f"sendcloud_logging.inbox: on_log callback failed: {type(exc).__name__}: {exc}\n")

    def _list(self, integration_id: Optional[int], request: Request) -> Answer:
        """GET: one page, newest first, with ``Link: <...>; rel="next"`` when more records follow."""
        params = parse_qs(request.query, keep_blank_values=True)
        page_size = DEFAULT_PAGE_SIZE
        if "page_size" in params:
            raw = params["page_size"][-1]
            if not _PAGE_SIZE.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
                return error_answer(
                    400, f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}", parameter="page_size"
                )
            page_size = int(raw)
        before, problem = parse_cursor(params)
        if problem is not None:
            return problem
        rows = self._store.page(integration_id, page_size + 1, before)
        headers: tuple[tuple[str, str], ...] = ()
        if len(rows) > page_size:
            rows = rows[:page_size]
            path = "/integrations/logs" if integration_id is None else f"/integrations/{integration_id}/logs"
            query = urlencode({"page_size": page_size, **next_cursor(rows)})
            headers = (("Link", f'<{request.origin}{self.prefix}{path}?{query}>; rel="next"'),)
        return Answer(200, {"data": [log for log, _ in rows]}, headers)


#: Where a page of logs continues: ``(created_us, id)`` of the last record seen, or ``(created_us, None)``.
Before = Optional[tuple[int, Optional[int]]]


def parse_cursor(params: Mapping[str, list[str]]) -> tuple[Before, Optional[Answer]]:
    """The page's starting point from ``cursor`` and ``cursor_id`` (parsed query), or the 400 answer for them."""
    before: Before = None
    if "cursor" in params:
        instant = parse_rfc3339(params["cursor"][-1])
        if instant is None:
            return None, error_answer(400, "cursor must be an RFC 3339 date-time", parameter="cursor")
        before = (instant, None)
    if "cursor_id" in params:
        cursor_id = positive_id(params["cursor_id"][-1])
        if before is None or cursor_id is None:
            return None, error_answer(
                400, "cursor_id must be a positive integer, given with cursor", parameter="cursor_id"
            )
        before = (before[0], cursor_id)
    return before, None


def next_cursor(rows: list[tuple[dict[str, Any], int]]) -> dict[str, Any]:
    """``cursor`` and ``cursor_id`` of the page after ``rows`` (a page from ``LogStore.page``, not empty)."""
    last, created_us = rows[-1]
    return {"cursor": format_micros(created_us), "cursor_id": last["id"]}


def positive_id(raw: Optional[str]) -> Optional[int]:
    """An id from its decimal digits: 1 to ``MAX_ID``; None for anything else (too long, signs, spaces)."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None
