"""A platform that syncs many merchants, each with their own Sendcloud account, from one process.

One handler serves them all: each record names its merchant's integration in ``extra``, and the handler asks
``keys_for`` (given as ``credentials``) for that merchant's key pair before it sends. Pacing and refused keys
are kept per key pair, so one merchant's error storm or revoked keys never hold up the others.

The merchants come from MERCHANTS_JSON here; a real platform reads them from its database (``keys_for``
runs on the handler's thread before each log it sends: keep it quick, or cache it).
"""

import json
import logging
import logging.config
import os
from typing import Optional

import requests

#: integration id -> the merchant's shop URL and Sendcloud API keys.
MERCHANTS: dict[int, dict[str, str]] = {
    int(integration_id): merchant
    for integration_id, merchant in json.loads(
        os.environ.get(
            "MERCHANTS_JSON",
            '{"101": {"shop_url": "https://north.example", "public_key": "pk-north", "secret_key": "sk-north"}}',
        )
    ).items()
}


def keys_for(integration_id: int) -> Optional[tuple[str, str]]:
    """The merchant's (public_key, secret_key); None when the platform holds no keys for it."""
    merchant = MERCHANTS.get(int(integration_id))
    return None if merchant is None else (merchant["public_key"], merchant["secret_key"])


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "sendcloud": {
            "class": "sendcloud_logging.SendcloudHandler",
            "level": "ERROR",
            "credentials": "ext://merchant_platform.keys_for",  # no integration_id: each record carries one
        },
    },
    "loggers": {"platform": {"handlers": ["sendcloud"], "level": "INFO"}},
}

log = logging.getLogger("platform.sync")


def sync_orders(session: requests.Session, integration_id: int) -> None:
    """Fetch one merchant's orders; a failure goes to that merchant's connection issue log."""
    merchant = MERCHANTS[integration_id]
    shop = merchant["shop_url"]
    try:
        session.get(f"{shop}/api/orders/404", timeout=10).raise_for_status()
    except requests.RequestException:
        log.exception(
            "Could not fetch the orders of %s", shop, extra={"integration_id": integration_id, "base_url": shop}
        )


if __name__ == "__main__":
    logging.config.dictConfig(LOGGING)
    with requests.Session() as http:
        for merchant_id in MERCHANTS:
            sync_orders(http, merchant_id)
