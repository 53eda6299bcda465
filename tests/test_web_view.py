"""The Inbox's web page over plain HTTP: its files, its data routes, its headers, clear and the event stream.

The same page in a real browser is ``test_web_browser.py``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.web import read_static, summarise

from .conftest import PUBLIC_KEY, SECRET_KEY, TIMEOUT, logs_url

STATIC = Path(__file__).resolve().parent.parent / "sendcloud_logging" / "inbox" / "static"
CSP = "default-src 'self'"


def log(n: int = 0, **fields: Any) -> dict[str, Any]:
    return {"base_url": "https://shop.example", "full_url": f"https://shop.example/api/orders/{n}", "method": "PUT",
            "response_code": 404, "exception_type": "requests.exceptions.HTTPError",
            "exception": f"Could not post note {n}", **fields}


def web(inbox: Inbox, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{inbox.web_url}{path.lstrip('/')}", timeout=TIMEOUT, **kwargs)


def data(inbox: Inbox, path: str, **params: Any) -> Any:
    response = web(inbox, path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def post_all(session: requests.Session, inbox: Inbox, logs: list[tuple[int, dict[str, Any]]]) -> None:
    for integration_id, body in logs:
        assert session.post(logs_url(inbox, integration_id), json=body, timeout=TIMEOUT).status_code == 201


def test_the_root_serves_the_page_and_its_files(inbox: Inbox) -> None:
    page = web(inbox, "/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert inbox.web_url == f"http://127.0.0.1:{inbox.port}/"
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert scripts == ["/_inbox/app.js"] and styles == ["/_inbox/app.css"]
    assert web(inbox, scripts[0]).headers["Content-Type"].startswith("text/javascript")
    assert web(inbox, styles[0]).headers["Content-Type"].startswith("text/css")
    assert web(inbox, "/_inbox/app.js").content == (STATIC / "app.js").read_bytes() == read_static("app.js")
    head = requests.head(inbox.web_url, timeout=TIMEOUT)
    assert head.status_code == 200 and head.content == b""
    assert web(inbox, "/_inbox/nope").status_code == 404


@pytest.mark.parametrize("path", ["/", "/_inbox/app.js", "/_inbox/app.css", "/_inbox/api/info", "/_inbox/api/logs",
                                  "/_inbox/api/nope", "/api/v3/integrations/logs"])
def test_every_answer_has_the_security_headers(inbox: Inbox, path: str) -> None:
    response = web(inbox, path)
    policy = response.headers["Content-Security-Policy"]
    assert policy.split(";")[0] == CSP
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_has_no_inline_script_or_style_and_no_external_asset() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # every script is a file
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html, re.I)  # no inline event handler
    everything = "".join((STATIC / name).read_text(encoding="utf-8") for name in ("index.html", "app.css", "app.js"))
    assert not re.search(r"(?:src|href)=[\"'](?:https?:)?//", everything) and "@import" not in everything
    assert "url(" not in (STATIC / "app.css").read_text(encoding="utf-8")


def test_the_script_never_writes_html() -> None:
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setAttribute(\"href\"", ".href =", ".src =", "javascript:"):
        assert sink not in code, sink


def test_the_files_ship_as_package_data() -> None:
    setup = (STATIC.parent.parent.parent / "setup.cfg").read_text(encoding="utf-8")
    assert "inbox/static/*" in setup
    sizes = {path.name: path.stat().st_size for path in STATIC.iterdir()}
    assert {"index.html", "app.css", "app.js"} <= set(sizes)
    assert sum(sizes.values()) < 60_000  # a page, not an application


def test_info_names_the_database_and_never_the_keys(tmp_path: Path) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as memory:
        info = data(memory, "/_inbox/api/info")
        assert info["in_memory"] is True and info["database"] is None
        assert info["api_url"] == memory.api_url and len(info["token"]) >= 32
        texts = [web(memory, path).text for path in ("/", "/_inbox/app.js", "/_inbox/api/info", "/_inbox/api/facets")]
    db = tmp_path / "inbox.sqlite"
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, db=str(db), client_id="cid-42", client_secret="cs-secret-42") as on_disk:
        info = data(on_disk, "/_inbox/api/info")
        assert info["in_memory"] is False and info["database"] == str(db)
        texts.append(json.dumps(info))
    for text in texts:
        for secret in (PUBLIC_KEY, SECRET_KEY, "cs-secret-42", "cid-42", "inbox-secret"):
            assert secret not in text


def test_the_data_routes_need_no_keys_and_take_no_injected_fault(inbox: Inbox) -> None:
    inbox.fail_next(503)
    assert web(inbox, "/_inbox/api/logs").status_code == 200  # the page is not the API under test
    assert web(inbox, "/").status_code == 200
    answer = requests.post(logs_url(inbox, 1), json=log(), auth=(PUBLIC_KEY, SECRET_KEY), timeout=TIMEOUT)
    assert answer.status_code == 503  # the fault is still there for the API's client


def test_the_list_pages_newest_first_with_the_api_cursor(inbox: Inbox, session: requests.Session) -> None:
    post_all(session, inbox, [(1 + n % 2, log(n, created_at=f"2026-11-28T05:00:{n:02d}+00:00")) for n in range(7)])
    post_all(session, inbox, [(1, log(99, created_at="2026-11-28T05:00:03+00:00"))])  # ties with n=3: the id breaks it
    seen: list[int] = []
    params: dict[str, Any] = {"page_size": 3}
    while True:
        page = data(inbox, "/_inbox/api/logs", **params)
        assert page["matching"] == page["stored"] == 8
        seen += [row["id"] for row in page["logs"]]
        if page["next"] is None:
            break
        assert set(page["next"]) == {"cursor", "cursor_id"}
        params = {"page_size": 3, **page["next"]}
    api_order = [row["id"] for row in session.get(logs_url(inbox), params={"page_size": 100}, timeout=TIMEOUT).json()["data"]]
    assert seen == api_order and len(seen) == 8  # the API's order, each log once
    assert web(inbox, "/_inbox/api/logs", params={"cursor": "yesterday"}).status_code == 400
    assert web(inbox, "/_inbox/api/logs", params={"page_size": "0"}).status_code == 400


def test_the_filters(inbox: Inbox, session: requests.Session) -> None:
    post_all(session, inbox, [
        (1, log(1)),
        (2, log(2, response_code=500, exception_type="requests.exceptions.ConnectTimeout")),
        (2, log(3, response_code=None, exception_type=None, exception="Ünïcode TIMEOUT at the shop")),
        (3, log(4, full_url="https://other.example/api/products/7")),
    ])

    def ids(**params: Any) -> list[int]:
        page = data(inbox, "/_inbox/api/logs", **params)
        assert page["matching"] == len(page["logs"]) and page["stored"] == 4
        return sorted(int(row["exception_line"].split()[-1]) if row["exception_line"][-1].isdigit() else 3 for row in page["logs"])

    assert ids() == [1, 2, 3, 4]
    assert ids(integration=2) == [2, 3]
    assert ids(exception_type="requests.exceptions.ConnectTimeout") == [2]
    assert ids(exception_type="") == [3]  # none
    assert ids(response_code=500) == [2]
    assert ids(response_code="") == [3]
    assert ids(q="products/7") == [4]
    assert ids(q="ünïcode timeout") == [3]  # case-insensitive, any alphabet, in the exception
    assert ids(q="OTHER.EXAMPLE") == [4]
    assert ids(q="%") == [] and ids(q="_") == []  # no LIKE wildcards
    assert ids(integration=2, response_code=404) == []
    facets = data(inbox, "/_inbox/api/facets")
    assert {f["value"]: f["count"] for f in facets["integration_id"]} == {1: 1, 2: 2, 3: 1}
    assert {f["value"]: f["count"] for f in facets["response_code"]} == {404: 2, 500: 1, None: 1}
    assert web(inbox, "/_inbox/api/logs", params={"integration": "x"}).status_code == 400
    assert web(inbox, "/_inbox/api/logs", params={"response_code": "4O4"}).status_code == 400


def test_a_row_has_the_first_line_and_the_storm_summary() -> None:
    row = summarise({"id": 1, "exception": "Shop down\nTraceback? never (+41 more like this between 10:02:11 and 10:03:55)"})
    assert row["exception_line"] == "Shop down" and row["more_lines"] is True
    assert row["summary"] == {"more": 41, "first": "10:02:11", "last": "10:03:55"}
    alone = summarise({"id": 2, "exception": "(+3 more like this between 23:59:58 and 00:00:01)"})
    assert alone["summary"] == {"more": 3, "first": "23:59:58", "last": "00:00:01"} and alone["exception_line"] == ""
    plain = summarise({"id": 3, "exception": None})
    assert plain["summary"] is None and plain["exception_line"] == ""
    assert len(summarise({"exception": "x" * 5000})["exception_line"]) == 300


def test_one_log_in_full(inbox: Inbox, session: requests.Session) -> None:
    post_all(session, inbox, [(5, log(1, request={"headers": {"Accept": "application/json"}, "payload": {"a": 1}}))])
    stored = inbox.logs()[0]
    assert data(inbox, f"/_inbox/api/logs/{stored['id']}") == stored
    for missing in ("999", "0", "x", "1.0", "-1"):
        assert web(inbox, f"/_inbox/api/logs/{missing}").status_code == 404


def test_clear_needs_a_post_with_the_pages_token(inbox: Inbox, session: requests.Session) -> None:
    post_all(session, inbox, [(1, log(n)) for n in range(3)])
    token = data(inbox, "/_inbox/api/info")["token"]
    url = f"{inbox.web_url}_inbox/api/clear"
    assert requests.get(url, params={"token": token}, timeout=TIMEOUT).status_code == 405  # never by a GET
    for headers in ({}, {"X-Inbox-Token": "wrong"}, {"X-Inbox-Token": token[:-1]}, {"X-Inbox-Token": ""}):
        assert requests.post(url, json={}, headers=headers, timeout=TIMEOUT).status_code == 403
    assert requests.post(url, data=b"{}", headers={"X-Inbox-Token": token, "Content-Type": "text/plain"},
                         timeout=TIMEOUT).status_code == 415
    assert inbox.count() == 3
    cleared = requests.post(url, json={}, headers={"X-Inbox-Token": token}, timeout=TIMEOUT)
    assert cleared.status_code == 200 and cleared.json()["data"] == {"cleared": 3}
    assert inbox.count() == 0
    post_all(session, inbox, [(1, log(9))])
    assert inbox.logs()[0]["id"] == 4  # ids are never handed out twice
    assert inbox.clear() == 1


def test_another_inboxs_token_does_not_clear() -> None:
    with Inbox() as one, Inbox() as other:
        token = data(other, "/_inbox/api/info")["token"]
        assert token != data(one, "/_inbox/api/info")["token"]
        answer = requests.post(f"{one.web_url}_inbox/api/clear", json={}, headers={"X-Inbox-Token": token}, timeout=TIMEOUT)
        assert answer.status_code == 403


def read_events(sock: socket.socket, until: bytes) -> bytes:
    got = b""
    while until not in got:
        chunk = sock.recv(65_536)
        if not chunk:
            break
        got += chunk
    return got


def test_the_event_stream_tells_each_change_at_once(inbox: Inbox, session: requests.Session) -> None:
    with socket.create_connection((inbox.host, inbox.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /_inbox/api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        head = read_events(sock, b"data: 0\n\n")
        assert b"HTTP/1.1 200 " in head and b"Content-Type: text/event-stream" in head
        assert b"Cache-Control: no-store" in head and b"Content-Security-Policy: default-src 'self'" in head
        assert b"retry: 1000\nevent: change\ndata: 0\n\n" in head
        post_all(session, inbox, [(1, log())])
        assert b"event: change\ndata: 1\n\n" in read_events(sock, b"data: 1\n\n")
        inbox.clear()
        assert b"data: 2\n\n" in read_events(sock, b"data: 2\n\n")
        inbox.stop()  # the stream ends with the Inbox, promptly
        sock.settimeout(2.0)
        rest = b""
        try:
            while chunk := sock.recv(65_536):
                rest += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        assert b"data:" not in rest


def test_page_routes_answer_only_get_and_head(inbox: Inbox) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = requests.request(method, inbox.web_url, json={}, timeout=TIMEOUT)
        assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert requests.post(f"{inbox.web_url}_inbox/api/logs", json={}, timeout=TIMEOUT).status_code == 405


def test_a_quiet_event_stream_sends_heartbeats_and_ends_when_the_inbox_stops() -> None:
    from sendcloud_logging.inbox.store import LogStore
    from sendcloud_logging.inbox.web import stream_events

    store = LogStore()
    closing = threading.Event()
    written: list[bytes] = []
    heartbeat = threading.Event()

    def write(data: bytes) -> None:
        written.append(data)
        if data.startswith(b":"):
            heartbeat.set()

    thread = threading.Thread(target=stream_events, args=(store, closing, write), kwargs={"heartbeat": 0.02, "tick": 0.01})
    thread.start()
    assert heartbeat.wait(TIMEOUT)
    closing.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert written[0] == b"retry: 1000\nevent: change\ndata: 0\n\n" and b": still here\n\n" in written
    store.close()


def test_the_page_is_not_counted_in_the_apis_rate_limit() -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, get_rate_limit=1) as inbox:
        for _ in range(3):
            assert web(inbox, "/_inbox/api/logs").status_code == 200
        auth = (PUBLIC_KEY, SECRET_KEY)
        assert [requests.get(logs_url(inbox), auth=auth, timeout=TIMEOUT).status_code for _ in range(2)] == [200, 429]
