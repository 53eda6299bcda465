"""A WSGI app served by gunicorn with --preload: logging is configured once, in the master, before the fork.

    gunicorn -c gunicorn.conf.py gunicorn_app:app

The handler is built at import time, in the master process; each worker notices it was forked and starts its
own delivery thread (a thread does not survive a fork). The integration id and API keys come from the
SENDCLOUD_* environment variables.
"""

import json
import logging
import logging.config
import os
from collections.abc import Iterable
from typing import Any, Callable

import requests

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")

logging.config.dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "level": "ERROR", "base_url": SHOP_URL},
        },
        "loggers": {"gunicorn_app": {"handlers": ["sendcloud"], "level": "INFO"}},
    }
)
log = logging.getLogger("gunicorn_app")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/orders/<id>/sync`` fetches the order from the shop and logs a failure; ``/health`` answers 200."""
    path = environ.get("PATH_INFO", "")
    status, body = "200 OK", {"worker": os.getpid()}
    if path.startswith("/orders/") and path.endswith("/sync"):
        order_id = path.split("/")[2]
        try:
            requests.get(f"{SHOP_URL}/api/orders/{order_id}", timeout=10).raise_for_status()
            body["synced"] = True
        except requests.RequestException:
            log.exception("Could not fetch order %s", order_id)
            status, body["synced"] = "502 Bad Gateway", False
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
