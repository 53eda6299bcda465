"""The Inbox on a developer's machine: no other web page in their browser can use it, no framing tricks.

Host (DNS rebinding), Origin, the JSON content type of writes, malformed header lines (request smuggling),
bodies that trickle in, and a private database file. Page routes and API routes alike.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
import requests

from sendcloud_logging.inbox import Inbox
from sendcloud_logging.inbox.guard import HostGuard, header_problem

from .conftest import AUTH, PUBLIC_KEY, SECRET_KEY, TIMEOUT, assert_matches, exchange, logs_url

LOG = {"base_url": "https://shop.example", "exception": "Could not post the order note"}
BODY = json.dumps(LOG).encode()
pytestmark = pytest.mark.invalid_posts  # refused POSTs are recorded without a body


def statuses(raw: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] ([0-9]{3}) ", raw)]


def raw_post(path: str, headers: str, body: bytes = BODY) -> bytes:
    return f"POST {path} HTTP/1.1\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body


# ---- Host: DNS rebinding ----

@pytest.mark.parametrize("host", [
    "attacker.example", "attacker.example:8025", "localhost.attacker.example", "127.0.0.1.nip.io", "x",
    "10.0.0.1", "[::2]", "127.1", "0x7f000001", "localhost@evil.example", "", "local host",
])
@pytest.mark.parametrize("path", ["/", "/_inbox/api/info", "/_inbox/api/logs", "/_inbox/app.js",
                                  "/api/v3/integrations/logs", "/api/v3/integrations/1/logs"])
def test_a_foreign_host_is_refused_on_every_route(inbox: Inbox, session: requests.Session, host: str, path: str) -> None:
    method = "POST" if path.endswith("/1/logs") else "GET"
    response = session.request(method, f"http://127.0.0.1:{inbox.port}{path}", headers={"Host": host},
                               json=LOG if method == "POST" else None, timeout=TIMEOUT)
    assert response.status_code == 403
    assert [e["code"] for e in response.json()["errors"]] == ["forbidden_host"]
    assert inbox.count() == 0
    assert b"Sendcloud Inbox" not in response.content and b"token" not in response.content


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:{port}", "localhost.:{port}", "app.localhost:{port}",
                                  "127.0.0.1:{port}", "127.8.9.10", "[::1]:{port}", "[::ffff:127.0.0.1]"])
def test_loopback_names_are_served(inbox: Inbox, session: requests.Session, host: str) -> None:
    headers = {"Host": host.format(port=inbox.port)}
    assert session.post(logs_url(inbox, 1), headers=headers, json=LOG, timeout=TIMEOUT).status_code == 201
    page = requests.get(inbox.web_url, headers=headers, timeout=TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")


def test_the_served_address_and_given_names_are_served() -> None:
    guard = HostGuard("192.168.1.5", ["inbox", "Shop-Inbox.internal."])
    assert guard.allows("192.168.1.5:8025") and guard.allows("inbox:8025") and guard.allows("shop-inbox.internal")
    assert not guard.allows("192.168.1.6") and not guard.allows("inbox.attacker.example")
    every = HostGuard("0.0.0.0")  # any interface: address literals (no DNS answer can put them there), names not
    assert every.allows("192.168.1.6:8025") and every.allows("[fe80::1]") and not every.allows("evil.example")
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, allowed_hosts=["inbox"]) as inbox:
        url = logs_url(inbox, 1)
        assert requests.post(url, headers={"Host": "inbox"}, json=LOG, auth=AUTH, timeout=TIMEOUT).status_code == 201
        assert requests.post(url, headers={"Host": "inbox2"}, json=LOG, auth=AUTH, timeout=TIMEOUT).status_code == 403
    with pytest.raises(ValueError, match="allowed_hosts"):
        Inbox(allowed_hosts="inbox")


def test_two_host_headers_are_refused_when_one_is_foreign(inbox: Inbox) -> None:
    raw = exchange(inbox, b"GET /_inbox/api/info HTTP/1.1\r\nHost: localhost\r\nHost: attacker.example\r\n\r\n")
    assert statuses(raw) == [403]
    assert b"token" not in raw


def test_a_request_without_host_is_no_browser_and_is_served(inbox: Inbox) -> None:
    raw = exchange(inbox, b"GET /_inbox/api/info HTTP/1.0\r\n\r\n")
    assert statuses(raw) == [200]


def test_a_proxy_request_reaches_the_api_but_never_the_page(inbox: Inbox) -> None:
    auth = "Basic " + __import__("base64").b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
    head = f"Host: panel.invalid\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nConnection: close\r\n"
    assert statuses(exchange(inbox, raw_post("http://panel.invalid/api/v3/integrations/1/logs", head))) == [201]
    for path in ("http://panel.invalid/", "http://panel.invalid/_inbox/api/info"):
        raw = exchange(inbox, f"GET {path} HTTP/1.1\r\nHost: panel.invalid\r\n\r\n".encode())
        assert statuses(raw) == [403], raw[:200]
    with_origin = head + "Origin: http://panel.invalid\r\n"  # a browser that uses the Inbox as its proxy
    assert statuses(exchange(inbox, raw_post("http://panel.invalid/api/v3/integrations/1/logs", with_origin))) == [403]
    assert inbox.count() == 1


# ---- Origin: another page in the developer's browser ----

@pytest.mark.parametrize("origin", ["http://attacker.example", "null", "http://localhost:1", "https://127.0.0.1:{port}",
                                    "http://127.0.0.1:{port}.attacker.example", "file://", "http://localhost"])
def test_a_foreign_origin_is_refused_on_writes_and_reads(inbox: Inbox, session: requests.Session, origin: str) -> None:
    headers = {"Origin": origin.format(port=inbox.port), "Host": f"127.0.0.1:{inbox.port}"}
    for method, url in (("POST", logs_url(inbox, 1)), ("GET", logs_url(inbox)), ("GET", f"{inbox.web_url}_inbox/api/info"),
                        ("POST", f"{inbox.web_url}_inbox/api/clear"), ("GET", f"{inbox.web_url}_inbox/api/events")):
        response = session.request(method, url, headers=headers, json=LOG, timeout=TIMEOUT)
        assert response.status_code == 403, (method, url)
        assert [e["code"] for e in response.json()["errors"]] == ["forbidden_origin"]
    assert inbox.count() == 0


def test_the_inboxs_own_origin_is_served(inbox: Inbox, session: requests.Session) -> None:
    own = f"http://127.0.0.1:{inbox.port}"
    assert session.post(logs_url(inbox, 1), headers={"Origin": own}, json=LOG, timeout=TIMEOUT).status_code == 201
    via_name = {"Origin": f"http://localhost:{inbox.port}", "Host": f"localhost:{inbox.port}"}
    assert session.post(logs_url(inbox, 1), headers=via_name, json=LOG, timeout=TIMEOUT).status_code == 201


# ---- writes are JSON: no HTML form, no "simple" fetch ----

@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=UTF-8", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None, "application/json-patch+json",
                                          "text/json", "application/jsonp"])
def test_a_log_post_that_is_not_json_is_415(inbox: Inbox, content_type: str | None) -> None:
    headers = {"Authorization": "Basic " + __import__("base64").b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = requests.post(logs_url(inbox, 1), data=BODY, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 415
    assert_matches("errors", response.json())
    assert inbox.count() == 0
    assert [p["status"] for p in inbox.posts] == [415]  # recorded like every refused POST


def test_two_content_types_are_not_json(inbox: Inbox) -> None:
    raw = exchange(inbox, raw_post("/api/v3/integrations/1/logs", "Host: localhost\r\nContent-Type: application/json\r\n"
                                   "Content-Type: text/plain\r\nConnection: close\r\n"))
    assert statuses(raw) == [415]


def test_a_form_post_from_another_page_stores_nothing(inbox: Inbox) -> None:
    # What <form enctype="text/plain" method="post" action="http://127.0.0.1:port/api/v3/..."> sends.
    form = b'{"base_url": "https://evil.example", "x": "=y"}'
    head = "Host: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    assert statuses(exchange(inbox, raw_post("/api/v3/integrations/1/logs", head, form))) == [403]
    no_origin = "Host: 127.0.0.1\r\nContent-Type: text/plain\r\nConnection: close\r\n"  # an old browser, or Referrer-Policy games
    assert statuses(exchange(inbox, raw_post("/api/v3/integrations/1/logs", no_origin, form))) == [415]
    assert inbox.count() == 0


# ---- malformed framing ----

@pytest.mark.parametrize("header", [
    b"Transfer-Encoding : chunked",     # space before the colon: the stdlib drops it, and every header after it
    b"Transfer-Encoding\t: chunked",
    b" Transfer-Encoding: chunked",     # leading whitespace: a continuation of nothing
    b"X-Pad: a\r\n Transfer-Encoding: chunked",  # obs-fold
    b"X-Pad: a\rTransfer-Encoding: chunked",     # a bare CR: the stdlib splits there, a proxy may not
    b"Transfer-Encoding: chunked\x00",
    b"Transfer Encoding: chunked",
    b"Transfer-Encoding",                # no colon
    b": chunked",                        # no name
    b"Transfer-Encoding\x0b: chunked",
    b"X-Pad: \x1b[31m",
    "Transfér-Encoding: chunked".encode("latin-1"),
    b"Content-Length : 2",              # a second length, hidden from the stdlib
    b"Host : attacker.example",         # a Host the guard would not see
    b"Transfer-Encoding:\r\n\tchunked",  # a folded value
])
def test_malformed_header_lines_are_400(inbox: Inbox, header: bytes) -> None:
    head = b"POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    raw = exchange(inbox, head + header + b"\r\n" + f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY)
    assert statuses(raw) == [400], raw[:300]
    _, _, body = raw.partition(b"\r\n\r\n")
    assert_matches("errors", json.loads(body))
    assert b"Malformed header line" in body
    assert inbox.count() == 0


def test_well_formed_headers_pass_the_line_check() -> None:
    assert header_problem([b"Host: x\r\n", b"X-Empty:\r\n", b"X-Tab: a\tb\r\n", b"X-Bare-LF: y\n",
                           b"X-Obs-Text: caf\xe9\r\n", b"\r\n"]) is None
    assert header_problem([b"Host : x\r\n"]) is not None


@pytest.mark.parametrize("framing", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity",
                                     b"Transfer-Encoding: chunked, chunked", b"transfer-encoding: CHUNKED"])
def test_any_transfer_encoding_is_411_even_beside_a_length(inbox: Inbox, framing: bytes) -> None:
    head = b"POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    raw = exchange(inbox, head + framing + b"\r\n" + f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY)
    assert statuses(raw) == [411]
    assert inbox.count() == 0


# ---- a body must arrive within body_timeout ----

def test_a_trickling_body_is_cut_off_at_the_deadline() -> None:
    with Inbox(public_key=None, secret_key=None, body_timeout=0.5) as inbox:
        with socket.create_connection((inbox.host, inbox.port), timeout=TIMEOUT) as sock:
            sock.sendall(b"POST /api/v3/integrations/1/logs HTTP/1.1\r\nHost: localhost\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{")
            stop = threading.Event()

            def trickle() -> None:  # a byte every 50 ms: each read is quick, the whole body would take 200 s
                while not stop.wait(0.05):
                    try:
                        sock.send(b" ")
                    except OSError:
                        return

            started = time.monotonic()
            thread = threading.Thread(target=trickle, daemon=True)
            thread.start()
            answer = sock.recv(65_536)
            took = time.monotonic() - started
            stop.set()
            thread.join()
        assert statuses(answer) == [408], answer[:200]
        assert took < 3.0
        assert inbox.count() == 0
        assert requests.post(logs_url(inbox, 1), json=LOG, timeout=TIMEOUT).status_code == 201  # still serving


def test_body_timeout_must_be_positive() -> None:
    for bad in (0, -1, "5", True, float("nan")):
        with pytest.raises(ValueError, match="body_timeout"):
            Inbox(body_timeout=bad)  # type: ignore[arg-type]


# ---- the database file is private ----

def test_the_database_and_its_side_files_are_mode_0600(tmp_path: Path) -> None:
    db = tmp_path / "inbox.sqlite"
    old = os.umask(0o022)
    try:
        with Inbox(public_key=None, secret_key=None, db=str(db)) as inbox:
            assert requests.post(logs_url(inbox, 1), json=LOG, timeout=TIMEOUT).status_code == 201
            files = sorted(p.name for p in tmp_path.iterdir())
            assert {"inbox.sqlite", "inbox.sqlite-wal", "inbox.sqlite-shm"} <= set(files)
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
            assert modes == dict.fromkeys(files, 0o600)
    finally:
        os.umask(old)


def test_an_existing_database_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "inbox.sqlite"
    with Inbox(db=str(db)):
        pass
    db.chmod(0o644)
    with Inbox(db=str(db)) as inbox:
        assert inbox.count() == 0
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
