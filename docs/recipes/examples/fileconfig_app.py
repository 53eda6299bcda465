"""An application configured from logging.ini with logging.config.fileConfig."""

import logging
import logging.config
import os
from pathlib import Path

import requests

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")

logging.config.fileConfig(
    Path(__file__).with_name("logging.ini"), defaults={"shop_url": SHOP_URL}, disable_existing_loggers=False
)
log = logging.getLogger("myshop.sync")

if __name__ == "__main__":
    try:
        requests.get(f"{SHOP_URL}/api/orders/404", timeout=10).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order 404")
