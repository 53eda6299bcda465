"""The local failing Shop: each failure really happens to a real ``requests`` client."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from sendcloud_logging.shop import CERT_PATH, TLS_FAILED, Shop

from .conftest import TIMEOUT, within


def test_urls_are_loopback_with_distinct_ports(shop: Shop) -> None:
    urls = [shop.http_url, shop.https_url, shop.refused_url]
    assert urls[0].startswith("http://127.0.0.1:")
    assert urls[1].startswith("https://127.0.0.1:")
    assert urls[2].startswith("http://127.0.0.1:")
    assert len({url.rsplit(":", 1)[1] for url in urls}) == 3


def test_ok(shop: Shop) -> None:
    response = requests.get(f"{shop.http_url}/ok", timeout=5)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert shop.seen == ["GET /ok"]


def test_self_signed_certificate_fails_default_verification(shop: Shop) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{shop.https_url}/ok", timeout=5)
    assert shop.wait_for(TLS_FAILED)


def test_https_server_answers_a_client_that_trusts_its_certificate(shop: Shop) -> None:
    response = requests.get(f"{shop.https_url}/ok", timeout=5, verify=CERT_PATH)
    assert response.status_code == 200
    localhost = shop.https_url.replace("127.0.0.1", "localhost")
    assert requests.get(f"{localhost}/ok", timeout=5, verify=CERT_PATH).status_code == 200


def test_404_has_an_html_body(shop: Shop) -> None:
    response = requests.get(f"{shop.http_url}/api/orders/404", timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(requests.exceptions.HTTPError) as caught:
        response.raise_for_status()
    assert caught.value.response is response


def test_notes_answer_422_with_a_json_error(shop: Shop) -> None:
    response = requests.post(f"{shop.http_url}/api/orders/7/notes", json={"order_note": {"note": "Shipped"}}, timeout=5)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/json"
    assert "errors" in response.json()
    blank = requests.post(f"{shop.http_url}/api/orders/8/notes", json={}, timeout=5)
    assert blank.json() == {"errors": {"note": ["can't be blank"]}}
    assert shop.seen == ["POST /api/orders/7/notes", "POST /api/orders/8/notes"]


def test_401_answers_invalid_token(shop: Shop) -> None:
    response = requests.get(f"{shop.http_url}/api/orders/401", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token"}


def test_unknown_path_is_a_json_404(shop: Shop) -> None:
    response = requests.delete(f"{shop.http_url}/nothing/here", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_refused_port_refuses_connections(shop: Shop) -> None:
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        requests.get(f"{shop.refused_url}/api/orders", timeout=5)
    assert not isinstance(caught.value, (requests.exceptions.SSLError, requests.exceptions.Timeout))
    assert "refused" in str(caught.value).lower()


def test_stall_times_out_the_client(shop: Shop) -> None:
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{shop.http_url}/stall", timeout=0.2)
    assert shop.wait_for("GET /stall")


def test_stall_answers_after_stall_seconds() -> None:
    with Shop(stall_seconds=0.05) as quick:
        response = requests.get(f"{quick.http_url}/stall", timeout=5)
    assert response.status_code == 200
    assert response.json()["stalled_for"] == 0.05


def test_stop_cuts_a_stalled_request_short() -> None:
    outcome: list[BaseException] = []
    done = threading.Event()
    shop = Shop(stall_seconds=3600.0).start()

    def call() -> None:
        try:
            requests.get(f"{shop.http_url}/stall", timeout=(5, 3600))
        except requests.RequestException as exc:
            outcome.append(exc)
        finally:
            done.set()

    caller = threading.Thread(target=call)
    caller.start()
    try:
        assert shop.wait_for("GET /stall")
        # The stall and the client's read timeout are an hour: only stop() can end the call before the
        # bounds, which are hang guards.
        within(TIMEOUT, shop.stop)
        assert done.wait(TIMEOUT)
    finally:
        shop.stop()
        caller.join(TIMEOUT)
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.exceptions.ConnectionError)  # hung up on without an answer
    assert not isinstance(outcome[0], requests.exceptions.Timeout)


def test_an_aborted_handshake_prints_nothing(shop: Shop, capfd: pytest.CaptureFixture[str]) -> None:
    host, port = shop.https_url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n")  # not TLS at all
    with socket.create_connection((host, int(port)), timeout=5):
        pass  # connect and hang up before any handshake
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{shop.https_url}/ok", timeout=5)
    assert shop.wait_for(TLS_FAILED, count=3)
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_urls_need_a_running_shop() -> None:
    shop = Shop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = shop.http_url
    shop.stop()  # harmless before start
    with shop:
        first = shop.http_url
    with pytest.raises(RuntimeError):
        _ = shop.refused_url
    with shop:  # a stopped Shop starts again, on fresh ports
        assert shop.http_url.startswith("http://127.0.0.1:")
    assert first.startswith("http://127.0.0.1:")


def test_no_private_key_ships_with_the_package() -> None:
    """Secret scanners must not flag every consumer's tree: the Shop's key is made at run time."""
    import sendcloud_logging

    package = Path(sendcloud_logging.__file__).resolve().parent
    shipped = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert not [p for p in shipped if p.suffix in {".pem", ".key", ".crt"}]
    assert not [p for p in shipped if b"PRIVATE KEY-----" in p.read_bytes()]


def test_the_certificate_is_made_once_per_process_and_kept_private(shop: Shop) -> None:
    from sendcloud_logging import shop as shop_module
    from sendcloud_logging.shop import shop_certificate

    files = shop_certificate()
    assert files == (shop_module.CERT_PATH, shop_module.KEY_PATH)
    assert stat.S_IMODE(os.stat(files.key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(files.key_path)).st_mode) == 0o700
    with Shop() as second:  # a second Shop serves the same certificate: one CERT_PATH trusts both
        assert requests.get(f"{second.https_url}/ok", timeout=5, verify=CERT_PATH).status_code == 200
    assert requests.get(f"{shop.https_url}/ok", timeout=5, verify=files.cert_path).status_code == 200


def test_the_certificate_files_go_when_the_process_ends(tmp_path: Path) -> None:
    code = "from sendcloud_logging.shop import CERT_PATH, Shop\nwith Shop():\n    print(CERT_PATH)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    made = Path(result.stdout.strip())
    assert made.name == "shop_cert.pem"
    assert not made.parent.exists()
