"""structlog in front, the standard library behind: SendcloudHandler stays an ordinary logging handler.

``render_to_log_kwargs`` hands each event to ``logging`` with its key-value pairs as ``extra``: ``request``,
``response`` and the API fields (``full_url``, ``base_url``...) are read from there like from any record;
other keys (``order_id`` below) stay in your own logs and are never sent. The integration id and the API
keys come from the SENDCLOUD_* environment variables.
"""

import logging.config
import os

import requests
import structlog

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")

logging.config.dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "level": "ERROR", "base_url": SHOP_URL},
        },
        "loggers": {"myshop": {"handlers": ["sendcloud"], "level": "INFO"}},
    }
)
structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.stdlib.render_to_log_kwargs,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

log = structlog.get_logger("myshop.sync")


def sync_order(session: requests.Session, order_id: int) -> None:
    """Fetch an order; a failure is logged with the exception, which carries the request and response."""
    try:
        session.get(f"{SHOP_URL}/api/orders/{order_id}", timeout=10).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order %s", order_id, order_id=order_id)


def post_note(session: requests.Session, order_id: int) -> None:
    """Post a note; a refusal is logged without an exception, the response passed as a key-value pair."""
    try:
        response = session.post(
            f"{SHOP_URL}/api/orders/{order_id}/notes", json={"order_note": {"note": "Shipped"}}, timeout=10
        )
    except requests.RequestException:
        log.exception("Could not post the note of order %s", order_id, order_id=order_id)
        return
    if not response.ok:
        log.error("The shop refused the note", response=response, order_id=order_id)


if __name__ == "__main__":
    with requests.Session() as shop:
        sync_order(shop, 404)
        post_note(shop, 7)
