"""The API keys never show: not in a repr, an exception, ``stats()``, the command line's output or any log line.

Every test here runs with everything captured (stdout and stderr at the file descriptor level, and every
log record at DEBUG, the HTTP stack's included), and the module's fixture fails the test if ``PUBLIC_KEY``
or ``SECRET_KEY`` appears anywhere in it. TLS: ``verify=`` takes a CA bundle; the rules for ``api_url`` and
``verify`` themselves are tested in ``test_settings``.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import pytest

from sendcloud_logging import ConfigurationError, SendcloudClient, SendcloudError, SendcloudHandler
from sendcloud_logging._cli import main
from sendcloud_logging.errors import NotFoundError, TransportError
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import CERT_PATH, Shop

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, AppLogger, assert_no_keys


@pytest.fixture(autouse=True)
def _scan_everything(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    for name in ("sendcloud_logging", "urllib3", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield
    captured = capfd.readouterr()
    assert_no_keys(captured.out + captured.err)
    assert_no_keys(caplog.text)
    assert_no_keys("\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records))


@pytest.fixture
def other_inbox() -> Iterator[Inbox]:
    """An Inbox that knows other keys: ours get a 401."""
    with Inbox(public_key="pk-other", secret_key="sk-other") as server:
        yield server


def test_reprs_and_stats(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger()
    log.error("one")
    assert handler.flush(10)
    client = SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=inbox.api_url)
    texts = [
        repr(handler),
        str(handler),
        repr(handler._settings),
        repr(handler._settings.policy),
        repr(client),
        json.dumps(handler.stats()),
    ]
    for text in texts:
        assert_no_keys(text)
    assert "integration_id=4242" in texts[0] and "api_url=" in texts[4]  # the reprs say something useful
    client.close()


def test_a_401_from_the_inbox(app_logger: AppLogger, other_inbox: Inbox, capfd: pytest.CaptureFixture[str]) -> None:
    log, handler = app_logger(api_url=other_inbox.api_url)
    log.error("Sync failed")
    assert handler.flush(10)
    assert handler.stats()["dropped"] == {"unauthorized": 1}
    err = capfd.readouterr().err
    assert "401" in err  # it was said, without the keys
    assert_no_keys(err)
    with pytest.raises(SendcloudError) as caught:
        SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=other_inbox.api_url).create_log(1, {"base_url": "https://s"})
    assert "authentication_failed" in str(caught.value)
    assert_no_keys(str(caught.value) + repr(caught.value))


def test_cli_send_and_logs_with_wrong_credentials(
    other_inbox: Inbox, shop: Shop, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    send = ["send", "--integration-id", "7", "--base-url", "https://shop.example", "--api-url", other_inbox.api_url]
    assert main([*send, "--public-key", PUBLIC_KEY, "--secret-key", SECRET_KEY]) == 1
    assert main(["logs", "--api-url", other_inbox.api_url, "--public-key", PUBLIC_KEY, "--secret-key", SECRET_KEY]) == 1
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    assert main(send) == 1
    assert main([*send[:-2], "--api-url", f"{shop.refused_url}/api/v3"]) == 1  # connection refused
    out, err = capfd.readouterr()
    assert err.count("401") >= 3 and "error" in err.lower()
    assert_no_keys(out + err)


def test_keys_in_the_url_are_refused_and_transport_errors_quote_none(
    app_logger: AppLogger, inbox: Inbox, shop: Shop, capfd: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"{shop.refused_url}/api/v3"  # connections are refused here
    url = nowhere.replace("http://", f"http://{PUBLIC_KEY}:{SECRET_KEY}@")
    with pytest.raises(ConfigurationError) as refused:
        SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=url)
    assert refused.value.key == "api_url"
    assert_no_keys(str(refused.value))
    client = SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=nowhere)
    with pytest.raises(TransportError) as caught:
        client.create_log(1, {"base_url": "https://s"})
    assert "Connection" in str(caught.value)
    assert_no_keys(str(caught.value))
    log, handler = app_logger(api_url=nowhere, max_retries=0, shutdown_timeout=0.5)
    log.error("Sync failed")
    assert handler.flush(5)
    assert handler.stats()["dropped"] == {"retries_exhausted": 1}
    err = capfd.readouterr().err  # the drop's report quotes the transport error, not the URL's keys
    assert "cannot connect" in err and "retries_exhausted" in err
    assert_no_keys(err)


def test_the_handlers_own_keys_never_reach_the_log(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger()
    basic = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
    log.error(
        "Calling Sendcloud with %s / %s failed",
        PUBLIC_KEY,
        SECRET_KEY,
        extra={
            "request": {
                "headers": {"Authorization": f"Basic {basic}", "X-Note": f"key={SECRET_KEY}"},
                "payload": {"sendcloud": {"public": PUBLIC_KEY, "note": f"the secret is {SECRET_KEY}"}},
            },
            "full_url": f"https://shop.example/cb?pk={PUBLIC_KEY}",
        },
    )
    assert handler.flush(10)
    [got] = inbox.logs()
    assert got["exception"] == "Calling Sendcloud with [Filtered] / [Filtered] failed"
    assert_no_keys(json.dumps(got) + json.dumps(inbox.posts))
    assert basic not in json.dumps(got)


def test_verify_takes_a_ca_bundle() -> None:
    with Shop() as shop:
        api_url = f"{shop.https_url}/api/v3"
        with SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=api_url) as client, pytest.raises(
            TransportError, match="SSL"
        ):
            client.create_log(INTEGRATION_ID, {"base_url": "https://s"})  # the shop's certificate is self-signed
        handler = SendcloudHandler(
            integration_id=INTEGRATION_ID, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=api_url, verify=CERT_PATH
        )
        client = handler._new_client()  # the handler's client trusts the bundle: TLS passes, the shop answers 404
        with client, pytest.raises(NotFoundError):
            client.create_log(INTEGRATION_ID, {"base_url": "https://s"})
        handler.close()
