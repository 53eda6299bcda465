"""Many merchants in one process: per-record integration ids, a key pair per merchant, pacing per account."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from sendcloud_logging import SendcloudClient, SendcloudHandler
from sendcloud_logging.errors import AuthenticationError
from sendcloud_logging.inbox import Inbox

# Two Sendcloud accounts: "north" holds integrations 1 and 2, "south" holds 3. Integration 4 has no keys here,
# integration 5's account ("east") no longer accepts its keys.
KEYS = {
    1: ("pk-north-1a", "sk-north-secret-1a"),
    2: ("pk-north-1a", "sk-north-secret-1a"),
    3: ("pk-south-7c", "sk-south-secret-7c"),
    5: ("pk-east-0d", "sk-east-revoked-0d"),
}
ACCOUNTS = {integration: pair for integration, pair in KEYS.items() if integration != 5}


def keys_for(integration_id: Any) -> Optional[tuple[str, str]]:
    """The platform's lookup: a key pair per merchant (what ``credentials=`` receives)."""
    return KEYS.get(int(integration_id)) if integration_id is not None else None


@pytest.fixture
def platform_inbox() -> Iterator[Inbox]:
    """An Inbox whose own keys nobody in these tests holds: only the per-merchant pairs get in."""
    with Inbox(public_key="pk-platform-unused", secret_key="sk-platform-unused", accounts=ACCOUNTS) as server:
        yield server


@pytest.fixture
def merchant_log() -> Iterator[tuple[logging.Logger, list[SendcloudHandler]]]:
    log = logging.getLogger("tests.platform")
    log.propagate = False
    handlers: list[SendcloudHandler] = []
    yield log, handlers
    for handler in handlers:
        log.removeHandler(handler)
        handler.close()


def attach(merchant_log: tuple[logging.Logger, list[SendcloudHandler]], **kwargs: Any) -> SendcloudHandler:
    log, handlers = merchant_log
    handler = SendcloudHandler(**{"base_url": "https://shop.example", "summary_window": 0, **kwargs})
    handlers.append(handler)
    log.addHandler(handler)
    return handler


def stored(inbox: Inbox) -> list[tuple[int, str]]:
    return [(got["integration_id"], got["exception"]) for got in inbox.logs()]


def test_per_record_integration_id_with_one_key_pair(inbox: Inbox, make_handler: Any) -> None:
    handler = make_handler(summary_window=0)
    log = logging.getLogger("tests.platform.single")
    log.addHandler(handler)
    log.error("default integration")
    log.error("merchant 77", extra={"integration_id": 77})
    log.error("merchant 78 as text", extra={"integration_id": "78"})
    log.error("not an id", extra={"integration_id": "seventy-nine"})
    assert handler.flush(10)
    assert sorted(stored(inbox)) == [(77, "merchant 77"), (78, "merchant 78 as text"), (4242, "default integration")]
    assert handler.stats()["dropped"] == {"payload_error": 1}


def test_each_merchant_is_sent_with_its_own_keys(
    platform_inbox: Inbox, merchant_log: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    handler = attach(merchant_log, credentials=keys_for, api_url=platform_inbox.api_url)
    assert handler.integration_id is None
    log = merchant_log[0]
    for integration in (1, 2, 3):
        log.error("sync failed for merchant %s", integration, extra={"integration_id": integration})
    log.error("no integration at all")
    assert handler.flush(10)
    assert sorted(stored(platform_inbox)) == [(n, f"sync failed for merchant {n}") for n in (1, 2, 3)]
    assert [post["status"] for post in platform_inbox.posts] == [201, 201, 201]  # no 404: every pair matched
    assert handler.stats()["dropped"] == {"no_integration_id": 1}
    err = capfd.readouterr().err
    assert "integration_id" in err
    assert "sk-north-secret-1a" not in err


def test_refused_keys_of_one_merchant_do_not_block_the_others(platform_inbox: Inbox, merchant_log: Any) -> None:
    handler = attach(merchant_log, credentials=keys_for, api_url=platform_inbox.api_url)
    log = merchant_log[0]
    log.error("wrong keys", extra={"integration_id": 5})
    log.error("no keys", extra={"integration_id": 4})
    assert handler.flush(10)
    log.error("keys fine", extra={"integration_id": 1})
    log.error("also fine", extra={"integration_id": 3})
    assert handler.flush(10)
    assert sorted(stored(platform_inbox)) == [(1, "keys fine"), (3, "also fine")]
    assert handler.stats()["dropped"] == {"unauthorized": 2}
    assert [post["status"] for post in platform_inbox.posts] == [401, 201, 201]  # integration 4 never reached the API


def test_pacing_is_per_account(platform_inbox: Inbox, merchant_log: Any) -> None:
    handler = attach(
        merchant_log, credentials=keys_for, api_url=platform_inbox.api_url, rate_limit_per_minute=60, rate_limit_burst=2
    )
    log = merchant_log[0]
    for n in range(3):
        log.error("north storm %s", n, extra={"integration_id": 1})
    for n in range(2):
        log.error("south %s", n, extra={"integration_id": 3})
    assert handler.flush(10)
    # North spends its burst of 2 and must wait a second for its third; south is not held up behind it.
    assert stored(platform_inbox) == [
        (1, "north storm 0"), (1, "north storm 1"), (3, "south 0"), (3, "south 1"), (1, "north storm 2")
    ]


def test_client_with_credentials(platform_inbox: Inbox) -> None:
    with SendcloudClient(credentials=keys_for, api_url=platform_inbox.api_url) as client:
        client.create_log(3, {"base_url": "https://shop.example"})
        assert [log["integration_id"] for log in client.iter_logs(3)] == [3]
        with pytest.raises(AuthenticationError) as refused:
            client.create_log(4, {"base_url": "https://shop.example"})
        assert refused.value.code == "no_credentials"


def test_each_merchants_keys_are_scrubbed_from_its_logs_and_the_spool(
    platform_inbox: Inbox, merchant_log: Any, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.sqlite"
    platform_inbox.latency = 3600.0  # the API holds the first POST: the rows stay on disk until it answers
    handler = attach(merchant_log, credentials=keys_for, api_url=platform_inbox.api_url, spool_path=str(spool))
    log = merchant_log[0]
    for integration in (2, 3):
        public, secret = KEYS[integration]
        log.error(
            "shop refused %s / %s", public, secret,
            extra={"integration_id": integration, "request": {"payload": {"note": f"keys {public}:{secret}"}}},
        )
    assert platform_inbox.wait_for_requests(1)  # the sender took a log from the spool: both rows are written
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for integration in (2, 3):
        for key in KEYS[integration]:
            assert key.encode() not in files
    platform_inbox.latency = 0.0
    assert handler.flush(10)
    got = sorted(stored(platform_inbox))
    assert got == [(2, "shop refused [Filtered] / [Filtered]"), (3, "shop refused [Filtered] / [Filtered]")]
    for log_body in platform_inbox.logs():
        assert log_body["request"]["payload"] == {"note": "keys [Filtered]:[Filtered]"}
